//! A real server on 127.0.0.1:0, spoken to over TCP: the paths that matter end to end.

use serde_json::{Value, json};
use std::net::TcpListener;
use tokio::sync::oneshot;

use crate::support::*;
use peps_core::domain::Role;
use peps_http::HttpSettings;

struct Running {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(app: &TestApp) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let state = app.state.clone();
    let task = tokio::spawn(peps_http::serve_tcp(listener, state, async {
        let _ = stopped.await;
    }));
    Running {
        base,
        stop: Some(stop),
        task,
    }
}

impl Running {
    async fn shutdown(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.task.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn login_and_authenticated_calls_over_tcp() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        app.provision(Role::Worker, "w@test.peps", &[]).await;
        let server = start(&app).await;
        let http = reqwest::Client::new();

        let health = http
            .get(format!("{}/health", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        assert!(health.headers().contains_key("x-request-id"));

        let resp = http
            .post(format!("{}/api/v1/auth/login", server.base))
            .json(&json!({"email": "w@test.peps", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let token = resp.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();

        let me = http
            .get(format!("{}/api/v1/me", server.base))
            .bearer_auth(&token)
            .header("x-request-id", "trace-me-123")
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
        assert_eq!(me.headers()["x-request-id"], "trace-me-123");
        assert_eq!(me.json::<Value>().await.unwrap()["login"], "w@test.peps");
        server.shutdown().await;
    }
}

#[tokio::test]
async fn throttling_per_client_address_over_tcp() {
    let settings = HttpSettings::default();
    let app = TestApp::with_settings(peps_store::testing::TestBackend::Sqlite, settings).await;
    let server = start(&app).await;
    let http = reqwest::Client::new();
    // Fifty failures on fifty different logins from one address: the address is then refused.
    let mut last = 0;
    for i in 0..51 {
        let resp = http
            .post(format!("{}/api/v1/auth/login", server.base))
            .json(&json!({"email": format!("nobody{i}@test.peps"), "password": "nope"}))
            .send()
            .await
            .unwrap();
        last = resp.status().as_u16();
        if i < 50 {
            assert_eq!(last, 401, "attempt {i}");
        }
    }
    assert_eq!(last, 429);
    server.shutdown().await;
}

#[tokio::test]
async fn chunked_oversized_body_is_refused_over_tcp() {
    let app = TestApp::new(peps_store::testing::TestBackend::Sqlite).await;
    let server = start(&app).await;
    // No Content-Length: the limit must hold while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..100).map(|_| Ok(vec![b' '; 4096])).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", server.base))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    server.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_stops_accepting() {
    let app = TestApp::new(peps_store::testing::TestBackend::Sqlite).await;
    let server = start(&app).await;
    let base = server.base.clone();
    server.shutdown().await;
    assert!(reqwest::get(format!("{base}/health")).await.is_err());
}
