//! Putting files in and getting them out: streamed, sniffed, scanned, sealed under a fresh
//! data key; and opened again only chunk by authenticated chunk.

use async_trait::async_trait;
use chrono::NaiveDate;
use std::sync::Arc;

use super::hashing::ContentHash;
use super::{Caller, Wallet, with_document};
use crate::domain::*;
use crate::error::{CoreError, CoreResult, StoreError, ValidationError};
use crate::policy::Action;
use crate::services::plan_notices::PersonNotice;
use crate::wallet::crypto::{self, DataKey, Decryptor, Encryptor};
use crate::wallet::ports::{BlobError, BlobKey, BlobRead, BlobWrite, ScanSession, ScanVerdict};
use crate::wallet::repository::conflicts;
use crate::wallet::sniff::{self, MediaType, SNIFF_LEN, Sniffed};
use crate::wallet::*;

/// The body of an upload, read piece by piece (an HTTP body, a file).
#[async_trait]
pub trait UploadSource: Send {
    /// The next piece, `None` at the end; an error when the client went away.
    async fn next_chunk(&mut self) -> std::io::Result<Option<Vec<u8>>>;
}

#[derive(Debug, Clone)]
pub struct NewDocument {
    pub kind: String,
    pub title: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
}

/// Where an uploaded file goes in an existing document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Another page of the current version.
    AddPage,
    /// The first page of a new version (a renewed card); older versions stay.
    NewVersion,
}

/// Fields to change; `None` keeps, `Some(None)` clears a date.
#[derive(Debug, Clone, Default)]
pub struct DocumentChange {
    pub revision: i64,
    pub kind: Option<String>,
    pub title: Option<String>,
    pub issued_on: Option<Option<NaiveDate>>,
    pub valid_until: Option<Option<NaiveDate>>,
}

/// A file being sent back, after the checks and with the access logged.
pub struct FileDownload {
    pub document: Document,
    pub file: DocumentFile,
    /// A name for the saved file: kind, version and page; never a user-written title.
    pub file_name: String,
    pub reader: PlainReader,
}

/// Plaintext of a stored file, released only chunk by authenticated chunk.
pub struct PlainReader {
    blob: Box<dyn BlobRead>,
    decryptor: Option<Decryptor>,
}

impl PlainReader {
    /// The next piece of plaintext, `None` at the end. An `Integrity` error means the blob
    /// was altered: stop sending.
    pub async fn next_chunk(&mut self) -> CoreResult<Option<Vec<u8>>> {
        loop {
            let Some(decryptor) = self.decryptor.as_mut() else {
                return Ok(None);
            };
            match self.blob.next_chunk().await.map_err(blob_error)? {
                Some(sealed) => {
                    let plain = decryptor.update(&sealed).map_err(integrity)?;
                    if !plain.is_empty() {
                        return Ok(Some(plain));
                    }
                }
                None => {
                    let last = self
                        .decryptor
                        .take()
                        .map(Decryptor::finish)
                        .transpose()
                        .map_err(integrity)?
                        .unwrap_or_default();
                    return Ok((!last.is_empty()).then_some(last));
                }
            }
        }
    }
}

fn integrity(err: crypto::CryptoError) -> CoreError {
    tracing::error!(error = %err, "a wallet blob failed authentication");
    CoreError::Integrity("document.integrity_failed")
}

fn blob_error(err: BlobError) -> CoreError {
    match err {
        // A file row whose blob is gone: as damaged as a tampered one.
        BlobError::NotFound => CoreError::Integrity("document.blob_missing"),
        BlobError::Unavailable(e) => {
            tracing::error!(error = %e, "blob store unavailable");
            CoreError::Unavailable("storage.unavailable")
        }
    }
}

/// Files at most this big are checked end to end before the first byte is sent, so a
/// damaged one gets a clear error rather than a cut-off download.
const VERIFY_FIRST_UP_TO: u64 = 64 * 1024 * 1024;

/// What one upload produced before it is recorded.
struct Sealed {
    file: DocumentFile,
}

impl Wallet {
    // ----- upload ---------------------------------------------------------------------

