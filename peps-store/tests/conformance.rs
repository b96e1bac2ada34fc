//! The ports' conformance suites against the real databases, and the wallet's database-level
//! guarantees.

use peps_core::testing::conformance;
use peps_store::SeaOrmStore;
use peps_store::testing::{TestBackend, backends, fresh};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// A fresh, migrated store per check; each temporary database outlives its check.
fn fresh_stores(
    backend: TestBackend,
) -> impl FnMut() -> Pin<Box<dyn Future<Output = SeaOrmStore> + Send>> {
    let keep = Arc::new(Mutex::new(Vec::new()));
    move || {
        let keep = keep.clone();
        Box::pin(async move {
            let test_store = fresh(backend).await;
            let store = test_store.store();
            keep.lock().unwrap().push(test_store);
            store
        })
    }
}

async fn run(backend: TestBackend) {
    conformance::identity::run_all(fresh_stores(backend)).await;
}

async fn run_catalogue(backend: TestBackend) {
    conformance::catalogue::run_all(fresh_stores(backend)).await;
    conformance::exchange::run_all(fresh_stores(backend)).await;
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
    conformance::plans::run_all(fresh_stores(backend)).await;
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

async fn run_outbox(backend: TestBackend) {
    conformance::outbox::run_all(fresh_stores(backend)).await;
}

#[tokio::test]
async fn sqlite_conforms_for_the_outbox() {
    run_outbox(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn postgres_conforms_for_the_outbox() {
    if !backends().contains(&TestBackend::Postgres) {
        eprintln!("PEPS_TEST_DATABASE_URL not set: PostgreSQL conformance not run");
        return;
    }
    run_outbox(TestBackend::Postgres).await;
}

async fn run_leases(backend: TestBackend) {
    conformance::leases::run_all(fresh_stores(backend)).await;
}

#[tokio::test]
async fn sqlite_conforms_for_leases() {
    run_leases(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn postgres_conforms_for_leases() {
    if !backends().contains(&TestBackend::Postgres) {
        eprintln!("PEPS_TEST_DATABASE_URL not set: PostgreSQL conformance not run");
        return;
    }
    run_leases(TestBackend::Postgres).await;
}

/// Holders racing for one free lease, each on its own connection: exactly one wins, round
/// after round (also for an expired lease, which every racer may take over).
async fn one_racer_wins_the_lease(backend: TestBackend) {
    use chrono::{Duration, Utc};
    use peps_core::ports::LeaseRepository;
    const RACERS: usize = 8;
    let test_store = fresh(backend).await;
    for round in 0..10 {
        let name = format!("race-{}", round / 2);
        // Odd rounds race for the lease the even round before left to expire.
        let now = Utc::now() + Duration::hours(round as i64);
        let start = Arc::new(tokio::sync::Barrier::new(RACERS));
        let racers: Vec<_> = (0..RACERS)
            .map(|i| {
                let store = test_store.store();
                let (start, name) = (start.clone(), name.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    store
                        .try_acquire(
                            &name,
                            &format!("r{round}-{i}"),
                            now + Duration::minutes(30),
                            now,
                        )
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut won = 0;
        for racer in racers {
            won += usize::from(racer.await.unwrap());
        }
        assert_eq!(
            won, 1,
            "{backend:?}: round {round}: exactly one racer holds {name}"
        );
        let holder = test_store.lease(&name).await.unwrap().unwrap().holder;
        assert!(holder.starts_with(&format!("r{round}-")), "{holder}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_lease_races_have_one_winner() {
    one_racer_wins_the_lease(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_lease_races_have_one_winner() {
    if !backends().contains(&TestBackend::Postgres) {
        eprintln!("PEPS_TEST_DATABASE_URL not set: PostgreSQL check not run");
        return;
    }
    one_racer_wins_the_lease(TestBackend::Postgres).await;
}

async fn run_wallet(backend: TestBackend) {
    conformance::wallet::run_all(fresh_stores(backend)).await;
}

#[tokio::test]
async fn sqlite_conforms_for_the_wallet() {
    run_wallet(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn postgres_conforms_for_the_wallet() {
    if !backends().contains(&TestBackend::Postgres) {
        eprintln!("PEPS_TEST_DATABASE_URL not set: PostgreSQL conformance not run");
        return;
    }
    run_wallet(TestBackend::Postgres).await;
}

mod wallet {
    //! What the port's contract cannot say: the access log is append-only in the database
    //! itself, and concurrent uploads of one person never pass the quota together.

    use chrono::{TimeZone, Utc};
    use peps_core::Conflict;
    use peps_core::StoreError;
    use peps_core::domain::*;
    use peps_core::ports::{AccountRepository, NewAccount};
    use peps_core::wallet::ports::{BlobKey, WrappedKey};
    use peps_core::wallet::sniff::MediaType;
    use peps_core::wallet::*;
    use peps_store::testing::{TestBackend, backends, fresh};
    use sea_orm::ConnectionTrait;

    fn event(person: AccountId, action: WalletAction) -> WalletEvent {
        WalletEvent {
            id: WalletEventId::new(),
            at: Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap(),
            person,
            actor: Some(person),
            actor_role: Some(Role::Person),
            mandate: None,
            action,
            document: None,
            file: None,
            grant: None,
            kind: None,
            ip: Some("192.0.2.7".into()),
            detail: "consulté".into(),
            outbox: Vec::new(),
        }
    }

    async fn log_refuses_changes(backend: TestBackend) {
        let test_store = fresh(backend).await;
        let store = test_store.store();
        let person = AccountId::new();
        let line = event(person, WalletAction::Viewed);
        store.record_event(&line).await.unwrap();
        let db = store.connection();
        let mut attempts = vec![
            "UPDATE wallet_events SET detail = 'x'",
            "DELETE FROM wallet_events",
        ];
        if backend == TestBackend::Postgres {
            attempts.push("TRUNCATE wallet_events");
        }
        for sql in attempts {
            let err = db
                .execute_unprepared(sql)
                .await
                .expect_err(&format!("{backend:?}: {sql} must be refused"));
            assert!(
                err.to_string().contains("wallet_events is append-only"),
                "{backend:?}: {sql} refused for another reason: {err}"
            );
        }
        assert_eq!(
            store.events_of(person, None, 10).await.unwrap(),
            vec![line],
            "{backend:?}: the line is unchanged"
        );
        // Appending still works.
        store
            .record_event(&event(person, WalletAction::Listed))
            .await
            .unwrap();
        assert_eq!(store.events_of(person, None, 10).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn sqlite_wallet_log_is_append_only() {
        log_refuses_changes(TestBackend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres_wallet_log_is_append_only() {
        if !backends().contains(&TestBackend::Postgres) {
            eprintln!("PEPS_TEST_DATABASE_URL not set: PostgreSQL check not run");
            return;
        }
        log_refuses_changes(TestBackend::Postgres).await;
    }

    #[tokio::test]
    async fn the_wallet_migration_goes_down_and_up_again() {
        use sea_orm_migration::MigratorTrait;
        for backend in backends() {
            let store = fresh(backend).await;
            let db = store.connection();
            // The wallet migration and every one that came after it.
            let names: Vec<String> = peps_store::migration::Migrator::migrations()
                .iter()
                .map(|m| m.name().to_owned())
                .collect();
            let wallet = names
                .iter()
                .position(|n| n.ends_with("_wallet"))
                .expect("the wallet migration");
            let steps = u32::try_from(names.len() - wallet).unwrap();
            peps_store::migration::Migrator::down(db, Some(steps))
                .await
                .unwrap_or_else(|e| panic!("{backend:?}: down: {e}"));
            assert!(
                db.execute_unprepared("SELECT 1 FROM wallet_events")
                    .await
                    .is_err(),
                "{backend:?}: the wallet tables are dropped"
            );
            store.migrate().await.unwrap();
            let person = AccountId::new();
            store
                .record_event(&event(person, WalletAction::Listed))
                .await
                .unwrap();
            assert!(
                db.execute_unprepared("DELETE FROM wallet_events")
                    .await
                    .is_err(),
                "{backend:?}: the log is append-only again"
            );
        }
    }

    fn new_document(person: AccountId, size: u64) -> (Document, DocumentFile, WalletEvent) {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
        let by = Uploader {
            account: person,
            role: Role::Person,
        };
        let document = Document {
            id: DocumentId::new(),
            person,
            kind: "identity".into(),
            title: "Carte".into(),
            issued_on: None,
            valid_until: None,
            current_version: 1,
            created_by: by,
            created_at: at,
            updated_at: at,
            revision: 1,
            files: vec![],
        };
        let file = DocumentFile {
            id: DocumentFileId::new(),
            document: document.id,
            version: 1,
            page: 1,
            media_type: MediaType::Pdf,
            size,
            sha256: "0".repeat(64),
            blob: BlobKey::generate(),
            algorithm: "A256GCM-STREAM-64K".into(),
            wrapped_key: WrappedKey {
                key_id: "kek-1".parse().unwrap(),
                algorithm: "A256GCM-KW".into(),
                bytes: vec![0, 255],
            },
            uploaded_by: by,
            uploaded_at: at,
        };
        let mut uploaded = event(person, WalletAction::Uploaded);
        uploaded.document = Some(document.id);
        (document, file, uploaded)
    }

    /// Several uploads of one person at once, each fitting the quota alone and no two together:
    /// exactly one passes, in every round.
    async fn only_one_upload_fits(backend: TestBackend) {
        const ROUNDS: usize = 5;
        const AT_ONCE: usize = 8;
        let test_store = fresh(backend).await;
        let store = test_store.store();
        let quota = 1_000;
        for round in 0..ROUNDS {
            let account = Account {
                id: AccountId::new(),
                role: Role::Person,
                login: Login::normalise(&format!("amina.{round}")),
                email: None,
                phone: None,
                display_name: DisplayName::parse("Amina Diallo").unwrap(),
                language: Language::parse("fr").unwrap(),
                status: AccountStatus::Active,
                created_at: Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap(),
            };
            store
                .create_account(&NewAccount {
                    account: account.clone(),
                    password_hash: None,
                    organisations: vec![],
                    referent: None,
                    activation: None,
                })
                .await
                .unwrap();
            let person = account.id;
            let start = std::sync::Arc::new(tokio::sync::Barrier::new(AT_ONCE));
            let uploads: Vec<_> = (0..AT_ONCE)
                .map(|_| {
                    let store = store.clone();
                    let start = start.clone();
                    tokio::spawn(async move {
                        let (document, file, uploaded) = new_document(person, 600);
                        start.wait().await;
                        store
                            .add_file(
                                &document,
                                &file,
                                FilePlacement::NewDocument,
                                quota,
                                &uploaded,
                            )
                            .await
                    })
                })
                .collect();
            let mut passed = 0;
            for upload in uploads {
                match upload.await.unwrap() {
                    Ok(_) => passed += 1,
                    Err(StoreError::Conflict(Conflict::QuotaExceeded)) => {}
                    Err(other) => panic!("{backend:?}: an upload failed otherwise: {other:?}"),
                }
            }
            assert_eq!(passed, 1, "{backend:?}: only one upload fits the quota");
            assert_eq!(store.usage(person).await.unwrap(), 600);
            assert_eq!(store.documents_of(person).await.unwrap().len(), 1);
            assert_eq!(
                store.events_of(person, None, 100).await.unwrap().len(),
                1,
                "{backend:?}: refused uploads log nothing"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_concurrent_uploads_respect_the_quota() {
        only_one_upload_fits(TestBackend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_concurrent_uploads_respect_the_quota() {
        if !backends().contains(&TestBackend::Postgres) {
            eprintln!("PEPS_TEST_DATABASE_URL not set: PostgreSQL check not run");
            return;
        }
        only_one_upload_fits(TestBackend::Postgres).await;
    }
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

/// Instances starting together on an empty PostgreSQL database migrate it once, without
/// tripping over each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_migrations_from_several_instances_at_once() {
    use sea_orm::ConnectionTrait;
    if !backends().contains(&TestBackend::Postgres) {
        eprintln!("PEPS_TEST_DATABASE_URL not set: PostgreSQL check not run");
        return;
    }
    let url = peps_store::DatabaseUrl::new(std::env::var("PEPS_TEST_DATABASE_URL").unwrap());
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    SeaOrmStore::connect_with(&url, None)
        .await
        .unwrap()
        .connection()
        .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(
            SeaOrmStore::connect_with(&url, Some(&schema))
                .await
                .unwrap(),
        );
    }
    let runs: Vec<_> = instances
        .into_iter()
        .map(|store| tokio::spawn(async move { store.migrate().await }))
        .collect();
    for run in runs {
        run.await.unwrap().expect("every instance starts");
    }
}
