//! The document wallet over a real server on 127.0.0.1:0, on SQLite and PostgreSQL, with the
//! folder blob store and the S3 one (s3s-fs in process): uploads sealed under fresh keys,
//! downloads refused when tampered with or when a share ended, dangerous files refused by
//! content, the person's access log, requests answered in one action, export and erasure.

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::support::*;
use peps_core::domain::{MandateScope, Role};
use peps_core::policy::Actor;
use peps_core::services::{NewMandate, WalletSettings};
use peps_core::wallet::ports::BlobStore;
use peps_store::testing::TestBackend;
use peps_store::testing_s3::{BUCKET, S3TestServer};

/// A real server on 127.0.0.1:0 for one app; stops when dropped.
pub struct Served {
    pub base: String,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn serve(app: &TestApp) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(peps_http::serve_tcp(
        listener,
        app.state.clone(),
        std::future::pending(),
    ));
    Served { base, task }
}

/// Where blobs land, to look at them raw.
pub enum Blobs {
    Folder,
    S3(S3TestServer),
}

impl Blobs {
    pub async fn app(&self, backend: TestBackend, settings: WalletSettings) -> TestApp {
        let blobs: Option<Arc<dyn BlobStore>> = match self {
            Blobs::Folder => None,
            Blobs::S3(server) => Some(server.blob_store().await),
        };
        TestApp::with_wallet(
            backend,
            WalletOptions {
                blobs,
                settings,
                ..WalletOptions::default()
            },
        )
        .await
    }

    /// Every stored file of the store, raw (what a thief of the disk or bucket would get).
    pub fn raw_files(&self, app: &TestApp) -> Vec<PathBuf> {
        let root = match self {
            Blobs::Folder => app.wallet_dir.path().join("blobs").join("blobs"),
            Blobs::S3(server) => server.root().join(BUCKET),
        };
        let mut out = Vec::new();
        walk(&root, &mut out);
        out.sort();
        out
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            out.push(path);
        }
    }
}

/// Both blob stores, each on every database backend.
pub async fn stores() -> Vec<(TestBackend, Blobs)> {
    let mut all = Vec::new();
    for backend in backends() {
        all.push((backend, Blobs::Folder));
        all.push((backend, Blobs::S3(S3TestServer::start().await)));
    }
    all
}

/// A PDF-looking file of `len` bytes carrying `marker` in clear.
pub fn pdf(len: usize, marker: &str) -> Vec<u8> {
    let mut bytes = format!("%PDF-1.7\n% {marker}\n").into_bytes();
    let mut x: u32 = len as u32 ^ 0x9e37_79b9;
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.push((x >> 24) as u8);
    }
    bytes.truncate(len.max(20));
    bytes
}

pub struct Http {
    pub base: String,
    pub client: reqwest::Client,
}

impl Http {
    pub fn new(served: &Served) -> Self {
        Self {
            base: served.base.clone(),
            client: reqwest::Client::new(),
        }
    }

    pub async fn upload(
        &self,
        token: &str,
        person: impl std::fmt::Display,
        query: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> (u16, Value) {
        let resp = self
            .client
            .post(format!(
                "{}/api/v1/persons/{person}/documents?{query}",
                self.base
            ))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn bytes(
        &self,
        token: &str,
        path: &str,
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (
            status,
            headers,
            resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
        )
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, body, _) = self.send_tagged(method, token, path, None, body).await;
        (status, body)
    }

    /// A request with `If-Match` when given: the status, the body and the `ETag` answered.
    pub async fn send_tagged(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        if_match: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value, Option<String>) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(version) = if_match {
            req = req.header("if-match", version);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let etag = resp
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, resp.json().await.unwrap_or(Value::Null), etag)
    }
}

/// A wallet app on a real server, its cast, and a client.
pub struct Scene {
    pub app: TestApp,
    pub cast: Cast,
    pub served: Served,
    pub http: Http,
}

pub async fn scene(app: TestApp) -> Scene {
    let cast = Cast::new(&app).await;
    let served = serve(&app);
    let http = Http::new(&served);
    Scene {
        app,
        cast,
        served,
        http,
    }
}