    /// Adds a new document to `person`'s wallet with `source` as its first page.
    pub async fn upload_document(
        &self,
        caller: &Caller,
        person: AccountId,
        new: NewDocument,
        source: &mut dyn UploadSource,
    ) -> CoreResult<Document> {
        let permit = self.permit(caller, person, Action::UploadDocuments).await?;
        let fields = DocumentFields {
            kind: new.kind,
            title: new.title.unwrap_or_default(),
            issued_on: new.issued_on,
            valid_until: new.valid_until,
        }
        .check(&self.settings.kinds)
        .map_err(CoreError::invalid)?;
        if !permit.can_add_kind(&fields.kind) {
            return Err(CoreError::NotFound);
        }
        let uploader = Uploader {
            account: caller.actor.account,
            role: caller.actor.role,
        };
        let now = self.now();
        let document = Document {
            id: DocumentId::new(),
            person,
            kind: fields.kind,
            title: fields.title,
            issued_on: fields.issued_on,
            valid_until: fields.valid_until,
            current_version: 1,
            created_by: uploader,
            created_at: now,
            updated_at: now,
            revision: 1,
            files: Vec::new(),
        };
        let stored = self
            .store_file(
                caller,
                &document,
                permit.mandate,
                FilePlacement::NewDocument,
                source,
            )
            .await?;
        Ok(stored)
    }

    /// Adds a page, or a new version, to an existing document.
    pub async fn upload_page(
        &self,
        caller: &Caller,
        id: DocumentId,
        placement: Placement,
        source: &mut dyn UploadSource,
    ) -> CoreResult<Document> {
        let (document, permit) = self.readable(caller, id, Action::UploadDocuments).await?;
        let placement = match placement {
            Placement::AddPage => FilePlacement::AddPage,
            Placement::NewVersion => FilePlacement::NewVersion,
        };
        self.store_file(caller, &document, permit.mandate, placement, source)
            .await
    }

    /// The message telling the person a document was put in their wallet by someone else
    /// (none when they put it there themselves).
    async fn document_added_notice(
        &self,
        caller: &Caller,
        person: AccountId,
    ) -> CoreResult<Vec<crate::outbox::OutboxMessage>> {
        if caller.actor.account == person {
            return Ok(Vec::new());
        }
        let account = self.ports.accounts.account(person).await?;
        Ok(self
            .channels
            .to_person(&account, PersonNotice::DocumentAdded)
            .await?
            .messages)
    }

    /// Streams `source` into a new blob and records it; on any failure nothing is recorded
    /// and the blob is removed.
    async fn store_file(
        &self,
        caller: &Caller,
        document: &Document,
        mandate: Option<MandateId>,
        placement: FilePlacement,
        source: &mut dyn UploadSource,
    ) -> CoreResult<Document> {
        let used = self.ports.wallet.usage(document.person).await?;
        if used >= self.settings.quota {
            return Err(CoreError::TooLarge(conflicts::QUOTA_EXCEEDED));
        }
        let room = self.settings.quota - used;
        let (head, media_type) = self.sniffed_head(source).await?;
        let key = BlobKey::generate();
        let writer = self.ports.blobs.create(&key).await.map_err(blob_error)?;
        let sealed = self
            .seal_into(
                writer,
                key.clone(),
                head,
                source,
                room,
                media_type,
                caller,
                document,
            )
            .await?;
        let mut event = with_document(
            self.event(caller, document.person, mandate, WalletAction::Uploaded),
            document,
        );
        event.file = Some(sealed.file.id);
        event.detail = format!("{}; {} bytes", media_type.as_str(), sealed.file.size);
        event.outbox = self.document_added_notice(caller, document.person).await?;
        let recorded = self
            .ports
            .wallet
            .add_file(
                document,
                &sealed.file,
                placement,
                self.settings.quota,
                &event,
            )
            .await;
        match recorded {
            Ok(stored) => Ok(stored),
            Err(err) => {
                if let Err(e) = self.ports.blobs.delete(&key).await {
                    // The reaper removes it later: it is referenced by no file row.
                    tracing::warn!(error = %e, blob = %key, "blob of a refused upload not removed");
                }
                Err(match err {
                    StoreError::Conflict(crate::Conflict::QuotaExceeded) => {
                        CoreError::TooLarge(conflicts::QUOTA_EXCEEDED)
                    }
                    other => other.into(),
                })
            }
        }
    }

