//! Notice ports: messages that leave PEPS (email, SMS), already in the recipient's language.

use async_trait::async_trait;

use crate::domain::*;

/// A message to one recipient, already in their language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Stable across retries of the same notice (the outbox row's id): an adapter passes it
    /// to its provider as an idempotency key or client reference, so a retry after a crash
    /// is not sent twice by a provider that honours it.
    pub reference: String,
    pub to: Email,
    pub language: Language,
    pub subject: String,
    pub body: String,
}

/// Why a message was not sent. `permanent` tells the outbox not to try again (the provider
/// refused this message for good: a malformed number, a refused sender); anything else
/// (timeouts, 5xx, a relay down) is retried with backoff.
#[derive(Debug, thiserror::Error)]
#[error("notification not sent: {reason}")]
pub struct NotifyError {
    pub reason: String,
    pub permanent: bool,
}

impl NotifyError {
    /// A failure worth retrying later.
    pub fn transient(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            permanent: false,
        }
    }

    /// A refusal that will not change on retry.
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            permanent: true,
        }
    }
}

/// Outgoing messages (email now; SMS for plans later). Adapters: log, SMTP.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn send(&self, notification: &Notification) -> Result<(), NotifyError>;
}

/// A text message to a phone, already in the recipient's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    /// Stable across retries of the same notice; see [`Notification::reference`].
    pub reference: String,
    pub to: Phone,
    pub language: Language,
    pub body: String,
}

/// Outgoing text messages, for people without email. Adapters: log (the default); an
/// operator's SMS gateway plugs in here.
#[async_trait]
pub trait SmsSender: Send + Sync {
    async fn send(&self, sms: &Sms) -> Result<(), NotifyError>;
}
