//! The catalogue over HTTP: offerers publish and edit, readers search, on SQLite and
//! PostgreSQL.

use chrono::Duration;
use serde_json::{Value, json};
use std::sync::Arc;

use super::support::*;
use peps_core::services::CatalogueSettings;

fn offer_body(title: &str) -> Value {
    json!({
        "title": title,
        "summary": "Un accompagnement pour trouver un toit.",
        "description": "Permanence du CCAS : aide aux demandes d'hébergement et de logement social.",
        "theme": "ville-du-quotidien",
        "topics": ["logement-hebergement--rechercher-une-solution-dhebergement-temporaire"],
        "audiences": ["tous-publics"],
        "cost": "gratuit",
        "reception_modes": ["en-presentiel"],
        "locations": [{"commune": "Auxerre", "commune_code": "89024", "postcode": "89000",
                        "latitude": 47.7996, "longitude": 3.5703}],
        "opening_hours": "Mo-Su 00:00-24:00",
        "professional_contact": {"name": "Mme Martin", "phone": "01 99 00 12 34"},
        "update_frequency_months": 1
    })
}

fn etag(resp: &poem::test::TestResponse) -> String {
    resp.0
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub(crate) async fn create(
    app: &TestApp,
    token: &str,
    org: uuid::Uuid,
    title: &str,
) -> (String, Value) {
    let resp = app
        .client
        .post(format!("/api/v1/organisations/{org}/offers"))
        .header("authorization", format!("Bearer {token}"))
        .body_json(&offer_body(title))
        .send()
        .await;
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 201, "{body}");
    (body["id"].as_str().unwrap().to_owned(), body)
}

