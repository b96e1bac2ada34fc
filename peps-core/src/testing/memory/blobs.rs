//! In-memory reference [`BlobStore`]: pins down the port's behaviour (it passes the blob
//! conformance suite) and backs fast unit tests of the wallet. Not for production: it holds
//! every blob in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::wallet::ports::*;

const READ_CHUNK: usize = 64 * 1024;

#[derive(Default)]
struct State {
    blobs: HashMap<BlobKey, Committed>,
    /// Writes not yet committed, by writer id. A dropped writer stays here, as a crashed
    /// upload would stay on disk, until `reap_partial` removes it.
    partial: HashMap<u64, Partial>,
    next_writer: u64,
}

struct Committed {
    bytes: Arc<Vec<u8>>,
    modified_at: DateTime<Utc>,
}

struct Partial {
    key: BlobKey,
    started_at: DateTime<Utc>,
    bytes: Vec<u8>,
}

/// Clones share the same blobs.
#[derive(Clone, Default)]
pub struct MemoryBlobStore {
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A check that panicked while holding the lock must not hide the others' results.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl MemoryBlobStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Partial writes still held (dropped writers not yet reaped), for tests of the reaper.
    pub fn partial_count(&self) -> usize {
        lock(&self.state).partial.len()
    }
}

#[async_trait]
impl BlobStore for MemoryBlobStore {
    async fn create(&self, key: &BlobKey) -> BlobResult<Box<dyn BlobWrite>> {
        let mut s = lock(&self.state);
        let id = s.next_writer;
        s.next_writer += 1;
        s.partial.insert(
            id,
            Partial {
                key: key.clone(),
                started_at: Utc::now(),
                bytes: Vec::new(),
            },
        );
        Ok(Box::new(MemoryWriter {
            state: self.state.clone(),
            id,
        }))
    }

    async fn open(&self, key: &BlobKey) -> BlobResult<Box<dyn BlobRead>> {
        let s = lock(&self.state);
        let blob = s.blobs.get(key).ok_or(BlobError::NotFound)?;
        Ok(Box::new(MemoryReader {
            bytes: blob.bytes.clone(),
            at: 0,
        }))
    }

    async fn delete(&self, key: &BlobKey) -> BlobResult<()> {
        lock(&self.state).blobs.remove(key);
        Ok(())
    }

    async fn list(&self) -> BlobResult<Vec<BlobInfo>> {
        let s = lock(&self.state);
        Ok(s.blobs
            .iter()
            .map(|(key, blob)| BlobInfo {
                key: key.clone(),
                size: blob.bytes.len() as u64,
                modified_at: blob.modified_at,
            })
            .collect())
    }

    async fn reap_partial(&self, started_before: DateTime<Utc>) -> BlobResult<u64> {
        let mut s = lock(&self.state);
        let before = s.partial.len();
        s.partial.retain(|_, p| p.started_at >= started_before);
        Ok((before - s.partial.len()) as u64)
    }

    fn describe(&self) -> String {
        "memory".to_owned()
    }
}

struct MemoryWriter {
    state: Arc<Mutex<State>>,
    id: u64,
}

impl MemoryWriter {
    /// A writer whose partial write was reaped has lost its bytes: it must fail, not commit a
    /// truncated blob.
    fn lost() -> BlobError {
        BlobError::unavailable(std::io::Error::other("partial write was reaped"))
    }
}

#[async_trait]
impl BlobWrite for MemoryWriter {
    async fn write(&mut self, bytes: Vec<u8>) -> BlobResult<()> {
        let mut s = lock(&self.state);
        let partial = s.partial.get_mut(&self.id).ok_or_else(Self::lost)?;
        partial.bytes.extend_from_slice(&bytes);
        Ok(())
    }

    async fn commit(self: Box<Self>) -> BlobResult<()> {
        let mut s = lock(&self.state);
        let partial = s.partial.remove(&self.id).ok_or_else(Self::lost)?;
        s.blobs.insert(
            partial.key,
            Committed {
                bytes: Arc::new(partial.bytes),
                modified_at: Utc::now(),
            },
        );
        Ok(())
    }

    async fn abort(self: Box<Self>) -> BlobResult<()> {
        lock(&self.state).partial.remove(&self.id);
        Ok(())
    }
}

struct MemoryReader {
    bytes: Arc<Vec<u8>>,
    at: usize,
}

#[async_trait]
impl BlobRead for MemoryReader {
    async fn next_chunk(&mut self) -> BlobResult<Option<Vec<u8>>> {
        if self.at >= self.bytes.len() {
            return Ok(None);
        }
        let end = (self.at + READ_CHUNK).min(self.bytes.len());
        let chunk = self.bytes[self.at..end].to_vec();
        self.at = end;
        Ok(Some(chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[tokio::test]
    async fn memory_blob_store_conforms() {
        let store = MemoryBlobStore::new();
        crate::testing::conformance::blobs::run(&store).await;
        assert_eq!(
            store.partial_count(),
            0,
            "the suite leaves no partial write behind"
        );
    }

    #[tokio::test]
    async fn dropped_writers_stay_partial_until_reaped() {
        let store = MemoryBlobStore::new();
        let mut writer = store.create(&BlobKey::generate()).await.unwrap();
        writer.write(vec![1, 2, 3]).await.unwrap();
        drop(writer);
        assert_eq!(store.partial_count(), 1);
        assert_eq!(
            store
                .reap_partial(Utc::now() - Duration::minutes(1))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .reap_partial(Utc::now() + Duration::seconds(1))
                .await
                .unwrap(),
            1
        );
        assert_eq!(store.partial_count(), 0);
    }

    #[tokio::test]
    async fn a_reaped_writer_cannot_commit() {
        let store = MemoryBlobStore::new();
        let key = BlobKey::generate();
        let writer = store.create(&key).await.unwrap();
        store
            .reap_partial(Utc::now() + Duration::seconds(1))
            .await
            .unwrap();
        assert!(writer.commit().await.is_err());
        assert!(matches!(store.open(&key).await, Err(BlobError::NotFound)));
    }
}
