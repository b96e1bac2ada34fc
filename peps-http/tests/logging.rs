//! What the server logs: one line per request, never a password or a token. A binary of its
//! own, because it installs the process-wide log subscriber.

#[allow(dead_code, unused_imports)]
#[path = "http/support.rs"]
mod support;

use peps_core::domain::Role;
use serde_json::json;
use support::*;

/// Collects everything logged, to check what never is.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // Global, in a test binary of its own: scoped subscribers miss events whose call sites
    // other tests' threads registered first.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let app = TestApp::new(peps_store::testing::TestBackend::Sqlite).await;
    app.provision(Role::Worker, "w@test.peps", &[]).await;
    let token = app.login("w@test.peps").await;
    app.client
        .get("/api/v1/me")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .assert_status_is_ok();
    app.client
        .post("/api/v1/auth/login")
        .body_json(&json!({"email": "w@test.peps", "password": "Wrong-But-Secret-42"}))
        .send()
        .await;
    app.client
        .get("/api/v1/me?token=Query-Secret-99")
        .send()
        .await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("served"), "request lines are logged: {logs}");
    for secret in [
        PASSWORD,
        "Wrong-But-Secret-42",
        token.as_str(),
        "Query-Secret-99",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
}