fn file_url(document: &Value, page: usize) -> String {
    document["pages"][page]["download_url"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn papers_are_sealed_shared_on_the_persons_terms_and_every_access_is_logged() {
    for (backend, blobs) in stores().await {
        let Scene {
            app,
            cast,
            served: _served,
            http,
        } = scene(blobs.app(backend, WalletSettings::default()).await).await;
        let (p, p_token) = &cast.person_p;
        let (worker, w_token) = &cast.worker_a;

        // The person uploads an identity card, twice the same file (a second copy).
        let card = pdf(300_000, "CARTE-IDENTITE-MARIE-DUPONT");
        let (status, doc) = http
            .upload(
                p_token,
                p,
                "kind=identity&title=Carte%20d%27identit%C3%A9&valid_until=2031-05-01",
                card.clone(),
                "application/pdf",
            )
            .await;
        assert_eq!(status, 201, "{doc}");
        assert_eq!(doc["kind"]["code"], "identity");
        assert_eq!(doc["pages"][0]["media_type"], "application/pdf");
        assert_eq!(doc["pages"][0]["size"], 300_000);
        assert_eq!(doc["expiry"], "valid");
        let (status, copy) = http
            .upload(
                p_token,
                p,
                "kind=identity",
                card.clone(),
                "application/octet-stream",
            )
            .await;
        assert_eq!(status, 201, "{copy}");
        assert_eq!(doc["pages"][0]["sha256"], copy["pages"][0]["sha256"]);

        // At rest: two blobs, different ciphertext, no plaintext anywhere.
        let raw = blobs.raw_files(&app);
        assert_eq!(raw.len(), 2, "{raw:?}");
        let (a, b) = (
            std::fs::read(&raw[0]).unwrap(),
            std::fs::read(&raw[1]).unwrap(),
        );
        assert_ne!(a, b, "same file, same ciphertext");
        for blob in [&a, &b] {
            assert!(
                !blob
                    .windows(27)
                    .any(|w| w == b"CARTE-IDENTITE-MARIE-DUPONT")
            );
            assert!(!blob.windows(5).any(|w| w == b"%PDF-"));
        }

        // Download: the same bytes, as an attachment that browsers must not sniff.
        let (status, headers, bytes) = http.bytes(p_token, &file_url(&doc, 0)).await;
        assert_eq!(status, 200);
        assert_eq!(bytes, card);
        assert!(
            headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["content-type"], "application/pdf");

        // The referent has no access before the person consents: as if nothing existed.
        let doc_path = format!("/api/v1/documents/{}", doc["id"].as_str().unwrap());
        let (s, b) = http
            .get(w_token, &format!("/api/v1/persons/{p}/documents"))
            .await;
        assert_eq!(s, 404, "{b}");
        assert_eq!(http.get(w_token, &doc_path).await.0, 404);
        assert_eq!(http.bytes(w_token, &file_url(&doc, 0)).await.0, 404);

        // A share of identity papers, read-only, ending in 10 days.
        let ends_at = app.clock.now_plus(Duration::days(10));
        let (status, grant) = http
            .send(reqwest::Method::POST, p_token, &format!("/api/v1/persons/{p}/grants"),
                Some(json!({"worker_id": worker, "kinds": ["identity"], "access": "read", "ends_at": ends_at})))
            .await;
        assert_eq!(status, 201, "{grant}");
        let (status, listed) = http
            .get(w_token, &format!("/api/v1/persons/{p}/documents"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(listed.as_array().unwrap().len(), 2);
        let (status, _, bytes) = http.bytes(w_token, &file_url(&doc, 0)).await;
        assert_eq!((status, bytes == card), (200, true));
        // Read-only: no upload (and told so, since the worker sees the wallet).
        let (status, _) = http
            .upload(w_token, p, "kind=identity", card.clone(), "application/pdf")
            .await;
        assert_eq!(status, 403);

        // The share ends: refused at once (no cached link keeps working).
        app.clock.advance(Duration::days(11));
        let w_token = &app.login("worker.a@test.peps").await;
        let p_token = &app.login("person.p@test.peps").await;
        assert_eq!(http.bytes(w_token, &file_url(&doc, 0)).await.0, 404);
        assert_eq!(http.get(w_token, &doc_path).await.0, 404);

        // A new share, revoked: refused at once.
        let (_, grant) = http
            .send(
                reqwest::Method::POST,
                p_token,
                &format!("/api/v1/persons/{p}/grants"),
                Some(json!({"worker_id": worker, "access": "read_upload"})),
            )
            .await;
        assert_eq!(http.bytes(w_token, &file_url(&doc, 0)).await.0, 200);
        let (status, revoked) = http
            .send(
                reqwest::Method::DELETE,
                p_token,
                &format!("/api/v1/grants/{}", grant["id"].as_str().unwrap()),
                None,
            )
            .await;
        assert_eq!((status, revoked["active"].as_bool()), (200, Some(false)));
        assert_eq!(http.bytes(w_token, &file_url(&doc, 0)).await.0, 404);

        // The person sees who looked at what, as what, from where.
        let (status, log) = http
            .get(p_token, &format!("/api/v1/persons/{p}/wallet/log"))
            .await;
        assert_eq!(status, 200, "{log}");
        let lines = log.as_array().unwrap();
        let by_worker: Vec<&str> = lines
            .iter()
            .filter(|l| l["actor_id"] == json!(worker))
            .map(|l| l["action"].as_str().unwrap())
            .collect();
        assert_eq!(by_worker, ["downloaded", "downloaded", "listed"], "{log}");
        let download = lines
            .iter()
            .find(|l| l["actor_id"] == json!(worker))
            .unwrap();
        assert_eq!(download["actor_role"], "worker");
        assert_eq!(download["actor_name"], "Test worker.a@test.peps");
        assert_eq!(download["ip"], "127.0.0.1");
        assert_eq!(download["kind"]["code"], "identity");
        let own: Vec<&str> = lines
            .iter()
            .filter(|l| l["actor_id"] == json!(p))
            .map(|l| l["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            own,
            [
                "revoked",
                "shared",
                "shared",
                "downloaded",
                "uploaded",
                "uploaded"
            ]
        );
        // Only the person reads the log.
        assert_eq!(
            http.get(w_token, &format!("/api/v1/persons/{p}/wallet/log"))
                .await
                .0,
            404
        );

        // Deleting removes it for everyone at once: former URLs fail, blobs are gone.
        let (status, _) = http
            .send(reqwest::Method::DELETE, p_token, &doc_path, None)
            .await;
        assert_eq!(status, 204);
        assert_eq!(http.bytes(p_token, &file_url(&doc, 0)).await.0, 404);
        assert_eq!(blobs.raw_files(&app).len(), 1);
    }
}

/// The wallet service of `app` with other key-encryption keys (a key file of `lines`).
fn wallet_with_keys(app: &TestApp, lines: &str) -> Arc<peps_core::services::Wallet> {
    let keys = Arc::new(peps_core::wallet::keyring::KeyRing::parse(lines).unwrap());
    Arc::new(peps_core::services::Wallet::new(
        peps_core::services::WalletPorts::from_store(
            app.shared.clone(),
            app.blobs.clone(),
            keys,
            None,
        ),
        peps_core::services::Notices::new(app.shared.clone(), app.clock.clone()),
        app.clock.clone(),
        WalletSettings::default(),
    ))
}

/// The person, calling the service directly; and the ids of a document's first page.
fn as_person(person: peps_core::domain::AccountId) -> peps_core::services::Caller {
    peps_core::services::Caller {
        actor: Actor {
            account: person,
            role: Role::Person,
            organisations: vec![],
        },
        ip: None,
    }
}

fn first_page(
    doc: &Value,
) -> (
    peps_core::domain::DocumentId,
    peps_core::domain::DocumentFileId,
) {
    let id = |v: &Value| v.as_str().unwrap().parse().unwrap();
    (
        peps_core::domain::DocumentId(id(&doc["id"])),
        peps_core::domain::DocumentFileId(id(&doc["pages"][0]["id"])),
    )
}

#[tokio::test]
async fn a_flipped_byte_or_a_missing_key_is_refused_never_sent() {
    for (backend, blobs) in stores().await {
        let Scene {
            app,
            cast,
            served: _served,
            http,
        } = scene(blobs.app(backend, WalletSettings::default()).await).await;
        let (p, token) = &cast.person_p;
        let original = pdf(200_000, "AVIS-IMPOSITION");
        let (_, doc) = http
            .upload(
                token,
                p,
                "kind=tax_notice",
                original.clone(),
                "application/pdf",
            )
            .await;
        let raw = blobs.raw_files(&app);
        assert_eq!(raw.len(), 1);
        let mut bytes = std::fs::read(&raw[0]).unwrap();
        bytes[150_000] ^= 0x01;
        std::fs::write(&raw[0], &bytes).unwrap();
        let (status, headers, body) = http.bytes(token, &file_url(&doc, 0)).await;
        assert_eq!(status, 500);
        assert_eq!(headers["content-type"], "application/problem+json");
        let problem: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["code"], "document.integrity_failed");
        assert!(!body.windows(15).any(|w| w == b"AVIS-IMPOSITION"));

        // The database and the blobs without the key: a wallet with another key opens nothing.
        bytes[150_000] ^= 0x01;
        std::fs::write(&raw[0], &bytes).unwrap();
        assert_eq!(http.bytes(token, &file_url(&doc, 0)).await.0, 200);
        let other = wallet_with_keys(
            &app,
            &peps_core::wallet::keyring::KeyRing::generate_line(&"test-1".parse().unwrap()),
        );
        let (id, file) = first_page(&doc);
        let err = other
            .download(&as_person(*p), id, file)
            .await
            .err()
            .unwrap();
        assert_eq!(err.code(), "document.key_invalid");
    }
}

#[tokio::test]
async fn active_content_is_refused_by_its_bytes_whatever_its_name_and_nothing_is_left() {
    for (backend, blobs) in stores().await {
        let Scene {
            app,
            cast,
            served: _served,
            http,
        } = scene(blobs.app(backend, WalletSettings::default()).await).await;
        let (p, token) = &cast.person_p;
        let svg = b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>fetch('//evil')</script></svg>".to_vec();
        let html =
            b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
                .to_vec();
        for (body, content_type, code) in [
            (svg, "image/svg+xml", "document.type.svg"),
            (html.clone(), "application/pdf", "document.type.html"),
            (
                b"#!/bin/sh\necho".to_vec(),
                "application/pdf",
                "document.type.script",
            ),
            (
                b"MZ\x90\x00\x03\x00\x00\x00".to_vec(),
                "image/jpeg",
                "document.type.executable",
            ),
            (
                b"PK\x03\x04 a zip".to_vec(),
                "application/pdf",
                "document.type.unknown",
            ),
        ] {
            let (status, problem) = http
                .upload(
                    token,
                    p,
                    "kind=identity&title=facture.pdf",
                    body,
                    content_type,
                )
                .await;
            assert_eq!(
                (status, problem["code"].as_str()),
                (415, Some(code)),
                "{content_type} {problem}"
            );
        }
        let (status, problem) = http
            .upload(token, p, "kind=identity", Vec::new(), "application/pdf")
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("document.file.empty"))
        );
        let (status, problem) = http
            .upload(token, p, "kind=selfie", pdf(1000, "x"), "application/pdf")
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("document.kind.unknown"))
        );
        // A French reader gets French.
        let resp = http
            .client
            .post(format!(
                "{}/api/v1/persons/{p}/documents?kind=identity",
                http.base
            ))
            .bearer_auth(token)
            .header("accept-language", "fr")
            .body(html)
            .send()
            .await
            .unwrap();
        let problem: Value = resp.json().await.unwrap();
        assert!(
            problem["title"].as_str().unwrap().contains("page web"),
            "{problem}"
        );
        // No record, no blob, no partial upload.
        let (_, listed) = http
            .get(token, &format!("/api/v1/persons/{p}/documents"))
            .await;
        assert_eq!(listed, json!([]));
        assert!(blobs.raw_files(&app).is_empty());
        assert_eq!(app.blobs.list().await.unwrap().len(), 0);
        if matches!(blobs, Blobs::Folder) {
            let partial = app.wallet_dir.path().join("blobs").join("partial");
            assert_eq!(std::fs::read_dir(partial).unwrap().count(), 0);
        }
    }
}

