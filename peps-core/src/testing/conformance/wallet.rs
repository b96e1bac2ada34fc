//! Conformance suite of the [`WalletRepository`] port. Every adapter runs it, each check on a
//! fresh store:
//!
//! ```ignore
//! peps_core::testing::wallet_conformance::run_all(|| async { MyStore::fresh().await }).await;
//! ```
//!
//! or every check on one store (the checks make their own accounts and only look at what they
//! wrote, so they also pass on a store that already holds data):
//!
//! ```ignore
//! peps_core::testing::wallet_conformance::run(&store).await;
//! ```

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use std::collections::{BTreeSet, HashSet};
use std::fmt::Debug;
use std::future::Future;

use crate::domain::*;
use crate::error::{Conflict, StoreError};
use crate::ports::*;
use crate::wallet::ports::{BlobKey, WrappedKey};
use crate::wallet::sniff::MediaType;
use crate::wallet::*;

/// What a store must implement to hold wallets (wallets belong to accounts).
pub trait WalletStore: WalletRepository + AccountRepository {}
impl<T: WalletRepository + AccountRepository> WalletStore for T {}

super::checks!(WalletStore;
    documents_round_trip,
    pages_and_versions_are_placed_by_the_store,
    quota_is_checked_and_nothing_is_written_over_it,
    usage_sums_every_version,
    document_updates_are_revisioned,
    deleting_returns_every_blob,
    rewrap_is_compare_and_set,
    grants_round_trip_and_revoke_once,
    latest_consent_wins,
    requests_close_once_with_their_grant,
    events_round_trip_newest_first_with_paging,
    writes_record_their_events,
    expiring_documents_and_reminders,
);

/// Runs every check, each on a store made by `fresh`.
pub async fn run_all<S, F, Fut>(fresh: F)
where
    S: WalletStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    super::run_each("wallet", checks::<S>(), fresh).await;
}

/// Runs every check on one store.
pub async fn run<S: WalletStore>(store: &S) {
    for (name, check) in checks::<S>() {
        eprintln!("wallet conformance: {name}");
        check(store).await;
    }
}

/// A quota no check reaches unless it means to.
const ROOMY: u64 = 1 << 40;
const KEY_ALGORITHM: &str = "A256GCM-KW";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap() + Duration::microseconds(654_321)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

async fn account<S: WalletStore>(store: &S, role: Role) -> AccountId {
    let account = Account {
        id: AccountId::new(),
        role,
        // Unique, so that the checks can share a store.
        login: Login::normalise(&unique(role.as_str())),
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

fn person_uploader(person: AccountId) -> Uploader {
    Uploader {
        account: person,
        role: Role::Person,
    }
}

/// A wrapped key whose bytes are not UTF-8 (NUL, 0xFF, lone continuation bytes).
fn wrapped(key_id: &str, seed: u8) -> WrappedKey {
    WrappedKey {
        key_id: KeyId::parse(key_id).expect("the checks use valid key ids"),
        algorithm: KEY_ALGORITHM.to_owned(),
        bytes: vec![
            0x00,
            0xFF,
            seed,
            0x80,
            0xC3,
            0x28,
            0x00,
            0xFE,
            0xBF,
            seed ^ 0xFF,
        ],
    }
}

fn document(person: AccountId, by: Uploader, at: DateTime<Utc>) -> Document {
    Document {
        id: DocumentId::new(),
        person,
        kind: "identity".into(),
        title: "Carte d'identité".into(),
        issued_on: Some(day(2021, 5, 4)),
        valid_until: Some(day(2031, 5, 3)),
        current_version: 1,
        created_by: by,
        created_at: at,
        updated_at: at,
        revision: 1,
        files: vec![],
    }
}

fn file(document: &Document, size: u64, key_id: &str) -> DocumentFile {
    DocumentFile {
        id: DocumentFileId::new(),
        document: document.id,
        // The store places the file: whatever is given here is ignored.
        version: 0,
        page: 0,
        media_type: MediaType::Pdf,
        size,
        sha256: uuid::Uuid::new_v4().simple().to_string().repeat(2),
        blob: BlobKey::generate(),
        algorithm: "A256GCM-STREAM-64K".into(),
        wrapped_key: wrapped(key_id, 7),
        uploaded_by: document.created_by,
        uploaded_at: document.created_at,
    }
}

fn event(person: AccountId, actor: Option<AccountId>, action: WalletAction) -> WalletEvent {
    WalletEvent {
        id: WalletEventId::new(),
        at: t0(),
        person,
        actor,
        actor_role: actor.map(|_| Role::Person),
        mandate: None,
        action,
        document: None,
        file: None,
        grant: None,
        kind: None,
        ip: None,
        detail: String::new(),
        outbox: Vec::new(),
    }
}

fn uploaded(d: &Document, f: &DocumentFile) -> WalletEvent {
    WalletEvent {
        document: Some(d.id),
        file: Some(f.id),
        kind: Some(d.kind.clone()),
        ..event(
            d.person,
            Some(f.uploaded_by.account),
            WalletAction::Uploaded,
        )
    }
}

/// What a document looks like once stored with `f` as its first file.
fn stored_new(d: &Document, f: &DocumentFile) -> Document {
    Document {
        current_version: 1,
        files: vec![DocumentFile {
            version: 1,
            page: 1,
            ..f.clone()
        }],
        ..d.clone()
    }
}

async fn add<S: WalletStore>(
    store: &S,
    d: &Document,
    f: &DocumentFile,
    placement: FilePlacement,
) -> Document {
    store
        .add_file(d, f, placement, ROOMY, &uploaded(d, f))
        .await
        .unwrap_or_else(|e| panic!("add_file({placement:?}) of {}: {e}", d.id))
}

/// A stored document with one file of `size` bytes.
async fn new_document<S: WalletStore>(
    store: &S,
    person: AccountId,
    at: DateTime<Utc>,
    size: u64,
) -> Document {
    let d = document(person, person_uploader(person), at);
    add(
        store,
        &d,
        &file(&d, size, "kek-1"),
        FilePlacement::NewDocument,
    )
    .await
}

#[track_caller]
fn assert_conflict<T: Debug>(result: StoreResult<T>, kind: Conflict, what: &str) {
    match result {
        Err(StoreError::Conflict(c)) if c == kind => {}
        other => panic!("{what}: expected Conflict({kind:?}), got {other:?}"),
    }
}

#[track_caller]
fn assert_stale<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::Stale) => {}
        other => panic!("{what}: expected Stale, got {other:?}"),
    }
}

