//! The second factor in the web pages: an admin sets up an authenticator after the password,
//! keeps the recovery codes shown once, and passes the code at the next sign-ins.

use peps_core::auth::totp::{code_for_step, step_at};
use peps_core::clock::Clock;
use peps_core::domain::Role;
use peps_core::i18n;

use super::support::*;
use super::web::{Jar, get_page, hidden_csrf, post_form};

/// RFC 4648 base32 without padding, as authenticator apps read the key.
fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| *c != b' ' && *c != b'=') {
        let value = ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .expect("a base32 character") as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

/// The key the set-up page shows, without its spaces.
fn shown_secret(html: &str) -> String {
    let at = html.find("class=\"secret\">").expect("the key to type");
    let rest = &html[at + "class=\"secret\">".len()..];
    rest[..rest.find('<').unwrap()].replace(' ', "")
}

fn recovery_codes(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .map(|part| part[..part.find('<').unwrap()].to_owned())
        .collect()
}

async fn sign_in(app: &TestApp, jar: &mut Jar, login: &str) -> String {
    let (_, _, form) = get_page(app, jar, "/fr/sign-in").await;
    let csrf = hidden_csrf(&form);
    let (status, headers, _) = post_form(
        app,
        jar,
        "/fr/sign-in",
        &[("login", login), ("password", PASSWORD), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, 303);
    headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

async fn sign_out(app: &TestApp, jar: &mut Jar) {
    let (_, _, html) = get_page(app, jar, "/fr/account").await;
    let csrf = hidden_csrf(&html);
    let (status, _, _) = post_form(app, jar, "/fr/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    assert!(jar.session.is_none());
}

#[tokio::test]
async fn an_admin_sets_up_the_second_factor_then_passes_it_at_sign_in() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Admin, "admin@test.peps", &[]).await;
        let mut jar = Jar::default();

        // The password alone leads to the second-factor page, not to the account.
        let next = sign_in(&app, &mut jar, "admin@test.peps").await;
        assert_eq!(next, "/fr/second-factor", "{backend:?}");
        let resp = app
            .client
            .get("/fr/account")
            .header(
                "cookie",
                format!("peps_session={}", jar.session.clone().unwrap()),
            )
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::SEE_OTHER);
        resp.assert_header("location", "/fr/second-factor");
        let (status, _, home) = get_page(&app, &mut jar, "/fr/").await;
        assert_eq!(status, 200);
        assert!(
            !home.contains("href=\"/fr/account\""),
            "a pending session signs nobody in"
        );

        // The set-up page: the QR code drawn inline, the key in groups, the code field.
        let (status, _, html) = get_page(&app, &mut jar, "/fr/second-factor").await;
        assert_eq!(status, 200, "{backend:?}");
        assert!(html.contains("<svg"), "an inline SVG QR code");
        assert!(html.contains("role=\"img\" aria-label=\"QR code"));
        assert!(html.contains("<bdi dir=\"ltr\"><code class=\"secret\">"));
        assert!(html.contains("autocomplete=\"one-time-code\""));
        assert!(html.contains("inputmode=\"numeric\""));
        assert!(
            !html.contains(" style="),
            "the strict CSP allows no inline style"
        );
        let secret = shown_secret(&html);
        assert_eq!(secret.len(), 32, "{secret}");
        let key = base32_decode(&secret);
        assert_eq!(key.len(), 20);
        let code = code_for_step(&key, step_at(app.clock.now()));
        let csrf = hidden_csrf(&html);

        // A wrong code: the message beside the field, the page again (no key repeated).
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let (status, _, html) = post_form(
            &app,
            &mut jar,
            "/fr/second-factor",
            &[("code", wrong), ("csrf", &csrf)],
        )
        .await;
        assert_eq!(status, 400);
        assert!(html.contains("class=\"field-error\" id=\"code-error\""));
        assert!(html.contains(&i18n::error_message("auth.second_factor_invalid", "fr")));
        assert!(html.contains("aria-invalid=\"true\""));
        // Without the form token: refused.
        let (status, _, _) = post_form(
            &app,
            &mut jar.clone(),
            "/fr/second-factor",
            &[("code", &code), ("csrf", "0000")],
        )
        .await;
        assert_eq!(status, 403);

        // The right code: the ten recovery codes, once, then the account.
        let (status, _, html) = post_form(
            &app,
            &mut jar,
            "/fr/second-factor",
            &[("code", &code), ("csrf", &csrf)],
        )
        .await;
        assert_eq!(status, 200, "{backend:?}");
        let codes = recovery_codes(&html);
        assert_eq!(codes.len(), 10, "{html}");
        assert!(html.contains("href=\"/fr/account\""));
        let (status, _, html) = get_page(&app, &mut jar, "/fr/account").await;
        assert_eq!(status, 200);
        assert!(html.contains("Test admin@test.peps"));
        assert!(html.contains("Codes de secours restants : 10"), "{html}");
        // Once set up, the page no longer offers a new key.
        let resp = app
            .client
            .get("/fr/second-factor")
            .header(
                "cookie",
                format!("peps_session={}", jar.session.clone().unwrap()),
            )
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::SEE_OTHER);
        resp.assert_header("location", "/fr/account");

        // The next sign-in asks for the code; a recovery code works, once.
        sign_out(&app, &mut jar).await;
        let next = sign_in(&app, &mut jar, "admin@test.peps").await;
        assert_eq!(next, "/fr/second-factor");
        let (status, _, html) = get_page(&app, &mut jar, "/fr/second-factor").await;
        assert_eq!(status, 200);
        assert!(!html.contains("<svg"), "no new key at sign-in");
        assert!(html.contains("autocomplete=\"one-time-code\""));
        let csrf = hidden_csrf(&html);
        let (status, headers, _) = post_form(
            &app,
            &mut jar,
            "/fr/second-factor",
            &[("code", &codes[0]), ("csrf", &csrf)],
        )
        .await;
        assert_eq!(status, 303, "{backend:?}");
        assert_eq!(headers.get("location").unwrap(), "/fr/account");
        let (status, _, html) = get_page(&app, &mut jar, "/fr/account").await;
        assert_eq!(status, 200);
        assert!(html.contains("Codes de secours restants : 9"));

        sign_out(&app, &mut jar).await;
        sign_in(&app, &mut jar, "admin@test.peps").await;
        let (_, _, html) = get_page(&app, &mut jar, "/fr/second-factor").await;
        let csrf = hidden_csrf(&html);
        let (status, _, html) = post_form(
            &app,
            &mut jar,
            "/fr/second-factor",
            &[("code", &codes[0]), ("csrf", &csrf)],
        )
        .await;
        assert_eq!(status, 400, "a recovery code works once");
        assert!(html.contains(&i18n::error_message("auth.second_factor_invalid", "fr")));
        // A later code of the authenticator still opens the session.
        app.clock.advance(chrono::Duration::seconds(30));
        let code = code_for_step(&key, step_at(app.clock.now()));
        let (status, headers, _) = post_form(
            &app,
            &mut jar,
            "/fr/second-factor",
            &[("code", &code), ("csrf", &csrf)],
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(headers.get("location").unwrap(), "/fr/account");
    }
}

#[tokio::test]
async fn a_worker_is_offered_the_second_factor_and_nobody_reaches_it_signed_out() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Worker, "w@test.peps", &[]).await;
        let mut jar = Jar::default();
        let resp = app.client.get("/fr/second-factor").send().await;
        resp.assert_status(poem::http::StatusCode::SEE_OTHER);
        resp.assert_header("location", "/fr/sign-in");

        // Optional for workers: straight to the account, which offers to set it up.
        let next = sign_in(&app, &mut jar, "w@test.peps").await;
        assert_eq!(next, "/fr/account", "{backend:?}");
        let (status, _, html) = get_page(&app, &mut jar, "/fr/account").await;
        assert_eq!(status, 200);
        assert!(html.contains("Pas encore mis en place."));
        assert!(html.contains("href=\"/fr/second-factor\""));
        let (status, _, html) = get_page(&app, &mut jar, "/ar/second-factor").await;
        assert_eq!(status, 200);
        assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"));
        assert!(html.contains("<bdi dir=\"ltr\"><code class=\"secret\">"));
    }
}