#[tokio::test]
async fn size_limit_and_quota_stop_an_upload_midway_and_leave_nothing() {
    for (backend, blobs) in stores().await {
        let settings = WalletSettings {
            max_file_size: 1_000_000,
            quota: 1_500_000,
            ..WalletSettings::default()
        };
        let Scene {
            app,
            cast,
            served: _served,
            http,
        } = scene(blobs.app(backend, settings).await).await;
        let (p, token) = &cast.person_p;
        let (status, problem) = http
            .upload(
                token,
                p,
                "kind=payslips",
                pdf(1_000_001, "x"),
                "application/pdf",
            )
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (413, Some("document.file.too_large")),
            "{problem}"
        );
        let (status, _) = http
            .upload(
                token,
                p,
                "kind=payslips",
                pdf(1_000_000, "x"),
                "application/pdf",
            )
            .await;
        assert_eq!(status, 201);
        let (status, problem) = http
            .upload(
                token,
                p,
                "kind=payslips",
                pdf(600_000, "y"),
                "application/pdf",
            )
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (413, Some("wallet.quota_exceeded")),
            "{problem}"
        );
        let (_, listed) = http
            .get(token, &format!("/api/v1/persons/{p}/documents"))
            .await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert_eq!(blobs.raw_files(&app).len(), 1);
        assert_eq!(app.blobs.list().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn pages_versions_edits_and_the_referents_consent() {
    for backend in backends() {
        let blobs = Blobs::Folder;
        let Scene {
            app,
            cast,
            served: _served,
            http,
        } = scene(blobs.app(backend, WalletSettings::default()).await).await;
        let (p, p_token) = &cast.person_p;
        let (_, w_token) = &cast.worker_a;
        let soon = {
            use peps_core::clock::Clock;
            (app.clock.now() + Duration::days(20)).date_naive()
        };
        let (_, doc) = http
            .upload(
                p_token,
                p,
                &format!("kind=residence_permit&valid_until={soon}"),
                pdf(5000, "recto"),
                "application/pdf",
            )
            .await;
        assert_eq!(doc["expiry"], "expires_soon");
        let id = doc["id"].as_str().unwrap();
        let resp = http
            .client
            .post(format!("{}/api/v1/documents/{id}/pages", http.base))
            .bearer_auth(p_token)
            .body(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR verso".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201);
        let two: Value = resp.json().await.unwrap();
        assert_eq!(two["pages"].as_array().unwrap().len(), 2);
        assert_eq!(two["pages"][1]["media_type"], "image/png");
        let resp = http
            .client
            .post(format!(
                "{}/api/v1/documents/{id}/pages?new_version=true",
                http.base
            ))
            .bearer_auth(p_token)
            .body(pdf(4000, "renouvele"))
            .send()
            .await
            .unwrap();
        let renewed: Value = resp.json().await.unwrap();
        assert_eq!(renewed["current_version"], 2);
        assert_eq!(renewed["pages"].as_array().unwrap().len(), 1);
        assert_eq!(renewed["older_versions"].as_array().unwrap().len(), 2);
        // Edit with the revision read (in If-Match); a stale one is refused.
        let rev = renewed["revision"].as_i64().unwrap();
        let path = format!("/api/v1/documents/{id}");
        let (status, edited, tag) = http
            .send_tagged(
                reqwest::Method::PATCH,
                p_token,
                &path,
                Some(&format!("\"{rev}\"")),
                Some(json!({"valid_until": "2031-01-01", "title": "Titre de séjour"})),
            )
            .await;
        assert_eq!(status, 200, "{edited}");
        assert_eq!(edited["expiry"], "valid");
        assert_eq!(tag, Some(format!("\"{}\"", rev + 1)));
        let (status, problem, _) = http
            .send_tagged(
                reqwest::Method::PATCH,
                p_token,
                &path,
                Some(&format!("\"{rev}\"")),
                Some(json!({"title": "x"})),
            )
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (412, Some("document.revision_changed"))
        );
        let (status, problem, _) = http
            .send_tagged(
                reqwest::Method::PATCH,
                p_token,
                &path,
                Some(&format!("\"{}\"", rev + 1)),
                Some(json!({"issued_on": "2032-01-01"})),
            )
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("document.date.before_issue"))
        );

        // Consent: the referent sees and adds, then does not once it is withdrawn.
        let consent = format!("/api/v1/persons/{p}/wallet/referent-consent");
        let (_, before) = http.get(p_token, &consent).await;
        assert_eq!(
            before,
            json!({"given": null, "at": null, "referent_has_access": false})
        );
        let (status, given) = http
            .send(
                reqwest::Method::PUT,
                p_token,
                &consent,
                Some(json!({"given": true})),
            )
            .await;
        assert_eq!(
            (status, given["referent_has_access"].as_bool()),
            (200, Some(true))
        );
        assert_eq!(http.get(w_token, &path).await.0, 200);
        // The referent scans a paper at the counter: the person sees who added it.
        let (status, scanned) = http
            .upload(
                w_token,
                p,
                "kind=proof_of_address",
                pdf(3000, "quittance"),
                "application/pdf",
            )
            .await;
        assert_eq!(status, 201, "{scanned}");
        assert_eq!(scanned["created_by"]["role"], "worker");
        // Only the person edits or deletes; the referent knows the document exists: 403.
        let scanned_path = format!("/api/v1/documents/{}", scanned["id"].as_str().unwrap());
        assert_eq!(
            http.send(reqwest::Method::DELETE, w_token, &scanned_path, None)
                .await
                .0,
            403
        );
        http.send(
            reqwest::Method::PUT,
            p_token,
            &consent,
            Some(json!({"given": false})),
        )
        .await;
        assert_eq!(http.get(w_token, &path).await.0, 404);
        let (_, log) = http
            .get(p_token, &format!("/api/v1/persons/{p}/wallet/log"))
            .await;
        let actions: Vec<&str> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["action"].as_str().unwrap())
            .take(3)
            .collect();
        assert_eq!(actions, ["consent_withdrawn", "uploaded", "viewed"]);
    }
}

