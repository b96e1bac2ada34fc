//! The port conformance suite. Every adapter of the identity ports — the in-memory reference,
//! SQLite, PostgreSQL, or an adopter's own — must pass it:
//!
//! ```ignore
//! #[tokio::test]
//! async fn my_store_conforms() {
//!     peps_core::testing::conformance::run_all(|| async { MyStore::fresh().await }).await;
//! }
//! ```
//!
//! Each check gets a fresh, empty store from the factory. Times are whole microseconds, the
//! precision SQL databases keep.

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::future::Future;

use crate::domain::*;
use crate::error::{Conflict, StoreError};
use crate::ports::*;

super::checks!(IdentityStore;
    accounts_round_trip,
    account_creation_is_atomic,
    duplicate_login_is_a_conflict,
    account_updates,
    account_listing_pages_by_id,
    organisations_and_memberships,
    referent_relations,
    mandates,
    sessions,
    second_factors,
    external_links,
    one_time_values,
    sign_in_requests,
    activation_codes,
    throttle_windows,
    audit_log,
    health,
);

/// Runs every check, each on a fresh store from `fresh`, and panics naming the first failure.
pub async fn run_all<S, F, Fut>(fresh: F)
where
    S: IdentityStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    super::run_each("identity", checks::<S>(), fresh).await;
}

/// The audit-log checks alone, for an adapter of just the [`AuditLog`] port.
pub async fn run_audit_log<S, F, Fut>(mut fresh: F)
where
    S: AuditLog,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    audit_log(&fresh().await).await;
}

/// The throttle checks alone, for an adapter of just the [`ThrottleRepository`] port.
pub async fn run_throttle<S, F, Fut>(mut fresh: F)
where
    S: ThrottleRepository,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    throttle_windows(&fresh().await).await;
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap() + Duration::microseconds(123_456)
}

fn person(name: &str, login: &str) -> Account {
    Account {
        id: AccountId::new(),
        role: Role::Person,
        login: Login::normalise(login),
        email: None,
        phone: Some("06 12 34 56 78".parse().unwrap()),
        display_name: DisplayName::parse(name).unwrap(),
        language: Language::parse("ar").unwrap(),
        status: AccountStatus::PendingActivation,
        created_at: t0(),
    }
}

fn staff(role: Role, email: &str) -> Account {
    let email = Email::parse(email).unwrap();
    Account {
        id: AccountId::new(),
        role,
        login: Login::from_email(&email),
        email: Some(email),
        phone: None,
        display_name: DisplayName::parse("Camille Martin").unwrap(),
        language: Language::french(),
        status: AccountStatus::Active,
        created_at: t0(),
    }
}

fn plain(account: &Account) -> NewAccount {
    NewAccount {
        account: account.clone(),
        password_hash: None,
        organisations: vec![],
        referent: None,
        activation: None,
    }
}

fn organisation(name: &str, siret: Option<&str>) -> Organisation {
    Organisation {
        id: OrganisationId::new(),
        name: OrganisationName::parse(name).unwrap(),
        kind: OrganisationKind::SocialService,
        siret: siret.map(|s| Siret::parse(s).unwrap()),
        created_at: t0(),
    }
}

fn activation(account: AccountId, by: AccountId, at: DateTime<Utc>, hash: &str) -> ActivationCode {
    ActivationCode {
        id: ActivationId::new(),
        account,
        code_hash: hash.to_owned(),
        issued_by: by,
        created_at: at,
        expires_at: at + Duration::days(14),
        used_at: None,
        failed_attempts: 0,
    }
}

async fn accounts_round_trip<S: IdentityStore>(store: &S) {
    let worker = staff(Role::Worker, "Worker@Example.fr");
    store.create_account(&plain(&worker)).await.unwrap();
    let marie = person("Marie-Hélène Ndiaye ☀", "marie.ndiaye.0042");
    store.create_account(&plain(&marie)).await.unwrap();

    assert_eq!(store.account(marie.id).await.unwrap(), marie);
    assert_eq!(store.account(worker.id).await.unwrap(), worker);
    assert_eq!(
        store
            .account_by_login(&Login::normalise("MARIE.NDIAYE.0042"))
            .await
            .unwrap(),
        Some(marie.clone())
    );
    assert_eq!(
        store
            .account_by_login(&Login::normalise("nobody"))
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        store.account(AccountId::new()).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.password_hash(marie.id).await.unwrap(), None);
}