#[track_caller]
fn assert_not_found<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

async fn log_len<S: WalletStore>(store: &S, person: AccountId) -> usize {
    store.events_of(person, None, 10_000).await.unwrap().len()
}

async fn documents_round_trip<S: WalletStore>(store: &S) {
    let person = account(store, Role::Person).await;
    let worker = account(store, Role::Worker).await;
    let at_the_counter = Uploader {
        account: worker,
        role: Role::Worker,
    };
    let mut card = document(person, at_the_counter, t0());
    card.title = "Carte d'identité « recto-verso » \"l'été\" — بطاقة الهوية".into();
    card.issued_on = Some(day(2020, 2, 29));
    card.valid_until = Some(day(2030, 2, 28));
    card.current_version = 5; // the store decides
    let mut scan = file(&card, 123_456, "kek-2026");
    scan.version = 4;
    scan.page = 9;
    scan.wrapped_key = WrappedKey {
        key_id: "kek-2026".parse().unwrap(),
        algorithm: KEY_ALGORITHM.into(),
        bytes: vec![0x00, 0xFF, 0xFE, 0x80, 0x00, 0x7F, 0xC0, 0xFF],
    };
    let stored = store
        .add_file(
            &card,
            &scan,
            FilePlacement::NewDocument,
            ROOMY,
            &uploaded(&card, &scan),
        )
        .await
        .unwrap();
    let expected = stored_new(&card, &scan);
    assert_eq!(stored, expected, "add_file returns the document as stored");
    assert_eq!(
        store.document(card.id).await.unwrap(),
        expected,
        "every field of the document and its file reads back"
    );

    // Another document, without dates, uploaded by the person, with a page of every type.
    let mut receipt = document(person, person_uploader(person), t0() + Duration::seconds(1));
    receipt.kind = "proof_of_address".into();
    receipt.title = "Quittance de loyer".into();
    receipt.issued_on = None;
    receipt.valid_until = None;
    let mut last = None;
    for (i, media_type) in MediaType::ALL.into_iter().enumerate() {
        let mut page = file(&receipt, 1_000 + i as u64, "kek-2026");
        page.media_type = media_type;
        page.uploaded_at = receipt.created_at + Duration::minutes(i as i64);
        let placement = if i == 0 {
            FilePlacement::NewDocument
        } else {
            FilePlacement::AddPage
        };
        last = Some(add(store, &receipt, &page, placement).await);
    }
    let receipt_stored = last.unwrap();
    let types: Vec<MediaType> = receipt_stored.files.iter().map(|f| f.media_type).collect();
    assert_eq!(types, MediaType::ALL, "every media type reads back");
    assert_eq!(receipt_stored.issued_on, None);
    assert_eq!(receipt_stored.valid_until, None);
    assert_eq!(store.document(receipt.id).await.unwrap(), receipt_stored);

    assert_eq!(
        store.documents_of(person).await.unwrap(),
        vec![receipt_stored, expected.clone()],
        "documents_of lists whole documents, newest first"
    );
    assert!(store.documents_of(worker).await.unwrap().is_empty());

    assert_not_found(store.document(DocumentId::new()).await, "unknown document");
    let orphan = document(AccountId::new(), person_uploader(person), t0());
    let orphan_file = file(&orphan, 10, "kek-2026");
    assert_not_found(
        store
            .add_file(
                &orphan,
                &orphan_file,
                FilePlacement::NewDocument,
                ROOMY,
                &uploaded(&orphan, &orphan_file),
            )
            .await,
        "a document of an unknown person",
    );
    assert_not_found(store.document(orphan.id).await, "the orphan was not stored");
    let again = file(&card, 10, "kek-2026");
    assert!(
        matches!(
            store
                .add_file(
                    &card,
                    &again,
                    FilePlacement::NewDocument,
                    ROOMY,
                    &uploaded(&card, &again)
                )
                .await,
            Err(StoreError::Conflict(_))
        ),
        "a new document with a taken id is a conflict"
    );
    assert_eq!(store.document(card.id).await.unwrap(), expected);
    let stray = document(person, person_uploader(person), t0());
    let stray_file = file(&stray, 10, "kek-2026");
    for placement in [FilePlacement::AddPage, FilePlacement::NewVersion] {
        assert_not_found(
            store
                .add_file(
                    &stray,
                    &stray_file,
                    placement,
                    ROOMY,
                    &uploaded(&stray, &stray_file),
                )
                .await,
            "a page of an unknown document",
        );
    }
}

