//! [`Notifier`] adapters: a log (the default, for the demo and for deployments without email)
//! and SMTP, chosen by URL; text messages are in [`crate::sms`]. Message bodies are never
//! logged by the log adapter beyond their subject: they can carry personal data.

use async_trait::async_trait;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;

use peps_core::ports::{Notification, Notifier, NotifyError};

/// Writes one log line per message (recipient domain and subject only).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let domain = n.to.as_str().rsplit('@').next().unwrap_or("");
        tracing::info!(to_domain = domain, language = n.language.code(), subject = %n.subject, "notification (log adapter, not sent)");
        Ok(())
    }
}

// Text messages moved to `crate::sms`; these names stay for existing callers.
pub use crate::sms::{LogSms, sms_from_setting};

/// Sends email through an SMTP server.
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifierConfigError {
    #[error("notification URL must be \"log\", smtp://… or smtps://… (got scheme {0:?})")]
    Scheme(String),
    #[error("invalid SMTP URL: {0}")]
    Url(String),
    #[error("invalid sender address {0:?}: expected \"Name <address@domain>\"")]
    From(String),
}

impl SmtpNotifier {
    /// `smtp://user:password@host:587?tls=required` (STARTTLS), `smtps://…:465` (TLS), or
    /// `smtp://host:25` (plain, only on a trusted network).
    pub fn new(url: &str, from: &str) -> Result<Self, NotifierConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| NotifierConfigError::Url(e.to_string()))?
            .build();
        let from = from
            .parse()
            .map_err(|_| NotifierConfigError::From(from.to_owned()))?;
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl Notifier for SmtpNotifier {
    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let to: Mailbox =
            n.to.as_str()
                .parse()
                .map_err(|e| NotifyError::permanent(format!("recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(n.subject.clone())
            // The outbox's id: a retry after a crash carries the same Message-ID, so a relay
            // or a mail client that drops duplicates shows it once.
            .message_id(Some(format!("<{}@peps.outbox>", n.reference)))
            .header(ContentType::TEXT_PLAIN)
            .body(n.body.clone())
            .map_err(|e| NotifyError::permanent(e.to_string()))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| {
            // A 5xx reply is the server refusing this message for good; a 4xx reply,
            // a timeout or a broken connection is worth another try.
            if e.is_permanent() {
                NotifyError::permanent(e.to_string())
            } else {
                NotifyError::transient(e.to_string())
            }
        })
    }
}

/// The notifier a URL names: `log`, or an SMTP URL.
pub fn notifier_from_url(url: &str, from: &str) -> Result<Arc<dyn Notifier>, NotifierConfigError> {
    let scheme = url.split("://").next().unwrap_or(url);
    match scheme {
        "log" | "" => Ok(Arc::new(LogNotifier)),
        "smtp" | "smtps" => Ok(Arc::new(SmtpNotifier::new(url, from)?)),
        other => Err(NotifierConfigError::Scheme(other.to_owned())),
    }
}