async fn account_creation_is_atomic<S: IdentityStore>(store: &S) {
    let org = organisation("CCAS d'Auxerre", None);
    store.create_organisation(&org).await.unwrap();
    let worker = staff(Role::Worker, "w@example.fr");
    let mut new_worker = plain(&worker);
    new_worker.organisations = vec![org.id];
    new_worker.password_hash = Some("$argon2id$fake".into());
    store.create_account(&new_worker).await.unwrap();
    assert_eq!(store.memberships(worker.id).await.unwrap(), vec![org.id]);
    assert_eq!(
        store.password_hash(worker.id).await.unwrap().as_deref(),
        Some("$argon2id$fake")
    );

    let p = person("Ali", "ali.0001");
    let mut new_person = plain(&p);
    new_person.referent = Some(Referent {
        id: ReferentId::new(),
        worker: worker.id,
        person: p.id,
        started_at: t0(),
        ended_at: None,
    });
    new_person.activation = Some(activation(p.id, worker.id, t0(), "hash-1"));
    store.create_account(&new_person).await.unwrap();
    assert_eq!(store.referents_of(p.id).await.unwrap().len(), 1);
    assert!(store.pending_activation(p.id).await.unwrap().is_some());

    // A membership of an unknown organisation fails the whole creation.
    let ghost = staff(Role::Member, "ghost@example.fr");
    let mut bad = plain(&ghost);
    bad.organisations = vec![org.id, OrganisationId::new()];
    bad.activation = Some(activation(ghost.id, worker.id, t0(), "hash-2"));
    assert!(matches!(
        store.create_account(&bad).await,
        Err(StoreError::Conflict(Conflict::MissingReference))
    ));
    assert!(matches!(
        store.account(ghost.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.members(org.id).await.unwrap(), vec![worker.id]);

    // So does a referent that does not exist.
    let q = person("Sana", "sana.0002");
    let mut bad = plain(&q);
    bad.referent = Some(Referent {
        id: ReferentId::new(),
        worker: AccountId::new(),
        person: q.id,
        started_at: t0(),
        ended_at: None,
    });
    assert!(store.create_account(&bad).await.is_err());
    assert!(store.account(q.id).await.is_err());
}

async fn duplicate_login_is_a_conflict<S: IdentityStore>(store: &S) {
    let a = person("Ana", "ana.0001");
    store.create_account(&plain(&a)).await.unwrap();
    let mut b = person("Ana bis", "ana.0001");
    b.display_name = DisplayName::parse("Another Ana").unwrap();
    assert!(matches!(
        store.create_account(&plain(&b)).await,
        Err(StoreError::Conflict(Conflict::Duplicate))
    ));
    assert!(store.account(b.id).await.is_err());
    assert_eq!(store.account(a.id).await.unwrap(), a);
}

async fn account_updates<S: IdentityStore>(store: &S) {
    let a = person("Ana", "ana.0001");
    store.create_account(&plain(&a)).await.unwrap();
    store.set_status(a.id, AccountStatus::Active).await.unwrap();
    store
        .set_language(a.id, &Language::parse("uk").unwrap())
        .await
        .unwrap();
    store.set_password_hash(a.id, "$argon2id$x").await.unwrap();
    let read = store.account(a.id).await.unwrap();
    assert_eq!(read.status, AccountStatus::Active);
    assert_eq!(read.language.code(), "uk");
    assert_eq!(
        store.password_hash(a.id).await.unwrap().as_deref(),
        Some("$argon2id$x")
    );
    store.set_password_hash(a.id, "$argon2id$y").await.unwrap();
    assert_eq!(
        store.password_hash(a.id).await.unwrap().as_deref(),
        Some("$argon2id$y")
    );
    let missing = AccountId::new();
    assert!(matches!(
        store.set_status(missing, AccountStatus::Disabled).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.password_hash(missing).await,
        Err(StoreError::NotFound)
    ));
}

async fn account_listing_pages_by_id<S: IdentityStore>(store: &S) {
    let mut ids = vec![];
    for i in 0..5 {
        let p = person("P", &format!("p.{i:04}"));
        ids.push(p.id);
        store.create_account(&plain(&p)).await.unwrap();
    }
    let w = staff(Role::Worker, "w@example.fr");
    store.create_account(&plain(&w)).await.unwrap();
    ids.sort();

    let first = store
        .list_accounts(Some(Role::Person), None, 3)
        .await
        .unwrap();
    assert_eq!(first.iter().map(|a| a.id).collect::<Vec<_>>(), ids[..3]);
    let rest = store
        .list_accounts(Some(Role::Person), Some(first[2].id), 3)
        .await
        .unwrap();
    assert_eq!(rest.iter().map(|a| a.id).collect::<Vec<_>>(), ids[3..]);
    assert_eq!(store.list_accounts(None, None, 100).await.unwrap().len(), 6);
}

async fn organisations_and_memberships<S: IdentityStore>(store: &S) {
    let b = organisation("Secours populaire", Some("21750001600019"));
    let a = organisation("Aide alimentaire", None);
    store.create_organisation(&b).await.unwrap();
    store.create_organisation(&a).await.unwrap();
    assert_eq!(store.organisation(b.id).await.unwrap(), b);
    let same_siret = organisation("Autre", Some("21750001600019"));
    assert!(matches!(
        store.create_organisation(&same_siret).await,
        Err(StoreError::Conflict(Conflict::Duplicate))
    ));
    // Organisations without SIRET never collide with each other.
    store
        .create_organisation(&organisation("Sans SIRET", None))
        .await
        .unwrap();
    let names: Vec<_> = store
        .list_organisations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name.as_str().to_owned())
        .collect();
    assert_eq!(
        names,
        ["Aide alimentaire", "Sans SIRET", "Secours populaire"]
    );

    let m = staff(Role::Member, "m@example.fr");
    store.create_account(&plain(&m)).await.unwrap();
    store.add_membership(m.id, a.id, t0()).await.unwrap();
    store.add_membership(m.id, b.id, t0()).await.unwrap();
    assert!(matches!(
        store.add_membership(m.id, a.id, t0()).await,
        Err(StoreError::Conflict(Conflict::Duplicate))
    ));
    assert!(matches!(
        store
            .add_membership(m.id, OrganisationId::new(), t0())
            .await,
        Err(StoreError::NotFound)
    ));
    let mut expected = vec![a.id, b.id];
    expected.sort();
    assert_eq!(store.memberships(m.id).await.unwrap(), expected);
    assert_eq!(store.members(a.id).await.unwrap(), vec![m.id]);
    assert!(matches!(
        store.organisation(OrganisationId::new()).await,
        Err(StoreError::NotFound)
    ));
}

async fn referent_relations<S: IdentityStore>(store: &S) {
    let w = staff(Role::Worker, "w@example.fr");
    let p = person("P", "p.0001");
    store.create_account(&plain(&w)).await.unwrap();
    store.create_account(&plain(&p)).await.unwrap();
    let first = Referent {
        id: ReferentId::new(),
        worker: w.id,
        person: p.id,
        started_at: t0(),
        ended_at: None,
    };
    store.add_referent(&first).await.unwrap();
    store
        .end_referent(first.id, t0() + Duration::days(30))
        .await
        .unwrap();
    assert!(matches!(
        store
            .end_referent(first.id, t0() + Duration::days(31))
            .await,
        Err(StoreError::NotFound)
    ));
    let second = Referent {
        id: ReferentId::new(),
        started_at: t0() + Duration::days(60),
        ..first.clone()
    };
    store.add_referent(&second).await.unwrap();
    let all = store.referents_of(p.id).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, first.id);
    assert_eq!(all[0].ended_at, Some(t0() + Duration::days(30)));
    assert_eq!(all[1], second);
    assert_eq!(store.persons_of(w.id).await.unwrap(), all);
    assert!(store.referents_of(w.id).await.unwrap().is_empty());
}

