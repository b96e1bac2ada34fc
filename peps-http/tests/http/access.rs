//! Every endpoint against every role, including another person, another organisation's
//! member, an ex-referent and a helper whose mandate expired. Person-scoped resources answer
//! 404 to whoever may not see the person, so probing ids reveals nothing.

use chrono::Duration;
use serde_json::{Value, json};

use crate::support::*;

/// The order requests are made in: refused roles first, so that allowed (and possibly
/// mutating) requests come last.
const ROLES: [&str; 10] = [
    "anonymous",
    "person_q",
    "worker_b",
    "ex_referent",
    "member_x",
    "expired_helper",
    "helper",
    "person_p",
    "worker_a",
    "admin",
];

struct Case {
    method: &'static str,
    path: String,
    /// JSON, or `{"$file": "pdf"}` for a PDF body. A `"$if_match"` member is sent as the
    /// `If-Match` header instead.
    body: Option<Value>,
    /// One status per role, in the order of ROLES.
    expected: [u16; 10],
}

fn token<'a>(cast: &'a Cast, role: &str) -> Option<&'a str> {
    let pair = match role {
        "anonymous" => return None,
        "person_q" => &cast.person_q,
        "worker_b" => &cast.worker_b,
        "ex_referent" => &cast.ex_referent,
        "member_x" => &cast.member_x,
        "expired_helper" => &cast.expired_helper,
        "helper" => &cast.helper,
        "person_p" => &cast.person_p,
        "worker_a" => &cast.worker_a,
        "admin" => &cast.admin,
        other => panic!("unknown role {other}"),
    };
    Some(pair.1.as_str())
}

