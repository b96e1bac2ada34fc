//! A person's plan and its steps (démarches): what they are, who changed them, and the checks
//! on what a worker writes. Pure data and rules; the use cases live in `services::plans`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use super::step::{StepContent, StepTexts};
use super::templates::{DOCUMENT_KINDS, TemplateRef, WhoActs};
use crate::domain::*;
use crate::error::ValidationError;

pub const MAX_TITLE: usize = 200;
pub const MAX_EXPLANATION: usize = 4_000;
pub const MAX_TASKS: usize = 20;
pub const MAX_TASK: usize = 500;
pub const MAX_NOTE: usize = 4_000;
pub const MAX_MESSAGE: usize = 2_000;
pub const MAX_STEPS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Active,
    Closed,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Active => "active",
            PlanStatus::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Option<PlanStatus> {
        [PlanStatus::Active, PlanStatus::Closed]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// Where a step stands. Each change is kept in the plan's history with who made it and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Planned,
    InProgress,
    Done,
    AbandonedByPerson,
    CancelledByService,
    OnHold,
}

impl StepStatus {
    pub const ALL: [StepStatus; 6] = [
        StepStatus::Planned,
        StepStatus::InProgress,
        StepStatus::Done,
        StepStatus::AbandonedByPerson,
        StepStatus::CancelledByService,
        StepStatus::OnHold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Planned => "planned",
            StepStatus::InProgress => "in_progress",
            StepStatus::Done => "done",
            StepStatus::AbandonedByPerson => "abandoned_by_person",
            StepStatus::CancelledByService => "cancelled_by_service",
            StepStatus::OnHold => "on_hold",
        }
    }

    pub fn parse(raw: &str) -> Option<StepStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Still to be done: reminders of due dates concern these.
    pub fn is_open(self) -> bool {
        matches!(self, StepStatus::Planned | StepStatus::InProgress)
    }

    /// What the person may set themselves: they report their own progress or give up; only
    /// the service cancels or puts a step on hold.
    pub fn settable_by_person(self) -> bool {
        matches!(
            self,
            StepStatus::InProgress | StepStatus::Done | StepStatus::AbandonedByPerson
        )
    }
}

/// A person's plan: a titled list of steps, edited by their referent and the workers the
/// person allowed, read by the person and their helpers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: PlanId,
    pub person: AccountId,
    pub title: TranslatableText,
    pub status: PlanStatus,
    /// Workers besides the current referent whom the person allowed on this plan.
    pub workers: BTreeSet<AccountId>,
    pub created_by: AccountId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Optimistic concurrency: every write of the plan itself increases it.
    pub version: i64,
}

/// Where to go for a step: an offer of the catalogue (shown as it is now), or a place the
/// worker describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Orientation {
    Offer {
        offer: OfferId,
    },
    Place {
        name: String,
        #[serde(default)]
        address: Option<String>,
        #[serde(default)]
        phone: Option<String>,
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        url: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: StepId,
    pub plan: PlanId,
    /// 0-based order in the plan.
    pub position: u32,
    /// The template it follows, if any: its texts are read from the template for every field
    /// the worker did not adapt.
    pub template: Option<TemplateRef>,
    pub content: StepContent,
    pub who_acts: WhoActs,
    pub orientation: Option<Orientation>,
    pub due_on: Option<NaiveDate>,
    /// Wall-clock time at the place of the appointment.
    pub appointment_at: Option<NaiveDateTime>,
    /// Document kinds the step needs (the wallet's kinds).
    pub documents: Vec<String>,
    pub status: StepStatus,
    pub status_changed_at: DateTime<Utc>,
    pub status_changed_by: AccountId,
    /// For the workers of the plan only: never shown to the person or their helpers.
    pub private_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A message in a step's thread: the person's question, a worker's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepMessage {
    pub id: StepMessageId,
    pub plan: PlanId,
    pub step: StepId,
    pub author: AccountId,
    pub author_role: Role,
    pub body: String,
    pub at: DateTime<Utc>,
}

