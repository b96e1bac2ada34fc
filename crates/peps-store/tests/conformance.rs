//! The identity ports' conformance suite against the real databases.

use peps_core::testing::conformance;
use peps_store::testing::{TestBackend, backends, fresh};

async fn run(backend: TestBackend) {
    // Each check's temporary database must outlive the check.
    let keep = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    conformance::run_all(|| {
        let keep = keep.clone();
        async move {
            let test_store = fresh(backend).await;
            let store = test_store.store();
            keep.lock().unwrap().push(test_store);
            store
        }
    })
    .await;
}

async fn run_catalogue(backend: TestBackend) {
    let keep = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    peps_core::testing::catalogue_conformance::run_all(|| {
        let keep = keep.clone();
        async move {
            let test_store = fresh(backend).await;
            let store = test_store.store();
            keep.lock().unwrap().push(test_store);
            store
        }
    })
    .await;
}

#[tokio::test]
async fn sqlite_conforms_for_the_catalogue() {
    run_catalogue(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn postgres_conforms_for_the_catalogue() {
    if !backends().contains(&TestBackend::Postgres) {
        eprintln!("PEPS_TEST_DATABASE_URL not set: PostgreSQL conformance not run");
        return;
    }
    run_catalogue(TestBackend::Postgres).await;
}

async fn run_plans(backend: TestBackend) {
    let keep = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    peps_core::testing::plan_conformance::run_all(|| {
        let keep = keep.clone();
        async move {
            let test_store = fresh(backend).await;
            let store = test_store.store();
            keep.lock().unwrap().push(test_store);
            store
        }
    })
    .await;
}

#[tokio::test]
async fn sqlite_conforms_for_plans() {
    run_plans(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn postgres_conforms_for_plans() {
    if !backends().contains(&TestBackend::Postgres) {
        eprintln!("PEPS_TEST_DATABASE_URL not set: PostgreSQL conformance not run");
        return;
    }
    run_plans(TestBackend::Postgres).await;
}

#[tokio::test]
async fn sqlite_conforms() {
    run(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn postgres_conforms() {
    if !backends().contains(&TestBackend::Postgres) {
        eprintln!("PEPS_TEST_DATABASE_URL not set: PostgreSQL conformance not run");
        return;
    }
    run(TestBackend::Postgres).await;
}

#[tokio::test]
async fn migrations_are_idempotent() {
    for backend in backends() {
        let store = fresh(backend).await;
        store.migrate().await.unwrap();
        store.migrate().await.unwrap();
    }
}

#[tokio::test]
async fn unknown_scheme_is_a_clear_error() {
    let err = peps_store::SeaOrmStore::connect("mysql://root:pw@localhost/peps")
        .await
        .err()
        .expect("mysql is not supported");
    let text = err.to_string();
    assert!(
        text.contains("mysql") && text.contains("sqlite://"),
        "{text}"
    );
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys() {
    use sea_orm::{ConnectionTrait, Statement};
    let store = fresh(TestBackend::Sqlite).await;
    let db = store.connection();
    let backend = db.get_database_backend();
    let mode = db
        .query_one_raw(Statement::from_string(backend, "PRAGMA journal_mode"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        mode.try_get_by_index::<String>(0).unwrap().to_lowercase(),
        "wal"
    );
    let fk = db
        .query_one_raw(Statement::from_string(backend, "PRAGMA foreign_keys"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fk.try_get_by_index::<i32>(0).unwrap(), 1);
}