    /// Reads enough of the upload to know its type, and refuses it before anything is stored
    /// when the type is not allowed.
    async fn sniffed_head(
        &self,
        source: &mut dyn UploadSource,
    ) -> CoreResult<(Vec<u8>, MediaType)> {
        let mut head = Vec::with_capacity(SNIFF_LEN);
        while head.len() < SNIFF_LEN {
            match source.next_chunk().await.map_err(interrupted)? {
                Some(piece) => head.extend_from_slice(&piece),
                None => break,
            }
        }
        if head.is_empty() {
            return Err(ValidationError::new("file", "document.file.empty").into());
        }
        let refuse = |code| {
            Err(CoreError::UnsupportedType(ValidationError::new(
                "file", code,
            )))
        };
        match sniff::sniff(&head[..head.len().min(SNIFF_LEN)]) {
            Sniffed::Known(t) if self.settings.allowed_types.contains(&t) => Ok((head, t)),
            Sniffed::Known(_) => refuse("document.type.not_allowed"),
            Sniffed::Dangerous(d) => refuse(match d {
                sniff::Dangerous::Svg => "document.type.svg",
                sniff::Dangerous::Html => "document.type.html",
                sniff::Dangerous::Script => "document.type.script",
                sniff::Dangerous::Executable => "document.type.executable",
            }),
            Sniffed::Unknown => refuse("document.type.unknown"),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn seal_into(
        &self,
        mut writer: Box<dyn BlobWrite>,
        key: BlobKey,
        head: Vec<u8>,
        source: &mut dyn UploadSource,
        room: u64,
        media_type: MediaType,
        caller: &Caller,
        document: &Document,
    ) -> CoreResult<Sealed> {
        let data_key = DataKey::generate();
        let mut encryptor = Encryptor::new(&data_key);
        let mut hasher = ContentHash::new();
        let mut scan = match &self.ports.scanner {
            Some(scanner) => Some(scanner.start().await.map_err(scanner_down)?),
            None => None,
        };
        let mut size: u64 = 0;
        let mut piece = Some(head);
        let outcome: CoreResult<()> = async {
            while let Some(bytes) = piece.take() {
                let bytes = Arc::new(bytes);
                size += bytes.len() as u64;
                if size > self.settings.max_file_size {
                    return Err(CoreError::TooLarge("document.file.too_large"));
                }
                if size > room {
                    return Err(CoreError::TooLarge(conflicts::QUOTA_EXCEEDED));
                }
                hasher.update(&bytes).await;
                if let Some(scan) = scan.as_mut() {
                    scan.feed(&bytes).await.map_err(scanner_down)?;
                }
                let sealed = encryptor
                    .update(&bytes)
                    .map_err(|_| CoreError::TooLarge("document.file.too_large"))?;
                if !sealed.is_empty() {
                    writer.write(sealed).await.map_err(blob_error)?;
                }
                piece = source.next_chunk().await.map_err(interrupted)?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            abort(writer, &key).await;
            return Err(e);
        }
        let finished = async {
            let last = encryptor
                .finish()
                .map_err(|_| CoreError::TooLarge("document.file.too_large"))?;
            writer.write(last).await.map_err(blob_error)?;
            if let Some(scan) = scan.take() {
                check_verdict(scan).await?;
            }
            Ok::<_, CoreError>(())
        }
        .await;
        if let Err(e) = finished {
            abort(writer, &key).await;
            return Err(e);
        }
        let Some(sha256) = hasher.finish().await else {
            abort(writer, &key).await;
            return Err(CoreError::Unavailable("storage.unavailable"));
        };
        let file_id = DocumentFileId::new();
        let wrapped = match self
            .ports
            .keys
            .wrap(data_key.as_bytes(), file_id.0.as_bytes())
            .await
        {
            Ok(w) => w,
            Err(e) => {
                abort(writer, &key).await;
                tracing::error!(error = %e, "key vault refused to wrap a data key");
                return Err(CoreError::Unavailable("wallet.keys_unavailable"));
            }
        };
        writer.commit().await.map_err(blob_error)?;
        Ok(Sealed {
            file: DocumentFile {
                id: file_id,
                document: document.id,
                version: document.current_version,
                page: 1,
                media_type,
                size,
                sha256,
                blob: key,
                algorithm: crypto::ALGORITHM.to_owned(),
                wrapped_key: wrapped,
                uploaded_by: Uploader {
                    account: caller.actor.account,
                    role: caller.actor.role,
                },
                uploaded_at: self.now(),
            },
        })
    }

    // ----- reading --------------------------------------------------------------------

    /// The documents of `person` the caller may see (all of them for the person), newest
    /// first. The listing is logged for anyone but the person.
    pub async fn list(&self, caller: &Caller, person: AccountId) -> CoreResult<Vec<Document>> {
        let permit = self.permit(caller, person, Action::ViewDocuments).await?;
        let documents: Vec<Document> = self
            .ports
            .wallet
            .documents_of(person)
            .await?
            .into_iter()
            .filter(|d| permit.can_read(d))
            .collect();
        if caller.actor.account != person {
            let mut event = self.event(caller, person, permit.mandate, WalletAction::Listed);
            event.detail = format!("{} documents", documents.len());
            self.ports.wallet.record_event(&event).await?;
        }
        Ok(documents)
    }

    /// One document's metadata and pages; logged for anyone but the person.
    pub async fn document(&self, caller: &Caller, id: DocumentId) -> CoreResult<Document> {
        let (document, permit) = self.readable(caller, id, Action::ViewDocuments).await?;
        if caller.actor.account != document.person {
            let mut event = with_document(
                self.event(
                    caller,
                    document.person,
                    permit.mandate,
                    WalletAction::Viewed,
                ),
                &document,
            );
            event.grant = permit.grant_for(&document);
            self.ports.wallet.record_event(&event).await?;
        }
        Ok(document)
    }

    /// Opens one file for download, after the access check, logging it.
    pub async fn download(
        &self,
        caller: &Caller,
        id: DocumentId,
        file: DocumentFileId,
    ) -> CoreResult<FileDownload> {
        let (document, permit) = self.readable(caller, id, Action::ViewDocuments).await?;
        let file = document
            .files
            .iter()
            .find(|f| f.id == file)
            .cloned()
            .ok_or(CoreError::NotFound)?;
        if file.size <= VERIFY_FIRST_UP_TO {
            let mut check = self.reader(&file).await?;
            while check.next_chunk().await?.is_some() {}
        }
        let reader = self.reader(&file).await?;
        let mut event = with_document(
            self.event(
                caller,
                document.person,
                permit.mandate,
                WalletAction::Downloaded,
            ),
            &document,
        );
        event.file = Some(file.id);
        event.grant = permit.grant_for(&document);
        self.ports.wallet.record_event(&event).await?;
        let file_name = format!(
            "{}-v{}-p{}.{}",
            document.kind,
            file.version,
            file.page,
            file.media_type.extension()
        );
        Ok(FileDownload {
            document,
            file,
            file_name,
            reader,
        })
    }

    /// A reader of a file's plaintext (no access check: callers have made it).
    pub(super) async fn reader(&self, file: &DocumentFile) -> CoreResult<PlainReader> {
        let data_key = self
            .ports
            .keys
            .unwrap(&file.wrapped_key, file.id.0.as_bytes())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, file = %file.id, "data key did not unwrap");
                match e {
                    crate::wallet::ports::KeyError::Unavailable(_) => {
                        CoreError::Unavailable("wallet.keys_unavailable")
                    }
                    _ => CoreError::Integrity("document.key_invalid"),
                }
            })?;
        let blob = self
            .ports
            .blobs
            .open(&file.blob)
            .await
            .map_err(blob_error)?;
        Ok(PlainReader {
            blob,
            decryptor: Some(Decryptor::new(&DataKey::from_bytes(data_key))),
        })
    }

