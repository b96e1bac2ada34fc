//! Ports: one small async trait per concern, one file per capability. Adapters (ours in
//! `peps-store`, or an adopter's) implement them; services hold them as `Arc<dyn …>` so any one
//! can be swapped at run time. Every adapter must pass the conformance suite of its capability
//! in `peps_core::testing::conformance`.
//!
//! Everything is re-exported here, so `peps_core::ports::OfferRepository` names a port whatever
//! file it lives in.

use crate::error::StoreError;

pub mod catalogue;
pub mod exchange;
pub mod identity;
pub mod leases;
pub mod notices;
pub mod outbox;
pub mod plans;
pub mod sign_in;
pub mod translation;
pub mod wallet;

pub use catalogue::*;
pub use exchange::*;
pub use identity::*;
pub use leases::*;
pub use notices::*;
pub use outbox::*;
pub use plans::*;
pub use sign_in::*;
pub use translation::*;
pub use wallet::*;

pub type StoreResult<T> = Result<T, StoreError>;
