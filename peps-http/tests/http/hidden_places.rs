//! Places that must stay hidden (a shelter for women victims of violence): their street and
//! coordinates reach workers, admins and the organisation's own members, and no public
//! output — the offer in JSON and HTML, search results and their distances, the
//! organisation's offers and profile, plans, open data in JSON and CSV — on SQLite and
//! PostgreSQL.

use serde_json::{Value, json};

use super::support::*;
use super::web::text;

const STREET: &str = "12 rue des Glycines";
const COMPLEMENT: &str = "Bâtiment B, digicode";
/// Distinctive coordinates, 1.6 km from Auxerre's centre.
const LATITUDE: &str = "47.81234";
const LONGITUDE: &str = "3.58765";

fn shelter(title: &str, confidential: bool) -> Value {
    json!({
        "title": title,
        "summary": "Un hébergement sécurisé pour les femmes victimes de violences et leurs enfants.",
        "description": "Accueil en urgence, de jour comme de nuit, par le 115. Une équipe accompagne les démarches.",
        "theme": "ville-du-quotidien",
        "topics": ["logement-hebergement--rechercher-une-solution-dhebergement-temporaire"],
        "audiences": ["femmes"],
        "cost": "gratuit",
        "reception_modes": ["en-presentiel"],
        "locations": [{"address": STREET, "address_complement": COMPLEMENT,
                        "commune": "Auxerre", "commune_code": "89024", "postcode": "89000",
                        "latitude": 47.81234, "longitude": 3.58765}],
        "opening_hours": "Mo-Su 00:00-24:00",
        "contact": {"phone": "03 86 00 00 00"},
        "confidential_address": confidential
    })
}

async fn call(
    app: &TestApp,
    method: &str,
    token: Option<&str>,
    path: &str,
    body: Option<Value>,
) -> (u16, String) {
    let mut req = match method {
        "POST" => app.client.post(path),
        "PUT" => app.client.put(path),
        _ => app.client.get(path),
    };
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req.body_json(&b);
    }
    let resp = req.send().await;
    let status = resp.0.status().as_u16();
    let body = resp.0.into_body().into_string().await.unwrap();
    assert_ne!(status, 500, "{method} {path}: {body}");
    (status, body)
}

