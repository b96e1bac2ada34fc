//! Step templates over HTTP: public, in the reader's language with direction and provenance,
//! the French original and the easy-to-read French beside it, and a visible fallback.

use poem::EndpointExt;
use poem::test::TestClient;
use serde_json::Value;
use std::sync::Arc;

use super::support::*;
use peps_core::plans::TemplateLibrary;

async fn get(
    client: &TestClient<poem::endpoint::BoxEndpoint<'static>>,
    path: &str,
) -> (u16, Value) {
    status_json(client.get(path).send().await).await
}

#[tokio::test]
async fn anyone_reads_templates_in_their_language() {
    let app = TestApp::new(backends()[0]).await;
    let (status, list) = get(&app.client, "/api/v1/step-templates?lang=ar").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["language"], "ar");
    let templates = list["templates"].as_array().unwrap();
    assert!(templates.len() >= 20);
    let rsa = templates
        .iter()
        .find(|t| t["id"] == "demander-le-rsa")
        .unwrap();
    assert_eq!(rsa["text"]["language"], "ar");
    assert_eq!(rsa["text"]["direction"], "rtl");
    assert_eq!(rsa["text"]["provenance"], "machine");
    assert_eq!(rsa["text"]["fallback"], false);
    assert_eq!(rsa["french"]["language"], "fr");
    assert_eq!(rsa["french"]["provenance"], "original");
    assert_eq!(rsa["easy_french"]["language"], "fr-x-falc");
    assert_eq!(
        rsa["text"]["tasks"].as_array().unwrap().len(),
        rsa["french"]["tasks"].as_array().unwrap().len()
    );
    assert!(
        rsa["documents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "identity")
    );

    // Tigrinya, by Accept-Language this time; one template by id.
    let resp = app
        .client
        .get("/api/v1/step-templates/demander-un-logement-social")
        .header("accept-language", "ti, fr;q=0.5")
        .send()
        .await;
    let (status, one) = status_json(resp).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["text"]["language"], "ti");
    assert_eq!(one["text"]["direction"], "ltr");

    // In French: no duplicate of the original.
    let (_, one) = get(
        &app.client,
        "/api/v1/step-templates/demander-le-rsa?lang=fr",
    )
    .await;
    assert_eq!(one["text"]["provenance"], "original");
    assert!(one["french"].is_null());

    let (status, problem) = get(&app.client, "/api/v1/step-templates/pas-un-modele").await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("resource.not_found"))
    );
    let (status, _) = get(&app.client, "/api/v1/step-templates?lang=xx").await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn a_local_template_without_a_translation_falls_back_to_french_visibly() {
    let app = TestApp::new(backends()[0]).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("texts")).unwrap();
    std::fs::write(
        dir.path().join("templates.yml"),
        "templates:\n  - id: carte-mobilite-yonne\n    who_acts: person\n    documents: [identity]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("texts/fr.yml"),
        "language: fr\nprovenance: original\ntemplates:\n  carte-mobilite-yonne:\n    title: \"Demander la carte mobilité\"\n    explanation: \"Une carte pour voyager moins cher dans l’Yonne.\"\n    tasks: [\"Remplir le formulaire\", \"Le déposer à la mairie\"]\n",
    )
    .unwrap();
    let state = peps_http::AppState {
        plans: Arc::new(app.plans_with(TemplateLibrary::with_overrides(dir.path()).unwrap())),
        ..app.state.clone()
    };
    let client = TestClient::new(peps_http::routes(state).boxed());
    let (status, one) = get(
        &client,
        "/api/v1/step-templates/carte-mobilite-yonne?lang=ps",
    )
    .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["text"]["language"], "fr");
    assert_eq!(one["text"]["fallback"], true);
    assert_eq!(one["text"]["direction"], "ltr");
    assert!(one["easy_french"].is_null());
}
