//! What one OpenID provider needs to be configured with, checked once at start-up.

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use std::fmt;

/// The only signature algorithms an ID token (or a signed userinfo) may be configured for: all
/// asymmetric. `none` and the HMAC family (`HS*`, keyed with the client secret, which the
/// provider and every holder of the secret share) are refused, as ANSSI recommends and as
/// FranceConnect v2 requires.
pub const ALLOWED_ALGORITHMS: &[&str] = &["ES256", "ES384", "RS256", "PS256", "EdDSA"];

/// The largest clock skew tolerated between PEPS and a provider.
pub const MAX_CLOCK_SKEW_SECONDS: u32 = 300;

/// How PEPS authenticates itself at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    /// HTTP Basic with the url-encoded client id and secret (RFC 6749 §2.3.1); the OpenID
    /// default.
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body (FranceConnect, ProConnect).
    ClientSecretPost,
}

/// One configured OpenID provider. Unknown fields are refused so a misspelt option is an
/// error at start-up, not a silently weaker check.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenIdSettings {
    /// The provider's key (`franceconnect`, `proconnect`, …), as stored in account links.
    pub key: String,
    /// The issuer, exactly as the provider's discovery document and tokens spell it.
    pub issuer: String,
    pub client_id: String,
    /// Never logged, never printed by `Debug`.
    pub client_secret: String,
    /// Must contain `openid`.
    pub scopes: Vec<String>,
    /// Sent as `acr_values` (space separated) when not empty.
    #[serde(default)]
    pub acr_values: Vec<String>,
    /// When not empty, the ID token's `acr` must be one of these.
    #[serde(default)]
    pub accepted_acr: Vec<String>,
    pub redirect_uri: String,
    pub post_logout_redirect_uri: String,
    /// Signature algorithms accepted for the ID token and a signed userinfo.
    #[serde(default = "default_algorithms")]
    pub id_token_algorithms: Vec<String>,
    /// The userinfo endpoint answers with a signed JWT (`application/jwt`), verified like an
    /// ID token.
    #[serde(default)]
    pub userinfo_signed: bool,
    #[serde(default)]
    pub token_auth: TokenAuth,
    #[serde(default = "default_skew")]
    pub clock_skew_seconds: u32,
    /// Carried for the core (which roles an account opened through this provider may hold).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Sent as `prompt` when set (`login`, or FranceConnect's `login consent`).
    #[serde(default)]
    pub prompt: Option<String>,
    /// The provider vouches for every address it sends, whatever `email_verified` says
    /// (ProConnect: see [`OpenIdSettings::proconnect`]).
    #[serde(default)]
    pub email_always_verified: bool,
}

fn default_algorithms() -> Vec<String> {
    vec!["ES256".to_owned(), "RS256".to_owned()]
}

fn default_skew() -> u32 {
    60
}

impl fmt::Debug for OpenIdSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenIdSettings")
            .field("key", &self.key)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("scopes", &self.scopes)
            .field("acr_values", &self.acr_values)
            .field("accepted_acr", &self.accepted_acr)
            .field("redirect_uri", &self.redirect_uri)
            .field("post_logout_redirect_uri", &self.post_logout_redirect_uri)
            .field("id_token_algorithms", &self.id_token_algorithms)
            .field("userinfo_signed", &self.userinfo_signed)
            .field("token_auth", &self.token_auth)
            .field("clock_skew_seconds", &self.clock_skew_seconds)
            .field("roles", &self.roles)
            .field("prompt", &self.prompt)
            .field("email_always_verified", &self.email_always_verified)
            .finish()
    }
}

/// Why a provider's settings cannot be used. Refused at construction, before any sign-in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "OpenID provider {provider}: algorithm {algorithm:?} is not allowed (only asymmetric \
         ES256, ES384, RS256, PS256, EdDSA; never `none` nor HS*)"
    )]
    ForbiddenAlgorithm { provider: String, algorithm: String },
    #[error("OpenID provider {provider}: id_token_algorithms is empty")]
    NoAlgorithm { provider: String },
    #[error("OpenID provider {provider}: clock_skew_seconds {seconds} is above the maximum of 300")]
    ClockSkewTooLarge { provider: String, seconds: u32 },
    #[error("OpenID provider {provider}: scopes must contain `openid`")]
    MissingOpenIdScope { provider: String },
    #[error("OpenID provider {provider}: {field} must be an https URL (http only on localhost)")]
    InsecureUrl {
        provider: String,
        field: &'static str,
    },
    #[error("OpenID provider {provider}: {field} is empty")]
    Empty {
        provider: String,
        field: &'static str,
    },
    #[error("OpenID provider {provider}: the HTTP client could not be built")]
    HttpClient { provider: String },
}