/// Documents follow the offers' style: the upload, a page, a read and an edit answer the
/// document's `revision` as `ETag`; an edit sends it back in `If-Match`. Without it, 428
/// `document.revision_required`; stale or not a version, 412 `document.revision_changed` and
/// nothing written. A `revision` left in the body is an unknown field: ignored.
#[tokio::test]
async fn a_document_is_edited_with_if_match() {
    for backend in backends() {
        let Scene {
            app: _app,
            cast,
            served: _served,
            http,
        } = scene(Blobs::Folder.app(backend, WalletSettings::default()).await).await;
        let (p, p_token) = &cast.person_p;
        let resp = http
            .client
            .post(format!(
                "{}/api/v1/persons/{p}/documents?kind=identity",
                http.base
            ))
            .bearer_auth(p_token)
            .header("content-type", "application/pdf")
            .body(pdf(3000, "recto"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201);
        assert_eq!(resp.headers()["etag"], "\"1\"");
        let doc: Value = resp.json().await.unwrap();
        assert_eq!(doc["revision"], 1);
        let path = format!("/api/v1/documents/{}", doc["id"].as_str().unwrap());
        let (status, _, tag) = http
            .send_tagged(reqwest::Method::GET, p_token, &path, None, None)
            .await;
        assert_eq!((status, tag.as_deref()), (200, Some("\"1\"")));

        // No If-Match: 428 with a stable, translated code; a body revision changes nothing.
        for body in [
            json!({"title": "Carte d'identité"}),
            json!({"revision": 1, "title": "Carte d'identité"}),
        ] {
            let (status, problem, _) = http
                .send_tagged(reqwest::Method::PATCH, p_token, &path, None, Some(body))
                .await;
            assert_eq!(
                (status, problem["code"].as_str()),
                (428, Some("document.revision_required")),
                "{problem}"
            );
            assert_eq!(
                problem["title"],
                peps_core::i18n::error_message("document.revision_required", "fr")
            );
        }
        // The revision read: 200 and the new one as ETag, in each accepted spelling.
        for (if_match, title, new) in [
            ("\"1\"", "Carte d'identité", 2),
            ("W/\"2\"", "Carte d'identité de Paul", 3),
            ("3", "CNI", 4),
        ] {
            let (status, edited, tag) = http
                .send_tagged(
                    reqwest::Method::PATCH,
                    p_token,
                    &path,
                    Some(if_match),
                    Some(json!({"title": title})),
                )
                .await;
            let expected = format!("\"{new}\"");
            assert_eq!(
                (status, tag.as_deref()),
                (200, Some(expected.as_str())),
                "{if_match}: {edited}"
            );
            assert_eq!(
                (&edited["revision"], &edited["title"]),
                (&json!(new), &json!(title))
            );
        }
        // A stale revision, or something that is not one: 412, nothing written.
        for if_match in ["\"3\"", "\"1\"", "*", "\"quatre\""] {
            let (status, problem, _) = http
                .send_tagged(
                    reqwest::Method::PATCH,
                    p_token,
                    &path,
                    Some(if_match),
                    Some(json!({"title": "Écrasement"})),
                )
                .await;
            assert_eq!(
                (status, problem["code"].as_str()),
                (412, Some("document.revision_changed")),
                "{if_match}: {problem}"
            );
        }
        let (_, read, tag) = http
            .send_tagged(reqwest::Method::GET, p_token, &path, None, None)
            .await;
        assert_eq!(tag.as_deref(), Some("\"4\""));
        assert_eq!(
            (&read["revision"], &read["title"]),
            (&json!(4), &json!("CNI"))
        );
        // A page is a write too: answered with the (unchanged) revision to edit with.
        let resp = http
            .client
            .post(format!("{}{path}/pages", http.base))
            .bearer_auth(p_token)
            .body(pdf(2000, "verso"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201);
        assert_eq!(resp.headers()["etag"], "\"4\"");
    }
}

#[tokio::test]
async fn a_request_proposes_what_the_person_already_has_and_one_action_shares_it() {
    for backend in backends() {
        let (notifier, outbox) = RecordingNotifier::new();
        let Scene {
            app,
            cast,
            served: _served,
            http,
        } = scene(
            TestApp::with_wallet(
                backend,
                WalletOptions {
                    notifier,
                    ..WalletOptions::default()
                },
            )
            .await,
        )
        .await;
        let (p, p_token) = &cast.person_p;
        let (worker, w_token) = &cast.worker_a;
        let card = pdf(8000, "CNI");
        let (_, old_card) = http
            .upload(
                p_token,
                p,
                "kind=identity&valid_until=2020-01-01",
                pdf(7000, "old"),
                "application/pdf",
            )
            .await;
        let (_, new_card) = http
            .upload(
                p_token,
                p,
                "kind=identity&valid_until=2033-01-01",
                card.clone(),
                "application/pdf",
            )
            .await;
        http.upload(
            p_token,
            p,
            "kind=proof_of_address&valid_until=2026-01-01",
            pdf(7000, "expired"),
            "application/pdf",
        )
        .await;

        // Another person's worker cannot ask; the referent can.
        let ask =
            json!({"kinds": ["identity", "proof_of_address"], "message": "Pour le dossier CAF"});
        let path = format!("/api/v1/persons/{p}/document-requests");
        assert_eq!(
            http.send(
                reqwest::Method::POST,
                &cast.worker_b.1,
                &path,
                Some(ask.clone())
            )
            .await
            .0,
            404
        );
        // A step that is not one of the person's plans' is refused.
        let stray = json!({"kinds": ["identity"], "step_id": uuid::Uuid::new_v4()});
        let (status, problem) = http
            .send(reqwest::Method::POST, w_token, &path, Some(stray))
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("request.step.unknown"))
        );
        let (status, request) = http
            .send(reqwest::Method::POST, w_token, &path, Some(ask))
            .await;
        assert_eq!(status, 201, "{request}");
        assert_eq!(
            request["proposals"],
            json!([]),
            "the worker sees no proposals"
        );
        app.deliver().await;
        assert_eq!(outbox.lock().unwrap().len(), 1, "the person is told");

        let (_, mine) = http.get(p_token, &path).await;
        let seen = &mine[0];
        assert_eq!(seen["requested_by_name"], "Test worker.a@test.peps");
        assert_eq!(seen["proposals"][0]["kind"]["code"], "identity");
        let proposed: Vec<&Value> = seen["proposals"][0]["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| &d["id"])
            .collect();
        assert_eq!(
            proposed,
            [&new_card["id"]],
            "the valid card only, not {old_card}"
        );
        assert_eq!(seen["proposals"][1]["documents"], json!([]));
        assert_eq!(seen["can_fulfil_now"], false);

        let id = seen["id"].as_str().unwrap();
        let (status, done) = http
            .send(
                reqwest::Method::POST,
                p_token,
                &format!("/api/v1/document-requests/{id}/fulfil"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["request"]["status"], "fulfilled");
        assert_eq!(done["grant"]["worker_id"], json!(worker));
        assert_eq!(done["grant"]["document_ids"], json!([new_card["id"]]));
        assert!(done["grant"]["ends_at"].is_string());
        let (status, _, bytes) = http.bytes(w_token, &file_url(&new_card, 0)).await;
        assert_eq!((status, bytes == card), (200, true));
        assert_eq!(http.bytes(w_token, &file_url(&old_card, 0)).await.0, 404);
        let again = http
            .send(
                reqwest::Method::POST,
                p_token,
                &format!("/api/v1/document-requests/{id}/fulfil"),
                None,
            )
            .await;
        assert_eq!(
            (again.0, again.1["code"].as_str()),
            (409, Some("request.closed"))
        );
    }
}

#[tokio::test]
async fn the_person_exports_everything_as_a_zip_with_a_manifest_and_can_erase_it_all() {
    for (backend, blobs) in stores().await {
        let Scene {
            app,
            cast,
            served: _served,
            http,
        } = scene(blobs.app(backend, WalletSettings::default()).await).await;
        let (p, token) = &cast.person_p;
        let a = pdf(70_000, "a");
        let b = b"\xff\xd8\xff\xe0 a jpeg body".to_vec();
        let (_, da) = http
            .upload(
                token,
                p,
                "kind=tax_notice&issued_on=2026-09-01",
                a.clone(),
                "application/pdf",
            )
            .await;
        http.upload(token, p, "kind=photo", b.clone(), "image/jpeg")
            .await;
        let (status, headers, zip_bytes) = http
            .bytes(token, &format!("/api/v1/persons/{p}/wallet/export"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "application/zip");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
        let manifest: Value = {
            let mut m = zip.by_name("manifest.json").unwrap();
            let mut s = String::new();
            std::io::Read::read_to_string(&mut m, &mut s).unwrap();
            serde_json::from_str(&s).unwrap()
        };
        let docs = manifest["documents"].as_array().unwrap();
        assert_eq!(docs.len(), 2);
        for d in docs {
            let f = &d["files"][0];
            let mut entry = zip.by_name(f["path"].as_str().unwrap()).unwrap();
            let mut content = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
            use sha2::Digest;
            let sha = sha2::Sha256::digest(&content);
            let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(f["sha256"], hex);
            assert_eq!(
                content,
                if d["kind"] == "photo" {
                    b.clone()
                } else {
                    a.clone()
                }
            );
        }
        assert_eq!(
            docs.iter().find(|d| d["kind"] == "tax_notice").unwrap()["issued_on"],
            "2026-09-01"
        );
        // Only the person exports.
        assert_eq!(
            http.bytes(
                &cast.worker_a.1,
                &format!("/api/v1/persons/{p}/wallet/export")
            )
            .await
            .0,
            404
        );

        let (status, erased) = http
            .send(
                reqwest::Method::DELETE,
                token,
                &format!("/api/v1/persons/{p}/documents"),
                None,
            )
            .await;
        assert_eq!((status, erased["deleted"].as_u64()), (200, Some(2)));
        assert_eq!(http.bytes(token, &file_url(&da, 0)).await.0, 404);
        assert!(blobs.raw_files(&app).is_empty());
        let (_, log) = http
            .get(token, &format!("/api/v1/persons/{p}/wallet/log?limit=2"))
            .await;
        let actions: Vec<&str> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["erased", "exported"]);
    }
}

#[tokio::test]
async fn expiring_documents_are_reminded_once_in_the_persons_language() {
    for backend in backends() {
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
        let (p, token) = &cast.person_p;
        app.shared_language(*p, "uk").await;
        let served = serve(&app);
        let http = Http::new(&served);
        let today = {
            use peps_core::clock::Clock;
            app.clock.now().date_naive()
        };
        let soon = (today + Duration::days(10)).format("%Y-%m-%d").to_string();
        let later = (today + Duration::days(200)).format("%Y-%m-%d").to_string();
        http.upload(
            token,
            p,
            &format!("kind=passport&valid_until={soon}"),
            pdf(2000, "p"),
            "application/pdf",
        )
        .await;
        http.upload(
            token,
            p,
            &format!("kind=identity&valid_until={soon}"),
            pdf(2000, "i"),
            "application/pdf",
        )
        .await;
        http.upload(
            token,
            p,
            &format!("kind=health_insurance_certificate&valid_until={later}"),
            pdf(2000, "h"),
            "application/pdf",
        )
        .await;
        let first = app.state.wallet.remind_expiring().await.unwrap();
        assert_eq!((first.reminded, first.already_reminded), (1, 0));
        let second = app.state.wallet.remind_expiring().await.unwrap();
        assert_eq!((second.reminded, second.already_reminded), (0, 2));
        app.deliver().await;
        let sent = outbox.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        let date = peps_core::i18n::format_date(
            NaiveDate::parse_from_str(&soon, "%Y-%m-%d").unwrap(),
            "uk",
        );
        assert!(sent[0].body.contains(&date), "{}", sent[0].body);
        assert_eq!(sent[0].language.code(), "uk");
        assert!(
            !sent[0].subject.contains("PEPS : "),
            "not French: {}",
            sent[0].subject
        );
    }
}

#[tokio::test]
async fn helpers_act_under_their_mandate_and_it_shows_in_the_log() {
    for backend in backends() {
        let Scene {
            app,
            cast,
            served: _served,
            http,
        } = scene(Blobs::Folder.app(backend, WalletSettings::default()).await).await;
        let (p, p_token) = &cast.person_p;
        let (helper, h_token) = &cast.helper;
        let (_, doc) = http
            .upload(
                p_token,
                p,
                "kind=caf_certificate",
                pdf(3000, "caf"),
                "application/pdf",
            )
            .await;
        // wallet:read only: reads, cannot upload.
        assert_eq!(http.bytes(h_token, &file_url(&doc, 0)).await.0, 200);
        assert_eq!(
            http.upload(h_token, p, "kind=photo", pdf(100, "x"), "application/pdf")
                .await
                .0,
            403
        );
        let person = Actor {
            account: *p,
            role: Role::Person,
            organisations: vec![],
        };
        let mandate = app
            .state
            .identity
            .grant_mandate(
                &person,
                *p,
                NewMandate {
                    helper: *helper,
                    scopes: vec![MandateScope::WalletUpload],
                    starts_at: None,
                    ends_at: app.clock.now_plus(Duration::days(30)),
                    consent_given_on: None,
                },
            )
            .await
            .unwrap();
        let (status, added) = http
            .upload(
                h_token,
                p,
                "kind=photo",
                b"\xff\xd8\xff photo".to_vec(),
                "image/jpeg",
            )
            .await;
        assert_eq!(status, 201, "{added}");
        assert_eq!(added["created_by"]["role"], "helper");
        let (_, log) = http
            .get(p_token, &format!("/api/v1/persons/{p}/wallet/log?limit=1"))
            .await;
        assert_eq!(log[0]["action"], "uploaded");
        assert_eq!(log[0]["mandate_id"], json!(mandate.id));
        // The expired helper gets nothing.
        assert_eq!(
            http.bytes(&cast.expired_helper.1, &file_url(&doc, 0))
                .await
                .0,
            404
        );
    }
}

#[tokio::test]
async fn rotating_the_key_rewraps_data_keys_without_touching_content() {
    for (backend, blobs) in stores().await {
        let Scene {
            app,
            cast,
            served: _served,
            http,
        } = scene(blobs.app(backend, WalletSettings::default()).await).await;
        let (p, token) = &cast.person_p;
        let content = pdf(150_000, "rotation");
        let (_, doc) = http
            .upload(
                token,
                p,
                "kind=identity",
                content.clone(),
                "application/pdf",
            )
            .await;
        http.upload(
            token,
            p,
            "kind=photo",
            b"\xff\xd8\xff\xdb".to_vec(),
            "image/jpeg",
        )
        .await;
        let before: Vec<Vec<u8>> = blobs
            .raw_files(&app)
            .iter()
            .map(|f| std::fs::read(f).unwrap())
            .collect();

        let new_line =
            peps_core::wallet::keyring::KeyRing::generate_line(&"test-2".parse().unwrap());
        let wallet_with = |lines: &str| wallet_with_keys(&app, lines);
        let both = wallet_with(&format!("{}\n{new_line}\n", app.key_line));
        let report = both.rotate_keys().await.unwrap();
        assert_eq!((report.rewrapped, report.skipped), (2, 0));
        assert_eq!(both.rotate_keys().await.unwrap().rewrapped, 0, "idempotent");
        let after: Vec<Vec<u8>> = blobs
            .raw_files(&app)
            .iter()
            .map(|f| std::fs::read(f).unwrap())
            .collect();
        assert_eq!(before, after, "content is not re-encrypted");

        // Only the new key is needed now; the old one alone opens nothing.
        let caller = as_person(*p);
        let (id, file) = first_page(&doc);
        let new_only = wallet_with(&new_line);
        let mut download = new_only.download(&caller, id, file).await.unwrap();
        let mut got = Vec::new();
        while let Some(chunk) = download.reader.next_chunk().await.unwrap() {
            got.extend(chunk);
        }
        assert_eq!(got, content);
        let old_only = wallet_with(&app.key_line);
        assert_eq!(
            old_only
                .download(&caller, id, file)
                .await
                .err()
                .unwrap()
                .code(),
            "document.key_invalid"
        );
    }
}

/// A clamd speaking the real INSTREAM protocol on 127.0.0.1:0: finds the EICAR test string.
async fn fake_clamd() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut command = [0u8; 10];
                if socket.read_exact(&mut command).await.is_err() || &command != b"zINSTREAM\0" {
                    return;
                }
                let mut seen = Vec::new();
                loop {
                    let mut len = [0u8; 4];
                    if socket.read_exact(&mut len).await.is_err() {
                        return;
                    }
                    let len = u32::from_be_bytes(len) as usize;
                    if len == 0 {
                        break;
                    }
                    let mut chunk = vec![0u8; len];
                    if socket.read_exact(&mut chunk).await.is_err() {
                        return;
                    }
                    seen.extend(chunk);
                }
                let eicar: &[u8] = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE";
                let reply: &[u8] = if seen.windows(eicar.len()).any(|w| w == eicar) {
                    b"stream: Eicar-Test-Signature FOUND\0"
                } else {
                    b"stream: OK\0"
                };
                let _ = socket.write_all(reply).await;
            });
        }
    });
    format!("tcp://{addr}")
}