async fn pages_and_versions_are_placed_by_the_store<S: WalletStore>(store: &S) {
    let person = account(store, Role::Person).await;
    let d = document(person, person_uploader(person), t0());
    let first = file(&d, 10, "kek-1");
    let stored = add(store, &d, &first, FilePlacement::NewDocument).await;
    assert_eq!(
        (stored.current_version, stored.files.len()),
        (1, 1),
        "a new document is version 1"
    );
    assert_eq!((stored.files[0].version, stored.files[0].page), (1, 1));

    let mut back = file(&d, 20, "kek-1");
    back.version = 7;
    back.page = 7;
    back.uploaded_at = t0() + Duration::hours(1);
    let stored = add(store, &d, &back, FilePlacement::AddPage).await;
    let places: Vec<(i32, i32)> = stored.files.iter().map(|f| (f.version, f.page)).collect();
    assert_eq!(stored.current_version, 1, "a page keeps the version");
    assert_eq!(places, vec![(1, 1), (1, 2)], "a page goes after the others");
    assert_eq!(
        stored.updated_at, back.uploaded_at,
        "a page updates the document"
    );
    assert_eq!(stored.files[1].id, back.id);

    let mut renewed = file(&d, 30, "kek-1");
    renewed.uploaded_at = t0() + Duration::days(400);
    let stored = add(store, &d, &renewed, FilePlacement::NewVersion).await;
    let places: Vec<(i32, i32)> = stored.files.iter().map(|f| (f.version, f.page)).collect();
    assert_eq!(stored.current_version, 2, "a new version bumps the version");
    assert_eq!(
        places,
        vec![(1, 1), (1, 2), (2, 1)],
        "a new version starts at page 1 and keeps the old pages"
    );
    assert_eq!(stored.updated_at, renewed.uploaded_at);
    let current: Vec<DocumentFileId> = stored.current_files().map(|f| f.id).collect();
    assert_eq!(current, vec![renewed.id]);

    let renewed_back = file(&d, 40, "kek-1");
    let stored = add(store, &d, &renewed_back, FilePlacement::AddPage).await;
    let places: Vec<(i32, i32)> = stored.files.iter().map(|f| (f.version, f.page)).collect();
    assert_eq!(places, vec![(1, 1), (1, 2), (2, 1), (2, 2)]);
    assert_eq!(
        store.document(d.id).await.unwrap(),
        stored,
        "files read back by version then page"
    );
    assert_eq!(stored.revision, 1, "files do not change the revision");
    assert_eq!(stored.created_at, d.created_at);
}

async fn quota_is_checked_and_nothing_is_written_over_it<S: WalletStore>(store: &S) {
    let person = account(store, Role::Person).await;
    let quota = 1_000;
    let d = document(person, person_uploader(person), t0());
    let first = file(&d, 600, "kek-1");
    store
        .add_file(
            &d,
            &first,
            FilePlacement::NewDocument,
            quota,
            &uploaded(&d, &first),
        )
        .await
        .unwrap();
    let before = store.document(d.id).await.unwrap();
    let logged = log_len(store, person).await;

    let other = document(person, person_uploader(person), t0());
    let too_big = file(&other, 401, "kek-1");
    assert_conflict(
        store
            .add_file(
                &other,
                &too_big,
                FilePlacement::NewDocument,
                quota,
                &uploaded(&other, &too_big),
            )
            .await,
        Conflict::QuotaExceeded,
        "a new document over the quota",
    );
    assert_not_found(
        store.document(other.id).await,
        "no document is written over the quota",
    );
    for placement in [FilePlacement::AddPage, FilePlacement::NewVersion] {
        let page = file(&d, 401, "kek-1");
        assert_conflict(
            store
                .add_file(&d, &page, placement, quota, &uploaded(&d, &page))
                .await,
            Conflict::QuotaExceeded,
            "a page over the quota",
        );
    }
    assert_eq!(
        store.document(d.id).await.unwrap(),
        before,
        "no page and no version written over the quota"
    );
    assert_eq!(
        log_len(store, person).await,
        logged,
        "no event for a refused upload"
    );
    assert_eq!(store.usage(person).await.unwrap(), 600);
    assert!(
        !store
            .referenced_blobs()
            .await
            .unwrap()
            .contains(&too_big.blob)
    );

    let up_to = file(&d, 400, "kek-1");
    let stored = store
        .add_file(
            &d,
            &up_to,
            FilePlacement::AddPage,
            quota,
            &uploaded(&d, &up_to),
        )
        .await
        .expect("exactly the quota is allowed");
    assert_eq!(stored.files.len(), 2);
    assert_eq!(store.usage(person).await.unwrap(), 1_000);
    let one_more = file(&d, 1, "kek-1");
    assert_conflict(
        store
            .add_file(
                &d,
                &one_more,
                FilePlacement::AddPage,
                quota,
                &uploaded(&d, &one_more),
            )
            .await,
        Conflict::QuotaExceeded,
        "one byte over the quota",
    );

    // The quota is per person.
    let neighbour = account(store, Role::Person).await;
    let theirs = document(neighbour, person_uploader(neighbour), t0());
    let full = file(&theirs, 1_000, "kek-1");
    store
        .add_file(
            &theirs,
            &full,
            FilePlacement::NewDocument,
            quota,
            &uploaded(&theirs, &full),
        )
        .await
        .expect("another person's files do not count");
}

async fn usage_sums_every_version<S: WalletStore>(store: &S) {
    let person = account(store, Role::Person).await;
    assert_eq!(store.usage(person).await.unwrap(), 0, "an empty wallet");
    let d = document(person, person_uploader(person), t0());
    add(
        store,
        &d,
        &file(&d, 100, "kek-1"),
        FilePlacement::NewDocument,
    )
    .await;
    add(store, &d, &file(&d, 200, "kek-1"), FilePlacement::AddPage).await;
    add(
        store,
        &d,
        &file(&d, 300, "kek-1"),
        FilePlacement::NewVersion,
    )
    .await;
    assert_eq!(
        store.usage(person).await.unwrap(),
        600,
        "old versions count"
    );
    let big = 5_000_000_000; // over 32 bits
    new_document(store, person, t0() + Duration::seconds(1), big).await;
    assert_eq!(store.usage(person).await.unwrap(), 600 + big);
    let neighbour = account(store, Role::Person).await;
    new_document(store, neighbour, t0(), 7).await;
    assert_eq!(store.usage(neighbour).await.unwrap(), 7);
    assert_eq!(store.usage(AccountId::new()).await.unwrap(), 0);
}

