//! Fresh, migrated stores for tests: SQLite in a temporary file, and PostgreSQL in a schema of
//! its own when `PEPS_TEST_DATABASE_URL` is set (e.g. `postgres://postgres:pw@127.0.0.1/peps_test`).

use std::ops::Deref;

use crate::{DatabaseUrl, SeaOrmStore};

/// The environment variable naming the PostgreSQL server tests may use.
pub const POSTGRES_URL_VAR: &str = "PEPS_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// Set by CI so that a missing PostgreSQL URL fails the run instead of skipping silently.
pub const REQUIRE_POSTGRES_VAR: &str = "PEPS_REQUIRE_POSTGRES";

/// The backends to run tests on: SQLite always, PostgreSQL when configured.
pub fn backends() -> Vec<TestBackend> {
    let mut all = vec![TestBackend::Sqlite];
    if postgres_url().is_some() {
        all.push(TestBackend::Postgres);
    } else if std::env::var_os(REQUIRE_POSTGRES_VAR).is_some() {
        panic!("{REQUIRE_POSTGRES_VAR} is set but {POSTGRES_URL_VAR} is not");
    }
    all
}

fn postgres_url() -> Option<DatabaseUrl> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty())
        .map(DatabaseUrl::new)
}

/// A store that lives as long as this value (its SQLite file is removed on drop).
pub struct TestStore {
    store: SeaOrmStore,
    _dir: Option<tempfile::TempDir>,
}

impl Deref for TestStore {
    type Target = SeaOrmStore;
    fn deref(&self) -> &SeaOrmStore {
        &self.store
    }
}

impl TestStore {
    pub fn store(&self) -> SeaOrmStore {
        self.store.clone()
    }
}

/// A fresh, migrated store on `backend`. Panics with a clear message when the database cannot
/// be reached: a test that silently skipped would prove nothing.
pub async fn fresh(backend: TestBackend) -> TestStore {
    match backend {
        TestBackend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary folder");
            let url = format!("sqlite://{}", dir.path().join("peps.db").display());
            let store = SeaOrmStore::connect(&url).await.expect("SQLite store");
            store.migrate().await.expect("SQLite migration");
            TestStore {
                store,
                _dir: Some(dir),
            }
        }
        TestBackend::Postgres => {
            let url = postgres_url().unwrap_or_else(|| panic!("{POSTGRES_URL_VAR} is not set"));
            let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
            let admin = SeaOrmStore::connect_with(&url, None)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
            use sea_orm::ConnectionTrait;
            admin
                .connection()
                .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
                .await
                .expect("create test schema");
            let store = SeaOrmStore::connect_with(&url, Some(&schema))
                .await
                .expect("PostgreSQL store");
            store.migrate().await.expect("PostgreSQL migration");
            TestStore { store, _dir: None }
        }
    }
}
