//! Adding, editing, moving a plan's steps and their status.

use super::*;
use crate::plans::PlanAction;

impl Plans {
    /// Adds a step at the end of the plan, from a template (adapted or not) or free text,
    /// translated into the person's language, and tells the person. A step from a template
    /// keeps a reference to it: the fields not adapted read the template's current texts.
    pub async fn add_step(
        &self,
        actor: &Actor,
        id: PlanId,
        new: NewStep,
    ) -> CoreResult<StepDetail> {
        let access = self.access(actor, id, Action::EditPlan).await?;
        let plan = &access.plan;
        if plan.status == PlanStatus::Closed {
            return Err(CoreError::Conflict("plan.closed"));
        }
        if self.ports.plans.steps(id).await?.len() >= MAX_STEPS {
            return Err(CoreError::Conflict("plan.steps.too_many"));
        }
        let template = match &new.template {
            Some(tid) => Some(
                self.templates
                    .shared(tid)
                    .cloned()
                    .ok_or(ValidationError::new("template_id", "step.template.unknown"))?,
            ),
            None => None,
        };
        let mut errors = Vec::new();
        let content = match &template {
            Some(t) => {
                let mut content = StepContent::from_template(t.clone());
                if new.draft.has_texts() {
                    content.adapt(check_texts(
                        new.draft.texts_over(content.french()),
                        &mut errors,
                    ));
                }
                content
            }
            None if new.draft.has_texts() => StepContent::free(check_texts(
                new.draft.texts_over(StepTexts::default()),
                &mut errors,
            )),
            None => return Err(ValidationError::new("title", "step.texts.required").into()),
        };
        let now = self.now();
        let mut step = Step {
            id: StepId::new(),
            plan: id,
            position: 0,
            template: template.as_ref().map(|t| t.reference()),
            content,
            who_acts: template.as_ref().map_or(WhoActs::Person, |t| t.who_acts),
            orientation: None,
            due_on: None,
            appointment_at: None,
            documents: template
                .as_ref()
                .map(|t| t.documents.clone())
                .unwrap_or_default(),
            status: StepStatus::Planned,
            status_changed_at: now,
            status_changed_by: actor.account,
            private_note: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let fields = self.apply_draft(&mut step, new.draft, &mut errors).await?;
        CoreError::from_validation(errors)?;
        let person = self.ports.accounts.account(plan.person).await?;
        self.translate_step(&mut step.content, &person.language)
            .await;
        let mut event = self.event(
            actor,
            id,
            Some(step.id),
            PlanAction::StepAdded,
            serde_json::json!({ "template": new.template, "fields": fields }),
        );
        event.outbox = self
            .channels
            .to_person(&person, PersonNotice::NewStep)
            .await?
            .messages;
        step.position = self.ports.plans.add_step(&step, &event).await?;
        self.step_detail(actor, &access.standing, step).await
    }

    /// Applies what the draft sets (all but texts), checking each value; returns the names
    /// of the fields that changed.
    pub(super) async fn apply_draft(
        &self,
        step: &mut Step,
        draft: StepDraft,
        errors: &mut Vec<ValidationError>,
    ) -> CoreResult<Vec<&'static str>> {
        let mut changed = Vec::new();
        if let Some(who) = draft.who_acts
            && who != step.who_acts
        {
            step.who_acts = who;
            changed.push("who_acts");
        }
        if let Some(orientation) = draft.orientation {
            let orientation = orientation.map(|o| check_orientation(o, errors));
            if let Some(Orientation::Offer { offer }) = &orientation {
                let published = self
                    .ports
                    .offers
                    .published(&BTreeSet::from([*offer]))
                    .await?
                    .remove(offer)
                    .flatten()
                    .is_some();
                if !published {
                    errors.push(ValidationError::new(
                        "orientation.offer_id",
                        "step.orientation.offer_unknown",
                    ));
                }
            }
            if orientation != step.orientation {
                step.orientation = orientation;
                changed.push("orientation");
            }
        }
        let today = self.now().date_naive();
        if let Some(due_on) = draft.due_on {
            check_dates(due_on, None, today, errors);
            if due_on != step.due_on {
                step.due_on = due_on;
                changed.push("due_on");
            }
        }
        if let Some(appointment) = draft.appointment_at {
            check_dates(None, appointment, today, errors);
            if appointment != step.appointment_at {
                step.appointment_at = appointment;
                changed.push("appointment_at");
            }
        }
        if let Some(documents) = draft.documents {
            let documents = check_documents(documents, errors);
            if documents != step.documents {
                step.documents = documents;
                changed.push("documents");
            }
        }
        if let Some(note) = draft.private_note {
            let note = check_note(note, errors);
            if note != step.private_note {
                step.private_note = note;
                changed.push("private_note");
            }
        }
        Ok(changed)
    }

