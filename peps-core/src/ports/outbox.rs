//! Outbox port: messages waiting to be sent, claimed by senders, retried, parked.
//!
//! Messages caused by a change are written by the repository method that writes the change,
//! in its transaction (they ride on the change's history line: [`crate::plans::PlanEvent`]
//! and [`crate::wallet::WalletEvent`] carry an `outbox`); [`OutboxRepository::enqueue`] is
//! for messages of scheduled jobs, made idempotent by their `dedupe_key`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::{AccountId, OutboxId};
use crate::outbox::OutboxMessage;

/// How many messages stand where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: u64,
    pub parked: u64,
    pub sent: u64,
}

#[async_trait]
pub trait OutboxRepository: Send + Sync {
    /// Stores messages in one transaction, skipping any whose `dedupe_key` is already stored
    /// (sent or not). Returns how many were added.
    async fn enqueue(&self, messages: &[OutboxMessage]) -> StoreResult<usize>;
    /// Claims up to `limit` pending messages due at `now` (oldest due first) that no other
    /// sender holds, for that sender alone until `until`. Two senders racing never claim the
    /// same message; a claim not settled by `until` (the sender died) lapses and the message
    /// is claimed again.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>>;
    /// The message was delivered; `NotFound` when there is no such message.
    async fn mark_sent(&self, id: OutboxId, at: DateTime<Utc>) -> StoreResult<()>;
    /// Records a failed attempt (`attempts` is the new count): pending again at `retry_at`,
    /// or parked when `retry_at` is `None`. The claim is released.
    async fn record_failure(
        &self,
        id: OutboxId,
        attempts: u32,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
    /// Puts a claimed message off until `until` without counting an attempt (quiet hours, a
    /// rate cap). The claim is released.
    async fn postpone(&self, id: OutboxId, until: DateTime<Utc>) -> StoreResult<()>;
    async fn message(&self, id: OutboxId) -> StoreResult<OutboxMessage>;
    /// Parked messages, oldest first.
    async fn parked(&self, limit: u32) -> StoreResult<Vec<OutboxMessage>>;
    /// A parked message becomes pending at `now` with its attempts reset; `NotFound` unless
    /// the message exists and is parked.
    async fn requeue(&self, id: OutboxId, now: DateTime<Utc>) -> StoreResult<()>;
    /// Deletes a parked message; `NotFound` unless it exists and is parked.
    async fn discard(&self, id: OutboxId) -> StoreResult<()>;
    async fn counts(&self) -> StoreResult<OutboxCounts>;
    /// Text messages about `person` sent since `since` (the per-person rate cap).
    async fn sms_sent_to(&self, person: AccountId, since: DateTime<Utc>) -> StoreResult<u32>;
    /// Deletes sent messages older than `before` (they hold addresses and numbers).
    async fn purge_sent(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Records the person's choice about text messages.
    async fn set_sms_opt_out(
        &self,
        person: AccountId,
        opted_out: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn sms_opted_out(&self, person: AccountId) -> StoreResult<bool>;
}
