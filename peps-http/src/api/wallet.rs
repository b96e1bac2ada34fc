//! The document wallet: upload (streamed, type decided by content), download (streamed,
//! checked on every request), shares, the referent's consent, document requests, the access
//! log, erasure.
//!
//! Whoever may not see a document gets 404, exactly as for an unknown id.

use futures_util::StreamExt;
use poem::web::Data;
use poem::{Body, Request};
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::plans::reading_language;
use super::versions::{DOCUMENT, Tagged, TaggedCreated};
use super::views::{Created, Done};
use super::wallet_views::*;
use crate::auth::{BearerAuth, client_info};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use peps_core::domain::{
    AccountId, DocumentFileId, DocumentId, DocumentRequestId, GrantId, OrganisationId, StepId,
    WalletEventId,
};
use peps_core::services::Caller;
use peps_core::services::wallet::{
    DocumentChange, NewDocument, NewGrant, NewRequest, Placement, UploadSource,
};
use peps_core::wallet::{GrantScope, Grantee};

pub struct WalletApi;

/// An HTTP request body as an upload source.
struct BodySource {
    stream: futures_util::stream::BoxStream<'static, std::io::Result<bytes::Bytes>>,
}

impl BodySource {
    fn new(body: Body) -> Self {
        Self {
            stream: body.into_bytes_stream().boxed(),
        }
    }
}

#[async_trait::async_trait]
impl UploadSource for BodySource {
    async fn next_chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        self.stream
            .next()
            .await
            .transpose()
            .map(|b| b.map(|b| b.to_vec()))
    }
}

fn caller(req: &Request, state: &AppState, auth: &BearerAuth) -> Caller {
    Caller {
        actor: auth.0.actor.clone(),
        ip: client_info(req, state).ip,
    }
}

#[derive(ApiResponse)]
pub enum FileDownloadResponse {
    /// The file, streamed. A file found damaged part-way is cut off rather than completed.
    #[oai(status = 200)]
    Ok(
        Binary<Body>,
        #[oai(header = "Content-Type")] String,
        #[oai(header = "Content-Disposition")] String,
        #[oai(header = "Content-Length")] u64,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "X-Content-Type-Options")] String,
    ),
}

fn language_of(req: &Request, auth: &BearerAuth, lang: Option<&str>) -> ApiResult<String> {
    Ok(reading_language(req, lang, &auth.0.account)?
        .code()
        .to_owned())
}

/// The answer to an upload: the document as stored, in the uploader's language, with its
/// revision as `ETag`.
fn created(
    req: &Request,
    state: &AppState,
    auth: &BearerAuth,
    document: &peps_core::wallet::Document,
) -> ApiResult<TaggedCreated<DocumentView>> {
    Ok(TaggedCreated::new(
        shown(req, state, auth, None, document)?,
        document.revision,
    ))
}

/// A document as its reader sees it, in their language.
fn shown(
    req: &Request,
    state: &AppState,
    auth: &BearerAuth,
    lang: Option<&str>,
    document: &peps_core::wallet::Document,
) -> ApiResult<DocumentView> {
    let language = language_of(req, auth, lang)?;
    Ok(document_view(
        document,
        state.wallet.expiry(document),
        &language,
    ))
}

#[OpenApi(tag = "Tag::Wallet")]
impl WalletApi {
    /// Add a document to a person's wallet, with the request body as its first page (a PDF or
    /// a photo; any Content-Type: the type is decided from the content). The person, a worker
    /// with an upload share (the person is told), or a helper with a `wallet:upload` mandate.
    #[oai(path = "/api/v1/persons/:id/documents", method = "post")]
    #[allow(clippy::too_many_arguments)]
    async fn upload(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// Document kind code (see `GET /api/v1/reference/document-kinds`).
        kind: Query<String>,
        title: Query<Option<String>>,
        issued_on: Query<Option<chrono::NaiveDate>>,
        valid_until: Query<Option<chrono::NaiveDate>>,
        body: Binary<Body>,
    ) -> ApiResult<TaggedCreated<DocumentView>> {
        let caller = caller(req, &state, &auth);
        let mut source = BodySource::new(body.0);
        let new = NewDocument {
            kind: kind.0,
            title: title.0,
            issued_on: issued_on.0,
            valid_until: valid_until.0,
        };
        let document = state
            .wallet
            .upload_document(&caller, AccountId(id.0), new, &mut source)
            .await?;
        created(req, &state, &auth, &document)
    }

