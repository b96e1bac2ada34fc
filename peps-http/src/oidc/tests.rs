//! The adapter against a real provider: a poem server on 127.0.0.1:0 serving discovery, keys,
//! token and userinfo, with keys generated at test time (ES256) or a test-only RSA key. Each
//! test chooses what the token endpoint answers and asserts the exact outcome.

use super::{OpenIdClient, OpenIdSettings, TokenAuth};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, TimeZone, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use peps_core::ports::{OpenIdProvider, PendingSignIn, ProvenIdentity, SignInError};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{EndpointExt, Request, Response, Route, Server, get, handler, post};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const CLIENT_ID: &str = "peps-client";
const SUBJECT: &str = "person-1";

/// A test-only RSA key (generated once with `openssl genrsa -traditional 2048`); it signs
/// nothing but these tests' tokens.
const TEST_ONLY_RSA_KEY: &str = include_str!("test_only_rsa_key.pem");

struct TestKey {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
    /// What an attacker knows: the public key bytes (used to forge an HS256 token).
    public: Vec<u8>,
}

fn ec_key(kid: &str) -> TestKey {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .expect("key generated");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .expect("key read");
    let public = pair.public_key().as_ref().to_vec();
    TestKey {
        kid: kid.to_owned(),
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&public[33..65]),
        }),
        public,
    }
}

fn rsa_key(kid: &str) -> TestKey {
    let body: String = TEST_ONLY_RSA_KEY
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(body).expect("test key is base64");
    let pair = ring::signature::RsaKeyPair::from_der(&der).expect("test key is PKCS#1");
    let components: ring::rsa::PublicKeyComponents<Vec<u8>> = pair.public().into();
    TestKey {
        kid: kid.to_owned(),
        alg: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_der(&der),
        jwk: json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(&components.n),
            "e": URL_SAFE_NO_PAD.encode(&components.e),
        }),
        public: pair.public().as_ref().to_vec(),
    }
}

fn sign(key: &TestKey, claims: &Value) -> String {
    let mut header = Header::new(key.alg);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).expect("token signed")
}

/// What the test provider serves; each test changes it as it needs.
#[derive(Default)]
struct Provider {
    issuer: Mutex<String>,
    /// Set to serve a discovery document naming another issuer.
    discovery_issuer: Mutex<Option<String>>,
    end_session: Mutex<bool>,
    jwks: Mutex<Vec<Value>>,
    jwks_hits: AtomicUsize,
    token: Mutex<(u16, Value)>,
    /// Each token request as (Authorization header, form body).
    token_requests: Mutex<Vec<(String, String)>>,
    /// (status, content type, body)
    userinfo: Mutex<(u16, String, String)>,
    userinfo_bearer: Mutex<Option<String>>,
}

#[handler]
fn discovery_endpoint(Data(provider): Data<&Arc<Provider>>) -> poem::web::Json<Value> {
    let issuer = provider.issuer.lock().expect("lock").clone();
    let named = provider
        .discovery_issuer
        .lock()
        .expect("lock")
        .clone()
        .unwrap_or_else(|| issuer.clone());
    let mut doc = json!({
        "issuer": named,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
    });
    if *provider.end_session.lock().expect("lock") {
        doc["end_session_endpoint"] = json!(format!("{issuer}/session/end"));
    }
    poem::web::Json(doc)
}

#[handler]
fn jwks_endpoint(Data(provider): Data<&Arc<Provider>>) -> poem::web::Json<Value> {
    provider.jwks_hits.fetch_add(1, Ordering::SeqCst);
    poem::web::Json(json!({ "keys": provider.jwks.lock().expect("lock").clone() }))
}

