//! Step plans over HTTP, on SQLite and PostgreSQL: a referent builds a person's plan from
//! templates and free text; the person reads it in Arabic (right to left) and in Tigrinya,
//! marks a step done and asks a question; the history shows who did what; the printable page
//! renders both languages; notices reach the person's mailbox in their language.

use base64::Engine;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Json;
use poem::{EndpointExt, Route, Server, handler};
use serde_json::{Value, json};
use std::sync::Arc;

use crate::support::*;
use peps_core::i18n;

/// A LibreTranslate-compatible server on 127.0.0.1:0 that tags each text with its target.
#[handler]
fn translate(Json(body): Json<Value>) -> Json<Value> {
    let target = body["target"].as_str().unwrap_or_default().to_owned();
    let texts: Vec<String> = body["q"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("[{target}] {}", t.as_str().unwrap()))
        .collect();
    Json(json!({ "translatedText": texts }))
}

async fn translator() -> Arc<dyn peps_core::ports::Translator> {
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().cloned().unwrap();
    tokio::spawn(async move {
        Server::new_with_acceptor(acceptor)
            .run(Route::new().at("/translate", poem::post(translate)).boxed())
            .await
    });
    Arc::new(peps_store::translate::LibreTranslate::new(&format!("http://{addr}/"), None).unwrap())
}

async fn send(
    app: &TestApp,
    method: &str,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (status, body, _) = send_tagged(app, method, token, path, None, body).await;
    (status, body)
}

/// A request with `If-Match` when given: the status, the body and the `ETag` answered.
async fn send_tagged(
    app: &TestApp,
    method: &str,
    token: &str,
    path: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, Option<String>) {
    let mut req = match method {
        "GET" => app.client.get(path),
        "POST" => app.client.post(path),
        "PUT" => app.client.put(path),
        "PATCH" => app.client.patch(path),
        "DELETE" => app.client.delete(path),
        other => panic!("method {other}"),
    };
    req = req.header("authorization", format!("Bearer {token}"));
    if let Some(version) = if_match {
        req = req.header("if-match", version);
    }
    if let Some(body) = body {
        req = req.body_json(&body);
    }
    let resp = req.send().await;
    let etag = resp
        .0
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = status_json(resp).await;
    (status, body, etag)
}

/// The decoded subjects of the messages an SMTP sink received for `to`.
fn subjects_for(inbox: &[String], to: &str) -> Vec<String> {
    inbox
        .iter()
        .filter(|m| m.lines().any(|l| l.starts_with("To:") && l.contains(to)))
        .filter_map(|m| {
            // Long headers are folded over lines that start with white space.
            let mut lines = m.lines().skip_while(|l| !l.starts_with("Subject: "));
            let mut raw = lines.next()?.trim_start_matches("Subject: ").to_owned();
            for more in lines.take_while(|l| l.starts_with([' ', '\t'])) {
                raw.push(' ');
                raw.push_str(more.trim());
            }
            // RFC 2047: white space between two encoded words is dropped, kept elsewhere.
            let mut subject = String::new();
            let mut previous_encoded = false;
            for word in raw.split_whitespace() {
                let inner = word
                    .strip_prefix("=?utf-8?b?")
                    .or_else(|| word.strip_prefix("=?UTF-8?B?"))
                    .and_then(|w| w.strip_suffix("?="));
                let (text, encoded) = match inner {
                    Some(b64) => (
                        String::from_utf8(
                            base64::engine::general_purpose::STANDARD
                                .decode(b64)
                                .unwrap(),
                        )
                        .unwrap(),
                        true,
                    ),
                    None => (word.to_owned(), false),
                };
                let joined = encoded && previous_encoded;
                if !subject.is_empty() && !joined {
                    subject.push(' ');
                }
                subject.push_str(&text);
                previous_encoded = encoded;
            }
            Some(subject)
        })
        .collect()
}