async fn mandates<S: IdentityStore>(store: &S) {
    let h = staff(Role::Helper, "h@example.fr");
    let p = person("P", "p.0001");
    store.create_account(&plain(&h)).await.unwrap();
    store.create_account(&plain(&p)).await.unwrap();
    let m = Mandate {
        id: MandateId::new(),
        helper: h.id,
        person: p.id,
        scopes: [MandateScope::PlansRead, MandateScope::WalletUpload].into(),
        starts_at: t0(),
        ends_at: t0() + Duration::days(365),
        created_by: p.id,
        created_at: t0(),
        revoked_at: None,
        revoked_by: None,
    };
    store.create_mandate(&m, &[]).await.unwrap();
    assert_eq!(store.mandate(m.id).await.unwrap(), m);
    assert_eq!(
        store.mandates_of_person(p.id).await.unwrap(),
        vec![m.clone()]
    );
    assert_eq!(
        store.mandates_of_helper(h.id).await.unwrap(),
        vec![m.clone()]
    );
    store
        .revoke_mandate(m.id, p.id, t0() + Duration::days(2))
        .await
        .unwrap();
    let revoked = store.mandate(m.id).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(t0() + Duration::days(2)));
    assert_eq!(revoked.revoked_by, Some(p.id));
    assert!(matches!(
        store.revoke_mandate(m.id, p.id, t0()).await,
        Err(StoreError::Conflict(Conflict::AlreadyRevoked))
    ));
    assert!(matches!(
        store.mandate(MandateId::new()).await,
        Err(StoreError::NotFound)
    ));
    let orphan = Mandate {
        id: MandateId::new(),
        helper: AccountId::new(),
        ..m
    };
    assert!(store.create_mandate(&orphan, &[]).await.is_err());
}

