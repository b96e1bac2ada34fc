//! Conformance suite of the [`BlobStore`] port. Every blob store — the in-memory reference, the
//! filesystem and S3 adapters, or an adopter's own — must pass it:
//!
//! ```ignore
//! #[tokio::test]
//! async fn my_blob_store_conforms() {
//!     peps_core::testing::blob_conformance::run(&MyBlobStore::fresh().await).await;
//! }
//! ```
//!
//! All checks share the one store, so each works only with keys it generated and never assumes
//! the store is empty. Only `reap_partial` with a cutoff in the future can touch another check's
//! leftovers, and the checks run one after the other, so none is in flight then.

use chrono::{DateTime, Duration, Utc};
use std::future::Future;
use std::pin::Pin;

use crate::wallet::ports::{BlobError, BlobInfo, BlobKey, BlobStore};

type Check = for<'a> fn(&'a dyn BlobStore) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

macro_rules! checks {
    ($($name:ident),* $(,)?) => {
        /// The names and functions of every check, for runners that report them one by one.
        pub fn checks() -> Vec<(&'static str, Check)> {
            vec![$((stringify!($name), |s| Box::pin($name(s)))),*]
        }
    };
}

checks!(
    pieces_of_any_size_round_trip,
    empty_blob_round_trips,
    large_blob_round_trips,
    blob_is_invisible_until_commit,
    abort_leaves_nothing,
    dropped_writer_leaves_nothing_visible,
    list_shows_committed_blobs,
    delete_removes_and_is_idempotent,
    never_written_key_is_not_found,
    concurrent_writers_do_not_interfere,
    reaper_spares_uploads_in_flight,
);

/// Runs every check on `store` and panics naming the first failure.
pub async fn run(store: &dyn BlobStore) {
    for (name, check) in checks() {
        eprintln!("blob conformance: {name} on {}", store.describe());
        check(store).await;
    }
}

const MIB: usize = 1024 * 1024;

/// Deterministic bytes without a short period, so pieces swapped, repeated or dropped at any
/// boundary (a chunk, an S3 part) cannot compare equal by accident.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

async fn write_blob(store: &dyn BlobStore, key: &BlobKey, pieces: &[Vec<u8>]) {
    let mut writer = store
        .create(key)
        .await
        .unwrap_or_else(|e| panic!("create {key}: {e}"));
    for piece in pieces {
        writer
            .write(piece.clone())
            .await
            .unwrap_or_else(|e| panic!("write {} bytes to {key}: {e}", piece.len()));
    }
    writer
        .commit()
        .await
        .unwrap_or_else(|e| panic!("commit {key}: {e}"));
}

async fn read_blob(store: &dyn BlobStore, key: &BlobKey) -> Vec<u8> {
    let mut reader = store
        .open(key)
        .await
        .unwrap_or_else(|e| panic!("open {key}: {e}"));
    let mut all = Vec::new();
    while let Some(chunk) = reader
        .next_chunk()
        .await
        .unwrap_or_else(|e| panic!("read {key}: {e}"))
    {
        all.extend_from_slice(&chunk);
    }
    all
}

/// Compares without printing megabytes of bytes when they differ.
fn assert_same_bytes(what: &str, got: &[u8], expected: &[u8]) {
    assert_eq!(
        got.len(),
        expected.len(),
        "{what}: read back {} bytes, wrote {}",
        got.len(),
        expected.len()
    );
    if let Some(at) = got.iter().zip(expected).position(|(a, b)| a != b) {
        panic!("{what}: bytes differ from offset {at}");
    }
}

async fn assert_not_found(store: &dyn BlobStore, key: &BlobKey, when: &str) {
    match store.open(key).await {
        Err(BlobError::NotFound) => {}
        Err(e) => panic!("{when}: open {key} should be NotFound, got error {e}"),
        Ok(_) => panic!("{when}: open {key} should be NotFound, but the blob is readable"),
    }
}

async fn listed(store: &dyn BlobStore, key: &BlobKey) -> Option<BlobInfo> {
    store
        .list()
        .await
        .unwrap_or_else(|e| panic!("list: {e}"))
        .into_iter()
        .find(|info| &info.key == key)
}

async fn assert_not_listed(store: &dyn BlobStore, key: &BlobKey, when: &str) {
    if let Some(info) = listed(store, key).await {
        panic!("{when}: {key} should not be listed, found {info:?}");
    }
}

async fn reap(store: &dyn BlobStore, started_before: DateTime<Utc>) -> u64 {
    store
        .reap_partial(started_before)
        .await
        .unwrap_or_else(|e| panic!("reap_partial({started_before}): {e}"))
}