crate::domain::codes::stable_codes! {
    /// What a line of a plan's history records.
    pub enum PlanAction {
        PlanCreated = "plan.created",
        PlanUpdated = "plan.updated",
        PlanClosed = "plan.closed",
        PlanReopened = "plan.reopened",
        WorkerAllowed = "plan.worker_allowed",
        WorkerRemoved = "plan.worker_removed",
        StepAdded = "step.added",
        StepUpdated = "step.updated",
        StepStatusChanged = "step.status_changed",
        StepsReordered = "steps.reordered",
        MessagePosted = "step.message_posted",
        /// The collectivity corrected the template a step follows.
        TemplateCorrected = "step.template_corrected",
    }
}

/// One line of a plan's history: who did what, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanEvent {
    pub id: PlanEventId,
    pub plan: PlanId,
    pub step: Option<StepId>,
    pub at: DateTime<Utc>,
    pub actor: AccountId,
    pub actor_role: Role,
    pub action: PlanAction,
    /// Details by action: `fields` changed, `from`/`to` statuses, `worker`, `template`.
    pub detail: serde_json::Value,
    /// The messages this change causes, written to the outbox in the change's transaction.
    /// Not part of the history: always empty when read back.
    pub outbox: Vec<crate::outbox::OutboxMessage>,
}

impl PlanEvent {
    /// The fields an event says were changed.
    pub fn fields(&self) -> Vec<&str> {
        self.detail
            .get("fields")
            .and_then(|f| f.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default()
    }

    /// The event as the person and their helpers may see it: changes to the workers' private
    /// note are not theirs to see (`None` when nothing else changed).
    pub fn for_person(&self) -> Option<PlanEvent> {
        let fields = self.fields();
        if !fields.contains(&"private_note") {
            return Some(self.clone());
        }
        let kept: Vec<&str> = fields
            .into_iter()
            .filter(|f| *f != "private_note")
            .collect();
        if kept.is_empty() {
            return None;
        }
        let mut event = self.clone();
        event.detail["fields"] = serde_json::json!(kept);
        Some(event)
    }
}

/// What a worker writes for a new step or an edit; `None` leaves a field as it is (for a new
/// step from a template: the template's).
#[derive(Debug, Clone, Default)]
pub struct StepDraft {
    pub title: Option<String>,
    pub explanation: Option<String>,
    pub tasks: Option<Vec<String>>,
    pub who_acts: Option<WhoActs>,
    pub orientation: Option<Option<Orientation>>,
    pub due_on: Option<Option<NaiveDate>>,
    pub appointment_at: Option<Option<NaiveDateTime>>,
    pub documents: Option<Vec<String>>,
    pub private_note: Option<Option<String>>,
}

impl StepDraft {
    /// Whether the draft writes any of the step's texts.
    pub fn has_texts(&self) -> bool {
        self.title.is_some() || self.explanation.is_some() || self.tasks.is_some()
    }

