//! Issue 14: only the person opens the way to their papers. Each side door found against the
//! demo server is reproduced here and must stay shut, on SQLite and PostgreSQL; the counter
//! flows that remain allowed are checked for the alert the person gets and the log line.
//!
//! Cast (see `support::Cast`): person P (with an email), worker A their referent, worker B in
//! another CCAS, helper H holding `plans:read` + `wallet:read` from P, helper E whose plans
//! mandate expired, an admin.

use chrono::Duration;
use poem::test::TestResponse;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

use crate::support::*;
use peps_core::ports::Notification;
use peps_store::testing::TestBackend;

const NEW_PASSWORD: &str = "Une-Autre-Phrase-De-Passe-42";

struct Scene {
    app: TestApp,
    cast: Cast,
    outbox: Arc<Mutex<Vec<Notification>>>,
}

async fn scene(backend: TestBackend) -> Scene {
    let (notifier, outbox) = RecordingNotifier::new();
    let app = TestApp::with_wallet(
        backend,
        WalletOptions {
            notifier,
            ..WalletOptions::default()
        },
    )
    .await;
    let cast = Cast::new(&app).await;
    Scene { app, cast, outbox }
}

impl Scene {
    async fn send(
        &self,
        method: &str,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let auth = format!("Bearer {token}");
        let req = match method {
            "GET" => self.app.client.get(path),
            "POST" => self.app.client.post(path),
            "PUT" => self.app.client.put(path),
            other => panic!("{other}"),
        }
        .header("authorization", auth);
        let resp: TestResponse = match body {
            Some(b) => req.body_json(&b).send().await,
            None => req.send().await,
        };
        status_json(resp).await
    }

