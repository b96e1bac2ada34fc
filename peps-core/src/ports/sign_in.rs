//! Signing in through an OpenID Connect provider (FranceConnect for persons, ProConnect for
//! staff). The adapter speaks the protocol and checks every signature and claim; the core only
//! ever sees a [`ProvenIdentity`], and decides which account it opens (see
//! `services::identity::external`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the browser must be sent to, and what PEPS keeps (server side, bound to that browser)
/// until the provider sends the browser back.
#[derive(Debug, Clone)]
pub struct AuthorizationStart {
    /// The provider's authorization endpoint with every parameter (PKCE S256 challenge,
    /// `state`, `nonce`, scopes, `acr_values`).
    pub url: String,
    pub pending: PendingSignIn,
}

/// One sign-in in flight. Single use: the core deletes it when the browser comes back, so a
/// replayed `state` finds nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// The configured provider's key (`franceconnect`, `proconnect`, …).
    pub provider: String,
    pub state: String,
    pub nonce: String,
    /// The PKCE verifier; never leaves PEPS except to the token endpoint.
    pub code_verifier: String,
    pub created_at: DateTime<Utc>,
}

/// Everything a provider proved about someone, after the adapter checked the ID token
/// (issuer, audience, expiry, nonce, algorithm, signature, `acr`) and the signed userinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenIdentity {
    pub provider: String,
    /// The provider's stable identifier for this person: with `provider`, the only key an
    /// account is linked by.
    pub subject: String,
    /// The assurance level the provider says it applied (`eidas1`, …), if any.
    pub acr: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    /// Only ProConnect-like providers vouch for the address (they check it at the employer).
    pub email_verified: bool,
    /// The employer's SIRET (ProConnect's `siret` claim).
    pub siret: Option<String>,
    pub birthdate: Option<String>,
    /// Kept for the logout at the provider (`id_token_hint`); never logged.
    pub id_token: String,
}

/// Why a sign-in through a provider failed. Each has a stable code for the page and the logs;
/// none carries a token or a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// The provider could not be reached, or answered with a server error.
    #[error("identity provider unavailable")]
    Unavailable,
    /// The provider said no (the person cancelled, `error=access_denied`, …).
    #[error("identity provider refused: {0}")]
    Refused(String),
    /// A check failed: wrong issuer, audience, nonce, expired token, forbidden algorithm,
    /// unknown key, bad signature, insufficient `acr`. The code names which (`oidc.nonce`, …).
    #[error("identity proof rejected: {0}")]
    Rejected(&'static str),
}

impl SignInError {
    pub fn code(&self) -> &'static str {
        match self {
            SignInError::Unavailable => "oidc.unavailable",
            SignInError::Refused(_) => "oidc.refused",
            SignInError::Rejected(code) => code,
        }
    }
}

/// One configured OpenID provider.
#[async_trait]
pub trait OpenIdProvider: Send + Sync {
    /// The provider's key in the configuration and in account links.
    fn key(&self) -> &str;
    /// Builds the authorization request: fresh `state`, `nonce` and PKCE verifier.
    async fn start(&self, now: DateTime<Utc>) -> Result<AuthorizationStart, SignInError>;
    /// Exchanges the code and checks everything. `pending` is the one the core found for the
    /// `state` the browser brought back.
    async fn finish(
        &self,
        pending: &PendingSignIn,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<ProvenIdentity, SignInError>;
    /// Where to send the browser to end the provider's session too (`end_session_endpoint`
    /// with `id_token_hint`), if the provider has such an endpoint.
    async fn logout_url(&self, id_token: &str, state: &str) -> Result<Option<String>, SignInError>;
}