    /// Add a page to a document (or, with `new_version=true`, start a new version whose first
    /// page this is: a renewed card; older versions stay).
    #[oai(path = "/api/v1/documents/:id/pages", method = "post")]
    async fn add_page(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        new_version: Query<Option<bool>>,
        body: Binary<Body>,
    ) -> ApiResult<TaggedCreated<DocumentView>> {
        let caller = caller(req, &state, &auth);
        let mut source = BodySource::new(body.0);
        let placement = if new_version.0.unwrap_or(false) {
            Placement::NewVersion
        } else {
            Placement::AddPage
        };
        let document = state
            .wallet
            .upload_page(&caller, DocumentId(id.0), placement, &mut source)
            .await?;
        created(req, &state, &auth, &document)
    }

    /// A person's documents that the reader may see, newest first, with expiry flags.
    #[oai(path = "/api/v1/persons/:id/documents", method = "get")]
    async fn list(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        lang: Query<Option<String>>,
    ) -> ApiResult<Json<Vec<DocumentView>>> {
        let language = language_of(req, &auth, lang.0.as_deref())?;
        let documents = state
            .wallet
            .list(&caller(req, &state, &auth), AccountId(id.0))
            .await?;
        Ok(Json(
            documents
                .iter()
                .map(|d| document_view(d, state.wallet.expiry(d), &language))
                .collect(),
        ))
    }

