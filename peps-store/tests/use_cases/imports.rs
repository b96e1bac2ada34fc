//! `ImportJobs`: only admins import, options are checked before anything is recorded, a job
//! runs to its outcome, reading a job never writes, and jobs cut short by a stop are marked
//! interrupted at start-up.

use serde_json::json;
use std::sync::Arc;

use crate::support::{World, backends};
use peps_core::catalogue::ReferenceData;
use peps_core::catalogue::import_job::{ImportJob, ImportJobStatus};
use peps_core::domain::{ImportJobId, Role};
use peps_core::ports::CatalogueExchange;
use peps_core::services::exchange::{Exchange, ImportJobs, ImportRequest};

struct Imports {
    world: World,
    jobs: ImportJobs,
    _dir: tempfile::TempDir,
}

impl Imports {
    async fn new(backend: peps_store::testing::TestBackend) -> Self {
        let world = World::new(backend).await;
        let exchange = Arc::new(Exchange::new(
            world.store.clone(),
            world.store.clone(),
            world.clock.clone(),
            Arc::new(ReferenceData::builtin()),
        ));
        let dir = tempfile::tempdir().unwrap();
        let jobs = ImportJobs::new(exchange, dir.path().to_owned(), None);
        Self {
            world,
            jobs,
            _dir: dir,
        }
    }
}

fn services_only(departement: &str) -> ImportRequest {
    ImportRequest {
        services: Some("services.jsonl".into()),
        departement: Some(departement.into()),
        ..ImportRequest::default()
    }
}

#[tokio::test]
async fn only_admins_start_and_follow_imports() {
    for backend in backends() {
        let i = Imports::new(backend).await;
        let admin = i.world.actor(Role::Admin, &[]).await;
        let started = i.jobs.start(&admin, services_only("89")).await.unwrap();
        let id = started.job().id;
        for role in [Role::Worker, Role::Member, Role::Person, Role::Helper] {
            let other = i.world.actor(role, &[]).await;
            let refused = i.jobs.start(&other, services_only("89")).await;
            assert_eq!(refused.unwrap_err().code(), "access.denied", "{role:?}");
            let refused = i.jobs.job(&other, id).await;
            assert_eq!(refused.unwrap_err().code(), "access.denied", "{role:?}");
            let refused = i.jobs.report(&other, id).await;
            assert_eq!(refused.unwrap_err().code(), "access.denied", "{role:?}");
        }
        let unknown = i.jobs.job(&admin, ImportJobId::new()).await;
        assert_eq!(unknown.unwrap_err().code(), "resource.not_found");
    }
}

#[tokio::test]
async fn the_files_the_departement_and_the_theme_are_checked_before_anything_is_recorded() {
    for backend in backends() {
        let i = Imports::new(backend).await;
        let admin = i.world.actor(Role::Admin, &[]).await;
        let cases = [
            (ImportRequest::default(), "import.files_missing"),
            (services_only("Yonne"), "import.departement.invalid"),
            (
                ImportRequest {
                    default_theme: Some("no-such-theme".into()),
                    ..services_only("89")
                },
                "import.default_theme.unknown",
            ),
        ];
        for (request, code) in cases {
            let refused = i.jobs.start(&admin, request).await.unwrap_err();
            assert_eq!(refused.code(), code, "{backend:?}");
        }
        // A département is taken as typed, in any case.
        let started = i.jobs.start(&admin, services_only(" 2a ")).await.unwrap();
        assert_eq!(started.job().details["options"]["departement"], "2A");
    }
}

#[tokio::test]
async fn a_job_runs_to_its_outcome_and_keeps_its_report() {
    for backend in backends() {
        let i = Imports::new(backend).await;
        let admin = i.world.actor(Role::Admin, &[]).await;
        let started = i
            .jobs
            .start(
                &admin,
                ImportRequest {
                    structures: Some("structures.jsonl".into()),
                    services: Some("services.jsonl".into()),
                    departement: Some("89".into()),
                    ..ImportRequest::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(started.job().status, ImportJobStatus::Queued);
        let structure = json!({"source": "dora", "id": "s1", "nom": "Épicerie sociale de Sens",
            "date_maj": "2026-10-01", "code_insee": "89387", "code_postal": "89100",
            "commune": "Sens", "adresse": "3 rue de la République"});
        let service = json!({"source": "dora", "id": "a", "structure_id": "s1",
            "nom": "Aide alimentaire", "description": "Colis alimentaires chaque semaine.",
            "date_maj": "2026-10-02", "thematiques": ["equipement-et-alimentation--alimentation"],
            "modes_accueil": ["en-presentiel"], "frais": "hors-de-prix"});
        let files = started.files().clone();
        std::fs::write(files.structures.as_ref().unwrap(), format!("{structure}\n")).unwrap();
        std::fs::write(files.services.as_ref().unwrap(), format!("{service}\n")).unwrap();
        let id = started.job().id;
        let done = i.jobs.run(started).await;
        assert_eq!(
            done.status,
            ImportJobStatus::Succeeded,
            "{:#}",
            done.details
        );
        assert_eq!(done.finished_at, Some(i.world.clock_now()));
        let read = i.jobs.job(&admin, id).await.unwrap();
        assert_eq!(read, done, "{backend:?}: the outcome is recorded");
        assert_eq!(read.details["summary"]["structures"]["created"], 1);
        assert_eq!(read.details["summary"]["services"]["rejected"], 1);
        // The extract is gone, the report stays.
        assert!(!files.services.unwrap().exists());
        let report = std::fs::read_to_string(i.jobs.report(&admin, id).await.unwrap()).unwrap();
        assert!(report.contains("\"field\":\"frais\""), "{report}");
    }
}

#[tokio::test]
async fn reading_a_job_never_writes_and_a_stop_interrupts_unfinished_jobs_at_start_up() {
    for backend in backends() {
        let i = Imports::new(backend).await;
        let admin = i.world.actor(Role::Admin, &[]).await;
        let queued = i.jobs.start(&admin, services_only("89")).await.unwrap();
        let id = queued.job().id;
        // The server stops here: the job never ran. Reading it says what is recorded.
        drop(queued);
        i.world.clock.advance(chrono::Duration::minutes(5));
        for _ in 0..2 {
            let read = i.jobs.job(&admin, id).await.unwrap();
            assert_eq!(read.status, ImportJobStatus::Queued, "{backend:?}");
            assert_eq!(read.finished_at, None);
        }
        let running = ImportJob {
            id: ImportJobId::new(),
            requested_by: admin.account,
            status: ImportJobStatus::Running,
            created_at: i.world.clock_now(),
            finished_at: None,
            details: json!({}),
        };
        i.world.store.save_import_job(&running).await.unwrap();
        // At start-up.
        assert_eq!(
            i.jobs.interrupt_unfinished().await.unwrap(),
            2,
            "{backend:?}"
        );
        for id in [id, running.id] {
            let read = i.jobs.job(&admin, id).await.unwrap();
            assert_eq!(read.status, ImportJobStatus::Interrupted, "{backend:?}");
            assert_eq!(read.finished_at, Some(i.world.clock_now()));
        }
    }
}