    // ----- editing and deleting -------------------------------------------------------

    /// Changes a document's kind, title or dates (the person only).
    pub async fn edit(
        &self,
        caller: &Caller,
        id: DocumentId,
        change: DocumentChange,
    ) -> CoreResult<Document> {
        let document = self.managed(caller, id).await?;
        let fields = DocumentFields {
            kind: change.kind.unwrap_or_else(|| document.kind.clone()),
            title: change.title.unwrap_or_else(|| document.title.clone()),
            issued_on: change.issued_on.unwrap_or(document.issued_on),
            valid_until: change.valid_until.unwrap_or(document.valid_until),
        }
        .check(&self.settings.kinds)
        .map_err(CoreError::invalid)?;
        let updated = Document {
            kind: fields.kind,
            title: fields.title,
            issued_on: fields.issued_on,
            valid_until: fields.valid_until,
            updated_at: self.now(),
            ..document.clone()
        };
        let event = with_document(
            self.event(caller, document.person, None, WalletAction::Edited),
            &updated,
        );
        self.ports
            .wallet
            .update_document(&updated, change.revision, &event)
            .await
            .map_err(|e| crate::services::stale_as(e, conflicts::REVISION_CHANGED))?;
        Ok(self.ports.wallet.document(id).await?)
    }

