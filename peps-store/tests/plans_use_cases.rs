//! The plan use cases (`peps_core::services::Plans`) on a real database: each rule in a short
//! test that names it. They live here rather than beside the service because peps-core does
//! not depend on peps-store; they run on SQLite, and on PostgreSQL when
//! `PEPS_TEST_DATABASE_URL` is set.

use chrono::{TimeZone, Utc};
use std::sync::Arc;

use peps_core::CoreError;
use peps_core::clock::ManualClock;
use peps_core::domain::*;
use peps_core::plans::{StepDraft, TemplateLibrary};
use peps_core::policy::Actor;
use peps_core::ports::{AccountRepository, NewAccount, NoTranslator};
use peps_core::services::{NewStep, PlanPorts, PlanSettings, PlanView, Plans, StepDetail};
use peps_store::SeaOrmStore;
use peps_store::testing::{TestBackend, TestStore, backends, fresh};

const RSA: &str = "demander-le-rsa";

struct World {
    _db: TestStore,
    store: Arc<SeaOrmStore>,
    person: Actor,
    referent: Actor,
    stranger: Actor,
    plan: PlanId,
}

fn actor(account: AccountId, role: Role) -> Actor {
    Actor {
        account,
        role,
        organisations: Vec::new(),
    }
}

fn plans(store: &Arc<SeaOrmStore>, templates: TemplateLibrary) -> Plans {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap(),
    ));
    Plans::new(
        PlanPorts::from_store(store.clone()),
        Arc::new(templates),
        Arc::new(NoTranslator),
        peps_core::services::Notices::new(store.clone(), clock.clone()),
        clock,
        PlanSettings::default(),
    )
}

async fn account(
    store: &SeaOrmStore,
    role: Role,
    login: &str,
    referent: Option<AccountId>,
) -> AccountId {
    account_with_phone(store, role, login, referent, None).await
}

async fn account_with_phone(
    store: &SeaOrmStore,
    role: Role,
    login: &str,
    referent: Option<AccountId>,
    phone: Option<&str>,
) -> AccountId {
    let id = AccountId::new();
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    store
        .create_account(&NewAccount {
            account: Account {
                id,
                role,
                login: Login::normalise(login),
                email: None,
                phone: phone.map(|p| Phone::parse(p).unwrap()),
                display_name: DisplayName::parse("Amina Diallo").unwrap(),
                language: Language::parse("ar").unwrap(),
                status: AccountStatus::Active,
                created_at: at,
            },
            password_hash: None,
            organisations: vec![],
            referent: referent.map(|worker| Referent {
                id: ReferentId::new(),
                worker,
                person: id,
                started_at: at,
                ended_at: None,
            }),
            activation: None,
        })
        .await
        .unwrap();
    id
}

/// A person, their referent, a worker who is neither, and a plan the referent started.
async fn world(backend: TestBackend) -> (World, Plans) {
    let db = fresh(backend).await;
    let store = Arc::new(db.store());
    let referent = account(&store, Role::Worker, "camille", None).await;
    let person = account(&store, Role::Person, "amina", Some(referent)).await;
    let stranger = account(&store, Role::Worker, "dominique", None).await;
    let service = plans(&store, TemplateLibrary::builtin());
    let referent = actor(referent, Role::Worker);
    let plan = service
        .create_plan(&referent, person, "Ressources")
        .await
        .unwrap()
        .plan
        .id;
    let world = World {
        _db: db,
        store,
        person: actor(person, Role::Person),
        referent,
        stranger: actor(stranger, Role::Worker),
        plan,
    };
    (world, service)
}

async fn rsa_step(service: &Plans, w: &World, draft: StepDraft) -> StepDetail {
    service
        .add_step(
            &w.referent,
            w.plan,
            NewStep {
                template: Some(RSA.into()),
                draft,
            },
        )
        .await
        .unwrap()
}

/// The built-in templates with the RSA template's French title corrected by the collectivity.
fn corrected_library(dir: &std::path::Path, title: &str) -> TemplateLibrary {
    let builtin = TemplateLibrary::builtin();
    let french = &builtin.get(RSA).unwrap().texts["fr"];
    let quote = |s: &str| serde_json::to_string(s).unwrap();
    let tasks: Vec<String> = french.tasks.iter().map(|t| quote(t)).collect();
    std::fs::create_dir_all(dir.join("texts")).unwrap();
    std::fs::write(
        dir.join("texts/fr.yml"),
        format!(
            "language: fr\nprovenance: original\ntemplates:\n  {RSA}:\n    title: {}\n    explanation: {}\n    tasks: [{}]\n",
            quote(title),
            quote(&french.explanation),
            tasks.join(", ")
        ),
    )
    .unwrap();
    TemplateLibrary::with_overrides(dir).unwrap()
}

async fn for_each_backend<F, Fut>(check: F)
where
    F: Fn(TestBackend) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in backends() {
        eprintln!("{backend:?}");
        check(backend).await;
    }
}

