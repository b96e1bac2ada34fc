//! Blobs as files under one root folder, the default for a single server.
//!
//! ```text
//! root/blobs/3f/3fa2…(32 hex)     committed blobs, fanned out on the first two digits
//! root/partial/3fa2….<rand>.part  uploads in progress
//! ```
//!
//! An upload is written to `partial/` and renamed into `blobs/` on commit, so a blob is either
//! absent or complete. Both folders are on the same filesystem, which keeps the rename atomic.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::io;
use std::path::{Path, PathBuf};
use tokio::fs;
use tokio::io::AsyncReadExt;

use peps_core::wallet::ports::*;

/// Large enough that a 1 GB upload is a few thousand system calls, small enough for many at once.
const BUFFER: usize = 256 * 1024;
const PART_SUFFIX: &str = ".part";

#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
    blobs: PathBuf,
    partial: PathBuf,
}

fn unavailable(err: io::Error) -> BlobError {
    BlobError::unavailable(err)
}

/// Private to the server's user: the files are encrypted, but their number and sizes are
/// nobody else's business either.
async fn create_private_dir(path: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(path).await
}

/// The 32 hex digits of a key: `BlobKey::parse` guarantees they are a safe file name.
fn hex_of(key: &BlobKey) -> &str {
    key.as_str().strip_prefix("w/").unwrap_or(key.as_str())
}

impl FsBlobStore {
    /// Opens (creating if needed) a store under `root`.
    pub async fn open(root: PathBuf) -> BlobResult<Self> {
        // Absolute, so that logs and `describe` say where the files are whatever the cwd.
        let root = std::path::absolute(&root).map_err(unavailable)?;
        let blobs = root.join("blobs");
        let partial = root.join("partial");
        for dir in [&root, &blobs, &partial] {
            create_private_dir(dir).await.map_err(unavailable)?;
        }
        #[cfg(unix)]
        for dir in [&blobs, &partial] {
            use std::os::unix::fs::PermissionsExt;
            // An existing folder keeps its mode through `create`; tighten it too.
            fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .await
                .map_err(unavailable)?;
        }
        Ok(Self {
            root,
            blobs,
            partial,
        })
    }

    /// The folder holding partial uploads (for tests and operators).
    pub fn partial_dir(&self) -> &Path {
        &self.partial
    }

    /// The folder holding committed blobs.
    pub fn blobs_dir(&self) -> &Path {
        &self.blobs
    }

    fn fan_out_dir(&self, key: &BlobKey) -> PathBuf {
        self.blobs.join(&hex_of(key)[..2])
    }

    fn blob_path(&self, key: &BlobKey) -> PathBuf {
        self.fan_out_dir(key).join(hex_of(key))
    }
}

