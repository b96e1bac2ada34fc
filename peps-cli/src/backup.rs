//! `peps backup` and `peps restore` for the embedded setup: a SQLite database and a blob
//! folder. PostgreSQL and S3 have their own tools; docs/operating.md ("Backups and restore")
//! gives the procedure, and both commands point there.
//!
//! A backup is a folder `peps-backup-<UTC time>` holding `peps.db` (a consistent snapshot),
//! `blobs/<xx>/<hex>` (the encrypted files) and `manifest.json`, written last, with the size
//! and SHA-256 of every other file. It is built under `.partial-<random>` and renamed only
//! once complete, so a folder named `peps-backup-*` is always whole. The wallet's key file is
//! never in it: with the key, a stolen backup would give every document away.

use anyhow::{Context, bail};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use crate::config::Config;
use peps_core::wallet::WalletRepository;
use peps_store::blobs::{BlobUrl, parse_blob_url};
use peps_store::{DatabaseUrl, SeaOrmStore};

const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "peps.db";
const BLOBS: &str = "blobs";
const DOCS: &str = "docs/operating.md, \"Backups and restore\"";

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    peps_version: String,
    created_at: chrono::DateTime<chrono::Utc>,
    /// The newest migration in the snapshot: a PEPS at least this recent can read it.
    schema_migration: Option<String>,
    files: Vec<FileEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    path: String,
    size: u64,
    sha256: String,
}

/// Where the embedded setup keeps its data, from the configuration; anything else is refused
/// with the way to back it up instead.
struct Embedded {
    database: PathBuf,
    /// The blob store's root; committed blobs are under `<root>/blobs/<xx>/<hex>`.
    blob_root: PathBuf,
}

fn embedded(config: &Config, command: &str) -> anyhow::Result<Embedded> {
    let url = DatabaseUrl::new(config.database.url.clone());
    let Some(database) = url.sqlite_path() else {
        bail!(
            "`peps {command}` handles the embedded SQLite database only, and database.url is {}: \
             use pg_dump / pg_restore or your provider's point-in-time recovery ({DOCS})",
            url.redacted()
        );
    };
    let blob_root = match parse_blob_url(&config.wallet.blob_url).context("wallet.blob_url")? {
        BlobUrl::Fs(root) => root,
        BlobUrl::S3(location) => bail!(
            "`peps {command}` handles a blob folder only, and wallet.blob_url is the S3 bucket \
             {}: protect it with bucket versioning or replication ({DOCS})",
            location.bucket
        ),
    };
    Ok(Embedded {
        database,
        blob_root,
    })
}

