//! Conformance suite of the [`OutboxRepository`] port: dedupe keys, exclusive claims that
//! lapse, retries and parking, the figures for the rate cap, and above all that a message
//! riding on a change is written with it or not at all.

use chrono::Duration;
use std::future::Future;

use super::plans::{account, event, plan, step, t0};
use crate::domain::*;
use crate::error::StoreError;
use crate::outbox::{OutboxMessage, OutboxStatus, Recipient};
use crate::plans::StepStatus;
use crate::ports::*;

/// What a store must implement to hold the outbox (messages ride on plan and wallet writes).
pub trait OutboxStore:
    OutboxRepository + PlanRepository + AccountRepository + SessionRepository + RelationRepository
{
}
impl<
    T: OutboxRepository + PlanRepository + AccountRepository + SessionRepository + RelationRepository,
> OutboxStore for T
{
}

super::checks!(OutboxStore;
    messages_round_trip,
    enqueue_skips_known_dedupe_keys,
    claims_are_exclusive_and_lapse,
    failures_retry_then_park,
    sent_text_messages_count_and_are_purged,
    opt_outs_round_trip,
    messages_ride_on_the_change_that_causes_them,
    alerts_ride_on_the_reset_code_and_the_mandate,
);

pub async fn run_all<S, F, Fut>(fresh: F)
where
    S: OutboxStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    super::run_each("outbox", checks::<S>(), fresh).await;
}

fn sms(person: Option<AccountId>, purpose: &str) -> OutboxMessage {
    OutboxMessage::new(
        Recipient::Sms {
            to: Phone::parse("+33 6 12 34 56 78").unwrap(),
        },
        Language::parse("ar").unwrap(),
        "لديك خطوة جديدة في خطتك.".into(),
        person,
        purpose,
        t0(),
    )
}

fn email(person: Option<AccountId>) -> OutboxMessage {
    OutboxMessage::new(
        Recipient::Email {
            to: Email::parse("amina@example.org").unwrap(),
            subject: "Votre plan a changé".into(),
        },
        Language::french(),
        "Une étape a changé.\nConnectez-vous pour la lire.".into(),
        person,
        "plans.step_changed",
        t0(),
    )
}

async fn messages_round_trip<S: OutboxStore>(store: &S) {
    let person = AccountId::new();
    let a = sms(Some(person), "plans.new_step");
    let b = email(None).with_dedupe_key("due:x:2026-03-02");
    assert_eq!(store.enqueue(&[a.clone(), b.clone()]).await.unwrap(), 2);
    assert_eq!(store.message(a.id).await.unwrap(), a);
    assert_eq!(store.message(b.id).await.unwrap(), b);
    assert!(matches!(
        store.message(OutboxId::new()).await,
        Err(StoreError::NotFound)
    ));
    let mut claimed = store
        .claim_due(t0(), t0() + Duration::minutes(1), 10)
        .await
        .unwrap();
    claimed.sort_by_key(|m| m.purpose.clone());
    assert_eq!(claimed, vec![a, b]);
}

