//! The web pages over HTTP: languages in the address, the catalogue, sign-in and activation
//! with their cookies and CSRF tokens, on SQLite and PostgreSQL.

use peps_core::domain::Role;
use peps_core::i18n;
use poem::test::TestResponse;
use serde_json::{Value, json};

use super::support::*;

pub async fn text(resp: TestResponse) -> (u16, poem::http::HeaderMap, String) {
    let status = resp.0.status().as_u16();
    let headers = resp.0.headers().clone();
    let body = resp.0.into_body().into_string().await.unwrap();
    // minijinja escapes `/` and `'` in values; browsers read them back as the characters.
    let body = body.replace("&#x2f;", "/").replace("&#x27;", "'");
    (status, headers, body)
}

fn set_cookies(headers: &poem::http::HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The value a `Set-Cookie` gives to `name`.
pub(super) fn cookie_value(headers: &poem::http::HeaderMap, name: &str) -> Option<String> {
    set_cookies(headers).iter().find_map(|c| {
        c.strip_prefix(&format!("{name}="))
            .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
    })
}

pub(super) fn hidden_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// A browser's cookie jar, reduced to what the tests need.
#[derive(Default, Clone)]
pub(super) struct Jar {
    pub(super) csrf: Option<String>,
    pub(super) session: Option<String>,
}

impl Jar {
    fn header(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = &self.csrf {
            parts.push(format!("peps_csrf={c}"));
        }
        if let Some(s) = &self.session {
            parts.push(format!("peps_session={s}"));
        }
        parts.join("; ")
    }

    fn take(&mut self, headers: &poem::http::HeaderMap) {
        if let Some(c) = cookie_value(headers, "peps_csrf") {
            self.csrf = Some(c);
        }
        if let Some(s) = cookie_value(headers, "peps_session") {
            self.session = Some(s).filter(|s| !s.is_empty());
        }
    }
}

pub(super) async fn get_page(
    app: &TestApp,
    jar: &mut Jar,
    path: &str,
) -> (u16, poem::http::HeaderMap, String) {
    let (status, headers, body) = text(
        app.client
            .get(path)
            .header("cookie", jar.header())
            .send()
            .await,
    )
    .await;
    jar.take(&headers);
    (status, headers, body)
}

pub(super) async fn post_form(
    app: &TestApp,
    jar: &mut Jar,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, poem::http::HeaderMap, String) {
    let body = fields
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&");
    let (status, headers, text) = text(
        app.client
            .post(path)
            .header("cookie", jar.header())
            .content_type("application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await,
    )
    .await;
    jar.take(&headers);
    (status, headers, text)
}

#[tokio::test]
async fn root_redirects_by_accept_language_and_pages_carry_their_language() {
    let app = TestApp::new(backends()[0]).await;
    for (accept, to) in [("ar,fr;q=0.5", "/ar/"), ("uk-UA", "/uk/"), ("de", "/fr/")] {
        let resp = app
            .client
            .get("/")
            .header("accept-language", accept)
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::SEE_OTHER);
        resp.assert_header("location", to);
    }
    for (lang, dir) in [
        ("fr", "ltr"),
        ("ar", "rtl"),
        ("ps", "rtl"),
        ("fr-x-falc", "ltr"),
        ("zh-Hans", "ltr"),
    ] {
        let (status, headers, html) = text(app.client.get(format!("/{lang}/")).send().await).await;
        assert_eq!(status, 200, "{lang}");
        assert!(
            html.contains(&format!("<html lang=\"{lang}\" dir=\"{dir}\">")),
            "{lang}"
        );
        assert_eq!(
            headers
                .get("content-security-policy")
                .unwrap()
                .to_str()
                .unwrap(),
            peps_http::web::CSP
        );
        assert_eq!(headers.get("x-frame-options").unwrap(), "DENY");
        // The skip link comes first, then the language switcher, by keyboard.
        let skip = html.find("class=\"skip\"").unwrap();
        let switch = html.find("class=\"language\"").unwrap();
        let main = html.find("id=\"main\"").unwrap();
        assert!(skip < switch && switch < main, "{lang}");
    }
    // Pages are compressed for cheap phones; the stylesheet is cached.
    let resp = app
        .client
        .get("/fr/")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    resp.assert_header("content-encoding", "gzip");
    let (status, headers, css) = text(app.client.get("/static/site.css").send().await).await;
    assert_eq!(status, 200);
    assert!(css.contains("--primary:#1d3f6e"));
    assert!(
        headers
            .get("cache-control")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    // An unknown page under a language is a page, not JSON; the API is untouched.
    let (status, _, html) = text(app.client.get("/fr/offers/not-a-uuid").send().await).await;
    assert_eq!(status, 404);
    assert!(html.contains("<html lang=\"fr\""));
    app.client.get("/health").send().await.assert_status_is_ok();
    let (status, problem) = status_json(app.client.get("/api/v1/nothing-here").send().await).await;
    assert_eq!(status, 404);
    assert_eq!(problem["code"], "route.not_found");
}

pub async fn publish(app: &TestApp, token: &str, org: uuid::Uuid, body: Value) -> String {
    let (status, created) = status_json(
        app.client
            .post(format!("/api/v1/organisations/{org}/offers"))
            .header("authorization", format!("Bearer {token}"))
            .body_json(&body)
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, published) = status_json(
        app.client
            .post(format!("/api/v1/offers/{id}/publish"))
            .header("authorization", format!("Bearer {token}"))
            .header("if-match", "\"1\"")
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200, "{published}");
    id
}

pub fn food_bank() -> Value {
    json!({
        "title": "Banque alimentaire d'Auxerre",
        "summary": "Colis alimentaires pour les familles.",
        "description": "Distribution de colis alimentaires.\n\nSur orientation d'un travailleur social.",
        "theme": "ville-du-quotidien",
        "topics": ["equipement-et-alimentation--alimentation"],
        "audiences": ["familles"],
        "cost": "gratuit",
        "reception_modes": ["en-presentiel"],
        "locations": [{"address": "12 rue de Paris", "commune": "Auxerre", "commune_code": "89024",
                        "postcode": "89000", "latitude": 47.7996, "longitude": 3.5703}],
        "opening_hours": "Mo-Fr 09:00-12:00,14:00-17:00",
        "contact": {"phone": "03 86 00 42 42", "email": "contact@banque.example.org"},
        "accessibility": {"step_free_access": true},
    })
}

#[tokio::test]
async fn a_reader_finds_an_offer_by_commune_and_opens_it() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let id = publish(&app, &cast.member_x.1, cast.org_x.0, food_bank()).await;
        let mut other = food_bank();
        other["title"] = json!("Épicerie solidaire de Sens");
        other["locations"] = json!([{"commune": "Sens", "commune_code": "89387", "postcode": "89100", "latitude": 48.19738, "longitude": 3.28328}]);
        publish(&app, &cast.member_x.1, cast.org_x.0, other).await;

        // Monday 23 November 2026, 10:00 in Paris: open, closes at 12:00.
        use chrono::TimeZone;
        app.clock
            .set(chrono::Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap());
        let mut jar = Jar::default();
        let (status, _, html) =
            get_page(&app, &mut jar, "/ar/search?q=&commune=auxerre&radius=10").await;
        assert_eq!(status, 200, "{backend:?}");
        assert!(
            html.contains("Banque alimentaire d&#x27;Auxerre")
                || html.contains("Banque alimentaire d'Auxerre"),
            "{html}"
        );
        assert!(
            !html.contains("Épicerie solidaire de Sens"),
            "Sens is 50 km away"
        );
        assert!(
            html.contains("<bdi dir=\"ltr\">0 كم</bdi>") || html.contains("كم</bdi>"),
            "distance isolated"
        );
        assert!(html.contains("status-open"), "open now: {html}");
        assert!(html.contains("12:00"), "closes at noon");

        // Unknown commune: said beside the field and in the summary at the top, linked.
        let (status, _, html) = get_page(&app, &mut jar, "/fr/search?commune=Auxer").await;
        assert_eq!(status, 400);
        assert!(html.contains("href=\"#commune\""));
        assert!(html.contains("id=\"commune-error\""));
        assert!(html.contains("aria-describedby=\"commune-hint commune-error\""));

        // "Around me": the browser's position (rounded to 100 m) instead of a commune, kept
        // in the form for the next page; a commune typed meanwhile wins; nonsense is refused
        // beside the commune field.
        let (status, _, html) = get_page(
            &app,
            &mut jar,
            "/fr/search?near=47.79961234,3.5703&radius=10",
        )
        .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Banque alimentaire d"), "{html}");
        assert!(!html.contains("Épicerie solidaire de Sens"));
        assert!(
            html.contains("name=\"near\" value=\"47.800,3.570\""),
            "{html}"
        );
        assert!(html.contains(&i18n::text("web.search.near_you", "fr")));
        let (status, _, html) = get_page(
            &app,
            &mut jar,
            "/fr/search?near=48.197,3.283&commune=Auxerre",
        )
        .await;
        assert_eq!(status, 200);
        assert!(html.contains("Banque alimentaire d") && !html.contains("name=\"near\""));
        for nonsense in ["abc", "91,3.5", "47.8", "47.8,200"] {
            let (status, _, html) =
                get_page(&app, &mut jar, &format!("/fr/search?near={nonsense}")).await;
            assert_eq!(status, 400, "{nonsense}");
            assert!(html.contains("id=\"commune-error\""), "{nonsense}");
        }
        // The enhancement's button exists only for scripts: hidden without them.
        assert!(html.contains("<p class=\"locate\" hidden data-locate=\"Autour de moi\""));

        // Theme links from the home page, and "open now".
        let (_, _, home) = get_page(&app, &mut jar, "/fr/").await;
        assert!(home.contains("/fr/search?theme="));
        let (_, _, html) = get_page(&app, &mut jar, "/fr/search?open_now=1").await;
        assert!(html.contains("Offres trouvées : 2"), "{html}");

        // The offer page: phone as a tel: link, isolated; hours as a table; map link.
        let (status, _, html) = get_page(&app, &mut jar, &format!("/ar/offers/{id}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("href=\"tel:+33386004242\""), "{html}");
        assert!(html.contains("<bdi dir=\"ltr\">03 86 00 42 42</bdi>"));
        assert!(html.contains("<table class=\"hours\">"));
        assert!(html.contains("09:00–12:00, 14:00–17:00"));
        assert!(html.contains("openstreetmap.org/?mlat=47.79960"));
        assert!(
            html.contains("lang=\"fr\" dir=\"ltr\""),
            "French content marked in an Arabic page"
        );
        assert!(
            html.contains("Épicerie solidaire de Sens"),
            "the offerer's other offers"
        );
    }
}

