//! The second factor over the API: admins must pass it, workers may set one up, a code works
//! once, recovery codes work once, wrong codes are throttled, and removing a factor is the
//! holder's or an admin's, never another worker's.

use peps_core::auth::totp::{code_for_step, step_at};
use peps_core::clock::Clock;
use peps_core::domain::Role;
use peps_core::ports::{AuditLog, SecondFactorRepository};
use serde_json::{Value, json};

use crate::support::*;

async fn password_login(app: &TestApp, email: &str) -> (String, Value) {
    let (status, body) = status_json(
        app.client
            .post("/api/v1/auth/login")
            .body_json(&json!({"login": email, "password": PASSWORD}))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (body["token"].as_str().unwrap().to_owned(), body)
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let bearer = format!("Bearer {token}");
    let req = match method {
        "GET" => app.client.get(path),
        "POST" => app.client.post(path),
        "DELETE" => app.client.delete(path),
        other => panic!("{other}"),
    }
    .header("authorization", bearer);
    let req = match body {
        Some(b) => req.body_json(&b),
        None => req,
    };
    status_json(req.send().await).await
}

fn now_step(app: &TestApp) -> i64 {
    step_at(app.clock.now())
}

#[tokio::test]
async fn admins_set_up_and_pass_a_second_factor_before_anything_else() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let admin = app.provision(Role::Admin, "root@test.peps", &[]).await;
        let (token, body) = password_login(&app, "root@test.peps").await;
        assert_eq!(body["assurance"], "awaiting_second_factor", "{backend:?}");

        // Nothing but the second-factor steps.
        let (status, problem) = call(&app, "GET", "/api/v1/me", &token, None).await;
        assert_eq!(status, 401);
        assert_eq!(problem["code"], "auth.second_factor_enrolment_required");
        let (status, _) = call(&app, "GET", "/api/v1/accounts", &token, None).await;
        assert_eq!(status, 401);
        let (status, state) = call(&app, "GET", "/api/v1/auth/second-factor", &token, None).await;
        assert_eq!(status, 200);
        assert_eq!(
            (state["required"].clone(), state["enrolled"].clone()),
            (json!(true), json!(false))
        );

        // Setting up: a secret, then its first code.
        let (status, start) = call(
            &app,
            "POST",
            "/api/v1/auth/second-factor/enrolment",
            &token,
            None,
        )
        .await;
        assert_eq!(status, 200, "{start}");
        let uri = start["otpauth_uri"].as_str().unwrap();
        assert!(
            uri.starts_with("otpauth://totp/PEPS:root%40test.peps?secret="),
            "{uri}"
        );
        assert!(uri.contains(start["secret"].as_str().unwrap()));
        let secret = app
            .shared
            .second_factor(admin)
            .await
            .unwrap()
            .unwrap()
            .secret;
        let (status, problem) = call(
            &app,
            "POST",
            "/api/v1/auth/second-factor/enrolment/confirm",
            &token,
            Some(json!({"code": wrong(&code_for_step(&secret, now_step(&app)))})),
        )
        .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (401, Some("auth.second_factor_invalid"))
        );
        let code = code_for_step(&secret, now_step(&app));
        let (status, codes) = call(
            &app,
            "POST",
            "/api/v1/auth/second-factor/enrolment/confirm",
            &token,
            Some(json!({"code": format!("{} {}", &code[..3], &code[3..])})),
        )
        .await;
        assert_eq!(status, 200, "{codes}");
        let recovery: Vec<String> =
            serde_json::from_value(codes["recovery_codes"].clone()).unwrap();
        assert_eq!(recovery.len(), 10);
        let (status, me) = call(&app, "GET", "/api/v1/me", &token, None).await;
        assert_eq!(status, 200, "{me}");
        let (status, _) = call(&app, "GET", "/api/v1/accounts", &token, None).await;
        assert_eq!(status, 200);

        // The next sign-in asks for a code; the one already used is refused, the next works.
        let (second, body) = password_login(&app, "root@test.peps").await;
        assert_eq!(body["assurance"], "awaiting_second_factor");
        let (status, problem) = call(&app, "GET", "/api/v1/me", &second, None).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (401, Some("auth.second_factor_required"))
        );
        let (status, _) = call(
            &app,
            "POST",
            "/api/v1/auth/second-factor",
            &second,
            Some(json!({"code": code})),
        )
        .await;
        assert_eq!(status, 401, "a code is accepted once");
        let next = code_for_step(&secret, now_step(&app) + 1);
        let (status, state) = call(
            &app,
            "POST",
            "/api/v1/auth/second-factor",
            &second,
            Some(json!({"code": next})),
        )
        .await;
        assert_eq!(status, 200, "{state}");
        assert_eq!(state["session"], "strong");
        let (status, _) = call(&app, "GET", "/api/v1/me", &second, None).await;
        assert_eq!(status, 200);

        // A recovery code works once, typed loosely.
        let (third, _) = password_login(&app, "root@test.peps").await;
        let loose = recovery[3].to_uppercase().replace('-', " ");
        let (status, state) = call(
            &app,
            "POST",
            "/api/v1/auth/second-factor",
            &third,
            Some(json!({"code": loose})),
        )
        .await;
        assert_eq!(status, 200, "{state}");
        assert_eq!(state["recovery_codes_left"], 9);
        let (fourth, _) = password_login(&app, "root@test.peps").await;
        let (status, _) = call(
            &app,
            "POST",
            "/api/v1/auth/second-factor",
            &fourth,
            Some(json!({"code": recovery[3]})),
        )
        .await;
        assert_eq!(status, 401, "a recovery code is used once");

        // Wrong codes are counted like wrong passwords: 429 with Retry-After.
        let mut statuses = vec![];
        for _ in 0..6 {
            let (status, _) = call(
                &app,
                "POST",
                "/api/v1/auth/second-factor",
                &fourth,
                Some(json!({"code": "000000"})),
            )
            .await;
            statuses.push(status);
        }
        assert_eq!(statuses.last(), Some(&429), "{statuses:?}");

        // The holder's trail says what happened; no secret or code in it.
        let trail = app
            .shared
            .events_for(admin, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| format!("{} {}", e.action.as_str(), e.detail))
            .collect::<Vec<_>>();
        for expected in [
            "auth.second_factor_enrolled recovery_codes=10",
            "auth.second_factor_passed method=totp",
            "auth.second_factor_passed method=recovery_code",
            "auth.second_factor_failed ",
        ] {
            assert!(
                trail.iter().any(|l| l == expected),
                "{expected} not in {trail:?}"
            );
        }
        assert!(
            !trail
                .iter()
                .any(|l| l.contains(&code) || l.contains(&recovery[3]))
        );
    }
}