fn html_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[tokio::test]
async fn a_referent_builds_a_plan_the_person_reads_in_arabic_and_tigrinya() {
    for backend in backends() {
        let (url, inbox) = smtp_sink().await;
        let notifier =
            peps_store::notify::notifier_from_url(&url, "PEPS <no-reply@peps.test>").unwrap();
        let app = TestApp::with_plans(backend, notifier, translator().await).await;
        let cast = Cast::new(&app).await;
        let (p, person) = (cast.person_p.0, cast.person_p.1.clone());
        let worker = cast.worker_a.1.clone();

        // The person reads Arabic.
        let (status, _) = send(
            &app,
            "PUT",
            &person,
            "/api/v1/me/language",
            Some(json!({"language": "ar"})),
        )
        .await;
        assert_eq!(status, 200);

        // The referent starts the plan and adds three steps from templates, adapting one, and
        // a free step with an appointment at a place.
        let (status, plan) = send(
            &app,
            "POST",
            &worker,
            &format!("/api/v1/persons/{p}/plans"),
            Some(json!({"title": "Ressources et santé"})),
        )
        .await;
        assert_eq!(status, 201, "{plan}");
        let plan_id = plan["id"].as_str().unwrap().to_owned();
        // The worker reads French; the title was translated for the person meanwhile.
        assert_eq!(plan["title"]["value"], "Ressources et santé");
        assert_eq!(plan["title"]["provenance"], "original");
        let steps_path = format!("/api/v1/plans/{plan_id}/steps");
        let mut step_ids = Vec::new();
        for body in [
            json!({"template_id": "demander-le-rsa", "due_on": "2026-11-20"}),
            json!({"template_id": "demander-la-complementaire-sante-solidaire",
                   "explanation": "Votre référente remplit le dossier avec vous mardi.",
                   "private_note": "Dossier incomplet en 2025."}),
            json!({"template_id": "choisir-un-medecin-traitant"}),
            json!({"title": "Rendez-vous au CCAS",
                   "explanation": "Apporter le courrier de la CAF.",
                   "tasks": ["Prendre le bus 4", "Demander Mme Martin à l'accueil"],
                   "orientation": {"name": "CCAS d'Auxerre", "address": "2 place de l'Hôtel de Ville, 89000 Auxerre", "phone": "03 86 72 44 00"},
                   "appointment_at": "2026-11-10T14:30:00",
                   "documents": ["identity", "caf_certificate"]}),
        ] {
            let (status, step) = send(&app, "POST", &worker, &steps_path, Some(body)).await;
            assert_eq!(status, 201, "{step}");
            step_ids.push(step["id"].as_str().unwrap().to_owned());
        }

        // The person reads the plan in Arabic, from their profile: right to left, vetted
        // template texts, machine-translated free text, the adapted field in French (flagged).
        let plan_path = format!("/api/v1/plans/{plan_id}");
        let (status, read) = send(&app, "GET", &person, &plan_path, None).await;
        assert_eq!(status, 200, "{read}");
        assert_eq!(read["view"], "full");
        assert_eq!(
            (&read["language"], &read["direction"]),
            (&json!("ar"), &json!("rtl"))
        );
        assert_eq!(read["title"]["value"], "[ar] Ressources et santé");
        assert_eq!(read["title"]["provenance"], "machine");
        assert_eq!(read["french_title"], "Ressources et santé");
        let steps = read["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 4);
        let rsa = &steps[0];
        assert_eq!(rsa["title"]["language"], "ar");
        assert_eq!(rsa["title"]["direction"], "rtl");
        assert_eq!(rsa["title"]["provenance"], "machine");
        assert_eq!(rsa["title"]["fallback"], false);
        assert!(rsa["french"]["title"].as_str().unwrap().contains("RSA"));
        assert!(
            rsa["documents"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| !d["label"].as_str().unwrap().is_empty())
        );
        let c2s = &steps[1];
        assert_eq!(c2s["title"]["language"], "ar");
        assert_eq!(
            c2s["explanation"]["value"],
            "[ar] Votre référente remplit le dossier avec vous mardi."
        );
        assert_eq!(c2s["explanation"]["provenance"], "machine");
        assert!(
            c2s["private_note"].is_null(),
            "the person never sees the workers' note"
        );
        let free = &steps[3];
        assert_eq!(free["title"]["value"], "[ar] Rendez-vous au CCAS");
        assert_eq!(
            free["tasks"]["values"][1],
            "[ar] Demander Mme Martin à l'accueil"
        );
        assert_eq!(free["orientation"]["name"], "CCAS d'Auxerre");
        assert_eq!(free["appointment_at"], "2026-11-10T14:30:00");
        assert_eq!(free["status"], "planned");

        // In Tigrinya (left to right, Ethiopic script): the template texts; the free step has
        // no Tigrinya yet, so its French shows, flagged.
        let (_, ti) = send(&app, "GET", &person, &format!("{plan_path}?lang=ti"), None).await;
        assert_eq!(
            (&ti["language"], &ti["direction"]),
            (&json!("ti"), &json!("ltr"))
        );
        let ti_title = ti["steps"][0]["title"]["value"].as_str().unwrap();
        assert!(
            ti_title
                .chars()
                .any(|c| ('\u{1200}'..='\u{137F}').contains(&c)),
            "{ti_title}"
        );
        assert_eq!(ti["steps"][3]["title"]["language"], "fr");
        assert_eq!(ti["steps"][3]["title"]["fallback"], true);

        // The workers see their private note.
        let (_, for_worker) = send(&app, "GET", &worker, &plan_path, None).await;
        assert_eq!(
            for_worker["steps"][1]["private_note"],
            "Dossier incomplet en 2025."
        );
        assert_eq!(for_worker["rights"]["edit"], true);

        // The person marks the first step done and asks a question on the free one; they may
        // not cancel a step on the service's behalf.
        let status_path = format!("{steps_path}/{}/status", step_ids[0]);
        let (status, done) = send(
            &app,
            "PUT",
            &person,
            &status_path,
            Some(json!({"status": "done"})),
        )
        .await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["status"], "done");
        assert_eq!(done["status_changed_by"], json!(p));
        let (status, refused) = send(
            &app,
            "PUT",
            &person,
            &status_path,
            Some(json!({"status": "cancelled_by_service"})),
        )
        .await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (422, Some("step.status.not_allowed"))
        );
        let thread = format!("{steps_path}/{}/messages", step_ids[3]);
        let (status, _) = send(
            &app,
            "POST",
            &person,
            &thread,
            Some(json!({"body": "Je n'ai pas le courrier de la CAF, que faire ?"})),
        )
        .await;
        assert_eq!(status, 201);
        app.clock.advance(chrono::Duration::minutes(5));
        let (status, _) = send(
            &app,
            "POST",
            &worker,
            &thread,
            Some(json!({"body": "Venez quand même, nous l'imprimerons."})),
        )
        .await;
        assert_eq!(status, 201);
        let (_, messages) = send(&app, "GET", &person, &thread, None).await;
        let roles: Vec<&str> = messages
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["author_role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, vec!["person", "worker"]);

        // The referent reorders; the history shows both sides, the person's done step with
        // their name, and hides the private note's existence from the person.
        let order = json!({"step_ids": [step_ids[3], step_ids[0], step_ids[1], step_ids[2]]});
        let (status, reordered) = send(
            &app,
            "PUT",
            &worker,
            &format!("{plan_path}/order"),
            Some(order),
        )
        .await;
        assert_eq!(status, 200, "{reordered}");
        assert_eq!(reordered["steps"][0]["id"], json!(step_ids[3]));
        let (status, history) =
            send(&app, "GET", &person, &format!("{plan_path}/history"), None).await;
        assert_eq!(status, 200);
        let lines: Vec<(String, String)> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["action"].as_str().unwrap().to_owned(),
                    h["actor_role"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let has = |action: &str, role: &str| lines.contains(&(action.to_owned(), role.to_owned()));
        assert!(
            has("plan.created", "worker") && has("step.added", "worker"),
            "{lines:?}"
        );
        assert!(has("step.status_changed", "person"), "{lines:?}");
        assert!(has("step.message_posted", "person") && has("steps.reordered", "worker"));
        let done_line = history
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["action"] == "step.status_changed")
            .unwrap();
        assert_eq!(done_line["to_status"], "done");
        assert_eq!(done_line["actor_name"], "Test person.p@test.peps");
        assert!(!history.to_string().contains("private_note"));
        let (_, worker_history) =
            send(&app, "GET", &worker, &format!("{plan_path}/history"), None).await;
        assert!(worker_history.to_string().contains("private_note"));

        // The printable page: Arabic (the person's language) beside French, laid out right to
        // left, in Tigrinya on request; no script may run in it.
        let resp = app
            .client
            .get(format!("{plan_path}/print"))
            .header("authorization", format!("Bearer {worker}"))
            .send()
            .await;
        resp.assert_status_is_ok();
        let headers = resp.0.headers().clone();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
        let page = resp.0.into_body().into_string().await.unwrap();
        assert!(
            page.starts_with("<!DOCTYPE html><html lang=\"ar\" dir=\"rtl\">"),
            "{}",
            &page[..200]
        );
        assert!(page.contains("<section lang=\"ar\" dir=\"rtl\">"));
        assert!(page.contains("<section lang=\"fr\" dir=\"ltr\">"));
        assert!(page.contains(&i18n::text("plans.print.heading", "ar")));
        assert!(page.contains(rsa["title"]["value"].as_str().unwrap()));
        assert!(page.contains(&html_escaped(rsa["french"]["title"].as_str().unwrap())));
        assert!(page.contains("CCAS d&#39;Auxerre"));
        assert!(page.contains("10/11/2026") && page.contains("14:30"));
        assert!(
            !page.contains("Dossier incomplet"),
            "private notes are never printed"
        );
        assert!(!page.contains("<script"));
        let resp = app
            .client
            .get(format!("{plan_path}/print?lang=ti"))
            .header("authorization", format!("Bearer {person}"))
            .send()
            .await;
        resp.assert_status_is_ok();
        let page = resp.0.into_body().into_string().await.unwrap();
        assert!(page.contains("<html lang=\"ti\" dir=\"ltr\">"));
        assert!(page.contains(ti_title));

        // The person was told of each new step and of the answer, in Arabic, by email; the
        // referent was told of the person's progress, in French.
        app.deliver().await;
        let messages = inbox.lock().unwrap().clone();
        let to_person = subjects_for(&messages, "person.p@test.peps");
        let new_step = i18n::text("plans.notice.new_step.subject", "ar");
        assert_eq!(
            to_person.iter().filter(|s| **s == new_step).count(),
            4,
            "{to_person:?}"
        );
        assert!(to_person.contains(&i18n::text("plans.notice.message.subject", "ar")));
        let to_worker = subjects_for(&messages, "worker.a@test.peps");
        assert!(
            to_worker
                .iter()
                .any(|s| s.contains("Test person.p@test.peps")),
            "{to_worker:?}"
        );
    }
}