async fn publish(app: &TestApp, member: &str, id: &str) {
    let (status, body) = post(
        app,
        Some(member),
        &format!("/api/v1/offers/{id}/publish"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

pub(crate) async fn post(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
    if_match: Option<&str>,
) -> (u16, Value) {
    let mut req = app.client.post(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(v) = if_match {
        req = req.header("if-match", v);
    }
    status_json(req.send().await).await
}

/// Status of a request with a JSON body.
async fn send_json(
    app: &TestApp,
    token: Option<&str>,
    method: &str,
    path: &str,
    if_match: Option<&str>,
    body: Value,
) -> u16 {
    let mut req = match method {
        "put" => app.client.put(path),
        _ => app.client.post(path),
    };
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(v) = if_match {
        req = req.header("if-match", v);
    }
    let (status, problem) = status_json(req.body_json(&body).send().await).await;
    assert_ne!(status, 500, "{problem}");
    status
}

async fn get(app: &TestApp, token: Option<&str>, path: &str) -> (u16, Value) {
    let mut req = app.client.get(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    status_json(req.send().await).await
}

async fn search_titles(
    client: &poem::test::TestClient<poem::endpoint::BoxEndpoint<'static>>,
    q: &str,
) -> Vec<String> {
    let resp = client.get("/api/v1/offers").query("q", &q).send().await;
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 200, "{body}");
    body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["display"]["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn publish_search_edit_search() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let member = &cast.member_x.1;
        let (id, created) =
            create(&app, member, cast.org_x.0, "Hébergement d’urgence Auxerre").await;
        assert_eq!(created["status"], "draft");
        assert_eq!(created["version"], 1);
        let path = format!("/api/v1/offers/{id}");

        // A draft exists only for its organisation.
        assert_eq!(get(&app, None, &path).await.0, 404, "{backend:?}");
        assert_eq!(get(&app, Some(member), &path).await.0, 200);
        assert!(search_titles(&app.client, "hebergement").await.is_empty());

        let (status, published) = post(
            &app,
            Some(member),
            &format!("{path}/publish"),
            Some("\"1\""),
        )
        .await;
        assert_eq!(status, 200, "{published}");
        assert_eq!(published["status"], "published");
        assert_eq!(published["version"], 2);

        // Visible at once, with accents, plural and case folded; on another instance too.
        assert_eq!(
            search_titles(&app.client, "HEBERGEMENTS").await,
            ["Hébergement d’urgence Auxerre"]
        );
        let other = app.second_instance();
        assert_eq!(search_titles(&other, "hébergement").await.len(), 1);

        // Anonymous readers and persons never get the contact person; professionals do.
        let (_, anonymous) = get(&app, None, &path).await;
        assert!(anonymous["content"]["professional_contact"].is_null());
        assert_eq!(anonymous["open_now"], true);
        let (_, person) = get(&app, Some(&cast.person_p.1), &path).await;
        assert!(person["content"]["professional_contact"].is_null());
        let (_, worker) = get(&app, Some(&cast.worker_a.1), &path).await;
        assert_eq!(
            worker["content"]["professional_contact"]["name"],
            "Mme Martin"
        );
        // An invalid token is refused, not read as anonymous.
        assert_eq!(get(&app, Some("peps_forged"), &path).await.0, 401);

        // The same search asked twice is answered from this instance's page cache...
        assert_eq!(
            search_titles(&app.client, "hébergement").await,
            ["Hébergement d’urgence Auxerre"]
        );
        assert_eq!(
            search_titles(&app.client, "hébergement").await,
            ["Hébergement d’urgence Auxerre"]
        );

        // Edit with the version read; the search sees the edit at once, here and elsewhere.
        let mut body = offer_body("Mise à l’abri des familles");
        body["opening_hours"] = json!("Mo-Fr 09:00-12:00");
        let resp = app
            .client
            .put(&path)
            .header("authorization", format!("Bearer {member}"))
            .header("if-match", "\"2\"")
            .body_json(&body)
            .send()
            .await;
        assert_eq!(etag(&resp), "\"3\"");
        resp.assert_status_is_ok();
        assert!(search_titles(&app.client, "urgence").await.is_empty());
        // ...which the edit invalidated (the description still says "hébergement").
        assert_eq!(
            search_titles(&app.client, "hébergement").await,
            ["Mise à l’abri des familles"]
        );
        assert_eq!(
            search_titles(&other, "familles").await,
            ["Mise à l’abri des familles"]
        );

        // A second editor still on version 2 is refused; nothing of theirs is written.
        let stale = app
            .client
            .put(&path)
            .header("authorization", format!("Bearer {member}"))
            .header("if-match", "\"2\"")
            .body_json(&offer_body("Écrasement"))
            .send()
            .await;
        let (status, problem) = status_json(stale).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (412, Some("offer.version_conflict"))
        );
        let missing = app
            .client
            .put(&path)
            .header("authorization", format!("Bearer {member}"))
            .body_json(&offer_body("Sans version"))
            .send()
            .await;
        assert_eq!(status_json(missing).await.0, 428);

        // Another organisation's member cannot edit, publish or read the history.
        let other_member = &cast.member_y.1;
        let foreign = app
            .client
            .put(&path)
            .header("authorization", format!("Bearer {other_member}"))
            .header("if-match", "\"3\"")
            .body_json(&offer_body("Piratage"))
            .send()
            .await;
        assert_eq!(status_json(foreign).await.0, 403);
        assert_eq!(
            post(&app, Some(other_member), &format!("{path}/suspend"), None)
                .await
                .0,
            403
        );
        assert_eq!(
            get(&app, Some(other_member), &format!("{path}/history"))
                .await
                .0,
            403
        );
        assert_eq!(
            get(&app, Some(&cast.worker_a.1), &format!("{path}/history"))
                .await
                .0,
            403
        );
        assert_eq!(
            post(&app, None, &format!("{path}/archive"), None).await.0,
            401
        );
        assert_eq!(
            get(&app, Some(member), &path).await.1["content"]["title"],
            "Mise à l’abri des familles"
        );

        // Archived: gone for readers, kept with its history.
        assert_eq!(
            post(&app, Some(member), &format!("{path}/archive"), None)
                .await
                .0,
            200
        );
        assert_eq!(get(&app, None, &path).await.0, 404);
        assert!(search_titles(&other, "familles").await.is_empty());
        let (_, history) = get(&app, Some(member), &format!("{path}/history")).await;
        let actions: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["created", "published", "updated", "archived"]);
        assert!(
            history[2]["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "title")
        );
        assert_eq!(history[2]["actor_id"], cast.member_x.0.to_string());
    }
}

#[tokio::test]
async fn every_role_against_catalogue_endpoints() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let (draft, _) = create(
            &app,
            &cast.member_x.1,
            cast.org_x.0,
            "Brouillon de l’offreur X",
        )
        .await;
        let (public, _) = create(&app, &cast.member_x.1, cast.org_x.0, "Offre publiée de X").await;
        assert_eq!(
            post(
                &app,
                Some(&cast.member_x.1),
                &format!("/api/v1/offers/{public}/publish"),
                None
            )
            .await
            .0,
            200
        );
        let actors: Vec<(&str, Option<&str>)> = vec![
            ("anonymous", None),
            ("person", Some(&cast.person_p.1)),
            ("other person", Some(&cast.person_q.1)),
            ("helper", Some(&cast.helper.1)),
            ("worker", Some(&cast.worker_a.1)),
            ("other organisation's member", Some(&cast.member_y.1)),
            ("member", Some(&cast.member_x.1)),
            ("admin", Some(&cast.admin.1)),
        ];
        for (who, token) in actors {
            let manager = matches!(who, "member" | "admin");
            let expect = |manager_status: u16, other: u16, anonymous: u16| match (token, manager) {
                (None, _) => anonymous,
                (_, true) => manager_status,
                _ => other,
            };
            let cases = [
                (
                    "GET draft",
                    get(&app, token, &format!("/api/v1/offers/{draft}")).await.0,
                    expect(200, 404, 404),
                ),
                (
                    "GET published",
                    get(&app, token, &format!("/api/v1/offers/{public}"))
                        .await
                        .0,
                    expect(200, 200, 200),
                ),
                (
                    "verify draft",
                    post(&app, token, &format!("/api/v1/offers/{draft}/verify"), None)
                        .await
                        .0,
                    expect(200, 404, 401),
                ),
                (
                    "verify published",
                    post(
                        &app,
                        token,
                        &format!("/api/v1/offers/{public}/verify"),
                        None,
                    )
                    .await
                    .0,
                    expect(200, 403, 401),
                ),
                (
                    "history",
                    get(&app, token, &format!("/api/v1/offers/{public}/history"))
                        .await
                        .0,
                    expect(200, 403, 401),
                ),
                (
                    "overdue of X",
                    get(
                        &app,
                        token,
                        &format!("/api/v1/organisations/{}/overdue-offers", cast.org_x.0),
                    )
                    .await
                    .0,
                    expect(200, 403, 401),
                ),
                (
                    "approve",
                    post(
                        &app,
                        token,
                        &format!("/api/v1/offers/{draft}/approve"),
                        None,
                    )
                    .await
                    .0,
                    match (token, who) {
                        (None, _) => 401,
                        (_, "admin") => 409,
                        (_, "member") => 403,
                        _ => 404,
                    },
                ),
                (
                    "review queue",
                    get(&app, token, "/api/v1/catalogue/review-queue").await.0,
                    match (token, who) {
                        (None, _) => 401,
                        (_, "admin") => 200,
                        _ => 403,
                    },
                ),
                (
                    "all overdue",
                    get(&app, token, "/api/v1/catalogue/overdue-offers").await.0,
                    match (token, who) {
                        (None, _) => 401,
                        (_, "admin") => 200,
                        _ => 403,
                    },
                ),
                (
                    "restore published",
                    post(&app, token, &format!("/api/v1/offers/{public}/restore"), None).await.0,
                    expect(409, 403, 401),
                ),
                (
                    "reject draft",
                    send_json(&app, token, "post", &format!("/api/v1/offers/{draft}/reject"), None, json!({"reason": "Incomplet"})).await,
                    match (token, who) {
                        (None, _) => 401,
                        (_, "admin") => 409,
                        (_, "member") => 403,
                        _ => 404,
                    },
                ),
                (
                    "temporary closure of published",
                    send_json(&app, token, "post", &format!("/api/v1/offers/{public}/temporary-changes"), None,
                        json!({"starts_on": "2026-12-24", "ends_on": "2026-12-26", "message": "Fermé pour les fêtes"})).await,
                    expect(200, 403, 401),
                ),
                (
                    "temporary closure of draft",
                    send_json(&app, token, "post", &format!("/api/v1/offers/{draft}/temporary-changes"), None,
                        json!({"starts_on": "2026-12-24", "ends_on": "2026-12-26", "message": "Fermé pour les fêtes"})).await,
                    expect(200, 404, 401),
                ),
                (
                    "edit profile of X",
                    {
                        let path = format!("/api/v1/organisations/{}/profile", cast.org_x.0);
                        let version = get(&app, None, &path).await.1["version"].as_i64().unwrap();
                        let if_match = (version > 0).then(|| format!("\"{version}\""));
                        send_json(&app, token, "put", &path, if_match.as_deref(), json!({"description": "Association d'entraide."})).await
                    },
                    expect(200, 403, 401),
                ),
                (
                    "read profile of X",
                    get(&app, token, &format!("/api/v1/organisations/{}/profile", cast.org_x.0)).await.0,
                    200,
                ),
                ("reference lists", get(&app, token, "/api/v1/reference-lists").await.0, 200),
            ];
            for (what, got, expected) in cases {
                assert_eq!(got, expected, "{backend:?}: {who} → {what}");
            }
            // Listing an organisation's offers: drafts only for its managers.
            let (status, list) = get(
                &app,
                token,
                &format!("/api/v1/organisations/{}/offers", cast.org_x.0),
            )
            .await;
            assert_eq!(status, 200);
            assert_eq!(
                list.as_array().unwrap().len(),
                if manager { 2 } else { 1 },
                "{who}"
            );
        }
        // Creating in organisation X: its members and admins only.
        for (who, token, expected) in [
            ("anonymous", None, 401),
            ("person", Some(&cast.person_p.1), 403),
            ("worker", Some(&cast.worker_a.1), 403),
            ("helper", Some(&cast.helper.1), 403),
            ("other organisation's member", Some(&cast.member_y.1), 403),
            ("member", Some(&cast.member_x.1), 201),
            ("admin", Some(&cast.admin.1), 201),
        ] {
            let mut req = app
                .client
                .post(format!("/api/v1/organisations/{}/offers", cast.org_x.0));
            if let Some(t) = token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            let resp = req
                .body_json(&offer_body("Tentative de création"))
                .send()
                .await;
            assert_eq!(status_json(resp).await.0, expected, "{who} creates");
        }
    }
}

#[tokio::test]
async fn bad_offers_get_every_field_in_the_readers_language() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let mut body = offer_body("ab");
        body["opening_hours"] = json!("Mo-Fr 08:00-12:00; Lundi 14:00-17:00");
        body["audiences"] = json!(["tous-publics", "jeunes"]);
        for (lang, word) in [("fr", "colonne"), ("en", "column")] {
            let resp = app
                .client
                .post(format!("/api/v1/organisations/{}/offers", cast.org_x.0))
                .header("authorization", format!("Bearer {}", cast.member_x.1))
                .header("accept-language", lang)
                .body_json(&body)
                .send()
                .await;
            let (status, problem) = status_json(resp).await;
            assert_eq!(status, 422, "{problem}");
            let errors = problem["errors"].as_array().unwrap();
            let codes: Vec<&str> = errors.iter().map(|e| e["code"].as_str().unwrap()).collect();
            assert!(codes.contains(&"offer.title.too_short"), "{codes:?}");
            assert!(codes.contains(&"offer.audiences.tous_publics_alone"));
            let hours = errors
                .iter()
                .find(|e| e["field"] == "opening_hours")
                .unwrap();
            assert_eq!(hours["code"], "opening_hours.expected_weekday");
            assert_eq!(hours["column"], 20);
            let title = hours["title"].as_str().unwrap();
            assert!(
                title.contains(word) && title.contains("20") && title.contains("Lundi"),
                "{title}"
            );
        }
        // Nothing was written.
        let (_, list) = get(
            &app,
            Some(&cast.member_x.1),
            &format!("/api/v1/organisations/{}/offers", cast.org_x.0),
        )
        .await;
        assert!(list.as_array().unwrap().is_empty());

        for (query, code) in [
            ("theme=nope", "search.filter.unknown"),
            ("lat=47.8", "search.point.incomplete"),
            ("sort=distance", "search.sort.needs_point"),
            ("cursor=AAAA", "search.cursor.invalid"),
            ("limit=1000", "search.limit.invalid"),
            ("departement=ZZ", "search.departement.invalid"),
            ("at=tomorrow", "search.at.invalid"),
            ("lang=xx", "language.unsupported"),
        ] {
            let resp = app
                .client
                .get(format!("/api/v1/offers?{query}"))
                .send()
                .await;
            let (status, problem) = status_json(resp).await;
            assert_eq!(
                (status, problem["code"].as_str()),
                (422, Some(code)),
                "{query}: {problem}"
            );
        }
    }
}

