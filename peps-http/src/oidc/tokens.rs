//! Verifying a JWT from the provider (an ID token, or a signed userinfo): the algorithm, the
//! key, the signature, then the claims every such token must carry. Nothing of a token is
//! read before its signature is checked, except the header that names the algorithm and key;
//! keys named in the header (`jku`, `jwk`, `x5u`) are never fetched or used.

use super::keys::KeyCache;
use super::settings::allowed_algorithm;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::Algorithm;
use peps_core::ports::SignInError;
use serde::Deserialize;
use serde_json::{Map, Value};

pub(crate) type Claims = Map<String, Value>;

/// Where a token's signature is checked against.
pub(crate) struct Verifier<'a> {
    pub client: &'a reqwest::Client,
    pub keys: &'a KeyCache,
    pub jwks_uri: &'a str,
    pub algorithms: &'a [Algorithm],
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    /// Extensions the verifier must understand; this one understands none.
    #[serde(default)]
    crit: Option<Value>,
}

impl Verifier<'_> {
    /// Checks the header's algorithm against the configured ones, finds the key and checks
    /// the signature; only then decodes the claims.
    pub async fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, SignInError> {
        let malformed = SignInError::Rejected("oidc.malformed");
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed);
        };
        let header: Header = URL_SAFE_NO_PAD
            .decode(header_b64)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(malformed.clone())?;
        let alg = allowed_algorithm(&header.alg)
            .filter(|alg| self.algorithms.contains(alg))
            .ok_or(SignInError::Rejected("oidc.algorithm"))?;
        if header.crit.is_some() {
            return Err(malformed);
        }
        let key = self
            .keys
            .key_for(
                self.client,
                self.jwks_uri,
                header.kid.as_deref(),
                alg,
                &header.alg,
                now,
            )
            .await?;
        let message = &token[..header_b64.len() + 1 + payload_b64.len()];
        match jsonwebtoken::crypto::verify(signature_b64, message.as_bytes(), &key, alg) {
            Ok(true) => {}
            _ => return Err(SignInError::Rejected("oidc.signature")),
        }
        URL_SAFE_NO_PAD
            .decode(payload_b64)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Claims>(&bytes).ok())
            .ok_or(malformed)
    }
}

/// What the claims of a token from this provider must say.
pub(crate) struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub now: DateTime<Utc>,
    pub skew_seconds: i64,
}

impl Expected<'_> {
    /// `iss` is the configured issuer, exactly.
    pub fn issuer(&self, claims: &Claims) -> Result<(), SignInError> {
        match claims.get("iss").and_then(Value::as_str) {
            Some(iss) if iss == self.issuer => Ok(()),
            _ => Err(SignInError::Rejected("oidc.issuer")),
        }
    }

    /// `aud` is, or contains, the client id; with several audiences (or whenever present)
    /// `azp` is the client id (OpenID Connect Core §3.1.3.7, points 3 to 5).
    pub fn audience(&self, claims: &Claims) -> Result<(), SignInError> {
        let rejected = SignInError::Rejected("oidc.audience");
        let audiences: Vec<&str> = match claims.get("aud") {
            Some(Value::String(aud)) => vec![aud.as_str()],
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
            _ => return Err(rejected),
        };
        if !audiences.contains(&self.client_id) {
            return Err(rejected);
        }
        let azp = claims.get("azp").map(Value::as_str);
        match azp {
            Some(Some(azp)) if azp == self.client_id => Ok(()),
            Some(_) => Err(rejected),
            None if audiences.len() > 1 => Err(rejected),
            None => Ok(()),
        }
    }

    /// `exp` not past (beyond the skew), `iat` and `nbf` not in the future (beyond the skew).
    /// `exp` and `iat` are required when `required`.
    pub fn times(&self, claims: &Claims, required: bool) -> Result<(), SignInError> {
        let now = self.now.timestamp();
        let skew = self.skew_seconds;
        match (number(claims, "exp"), required) {
            (Some(exp), _) if now > exp.saturating_add(skew) => {
                return Err(SignInError::Rejected("oidc.expired"));
            }
            (None, true) => return Err(SignInError::Rejected("oidc.expired")),
            _ => {}
        }
        match (number(claims, "iat"), required) {
            (Some(iat), _) if iat > now.saturating_add(skew) => {
                return Err(SignInError::Rejected("oidc.issued_at"));
            }
            (None, true) => return Err(SignInError::Rejected("oidc.issued_at")),
            _ => {}
        }
        if let Some(nbf) = number(claims, "nbf")
            && nbf > now.saturating_add(skew)
        {
            return Err(SignInError::Rejected("oidc.issued_at"));
        }
        Ok(())
    }
}

/// A NumericDate claim as whole seconds. A claim present but not a number counts as absent
/// (and so fails where the claim is required).
fn number(claims: &Claims, name: &str) -> Option<i64> {
    let value = claims.get(name)?;
    value
        .as_i64()
        .or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
}

/// A claim that must be a non-empty string.
pub(crate) fn text<'c>(claims: &'c Claims, name: &str) -> Option<&'c str> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
}
