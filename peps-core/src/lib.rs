//! PEPS domain core: types, ports (traits), the access policy and the use-case services.
//!
//! This crate knows nothing about databases, HTTP or configuration files: adapters live in
//! `peps-store` and `peps-http`, and an adopting collectivity can plug in its own (see
//! `docs/architecture.md` and the port conformance suite in [`testing::conformance`]).

rust_i18n::i18n!("locales", fallback = "en");

pub mod auth;
pub mod catalogue;
pub mod clock;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod outbox;
pub mod places;
pub mod plans;
pub mod policy;
pub mod ports;
pub mod services;
pub mod sms;
pub mod wallet;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{Conflict, CoreError, StoreError, ValidationError};
