//! `peps import data-inclusion` killed with SIGKILL midway, then run again, converges to the
//! state of an uninterrupted import; and running it once more changes nothing. On SQLite, and
//! on PostgreSQL when PEPS_TEST_DATABASE_URL is set (in databases of their own, dropped after).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use peps_core::catalogue::ReferenceData;
use peps_core::catalogue::data_inclusion::read::Format;
use peps_core::catalogue::data_inclusion::write::{
    RecordWriter, SERVICE_COLUMNS, STRUCTURE_COLUMNS,
};
use peps_core::catalogue::synthetic;
use peps_core::domain::OfferId;
use peps_core::ports::{CatalogueExchange, OfferRepository, RecordKind};
use peps_store::SeaOrmStore;

const STRUCTURES: usize = 600;
const SERVICES: usize = 6_000;

fn write_extract(dir: &Path) {
    let mut structures = RecordWriter::new(
        std::fs::File::create(dir.join("structures.jsonl")).unwrap(),
        Format::JsonLines,
        STRUCTURE_COLUMNS,
    )
    .unwrap();
    let mut services = RecordWriter::new(
        std::fs::File::create(dir.join("services.csv")).unwrap(),
        Format::Csv,
        SERVICE_COLUMNS,
    )
    .unwrap();
    synthetic::data_inclusion_extract(
        7,
        STRUCTURES,
        SERVICES,
        &ReferenceData::builtin(),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        |s| structures.write(&s).unwrap(),
        |s| services.write(&s).unwrap(),
    );
    structures.finish().unwrap();
    services.finish().unwrap();
}

/// Where the test's databases live: SQLite files in the test folder, or PostgreSQL databases
/// created for the test.
#[derive(Clone)]
enum Databases {
    Sqlite(std::path::PathBuf),
    Postgres { server: String, prefix: String },
}

impl Databases {
    fn url(&self, name: &str) -> String {
        match self {
            Databases::Sqlite(dir) => format!("sqlite://{}", dir.join(name).display()),
            Databases::Postgres { server, prefix } => {
                let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
                format!("{base}/{prefix}_{}", name.replace('.', "_"))
            }
        }
    }

    async fn create(&self, name: &str) {
        if let Databases::Postgres { server, prefix } = self {
            let admin = SeaOrmStore::connect(server).await.unwrap();
            use sea_orm::ConnectionTrait;
            admin
                .connection()
                .execute_unprepared(&format!(
                    "CREATE DATABASE {prefix}_{}",
                    name.replace('.', "_")
                ))
                .await
                .unwrap();
        }
    }

    async fn drop_all(&self, names: &[&str]) {
        if let Databases::Postgres { server, prefix } = self {
            let admin = SeaOrmStore::connect(server).await.unwrap();
            use sea_orm::ConnectionTrait;
            for name in names {
                let _ = admin
                    .connection()
                    .execute_unprepared(&format!(
                        "DROP DATABASE IF EXISTS {prefix}_{} WITH (FORCE)",
                        name.replace('.', "_")
                    ))
                    .await;
            }
        }
    }
}

fn import(dir: &Path, db: &Databases, database: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_peps"));
    cmd.current_dir(dir)
        .env_remove("RUST_LOG")
        .env("PEPS_LOG__LEVEL", "warn")
        .env("PEPS_DATABASE__URL", db.url(database))
        .args([
            "import",
            "data-inclusion",
            "--structures",
            "structures.jsonl",
            "--services",
            "services.csv",
            "--report",
            &format!("{database}.report.jsonl"),
        ]);
    cmd
}

fn run_to_end(dir: &Path, db: &Databases, database: &str) -> String {
    let out = import(dir, db, database).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

async fn open(db: &Databases, database: &str) -> SeaOrmStore {
    SeaOrmStore::connect(&db.url(database)).await.unwrap()
}

/// Every service id of the extract, and what each became.
async fn state(store: &SeaOrmStore) -> Vec<Option<peps_core::catalogue::OfferContent>> {
    let ids: Vec<String> = (0..SERVICES).map(|n| format!("service-{n}")).collect();
    let held = store
        .held_records(RecordKind::Service, "synthetique", &ids)
        .await
        .unwrap();
    let mut by_id = std::collections::HashMap::new();
    for h in held {
        let offer = store.offer(OfferId(h.record.local_id)).await.unwrap();
        by_id.insert(h.record.id.clone(), offer.content);
    }
    ids.iter().map(|id| by_id.remove(id)).collect()
}

async fn offer_count(store: &SeaOrmStore) -> usize {
    let mut count = 0;
    let mut after = None;
    loop {
        let page = store.published_offers(after, 1_000).await.unwrap();
        if page.is_empty() {
            return count;
        }
        count += page.len();
        after = page.last().map(|o| o.id);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_killed_midway_converges_when_run_again() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    write_extract(dir);
    let mut all = vec![Databases::Sqlite(dir.to_owned())];
    if let Some(server) = std::env::var("PEPS_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        let prefix = format!(
            "peps_kill_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        all.push(Databases::Postgres { server, prefix });
    } else if std::env::var_os("PEPS_REQUIRE_POSTGRES").is_some() {
        panic!("PEPS_REQUIRE_POSTGRES is set but PEPS_TEST_DATABASE_URL is not");
    }
    for db in &all {
        db.create("killed.db").await;
        db.create("clean.db").await;
        killed_then_rerun(dir, db).await;
        db.drop_all(&["killed.db", "clean.db"]).await;
    }
}

async fn killed_then_rerun(dir: &Path, db: &Databases) {
    // Create the schema first, so the reader below can open the database at once.
    migrate(dir, db, "killed.db");

    let mut child = import(dir, db, "killed.db")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let watcher = open(db, "killed.db").await;
    let started = Instant::now();
    loop {
        let seq = watcher.catalogue_seq().await.unwrap();
        // Structures, then a few batches of services, committed: kill it now.
        if seq > 1_500 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import finished before it could be killed; make the extract bigger"
        );
        assert!(started.elapsed() < Duration::from_secs(300));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let partial = offer_count(&watcher).await;
    assert!(
        partial > 0 && partial < SERVICES,
        "killed after {partial} offers"
    );

    let resumed = run_to_end(dir, db, "killed.db");
    let again = run_to_end(dir, db, "killed.db");
    run_to_end(dir, db, "clean.db");

    let killed = open(db, "killed.db").await;
    let clean = open(db, "clean.db").await;
    assert_eq!(
        offer_count(&killed).await,
        offer_count(&clean).await,
        "{resumed}"
    );
    assert_eq!(state(&killed).await, state(&clean).await);
    // Both lines, structures and services.
    assert_eq!(again.matches(" 0 created").count(), 2, "{again}");
    assert_eq!(again.matches(" 0 updated").count(), 2, "{again}");
    assert_eq!(
        again.matches(" 0 rejected").count(),
        0,
        "the extract has flaws: {again}"
    );
}

fn migrate(dir: &Path, db: &Databases, database: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_peps"))
        .current_dir(dir)
        .env("PEPS_LOG__LEVEL", "warn")
        .env("PEPS_DATABASE__URL", db.url(database))
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
