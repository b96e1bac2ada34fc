//! In-memory reference adapter. It exists to pin down the ports' behaviour (it passes the same
//! conformance suite as the SQL adapters) and for fast unit tests; it is not for production.

use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::catalogue::Offer;
use crate::domain::*;
use crate::error::{Conflict, StoreError};
use crate::plans::{Plan, PlanEvent, Step, StepMessage};
use crate::ports::*;

pub mod blobs;
mod catalogue;
mod exchange;
mod identity;
mod leases;
mod outbox;
mod plans;
mod wallet;

#[derive(Default)]
pub(super) struct State {
    pub(super) accounts: HashMap<AccountId, Account>,
    passwords: HashMap<AccountId, String>,
    /// Who issued the code that last reset a password, until the holder sets their own.
    password_reset_by: HashMap<AccountId, AccountId>,
    organisations: HashMap<OrganisationId, Organisation>,
    memberships: Vec<(AccountId, OrganisationId, DateTime<Utc>)>,
    referents: Vec<Referent>,
    mandates: Vec<Mandate>,
    sessions: HashMap<SessionId, Session>,
    second_factors: HashMap<AccountId, SecondFactor>,
    external_links: Vec<ExternalLink>,
    one_time: HashMap<String, OneTimeValue>,
    sign_in_requests: Vec<SignInRequest>,
    activations: Vec<ActivationCode>,
    throttle: HashMap<String, ThrottleState>,
    leases: HashMap<String, Lease>,
    audit: Vec<AuditEvent>,
    catalogue_seq: i64,
    /// Offer and the stamp of its last write.
    offers: HashMap<OfferId, (Offer, i64)>,
    offer_history: Vec<OfferHistoryEntry>,
    reminders: HashMap<(OfferId, DateTime<Utc>), DateTime<Utc>>,
    profiles: HashMap<OrganisationId, StoredProfile>,
    imported: HashMap<(RecordKind, String, String), ImportedRecord>,
    import_jobs: HashMap<ImportJobId, ImportJob>,
    plans: HashMap<PlanId, Plan>,
    steps: HashMap<StepId, Step>,
    messages: Vec<StepMessage>,
    plan_events: Vec<PlanEvent>,
    due_reminders: HashMap<(StepId, NaiveDate), DateTime<Utc>>,
    pub(super) wallet: wallet::WalletState,
}

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    outbox: Mutex<outbox::OutboxState>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn outbox_lock(&self) -> MutexGuard<'_, outbox::OutboxState> {
        self.outbox.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn conflict(kind: Conflict) -> StoreError {
    StoreError::Conflict(kind)
}

pub use blobs::MemoryBlobStore;

#[cfg(test)]
mod tests {
    use crate::testing::conformance;

    #[tokio::test]
    async fn memory_store_conforms() {
        conformance::identity::run_all(|| async { super::MemoryStore::new() }).await;
    }

    #[tokio::test]
    async fn memory_store_conforms_for_the_catalogue() {
        conformance::catalogue::run_all(|| async { super::MemoryStore::new() }).await;
    }

    #[tokio::test]
    async fn memory_store_conforms_for_the_exchange() {
        conformance::exchange::run_all(|| async { super::MemoryStore::new() }).await;
    }

    #[tokio::test]
    async fn memory_store_conforms_for_plans() {
        conformance::plans::run_all(|| async { super::MemoryStore::new() }).await;
    }

    #[tokio::test]
    async fn memory_store_conforms_for_the_outbox() {
        conformance::outbox::run_all(|| async { super::MemoryStore::new() }).await;
    }

    #[tokio::test]
    async fn memory_store_conforms_for_leases() {
        conformance::leases::run_all(|| async { super::MemoryStore::new() }).await;
    }

    #[tokio::test]
    async fn memory_store_conforms_for_the_wallet() {
        conformance::wallet::run_all(|| async { super::MemoryStore::new() }).await;
    }

    #[tokio::test]
    async fn memory_store_conforms_for_the_wallet_on_one_store() {
        conformance::wallet::run(&super::MemoryStore::new()).await;
    }
}