async fn document_updates_are_revisioned<S: WalletStore>(store: &S) {
    let person = account(store, Role::Person).await;
    let stored = new_document(store, person, t0(), 10).await;
    let logged = log_len(store, person).await;

    let mut edited = stored.clone();
    edited.kind = "passport".into();
    edited.title = "Passeport « biométrique » — جواز السفر".into();
    edited.issued_on = None;
    edited.valid_until = Some(day(2036, 1, 31));
    edited.updated_at = t0() + Duration::hours(2);
    // Only kind, title and dates are the update's business.
    edited.current_version = 9;
    edited.files.clear();
    edited.created_at = t0() - Duration::days(1);
    let edited_event = WalletEvent {
        document: Some(stored.id),
        kind: Some("passport".into()),
        ..event(person, Some(person), WalletAction::Edited)
    };

    assert_stale(
        store.update_document(&edited, 0, &edited_event).await,
        "an update from a stale revision",
    );
    assert_eq!(
        store.document(stored.id).await.unwrap(),
        stored,
        "a stale update changes nothing"
    );
    assert_eq!(log_len(store, person).await, logged, "and logs nothing");

    let revision = store.update_document(&edited, 1, &edited_event).await;
    assert_eq!(revision.unwrap(), 2, "the new revision is returned");
    let expected = Document {
        kind: edited.kind.clone(),
        title: edited.title.clone(),
        issued_on: None,
        valid_until: edited.valid_until,
        updated_at: edited.updated_at,
        revision: 2,
        ..stored.clone()
    };
    assert_eq!(store.document(stored.id).await.unwrap(), expected);
    assert_eq!(log_len(store, person).await, logged + 1);

    let mut again = edited.clone();
    again.title = "Autre".into();
    let again_event = event(person, Some(person), WalletAction::Edited);
    assert_stale(
        store.update_document(&again, 1, &again_event).await,
        "the revision that was just used",
    );
    assert_eq!(store.document(stored.id).await.unwrap(), expected);
    assert_eq!(
        store
            .update_document(&again, 2, &again_event)
            .await
            .unwrap(),
        3
    );
    assert_eq!(store.document(stored.id).await.unwrap().title, "Autre");

    let mut unknown = edited;
    unknown.id = DocumentId::new();
    assert_not_found(
        store.update_document(&unknown, 1, &again_event).await,
        "an update of an unknown document",
    );
}

async fn deleting_returns_every_blob<S: WalletStore>(store: &S) {
    let person = account(store, Role::Person).await;
    let a = document(person, person_uploader(person), t0());
    add(store, &a, &file(&a, 1, "kek-1"), FilePlacement::NewDocument).await;
    add(store, &a, &file(&a, 2, "kek-1"), FilePlacement::AddPage).await;
    let a = add(store, &a, &file(&a, 3, "kek-1"), FilePlacement::NewVersion).await;
    let b = new_document(store, person, t0() + Duration::seconds(1), 4).await;
    let kept = new_document(store, person, t0() + Duration::seconds(2), 5).await;
    store
        .claim_expiry_reminder(a.id, a.valid_until.unwrap(), t0())
        .await
        .unwrap();

    let blobs_of = |docs: &[&Document]| -> BTreeSet<BlobKey> {
        docs.iter()
            .flat_map(|d| d.files.iter().map(|f| f.blob.clone()))
            .collect()
    };
    let gone = blobs_of(&[&a, &b]);
    assert_eq!(gone.len(), 4);
    let referenced: HashSet<BlobKey> = store
        .referenced_blobs()
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert!(
        gone.iter()
            .chain(&blobs_of(&[&kept]))
            .all(|b| referenced.contains(b)),
        "referenced_blobs lists every file of every version"
    );

    let deleted = WalletEvent {
        document: Some(a.id),
        ..event(person, Some(person), WalletAction::Deleted)
    };
    let returned = store
        .delete_documents(&[a.id, b.id, DocumentId::new()], &deleted)
        .await
        .unwrap();
    assert_eq!(
        returned.len(),
        4,
        "one blob key per file, an unknown id ignored: {returned:?}"
    );
    assert_eq!(
        returned.into_iter().collect::<BTreeSet<_>>(),
        gone,
        "the blobs of every version are returned"
    );
    assert_not_found(store.document(a.id).await, "a deleted document");
    assert_not_found(store.document(b.id).await, "a deleted document");
    assert_eq!(
        store.documents_of(person).await.unwrap(),
        vec![kept.clone()]
    );
    let referenced: HashSet<BlobKey> = store
        .referenced_blobs()
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert!(
        gone.iter().all(|b| !referenced.contains(b)),
        "deleted files are no longer referenced"
    );
    assert!(blobs_of(&[&kept]).iter().all(|b| referenced.contains(b)));
    assert_eq!(store.usage(person).await.unwrap(), 5);
    let log = store.events_of(person, None, 1).await.unwrap();
    assert_eq!(log, vec![deleted], "the deletion is logged");
    let expiring = store
        .documents_expiring(day(1900, 1, 1), day(2200, 12, 31))
        .await
        .unwrap();
    assert!(
        expiring.iter().all(|d| d.id != a.id && d.id != b.id),
        "deleted documents no longer expire"
    );
}

