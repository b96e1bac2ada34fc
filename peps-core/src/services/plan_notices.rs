//! Telling a person (by email, else by text message) and the workers of a plan (by email)
//! that something happened on it, in each one's language. Notices name no step and no plan
//! title: an email or a phone is often shared, and "apply for the AAH" says too much.
//! A notice that cannot be sent is logged and never undoes the change it reports.

use chrono::NaiveDate;
use std::sync::Arc;

use crate::domain::Account;
use crate::i18n;
use crate::ports::{Notification, Notifier, Sms, SmsSender};

/// The channels notices go out by.
#[derive(Clone)]
pub struct PlanChannels {
    pub email: Arc<dyn Notifier>,
    pub sms: Arc<dyn SmsSender>,
}

/// What a person is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonNotice {
    NewStep,
    StepChanged,
    Message,
    DueSoon(NaiveDate),
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
            PersonNotice::DocumentAdded => ("wallet", "document_added"),
            PersonNotice::DocumentsRequested => ("wallet", "documents_requested"),
            PersonNotice::DocumentExpiring(_) => ("wallet", "document_expiring"),
        }
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
    fn key(self) -> (&'static str, &'static str) {
        match self {
            Alert::PasswordReset => ("account", "password_reset"),
            Alert::PathOpenedAtCounter => ("wallet", "path_opened"),
        }
    }

    /// The alert's text in `language`, as sent by email.
    pub fn body(self, language: &str, args: &[(&str, &str)]) -> String {
        let (area, key) = self.key();
        i18n::text_with(&format!("{area}.notice.{key}.body"), language, args)
    }
}

/// How an alert went out, and its text in the person's language (for the counter to print
/// and hand over when the person has no channel, or to read to them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertOutcome {
    pub deliveries: Vec<Delivery>,
    pub text: String,
}

/// How a notice reached its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Email,
    Sms,
    /// No email and no phone: the referent tells the person at the next meeting.
    NoChannel,
    Failed,
}

impl PlanChannels {
    pub async fn tell_person(&self, person: &Account, notice: PersonNotice) -> Delivery {
        let lang = person.language.code();
        let date = match notice {
            PersonNotice::DueSoon(d) | PersonNotice::DocumentExpiring(d) => {
                crate::i18n::format_date(d, lang)
            }
            _ => String::new(),
        };
        let args = [("date", date.as_str())];
        let (area, key) = notice.key();
        let outcome = if let Some(email) = &person.email {
            let notification = Notification {
                reference: uuid::Uuid::new_v4().to_string(),
                to: email.clone(),
                language: person.language.clone(),
                subject: i18n::text_with(&format!("{area}.notice.{key}.subject"), lang, &args),
                body: i18n::text_with(&format!("{area}.notice.{key}.body"), lang, &args),
            };
            self.email
                .send(&notification)
                .await
                .map(|()| Delivery::Email)
        } else if let Some(phone) = &person.phone {
            let sms = Sms {
                reference: uuid::Uuid::new_v4().to_string(),
                to: phone.clone(),
                language: person.language.clone(),
                body: i18n::text_with(&format!("{area}.sms.{key}"), lang, &args),
            };
            self.sms.send(&sms).await.map(|()| Delivery::Sms)
        } else {
            Ok(Delivery::NoChannel)
        };
        outcome.unwrap_or_else(|e| {
            tracing::warn!(error = %e, notice = key, "plan notice to a person not sent");
            Delivery::Failed
        })
    }

    /// Alerts the person by email *and* by text message (each they have): an alert must
    /// reach them even when one channel is read by someone else.
    pub async fn alert_person(
        &self,
        person: &Account,
        alert: Alert,
        args: &[(&str, &str)],
    ) -> AlertOutcome {
        let lang = person.language.code();
        let (area, key) = alert.key();
        let body = alert.body(lang, args);
        let mut deliveries = Vec::new();
        if let Some(email) = &person.email {
            let notification = Notification {
                reference: uuid::Uuid::new_v4().to_string(),
                to: email.clone(),
                language: person.language.clone(),
                subject: i18n::text_with(&format!("{area}.notice.{key}.subject"), lang, args),
                body: body.clone(),
            };
            deliveries.push(match self.email.send(&notification).await {
                Ok(()) => Delivery::Email,
                Err(e) => {
                    tracing::warn!(error = %e, alert = key, "alert by email not sent");
                    Delivery::Failed
                }
            });
        }
        if let Some(phone) = &person.phone {
            let sms = Sms {
                reference: uuid::Uuid::new_v4().to_string(),
                to: phone.clone(),
                language: person.language.clone(),
                body: i18n::text_with(&format!("{area}.sms.{key}"), lang, args),
            };
            deliveries.push(match self.sms.send(&sms).await {
                Ok(()) => Delivery::Sms,
                Err(e) => {
                    tracing::warn!(error = %e, alert = key, "alert by text message not sent");
                    Delivery::Failed
                }
            });
        }
        if deliveries.is_empty() {
            deliveries.push(Delivery::NoChannel);
        }
        AlertOutcome {
            deliveries,
            text: body,
        }
    }