async fn with_clamd(backend: TestBackend, address: &str) -> Scene {
    let scanner = peps_store::clamd::ClamdScanner::new(address).unwrap();
    let options = WalletOptions {
        scanner: Some(Arc::new(scanner)),
        ..WalletOptions::default()
    };
    scene(TestApp::with_wallet(backend, options).await).await
}

#[tokio::test]
async fn with_an_antivirus_only_clean_files_are_recorded_and_none_while_it_is_down() {
    for backend in backends() {
        let Scene {
            app,
            cast,
            served: _served,
            http,
        } = with_clamd(backend, &fake_clamd().await).await;
        let (p, token) = &cast.person_p;
        let mut infected = b"%PDF-1.4\n".to_vec();
        infected.extend_from_slice(
            br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
        );
        let (status, problem) = http
            .upload(token, p, "kind=identity", infected, "application/pdf")
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("document.infected")),
            "{problem}"
        );
        let (status, _) = http
            .upload(
                token,
                p,
                "kind=identity",
                pdf(300_000, "clean"),
                "application/pdf",
            )
            .await;
        assert_eq!(status, 201);
        let (_, listed) = http
            .get(token, &format!("/api/v1/persons/{p}/documents"))
            .await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert_eq!(app.blobs.list().await.unwrap().len(), 1);

        // clamd down: refused, never stored unscanned.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let down = format!("tcp://{}", closed.local_addr().unwrap());
        drop(closed);
        let Scene {
            app,
            cast,
            served: _served,
            http,
        } = with_clamd(backend, &down).await;
        let (p, token) = &cast.person_p;
        let (status, problem) = http
            .upload(token, p, "kind=identity", pdf(3000, "x"), "application/pdf")
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (503, Some("scanner.unavailable")),
            "{problem}"
        );
        assert!(app.blobs.list().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn an_organisation_share_covers_its_workers_and_only_while_they_are_members() {
    for backend in backends() {
        let Scene {
            app: _app,
            cast,
            served: _served,
            http,
        } = scene(Blobs::Folder.app(backend, WalletSettings::default()).await).await;
        let (p, p_token) = &cast.person_p;
        let (_, doc) = http
            .upload(
                p_token,
                p,
                "kind=caf_certificate",
                pdf(2000, "caf"),
                "application/pdf",
            )
            .await;
        let (_, other) = http
            .upload(
                p_token,
                p,
                "kind=bank_details",
                pdf(2000, "rib"),
                "application/pdf",
            )
            .await;
        // Worker C (the ex-referent) is a member of CCAS A, like worker A.
        let (status, _) = http
            .send(reqwest::Method::POST, p_token, &format!("/api/v1/persons/{p}/grants"),
                Some(json!({"organisation_id": cast.org_a, "document_ids": [doc["id"]], "access": "read"})))
            .await;
        assert_eq!(status, 201);
        let (status, listed) = http
            .get(
                &cast.ex_referent.1,
                &format!("/api/v1/persons/{p}/documents"),
            )
            .await;
        assert_eq!(status, 200);
        let ids: Vec<&Value> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|d| &d["id"])
            .collect();
        assert_eq!(ids, [&doc["id"]], "only the shared document");
        assert_eq!(
            http.bytes(&cast.ex_referent.1, &file_url(&other, 0))
                .await
                .0,
            404
        );
        assert_eq!(
            http.bytes(&cast.worker_b.1, &file_url(&doc, 0)).await.0,
            404,
            "another organisation"
        );
        assert_eq!(
            http.bytes(&cast.member_x.1, &file_url(&doc, 0)).await.0,
            404,
            "an offerer's member"
        );
    }
}