#[tokio::test]
async fn moderation_holds_publication_until_an_admin_decides() {
    for backend in backends() {
        let settings = CatalogueSettings {
            moderation: true,
            ..CatalogueSettings::default()
        };
        let app =
            TestApp::with_catalogue(backend, settings, Arc::new(peps_store::notify::LogNotifier))
                .await;
        let cast = Cast::new(&app).await;
        let member = &cast.member_x.1;
        let (id, _) = create(&app, member, cast.org_x.0, "Atelier numérique").await;
        let path = format!("/api/v1/offers/{id}");
        let (_, submitted) = post(&app, Some(member), &format!("{path}/publish"), None).await;
        assert_eq!(submitted["status"], "pending_review");
        assert_eq!(get(&app, None, &path).await.0, 404);
        assert!(search_titles(&app.client, "atelier").await.is_empty());
        let (_, queue) = get(&app, Some(&cast.admin.1), "/api/v1/catalogue/review-queue").await;
        assert_eq!(queue.as_array().unwrap().len(), 1);
        // The member cannot approve their own offer.
        assert_eq!(
            post(&app, Some(member), &format!("{path}/approve"), None)
                .await
                .0,
            403
        );

        let no_reason = app
            .client
            .post(format!("{path}/reject"))
            .header("authorization", format!("Bearer {}", cast.admin.1))
            .body_json(&json!({"reason": "  "}))
            .send()
            .await;
        assert_eq!(
            status_json(no_reason).await.1["code"],
            "offer.review.reason_required"
        );
        let rejected = app
            .client
            .post(format!("{path}/reject"))
            .header("authorization", format!("Bearer {}", cast.admin.1))
            .body_json(&json!({"reason": "Précisez les horaires."}))
            .send()
            .await;
        assert_eq!(status_json(rejected).await.1["status"], "draft");
        let (_, seen) = get(&app, Some(member), &path).await;
        assert_eq!(seen["review"]["reason"], "Précisez les horaires.");
        assert_eq!(seen["review"]["approved"], false);

        post(&app, Some(member), &format!("{path}/publish"), None).await;
        let (status, approved) =
            post(&app, Some(&cast.admin.1), &format!("{path}/approve"), None).await;
        assert_eq!(
            (status, approved["status"].as_str()),
            (200, Some("published"))
        );
        assert_eq!(
            search_titles(&app.client, "atelier").await,
            ["Atelier numérique"]
        );
        assert!(
            get(&app, None, &path).await.1["review"].is_null(),
            "moderation notes are not public"
        );
    }
}