#[handler]
fn token_endpoint(req: &Request, body: String, Data(provider): Data<&Arc<Provider>>) -> Response {
    let auth = req.header("authorization").unwrap_or_default().to_owned();
    provider
        .token_requests
        .lock()
        .expect("lock")
        .push((auth, body));
    let (status, answer) = provider.token.lock().expect("lock").clone();
    Response::builder()
        .status(StatusCode::from_u16(status).expect("status"))
        .content_type("application/json")
        .body(answer.to_string())
}

#[handler]
fn userinfo_endpoint(req: &Request, Data(provider): Data<&Arc<Provider>>) -> Response {
    *provider.userinfo_bearer.lock().expect("lock") =
        req.header("authorization").map(str::to_owned);
    let (status, content_type, body) = provider.userinfo.lock().expect("lock").clone();
    Response::builder()
        .status(StatusCode::from_u16(status).expect("status"))
        .content_type(content_type)
        .body(body)
}

struct Fixture {
    provider: Arc<Provider>,
    issuer: String,
    key: TestKey,
    client: OpenIdClient,
    now: DateTime<Utc>,
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .expect("a date")
}

fn settings(issuer: &str) -> OpenIdSettings {
    OpenIdSettings {
        key: "test".to_owned(),
        issuer: issuer.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        client_secret: "s3cret:with/odd chars".to_owned(),
        scopes: vec!["openid".to_owned(), "email".to_owned()],
        acr_values: vec!["eidas1".to_owned()],
        accepted_acr: Vec::new(),
        redirect_uri: "http://localhost/callback".to_owned(),
        post_logout_redirect_uri: "http://localhost/".to_owned(),
        id_token_algorithms: vec!["ES256".to_owned(), "RS256".to_owned()],
        userinfo_signed: true,
        token_auth: TokenAuth::ClientSecretBasic,
        clock_skew_seconds: 60,
        roles: Vec::new(),
        prompt: None,
        email_always_verified: false,
    }
}

async fn fixture_with(key: TestKey, adjust: impl FnOnce(&mut OpenIdSettings)) -> Fixture {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bound");
    let issuer = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    listener.set_nonblocking(true).expect("non-blocking");
    let acceptor = poem::listener::TcpAcceptor::from_std(listener).expect("acceptor");
    let provider = Arc::new(Provider::default());
    *provider.issuer.lock().expect("lock") = issuer.clone();
    *provider.end_session.lock().expect("lock") = true;
    *provider.jwks.lock().expect("lock") = vec![key.jwk.clone()];
    let app = Route::new()
        .at("/.well-known/openid-configuration", get(discovery_endpoint))
        .at("/jwks", get(jwks_endpoint))
        .at("/token", post(token_endpoint))
        .at("/userinfo", get(userinfo_endpoint))
        .data(provider.clone());
    tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
    let mut settings = settings(&issuer);
    adjust(&mut settings);
    let fixture = Fixture {
        client: OpenIdClient::new(settings).expect("valid settings"),
        provider,
        issuer,
        key,
        now: now(),
    };
    let userinfo = fixture.userinfo_claims(SUBJECT);
    fixture.serve_userinfo(&fixture.key, &userinfo);
    fixture
}

async fn fixture() -> Fixture {
    fixture_with(ec_key("key-1"), |_| {}).await
}

impl Fixture {
    fn id_claims(&self, nonce: &str) -> Value {
        let now = self.now.timestamp();
        json!({
            "iss": self.issuer, "aud": CLIENT_ID, "sub": SUBJECT, "nonce": nonce,
            "exp": now + 300, "iat": now, "acr": "eidas1",
        })
    }

    fn userinfo_claims(&self, sub: &str) -> Value {
        json!({
            "iss": self.issuer, "aud": CLIENT_ID, "sub": sub,
            "given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.org",
            "email_verified": true, "birthdate": "1815-12-10",
        })
    }

    fn serve_userinfo(&self, key: &TestKey, claims: &Value) {
        *self.provider.userinfo.lock().expect("lock") =
            (200, "application/jwt".to_owned(), sign(key, claims));
    }

