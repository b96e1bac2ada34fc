//! Signing in on the pages through a real OpenID provider (tests/oidc-provider, the certified
//! `oidc-provider` package), with a real PEPS server on 127.0.0.1:0 whose callback the provider
//! sends the browser back to.
//!
//! FranceConnect: a person is linked once, by signing in with their password in the same
//! browser, then signs in with FranceConnect alone and lands on their account in their own
//! language; signing out offers the provider's logout. Refused with a clear page, never a 500:
//! a replayed `state`, a callback in another browser, a subject already linked to someone
//! else, the provider down. ProConnect: a worker is matched by verified email and SIRET, an
//! unknown employer is not; an assurance level counted as strong spares the admin the TOTP.

use std::sync::Arc;

use peps_core::auth::Argon2Hasher;
use peps_core::clock::SystemClock;
use peps_core::domain::Role;
use peps_core::i18n;
use peps_core::services::{ExternalProvider, Identity, IdentityPorts, IdentitySettings};
use peps_http::oidc::{OpenIdClient, OpenIdSettings};
use serde_json::{Value, json};

use crate::oidc_provider::{
    Browser, CLIENT_ID, CLIENT_SECRET, Landing, LocalProvider, attribute, tools_present,
};
use crate::support::*;

/// A PEPS server on 127.0.0.1:0 whose identity service knows one provider.
pub(super) struct Site {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl Site {
    pub(super) async fn bind() -> (std::net::TcpListener, String) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        (listener, base)
    }

    /// The identity service uses the system clock: the provider's tokens carry real times.
    pub(super) fn serve(
        app: &TestApp,
        listener: std::net::TcpListener,
        providers: Vec<ExternalProvider>,
    ) -> Self {
        let identity = Identity::new(
            IdentityPorts::from_store(app.shared.clone()),
            Arc::new(Argon2Hasher::default()),
            Arc::new(SystemClock),
            IdentitySettings::default(),
        )
        .with_providers(providers);
        let mut state = app.state.clone();
        state.identity = Arc::new(identity);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = peps_http::serve_tcp(listener, state, async {
                let _ = stopped.await;
            })
            .await;
        });
        Site {
            stop: Some(stop),
            server,
        }
    }

    pub(super) async fn close(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.server).await;
    }
}

pub(super) fn provider(
    op: &LocalProvider,
    base: &str,
    preset: fn(&str, &str, &str, &str, &str) -> OpenIdSettings,
    label: &str,
    roles: Vec<Role>,
    strong_acr: Vec<String>,
) -> ExternalProvider {
    let key = label.to_lowercase();
    let mut settings = preset(
        &op.issuer,
        CLIENT_ID,
        CLIENT_SECRET,
        &format!("{base}/oidc/{key}/callback"),
        &format!("{base}/"),
    );
    settings.key = key;
    ExternalProvider {
        provider: Arc::new(OpenIdClient::new(settings).unwrap()),
        label: label.to_owned(),
        roles,
        strong_acr,
    }
}

/// A page's status, address and body.
async fn page(browser: &mut Browser, request: reqwest::RequestBuilder) -> (u16, String, String) {
    match browser.go(request).await {
        Landing::Page(status, url, body) => (status, url.to_string(), body),
        Landing::BackAtPeps(url) => panic!("stopped at {url}"),
    }
}

