//! The outbox's sender (`peps_core::services::Outbox`) on a real database: retries with
//! backoff then parking, the admin's retry, quiet hours, the daily cap, the person's opt-out,
//! and two senders sharing one database without sending a message twice. On SQLite, and on
//! PostgreSQL when `PEPS_TEST_DATABASE_URL` is set.

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use peps_core::clock::Clock;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use peps_core::CoreError;
use peps_core::clock::ManualClock;
use peps_core::domain::*;
use peps_core::outbox::{OutboxMessage, OutboxStatus, Recipient};
use peps_core::policy::Actor;
use peps_core::ports::{
    AccountRepository, AuditLog, NewAccount, Notification, Notifier, NotifyError, OutboxRepository,
    Sms, SmsSender,
};
use peps_core::services::{
    Delivery, Notices, Outbox, OutboxPorts, OutboxSettings, PersonNotice, QuietHours,
};
use peps_store::SeaOrmStore;
use peps_store::testing::{TestBackend, TestStore, backends, fresh};

/// A provider whose answers the test scripts: it fails while `failing` says so, takes
/// `delay` per message, and counts each reference it accepted.
#[derive(Default)]
struct Provider {
    failing: Mutex<Option<bool>>, // Some(permanent)
    delay: Option<std::time::Duration>,
    accepted: Mutex<HashMap<String, u32>>,
    texts: Mutex<Vec<Sms>>,
    emails: Mutex<Vec<Notification>>,
}

impl Provider {
    fn fail(&self, permanent: Option<bool>) {
        *self.failing.lock().unwrap() = permanent;
    }

    async fn take(&self, reference: &str) -> Result<(), NotifyError> {
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        match *self.failing.lock().unwrap() {
            Some(true) => return Err(NotifyError::permanent("400 number refused")),
            Some(false) => return Err(NotifyError::transient("503 try later")),
            None => {}
        }
        *self
            .accepted
            .lock()
            .unwrap()
            .entry(reference.to_owned())
            .or_default() += 1;
        Ok(())
    }
}

#[async_trait]
impl SmsSender for Provider {
    async fn send(&self, sms: &Sms) -> Result<(), NotifyError> {
        self.take(&sms.reference).await?;
        self.texts.lock().unwrap().push(sms.clone());
        Ok(())
    }
}

#[async_trait]
impl Notifier for Provider {
    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        self.take(&n.reference).await?;
        self.emails.lock().unwrap().push(n.clone());
        Ok(())
    }
}

struct World {
    _db: TestStore,
    store: Arc<SeaOrmStore>,
    clock: Arc<ManualClock>,
    provider: Arc<Provider>,
    outbox: Outbox,
    notices: Notices,
    person: Account,
    referent: Actor,
    admin: Actor,
    stranger: Actor,
}