#[tokio::test]
async fn only_the_person_their_referent_may_read_a_plan_and_others_learn_nothing() {
    for_each_backend(|backend| async move {
        let (w, service) = world(backend).await;
        assert!(matches!(
            service.plan(&w.person, w.plan).await.unwrap(),
            PlanView::Full(_)
        ));
        assert!(service.plan_detail(&w.referent, w.plan).await.is_ok());
        assert!(matches!(
            service.plan(&w.stranger, w.plan).await,
            Err(CoreError::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn only_the_plans_workers_write_steps_and_the_person_reports_progress() {
    for_each_backend(|backend| async move {
        let (w, service) = world(backend).await;
        let step = rsa_step(&service, &w, StepDraft::default()).await.step;
        let by_person = service
            .add_step(
                &w.person,
                w.plan,
                NewStep {
                    template: Some(RSA.into()),
                    draft: StepDraft::default(),
                },
            )
            .await;
        assert!(matches!(by_person, Err(CoreError::Denied)), "{by_person:?}");
        let by_stranger = service
            .update_step(
                &w.stranger,
                w.plan,
                step.id,
                step.version,
                StepDraft::default(),
            )
            .await;
        assert!(matches!(by_stranger, Err(CoreError::NotFound)));
        let done = service
            .set_step_status(
                &w.person,
                w.plan,
                step.id,
                peps_core::plans::StepStatus::Done,
            )
            .await
            .unwrap();
        assert_eq!(done.step.status, peps_core::plans::StepStatus::Done);
    })
    .await;
}

#[tokio::test]
async fn a_partial_step_edit_keeps_the_fields_not_sent() {
    for_each_backend(|backend| async move {
        let (w, service) = world(backend).await;
        let step = rsa_step(&service, &w, StepDraft::default()).await.step;
        let before = step.content.french();
        let edited = service
            .update_step(
                &w.referent,
                w.plan,
                step.id,
                step.version,
                StepDraft {
                    explanation: Some("Votre référente vous aide mardi.".into()),
                    private_note: Some(Some("Rappeler jeudi.".into())),
                    ..StepDraft::default()
                },
            )
            .await
            .unwrap()
            .step;
        let after = edited.content.french();
        assert_eq!(after.title, before.title);
        assert_eq!(after.tasks, before.tasks);
        assert_eq!(after.explanation, "Votre référente vous aide mardi.");
        assert_eq!(edited.private_note.as_deref(), Some("Rappeler jeudi."));
        // The write returned what a re-read gives.
        let read = service.plan_detail(&w.referent, w.plan).await.unwrap();
        assert_eq!(read.steps[0].content.french(), after);
        assert_eq!(read.steps[0].version, edited.version);
        // The person never sees the private note, not even in a write's answer.
        let reported = service
            .set_step_status(
                &w.person,
                w.plan,
                step.id,
                peps_core::plans::StepStatus::InProgress,
            )
            .await
            .unwrap();
        assert_eq!(reported.step.private_note, None);
    })
    .await;
}

#[tokio::test]
async fn a_step_from_a_template_stores_no_copy_of_its_texts() {
    for_each_backend(|backend| async move {
        let (w, service) = world(backend).await;
        let step = rsa_step(&service, &w, StepDraft::default()).await.step;
        use sea_orm::ConnectionTrait;
        let db = w.store.connection();
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT content, template FROM plan_steps",
            ))
            .await
            .unwrap()
            .unwrap();
        let content: String = row.try_get("", "content").unwrap();
        let template: Option<String> = row.try_get("", "template").unwrap();
        assert!(content.len() < 100, "{content}");
        assert_eq!(template.as_deref(), Some(RSA));
        let _ = step;
        let read = service.plan_detail(&w.person, w.plan).await.unwrap();
        assert!(!read.steps[0].content.localized("ar").title.fallback);
    })
    .await;
}

#[tokio::test]
async fn a_template_correction_reaches_steps_that_did_not_adapt_that_field_and_the_history_says_so()
{
    for_each_backend(|backend| async move {
        let (w, service) = world(backend).await;
        let following = rsa_step(&service, &w, StepDraft::default()).await.step;
        let adapted = rsa_step(
            &service,
            &w,
            StepDraft {
                title: Some("Demander le RSA avec Camille".into()),
                ..StepDraft::default()
            },
        )
        .await
        .step;

        let dir = tempfile::tempdir().unwrap();
        let corrected = plans(
            &w.store,
            corrected_library(dir.path(), "Demander le RSA (revu)"),
        );
        let report = corrected.follow_template_corrections().await.unwrap();
        assert_eq!((report.noted, report.unaffected), (1, 1));
        // Once per step and template version.
        let again = corrected.follow_template_corrections().await.unwrap();
        assert_eq!((again.noted, again.unaffected), (0, 0));

        let read = corrected.plan_detail(&w.person, w.plan).await.unwrap();
        let title_of = |id| {
            read.steps
                .iter()
                .find(|s| s.id == id)
                .unwrap()
                .content
                .french_title()
                .to_owned()
        };
        assert_eq!(title_of(following.id), "Demander le RSA (revu)");
        assert_eq!(title_of(adapted.id), "Demander le RSA avec Camille");

        let history = corrected.history(&w.person, w.plan).await.unwrap();
        let notes: Vec<_> = history
            .iter()
            .filter(|l| l.event.action == peps_core::plans::PlanAction::TemplateCorrected)
            .collect();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].event.step, Some(following.id));
        assert_eq!(notes[0].event.fields(), vec!["title"]);
    })
    .await;
}

#[tokio::test]
async fn an_adapted_field_stays_and_setting_it_back_follows_the_template_again() {
    for_each_backend(|backend| async move {
        let (w, service) = world(backend).await;
        let template_title = TemplateLibrary::builtin().get(RSA).unwrap().texts["fr"]
            .title
            .clone();
        let step = rsa_step(
            &service,
            &w,
            StepDraft {
                title: Some("Demander le RSA avec Camille".into()),
                ..StepDraft::default()
            },
        )
        .await
        .step;
        assert_eq!(step.content.own_fields(), vec!["title"]);
        let back = service
            .update_step(
                &w.referent,
                w.plan,
                step.id,
                step.version,
                StepDraft {
                    title: Some(template_title),
                    ..StepDraft::default()
                },
            )
            .await
            .unwrap()
            .step;
        assert!(back.content.own_fields().is_empty());
        assert!(!back.content.localized("ar").title.fallback);
    })
    .await;
}

#[tokio::test]
async fn every_change_is_a_history_line() {
    for_each_backend(|backend| async move {
        let (w, service) = world(backend).await;
        let step = rsa_step(&service, &w, StepDraft::default()).await.step;
        service
            .update_step(
                &w.referent,
                w.plan,
                step.id,
                step.version,
                StepDraft {
                    tasks: Some(vec!["Appeler la CAF".into()]),
                    ..StepDraft::default()
                },
            )
            .await
            .unwrap();
        let actions: Vec<(String, Vec<String>)> = service
            .history(&w.referent, w.plan)
            .await
            .unwrap()
            .into_iter()
            .map(|l| {
                let fields = l.event.fields().into_iter().map(str::to_owned).collect();
                (l.event.action.as_str().to_owned(), fields)
            })
            .collect();
        assert_eq!(
            actions,
            vec![
                ("plan.created".to_owned(), vec![]),
                ("step.added".to_owned(), vec![]),
                ("step.updated".to_owned(), vec!["tasks".to_owned()]),
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn an_appointment_is_reminded_the_day_before_by_text_message_once() {
    use peps_core::outbox::Recipient;
    use peps_core::ports::OutboxRepository;
    for_each_backend(|backend| async move {
        let db = fresh(backend).await;
        let store = Arc::new(db.store());
        let referent = account(&store, Role::Worker, "camille", None).await;
        // A phone: appointments go by text message when there is one.
        let person = account_with_phone(
            &store,
            Role::Person,
            "rania",
            Some(referent),
            Some("06 12 34 56 78"),
        )
        .await;
        let service = plans(&store, TemplateLibrary::builtin());
        let referent = actor(referent, Role::Worker);
        let plan = service
            .create_plan(&referent, person, "Ressources")
            .await
            .unwrap()
            .plan
            .id;
        // The clock says 2 December 2026, 10:00 in Paris: tomorrow's appointment is reminded,
        // the one in three days not yet.
        for at in ["2026-12-03T14:30:00", "2026-12-05T09:00:00"] {
            service
                .add_step(
                    &referent,
                    plan,
                    NewStep {
                        template: Some(RSA.into()),
                        draft: StepDraft {
                            appointment_at: Some(Some(at.parse().unwrap())),
                            ..StepDraft::default()
                        },
                    },
                )
                .await
                .unwrap();
        }
        let first = service.remind_due().await.unwrap();
        assert_eq!(
            (first.appointments, first.appointments_already_reminded),
            (1, 0),
            "{backend:?}: {first:?}"
        );
        let again = service.remind_due().await.unwrap();
        assert_eq!(
            (again.appointments, again.appointments_already_reminded),
            (0, 1),
            "{backend:?}: {again:?}"
        );
        // Queued once, as a text message in the person's language, with the date and time.
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
        let queued = store
            .claim_due(now, now + chrono::Duration::minutes(5), 100)
            .await
            .unwrap();
        let reminders: Vec<_> = queued
            .iter()
            .filter(|m| m.purpose == "plans.appointment")
            .collect();
        assert_eq!(reminders.len(), 1, "{backend:?}");
        let reminder = reminders[0];
        assert!(matches!(reminder.recipient, Recipient::Sms { .. }));
        assert_eq!(reminder.person, Some(person));
        assert!(reminder.body.contains("14:30"), "{}", reminder.body);
        let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert!(
            reminder
                .body
                .contains(&peps_core::i18n::format_date(date, "ar")),
            "{}",
            reminder.body
        );
        // The two new steps were told too, by text message (the person has no email).
        assert_eq!(
            queued
                .iter()
                .filter(|m| m.purpose == "plans.new_step")
                .count(),
            2
        );
    })
    .await;
}