#[tokio::test]
async fn stale_offers_are_flagged_reminded_once_and_never_hidden() {
    for backend in backends() {
        let (url, inbox) = smtp_sink().await;
        let notifier =
            peps_store::notify::notifier_from_url(&url, "PEPS <no-reply@peps.test>").unwrap();
        let app = TestApp::with_catalogue(backend, CatalogueSettings::default(), notifier).await;
        let cast = Cast::new(&app).await;
        let member = &cast.member_x.1;
        let (id, _) = create(&app, member, cast.org_x.0, "Épicerie solidaire").await;
        let path = format!("/api/v1/offers/{id}");
        post(&app, Some(member), &format!("{path}/publish"), None).await;
        assert_eq!(
            get(&app, None, &path).await.1["freshness"]["state"],
            "fresh"
        );

        // Monthly updates: after 40 days it is due, flagged to its organisation and the admin.
        app.clock.advance(Duration::days(40));
        // Sessions do not last 40 days.
        let member = &app.login("member.x@test.peps").await;
        let admin = app.login("admin@test.peps").await;
        let (_, overdue) = get(
            &app,
            Some(member),
            &format!("/api/v1/organisations/{}/overdue-offers", cast.org_x.0),
        )
        .await;
        assert_eq!(overdue.as_array().unwrap().len(), 1);
        assert_eq!(overdue[0]["freshness"]["state"], "due");
        let (_, all) = get(&app, Some(&admin), "/api/v1/catalogue/overdue-offers").await;
        assert_eq!(all.as_array().unwrap().len(), 1);
        assert!(get(&app, None, &path).await.1["freshness"]["notice"].is_null());

        let first = app.state.catalogue.remind().await.unwrap();
        assert_eq!(
            (first.offers_due, first.reminded, first.messages_queued),
            (1, 1, 1)
        );
        let second = app.state.catalogue.remind().await.unwrap();
        assert_eq!(
            (
                second.reminded,
                second.already_reminded,
                second.messages_queued
            ),
            (0, 1, 0)
        );
        assert_eq!(app.deliver().await.sent, 1);
        let messages = inbox.lock().unwrap().clone();
        assert_eq!(messages.len(), 1);
        assert!(
            messages[0].contains("member.x@test.peps"),
            "{}",
            messages[0]
        );

        // Past the 30-day grace: readers are told, and the offer is still found.
        app.clock.advance(Duration::days(31));
        let (_, read) = get(&app, None, &path).await;
        assert_eq!(read["freshness"]["state"], "unverified");
        assert!(
            read["freshness"]["notice"]
                .as_str()
                .unwrap()
                .contains("vérifiées")
        );
        assert_eq!(search_titles(&app.client, "epicerie").await.len(), 1);

        // The offerer confirms: fresh again, and a later verification date is a new reminder.
        let member = &app.login("member.x@test.peps").await;
        let (_, verified) = post(&app, Some(member), &format!("{path}/verify"), None).await;
        assert_eq!(verified["freshness"]["state"], "fresh");
    }
}