fn random_suffix() -> String {
    format!("{:016x}", rand::thread_rng().r#gen::<u64>())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies `from` to a new file `to` (owner-only), returning its size and SHA-256, and makes
/// it durable.
fn copy_hashed(from: &Path, to: &Path) -> anyhow::Result<(u64, String)> {
    let mut input =
        std::fs::File::open(from).with_context(|| format!("reading {}", from.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut output = options
        .open(to)
        .with_context(|| format!("creating {}", to.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = input
            .read(&mut buffer)
            .with_context(|| format!("reading {}", from.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        output
            .write_all(&buffer[..n])
            .with_context(|| format!("writing {}", to.display()))?;
        size += n as u64;
    }
    output
        .sync_all()
        .with_context(|| format!("writing {}", to.display()))?;
    Ok((size, hex(&hasher.finalize())))
}

fn hash_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut input =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = input
            .read(&mut buffer)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((size, hex(&hasher.finalize())))
}

fn private_dir(path: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(path)
        .with_context(|| format!("creating {}", path.display()))
}

/// Makes renames and new entries in `dir` survive a power cut.
fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Is `name` the 32 hex digits of a blob, under the fan-out folder of its first two?
fn blob_name(fan_out: &str, name: &str) -> bool {
    name.len() == 32
        && name
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && name.starts_with(fan_out)
}

/// The committed blobs under a blob store's root, as `(fan-out, name)`. Uploads in progress
/// (`partial/`) are not data yet and are left out.
fn list_blobs(root: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let dir = root.join(BLOBS);
    let mut found = Vec::new();
    let fan_outs = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for fan_out in fan_outs {
        let fan_out = fan_out.with_context(|| format!("reading {}", dir.display()))?;
        let Some(prefix) = fan_out.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let files = match std::fs::read_dir(fan_out.path()) {
            Ok(files) => files,
            // Not a folder, or removed meanwhile.
            Err(_) => continue,
        };
        for file in files.flatten() {
            if let Some(name) = file.file_name().to_str()
                && blob_name(&prefix, name)
            {
                found.push((prefix.clone(), name.to_owned()));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Copies the blobs not copied yet from `root` into `dest/blobs`. A blob removed meanwhile (a
/// document deleted while the backup runs) is skipped here; the check against the snapshot
/// afterwards says whether it was needed.
fn copy_blobs(
    root: &Path,
    dest: &Path,
    copied: &mut BTreeMap<String, FileEntry>,
) -> anyhow::Result<()> {
    for (prefix, name) in list_blobs(root)? {
        let path = format!("{BLOBS}/{prefix}/{name}");
        if copied.contains_key(&path) {
            // Blobs never change once committed (new content gets a new key).
            continue;
        }
        let target_dir = dest.join(BLOBS).join(&prefix);
        private_dir(&target_dir)?;
        let source = root.join(BLOBS).join(&prefix).join(&name);
        match copy_hashed(&source, &target_dir.join(&name)) {
            Ok((size, sha256)) => {
                copied.insert(path.clone(), FileEntry { path, size, sha256 });
            }
            Err(_) if !source.exists() => {
                let _ = std::fs::remove_file(target_dir.join(&name));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `peps backup --to DIR`.
pub async fn backup(config: &Config, to: &Path) -> anyhow::Result<()> {
    let place = embedded(config, "backup")?;
    if !place.database.is_file() {
        bail!(
            "there is no database at {} (database.url) to back up",
            place.database.display()
        );
    }
    private_dir(to)?;
    let partial = to.join(format!(".partial-{}", random_suffix()));
    private_dir(&partial)?;
    let started = std::time::Instant::now();
    let result = build(config, &place, &partial).await;
    let manifest = match result {
        Ok(manifest) => manifest,
        Err(e) => {
            // Nothing half-written stays behind under a name that looks like a backup.
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    let name = format!(
        "peps-backup-{}",
        manifest.created_at.format("%Y%m%dT%H%M%SZ")
    );
    let done = to.join(&name);
    if done.exists() {
        let _ = std::fs::remove_dir_all(&partial);
        bail!("{} already exists; try again in a second", done.display());
    }
    std::fs::rename(&partial, &done)
        .with_context(|| format!("renaming {} to {}", partial.display(), done.display()))?;
    sync_dir(to)?;
    let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
    println!("{}", done.display());
    eprintln!(
        "Backup written to {} in {:.1} s: the database and {} stored files, {} bytes.",
        done.display(),
        started.elapsed().as_secs_f64(),
        manifest.files.len() - 1,
        bytes
    );
    eprintln!(
        "REMINDER: the wallet key file {} is NOT in this backup, on purpose. Back it up \
         separately and keep it apart from these backups: without it, the documents in this \
         backup can never be decrypted.",
        config.wallet.key_file.display()
    );
    eprintln!("This backup holds personal data: encrypt it and restrict who can read it ({DOCS}).");
    Ok(())
}

async fn build(config: &Config, place: &Embedded, partial: &Path) -> anyhow::Result<Manifest> {
    let live = SeaOrmStore::connect_with(&DatabaseUrl::new(config.database.url.clone()), None)
        .await
        .context("opening the database")?;
    let mut copied = BTreeMap::new();
    let blob_root = place.blob_root.clone();
    let dest = partial.to_owned();
    // A first pass before the snapshot copies the bulk of the files and every blob that a
    // document deleted during the backup may still need (see below).
    let mut copied = tokio::task::spawn_blocking(move || {
        copy_blobs(&blob_root, &dest, &mut copied).map(|()| copied)
    })
    .await??;
    let created_at = chrono::Utc::now();
    let snapshot = partial.join(DATABASE);
    live.snapshot_sqlite(&snapshot)
        .await
        .context("taking a snapshot of the database")?;
    // Dropped, not `close`d: closing checkpoints the write-ahead log, which would hold up the
    // server's writers on the live database for nothing.
    drop(live);
    // The second pass, after the snapshot, brings every blob the snapshot can reference: an
    // upload commits its blob before it records the file row pointing to it
    // (`Wallet::seal_into` commits, then `store_file` calls `add_file`), so a row in the
    // snapshot has its blob on disk by now. Blobs of uploads recorded after the snapshot come
    // along too; they are harmless, and the reaper removes them after a restore.
    let blob_root = place.blob_root.clone();
    let dest = partial.to_owned();
    let copied = tokio::task::spawn_blocking(move || {
        copy_blobs(&blob_root, &dest, &mut copied).map(|()| copied)
    })
    .await??;

    // Every blob the snapshot references must be in the backup. One can be missing only if its
    // document was deleted after the snapshot and its blob removed before either pass copied
    // it (an upload and deletion both within the backup's run): then try again.
    let snapshot_url = format!("sqlite://{}", snapshot.display());
    let snap = SeaOrmStore::connect(&snapshot_url)
        .await
        .context("opening the snapshot")?;
    let referenced = snap
        .referenced_blobs()
        .await
        .map_err(|e| anyhow::anyhow!("reading the snapshot: {e}"))?;
    let schema_migration = snap
        .latest_migration()
        .await
        .context("reading the snapshot's schema version")?;
    if let Err(findings) = snap
        .integrity_check()
        .await
        .context("checking the snapshot")?
    {
        bail!("the snapshot failed SQLite's integrity check: {findings}");
    }
    snap.close().await.context("closing the snapshot")?;
    let missing: Vec<String> = referenced
        .iter()
        .map(|key| {
            let hex = key.as_str().strip_prefix("w/").unwrap_or(key.as_str());
            format!("{BLOBS}/{}/{hex}", &hex[..2.min(hex.len())])
        })
        .filter(|path| !copied.contains_key(path))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} stored files the snapshot needs were removed during the backup (documents \
             deleted meanwhile); run `peps backup` again",
            missing.len()
        );
    }
    // Hashed once closed: opening a database may rewrite its header (journal mode).
    for leftover in ["peps.db-wal", "peps.db-shm"] {
        let _ = std::fs::remove_file(partial.join(leftover));
    }
    let (size, sha256) = hash_file(&snapshot)?;
    let mut files = vec![FileEntry {
        path: DATABASE.to_owned(),
        size,
        sha256,
    }];
    files.extend(copied.into_values());
    let manifest = Manifest {
        format: FORMAT,
        peps_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at,
        schema_migration,
        files,
    };
    // Written last: a folder with a manifest is a complete backup.
    let path = partial.join(MANIFEST);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    serde_json::to_writer_pretty(&mut file, &manifest)?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    sync_dir(partial)?;
    Ok(manifest)
}

/// Checks a manifest's path: `peps.db` or `blobs/<xx>/<32 hex>`, nothing that could point
/// outside the backup or the blob folder.
fn safe_path(path: &str) -> bool {
    if path == DATABASE {
        return true;
    }
    let parts: Vec<&str> = path.split('/').collect();
    parts.len() == 3
        && parts[0] == BLOBS
        && parts[1].len() == 2
        && blob_name(parts[1], parts[2])
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Reads and checks a backup: the manifest, then every file's size and checksum.
fn verify(from: &Path) -> anyhow::Result<Manifest> {
    let path = from.join(MANIFEST);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{} has no readable {MANIFEST}: it is not a complete backup (an interrupted one is \
             named .partial-*)",
            from.display()
        )
    })?;
    // The format first, so that a newer format is told apart from a damaged manifest.
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is damaged", path.display()))?;
    let format = value.get("format").and_then(serde_json::Value::as_u64);
    if format != Some(u64::from(FORMAT)) {
        bail!(
            "{} is in backup format {}; this PEPS reads format {FORMAT} (restore it with the \
             PEPS version that made it, {})",
            from.display(),
            format.map_or_else(|| "unknown".to_owned(), |f| f.to_string()),
            value
                .get("peps_version")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("unknown")
        );
    }
    let manifest: Manifest =
        serde_json::from_value(value).with_context(|| format!("{} is damaged", path.display()))?;
    if manifest.files.first().map(|f| f.path.as_str()) != Some(DATABASE) {
        bail!(
            "{} lists no database: the backup is damaged",
            path.display()
        );
    }
    let mut seen = HashSet::new();
    for entry in &manifest.files {
        if !safe_path(&entry.path) || !seen.insert(entry.path.as_str()) {
            bail!(
                "{} lists an unexpected file {:?}: the backup is damaged",
                path.display(),
                entry.path
            );
        }
        let file = from.join(&entry.path);
        let (size, sha256) = hash_file(&file)
            .with_context(|| format!("the backup is incomplete: {} is missing", entry.path))?;
        if size != entry.size || sha256 != entry.sha256 {
            bail!(
                "the backup is damaged: {} does not match its checksum in {MANIFEST} ({} bytes, \
                 {} expected); nothing was restored",
                entry.path,
                size,
                entry.size
            );
        }
    }
    Ok(manifest)
}

/// Does `dir` hold any file (at any depth)?
fn holds_files(dir: &Path) -> anyhow::Result<bool> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        if entry.file_type()?.is_dir() {
            if holds_files(&entry.path())? {
                return Ok(true);
            }
        } else {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `peps restore --from BACKUP`.
pub async fn restore(config: &Config, from: &Path) -> anyhow::Result<()> {
    let place = embedded(config, "restore")?;
    let started = std::time::Instant::now();
    let manifest = verify(from)?;

    // Only into empty places: a restore never mixes two databases' files, nor overwrites
    // anything the operator may still need.
    let wal = sidecar(&place.database, "-wal");
    for existing in [&place.database, &wal] {
        if existing.exists() {
            bail!(
                "{} already exists: `peps restore` writes into an empty place only. Stop PEPS \
                 and move the database (and its -wal and -shm files) away first",
                existing.display()
            );
        }
    }
    if holds_files(&place.blob_root)? {
        bail!(
            "the blob folder {} (wallet.blob_url) is not empty: `peps restore` writes into an \
             empty place only. Stop PEPS and move it away first",
            place.blob_root.display()
        );
    }

    let suffix = random_suffix();
    let db_dir = parent_of(&place.database);
    private_dir(&db_dir)?;
    let db_temp = db_dir.join(format!(".peps-restoring-{suffix}.db"));
    let blob_parent = parent_of(&place.blob_root);
    private_dir(&blob_parent)?;
    let blob_temp = blob_parent.join(format!(".peps-blobs-restoring-{suffix}"));
    let result = restore_into(from, &manifest, &place, &db_temp, &blob_temp).await;
    if result.is_err() {
        // An interrupted restore leaves nothing under the real names, and here not even the
        // temporary ones.
        let _ = std::fs::remove_file(&db_temp);
        let _ = std::fs::remove_file(sidecar(&db_temp, "-wal"));
        let _ = std::fs::remove_file(sidecar(&db_temp, "-shm"));
        let _ = std::fs::remove_dir_all(&blob_temp);
    }
    result?;
    println!(
        "Restored the backup of {} (PEPS {}, schema {}): the database to {} and {} stored \
         files to {}, in {:.1} s.",
        manifest.created_at.to_rfc3339(),
        manifest.peps_version,
        manifest.schema_migration.as_deref().unwrap_or("empty"),
        place.database.display(),
        manifest.files.len() - 1,
        place.blob_root.display(),
        started.elapsed().as_secs_f64()
    );
    if !config.wallet.key_file.exists() {
        eprintln!(
            "The wallet key file {} is missing: put the one kept apart from the backups there \
             before `peps serve`, or no document can be read.",
            config.wallet.key_file.display()
        );
    }
    Ok(())
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

async fn restore_into(
    from: &Path,
    manifest: &Manifest,
    place: &Embedded,
    db_temp: &Path,
    blob_temp: &Path,
) -> anyhow::Result<()> {
    // Each copy is checked again against the manifest: the backup may sit on a disk that
    // fails while it is read.
    let check = |entry: &FileEntry, (size, sha256): (u64, String)| {
        if size != entry.size || sha256 != entry.sha256 {
            bail!("{} changed while it was restored", entry.path);
        }
        Ok(())
    };
    let database = &manifest.files[0];
    check(database, copy_hashed(&from.join(DATABASE), db_temp)?)?;
    private_dir(&blob_temp.join(BLOBS))?;
    private_dir(&blob_temp.join("partial"))?;
    for entry in &manifest.files[1..] {
        let target = blob_temp.join(&entry.path);
        private_dir(&parent_of(&target))?;
        check(entry, copy_hashed(&from.join(&entry.path), &target)?)?;
    }

    // Brought up to this version's schema before it takes the real name, so a backup made by
    // an older PEPS restores onto a newer one, and a failed migration leaves nothing behind.
    let store = SeaOrmStore::connect(&format!("sqlite://{}", db_temp.display()))
        .await
        .context("opening the restored database")?;
    if let Err(findings) = store
        .integrity_check()
        .await
        .context("checking the restored database")?
    {
        bail!("the restored database failed SQLite's integrity check: {findings}");
    }
    store
        .migrate()
        .await
        .context("bringing the restored database up to date")?;
    store
        .close()
        .await
        .context("closing the restored database")?;
    for leftover in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(sidecar(db_temp, leftover));
    }

    // Blobs first, database last: until the database is in place there is no PEPS data here,
    // and a rerun after an interruption says which folder to move away.
    if place.blob_root.exists() {
        // Empty (checked above): FsBlobStore's own empty folders.
        std::fs::remove_dir_all(&place.blob_root)
            .with_context(|| format!("removing the empty {}", place.blob_root.display()))?;
    }
    std::fs::rename(blob_temp, &place.blob_root)
        .with_context(|| format!("moving the files into {}", place.blob_root.display()))?;
    sync_dir(&parent_of(&place.blob_root))?;
    std::fs::rename(db_temp, &place.database)
        .with_context(|| format!("moving the database to {}", place.database.display()))?;
    sync_dir(&parent_of(&place.database))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_stay_inside() {
        assert!(safe_path("peps.db"));
        assert!(safe_path("blobs/3f/3fa2aaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        for bad in [
            "../peps.db",
            "/etc/passwd",
            "blobs/3f/../../x",
            "blobs/3f/3FA2AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "blobs/aa/3fa2aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "wallet.keys",
        ] {
            assert!(!safe_path(bad), "{bad}");
        }
    }
}