async fn pieces_of_any_size_round_trip(store: &dyn BlobStore) {
    let key = BlobKey::generate();
    let pieces = vec![
        Vec::new(),
        vec![0x5a],
        pattern(3_000_000, 1),
        Vec::new(),
        pattern(1000, 2),
        vec![0, 0xff],
    ];
    write_blob(store, &key, &pieces).await;
    assert_same_bytes(
        "pieces of any size",
        &read_blob(store, &key).await,
        &pieces.concat(),
    );
    store.delete(&key).await.expect("delete");
}

async fn empty_blob_round_trips(store: &dyn BlobStore) {
    let key = BlobKey::generate();
    write_blob(store, &key, &[]).await;
    assert_same_bytes("empty blob", &read_blob(store, &key).await, &[]);
    let info = listed(store, &key)
        .await
        .unwrap_or_else(|| panic!("the committed empty blob {key} is not listed"));
    assert_eq!(info.size, 0, "size of the empty blob");
    store.delete(&key).await.expect("delete");
}

/// Bigger than the part size of multipart stores (5 MiB), written in pieces that straddle it.
async fn large_blob_round_trips(store: &dyn BlobStore) {
    let key = BlobKey::generate();
    let expected = pattern(12 * MIB + 123, 3);
    let sizes = [MIB, 3 * MIB + 17, 6 * MIB, 1, MIB, MIB + 105];
    assert_eq!(sizes.iter().sum::<usize>(), expected.len());
    let mut pieces = Vec::new();
    let mut at = 0;
    for size in sizes {
        pieces.push(expected[at..at + size].to_vec());
        at += size;
    }
    write_blob(store, &key, &pieces).await;
    assert_same_bytes("large blob", &read_blob(store, &key).await, &expected);
    let info = listed(store, &key).await.expect("the large blob is listed");
    assert_eq!(
        info.size,
        expected.len() as u64,
        "listed size of the large blob"
    );
    store.delete(&key).await.expect("delete");
}

async fn blob_is_invisible_until_commit(store: &dyn BlobStore) {
    let key = BlobKey::generate();
    let mut writer = store.create(&key).await.expect("create");
    assert_not_found(store, &key, "created, nothing written").await;
    writer.write(pattern(5000, 4)).await.expect("write");
    assert_not_found(store, &key, "written, not committed").await;
    assert_not_listed(store, &key, "written, not committed").await;
    writer.commit().await.expect("commit");
    assert_same_bytes(
        "after commit",
        &read_blob(store, &key).await,
        &pattern(5000, 4),
    );
    assert!(
        listed(store, &key).await.is_some(),
        "{key} not listed after commit"
    );
    store.delete(&key).await.expect("delete");
}

async fn abort_leaves_nothing(store: &dyn BlobStore) {
    let key = BlobKey::generate();
    let mut writer = store.create(&key).await.expect("create");
    writer.write(pattern(70_000, 5)).await.expect("write");
    writer.abort().await.expect("abort");
    assert_not_found(store, &key, "after abort").await;
    assert_not_listed(store, &key, "after abort").await;
    reap(store, Utc::now() + Duration::seconds(1)).await;
    assert_not_found(store, &key, "after abort and reap").await;
    assert_not_listed(store, &key, "after abort and reap").await;
}

async fn dropped_writer_leaves_nothing_visible(store: &dyn BlobStore) {
    let key = BlobKey::generate();
    let mut writer = store.create(&key).await.expect("create");
    writer.write(pattern(300_000, 6)).await.expect("write");
    drop(writer);
    assert_not_found(store, &key, "writer dropped").await;
    assert_not_listed(store, &key, "writer dropped").await;
    reap(store, Utc::now() + Duration::seconds(1)).await;
    assert_not_found(store, &key, "writer dropped, partials reaped").await;
    assert_not_listed(store, &key, "writer dropped, partials reaped").await;
    // An upload retried under the same key after a crash must work.
    write_blob(store, &key, &[pattern(10, 7)]).await;
    assert_same_bytes(
        "retried upload",
        &read_blob(store, &key).await,
        &pattern(10, 7),
    );
    store.delete(&key).await.expect("delete");
}