/// Makes a rename or a new entry in `dir` survive a power cut.
async fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir).await?.sync_all().await?;
    // Elsewhere directories cannot be opened as files; the rename is still atomic.
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn create(&self, key: &BlobKey) -> BlobResult<Box<dyn BlobWrite>> {
        let name = format!(
            "{}.{}{PART_SUFFIX}",
            hex_of(key),
            uuid::Uuid::new_v4().simple()
        );
        let part = self.partial.join(name);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options.open(&part).await.map_err(unavailable)?;
        Ok(Box::new(FsWriter {
            file: Some(Writing::Idle(file.into_std().await)),
            part: Some(part),
            fan_out: self.fan_out_dir(key),
            dest: self.blob_path(key),
            blobs: self.blobs.clone(),
        }))
    }

    async fn open(&self, key: &BlobKey) -> BlobResult<Box<dyn BlobRead>> {
        match fs::File::open(self.blob_path(key)).await {
            Ok(file) => Ok(Box::new(FsReader { file, done: false })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(BlobError::NotFound),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn delete(&self, key: &BlobKey) -> BlobResult<()> {
        match fs::remove_file(self.blob_path(key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn list(&self) -> BlobResult<Vec<BlobInfo>> {
        let mut all = Vec::new();
        let mut fan_outs = fs::read_dir(&self.blobs).await.map_err(unavailable)?;
        while let Some(dir) = fan_outs.next_entry().await.map_err(unavailable)? {
            if !dir.file_type().await.map_err(unavailable)?.is_dir() {
                continue;
            }
            let prefix = dir.file_name();
            let mut files = match fs::read_dir(dir.path()).await {
                Ok(files) => files,
                // Another process may tidy up an empty fan-out folder meanwhile.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(unavailable(e)),
            };
            while let Some(file) = files.next_entry().await.map_err(unavailable)? {
                let name = file.file_name();
                let Some(key) = name
                    .to_str()
                    .and_then(|n| BlobKey::parse(&format!("w/{n}")))
                else {
                    continue;
                };
                // A file in the wrong fan-out folder would never be found by `open`.
                if prefix.to_str() != Some(&hex_of(&key)[..2]) {
                    continue;
                }
                let meta = match file.metadata().await {
                    Ok(meta) => meta,
                    // Deleted between the listing and now.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(unavailable(e)),
                };
                if !meta.is_file() {
                    continue;
                }
                all.push(BlobInfo {
                    key,
                    size: meta.len(),
                    modified_at: meta.modified().map_err(unavailable)?.into(),
                });
            }
        }
        Ok(all)
    }

    /// Goes by the part file's last modification, so a slow upload still writing is spared
    /// however long ago it started.
    async fn reap_partial(&self, started_before: DateTime<Utc>) -> BlobResult<u64> {
        let mut removed = 0;
        let mut parts = fs::read_dir(&self.partial).await.map_err(unavailable)?;
        while let Some(part) = parts.next_entry().await.map_err(unavailable)? {
            let is_part = part
                .file_name()
                .to_str()
                .is_some_and(|n| n.ends_with(PART_SUFFIX));
            if !is_part {
                continue;
            }
            let modified: DateTime<Utc> = match part.metadata().await {
                Ok(meta) if meta.is_file() => meta.modified().map_err(unavailable)?.into(),
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(unavailable(e)),
            };
            if modified >= started_before {
                continue;
            }
            match fs::remove_file(part.path()).await {
                Ok(()) => removed += 1,
                // Committed, aborted or dropped meanwhile.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(unavailable(e)),
            }
        }
        Ok(removed)
    }

    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
    }
}

/// The part file, or the write under way on a blocking thread (which hands the file back).
/// One write is in flight while the next piece is prepared; each piece is written from the
/// buffer it came in, without another copy.
enum Writing {
    Idle(std::fs::File),
    Busy(tokio::task::JoinHandle<io::Result<std::fs::File>>),
}

impl Writing {
    async fn settle(self) -> io::Result<std::fs::File> {
        match self {
            Writing::Idle(file) => Ok(file),
            Writing::Busy(task) => task.await.map_err(io::Error::other)?,
        }
    }
}

struct FsWriter {
    file: Option<Writing>,
    /// `None` once committed or aborted, so `Drop` knows there is nothing left to remove.
    part: Option<PathBuf>,
    fan_out: PathBuf,
    dest: PathBuf,
    blobs: PathBuf,
}

impl FsWriter {
    async fn finish(&mut self) -> io::Result<()> {
        let part = self
            .part
            .clone()
            .ok_or_else(|| io::Error::other("writer already finished"))?;
        let file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("writer already finished"))?
            .settle()
            .await?;
        tokio::task::spawn_blocking(move || file.sync_all())
            .await
            .map_err(io::Error::other)??;
        let new_fan_out = fs::metadata(&self.fan_out).await.is_err();
        create_private_dir(&self.fan_out).await?;
        if new_fan_out {
            sync_dir(&self.blobs).await?;
        }
        fs::rename(&part, &self.dest).await?;
        self.part = None;
        sync_dir(&self.fan_out).await
    }
}

#[async_trait]
impl BlobWrite for FsWriter {
    async fn write(&mut self, bytes: Vec<u8>) -> BlobResult<()> {
        let writing = self
            .file
            .take()
            .ok_or_else(|| unavailable(io::Error::other("writer already finished")))?;
        let mut file = writing.settle().await.map_err(unavailable)?;
        self.file = Some(Writing::Busy(tokio::task::spawn_blocking(move || {
            io::Write::write_all(&mut file, &bytes)?;
            Ok(file)
        })));
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> BlobResult<()> {
        // On failure `Drop` removes the part file, if the rename has not happened.
        self.finish().await.map_err(unavailable)
    }

    async fn abort(mut self: Box<Self>) -> BlobResult<()> {
        if let Some(writing) = self.file.take() {
            // Let a write in flight end before removing the file it writes to.
            let _ = writing.settle().await;
        }
        match self.part.take() {
            Some(part) => match fs::remove_file(&part).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(unavailable(e)),
            },
            None => Ok(()),
        }
    }
}

impl Drop for FsWriter {
    fn drop(&mut self) {
        if let Some(part) = self.part.take() {
            // Best effort: what stays behind (a crash, a full disk) `reap_partial` removes.
            let _ = std::fs::remove_file(part);
        }
    }
}

struct FsReader {
    file: fs::File,
    done: bool,
}

#[async_trait]
impl BlobRead for FsReader {
    async fn next_chunk(&mut self) -> BlobResult<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let mut chunk = vec![0; BUFFER];
        let mut filled = 0;
        while filled < BUFFER {
            let n = self
                .file
                .read(&mut chunk[filled..])
                .await
                .map_err(unavailable)?;
            if n == 0 {
                self.done = true;
                break;
            }
            filled += n;
        }
        chunk.truncate(filled);
        Ok((filled > 0).then_some(chunk))
    }
}
