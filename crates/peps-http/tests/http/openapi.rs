//! The OpenAPI document: committed copy up to date, valid OpenAPI 3, and every route in it.

use serde_json::Value;

use crate::support::*;

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

/// Run with PEPS_UPDATE_OPENAPI=1 to rewrite docs/openapi.json after an API change.
#[test]
fn committed_openapi_is_current() {
    let generated = peps_http::openapi_json();
    let path = committed_path();
    if std::env::var_os("PEPS_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, format!("{generated}\n")).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        committed.trim_end(),
        generated.trim_end(),
        "docs/openapi.json is stale: run `PEPS_UPDATE_OPENAPI=1 cargo test -p peps-http --test http openapi`"
    );
}

#[test]
fn openapi_is_a_valid_openapi_3_document() {
    let doc: Value = serde_json::from_str(&peps_http::openapi_json()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["title"], "PEPS API");
    let spec: openapiv3::OpenAPI =
        serde_json::from_value(doc.clone()).expect("parses as OpenAPI 3");
    assert!(
        spec.components
            .as_ref()
            .unwrap()
            .security_schemes
            .contains_key("BearerAuth")
    );
    for (path, item) in &spec.paths.paths {
        let item = item.as_item().unwrap();
        for (method, op) in item.iter() {
            assert!(
                !op.responses.responses.is_empty(),
                "{method} {path} documents no response"
            );
            if path.starts_with("/api/v1/") && op.security.is_some() {
                assert!(
                    op.responses
                        .responses
                        .contains_key(&openapiv3::StatusCode::Code(401)),
                    "{method} {path} does not document 401"
                );
            }
        }
    }
}

/// Every documented operation is routed, and the routes outside the document are only the
/// document itself and its viewer.
#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_exists() {
    let app = TestApp::new(peps_store::testing::TestBackend::Sqlite).await;
    let doc: Value = serde_json::from_str(&peps_http::openapi_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 20);
    for (path, item) in paths {
        let concrete = path
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    "00000000-0000-0000-0000-000000000000"
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            let req = match method.as_str() {
                "get" => app.client.get(&concrete),
                "post" => app.client.post(&concrete),
                "put" => app.client.put(&concrete),
                "patch" => app.client.patch(&concrete),
                "delete" => app.client.delete(&concrete),
                other => panic!("undocumented method kind {other}"),
            };
            let (status, body) = status_json(req.send().await).await;
            assert!(
                body["code"] != "route.not_found" && status != 405,
                "{method} {path} is documented but not routed ({status} {body})"
            );
        }
    }
    // Outside the document: only /openapi.json and /docs.
    app.client
        .get("/openapi.json")
        .send()
        .await
        .assert_status_is_ok();
    app.client.get("/docs").send().await.assert_status_is_ok();
    let (_, body) = status_json(app.client.get("/api/v1/undocumented").send().await).await;
    assert_eq!(body["code"], "route.not_found");
}
