//! The port conformance suites, one per capability. Every adapter — the in-memory reference,
//! SQLite, PostgreSQL, or an adopter's own — must pass the suite of each capability it
//! implements, each check on a fresh store:
//!
//! ```ignore
//! #[tokio::test]
//! async fn my_store_conforms() {
//!     use peps_core::testing::conformance;
//!     conformance::identity::run_all(|| async { MyStore::fresh().await }).await;
//!     conformance::catalogue::run_all(|| async { MyStore::fresh().await }).await;
//!     conformance::exchange::run_all(|| async { MyStore::fresh().await }).await;
//!     conformance::plans::run_all(|| async { MyStore::fresh().await }).await;
//!     conformance::wallet::run_all(|| async { MyStore::fresh().await }).await;
//!     conformance::outbox::run_all(|| async { MyStore::fresh().await }).await;
//!     conformance::leases::run_all(|| async { MyStore::fresh().await }).await;
//! }
//! ```
//!
//! Blob stores run [`blobs::run`] on one store. Times are whole microseconds, the precision SQL
//! databases keep.

use std::future::Future;
use std::pin::Pin;

pub mod blobs;
pub mod catalogue;
pub mod exchange;
pub mod identity;
pub mod leases;
pub mod outbox;
pub mod plans;
pub mod wallet;

pub use identity::{run_all, run_audit_log, run_throttle};

/// One check of a suite, on a store of type `S`.
pub type Check<S> = for<'a> fn(&'a S) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// `checks!(Bound; a, b, …)` defines `checks::<S: Bound>()`: the names and functions of every
/// check, for runners that report them one by one.
macro_rules! checks {
    ($bound:path; $($name:ident),* $(,)?) => {
        /// The names and functions of every check, for runners that report them one by one.
        pub fn checks<S: $bound>() -> Vec<(&'static str, super::Check<S>)> {
            vec![$((stringify!($name), |s| Box::pin($name(s)))),*]
        }
    };
}
pub(crate) use checks;

/// Runs every check of `suite`, each on a fresh store from `fresh`; panics naming the first
/// failure.
pub async fn run_each<S, F, Fut>(suite: &str, checks: Vec<(&'static str, Check<S>)>, mut fresh: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    for (name, check) in checks {
        let store = fresh().await;
        eprintln!("{suite} conformance: {name}");
        check(&store).await;
    }
}