/// A six-digit code that is not this one.
fn wrong(code: &str) -> String {
    code.chars()
        .map(|c| char::from(b'0' + (c as u8 - b'0' + 1) % 10))
        .collect()
}

#[tokio::test]
async fn workers_may_set_one_up_and_only_they_or_an_admin_remove_it() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let (token, body) = password_login(&app, "worker.b@test.peps").await;
        assert_eq!(
            body["assurance"], "single",
            "optional for workers by default"
        );
        let (status, _) = call(&app, "GET", "/api/v1/me", &token, None).await;
        assert_eq!(status, 200);

        // People and helpers have no second factor to set up.
        let (status, _) = call(
            &app,
            "POST",
            "/api/v1/auth/second-factor/enrolment",
            &cast.person_p.1,
            None,
        )
        .await;
        assert_eq!(status, 403);

        // Once set up, it is asked at every sign-in.
        app.pass_second_factor(&token, cast.worker_b.0).await;
        let (later, body) = password_login(&app, "worker.b@test.peps").await;
        assert_eq!(body["assurance"], "awaiting_second_factor");
        let (status, _) = call(&app, "GET", "/api/v1/me", &later, None).await;
        assert_eq!(status, 401);
        // A half-signed-in session cannot swap the authenticator.
        let (status, problem) = call(
            &app,
            "POST",
            "/api/v1/auth/second-factor/enrolment",
            &later,
            None,
        )
        .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (401, Some("auth.second_factor_required"))
        );

        // Another worker cannot remove it; an admin can, for a lost phone: sessions end.
        let path = format!("/api/v1/accounts/{}/second-factor", cast.worker_b.0);
        let (status, _) = call(&app, "DELETE", &path, &cast.worker_a.1, None).await;
        assert_eq!(status, 403);
        let (status, _) = call(&app, "DELETE", &path, &cast.person_p.1, None).await;
        assert_eq!(status, 403);
        let (status, _) = call(&app, "DELETE", &path, &cast.admin.1, None).await;
        assert_eq!(status, 204);
        let (status, _) = call(&app, "GET", "/api/v1/me", &token, None).await;
        assert_eq!(status, 401, "the worker's sessions ended");
        let (_, body) = password_login(&app, "worker.b@test.peps").await;
        assert_eq!(body["assurance"], "single");
        let (status, _) = call(&app, "DELETE", &path, &cast.admin.1, None).await;
        assert_eq!(status, 404, "nothing left to remove");
    }
}
