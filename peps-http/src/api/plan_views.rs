//! How plans read over HTTP: every text in the reader's language with its language, writing
//! direction, provenance and a visible fallback, the French original one tap away.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use poem_openapi::{Enum, Object, Union};
use uuid::Uuid;

use std::collections::BTreeMap;

use peps_core::catalogue::Offer;
use peps_core::domain::Localized;
use peps_core::domain::{Direction, Language, OfferId};
use peps_core::i18n;
use peps_core::plans::{Orientation, PlanEvent, PlanStatus, Step, StepStatus, WhoActs};
use peps_core::services::{
    HistoryLine, PlanDetail, PlanListing, PlanMetadata, PlanRights, ThreadMessage,
};

pub fn direction(code: &str) -> &'static str {
    match Language::parse(code).map_or(Direction::Ltr, |l| l.direction()) {
        Direction::Rtl => "rtl",
        Direction::Ltr => "ltr",
    }
}

/// One text in the reader's language, or the French with `fallback` set.
#[derive(Object, Debug)]
pub struct LocalizedText {
    pub value: String,
    /// The language `value` is in.
    pub language: String,
    /// `ltr` or `rtl`.
    pub direction: String,
    /// `original`, `human_reviewed` or `machine` (show "machine-translated" with the French
    /// one tap away).
    pub provenance: String,
    /// The reader's language has no current translation: this is the French.
    pub fallback: bool,
}

fn localized(read: Localized<'_, str>) -> LocalizedText {
    LocalizedText {
        value: read.value.to_owned(),
        language: read.language.to_owned(),
        direction: direction(read.language).to_owned(),
        provenance: read.provenance.as_str().to_owned(),
        fallback: read.fallback,
    }
}

#[derive(Object, Debug)]
pub struct LocalizedTasks {
    pub values: Vec<String>,
    pub language: String,
    pub direction: String,
    pub provenance: String,
    pub fallback: bool,
}