async fn publish(app: &TestApp, member: &str, org: uuid::Uuid, body: Value) -> String {
    let (status, created) = call(
        app,
        "POST",
        Some(member),
        &format!("/api/v1/organisations/{org}/offers"),
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = serde_json::from_str::<Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, published) = call(
        app,
        "POST",
        Some(member),
        &format!("/api/v1/offers/{id}/publish"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{published}");
    id
}

/// Neither the street, its complement nor the coordinates (at any precision down to 3
/// decimals, about 100 m) are in `body`.
fn assert_hidden(what: &str, body: &str) {
    for secret in [STREET, COMPLEMENT, "47.812", "3.587", "Glycines"] {
        assert!(
            !body.contains(secret),
            "{what} gives away {secret:?}: {body}"
        );
    }
}

fn assert_shown(what: &str, body: &str) {
    assert!(
        body.contains(STREET),
        "{what} should show the street: {body}"
    );
    assert!(
        body.contains(LATITUDE) && body.contains(LONGITUDE),
        "{what}: {body}"
    );
}

#[tokio::test]
async fn a_confidential_address_reaches_no_public_output() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let member = cast.member_x.1.clone();
        let org = cast.org_x.0;
        let id = publish(&app, &member, org, shelter("Hébergement pour femmes", true)).await;
        let offer_path = format!("/api/v1/offers/{id}");

        // The offer itself: professionals who orient people there see it, nobody else.
        let readers: [(&str, Option<&str>, bool); 8] = [
            ("anonymous", None, false),
            ("person", Some(&cast.person_p.1), false),
            ("other person", Some(&cast.person_q.1), false),
            ("helper", Some(&cast.helper.1), false),
            ("other organisation's member", Some(&cast.member_y.1), false),
            ("worker", Some(&cast.worker_a.1), true),
            ("member", Some(&member), true),
            ("admin", Some(&cast.admin.1), true),
        ];
        for (who, token, sees) in readers {
            let (status, body) = call(&app, "GET", token, &offer_path, None).await;
            assert_eq!(status, 200, "{who}: {body}");
            if sees {
                assert_shown(&format!("{backend:?} {who}"), &body);
            } else {
                assert_hidden(&format!("{backend:?} {who}"), &body);
                assert!(
                    body.contains("Auxerre") && body.contains("89000"),
                    "{who}: {body}"
                );
            }
            let (status, body) = call(
                &app,
                "GET",
                token,
                &format!("/api/v1/organisations/{org}/offers"),
                None,
            )
            .await;
            assert_eq!(status, 200, "{who}: {body}");
            if !sees {
                assert_hidden(&format!("{backend:?} {who}: organisation's offers"), &body);
            }
        }

        // Search, by text and near the exact point: the distance is the commune's, and the
        // result is the same whether one stands on the shelter's doorstep or not.
        let centre = peps_core::places::communes()
            .centre("89024")
            .expect("Auxerre is placed");
        for token in [None, Some(cast.worker_a.1.as_str())] {
            let (status, body) = call(
                &app,
                "GET",
                token,
                "/api/v1/offers?q=hebergement%20femmes",
                None,
            )
            .await;
            assert_eq!(status, 200, "{body}");
            assert!(body.contains("Hébergement pour femmes"), "{body}");
            assert_hidden("search by text", &body);
            let near =
                format!("/api/v1/offers?lat={LATITUDE}&lon={LONGITUDE}&radius_km=5&sort=distance");
            let (status, body) = call(&app, "GET", token, &near, None).await;
            assert_eq!(status, 200, "{body}");
            assert_hidden("search near the point", &body.replace(&near, ""));
            let hits: Value = serde_json::from_str(&body).unwrap();
            let hit = hits["hits"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h["id"] == id.as_str())
                .expect("found near its commune");
            assert_eq!(hit["confidential_address"], true);
            let from_point =
                peps_core::catalogue::search::geo::LocalDistance::around((47.81234, 3.58765))
                    .distance_km(centre);
            let shown = hit["distance_km"].as_f64().unwrap();
            assert!(
                (shown - from_point).abs() < 0.02,
                "distance {shown} should be to the commune's centre ({from_point:.2} km)"
            );
        }

        // The pages, in French and Arabic.
        for lang in ["fr", "ar"] {
            let (status, _, html) =
                text(app.client.get(format!("/{lang}/offers/{id}")).send().await).await;
            assert_eq!(status, 200);
            assert_hidden(&format!("{lang} offer page"), &html);
            let notice = peps_core::i18n::text("web.offer.address_withheld", lang);
            assert!(html.contains(&notice), "{lang}: the page says why");
            let (status, _, html) = text(
                app.client
                    .get(format!("/{lang}/search"))
                    .query("q", &"hebergement")
                    .query("commune", &"Auxerre")
                    .send()
                    .await,
            )
            .await;
            assert_eq!(status, 200);
            assert!(html.contains("Hébergement pour femmes"), "{lang}");
            assert_hidden(&format!("{lang} search page"), &html);
        }

        // Open data, every file.
        for file in [
            "services.json",
            "services.csv",
            "structures.json",
            "structures.csv",
        ] {
            let (status, body) = call(&app, "GET", None, &format!("/opendata/{file}"), None).await;
            assert_eq!(status, 200, "{file}");
            assert_hidden(file, &body);
        }
        let (_, services) = call(&app, "GET", None, "/opendata/services.json", None).await;
        assert!(
            services.contains(&id) && services.contains("89024"),
            "the offer is there, by commune"
        );

        // A plan that sends the person there.
        let p = cast.person_p.0;
        let (status, plan) = call(
            &app,
            "POST",
            Some(&cast.worker_a.1),
            &format!("/api/v1/persons/{p}/plans"),
            Some(json!({"title": "Se mettre à l'abri"})),
        )
        .await;
        assert_eq!(status, 201, "{plan}");
        let plan: Value = serde_json::from_str(&plan).unwrap();
        let plan_path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
        let (status, added) = call(
            &app,
            "POST",
            Some(&cast.worker_a.1),
            &format!("{plan_path}/steps"),
            Some(json!({"title": "Appeler l'accueil", "orientation": {"offer_id": id}})),
        )
        .await;
        assert_eq!(status, 201, "{added}");
        for token in [&cast.person_p.1, &cast.worker_a.1] {
            let (status, read) = call(&app, "GET", Some(token), &plan_path, None).await;
            assert_eq!(status, 200, "{read}");
            assert!(read.contains("Hébergement pour femmes"), "{read}");
            assert_hidden("plan", &read);
        }
    }
}

