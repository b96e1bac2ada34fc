//! The wallet's storage port. Every write is one transaction; the access log has no update and
//! no delete path.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::document::{Document, DocumentFile};
use super::ports::{BlobKey, WrappedKey};
use super::sharing::{DocumentRequest, Grant, ReferentConsent, WalletEvent};
use crate::domain::{AccountId, DocumentFileId, DocumentId, DocumentRequestId, GrantId};
use crate::ports::StoreResult;

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
    /// Up to `limit` files whose data key is not wrapped under `key_id`.
    async fn files_not_under_key(
        &self,
        key_id: &str,
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