/// The French a step was written in, shown beside a translation.
#[derive(Object, Debug)]
pub struct FrenchTexts {
    pub title: String,
    pub explanation: String,
    pub tasks: Vec<String>,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum StepStatusName {
    Planned,
    InProgress,
    Done,
    AbandonedByPerson,
    CancelledByService,
    OnHold,
}

impl From<StepStatusName> for StepStatus {
    fn from(s: StepStatusName) -> Self {
        match s {
            StepStatusName::Planned => StepStatus::Planned,
            StepStatusName::InProgress => StepStatus::InProgress,
            StepStatusName::Done => StepStatus::Done,
            StepStatusName::AbandonedByPerson => StepStatus::AbandonedByPerson,
            StepStatusName::CancelledByService => StepStatus::CancelledByService,
            StepStatusName::OnHold => StepStatus::OnHold,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum WhoActsName {
    Person,
    Referent,
    Helper,
}

impl From<WhoActsName> for WhoActs {
    fn from(w: WhoActsName) -> Self {
        match w {
            WhoActsName::Person => WhoActs::Person,
            WhoActsName::Referent => WhoActs::Referent,
            WhoActsName::Helper => WhoActs::Helper,
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum PlanStatusName {
    Active,
    Closed,
}

impl From<PlanStatusName> for PlanStatus {
    fn from(s: PlanStatusName) -> Self {
        match s {
            PlanStatusName::Active => PlanStatus::Active,
            PlanStatusName::Closed => PlanStatus::Closed,
        }
    }
}

/// Where to go: a catalogue offer as it is now, or a place the worker described.
#[derive(Object, Debug)]
pub struct OrientationView {
    /// `offer` or `place`.
    pub kind: String,
    pub offer_id: Option<Uuid>,
    /// False when the offer is no longer published: ask the referent.
    pub available: bool,
    pub name: Option<String>,
    pub organisation: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub url: Option<String>,
}

/// `offers`: the catalogue offers as they are now (`None`: no longer published).
pub fn orientation_view(orientation: &Orientation, offers: &Offers) -> OrientationView {
    match orientation {
        Orientation::Offer { offer } => {
            let found = offers.get(offer).and_then(Option::as_ref);
            let location = found.and_then(|o| o.content.locations.first());
            OrientationView {
                kind: "offer".into(),
                offer_id: Some(offer.0),
                available: found.is_some(),
                name: found.map(|o| o.content.title.clone()),
                organisation: found.map(|o| o.organisation_name.clone()),
                address: location.map(|l| {
                    [
                        l.address.as_deref(),
                        l.address_complement.as_deref(),
                        l.postcode.as_deref(),
                        l.commune.as_deref(),
                    ]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
                }),
                phone: found.and_then(|o| o.content.contact.phone.clone()),
                email: found.and_then(|o| o.content.contact.email.clone()),
                url: found.and_then(|o| o.content.website.clone()),
            }
        }
        Orientation::Place {
            name,
            address,
            phone,
            email,
            url,
        } => OrientationView {
            kind: "place".into(),
            offer_id: None,
            available: true,
            name: Some(name.clone()),
            organisation: None,
            address: address.clone(),
            phone: phone.clone(),
            email: email.clone(),
            url: url.clone(),
        },
    }
}

#[derive(Object, Debug)]
pub struct DocumentNeed {
    /// The wallet's document kind code.
    pub kind: String,
    /// Its name in the reader's language.
    pub label: String,
}

#[derive(Object, Debug)]
pub struct StepView {
    pub id: Uuid,
    pub position: u32,
    /// Send it back in `If-Match` when editing the step (it is also the `ETag` of the step's
    /// writes).
    pub version: i64,
    pub template_id: Option<String>,
    pub who_acts: String,
    pub status: String,
    pub status_label: String,
    pub status_changed_at: DateTime<Utc>,
    pub status_changed_by: Uuid,
    pub title: LocalizedText,
    pub explanation: LocalizedText,
    pub tasks: LocalizedTasks,
    /// The French original, when some text above is a translation.
    pub french: Option<FrenchTexts>,
    pub orientation: Option<OrientationView>,
    pub due_on: Option<NaiveDate>,
    /// Local time at the place.
    pub appointment_at: Option<NaiveDateTime>,
    pub documents: Vec<DocumentNeed>,
    /// Only for the workers of the plan.
    pub private_note: Option<String>,
}

/// The offers a plan's steps point to, as the core read them.
pub type Offers = BTreeMap<OfferId, Option<Offer>>;

pub fn step_view(step: &Step, language: &str, offers: &Offers) -> StepView {
    let read = step.content.localized(language);
    let translated = read.title.language != Language::REFERENCE
        || read.explanation.language != Language::REFERENCE
        || read.tasks.language != Language::REFERENCE;
    StepView {
        id: step.id.0,
        position: step.position,
        version: step.version,
        template_id: step.template.as_ref().map(|t| t.id.clone()),
        who_acts: step.who_acts.as_str().to_owned(),
        status: step.status.as_str().to_owned(),
        status_label: i18n::text(&format!("plans.status.{}", step.status.as_str()), language),
        status_changed_at: step.status_changed_at,
        status_changed_by: step.status_changed_by.0,
        title: localized(read.title),
        explanation: localized(read.explanation),
        tasks: LocalizedTasks {
            values: read.tasks.value.to_vec(),
            language: read.tasks.language.to_owned(),
            direction: direction(read.tasks.language).to_owned(),
            provenance: read.tasks.provenance.as_str().to_owned(),
            fallback: read.tasks.fallback,
        },
        french: translated.then(|| FrenchTexts {
            title: step.content.french_title().to_owned(),
            explanation: step.content.french_explanation().to_owned(),
            tasks: step.content.french_tasks().to_vec(),
        }),
        orientation: step
            .orientation
            .as_ref()
            .map(|o| orientation_view(o, offers)),
        due_on: step.due_on,
        appointment_at: step.appointment_at,
        documents: step
            .documents
            .iter()
            .map(|kind| DocumentNeed {
                kind: kind.clone(),
                label: i18n::text(&format!("documents.kind.{kind}"), language),
            })
            .collect(),
        private_note: step.private_note.clone(),
    }
}

#[derive(Object, Debug)]
pub struct RightsView {
    pub edit: bool,
    pub private_notes: bool,
    pub report_progress: bool,
    pub discuss: bool,
    pub allow_workers: bool,
}

impl From<PlanRights> for RightsView {
    fn from(r: PlanRights) -> Self {
        Self {
            edit: r.edit,
            private_notes: r.private_notes,
            report_progress: r.report_progress,
            discuss: r.discuss,
            allow_workers: r.allow_workers,
        }
    }
}

/// A plan as its readers see it.
#[derive(Object, Debug)]
pub struct PlanView {
    pub id: Uuid,
    pub person_id: Uuid,
    pub person_name: String,
    pub status: String,
    /// Also the plan's `ETag`: send it back in `If-Match` when renaming, closing or reopening
    /// the plan.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The language asked for.
    pub language: String,
    pub direction: String,
    pub title: LocalizedText,
    pub french_title: String,
    /// Workers the person allowed onto the plan, besides the referent.
    pub worker_ids: Vec<Uuid>,
    /// What the reader may do.
    pub rights: RightsView,
    pub steps: Vec<StepView>,
}

pub fn plan_view(detail: &PlanDetail, language: &Language) -> PlanView {
    let code = language.code();
    PlanView {
        id: detail.plan.id.0,
        person_id: detail.plan.person.0,
        person_name: detail.person.display_name.as_str().to_owned(),
        status: detail.plan.status.as_str().to_owned(),
        version: detail.plan.version,
        created_at: detail.plan.created_at,
        updated_at: detail.plan.updated_at,
        language: code.to_owned(),
        direction: direction(code).to_owned(),
        title: localized(detail.plan.title.localized(code)),
        french_title: detail.plan.title.french.clone(),
        worker_ids: detail.plan.workers.iter().map(|w| w.0).collect(),
        rights: detail.rights.into(),
        steps: detail
            .steps
            .iter()
            .map(|s| step_view(s, code, &detail.offers))
            .collect(),
    }
}

/// What an admin sees: the plan exists, whose it is, its state. No content.
#[derive(Object, Debug)]
pub struct PlanMetadataView {
    pub id: Uuid,
    pub person_id: Uuid,
    pub status: String,
    pub steps: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<PlanMetadata> for PlanMetadataView {
    fn from(m: PlanMetadata) -> Self {
        Self {
            id: m.id.0,
            person_id: m.person.0,
            status: m.status.as_str().to_owned(),
            steps: u32::try_from(m.steps).unwrap_or(u32::MAX),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A plan in full, or its metadata only (admins).
// Built once per response and serialised at once: the size difference costs nothing, and
// poem-openapi's unions take objects, not boxes.
#[allow(clippy::large_enum_variant)]
#[derive(Union, Debug)]
#[oai(discriminator_name = "view")]
pub enum PlanReading {
    #[oai(mapping = "full")]
    Full(PlanView),
    #[oai(mapping = "metadata")]
    Metadata(PlanMetadataView),
}

/// A plan in a list.
#[derive(Object, Debug)]
pub struct PlanSummaryView {
    pub id: Uuid,
    pub person_id: Uuid,
    pub status: String,
    /// Absent for admins.
    pub title: Option<LocalizedText>,
    pub steps: u32,
    /// Steps done (absent for admins).
    pub done: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn summary_view(listing: &PlanListing, language: &str) -> PlanSummaryView {
    match listing {
        PlanListing::Readable(s) => PlanSummaryView {
            id: s.plan.id.0,
            person_id: s.plan.person.0,
            status: s.plan.status.as_str().to_owned(),
            title: Some(localized(s.plan.title.localized(language))),
            steps: u32::try_from(s.steps).unwrap_or(u32::MAX),
            done: Some(u32::try_from(s.done).unwrap_or(u32::MAX)),
            created_at: s.plan.created_at,
            updated_at: s.plan.updated_at,
        },
        PlanListing::Metadata(m) => PlanSummaryView {
            id: m.id.0,
            person_id: m.person.0,
            status: m.status.as_str().to_owned(),
            title: None,
            steps: u32::try_from(m.steps).unwrap_or(u32::MAX),
            done: None,
            created_at: m.created_at,
            updated_at: m.updated_at,
        },
    }
}

/// One line of a plan's history.
#[derive(Object, Debug)]
pub struct HistoryEntryView {
    pub at: DateTime<Utc>,
    pub actor_id: Uuid,
    pub actor_name: String,
    /// `person`, `worker`, `helper`…
    pub actor_role: String,
    /// `plan.created`, `step.added`, `step.status_changed`, …
    pub action: String,
    pub step_id: Option<Uuid>,
    /// Fields changed (`title`, `due_on`…), when the action is an edit.
    pub fields: Vec<String>,
    /// For status changes.
    pub from_status: Option<String>,
    pub to_status: Option<String>,
}

pub fn history_view(line: &HistoryLine) -> HistoryEntryView {
    let e: &PlanEvent = &line.event;
    let text = |key: &str| {
        e.detail
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    HistoryEntryView {
        at: e.at,
        actor_id: e.actor.0,
        actor_name: line.actor_name.clone(),
        actor_role: e.actor_role.as_str().to_owned(),
        action: e.action.as_str().to_owned(),
        step_id: e.step.map(|s| s.0),
        fields: e.fields().into_iter().map(str::to_owned).collect(),
        from_status: text("from"),
        to_status: text("to"),
    }
}

#[derive(Object, Debug)]
pub struct MessageView {
    pub id: Uuid,
    pub author_id: Uuid,
    pub author_name: String,
    pub author_role: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

impl From<ThreadMessage> for MessageView {
    fn from(m: ThreadMessage) -> Self {
        Self {
            id: m.message.id.0,
            author_id: m.message.author.0,
            author_name: m.author_name,
            author_role: m.message.author_role.as_str().to_owned(),
            body: m.message.body,
            at: m.message.at,
        }
    }
}
