//! Logging in and out, throttling, activation codes, sessions.

use chrono::Duration;
use serde_json::json;

use crate::support::*;
use peps_core::domain::Role;

#[tokio::test]
async fn health_ready_and_languages() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.client.get("/health").send().await.assert_status_is_ok();
        app.client.get("/ready").send().await.assert_status_is_ok();
        let (status, body) = status_json(app.client.get("/api/v1/languages").send().await).await;
        assert_eq!(status, 200);
        let languages = body.as_array().unwrap();
        assert_eq!(languages.len(), 23);
        let arabic = languages.iter().find(|l| l["code"] == "ar").unwrap();
        assert_eq!(arabic["direction"], "rtl");
        assert_eq!(arabic["native_name"], "العربية");
    }
}

#[tokio::test]
async fn login_me_logout_everywhere() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Worker, "w@test.peps", &[]).await;
        let first = app.login("w@test.peps").await;
        let second = app.login("W@Test.Peps ").await;
        assert_ne!(first, second);
        assert!(first.starts_with("peps_") && first.len() >= 48);

        let (status, me) = status_json(
            app.client
                .get("/api/v1/me")
                .header("authorization", format!("Bearer {first}"))
                .send()
                .await,
        )
        .await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["role"], "worker");
        assert_eq!(me["direction"], "ltr");

        app.client
            .post("/api/v1/auth/logout")
            .header("authorization", format!("Bearer {first}"))
            .send()
            .await
            .assert_status(poem::http::StatusCode::NO_CONTENT);
        let (status, problem) = status_json(
            app.client
                .get("/api/v1/me")
                .header("authorization", format!("Bearer {first}"))
                .send()
                .await,
        )
        .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (401, Some("auth.required"))
        );

        let third = app.login("w@test.peps").await;
        let (status, body) = status_json(
            app.client
                .post("/api/v1/auth/logout-all")
                .header("authorization", format!("Bearer {second}"))
                .send()
                .await,
        )
        .await;
        assert_eq!((status, body["ended"].as_u64()), (200, Some(2)));
        for token in [second, third] {
            let resp = app
                .client
                .get("/api/v1/me")
                .header("authorization", format!("Bearer {token}"))
                .send()
                .await;
            resp.assert_status(poem::http::StatusCode::UNAUTHORIZED);
        }
    }
}

#[tokio::test]
async fn unknown_login_and_wrong_password_look_the_same() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Person, "known@test.peps", &[]).await;
        let attempt = |email: &'static str| {
            app.client
                .post("/api/v1/auth/login")
                .body_json(&json!({"email": email, "password": "Wrong-Password-123"}))
                .send()
        };
        let (s1, mut b1) = status_json(attempt("known@test.peps").await).await;
        let (s2, mut b2) = status_json(attempt("unknown@test.peps").await).await;
        assert_eq!((s1, s2), (401, 401));
        b1.as_object_mut().unwrap().remove("request_id");
        b2.as_object_mut().unwrap().remove("request_id");
        assert_eq!(b1, b2);
        assert_eq!(b1["code"], "auth.invalid_credentials");
    }
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Person, "target@test.peps", &[]).await;
        let mut statuses = vec![];
        for _ in 0..10 {
            let resp = app
                .client
                .post("/api/v1/auth/login")
                .body_json(&json!({"email": "target@test.peps", "password": "Wrong-Password-123"}))
                .send()
                .await;
            statuses.push(resp.0.status().as_u16());
            if resp.0.status() == 429 {
                let retry: u64 = resp.0.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=15 * 60).contains(&retry), "Retry-After {retry}");
            }
        }
        assert_eq!(&statuses[..5], &[401; 5]);
        assert_eq!(&statuses[5..], &[429; 5]);

        // Even the right password waits for the window to end.
        let right = json!({"email": "target@test.peps", "password": PASSWORD});
        let (status, body) = status_json(
            app.client
                .post("/api/v1/auth/login")
                .body_json(&right)
                .send()
                .await,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (429, Some("auth.too_many_attempts"))
        );

        // Unknown logins are throttled too, so throttling reveals nothing either.
        for _ in 0..6 {
            app.client
                .post("/api/v1/auth/login")
                .body_json(&json!({"email": "ghost@test.peps", "password": "x"}))
                .send()
                .await;
        }
        let resp = app
            .client
            .post("/api/v1/auth/login")
            .body_json(&json!({"email": "ghost@test.peps", "password": "x"}))
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::TOO_MANY_REQUESTS);

        app.clock.advance(Duration::minutes(16));
        app.client
            .post("/api/v1/auth/login")
            .body_json(&right)
            .send()
            .await
            .assert_status_is_ok();
    }
}