#[tokio::test]
async fn the_person_allows_a_worker_of_another_organisation_and_takes_them_off() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let p = cast.person_p.0;
        let (worker, person, other) = (&cast.worker_a.1, &cast.person_p.1, &cast.worker_b);
        let (_, plan) = send(
            &app,
            "POST",
            worker,
            &format!("/api/v1/persons/{p}/plans"),
            Some(json!({"title": "Emploi"})),
        )
        .await;
        let plan_path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
        assert_eq!(send(&app, "GET", &other.1, &plan_path, None).await.0, 404);
        // The referent cannot let a colleague in: only the person can.
        let allow = json!({"worker_id": other.0});
        let workers = format!("{plan_path}/workers");
        assert_eq!(
            send(&app, "POST", worker, &workers, Some(allow.clone()))
                .await
                .0,
            403
        );
        assert_eq!(
            send(&app, "POST", person, &workers, Some(allow)).await.0,
            204
        );
        let (status, read) = send(&app, "GET", &other.1, &plan_path, None).await;
        assert_eq!((status, &read["rights"]["edit"]), (200, &json!(true)));
        let (status, _) = send(
            &app,
            "POST",
            &other.1,
            &format!("{plan_path}/steps"),
            Some(json!({"template_id": "s-inscrire-a-france-travail"})),
        )
        .await;
        assert_eq!(status, 201);
        let (_, listed) = send(
            &app,
            "GET",
            &other.1,
            &format!("/api/v1/persons/{p}/plans"),
            None,
        )
        .await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        // Taken off: refused at once, as if the plan did not exist.
        let remove = format!("{workers}/{}", other.0);
        assert_eq!(send(&app, "DELETE", person, &remove, None).await.0, 204);
        assert_eq!(send(&app, "GET", &other.1, &plan_path, None).await.0, 404);
        assert_eq!(
            send(
                &app,
                "GET",
                &other.1,
                &format!("/api/v1/persons/{p}/plans"),
                None
            )
            .await
            .0,
            404
        );
        // The admin sees that the plan exists, never what it says.
        let (status, meta) = send(&app, "GET", &cast.admin.1, &plan_path, None).await;
        assert_eq!(status, 200);
        assert_eq!(
            (&meta["view"], &meta["steps"]),
            (&json!("metadata"), &json!(1))
        );
        assert!(
            meta.get("title").is_none() && meta.get("person_name").is_none(),
            "{meta}"
        );
        // A non-worker cannot be allowed.
        let (status, problem) = send(
            &app,
            "POST",
            person,
            &workers,
            Some(json!({"worker_id": cast.helper.0})),
        )
        .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("plan.not_a_worker"))
        );
    }
}

