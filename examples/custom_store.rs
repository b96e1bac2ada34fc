//! An adapter of one's own for one port, checked by PEPS's conformance suite.
//!
//! A département archives its audit trail in append-only JSON Lines files that its records
//! system already collects. It implements the `AuditLog` port over such a file, proves the
//! adapter with `peps_core::testing::conformance::run_audit_log`, and wires it next to PEPS's
//! own store for every other port.
//!
//! Run it: `cargo run -p peps-examples --example custom_store`.

use async_trait::async_trait;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use peps_core::StoreError;
use peps_core::domain::{AccountId, AuditEvent};
use peps_core::ports::{AuditLog, StoreResult};
use peps_core::services::IdentityPorts;

/// One JSON object per line, appended and flushed before `record` returns.
pub struct JsonLinesAuditLog {
    path: PathBuf,
    // One writer at a time, so lines never interleave.
    lock: Mutex<()>,
}

impl JsonLinesAuditLog {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }
}

fn io(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::unavailable(err)
}

#[async_trait]
impl AuditLog for JsonLinesAuditLog {
    async fn record(&self, event: &AuditEvent) -> StoreResult<()> {
        let line = serde_json::to_string(event).map_err(io)?;
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        writeln!(file, "{line}").map_err(io)?;
        file.sync_data().map_err(io)
    }

    async fn events_for(&self, subject: AccountId, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io(e)),
        };
        let mut events = text
            .lines()
            .map(|line| serde_json::from_str::<AuditEvent>(line).map_err(io))
            .collect::<StoreResult<Vec<_>>>()?;
        events.retain(|e| e.subject == Some(subject));
        events.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        events.truncate(limit as usize);
        Ok(events)
    }
}

/// Checks the adapter with the conformance suite, then wires it: PEPS's SQLite store for
/// every port but the audit log.
pub async fn run(dir: &std::path::Path) -> anyhow::Result<IdentityPorts> {
    let mut n = 0;
    peps_core::testing::conformance::run_audit_log(|| {
        n += 1;
        let path = dir.join(format!("conformance-{n}.jsonl"));
        async move { JsonLinesAuditLog::new(path) }
    })
    .await;

    let url = format!("sqlite://{}", dir.join("peps.db").display());
    let store = Arc::new(peps_store::SeaOrmStore::connect(&url).await?);
    store.migrate().await?;
    let mut ports = IdentityPorts::from_store(store);
    ports.audit = Arc::new(JsonLinesAuditLog::new(dir.join("audit.jsonl")));
    Ok(ports)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    run(dir.path()).await?;
    println!("JsonLinesAuditLog passes the AuditLog conformance checks and is wired in.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use peps_core::auth::Argon2Hasher;
    use peps_core::clock::SystemClock;
    use peps_core::domain::Role;
    use peps_core::services::{Identity, IdentitySettings, ProvisionAccount};
    use std::sync::Arc;

    #[tokio::test]
    async fn custom_audit_log_conforms_and_serves() {
        let dir = tempfile::tempdir().unwrap();
        let ports = super::run(dir.path()).await.unwrap();
        let identity = Identity::new(
            ports,
            Arc::new(Argon2Hasher::default()),
            Arc::new(SystemClock),
            IdentitySettings::default(),
        );
        identity
            .provision_account(ProvisionAccount {
                role: Role::Admin,
                email: "dsi@example.org".into(),
                display_name: "DSI".into(),
                password: "Une phrase de passe solide".into(),
                organisations: vec![],
            })
            .await
            .unwrap();
        let written = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
        assert!(written.contains("account.created"), "{written}");
    }
}
