//! What a person (by email, else by text message) and the workers of a plan (by email) are
//! told when something happens on it, each in their language. Notices name no step and no
//! plan title: an email or a phone is often shared, and "apply for the AAH" says too much.
//!
//! Nothing is sent from here: the messages are written to the outbox with the change that
//! causes them (on its history line), or queued by a scheduled job, and the outbox's sender
//! delivers them ([`super::outbox::Outbox`]). A provider that is down never undoes a change
//! nor loses its notice.

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;

use crate::clock::Clock;
use crate::domain::Account;
use crate::error::CoreResult;
use crate::i18n;
use crate::outbox::{OutboxMessage, Recipient};
use crate::ports::OutboxRepository;

/// Makes the messages of notices and alerts, and queues those of scheduled jobs.
#[derive(Clone)]
pub struct Notices {
    outbox: Arc<dyn OutboxRepository>,
    clock: Arc<dyn Clock>,
}

/// What a person is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonNotice {
    NewStep,
    StepChanged,
    Message,
    DueSoon(NaiveDate),
    /// A step's appointment is near (`%{date}`, `%{time}` in the person's time zone).
    Appointment(DateTime<chrono_tz::Tz>),
    /// A worker or helper put a document in the person's wallet.
    DocumentAdded,
    /// A worker asks for documents.
    DocumentsRequested,
    /// A document's validity ends on that date.
    DocumentExpiring(NaiveDate),
}

impl PersonNotice {
    /// The notice's i18n keys: `{area}.notice.{key}.subject|body` and `{area}.sms.{key}`.
    fn key(self) -> (&'static str, &'static str) {
        match self {
            PersonNotice::NewStep => ("plans", "new_step"),
            PersonNotice::StepChanged => ("plans", "step_changed"),
            PersonNotice::Message => ("plans", "message"),
            PersonNotice::DueSoon(_) => ("plans", "due_soon"),
            PersonNotice::Appointment(_) => ("plans", "appointment"),
            PersonNotice::DocumentAdded => ("wallet", "document_added"),
            PersonNotice::DocumentsRequested => ("wallet", "documents_requested"),
            PersonNotice::DocumentExpiring(_) => ("wallet", "document_expiring"),
        }
    }

    /// The template name the outbox records (`plans.new_step`).
    pub fn purpose(self) -> String {
        let (area, key) = self.key();
        format!("{area}.{key}")
    }

    /// An appointment is told by text message first when the person has a phone: it is read
    /// at once, where an email may wait for days.
    fn prefers_sms(self) -> bool {
        matches!(self, PersonNotice::Appointment(_))
    }
}

/// What a person must know at once, by every channel they have: someone else set their
/// password, or opened a path to their papers for them at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    /// A worker or an admin issued a code that resets the password (`%{worker}`).
    PasswordReset,
    /// A worker recorded at the counter the person's consent (given on `%{date}`) to a path to
    /// their papers: the worker's own access, or a helper's wallet mandate (`%{worker}`).
    PathOpenedAtCounter,
}

impl Alert {
    pub const ALL: [Alert; 2] = [Alert::PasswordReset, Alert::PathOpenedAtCounter];

    fn key(self) -> (&'static str, &'static str) {
        match self {
            Alert::PasswordReset => ("account", "password_reset"),
            Alert::PathOpenedAtCounter => ("wallet", "path_opened"),
        }
    }

    /// The template name the outbox records (`account.password_reset`).
    pub fn purpose(self) -> String {
        let (area, key) = self.key();
        format!("{area}.{key}")
    }

    /// The alert's text in `language`, as sent by email.
    pub fn body(self, language: &str, args: &[(&str, &str)]) -> String {
        let (area, key) = self.key();
        i18n::text_with(&format!("{area}.notice.{key}.body"), language, args)
    }
}

/// Whether an outbox message is an alert: alerts go out whatever the person's text-message
/// choice and rate cap (they say someone else acted on the person's account).
pub fn is_alert(purpose: &str) -> bool {
    Alert::ALL.iter().any(|a| a.purpose() == purpose)
}

/// How an alert goes out, its messages, and its text in the person's language (for the
/// counter to print and hand over when the person has no channel, or to read to them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertOutcome {
    pub deliveries: Vec<Delivery>,
    pub text: String,
    pub messages: Vec<OutboxMessage>,
}

/// How a notice will reach its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Email,
    Sms,
    /// No email, and no phone or no text messages wanted: the referent tells the person at
    /// the next meeting.
    NoChannel,
}