    /// The draft's texts over `base`: a field the draft leaves out keeps `base`'s.
    pub fn texts_over(&self, base: StepTexts) -> StepTexts {
        StepTexts {
            title: self.title.clone().unwrap_or(base.title),
            explanation: self.explanation.clone().unwrap_or(base.explanation),
            tasks: self.tasks.clone().unwrap_or(base.tasks),
        }
    }
}

fn length(
    value: &str,
    max: usize,
    field: &'static str,
    code: &'static str,
    errors: &mut Vec<ValidationError>,
) {
    let n = value.chars().count();
    if n > max {
        errors.push(ValidationError::new(field, code).at(max + 1, None));
    }
}

/// Trims a plan title and checks it.
pub fn check_title(raw: &str) -> Result<String, ValidationError> {
    let title = raw.trim();
    if title.is_empty() {
        return Err(ValidationError::new("title", "plan.title.empty"));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(ValidationError::new("title", "plan.title.too_long"));
    }
    if crate::domain::check_shown_text(title).is_err() {
        return Err(ValidationError::new("title", "plan.title.invalid"));
    }
    Ok(title.to_owned())
}

/// Trims a step's French texts and checks them.
pub fn check_texts(texts: StepTexts, errors: &mut Vec<ValidationError>) -> StepTexts {
    let title = texts.title.trim().to_owned();
    if title.is_empty() {
        errors.push(ValidationError::new("title", "step.title.empty"));
    }
    length(&title, MAX_TITLE, "title", "step.title.too_long", errors);
    if crate::domain::check_shown_text(&title).is_err() {
        errors.push(ValidationError::new("title", "step.title.invalid"));
    }
    let explanation = texts.explanation.trim().to_owned();
    length(
        &explanation,
        MAX_EXPLANATION,
        "explanation",
        "step.explanation.too_long",
        errors,
    );
    let tasks: Vec<String> = texts
        .tasks
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    if tasks.len() > MAX_TASKS || tasks.iter().any(|t| t.chars().count() > MAX_TASK) {
        errors.push(ValidationError::new("tasks", "step.tasks.too_long"));
    }
    StepTexts {
        title,
        explanation,
        tasks,
    }
}

/// Checks document kinds against the wallet's list; keeps the order, drops repeats.
pub fn check_documents(kinds: Vec<String>, errors: &mut Vec<ValidationError>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut kept = Vec::new();
    for kind in kinds {
        let kind = kind.trim().to_owned();
        if !DOCUMENT_KINDS.contains(&kind.as_str()) {
            errors.push(
                ValidationError::new("documents", "step.documents.unknown_kind").at(0, Some(kind)),
            );
        } else if seen.insert(kind.clone()) {
            kept.push(kind);
        }
    }
    kept
}

/// Trims a free place and checks its contact details.
pub fn check_orientation(
    orientation: Orientation,
    errors: &mut Vec<ValidationError>,
) -> Orientation {
    match orientation {
        Orientation::Offer { offer } => Orientation::Offer { offer },
        Orientation::Place {
            name,
            address,
            phone,
            email,
            url,
        } => {
            let trim = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
            let name = name.trim().to_owned();
            if name.is_empty() {
                errors.push(ValidationError::new(
                    "orientation.name",
                    "step.orientation.name_empty",
                ));
            }
            length(
                &name,
                MAX_TITLE,
                "orientation.name",
                "step.orientation.too_long",
                errors,
            );
            let address = trim(address);
            if let Some(a) = &address {
                length(
                    a,
                    MAX_TASK,
                    "orientation.address",
                    "step.orientation.too_long",
                    errors,
                );
            }
            let phone = trim(phone).map(|raw| match Phone::parse(&raw) {
                Ok(phone) => phone.into(),
                Err(_) => {
                    errors.push(ValidationError::new(
                        "orientation.phone",
                        "step.orientation.phone_invalid",
                    ));
                    raw
                }
            });
            let email = trim(email).map(|e| e.to_lowercase());
            if email.as_deref().is_some_and(|e| Email::parse(e).is_err()) {
                errors.push(ValidationError::new(
                    "orientation.email",
                    "step.orientation.email_invalid",
                ));
            }
            let url = trim(url).map(|raw| match WebUrl::parse(&raw) {
                Ok(url) => url.into(),
                Err(_) => {
                    errors.push(ValidationError::new(
                        "orientation.url",
                        "step.orientation.url_invalid",
                    ));
                    raw
                }
            });
            Orientation::Place {
                name,
                address,
                phone,
                email,
                url,
            }
        }
    }
}

/// Trims a private note or message body and checks its length; `None` when empty.
pub fn check_note(raw: Option<String>, errors: &mut Vec<ValidationError>) -> Option<String> {
    let note = raw.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty())?;
    length(
        &note,
        MAX_NOTE,
        "private_note",
        "step.private_note.too_long",
        errors,
    );
    Some(note)
}

pub fn check_message(raw: &str) -> Result<String, ValidationError> {
    let body = raw.trim();
    if body.is_empty() {
        return Err(ValidationError::new("body", "step.message.empty"));
    }
    if body.chars().count() > MAX_MESSAGE {
        return Err(ValidationError::new("body", "step.message.too_long"));
    }
    Ok(body.to_owned())
}