#[tokio::test]
async fn a_confidential_organisation_hides_its_address_and_all_its_offers() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let member = cast.member_x.1.clone();
        let org = cast.org_x.0;
        let before = publish(&app, &member, org, shelter("Accueil de nuit", false)).await;
        let (_, body) = call(&app, "GET", None, &format!("/api/v1/offers/{before}"), None).await;
        assert_shown("a public address", &body);

        let profile_path = format!("/api/v1/organisations/{org}/profile");
        let profile = json!({
            "description": "Association d'aide aux femmes victimes de violences.",
            "address": {"address": STREET, "address_complement": COMPLEMENT,
                        "commune": "Auxerre", "commune_code": "89024", "postcode": "89000",
                        "latitude": 47.81234, "longitude": 3.58765},
            "confidential_address": true
        });
        let (status, saved) = call(&app, "PUT", Some(&member), &profile_path, Some(profile)).await;
        assert!(matches!(status, 200 | 201), "{saved}");

        // The profile: the commune for the public, everything for the organisation.
        for (who, token, sees) in [
            ("anonymous", None, false),
            (
                "other organisation's member",
                Some(cast.member_y.1.as_str()),
                false,
            ),
            ("person", Some(cast.person_p.1.as_str()), false),
            ("member", Some(member.as_str()), true),
            ("admin", Some(cast.admin.1.as_str()), true),
        ] {
            let (status, body) = call(&app, "GET", token, &profile_path, None).await;
            assert_eq!(status, 200, "{who}");
            if sees {
                assert_shown(&format!("{backend:?} {who}: profile"), &body);
            } else {
                assert_hidden(&format!("{backend:?} {who}: profile"), &body);
                assert!(body.contains("Auxerre"), "{who}: {body}");
            }
        }

        // The offer published before turned confidential with the profile, in the same write.
        let (_, body) = call(&app, "GET", None, &format!("/api/v1/offers/{before}"), None).await;
        assert_hidden("an offer published before", &body);
        let (_, body) = call(
            &app,
            "GET",
            Some(&member),
            &format!("/api/v1/offers/{before}"),
            None,
        )
        .await;
        assert!(body.contains("\"confidential_address\":true"), "{body}");
        let (_, history) = call(
            &app,
            "GET",
            Some(&member),
            &format!("/api/v1/offers/{before}/history"),
            None,
        )
        .await;
        assert!(
            history.contains("confidential_address"),
            "the change is in the history: {history}"
        );

        // A new offer cannot be public while its organisation is confidential.
        let after = publish(&app, &member, org, shelter("Permanence d'écoute", false)).await;
        let (_, body) = call(&app, "GET", None, &format!("/api/v1/offers/{after}"), None).await;
        assert_hidden("an offer created after", &body);

        for file in [
            "services.json",
            "services.csv",
            "structures.json",
            "structures.csv",
        ] {
            let (status, body) = call(&app, "GET", None, &format!("/opendata/{file}"), None).await;
            assert_eq!(status, 200, "{file}");
            assert_hidden(file, &body);
        }
    }
}
