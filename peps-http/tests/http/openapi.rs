//! The OpenAPI document: committed copy up to date, valid OpenAPI 3, and every route in it.

use serde_json::Value;

use crate::support::*;

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

/// Run with PEPS_UPDATE_OPENAPI=1 to rewrite docs/openapi.json after an API change.
#[test]
fn committed_openapi_is_current() {
    let generated = peps_http::openapi_json();
    let path = committed_path();
    if std::env::var_os("PEPS_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, format!("{generated}\n")).unwrap();
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
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

/// Every route the server answers is in the document (walking the routing table the server is
/// built from), the document has one entry per path (a path declared by two API structs used to
/// appear twice, and readers kept only the last), and the only routes outside it are the
/// document itself and its viewer.
#[test]
fn every_served_route_is_documented() {
    let text = peps_http::openapi_json();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let entries = text
        .lines()
        .filter(|l| l.starts_with("    \"/") && l.ends_with("\": {"))
        .count();
    assert_eq!(entries, paths.len(), "a path appears twice in the document");
    // The routing table names parameters `param0`, `param1`…: compare shapes.
    let shape = |path: &str| {
        path.split('/')
            .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
    };
    let documented: std::collections::HashSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            let path = shape(path);
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let mut outside = Vec::new();
    let served = peps_http::served_routes();
    assert!(served.len() >= documented.len());
    for (method, path) in served {
        if method == "*" {
            outside.push(path);
            continue;
        }
        assert!(
            documented.contains(&(method.clone(), shape(&path))),
            "{method} {path} is served but not in the OpenAPI document"
        );
    }
    assert_eq!(outside, ["/docs", "/openapi.json"]);
    for path in [
        "/api/v1/offers/{id}",
        "/api/v1/organisations/{id}/offers",
        "/api/v1/organisations/{id}/profile",
    ] {
        assert!(paths[path].get("get").is_some(), "GET {path} is missing");
    }
    for file in ["structures", "services"] {
        for format in ["json", "csv"] {
            assert!(
                paths[&format!("/opendata/{file}.{format}")]
                    .get("get")
                    .is_some()
            );
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

/// The generator the contract test uses, pinned in .ci/run.
const GENERATOR: &str = "openapi-python-client";
const GENERATOR_PIN: &str = "openapi-python-client==0.29.1";

fn on_path(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// A client generated from the document by a third-party generator (openapi-python-client, from
/// PyPI) reads a real server on 127.0.0.1:0: the languages, a login, one offer (the operation
/// the document used to lose) and the account. The generator must read every schema: one it
/// drops is an object a client cannot receive. Without the tool the test says so loudly and
/// passes, except under CI (`CI` set), where it is required.
#[tokio::test]
async fn a_generated_client_reads_the_api() {
    let Some(generator) = on_path(GENERATOR) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{GENERATOR} is required under CI: pip install {GENERATOR_PIN} (see .ci/run)"
        );
        eprintln!(
            "\n*** SKIPPED a_generated_client_reads_the_api: {GENERATOR} is not on PATH \
             (pip install {GENERATOR_PIN}); CI requires it. ***\n"
        );
        return;
    };
    // The interpreter beside the generator has the generated client's libraries (httpx, attrs).
    let python = ["python3", "python"]
        .iter()
        .map(|name| generator.with_file_name(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| "python3".into());

    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("openapi.json");
    std::fs::write(&doc, peps_http::openapi_json()).unwrap();
    let generated = std::process::Command::new(&generator)
        .arg("generate")
        .arg("--path")
        .arg(&doc)
        .args(["--meta", "none", "--output-path"])
        .arg(dir.path().join("peps_client"))
        .output()
        .expect("the generator runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&generated.stdout),
        String::from_utf8_lossy(&generated.stderr)
    );
    assert!(generated.status.success(), "{GENERATOR} failed:\n{report}");
    for refusal in ["Unable to process schema", "will not be generated"] {
        assert!(
            !report.contains(refusal),
            "{GENERATOR} could not read all of the document:\n{report}"
        );
    }

    let app = TestApp::new(peps_store::testing::TestBackend::Sqlite).await;
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
    app.provision(peps_core::domain::Role::Member, "member@test.peps", &[org])
        .await;
    let token = app.login("member@test.peps").await;
    let (offer, _) = crate::catalogue::create(&app, &token, org.0, "Aide alimentaire").await;

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(peps_http::serve_tcp(listener, app.state.clone(), async {
        let _ = stopped.await;
    }));
    let script = r#"
import os, sys, uuid
sys.path.insert(0, os.environ["CLIENT_DIR"])
from peps_client import AuthenticatedClient, Client
from peps_client.api.auth import get_api_v1_me, post_api_v1_auth_login
from peps_client.api.catalogue import get_api_v1_offers_id
from peps_client.api.system import get_api_v1_languages
from peps_client.models import LoginRequest

url = os.environ["PEPS_URL"]
anonymous = Client(base_url=url, raise_on_unexpected_status=True)
languages = get_api_v1_languages.sync(client=anonymous)
assert any(l.code == "ar" for l in languages), languages
session = post_api_v1_auth_login.sync(
    client=anonymous,
    body=LoginRequest.from_dict({"email": os.environ["LOGIN"], "password": os.environ["PASSWORD"]}),
)
signed_in = AuthenticatedClient(base_url=url, token=session.token, raise_on_unexpected_status=True)
me = get_api_v1_me.sync(client=signed_in)
assert me.email == os.environ["LOGIN"], me
offer = get_api_v1_offers_id.sync(client=signed_in, id=uuid.UUID(os.environ["OFFER_ID"]))
print(offer.display.title)
"#;
    let mut command = std::process::Command::new(&python);
    command
        .args(["-c", script])
        .env("CLIENT_DIR", dir.path())
        .env("PEPS_URL", format!("http://{addr}"))
        .env("LOGIN", "member@test.peps")
        .env("PASSWORD", PASSWORD)
        .env("OFFER_ID", &offer);
    let run = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("python runs");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    assert!(
        run.status.success(),
        "the generated client failed:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        "Aide alimentaire"
    );
}
