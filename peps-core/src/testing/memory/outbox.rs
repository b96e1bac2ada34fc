//! The in-memory reference of the outbox port.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

use super::MemoryStore;
use crate::domain::*;
use crate::error::StoreError;
use crate::outbox::{Channel, OutboxMessage, OutboxStatus};
use crate::plans::PlanEvent;
use crate::ports::*;
use crate::wallet::WalletEvent;

#[derive(Default)]
pub(super) struct OutboxState {
    messages: Vec<(OutboxMessage, Option<DateTime<Utc>>)>,
    opt_outs: HashMap<AccountId, DateTime<Utc>>,
}

impl OutboxState {
    fn add(&mut self, messages: &[OutboxMessage]) -> usize {
        let mut added = 0;
        for m in messages {
            let duplicate = m.dedupe_key.is_some()
                && self
                    .messages
                    .iter()
                    .any(|(o, _)| o.dedupe_key == m.dedupe_key);
            if !duplicate {
                self.messages.push((m.clone(), None));
                added += 1;
            }
        }
        added
    }

    fn pending(
        &mut self,
        id: OutboxId,
    ) -> StoreResult<&mut (OutboxMessage, Option<DateTime<Utc>>)> {
        self.messages
            .iter_mut()
            .find(|(m, _)| m.id == id && m.status == OutboxStatus::Pending)
            .ok_or(StoreError::NotFound)
    }
}

impl MemoryStore {
    /// Puts messages in the outbox, as a write does in its transaction.
    pub(super) fn queue(&self, messages: &[OutboxMessage]) {
        self.outbox_lock().add(messages);
    }

    /// The history line as stored (without its messages), its messages put in the outbox:
    /// the memory twin of writing both in one transaction.
    pub(super) fn plan_event(&self, event: &PlanEvent) -> PlanEvent {
        self.outbox_lock().add(&event.outbox);
        PlanEvent {
            outbox: Vec::new(),
            ..event.clone()
        }
    }

    pub(super) fn wallet_event(&self, event: &WalletEvent) -> WalletEvent {
        self.outbox_lock().add(&event.outbox);
        WalletEvent {
            outbox: Vec::new(),
            ..event.clone()
        }
    }
}

#[async_trait]
impl OutboxRepository for MemoryStore {
    async fn enqueue(&self, messages: &[OutboxMessage]) -> StoreResult<usize> {
        Ok(self.outbox_lock().add(messages))
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>> {
        let mut s = self.outbox_lock();
        let mut due: Vec<usize> = s
            .messages
            .iter()
            .enumerate()
            .filter(|(_, (m, claim))| {
                m.status == OutboxStatus::Pending
                    && m.next_attempt_at <= now
                    && claim.is_none_or(|c| c < now)
            })
            .map(|(i, _)| i)
            .collect();
        due.sort_by_key(|&i| s.messages[i].0.next_attempt_at);
        due.truncate(limit as usize);
        Ok(due
            .into_iter()
            .map(|i| {
                s.messages[i].1 = Some(until);
                s.messages[i].0.clone()
            })
            .collect())
    }

    async fn mark_sent(&self, id: OutboxId, at: DateTime<Utc>) -> StoreResult<()> {
        let mut s = self.outbox_lock();
        let (m, claim) = s
            .messages
            .iter_mut()
            .find(|(m, _)| m.id == id)
            .ok_or(StoreError::NotFound)?;
        m.status = OutboxStatus::Sent;
        m.sent_at = Some(at);
        m.last_error = None;
        *claim = None;
        Ok(())
    }

    async fn record_failure(
        &self,
        id: OutboxId,
        attempts: u32,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        let mut s = self.outbox_lock();
        let (m, claim) = s.pending(id)?;
        m.attempts = attempts;
        m.last_error = Some(error.chars().take(500).collect());
        match retry_at {
            Some(at) => m.next_attempt_at = at,
            None => m.status = OutboxStatus::Parked,
        }
        *claim = None;
        Ok(())
    }

    async fn postpone(&self, id: OutboxId, until: DateTime<Utc>) -> StoreResult<()> {
        let mut s = self.outbox_lock();
        let (m, claim) = s.pending(id)?;
        m.next_attempt_at = until;
        *claim = None;
        Ok(())
    }

    async fn message(&self, id: OutboxId) -> StoreResult<OutboxMessage> {
        self.outbox_lock()
            .messages
            .iter()
            .find(|(m, _)| m.id == id)
            .map(|(m, _)| m.clone())
            .ok_or(StoreError::NotFound)
    }

    async fn parked(&self, limit: u32) -> StoreResult<Vec<OutboxMessage>> {
        let mut parked: Vec<OutboxMessage> = self
            .outbox_lock()
            .messages
            .iter()
            .filter(|(m, _)| m.status == OutboxStatus::Parked)
            .map(|(m, _)| m.clone())
            .collect();
        parked.sort_by_key(|m| (m.created_at, m.id));
        parked.truncate(limit as usize);
        Ok(parked)
    }

    async fn requeue(&self, id: OutboxId, now: DateTime<Utc>) -> StoreResult<()> {
        let mut s = self.outbox_lock();
        let (m, _) = s
            .messages
            .iter_mut()
            .find(|(m, _)| m.id == id && m.status == OutboxStatus::Parked)
            .ok_or(StoreError::NotFound)?;
        m.status = OutboxStatus::Pending;
        m.attempts = 0;
        m.next_attempt_at = now;
        Ok(())
    }

    async fn discard(&self, id: OutboxId) -> StoreResult<()> {
        let mut s = self.outbox_lock();
        let before = s.messages.len();
        s.messages
            .retain(|(m, _)| !(m.id == id && m.status == OutboxStatus::Parked));
        if s.messages.len() == before {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn counts(&self) -> StoreResult<OutboxCounts> {
        let s = self.outbox_lock();
        let count = |status| {
            s.messages
                .iter()
                .filter(|(m, _)| m.status == status)
                .count() as u64
        };
        Ok(OutboxCounts {
            pending: count(OutboxStatus::Pending),
            parked: count(OutboxStatus::Parked),
            sent: count(OutboxStatus::Sent),
        })
    }

    async fn sms_sent_to(&self, person: AccountId, since: DateTime<Utc>) -> StoreResult<u32> {
        let n = self
            .outbox_lock()
            .messages
            .iter()
            .filter(|(m, _)| {
                m.person == Some(person)
                    && m.recipient.channel() == Channel::Sms
                    && m.sent_at.is_some_and(|at| at >= since)
            })
            .count();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn purge_sent(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut s = self.outbox_lock();
        let n = s.messages.len();
        s.messages.retain(|(m, _)| {
            !(m.status == OutboxStatus::Sent && m.sent_at.is_some_and(|at| at < before))
        });
        Ok((n - s.messages.len()) as u64)
    }

    async fn set_sms_opt_out(
        &self,
        person: AccountId,
        opted_out: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut s = self.outbox_lock();
        if opted_out {
            s.opt_outs.entry(person).or_insert(at);
        } else {
            s.opt_outs.remove(&person);
        }
        Ok(())
    }

    async fn sms_opted_out(&self, person: AccountId) -> StoreResult<bool> {
        Ok(self.outbox_lock().opt_outs.contains_key(&person))
    }
}
