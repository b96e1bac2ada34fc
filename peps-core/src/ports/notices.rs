//! Notice ports: messages that leave PEPS (email, SMS), already in the recipient's language.

use async_trait::async_trait;

use crate::domain::*;

/// A message to one recipient, already in their language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub to: Email,
    pub language: Language,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
#[error("notification not sent: {0}")]
pub struct NotifyError(pub String);

/// Outgoing messages (email now; SMS for plans later). Adapters: log, SMTP.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn send(&self, notification: &Notification) -> Result<(), NotifyError>;
}

/// A text message to a phone, already in the recipient's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
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