    /// Edits a step (texts, orientation, dates, documents, who acts, private note): what the
    /// draft leaves out keeps its value. A changed French field loses its translations until
    /// translated again (and stops following the template); returns the step as the actor
    /// reads it.
    pub async fn update_step(
        &self,
        actor: &Actor,
        id: PlanId,
        step_id: StepId,
        version: i64,
        draft: StepDraft,
    ) -> CoreResult<StepDetail> {
        let access = self.access(actor, id, Action::EditPlan).await?;
        if access.plan.status == PlanStatus::Closed {
            return Err(CoreError::Conflict("plan.closed"));
        }
        let held = self.step_of(&access.plan, step_id).await?;
        if held.version != version {
            return Err(CoreError::Stale("step.version_changed"));
        }
        let mut step = held.clone();
        let mut errors = Vec::new();
        let mut fields = Vec::new();
        if draft.has_texts() {
            // Fields not sent keep their text (the worker's, or the template's).
            let before = step.content.french();
            let texts = check_texts(draft.texts_over(before.clone()), &mut errors);
            for (name, changed) in [
                ("title", texts.title != before.title),
                ("explanation", texts.explanation != before.explanation),
                ("tasks", texts.tasks != before.tasks),
            ] {
                if changed {
                    fields.push(name);
                }
            }
            if !fields.is_empty() {
                step.content.adapt(texts);
            }
        }
        fields.extend(self.apply_draft(&mut step, draft, &mut errors).await?);
        CoreError::from_validation(errors)?;
        if fields.is_empty() {
            return self.step_detail(actor, &access.standing, held).await;
        }
        let person = self.ports.accounts.account(access.plan.person).await?;
        self.translate_step(&mut step.content, &person.language)
            .await;
        step.version = held.version + 1;
        step.updated_at = self.now();
        let mut event = self.event(
            actor,
            id,
            Some(step_id),
            PlanAction::StepUpdated,
            serde_json::json!({ "fields": fields }),
        );
        // A private note is the workers' own: the person is not told of it.
        if fields.iter().any(|f| *f != "private_note") {
            event.outbox = self
                .channels
                .to_person(&person, PersonNotice::StepChanged)
                .await?
                .messages;
        }
        self.ports
            .plans
            .update_step(&step, held.version, &[event])
            .await
            .map_err(|e| stale_as(e, "step.version_changed"))?;
        self.step_detail(actor, &access.standing, step).await
    }

    /// Moves a step on: the plan's workers set any status; the person reports progress (in
    /// progress, done, given up). The other side is told.
    pub async fn set_step_status(
        &self,
        actor: &Actor,
        id: PlanId,
        step_id: StepId,
        status: StepStatus,
    ) -> CoreResult<StepDetail> {
        let access = match self.access(actor, id, Action::EditPlan).await {
            Ok(a) => a,
            Err(CoreError::Denied) => {
                let access = self.access(actor, id, Action::ReportStepProgress).await?;
                if !status.settable_by_person() {
                    return Err(ValidationError::new("status", "step.status.not_allowed").into());
                }
                access
            }
            Err(e) => return Err(e),
        };
        if access.plan.status == PlanStatus::Closed {
            return Err(CoreError::Conflict("plan.closed"));
        }
        let held = self.step_of(&access.plan, step_id).await?;
        if held.status == status {
            return self.step_detail(actor, &access.standing, held).await;
        }
        let mut step = held.clone();
        step.status = status;
        step.status_changed_at = self.now();
        step.status_changed_by = actor.account;
        step.version = held.version + 1;
        step.updated_at = self.now();
        let mut event = self.event(
            actor,
            id,
            Some(step_id),
            PlanAction::StepStatusChanged,
            serde_json::json!({ "from": held.status.as_str(), "to": status.as_str() }),
        );
        event.outbox = self
            .other_side(actor, &access.plan, PersonNotice::StepChanged)
            .await?;
        self.ports
            .plans
            .update_step(&step, held.version, &[event])
            .await
            .map_err(|e| stale_as(e, "step.version_changed"))?;
        self.step_detail(actor, &access.standing, step).await
    }

    /// Puts the plan's steps in the given order (every step exactly once); returns the plan
    /// as the actor reads it.
    pub async fn reorder_steps(
        &self,
        actor: &Actor,
        id: PlanId,
        order: &[StepId],
    ) -> CoreResult<PlanDetail> {
        let access = self.access(actor, id, Action::EditPlan).await?;
        if access.plan.status == PlanStatus::Closed {
            return Err(CoreError::Conflict("plan.closed"));
        }
        let event = self.event(
            actor,
            id,
            None,
            PlanAction::StepsReordered,
            serde_json::json!({ "order": order }),
        );
        self.ports
            .plans
            .reorder_steps(id, order, &event)
            .await
            // A list that is not exactly the plan's steps is a wrong request, stale or not.
            .map_err(|e| match e {
                StoreError::Stale => CoreError::Conflict("steps.order_mismatch"),
                other => other.into(),
            })?;
        let steps = self.ports.plans.steps(id).await?;
        self.detail(actor, access, steps).await
    }
}