#[tokio::test]
async fn bad_plan_input_gets_clear_localised_errors_and_writes_nothing() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let p = cast.person_p.0;
        let worker = &cast.worker_a.1;
        let (_, plan) = send(
            &app,
            "POST",
            worker,
            &format!("/api/v1/persons/{p}/plans"),
            Some(json!({"title": "Logement"})),
        )
        .await;
        let plan_path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
        let steps = format!("{plan_path}/steps");
        for (body, code) in [
            (json!({}), "step.texts.required"),
            (
                json!({"template_id": "n-existe-pas"}),
                "step.template.unknown",
            ),
            (json!({"title": "  "}), "step.title.empty"),
            (json!({"title": "x".repeat(201)}), "step.title.too_long"),
            (
                json!({"title": "Aller", "documents": ["selfie"]}),
                "step.documents.unknown_kind",
            ),
            (
                json!({"title": "Aller", "due_on": "1926-01-01"}),
                "step.date.out_of_range",
            ),
            (
                json!({"title": "Aller", "orientation": {"offer_id": uuid::Uuid::new_v4()}}),
                "step.orientation.offer_unknown",
            ),
            (
                json!({"title": "Aller", "orientation": {"name": "CCAS", "url": "javascript:alert(1)"}}),
                "step.orientation.url_invalid",
            ),
        ] {
            let (status, problem) = send(&app, "POST", worker, &steps, Some(body.clone())).await;
            assert_eq!(
                (status, problem["code"].as_str()),
                (422, Some(code)),
                "{body}: {problem}"
            );
            assert!(!problem["title"].as_str().unwrap().is_empty());
        }
        let (_, read) = send(&app, "GET", worker, &plan_path, None).await;
        assert!(
            read["steps"].as_array().unwrap().is_empty(),
            "nothing half-written"
        );
        let (status, problem) = send(
            &app,
            "POST",
            worker,
            &format!("/api/v1/persons/{p}/plans"),
            Some(json!({"title": ""})),
        )
        .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("plan.title.empty"))
        );

        // Stale versions and a wrong order conflict; a closed plan takes no new step.
        let (_, step) = send(
            &app,
            "POST",
            worker,
            &steps,
            Some(json!({"title": "Aller au CCAS"})),
        )
        .await;
        let step_path = format!("{steps}/{}", step["id"].as_str().unwrap());
        let edit = json!({"title": "Aller au CCAS d'Auxerre"});
        let (status, _, _) = send_tagged(
            &app,
            "PATCH",
            worker,
            &step_path,
            Some("\"1\""),
            Some(edit.clone()),
        )
        .await;
        assert_eq!(status, 200);
        let (status, problem, _) =
            send_tagged(&app, "PATCH", worker, &step_path, Some("\"1\""), Some(edit)).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (412, Some("step.version_changed"))
        );
        let (status, problem) = send(
            &app,
            "PUT",
            worker,
            &format!("{plan_path}/order"),
            Some(json!({"step_ids": [uuid::Uuid::new_v4()]})),
        )
        .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (409, Some("steps.order_mismatch"))
        );
        let (status, closed, _) = send_tagged(
            &app,
            "PATCH",
            worker,
            &plan_path,
            Some("\"1\""),
            Some(json!({"status": "closed"})),
        )
        .await;
        assert_eq!((status, closed["status"].as_str()), (200, Some("closed")));
        let (status, problem) = send(
            &app,
            "POST",
            worker,
            &steps,
            Some(json!({"title": "Encore"})),
        )
        .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (409, Some("plan.closed"))
        );
        // Messages in French for a French reader, in Arabic when asked.
        let resp = app
            .client
            .post(&steps)
            .header("authorization", format!("Bearer {worker}"))
            .header("accept-language", "ar")
            .body_json(&json!({"title": "Encore"}))
            .send()
            .await;
        let (_, problem) = status_json(resp).await;
        assert_eq!(problem["lang"], "ar");
        assert_eq!(problem["title"], i18n::error_message("plan.closed", "ar"));
    }
}

