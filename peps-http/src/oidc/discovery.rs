//! The provider's discovery document (`{issuer}/.well-known/openid-configuration`), fetched on
//! first use and kept; a failed fetch is not kept, so the next sign-in tries again.

use super::http;
use super::settings::is_secure_url;
use peps_core::ports::SignInError;
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::Mutex;

/// The endpoints PEPS uses. Every URL must be https (http on localhost only).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

#[derive(Default)]
pub(crate) struct Discovery {
    cached: Mutex<Option<Arc<ProviderMetadata>>>,
}

impl Discovery {
    /// The provider's metadata, fetched once. The lock is held during the fetch so concurrent
    /// first sign-ins make one request.
    pub async fn get(
        &self,
        client: &reqwest::Client,
        issuer: &str,
    ) -> Result<Arc<ProviderMetadata>, SignInError> {
        let mut cached = self.cached.lock().await;
        if let Some(metadata) = cached.as_ref() {
            return Ok(metadata.clone());
        }
        let metadata = Arc::new(fetch(client, issuer).await?);
        *cached = Some(metadata.clone());
        Ok(metadata)
    }
}

async fn fetch(client: &reqwest::Client, issuer: &str) -> Result<ProviderMetadata, SignInError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let answer = http::send(client.get(url)).await?;
    if !answer.status.is_success() {
        tracing::warn!(
            status = answer.status.as_u16(),
            "OpenID discovery document not served"
        );
        return Err(SignInError::Unavailable);
    }
    let metadata: ProviderMetadata = serde_json::from_slice(&answer.body)
        .map_err(|_| SignInError::Rejected("oidc.discovery"))?;
    // OpenID Connect Discovery §4.3: the issuer must be exactly the one configured, or a
    // document served elsewhere could name other endpoints and keys.
    if metadata.issuer != issuer {
        tracing::warn!("OpenID discovery document names another issuer");
        return Err(SignInError::Rejected("oidc.discovery_issuer"));
    }
    let urls = [
        Some(&metadata.authorization_endpoint),
        Some(&metadata.token_endpoint),
        Some(&metadata.jwks_uri),
        metadata.userinfo_endpoint.as_ref(),
        metadata.end_session_endpoint.as_ref(),
    ];
    if urls.into_iter().flatten().any(|url| !is_secure_url(url)) {
        return Err(SignInError::Rejected("oidc.discovery"));
    }
    Ok(metadata)
}