    fn serve_token(&self, status: u16, body: Value) {
        *self.provider.token.lock().expect("lock") = (status, body);
    }

    fn serve_id_token(&self, id_token: String) {
        self.serve_token(
            200,
            json!({"access_token": "access-1", "token_type": "Bearer", "id_token": id_token}),
        );
    }

    fn jwks_hits(&self) -> usize {
        self.provider.jwks_hits.load(Ordering::SeqCst)
    }

    /// A whole sign-in at `at`: start, the token endpoint answers the ID token `make` builds
    /// for the pending sign-in, finish.
    async fn sign_in_at(
        &self,
        at: DateTime<Utc>,
        make: impl FnOnce(&Self, &PendingSignIn) -> String,
    ) -> Result<ProvenIdentity, SignInError> {
        let start = self.client.start(at).await?;
        let id_token = make(self, &start.pending);
        self.serve_id_token(id_token);
        self.client.finish(&start.pending, "code-1", at).await
    }

    async fn sign_in(
        &self,
        make: impl FnOnce(&Self, &PendingSignIn) -> String,
    ) -> Result<ProvenIdentity, SignInError> {
        self.sign_in_at(self.now, make).await
    }

    /// An ID token with one claim changed.
    async fn sign_in_with(&self, name: &str, value: Value) -> Result<ProvenIdentity, SignInError> {
        self.sign_in(|fx, pending| {
            let mut claims = fx.id_claims(&pending.nonce);
            claims[name] = value;
            sign(&fx.key, &claims)
        })
        .await
    }
}

fn good(fx: &Fixture, pending: &PendingSignIn) -> String {
    sign(&fx.key, &fx.id_claims(&pending.nonce))
}