/// An appointment before the plan exists or decades away is a typing error.
pub fn check_dates(
    due_on: Option<NaiveDate>,
    appointment_at: Option<NaiveDateTime>,
    today: NaiveDate,
    errors: &mut Vec<ValidationError>,
) {
    let plausible = |d: NaiveDate| {
        d >= today - chrono::Duration::days(366) && d <= today + chrono::Duration::days(5 * 366)
    };
    if due_on.is_some_and(|d| !plausible(d)) {
        errors.push(ValidationError::new("due_on", "step.date.out_of_range"));
    }
    if appointment_at.is_some_and(|a| !plausible(a.date())) {
        errors.push(ValidationError::new(
            "appointment_at",
            "step.date.out_of_range",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_person_limits() {
        for s in StepStatus::ALL {
            assert_eq!(StepStatus::parse(s.as_str()), Some(s));
        }
        assert!(StepStatus::Done.settable_by_person());
        assert!(!StepStatus::CancelledByService.settable_by_person());
        assert!(!StepStatus::OnHold.settable_by_person());
        assert!(StepStatus::InProgress.is_open() && !StepStatus::Done.is_open());
    }

    #[test]
    fn a_changed_title_shows_french_until_translated_again() {
        let mut title = TranslatableText::new(String::from("Logement"));
        title.translate("ar", "السكن".into(), Provenance::Machine);
        assert_eq!(
            title.localized("ar"),
            Localized::as_is("السكن", "ar", Provenance::Machine)
        );
        title.set_french("Trouver un logement".into());
        assert_eq!(
            title.localized("ar"),
            Localized::french("Trouver un logement", "ar")
        );
        assert!(title.localized("ar").fallback);
        assert!(!title.is_current_in("ar") && title.is_current_in("fr"));
        assert!(!title.localized("fr").fallback);
    }

    #[test]
    fn private_note_changes_are_hidden_from_the_person() {
        let event = |fields: serde_json::Value| PlanEvent {
            id: PlanEventId::new(),
            plan: PlanId::new(),
            step: None,
            at: Utc::now(),
            actor: AccountId::new(),
            actor_role: Role::Worker,
            action: PlanAction::StepUpdated,
            detail: serde_json::json!({ "fields": fields }),
            outbox: Vec::new(),
        };
        assert!(
            event(serde_json::json!(["private_note"]))
                .for_person()
                .is_none()
        );
        let mixed = event(serde_json::json!(["title", "private_note"]))
            .for_person()
            .unwrap();
        assert_eq!(mixed.fields(), vec!["title"]);
    }

    #[test]
    fn worker_input_is_checked() {
        let mut errors = Vec::new();
        let texts = check_texts(
            StepTexts {
                title: "  ".into(),
                explanation: "x".repeat(MAX_EXPLANATION + 1),
                tasks: vec![" a ".into(), "".into()],
            },
            &mut errors,
        );
        assert_eq!(texts.tasks, vec!["a"]);
        let codes: Vec<_> = errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, vec!["step.title.empty", "step.explanation.too_long"]);

        let mut errors = Vec::new();
        let kinds = check_documents(
            vec!["identity".into(), "identity".into(), "selfie".into()],
            &mut errors,
        );
        assert_eq!(kinds, vec!["identity"]);
        assert_eq!(errors[0].code, "step.documents.unknown_kind");

        let mut errors = Vec::new();
        check_orientation(
            Orientation::Place {
                name: "CCAS".into(),
                address: None,
                phone: Some("call me".into()),
                email: Some("nope".into()),
                url: Some("javascript:alert(1)".into()),
            },
            &mut errors,
        );
        let codes: Vec<_> = errors.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            vec![
                "step.orientation.phone_invalid",
                "step.orientation.email_invalid",
                "step.orientation.url_invalid"
            ]
        );
        // The same rules as an offer's contact: a link must name a host.
        let mut errors = Vec::new();
        let place = check_orientation(
            Orientation::Place {
                name: "CCAS".into(),
                address: None,
                phone: Some(" 03 86 00 00 00 ".into()),
                email: None,
                url: Some("https://localhost".into()),
            },
            &mut errors,
        );
        let codes: Vec<_> = errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, vec!["step.orientation.url_invalid"]);
        let Orientation::Place { phone, .. } = place else {
            unreachable!()
        };
        assert_eq!(phone.as_deref(), Some("03 86 00 00 00"));
        assert!(check_message("  ").is_err());
        assert_eq!(check_title(" Logement ").unwrap(), "Logement");
    }
}