    /// A document in P's wallet, added by P.
    async fn paper(&self) {
        let p = self.cast.person_p.0;
        let resp = self
            .app
            .client
            .post(format!("/api/v1/persons/{p}/documents?kind=identity"))
            .header("authorization", format!("Bearer {}", self.cast.person_p.1))
            .content_type("application/pdf")
            .body(b"%PDF-1.4 carte".to_vec())
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::CREATED);
    }

    /// What the outbox's sender delivered to `email` with that subject, once it has run.
    async fn alerts_to(&self, email: &str, subject_key: &str) -> Vec<Notification> {
        self.app.deliver().await;
        let subject = peps_core::i18n::text(subject_key, "fr");
        self.outbox
            .lock()
            .unwrap()
            .iter()
            .filter(|n| n.to.as_str() == email && n.subject == subject)
            .cloned()
            .collect()
    }

    async fn trail(&self, person: impl std::fmt::Display) -> Vec<Value> {
        let (status, events) = self
            .send(
                "GET",
                &self.cast.admin.1,
                &format!("/api/v1/accounts/{person}/audit-events"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{events}");
        events.as_array().unwrap().clone()
    }
}

fn code_of(body: &Value) -> Option<&str> {
    body["code"].as_str()
}

/// Side door 1: a referent (or an admin) reissues a code for an active person who has an
/// email, activates it, and reads the wallet log and export as "the person".
#[tokio::test]
async fn side_door_1_a_reissued_code_never_opens_the_persons_views_to_the_issuer() {
    for backend in backends() {
        let s = scene(backend).await;
        let (p, p_token) = &s.cast.person_p;
        s.paper().await;
        let code_path = format!("/api/v1/accounts/{p}/activation-code");

        // Without the person asking at the counter, nobody resets the password of someone who
        // can receive a message.
        for token in [&s.cast.worker_a.1, &s.cast.admin.1] {
            let (status, body) = s.send("POST", token, &code_path, None).await;
            assert_eq!(
                (status, code_of(&body)),
                (403, Some("account.reset_needs_counter_request"))
            );
        }
        assert!(
            s.alerts_to(
                "person.p@test.peps",
                "account.notice.password_reset.subject"
            )
            .await
            .is_empty()
        );

        // At the counter: allowed, and the person is alerted at once, in their language.
        let (status, issued) = s
            .send(
                "POST",
                &s.cast.worker_a.1,
                &format!("{code_path}?at_counter=true"),
                None,
            )
            .await;
        assert_eq!(status, 201, "{issued}");
        let alerts = s
            .alerts_to(
                "person.p@test.peps",
                "account.notice.password_reset.subject",
            )
            .await;
        assert_eq!(alerts.len(), 1);
        assert!(
            alerts[0].body.contains("Test worker.a@test.peps"),
            "{}",
            alerts[0].body
        );
        assert_eq!(alerts[0].language.code(), "fr");

        // The issuer types the code: every session of the person ends.
        let resp = s
            .app
            .client
            .post("/api/v1/auth/activate")
            .body_json(&json!({
                "login": "person.p@test.peps",
                "code": issued["activation_code"],
                "password": NEW_PASSWORD,
            }))
            .send()
            .await;
        let (status, session) = status_json(resp).await;
        assert_eq!(status, 200, "{session}");
        let reset_token = session["token"].as_str().unwrap().to_owned();
        assert_eq!(s.send("GET", p_token, "/api/v1/me", None).await.0, 401);

        // Through that session, nothing of the wallet: not the log, not the export, not the
        // documents, no share, no consent, no wallet mandate.
        for (method, path, body) in [
            ("GET", format!("/api/v1/persons/{p}/wallet/log"), None),
            ("GET", format!("/api/v1/persons/{p}/wallet/export"), None),
            ("GET", format!("/api/v1/persons/{p}/documents"), None),
            ("GET", format!("/api/v1/persons/{p}/grants"), None),
            (
                "POST",
                format!("/api/v1/persons/{p}/grants"),
                Some(json!({"worker_id": s.cast.worker_a.0, "access": "read"})),
            ),
            (
                "PUT",
                format!("/api/v1/persons/{p}/wallet/referent-consent"),
                Some(json!({"given": true})),
            ),
            (
                "POST",
                format!("/api/v1/persons/{p}/mandates"),
                Some(json!({
                    "helper_id": s.cast.expired_helper.0,
                    "scopes": ["wallet:read"],
                    "ends_at": s.app.clock.now_plus(Duration::days(30)).to_rfc3339(),
                })),
            ),
        ] {
            let (status, body) = s.send(method, &reset_token, &path, body).await;
            assert_eq!(
                (status, code_of(&body)),
                (403, Some("account.password_change_required")),
                "{method} {path}"
            );
        }
        // Logging in again with that password changes nothing, and says so in the trail.
        let resp = s
            .app
            .client
            .post("/api/v1/auth/login")
            .body_json(&json!({"login": "person.p@test.peps", "password": NEW_PASSWORD}))
            .send()
            .await;
        let (_, again) = status_json(resp).await;
        let again = again["token"].as_str().unwrap().to_owned();
        let (status, _) = s
            .send(
                "GET",
                &again,
                &format!("/api/v1/persons/{p}/wallet/log"),
                None,
            )
            .await;
        assert_eq!(status, 403);

        // The person's own audit trail tells the whole story.
        let trail = s.trail(p).await;
        let line = |action: &str| {
            trail
                .iter()
                .find(|e| e["action"] == action)
                .unwrap_or_else(|| panic!("no {action} in {trail:?}"))
                .clone()
        };
        let issued_line = line("account.password_reset_issued");
        assert_eq!(issued_line["actor_id"], json!(s.cast.worker_a.0));
        assert!(
            issued_line["detail"]
                .as_str()
                .unwrap()
                .contains("at_counter=true")
        );
        assert!(
            issued_line["detail"]
                .as_str()
                .unwrap()
                .contains("alerted=email")
        );
        let reset_line = line("account.password_reset");
        assert!(
            reset_line["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("code_issued_by={}", s.cast.worker_a.0))
        );
        // Events at the same instant come in no set order: look at every login line.
        let flagged = format!("password_reset_by={}", s.cast.worker_a.0);
        assert!(
            trail.iter().any(|e| e["action"] == "auth.login"
                && e["detail"].as_str().unwrap_or("").contains(&flagged)),
            "no login flagged {flagged} in {trail:?}"
        );

        // Once the person sets their own password, the wallet is theirs again.
        let (status, _) = s
            .send(
                "PUT",
                &again,
                "/api/v1/me/password",
                Some(json!({"current_password": NEW_PASSWORD, "new_password": PASSWORD})),
            )
            .await;
        assert_eq!(status, 204);
        let own = s.app.login("person.p@test.peps").await;
        let (status, log) = s
            .send(
                "GET",
                &own,
                &format!("/api/v1/persons/{p}/wallet/log"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{log}");
    }
}

/// The paper case stays simple: a person with no email and no phone gets a new code from their
/// referent without more ado (and the reset still keeps the wallet closed until they change
/// the password).
#[tokio::test]
async fn a_person_without_email_or_phone_gets_a_new_code_from_the_referent() {
    for backend in backends() {
        let s = scene(backend).await;
        let worker = &s.cast.worker_a.1;
        let (status, sheet) = s
            .send(
                "POST",
                worker,
                "/api/v1/persons",
                Some(json!({"display_name": "Amina Benali", "language": "ar"})),
            )
            .await;
        assert_eq!(status, 201, "{sheet}");
        let id = sheet["account"]["id"].as_str().unwrap().to_owned();
        let login = sheet["login"].as_str().unwrap().to_owned();
        let activate = |code: Value, password: &'static str| {
            s.app
                .client
                .post("/api/v1/auth/activate")
                .body_json(&json!({"login": login, "code": code, "password": password}))
                .send()
        };
        let (status, first) =
            status_json(activate(sheet["activation_code"].clone(), NEW_PASSWORD).await).await;
        assert_eq!(status, 200, "{first}");
        let first = first["token"].as_str().unwrap().to_owned();
        // Her first password is her own: her wallet is open.
        assert_eq!(
            s.send(
                "GET",
                &first,
                &format!("/api/v1/persons/{id}/wallet/log"),
                None
            )
            .await
            .0,
            200
        );
        let (status, again) = s
            .send(
                "POST",
                worker,
                &format!("/api/v1/accounts/{id}/activation-code"),
                None,
            )
            .await;
        assert_eq!(status, 201, "{again}");
        let (status, reset) =
            status_json(activate(again["activation_code"].clone(), PASSWORD).await).await;
        assert_eq!(status, 200);
        let reset = reset["token"].as_str().unwrap();
        let (status, body) = s
            .send(
                "GET",
                reset,
                &format!("/api/v1/persons/{id}/wallet/log"),
                None,
            )
            .await;
        assert_eq!(
            (status, code_of(&body)),
            (403, Some("account.password_change_required"))
        );
    }
}

/// Side door 2: an admin creates a `wallet:read` mandate for a helper, who then lists the
/// person's documents.
#[tokio::test]
async fn side_door_2_an_admin_gives_no_wallet_mandate() {
    for backend in backends() {
        let s = scene(backend).await;
        let p = s.cast.person_p.0;
        s.paper().await;
        let helper = &s.cast.expired_helper;
        let ends_at = s.app.clock.now_plus(Duration::days(30)).to_rfc3339();
        for scopes in [
            json!(["wallet:read"]),
            json!(["wallet:upload"]),
            json!(["plans:read", "wallet:read"]),
        ] {
            let (status, body) = s
                .send(
                    "POST",
                    &s.cast.admin.1,
                    &format!("/api/v1/persons/{p}/mandates"),
                    Some(json!({
                        "helper_id": helper.0,
                        "scopes": scopes,
                        "ends_at": ends_at,
                        // Even claiming the person's consent does not make it the admin's.
                        "consent_given_on": s.app.clock.now_plus(Duration::zero()).date_naive(),
                    })),
                )
                .await;
            assert_eq!(
                (status, code_of(&body)),
                (403, Some("mandate.wallet_scope_is_the_persons")),
                "{scopes}"
            );
        }
        let (status, _) = s
            .send(
                "GET",
                &helper.1,
                &format!("/api/v1/persons/{p}/documents"),
                None,
            )
            .await;
        assert_eq!(status, 404);
        // A plans mandate is still the admin's to give.
        let (status, _) = s
            .send(
                "POST",
                &s.cast.admin.1,
                &format!("/api/v1/persons/{p}/mandates"),
                Some(json!({"helper_id": helper.0, "scopes": ["plans:read"], "ends_at": ends_at})),
            )
            .await;
        assert_eq!(status, 201);
        let (status, _) = s
            .send(
                "GET",
                &helper.1,
                &format!("/api/v1/persons/{p}/documents"),
                None,
            )
            .await;
        assert_eq!(status, 404, "a plans mandate opens no paper");
    }
}

/// Side door 3: the person never consented to the referent, yet the referent creates a
/// `wallet:read` mandate for a helper, who lists the wallet.
#[tokio::test]
async fn side_door_3_a_referent_gives_no_wallet_mandate_without_the_persons_dated_consent() {
    for backend in backends() {
        let s = scene(backend).await;
        let p = s.cast.person_p.0;
        s.paper().await;
        let (worker, helper) = (&s.cast.worker_a, &s.cast.expired_helper);
        let path = format!("/api/v1/persons/{p}/mandates");
        let ends_at = s.app.clock.now_plus(Duration::days(30)).to_rfc3339();
        let today = s.app.clock.now_plus(Duration::zero()).date_naive();
        let mandate = |consent: Option<chrono::NaiveDate>| {
            json!({
                "helper_id": helper.0,
                "scopes": ["wallet:read"],
                "ends_at": ends_at,
                "consent_given_on": consent,
            })
        };
        let (status, body) = s.send("POST", &worker.1, &path, Some(mandate(None))).await;
        assert_eq!(
            (status, code_of(&body)),
            (422, Some("mandate.consent_given_on.required"))
        );
        for wrong in [today + Duration::days(1), today - Duration::days(31)] {
            let (status, body) = s
                .send("POST", &worker.1, &path, Some(mandate(Some(wrong))))
                .await;
            assert_eq!(
                (status, code_of(&body)),
                (422, Some("mandate.consent_given_on.invalid")),
                "{wrong}"
            );
        }
        let (status, _) = s
            .send(
                "GET",
                &helper.1,
                &format!("/api/v1/persons/{p}/documents"),
                None,
            )
            .await;
        assert_eq!(status, 404, "no mandate was written");
        assert!(
            s.alerts_to("person.p@test.peps", "wallet.notice.path_opened.subject")
                .await
                .is_empty()
        );

        // At the counter, with the day the person consented: allowed, the person is alerted at
        // once, and their trail says who recorded it and on what consent.
        let (status, created) = s
            .send("POST", &worker.1, &path, Some(mandate(Some(today))))
            .await;
        assert_eq!(status, 201, "{created}");
        let alerts = s
            .alerts_to("person.p@test.peps", "wallet.notice.path_opened.subject")
            .await;
        assert_eq!(alerts.len(), 1);
        assert!(
            alerts[0].body.contains(&today.to_string()),
            "{}",
            alerts[0].body
        );
        let granted = s
            .trail(p)
            .await
            .into_iter()
            .find(|e| e["action"] == "mandate.granted" && e["actor_id"] == json!(worker.0))
            .expect("the referent's grant is in the person's trail");
        assert!(
            granted["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("counter_consent_on={today}"))
        );
        let (status, _) = s
            .send(
                "GET",
                &helper.1,
                &format!("/api/v1/persons/{p}/documents"),
                None,
            )
            .await;
        assert_eq!(status, 200);
        // The person withdraws it at once.
        let (status, _) = s
            .send(
                "POST",
                &s.cast.person_p.1,
                &format!(
                    "/api/v1/mandates/{}/revoke",
                    created["id"].as_str().unwrap()
                ),
                None,
            )
            .await;
        assert_eq!(status, 200);
        let (status, _) = s
            .send(
                "GET",
                &helper.1,
                &format!("/api/v1/persons/{p}/documents"),
                None,
            )
            .await;
        assert_eq!(status, 404);
    }
}

/// Side door 4: after the person consents, the referent adds a worker of another organisation
/// as co-referent, who reads the wallet at once.
#[tokio::test]
async fn side_door_4_consent_never_flows_to_a_co_referent() {
    for backend in backends() {
        let s = scene(backend).await;
        let (p, p_token) = &s.cast.person_p;
        s.paper().await;
        let (a, b) = (&s.cast.worker_a, &s.cast.worker_b);
        let documents = format!("/api/v1/persons/{p}/documents");
        let consent = format!("/api/v1/persons/{p}/wallet/referent-consent");
        let (status, _) = s
            .send("PUT", p_token, &consent, Some(json!({"given": true})))
            .await;
        assert_eq!(status, 200);
        assert_eq!(s.send("GET", &a.1, &documents, None).await.0, 200);

        // Same instant, on purpose: the consent names worker A, so no clock tie lets it leak.
        let (status, _) = s
            .send(
                "POST",
                &a.1,
                &format!("/api/v1/persons/{p}/referents"),
                Some(json!({"worker_id": b.0})),
            )
            .await;
        assert_eq!(status, 201);
        let (status, _) = s.send("GET", &b.1, &documents, None).await;
        assert_eq!(status, 404, "the new co-referent inherits nothing");
        // Nor later.
        s.app.clock.advance(Duration::minutes(5));
        assert_eq!(s.send("GET", &b.1, &documents, None).await.0, 404);
        assert!(
            s.alerts_to("person.p@test.peps", "wallet.notice.path_opened.subject")
                .await
                .is_empty()
        );

        // At the counter, worker B records the person's consent to B's own access: the person
        // is alerted and the notice comes back to print; the log says who recorded it.
        let (status, state) = s
            .send("PUT", &b.1, &consent, Some(json!({"given": true})))
            .await;
        assert_eq!(status, 200, "{state}");
        assert_eq!(state["referent_has_access"], true);
        let notice = state["notice"].as_str().unwrap();
        assert!(notice.contains("Test worker.b@test.peps"), "{notice}");
        let alerts = s
            .alerts_to("person.p@test.peps", "wallet.notice.path_opened.subject")
            .await;
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].body, notice);
        let (_, log) = s
            .send(
                "GET",
                p_token,
                &format!("/api/v1/persons/{p}/wallet/log?limit=1"),
                None,
            )
            .await;
        assert_eq!(log[0]["action"], "consent_given");
        assert_eq!(log[0]["actor_id"], json!(b.0));
        assert_eq!(s.send("GET", &b.1, &documents, None).await.0, 200);

        // A worker who is not the referent records nothing, and learns nothing.
        let (status, _) = s
            .send(
                "PUT",
                &s.cast.ex_referent.1,
                &consent,
                Some(json!({"given": true})),
            )
            .await;
        assert_eq!(status, 404);

        // The person withdraws: from everyone at once.
        let (status, state) = s
            .send("PUT", p_token, &consent, Some(json!({"given": false})))
            .await;
        assert_eq!(
            (status, state["referent_has_access"].as_bool()),
            (200, Some(false))
        );
        assert_eq!(s.send("GET", &a.1, &documents, None).await.0, 404);
        assert_eq!(s.send("GET", &b.1, &documents, None).await.0, 404);
    }
}

/// Text that lies about itself: names and titles refuse bidirectional overrides and isolates
/// and values made only of invisible characters; a number is not a name; a share ends within
/// three years.
#[tokio::test]
async fn text_that_lies_about_itself_is_refused() {
    for backend in backends() {
        let s = scene(backend).await;
        let worker = &s.cast.worker_a.1;
        let (status, body) = s
            .send(
                "POST",
                worker,
                "/api/v1/persons",
                Some(json!({"display_name": 123})),
            )
            .await;
        assert!(
            (400..500).contains(&status) && status != 404,
            "a number is not a name: {status} {body}"
        );
        for name in [
            "Mme \u{202E}nitraM",
            "\u{2067}Martin\u{2069}",
            "\u{200B}\u{200D}",
            "\u{3164}",
        ] {
            let (status, body) = s
                .send(
                    "POST",
                    worker,
                    "/api/v1/persons",
                    Some(json!({"display_name": name})),
                )
                .await;
            assert_eq!(
                (status, code_of(&body)),
                (422, Some("account.display_name.invalid")),
                "{name:?}"
            );
        }
        let (status, body) = s
            .send(
                "POST",
                &s.cast.admin.1,
                "/api/v1/organisations",
                Some(json!({"name": "CCAS \u{202D}B", "kind": "social_service"})),
            )
            .await;
        assert_eq!(
            (status, code_of(&body)),
            (422, Some("organisation.name.invalid"))
        );
        let p = s.cast.person_p.0;
        let (status, body) = s
            .send(
                "POST",
                &s.cast.person_p.1,
                &format!("/api/v1/persons/{p}/grants"),
                Some(json!({
                    "worker_id": s.cast.worker_a.0,
                    "access": "read",
                    "ends_at": s.app.clock.now_plus(Duration::days(4 * 366)).to_rfc3339(),
                })),
            )
            .await;
        assert_eq!(
            (status, code_of(&body)),
            (422, Some("grant.ends_at.too_far"))
        );
    }
}