async fn check(app: &TestApp, cast: &Cast, cases: Vec<Case>) {
    let mut failures = vec![];
    for case in cases {
        for (role, expected) in ROLES.iter().zip(case.expected) {
            let mut req = match case.method {
                "GET" => app.client.get(&case.path),
                "POST" => app.client.post(&case.path),
                "PUT" => app.client.put(&case.path),
                "PATCH" => app.client.patch(&case.path),
                "DELETE" => app.client.delete(&case.path),
                other => panic!("method {other}"),
            };
            if let Some(token) = token(cast, role) {
                req = req.header("authorization", format!("Bearer {token}"));
            }
            let mut body = case.body.clone();
            if let Some(version) = body
                .as_mut()
                .and_then(Value::as_object_mut)
                .and_then(|b| b.remove("$if_match"))
            {
                req = req.header("if-match", version.as_str().unwrap());
            }
            if body.as_ref().is_some_and(|b| b["$file"] == "pdf") {
                req = req
                    .content_type("application/pdf")
                    .body(b"%PDF-1.7\n% a scanned page\n".to_vec());
            } else if let Some(body) = &body {
                // Fresh emails and names per request, so creations never collide.
                let text = body.to_string().replace("{role}", role);
                req = req.content_type("application/json").body(text);
            }
            let resp = req.send().await;
            let status = resp.0.status().as_u16();
            let content_type = resp
                .0
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            if status != expected {
                let body = json(resp).await;
                failures.push(format!(
                    "{} {} as {role}: {status}, expected {expected} ({body})",
                    case.method, case.path
                ));
            } else if status >= 400 {
                assert_eq!(
                    content_type.as_deref(),
                    Some("application/problem+json"),
                    "{} {}",
                    case.method,
                    case.path
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{:?} backend:\n{}",
        app.backend,
        failures.join("\n")
    );
}

#[tokio::test]
async fn person_resources_by_role() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let p = cast.person_p.0;
        let ends_at = app.clock.now_plus(Duration::days(30)).to_rfc3339();
        let expired_helper = cast.expired_helper.0;
        //                                  anon  Q    B    C    X    E    H    P    A    admin
        let cases = vec![
            Case {
                method: "GET",
                path: format!("/api/v1/accounts/{p}"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 200, 200, 200, 200],
            },
            Case {
                method: "GET",
                path: format!("/api/v1/persons/{p}/referents"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 200, 200, 200, 200],
            },
            Case {
                method: "GET",
                path: format!("/api/v1/persons/{p}/mandates"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 200, 200, 200],
            },
            Case {
                method: "GET",
                path: format!("/api/v1/accounts/{p}/audit-events"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 200, 403, 200],
            },
            // P is active and has an email: a new code is a password reset, only when P asks
            // at the counter (issue 14, side door 1).
            Case {
                method: "POST",
                path: format!("/api/v1/accounts/{p}/activation-code"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 403, 403, 403],
            },
            Case {
                method: "POST",
                path: format!("/api/v1/accounts/{p}/activation-code?at_counter=true"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 403, 201, 201],
            },
            // P's text messages: P, and P's referent at the counter.
            Case {
                method: "GET",
                path: format!("/api/v1/accounts/{p}/text-messages"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 200, 200, 403],
            },
            Case {
                method: "PUT",
                path: format!("/api/v1/accounts/{p}/text-messages"),
                body: Some(json!({"wanted": true})),
                expected: [401, 404, 404, 404, 404, 404, 403, 200, 200, 403],
            },
            Case {
                method: "POST",
                path: format!("/api/v1/persons/{p}/mandates"),
                body: Some(
                    json!({"helper_id": expired_helper, "scopes": ["plans:read"], "ends_at": ends_at}),
                ),
                expected: [401, 404, 404, 404, 404, 404, 403, 201, 201, 201],
            },
            // Worker B becomes a referent through worker A's handover; the admin's repeat
            // conflicts. The formerly expired helper holds a new mandate by now, so sees P (403).
            Case {
                method: "POST",
                path: format!("/api/v1/persons/{p}/referents"),
                body: Some(json!({"worker_id": cast.worker_b.0})),
                expected: [401, 404, 404, 404, 404, 403, 403, 403, 201, 409],
            },
        ];
        check(&app, &cast, cases).await;
    }
}

#[tokio::test]
async fn admin_only_and_staff_endpoints_by_role() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let org_a = cast.org_a;
        let q = cast.person_q.0;
        //                                  anon  Q    B    C    X    E    H    P    A    admin
        let cases = vec![
            Case {
                method: "GET",
                path: "/api/v1/me".into(),
                body: None,
                expected: [401, 200, 200, 200, 200, 200, 200, 200, 200, 200],
            },
            Case {
                method: "GET",
                path: "/api/v1/organisations".into(),
                body: None,
                expected: [401, 200, 200, 200, 200, 200, 200, 200, 200, 200],
            },
            Case {
                method: "GET",
                path: format!("/api/v1/organisations/{org_a}"),
                body: None,
                expected: [401, 200, 200, 200, 200, 200, 200, 200, 200, 200],
            },
            Case {
                method: "POST",
                path: "/api/v1/accounts".into(),
                body: Some(
                    json!({"role": "helper", "email": "new.{role}@test.peps", "display_name": "New helper"}),
                ),
                expected: [401, 403, 403, 403, 403, 403, 403, 403, 403, 201],
            },
            Case {
                method: "GET",
                path: "/api/v1/accounts".into(),
                body: None,
                expected: [401, 403, 403, 403, 403, 403, 403, 403, 403, 200],
            },
            Case {
                method: "POST",
                path: "/api/v1/organisations".into(),
                body: Some(json!({"name": "Organisation {role}", "kind": "offerer"})),
                expected: [401, 403, 403, 403, 403, 403, 403, 403, 403, 201],
            },
            Case {
                method: "POST",
                path: format!("/api/v1/organisations/{org_a}/members"),
                body: Some(json!({"account_id": cast.worker_b.0})),
                expected: [401, 403, 403, 403, 403, 403, 403, 403, 403, 204],
            },
            Case {
                method: "POST",
                path: "/api/v1/persons".into(),
                body: Some(json!({"display_name": "Person by {role}"})),
                expected: [401, 403, 201, 201, 403, 403, 403, 403, 201, 201],
            },
            Case {
                method: "GET",
                path: "/api/v1/me/mandates".into(),
                body: None,
                expected: [401, 403, 403, 403, 403, 200, 200, 403, 403, 200],
            },
            // Identity providers: one's own links; the staff sign-in queue is for admins (an
            // unknown request is a 404 only for them).
            Case {
                method: "GET",
                path: "/api/v1/auth/external-links".into(),
                body: None,
                expected: [401, 200, 200, 200, 200, 200, 200, 200, 200, 200],
            },
            Case {
                method: "DELETE",
                path: "/api/v1/auth/external-links/franceconnect".into(),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 404, 404, 404, 404],
            },
            Case {
                method: "GET",
                path: "/api/v1/admin/sign-in-requests".into(),
                body: None,
                expected: [401, 403, 403, 403, 403, 403, 403, 403, 403, 200],
            },
            Case {
                method: "POST",
                path: format!(
                    "/api/v1/admin/sign-in-requests/{}/approve",
                    uuid::Uuid::nil()
                ),
                body: Some(json!({"login": "worker.b@test.peps"})),
                expected: [401, 403, 403, 403, 403, 403, 403, 403, 403, 404],
            },
            Case {
                method: "DELETE",
                path: format!("/api/v1/admin/sign-in-requests/{}", uuid::Uuid::nil()),
                body: None,
                expected: [401, 403, 403, 403, 403, 403, 403, 403, 403, 404],
            },
            Case {
                method: "GET",
                path: "/api/v1/admin/outbox".into(),
                body: None,
                expected: [401, 403, 403, 403, 403, 403, 403, 403, 403, 200],
            },
            Case {
                method: "POST",
                path: format!("/api/v1/admin/outbox/{}/retry", uuid::Uuid::nil()),
                body: None,
                expected: [401, 403, 403, 403, 403, 403, 403, 403, 403, 404],
            },
            Case {
                method: "DELETE",
                path: format!("/api/v1/admin/outbox/{}", uuid::Uuid::nil()),
                body: None,
                expected: [401, 403, 403, 403, 403, 403, 403, 403, 403, 404],
            },
            // Person Q's text messages: Q and Q's referent (none here) choose; whoever may
            // see Q is refused; others learn nothing.
            Case {
                method: "GET",
                path: format!("/api/v1/accounts/{q}/text-messages"),
                body: None,
                expected: [401, 200, 404, 404, 404, 404, 404, 404, 404, 403],
            },
            Case {
                method: "PUT",
                path: format!("/api/v1/accounts/{q}/text-messages"),
                body: Some(json!({"wanted": true})),
                expected: [401, 200, 404, 404, 404, 404, 404, 404, 404, 403],
            },
            // Disabling person Q: Q itself may see but not disable; others do not see Q.
            Case {
                method: "POST",
                path: format!("/api/v1/accounts/{q}/disable"),
                body: None,
                expected: [401, 403, 404, 404, 404, 404, 404, 404, 404, 200],
            },
        ];
        check(&app, &cast, cases).await;
        // Q's sessions ended with the account.
        let resp = app
            .client
            .get("/api/v1/me")
            .header("authorization", format!("Bearer {}", cast.person_q.1))
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn revoking_a_mandate_by_role_takes_effect_at_once() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let p = cast.person_p.0;
        let auth = |t: &str| format!("Bearer {t}");
        let (_, mandates) = status_json(
            app.client
                .get("/api/v1/me/mandates")
                .header("authorization", auth(&cast.helper.1))
                .send()
                .await,
        )
        .await;
        let valid = mandates
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["valid"] == true)
            .unwrap();
        let id = valid["id"].as_str().unwrap().to_owned();

        //                                  anon  Q    B    C    X    E    H    P    A    admin
        let cases = vec![Case {
            method: "POST",
            path: format!("/api/v1/mandates/{id}/revoke"),
            body: None,
            expected: [401, 404, 404, 404, 404, 404, 200, 409, 403, 409],
        }];
        check(&app, &cast, cases).await;
        // The helper no longer sees the person.
        let resp = app
            .client
            .get(format!("/api/v1/accounts/{p}"))
            .header("authorization", auth(&cast.helper.1))
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn ending_a_referent_relation_ends_access() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let p = cast.person_p.0;
        let a = cast.worker_a.0;
        //                                  anon  Q    B    C    X    E    H    P    A    admin
        let cases = vec![Case {
            method: "DELETE",
            path: format!("/api/v1/persons/{p}/referents/{a}"),
            body: None,
            expected: [401, 404, 404, 404, 404, 404, 403, 403, 204, 404],
        }];
        check(&app, &cast, cases).await;
        let resp = app
            .client
            .get(format!("/api/v1/accounts/{p}"))
            .header("authorization", format!("Bearer {}", cast.worker_a.1))
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn mandate_use_is_recorded_for_the_person() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let p = cast.person_p.0;
        app.client
            .get(format!("/api/v1/accounts/{p}"))
            .header("authorization", format!("Bearer {}", cast.helper.1))
            .send()
            .await
            .assert_status_is_ok();
        let (status, events) = status_json(
            app.client
                .get(format!("/api/v1/accounts/{p}/audit-events"))
                .header("authorization", format!("Bearer {}", cast.person_p.1))
                .send()
                .await,
        )
        .await;
        assert_eq!(status, 200);
        let used = events
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "mandate.used")
            .expect("mandate use recorded");
        assert_eq!(used["actor_id"], json!(cast.helper.0));
        assert_eq!(used["actor_role"], "helper");
        assert!(used["mandate_id"].is_string());
        assert!(
            events
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "mandate.granted")
        );
    }
}