impl OpenIdSettings {
    /// FranceConnect v2, for persons. Sources (read 2026):
    /// - <https://docs.partenaires.franceconnect.gouv.fr/fs/migration/fs-migration-diff-v1-v2/>:
    ///   v2 signs with asymmetric algorithms only, ES256 recommended (RS256 the other choice);
    ///   the userinfo response is signed and must be verified; `acr_values` is mandatory on
    ///   `/api/v2/authorize`; the `address` and `phone` scopes are gone.
    /// - <https://docs.partenaires.franceconnect.gouv.fr/fs/fs-technique/fs-technique-endpoints/>:
    ///   discovery at `{issuer}/.well-known/openid-configuration` (issuer ending in `/api/v2`,
    ///   e.g. `https://fcp-low.integ01.dev-franceconnect.fr/api/v2` in integration), keys at
    ///   `/api/v2/jwks`, `end_session_endpoint` with `id_token_hint`, `state` and
    ///   `post_logout_redirect_uri`.
    ///
    /// Scopes: `openid given_name family_name birthdate email`; `acr_values=eidas1`, and any
    /// eIDAS level from substantial up is accepted too (`eidas1`, `eidas2`, `eidas3`); ES256
    /// only; client authentication in the body (`client_secret_post`); `prompt=login consent`.
    /// Check each against the service's habilitation before going live.
    pub fn franceconnect_v2(
        issuer: &str,
        client_id: &str,
        client_secret: &str,
        redirect_uri: &str,
        post_logout_redirect_uri: &str,
    ) -> Self {
        OpenIdSettings {
            key: "franceconnect".to_owned(),
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            scopes: words("openid given_name family_name birthdate email"),
            acr_values: words("eidas1"),
            accepted_acr: words("eidas1 eidas2 eidas3"),
            redirect_uri: redirect_uri.to_owned(),
            post_logout_redirect_uri: post_logout_redirect_uri.to_owned(),
            id_token_algorithms: words("ES256"),
            userinfo_signed: true,
            token_auth: TokenAuth::ClientSecretPost,
            clock_skew_seconds: default_skew(),
            roles: Vec::new(),
            prompt: Some("login consent".to_owned()),
            email_always_verified: false,
        }
    }

    /// ProConnect (formerly AgentConnect), for staff of public bodies and their partners.
    /// Sources (read 2026): the ProConnect partner documentation
    /// (<https://partenaires.proconnect.gouv.fr/docs/fournisseur-service> and
    /// <https://github.com/numerique-gouv/proconnect-documentation>): scopes
    /// `openid email given_name usual_name uid siret`, ID token and userinfo signed with RS256
    /// (userinfo as `application/jwt`), the family name comes as `usual_name`, client
    /// authentication in the body, logout through `end_session_endpoint`.
    ///
    /// The address is taken as verified: ProConnect only federates identity providers that
    /// prove the professional address (a ministry's directory, or ProConnect Identité, which
    /// sends a one-time code to the address before the account can be used), and sends no
    /// `email_verified` claim.
    pub fn proconnect(
        issuer: &str,
        client_id: &str,
        client_secret: &str,
        redirect_uri: &str,
        post_logout_redirect_uri: &str,
    ) -> Self {
        OpenIdSettings {
            key: "proconnect".to_owned(),
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            scopes: words("openid email given_name usual_name uid siret"),
            acr_values: Vec::new(),
            accepted_acr: Vec::new(),
            redirect_uri: redirect_uri.to_owned(),
            post_logout_redirect_uri: post_logout_redirect_uri.to_owned(),
            id_token_algorithms: words("RS256"),
            userinfo_signed: true,
            token_auth: TokenAuth::ClientSecretPost,
            clock_skew_seconds: default_skew(),
            roles: Vec::new(),
            prompt: None,
            email_always_verified: true,
        }
    }