async fn rewrap_is_compare_and_set<S: WalletStore>(store: &S) {
    let person = account(store, Role::Person).await;
    let old_kek: KeyId = unique("kek-old").parse().unwrap();
    let new_kek: KeyId = unique("kek-new").parse().unwrap();
    let d = document(person, person_uploader(person), t0());
    let mut olds = Vec::new();
    for (i, placement) in [
        FilePlacement::NewDocument,
        FilePlacement::AddPage,
        FilePlacement::NewVersion,
    ]
    .into_iter()
    .enumerate()
    {
        let mut f = file(&d, 10, old_kek.as_str());
        f.wrapped_key = wrapped(old_kek.as_str(), i as u8);
        add(store, &d, &f, placement).await;
        olds.push((f.id, f.wrapped_key));
    }
    olds.sort_by_key(|(id, _)| *id);
    let done = document(person, person_uploader(person), t0());
    let done_file = file(&done, 10, new_kek.as_str());
    add(store, &done, &done_file, FilePlacement::NewDocument).await;

    let pending = store
        .files_not_under_key(Some(&new_kek), 100_000)
        .await
        .unwrap();
    assert!(
        pending.windows(2).all(|w| w[0].0 < w[1].0),
        "files_not_under_key goes by file id"
    );
    assert!(
        pending.iter().all(|(id, _)| *id != done_file.id),
        "a file under the key is not listed"
    );
    let ours: Vec<_> = pending
        .iter()
        .filter(|(id, _)| olds.iter().any(|(o, _)| o == id))
        .cloned()
        .collect();
    assert_eq!(
        ours, olds,
        "every file under another key, with its wrapped key"
    );
    let every = store.files_not_under_key(None, 100_000).await.unwrap();
    assert!(
        every.iter().any(|(id, _)| *id == done_file.id)
            && pending.iter().all(|p| every.contains(p)),
        "without a key, files under any key are listed"
    );
    let first_two = store.files_not_under_key(Some(&new_kek), 2).await.unwrap();
    assert_eq!(first_two, pending[..2], "the limit keeps the first ones");
    assert!(
        store
            .files_not_under_key(Some(&new_kek), 0)
            .await
            .unwrap()
            .is_empty()
    );

    let (id, old) = olds[0].clone();
    let new = WrappedKey {
        key_id: new_kek.clone(),
        algorithm: KEY_ALGORITHM.into(),
        bytes: vec![0xFF, 0x00, 0xFF, 0x00, 0x01],
    };
    store.rewrap(id, &old, &new).await.unwrap();
    let read = store.document(d.id).await.unwrap();
    let key_of = |id: DocumentFileId| {
        read.files
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.wrapped_key.clone())
            .unwrap()
    };
    assert_eq!(key_of(id), new, "the new wrapped key is stored");
    assert_eq!(key_of(olds[1].0), olds[1].1, "other files keep theirs");

    let other = WrappedKey {
        bytes: vec![0x42],
        ..new.clone()
    };
    assert_stale(
        store.rewrap(id, &old, &other).await,
        "a rewrap from a replaced key",
    );
    let (id2, old2) = olds[1].clone();
    let same_key_other_bytes = WrappedKey {
        bytes: vec![0x00, 0xFF],
        ..old2.clone()
    };
    assert_stale(
        store.rewrap(id2, &same_key_other_bytes, &new).await,
        "a rewrap whose bytes do not match",
    );
    let other_algorithm = WrappedKey {
        algorithm: "A128GCM-KW".into(),
        ..old2.clone()
    };
    assert_stale(
        store.rewrap(id2, &other_algorithm, &new).await,
        "a rewrap whose algorithm does not match",
    );
    let read = store.document(d.id).await.unwrap();
    let keys: Vec<(DocumentFileId, WrappedKey)> = read
        .files
        .iter()
        .map(|f| (f.id, f.wrapped_key.clone()))
        .collect();
    assert!(
        keys.contains(&(id, new.clone())),
        "a refused rewrap changes nothing"
    );
    assert!(
        keys.contains(&(id2, old2)),
        "a refused rewrap changes nothing"
    );
    assert_not_found(
        store.rewrap(DocumentFileId::new(), &old, &new).await,
        "a rewrap of an unknown file",
    );
    let pending = store
        .files_not_under_key(Some(&new_kek), 100_000)
        .await
        .unwrap();
    assert!(
        pending.iter().all(|(f, _)| *f != id),
        "a rewrapped file is done"
    );
    assert!(pending.iter().any(|(f, _)| *f == id2));
}

