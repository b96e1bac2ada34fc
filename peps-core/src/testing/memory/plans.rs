//! The in-memory reference of the plans port.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::{MemoryStore, conflict};
use crate::domain::*;
use crate::error::{Conflict, StoreError};
use crate::plans::{Plan, PlanEvent, PlanStatus, Step, StepMessage, TemplateRef};
use crate::ports::*;

#[async_trait]
impl PlanRepository for MemoryStore {
    async fn create_plan(&self, plan: &Plan, event: &PlanEvent) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&plan.person) {
            return Err(StoreError::NotFound);
        }
        if s.plans.contains_key(&plan.id) {
            return Err(conflict(Conflict::Duplicate));
        }
        s.plans.insert(plan.id, plan.clone());
        let event = self.plan_event(event);
        s.plan_events.push(event);
        Ok(())
    }

    async fn plan(&self, id: PlanId) -> StoreResult<Plan> {
        self.lock()
            .plans
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn plan_in_full(&self, id: PlanId) -> StoreResult<PlanInFull> {
        let plan = self.plan(id).await?;
        let person = self
            .lock()
            .accounts
            .get(&plan.person)
            .cloned()
            .ok_or(StoreError::NotFound)?;
        let steps = self.steps(id).await?;
        Ok(PlanInFull {
            plan,
            person,
            steps,
        })
    }

    async fn plans_of(&self, person: AccountId) -> StoreResult<Vec<Plan>> {
        let mut plans: Vec<Plan> = self
            .lock()
            .plans
            .values()
            .filter(|p| p.person == person)
            .cloned()
            .collect();
        plans.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        Ok(plans)
    }

    async fn update_plan(
        &self,
        plan: &Plan,
        expected_version: i64,
        events: &[PlanEvent],
    ) -> StoreResult<()> {
        let mut s = self.lock();
        let held = s.plans.get(&plan.id).ok_or(StoreError::NotFound)?;
        if held.version != expected_version {
            return Err(StoreError::Stale);
        }
        s.plans.insert(plan.id, plan.clone());
        let events: Vec<PlanEvent> = events.iter().map(|e| self.plan_event(e)).collect();
        s.plan_events.extend(events);
        Ok(())
    }

    async fn steps(&self, plan: PlanId) -> StoreResult<Vec<Step>> {
        let mut steps: Vec<Step> = self
            .lock()
            .steps
            .values()
            .filter(|st| st.plan == plan)
            .cloned()
            .collect();
        steps.sort_by(|a, b| {
            a.position
                .cmp(&b.position)
                .then(a.created_at.cmp(&b.created_at))
        });
        Ok(steps)
    }

    async fn step(&self, id: StepId) -> StoreResult<Step> {
        self.lock()
            .steps
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn add_step(&self, step: &Step, event: &PlanEvent) -> StoreResult<u32> {
        let mut s = self.lock();
        if !s.plans.contains_key(&step.plan) {
            return Err(StoreError::NotFound);
        }
        if s.steps.contains_key(&step.id) {
            return Err(conflict(Conflict::Duplicate));
        }
        let position = s
            .steps
            .values()
            .filter(|st| st.plan == step.plan)
            .map(|st| st.position + 1)
            .max()
            .unwrap_or(0);
        let mut step = step.clone();
        step.position = position;
        s.steps.insert(step.id, step);
        let event = self.plan_event(event);
        s.plan_events.push(event);
        Ok(position)
    }

    async fn update_step(
        &self,
        step: &Step,
        expected_version: i64,
        events: &[PlanEvent],
    ) -> StoreResult<()> {
        let mut s = self.lock();
        let held = s.steps.get(&step.id).ok_or(StoreError::NotFound)?;
        if held.version != expected_version {
            return Err(StoreError::Stale);
        }
        let mut step = step.clone();
        step.position = held.position;
        s.steps.insert(step.id, step);
        let events: Vec<PlanEvent> = events.iter().map(|e| self.plan_event(e)).collect();
        s.plan_events.extend(events);
        Ok(())
    }

    async fn reorder_steps(
        &self,
        plan: PlanId,
        order: &[StepId],
        event: &PlanEvent,
    ) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.plans.contains_key(&plan) {
            return Err(StoreError::NotFound);
        }
        let held: std::collections::BTreeSet<StepId> = s
            .steps
            .values()
            .filter(|st| st.plan == plan)
            .map(|st| st.id)
            .collect();
        let given: std::collections::BTreeSet<StepId> = order.iter().copied().collect();
        if given.len() != order.len() || given != held {
            return Err(StoreError::Stale);
        }
        for (position, id) in order.iter().enumerate() {
            if let Some(step) = s.steps.get_mut(id) {
                step.position = u32::try_from(position).unwrap_or(u32::MAX);
            }
        }
        let event = self.plan_event(event);
        s.plan_events.push(event);
        Ok(())
    }

    async fn add_message(&self, message: &StepMessage, event: &PlanEvent) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.steps.contains_key(&message.step) {
            return Err(StoreError::NotFound);
        }
        s.messages.push(message.clone());
        let event = self.plan_event(event);
        s.plan_events.push(event);
        Ok(())
    }

    async fn messages(&self, step: StepId) -> StoreResult<Vec<StepMessage>> {
        let mut messages: Vec<StepMessage> = self
            .lock()
            .messages
            .iter()
            .filter(|m| m.step == step)
            .cloned()
            .collect();
        messages.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
        Ok(messages)
    }

    async fn plan_history(&self, plan: PlanId) -> StoreResult<Vec<PlanEvent>> {
        Ok(self
            .lock()
            .plan_events
            .iter()
            .filter(|e| e.plan == plan)
            .cloned()
            .collect())
    }

    async fn template_references(&self) -> StoreResult<Vec<(StepId, TemplateRef)>> {
        let s = self.lock();
        let mut refs: Vec<(StepId, TemplateRef)> = s
            .steps
            .values()
            .filter_map(|st| Some((st.id, st.template.clone()?)))
            .collect();
        refs.sort_by_key(|(id, _)| *id);
        Ok(refs)
    }

    async fn steps_due(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Step>> {
        let s = self.lock();
        let mut due: Vec<Step> = s
            .steps
            .values()
            .filter(|st| st.due_on.is_some_and(|d| d >= from && d <= to))
            .filter(|st| st.status.is_open())
            .filter(|st| {
                s.plans
                    .get(&st.plan)
                    .is_some_and(|p| p.status == PlanStatus::Active)
            })
            .cloned()
            .collect();
        due.sort_by(|a, b| a.due_on.cmp(&b.due_on).then(a.id.cmp(&b.id)));
        Ok(due)
    }

    async fn appointments_between(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> StoreResult<Vec<Step>> {
        let s = self.lock();
        let mut soon: Vec<Step> = s
            .steps
            .values()
            .filter(|st| st.appointment_at.is_some_and(|a| a >= from && a <= to))
            .filter(|st| st.status.is_open())
            .filter(|st| {
                s.plans
                    .get(&st.plan)
                    .is_some_and(|p| p.status == PlanStatus::Active)
            })
            .cloned()
            .collect();
        soon.sort_by(|a, b| {
            a.appointment_at
                .cmp(&b.appointment_at)
                .then(a.id.cmp(&b.id))
        });
        Ok(soon)
    }

    async fn record_due_reminder(
        &self,
        step: StepId,
        due_on: NaiveDate,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut s = self.lock();
        if !s.steps.contains_key(&step) {
            return Err(StoreError::NotFound);
        }
        Ok(s.due_reminders.insert((step, due_on), at).is_none())
    }
}