    /// Deletes a document for everyone at once: its rows and wrapped keys go in one
    /// transaction (after which the blobs are unreadable noise), then its blobs.
    pub async fn delete(&self, caller: &Caller, id: DocumentId) -> CoreResult<()> {
        let document = self.managed(caller, id).await?;
        let event = with_document(
            self.event(caller, document.person, None, WalletAction::Deleted),
            &document,
        );
        let blobs = self
            .ports
            .wallet
            .delete_documents(&[document.id], &event)
            .await?;
        self.remove_blobs(&blobs).await;
        Ok(())
    }

    /// Deletes every document of the wallet (the person only). Grants and requests stay in
    /// the history, and cover nothing any more.
    pub async fn erase(&self, caller: &Caller, person: AccountId) -> CoreResult<usize> {
        self.permit(caller, person, Action::ShareWallet).await?;
        let ids: Vec<DocumentId> = self.document_ids(person).await?.into_iter().collect();
        let mut event = self.event(caller, person, None, WalletAction::Erased);
        event.detail = format!("{} documents", ids.len());
        let blobs = self.ports.wallet.delete_documents(&ids, &event).await?;
        self.remove_blobs(&blobs).await;
        Ok(ids.len())
    }

    pub(super) async fn document_ids(
        &self,
        person: AccountId,
    ) -> CoreResult<std::collections::BTreeSet<DocumentId>> {
        Ok(self
            .ports
            .wallet
            .documents_of(person)
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect())
    }

    pub(super) async fn remove_blobs(&self, blobs: &[BlobKey]) {
        for key in blobs {
            if let Err(e) = self.ports.blobs.delete(key).await {
                // Without its wrapped key the blob cannot be read; the reaper removes it.
                tracing::warn!(error = %e, blob = %key, "blob of a deleted document not removed");
            }
        }
    }

    /// The document, when the caller may edit or delete it: `Denied` for someone who may only
    /// see it, `NotFound` for anyone else.
    async fn managed(&self, caller: &Caller, id: DocumentId) -> CoreResult<Document> {
        let (document, permit) = self.readable(caller, id, Action::ViewDocuments).await?;
        if crate::policy::authorize(caller.actor.role, Action::ManageDocuments, permit.relation)
            .is_err()
        {
            return Err(CoreError::Denied);
        }
        Ok(document)
    }
}

async fn abort(writer: Box<dyn BlobWrite>, key: &BlobKey) {
    if let Err(e) = writer.abort().await {
        tracing::warn!(error = %e, blob = %key, "partial upload not removed; the reaper will");
    }
}

async fn check_verdict(scan: Box<dyn ScanSession>) -> CoreResult<()> {
    match scan.finish().await.map_err(scanner_down)? {
        ScanVerdict::Clean => Ok(()),
        ScanVerdict::Infected(name) => {
            tracing::warn!(signature = %name, "upload refused by the antivirus");
            Err(ValidationError::new("file", "document.infected").into())
        }
    }
}

fn scanner_down(err: crate::wallet::ports::ScanError) -> CoreError {
    tracing::error!(error = %err, "antivirus unavailable");
    CoreError::Unavailable("scanner.unavailable")
}

fn interrupted(err: std::io::Error) -> CoreError {
    tracing::info!(error = %err, "upload interrupted");
    CoreError::Invalid(ValidationError::new("file", "document.upload_interrupted"))
}

pub(super) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