/// Issue 15 §5: on a cheap phone, a full page of results (20 offers) and its stylesheet weigh
/// under 40 KB as they travel (gzip), and no script is needed to use them.
#[tokio::test]
async fn a_page_of_results_and_its_stylesheet_weigh_under_40_kb_compressed() {
    let app = TestApp::new(backends()[0]).await;
    let cast = Cast::new(&app).await;
    for n in 0..22 {
        let mut offer = food_bank();
        offer["title"] = json!(format!("Banque alimentaire n° {n} d'Auxerre"));
        offer["summary"] = json!(
            "Colis alimentaires pour les familles, sur orientation d'un travailleur social, chaque semaine."
        );
        publish(&app, &cast.member_x.1, cast.org_x.0, offer).await;
    }
    let gzipped = |path: String| {
        let app = &app;
        async move {
            let resp = app
                .client
                .get(path.clone())
                .header("accept-encoding", "gzip")
                .send()
                .await;
            resp.assert_status_is_ok();
            let encoding = resp.0.headers().get("content-encoding").cloned();
            assert_eq!(
                encoding.as_ref().and_then(|v| v.to_str().ok()),
                Some("gzip"),
                "{path} is sent compressed"
            );
            resp.0.into_body().into_bytes().await.unwrap().len()
        }
    };
    for lang in ["fr", "ar"] {
        let results = gzipped(format!("/{lang}/search?q=&commune=Auxerre&radius=10")).await;
        let css = gzipped("/static/site.css".to_owned()).await;
        assert!(
            results + css < 40 * 1024,
            "{lang}: {results} + {css} bytes compressed"
        );
        let (_, _, html) = get_page(
            &app,
            &mut Jar::default(),
            &format!("/{lang}/search?q=&commune=Auxerre&radius=10"),
        )
        .await;
        assert_eq!(html.matches("class=\"card\"").count(), 20, "a full page");
    }
}