#[tokio::test]
async fn idle_and_absolute_session_expiry() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Helper, "h@test.peps", &[]).await;
        let me = |token: String| {
            app.client
                .get("/api/v1/me")
                .header("authorization", format!("Bearer {token}"))
                .send()
        };

        let token = app.login("h@test.peps").await;
        app.clock.advance(Duration::minutes(119));
        me(token.clone()).await.assert_status_is_ok();
        app.clock.advance(Duration::minutes(119));
        me(token.clone()).await.assert_status_is_ok();
        app.clock.advance(Duration::minutes(121));
        me(token)
            .await
            .assert_status(poem::http::StatusCode::UNAUTHORIZED);

        // Used every hour, the session still ends 12 hours after login.
        let token = app.login("h@test.peps").await;
        let mut lived = 0;
        loop {
            app.clock.advance(Duration::minutes(61));
            if me(token.clone()).await.0.status() != 200 {
                break;
            }
            lived += 61;
            assert!(lived < 13 * 60, "a session outlived its absolute lifetime");
        }
        assert_eq!(lived, 11 * 61, "ended after {lived} minutes");
    }
}

#[tokio::test]
async fn person_without_email_activates_with_a_paper_code() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Worker, "w@test.peps", &[]).await;
        app.provision(Role::Worker, "other@test.peps", &[]).await;
        let worker = app.login("w@test.peps").await;
        let other = app.login("other@test.peps").await;

        let (status, created) = status_json(
            app.client
                .post("/api/v1/persons")
                .header("authorization", format!("Bearer {worker}"))
                .body_json(&json!({"display_name": "Fatoumata Diallo", "language": "ff"}))
                .send()
                .await,
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let login = created["login"].as_str().unwrap().to_owned();
        let code = created["activation_code"].as_str().unwrap().to_owned();
        let person_id = created["account"]["id"].as_str().unwrap().to_owned();
        assert!(login.starts_with("fatoumata.diallo."), "{login}");
        assert_eq!(created["account"]["status"], "pending_activation");
        assert_eq!(created["sheet"]["language"], "ff");
        assert!(created["sheet"]["text"].as_str().unwrap().contains(&code));
        assert!(
            created["sheet_fr"]["text"]
                .as_str()
                .unwrap()
                .contains("Votre code d'activation")
        );

        // The creating worker is the referent.
        let (status, referents) = status_json(
            app.client
                .get(format!("/api/v1/persons/{person_id}/referents"))
                .header("authorization", format!("Bearer {worker}"))
                .send()
                .await,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(referents[0]["current"], true);

        let activate = |code: String, password: &'static str| {
            app.client
                .post("/api/v1/auth/activate")
                .body_json(
                    &json!({"login": login.to_uppercase(), "code": code, "password": password}),
                )
                .send()
        };
        // A weak password is refused and the code stays usable.
        let (status, problem) = status_json(activate(code.clone(), "short").await).await;
        assert_eq!(
            (status, problem["code"].as_str(), problem["field"].as_str()),
            (422, Some("account.password.too_weak"), Some("password"))
        );
        let (status, problem) =
            status_json(activate("AAAAA-AAAAA".into(), "Long enough passphrase here").await).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (400, Some("auth.activation_code_invalid"))
        );

        let typed = code.to_lowercase().replace('-', " ");
        let (status, session) =
            status_json(activate(typed, "Ma phrase de passe secrète").await).await;
        assert_eq!(status, 200, "{session}");
        assert_eq!(session["account"]["status"], "active");
        let (status, _) =
            status_json(activate(code.clone(), "Ma phrase de passe secrète").await).await;
        assert_eq!(status, 400, "a code works once");

        // The person logs in with the printed login from now on.
        let resp = app
            .client
            .post("/api/v1/auth/login")
            .body_json(&json!({"email": login, "password": "Ma phrase de passe secrète"}))
            .send()
            .await;
        resp.assert_status_is_ok();

        // A worker who is not the referent cannot issue a code: the person is invisible to them.
        let (status, _) = status_json(
            app.client
                .post(format!("/api/v1/accounts/{person_id}/activation-code"))
                .header("authorization", format!("Bearer {other}"))
                .send()
                .await,
        )
        .await;
        assert_eq!(status, 404);
        // The referent can (forgotten password); the earlier session ends on use.
        let (status, reissued) = status_json(
            app.client
                .post(format!("/api/v1/accounts/{person_id}/activation-code"))
                .header("authorization", format!("Bearer {worker}"))
                .send()
                .await,
        )
        .await;
        assert_eq!(status, 201);
        let new_code = reissued["activation_code"].as_str().unwrap().to_owned();
        let (status, _) = status_json(activate(new_code, "Une toute nouvelle phrase").await).await;
        assert_eq!(status, 200);
        let old = session["token"].as_str().unwrap();
        app.client
            .get("/api/v1/me")
            .header("authorization", format!("Bearer {old}"))
            .send()
            .await
            .assert_status(poem::http::StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn wrong_codes_burn_the_code() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Admin, "a@test.peps", &[]).await;
        let admin = app.login("a@test.peps").await;
        let (_, created) = status_json(
            app.client
                .post("/api/v1/accounts")
                .header("authorization", format!("Bearer {admin}"))
                .body_json(&json!({"role": "helper", "email": "new.helper@test.peps", "display_name": "Nouvel Aidant"}))
                .send()
                .await,
        )
        .await;
        let code = created["activation_code"].as_str().unwrap().to_owned();
        for _ in 0..5 {
            let resp = app.client.post("/api/v1/auth/activate").body_json(&json!({"login": "new.helper@test.peps", "code": "ZZZZZ-ZZZZZ", "password": "Long enough passphrase here"})).send().await;
            resp.assert_status(poem::http::StatusCode::BAD_REQUEST);
        }
        let resp = app.client.post("/api/v1/auth/activate").body_json(&json!({"login": "new.helper@test.peps", "code": code, "password": "Long enough passphrase here"})).send().await;
        resp.assert_status(poem::http::StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn errors_speak_the_callers_language() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        for (accept, lang, fragment) in [
            (None, "fr", "incorrect"),
            (Some("en-GB,en;q=0.9"), "en", "Wrong login"),
            (Some("uk"), "uk", ""),
            (Some("zh-CN"), "zh-Hans", ""),
        ] {
            let mut req = app
                .client
                .post("/api/v1/auth/login")
                .body_json(&json!({"email": "x@y.fr", "password": "nope"}));
            if let Some(accept) = accept {
                req = req.header("accept-language", accept);
            }
            let resp = req.send().await;
            assert_eq!(resp.0.headers()["content-language"], lang);
            let (_, body) = status_json(resp).await;
            assert_eq!(body["lang"], lang);
            assert!(body["title"].as_str().unwrap().contains(fragment), "{body}");
        }
    }
}

