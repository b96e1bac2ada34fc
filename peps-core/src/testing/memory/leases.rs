use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::ports::{Lease, LeaseRepository, StoreResult};

#[async_trait]
impl LeaseRepository for MemoryStore {
    async fn try_acquire(
        &self,
        name: &str,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut state = self.lock();
        let free = match state.leases.get(name) {
            None => true,
            Some(lease) => lease.until <= now || lease.holder == holder,
        };
        if free {
            state.leases.insert(
                name.to_owned(),
                Lease {
                    name: name.to_owned(),
                    holder: holder.to_owned(),
                    until,
                },
            );
        }
        Ok(free)
    }

    async fn release(&self, name: &str, holder: &str) -> StoreResult<()> {
        let mut state = self.lock();
        if state.leases.get(name).is_some_and(|l| l.holder == holder) {
            state.leases.remove(name);
        }
        Ok(())
    }

    async fn lease(&self, name: &str) -> StoreResult<Option<Lease>> {
        Ok(self.lock().leases.get(name).cloned())
    }
}
