//! Starting, renaming, closing a plan; the workers the person allows onto it.

use super::*;
use crate::plans::PlanAction;

impl Plans {
    /// A worker starts a plan for a person they are the referent of.
    pub async fn create_plan(
        &self,
        actor: &Actor,
        person: AccountId,
        title: &str,
    ) -> CoreResult<PlanDetail> {
        let person = match self.ports.accounts.account(person).await {
            Ok(p) => p,
            Err(StoreError::NotFound) => return Err(CoreError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let standing = relations::towards_plan(
            self.ports.relations.as_ref(),
            actor,
            person.id,
            &BTreeSet::new(),
            self.now(),
        )
        .await?;
        if authorize(actor.role, Action::CreatePlan, standing.relation).is_err() {
            // Those who may know the person's plans are told no; others learn nothing.
            let visible = actor.role == Role::Admin
                || authorize(actor.role, Action::ViewPlan, standing.relation).is_ok();
            return Err(if visible {
                CoreError::Denied
            } else {
                CoreError::NotFound
            });
        }
        if person.role != Role::Person {
            return Err(ValidationError::new("person", "plan.not_a_person").into());
        }
        let mut title = TranslatableText::new(check_title(title)?);
        self.translate_title(&mut title, &person.language).await;
        let now = self.now();
        let plan = Plan {
            id: PlanId::new(),
            person: person.id,
            title,
            status: PlanStatus::Active,
            workers: BTreeSet::new(),
            created_by: actor.account,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let event = self.event(
            actor,
            plan.id,
            None,
            PlanAction::PlanCreated,
            serde_json::json!({}),
        );
        self.ports.plans.create_plan(&plan, &event).await?;
        let referents = self.referent_names(person.id).await?;
        Ok(PlanDetail {
            plan,
            person,
            steps: Vec::new(),
            offers: BTreeMap::new(),
            rights: Self::rights(actor.role, standing.relation),
            referents,
        })
    }

    /// Renames, closes or reopens a plan; returns it as the actor reads it.
    pub async fn update_plan(
        &self,
        actor: &Actor,
        id: PlanId,
        change: PlanChange,
    ) -> CoreResult<PlanDetail> {
        let access = self.access(actor, id, Action::EditPlan).await?;
        let mut plan = access.plan.clone();
        if plan.version != change.version {
            return Err(CoreError::Stale("plan.version_changed"));
        }
        let mut events = Vec::new();
        if let Some(title) = change.title {
            let title = check_title(&title)?;
            if title != plan.title.french {
                plan.title.set_french(title);
                let person = self.ports.accounts.account(plan.person).await?;
                self.translate_title(&mut plan.title, &person.language)
                    .await;
                events.push(self.event(
                    actor,
                    id,
                    None,
                    PlanAction::PlanUpdated,
                    serde_json::json!({ "fields": ["title"] }),
                ));
            }
        }
        if let Some(status) = change.status
            && status != plan.status
        {
            plan.status = status;
            let action = match status {
                PlanStatus::Closed => PlanAction::PlanClosed,
                PlanStatus::Active => PlanAction::PlanReopened,
            };
            events.push(self.event(actor, id, None, action, serde_json::json!({})));
        }
        let plan = if events.is_empty() {
            plan
        } else {
            self.save_plan(plan, access.plan.version, &events).await?
        };
        let steps = self.ports.plans.steps(id).await?;
        let access = Access {
            plan,
            standing: access.standing,
        };
        self.detail(actor, access, steps).await
    }

    pub(super) async fn save_plan(
        &self,
        mut plan: Plan,
        expected: i64,
        events: &[PlanEvent],
    ) -> CoreResult<Plan> {
        plan.version = expected + 1;
        plan.updated_at = self.now();
        self.ports
            .plans
            .update_plan(&plan, expected, events)
            .await
            .map_err(|e| stale_as(e, "plan.version_changed"))?;
        Ok(plan)
    }

    /// The person lets another worker (a colleague of their referent, a nurse, a job
    /// counsellor) read and edit this plan.
    pub async fn allow_worker(
        &self,
        actor: &Actor,
        id: PlanId,
        worker: AccountId,
    ) -> CoreResult<Plan> {
        let access = self.access(actor, id, Action::AllowPlanWorkers).await?;
        match self.ports.accounts.account(worker).await {
            Ok(a) if a.role == Role::Worker && a.status == AccountStatus::Active => {}
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(ValidationError::new("worker_id", "plan.not_a_worker").into());
            }
            Err(e) => return Err(e.into()),
        }
        let mut plan = access.plan.clone();
        if !plan.workers.insert(worker) {
            return Ok(plan);
        }
        let event = self.event(
            actor,
            id,
            None,
            PlanAction::WorkerAllowed,
            serde_json::json!({ "worker": worker }),
        );
        self.save_plan(plan, access.plan.version, &[event]).await
    }

    /// Takes a worker off the plan, with immediate effect.
    pub async fn remove_worker(
        &self,
        actor: &Actor,
        id: PlanId,
        worker: AccountId,
    ) -> CoreResult<Plan> {
        let access = self.access(actor, id, Action::AllowPlanWorkers).await?;
        let mut plan = access.plan.clone();
        if !plan.workers.remove(&worker) {
            return Err(CoreError::NotFound);
        }
        let event = self.event(
            actor,
            id,
            None,
            PlanAction::WorkerRemoved,
            serde_json::json!({ "worker": worker }),
        );
        self.save_plan(plan, access.plan.version, &[event]).await
    }
}