/// A share's `active` flag comes from the wallet's clock, never the server's wall clock: under
/// a test clock years before the wall clock, a share ending two days after the test clock's
/// "now" is shown active, and inactive once the test clock passes its end.
#[tokio::test]
async fn a_shares_active_flag_follows_the_wallets_clock() {
    use chrono::TimeZone;
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        app.clock
            .set(chrono::Utc.with_ymd_and_hms(2020, 1, 6, 9, 0, 0).unwrap());
        let token = app.login("person.p@test.peps").await;
        let p = cast.person_p.0.0;
        let ends_at = app.clock.now_plus(Duration::days(2));
        let resp = app
            .client
            .post(format!("/api/v1/persons/{p}/grants"))
            .header("authorization", format!("Bearer {token}"))
            .body_json(
                &json!({"worker_id": cast.worker_a.0.0, "access": "read", "ends_at": ends_at}),
            )
            .send()
            .await;
        let (status, grant) = status_json(resp).await;
        assert_eq!(
            (status, grant["active"].as_bool()),
            (201, Some(true)),
            "{backend:?} {grant}"
        );
        let listed = |token: String| {
            let app = &app;
            async move {
                let resp = app
                    .client
                    .get(format!("/api/v1/persons/{p}/grants"))
                    .header("authorization", format!("Bearer {token}"))
                    .send()
                    .await;
                let (status, grants) = status_json(resp).await;
                assert_eq!(status, 200, "{grants}");
                grants[0]["active"].as_bool()
            }
        };
        assert_eq!(listed(token.clone()).await, Some(true), "{backend:?}");
        app.clock.advance(Duration::days(3));
        // Three idle days end the session too: sign in again.
        let token = app.login("person.p@test.peps").await;
        assert_eq!(listed(token).await, Some(false), "{backend:?}");
    }
}
