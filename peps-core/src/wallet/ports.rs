//! The wallet's outward ports: where encrypted bytes live ([`BlobStore`]), who holds the
//! key-encryption keys ([`KeyVault`]) and who looks for malware ([`Scanner`]).
//!
//! Every blob store must pass `peps_core::testing::blob_conformance`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::fmt;

/// The name of a blob in a store: random, never derived from a person or a file name, so a
/// listing of the bucket says nothing about whom it holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey(String);

impl BlobKey {
    /// A fresh random key (`w/` + 32 hex digits).
    pub fn generate() -> Self {
        Self(format!("w/{}", uuid::Uuid::new_v4().simple()))
    }

    /// Accepts only what [`BlobKey::generate`] makes, so a stored value can never name a path
    /// outside the store.
    pub fn parse(raw: &str) -> Option<Self> {
        let hex = raw.strip_prefix("w/")?;
        (hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        .then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob not found")]
    NotFound,
    /// The store could not be reached or failed; the source says why (never shown to users).
    #[error("blob store unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl BlobError {
    pub fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(err))
    }
}

pub type BlobResult<T> = Result<T, BlobError>;

/// A committed blob, as listed by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub key: BlobKey,
    pub size: u64,
    pub modified_at: DateTime<Utc>,
}

/// Where encrypted document files live. Writes are atomic: a blob is visible under its key only
/// after [`BlobWrite::commit`]; a dropped or aborted writer leaves at most a partial upload that
/// [`BlobStore::reap_partial`] removes.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Starts a new blob. Writing over an existing key is not supported.
    async fn create(&self, key: &BlobKey) -> BlobResult<Box<dyn BlobWrite>>;
    /// Reads a committed blob as a sequence of chunks; `NotFound` when absent.
    async fn open(&self, key: &BlobKey) -> BlobResult<Box<dyn BlobRead>>;
    /// Removes a committed blob; removing an absent one is not an error.
    async fn delete(&self, key: &BlobKey) -> BlobResult<()>;
    /// Every committed blob (for the reaper, which compares them with the database).
    async fn list(&self) -> BlobResult<Vec<BlobInfo>>;
    /// Removes partial writes (a crash, a kill) started before `started_before`; returns how
    /// many it removed. Stores whose partial writes expire by themselves return 0.
    async fn reap_partial(&self, started_before: DateTime<Utc>) -> BlobResult<u64>;
    /// Where the blobs are, for logs and `peps config`, without credentials.
    fn describe(&self) -> String;
}

#[async_trait]
pub trait BlobWrite: Send {
    async fn write(&mut self, bytes: Vec<u8>) -> BlobResult<()>;
    /// Makes the blob visible under its key, durably.
    async fn commit(self: Box<Self>) -> BlobResult<()>;
    /// Discards everything written; nothing stays behind.
    async fn abort(self: Box<Self>) -> BlobResult<()>;
}

#[async_trait]
pub trait BlobRead: Send {
    /// The next piece of the blob, `None` at the end. Pieces may be any size.
    async fn next_chunk(&mut self) -> BlobResult<Option<Vec<u8>>>;
}

/// A data key wrapped (encrypted) by a key-encryption key of a [`KeyVault`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// Which key-encryption key wrapped it.
    pub key_id: String,
    /// How it was wrapped (e.g. `A256GCM-KW`).
    pub algorithm: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The vault does not hold the key this data key was wrapped with.
    #[error("unknown key-encryption key {0}")]
    UnknownKey(String),
    /// The wrapped key does not open with its key: tampered, or bound to another file.
    #[error("wrapped data key failed authentication")]
    Unwrap,
    #[error("key vault unavailable: {0}")]
    Unavailable(String),
}

/// Holds the key-encryption keys, outside the database. Adapters: a key file (or a `_FILE`
/// secret) in `peps-store`; an adopter can plug in an HSM or a cloud KMS.
#[async_trait]
pub trait KeyVault: Send + Sync {
    /// The id of the key new data keys are wrapped with.
    fn active_key_id(&self) -> String;
    /// Wraps `data_key` with the active key. `context` (the file id) is bound to the result:
    /// unwrapping with another context fails, so wrapped keys cannot be swapped between files.
    async fn wrap(&self, data_key: &[u8; 32], context: &[u8]) -> Result<WrappedKey, KeyError>;
    async fn unwrap(&self, wrapped: &WrappedKey, context: &[u8]) -> Result<[u8; 32], KeyError>;
}

/// What a malware scanner said about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanVerdict {
    Clean,
    /// The scanner's name for what it found.
    Infected(String),
}

#[derive(Debug, thiserror::Error)]
#[error("scanner unavailable: {0}")]
pub struct ScanError(pub String);

/// Antivirus. A scan is fed the plaintext as it streams in, so nothing is held in memory.
#[async_trait]
pub trait Scanner: Send + Sync {
    async fn start(&self) -> Result<Box<dyn ScanSession>, ScanError>;
}

#[async_trait]
pub trait ScanSession: Send {
    async fn feed(&mut self, bytes: &[u8]) -> Result<(), ScanError>;
    async fn finish(self: Box<Self>) -> Result<ScanVerdict, ScanError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_keys_are_random_and_parse_back_only_in_their_own_shape() {
        let a = BlobKey::generate();
        assert_ne!(a, BlobKey::generate());
        assert_eq!(BlobKey::parse(a.as_str()), Some(a));
        for bad in [
            "",
            "w/",
            "w/../../etc/passwd",
            "x/0123456789abcdef0123456789abcdef",
            "w/0123456789ABCDEF0123456789ABCDEF",
            "w/0123456789abcdef0123456789abcdef/..",
        ] {
            assert_eq!(BlobKey::parse(bad), None, "{bad}");
        }
    }
}