    /// Tells the workers of a plan that the person moved a step on or wrote.
    pub async fn tell_workers(&self, workers: &[Account], person: &Account) {
        for worker in workers {
            let Some(email) = &worker.email else { continue };
            let lang = worker.language.code();
            let args = [("person", person.display_name.as_str())];
            let notification = Notification {
                reference: uuid::Uuid::new_v4().to_string(),
                to: email.clone(),
                language: worker.language.clone(),
                subject: i18n::text_with("plans.notice.worker_update.subject", lang, &args),
                body: i18n::text_with("plans.notice.worker_update.body", lang, &args),
            };
            if let Err(e) = self.email.send(&notification).await {
                tracing::warn!(error = %e, "plan notice to a worker not sent");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;
    use crate::ports::NotifyError;
    use async_trait::async_trait;
    use std::sync::Mutex;

    /// Stands for the outside world's mail and SMS gateways: keeps what it was given.
    #[derive(Default)]
    struct Outbox {
        emails: Mutex<Vec<Notification>>,
        texts: Mutex<Vec<Sms>>,
        fail: bool,
    }

    #[async_trait]
    impl Notifier for Outbox {
        async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
            if self.fail {
                return Err(NotifyError::transient("relay down"));
            }
            self.emails.lock().unwrap().push(n.clone());
            Ok(())
        }
    }

    #[async_trait]
    impl SmsSender for Outbox {
        async fn send(&self, sms: &Sms) -> Result<(), NotifyError> {
            self.texts.lock().unwrap().push(sms.clone());
            Ok(())
        }
    }

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

    #[tokio::test]
    async fn email_first_then_text_message_then_nothing_in_the_persons_language() {
        let outbox = Arc::new(Outbox::default());
        let channels = PlanChannels {
            email: outbox.clone(),
            sms: outbox.clone(),
        };
        let due = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let both = person(Some("amina@example.org"), Some("06 12 34 56 78"), "ar");
        assert_eq!(
            channels.tell_person(&both, PersonNotice::NewStep).await,
            Delivery::Email
        );
        let phone_only = person(None, Some("06 12 34 56 78"), "ti");
        assert_eq!(
            channels
                .tell_person(&phone_only, PersonNotice::DueSoon(due))
                .await,
            Delivery::Sms
        );
        let neither = person(None, None, "fr");
        assert_eq!(
            channels.tell_person(&neither, PersonNotice::Message).await,
            Delivery::NoChannel
        );
        let emails = outbox.emails.lock().unwrap();
        assert_eq!(
            emails[0].subject,
            i18n::text("plans.notice.new_step.subject", "ar")
        );
        let texts = outbox.texts.lock().unwrap();
        assert_eq!(texts[0].to, "06 12 34 56 78");
        assert!(texts[0].body.contains("03/12/2026"), "{}", texts[0].body);
        assert_eq!(
            texts[0].body,
            i18n::text_with("plans.sms.due_soon", "ti", &[("date", "03/12/2026")])
        );
    }

    #[tokio::test]
    async fn a_failed_notice_is_reported_not_raised() {
        let outbox = Arc::new(Outbox {
            fail: true,
            ..Outbox::default()
        });
        let channels = PlanChannels {
            email: outbox.clone(),
            sms: outbox,
        };
        let reader = person(Some("amina@example.org"), None, "fr");
        assert_eq!(
            channels
                .tell_person(&reader, PersonNotice::StepChanged)
                .await,
            Delivery::Failed
        );
    }
}
