//! Conformance suite of the [`LeaseRepository`] port: who may take, renew and give up a lease.
//! Every adapter runs it, each check on a fresh store:
//!
//! ```ignore
//! peps_core::testing::conformance::leases::run_all(|| async { MyStore::fresh().await }).await;
//! ```
//!
//! That of several holders racing for a free lease exactly one wins is a property of the
//! adapter's single conditional write; the SQL adapters test it with real concurrent
//! connections (`peps-store/tests/conformance.rs`).

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::future::Future;

use crate::ports::*;

super::checks!(LeaseRepository;
    a_free_lease_is_taken_once,
    the_holder_renews,
    an_expired_lease_passes_to_another,
    only_the_holder_releases,
    leases_are_independent,
);

pub async fn run_all<S, F, Fut>(fresh: F)
where
    S: LeaseRepository,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    super::run_each("leases", checks::<S>(), fresh).await;
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap()
}

async fn a_free_lease_is_taken_once<S: LeaseRepository>(store: &S) {
    assert_eq!(store.lease("purge").await.unwrap(), None);
    let until = t0() + Duration::minutes(15);
    assert!(store.try_acquire("purge", "a", until, t0()).await.unwrap());
    assert_eq!(
        store.lease("purge").await.unwrap(),
        Some(Lease {
            name: "purge".into(),
            holder: "a".into(),
            until,
        })
    );
    let later = t0() + Duration::minutes(14);
    assert!(
        !store
            .try_acquire("purge", "b", later + Duration::minutes(15), later)
            .await
            .unwrap(),
        "held by another until it expires"
    );
    assert_eq!(store.lease("purge").await.unwrap().unwrap().holder, "a");
    assert_eq!(store.lease("purge").await.unwrap().unwrap().until, until);
}

async fn the_holder_renews<S: LeaseRepository>(store: &S) {
    let first = t0() + Duration::minutes(1);
    assert!(store.try_acquire("remind", "a", first, t0()).await.unwrap());
    let now = t0() + Duration::seconds(30);
    let second = now + Duration::minutes(1);
    assert!(store.try_acquire("remind", "a", second, now).await.unwrap());
    assert_eq!(store.lease("remind").await.unwrap().unwrap().until, second);
    // After its time ran out, the same holder takes it again.
    let late = second + Duration::minutes(5);
    let third = late + Duration::minutes(1);
    assert!(store.try_acquire("remind", "a", third, late).await.unwrap());
    assert_eq!(store.lease("remind").await.unwrap().unwrap().until, third);
}

async fn an_expired_lease_passes_to_another<S: LeaseRepository>(store: &S) {
    let until = t0() + Duration::minutes(1);
    assert!(store.try_acquire("reap", "a", until, t0()).await.unwrap());
    // At the very instant it ends, it is free.
    let b_until = until + Duration::minutes(1);
    assert!(
        store
            .try_acquire("reap", "b", b_until, until)
            .await
            .unwrap()
    );
    assert_eq!(
        store.lease("reap").await.unwrap(),
        Some(Lease {
            name: "reap".into(),
            holder: "b".into(),
            until: b_until,
        })
    );
    // The former holder has lost it, and cannot take it back early.
    assert!(
        !store
            .try_acquire("reap", "a", b_until, until + Duration::seconds(1))
            .await
            .unwrap()
    );
}

async fn only_the_holder_releases<S: LeaseRepository>(store: &S) {
    let until = t0() + Duration::hours(1);
    assert!(store.try_acquire("job", "a", until, t0()).await.unwrap());
    store.release("job", "b").await.unwrap();
    assert_eq!(store.lease("job").await.unwrap().unwrap().holder, "a");
    store.release("job", "a").await.unwrap();
    assert_eq!(store.lease("job").await.unwrap(), None);
    // Released, it is free at once for anyone.
    assert!(store.try_acquire("job", "b", until, t0()).await.unwrap());
    // Releasing what nobody holds is harmless.
    store.release("never-taken", "a").await.unwrap();
}

async fn leases_are_independent<S: LeaseRepository>(store: &S) {
    let until = t0() + Duration::hours(1);
    assert!(store.try_acquire("one", "a", until, t0()).await.unwrap());
    assert!(store.try_acquire("two", "b", until, t0()).await.unwrap());
    assert!(!store.try_acquire("one", "b", until, t0()).await.unwrap());
    assert!(!store.try_acquire("two", "a", until, t0()).await.unwrap());
}
