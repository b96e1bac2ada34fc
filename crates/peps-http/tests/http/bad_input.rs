//! Malformed JSON, wrong types, oversized bodies, unknown routes, wrong methods: always a 4xx
//! problem+json, never a 500.

use serde_json::json;

use crate::support::*;
use peps_core::domain::Role;

async fn expect_problem(resp: poem::test::TestResponse, status: u16, code: &str) {
    let content_type = resp
        .0
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let (got, body) = status_json(resp).await;
    assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{body}");
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    assert_eq!(body["status"], status);
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["request_id"].is_string());
}

#[tokio::test]
async fn malformed_requests_get_problems() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Admin, "a@test.peps", &[]).await;
        let admin = app.login("a@test.peps").await;
        let bearer = format!("Bearer {admin}");
        let login = || app.client.post("/api/v1/auth/login");

        expect_problem(
            login()
                .content_type("application/json")
                .body("{not json")
                .send()
                .await,
            400,
            "request.malformed",
        )
        .await;
        expect_problem(
            login()
                .body_json(&json!({"email": ["x@y.fr"], "password": {"p": 1}}))
                .send()
                .await,
            400,
            "request.malformed",
        )
        .await;
        expect_problem(
            login().body_json(&json!(["x@y.fr", "pw"])).send().await,
            400,
            "request.malformed",
        )
        .await;
        expect_problem(
            login().body_json(&json!({"email": "x@y.fr"})).send().await,
            400,
            "request.malformed",
        )
        .await;
        expect_problem(
            login()
                .content_type("text/plain")
                .body("hello")
                .send()
                .await,
            415,
            "request.unsupported_media_type",
        )
        .await;
        expect_problem(login().send().await, 415, "request.unsupported_media_type").await;
        expect_problem(
            app.client.get("/api/v1/nowhere").send().await,
            404,
            "route.not_found",
        )
        .await;
        expect_problem(
            app.client.delete("/api/v1/languages").send().await,
            405,
            "request.method_not_allowed",
        )
        .await;
        expect_problem(
            app.client
                .get("/api/v1/accounts/not-a-uuid")
                .header("authorization", &bearer)
                .send()
                .await,
            400,
            "request.invalid_parameter",
        )
        .await;
        expect_problem(
            app.client
                .get("/api/v1/accounts?limit=100000")
                .header("authorization", &bearer)
                .send()
                .await,
            400,
            "request.invalid_parameter",
        )
        .await;
        expect_problem(
            app.client
                .get("/api/v1/me")
                .header("authorization", "Bearer not-a-token")
                .send()
                .await,
            401,
            "auth.required",
        )
        .await;
        expect_problem(
            app.client
                .get("/api/v1/me")
                .header("authorization", "Basic Zm9vOmJhcg==")
                .send()
                .await,
            401,
            "auth.required",
        )
        .await;
        expect_problem(
            app.client
                .post("/api/v1/organisations")
                .header("authorization", &bearer)
                .body_json(&json!({"name": "X", "kind": "church"}))
                .send()
                .await,
            400,
            "request.malformed",
        )
        .await;

        // Validation errors name the field.
        let resp = app
            .client
            .post("/api/v1/organisations")
            .header("authorization", &bearer)
            .body_json(&json!({"name": "Mission locale", "kind": "public_agency", "siret": "12345678901234"}))
            .send()
            .await;
        let (status, body) = status_json(resp).await;
        assert_eq!(
            (status, body["code"].as_str(), body["field"].as_str()),
            (422, Some("organisation.siret.checksum"), Some("siret"))
        );
        let resp = app
            .client
            .post("/api/v1/accounts")
            .header("authorization", &bearer)
            .body_json(&json!({"role": "worker", "email": "no-at-sign", "display_name": "W"}))
            .send()
            .await;
        let (status, body) = status_json(resp).await;
        assert_eq!((status, body["field"].as_str()), (422, Some("email")));
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let big = "x".repeat(100 * 1024);
        let resp = app
            .client
            .post("/api/v1/auth/login")
            .body_json(&json!({"email": big, "password": "x"}))
            .send()
            .await;
        expect_problem(resp, 413, "request.too_large").await;
    }
}

#[tokio::test]
async fn nothing_is_half_written_on_conflict() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Admin, "a@test.peps", &[]).await;
        app.provision(Role::Worker, "taken@test.peps", &[]).await;
        let admin = app.login("a@test.peps").await;
        let bearer = format!("Bearer {admin}");
        let (status, body) = status_json(
            app.client
                .post("/api/v1/accounts")
                .header("authorization", &bearer)
                .body_json(
                    &json!({"role": "member", "email": "TAKEN@test.peps", "display_name": "Dup"}),
                )
                .send()
                .await,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("account.login_taken"))
        );
        // An unknown organisation fails the creation as a whole: no account is left behind.
        let (status, _) = status_json(
            app.client
                .post("/api/v1/accounts")
                .header("authorization", &bearer)
                .body_json(&json!({"role": "member", "email": "fresh@test.peps", "display_name": "Fresh", "organisation_ids": [uuid::Uuid::new_v4()]}))
                .send()
                .await,
        )
        .await;
        assert_eq!(status, 409);
        let (_, accounts) = status_json(
            app.client
                .get("/api/v1/accounts?limit=200")
                .header("authorization", &bearer)
                .send()
                .await,
        )
        .await;
        assert!(
            !accounts
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["login"] == "fresh@test.peps")
        );
    }
}
