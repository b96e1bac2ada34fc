//! Storage adapters for PEPS: one [`SeaOrmStore`] implementing every repository port of
//! `peps-core`, on SQLite (the embedded default) or PostgreSQL, picked by the URL scheme; the
//! wallet's blob stores ([`blobs`], filesystem or S3, also picked by URL) and its malware
//! scanner on clamd ([`clamd`]); outgoing email ([`notify`]) and text messages ([`sms`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), peps_store::ConnectError> {
//! let store = peps_store::SeaOrmStore::connect("sqlite://./peps-data/peps.db").await?;
//! store.migrate().await?;
//! # Ok(()) }
//! ```

mod accounts;
mod audit;
pub mod backup;
pub mod blobs;
pub mod clamd;
mod connect;
mod entities;
mod error;
mod exchange;
mod external_identities;
pub mod keys;
mod leases;
pub mod migration;
pub mod notify;
mod offers;
mod organisations;
mod outbox;
mod plan_read;
mod plans;
mod relations;
mod second_factors;
mod sessions;
pub mod sms;
mod throttle;
pub mod translate;
mod wallet;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(feature = "testing")]
pub mod testing_s3;
#[cfg(feature = "testing")]
pub mod testing_sms;

pub use connect::{Backend, ConnectError, DatabaseUrl, SeaOrmStore};
