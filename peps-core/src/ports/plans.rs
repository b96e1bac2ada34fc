//! Plans port: persons' plans, steps, threads and history.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::StoreResult;
use crate::domain::*;
use crate::plans::{Plan, PlanEvent, Step, StepMessage, TemplateRef};

/// A plan with everything a reader needs from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanInFull {
    pub plan: Plan,
    pub person: Account,
    /// In order (position, then creation).
    pub steps: Vec<Step>,
}

/// Persons' plans, their steps, message threads and history. Every write that changes a plan
/// or a step appends its history lines in the same transaction.
#[async_trait]
pub trait PlanRepository: Send + Sync {
    /// `Conflict` when the id exists; `NotFound` when the person does not.
    async fn create_plan(&self, plan: &Plan, event: &PlanEvent) -> StoreResult<()>;
    async fn plan(&self, id: PlanId) -> StoreResult<Plan>;
    /// The plan, the person it belongs to and its steps in order, in one read where the store
    /// can: reading a plan is what people do most, and each round trip costs as much as the
    /// rest of the request. `NotFound` when the plan does not exist.
    async fn plan_in_full(&self, id: PlanId) -> StoreResult<PlanInFull>;
    /// A person's plans, newest first.
    async fn plans_of(&self, person: AccountId) -> StoreResult<Vec<Plan>>;
    /// Replaces the plan (title, status, allowed workers) if still at `expected_version`;
    /// `Conflict` (nothing written) otherwise.
    async fn update_plan(
        &self,
        plan: &Plan,
        expected_version: i64,
        events: &[PlanEvent],
    ) -> StoreResult<()>;
    /// The plan's steps in order.
    async fn steps(&self, plan: PlanId) -> StoreResult<Vec<Step>>;
    async fn step(&self, id: StepId) -> StoreResult<Step>;
    /// Adds a step at the end of its plan (its `position` is set by the store); `NotFound`
    /// when the plan does not exist. Returns the position given.
    async fn add_step(&self, step: &Step, event: &PlanEvent) -> StoreResult<u32>;
    /// Replaces the step if still at `expected_version`; `Conflict` otherwise.
    async fn update_step(
        &self,
        step: &Step,
        expected_version: i64,
        events: &[PlanEvent],
    ) -> StoreResult<()>;
    /// Puts the plan's steps in this order; `Conflict` (nothing written) unless `order` names
    /// every step of the plan exactly once.
    async fn reorder_steps(
        &self,
        plan: PlanId,
        order: &[StepId],
        event: &PlanEvent,
    ) -> StoreResult<()>;
    async fn add_message(&self, message: &StepMessage, event: &PlanEvent) -> StoreResult<()>;
    /// A step's thread, oldest first.
    async fn messages(&self, step: StepId) -> StoreResult<Vec<StepMessage>>;
    /// Oldest first.
    async fn plan_history(&self, plan: PlanId) -> StoreResult<Vec<PlanEvent>>;
    /// Every step made from a template: its id and the template reference it holds.
    async fn template_references(&self) -> StoreResult<Vec<(StepId, TemplateRef)>>;
    /// Steps still to do (planned, in progress) of active plans, due between `from` and `to`
    /// inclusive, soonest first.
    async fn steps_due(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Step>>;
    /// Steps still to do of active plans whose appointment (local time) is between `from`
    /// and `to` inclusive, soonest first.
    async fn appointments_between(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> StoreResult<Vec<Step>>;
    /// Remembers that the person was reminded of this due date; `false` when they already
    /// were (so reminders are idempotent).
    async fn record_due_reminder(
        &self,
        step: StepId,
        due_on: NaiveDate,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
}
