//! The OpenID Connect adapter (`peps_http::oidc::OpenIdClient`) against a real OpenID
//! Provider: tests/oidc-provider/provider.mjs, built on the certified `oidc-provider` npm
//! package, run once per profile (FranceConnect v2 with the FranceConnect preset, ProConnect
//! with the ProConnect preset). A plain HTTP "browser" (reqwest, no redirects followed, a tiny
//! cookie jar) goes through the provider's login form; the adapter does the rest.
//!
//! Covered for each profile: the full code flow (PKCE, state, nonce, signed userinfo) and the
//! identity it proves, twice (the subject is stable); every broken ID token the provider can
//! hand out (`/__test/tamper`) refused with its exact code; a replayed code refused by the
//! provider; a cancelled sign-in; a key rotation; the provider down; the logout URL.
//!
//! Without node or the npm packages (`npm ci` in peps-http/tests/oidc-provider) the test says
//! so and passes, unless `CI` is set.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use chrono::{DateTime, Duration, Utc};
use peps_core::ports::{OpenIdProvider, PendingSignIn, ProvenIdentity, SignInError};
use peps_http::oidc::{OpenIdClient, OpenIdSettings};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Nothing listens there: the browser stops at the first redirect to it and reads the query.
const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
const POST_LOGOUT_URI: &str = "http://127.0.0.1:9/";
pub(super) const CLIENT_ID: &str = "peps";
pub(super) const CLIENT_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";

fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider")
}

fn missing_tools(dir: &Path) -> Option<String> {
    if Command::new("node").arg("--version").output().is_err() {
        return Some("no node (apt-get install nodejs)".into());
    }
    if !dir.join("node_modules/oidc-provider").exists() {
        return Some(format!(
            "no npm packages in {} (run `npm ci` there)",
            dir.display()
        ));
    }
    None
}

/// The skip convention of browser.rs: say so and pass, unless `CI` is set.
pub(super) fn tools_present() -> bool {
    match missing_tools(&provider_dir()) {
        None => true,
        Some(missing) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "OpenID provider tests are required in CI: {missing}"
            );
            eprintln!("SKIPPED OpenID provider tests: {missing}");
            false
        }
    }
}

// ------------------------------------------------------------------------------ the provider

/// One running provider.mjs. Its stdin stays piped: if the test dies, the pipe closes and the
/// provider exits by itself. Dropping this kills it.
pub(super) struct LocalProvider {
    child: Child,
    pub(super) issuer: String,
    dir: tempfile::TempDir,
}

impl LocalProvider {
    fn start(profile: &str, users: Value) -> Self {
        Self::start_for(profile, users, REDIRECT_URI, POST_LOGOUT_URI)
    }