#[tokio::test]
async fn sign_in_with_csrf_fresh_session_and_sign_out() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Worker, "w@test.peps", &[]).await;
        let mut jar = Jar::default();
        let (_, _, form) = get_page(&app, &mut jar, "/fr/sign-in").await;
        let csrf = hidden_csrf(&form);
        assert!(jar.csrf.is_some(), "a CSRF cookie is set with the form");

        // Without the token, or with a wrong one, or without the cookie: refused.
        for fields in [
            vec![("login", "w@test.peps"), ("password", PASSWORD)],
            vec![
                ("login", "w@test.peps"),
                ("password", PASSWORD),
                ("csrf", "0000"),
            ],
        ] {
            let (status, headers, _) =
                post_form(&app, &mut jar.clone(), "/fr/sign-in", &fields).await;
            assert_eq!(status, 403, "{backend:?}");
            assert!(cookie_value(&headers, "peps_session").is_none());
        }
        let mut cookieless = Jar::default();
        let (status, _, _) = post_form(
            &app,
            &mut cookieless,
            "/fr/sign-in",
            &[
                ("login", "w@test.peps"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
        assert_eq!(status, 403);

        // Errors beside the fields, summarised at the top.
        let (status, _, html) = post_form(
            &app,
            &mut jar,
            "/fr/sign-in",
            &[
                ("login", "w@test.peps"),
                ("password", "wrong"),
                ("csrf", &csrf),
            ],
        )
        .await;
        assert_eq!(status, 400);
        assert!(html.contains("class=\"error-summary\""));
        assert!(html.contains("Identifiant ou mot de passe incorrect."));
        assert!(html.contains("aria-invalid=\"true\""));

        // A session id planted before sign-in is never the one after it.
        let mut planted = jar.clone();
        planted.session = Some("peps_planted_by_someone".into());
        let (status, headers, _) = post_form(
            &app,
            &mut planted,
            "/fr/sign-in",
            &[
                ("login", "w@test.peps"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
        assert_eq!(status, 303, "{backend:?}");
        assert_eq!(headers.get("location").unwrap(), "/fr/account");
        let session = planted.session.clone().unwrap();
        assert_ne!(session, "peps_planted_by_someone");
        assert!(session.starts_with("peps_"));
        let cookies = set_cookies(&headers);
        let session_cookie = cookies
            .iter()
            .find(|c| c.starts_with("peps_session="))
            .unwrap();
        for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(session_cookie.contains(flag), "{session_cookie}");
        }
        assert!(
            !session_cookie.contains("Secure"),
            "http public_url: no Secure flag"
        );
        assert_ne!(planted.csrf, jar.csrf, "a new CSRF cookie at sign-in");

        // Signed in: the account page; the old form token no longer works.
        let (status, _, html) = get_page(&app, &mut planted, "/fr/account").await;
        assert_eq!(status, 200);
        assert!(html.contains("Test w@test.peps"));
        let (status, _, _) = post_form(
            &app,
            &mut planted.clone(),
            "/fr/sign-out",
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(status, 403);

        // Signing out ends the session on the server: the old cookie is dead.
        let token = hidden_csrf(&html);
        let dead = planted.session.clone();
        let (status, headers, _) =
            post_form(&app, &mut planted, "/fr/sign-out", &[("csrf", &token)]).await;
        assert_eq!(status, 303);
        assert!(
            set_cookies(&headers)
                .iter()
                .any(|c| c.starts_with("peps_session=;") && c.contains("Max-Age=0"))
        );
        let mut replay = Jar {
            session: dead.clone(),
            csrf: planted.csrf.clone(),
        };
        let resp = app
            .client
            .get("/fr/account")
            .header("cookie", replay.header())
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::SEE_OTHER);
        resp.assert_header("location", "/fr/sign-in");
        let bearer = app
            .client
            .get("/api/v1/me")
            .header("authorization", format!("Bearer {}", dead.unwrap()))
            .send()
            .await;
        bearer.assert_status(poem::http::StatusCode::UNAUTHORIZED);
        replay.session = None;
    }
}

#[tokio::test]
async fn a_person_activates_the_account_from_the_paper_sheet() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Worker, "w@test.peps", &[]).await;
        let worker = app.login("w@test.peps").await;
        let (status, created) = status_json(
            app.client
                .post("/api/v1/persons")
                .header("authorization", format!("Bearer {worker}"))
                .body_json(&json!({"display_name": "Fatoumata Diallo", "language": "ar"}))
                .send()
                .await,
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let login = created["login"].as_str().unwrap().to_owned();
        let code = created["activation_code"].as_str().unwrap().to_owned();

        let mut jar = Jar::default();
        let (status, _, form) = get_page(&app, &mut jar, "/ar/activate").await;
        assert_eq!(status, 200);
        let csrf = hidden_csrf(&form);
        // Missing fields: each named beside its field.
        let (status, _, html) = post_form(
            &app,
            &mut jar,
            "/ar/activate",
            &[("login", &login), ("csrf", &csrf)],
        )
        .await;
        assert_eq!(status, 400);
        assert!(html.contains("href=\"#code\"") && html.contains("href=\"#password\""));
        // A wrong code is tied to the code field.
        let (status, _, html) = post_form(
            &app,
            &mut jar,
            "/ar/activate",
            &[
                ("login", &login),
                ("code", "AAAAA-AAAAA"),
                ("password", "Ma phrase de passe secrète"),
                ("csrf", &csrf),
            ],
        )
        .await;
        assert_eq!(status, 400);
        assert!(html.contains("id=\"code-error\""), "{html}");
        // Typed loosely, as people do.
        let typed = code.to_lowercase().replace('-', " ");
        let (status, headers, _) = post_form(
            &app,
            &mut jar,
            "/ar/activate",
            &[
                ("login", &login),
                ("code", &typed),
                ("password", "Ma phrase de passe secrète"),
                ("csrf", &csrf),
            ],
        )
        .await;
        assert_eq!(status, 303, "{backend:?}");
        // A person lands on their plan (none yet: the page says their référent writes it).
        assert_eq!(headers.get("location").unwrap(), "/ar/plans");
        let (status, _, html) = get_page(&app, &mut jar, "/ar/plans").await;
        assert_eq!(status, 200);
        assert!(html.contains(&i18n::text("web.plans.empty", "ar")));
        let (status, _, html) = get_page(&app, &mut jar, "/ar/account").await;
        assert_eq!(status, 200);
        assert!(html.contains("Fatoumata Diallo"));
        // `/` now follows the person's own language.
        let resp = app
            .client
            .get("/")
            .header("cookie", jar.header())
            .header("accept-language", "fr")
            .send()
            .await;
        resp.assert_header("location", "/ar/");
    }
}

#[tokio::test]
async fn cookies_are_secure_behind_https_and_languages_link_to_the_same_page() {
    let site = peps_http::web::Site::load(peps_http::web::WebSettings {
        public_url: "https://peps.example.org".into(),
        ..Default::default()
    })
    .unwrap();
    let settings = peps_http::HttpSettings {
        site: std::sync::Arc::new(site),
        ..Default::default()
    };
    let app = TestApp::with_settings(backends()[0], settings).await;
    let (_, headers, _) = text(app.client.get("/fr/sign-in").send().await).await;
    let csrf = set_cookies(&headers);
    assert!(
        csrf[0].contains("Secure") && csrf[0].contains("HttpOnly"),
        "{csrf:?}"
    );

    let (_, _, html) = text(
        app.client
            .get("/fr/languages?back=/search%3Fq%3Dpain")
            .send()
            .await,
    )
    .await;
    assert!(html.contains("href=\"/ar/search?q=pain\""), "{html}");
    assert!(html.contains(">العربية<"));
    // Never a link to another site.
    let (_, _, html) = text(
        app.client
            .get("/fr/languages?back=//evil.example")
            .send()
            .await,
    )
    .await;
    assert!(html.contains("href=\"/ar/\""));
    assert!(!html.contains("href=\"//evil") && !html.contains("href=\"/ar//evil"));
}