fn paris(d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Europe::Paris
        .with_ymd_and_hms(2026, 12, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

async fn account(
    store: &SeaOrmStore,
    role: Role,
    login: &str,
    phone: Option<&str>,
    referent: Option<AccountId>,
) -> Account {
    let id = AccountId::new();
    let at = paris(1, 9, 0);
    let account = Account {
        id,
        role,
        login: Login::normalise(login),
        email: None,
        phone: phone.map(|p| Phone::parse(p).unwrap()),
        display_name: DisplayName::parse("Amina Diallo").unwrap(),
        language: Language::parse("ar").unwrap(),
        status: AccountStatus::Active,
        created_at: at,
    };
    store
        .create_account(&NewAccount {
            account: account.clone(),
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
    account
}

fn actor(account: &Account) -> Actor {
    Actor {
        account: account.id,
        role: account.role,
        organisations: Vec::new(),
    }
}

async fn world_with(backend: TestBackend, settings: OutboxSettings, provider: Provider) -> World {
    let db = fresh(backend).await;
    let store = Arc::new(db.store());
    let clock = Arc::new(ManualClock::new(paris(3, 10, 0)));
    let referent = account(&store, Role::Worker, "camille", None, None).await;
    let person = account(
        &store,
        Role::Person,
        "amina",
        Some("06 12 34 56 78"),
        Some(referent.id),
    )
    .await;
    let admin = account(&store, Role::Admin, "admin", None, None).await;
    let stranger = account(&store, Role::Worker, "dominique", None, None).await;
    let provider = Arc::new(provider);
    let outbox = Outbox::new(
        OutboxPorts::from_store(store.clone()),
        provider.clone(),
        provider.clone(),
        clock.clone(),
        settings,
    );
    World {
        notices: Notices::new(store.clone(), clock.clone()),
        _db: db,
        store,
        clock,
        provider,
        outbox,
        person,
        referent: actor(&referent),
        admin: actor(&admin),
        stranger: actor(&stranger),
    }
}

async fn world(backend: TestBackend) -> World {
    world_with(backend, OutboxSettings::default(), Provider::default()).await
}

impl World {
    /// Queues `n` notices to the person, as a reminder job would.
    async fn tell_person(&self, n: usize) -> Vec<OutboxMessage> {
        let mut all = Vec::new();
        for _ in 0..n {
            let told = self
                .notices
                .to_person(&self.person, PersonNotice::NewStep)
                .await
                .unwrap();
            assert_eq!(told.delivery, Delivery::Sms);
            self.notices.enqueue(&told.messages).await.unwrap();
            all.extend(told.messages);
        }
        all
    }

    async fn status(&self, id: OutboxId) -> (OutboxStatus, u32) {
        let m = self.store.message(id).await.unwrap();
        (m.status, m.attempts)
    }
}

#[tokio::test]
async fn a_failing_provider_is_retried_with_backoff_then_parked_for_an_admin() {
    for backend in backends() {
        let w = world(backend).await;
        let message = w.tell_person(1).await.remove(0);
        w.provider.fail(Some(false));
        let mut waits = Vec::new();
        for attempt in 1..=10 {
            let report = w.outbox.deliver_due(10).await.unwrap();
            let m = w.store.message(message.id).await.unwrap();
            assert_eq!(m.attempts, attempt, "{backend:?}");
            if attempt < 10 {
                assert_eq!(report.retrying, 1, "{backend:?}");
                // Nothing is tried again before its time.
                assert_eq!(w.outbox.deliver_due(10).await.unwrap().retrying, 0);
                waits.push((m.next_attempt_at - w.clock.now()).num_seconds());
                w.clock.set(m.next_attempt_at);
            } else {
                assert_eq!(report.parked, 1, "{backend:?}");
                assert_eq!(m.status, OutboxStatus::Parked);
                assert_eq!(m.last_error.as_deref(), Some("503 try later"));
            }
        }
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);

        // Only an admin sees and settles it; the person's trail says who did.
        assert!(matches!(
            w.outbox.parked(&w.stranger).await,
            Err(CoreError::Denied)
        ));
        assert!(matches!(
            w.outbox.retry(&w.referent, message.id).await,
            Err(CoreError::Denied)
        ));
        let parked = w.outbox.parked(&w.admin).await.unwrap();
        assert_eq!(parked.len(), 1);
        assert_eq!(parked[0].to_hint, "…78", "never the whole number");
        w.provider.fail(None);
        w.outbox.retry(&w.admin, message.id).await.unwrap();
        assert!(matches!(
            w.outbox.retry(&w.admin, message.id).await,
            Err(CoreError::Conflict("outbox.not_parked"))
        ));
        assert_eq!(w.outbox.deliver_due(10).await.unwrap().sent, 1);
        assert_eq!(w.status(message.id).await.0, OutboxStatus::Sent);
        let texts = w.provider.texts.lock().unwrap().clone();
        assert_eq!(texts.len(), 1);
        assert_eq!(texts[0].reference, message.id.to_string());
        assert_eq!(texts[0].language.code(), "ar");
        let trail = w.store.events_for(w.person.id, 10).await.unwrap();
        assert!(
            trail
                .iter()
                .any(|e| e.action == AuditAction::NoticeRetried && e.actor == Some(w.admin.account)),
            "{trail:?}"
        );
    }
}

#[tokio::test]
async fn a_refused_message_is_parked_at_once_and_can_be_discarded() {
    for backend in backends() {
        let w = world(backend).await;
        let message = w.tell_person(1).await.remove(0);
        w.provider.fail(Some(true));
        assert_eq!(w.outbox.deliver_due(10).await.unwrap().parked, 1);
        assert_eq!(w.status(message.id).await, (OutboxStatus::Parked, 1));
        w.outbox.discard(&w.admin, message.id).await.unwrap();
        assert!(w.store.message(message.id).await.is_err());
        assert!(matches!(
            w.outbox.discard(&w.admin, message.id).await,
            Err(CoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn text_messages_wait_for_the_end_of_quiet_hours_and_emails_do_not() {
    for backend in backends() {
        let w = world(backend).await;
        w.clock.set(paris(3, 21, 15));
        let text = w.tell_person(1).await.remove(0);
        let email = OutboxMessage::new(
            Recipient::Email {
                to: Email::parse("camille@ccas.example.org").unwrap(),
                subject: "Amina a écrit".into(),
            },
            Language::french(),
            "Bonjour".into(),
            None,
            "plans.worker_update",
            w.clock.now(),
        );
        w.store.enqueue(std::slice::from_ref(&email)).await.unwrap();
        let report = w.outbox.deliver_due(10).await.unwrap();
        assert_eq!((report.sent, report.postponed), (1, 1), "{backend:?}");
        let held = w.store.message(text.id).await.unwrap();
        assert_eq!(held.next_attempt_at, paris(4, 8, 30));
        assert_eq!(held.attempts, 0, "waiting is not failing");
        w.clock.set(paris(4, 8, 30));
        assert_eq!(w.outbox.deliver_due(10).await.unwrap().sent, 1);
    }
}

#[tokio::test]
async fn a_person_gets_at_most_the_daily_cap_of_text_messages_and_the_rest_later() {
    for backend in backends() {
        let settings = OutboxSettings {
            sms_per_person_per_day: 2,
            quiet_hours: Some(QuietHours::parse("22:00-07:00").unwrap()),
            ..OutboxSettings::default()
        };
        let w = world_with(backend, settings, Provider::default()).await;
        w.tell_person(3).await;
        let report = w.outbox.deliver_due(10).await.unwrap();
        assert_eq!((report.sent, report.postponed), (2, 1), "{backend:?}");
        // An hour later the cap still holds; a day later the third goes.
        w.clock.set(paris(3, 11, 0));
        assert_eq!(w.outbox.deliver_due(10).await.unwrap().postponed, 1);
        w.clock.set(paris(4, 10, 1));
        assert_eq!(w.outbox.deliver_due(10).await.unwrap().sent, 1);
    }
}

#[tokio::test]
async fn a_person_who_stops_text_messages_gets_none_but_alerts() {
    for backend in backends() {
        let w = world(backend).await;
        let queued_before = w.tell_person(1).await.remove(0);
        let me = actor(&w.person);
        // Another worker may not choose for the person; their referent may, at the counter.
        assert!(matches!(
            w.outbox
                .set_text_messages(&w.stranger, w.person.id, false)
                .await,
            Err(CoreError::NotFound)
        ));
        w.outbox
            .set_text_messages(&me, w.person.id, false)
            .await
            .unwrap();
        assert!(
            !w.outbox
                .text_messages_wanted(&w.referent, w.person.id)
                .await
                .unwrap()
        );
        let told = w
            .notices
            .to_person(&w.person, PersonNotice::NewStep)
            .await
            .unwrap();
        assert_eq!(told.delivery, Delivery::NoChannel, "{backend:?}");
        // What was queued before the choice is withheld, for the admin to discard.
        let report = w.outbox.deliver_due(10).await.unwrap();
        assert_eq!((report.sent, report.parked), (0, 1));
        assert_eq!(w.status(queued_before.id).await.0, OutboxStatus::Parked);
        // An alert still goes.
        let alert = w.notices.alert(
            &w.person,
            peps_core::services::Alert::PasswordReset,
            &[("worker", "Camille")],
        );
        w.notices.enqueue(&alert.messages).await.unwrap();
        assert_eq!(w.outbox.deliver_due(10).await.unwrap().sent, 1);
        w.outbox
            .set_text_messages(&w.referent, w.person.id, true)
            .await
            .unwrap();
        let trail = w.store.events_for(w.person.id, 10).await.unwrap();
        let actions: Vec<AuditAction> = trail.iter().map(|e| e.action).collect();
        assert!(actions.contains(&AuditAction::TextMessagesStopped));
        assert!(actions.contains(&AuditAction::TextMessagesResumed));
    }
}

#[tokio::test]
async fn two_senders_on_one_database_send_each_message_once() {
    for backend in backends() {
        let provider = Provider {
            delay: Some(std::time::Duration::from_millis(5)),
            ..Provider::default()
        };
        let settings = OutboxSettings {
            batch: 5,
            sms_per_person_per_day: 0,
            ..OutboxSettings::default()
        };
        let w = world_with(backend, settings.clone(), provider).await;
        let queued = w.tell_person(40).await;
        let second = Outbox::new(
            OutboxPorts::from_store(w.store.clone()),
            w.provider.clone(),
            w.provider.clone(),
            w.clock.clone(),
            settings,
        );
        let (a, b) = tokio::join!(w.outbox.deliver_due(100), second.deliver_due(100));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.sent + b.sent, 40, "{backend:?}: {a:?} {b:?}");
        let accepted = w.provider.accepted.lock().unwrap().clone();
        assert_eq!(accepted.len(), 40);
        assert!(accepted.values().all(|n| *n == 1), "a message went twice");
        for m in queued {
            assert_eq!(w.status(m.id).await.0, OutboxStatus::Sent);
        }
    }
}
