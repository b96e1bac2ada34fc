//! Leases: named, time-limited locks in the shared store, so that a piece of background work
//! runs on one instance at a time when several serve the same database.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;

/// Who holds a lease and until when (for diagnostics and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub until: DateTime<Utc>,
}

#[async_trait]
pub trait LeaseRepository: Send + Sync {
    /// Takes the lease `name` for `holder` until `until`, when nobody holds it, when its
    /// holder's time ran out (`until <= now`), or when `holder` already holds it (a renewal,
    /// which moves `until`). Returns whether `holder` holds it now. Atomic: of several
    /// holders racing for a free lease, exactly one wins.
    async fn try_acquire(
        &self,
        name: &str,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Gives the lease up if `holder` holds it; does nothing otherwise (a lease lost to
    /// another holder after it expired stays theirs).
    async fn release(&self, name: &str, holder: &str) -> StoreResult<()>;

    /// The lease as stored, expired or not; `None` when never taken or released.
    async fn lease(&self, name: &str) -> StoreResult<Option<Lease>>;
}
