//! Conformance suite of the [`PlanRepository`] port. Every adapter runs it, each check on a
//! fresh store:
//!
//! ```ignore
//! peps_core::testing::plan_conformance::run_all(|| async { MyStore::fresh().await }).await;
//! ```

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use std::future::Future;

use crate::catalogue::Provenance;
use crate::domain::*;
use crate::error::{Conflict, StoreError};
use crate::plans::*;
use crate::ports::*;

/// What a store must implement to hold plans (plans belong to accounts).
pub trait PlanStore: PlanRepository + AccountRepository {}
impl<T: PlanRepository + AccountRepository> PlanStore for T {}

super::checks!(PlanStore;
    plans_round_trip,
    plan_updates_are_versioned,
    steps_append_in_order_and_round_trip,
    step_updates_are_versioned_and_keep_their_place,
    reorder_needs_every_step_once,
    messages_and_history_in_order,
    due_steps_and_reminders,
    steps_keep_only_what_the_worker_wrote,
    a_plan_in_full_reads_as_its_parts,
);

pub async fn run_all<S, F, Fut>(fresh: F)
where
    S: PlanStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    super::run_each("plans", checks::<S>(), fresh).await;
}

pub(super) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap() + Duration::microseconds(321_654)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub(super) async fn account<S: PlanStore>(store: &S, role: Role, login: &str) -> AccountId {
    let account = Account {
        id: AccountId::new(),
        role,
        login: Login::normalise(login),
        email: None,
        phone: None,
        display_name: DisplayName::parse("Amina Diallo").unwrap(),
        language: Language::parse("ar").unwrap(),
        status: AccountStatus::Active,
        created_at: t0(),
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
    account.id
}

pub(super) fn event(
    plan: PlanId,
    step: Option<StepId>,
    actor: AccountId,
    action: &str,
) -> PlanEvent {
    let action = PlanAction::parse(action).expect("a known plan action");
    PlanEvent {
        id: PlanEventId::new(),
        plan,
        step,
        at: t0(),
        actor,
        actor_role: Role::Worker,
        action,
        detail: serde_json::json!({ "fields": ["title"] }),
        outbox: Vec::new(),
    }
}

pub(super) fn plan(person: AccountId, worker: AccountId, at: DateTime<Utc>) -> Plan {
    let mut title = TranslatableText::new(String::from("Logement — « accès »"));
    title.translate("ar", "السكن".into(), Provenance::Machine);
    Plan {
        id: PlanId::new(),
        person,
        title,
        status: PlanStatus::Active,
        workers: [worker].into(),
        created_by: worker,
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

pub(super) fn step(plan: PlanId, worker: AccountId, title: &str) -> Step {
    let mut content = StepContent::free(StepTexts {
        title: title.to_owned(),
        explanation: "Avec l'avis d'imposition ; prévoir 1 h.".into(),
        tasks: vec!["Prendre rendez-vous".into(), "Y aller".into()],
    });
    content.translate(
        "ti",
        StepTexts {
            title: "ቆጸራ".into(),
            explanation: "ምስ".into(),
            tasks: vec!["ሓደ".into(), "ክልተ".into()],
        },
        Provenance::Machine,
    );
    Step {
        id: StepId::new(),
        plan,
        position: 99,
        template: Some(TemplateRef {
            id: "demander-le-rsa".into(),
            version: "0123456789abcdef.0123456789abcdef.0123456789abcdef".into(),
        }),
        content,
        who_acts: WhoActs::Person,
        orientation: Some(Orientation::Place {
            name: "CCAS d'Auxerre".into(),
            address: Some("1 rue de la Paix, 89000 Auxerre".into()),
            phone: Some("03 86 00 00 00".into()),
            email: None,
            url: None,
        }),
        due_on: Some(day(2026, 3, 20)),
        appointment_at: Some(day(2026, 3, 18).and_hms_opt(14, 30, 0).unwrap()),
        documents: vec!["identity".into(), "tax_notice".into()],
        status: StepStatus::Planned,
        status_changed_at: t0(),
        status_changed_by: worker,
        private_note: Some("Ne pas appeler le matin.".into()),
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    }
}

async fn plans_round_trip<S: PlanStore>(store: &S) {
    let person = account(store, Role::Person, "amina").await;
    let worker = account(store, Role::Worker, "camille").await;
    let older = plan(person, worker, t0());
    let newer = plan(person, worker, t0() + Duration::days(1));
    store
        .create_plan(&older, &event(older.id, None, worker, "plan.created"))
        .await
        .unwrap();
    store
        .create_plan(&newer, &event(newer.id, None, worker, "plan.created"))
        .await
        .unwrap();
    assert_eq!(store.plan(older.id).await.unwrap(), older);
    let listed: Vec<PlanId> = store
        .plans_of(person)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(listed, vec![newer.id, older.id], "newest first");
    assert!(store.plans_of(worker).await.unwrap().is_empty());

    assert!(matches!(
        store
            .create_plan(&older, &event(older.id, None, worker, "plan.created"))
            .await,
        Err(StoreError::Conflict(Conflict::Duplicate))
    ));
    let orphan = plan(AccountId::new(), worker, t0());
    assert!(matches!(
        store
            .create_plan(&orphan, &event(orphan.id, None, worker, "plan.created"))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.plan(PlanId::new()).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.plan_history(older.id).await.unwrap().len(), 1);
}

async fn plan_updates_are_versioned<S: PlanStore>(store: &S) {
    let person = account(store, Role::Person, "amina").await;
    let worker = account(store, Role::Worker, "camille").await;
    let colleague = account(store, Role::Worker, "nadia").await;
    let original = plan(person, worker, t0());
    store
        .create_plan(&original, &event(original.id, None, worker, "plan.created"))
        .await
        .unwrap();

    let mut changed = original.clone();
    changed.title.set_french("Emploi".into());
    changed.status = PlanStatus::Closed;
    changed.workers = [colleague].into();
    changed.version = 2;
    changed.updated_at = t0() + Duration::hours(1);
    store
        .update_plan(
            &changed,
            1,
            &[event(original.id, None, worker, "plan.updated")],
        )
        .await
        .unwrap();
    assert_eq!(store.plan(original.id).await.unwrap(), changed);

    let mut stale = changed.clone();
    stale.title.set_french("Santé".into());
    stale.version = 3;
    assert!(matches!(
        store
            .update_plan(
                &stale,
                1,
                &[event(original.id, None, worker, "plan.updated")]
            )
            .await,
        Err(StoreError::Stale)
    ));
    assert_eq!(
        store.plan(original.id).await.unwrap(),
        changed,
        "nothing written"
    );
    assert_eq!(
        store.plan_history(original.id).await.unwrap().len(),
        2,
        "no history line for a refused write"
    );
    let mut unknown = changed.clone();
    unknown.id = PlanId::new();
    assert!(matches!(
        store.update_plan(&unknown, 2, &[]).await,
        Err(StoreError::NotFound)
    ));
}

async fn steps_append_in_order_and_round_trip<S: PlanStore>(store: &S) {
    let person = account(store, Role::Person, "amina").await;
    let worker = account(store, Role::Worker, "camille").await;
    let p = plan(person, worker, t0());
    store
        .create_plan(&p, &event(p.id, None, worker, "plan.created"))
        .await
        .unwrap();
    let mut added = Vec::new();
    for (i, title) in ["Un", "Deux", "Trois"].into_iter().enumerate() {
        let mut s = step(p.id, worker, title);
        if i == 1 {
            s.orientation = Some(Orientation::Offer {
                offer: OfferId::new(),
            });
            s.due_on = None;
            s.appointment_at = None;
            s.private_note = None;
            s.template = None;
            s.who_acts = WhoActs::Referent;
        }
        let position = store
            .add_step(&s, &event(p.id, Some(s.id), worker, "step.added"))
            .await
            .unwrap();
        assert_eq!(position, i as u32);
        s.position = position;
        added.push(s);
    }
    assert_eq!(store.steps(p.id).await.unwrap(), added);
    assert_eq!(store.step(added[1].id).await.unwrap(), added[1]);
    let orphan = step(PlanId::new(), worker, "Orphelin");
    assert!(matches!(
        store
            .add_step(
                &orphan,
                &event(orphan.plan, Some(orphan.id), worker, "step.added")
            )
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.step(StepId::new()).await,
        Err(StoreError::NotFound)
    ));
}

async fn step_updates_are_versioned_and_keep_their_place<S: PlanStore>(store: &S) {
    let person = account(store, Role::Person, "amina").await;
    let worker = account(store, Role::Worker, "camille").await;
    let p = plan(person, worker, t0());
    store
        .create_plan(&p, &event(p.id, None, worker, "plan.created"))
        .await
        .unwrap();
    let first = step(p.id, worker, "Un");
    store
        .add_step(&first, &event(p.id, Some(first.id), worker, "step.added"))
        .await
        .unwrap();
    let second = step(p.id, worker, "Deux");
    store
        .add_step(&second, &event(p.id, Some(second.id), worker, "step.added"))
        .await
        .unwrap();

    let mut done = store.step(second.id).await.unwrap();
    done.status = StepStatus::Done;
    done.status_changed_by = person;
    done.position = 0; // an edit never moves a step
    done.version = 2;
    store
        .update_step(
            &done,
            1,
            &[event(p.id, Some(done.id), person, "step.status_changed")],
        )
        .await
        .unwrap();
    let read = store.step(second.id).await.unwrap();
    assert_eq!(
        (read.status, read.position, read.version),
        (StepStatus::Done, 1, 2)
    );
    assert_eq!(read.status_changed_by, person);

    let mut stale = read.clone();
    stale.status = StepStatus::OnHold;
    assert!(matches!(
        store.update_step(&stale, 1, &[]).await,
        Err(StoreError::Stale)
    ));
    assert_eq!(
        store.step(second.id).await.unwrap().status,
        StepStatus::Done
    );
    let mut unknown = read;
    unknown.id = StepId::new();
    assert!(matches!(
        store.update_step(&unknown, 2, &[]).await,
        Err(StoreError::NotFound)
    ));
}

async fn reorder_needs_every_step_once<S: PlanStore>(store: &S) {
    let person = account(store, Role::Person, "amina").await;
    let worker = account(store, Role::Worker, "camille").await;
    let p = plan(person, worker, t0());
    store
        .create_plan(&p, &event(p.id, None, worker, "plan.created"))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for title in ["Un", "Deux", "Trois"] {
        let s = step(p.id, worker, title);
        store
            .add_step(&s, &event(p.id, Some(s.id), worker, "step.added"))
            .await
            .unwrap();
        ids.push(s.id);
    }
    let reorder = |order: Vec<StepId>| {
        let e = event(p.id, None, worker, "steps.reordered");
        async move { store.reorder_steps(p.id, &order, &e).await }
    };
    for bad in [
        vec![ids[0], ids[1]],
        vec![ids[0], ids[1], ids[1]],
        vec![ids[0], ids[1], ids[2], StepId::new()],
        vec![ids[0], ids[1], StepId::new()],
    ] {
        assert!(matches!(reorder(bad).await, Err(StoreError::Stale)));
    }
    let order: Vec<StepId> = store
        .steps(p.id)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(order, ids, "refused reorders change nothing");
    reorder(vec![ids[2], ids[0], ids[1]]).await.unwrap();
    let read = store.steps(p.id).await.unwrap();
    let order: Vec<StepId> = read.iter().map(|s| s.id).collect();
    assert_eq!(order, vec![ids[2], ids[0], ids[1]]);
    let positions: Vec<u32> = read.iter().map(|s| s.position).collect();
    assert_eq!(positions, vec![0, 1, 2]);
    let e = event(p.id, None, worker, "steps.reordered");
    assert!(matches!(
        store.reorder_steps(PlanId::new(), &[], &e).await,
        Err(StoreError::NotFound)
    ));
    // A step added after a reorder goes to the end.
    let last = step(p.id, worker, "Quatre");
    let position = store
        .add_step(&last, &event(p.id, Some(last.id), worker, "step.added"))
        .await
        .unwrap();
    assert_eq!(position, 3);
}

async fn messages_and_history_in_order<S: PlanStore>(store: &S) {
    let person = account(store, Role::Person, "amina").await;
    let worker = account(store, Role::Worker, "camille").await;
    let p = plan(person, worker, t0());
    store
        .create_plan(&p, &event(p.id, None, worker, "plan.created"))
        .await
        .unwrap();
    let s = step(p.id, worker, "Un");
    store
        .add_step(&s, &event(p.id, Some(s.id), worker, "step.added"))
        .await
        .unwrap();
    let mut posted = Vec::new();
    for (i, (author, role, body)) in [
        (
            person,
            Role::Person,
            "Je n'ai pas l'avis d'imposition, que faire ?",
        ),
        (
            worker,
            Role::Worker,
            "Demandez-le au centre des impôts : « duplicata ».",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let m = StepMessage {
            id: StepMessageId::new(),
            plan: p.id,
            step: s.id,
            author,
            author_role: role,
            body: body.to_owned(),
            at: t0() + Duration::minutes(i as i64),
        };
        let mut e = event(p.id, Some(s.id), author, "step.message_posted");
        e.actor_role = role;
        e.detail = serde_json::json!({});
        store.add_message(&m, &e).await.unwrap();
        posted.push(m);
    }
    assert_eq!(store.messages(s.id).await.unwrap(), posted);
    assert!(store.messages(StepId::new()).await.unwrap().is_empty());
    let stray = StepMessage {
        step: StepId::new(),
        ..posted[0].clone()
    };
    assert!(matches!(
        store
            .add_message(&stray, &event(p.id, None, person, "step.message_posted"))
            .await,
        Err(StoreError::NotFound)
    ));

    let history = store.plan_history(p.id).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "plan.created",
            "step.added",
            "step.message_posted",
            "step.message_posted"
        ]
    );
    assert_eq!(history[2].actor, person);
    assert_eq!(history[2].actor_role, Role::Person);
    assert_eq!(history[1].step, Some(s.id));
    assert_eq!(
        history[1].detail,
        serde_json::json!({ "fields": ["title"] })
    );
}

async fn due_steps_and_reminders<S: PlanStore>(store: &S) {
    let person = account(store, Role::Person, "amina").await;
    let worker = account(store, Role::Worker, "camille").await;
    let active = plan(person, worker, t0());
    let mut closed = plan(person, worker, t0());
    closed.status = PlanStatus::Closed;
    for p in [&active, &closed] {
        store
            .create_plan(p, &event(p.id, None, worker, "plan.created"))
            .await
            .unwrap();
    }
    let due = |plan: PlanId, on: Option<NaiveDate>, status: StepStatus| {
        let mut s = step(plan, worker, "Échéance");
        s.due_on = on;
        s.status = status;
        s
    };
    let soon = due(active.id, Some(day(2026, 3, 5)), StepStatus::Planned);
    let started = due(active.id, Some(day(2026, 3, 3)), StepStatus::InProgress);
    let finished = due(active.id, Some(day(2026, 3, 4)), StepStatus::Done);
    let later = due(active.id, Some(day(2026, 4, 1)), StepStatus::Planned);
    let undated = due(active.id, None, StepStatus::Planned);
    let in_closed_plan = due(closed.id, Some(day(2026, 3, 4)), StepStatus::Planned);
    for s in [
        &soon,
        &started,
        &finished,
        &later,
        &undated,
        &in_closed_plan,
    ] {
        store
            .add_step(s, &event(s.plan, Some(s.id), worker, "step.added"))
            .await
            .unwrap();
    }
    let found: Vec<StepId> = store
        .steps_due(day(2026, 3, 1), day(2026, 3, 5))
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        found,
        vec![started.id, soon.id],
        "open steps of active plans, soonest first"
    );

    assert!(
        store
            .record_due_reminder(soon.id, day(2026, 3, 5), t0())
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_due_reminder(soon.id, day(2026, 3, 5), t0())
            .await
            .unwrap()
    );
    // A new due date is a new reminder.
    assert!(
        store
            .record_due_reminder(soon.id, day(2026, 3, 9), t0())
            .await
            .unwrap()
    );
    assert!(matches!(
        store
            .record_due_reminder(StepId::new(), day(2026, 3, 5), t0())
            .await,
        Err(StoreError::NotFound)
    ));
}

/// A step that follows a template stores its reference and only the fields the worker adapted
/// (lean texts); the store lists the template references for the start-up check.
async fn steps_keep_only_what_the_worker_wrote<S: PlanStore>(store: &S) {
    let person = account(store, Role::Person, "amina").await;
    let worker = account(store, Role::Worker, "camille").await;
    let p = plan(person, worker, t0());
    store
        .create_plan(&p, &event(p.id, None, worker, "plan.created"))
        .await
        .unwrap();
    let mut adapted = step(p.id, worker, "Un");
    adapted.content = StepContent::default();
    adapted.content.explanation = Some("Votre référent vous aide mardi.".into());
    let mut free = step(p.id, worker, "Deux");
    free.template = None;
    for s in [&adapted, &free] {
        store
            .add_step(s, &event(p.id, Some(s.id), worker, "step.added"))
            .await
            .unwrap();
    }
    let read = store.step(adapted.id).await.unwrap();
    assert_eq!(read.content, adapted.content);
    assert_eq!(read.content.own_fields(), vec!["explanation"]);
    assert_eq!(read.template, adapted.template);
    assert_eq!(
        store.template_references().await.unwrap(),
        vec![(adapted.id, adapted.template.clone().unwrap())]
    );

    // Following a corrected template is an update of the reference, versioned as any.
    let mut moved_on = read.clone();
    moved_on.template = Some(TemplateRef {
        id: "demander-le-rsa".into(),
        version: "fedcba9876543210.0123456789abcdef.0123456789abcdef".into(),
    });
    moved_on.version = 2;
    store.update_step(&moved_on, 1, &[]).await.unwrap();
    assert_eq!(
        store.template_references().await.unwrap()[0].1,
        moved_on.template.clone().unwrap()
    );
    assert!(matches!(
        store.update_step(&moved_on, 1, &[]).await,
        Err(StoreError::Stale)
    ));
}

/// The one-read plan is the plan, its person and its steps as read one by one: in order, each
/// step once however many workers the plan has, and nothing of another plan.
async fn a_plan_in_full_reads_as_its_parts<S: PlanStore>(store: &S) {
    let person = account(store, Role::Person, "amina").await;
    let worker = account(store, Role::Worker, "camille").await;
    let colleague = account(store, Role::Worker, "nadia").await;
    let mut shared = plan(person, worker, t0());
    shared.workers = [worker, colleague].into();
    let bare = Plan {
        workers: Default::default(),
        ..plan(person, worker, t0() + Duration::days(1))
    };
    for p in [&shared, &bare] {
        store
            .create_plan(p, &event(p.id, None, worker, "plan.created"))
            .await
            .unwrap();
    }
    let mut ids = Vec::new();
    for title in ["Un", "Deux", "Trois"] {
        let s = step(shared.id, worker, title);
        ids.push(s.id);
        store
            .add_step(&s, &event(shared.id, Some(s.id), worker, "step.added"))
            .await
            .unwrap();
    }
    let reordered = [ids[2], ids[0], ids[1]];
    store
        .reorder_steps(
            shared.id,
            &reordered,
            &event(shared.id, None, worker, "steps.reordered"),
        )
        .await
        .unwrap();

    let full = store.plan_in_full(shared.id).await.unwrap();
    assert_eq!(full.plan, store.plan(shared.id).await.unwrap());
    assert_eq!(full.plan.workers, shared.workers, "both workers, once each");
    assert_eq!(full.person, store.account(person).await.unwrap());
    assert_eq!(full.steps, store.steps(shared.id).await.unwrap());
    let order: Vec<StepId> = full.steps.iter().map(|s| s.id).collect();
    assert_eq!(order, reordered, "each step once, in the plan's order");

    let empty = store.plan_in_full(bare.id).await.unwrap();
    assert_eq!(empty.plan, bare);
    assert!(empty.steps.is_empty());
    assert!(matches!(
        store.plan_in_full(PlanId::new()).await,
        Err(StoreError::NotFound)
    ));
}
