//! Wallet ports: where encrypted bytes live ([`BlobStore`]), who holds the key-encryption keys
//! ([`KeyVault`]), who looks for malware ([`Scanner`]), and the wallet's storage
//! ([`WalletRepository`]): every write one transaction, the access log with no update and no
//! delete path.
//!
//! Every blob store must pass `peps_core::testing::conformance::blobs`, every wallet
//! repository `peps_core::testing::conformance::wallet`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use std::fmt;

use super::StoreResult;
use crate::domain::{AccountId, DocumentFileId, DocumentId, DocumentRequestId, GrantId, KeyId};
use crate::wallet::document::{Document, DocumentFile};
use crate::wallet::sharing::{DocumentRequest, Grant, ReferentConsent, WalletEvent};

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
    pub key_id: KeyId,
    /// How it was wrapped (e.g. `A256GCM-KW`).
    pub algorithm: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The vault does not hold the key this data key was wrapped with.
    #[error("unknown key-encryption key {0}")]
    UnknownKey(KeyId),
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
    fn active_key_id(&self) -> KeyId;
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

/// The error codes the wallet service answers when the store refuses a write.
pub mod conflicts {
    pub const QUOTA_EXCEEDED: &str = "wallet.quota_exceeded";
    pub const REVISION_CHANGED: &str = "document.revision_changed";
    pub const ALREADY_REVOKED: &str = "grant.already_revoked";
    pub const REQUEST_CLOSED: &str = "request.closed";
}

/// Where a new file goes: a new document, a page added to the current version, or the first
/// page of a new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilePlacement {
    NewDocument,
    AddPage,
    NewVersion,
}

#[async_trait]
pub trait WalletRepository: Send + Sync {
    /// Records a document with its first file, or a file of an existing document (`document`
    /// then only names it), in one transaction that also checks the person's quota: `Conflict
    /// (Conflict::QuotaExceeded)` when the person's files would then exceed `quota` bytes, and nothing
    /// is written. Returns the document as stored.
    async fn add_file(
        &self,
        document: &Document,
        file: &DocumentFile,
        placement: FilePlacement,
        quota: u64,
        event: &WalletEvent,
    ) -> StoreResult<Document>;
    async fn document(&self, id: DocumentId) -> StoreResult<Document>;
    /// A person's documents, newest first.
    async fn documents_of(&self, person: AccountId) -> StoreResult<Vec<Document>>;
    /// Bytes a person's files take (plaintext sizes of every version).
    async fn usage(&self, person: AccountId) -> StoreResult<u64>;
    /// Saves kind, title and dates when `expected_revision` still holds (`Stale`
    /// otherwise). Returns the new revision.
    async fn update_document(
        &self,
        document: &Document,
        expected_revision: i64,
        event: &WalletEvent,
    ) -> StoreResult<i64>;
    /// Deletes documents and their files (with their wrapped keys: without them the blobs are
    /// noise) and records `event`; returns the blobs to remove.
    async fn delete_documents(
        &self,
        ids: &[DocumentId],
        event: &WalletEvent,
    ) -> StoreResult<Vec<BlobKey>>;
    /// Every blob a file row points to (for the reaper).
    async fn referenced_blobs(&self) -> StoreResult<Vec<BlobKey>>;
    /// Up to `limit` files whose data key is not wrapped under `key_id`, by file id; with
    /// `None`, files under any key (does the wallet hold encrypted files at all?).
    async fn files_not_under_key(
        &self,
        key_id: Option<&KeyId>,
        limit: u32,
    ) -> StoreResult<Vec<(DocumentFileId, WrappedKey)>>;
    /// Replaces a wrapped key when it is still `old` (`Stale` otherwise).
    async fn rewrap(
        &self,
        file: DocumentFileId,
        old: &WrappedKey,
        new: &WrappedKey,
    ) -> StoreResult<()>;

    async fn create_grant(&self, grant: &Grant, event: &WalletEvent) -> StoreResult<()>;
    async fn grant(&self, id: GrantId) -> StoreResult<Grant>;
    /// All grants of a person, past and present, newest first.
    async fn grants_of(&self, person: AccountId) -> StoreResult<Vec<Grant>>;
    /// `Conflict(Conflict::AlreadyRevoked)` when already revoked.
    async fn revoke_grant(
        &self,
        id: GrantId,
        by: AccountId,
        at: DateTime<Utc>,
        event: &WalletEvent,
    ) -> StoreResult<()>;

    async fn record_consent(
        &self,
        consent: &ReferentConsent,
        event: &WalletEvent,
    ) -> StoreResult<()>;
    /// The person's answers about their referents' access, oldest first (in the order they
    /// were recorded).
    async fn consents(&self, person: AccountId) -> StoreResult<Vec<ReferentConsent>>;

    async fn create_request(
        &self,
        request: &DocumentRequest,
        event: &WalletEvent,
    ) -> StoreResult<()>;
    async fn request(&self, id: DocumentRequestId) -> StoreResult<DocumentRequest>;
    /// A person's requests, newest first.
    async fn requests_of(&self, person: AccountId) -> StoreResult<Vec<DocumentRequest>>;
    /// Closes an open request, with the grant that fulfils it (created in the same
    /// transaction) or none for a cancellation. `Conflict(Conflict::RequestClosed)` when not open.
    async fn close_request(
        &self,
        request: &DocumentRequest,
        grant: Option<&Grant>,
        events: &[WalletEvent],
    ) -> StoreResult<()>;

    /// Appends to the access log. There is deliberately no way to change or remove a line.
    async fn record_event(&self, event: &WalletEvent) -> StoreResult<()>;
    /// A person's log, newest first, before the line `before` when given.
    async fn events_of(
        &self,
        person: AccountId,
        before: Option<crate::domain::WalletEventId>,
        limit: u32,
    ) -> StoreResult<Vec<WalletEvent>>;

    /// Documents of every person whose `valid_until` is on or before `until` and not before
    /// `from`.
    async fn documents_expiring(
        &self,
        from: NaiveDate,
        until: NaiveDate,
    ) -> StoreResult<Vec<Document>>;
    /// Records that `document` was reminded for its `valid_until`; `false` when it already was.
    async fn claim_expiry_reminder(
        &self,
        document: DocumentId,
        valid_until: NaiveDate,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
}
