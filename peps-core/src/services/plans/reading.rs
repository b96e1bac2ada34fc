//! Reading plans: the list of a person's plans, one plan in full or as metadata, its history.

use super::*;

impl Plans {
    /// The plans of a person the actor may see: all of them for the person, their referent
    /// and their helpers (with a `plans:read` mandate), metadata only for an admin, the ones
    /// they were allowed onto for other workers. `NotFound` when the actor may see none.
    pub async fn plans_of(&self, actor: &Actor, person: AccountId) -> CoreResult<Vec<PlanListing>> {
        let plans = self.ports.plans.plans_of(person).await?;
        let mut listings = Vec::new();
        for plan in plans {
            let standing = relations::towards_plan(
                self.ports.relations.as_ref(),
                actor,
                plan.person,
                &plan.workers,
                self.now(),
            )
            .await?;
            let readable = authorize(actor.role, Action::ViewPlan, standing.relation).is_ok();
            if !readable
                && authorize(actor.role, Action::ViewPlanMetadata, standing.relation).is_err()
            {
                continue;
            }
            let steps = self.ports.plans.steps(plan.id).await?;
            listings.push(if readable {
                PlanListing::Readable(PlanSummary {
                    steps: steps.len(),
                    done: steps
                        .iter()
                        .filter(|s| s.status == StepStatus::Done)
                        .count(),
                    plan,
                })
            } else {
                PlanListing::Metadata(metadata(&plan, steps.len()))
            });
        }
        if listings.is_empty() && actor.role != Role::Admin {
            // No plan yet is an empty list for the person, their referent and their helpers;
            // for anyone else the person might as well not exist.
            let standing = relations::towards_plan(
                self.ports.relations.as_ref(),
                actor,
                person,
                &BTreeSet::new(),
                self.now(),
            )
            .await?;
            if authorize(actor.role, Action::ViewPlan, standing.relation).is_err() {
                return Err(CoreError::NotFound);
            }
        }
        Ok(listings)
    }

    /// A plan, in full for those who may read it (private notes only for its workers),
    /// metadata for an admin.
    pub async fn plan(&self, actor: &Actor, id: PlanId) -> CoreResult<PlanView> {
        let full = self.ports.plans.plan_in_full(id).await?;
        let access = self
            .access_to(actor, full.plan, Action::ViewPlanMetadata)
            .await?;
        if authorize(actor.role, Action::ViewPlan, access.standing.relation).is_err() {
            return Ok(PlanView::Metadata(metadata(&access.plan, full.steps.len())));
        }
        Ok(PlanView::Full(Box::new(
            self.detail_of(actor, access, full.person, full.steps)
                .await?,
        )))
    }

    /// A plan for readers who may see its content (`Denied` for an admin).
    pub async fn plan_detail(&self, actor: &Actor, id: PlanId) -> CoreResult<PlanDetail> {
        let full = self.ports.plans.plan_in_full(id).await?;
        let access = self.access_to(actor, full.plan, Action::ViewPlan).await?;
        self.detail_of(actor, access, full.person, full.steps).await
    }

    /// The plan as its reader sees it after a write (the person read again).
    pub(super) async fn detail(
        &self,
        actor: &Actor,
        access: Access,
        steps: Vec<Step>,
    ) -> CoreResult<PlanDetail> {
        let person = self.ports.accounts.account(access.plan.person).await?;
        self.detail_of(actor, access, person, steps).await
    }

    async fn detail_of(
        &self,
        actor: &Actor,
        access: Access,
        person: Account,
        mut steps: Vec<Step>,
    ) -> CoreResult<PlanDetail> {
        let rights = Self::rights(actor.role, access.standing.relation);
        if !rights.private_notes {
            for step in &mut steps {
                step.private_note = None;
            }
        }
        self.follow_templates(&mut steps);
        let offers = self.offers_of(&steps).await?;
        let referents = self.referent_names(person.id).await?;
        Ok(PlanDetail {
            person,
            plan: access.plan,
            steps,
            offers,
            rights,
            referents,
        })
    }

    /// The names of the person's referents of now, for the plan's readers.
    pub(super) async fn referent_names(&self, person: AccountId) -> CoreResult<Vec<String>> {
        let now = self.now();
        let mut names = Names::default();
        let mut found = Vec::new();
        for referent in self.ports.relations.referents_of(person).await? {
            if referent.is_current(now) {
                let name = names.of(self, referent.worker).await?;
                if !name.is_empty() && !found.contains(&name) {
                    found.push(name);
                }
            }
        }
        Ok(found)
    }

    /// Every change to the plan, oldest first, with who made it. The person and their helpers
    /// do not see changes to the workers' private notes.
    pub async fn history(&self, actor: &Actor, id: PlanId) -> CoreResult<Vec<HistoryLine>> {
        let access = self.access(actor, id, Action::ViewPlan).await?;
        let notes = Self::rights(actor.role, access.standing.relation).private_notes;
        let events = self.ports.plans.plan_history(id).await?;
        let mut names = Names::default();
        let mut lines = Vec::with_capacity(events.len());
        for event in events {
            let event = if notes {
                Some(event)
            } else {
                event.for_person()
            };
            if let Some(event) = event {
                let actor_name = names.of(self, event.actor).await?;
                lines.push(HistoryLine { event, actor_name });
            }
        }
        Ok(lines)
    }

    /// The catalogue offers the steps point to, as they are now (`None`: no longer published).
    pub(super) async fn offers_of(
        &self,
        steps: &[Step],
    ) -> CoreResult<BTreeMap<OfferId, Option<Offer>>> {
        let wanted: BTreeSet<OfferId> = steps
            .iter()
            .filter_map(|step| match &step.orientation {
                Some(Orientation::Offer { offer }) => Some(*offer),
                _ => None,
            })
            .collect();
        if wanted.is_empty() {
            return Ok(BTreeMap::new());
        }
        let found = self.ports.offers.published(&wanted).await?;
        Ok(found
            .into_iter()
            .map(|(id, offer)| (id, offer.map(redact_contact)))
            .collect())
    }

    /// A step just written, as the actor may read it.
    pub(super) async fn step_detail(
        &self,
        actor: &Actor,
        standing: &Standing,
        mut step: Step,
    ) -> CoreResult<StepDetail> {
        if !Self::rights(actor.role, standing.relation).private_notes {
            step.private_note = None;
        }
        let offers = self.offers_of(std::slice::from_ref(&step)).await?;
        Ok(StepDetail { step, offers })
    }
}