/// Issue 14: anyone who knows a login used to lock the real account for 15 minutes from every
/// address. Now a stranger's wrong passwords throttle that stranger's address and slow guesses
/// on the login down, while the owner signs in from their usual device (its known-device
/// token), and the paper code still works.
#[tokio::test]
async fn wrong_passwords_from_strangers_never_lock_the_owner_out() {
    for backend in backends() {
        let app = TestApp::with_settings(
            backend,
            peps_http::HttpSettings {
                trust_forwarded_for: true,
                ..peps_http::HttpSettings::default()
            },
        )
        .await;
        app.provision(Role::Person, "target@test.peps", &[]).await;
        app.provision(Role::Admin, "admin@test.peps", &[]).await;
        let login = |from: &'static str, password: &str, device: Option<&str>| {
            app.client
                .post("/api/v1/auth/login")
                .header("x-forwarded-for", from)
                .body_json(&json!({
                    "login": "target@test.peps",
                    "password": password,
                    "device_token": device,
                }))
                .send()
        };
        // The owner's usual device keeps the token it got at sign-in.
        let (status, first) = status_json(login("192.0.2.10", PASSWORD, None).await).await;
        assert_eq!(status, 200, "{first}");
        let device = first["device_token"].as_str().unwrap().to_owned();
        assert!(device.starts_with("pepsdev_"));

        // An attacker tries from four addresses: each address is stopped after five.
        for from in [
            "198.51.100.1",
            "198.51.100.2",
            "198.51.100.3",
            "198.51.100.4",
        ] {
            for _ in 0..5 {
                assert_eq!(
                    login(from, "Wrong-Password-123", None).await.0.status(),
                    401
                );
            }
            let resp = login(from, "Wrong-Password-123", None).await;
            assert_eq!(resp.0.status(), 429, "{from}");
        }
        // Twenty failures on the login: guesses from a fifth address are slowed down…
        let resp = login("198.51.100.5", "Wrong-Password-123", None).await;
        assert_eq!(resp.0.status(), 429);
        let retry: u64 = resp.0.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=30).contains(&retry), "Retry-After {retry}");

        // …but the owner signs in from their usual device, even behind the attacker's address
        // (a shared connection at a social centre).
        for from in ["192.0.2.10", "198.51.100.1"] {
            let (status, body) = status_json(login(from, PASSWORD, Some(&device)).await).await;
            assert_eq!(status, 200, "{from}: {body}");
        }
        // A forged or stale token is no way round it.
        // (Another last character: the token's own could be an "A", one time in 64.)
        let other = if device.ends_with('A') { 'B' } else { 'A' };
        let forged = format!("{}{other}", &device[..device.len() - 1]);
        assert_eq!(
            login("192.0.2.11", PASSWORD, Some(&forged))
                .await
                .0
                .status(),
            429
        );
        // Without the device, the owner is slowed, never locked: after the interval, one try.
        app.clock.advance(Duration::seconds(31));
        let (status, _) = status_json(login("192.0.2.11", PASSWORD, None).await).await;
        assert_eq!(status, 200);

        // The paper code is counted apart: a reset asked at the counter still works.
        let admin = app.login("admin@test.peps").await;
        let id = first["account"]["id"].as_str().unwrap().to_owned();
        let resp = app
            .client
            .post(format!(
                "/api/v1/accounts/{id}/activation-code?at_counter=true"
            ))
            .header("authorization", format!("Bearer {admin}"))
            .send()
            .await;
        let (status, sheet) = status_json(resp).await;
        assert_eq!(status, 201, "{sheet}");
        let resp = app
            .client
            .post("/api/v1/auth/activate")
            .header("x-forwarded-for", "198.51.100.1")
            .body_json(&json!({
                "login": "target@test.peps",
                "code": sheet["activation_code"],
                "password": "Une-Autre-Phrase-De-Passe-42",
            }))
            .send()
            .await;
        resp.assert_status_is_ok();
        // A new password voids the device token: it was tied to the old one.
        assert_eq!(
            login("192.0.2.10", "Une-Autre-Phrase-De-Passe-42", Some(&device))
                .await
                .0
                .status(),
            200,
            "a void token is ignored, not an error"
        );
    }
}

/// Issue 13 §3: login takes `login` (email or printed login name) like activation; `email`
/// stays accepted, and a body with neither names the field.
#[tokio::test]
async fn login_takes_login_or_email() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Worker, "w@test.peps", &[]).await;
        for body in [
            json!({"login": "w@test.peps", "password": PASSWORD}),
            json!({"login": "W@Test.Peps", "password": PASSWORD}),
            json!({"email": "w@test.peps", "password": PASSWORD}),
        ] {
            let resp = app
                .client
                .post("/api/v1/auth/login")
                .body_json(&body)
                .send()
                .await;
            resp.assert_status_is_ok();
        }
        let (status, problem) = status_json(
            app.client
                .post("/api/v1/auth/login")
                .body_json(&json!({"password": PASSWORD}))
                .send()
                .await,
        )
        .await;
        assert_eq!(
            (status, problem["code"].as_str(), problem["field"].as_str()),
            (422, Some("auth.login_required"), Some("login"))
        );
    }
}