/// A notice's messages (none, or one) and the channel they take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonMessages {
    pub delivery: Delivery,
    pub messages: Vec<OutboxMessage>,
}

impl Notices {
    pub fn new(outbox: Arc<dyn OutboxRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { outbox, clock }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The message telling `person` of `notice`: by email when they have one (by text
    /// message first for an appointment), else by text message unless they asked for none.
    pub async fn to_person(
        &self,
        person: &Account,
        notice: PersonNotice,
    ) -> CoreResult<PersonMessages> {
        let lang = person.language.code();
        let (date, time) = match notice {
            PersonNotice::DueSoon(d) | PersonNotice::DocumentExpiring(d) => {
                (i18n::format_date(d, lang), String::new())
            }
            PersonNotice::Appointment(at) => (
                i18n::format_date(at.date_naive(), lang),
                at.format("%H:%M").to_string(),
            ),
            _ => (String::new(), String::new()),
        };
        let args = [("date", date.as_str()), ("time", time.as_str())];
        let (area, key) = notice.key();
        let purpose = notice.purpose();
        let sms_allowed = person.phone.is_some() && !self.outbox.sms_opted_out(person.id).await?;
        let by_sms = sms_allowed && (person.email.is_none() || notice.prefers_sms());
        let (delivery, recipient, body) = match (&person.email, &person.phone) {
            (_, Some(phone)) if by_sms => (
                Delivery::Sms,
                Recipient::Sms { to: phone.clone() },
                i18n::text_with(&format!("{area}.sms.{key}"), lang, &args),
            ),
            (Some(email), _) => (
                Delivery::Email,
                Recipient::Email {
                    to: email.clone(),
                    subject: i18n::text_with(&format!("{area}.notice.{key}.subject"), lang, &args),
                },
                i18n::text_with(&format!("{area}.notice.{key}.body"), lang, &args),
            ),
            _ => {
                return Ok(PersonMessages {
                    delivery: Delivery::NoChannel,
                    messages: Vec::new(),
                });
            }
        };
        Ok(PersonMessages {
            delivery,
            messages: vec![OutboxMessage::new(
                recipient,
                person.language.clone(),
                body,
                Some(person.id),
                purpose,
                self.now(),
            )],
        })
    }

    /// Alerts the person by email *and* by text message (each they have): an alert must
    /// reach them even when one channel is read by someone else.
    pub fn alert(&self, person: &Account, alert: Alert, args: &[(&str, &str)]) -> AlertOutcome {
        let lang = person.language.code();
        let (area, key) = alert.key();
        let body = alert.body(lang, args);
        let mut deliveries = Vec::new();
        let mut messages = Vec::new();
        if let Some(email) = &person.email {
            deliveries.push(Delivery::Email);
            messages.push(OutboxMessage::new(
                Recipient::Email {
                    to: email.clone(),
                    subject: i18n::text_with(&format!("{area}.notice.{key}.subject"), lang, args),
                },
                person.language.clone(),
                body.clone(),
                Some(person.id),
                alert.purpose(),
                self.now(),
            ));
        }
        if let Some(phone) = &person.phone {
            deliveries.push(Delivery::Sms);
            messages.push(OutboxMessage::new(
                Recipient::Sms { to: phone.clone() },
                person.language.clone(),
                i18n::text_with(&format!("{area}.sms.{key}"), lang, args),
                Some(person.id),
                alert.purpose(),
                self.now(),
            ));
        }
        if deliveries.is_empty() {
            deliveries.push(Delivery::NoChannel);
        }
        AlertOutcome {
            deliveries,
            text: body,
            messages,
        }
    }

    /// Tells the workers of a plan (those with an email) that the person moved a step on or
    /// wrote.
    pub fn to_workers(&self, workers: &[Account], person: &Account) -> Vec<OutboxMessage> {
        workers
            .iter()
            .filter_map(|worker| {
                let email = worker.email.as_ref()?;
                let lang = worker.language.code();
                let args = [("person", person.display_name.as_str())];
                Some(OutboxMessage::new(
                    Recipient::Email {
                        to: email.clone(),
                        subject: i18n::text_with("plans.notice.worker_update.subject", lang, &args),
                    },
                    worker.language.clone(),
                    i18n::text_with("plans.notice.worker_update.body", lang, &args),
                    None,
                    "plans.worker_update",
                    self.now(),
                ))
            })
            .collect()
    }

    /// Queues the messages of a scheduled job (reminders): those whose dedupe key is known
    /// are skipped, so a job run twice sends once. Returns how many were queued.
    pub async fn enqueue(&self, messages: &[OutboxMessage]) -> CoreResult<usize> {
        Ok(self.outbox.enqueue(messages).await?)
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::domain::*;
    use crate::testing::memory::MemoryStore;
    use chrono::TimeZone;

    fn person(email: Option<&str>, phone: Option<&str>, language: &str) -> Account {
        Account {
            id: AccountId::new(),
            role: Role::Person,
            login: Login::normalise("amina"),
            email: email.map(|e| Email::parse(e).unwrap()),
            phone: phone.map(|p| Phone::parse(p).unwrap()),
            display_name: DisplayName::parse("Amina").unwrap(),
            language: Language::parse(language).unwrap(),
            status: AccountStatus::Active,
            created_at: chrono::Utc::now(),
        }
    }

    fn notices() -> (Notices, Arc<MemoryStore>) {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        (Notices::new(store.clone(), clock), store)
    }

    #[tokio::test]
    async fn email_first_then_text_message_then_nothing_in_the_persons_language() {
        let (notices, store) = notices();
        let due = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let both = person(Some("amina@example.org"), Some("06 12 34 56 78"), "ar");
        let told = notices
            .to_person(&both, PersonNotice::NewStep)
            .await
            .unwrap();
        assert_eq!(told.delivery, Delivery::Email);
        match &told.messages[0].recipient {
            Recipient::Email { subject, .. } => {
                assert_eq!(subject, &i18n::text("plans.notice.new_step.subject", "ar"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(told.messages[0].purpose, "plans.new_step");
        assert_eq!(told.messages[0].person, Some(both.id));

        let phone_only = person(None, Some("06 12 34 56 78"), "ti");
        let told = notices
            .to_person(&phone_only, PersonNotice::DueSoon(due))
            .await
            .unwrap();
        assert_eq!(told.delivery, Delivery::Sms);
        assert_eq!(
            told.messages[0].body,
            i18n::text_with("plans.sms.due_soon", "ti", &[("date", "03/12/2026")])
        );
        assert!(told.messages[0].body.contains("03/12/2026"));

        let neither = person(None, None, "fr");
        let told = notices
            .to_person(&neither, PersonNotice::Message)
            .await
            .unwrap();
        assert_eq!(
            (told.delivery, told.messages.len()),
            (Delivery::NoChannel, 0)
        );

        // A person who asked for no text messages gets none; an email still goes.
        store
            .set_sms_opt_out(phone_only.id, true, chrono::Utc::now())
            .await
            .unwrap();
        let told = notices
            .to_person(&phone_only, PersonNotice::NewStep)
            .await
            .unwrap();
        assert_eq!(told.delivery, Delivery::NoChannel);
        store
            .set_sms_opt_out(both.id, true, chrono::Utc::now())
            .await
            .unwrap();
        let told = notices
            .to_person(&both, PersonNotice::NewStep)
            .await
            .unwrap();
        assert_eq!(told.delivery, Delivery::Email);
    }

    #[tokio::test]
    async fn an_appointment_goes_by_text_message_when_there_is_a_phone() {
        let (notices, _) = notices();
        let at = chrono_tz::Europe::Paris
            .with_ymd_and_hms(2026, 12, 4, 9, 30, 0)
            .unwrap();
        let both = person(Some("amina@example.org"), Some("06 12 34 56 78"), "fr");
        let told = notices
            .to_person(&both, PersonNotice::Appointment(at))
            .await
            .unwrap();
        assert_eq!(told.delivery, Delivery::Sms);
        assert!(
            told.messages[0].body.contains("04/12/2026"),
            "{}",
            told.messages[0].body
        );
        assert!(
            told.messages[0].body.contains("09:30"),
            "{}",
            told.messages[0].body
        );
        let mail_only = person(Some("amina@example.org"), None, "fr");
        let told = notices
            .to_person(&mail_only, PersonNotice::Appointment(at))
            .await
            .unwrap();
        assert_eq!(told.delivery, Delivery::Email);
    }

    #[test]
    fn alerts_go_by_every_channel_and_are_known_as_alerts() {
        let (notices, _) = notices();
        let both = person(Some("amina@example.org"), Some("06 12 34 56 78"), "fr");
        let outcome = notices.alert(&both, Alert::PasswordReset, &[("worker", "Camille")]);
        assert_eq!(outcome.deliveries, vec![Delivery::Email, Delivery::Sms]);
        assert_eq!(outcome.messages.len(), 2);
        assert!(outcome.messages.iter().all(|m| is_alert(&m.purpose)));
        assert!(!is_alert("plans.new_step"));
    }
}