async fn grants_round_trip_and_revoke_once<S: WalletStore>(store: &S) {
    let person = account(store, Role::Person).await;
    let worker = account(store, Role::Worker).await;
    let organisation = OrganisationId::new();
    let request = DocumentRequestId::new();
    let grant = |i: i64, grantee: Grantee, scope: GrantScope| Grant {
        id: GrantId::new(),
        person,
        grantee,
        scope,
        access: Access::Read,
        ends_at: None,
        created_by: person,
        created_at: t0() + Duration::minutes(i),
        revoked_at: None,
        revoked_by: None,
        request: None,
    };
    let mut whole = grant(0, Grantee::Worker(worker), GrantScope::Wallet);
    whole.ends_at = Some(t0() + Duration::days(30) + Duration::microseconds(17));
    let mut kinds = grant(
        1,
        Grantee::Organisation(organisation),
        GrantScope::Kinds(["identity".to_owned(), "tax_notice".to_owned()].into()),
    );
    kinds.access = Access::ReadUpload;
    let mut some = grant(
        2,
        Grantee::Worker(worker),
        GrantScope::Documents([DocumentId::new(), DocumentId::new()].into()),
    );
    some.request = Some(request);
    some.created_by = worker;
    for g in [&whole, &kinds, &some] {
        let shared = WalletEvent {
            grant: Some(g.id),
            ..event(person, Some(person), WalletAction::Shared)
        };
        store.create_grant(g, &shared).await.unwrap();
        assert_eq!(&store.grant(g.id).await.unwrap(), g, "a grant reads back");
    }
    assert_eq!(
        store.grants_of(person).await.unwrap(),
        vec![some.clone(), kinds.clone(), whole.clone()],
        "grants_of lists every grant, newest first"
    );
    assert!(store.grants_of(worker).await.unwrap().is_empty());
    assert_not_found(store.grant(GrantId::new()).await, "an unknown grant");
    let orphan = Grant {
        id: GrantId::new(),
        person: AccountId::new(),
        ..whole.clone()
    };
    assert_not_found(
        store
            .create_grant(&orphan, &event(orphan.person, None, WalletAction::Shared))
            .await,
        "a grant of an unknown person",
    );

    let at = t0() + Duration::days(2) + Duration::microseconds(3);
    let revoked = WalletEvent {
        grant: Some(kinds.id),
        ..event(person, Some(person), WalletAction::Revoked)
    };
    store
        .revoke_grant(kinds.id, person, at, &revoked)
        .await
        .unwrap();
    let read = store.grant(kinds.id).await.unwrap();
    assert_eq!(
        read,
        Grant {
            revoked_at: Some(at),
            revoked_by: Some(person),
            ..kinds.clone()
        }
    );
    assert!(!read.is_active(at));
    assert_conflict(
        store
            .revoke_grant(kinds.id, worker, at + Duration::hours(1), &revoked)
            .await,
        Conflict::AlreadyRevoked,
        "a second revocation",
    );
    assert_eq!(
        store.grant(kinds.id).await.unwrap(),
        read,
        "the first revocation stands"
    );
    assert_not_found(
        store
            .revoke_grant(GrantId::new(), person, at, &revoked)
            .await,
        "a revocation of an unknown grant",
    );
    let listed = store.grants_of(person).await.unwrap();
    assert_eq!(listed.len(), 3, "revoked grants stay listed");
    assert_eq!(listed[1], read);
}

async fn latest_consent_wins<S: WalletStore>(store: &S) {
    let person = account(store, Role::Person).await;
    let helper = account(store, Role::Helper).await;
    let worker = account(store, Role::Worker).await;
    assert_eq!(
        store.consents(person).await.unwrap(),
        vec![],
        "no answer yet"
    );
    let answers = [
        (true, person, 0, None),
        (false, helper, 1, None),
        (true, person, 2, Some(worker)),
        (false, person, 3, None),
    ];
    let mut history = Vec::new();
    for (given, by, hours, named) in answers {
        let consent = ReferentConsent {
            person,
            worker: named,
            given,
            at: t0() + Duration::hours(hours),
            by,
        };
        let action = if given {
            WalletAction::ConsentGiven
        } else {
            WalletAction::ConsentWithdrawn
        };
        store
            .record_consent(&consent, &event(person, Some(by), action))
            .await
            .unwrap();
        history.push(consent);
        assert_eq!(
            store.consents(person).await.unwrap(),
            history,
            "every answer is kept, in the order recorded; the latest is last"
        );
    }
    assert_eq!(store.consents(helper).await.unwrap(), vec![]);
}

async fn requests_close_once_with_their_grant<S: WalletStore>(store: &S) {
    let person = account(store, Role::Person).await;
    let worker = account(store, Role::Worker).await;
    let first = DocumentRequest {
        id: DocumentRequestId::new(),
        person,
        requested_by: worker,
        kinds: vec!["tax_notice".into(), "identity".into()],
        step: Some(StepId::new()),
        message: Some("Pour le dossier « RSA », merci — شكرا".into()),
        created_at: t0(),
        status: RequestStatus::Open,
        closed_at: None,
        grant: None,
    };
    let second = DocumentRequest {
        id: DocumentRequestId::new(),
        kinds: vec!["proof_of_address".into()],
        step: None,
        message: None,
        created_at: t0() + Duration::hours(1),
        ..first.clone()
    };
    for r in [&first, &second] {
        store
            .create_request(r, &event(person, Some(worker), WalletAction::Requested))
            .await
            .unwrap();
        assert_eq!(
            &store.request(r.id).await.unwrap(),
            r,
            "a request reads back"
        );
    }
    assert_eq!(
        store.requests_of(person).await.unwrap(),
        vec![second.clone(), first.clone()],
        "requests_of lists newest first"
    );
    assert!(store.requests_of(worker).await.unwrap().is_empty());
    assert_not_found(
        store.request(DocumentRequestId::new()).await,
        "an unknown request",
    );

    let grant = Grant {
        id: GrantId::new(),
        person,
        grantee: Grantee::Worker(worker),
        scope: GrantScope::Kinds(first.kinds.iter().cloned().collect()),
        access: Access::Read,
        ends_at: Some(t0() + Duration::days(15)),
        created_by: person,
        created_at: t0() + Duration::hours(2),
        revoked_at: None,
        revoked_by: None,
        request: Some(first.id),
    };
    let fulfilled = DocumentRequest {
        status: RequestStatus::Fulfilled,
        closed_at: Some(t0() + Duration::hours(2)),
        grant: Some(grant.id),
        ..first.clone()
    };
    let events = [
        event(person, Some(person), WalletAction::Shared),
        event(person, Some(person), WalletAction::RequestFulfilled),
    ];
    store
        .close_request(&fulfilled, Some(&grant), &events)
        .await
        .unwrap();
    assert_eq!(store.request(first.id).await.unwrap(), fulfilled);
    assert_eq!(
        store.grant(grant.id).await.unwrap(),
        grant,
        "the grant is created with the closing"
    );
    let logged = store.events_of(person, None, 2).await.unwrap();
    assert_eq!(
        logged,
        vec![events[1].clone(), events[0].clone()],
        "every event of the closing is logged, in order"
    );

    let late = Grant {
        id: GrantId::new(),
        ..grant.clone()
    };
    let cancelled = DocumentRequest {
        status: RequestStatus::Cancelled,
        closed_at: Some(t0() + Duration::hours(3)),
        grant: None,
        ..first.clone()
    };
    assert_conflict(
        store
            .close_request(&cancelled, Some(&late), &events[..1])
            .await,
        Conflict::RequestClosed,
        "closing a closed request",
    );
    assert_not_found(
        store.grant(late.id).await,
        "no grant is created for a refused closing",
    );
    assert_eq!(store.request(first.id).await.unwrap(), fulfilled);
    assert_eq!(store.grants_of(person).await.unwrap(), vec![grant]);

    let cancelled = DocumentRequest {
        status: RequestStatus::Cancelled,
        closed_at: Some(t0() + Duration::hours(3)),
        ..second.clone()
    };
    let cancel_event = [event(person, Some(worker), WalletAction::RequestCancelled)];
    store
        .close_request(&cancelled, None, &cancel_event)
        .await
        .unwrap();
    assert_eq!(store.request(second.id).await.unwrap(), cancelled);
    assert_conflict(
        store.close_request(&cancelled, None, &cancel_event).await,
        Conflict::RequestClosed,
        "cancelling a cancelled request",
    );
    let unknown = DocumentRequest {
        id: DocumentRequestId::new(),
        ..cancelled
    };
    assert_not_found(
        store.close_request(&unknown, None, &cancel_event).await,
        "closing an unknown request",
    );
}

