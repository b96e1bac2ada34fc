//! Step plans: a referent writes a person's plan from step templates or free text; the person
//! reads it in their language, reports progress and asks questions; every change is kept in
//! the plan's history.
//!
//! Access: the person, their current referent, workers the person allowed onto the plan and
//! helpers whose mandate covers `plans:read`. Admins see that a plan exists, never its
//! content. Anyone else, a former referent included, gets `NotFound`, as for a plan that
//! does not exist.

use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::conflict_as;
use super::plan_notices::{Delivery, PersonNotice, PlanChannels};
use super::relations::{self, Standing};
use crate::catalogue::{Offer, OfferStatus, Provenance};
use crate::clock::Clock;
use crate::domain::*;
use crate::error::{CoreError, CoreResult, StoreError, ValidationError};
use crate::plans::plan::{
    MAX_STEPS, check_dates, check_documents, check_message, check_note, check_orientation,
    check_texts, check_title,
};
use crate::plans::*;
use crate::policy::{Action, Actor, Relation, authorize};
use crate::ports::*;

/// The ports the plan use cases need.
#[derive(Clone)]
pub struct PlanPorts {
    pub plans: Arc<dyn PlanRepository>,
    pub accounts: Arc<dyn AccountRepository>,
    pub relations: Arc<dyn RelationRepository>,
    pub offers: Arc<dyn OfferRepository>,
    pub audit: Arc<dyn AuditLog>,
}

impl PlanPorts {
    pub fn from_store<S>(store: Arc<S>) -> Self
    where
        S: PlanRepository + IdentityStore + OfferRepository + 'static,
    {
        Self {
            plans: store.clone(),
            accounts: store.clone(),
            relations: store.clone(),
            offers: store.clone(),
            audit: store,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlanSettings {
    /// How many days before a step's due date the person is reminded.
    pub due_reminder_days: u32,
}

impl Default for PlanSettings {
    fn default() -> Self {
        Self {
            due_reminder_days: 3,
        }
    }
}

/// What the actor may do on a plan they can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanRights {
    pub edit: bool,
    pub private_notes: bool,
    pub report_progress: bool,
    pub discuss: bool,
    pub allow_workers: bool,
}

/// A plan with everything a reader needs: steps in order, the catalogue offers they point to
/// (as they are now; `None` when no longer published), and what the reader may do.
#[derive(Debug, Clone)]
pub struct PlanDetail {
    pub plan: Plan,
    pub person: Account,
    pub steps: Vec<Step>,
    pub offers: BTreeMap<OfferId, Option<Offer>>,
    pub rights: PlanRights,
}

/// What an admin sees of a plan: that it exists, whose it is, its state; no content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanMetadata {
    pub id: PlanId,
    pub person: AccountId,
    pub status: PlanStatus,
    pub steps: usize,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A plan in a list, for a reader: its counts, not its steps.
#[derive(Debug, Clone)]
pub struct PlanSummary {
    pub plan: Plan,
    pub steps: usize,
    pub done: usize,
}

#[derive(Debug, Clone)]
pub enum PlanListing {
    Readable(PlanSummary),
    Metadata(PlanMetadata),
}

#[derive(Debug, Clone)]
pub enum PlanView {
    Full(Box<PlanDetail>),
    Metadata(PlanMetadata),
}

#[derive(Debug, Clone, Default)]
pub struct NewStep {
    /// Start from this template; the draft's fields then override the template's.
    pub template: Option<String>,
    pub draft: StepDraft,
}

#[derive(Debug, Clone, Default)]
pub struct PlanChange {
    pub version: i64,
    pub title: Option<String>,
    pub status: Option<PlanStatus>,
}

/// A history line with the actor's name, for readers.
#[derive(Debug, Clone)]
pub struct HistoryLine {
    pub event: PlanEvent,
    pub actor_name: String,
}

#[derive(Debug, Clone)]
pub struct ThreadMessage {
    pub message: StepMessage,
    pub author_name: String,
}

/// What `remind_due` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DueReport {
    /// Persons told (one notice per person, whatever their number of steps due).
    pub reminded: u32,
    /// Steps whose due date was already reminded by an earlier run.
    pub already_reminded: u32,
    /// Persons with neither email nor phone: their referent tells them.
    pub no_channel: u32,
    pub failed: u32,
}

pub struct Plans {
    ports: PlanPorts,
    templates: Arc<TemplateLibrary>,
    translator: Arc<dyn Translator>,
    channels: PlanChannels,
    clock: Arc<dyn Clock>,
    settings: PlanSettings,
}

struct Access {
    plan: Plan,
    standing: Standing,
}

impl Plans {
    pub fn new(
        ports: PlanPorts,
        templates: Arc<TemplateLibrary>,
        translator: Arc<dyn Translator>,
        channels: PlanChannels,
        clock: Arc<dyn Clock>,
        settings: PlanSettings,
    ) -> Self {
        Self {
            ports,
            templates,
            translator,
            channels,
            clock,
            settings,
        }
    }