    /// With PEPS's own addresses registered (a real PEPS server's callback).
    pub(super) fn start_for(
        profile: &str,
        users: Value,
        redirect_uri: &str,
        post_logout_uri: &str,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = json!({
            "profile": profile,
            "clients": [{
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [redirect_uri],
                "post_logout_redirect_uris": [post_logout_uri],
                "token_endpoint_auth_method": "client_secret_post",
            }],
            "users": users,
        });
        let config_path = dir.path().join("config.json");
        std::fs::write(&config_path, config.to_string()).unwrap();
        let stderr = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .arg(&config_path)
            .current_dir(provider_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("node provider.mjs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let issuer = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["issuer"].as_str().map(str::to_owned))
            .unwrap_or_else(|| {
                let log = std::fs::read_to_string(dir.path().join("stderr.log"));
                panic!("provider.mjs did not start: {line:?}\n{log:?}")
            });
        LocalProvider { child, issuer, dir }
    }

    /// What the provider wrote on stderr so far (for failure messages).
    pub(super) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let answer = reqwest::Client::new()
            .post(format!("{}{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        answer.json().await.unwrap()
    }

    async fn tamper(&self, mode: &str) {
        let armed = self.control("/__test/tamper", json!({"mode": mode})).await;
        assert_eq!(armed["armed"], mode);
    }

    pub(super) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for LocalProvider {
    fn drop(&mut self) {
        self.stop();
    }
}

// ------------------------------------------------------------------------------- the browser

/// Enough of a browser for the provider's pages: cookies kept by name (one host; a cookie set
/// empty or expired is dropped), redirects followed by hand so the one to the redirect_uri is
/// caught rather than fetched.
pub(super) struct Browser {
    pub(super) http: reqwest::Client,
    cookies: HashMap<String, String>,
    /// Redirects to these are caught, not followed.
    pub(super) stops: Vec<String>,
}

/// Where a chain of redirects ended.
pub(super) enum Landing {
    /// A page of the provider (status, URL, body).
    Page(u16, reqwest::Url, String),
    /// The redirect to PEPS's redirect_uri or post-logout URI, not fetched.
    BackAtPeps(reqwest::Url),
}

impl Browser {
    fn new() -> Self {
        Browser {
            stops: vec![REDIRECT_URI.to_owned(), POST_LOGOUT_URI.to_owned()],
            ..Self::following_all()
        }
    }

    /// A browser that follows every redirect, PEPS's included.
    pub(super) fn following_all() -> Self {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
            stops: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for header in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let header = header.to_str().unwrap();
            let (pair, attributes) = header.split_once(';').unwrap_or((header, ""));
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let attributes = attributes.to_ascii_lowercase();
            let expired = value.is_empty()
                || attributes.contains("max-age=0")
                || attributes.contains("01 jan 1970");
            if expired {
                self.cookies.remove(name.trim());
            } else {
                self.cookies
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }

    /// Sends the request with the jar's cookies, then follows redirects until a page of the
    /// provider or a redirect back to PEPS.
    pub(super) async fn go(&mut self, mut request: reqwest::RequestBuilder) -> Landing {
        for _ in 0..20 {
            let response = request
                .header(reqwest::header::COOKIE, self.cookie_header())
                .send()
                .await
                .unwrap();
            self.keep_cookies(&response);
            let url = response.url().clone();
            let status = response.status();
            if !status.is_redirection() {
                return Landing::Page(status.as_u16(), url, response.text().await.unwrap());
            }
            let location = response.headers()[reqwest::header::LOCATION]
                .to_str()
                .unwrap()
                .to_owned();
            let next = url.join(&location).unwrap();
            if self
                .stops
                .iter()
                .any(|stop| next.as_str().starts_with(stop))
            {
                return Landing::BackAtPeps(next);
            }
            request = self.http.get(next);
        }
        panic!("more than 20 redirects");
    }
}

/// The query of the redirect back to PEPS.
fn query(url: &reqwest::Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// `attribute="…"` in the page after `after` (the provider's pages are tiny and regular).
pub(super) fn attribute(page: &str, after: &str, attribute: &str) -> String {
    let from = page
        .find(after)
        .unwrap_or_else(|| panic!("{after} in {page}"));
    let rest = &page[from..];
    let marker = format!("{attribute}=\"");
    let start = rest
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker} in {rest}"))
        + marker.len();
    rest[start..start + rest[start..].find('"').unwrap()].to_owned()
}

/// One sign-in as far as the callback: `client.start`, the authorization URL, the login form
/// with `login`, redirects until PEPS's redirect_uri. Returns what PEPS kept and the callback's
/// query parameters.
async fn authorize(
    op: &LocalProvider,
    client: &OpenIdClient,
    browser: &mut Browser,
    login: &str,
    now: DateTime<Utc>,
) -> (PendingSignIn, HashMap<String, String>) {
    let start = client.start(now).await.expect("start");
    assert!(
        start.url.starts_with(&format!("{}/authorize?", op.issuer)),
        "{}",
        start.url
    );
    let request = browser.http.get(&start.url);
    let Landing::Page(200, form_url, form) = browser.go(request).await else {
        panic!("no login form\n{}", op.log());
    };
    assert!(form.contains(r#"name="login""#), "{form}");
    let action = form_url.join(&attribute(&form, "<form", "action")).unwrap();
    let request = browser.http.post(action).form(&[("login", login)]);
    match browser.go(request).await {
        Landing::BackAtPeps(callback) => {
            assert!(callback.as_str().starts_with(REDIRECT_URI), "{callback}");
            (start.pending, query(&callback))
        }
        Landing::Page(status, url, body) => {
            panic!("stopped at {status} {url}:\n{body}\n{}", op.log())
        }
    }
}

/// A complete sign-in in a new browser: the callback must carry the pending `state` and a
/// code; `finish` gives its result. Also returns the browser (it holds the provider's
/// session, for the logout).
async fn sign_in(
    op: &LocalProvider,
    client: &OpenIdClient,
    login: &str,
    now: DateTime<Utc>,
) -> (Result<ProvenIdentity, SignInError>, Browser) {
    let mut browser = Browser::new();
    let (pending, callback) = authorize(op, client, &mut browser, login, now).await;
    assert_eq!(callback.get("state"), Some(&pending.state), "{callback:?}");
    assert!(!callback.contains_key("error"), "{callback:?}");
    let code = callback.get("code").expect("code in the callback");
    (client.finish(&pending, code, now).await, browser)
}

// ------------------------------------------------------------------------------ the profiles

struct Profile {
    name: &'static str,
    settings: fn(&str) -> OpenIdSettings,
    login: &'static str,
    claims: Value,
    /// The identity `finish` must prove (without `id_token`, which changes each time).
    expected: fn(subject: String) -> ProvenIdentity,
}

fn franceconnect() -> Profile {
    Profile {
        name: "franceconnect",
        settings: |issuer| {
            // The preset as it is; only the issuer is the local one (http on 127.0.0.1 is
            // accepted by the adapter for tests and development).
            OpenIdSettings::franceconnect_v2(
                issuer,
                CLIENT_ID,
                CLIENT_SECRET,
                REDIRECT_URI,
                POST_LOGOUT_URI,
            )
        },
        login: "marie",
        claims: json!({
            "given_name": "Marie Louise",
            "family_name": "Dupont",
            "birthdate": "1980-06-15",
            "email": "marie.dupont@example.org",
        }),
        expected: |subject| ProvenIdentity {
            provider: "franceconnect".into(),
            subject,
            acr: Some("eidas1".into()),
            given_name: Some("Marie Louise".into()),
            family_name: Some("Dupont".into()),
            email: Some("marie.dupont@example.org".into()),
            // FranceConnect does not vouch for the address.
            email_verified: false,
            siret: None,
            birthdate: Some("1980-06-15".into()),
            id_token: String::new(),
        },
    }
}

fn proconnect() -> Profile {
    Profile {
        name: "proconnect",
        settings: |issuer| {
            OpenIdSettings::proconnect(
                issuer,
                CLIENT_ID,
                CLIENT_SECRET,
                REDIRECT_URI,
                POST_LOGOUT_URI,
            )
        },
        login: "agent",
        claims: json!({
            "email": "jean.martin@ville.example.fr",
            "given_name": "Jean",
            "usual_name": "Martin",
            "siret": "21750001600019",
            "uid": "jmartin",
        }),
        expected: |subject| ProvenIdentity {
            provider: "proconnect".into(),
            subject,
            // No acr requested by the preset: the provider's default.
            acr: Some("eidas1".into()),
            given_name: Some("Jean".into()),
            family_name: Some("Martin".into()),
            email: Some("jean.martin@ville.example.fr".into()),
            email_verified: true,
            siret: Some("21750001600019".into()),
            birthdate: None,
            id_token: String::new(),
        },
    }
}

// -------------------------------------------------------------------------------- the tests

#[tokio::test]
async fn franceconnect_preset_against_a_real_openid_provider() {
    if tools_present() {
        against_the_real_provider(franceconnect()).await;
    }
}

#[tokio::test]
async fn proconnect_preset_against_a_real_openid_provider() {
    if tools_present() {
        against_the_real_provider(proconnect()).await;
    }
}

async fn against_the_real_provider(profile: Profile) {
    let mut op = LocalProvider::start(
        profile.name,
        json!([{"login": profile.login, "claims": profile.claims}]),
    );
    let settings = (profile.settings)(&op.issuer);
    let client = OpenIdClient::new(settings.clone()).expect("valid settings");
    let now = Utc::now();

    // ---- The flow, twice: the same person, the same subject (the provider derives it as
    // sha256("peps-test:<profile>:<login>")).
    let subject = format!(
        "{:x}",
        Sha256::digest(format!("peps-test:{}:{}", profile.name, profile.login))
    );
    let mut id_tokens = Vec::new();
    let mut last_browser = None;
    for _ in 0..2 {
        let (proven, browser) = sign_in(&op, &client, profile.login, now).await;
        let proven = proven.unwrap_or_else(|e| panic!("sign-in failed: {e}\n{}", op.log()));
        assert!(!proven.id_token.is_empty());
        id_tokens.push(proven.id_token.clone());
        let without_token = ProvenIdentity {
            id_token: String::new(),
            ..proven
        };
        assert_eq!(without_token, (profile.expected)(subject.clone()));
        last_browser = Some(browser);
    }
    assert_ne!(id_tokens[0], id_tokens[1]);

    // ---- Logout: the provider's end_session endpoint with the ID token as hint; the provider
    // accepts the hint and shows its confirmation page, whose form ends at PEPS's
    // post-logout URI with the state.
    let mut browser = last_browser.unwrap();
    let logout = client
        .logout_url(&id_tokens[1], "logout-state")
        .await
        .unwrap()
        .expect("an end_session_endpoint");
    assert!(
        logout.starts_with(&format!("{}/session/end?", op.issuer)),
        "{logout}"
    );
    let logout_url = reqwest::Url::parse(&logout).unwrap();
    let params = query(&logout_url);
    assert_eq!(params.get("id_token_hint"), Some(&id_tokens[1]));
    assert_eq!(
        params.get("state").map(String::as_str),
        Some("logout-state")
    );
    let request = browser.http.get(logout_url);
    let Landing::Page(200, page_url, page) = browser.go(request).await else {
        panic!("no logout confirmation\n{}", op.log());
    };
    assert!(page.contains("Déconnexion"), "{page}");
    let xsrf = attribute(&page, r#"name="xsrf""#, "value");
    let confirm = page_url.join("/session/end/confirm").unwrap();
    let request = browser
        .http
        .post(confirm)
        .form(&[("xsrf", xsrf.as_str()), ("logout", "yes")]);
    match browser.go(request).await {
        Landing::BackAtPeps(back) => {
            assert!(back.as_str().starts_with(POST_LOGOUT_URI), "{back}");
            assert_eq!(
                query(&back).get("state").map(String::as_str),
                Some("logout-state")
            );
        }
        Landing::Page(status, url, body) => panic!("logout stopped at {status} {url}:\n{body}"),
    }

    // ---- Every broken ID token the provider can hand out, through the real flow: refused
    // with the check's code.
    for (mode, code) in [
        ("aud", "oidc.audience"),
        ("iss", "oidc.issuer"),
        ("nonce", "oidc.nonce"),
        ("exp", "oidc.expired"),
        ("alg_none", "oidc.algorithm"),
        ("unknown_key", "oidc.unknown_key"),
        ("hs256", "oidc.algorithm"),
    ] {
        op.tamper(mode).await;
        let (proven, _) = sign_in(&op, &client, profile.login, now).await;
        assert_eq!(
            proven.map_err(|e| e.code()),
            Err(code),
            "tamper {mode}\n{}",
            op.log()
        );
    }

    // ---- A code is good once: the provider refuses it the second time.
    let mut browser = Browser::new();
    let (pending, callback) = authorize(&op, &client, &mut browser, profile.login, now).await;
    let code = &callback["code"];
    client
        .finish(&pending, code, now)
        .await
        .expect("first use of the code");
    let replayed = client.finish(&pending, code, now).await;
    assert!(
        matches!(&replayed, Err(SignInError::Refused(error)) if error == "invalid_grant"),
        "{replayed:?}"
    );

    // ---- The person cancels at the provider: PEPS's callback gets `access_denied` and the
    // state (the adapter is not involved: the core reads the callback).
    let mut browser = Browser::new();
    let (pending, callback) = authorize(&op, &client, &mut browser, "cancel", now).await;
    assert_eq!(
        callback.get("error").map(String::as_str),
        Some("access_denied")
    );
    assert_eq!(callback.get("state"), Some(&pending.state));
    assert!(!callback.contains_key("code"));

    // ---- Key rotation. The adapter fetched the key set at `now`; a token signed with the new
    // key names a kid it does not know, and it refetches the set for an unknown kid at most
    // once every 60 s (keys::REFETCH_INTERVAL, so forged kids cannot make it hammer the
    // provider). At the same `now` the token is refused; 61 s later (the clock the adapter is
    // given) it refetches, finds the new key and accepts the sign-in.
    let rotated = op.control("/__test/rotate", json!({})).await;
    assert!(rotated["kid"].is_string());
    let (proven, _) = sign_in(&op, &client, profile.login, now).await;
    assert_eq!(proven.map_err(|e| e.code()), Err("oidc.unknown_key"));
    let later = now + Duration::seconds(61);
    let (proven, _) = sign_in(&op, &client, profile.login, later).await;
    let proven = proven.unwrap_or_else(|e| panic!("after rotation: {e}\n{}", op.log()));
    assert_eq!(proven.subject, subject);

    // ---- The provider down: a fresh client (no discovery cached) cannot start.
    op.stop();
    let fresh = OpenIdClient::new(settings).unwrap();
    assert_eq!(
        fresh.start(now).await.map(|s| s.url),
        Err(SignInError::Unavailable)
    );
    // The client that knows the provider's endpoints cannot finish either.
    let pending = PendingSignIn {
        provider: profile.name.to_owned(),
        state: "s".into(),
        nonce: "n".into(),
        code_verifier: "v".repeat(43),
        created_at: now,
    };
    assert_eq!(
        client.finish(&pending, "code", later).await,
        Err(SignInError::Unavailable)
    );
}
