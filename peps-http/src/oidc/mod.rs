//! The OpenID Connect relying party: one [`OpenIdClient`] per configured provider
//! (FranceConnect v2, ProConnect, or any provider with asymmetric signatures), implementing
//! the core's [`peps_core::ports::OpenIdProvider`].
//!
//! - [`settings`]: what a provider is configured with, and the two presets;
//! - `discovery`: the provider's discovery document, checked and kept;
//! - `keys`: the provider's signing keys, with a bounded refetch on rotation;
//! - `tokens`: JWT signature and claim checks;
//! - [`client`]: the authorization request, the code exchange, userinfo and logout.
//!
//! Every check made on a sign-in is listed in docs/security.md ("OpenID Connect: checks made
//! on every sign-in"). Nothing here logs a token, a code, a secret or the PKCE verifier.

pub mod client;
mod discovery;
mod http;
mod keys;
pub mod settings;
mod tokens;

#[cfg(test)]
mod tests;

pub use client::OpenIdClient;
pub use settings::{OpenIdSettings, SettingsError, TokenAuth};
