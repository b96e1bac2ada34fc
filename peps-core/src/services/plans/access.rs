//! Who reaches a plan, and whom a change is told to.

use super::*;

impl Plans {
    /// The plan, if the actor may do `action` on it. Whoever may not even know it exists
    /// gets `NotFound`; a permit resting on a mandate is recorded for the person.
    pub(super) async fn access(
        &self,
        actor: &Actor,
        id: PlanId,
        action: Action,
    ) -> CoreResult<Access> {
        let plan = self.ports.plans.plan(id).await?;
        self.access_to(actor, plan, action).await
    }

    /// Like [`Plans::access`], for a plan already read.
    pub(super) async fn access_to(
        &self,
        actor: &Actor,
        plan: Plan,
        action: Action,
    ) -> CoreResult<Access> {
        let standing = relations::towards_plan(
            self.ports.relations.as_ref(),
            actor,
            plan.person,
            &plan.workers,
            self.now(),
        )
        .await?;
        if authorize(actor.role, action, standing.relation).is_err() {
            let visible =
                authorize(actor.role, Action::ViewPlanMetadata, standing.relation).is_ok();
            return Err(if visible {
                CoreError::Denied
            } else {
                CoreError::NotFound
            });
        }
        if let Some(mandate) = standing.mandate {
            self.ports
                .audit
                .record(&AuditEvent {
                    id: AuditEventId::new(),
                    at: self.now(),
                    actor: Some(actor.account),
                    actor_role: Some(actor.role),
                    mandate: Some(mandate),
                    action: crate::domain::AuditAction::MandateUsed,
                    subject: Some(plan.person),
                    detail: format!("action={action:?} plan={}", plan.id),
                })
                .await?;
        }
        Ok(Access { plan, standing })
    }

    pub(super) fn rights(role: Role, relation: Relation) -> PlanRights {
        let may = |action| authorize(role, action, relation).is_ok();
        PlanRights {
            edit: may(Action::EditPlan),
            private_notes: may(Action::ViewPrivateNotes),
            report_progress: may(Action::ReportStepProgress),
            discuss: may(Action::DiscussStep),
            allow_workers: may(Action::AllowPlanWorkers),
        }
    }

    pub(super) async fn step_of(&self, plan: &Plan, step: StepId) -> CoreResult<Step> {
        let mut step = self.ports.plans.step(step).await?;
        if step.plan != plan.id {
            return Err(CoreError::NotFound);
        }
        self.follow_templates([&mut step]);
        Ok(step)
    }

    /// The person's current referents and the workers they allowed, minus `except`.
    pub(super) async fn workers_of(
        &self,
        plan: &Plan,
        except: AccountId,
    ) -> CoreResult<Vec<Account>> {
        let now = self.now();
        let mut ids: BTreeSet<AccountId> = self
            .ports
            .relations
            .referents_of(plan.person)
            .await?
            .into_iter()
            .filter(|r| r.is_current(now))
            .map(|r| r.worker)
            .collect();
        ids.extend(plan.workers.iter().copied());
        ids.remove(&except);
        let mut workers = Vec::new();
        for id in ids {
            match self.ports.accounts.account(id).await {
                Ok(a) if a.status == AccountStatus::Active => workers.push(a),
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(workers)
    }

    /// The messages of a change: when the person acted, to their plan's workers; when a
    /// worker did, to the person. Written with the change, in its transaction.
    pub(super) async fn other_side(
        &self,
        actor: &Actor,
        plan: &Plan,
        notice: PersonNotice,
    ) -> CoreResult<Vec<crate::outbox::OutboxMessage>> {
        let person = self.ports.accounts.account(plan.person).await?;
        if actor.account == plan.person {
            let workers = self.workers_of(plan, actor.account).await?;
            Ok(self.channels.to_workers(&workers, &person))
        } else {
            Ok(self.channels.to_person(&person, notice).await?.messages)
        }
    }
}