async fn events_round_trip_newest_first_with_paging<S: WalletStore>(store: &S) {
    let person = account(store, Role::Person).await;
    let neighbour = account(store, Role::Person).await;
    let helper = account(store, Role::Helper).await;
    let full = WalletEvent {
        id: WalletEventId::new(),
        at: t0() + Duration::microseconds(1),
        person,
        actor: Some(helper),
        actor_role: Some(Role::Helper),
        mandate: Some(MandateId::new()),
        action: WalletAction::Downloaded,
        document: Some(DocumentId::new()),
        file: Some(DocumentFileId::new()),
        grant: Some(GrantId::new()),
        kind: Some("identity".into()),
        ip: Some("2001:db8::1".into()),
        detail: "page 2 « recto » — صفحة".into(),
        outbox: Vec::new(),
    };
    let bare = WalletEvent {
        id: WalletEventId::new(),
        at: t0(),
        person,
        actor: None,
        actor_role: None,
        mandate: None,
        action: WalletAction::Listed,
        document: None,
        file: None,
        grant: None,
        kind: None,
        ip: None,
        detail: String::new(),
        outbox: Vec::new(),
    };
    let mut mine = vec![full, bare];
    for (i, action) in WalletAction::ALL.into_iter().enumerate() {
        let mut e = event(person, Some(person), action);
        // The log goes by the order of writing, not by the clock.
        e.at = t0() - Duration::minutes(i as i64);
        e.detail = action.as_str().to_owned();
        mine.push(e);
        store
            .record_event(&event(neighbour, Some(neighbour), action))
            .await
            .unwrap();
    }
    for e in &mine {
        store.record_event(e).await.unwrap();
        store
            .record_event(&event(neighbour, None, WalletAction::Viewed))
            .await
            .unwrap();
    }
    let newest_first: Vec<WalletEvent> = mine.iter().rev().cloned().collect();
    let log = store.events_of(person, None, 1_000).await.unwrap();
    assert_eq!(
        log, newest_first,
        "every field and every action reads back, newest first, only the person's"
    );
    let actions: BTreeSet<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions.len(), WalletAction::ALL.len());

    assert_eq!(
        store.events_of(person, None, 3).await.unwrap(),
        newest_first[..3],
        "the limit keeps the newest"
    );
    let page = store
        .events_of(person, Some(newest_first[4].id), 3)
        .await
        .unwrap();
    assert_eq!(page, newest_first[5..8], "before pages to older lines");
    let tail = store
        .events_of(person, Some(newest_first[newest_first.len() - 2].id), 10)
        .await
        .unwrap();
    assert_eq!(tail, newest_first[newest_first.len() - 1..]);
    assert!(
        store
            .events_of(person, Some(newest_first[newest_first.len() - 1].id), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Paging from another person's line still shows only this person's.
    let theirs = store.events_of(neighbour, None, 1).await.unwrap();
    let before_theirs = store
        .events_of(person, Some(theirs[0].id), 1_000)
        .await
        .unwrap();
    assert_eq!(before_theirs, newest_first);
    assert_not_found(
        store
            .events_of(person, Some(WalletEventId::new()), 10)
            .await,
        "paging from an unknown line",
    );
    assert!(
        store.events_of(helper, None, 10).await.unwrap().is_empty(),
        "an actor's own log does not show what they did elsewhere"
    );
}

async fn writes_record_their_events<S: WalletStore>(store: &S) {
    let person = account(store, Role::Person).await;
    let worker = account(store, Role::Worker).await;
    let mut expected = Vec::new();

    let d = document(person, person_uploader(person), t0());
    let f = file(&d, 10, "kek-1");
    let e = uploaded(&d, &f);
    let stored = store
        .add_file(&d, &f, FilePlacement::NewDocument, ROOMY, &e)
        .await
        .unwrap();
    expected.push(e);
    let page = file(&d, 10, "kek-1");
    let e = uploaded(&d, &page);
    store
        .add_file(&d, &page, FilePlacement::AddPage, ROOMY, &e)
        .await
        .unwrap();
    expected.push(e);

    let e = WalletEvent {
        document: Some(d.id),
        ..event(person, Some(person), WalletAction::Edited)
    };
    store.update_document(&stored, 1, &e).await.unwrap();
    expected.push(e);

    let grant = Grant {
        id: GrantId::new(),
        person,
        grantee: Grantee::Worker(worker),
        scope: GrantScope::Wallet,
        access: Access::Read,
        ends_at: None,
        created_by: person,
        created_at: t0(),
        revoked_at: None,
        revoked_by: None,
        request: None,
    };
    let e = WalletEvent {
        grant: Some(grant.id),
        ..event(person, Some(person), WalletAction::Shared)
    };
    store.create_grant(&grant, &e).await.unwrap();
    expected.push(e);
    let e = WalletEvent {
        grant: Some(grant.id),
        ..event(person, Some(person), WalletAction::Revoked)
    };
    store
        .revoke_grant(grant.id, person, t0(), &e)
        .await
        .unwrap();
    expected.push(e);

    let e = event(person, Some(person), WalletAction::ConsentGiven);
    store
        .record_consent(
            &ReferentConsent {
                person,
                worker: None,
                given: true,
                at: t0(),
                by: person,
            },
            &e,
        )
        .await
        .unwrap();
    expected.push(e);

    let request = DocumentRequest {
        id: DocumentRequestId::new(),
        person,
        requested_by: worker,
        kinds: vec!["identity".into()],
        step: None,
        message: None,
        created_at: t0(),
        status: RequestStatus::Open,
        closed_at: None,
        grant: None,
    };
    let e = event(person, Some(worker), WalletAction::Requested);
    store.create_request(&request, &e).await.unwrap();
    expected.push(e);
    let closing = [
        event(person, Some(worker), WalletAction::RequestCancelled),
        event(person, None, WalletAction::Listed),
    ];
    store
        .close_request(
            &DocumentRequest {
                status: RequestStatus::Cancelled,
                closed_at: Some(t0()),
                ..request
            },
            None,
            &closing,
        )
        .await
        .unwrap();
    expected.extend(closing);

    let e = WalletEvent {
        document: Some(d.id),
        kind: Some(d.kind.clone()),
        ..event(person, Some(person), WalletAction::Deleted)
    };
    store.delete_documents(&[d.id], &e).await.unwrap();
    expected.push(e);

    let e = event(person, Some(person), WalletAction::Exported);
    store.record_event(&e).await.unwrap();
    expected.push(e);

    expected.reverse();
    assert_eq!(
        store.events_of(person, None, 1_000).await.unwrap(),
        expected,
        "every write logs its events, and the log keeps them after the document is gone"
    );
}

async fn expiring_documents_and_reminders<S: WalletStore>(store: &S) {
    let person = account(store, Role::Person).await;
    let neighbour = account(store, Role::Person).await;
    // Far-off dates, so that other checks' documents stay out of the range.
    let (from, until) = (day(2150, 3, 1), day(2150, 3, 31));
    let mut dated = Vec::new();
    for (i, (owner, valid_until)) in [
        (person, Some(day(2150, 2, 28))),
        (person, Some(until)),
        (neighbour, Some(day(2150, 3, 15))),
        (person, Some(from)),
        (person, None),
        (neighbour, Some(day(2150, 4, 1))),
        (person, Some(day(2150, 3, 15))),
    ]
    .into_iter()
    .enumerate()
    {
        let mut d = document(
            owner,
            person_uploader(owner),
            t0() + Duration::seconds(i as i64),
        );
        d.issued_on = None;
        d.valid_until = valid_until;
        dated.push(
            add(
                store,
                &d,
                &file(&d, 10, "kek-1"),
                FilePlacement::NewDocument,
            )
            .await,
        );
    }
    let ours: HashSet<DocumentId> = dated.iter().map(|d| d.id).collect();
    let found: Vec<Document> = store
        .documents_expiring(from, until)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| ours.contains(&d.id))
        .collect();
    let mut mid = [dated[2].clone(), dated[6].clone()];
    mid.sort_by_key(|d| d.id);
    let expected = vec![
        dated[3].clone(),
        mid[0].clone(),
        mid[1].clone(),
        dated[1].clone(),
    ];
    assert_eq!(
        found, expected,
        "every person's documents in the inclusive range, soonest first, with their files"
    );
    let all_time = store
        .documents_expiring(day(1900, 1, 1), day(2200, 12, 31))
        .await
        .unwrap();
    assert!(
        all_time.iter().all(|d| d.valid_until.is_some()),
        "documents without an end date never expire"
    );
    assert!(
        store
            .documents_expiring(until, from)
            .await
            .unwrap()
            .iter()
            .all(|d| !ours.contains(&d.id)),
        "an empty range"
    );

    let d = &dated[1];
    let v = d.valid_until.unwrap();
    assert!(
        store.claim_expiry_reminder(d.id, v, t0()).await.unwrap(),
        "the first claim wins"
    );
    assert!(
        !store
            .claim_expiry_reminder(d.id, v, t0() + Duration::hours(1))
            .await
            .unwrap(),
        "a document is reminded once for a date"
    );
    let renewed = day(2160, 3, 31);
    assert!(
        store
            .claim_expiry_reminder(d.id, renewed, t0())
            .await
            .unwrap(),
        "a new end date is a new reminder"
    );
    assert!(
        !store
            .claim_expiry_reminder(d.id, renewed, t0())
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_expiry_reminder(dated[3].id, v, t0())
            .await
            .unwrap(),
        "reminders are per document"
    );
}