async fn sessions<S: IdentityStore>(store: &S) {
    let a = staff(Role::Worker, "w@example.fr");
    store.create_account(&plain(&a)).await.unwrap();
    let make = |hash: &str| Session {
        id: SessionId::new(),
        account: a.id,
        token_hash: hash.to_owned(),
        created_at: t0(),
        last_seen_at: t0(),
        expires_at: t0() + Duration::hours(12),
        method: "password".to_owned(),
        assurance: Assurance::AwaitingSecondFactor,
    };
    let s1 = make("aaaa");
    let s2 = make("bbbb");
    store.create_session(&s1).await.unwrap();
    store.create_session(&s2).await.unwrap();
    assert_eq!(
        store.session_by_token_hash("aaaa").await.unwrap(),
        Some(s1.clone())
    );
    assert_eq!(store.session_by_token_hash("cccc").await.unwrap(), None);
    store
        .touch_session(s1.id, t0() + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(
        store
            .session_by_token_hash("aaaa")
            .await
            .unwrap()
            .unwrap()
            .last_seen_at,
        t0() + Duration::minutes(5)
    );
    store
        .set_session_assurance(s1.id, Assurance::Strong, "password+totp")
        .await
        .unwrap();
    let raised = store.session_by_token_hash("aaaa").await.unwrap().unwrap();
    assert_eq!(
        (raised.assurance, raised.method.as_str()),
        (Assurance::Strong, "password+totp")
    );
    assert_eq!(
        store
            .session_by_token_hash("bbbb")
            .await
            .unwrap()
            .unwrap()
            .assurance,
        Assurance::AwaitingSecondFactor
    );
    store.delete_session(s1.id).await.unwrap();
    assert_eq!(store.session_by_token_hash("aaaa").await.unwrap(), None);
    assert!(matches!(
        store
            .set_session_assurance(s1.id, Assurance::Strong, "password+totp")
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_session(s1.id).await,
        Err(StoreError::NotFound)
    ));
    store.create_session(&make("dddd")).await.unwrap();
    assert_eq!(store.delete_sessions_of(a.id).await.unwrap(), 2);

    // Purging: one past its absolute expiry, one idle, one alive.
    let expired = Session {
        expires_at: t0() + Duration::hours(1),
        ..make("e1")
    };
    let idle = make("e2");
    let alive = Session {
        last_seen_at: t0() + Duration::hours(3),
        ..make("e3")
    };
    for s in [&expired, &idle, &alive] {
        store.create_session(s).await.unwrap();
    }
    let now = t0() + Duration::hours(4);
    let purged = store
        .delete_expired_sessions(now, now - Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(purged, 2);
    assert_eq!(
        store.session_by_token_hash("e3").await.unwrap(),
        Some(alive)
    );
    assert_eq!(store.session_by_token_hash("e2").await.unwrap(), None);
    store.delete_sessions_of(a.id).await.unwrap();
    assert_eq!(store.session_by_token_hash("bbbb").await.unwrap(), None);
    assert_eq!(store.delete_sessions_of(a.id).await.unwrap(), 0);
}

async fn second_factors<S: IdentityStore>(store: &S) {
    let a = staff(Role::Worker, "w@example.fr");
    let b = staff(Role::Worker, "v@example.fr");
    store.create_account(&plain(&a)).await.unwrap();
    store.create_account(&plain(&b)).await.unwrap();
    assert_eq!(store.second_factor(a.id).await.unwrap(), None);
    let factor = SecondFactor {
        account: a.id,
        secret: vec![7; 20],
        confirmed_at: None,
        last_step: 0,
        recovery_hashes: vec!["h1".into(), "h2".into()],
    };
    store.save_second_factor(&factor).await.unwrap();
    assert_eq!(
        store.second_factor(a.id).await.unwrap(),
        Some(factor.clone())
    );
    assert_eq!(store.second_factor(b.id).await.unwrap(), None);

    // Replacing (a new enrolment) keeps one factor and only the new codes.
    let confirmed = SecondFactor {
        secret: vec![9; 20],
        confirmed_at: Some(t0()),
        recovery_hashes: vec!["h3".into(), "h4".into()],
        ..factor.clone()
    };
    store.save_second_factor(&confirmed).await.unwrap();
    assert_eq!(
        store.second_factor(a.id).await.unwrap(),
        Some(confirmed.clone())
    );
    assert!(!store.use_recovery_code(a.id, "h1").await.unwrap());

    // A step is accepted once, and never an earlier one.
    assert!(store.accept_totp_step(a.id, 100).await.unwrap());
    assert!(!store.accept_totp_step(a.id, 100).await.unwrap());
    assert!(!store.accept_totp_step(a.id, 99).await.unwrap());
    assert!(store.accept_totp_step(a.id, 101).await.unwrap());
    assert_eq!(
        store.second_factor(a.id).await.unwrap().unwrap().last_step,
        101
    );

    // A recovery code works once, and only for its account.
    assert!(!store.use_recovery_code(b.id, "h3").await.unwrap());
    assert!(store.use_recovery_code(a.id, "h3").await.unwrap());
    assert!(!store.use_recovery_code(a.id, "h3").await.unwrap());
    assert_eq!(
        store
            .second_factor(a.id)
            .await
            .unwrap()
            .unwrap()
            .recovery_hashes,
        vec!["h4".to_owned()]
    );

    store.delete_second_factor(a.id).await.unwrap();
    assert_eq!(store.second_factor(a.id).await.unwrap(), None);
    assert!(matches!(
        store.delete_second_factor(a.id).await,
        Err(StoreError::NotFound)
    ));
    let orphan = SecondFactor {
        account: AccountId::new(),
        ..factor
    };
    assert!(store.save_second_factor(&orphan).await.is_err());
}

async fn external_links<S: IdentityStore>(store: &S) {
    let a = person("Ana", "ana");
    let b = person("Bo", "bo");
    store.create_account(&plain(&a)).await.unwrap();
    store.create_account(&plain(&b)).await.unwrap();
    let link = |provider: &str, subject: &str, account: AccountId| ExternalLink {
        provider: provider.to_owned(),
        subject: subject.to_owned(),
        account,
        linked_at: t0(),
    };
    assert_eq!(store.external_link("fc", "s1").await.unwrap(), None);
    store
        .create_external_link(&link("fc", "s1", a.id))
        .await
        .unwrap();
    assert_eq!(
        store.external_link("fc", "s1").await.unwrap(),
        Some(link("fc", "s1", a.id))
    );
    assert_eq!(store.external_link("pc", "s1").await.unwrap(), None);
    // The subject is linked to one account only, and an account to one subject per provider.
    assert!(matches!(
        store.create_external_link(&link("fc", "s1", b.id)).await,
        Err(StoreError::Conflict(Conflict::Duplicate))
    ));
    assert!(matches!(
        store.create_external_link(&link("fc", "s2", a.id)).await,
        Err(StoreError::Conflict(Conflict::Duplicate))
    ));
    store
        .create_external_link(&link("pc", "s1", a.id))
        .await
        .unwrap();
    store
        .create_external_link(&link("fc", "s3", b.id))
        .await
        .unwrap();
    assert_eq!(
        store.external_links_of(a.id).await.unwrap(),
        vec![link("fc", "s1", a.id), link("pc", "s1", a.id)]
    );
    store.delete_external_link(a.id, "fc").await.unwrap();
    assert_eq!(store.external_link("fc", "s1").await.unwrap(), None);
    assert!(matches!(
        store.delete_external_link(a.id, "fc").await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .create_external_link(&link("fc", "s9", AccountId::new()))
            .await
            .is_err()
    );
}

async fn one_time_values<S: IdentityStore>(store: &S) {
    let value = |key: &str, at: DateTime<Utc>| OneTimeValue {
        key_hash: key.to_owned(),
        browser_hash: "b".repeat(64),
        payload: format!("{{\"k\":\"{key}\"}}"),
        created_at: at,
    };
    store.put_one_time(&value("k1", t0())).await.unwrap();
    assert!(matches!(
        store.put_one_time(&value("k1", t0())).await,
        Err(StoreError::Conflict(Conflict::Duplicate))
    ));
    assert_eq!(
        store.take_one_time("k1").await.unwrap(),
        Some(value("k1", t0()))
    );
    assert_eq!(store.take_one_time("k1").await.unwrap(), None, "taken once");
    store.put_one_time(&value("old", t0())).await.unwrap();
    store
        .put_one_time(&value("new", t0() + Duration::hours(1)))
        .await
        .unwrap();
    assert_eq!(
        store
            .prune_one_time(t0() + Duration::minutes(30))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.take_one_time("old").await.unwrap(), None);
    assert!(store.take_one_time("new").await.unwrap().is_some());
}

async fn sign_in_requests<S: IdentityStore>(store: &S) {
    let request = |subject: &str, at: DateTime<Utc>| SignInRequest {
        id: SignInRequestId::new(),
        provider: "proconnect".to_owned(),
        subject: subject.to_owned(),
        email: Some(format!("{subject}@ccas.example.fr")),
        email_verified: true,
        given_name: Some("Camille".to_owned()),
        family_name: None,
        siret: Some("21890024900015".to_owned()),
        requested_at: at,
    };
    let first = request("s1", t0());
    assert_eq!(store.save_sign_in_request(&first).await.unwrap(), first);
    // Signing in again refreshes the request filed for that subject; its id stays.
    let again = SignInRequest {
        siret: None,
        ..request("s1", t0() + Duration::hours(1))
    };
    let refreshed = store.save_sign_in_request(&again).await.unwrap();
    assert_eq!(refreshed.id, first.id, "one request per subject");
    assert_eq!(refreshed.siret, None);
    assert_eq!(refreshed.requested_at, t0() + Duration::hours(1));
    assert_eq!(store.sign_in_request(first.id).await.unwrap(), refreshed);
    let second = request("s2", t0());
    store.save_sign_in_request(&second).await.unwrap();
    let listed = store.sign_in_requests().await.unwrap();
    assert_eq!(
        listed.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![second.id, first.id],
        "oldest first"
    );
    store.delete_sign_in_request(second.id).await.unwrap();
    assert!(matches!(
        store.delete_sign_in_request(second.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.sign_in_request(second.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .prune_sign_in_requests(t0() + Duration::minutes(90))
            .await
            .unwrap(),
        1
    );
    assert!(store.sign_in_requests().await.unwrap().is_empty());
}

async fn activation_codes<S: IdentityStore>(store: &S) {
    let w = staff(Role::Worker, "w@example.fr");
    let p = person("P", "p.0001");
    store.create_account(&plain(&w)).await.unwrap();
    store.create_account(&plain(&p)).await.unwrap();
    let first = activation(p.id, w.id, t0(), "h1");
    store.create_activation(&first, &[]).await.unwrap();
    assert_eq!(
        store.pending_activation(p.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.record_activation_failure(first.id).await.unwrap(), 1);
    assert_eq!(store.record_activation_failure(first.id).await.unwrap(), 2);

    // A new code voids the earlier one.
    let second = activation(p.id, w.id, t0() + Duration::hours(1), "h2");
    store.create_activation(&second, &[]).await.unwrap();
    assert_eq!(
        store.pending_activation(p.id).await.unwrap(),
        Some(second.clone())
    );
    assert!(
        store
            .complete_activation(first.id, p.id, "$argon2id$p", t0(), None)
            .await
            .is_err(),
        "a voided code must not complete"
    );

    store
        .complete_activation(
            second.id,
            p.id,
            "$argon2id$p",
            t0() + Duration::hours(2),
            None,
        )
        .await
        .unwrap();
    assert_eq!(store.password_reset_by(p.id).await.unwrap(), None);
    let account = store.account(p.id).await.unwrap();
    assert_eq!(account.status, AccountStatus::Active);
    assert_eq!(
        store.password_hash(p.id).await.unwrap().as_deref(),
        Some("$argon2id$p")
    );
    assert_eq!(store.pending_activation(p.id).await.unwrap(), None);
    assert!(matches!(
        store
            .complete_activation(second.id, p.id, "$argon2id$q", t0(), Some(w.id))
            .await,
        Err(StoreError::Conflict(Conflict::AlreadyUsed))
    ));
    assert_eq!(
        store.password_hash(p.id).await.unwrap().as_deref(),
        Some("$argon2id$p"),
        "a refused completion changes nothing"
    );
    assert_eq!(store.password_reset_by(p.id).await.unwrap(), None);

    // A code that resets an active account's password: its issuer is kept with the password
    // until the holder sets their own.
    let reset = activation(p.id, w.id, t0() + Duration::hours(3), "h3");
    store.create_activation(&reset, &[]).await.unwrap();
    store
        .complete_activation(
            reset.id,
            p.id,
            "$argon2id$r",
            t0() + Duration::hours(4),
            Some(w.id),
        )
        .await
        .unwrap();
    assert_eq!(store.password_reset_by(p.id).await.unwrap(), Some(w.id));
    store
        .set_password_hash(p.id, "$argon2id$own")
        .await
        .unwrap();
    assert_eq!(store.password_reset_by(p.id).await.unwrap(), None);
    assert!(matches!(
        store.password_reset_by(AccountId::new()).await,
        Err(StoreError::NotFound)
    ));
}

async fn throttle_windows<S: ThrottleRepository>(store: &S) {
    let key = "login:account:someone@example.fr";
    assert_eq!(store.throttle_state(key).await.unwrap(), None);
    let window = Duration::minutes(15);
    for i in 1..=3 {
        let now = t0() + Duration::seconds(i);
        let state = store.record_failure(key, now, now - window).await.unwrap();
        assert_eq!(state.failures, i as u32);
        assert_eq!(state.window_started_at, t0() + Duration::seconds(1));
    }
    let later = t0() + Duration::minutes(20);
    let state = store
        .record_failure(key, later, later - window)
        .await
        .unwrap();
    assert_eq!(state.failures, 1, "a new window starts after the old one");
    assert_eq!(state.window_started_at, later);
    assert_eq!(store.throttle_state(key).await.unwrap(), Some(state));
    store
        .record_failure("other", later, later - window)
        .await
        .unwrap();
    store.clear_throttle(key).await.unwrap();
    assert_eq!(store.throttle_state(key).await.unwrap(), None);
    assert!(store.throttle_state("other").await.unwrap().is_some());
    store.clear_throttle("never-seen").await.unwrap();

    // Pruning removes windows that started before the cut-off only.
    store
        .record_failure("old", t0(), t0() - window)
        .await
        .unwrap();
    assert_eq!(
        store
            .prune_throttle(t0() + Duration::minutes(1))
            .await
            .unwrap(),
        1
    );
    assert!(store.throttle_state("old").await.unwrap().is_none());
    assert!(store.throttle_state("other").await.unwrap().is_some());
}

async fn audit_log<S: AuditLog>(store: &S) {
    let p = person("P", "p.0001");
    let other = AccountId::new();
    for (i, subject) in [p.id, p.id, other, p.id].into_iter().enumerate() {
        let event = AuditEvent {
            id: AuditEventId::new(),
            at: t0() + Duration::minutes(i as i64),
            actor: Some(p.id),
            actor_role: Some(Role::Person),
            mandate: (i == 1).then(MandateId::new),
            action: AuditAction::ALL[i],
            subject: Some(subject),
            detail: "détail ✓".to_owned(),
        };
        store.record(&event).await.unwrap();
    }
    let events = store.events_for(p.id, 10).await.unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::ALL[3],
            AuditAction::ALL[1],
            AuditAction::ALL[0]
        ]
    );
    assert!(events[1].mandate.is_some());
    assert_eq!(events[0].detail, "détail ✓");
    assert_eq!(store.events_for(p.id, 2).await.unwrap().len(), 2);
}

async fn health<S: IdentityStore>(store: &S) {
    store.ping().await.unwrap();
}