/// Plans and steps follow the offers' style: every read and write answers the version as
/// `ETag` and an edit sends it back in `If-Match` (`"3"`, `W/"3"` or `3`). Without it, 428 with
/// the resource's code; a stale version or one that is not a version, 412 and nothing written.
/// A `version` left in the body is an unknown field: ignored, so the edit still needs the header.
#[tokio::test]
async fn plans_and_steps_are_edited_with_if_match() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let p = cast.person_p.0;
        let (worker, person) = (&cast.worker_a.1, &cast.person_p.1);

        // A plan is created at version 1 and read with it.
        let (status, plan, tag) = send_tagged(
            &app,
            "POST",
            worker,
            &format!("/api/v1/persons/{p}/plans"),
            None,
            Some(json!({"title": "Logement"})),
        )
        .await;
        assert_eq!((status, tag.as_deref()), (201, Some("\"1\"")), "{plan}");
        assert_eq!(plan["version"], 1);
        let plan_path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
        let (status, _, tag) = send_tagged(&app, "GET", worker, &plan_path, None, None).await;
        assert_eq!((status, tag.as_deref()), (200, Some("\"1\"")));

        // No If-Match: 428 with a stable, translated code; a body version changes nothing.
        for body in [
            json!({"title": "Hébergement"}),
            json!({"version": 1, "title": "Hébergement"}),
        ] {
            let (status, problem, _) =
                send_tagged(&app, "PATCH", worker, &plan_path, None, Some(body)).await;
            assert_eq!(
                (status, problem["code"].as_str()),
                (428, Some("plan.version_required")),
                "{problem}"
            );
            assert_eq!(
                problem["title"],
                i18n::error_message("plan.version_required", "fr")
            );
        }
        // The version read: 200 and the new version as ETag, in each accepted spelling.
        for (if_match, body, new) in [
            ("\"1\"", json!({"title": "Hébergement"}), 2),
            ("W/\"2\"", json!({"title": "Hébergement d'urgence"}), 3),
            ("3", json!({"status": "closed"}), 4),
        ] {
            let (status, edited, tag) = send_tagged(
                &app,
                "PATCH",
                worker,
                &plan_path,
                Some(if_match),
                Some(body),
            )
            .await;
            let expected = format!("\"{new}\"");
            assert_eq!(
                (status, tag.as_deref()),
                (200, Some(expected.as_str())),
                "{if_match}: {edited}"
            );
            assert_eq!(edited["version"], new);
        }
        // A stale version, or something that is not a version: 412, nothing written.
        for if_match in ["\"3\"", "\"1\"", "*", "\"abc\""] {
            let (status, problem, _) = send_tagged(
                &app,
                "PATCH",
                worker,
                &plan_path,
                Some(if_match),
                Some(json!({"title": "Écrasement", "status": "active"})),
            )
            .await;
            assert_eq!(
                (status, problem["code"].as_str()),
                (412, Some("plan.version_changed")),
                "{if_match}: {problem}"
            );
        }
        let (_, read, tag) = send_tagged(&app, "GET", worker, &plan_path, None, None).await;
        assert_eq!(tag.as_deref(), Some("\"4\""));
        assert_eq!(
            (&read["version"], &read["status"], &read["french_title"]),
            (&json!(4), &json!("closed"), &json!("Hébergement d'urgence"))
        );
        let (status, _, tag) = send_tagged(
            &app,
            "PATCH",
            worker,
            &plan_path,
            tag.as_deref(),
            Some(json!({"status": "active"})),
        )
        .await;
        assert_eq!((status, tag.as_deref()), (200, Some("\"5\"")));
        // Letting a worker in (or taking them off) moves the plan on: the 204 says to what.
        let workers = format!("{plan_path}/workers");
        let (status, _, tag) = send_tagged(
            &app,
            "POST",
            person,
            &workers,
            None,
            Some(json!({"worker_id": cast.worker_b.0})),
        )
        .await;
        assert_eq!((status, tag.as_deref()), (204, Some("\"6\"")));
        let (status, _, tag) = send_tagged(
            &app,
            "DELETE",
            person,
            &format!("{workers}/{}", cast.worker_b.0),
            None,
            None,
        )
        .await;
        assert_eq!((status, tag.as_deref()), (204, Some("\"7\"")));
        // The admin reads metadata only, with no version to edit.
        let (status, meta, tag) =
            send_tagged(&app, "GET", &cast.admin.1, &plan_path, None, None).await;
        assert_eq!(
            (status, &meta["view"], tag),
            (200, &json!("metadata"), None)
        );

        // A step: created at version 1.
        let steps = format!("{plan_path}/steps");
        let (status, step, tag) = send_tagged(
            &app,
            "POST",
            worker,
            &steps,
            None,
            Some(json!({"title": "Aller au CCAS"})),
        )
        .await;
        assert_eq!((status, tag.as_deref()), (201, Some("\"1\"")), "{step}");
        let step_path = format!("{steps}/{}", step["id"].as_str().unwrap());
        for body in [
            json!({"title": "Aller à la mairie"}),
            json!({"version": 1, "title": "Aller à la mairie"}),
        ] {
            let (status, problem, _) =
                send_tagged(&app, "PATCH", worker, &step_path, None, Some(body)).await;
            assert_eq!(
                (status, problem["code"].as_str()),
                (428, Some("step.version_required")),
                "{problem}"
            );
            assert_eq!(
                problem["title"],
                i18n::error_message("step.version_required", "fr")
            );
        }
        let (status, edited, tag) = send_tagged(
            &app,
            "PATCH",
            worker,
            &step_path,
            Some("\"1\""),
            Some(json!({"title": "Aller au CCAS d'Auxerre"})),
        )
        .await;
        assert_eq!((status, tag.as_deref()), (200, Some("\"2\"")), "{edited}");
        assert_eq!(
            (&edited["version"], &edited["title"]["value"]),
            (&json!(2), &json!("Aller au CCAS d'Auxerre"))
        );
        for if_match in ["\"1\"", "W/\"1\"", "*", "deux"] {
            let (status, problem, _) = send_tagged(
                &app,
                "PATCH",
                worker,
                &step_path,
                Some(if_match),
                Some(json!({"title": "Écrasement"})),
            )
            .await;
            assert_eq!(
                (status, problem["code"].as_str()),
                (412, Some("step.version_changed")),
                "{if_match}: {problem}"
            );
        }
        // The person reports progress: a write too, answered with the step's new version,
        // which a worker's edit based on the version before then misses.
        let (status, moved, tag) = send_tagged(
            &app,
            "PUT",
            person,
            &format!("{step_path}/status"),
            None,
            Some(json!({"status": "in_progress"})),
        )
        .await;
        assert_eq!((status, tag.as_deref()), (200, Some("\"3\"")), "{moved}");
        let (status, problem, _) = send_tagged(
            &app,
            "PATCH",
            worker,
            &step_path,
            Some("\"2\""),
            Some(json!({"due_on": null, "title": "Écrasement"})),
        )
        .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (412, Some("step.version_changed"))
        );
        let (_, read, _) = send_tagged(&app, "GET", worker, &plan_path, None, None).await;
        assert_eq!(
            (
                &read["steps"][0]["version"],
                &read["steps"][0]["title"]["value"]
            ),
            (&json!(3), &json!("Aller au CCAS d'Auxerre")),
            "nothing of the stale edits written"
        );
        let (status, _, tag) = send_tagged(
            &app,
            "PATCH",
            worker,
            &step_path,
            Some("3"),
            Some(json!({"title": "Aller au CCAS d'Auxerre, 2e étage"})),
        )
        .await;
        assert_eq!((status, tag.as_deref()), (200, Some("\"4\"")));
        // Reordering answers the plan with the plan's version.
        let (status, _, tag) = send_tagged(
            &app,
            "PUT",
            worker,
            &format!("{plan_path}/order"),
            None,
            Some(json!({"step_ids": [step["id"]]})),
        )
        .await;
        assert_eq!((status, tag.as_deref()), (200, Some("\"7\"")));
    }
}

