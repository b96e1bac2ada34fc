//! The outbox: every message PEPS sends (email, SMS) is first a row written in the same
//! transaction as the change that causes it, then delivered by a background sender that
//! retries with backoff and parks what keeps failing for an admin to look at.
//!
//! Delivery is at least once: the message's id is its idempotency key with the provider, so
//! a send interrupted by a crash and tried again is not delivered twice by a provider that
//! honours the key.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{AccountId, Email, Language, OutboxId, Phone};

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Recipient {
    Email { to: Email, subject: String },
    Sms { to: Phone },
}

impl Recipient {
    pub fn channel(&self) -> Channel {
        match self {
            Recipient::Email { .. } => Channel::Email,
            Recipient::Sms { .. } => Channel::Sms,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its next attempt (`next_attempt_at`).
    Pending,
    Sent,
    /// Failed for good or too often: an admin retries or discards it.
    Parked,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Parked => "parked",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(OutboxStatus::Pending),
            "sent" => Some(OutboxStatus::Sent),
            "parked" => Some(OutboxStatus::Parked),
            _ => None,
        }
    }
}

/// One message, already in its recipient's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: OutboxId,
    pub recipient: Recipient,
    pub language: Language,
    pub body: String,
    /// The person it is about, when it goes to a person: their opt-out and rate cap apply,
    /// and they can be told what was sent to them.
    pub person: Option<AccountId>,
    /// The template it was made from (`plans.new_step`, `wallet.path_opened`…), for the
    /// admin's list and the figures; never the text.
    pub purpose: String,
    /// For messages a scheduled job may enqueue again (reminders): a second enqueue with the
    /// same key is ignored, so a job that crashed after enqueuing and runs again sends once.
    pub dedupe_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl OutboxMessage {
    /// A message to send as soon as possible.
    pub fn new(
        recipient: Recipient,
        language: Language,
        body: String,
        person: Option<AccountId>,
        purpose: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: OutboxId::new(),
            recipient,
            language,
            body,
            person,
            purpose: purpose.into(),
            dedupe_key: None,
            created_at: now,
            status: OutboxStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            sent_at: None,
        }
    }

    pub fn with_dedupe_key(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
}

/// When to try again after a failure, and when to give up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure; it doubles with each further failure.
    pub first_wait: Duration,
    pub longest_wait: Duration,
    /// A message that failed this many times is parked.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 30 s, 1 min, 2 min … capped at 1 h, parked after 10 attempts: about 4 hours of trying,
    /// long enough to ride out a provider's outage, short enough that an admin hears of it
    /// the same day.
    fn default() -> Self {
        Self {
            first_wait: Duration::seconds(30),
            longest_wait: Duration::hours(1),
            max_attempts: 10,
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempts + 1`, after `attempts` failures (≥ 1).
    pub fn wait_after(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(20);
        let wait = self.first_wait * 2_i32.pow(doublings);
        wait.min(self.longest_wait)
    }

    /// Whether a message that has now failed `attempts` times is parked.
    pub fn gives_up_after(&self, attempts: u32) -> bool {
        attempts >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_give_up_at_the_limit() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.wait_after(1), Duration::seconds(30));
        assert_eq!(policy.wait_after(2), Duration::seconds(60));
        assert_eq!(policy.wait_after(5), Duration::seconds(480));
        assert_eq!(policy.wait_after(9), Duration::hours(1));
        assert_eq!(policy.wait_after(u32::MAX), Duration::hours(1));
        assert!(!policy.gives_up_after(9));
        assert!(policy.gives_up_after(10));
    }

    #[test]
    fn statuses_read_back_what_they_write() {
        for status in [
            OutboxStatus::Pending,
            OutboxStatus::Sent,
            OutboxStatus::Parked,
        ] {
            assert_eq!(OutboxStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(OutboxStatus::parse("lost"), None);
    }
}
