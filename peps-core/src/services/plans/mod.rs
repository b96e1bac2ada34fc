//! Step plans: a referent writes a person's plan from step templates or free text; the person
//! reads it in their language, reports progress and asks questions; every change is kept in
//! the plan's history.
//!
//! Access: the person, their current referent, workers the person allowed onto the plan and
//! helpers whose mandate covers `plans:read`. Admins see that a plan exists, never its
//! content. Anyone else, a former referent included, gets `NotFound`, as for a plan that
//! does not exist.

mod access;
mod plan_edits;
mod reading;
mod reminders;
mod steps;
mod templates;
mod threads;
mod translation;

pub use templates::{COLLECTIVITY, TemplateCorrections};

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::plan_notices::{Delivery, Notices, PersonNotice};
use super::relations::{self, Standing};
use super::stale_as;
use crate::catalogue::{Offer, Provenance};
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
    /// The catalogue itself in a server (its index answers), the store in tools and tests.
    pub offers: Arc<dyn PublishedOffers>,
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

    /// Steps' offers read from the catalogue's index instead of the store, one by one.
    pub fn with_catalogue(self, catalogue: Arc<crate::services::Catalogue>) -> Self {
        Self {
            offers: catalogue,
            ..self
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlanSettings {
    /// How many days before a step's due date the person is reminded.
    pub due_reminder_days: u32,
    /// How many days before an appointment the person is reminded (1: the day before);
    /// 0 turns appointment reminders off.
    pub appointment_reminder_days: u32,
    /// The time zone appointments are written in.
    pub timezone: chrono_tz::Tz,
}

impl Default for PlanSettings {
    fn default() -> Self {
        Self {
            due_reminder_days: 3,
            appointment_reminder_days: 1,
            timezone: chrono_tz::Europe::Paris,
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
    /// The names of the person's referents of now: whom to ask about the plan.
    pub referents: Vec<String>,
}

/// A step as the caller of a write reads it: private note only for the plan's workers, and the
/// catalogue offer it points to as it is now (`None` when no longer published).
#[derive(Debug, Clone)]
pub struct StepDetail {
    pub step: Step,
    pub offers: BTreeMap<OfferId, Option<Offer>>,
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

/// What `remind_due` did. Reminders are queued in the outbox, which sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DueReport {
    /// Persons reminded of a due date (one notice per person, whatever their number of
    /// steps due).
    pub reminded: u32,
    /// Steps whose due date was already reminded by an earlier run.
    pub already_reminded: u32,
    /// Appointments reminded (one notice each).
    pub appointments: u32,
    /// Appointments already reminded by an earlier run.
    pub appointments_already_reminded: u32,
    /// Persons with neither email nor phone (or no text messages wanted): their referent
    /// tells them.
    pub no_channel: u32,
}

pub struct Plans {
    ports: PlanPorts,
    templates: Arc<TemplateLibrary>,
    translator: Arc<dyn Translator>,
    channels: Notices,
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
        channels: Notices,
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

    /// Sets on each step the template it follows, so that the fields the worker did not adapt
    /// read the template's current texts.
    fn follow_templates<'a>(&self, steps: impl IntoIterator<Item = &'a mut Step>) {
        for step in steps {
            let template = step
                .template
                .as_ref()
                .and_then(|t| self.templates.shared(&t.id))
                .cloned();
            step.content.follow(template);
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn event(
        &self,
        actor: &Actor,
        plan: PlanId,
        step: Option<StepId>,
        action: PlanAction,
        detail: serde_json::Value,
    ) -> PlanEvent {
        PlanEvent {
            id: PlanEventId::new(),
            plan,
            step,
            at: self.now(),
            actor: actor.account,
            actor_role: actor.role,
            action,
            detail,
            outbox: Vec::new(),
        }
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

/// A plan shows an offer as the public sees it: no professional-only contact, and no street
/// or coordinates of a confidential place (the plan is read by the person and their helpers;
/// the referent gives such an address by hand, when it is time).
fn redact_contact(mut offer: Offer) -> Offer {
    offer.content.professional_contact = None;
    offer.content.withhold_confidential_places();
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