async fn enqueue_skips_known_dedupe_keys<S: OutboxStore>(store: &S) {
    let first = email(None).with_dedupe_key("due:amina:2026-03-02");
    let again = email(None).with_dedupe_key("due:amina:2026-03-02");
    let other = email(None).with_dedupe_key("due:amina:2026-03-09");
    let unkeyed = email(None);
    assert_eq!(
        store
            .enqueue(&[first.clone(), again.clone(), other, unkeyed])
            .await
            .unwrap(),
        3
    );
    // Even once sent, the key stays known: a job run again sends nothing twice.
    store.mark_sent(first.id, t0()).await.unwrap();
    let later = email(None).with_dedupe_key("due:amina:2026-03-02");
    assert_eq!(store.enqueue(&[later]).await.unwrap(), 0);
    assert!(matches!(
        store.message(again.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.counts().await.unwrap().pending, 2);
}

async fn claims_are_exclusive_and_lapse<S: OutboxStore>(store: &S) {
    let now = t0();
    let mut later = email(None);
    later.next_attempt_at = now + Duration::hours(1);
    let due: Vec<OutboxMessage> = (0..3).map(|_| email(None)).collect();
    store.enqueue(&due).await.unwrap();
    store.enqueue(std::slice::from_ref(&later)).await.unwrap();

    let until = now + Duration::minutes(5);
    let a = store.claim_due(now, until, 2).await.unwrap();
    let b = store.claim_due(now, until, 10).await.unwrap();
    assert_eq!((a.len(), b.len()), (2, 1), "no message is claimed twice");
    assert!(a.iter().all(|m| !b.contains(m)));
    assert!(store.claim_due(now, until, 10).await.unwrap().is_empty());

    // A sender that died leaves its claims to lapse; the message is then claimed again.
    let after = until + Duration::seconds(1);
    let again = store
        .claim_due(after, after + Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 3, "lapsed claims are claimed again");
    assert!(!again.iter().any(|m| m.id == later.id), "not due yet");
}

async fn failures_retry_then_park<S: OutboxStore>(store: &S) {
    let now = t0();
    let m = sms(None, "wallet.document_added");
    store.enqueue(std::slice::from_ref(&m)).await.unwrap();
    store
        .claim_due(now, now + Duration::minutes(5), 10)
        .await
        .unwrap();
    let retry_at = now + Duration::seconds(30);
    store
        .record_failure(m.id, 1, "HTTP 503 from the provider", Some(retry_at))
        .await
        .unwrap();
    let read = store.message(m.id).await.unwrap();
    assert_eq!(
        (read.status, read.attempts, read.next_attempt_at),
        (OutboxStatus::Pending, 1, retry_at)
    );
    assert_eq!(
        read.last_error.as_deref(),
        Some("HTTP 503 from the provider")
    );
    assert!(
        store
            .claim_due(now + Duration::seconds(10), now + Duration::minutes(5), 10)
            .await
            .unwrap()
            .is_empty(),
        "the failure released the claim but the retry is not due yet"
    );
    let claimed = store
        .claim_due(retry_at, retry_at + Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);

    // Postponing counts no attempt.
    let morning = retry_at + Duration::hours(8);
    store.postpone(m.id, morning).await.unwrap();
    let read = store.message(m.id).await.unwrap();
    assert_eq!((read.attempts, read.next_attempt_at), (1, morning));

    store
        .claim_due(morning, morning + Duration::minutes(5), 10)
        .await
        .unwrap();
    store
        .record_failure(m.id, 2, "number refused", None)
        .await
        .unwrap();
    assert_eq!(
        store.message(m.id).await.unwrap().status,
        OutboxStatus::Parked
    );
    assert!(
        store
            .claim_due(morning + Duration::days(1), morning + Duration::days(2), 10)
            .await
            .unwrap()
            .is_empty(),
        "a parked message is never claimed"
    );
    assert!(matches!(
        store.record_failure(m.id, 3, "again", None).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .parked(10)
            .await
            .unwrap()
            .iter()
            .map(|p| p.id)
            .collect::<Vec<_>>(),
        vec![m.id]
    );
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.pending, counts.parked, counts.sent), (0, 1, 0));

    store.requeue(m.id, morning).await.unwrap();
    let read = store.message(m.id).await.unwrap();
    assert_eq!((read.status, read.attempts), (OutboxStatus::Pending, 0));
    assert!(matches!(
        store.requeue(m.id, morning).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        matches!(store.discard(m.id).await, Err(StoreError::NotFound)),
        "only a parked message is discarded"
    );
    store
        .record_failure(m.id, 1, "number refused", None)
        .await
        .unwrap();
    store.discard(m.id).await.unwrap();
    assert!(matches!(
        store.message(m.id).await,
        Err(StoreError::NotFound)
    ));
}

async fn sent_text_messages_count_and_are_purged<S: OutboxStore>(store: &S) {
    let person = AccountId::new();
    let other = AccountId::new();
    let texts = [
        sms(Some(person), "plans.new_step"),
        sms(Some(person), "plans.message"),
        sms(Some(other), "plans.message"),
    ];
    let mail = email(Some(person));
    store.enqueue(&texts).await.unwrap();
    store.enqueue(std::slice::from_ref(&mail)).await.unwrap();
    store.mark_sent(texts[0].id, t0()).await.unwrap();
    store
        .mark_sent(texts[1].id, t0() + Duration::hours(2))
        .await
        .unwrap();
    store.mark_sent(texts[2].id, t0()).await.unwrap();
    store.mark_sent(mail.id, t0()).await.unwrap();
    assert_eq!(store.sms_sent_to(person, t0()).await.unwrap(), 2);
    assert_eq!(
        store
            .sms_sent_to(person, t0() + Duration::hours(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.sms_sent_to(AccountId::new(), t0()).await.unwrap(), 0);
    assert_eq!(
        store.purge_sent(t0() + Duration::hours(1)).await.unwrap(),
        3
    );
    assert_eq!(store.counts().await.unwrap().sent, 1);
    assert!(matches!(
        store.mark_sent(OutboxId::new(), t0()).await,
        Err(StoreError::NotFound)
    ));
}

async fn opt_outs_round_trip<S: OutboxStore>(store: &S) {
    let person = AccountId::new();
    assert!(!store.sms_opted_out(person).await.unwrap());
    store.set_sms_opt_out(person, true, t0()).await.unwrap();
    store.set_sms_opt_out(person, true, t0()).await.unwrap();
    assert!(store.sms_opted_out(person).await.unwrap());
    assert!(!store.sms_opted_out(AccountId::new()).await.unwrap());
    store.set_sms_opt_out(person, false, t0()).await.unwrap();
    store.set_sms_opt_out(person, false, t0()).await.unwrap();
    assert!(!store.sms_opted_out(person).await.unwrap());
}

async fn messages_ride_on_the_change_that_causes_them<S: OutboxStore>(store: &S) {
    let person = account(store, Role::Person, "amina").await;
    let worker = account(store, Role::Worker, "camille").await;
    let p = plan(person, worker, t0());
    store
        .create_plan(&p, &event(p.id, None, worker, "plan.created"))
        .await
        .unwrap();
    let s = step(p.id, worker, "Un");
    let told = sms(Some(person), "plans.new_step");
    let mut added = event(p.id, Some(s.id), worker, "step.added");
    added.outbox = vec![told.clone()];
    store.add_step(&s, &added).await.unwrap();
    assert_eq!(store.message(told.id).await.unwrap(), told);
    assert!(
        store
            .plan_history(p.id)
            .await
            .unwrap()
            .iter()
            .all(|e| e.outbox.is_empty()),
        "messages are not part of the history"
    );

    // A write refused for being late writes no message either.
    let mut stale = store.step(s.id).await.unwrap();
    stale.status = StepStatus::Done;
    stale.version = 2;
    let lost = sms(Some(person), "plans.step_changed");
    let mut changed = event(p.id, Some(s.id), person, "step.status_changed");
    changed.outbox = vec![lost.clone()];
    assert!(store.update_step(&stale, 7, &[changed]).await.is_err());
    assert!(matches!(
        store.message(lost.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.counts().await.unwrap().pending, 1);
}

async fn alerts_ride_on_the_reset_code_and_the_mandate<S: OutboxStore>(store: &S) {
    let person = account(store, Role::Person, "amina").await;
    let worker = account(store, Role::Worker, "camille").await;
    let helper = account(store, Role::Helper, "dominique").await;
    let code = ActivationCode {
        id: ActivationId::new(),
        account: person,
        code_hash: "h".into(),
        issued_by: worker,
        created_at: t0(),
        expires_at: t0() + Duration::days(14),
        used_at: None,
        failed_attempts: 0,
    };
    let reset = sms(Some(person), "account.password_reset");
    store
        .create_activation(&code, std::slice::from_ref(&reset))
        .await
        .unwrap();
    assert_eq!(store.message(reset.id).await.unwrap(), reset);

    let mandate = Mandate {
        id: MandateId::new(),
        helper,
        person,
        scopes: [MandateScope::WalletRead].into(),
        starts_at: t0(),
        ends_at: t0() + Duration::days(30),
        created_by: worker,
        created_at: t0(),
        revoked_at: None,
        revoked_by: None,
    };
    // A mandate the store refuses (its helper does not exist) writes no alert either.
    let orphan = Mandate {
        id: MandateId::new(),
        helper: AccountId::new(),
        ..mandate.clone()
    };
    let lost = sms(Some(person), "wallet.path_opened");
    assert!(
        store
            .create_mandate(&orphan, std::slice::from_ref(&lost))
            .await
            .is_err()
    );
    assert!(matches!(
        store.message(lost.id).await,
        Err(StoreError::NotFound)
    ));
    let opened = sms(Some(person), "wallet.path_opened");
    store
        .create_mandate(&mandate, std::slice::from_ref(&opened))
        .await
        .unwrap();
    assert_eq!(store.message(opened.id).await.unwrap(), opened);
}