#[tokio::test]
async fn profiles_and_reference_lists() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let path = format!("/api/v1/organisations/{}/profile", cast.org_x.0);
        let (_, empty) = get(&app, None, &path).await;
        assert_eq!(empty["version"], 0);
        // Not written yet: no version to edit, so no ETag.
        assert_eq!(etag(&app.client.get(&path).send().await), "");
        let body = json!({"description": "Association d'entraide.", "networks": ["france-service"],
                          "opening_hours": "mo-fr 9h-12h"});
        let put = |token: String, if_match: Option<&'static str>| {
            let mut req = app
                .client
                .put(&path)
                .header("authorization", format!("Bearer {token}"));
            if let Some(v) = if_match {
                req = req.header("if-match", v);
            }
            req.body_json(&body).send()
        };
        let first = put(cast.member_x.1.clone(), None).await;
        assert_eq!(etag(&first), "\"1\"");
        let (status, profile) = status_json(first).await;
        assert_eq!(status, 200, "{profile}");
        assert_eq!(profile["profile"]["opening_hours"], "Mo-Fr 09:00-12:00");
        assert_eq!(
            status_json(put(cast.member_x.1.clone(), Some("\"1\"")).await)
                .await
                .1["version"],
            2
        );
        for stale in ["\"1\"", "*"] {
            let (status, problem) =
                status_json(put(cast.member_x.1.clone(), Some(stale)).await).await;
            assert_eq!(
                (status, problem["code"].as_str()),
                (412, Some("organisation.profile.version_conflict")),
                "{stale}"
            );
        }
        assert_eq!(etag(&app.client.get(&path).send().await), "\"2\"");
        assert_eq!(
            status_json(put(cast.member_y.1.clone(), Some("\"2\"")).await)
                .await
                .0,
            403
        );
        let (_, public) = get(&app, None, &path).await;
        assert_eq!(public["networks"][0]["label"], "France Service");

        let (status, lists) = get(&app, None, "/api/v1/reference-lists?lang=ar").await;
        assert_eq!(status, 200);
        let themes = &lists["lists"][0];
        assert_eq!(themes["list"], "themes");
        assert_eq!(themes["values"][0]["label_language"], "ar");
        let topics = lists["lists"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["list"] == "topics")
            .unwrap();
        assert_eq!(topics["values"].as_array().unwrap().len(), 69);
        assert_eq!(get(&app, None, "/api/v1/reference-lists/nope").await.0, 404);
    }
}