    /// Erase the whole wallet (the person only): every document, every version, at once.
    #[oai(path = "/api/v1/persons/:id/documents", method = "delete")]
    async fn erase(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<ErasedView>> {
        let deleted = state
            .wallet
            .erase(&caller(req, &state, &auth), AccountId(id.0))
            .await?;
        Ok(Json(ErasedView {
            deleted: deleted as u64,
        }))
    }

    /// One document: metadata, pages of the current version, older versions. Its `ETag` is
    /// its `revision`, to send in `If-Match` when editing it.
    #[oai(path = "/api/v1/documents/:id", method = "get")]
    async fn one(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        lang: Query<Option<String>>,
    ) -> ApiResult<Tagged<DocumentView>> {
        let d = state
            .wallet
            .document(&caller(req, &state, &auth), DocumentId(id.0))
            .await?;
        Ok(Tagged::new(
            shown(req, &state, &auth, lang.0.as_deref(), &d)?,
            d.revision,
        ))
    }

    /// Change a document's kind, title or dates (the person only); `null` clears a date.
    /// `If-Match` must carry the revision being edited (the document's `ETag`).
    #[oai(path = "/api/v1/documents/:id", method = "patch")]
    async fn edit(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: Json<DocumentPatch>,
    ) -> ApiResult<Tagged<DocumentView>> {
        let revision = DOCUMENT.required(if_match.0.as_deref())?;
        let b = body.0;
        let date = |v: MaybeUndefined<chrono::NaiveDate>| match v {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(d) => Some(Some(d)),
        };
        let change = DocumentChange {
            revision,
            kind: b.kind,
            title: b.title,
            issued_on: date(b.issued_on),
            valid_until: date(b.valid_until),
        };
        let d = state
            .wallet
            .edit(&caller(req, &state, &auth), DocumentId(id.0), change)
            .await?;
        Ok(Tagged::new(
            shown(req, &state, &auth, None, &d)?,
            d.revision,
        ))
    }

    /// Delete a document for everyone (the person only): its keys are destroyed, then its
    /// files; former download links and shares of it stop working at once.
    #[oai(path = "/api/v1/documents/:id", method = "delete")]
    async fn delete(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Done> {
        state
            .wallet
            .delete(&caller(req, &state, &auth), DocumentId(id.0))
            .await?;
        Ok(Done::Done)
    }

    /// Download one file, streamed, always as an attachment. Checked and logged on every
    /// request; a file whose storage was tampered with is refused (500
    /// `document.integrity_failed`), never sent altered.
    #[oai(path = "/api/v1/documents/:id/files/:file_id", method = "get")]
    async fn download(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        file_id: Path<Uuid>,
    ) -> ApiResult<FileDownloadResponse> {
        let download = state
            .wallet
            .download(
                &caller(req, &state, &auth),
                DocumentId(id.0),
                DocumentFileId(file_id.0),
            )
            .await?;
        let stream = futures_util::stream::unfold(Some(download.reader), |reader| async move {
            let mut reader = reader?;
            match reader.next_chunk().await {
                Ok(Some(bytes)) => Some((Ok(bytes::Bytes::from(bytes)), Some(reader))),
                Ok(None) => None,
                // Ending the body with an error makes the server cut the connection, so the
                // client sees an incomplete download, never a complete-looking altered file.
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        });
        Ok(FileDownloadResponse::Ok(
            Binary(Body::from_bytes_stream(stream)),
            download.file.media_type.mime().to_owned(),
            format!("attachment; filename=\"{}\"", download.file_name),
            download.file.size,
            "no-store".to_owned(),
            "nosniff".to_owned(),
        ))
    }

    /// Share with a worker or an organisation (the person only).
    #[oai(path = "/api/v1/persons/:id/grants", method = "post")]
    async fn grant(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<NewGrantRequest>,
    ) -> ApiResult<Created<GrantView>> {
        let b = body.0;
        let grantee = match (b.worker_id, b.organisation_id) {
            (Some(w), None) => Grantee::Worker(AccountId(w)),
            (None, Some(o)) => Grantee::Organisation(OrganisationId(o)),
            _ => return Err(ApiError::invalid("worker_id", "grant.grantee.one_of")),
        };
        let scope = match (b.kinds, b.document_ids) {
            (None, None) => GrantScope::Wallet,
            (Some(k), None) => GrantScope::Kinds(k.into_iter().collect()),
            (None, Some(d)) => GrantScope::Documents(d.into_iter().map(DocumentId).collect()),
            (Some(_), Some(_)) => return Err(ApiError::invalid("kinds", "grant.scope.one_of")),
        };
        let grant = state
            .wallet
            .grant(
                &caller(req, &state, &auth),
                AccountId(id.0),
                NewGrant {
                    grantee,
                    scope,
                    access: b.access.into(),
                    ends_at: b.ends_at,
                },
            )
            .await?;
        let language = language_of(req, &auth, None)?;
        Ok(Created::Created(Json(grant_view(&grant, &language))))
    }

    /// The person's shares, past and present.
    #[oai(path = "/api/v1/persons/:id/grants", method = "get")]
    async fn grants(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<GrantView>>> {
        let grants = state
            .wallet
            .grants(&caller(req, &state, &auth), AccountId(id.0))
            .await?;
        let language = language_of(req, &auth, None)?;
        Ok(Json(
            grants.iter().map(|g| grant_view(g, &language)).collect(),
        ))
    }

    /// Stop a share now (the person only): the next request under it is refused.
    #[oai(path = "/api/v1/grants/:id", method = "delete")]
    async fn revoke(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<GrantView>> {
        let grant = state
            .wallet
            .revoke(&caller(req, &state, &auth), GrantId(id.0))
            .await?;
        let language = language_of(req, &auth, None)?;
        Ok(Json(grant_view(&grant, &language)))
    }

    /// The person's answer on their referent seeing the wallet.
    #[oai(path = "/api/v1/persons/:id/wallet/referent-consent", method = "get")]
    async fn consent(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<ConsentView>> {
        let consent = state
            .wallet
            .referent_consent(&caller(req, &state, &auth), AccountId(id.0))
            .await?;
        Ok(Json(consent_view(&consent)))
    }

    /// Give or withdraw consent for the referents (recorded with the time, by name). The
    /// person's own, or their referent's at the counter for themself: the person is then
    /// alerted at once and the alert's text comes back as `notice`, to print.
    #[oai(path = "/api/v1/persons/:id/wallet/referent-consent", method = "put")]
    async fn set_consent(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<ConsentRequest>,
    ) -> ApiResult<Json<ConsentView>> {
        let consent = state
            .wallet
            .set_referent_consent(&caller(req, &state, &auth), AccountId(id.0), body.0.given)
            .await?;
        Ok(Json(consent_view(&consent)))
    }

    /// A worker asks the person for documents. The person is told, and sees which of their
    /// documents answer it: one action shares them.
    #[oai(path = "/api/v1/persons/:id/document-requests", method = "post")]
    async fn request(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<NewDocumentRequest>,
    ) -> ApiResult<Created<RequestView>> {
        let b = body.0;
        let view = state
            .wallet
            .request(
                &caller(req, &state, &auth),
                AccountId(id.0),
                NewRequest {
                    kinds: b.kinds,
                    step: b.step_id.map(StepId),
                    message: b.message,
                },
            )
            .await?;
        let language = language_of(req, &auth, None)?;
        Ok(Created::Created(Json(request_view(
            &view,
            |d| state.wallet.expiry(d),
            &language,
        ))))
    }

    /// Requests about a person: all of them for the person (with what to share), a worker's
    /// own for a worker.
    #[oai(path = "/api/v1/persons/:id/document-requests", method = "get")]
    async fn requests(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        lang: Query<Option<String>>,
    ) -> ApiResult<Json<Vec<RequestView>>> {
        let language = language_of(req, &auth, lang.0.as_deref())?;
        let views = state
            .wallet
            .requests(&caller(req, &state, &auth), AccountId(id.0))
            .await?;
        Ok(Json(
            views
                .iter()
                .map(|v| request_view(v, |d| state.wallet.expiry(d), &language))
                .collect(),
        ))
    }

    /// One request (its person or the worker who asked).
    #[oai(path = "/api/v1/document-requests/:id", method = "get")]
    async fn request_detail(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        lang: Query<Option<String>>,
    ) -> ApiResult<Json<RequestView>> {
        let language = language_of(req, &auth, lang.0.as_deref())?;
        let view = state
            .wallet
            .request_detail(&caller(req, &state, &auth), DocumentRequestId(id.0))
            .await?;
        Ok(Json(request_view(
            &view,
            |d| state.wallet.expiry(d),
            &language,
        )))
    }

    /// The person answers a request in one action: shares the documents PEPS proposes (or
    /// those chosen) with the worker who asked, read-only, for a limited time.
    #[oai(path = "/api/v1/document-requests/:id/fulfil", method = "post")]
    async fn fulfil(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// Documents to share (repeat the parameter); absent: the first proposal of each kind.
        document_ids: Query<Option<Vec<Uuid>>>,
    ) -> ApiResult<Json<FulfilledView>> {
        let chosen = document_ids
            .0
            .map(|ids| ids.into_iter().map(DocumentId).collect());
        let done = state
            .wallet
            .fulfil(&caller(req, &state, &auth), DocumentRequestId(id.0), chosen)
            .await?;
        let language = language_of(req, &auth, None)?;
        Ok(Json(FulfilledView {
            request: request_view(&done.request, |d| state.wallet.expiry(d), &language),
            grant: grant_view(&done.grant, &language),
        }))
    }

    /// Close a request without sharing (the person declines, or the worker withdraws it).
    #[oai(path = "/api/v1/document-requests/:id/cancel", method = "post")]
    async fn cancel(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<RequestView>> {
        let view = state
            .wallet
            .cancel_request(&caller(req, &state, &auth), DocumentRequestId(id.0))
            .await?;
        let language = language_of(req, &auth, None)?;
        Ok(Json(request_view(
            &view,
            |d| state.wallet.expiry(d),
            &language,
        )))
    }

    /// Who did what in the wallet, newest first (the person only): every view, download,
    /// upload, share, revocation and deletion, with the actor's role and address.
    #[oai(path = "/api/v1/persons/:id/wallet/log", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn log(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// Continue after this line (its `id`).
        before: Query<Option<Uuid>>,
        limit: Query<Option<u32>>,
        lang: Query<Option<String>>,
    ) -> ApiResult<Json<Vec<LogLineView>>> {
        let language = language_of(req, &auth, lang.0.as_deref())?;
        let lines = state
            .wallet
            .log(
                &caller(req, &state, &auth),
                AccountId(id.0),
                before.0.map(WalletEventId),
                limit.0.unwrap_or(100),
            )
            .await?;
        Ok(Json(
            lines.iter().map(|l| log_line_view(l, &language)).collect(),
        ))
    }
}

#[derive(ApiResponse)]
pub enum ExportResponse {
    /// A ZIP of every document (every version) plus `manifest.json` (kind, dates, SHA-256 of
    /// each file), streamed.
    #[oai(status = 200)]
    Ok(
        Binary<Body>,
        #[oai(header = "Content-Type")] String,
        #[oai(header = "Content-Disposition")] String,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "X-Content-Type-Options")] String,
    ),
}

pub struct WalletExportApi;

#[OpenApi(tag = "Tag::Wallet")]
impl WalletExportApi {
    /// Download the whole wallet as one ZIP with a JSON manifest (the person only), streamed.
    #[oai(path = "/api/v1/persons/:id/wallet/export", method = "get")]
    async fn export(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<ExportResponse> {
        let export = state
            .wallet
            .export(&caller(req, &state, &auth), AccountId(id.0))
            .await?;
        let file_name = export.file_name();
        let stream = futures_util::stream::unfold(Some(export), |export| async move {
            let mut export = export?;
            match export.next_chunk().await {
                Ok(Some(bytes)) => Some((Ok(bytes::Bytes::from(bytes)), Some(export))),
                Ok(None) => None,
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        });
        Ok(ExportResponse::Ok(
            Binary(Body::from_bytes_stream(stream)),
            "application/zip".to_owned(),
            format!("attachment; filename=\"{file_name}\""),
            "no-store".to_owned(),
            "nosniff".to_owned(),
        ))
    }
}