/// Plans: the person, their current referent and a helper with a `plans:read` mandate see
/// the plan; only the referent edits; the admin sees metadata only. Another person, a worker
/// of another organisation, the ex-referent, an offerer's member and a helper whose mandate
/// expired get 404, as for a plan that does not exist.
#[tokio::test]
async fn plans_by_role() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let p = cast.person_p.0;
        let auth = format!("Bearer {}", cast.worker_a.1);
        let resp = app
            .client
            .post(format!("/api/v1/persons/{p}/plans"))
            .header("authorization", &auth)
            .body_json(&json!({"title": "Logement"}))
            .send()
            .await;
        let plan = json(resp).await;
        let plan_path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
        let resp = app
            .client
            .post(format!("{plan_path}/steps"))
            .header("authorization", &auth)
            .body_json(&json!({"template_id": "demander-le-rsa"}))
            .send()
            .await;
        let step = json(resp).await;
        let step_id = step["id"].as_str().unwrap().to_owned();
        let step_path = format!("{plan_path}/steps/{step_id}");
        let b = cast.worker_b.0;
        //                                  anon  Q    B    C    X    E    H    P    A    admin
        let cases = vec![
            Case {
                method: "GET",
                path: plan_path.clone(),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 200, 200, 200, 200],
            },
            Case {
                method: "GET",
                path: format!("/api/v1/persons/{p}/plans"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 200, 200, 200, 200],
            },
            Case {
                method: "POST",
                path: format!("/api/v1/persons/{p}/plans"),
                body: Some(json!({"title": "Plan de {role}"})),
                expected: [401, 404, 404, 404, 404, 404, 403, 403, 201, 403],
            },
            Case {
                method: "GET",
                path: format!("{plan_path}/history"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 200, 200, 200, 403],
            },
            Case {
                method: "GET",
                path: format!("{plan_path}/print"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 200, 200, 200, 403],
            },
            Case {
                method: "PATCH",
                path: plan_path.clone(),
                body: Some(json!({"$if_match": "\"1\"", "title": "Logement"})),
                expected: [401, 404, 404, 404, 404, 404, 403, 403, 200, 403],
            },
            Case {
                method: "PUT",
                path: format!("{plan_path}/order"),
                body: Some(json!({"step_ids": [step_id]})),
                expected: [401, 404, 404, 404, 404, 404, 403, 403, 200, 403],
            },
            Case {
                method: "PATCH",
                path: step_path.clone(),
                body: Some(json!({"$if_match": "\"1\"", "due_on": null})),
                expected: [401, 404, 404, 404, 404, 404, 403, 403, 200, 403],
            },
            Case {
                method: "PUT",
                path: format!("{step_path}/status"),
                body: Some(json!({"status": "in_progress"})),
                expected: [401, 404, 404, 404, 404, 404, 403, 200, 200, 403],
            },
            Case {
                method: "GET",
                path: format!("{step_path}/messages"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 200, 200, 403],
            },
            Case {
                method: "POST",
                path: format!("{step_path}/messages"),
                body: Some(json!({"body": "Question de {role}"})),
                expected: [401, 404, 404, 404, 404, 404, 403, 201, 201, 403],
            },
            Case {
                method: "POST",
                path: format!("{plan_path}/steps"),
                body: Some(json!({"title": "Démarche de {role}"})),
                expected: [401, 404, 404, 404, 404, 404, 403, 403, 201, 403],
            },
            Case {
                method: "DELETE",
                path: format!("{plan_path}/workers/{b}"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 404, 403, 403],
            },
            Case {
                method: "POST",
                path: format!("{plan_path}/workers"),
                body: Some(json!({"worker_id": b})),
                expected: [401, 404, 404, 404, 404, 404, 403, 204, 403, 403],
            },
            // Unknown plans and steps answer like hidden ones.
            Case {
                method: "GET",
                path: format!("/api/v1/plans/{}", uuid::Uuid::new_v4()),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 404, 404, 404, 404],
            },
            Case {
                method: "GET",
                path: format!("{plan_path}/steps/{}/messages", uuid::Uuid::new_v4()),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 404, 404, 403],
            },
        ];
        check(&app, &cast, cases).await;
    }
}