    pub fn templates(&self) -> &TemplateLibrary {
        &self.templates
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn event(
        &self,
        actor: &Actor,
        plan: PlanId,
        step: Option<StepId>,
        action: &str,
        detail: serde_json::Value,
    ) -> PlanEvent {
        PlanEvent {
            id: PlanEventId::new(),
            plan,
            step,
            at: self.now(),
            actor: actor.account,
            actor_role: actor.role,
            action: action.to_owned(),
            detail,
        }
    }

    // ----- access ---------------------------------------------------------------------

    /// The plan, if the actor may do `action` on it. Whoever may not even know it exists
    /// gets `NotFound`; a permit resting on a mandate is recorded for the person.
    async fn access(&self, actor: &Actor, id: PlanId, action: Action) -> CoreResult<Access> {
        let plan = self.ports.plans.plan(id).await?;
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
                    action: "mandate.used".into(),
                    subject: Some(plan.person),
                    detail: format!("action={action:?} plan={}", plan.id),
                })
                .await?;
        }
        Ok(Access { plan, standing })
    }

    fn rights(role: Role, relation: Relation) -> PlanRights {
        let may = |action| authorize(role, action, relation).is_ok();
        PlanRights {
            edit: may(Action::EditPlan),
            private_notes: may(Action::ViewPrivateNotes),
            report_progress: may(Action::ReportStepProgress),
            discuss: may(Action::DiscussStep),
            allow_workers: may(Action::AllowPlanWorkers),
        }
    }

    async fn step_of(&self, plan: &Plan, step: StepId) -> CoreResult<Step> {
        let step = self.ports.plans.step(step).await?;
        if step.plan != plan.id {
            return Err(CoreError::NotFound);
        }
        Ok(step)
    }

    /// The person's current referents and the workers they allowed, minus `except`.
    async fn workers_of(&self, plan: &Plan, except: AccountId) -> CoreResult<Vec<Account>> {
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

    /// When the person acted, their plan's workers are told; when a worker did, the person.
    async fn tell_other_side(
        &self,
        actor: &Actor,
        plan: &Plan,
        notice: PersonNotice,
    ) -> CoreResult<()> {
        let person = self.ports.accounts.account(plan.person).await?;
        if actor.account == plan.person {
            let workers = self.workers_of(plan, actor.account).await?;
            self.channels.tell_workers(&workers, &person).await;
        } else {
            self.channels.tell_person(&person, notice).await;
        }
        Ok(())
    }

    // ----- machine translation --------------------------------------------------------

    /// Machine-translates the fields without a current translation into the person's
    /// language. Easy-to-read French is never machine-made; a translator that is down or
    /// lacks the language leaves the French, shown as such.
    async fn translate_step(&self, content: &mut StepContent, language: &Language) {
        let target = language.code();
        if target == Language::REFERENCE || target == "fr-x-falc" || content.is_current_in(target) {
            return;
        }
        let mut texts = vec![
            content.french.title.clone(),
            content.french.explanation.clone(),
        ];
        texts.extend(content.french.tasks.iter().cloned());
        match self
            .translator
            .translate(&texts, &Language::french(), language)
            .await
        {
            Ok(Some(mut out)) if out.len() == texts.len() => {
                let tasks = out.split_off(2);
                let explanation = out.pop().unwrap_or_default();
                let title = out.pop().unwrap_or_default();
                content.fill_stale(
                    target,
                    StepTexts {
                        title,
                        explanation,
                        tasks,
                    },
                    Provenance::Machine,
                );
            }
            Ok(Some(_)) => {
                tracing::warn!(target, "translator answered a different number of texts")
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, target, "step not machine-translated"),
        }
    }

    async fn translate_title(&self, title: &mut TranslatableText, language: &Language) {
        let target = language.code();
        if target == "fr-x-falc" || title.is_current_in(target) {
            return;
        }
        match self
            .translator
            .translate(
                std::slice::from_ref(&title.french),
                &Language::french(),
                language,
            )
            .await
        {
            Ok(Some(mut out)) if out.len() == 1 => {
                let value = out.pop().unwrap_or_default();
                title.translate(target, value, Provenance::Machine);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, target, "plan title not machine-translated"),
        }
    }

    // ----- plans ----------------------------------------------------------------------

    /// A worker starts a plan for a person they are the referent of.
    pub async fn create_plan(
        &self,
        actor: &Actor,
        person: AccountId,
        title: &str,
    ) -> CoreResult<Plan> {
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
        let event = self.event(actor, plan.id, None, "plan.created", serde_json::json!({}));
        self.ports.plans.create_plan(&plan, &event).await?;
        Ok(plan)
    }

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
        let access = self.access(actor, id, Action::ViewPlanMetadata).await?;
        let relation = access.standing.relation;
        let steps = self.ports.plans.steps(id).await?;
        if authorize(actor.role, Action::ViewPlan, relation).is_err() {
            return Ok(PlanView::Metadata(metadata(&access.plan, steps.len())));
        }
        Ok(PlanView::Full(Box::new(
            self.detail(actor, access, steps).await?,
        )))
    }

    /// A plan for readers who may see its content (`Denied` for an admin).
    pub async fn plan_detail(&self, actor: &Actor, id: PlanId) -> CoreResult<PlanDetail> {
        let access = self.access(actor, id, Action::ViewPlan).await?;
        let steps = self.ports.plans.steps(id).await?;
        self.detail(actor, access, steps).await
    }

    async fn detail(
        &self,
        actor: &Actor,
        access: Access,
        mut steps: Vec<Step>,
    ) -> CoreResult<PlanDetail> {
        let rights = Self::rights(actor.role, access.standing.relation);
        if !rights.private_notes {
            for step in &mut steps {
                step.private_note = None;
            }
        }
        let mut offers = BTreeMap::new();
        for step in &steps {
            if let Some(Orientation::Offer { offer }) = &step.orientation
                && !offers.contains_key(offer)
            {
                let found = match self.ports.offers.offer(*offer).await {
                    Ok(o) if o.status == OfferStatus::Published => Some(o),
                    Ok(_) | Err(StoreError::NotFound) => None,
                    Err(e) => return Err(e.into()),
                };
                offers.insert(*offer, found.map(redact_contact));
            }
        }
        Ok(PlanDetail {
            person: self.ports.accounts.account(access.plan.person).await?,
            plan: access.plan,
            steps,
            offers,
            rights,
        })
    }

    /// Renames, closes or reopens a plan.
    pub async fn update_plan(
        &self,
        actor: &Actor,
        id: PlanId,
        change: PlanChange,
    ) -> CoreResult<Plan> {
        let access = self.access(actor, id, Action::EditPlan).await?;
        let mut plan = access.plan.clone();
        if plan.version != change.version {
            return Err(CoreError::Conflict("plan.version_changed"));
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
                    "plan.updated",
                    serde_json::json!({ "fields": ["title"] }),
                ));
            }
        }
        if let Some(status) = change.status
            && status != plan.status
        {
            plan.status = status;
            let action = match status {
                PlanStatus::Closed => "plan.closed",
                PlanStatus::Active => "plan.reopened",
            };
            events.push(self.event(actor, id, None, action, serde_json::json!({})));
        }
        if events.is_empty() {
            return Ok(plan);
        }
        self.save_plan(plan, access.plan.version, &events).await
    }

    async fn save_plan(
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
            .map_err(|e| conflict_as(e, "plan.version_changed"))?;
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
            "plan.worker_allowed",
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
            "plan.worker_removed",
            serde_json::json!({ "worker": worker }),
        );
        self.save_plan(plan, access.plan.version, &[event]).await
    }

    // ----- steps ----------------------------------------------------------------------

    /// Adds a step at the end of the plan, from a template (adapted or not) or free text,
    /// translated into the person's language, and tells the person.
    pub async fn add_step(&self, actor: &Actor, id: PlanId, new: NewStep) -> CoreResult<Step> {
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
                    .get(tid)
                    .ok_or(ValidationError::new("template_id", "step.template.unknown"))?,
            ),
            None => None,
        };
        let mut errors = Vec::new();
        let mut content = match (template, new.draft.texts.clone()) {
            (Some(t), texts) => {
                let mut content = StepContent::from_template(t)
                    .ok_or(ValidationError::new("template_id", "step.template.unknown"))?;
                if let Some(texts) = texts {
                    let texts = check_texts(texts, &mut errors);
                    if texts != content.french {
                        content.adapt(texts);
                    }
                }
                content
            }
            (None, Some(texts)) => StepContent {
                french: check_texts(texts, &mut errors),
                translations: BTreeMap::new(),
            },
            (None, None) => {
                return Err(ValidationError::new("title", "step.texts.required").into());
            }
        };
        let now = self.now();
        let mut step = Step {
            id: StepId::new(),
            plan: id,
            position: 0,
            template: new.template.clone(),
            content: content.clone(),
            who_acts: template.map_or(WhoActs::Person, |t| t.who_acts),
            orientation: None,
            due_on: None,
            appointment_at: None,
            documents: template.map(|t| t.documents.clone()).unwrap_or_default(),
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
        content = step.content.clone();
        self.translate_step(&mut content, &person.language).await;
        step.content = content;
        let event = self.event(
            actor,
            id,
            Some(step.id),
            "step.added",
            serde_json::json!({ "template": new.template, "fields": fields }),
        );
        step.position = self.ports.plans.add_step(&step, &event).await?;
        self.channels
            .tell_person(&person, PersonNotice::NewStep)
            .await;
        Ok(step)
    }

    /// Applies what the draft sets (all but texts), checking each value; returns the names
    /// of the fields that changed.
    async fn apply_draft(
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
                let published = match self.ports.offers.offer(*offer).await {
                    Ok(o) => o.status == OfferStatus::Published,
                    Err(StoreError::NotFound) => false,
                    Err(e) => return Err(e.into()),
                };
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

    /// Edits a step (texts, orientation, dates, documents, who acts, private note). A changed
    /// French field loses its translations until translated again.
    pub async fn update_step(
        &self,
        actor: &Actor,
        id: PlanId,
        step_id: StepId,
        version: i64,
        draft: StepDraft,
    ) -> CoreResult<Step> {
        let access = self.access(actor, id, Action::EditPlan).await?;
        if access.plan.status == PlanStatus::Closed {
            return Err(CoreError::Conflict("plan.closed"));
        }
        let held = self.step_of(&access.plan, step_id).await?;
        if held.version != version {
            return Err(CoreError::Conflict("step.version_changed"));
        }
        let mut step = held.clone();
        let mut errors = Vec::new();
        let mut fields = Vec::new();
        if let Some(texts) = draft.texts.clone() {
            let texts = check_texts(texts, &mut errors);
            for (name, changed) in [
                ("title", texts.title != step.content.french.title),
                (
                    "explanation",
                    texts.explanation != step.content.french.explanation,
                ),
                ("tasks", texts.tasks != step.content.french.tasks),
            ] {
                if changed {
                    fields.push(name);
                }
            }
            step.content.adapt(texts);
        }
        fields.extend(self.apply_draft(&mut step, draft, &mut errors).await?);
        CoreError::from_validation(errors)?;
        if fields.is_empty() {
            return Ok(held);
        }
        let person = self.ports.accounts.account(access.plan.person).await?;
        self.translate_step(&mut step.content, &person.language)
            .await;
        step.version = held.version + 1;
        step.updated_at = self.now();
        let event = self.event(
            actor,
            id,
            Some(step_id),
            "step.updated",
            serde_json::json!({ "fields": fields }),
        );
        self.ports
            .plans
            .update_step(&step, held.version, &[event])
            .await
            .map_err(|e| conflict_as(e, "step.version_changed"))?;
        if fields.iter().any(|f| *f != "private_note") {
            self.channels
                .tell_person(&person, PersonNotice::StepChanged)
                .await;
        }
        Ok(step)
    }

    /// Moves a step on: the plan's workers set any status; the person reports progress (in
    /// progress, done, given up). The other side is told.
    pub async fn set_step_status(
        &self,
        actor: &Actor,
        id: PlanId,
        step_id: StepId,
        status: StepStatus,
    ) -> CoreResult<Step> {
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
            return Ok(held);
        }
        let mut step = held.clone();
        step.status = status;
        step.status_changed_at = self.now();
        step.status_changed_by = actor.account;
        step.version = held.version + 1;
        step.updated_at = self.now();
        let event = self.event(
            actor,
            id,
            Some(step_id),
            "step.status_changed",
            serde_json::json!({ "from": held.status.as_str(), "to": status.as_str() }),
        );
        self.ports
            .plans
            .update_step(&step, held.version, &[event])
            .await
            .map_err(|e| conflict_as(e, "step.version_changed"))?;
        self.tell_other_side(actor, &access.plan, PersonNotice::StepChanged)
            .await?;
        Ok(step)
    }

    /// Puts the plan's steps in the given order (every step exactly once).
    pub async fn reorder_steps(
        &self,
        actor: &Actor,
        id: PlanId,
        order: &[StepId],
    ) -> CoreResult<Vec<Step>> {
        let access = self.access(actor, id, Action::EditPlan).await?;
        if access.plan.status == PlanStatus::Closed {
            return Err(CoreError::Conflict("plan.closed"));
        }
        let event = self.event(
            actor,
            id,
            None,
            "steps.reordered",
            serde_json::json!({ "order": order }),
        );
        self.ports
            .plans
            .reorder_steps(id, order, &event)
            .await
            .map_err(|e| conflict_as(e, "steps.order_mismatch"))?;
        let mut steps = self.ports.plans.steps(id).await?;
        if !Self::rights(actor.role, access.standing.relation).private_notes {
            steps.iter_mut().for_each(|s| s.private_note = None);
        }
        Ok(steps)
    }

    // ----- message threads ------------------------------------------------------------

    pub async fn messages(
        &self,
        actor: &Actor,
        id: PlanId,
        step_id: StepId,
    ) -> CoreResult<Vec<ThreadMessage>> {
        let access = self.access(actor, id, Action::DiscussStep).await?;
        self.step_of(&access.plan, step_id).await?;
        let messages = self.ports.plans.messages(step_id).await?;
        let mut names = Names::default();
        let mut thread = Vec::with_capacity(messages.len());
        for message in messages {
            let author_name = names.of(self, message.author).await?;
            thread.push(ThreadMessage {
                message,
                author_name,
            });
        }
        Ok(thread)
    }

    /// The person asks a question on a step, or a worker answers; the other side is told.
    pub async fn post_message(
        &self,
        actor: &Actor,
        id: PlanId,
        step_id: StepId,
        body: &str,
    ) -> CoreResult<ThreadMessage> {
        let access = self.access(actor, id, Action::DiscussStep).await?;
        self.step_of(&access.plan, step_id).await?;
        let body = check_message(body)?;
        let message = StepMessage {
            id: StepMessageId::new(),
            plan: id,
            step: step_id,
            author: actor.account,
            author_role: actor.role,
            body,
            at: self.now(),
        };
        let event = self.event(
            actor,
            id,
            Some(step_id),
            "step.message_posted",
            serde_json::json!({ "message": message.id }),
        );
        self.ports.plans.add_message(&message, &event).await?;
        self.tell_other_side(actor, &access.plan, PersonNotice::Message)
            .await?;
        let author_name = self
            .ports
            .accounts
            .account(actor.account)
            .await?
            .display_name
            .as_str()
            .to_owned();
        Ok(ThreadMessage {
            message,
            author_name,
        })
    }

    // ----- history --------------------------------------------------------------------

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

    // ----- reminders ------------------------------------------------------------------

    /// Reminds persons of steps due within the configured number of days. Safe to run as
    /// often as one likes (a cron job): each due date is reminded once.
    pub async fn remind_due(&self) -> CoreResult<DueReport> {
        let now = self.now();
        let today = now.date_naive();
        let until = today + Duration::days(i64::from(self.settings.due_reminder_days));
        let steps = self.ports.plans.steps_due(today, until).await?;
        let mut report = DueReport::default();
        // One notice per person, with their soonest date.
        let mut soonest: HashMap<AccountId, chrono::NaiveDate> = HashMap::new();
        let mut plans: HashMap<PlanId, AccountId> = HashMap::new();
        for step in steps {
            let Some(due_on) = step.due_on else { continue };
            if !self
                .ports
                .plans
                .record_due_reminder(step.id, due_on, now)
                .await?
            {
                report.already_reminded += 1;
                continue;
            }
            let person = match plans.get(&step.plan) {
                Some(p) => *p,
                None => {
                    let p = self.ports.plans.plan(step.plan).await?.person;
                    plans.insert(step.plan, p);
                    p
                }
            };
            let entry = soonest.entry(person).or_insert(due_on);
            *entry = (*entry).min(due_on);
        }
        for (person, due_on) in soonest {
            let account = self.ports.accounts.account(person).await?;
            match self
                .channels
                .tell_person(&account, PersonNotice::DueSoon(due_on))
                .await
            {
                Delivery::Email | Delivery::Sms => report.reminded += 1,
                Delivery::NoChannel => report.no_channel += 1,
                Delivery::Failed => report.failed += 1,
            }
        }
        Ok(report)
    }
}

fn metadata(plan: &Plan, steps: usize) -> PlanMetadata {
    PlanMetadata {
        id: plan.id,
        person: plan.person,
        status: plan.status,
        steps,
        created_at: plan.created_at,
        updated_at: plan.updated_at,
    }
}

/// A person reads an offer like the public does: no professional-only contact.
fn redact_contact(mut offer: Offer) -> Offer {
    offer.content.professional_contact = None;
    offer
}

/// Display names looked up once per request.
#[derive(Default)]
struct Names(HashMap<AccountId, String>);

impl Names {
    async fn of(&mut self, plans: &Plans, id: AccountId) -> CoreResult<String> {
        if let Some(name) = self.0.get(&id) {
            return Ok(name.clone());
        }
        let name = match plans.ports.accounts.account(id).await {
            Ok(a) => a.display_name.as_str().to_owned(),
            Err(StoreError::NotFound) => String::new(),
            Err(e) => return Err(e.into()),
        };
        self.0.insert(id, name.clone());
        Ok(name)
    }
}
