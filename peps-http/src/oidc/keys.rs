//! The provider's signing keys (JWKS), kept in memory. A token naming a key PEPS does not
//! know makes PEPS fetch the set again (the provider may have rotated its keys), at most once
//! per [`REFETCH_INTERVAL`] whatever tokens arrive, so forged `kid`s cannot make PEPS hammer
//! the provider. The set is also refreshed when older than [`MAX_AGE`], so a key the provider
//! withdrew stops being trusted.

use super::http;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey};
use peps_core::ports::SignInError;
use serde::Deserialize;
use tokio::sync::Mutex;

/// The shortest time between two fetches of the key set prompted by an unknown `kid`.
pub(crate) const REFETCH_INTERVAL: Duration = Duration::seconds(60);
/// Past this age the set is fetched again before use.
pub(crate) const MAX_AGE: Duration = Duration::hours(1);
/// The smallest RSA modulus accepted (ANSSI: 2048 bits).
const MIN_RSA_BYTES: usize = 256;
/// More keys than this in a set is not a provider's key set.
const MAX_KEYS: usize = 64;

/// One public key as published (RFC 7517); private members, if a provider ever sent any, are
/// never read.
#[derive(Debug, Clone, Deserialize)]
struct PublishedKey {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default, rename = "use")]
    usage: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

impl PublishedKey {
    /// The verification key for `alg`, if this key may verify it: a signing key of the
    /// algorithm's family and curve, whose own `alg`, if any, is that algorithm.
    fn decoding_key(&self, alg: Algorithm, alg_name: &str) -> Option<DecodingKey> {
        if self.usage.as_deref().is_some_and(|usage| usage != "sig") {
            return None;
        }
        if self.alg.as_deref().is_some_and(|own| own != alg_name) {
            return None;
        }
        match (self.kty.as_str(), alg) {
            ("EC", Algorithm::ES256 | Algorithm::ES384) => {
                let curve = if alg == Algorithm::ES256 {
                    "P-256"
                } else {
                    "P-384"
                };
                if self.crv.as_deref() != Some(curve) {
                    return None;
                }
                DecodingKey::from_ec_components(self.x.as_deref()?, self.y.as_deref()?).ok()
            }
            ("RSA", Algorithm::RS256 | Algorithm::PS256) => {
                let n = self.n.as_deref()?;
                let modulus = URL_SAFE_NO_PAD.decode(n).ok()?;
                let significant = modulus.iter().skip_while(|byte| **byte == 0).count();
                if significant < MIN_RSA_BYTES {
                    return None;
                }
                DecodingKey::from_rsa_components(n, self.e.as_deref()?).ok()
            }
            ("OKP", Algorithm::EdDSA) => {
                if self.crv.as_deref() != Some("Ed25519") {
                    return None;
                }
                DecodingKey::from_ed_components(self.x.as_deref()?).ok()
            }
            _ => None,
        }
    }
}

struct KeySet {
    keys: Vec<PublishedKey>,
    fetched_at: DateTime<Utc>,
}

impl KeySet {
    /// The one key that may verify a token with this header. Without a `kid`, only a set with
    /// a single usable key answers.
    fn find(&self, kid: Option<&str>, alg: Algorithm, alg_name: &str) -> Option<DecodingKey> {
        let mut usable = self
            .keys
            .iter()
            .filter(|key| match kid {
                Some(kid) => key.kid.as_deref() == Some(kid),
                None => true,
            })
            .filter_map(|key| key.decoding_key(alg, alg_name));
        let first = usable.next()?;
        match (kid, usable.next()) {
            (None, Some(_)) => None,
            _ => Some(first),
        }
    }
}

#[derive(Default)]
pub(crate) struct KeyCache {
    set: Mutex<Option<KeySet>>,
}

impl KeyCache {
    /// The key that verifies a token whose header says `kid` and `alg`, fetching the set when
    /// PEPS has none, when it is stale, or (bounded) when the `kid` is unknown.
    pub async fn key_for(
        &self,
        client: &reqwest::Client,
        jwks_uri: &str,
        kid: Option<&str>,
        alg: Algorithm,
        alg_name: &str,
        now: DateTime<Utc>,
    ) -> Result<DecodingKey, SignInError> {
        let mut set = self.set.lock().await;
        let fresh = set
            .as_ref()
            .is_some_and(|set| now - set.fetched_at <= MAX_AGE && set.fetched_at <= now);
        let mut fetched_now = false;
        if !fresh {
            *set = Some(fetch(client, jwks_uri, now).await?);
            fetched_now = true;
        }
        let current = set.as_ref().ok_or(SignInError::Unavailable)?;
        if let Some(key) = current.find(kid, alg, alg_name) {
            return Ok(key);
        }
        if fetched_now || now - current.fetched_at < REFETCH_INTERVAL {
            return Err(SignInError::Rejected("oidc.unknown_key"));
        }
        let refetched = fetch(client, jwks_uri, now).await?;
        let key = refetched.find(kid, alg, alg_name);
        *set = Some(refetched);
        key.ok_or(SignInError::Rejected("oidc.unknown_key"))
    }
}

async fn fetch(
    client: &reqwest::Client,
    jwks_uri: &str,
    now: DateTime<Utc>,
) -> Result<KeySet, SignInError> {
    #[derive(Deserialize)]
    struct Published {
        keys: Vec<serde_json::Value>,
    }
    let answer = http::send(client.get(jwks_uri)).await?;
    if !answer.status.is_success() {
        tracing::warn!(status = answer.status.as_u16(), "OpenID key set not served");
        return Err(SignInError::Unavailable);
    }
    let published: Published =
        serde_json::from_slice(&answer.body).map_err(|_| SignInError::Rejected("oidc.jwks"))?;
    if published.keys.len() > MAX_KEYS {
        return Err(SignInError::Rejected("oidc.jwks"));
    }
    // A key of a kind this adapter does not read is skipped, not an error for the others.
    let keys = published
        .keys
        .into_iter()
        .filter_map(|key| serde_json::from_value(key).ok())
        .collect();
    Ok(KeySet {
        keys,
        fetched_at: now,
    })
}