async fn list_shows_committed_blobs(store: &dyn BlobStore) {
    // Stores keep times to the second, and a remote one has its own clock.
    let slack = Duration::minutes(5);
    let before = Utc::now();
    let sizes = [(BlobKey::generate(), 1234usize), (BlobKey::generate(), 1)];
    for (n, (key, size)) in sizes.iter().enumerate() {
        write_blob(store, key, &[pattern(*size, 8 + n as u64)]).await;
    }
    let after = Utc::now();
    let all = store.list().await.expect("list");
    for (key, size) in &sizes {
        let matching: Vec<_> = all.iter().filter(|info| &info.key == key).collect();
        assert_eq!(
            matching.len(),
            1,
            "{key} should be listed once, got {matching:?}"
        );
        let info = matching[0];
        assert_eq!(info.size, *size as u64, "listed size of {key}");
        assert!(
            info.modified_at >= before - slack && info.modified_at <= after + slack,
            "{key} listed as modified at {}, written between {before} and {after}",
            info.modified_at
        );
    }
    for (key, _) in &sizes {
        store.delete(key).await.expect("delete");
    }
}

async fn delete_removes_and_is_idempotent(store: &dyn BlobStore) {
    let key = BlobKey::generate();
    write_blob(store, &key, &[pattern(100, 10)]).await;
    store.delete(&key).await.expect("delete");
    assert_not_found(store, &key, "after delete").await;
    assert_not_listed(store, &key, "after delete").await;
    store
        .delete(&key)
        .await
        .unwrap_or_else(|e| panic!("deleting {key} twice should be Ok, got {e}"));
    store
        .delete(&BlobKey::generate())
        .await
        .unwrap_or_else(|e| panic!("deleting a never-written key should be Ok, got {e}"));
}

async fn never_written_key_is_not_found(store: &dyn BlobStore) {
    assert_not_found(store, &BlobKey::generate(), "never written").await;
}

async fn concurrent_writers_do_not_interfere(store: &dyn BlobStore) {
    let (a, b) = (BlobKey::generate(), BlobKey::generate());
    let mut writer_a = store.create(&a).await.expect("create a");
    let mut writer_b = store.create(&b).await.expect("create b");
    let pieces_a = [pattern(200_000, 11), pattern(6 * MIB, 12), pattern(7, 13)];
    let pieces_b = [pattern(1, 14), pattern(100_000, 15), pattern(2 * MIB, 16)];
    for (piece_a, piece_b) in pieces_a.iter().zip(&pieces_b) {
        writer_a.write(piece_a.clone()).await.expect("write a");
        writer_b.write(piece_b.clone()).await.expect("write b");
    }
    writer_b.commit().await.expect("commit b");
    assert_not_found(store, &a, "b committed, a still writing").await;
    writer_a.commit().await.expect("commit a");
    assert_same_bytes("writer a", &read_blob(store, &a).await, &pieces_a.concat());
    assert_same_bytes("writer b", &read_blob(store, &b).await, &pieces_b.concat());
    // Two readers open at once each see their own blob.
    let mut reader_a = store.open(&a).await.expect("open a");
    let mut reader_b = store.open(&b).await.expect("open b");
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    let (mut done_a, mut done_b) = (false, false);
    while !(done_a && done_b) {
        if !done_a {
            match reader_a.next_chunk().await.expect("read a") {
                Some(chunk) => got_a.extend_from_slice(&chunk),
                None => done_a = true,
            }
        }
        if !done_b {
            match reader_b.next_chunk().await.expect("read b") {
                Some(chunk) => got_b.extend_from_slice(&chunk),
                None => done_b = true,
            }
        }
    }
    assert_same_bytes("interleaved reader a", &got_a, &pieces_a.concat());
    assert_same_bytes("interleaved reader b", &got_b, &pieces_b.concat());
    store.delete(&a).await.expect("delete a");
    store.delete(&b).await.expect("delete b");
}

/// The reaper runs with a grace period while people upload: it must not cut an upload short.
async fn reaper_spares_uploads_in_flight(store: &dyn BlobStore) {
    let started = Utc::now();
    let key = BlobKey::generate();
    let pieces = [pattern(400_000, 17), pattern(300_000, 18)];
    let mut writer = store.create(&key).await.expect("create");
    writer.write(pieces[0].clone()).await.expect("write");
    reap(store, started - Duration::minutes(1)).await;
    writer
        .write(pieces[1].clone())
        .await
        .expect("write after a reaper run with a grace period");
    reap(store, Utc::now() - Duration::minutes(1)).await;
    writer
        .commit()
        .await
        .expect("commit after a reaper run with a grace period");
    assert_same_bytes(
        "upload that outlived a reaper run",
        &read_blob(store, &key).await,
        &pieces.concat(),
    );
    store.delete(&key).await.expect("delete");
}