/// The wallet: P consented to their referent (worker A) seeing it; helper H holds
/// `wallet:read`; nobody else was given anything.
#[tokio::test]
async fn wallet_by_role() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let p = cast.person_p.0;
        let auth = format!("Bearer {}", cast.person_p.1);
        let send = |method: &str, path: String, body: Option<Vec<u8>>, json_body: Option<Value>| {
            let mut req = match method {
                "POST" => app.client.post(path),
                _ => app.client.put(path),
            }
            .header("authorization", &auth);
            if let Some(bytes) = body {
                req = req.content_type("application/pdf").body(bytes);
            }
            if let Some(j) = json_body {
                req = req.body_json(&j);
            }
            req.send()
        };
        let resp = send(
            "POST",
            format!("/api/v1/persons/{p}/documents?kind=identity"),
            Some(b"%PDF-1.4 carte".to_vec()),
            None,
        )
        .await;
        let doc = json(resp).await;
        let doc_path = format!("/api/v1/documents/{}", doc["id"].as_str().unwrap());
        let file_path = doc["pages"][0]["download_url"].as_str().unwrap().to_owned();
        send(
            "PUT",
            format!("/api/v1/persons/{p}/wallet/referent-consent"),
            None,
            Some(json!({"given": true})),
        )
        .await;
        let resp = send(
            "POST",
            format!("/api/v1/persons/{p}/grants"),
            None,
            Some(json!({"worker_id": cast.worker_a.0, "kinds": ["photo"], "access": "read"})),
        )
        .await;
        let grant = json(resp).await;
        let grant_path = format!("/api/v1/grants/{}", grant["id"].as_str().unwrap());
        let resp = app
            .client
            .post(format!("/api/v1/persons/{p}/document-requests"))
            .header("authorization", format!("Bearer {}", cast.worker_a.1))
            .body_json(&json!({"kinds": ["passport"]}))
            .send()
            .await;
        let request = json(resp).await;
        let request_path = format!(
            "/api/v1/document-requests/{}",
            request["id"].as_str().unwrap()
        );
        let org_x = cast.org_x;
        let pdf = || Some(json!({"$file": "pdf"}));
        //                                  anon  Q    B    C    X    E    H    P    A    admin
        let cases = vec![
            Case {
                method: "GET",
                path: format!("/api/v1/persons/{p}/documents"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 200, 200, 200, 404],
            },
            Case {
                method: "GET",
                path: doc_path.clone(),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 200, 200, 200, 404],
            },
            Case {
                method: "GET",
                path: file_path.clone(),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 200, 200, 200, 404],
            },
            Case {
                method: "POST",
                path: format!("/api/v1/persons/{p}/documents?kind=photo"),
                body: pdf(),
                expected: [401, 404, 404, 404, 404, 404, 403, 201, 201, 404],
            },
            Case {
                method: "POST",
                path: format!("{doc_path}/pages"),
                body: pdf(),
                expected: [401, 404, 404, 404, 404, 404, 403, 201, 201, 404],
            },
            Case {
                method: "PATCH",
                path: doc_path.clone(),
                body: Some(json!({"$if_match": "\"1\"", "title": "CNI {role}"})),
                expected: [401, 404, 404, 404, 404, 404, 403, 200, 403, 404],
            },
            Case {
                method: "GET",
                path: format!("/api/v1/persons/{p}/grants"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 200, 403, 404],
            },
            Case {
                method: "POST",
                path: format!("/api/v1/persons/{p}/grants"),
                body: Some(json!({"organisation_id": org_x, "access": "read"})),
                expected: [401, 404, 404, 404, 404, 404, 403, 201, 403, 404],
            },
            Case {
                method: "GET",
                path: format!("/api/v1/persons/{p}/wallet/log"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 200, 403, 404],
            },
            Case {
                method: "GET",
                path: format!("/api/v1/persons/{p}/wallet/referent-consent"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 200, 403, 404],
            },
            // The referent records, at the counter, the person's consent to their own access
            // (the person is alerted); no one else records anything.
            Case {
                method: "PUT",
                path: format!("/api/v1/persons/{p}/wallet/referent-consent"),
                body: Some(json!({"given": true})),
                expected: [401, 404, 404, 404, 404, 404, 403, 200, 200, 404],
            },
            Case {
                method: "GET",
                path: format!("/api/v1/persons/{p}/wallet/export"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 200, 403, 404],
            },
            Case {
                method: "POST",
                path: format!("/api/v1/persons/{p}/document-requests"),
                body: Some(json!({"kinds": ["identity"]})),
                expected: [401, 404, 404, 404, 404, 404, 403, 403, 201, 404],
            },
            Case {
                method: "GET",
                path: request_path.clone(),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 404, 200, 200, 404],
            },
            Case {
                method: "POST",
                path: format!("{request_path}/fulfil"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 422, 403, 404],
            },
            Case {
                method: "DELETE",
                path: grant_path.clone(),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 200, 403, 404],
            },
            Case {
                method: "DELETE",
                path: doc_path.clone(),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 204, 404, 404],
            },
            Case {
                method: "DELETE",
                path: format!("/api/v1/persons/{p}/documents"),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 403, 200, 403, 404],
            },
            // Unknown ids answer like hidden ones.
            Case {
                method: "GET",
                path: format!("/api/v1/documents/{}", uuid::Uuid::new_v4()),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 404, 404, 404, 404],
            },
            Case {
                method: "DELETE",
                path: format!("/api/v1/grants/{}", uuid::Uuid::new_v4()),
                body: None,
                expected: [401, 404, 404, 404, 404, 404, 404, 404, 404, 404],
            },
        ];
        check(&app, &cast, cases).await;
    }
}
