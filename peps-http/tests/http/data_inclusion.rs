//! data·inclusion over HTTP: open data files validated against the real v1 JSON Schemas, with
//! cache validators and gzip; admins' import jobs, and who may start and follow them. On
//! SQLite and PostgreSQL.

use poem::test::{TestForm, TestFormField};
use serde_json::{Value, json};
use std::io::Read;

use super::support::*;

fn validator(file: &str) -> jsonschema::Validator {
    let path = format!(
        "{}/../peps-core/data/catalogue/data-inclusion-v1/schema/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn offer_body(title: &str) -> Value {
    json!({
        "title": title,
        "summary": "Des colis chaque semaine.",
        "description": "Distribution de colis alimentaires aux familles du quartier.",
        "theme": "ville-du-quotidien",
        "topics": ["equipement-et-alimentation--alimentation"],
        "audiences": ["familles"],
        "cost": "gratuit",
        "reception_modes": ["en-presentiel"],
        "locations": [{"address": "2 rue de la Gare", "commune": "Auxerre",
                       "commune_code": "89024", "postcode": "89000",
                       "latitude": 47.7996, "longitude": 3.5703}],
        "opening_hours": "Mo-Fr 09:00-12:00",
        "contact": {"email": "contact@epicerie.example.org", "phone": "01 99 00 12 34"},
        "professional_contact": {"name": "Mme Martin", "phone": "01 99 00 12 35"},
        "update_frequency_months": 6
    })
}

/// Creates and publishes an offer as member X; returns its id.
async fn published_offer(app: &TestApp, cast: &Cast, title: &str) -> String {
    let member = &cast.member_x.1;
    let resp = app
        .client
        .post(format!("/api/v1/organisations/{}/offers", cast.org_x.0))
        .header("authorization", format!("Bearer {member}"))
        .body_json(&offer_body(title))
        .send()
        .await;
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let resp = app
        .client
        .post(format!("/api/v1/offers/{id}/publish"))
        .header("authorization", format!("Bearer {member}"))
        .header("if-match", "\"1\"")
        .send()
        .await;
    assert_eq!(resp.0.status().as_u16(), 200);
    id
}

async fn get_raw(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, poem::http::HeaderMap, Vec<u8>) {
    let mut req = app.client.get(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await;
    let status = resp.0.status().as_u16();
    let headers = resp.0.headers().clone();
    let body = resp.0.into_body().into_vec().await.unwrap();
    (status, headers, body)
}

#[tokio::test]
async fn open_data_follows_the_v1_schema_with_cache_validators_and_gzip() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let id = published_offer(&app, &cast, "Épicerie solidaire d’Auxerre").await;
        published_offer(&app, &cast, "Colis alimentaires, Sens").await;
        // A draft is never open data.
        let member = &cast.member_x.1;
        let draft = app
            .client
            .post(format!("/api/v1/organisations/{}/offers", cast.org_x.0))
            .header("authorization", format!("Bearer {member}"))
            .body_json(&offer_body("Brouillon jamais publié"))
            .send()
            .await;
        assert_eq!(draft.0.status().as_u16(), 201);

        let (status, headers, body) = get_raw(&app, "/opendata/services.json", &[]).await;
        assert_eq!(status, 200, "{backend:?}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        assert_eq!(headers["access-control-allow-origin"], "*");
        let services: Vec<Value> = serde_json::from_slice(&body).unwrap();
        assert_eq!(services.len(), 2);
        let schema = validator("service.json");
        for s in &services {
            let errors: Vec<String> = schema.iter_errors(s).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{errors:?}\n{s:#}");
            assert_eq!(s["source"], "peps-89");
            assert_eq!(s["structure_id"], cast.org_x.0.to_string());
            assert!(
                s.get("contact_nom_prenom").is_none(),
                "personal data exported: {s}"
            );
        }
        let ours = services.iter().find(|s| s["id"] == id.as_str()).unwrap();
        assert_eq!(
            ours["lien_source"],
            format!("https://peps.example.org/api/v1/offers/{id}")
        );
        assert!(!String::from_utf8_lossy(&body).contains("Mme Martin"));

        let (status, _, body) = get_raw(&app, "/opendata/structures.json", &[]).await;
        assert_eq!(status, 200);
        let structures: Vec<Value> = serde_json::from_slice(&body).unwrap();
        let schema = validator("structure.json");
        assert!(
            structures
                .iter()
                .any(|s| s["id"] == cast.org_x.0.to_string())
        );
        for s in &structures {
            assert!(schema.is_valid(s), "{s:#}");
        }

        // CSV: the schema's columns, one row per service.
        let (status, headers, body) = get_raw(&app, "/opendata/services.csv", &[]).await;
        assert_eq!(status, 200);
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let text = String::from_utf8(body).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert!(reader.headers().unwrap().iter().any(|h| h == "thematiques"));
        assert_eq!(reader.records().count(), 2);

        // Validators: an unchanged catalogue answers 304; a change moves the ETag.
        let etag = headers["etag"].to_str().unwrap().to_owned();
        let last_modified = headers["last-modified"].to_str().unwrap().to_owned();
        let (status, _, body) =
            get_raw(&app, "/opendata/services.csv", &[("if-none-match", &etag)]).await;
        assert_eq!((status, body.len()), (304, 0));
        let (status, _, _) = get_raw(
            &app,
            "/opendata/services.csv",
            &[("if-modified-since", &last_modified)],
        )
        .await;
        assert_eq!(status, 304);
        app.clock.advance(chrono::Duration::minutes(5));
        published_offer(&app, &cast, "Vestiaire solidaire, Joigny").await;
        let (status, headers, _) =
            get_raw(&app, "/opendata/services.csv", &[("if-none-match", &etag)]).await;
        assert_eq!(status, 200);
        assert_ne!(headers["etag"].to_str().unwrap(), etag);

        // gzip on request, the same document once inflated.
        let (status, headers, body) = get_raw(
            &app,
            "/opendata/services.json",
            &[("accept-encoding", "gzip")],
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-encoding"], "gzip");
        let mut inflated = String::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_string(&mut inflated)
            .unwrap();
        let services: Vec<Value> = serde_json::from_str(&inflated).unwrap();
        assert_eq!(services.len(), 3);

        let (status, _, _) = get_raw(&app, "/opendata/offers.json", &[]).await;
        assert_eq!(status, 404);
    }
}

fn extract() -> (String, String) {
    let structures = [
        json!({"source": "dora", "id": "s1", "nom": "Épicerie sociale de Sens", "date_maj": "2026-10-01",
               "code_insee": "89387", "code_postal": "89100", "commune": "Sens",
               "adresse": "3 rue de la République"}),
        json!({"source": "dora", "id": "s2", "nom": "CCAS de Nevers", "date_maj": "2026-10-01",
               "code_insee": "58194"}),
    ];
    let service = |id: &str, structure: &str| {
        json!({"source": "dora", "id": id, "structure_id": structure,
               "nom": format!("Aide alimentaire {id}"),
               "description": "Colis alimentaires chaque semaine, sur orientation.",
               "date_maj": "2026-10-02", "thematiques": ["equipement-et-alimentation--alimentation"],
               "modes_accueil": ["en-presentiel"],
               "lien_source": format!("https://dora.example.org/services/{id}")})
    };
    let mut bad = service("bad", "s1");
    bad["frais"] = json!("hors-de-prix");
    let services = [
        service("a", "s1"),
        service("b", "s1"),
        service("c", "s2"),
        bad,
    ];
    let lines = |records: &[Value]| records.iter().map(|r| format!("{r}\n")).collect::<String>();
    (lines(&structures), lines(&services))
}

fn import_form(structures: &str, services: &str) -> TestForm {
    import_form_in(structures, services, "89")
}

fn import_form_in(structures: &str, services: &str, departement: &str) -> TestForm {
    TestForm::new()
        .field(
            TestFormField::bytes(structures.as_bytes().to_vec())
                .name("structures")
                .filename("structures.jsonl"),
        )
        .field(
            TestFormField::bytes(services.as_bytes().to_vec())
                .name("services")
                .filename("services.jsonl"),
        )
        .text("departement", departement)
}

async fn wait_for(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..200 {
        let resp = app
            .client
            .get(format!("/api/v1/admin/imports/{id}"))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await;
        let (status, job) = status_json(resp).await;
        assert_eq!(status, 200, "{job}");
        if job["status"] != "queued" && job["status"] != "running" {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import job {id} did not finish");
}

#[tokio::test]
async fn an_admin_imports_an_extract_in_the_background() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let (structures, services) = extract();
        let admin = &cast.admin.1;
        let resp = app
            .client
            .post("/api/v1/admin/imports")
            .header("authorization", format!("Bearer {admin}"))
            .multipart(import_form(&structures, &services))
            .send()
            .await;
        let (status, job) = status_json(resp).await;
        assert_eq!(status, 202, "{backend:?} {job}");
        let id = job["id"].as_str().unwrap().to_owned();
        let job = wait_for(&app, admin, &id).await;
        assert_eq!(job["status"], "succeeded", "{job:#}");
        let summary = &job["details"]["summary"];
        // s2 (Nièvre) and its service are outside the Yonne.
        assert_eq!(summary["structures"]["created"], 1, "{job:#}");
        assert_eq!(summary["structures"]["out_of_area"], 1);
        assert_eq!(summary["services"]["created"], 2);
        assert_eq!(
            summary["services"]["rejected"], 2,
            "bad frais, and c's structure was left out"
        );

        let resp = app
            .client
            .get(job["report_url"].as_str().unwrap())
            .header("authorization", format!("Bearer {admin}"))
            .send()
            .await;
        assert_eq!(resp.0.status().as_u16(), 200);
        let report = String::from_utf8(resp.0.into_body().into_vec().await.unwrap()).unwrap();
        let lines: Vec<Value> = report
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(
            lines
                .iter()
                .any(|l| l["id"] == "bad" && l["field"] == "frais" && l["code"] == "v1.enum")
        );
        assert!(
            lines
                .iter()
                .any(|l| l["id"] == "c" && l["code"] == "import.structure_unknown")
        );

        // Readers see imported offers, with where they come from.
        let resp = app
            .client
            .get("/api/v1/offers?q=aide%20alimentaire")
            .send()
            .await;
        let (status, page) = status_json(resp).await;
        assert_eq!(status, 200);
        let items = page["hits"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{page:#}");
        let offer_id = items[0]["id"].as_str().unwrap();
        let (status, offer) = status_json(
            app.client
                .get(format!("/api/v1/offers/{offer_id}"))
                .send()
                .await,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(offer["origin"]["source"], "dora", "{offer:#}");
        assert!(
            offer["origin"]["link"]
                .as_str()
                .unwrap()
                .starts_with("https://dora.example.org/services/")
        );

        // The same extract again: nothing changes.
        let resp = app
            .client
            .post("/api/v1/admin/imports")
            .header("authorization", format!("Bearer {admin}"))
            .multipart(import_form(&structures, &services))
            .send()
            .await;
        let (_, job) = status_json(resp).await;
        let job = wait_for(&app, admin, job["id"].as_str().unwrap()).await;
        assert_eq!(
            job["details"]["summary"]["services"]["unchanged"], 2,
            "{job:#}"
        );
        assert_eq!(job["details"]["summary"]["services"]["created"], 0);
    }
}

#[tokio::test]
async fn only_admins_start_and_follow_imports() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let (structures, services) = extract();
        let admin = cast.admin.1.clone();
        let resp = app
            .client
            .post("/api/v1/admin/imports")
            .header("authorization", format!("Bearer {admin}"))
            .multipart(import_form(&structures, &services))
            .send()
            .await;
        let (_, job) = status_json(resp).await;
        let id = job["id"].as_str().unwrap().to_owned();
        wait_for(&app, &admin, &id).await;

        let others = [
            ("person", Some(cast.person_p.1.clone())),
            ("another person", Some(cast.person_q.1.clone())),
            ("worker", Some(cast.worker_a.1.clone())),
            (
                "another organisation's worker",
                Some(cast.worker_b.1.clone()),
            ),
            ("member", Some(cast.member_x.1.clone())),
            (
                "another organisation's member",
                Some(cast.member_y.1.clone()),
            ),
            ("helper", Some(cast.helper.1.clone())),
        ];
        for (who, token) in others.iter().cloned().chain([("anonymous", None)]) {
            let expected = if token.is_some() { 403 } else { 401 };
            fn auth<'a, E: poem::Endpoint>(
                req: poem::test::TestRequestBuilder<'a, E>,
                token: &Option<String>,
            ) -> poem::test::TestRequestBuilder<'a, E> {
                match token {
                    Some(t) => req.header("authorization", format!("Bearer {t}")),
                    None => req,
                }
            }
            let resp = auth(app.client.post("/api/v1/admin/imports"), &token)
                .multipart(import_form(&structures, &services))
                .send()
                .await;
            assert_eq!(resp.0.status().as_u16(), expected, "{who} starts an import");
            for path in [
                format!("/api/v1/admin/imports/{id}"),
                format!("/api/v1/admin/imports/{id}/report"),
            ] {
                let resp = auth(app.client.get(&path), &token).send().await;
                assert_eq!(resp.0.status().as_u16(), expected, "{who} GET {path}");
            }
        }

        // Bad requests are explained.
        let resp = app
            .client
            .post("/api/v1/admin/imports")
            .header("authorization", format!("Bearer {admin}"))
            .multipart(TestForm::new().text("departement", "89"))
            .send()
            .await;
        let (status, problem) = status_json(resp).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("import.files_missing"))
        );
        let resp = app
            .client
            .post("/api/v1/admin/imports")
            .header("authorization", format!("Bearer {admin}"))
            .multipart(import_form_in(&structures, &services, "Yonne"))
            .send()
            .await;
        let (status, problem) = status_json(resp).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("import.departement.invalid")),
            "{problem}"
        );
        let resp = app
            .client
            .get(format!("/api/v1/admin/imports/{}", uuid::Uuid::new_v4()))
            .header("authorization", format!("Bearer {admin}"))
            .send()
            .await;
        assert_eq!(resp.0.status().as_u16(), 404);
    }
}

#[tokio::test]
async fn uploads_over_the_limit_are_refused() {
    for backend in backends() {
        let settings = peps_http::HttpSettings {
            max_upload_bytes: 1_000,
            ..peps_http::HttpSettings::default()
        };
        let app = TestApp::with_settings(backend, settings).await;
        let cast = Cast::new(&app).await;
        let big = "x".repeat(5_000);
        let resp = app
            .client
            .post("/api/v1/admin/imports")
            .header("authorization", format!("Bearer {}", cast.admin.1))
            .multipart(import_form(&big, &big))
            .send()
            .await;
        let status = resp.0.status().as_u16();
        assert!(status == 413 || status == 400, "{status}");
    }
}