    /// Checks everything that can be checked without the network, and returns the accepted
    /// algorithms.
    pub fn validate(&self) -> Result<Vec<Algorithm>, SettingsError> {
        let provider = || self.key.clone();
        for (field, value) in [
            ("key", &self.key),
            ("issuer", &self.issuer),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("redirect_uri", &self.redirect_uri),
            ("post_logout_redirect_uri", &self.post_logout_redirect_uri),
        ] {
            if value.trim().is_empty() {
                return Err(SettingsError::Empty {
                    provider: provider(),
                    field,
                });
            }
        }
        for (field, value) in [
            ("issuer", &self.issuer),
            ("redirect_uri", &self.redirect_uri),
            ("post_logout_redirect_uri", &self.post_logout_redirect_uri),
        ] {
            if !is_secure_url(value) {
                return Err(SettingsError::InsecureUrl {
                    provider: provider(),
                    field,
                });
            }
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(SettingsError::MissingOpenIdScope {
                provider: provider(),
            });
        }
        if self.clock_skew_seconds > MAX_CLOCK_SKEW_SECONDS {
            return Err(SettingsError::ClockSkewTooLarge {
                provider: provider(),
                seconds: self.clock_skew_seconds,
            });
        }
        if self.id_token_algorithms.is_empty() {
            return Err(SettingsError::NoAlgorithm {
                provider: provider(),
            });
        }
        self.id_token_algorithms
            .iter()
            .map(|name| {
                allowed_algorithm(name).ok_or_else(|| SettingsError::ForbiddenAlgorithm {
                    provider: provider(),
                    algorithm: name.clone(),
                })
            })
            .collect()
    }
}

/// The algorithm a JWT header names, if it is one this adapter may ever accept. `none`, HS*
/// and everything else give `None`.
pub(crate) fn allowed_algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "ES256" => Some(Algorithm::ES256),
        "ES384" => Some(Algorithm::ES384),
        "RS256" => Some(Algorithm::RS256),
        "PS256" => Some(Algorithm::PS256),
        "EdDSA" => Some(Algorithm::EdDSA),
        _ => None,
    }
}

/// `https://…`, or `http://` to this machine only (development and tests).
pub(crate) fn is_secure_url(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    match parsed.scheme() {
        "https" => parsed.host().is_some(),
        "http" => matches!(
            parsed.host_str(),
            Some("127.0.0.1") | Some("localhost") | Some("[::1]")
        ),
        _ => false,
    }
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> OpenIdSettings {
        OpenIdSettings::proconnect(
            "https://idp.example/api/v2",
            "client",
            "very-secret-value",
            "https://peps.example/callback",
            "https://peps.example/",
        )
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let text = format!("{:?}", sample());
        assert!(!text.contains("very-secret-value"), "{text}");
        assert!(text.contains("[redacted]"));
    }

    #[test]
    fn none_and_hmac_are_refused_at_construction() {
        for alg in ["none", "HS256", "HS512", "RS1", ""] {
            let mut settings = sample();
            settings.id_token_algorithms = vec!["RS256".to_owned(), alg.to_owned()];
            assert_eq!(
                settings.validate(),
                Err(SettingsError::ForbiddenAlgorithm {
                    provider: "proconnect".to_owned(),
                    algorithm: alg.to_owned(),
                }),
            );
        }
    }

    #[test]
    fn presets_are_valid_and_skew_is_bounded() {
        assert_eq!(sample().validate(), Ok(vec![Algorithm::RS256]));
        let fc = OpenIdSettings::franceconnect_v2(
            "https://fc.example/api/v2",
            "c",
            "s",
            "https://peps.example/cb",
            "https://peps.example/",
        );
        assert_eq!(fc.validate(), Ok(vec![Algorithm::ES256]));
        let mut skewed = sample();
        skewed.clock_skew_seconds = 301;
        assert!(matches!(
            skewed.validate(),
            Err(SettingsError::ClockSkewTooLarge { .. })
        ));
        let mut plain = sample();
        plain.issuer = "http://idp.example".to_owned();
        assert!(matches!(
            plain.validate(),
            Err(SettingsError::InsecureUrl {
                field: "issuer",
                ..
            })
        ));
    }

    #[test]
    fn unknown_fields_are_refused_and_defaults_apply() {
        let text = r#"{"key":"k","issuer":"https://i.example","client_id":"c",
            "client_secret":"s","scopes":["openid"],"redirect_uri":"https://p.example/cb",
            "post_logout_redirect_uri":"https://p.example/"}"#;
        let settings: OpenIdSettings = serde_json::from_str(text).expect("valid settings");
        assert_eq!(settings.id_token_algorithms, ["ES256", "RS256"]);
        assert_eq!(settings.clock_skew_seconds, 60);
        assert_eq!(settings.token_auth, TokenAuth::ClientSecretBasic);
        let typo = text.replace("\"scopes\"", "\"scope\":[],\"scopes\"");
        assert!(serde_json::from_str::<OpenIdSettings>(&typo).is_err());
    }
}