/// A real server on 127.0.0.1:0: the public search answers over TCP.
#[tokio::test]
async fn search_over_a_real_socket() {
    let app = TestApp::new(peps_store::testing::TestBackend::Sqlite).await;
    let cast = Cast::new(&app).await;
    let (id, _) = create(&app, &cast.member_x.1, cast.org_x.0, "Aide alimentaire").await;
    post(
        &app,
        Some(&cast.member_x.1),
        &format!("/api/v1/offers/{id}/publish"),
        None,
    )
    .await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(peps_http::serve_tcp(listener, app.state.clone(), async {
        let _ = stopped.await;
    }));
    let body: Value = reqwest::get(format!(
        "http://{addr}/api/v1/offers?q=alimentaire&lat=47.8&lon=3.57&radius_km=5"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(body["total"], 1);
    assert_eq!(body["sort"], "relevance");
    assert!(body["hits"][0]["distance_km"].as_f64().unwrap() < 1.0);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn readers_get_current_translations_with_provenance_and_the_original() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let member = &cast.member_x.1;
        let mut body = offer_body("Aide au logement");
        body["translations"] = json!({
            "ar": {"title": "مساعدة في السكن", "provenance": "machine"},
            "en": {"title": "Help with housing", "summary": "Finding a home.", "provenance": "human_reviewed"}
        });
        let resp = app
            .client
            .post(format!("/api/v1/organisations/{}/offers", cast.org_x.0))
            .header("authorization", format!("Bearer {member}"))
            .body_json(&body)
            .send()
            .await;
        let (status, created) = status_json(resp).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        post(
            &app,
            Some(member),
            &format!("/api/v1/offers/{id}/publish"),
            None,
        )
        .await;
        let path = format!("/api/v1/offers/{id}");

        let (_, arabic) = get(&app, None, &format!("{path}?lang=ar")).await;
        assert_eq!(arabic["display"]["title"], "مساعدة في السكن");
        assert_eq!(arabic["display"]["provenance"], "machine");
        assert_eq!(arabic["display"]["direction"], "rtl");
        assert_eq!(arabic["display"]["fallback"], false);
        // The French original is one step away, in the content.
        assert_eq!(arabic["content"]["title"], "Aide au logement");
        let english = app
            .client
            .get(&path)
            .header("accept-language", "en-GB,en;q=0.9")
            .send()
            .await;
        let (_, english) = status_json(english).await;
        assert_eq!(english["display"]["title"], "Help with housing");
        assert_eq!(english["display"]["provenance"], "human_reviewed");
        let (_, spanish) = get(&app, None, &format!("{path}?lang=es")).await;
        assert_eq!(spanish["display"]["fallback"], true);
        assert_eq!(spanish["display"]["language"], "fr");

        // The French changes: translations made from the old text are no longer served.
        let mut edited = english["content"].clone();
        edited["description"] =
            json!("Permanence du CCAS, sur rendez-vous : aide aux demandes de logement.");
        let resp = app
            .client
            .put(&path)
            .header("authorization", format!("Bearer {member}"))
            .header("if-match", format!("\"{}\"", english["version"]))
            .body_json(&edited)
            .send()
            .await;
        assert_eq!(status_json(resp).await.0, 200);
        let (_, stale) = get(&app, None, &format!("{path}?lang=en")).await;
        assert_eq!(stale["display"]["fallback"], true);
        assert_eq!(stale["display"]["title"], "Aide au logement");
    }
}

/// Places as people name them: communes by name or postcode anywhere in France, départements
/// by name, and an offer reserved to an EPCI's inhabitants found from a commune of that EPCI.
#[tokio::test]
async fn communes_and_departements_by_name_and_epci_eligibility() {
    let communes = peps_core::places::communes();
    let auxerre_epci = communes
        .epci_of("89024")
        .expect("Auxerre belongs to an EPCI");
    // Another commune of the same EPCI, and one outside it.
    let neighbour = ["89068", "89013", "89295", "89388"]
        .into_iter()
        .find(|c| communes.epci_of(c) == Some(auxerre_epci))
        .map(|c| communes.get(c).unwrap().name.clone())
        .expect("a neighbour in Auxerre's EPCI");
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let member = &cast.member_x.1;
        let mut body = offer_body("Permanence de l'agglomération");
        body["eligibility_zone"] = json!([auxerre_epci]);
        let resp = app
            .client
            .post(format!("/api/v1/organisations/{}/offers", cast.org_x.0))
            .header("authorization", format!("Bearer {member}"))
            .body_json(&body)
            .send()
            .await;
        let (status, created) = status_json(resp).await;
        assert_eq!(status, 201, "{created}");
        publish(&app, member, created["id"].as_str().unwrap()).await;

        let total = |query: String| {
            let app = &app;
            async move {
                let (key, value) = query.split_once('=').unwrap();
                let resp = app
                    .client
                    .get("/api/v1/offers")
                    .query(key, &value)
                    .send()
                    .await;
                let (status, body) = status_json(resp).await;
                (status, body["total"].as_u64().unwrap_or(0), body)
            }
        };
        for place in ["Auxerre", "auxerre", "89000", "89024", "Auxerre (89)"] {
            let (status, n, body) = total(format!("commune={place}")).await;
            assert_eq!((status, n), (200, 1), "{backend:?} commune={place}: {body}");
        }
        for place in ["Sens", "st florentin", "89100"] {
            let (status, n, _) = total(format!("commune={place}")).await;
            assert_eq!((status, n), (200, 0), "commune={place}");
        }
        for departement in ["89", "Yonne", "yonne"] {
            let (status, n, _) = total(format!("departement={departement}")).await;
            assert_eq!((status, n), (200, 1), "departement={departement}");
        }
        // Eligibility: the EPCI's communes, by code or by name; not Sens.
        for (commune, eligible) in [("89024", 1), (neighbour.as_str(), 1), ("Sens", 0)] {
            let (status, n, body) = total(format!("eligible_commune={commune}")).await;
            assert_eq!(
                (status, n),
                (200, eligible),
                "eligible_commune={commune}: {body}"
            );
        }
        // What is no place says so, by field.
        let (status, _, problem) = total("commune=Atlantide".to_owned()).await;
        assert_eq!(status, 422, "{problem}");
        assert!(
            problem.to_string().contains("search.commune.unknown"),
            "{problem}"
        );
        let (status, _, problem) = total("departement=Gondwana".to_owned()).await;
        assert_eq!(status, 422, "{problem}");
        assert!(
            problem.to_string().contains("search.departement.invalid"),
            "{problem}"
        );
    }
}

