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

/// A malformed body names its field, in `field` and in the message: a wrong field name, a
/// missing one, a wrong type, a value outside an enumeration, a field deep in an array.
#[tokio::test]
async fn malformed_bodies_name_the_field() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Admin, "a@test.peps", &[]).await;
        let bearer = format!("Bearer {}", app.login("a@test.peps").await);
        let send = |path: &'static str, body: serde_json::Value, lang: &'static str| {
            let method = if path.ends_with("language") {
                app.client.put(path)
            } else {
                app.client.post(path)
            };
            method
                .header("authorization", &bearer)
                .header("accept-language", lang)
                .body_json(&body)
                .send()
        };
        let cases = [
            // A misspelt field: named as unknown rather than the required one it hides.
            ("/api/v1/me/language", json!({"langage": "ar"}), "langage"),
            ("/api/v1/organisations", json!({"name": "X"}), "kind"),
            (
                "/api/v1/organisations",
                json!({"name": ["X"], "kind": "offerer"}),
                "name",
            ),
            (
                "/api/v1/organisations",
                json!({"name": "X", "kind": "church"}),
                "kind",
            ),
        ];
        for (path, body, field) in cases {
            let (status, problem) = status_json(send(path, body.clone(), "en").await).await;
            assert_eq!(
                (status, problem["code"].as_str(), problem["field"].as_str()),
                (400, Some("request.malformed"), Some(field)),
                "{body} → {problem}"
            );
            let title = problem["title"].as_str().unwrap();
            assert!(title.contains(&format!("“{field}”")), "{title}");
            let (_, arabic) = status_json(send(path, body, "ar").await).await;
            assert_eq!(arabic["lang"], "ar");
            let title = arabic["title"].as_str().unwrap();
            assert!(title.contains(&format!("«{field}»")), "{title}");
        }
        let (_, problem) = status_json(
            send(
                "/api/v1/organisations",
                json!({"name": "X", "kind": "church"}),
                "en",
            )
            .await,
        )
        .await;
        assert!(
            problem["title"]
                .as_str()
                .unwrap()
                .contains("social_service | offerer | public_agency"),
            "{problem}"
        );
        // Not JSON at all: nothing to name.
        let (status, problem) = status_json(
            app.client
                .post("/api/v1/organisations")
                .header("authorization", &bearer)
                .content_type("application/json")
                .body("{not json")
                .send()
                .await,
        )
        .await;
        assert_eq!((status, problem.get("field")), (400, None), "{problem}");
    }
}

/// An invalid query or path parameter is named (`open_now=yes` used to be "a parameter").
#[tokio::test]
async fn invalid_parameters_are_named() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Admin, "a@test.peps", &[]).await;
        let bearer = format!("Bearer {}", app.login("a@test.peps").await);
        for (path, parameter) in [
            ("/api/v1/offers?open_now=yes", "open_now"),
            ("/api/v1/accounts/not-a-uuid", "id"),
            ("/api/v1/accounts?limit=100000", "limit"),
        ] {
            let (status, problem) = status_json(
                app.client
                    .get(path)
                    .header("authorization", &bearer)
                    .header("accept-language", "fr")
                    .send()
                    .await,
            )
            .await;
            assert_eq!(
                (status, problem["code"].as_str(), problem["field"].as_str()),
                (400, Some("request.invalid_parameter"), Some(parameter)),
                "{path} → {problem}"
            );
            let title = problem["title"].as_str().unwrap();
            assert!(title.contains(&format!("« {parameter} »")), "{title}");
        }
    }
}

/// A signed-in person whose profile says Arabic reads Arabic errors and results from a client
/// that sends no Accept-Language; an Accept-Language that is sent still wins.
#[tokio::test]
async fn the_profile_language_answers_when_the_client_names_none() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let org = app
            .state
            .identity
            .provision_organisation(peps_core::services::NewOrganisation {
                name: "Offreur".to_owned(),
                kind: peps_core::domain::OrganisationKind::Offerer,
                siret: None,
            })
            .await
            .unwrap()
            .id;
        app.provision(Role::Member, "member@test.peps", &[org])
            .await;
        let member = app.login("member@test.peps").await;
        let (offer, _) = crate::catalogue::create(&app, &member, org.0, "Aide alimentaire").await;
        let publish = format!("/api/v1/offers/{offer}/publish");
        crate::catalogue::post(&app, Some(&member), &publish, None).await;
        let person = app.provision(Role::Person, "p@test.peps", &[]).await;
        app.shared_language(person, "ar").await;
        let bearer = format!("Bearer {}", app.login("p@test.peps").await);
        let get = |path: String, lang: Option<&'static str>| {
            let mut req = app.client.get(path).header("authorization", &bearer);
            if let Some(lang) = lang {
                req = req.header("accept-language", lang);
            }
            req.send()
        };

        // Errors.
        let (status, problem) = status_json(get("/api/v1/accounts".into(), None).await).await;
        assert_eq!((status, problem["lang"].as_str()), (403, Some("ar")));
        let (_, problem) = status_json(get("/api/v1/accounts".into(), Some("en")).await).await;
        assert_eq!(problem["lang"], "en");
        let (_, problem) = status_json(get("/api/v1/accounts/not-a-uuid".into(), None).await).await;
        assert_eq!(problem["lang"], "ar", "{problem}");

        // Results.
        let path = format!("/api/v1/offers/{offer}");
        let (_, own) = status_json(get(path.clone(), None).await).await;
        let (_, arabic) = status_json(get(path.clone(), Some("ar")).await).await;
        let (_, french) = status_json(get(path.clone(), Some("fr")).await).await;
        assert_eq!(own["labels"], arabic["labels"]);
        assert_ne!(own["labels"], french["labels"]);
        assert_eq!(own["display"]["language"], arabic["display"]["language"]);
    }
}

/// A 413 says `Connection: close` and closes the connection: the unread rest of the body must
/// not be taken for the next request.
#[tokio::test]
async fn an_oversized_body_closes_the_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::new(peps_store::testing::TestBackend::Sqlite).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(peps_http::serve_tcp(listener, app.state.clone(), async {
        let _ = stopped.await;
    }));
    for announced in [true, false] {
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        let length = if announced {
            "Content-Length: 10000000\r\n"
        } else {
            "Transfer-Encoding: chunked\r\n"
        };
        let head = format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{length}\r\n"
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        if !announced {
            let chunk = "x".repeat(200 * 1024);
            let _ = socket
                .write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes())
                .await;
        }
        let mut answer = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            socket.read_to_end(&mut answer),
        )
        .await;
        assert!(read.is_ok(), "the server kept the connection open");
        let answer = String::from_utf8_lossy(&answer).to_lowercase();
        assert!(answer.starts_with("http/1.1 413"), "{answer}");
        assert!(answer.contains("\r\nconnection: close\r\n"), "{answer}");
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