fn query_param(url: &str, name: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .expect("url")
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn form_param(body: &str, name: &str) -> Option<String> {
    query_param(&format!("http://x/?{body}"), name)
}

#[tokio::test]
async fn happy_path_es256_checks_pkce_and_maps_the_identity() {
    let fx = fixture().await;
    let start = fx.client.start(fx.now).await.expect("started");
    let url = &start.url;
    assert!(
        url.starts_with(&format!("{}/authorize?", fx.issuer)),
        "{url}"
    );
    assert_eq!(query_param(url, "response_type").as_deref(), Some("code"));
    assert_eq!(query_param(url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(query_param(url, "scope").as_deref(), Some("openid email"));
    assert_eq!(query_param(url, "acr_values").as_deref(), Some("eidas1"));
    assert_eq!(
        query_param(url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(query_param(url, "state"), Some(start.pending.state.clone()));
    assert_eq!(query_param(url, "nonce"), Some(start.pending.nonce.clone()));
    assert_eq!(start.pending.state.len(), 43);
    assert_ne!(start.pending.state, start.pending.nonce);
    let verifier = &start.pending.code_verifier;
    assert!((43..=128).contains(&verifier.len()));
    assert!(
        !url.contains(verifier.as_str()),
        "the verifier never goes to the browser"
    );
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    assert_eq!(query_param(url, "code_challenge"), Some(challenge));

    fx.serve_id_token(good(&fx, &start.pending));
    let identity = fx
        .client
        .finish(&start.pending, "code-1", fx.now)
        .await
        .expect("signed in");
    assert_eq!(identity.provider, "test");
    assert_eq!(identity.subject, SUBJECT);
    assert_eq!(identity.acr.as_deref(), Some("eidas1"));
    assert_eq!(identity.given_name.as_deref(), Some("Ada"));
    assert_eq!(identity.family_name.as_deref(), Some("Lovelace"));
    assert_eq!(identity.email.as_deref(), Some("ada@example.org"));
    assert!(identity.email_verified);
    assert_eq!(identity.birthdate.as_deref(), Some("1815-12-10"));
    assert_eq!(identity.siret, None);

    let requests = fx.provider.token_requests.lock().expect("lock").clone();
    let (auth, body) = &requests[0];
    assert_eq!(
        form_param(body, "grant_type").as_deref(),
        Some("authorization_code")
    );
    assert_eq!(form_param(body, "code").as_deref(), Some("code-1"));
    assert_eq!(form_param(body, "code_verifier").as_ref(), Some(verifier));
    assert_eq!(
        form_param(body, "redirect_uri").as_deref(),
        Some("http://localhost/callback")
    );
    assert_eq!(form_param(body, "client_secret"), None, "basic auth only");
    let basic = STANDARD.encode("peps-client:s3cret%3Awith%2Fodd+chars");
    assert_eq!(auth, &format!("Basic {basic}"));
    assert_eq!(
        fx.provider.userinfo_bearer.lock().expect("lock").as_deref(),
        Some("Bearer access-1")
    );
}

#[tokio::test]
async fn happy_path_rs256_with_client_secret_post_and_usual_name() {
    let fx = fixture_with(rsa_key("rsa-1"), |s| {
        s.token_auth = TokenAuth::ClientSecretPost;
        s.email_always_verified = true;
    })
    .await;
    let mut info = fx.userinfo_claims(SUBJECT);
    info.as_object_mut().expect("object").remove("family_name");
    info.as_object_mut()
        .expect("object")
        .remove("email_verified");
    info["usual_name"] = json!("Byron");
    info["siret"] = json!("21750001600019");
    fx.serve_userinfo(&fx.key, &info);
    let identity = fx.sign_in(good).await.expect("signed in");
    assert_eq!(identity.family_name.as_deref(), Some("Byron"));
    assert_eq!(identity.siret.as_deref(), Some("21750001600019"));
    assert!(
        identity.email_verified,
        "ProConnect-like: the address is vouched for"
    );
    let requests = fx.provider.token_requests.lock().expect("lock").clone();
    let (auth, body) = &requests[0];
    assert_eq!(auth, "");
    assert_eq!(form_param(body, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(
        form_param(body, "client_secret").as_deref(),
        Some("s3cret:with/odd chars")
    );
}

#[tokio::test]
async fn alg_none_is_rejected() {
    let fx = fixture().await;
    let result = fx
        .sign_in(|fx, pending| {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"key-1"}"#);
            let payload = URL_SAFE_NO_PAD.encode(fx.id_claims(&pending.nonce).to_string());
            format!("{header}.{payload}.")
        })
        .await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.algorithm")));
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_rejected() {
    let fx = fixture().await;
    let result = fx
        .sign_in(|fx, pending| {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(fx.key.kid.clone());
            jsonwebtoken::encode(
                &header,
                &fx.id_claims(&pending.nonce),
                &EncodingKey::from_secret(&fx.key.public),
            )
            .expect("forged")
        })
        .await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.algorithm")));
}

#[tokio::test]
async fn a_tampered_payload_fails_the_signature() {
    let fx = fixture().await;
    let result = fx
        .sign_in(|fx, pending| {
            let token = good(fx, pending);
            let parts: Vec<&str> = token.split('.').collect();
            let mut claims = fx.id_claims(&pending.nonce);
            claims["sub"] = json!("someone-else");
            let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
            format!("{}.{payload}.{}", parts[0], parts[2])
        })
        .await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.signature")));
}

#[tokio::test]
async fn wrong_issuer_is_rejected() {
    let fx = fixture().await;
    let result = fx.sign_in_with("iss", json!("https://evil.example")).await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.issuer")));
}

#[tokio::test]
async fn wrong_audience_is_rejected() {
    let fx = fixture().await;
    let result = fx.sign_in_with("aud", json!("another-client")).await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.audience")));
}

#[tokio::test]
async fn several_audiences_need_azp_equal_to_the_client() {
    let fx = fixture().await;
    let both = json!([CLIENT_ID, "another-client"]);
    let result = fx.sign_in_with("aud", both.clone()).await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.audience")));
    let result = fx
        .sign_in(|fx, pending| {
            let mut claims = fx.id_claims(&pending.nonce);
            claims["aud"] = both;
            claims["azp"] = json!(CLIENT_ID);
            sign(&fx.key, &claims)
        })
        .await;
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn expired_beyond_the_skew_is_rejected() {
    let fx = fixture().await;
    let exp = fx.now.timestamp() - 61;
    let result = fx.sign_in_with("exp", json!(exp)).await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.expired")));
}

#[tokio::test]
async fn expired_within_the_skew_is_accepted() {
    let fx = fixture().await;
    let exp = fx.now.timestamp() - 59;
    let result = fx.sign_in_with("exp", json!(exp)).await;
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn issued_in_the_future_beyond_the_skew_is_rejected() {
    let fx = fixture().await;
    let iat = fx.now.timestamp() + 61;
    let result = fx.sign_in_with("iat", json!(iat)).await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.issued_at")));
}

#[tokio::test]
async fn wrong_nonce_is_rejected() {
    let fx = fixture().await;
    let result = fx
        .sign_in_with("nonce", json!("a-nonce-from-elsewhere"))
        .await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.nonce")));
}

#[tokio::test]
async fn unknown_key_is_rejected_after_one_bounded_refetch() {
    let fx = fixture().await;
    fx.sign_in(good)
        .await
        .expect("first sign-in loads the keys");
    assert_eq!(fx.jwks_hits(), 1);
    let stranger = ec_key("not-published");
    let forged =
        |fx: &Fixture, pending: &PendingSignIn| sign(&stranger, &fx.id_claims(&pending.nonce));
    let later = fx.now + Duration::seconds(61);
    let result = fx.sign_in_at(later, forged).await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.unknown_key")));
    assert_eq!(fx.jwks_hits(), 2, "one refetch for the unknown kid");
    let result = fx.sign_in_at(later + Duration::seconds(1), forged).await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.unknown_key")));
    assert_eq!(fx.jwks_hits(), 2, "no second refetch within 60 s");
}

#[tokio::test]
async fn rotated_key_is_accepted_after_one_refetch() {
    let fx = fixture().await;
    fx.sign_in(good)
        .await
        .expect("first sign-in loads the keys");
    assert_eq!(fx.jwks_hits(), 1);
    let rotated = ec_key("key-2");
    *fx.provider.jwks.lock().expect("lock") = vec![rotated.jwk.clone()];
    fx.serve_userinfo(&rotated, &fx.userinfo_claims(SUBJECT));
    let later = fx.now + Duration::seconds(61);
    let result = fx
        .sign_in_at(later, |fx, pending| {
            sign(&rotated, &fx.id_claims(&pending.nonce))
        })
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(fx.jwks_hits(), 2);
}

#[tokio::test]
async fn acr_not_accepted_is_rejected() {
    let fx = fixture_with(ec_key("key-1"), |s| {
        s.accepted_acr = vec!["eidas2".to_owned()]
    })
    .await;
    let result = fx.sign_in(good).await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.acr")));
    let result = fx.sign_in_with("acr", json!("eidas2")).await;
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn userinfo_signed_by_an_unknown_key_is_rejected() {
    let fx = fixture().await;
    fx.serve_userinfo(&ec_key("not-published"), &fx.userinfo_claims(SUBJECT));
    let result = fx.sign_in(good).await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.userinfo")));
}

#[tokio::test]
async fn userinfo_about_another_subject_is_rejected() {
    let fx = fixture().await;
    fx.serve_userinfo(&fx.key, &fx.userinfo_claims("person-2"));
    let result = fx.sign_in(good).await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.userinfo")));
}

#[tokio::test]
async fn unsigned_userinfo_is_rejected_when_a_signed_one_is_expected() {
    let fx = fixture().await;
    *fx.provider.userinfo.lock().expect("lock") = (
        200,
        "application/json".to_owned(),
        fx.userinfo_claims(SUBJECT).to_string(),
    );
    let result = fx.sign_in(good).await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.userinfo")));
}

#[tokio::test]
async fn provider_down_is_unavailable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bound");
        listener.local_addr().expect("addr").port()
    };
    let client =
        OpenIdClient::new(settings(&format!("http://127.0.0.1:{port}"))).expect("valid settings");
    assert_eq!(
        client.start(now()).await.err(),
        Some(SignInError::Unavailable)
    );
    let pending = PendingSignIn {
        provider: "test".to_owned(),
        state: "s".to_owned(),
        nonce: "n".to_owned(),
        code_verifier: "v".repeat(43),
        created_at: now(),
    };
    assert_eq!(
        client.finish(&pending, "code", now()).await,
        Err(SignInError::Unavailable)
    );
    assert_eq!(
        client.logout_url("token", "state").await,
        Err(SignInError::Unavailable)
    );
}

#[tokio::test]
async fn token_endpoint_error_is_refused_with_its_code() {
    let fx = fixture().await;
    let start = fx.client.start(fx.now).await.expect("started");
    fx.serve_token(
        400,
        json!({"error": "access_denied", "error_description": "no"}),
    );
    let result = fx.client.finish(&start.pending, "code-1", fx.now).await;
    assert_eq!(
        result,
        Err(SignInError::Refused("access_denied".to_owned()))
    );
    fx.serve_token(400, json!({"error": "<script>"}));
    let result = fx.client.finish(&start.pending, "code-1", fx.now).await;
    assert_eq!(
        result,
        Err(SignInError::Refused("invalid_error".to_owned()))
    );
}

#[tokio::test]
async fn token_endpoint_server_error_is_unavailable() {
    let fx = fixture().await;
    let start = fx.client.start(fx.now).await.expect("started");
    fx.serve_token(503, json!({}));
    let result = fx.client.finish(&start.pending, "code-1", fx.now).await;
    assert_eq!(result, Err(SignInError::Unavailable));
}

#[tokio::test]
async fn discovery_issuer_mismatch_is_rejected_then_retried() {
    let fx = fixture().await;
    *fx.provider.discovery_issuer.lock().expect("lock") = Some("https://evil.example".to_owned());
    let result = fx.client.start(fx.now).await;
    assert_eq!(
        result.err(),
        Some(SignInError::Rejected("oidc.discovery_issuer"))
    );
    // A failed discovery is not kept: once the provider serves the right document, it works.
    *fx.provider.discovery_issuer.lock().expect("lock") = None;
    assert!(fx.client.start(fx.now).await.is_ok());
}

#[tokio::test]
async fn logout_url_names_the_token_state_and_return_address() {
    let fx = fixture().await;
    let url = fx
        .client
        .logout_url("id.token.value", "state-1")
        .await
        .expect("no error")
        .expect("an end-session endpoint");
    assert!(
        url.starts_with(&format!("{}/session/end?", fx.issuer)),
        "{url}"
    );
    assert_eq!(
        query_param(&url, "id_token_hint").as_deref(),
        Some("id.token.value")
    );
    assert_eq!(query_param(&url, "state").as_deref(), Some("state-1"));
    assert_eq!(
        query_param(&url, "post_logout_redirect_uri").as_deref(),
        Some("http://localhost/")
    );

    let fx = fixture().await;
    *fx.provider.end_session.lock().expect("lock") = false;
    assert_eq!(fx.client.logout_url("t", "s").await, Ok(None));
}

#[tokio::test]
async fn a_pending_sign_in_of_another_provider_is_rejected() {
    let fx = fixture().await;
    let mut start = fx.client.start(fx.now).await.expect("started");
    start.pending.provider = "other".to_owned();
    let result = fx.client.finish(&start.pending, "code-1", fx.now).await;
    assert_eq!(result, Err(SignInError::Rejected("oidc.provider")));
}
