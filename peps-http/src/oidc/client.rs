//! [`OpenIdClient`]: the relying party for one provider, implementing the core's
//! [`OpenIdProvider`] port (authorization code flow with PKCE S256, nonce and state).

use super::discovery::{Discovery, ProviderMetadata};
use super::http;
use super::keys::KeyCache;
use super::settings::{OpenIdSettings, SettingsError, TokenAuth};
use super::tokens::{Claims, Expected, Verifier, text};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::Algorithm;
use peps_core::ports::{
    AuthorizationStart, OpenIdProvider, PendingSignIn, ProvenIdentity, SignInError,
};
use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// Random bytes behind each `state`, `nonce` and PKCE verifier: 256 bits, 43 base64url
/// characters (PKCE asks for 43 to 128).
const RANDOM_BYTES: usize = 32;

/// The relying party for one configured provider. Cheap to share (`Arc<dyn OpenIdProvider>`);
/// holds the provider's discovery document and keys once fetched.
pub struct OpenIdClient {
    settings: OpenIdSettings,
    algorithms: Vec<Algorithm>,
    http: reqwest::Client,
    discovery: Discovery,
    keys: KeyCache,
    random: SystemRandom,
}

impl fmt::Debug for OpenIdClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `settings` redacts the secret itself.
        f.debug_struct("OpenIdClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl OpenIdClient {
    /// Checks the settings (algorithms, skew, URLs, scopes) and builds the client. Makes no
    /// request: the provider is first contacted at the first sign-in.
    pub fn new(settings: OpenIdSettings) -> Result<Self, SettingsError> {
        let algorithms = settings.validate()?;
        let http = http::client().map_err(|_| SettingsError::HttpClient {
            provider: settings.key.clone(),
        })?;
        Ok(OpenIdClient {
            settings,
            algorithms,
            http,
            discovery: Discovery::default(),
            keys: KeyCache::default(),
            random: SystemRandom::new(),
        })
    }

    pub fn settings(&self) -> &OpenIdSettings {
        &self.settings
    }

    async fn metadata(&self) -> Result<Arc<ProviderMetadata>, SignInError> {
        self.discovery.get(&self.http, &self.settings.issuer).await
    }

    fn random_token(&self) -> Result<String, SignInError> {
        let mut bytes = [0u8; RANDOM_BYTES];
        self.random
            .fill(&mut bytes)
            .map_err(|_| SignInError::Unavailable)?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    fn expected(&self, now: DateTime<Utc>) -> Expected<'_> {
        Expected {
            issuer: &self.settings.issuer,
            client_id: &self.settings.client_id,
            now,
            skew_seconds: i64::from(self.settings.clock_skew_seconds),
        }
    }

    fn verifier<'a>(&'a self, metadata: &'a ProviderMetadata) -> Verifier<'a> {
        Verifier {
            client: &self.http,
            keys: &self.keys,
            jwks_uri: &metadata.jwks_uri,
            algorithms: &self.algorithms,
        }
    }

    /// POSTs the code to the token endpoint; returns the ID token and access token.
    async fn exchange(
        &self,
        metadata: &ProviderMetadata,
        pending: &PendingSignIn,
        code: &str,
    ) -> Result<TokenResponse, SignInError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.settings.redirect_uri.as_str()),
            ("code_verifier", pending.code_verifier.as_str()),
        ];
        let mut request = self.http.post(&metadata.token_endpoint);
        match self.settings.token_auth {
            TokenAuth::ClientSecretBasic => {
                request = request.basic_auth(
                    http::form_encode(&self.settings.client_id),
                    Some(http::form_encode(&self.settings.client_secret)),
                );
            }
            TokenAuth::ClientSecretPost => {
                form.push(("client_id", self.settings.client_id.as_str()));
                form.push(("client_secret", self.settings.client_secret.as_str()));
            }
        }
        let answer = http::send(request.form(&form)).await?;
        let body: Value = serde_json::from_slice(&answer.body)
            .map_err(|_| SignInError::Rejected("oidc.token_response"))?;
        if let Some(error) = body.get("error") {
            return Err(SignInError::Refused(error_code(error)));
        }
        if !answer.status.is_success() {
            return Err(SignInError::Refused("invalid_response".to_owned()));
        }
        let tokens: TokenResponse = serde_json::from_value(body)
            .map_err(|_| SignInError::Rejected("oidc.token_response"))?;
        if !tokens.token_type.eq_ignore_ascii_case("bearer") {
            return Err(SignInError::Rejected("oidc.token_response"));
        }
        Ok(tokens)
    }

    /// Checks every claim of a verified ID token.
    fn check_id_token(
        &self,
        claims: &Claims,
        pending: &PendingSignIn,
        now: DateTime<Utc>,
    ) -> Result<(), SignInError> {
        let expected = self.expected(now);
        expected.issuer(claims)?;
        expected.audience(claims)?;
        expected.times(claims, true)?;
        match text(claims, "nonce") {
            Some(nonce) if nonce == pending.nonce => {}
            _ => return Err(SignInError::Rejected("oidc.nonce")),
        }
        if text(claims, "sub").is_none() {
            return Err(SignInError::Rejected("oidc.subject"));
        }
        if !self.settings.accepted_acr.is_empty() {
            let acr = text(claims, "acr");
            if !acr.is_some_and(|acr| self.settings.accepted_acr.iter().any(|ok| ok == acr)) {
                return Err(SignInError::Rejected("oidc.acr"));
            }
        }
        Ok(())
    }

    /// Calls userinfo with the access token. A signed answer is verified like an ID token;
    /// either way its `sub` must be the ID token's (OpenID Connect Core §5.3.2). Any failed
    /// check is `oidc.userinfo`.
    async fn userinfo(
        &self,
        metadata: &ProviderMetadata,
        access_token: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Claims>, SignInError> {
        let Some(endpoint) = metadata.userinfo_endpoint.as_deref() else {
            return if self.settings.userinfo_signed {
                Err(SignInError::Rejected("oidc.userinfo"))
            } else {
                Ok(None)
            };
        };
        let rejected = SignInError::Rejected("oidc.userinfo");
        let answer = http::send(self.http.get(endpoint).bearer_auth(access_token)).await?;
        if !answer.status.is_success() {
            return Err(rejected);
        }
        let claims = if self.settings.userinfo_signed {
            if answer.media_type() != "application/jwt" {
                return Err(rejected);
            }
            let token = std::str::from_utf8(&answer.body).map_err(|_| rejected.clone())?;
            let claims = self
                .verifier(metadata)
                .verify(token.trim(), now)
                .await
                .map_err(|error| match error {
                    SignInError::Unavailable => SignInError::Unavailable,
                    _ => rejected.clone(),
                })?;
            let expected = self.expected(now);
            expected
                .issuer(&claims)
                .and_then(|()| expected.audience(&claims))
                .and_then(|()| expected.times(&claims, false))
                .map_err(|_| rejected.clone())?;
            claims
        } else {
            serde_json::from_slice::<Claims>(&answer.body).map_err(|_| rejected.clone())?
        };
        if text(&claims, "sub") != Some(subject) {
            return Err(rejected);
        }
        Ok(Some(claims))
    }

    fn identity(
        &self,
        id_claims: &Claims,
        userinfo: Option<&Claims>,
        id_token: String,
    ) -> ProvenIdentity {
        // The userinfo answer is the provider's fuller account of the person; the ID token
        // fills in what it lacks.
        let claim = |name: &str| {
            userinfo
                .and_then(|claims| text(claims, name))
                .or_else(|| text(id_claims, name))
                .map(str::to_owned)
        };
        let email_verified = self.settings.email_always_verified
            || [userinfo, Some(id_claims)]
                .into_iter()
                .flatten()
                .filter_map(|claims| claims.get("email_verified"))
                .next()
                .is_some_and(|value| {
                    value.as_bool() == Some(true) || value.as_str() == Some("true")
                });
        let email = claim("email");
        ProvenIdentity {
            provider: self.settings.key.clone(),
            subject: text(id_claims, "sub").unwrap_or_default().to_owned(),
            acr: text(id_claims, "acr").map(str::to_owned),
            given_name: claim("given_name"),
            family_name: claim("family_name").or_else(|| claim("usual_name")),
            email_verified: email_verified && email.is_some(),
            email,
            siret: claim("siret"),
            birthdate: claim("birthdate"),
            id_token,
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    id_token: String,
    token_type: String,
}

/// The provider's `error` as a short code for the page and the logs: RFC 6749 codes are
/// `[\x20-\x21\x23-\x5B\x5D-\x7E]+`; anything longer or odder is not repeated.
fn error_code(error: &Value) -> String {
    match error.as_str() {
        Some(code)
            if !code.is_empty()
                && code.len() <= 64
                && code
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.') =>
        {
            code.to_owned()
        }
        _ => "invalid_error".to_owned(),
    }
}

#[async_trait]
impl OpenIdProvider for OpenIdClient {
    fn key(&self) -> &str {
        &self.settings.key
    }

    async fn start(&self, now: DateTime<Utc>) -> Result<AuthorizationStart, SignInError> {
        let metadata = self.metadata().await?;
        let state = self.random_token()?;
        let nonce = self.random_token()?;
        let code_verifier = self.random_token()?;
        let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            code_verifier.as_bytes(),
        ));
        let mut url = reqwest::Url::parse(&metadata.authorization_endpoint)
            .map_err(|_| SignInError::Rejected("oidc.discovery"))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.settings.client_id)
                .append_pair("redirect_uri", &self.settings.redirect_uri)
                .append_pair("scope", &self.settings.scopes.join(" "))
                .append_pair("state", &state)
                .append_pair("nonce", &nonce)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256");
            if !self.settings.acr_values.is_empty() {
                query.append_pair("acr_values", &self.settings.acr_values.join(" "));
            }
            if let Some(prompt) = &self.settings.prompt {
                query.append_pair("prompt", prompt);
            }
        }
        Ok(AuthorizationStart {
            url: url.into(),
            pending: PendingSignIn {
                provider: self.settings.key.clone(),
                state,
                nonce,
                code_verifier,
                created_at: now,
            },
        })
    }

    async fn finish(
        &self,
        pending: &PendingSignIn,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<ProvenIdentity, SignInError> {
        if pending.provider != self.settings.key {
            return Err(SignInError::Rejected("oidc.provider"));
        }
        let metadata = self.metadata().await?;
        let tokens = self.exchange(&metadata, pending, code).await?;
        let id_claims = self
            .verifier(&metadata)
            .verify(&tokens.id_token, now)
            .await?;
        self.check_id_token(&id_claims, pending, now)?;
        let subject = text(&id_claims, "sub").unwrap_or_default();
        let userinfo = self
            .userinfo(&metadata, &tokens.access_token, subject, now)
            .await?;
        Ok(self.identity(&id_claims, userinfo.as_ref(), tokens.id_token))
    }

    async fn logout_url(&self, id_token: &str, state: &str) -> Result<Option<String>, SignInError> {
        let metadata = self.metadata().await?;
        let Some(endpoint) = metadata.end_session_endpoint.as_deref() else {
            return Ok(None);
        };
        let mut url =
            reqwest::Url::parse(endpoint).map_err(|_| SignInError::Rejected("oidc.discovery"))?;
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token)
            .append_pair("state", state)
            .append_pair(
                "post_logout_redirect_uri",
                &self.settings.post_logout_redirect_uri,
            );
        Ok(Some(url.into()))
    }
}
