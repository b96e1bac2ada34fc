//! The blob conformance suite on the real adapters: files in a temporary folder, and a real S3
//! server (s3s-fs) on 127.0.0.1.

use chrono::{Duration, Utc};
use peps_core::testing::conformance::blobs as blob_conformance;
use peps_core::wallet::ports::{BlobError, BlobKey, BlobStore};
use peps_store::blobs::{FsBlobStore, S3Credentials, blob_store_from_url};
use peps_store::testing_s3::S3TestServer;
use std::path::Path;

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn no_credentials() -> S3Credentials {
    S3Credentials {
        access_key_id: String::new(),
        secret_access_key: String::new(),
    }
}

#[tokio::test]
async fn fs_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path().join("wallet")).await.unwrap();
    blob_conformance::run(&store).await;
    assert_eq!(
        files_in(store.partial_dir()),
        Vec::<String>::new(),
        "the suite leaves no partial file behind"
    );
}

#[tokio::test]
async fn fs_store_is_chosen_by_file_url_and_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let by_url = blob_store_from_url(
        &format!("file://{}", dir.path().join("a").display()),
        no_credentials(),
    )
    .await
    .unwrap();
    let by_path = blob_store_from_url(dir.path().join("b").to_str().unwrap(), no_credentials())
        .await
        .unwrap();
    for (store, name) in [(by_url, "a"), (by_path, "b")] {
        assert_eq!(
            store.describe(),
            format!("file://{}", dir.path().join(name).display())
        );
        assert!(dir.path().join(name).join("blobs").is_dir());
        assert!(dir.path().join(name).join("partial").is_dir());
    }
}

#[cfg(unix)]
#[tokio::test]
async fn fs_store_folders_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path().join("wallet")).await.unwrap();
    let key = BlobKey::generate();
    let mut writer = store.create(&key).await.unwrap();
    writer.write(b"secret".to_vec()).await.unwrap();
    writer.commit().await.unwrap();
    let hex = key.as_str().strip_prefix("w/").unwrap();
    let fan_out = store.blobs_dir().join(&hex[..2]);
    for folder in [store.blobs_dir(), store.partial_dir(), &fan_out] {
        let mode = std::fs::metadata(folder).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", folder.display());
    }
    let file = std::fs::metadata(fan_out.join(hex)).unwrap();
    assert_eq!(file.permissions().mode() & 0o777, 0o600);
}

#[tokio::test]
async fn fs_store_reaps_stale_partials_and_ignores_strangers() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsBlobStore::open(dir.path().join("wallet")).await.unwrap();

    // A dropped writer removes its own part file at once.
    let mut writer = store.create(&BlobKey::generate()).await.unwrap();
    writer.write(vec![1; 300_000]).await.unwrap();
    assert_eq!(files_in(store.partial_dir()).len(), 1);
    drop(writer);
    assert_eq!(files_in(store.partial_dir()), Vec::<String>::new());

    // A crash leaves one behind: old ones go, a fresh one (an upload in flight) stays.
    let stale = store
        .partial_dir()
        .join("0123456789abcdef0123456789abcdef.0badc0de.part");
    let fresh = store
        .partial_dir()
        .join("fedcba9876543210fedcba9876543210.c0ffee00.part");
    let not_a_part = store.partial_dir().join("README");
    for path in [&stale, &fresh, &not_a_part] {
        std::fs::write(path, b"half an upload").unwrap();
    }
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for path in [&stale, &not_a_part] {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();
    }
    let removed = store
        .reap_partial(Utc::now() - Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert!(!stale.exists(), "the stale part file is removed");
    assert!(fresh.exists(), "a recent part file is an upload in flight");
    assert!(not_a_part.exists(), "only .part files are the reaper's");

    // list() reports blobs only: no strangers in blobs/, nothing misplaced.
    let key = BlobKey::generate();
    let mut writer = store.create(&key).await.unwrap();
    writer.write(b"kept".to_vec()).await.unwrap();
    writer.commit().await.unwrap();
    let hex = key.as_str().strip_prefix("w/").unwrap().to_owned();
    let fan_out = store.blobs_dir().join(&hex[..2]);
    std::fs::write(fan_out.join("not-a-key"), b"x").unwrap();
    std::fs::write(fan_out.join(format!("{hex}.tmp")), b"x").unwrap();
    std::fs::write(store.blobs_dir().join("stray"), b"x").unwrap();
    std::fs::create_dir(store.blobs_dir().join("zz")).unwrap();
    let misplaced = "00000000000000000000000000000001";
    let wrong_dir = if hex.starts_with("ff") { "ee" } else { "ff" };
    std::fs::create_dir_all(store.blobs_dir().join(wrong_dir)).unwrap();
    std::fs::write(store.blobs_dir().join(wrong_dir).join(misplaced), b"x").unwrap();
    let listed = store.list().await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].key, key);
    assert_eq!(listed[0].size, 4);
    assert!(matches!(
        store
            .open(&BlobKey::parse(&format!("w/{misplaced}")).unwrap())
            .await,
        Err(BlobError::NotFound)
    ));
}

#[tokio::test]
async fn s3_store_conforms() {
    let server = S3TestServer::start().await;
    let store = server.blob_store().await;
    assert_eq!(
        store.describe(),
        format!(
            "s3://peps-test at {}",
            server.url().split("endpoint=").nth(1).unwrap()
        )
    );
    blob_conformance::run(&*store).await;
    // A dropped writer's abort runs in a spawned task; let it finish, then nothing remains.
    for _ in 0..50 {
        if no_uploads_left(server.root()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        no_uploads_left(server.root()),
        "uploads left on the server: {:?}",
        uploads(server.root())
    );
    assert!(
        store.list().await.unwrap().is_empty(),
        "the suite deletes its blobs"
    );
}

/// s3s-fs keeps an upload in progress as `.upload-<id>.json` and `.upload_id-<id>.part-<n>`
/// files at its root.
fn uploads(root: &Path) -> Vec<String> {
    files_in(root)
        .into_iter()
        .filter(|name| name.starts_with(".upload"))
        .collect()
}

fn no_uploads_left(root: &Path) -> bool {
    uploads(root).is_empty()
}

#[tokio::test]
async fn s3_store_rejects_wrong_keys() {
    let server = S3TestServer::start().await;
    let mut credentials = server.credentials();
    credentials.secret_access_key.push('x');
    let store = blob_store_from_url(&server.url(), credentials)
        .await
        .unwrap();
    match store.list().await {
        Err(BlobError::Unavailable(_)) => {}
        other => panic!("listing with a wrong secret should fail, got {other:?}"),
    }
}