/// From the sign-in link on PEPS's sign-in page to the provider's form, then the login there:
/// where the browser lands back at PEPS.
async fn through_provider(
    browser: &mut Browser,
    base: &str,
    key: &str,
    login: &str,
) -> (u16, String, String) {
    let (status, url, form) = get(browser, format!("{base}/fr/sign-in")).await;
    assert_eq!(status, 200, "{url}");
    let link = format!("/fr/sign-in/with/{key}");
    assert!(form.contains(&link), "no {key} link on the sign-in page");
    let (status, url, form) = get(browser, format!("{base}{link}")).await;
    assert_eq!(status, 200, "provider form at {url}: {form}");
    assert!(form.contains(r#"name="login""#), "{form}");
    let action = reqwest::Url::parse(&url)
        .unwrap()
        .join(&attribute(&form, "<form", "action"))
        .unwrap();
    post(browser, action, &[("login", login)]).await
}

/// The hidden CSRF field of a PEPS form.
fn csrf(body: &str) -> String {
    attribute(body, r#"name="csrf""#, "value")
}

async fn password_sign_in(
    browser: &mut Browser,
    base: &str,
    form_page: &str,
    login: &str,
) -> (u16, String, String) {
    let token = csrf(form_page);
    post(
        browser,
        format!("{base}/fr/sign-in"),
        &[("login", login), ("password", PASSWORD), ("csrf", &token)],
    )
    .await
}

pub(super) fn users(list: &[(&str, Value)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(login, claims)| json!({"login": login, "claims": claims}))
            .collect(),
    )
}

#[tokio::test]
async fn a_person_links_franceconnect_once_then_signs_in_with_it_in_their_language() {
    if !tools_present() {
        return;
    }
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let (status, _) = status_json(
            app.client
                .put("/api/v1/me/language")
                .header("authorization", format!("Bearer {}", cast.person_p.1))
                .body_json(&json!({"language": "ar"}))
                .send()
                .await,
        )
        .await;
        assert_eq!(status, 200);
        let (listener, base) = Site::bind().await;
        let claims = |given: &str| json!({"given_name": given, "family_name": "Martin", "birthdate": "1950-03-01", "email": format!("{given}@example.org")});
        let mut op = LocalProvider::start_for(
            "franceconnect",
            users(&[("paulette", claims("paulette")), ("zoe", claims("zoe"))]),
            &format!("{base}/oidc/franceconnect/callback"),
            &format!("{base}/"),
        );
        let fc = provider(
            &op,
            &base,
            OpenIdSettings::franceconnect_v2,
            "FranceConnect",
            vec![Role::Person],
            vec![],
        );
        let site = Site::serve(&app, listener, vec![fc]);

        // First time: FranceConnect knows Paulette, PEPS does not yet.
        let mut browser = Browser::following_all();
        let (status, url, body) =
            through_provider(&mut browser, &base, "franceconnect", "paulette").await;
        assert_eq!(status, 200, "{url}: {body}");
        assert!(url.contains("/oidc/franceconnect/callback"), "{url}");
        assert!(body.contains("FranceConnect vous a bien reconnu"), "{body}");
        // Her password once, in the same browser: linked, and told so.
        let (status, url, body) =
            password_sign_in(&mut browser, &base, &body, "person.p@test.peps").await;
        assert_eq!(status, 200, "{url}");
        assert!(url.contains("/fr/account?linked=franceconnect"), "{url}");
        assert!(body.contains("relié à FranceConnect"), "{body}");
        let token = csrf(&body);
        let (status, _, _) = post(
            &mut browser,
            format!("{base}/fr/sign-out"),
            &[("csrf", &token)],
        )
        .await;
        assert_eq!(status, 200);

        // From now on FranceConnect alone, landing on her plan in her language.
        let mut browser = Browser::following_all();
        let (status, url, body) =
            through_provider(&mut browser, &base, "franceconnect", "paulette").await;
        assert_eq!(status, 200, "{url}: {body}");
        assert!(url.ends_with("/ar/plans"), "{url}");
        assert!(body.contains(r#"lang="ar""#) && body.contains(r#"dir="rtl""#));
        assert!(
            body.contains(&i18n::text("web.plans.empty", "ar")),
            "{body}"
        );
        // Signing out (from her account page) offers the provider's logout, which the
        // provider serves.
        let (status, _, body) = get(&mut browser, format!("{base}/ar/account")).await;
        assert_eq!(status, 200);
        let token = csrf(&body);
        let (status, _, signed_out) = post(
            &mut browser,
            format!("{base}/ar/sign-out"),
            &[("csrf", &token)],
        )
        .await;
        assert_eq!(status, 200);
        let logout = unescape(&attribute(&signed_out, r#"class="button""#, "href"));
        assert!(
            logout.starts_with(&format!("{}/session/end?", op.issuer)),
            "{logout}"
        );
        assert!(logout.contains("id_token_hint="), "{logout}");
        let (status, _, _) = get(&mut browser, &logout).await;
        assert_eq!(status, 200);

        // A callback replayed: its state works once, in the browser that started it.
        let mut browser = Browser::following_all();
        let callback = to_callback(&mut browser, &base, "paulette").await;
        let (status, url, _) = get(&mut browser, &callback).await;
        assert_eq!(status, 200, "{url}");
        assert!(url.ends_with("/ar/plans"), "{url}");
        let (status, _, again) = get(&mut browser, &callback).await;
        assert_eq!(status, 403, "replayed: {again}");
        assert!(again.contains("expiré ou a déjà servi"), "{again}");

        // A callback finished in another browser than the one that started it: refused.
        let mut starter = Browser::following_all();
        let callback = to_callback(&mut starter, &base, "paulette").await;
        let mut other = Browser::following_all();
        let (status, _, body) = get(&mut other, &callback).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains(r#"lang="fr""#));

        // A subject linked meanwhile to someone else is not linked twice.
        let mut first = Browser::following_all();
        let (_, _, waiting) = through_provider(&mut first, &base, "franceconnect", "zoe").await;
        let mut second = Browser::following_all();
        let (_, _, body) = through_provider(&mut second, &base, "franceconnect", "zoe").await;
        let (_, url, _) = password_sign_in(&mut second, &base, &body, "person.q@test.peps").await;
        assert!(url.contains("linked=franceconnect"), "{url}");
        let (status, url, body) =
            password_sign_in(&mut first, &base, &waiting, "person.p@test.peps").await;
        assert_eq!(status, 200, "{url}");
        assert!(url.contains("link_refused=oidc.already_linked"), "{url}");
        assert!(body.contains("déjà reliée à un autre compte"), "{body}");

        // Unlinking from the account page: the CSRF field is required; then the link is gone
        // and the trail says so.
        let (_, _, account) = get(&mut second, format!("{base}/fr/account")).await;
        let unlink = format!("{base}/fr/account/unlink/franceconnect");
        let (status, _, _) = post(&mut second, &unlink, &[]).await;
        assert_eq!(status, 403, "no CSRF field");
        let (status, url, _) = post(&mut second, &unlink, &[("csrf", &csrf(&account))]).await;
        assert_eq!(status, 200);
        assert!(url.ends_with("/fr/account"), "{url}");
        let links = peps_core::ports::ExternalIdentityRepository::external_links_of(
            app.shared.as_ref(),
            cast.person_q.0,
        )
        .await
        .unwrap();
        assert!(links.is_empty(), "{links:?}");
        let trail =
            peps_core::ports::AuditLog::events_for(app.shared.as_ref(), cast.person_q.0, 20)
                .await
                .unwrap();
        assert!(
            trail
                .iter()
                .any(|e| e.action == peps_core::domain::AuditAction::ExternalUnlinked),
            "{trail:?}"
        );

        // The provider down when the browser comes back: a clear page, 503.
        let mut late = Browser::following_all();
        let callback = to_callback(&mut late, &base, "paulette").await;
        op.stop();
        let (status, _, body) = get(&mut late, &callback).await;
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("ne répond pas"), "{body}");

        site.close().await;
    }
}

async fn get(browser: &mut Browser, url: impl reqwest::IntoUrl) -> (u16, String, String) {
    let request = browser.http.get(url);
    page(browser, request).await
}

async fn post(
    browser: &mut Browser,
    url: impl reqwest::IntoUrl,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let request = browser.http.post(url).form(form);
    page(browser, request).await
}

/// From PEPS's sign-in link through the provider's login, up to PEPS's callback, without
/// fetching it: the callback's address, with its code and state.
async fn to_callback(browser: &mut Browser, base: &str, login: &str) -> String {
    let (status, url, form) = get(browser, format!("{base}/fr/sign-in/with/franceconnect")).await;
    assert_eq!(status, 200, "{url}");
    let action = reqwest::Url::parse(&url)
        .unwrap()
        .join(&attribute(&form, "<form", "action"))
        .unwrap();
    browser.stops = vec![format!("{base}/oidc/")];
    let request = browser.http.post(action).form(&[("login", login)]);
    let landing = browser.go(request).await;
    browser.stops.clear();
    match landing {
        Landing::BackAtPeps(callback) => callback.to_string(),
        Landing::Page(status, url, body) => panic!("stopped at {status} {url}: {body}"),
    }
}

#[tokio::test]
async fn proconnect_matches_staff_by_verified_email_and_siret() {
    if !tools_present() {
        return;
    }
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let ines = ccas_worker(&app, "ines@ccas.example.org").await;
        let (listener, base) = Site::bind().await;
        let agent = |email: &str, siret: Option<&str>| {
            let mut claims =
                json!({"email": email, "given_name": "Inès", "usual_name": "Haddad", "uid": email});
            if let Some(siret) = siret {
                claims["siret"] = json!(siret);
            }
            claims
        };
        let op = LocalProvider::start_for(
            "proconnect",
            users(&[
                (
                    "ines",
                    agent("ines@ccas.example.org", Some("21750001600019")),
                ),
                (
                    "intrus",
                    agent("ines@ccas.example.org", Some("12345678901234")),
                ),
                ("chef", agent("admin@test.peps", None)),
                ("inconnue", agent("inconnue@ailleurs.example.org", None)),
            ]),
            &format!("{base}/oidc/proconnect/callback"),
            &format!("{base}/"),
        );
        let pc = provider(
            &op,
            &base,
            OpenIdSettings::proconnect,
            "ProConnect",
            vec![Role::Worker, Role::Member, Role::Admin],
            vec!["eidas1".to_owned()],
        );
        let site = Site::serve(&app, listener, vec![pc]);

        // Vouched-for email at the right employer: linked on the spot, signed in.
        let mut browser = Browser::following_all();
        let (status, url, body) = through_provider(&mut browser, &base, "proconnect", "ines").await;
        assert_eq!(status, 200, "{url}: {body}");
        assert!(url.ends_with("/fr/account"), "{url}");
        let links = peps_core::ports::ExternalIdentityRepository::external_links_of(
            app.shared.as_ref(),
            ines,
        )
        .await
        .unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].provider, "proconnect");

        // The same email from another employer is not enough.
        let mut browser = Browser::following_all();
        let (status, url, body) =
            through_provider(&mut browser, &base, "proconnect", "intrus").await;
        assert_eq!(status, 200, "{url}");
        assert!(body.contains("ProConnect vous a bien reconnu"), "{body}");

        // An admin whose assurance level counts as strong: no TOTP on top.
        let mut browser = Browser::following_all();
        let (status, url, _) = through_provider(&mut browser, &base, "proconnect", "chef").await;
        assert_eq!(status, 200);
        assert!(url.ends_with("/fr/account"), "{url}");

        // Not vouched for, linked by a password sign-in: for someone with a second factor, only
        // once that is passed, in the same browser.
        app.pass_second_factor(&cast.worker_a.1, cast.worker_a.0)
            .await;
        let mut browser = Browser::following_all();
        let (_, _, body) = through_provider(&mut browser, &base, "proconnect", "inconnue").await;
        assert!(body.contains("ProConnect vous a bien reconnu"), "{body}");
        let (status, url, body) =
            password_sign_in(&mut browser, &base, &body, "worker.a@test.peps").await;
        assert_eq!(status, 200);
        assert!(url.ends_with("/fr/second-factor"), "{url}");
        let linked = || async {
            peps_core::ports::ExternalIdentityRepository::external_links_of(
                app.shared.as_ref(),
                cast.worker_a.0,
            )
            .await
            .unwrap()
        };
        assert!(linked().await.is_empty(), "not before the second factor");
        let secret = peps_core::ports::SecondFactorRepository::second_factor(
            app.shared.as_ref(),
            cast.worker_a.0,
        )
        .await
        .unwrap()
        .unwrap()
        .secret;
        let code = peps_core::auth::totp::code_for_step(
            &secret,
            peps_core::auth::totp::step_at(chrono::Utc::now()),
        );
        let token = csrf(&body);
        let (status, url, _) = post(
            &mut browser,
            format!("{base}/fr/second-factor"),
            &[("code", &code), ("csrf", &token)],
        )
        .await;
        assert_eq!(status, 200);
        assert!(url.ends_with("/fr/account?linked=proconnect"), "{url}");
        assert_eq!(linked().await.len(), 1);

        site.close().await;
        drop(op);
    }
}

/// An attribute's value as the browser reads it (minijinja escapes `/` and `&`).
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A worker of the CCAS de Sens, whose SIRET (21750001600019) ProConnect vouches for.
pub(super) async fn ccas_worker(app: &TestApp, email: &str) -> peps_core::domain::AccountId {
    ccas_workers(app, &[email]).await[0]
}

/// Workers of the CCAS de Sens.
pub(super) async fn ccas_workers(
    app: &TestApp,
    emails: &[&str],
) -> Vec<peps_core::domain::AccountId> {
    let ccas = app
        .state
        .identity
        .provision_organisation(peps_core::services::NewOrganisation {
            name: "CCAS de Sens".to_owned(),
            kind: peps_core::domain::OrganisationKind::SocialService,
            siret: Some("21750001600019".to_owned()),
        })
        .await
        .unwrap()
        .id;
    let mut workers = Vec::new();
    for email in emails {
        workers.push(app.provision(Role::Worker, email, &[ccas]).await);
    }
    workers
}

/// The admin queue through the API for one role: the status of listing, approving and
/// refusing.
async fn queue_statuses(base: &str, token: Option<&str>, id: &str) -> [u16; 3] {
    let http = reqwest::Client::new();
    let with = |req: reqwest::RequestBuilder| match token {
        Some(token) => req.bearer_auth(token),
        None => req,
    };
    let list = with(http.get(format!("{base}/api/v1/admin/sign-in-requests")));
    let approve = with(
        http.post(format!("{base}/api/v1/admin/sign-in-requests/{id}/approve"))
            .json(&json!({"login": "worker.b@test.peps"})),
    );
    let refuse = with(http.delete(format!("{base}/api/v1/admin/sign-in-requests/{id}")));
    let mut statuses = [0; 3];
    for (slot, req) in statuses.iter_mut().zip([list, approve, refuse]) {
        *slot = req.send().await.unwrap().status().as_u16();
    }
    statuses
}

/// A bearer token from the site itself (its identity service runs on the system clock, where
/// the cast's sessions, opened on the tests' clock, are long over); an admin's is raised with a
/// TOTP code for now.
async fn api_token(app: &TestApp, base: &str, login: &str) -> String {
    let http = reqwest::Client::new();
    let session: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"login": login, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{session}"))
        .to_owned();
    if session["assurance"] == "awaiting_second_factor" {
        let account = peps_core::domain::AccountId(
            session["account"]["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .unwrap_or_else(|| panic!("{session}")),
        );
        let factor =
            peps_core::ports::SecondFactorRepository::second_factor(app.shared.as_ref(), account)
                .await
                .unwrap()
                .unwrap();
        let code = peps_core::auth::totp::code_for_step(
            &factor.secret,
            peps_core::auth::totp::step_at(chrono::Utc::now()),
        );
        let status = http
            .post(format!("{base}/api/v1/auth/second-factor"))
            .bearer_auth(&token)
            .json(&json!({"code": code}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 200, "second factor for {login}");
    }
    token
}

#[tokio::test]
async fn an_unmatched_proconnect_worker_waits_for_an_admin_who_links_or_refuses() {
    if !tools_present() {
        return;
    }
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let camille = ccas_worker(&app, "camille.martin@ccas.example.org").await;
        let (listener, base) = Site::bind().await;
        let op = LocalProvider::start_for(
            "proconnect",
            users(&[
                // Known to PEPS under another email: nothing matches.
                (
                    "camille",
                    json!({"email": "c.martin@mairie-sens.example.org", "given_name": "Camille",
                           "usual_name": "Martin", "uid": "camille", "siret": "21750001600019"}),
                ),
                (
                    "sacha",
                    json!({"email": "sacha@ailleurs.example.org", "given_name": "Sacha",
                           "usual_name": "Roux", "uid": "sacha"}),
                ),
                (
                    "chef",
                    json!({"email": "admin@test.peps", "given_name": "Chef",
                           "usual_name": "Admin", "uid": "chef"}),
                ),
            ]),
            &format!("{base}/oidc/proconnect/callback"),
            &format!("{base}/"),
        );
        let pc = provider(
            &op,
            &base,
            OpenIdSettings::proconnect,
            "ProConnect",
            vec![Role::Worker, Role::Member, Role::Admin],
            vec!["eidas1".to_owned()],
        );
        let site = Site::serve(&app, listener, vec![pc]);

        // Nothing matches: the page says an admin was asked. Twice files one request.
        for _ in 0..2 {
            let mut browser = Browser::following_all();
            let (status, url, body) =
                through_provider(&mut browser, &base, "proconnect", "camille").await;
            assert_eq!(status, 200, "{url}");
            assert!(
                url.ends_with("/fr/sign-in") || url.contains("/oidc/"),
                "{url}"
            );
            assert!(
                body.contains("Un administrateur de PEPS a reçu votre demande"),
                "{body}"
            );
        }
        let mut browser = Browser::following_all();
        through_provider(&mut browser, &base, "proconnect", "sacha").await;

        let admin_token = api_token(&app, &base, "admin@test.peps").await;
        let admin_list = || async {
            reqwest::Client::new()
                .get(format!("{base}/api/v1/admin/sign-in-requests"))
                .bearer_auth(&admin_token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .map(|v| match v {
                    Value::Array(list) => list,
                    other => panic!("{other}"),
                })
                .unwrap()
        };
        let listed = admin_list().await;
        assert_eq!(listed.len(), 2, "{listed:?}");
        let by_name = |name: &str| {
            listed
                .iter()
                .find(|r| r["given_name"] == name)
                .unwrap_or_else(|| panic!("no request from {name}: {listed:?}"))
                .clone()
        };
        let camille_request = by_name("Camille");
        assert_eq!(camille_request["provider_label"], "ProConnect");
        assert_eq!(camille_request["siret"], "21750001600019");
        assert_eq!(camille_request["suggested_account"], Value::Null);
        let camille_id = camille_request["id"].as_str().unwrap().to_owned();
        let sacha_id = by_name("Sacha")["id"].as_str().unwrap().to_owned();

        // Every role but an admin is refused the queue; nothing changes.
        assert_eq!(queue_statuses(&base, None, &camille_id).await, [401; 3]);
        for login in [
            "person.p@test.peps",
            "helper.h@test.peps",
            "worker.a@test.peps",
            "worker.b@test.peps",
            "member.x@test.peps",
            "member.y@test.peps",
        ] {
            let token = api_token(&app, &base, login).await;
            assert_eq!(
                queue_statuses(&base, Some(&token), &camille_id).await,
                [403; 3],
                "{login}"
            );
        }
        assert_eq!(admin_list().await.len(), 2);

        // On the pages: signed out, to the sign-in page; a worker, refused.
        let mut anonymous = Browser::following_all();
        let (status, url, _) =
            get(&mut anonymous, format!("{base}/fr/admin/sign-in-requests")).await;
        assert_eq!(status, 200);
        assert!(url.ends_with("/fr/sign-in"), "{url}");
        let mut worker = Browser::following_all();
        let (_, _, form) = get(&mut worker, format!("{base}/fr/sign-in")).await;
        let (_, url, _) = password_sign_in(&mut worker, &base, &form, "worker.a@test.peps").await;
        assert!(url.ends_with("/fr/account"), "{url}");
        let (status, _, _) = get(&mut worker, format!("{base}/fr/admin/sign-in-requests")).await;
        assert_eq!(status, 403);
        let (_, _, account) = get(&mut worker, format!("{base}/fr/account")).await;
        let (status, _, _) = post(
            &mut worker,
            format!("{base}/fr/admin/sign-in-requests/{camille_id}/refuse"),
            &[("csrf", &csrf(&account))],
        )
        .await;
        assert_eq!(status, 403);
        assert_eq!(admin_list().await.len(), 2);

        // The admin, strong through ProConnect: the queue from the account page.
        let mut admin = Browser::following_all();
        let (_, url, account) = through_provider(&mut admin, &base, "proconnect", "chef").await;
        assert!(url.ends_with("/fr/account"), "{url}");
        assert!(
            account.contains("Demandes de connexion en attente : 2"),
            "{account}"
        );
        let (status, _, queue) = get(&mut admin, format!("{base}/fr/admin/sign-in-requests")).await;
        assert_eq!(status, 200);
        assert!(
            queue.contains("Camille Martin") && queue.contains("Sacha Roux"),
            "{queue}"
        );
        let token = csrf(&queue);
        let approve = format!("{base}/fr/admin/sign-in-requests/{camille_id}/approve");

        // Wrong accounts: the reason beside the field, nothing linked.
        for (login, message) in [
            (
                "personne@nulle-part.example.org",
                "Aucun compte actif ne porte",
            ),
            (
                "person.p@test.peps",
                "Ce fournisseur d'identité ne peut pas ouvrir ce compte",
            ),
        ] {
            let (status, _, page) =
                post(&mut admin, &approve, &[("login", login), ("csrf", &token)]).await;
            assert_eq!(status, 422, "{login}");
            let page = unescape(&page);
            assert!(page.contains(message), "{login}: {page}");
            assert!(
                page.contains(&format!(r#"id="login-{camille_id}-error""#)),
                "{page}"
            );
            assert!(page.contains(r#"aria-invalid="true""#), "{page}");
        }
        let (status, _, _) = post(
            &mut admin,
            &approve,
            &[("login", "camille.martin@ccas.example.org")],
        )
        .await;
        assert_eq!(status, 403, "no CSRF field");
        assert_eq!(admin_list().await.len(), 2);

        let (status, url, page) = post(
            &mut admin,
            &approve,
            &[
                ("login", "camille.martin@ccas.example.org"),
                ("csrf", &token),
            ],
        )
        .await;
        assert_eq!(status, 200);
        assert!(url.ends_with("?done=approved"), "{url}");
        assert!(unescape(&page).contains("C'est fait"), "{page}");
        let (status, url, _) = post(
            &mut admin,
            format!("{base}/fr/admin/sign-in-requests/{sacha_id}/refuse"),
            &[("csrf", &token)],
        )
        .await;
        assert_eq!(status, 200);
        assert!(url.ends_with("?done=refused"), "{url}");
        assert!(admin_list().await.is_empty());

        // Camille's next ProConnect sign-in opens her account; the link is in her trail, by
        // the admin.
        let mut browser = Browser::following_all();
        let (status, url, body) =
            through_provider(&mut browser, &base, "proconnect", "camille").await;
        assert_eq!(status, 200);
        assert!(url.ends_with("/fr/account"), "{url}");
        assert!(body.contains("camille.martin@ccas.example.org"), "{body}");
        let trail = peps_core::ports::AuditLog::events_for(app.shared.as_ref(), camille, 20)
            .await
            .unwrap();
        assert!(
            trail.iter().any(
                |e| e.action == peps_core::domain::AuditAction::ExternalLinked
                    && e.actor == Some(cast.admin.0)
            ),
            "{trail:?}"
        );
        // Sacha, refused, is asked again, and a new request waits.
        let mut browser = Browser::following_all();
        let (_, _, body) = through_provider(&mut browser, &base, "proconnect", "sacha").await;
        assert!(
            body.contains("Un administrateur de PEPS a reçu votre demande"),
            "{body}"
        );
        assert_eq!(admin_list().await.len(), 1);

        site.close().await;
        drop(op);
    }
}