#[tokio::test]
async fn due_dates_are_reminded_once_in_the_persons_language() {
    for backend in backends() {
        let (url, inbox) = smtp_sink().await;
        let notifier =
            peps_store::notify::notifier_from_url(&url, "PEPS <no-reply@peps.test>").unwrap();
        let app =
            TestApp::with_plans(backend, notifier, Arc::new(peps_core::ports::NoTranslator)).await;
        let cast = Cast::new(&app).await;
        let p = cast.person_p.0;
        let (person, worker) = (&cast.person_p.1, &cast.worker_a.1);
        send(
            &app,
            "PUT",
            person,
            "/api/v1/me/language",
            Some(json!({"language": "uk"})),
        )
        .await;
        let (_, plan) = send(
            &app,
            "POST",
            worker,
            &format!("/api/v1/persons/{p}/plans"),
            Some(json!({"title": "Papiers"})),
        )
        .await;
        let steps = format!("/api/v1/plans/{}/steps", plan["id"].as_str().unwrap());
        // Today is the Cast's clock date; two steps due in two days, one in a month.
        use peps_core::clock::Clock;
        let today = app.clock.now().date_naive();
        for days in [2, 2, 30] {
            let due = (today + chrono::Duration::days(days)).to_string();
            let (status, _) = send(
                &app,
                "POST",
                worker,
                &steps,
                Some(json!({"template_id": "demander-une-carte-d-identite", "due_on": due})),
            )
            .await;
            assert_eq!(status, 201);
        }
        app.deliver().await;
        inbox.lock().unwrap().clear();
        let first = app.state.plans.remind_due().await.unwrap();
        assert_eq!(
            (first.reminded, first.already_reminded),
            (1, 0),
            "{first:?}"
        );
        let again = app.state.plans.remind_due().await.unwrap();
        assert_eq!(
            (again.reminded, again.already_reminded),
            (0, 2),
            "{again:?}"
        );
        assert_eq!(app.deliver().await.sent, 1, "one reminder, sent once");
        let messages = inbox.lock().unwrap().clone();
        let subjects = subjects_for(&messages, "person.p@test.peps");
        let date = peps_core::i18n::format_date(today + chrono::Duration::days(2), "uk");
        let expected = i18n::text_with(
            "plans.notice.due_soon.subject",
            "uk",
            &[("date", date.as_str())],
        );
        assert_eq!(subjects, vec![expected]);
    }
}