/// A person types "housing" in their own language: the French offer is found through its
/// topic, the JSON says so, and the page says so in the reader's language; a word no offer
/// holds is left out and named.
#[tokio::test]
async fn words_in_other_languages_find_french_offers_and_say_how() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let member = &cast.member_x.1;
        let (id, _) = create(&app, member, cast.org_x.0, "Permanence du CCAS").await;
        publish(&app, member, &id).await;
        for (lang, word) in [
            ("ar", "سكن"),
            ("uk", "житло"),
            ("en", "housing"),
            ("ps", "کور"),
        ] {
            let resp = app
                .client
                .get("/api/v1/offers")
                .query("q", &format!("{word} zqxwv"))
                .query("lang", &lang)
                .send()
                .await;
            let (status, body) = status_json(resp).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["total"], 1, "{backend:?} {lang} «{word}»: {body}");
            let matched = &body["hits"][0]["matched"][0];
            assert!(
                matched["topic"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("logement-hebergement")),
                "{body}"
            );
            assert!(!matched["label"].as_str().unwrap_or("").is_empty());
            assert_eq!(body["ignored_words"], json!(["zqxwv"]));

            let resp = app
                .client
                .get(format!("/{lang}/search"))
                .query("q", &format!("{word} zqxwv"))
                .send()
                .await;
            let (status, _, html) = super::web::text(resp).await;
            assert_eq!(status, 200);
            assert!(html.contains("Permanence du CCAS"), "{lang}");
            let says = peps_core::i18n::text("web.results.matched", lang);
            let says = says.split("%{").next().unwrap();
            assert!(html.contains(says), "{lang}: the page says how it matched");
            assert!(
                html.contains("<bdi>zqxwv</bdi>"),
                "{lang}: the ignored word is named"
            );
        }
    }
}
