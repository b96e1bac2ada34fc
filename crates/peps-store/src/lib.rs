//! Storage adapters for PEPS: one [`SeaOrmStore`] implementing every repository port of
//! `peps-core`, on SQLite (the embedded default) or PostgreSQL, picked by the URL scheme.
//!
//! ```no_run
//! # async fn demo() -> Result<(), peps_store::ConnectError> {
//! let store = peps_store::SeaOrmStore::connect("sqlite://./peps-data/peps.db").await?;
//! store.migrate().await?;
//! # Ok(()) }
//! ```

mod accounts;
mod audit;
mod connect;
mod entities;
mod error;
mod exchange;
pub mod migration;
pub mod notify;
mod offers;
mod organisations;
mod plans;
mod relations;
mod sessions;
mod throttle;
pub mod translate;
mod wallet;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use connect::{Backend, ConnectError, DatabaseUrl, SeaOrmStore};