/// A step that sends to a catalogue offer shows it as the catalogue holds it now (the server
/// reads it from the catalogue's index): refused while a draft, shown once published (without
/// the professional contact), shown as no longer available once archived.
#[tokio::test]
async fn a_step_shows_its_offer_as_the_catalogue_holds_it_now() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let p = cast.person_p.0;
        let (worker, person, member) = (&cast.worker_a.1, &cast.person_p.1, &cast.member_x.1);
        let (offer, _) =
            crate::catalogue::create(&app, member, cast.org_x.0, "Épicerie solidaire").await;
        let offer_path = format!("/api/v1/offers/{offer}");
        let (_, plan) = send(
            &app,
            "POST",
            worker,
            &format!("/api/v1/persons/{p}/plans"),
            Some(json!({"title": "Alimentation"})),
        )
        .await;
        let plan_path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
        let step = json!({"title": "Aller à l'épicerie", "orientation": {"offer_id": offer}});

        // A draft is nothing to send a person to.
        let (status, problem) = send(
            &app,
            "POST",
            worker,
            &format!("{plan_path}/steps"),
            Some(step.clone()),
        )
        .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("step.orientation.offer_unknown")),
            "{backend:?}: {problem}"
        );

        let published = crate::catalogue::post(
            &app,
            Some(member),
            &format!("{offer_path}/publish"),
            Some("\"1\""),
        )
        .await;
        assert_eq!(published.0, 200, "{}", published.1);
        let (status, added) = send(
            &app,
            "POST",
            worker,
            &format!("{plan_path}/steps"),
            Some(step),
        )
        .await;
        assert_eq!(status, 201, "{added}");
        let (_, read) = send(&app, "GET", person, &plan_path, None).await;
        let orientation = &read["steps"][0]["orientation"];
        assert_eq!(orientation["available"], true, "{read}");
        assert_eq!(orientation["name"], "Épicerie solidaire");
        assert_eq!(orientation["organisation"], "Offreur X");
        assert!(
            !read.to_string().contains("01 99 00 12 34"),
            "no professional contact for the person"
        );

        // Archived: the step stays, the offer reads as no longer available.
        let archived =
            crate::catalogue::post(&app, Some(member), &format!("{offer_path}/archive"), None)
                .await;
        assert_eq!(archived.0, 200, "{}", archived.1);
        let (_, read) = send(&app, "GET", person, &plan_path, None).await;
        let orientation = &read["steps"][0]["orientation"];
        assert_eq!(orientation["available"], false, "{read}");
        assert_eq!(orientation["offer_id"], offer.as_str());
        assert!(orientation["name"].is_null());
    }
}
