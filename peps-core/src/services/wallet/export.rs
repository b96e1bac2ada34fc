//! The person's copy of their whole wallet, in an open format: one ZIP streamed file by file
//! (never held whole in memory or on disk), with a JSON manifest giving each file's kind,
//! dates and SHA-256.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::files::{PlainReader, hex};
use super::{Caller, Wallet};
use crate::domain::AccountId;
use crate::error::{CoreError, CoreResult};
use crate::policy::Action;
use crate::wallet::zip_stream::ZipStream;
use crate::wallet::{Document, DocumentFile, WalletAction};

/// The manifest's name inside the archive.
pub const MANIFEST: &str = "manifest.json";

/// A ZIP being produced; call [`WalletExport::next_chunk`] until `None`.
pub struct WalletExport {
    wallet_files: Vec<(String, DocumentFile)>,
    manifest: Option<Vec<u8>>,
    zip: Option<ZipStream>,
    current: Option<(PlainReader, Sha256, String)>,
    next: usize,
    modified: chrono::NaiveDateTime,
    opener: Box<dyn Fn(&DocumentFile) -> futures_like::Opening + Send + Sync>,
}

/// The archive path of a file: `<kind>/<document>/v<version>-p<page>.<ext>`; never a title a
/// person typed (it may not be a valid file name anywhere).
fn path_of(document: &Document, file: &DocumentFile) -> String {
    format!(
        "{}/{}/v{}-p{}.{}",
        document.kind,
        document.id,
        file.version,
        file.page,
        file.media_type.extension()
    )
}

fn manifest(
    person: AccountId,
    at: chrono::DateTime<chrono::Utc>,
    documents: &[Document],
) -> Vec<u8> {
    let documents: Vec<_> = documents
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "kind": d.kind,
                "kind_label": crate::i18n::text(&format!("documents.kind.{}", d.kind), "fr"),
                "title": d.title,
                "issued_on": d.issued_on,
                "valid_until": d.valid_until,
                "current_version": d.current_version,
                "created_at": d.created_at,
                "files": d.files.iter().map(|f| json!({
                    "path": path_of(d, f),
                    "version": f.version,
                    "page": f.page,
                    "media_type": f.media_type.mime(),
                    "size": f.size,
                    "sha256": f.sha256,
                    "uploaded_at": f.uploaded_at,
                    "uploaded_by_role": f.uploaded_by.role.as_str(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let body = json!({
        "format": "peps-wallet-export/1",
        "person": person,
        "exported_at": at,
        "documents": documents,
    });
    serde_json::to_vec_pretty(&body).unwrap_or_default()
}

/// Boxed futures without a futures dependency in the core.
mod futures_like {
    use super::PlainReader;
    use crate::error::CoreResult;
    pub type Opening =
        std::pin::Pin<Box<dyn std::future::Future<Output = CoreResult<PlainReader>> + Send>>;
}

impl WalletExport {
    /// The next piece of the archive, `None` at the end. An error mid-way (a damaged file)
    /// must end the download: the archive is then visibly incomplete.
    pub async fn next_chunk(&mut self) -> CoreResult<Option<Vec<u8>>> {
        let zip_error = |e: crate::wallet::zip_stream::ZipError| {
            tracing::error!(error = %e, "export archive");
            CoreError::Integrity("document.integrity_failed")
        };
        let Some(zip) = self.zip.as_mut() else {
            return Ok(None);
        };
        if let Some(manifest) = self.manifest.take() {
            let mut out = zip
                .start_entry(MANIFEST, self.modified)
                .map_err(zip_error)?;
            zip.entry_data(&manifest).map_err(zip_error)?;
            out.extend_from_slice(&manifest);
            out.extend(zip.end_entry().map_err(zip_error)?);
            return Ok(Some(out));
        }
        if let Some((reader, hasher, expected)) = self.current.as_mut() {
            match reader.next_chunk().await? {
                Some(bytes) => {
                    hasher.update(&bytes);
                    zip.entry_data(&bytes).map_err(zip_error)?;
                    return Ok(Some(bytes));
                }
                None => {
                    let matches = hex(&std::mem::take(hasher).finalize()) == *expected;
                    self.current = None;
                    if !matches {
                        tracing::error!("an exported file does not match its recorded SHA-256");
                        return Err(CoreError::Integrity("document.integrity_failed"));
                    }
                    return Ok(Some(zip.end_entry().map_err(zip_error)?));
                }
            }
        }
        if self.next < self.wallet_files.len() {
            let (path, file) = self.wallet_files[self.next].clone();
            self.next += 1;
            let reader = (self.opener)(&file).await?;
            let header = zip.start_entry(&path, self.modified).map_err(zip_error)?;
            self.current = Some((reader, Sha256::new(), file.sha256.clone()));
            return Ok(Some(header));
        }
        match self.zip.take() {
            Some(zip) => Ok(Some(zip.finish().map_err(zip_error)?)),
            None => Ok(None),
        }
    }
}

impl WalletExport {
    /// The archive's name, dated by the service's clock when the export started:
    /// `peps-documents-2026-11-23.zip`.
    pub fn file_name(&self) -> String {
        format!("peps-documents-{}.zip", self.modified.format("%Y-%m-%d"))
    }
}

impl Wallet {
    /// Every document of the person, every version, as one ZIP with a manifest (the person
    /// only). Logged.
    pub async fn export(
        self: &std::sync::Arc<Self>,
        caller: &Caller,
        person: AccountId,
    ) -> CoreResult<WalletExport> {
        self.permit(caller, person, Action::ShareWallet).await?;
        let documents = self.ports.wallet.documents_of(person).await?;
        let wallet_files: Vec<(String, DocumentFile)> = documents
            .iter()
            .flat_map(|d| d.files.iter().map(move |f| (path_of(d, f), f.clone())))
            .collect();
        let mut event = self.event(caller, person, None, WalletAction::Exported);
        event.detail = format!(
            "{} documents, {} files",
            documents.len(),
            wallet_files.len()
        );
        self.ports.wallet.record_event(&event).await?;
        let now = self.now();
        let this = self.clone();
        Ok(WalletExport {
            manifest: Some(manifest(person, now, &documents)),
            wallet_files,
            zip: Some(ZipStream::new()),
            current: None,
            next: 0,
            modified: now.naive_utc(),
            opener: Box::new(move |file| {
                let this = this.clone();
                let file = file.clone();
                Box::pin(async move { this.reader(&file).await })
            }),
        })
    }
}
