//! Background work that must run on one instance at a time when several serve the same
//! database: each job takes a named lease in the store first ([`LeaseRepository`]) and is
//! skipped where another instance holds it.
//!
//! Here rather than in the binary: it is a rule over a port and the [`Clock`], tested with the
//! in-memory store and a manual clock; the composition root only names the holder (host, process
//! and a random part, so two processes on one host or a restarted one never pass for each other).

use chrono::{DateTime, Duration, Utc};
use std::future::Future;
use std::sync::Arc;

use crate::clock::Clock;
use crate::error::CoreResult;
use crate::ports::LeaseRepository;

/// What became of a job asked to run exclusively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran<T> {
    /// This instance held the lease and ran the job.
    Done(T),
    /// Another instance holds the lease (as far as the store said when asked): nothing ran.
    HeldElsewhere {
        holder: Option<String>,
        until: Option<DateTime<Utc>>,
    },
}

pub struct Exclusive {
    leases: Arc<dyn LeaseRepository>,
    clock: Arc<dyn Clock>,
    holder: String,
}

impl Exclusive {
    /// `holder` names this instance; it must differ between processes.
    pub fn new(
        leases: Arc<dyn LeaseRepository>,
        clock: Arc<dyn Clock>,
        holder: impl Into<String>,
    ) -> Self {
        Self {
            leases,
            clock,
            holder: holder.into(),
        }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Runs `job` if this instance can take the lease `name` for `ttl`, then gives the lease
    /// up (also when the job returned an error), so the next run on any instance may go ahead.
    /// `ttl` must exceed the job's longest run: past it another instance may start the same
    /// job. For commands run from cron on every node.
    pub async fn run_exclusively<T, F, Fut>(
        &self,
        name: &str,
        ttl: Duration,
        job: F,
    ) -> CoreResult<Ran<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        if let Some(elsewhere) = self.take(name, ttl).await? {
            return Ok(elsewhere);
        }
        let out = job().await;
        self.leases.release(name, &self.holder).await?;
        Ok(Ran::Done(out))
    }

    /// For a job every instance ticks every `period`: runs it if this instance can take or
    /// renew the lease `name`, and keeps the lease, so the other instances' ticks skip it. The
    /// holder renews at each of its ticks and stays the one that runs it. The lease lasts one
    /// and a half periods, so a tick of the holder a little late (a slow query, a busy
    /// machine) does not let another instance in; when the holder stops, another takes over
    /// within one and a half periods.
    pub async fn run_once_per<T, F, Fut>(
        &self,
        name: &str,
        period: Duration,
        job: F,
    ) -> CoreResult<Ran<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        if let Some(elsewhere) = self.take(name, period + period / 2).await? {
            return Ok(elsewhere);
        }
        Ok(Ran::Done(job().await))
    }

    /// Gives up the lease `name` if this instance holds it (at shutdown, so another instance
    /// need not wait for it to expire).
    pub async fn release(&self, name: &str) -> CoreResult<()> {
        Ok(self.leases.release(name, &self.holder).await?)
    }

    /// Takes the lease; `Some` tells who holds it instead.
    async fn take<T>(&self, name: &str, ttl: Duration) -> CoreResult<Option<Ran<T>>> {
        let now = self.clock.now();
        if self
            .leases
            .try_acquire(name, &self.holder, now + ttl, now)
            .await?
        {
            return Ok(None);
        }
        let held = self.leases.lease(name).await?;
        Ok(Some(Ran::HeldElsewhere {
            holder: held.as_ref().map(|l| l.holder.clone()),
            until: held.map(|l| l.until),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::testing::MemoryStore;
    use chrono::TimeZone;

    fn setup() -> (Arc<MemoryStore>, Arc<ManualClock>, Exclusive, Exclusive) {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap(),
        ));
        let a = Exclusive::new(store.clone(), clock.clone(), "host-a:1:x");
        let b = Exclusive::new(store.clone(), clock.clone(), "host-b:2:y");
        (store, clock, a, b)
    }

    #[tokio::test]
    async fn a_job_held_elsewhere_does_not_run_and_says_by_whom() {
        let (_, _, a, b) = setup();
        let ttl = Duration::hours(1);
        let ran = a
            .run_exclusively("plans.remind", ttl, || async {
                // While a runs, b is turned away.
                b.run_exclusively("plans.remind", ttl, || async {
                    panic!("ran twice at once")
                })
                .await
                .unwrap()
            })
            .await
            .unwrap();
        match ran {
            Ran::Done(Ran::HeldElsewhere { holder, until }) => {
                assert_eq!(holder.as_deref(), Some("host-a:1:x"));
                assert!(until.is_some());
            }
            other => panic!("{other:?}"),
        }
        // Released after the job: b may run now.
        assert_eq!(
            b.run_exclusively("plans.remind", ttl, || async { 7 })
                .await
                .unwrap(),
            Ran::Done(7)
        );
    }

    #[tokio::test]
    async fn a_periodic_job_runs_once_per_period_and_fails_over() {
        let (_, clock, a, b) = setup();
        let period = Duration::minutes(15);
        let mut runs = (0, 0);
        for _ in 0..4 {
            if let Ran::Done(()) = a.run_once_per("purge", period, || async {}).await.unwrap() {
                runs.0 += 1;
            }
            clock.advance(Duration::minutes(5));
            if let Ran::Done(()) = b.run_once_per("purge", period, || async {}).await.unwrap() {
                runs.1 += 1;
            }
            clock.advance(Duration::minutes(10));
        }
        assert_eq!(runs, (4, 0), "the holder renews at each of its ticks");
        // a stops ticking: b takes over once a's lease, one and a half periods, has run out.
        clock.advance(Duration::minutes(5));
        assert!(matches!(
            b.run_once_per("purge", period, || async {}).await.unwrap(),
            Ran::HeldElsewhere { .. }
        ));
        clock.advance(Duration::minutes(3));
        assert!(matches!(
            b.run_once_per("purge", period, || async {}).await.unwrap(),
            Ran::Done(())
        ));
        assert!(matches!(
            a.run_once_per("purge", period, || async {}).await.unwrap(),
            Ran::HeldElsewhere { .. }
        ));
    }
}
