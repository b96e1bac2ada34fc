//! JSON shapes of the wallet API.

use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use super::views::Role;
use peps_core::i18n;
use peps_core::services::wallet::{
    ConsentState, GrantState, LogLine, Proposal, RequestView as CoreRequestView,
};
use peps_core::wallet::{
    Access, Document, DocumentFile, DocumentRequest, Expiry, GrantScope, Grantee,
};

/// A document kind with its label in the reader's language.
#[derive(Object, Debug)]
pub struct KindView {
    pub code: String,
    pub label: String,
}

pub fn kind_view(code: &str, language: &str) -> KindView {
    KindView {
        code: code.to_owned(),
        label: i18n::text(&format!("documents.kind.{code}"), language),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ExpiryView {
    /// No end date, or far enough away.
    Valid,
    /// Ends within the deployment's notice period (30 days by default).
    ExpiresSoon,
    Expired,
}

impl From<Expiry> for ExpiryView {
    fn from(e: Expiry) -> Self {
        match e {
            Expiry::Valid => Self::Valid,
            Expiry::ExpiresSoon => Self::ExpiresSoon,
            Expiry::Expired => Self::Expired,
        }
    }
}

/// Who put a file or a document in the wallet.
#[derive(Object, Debug)]
pub struct UploaderView {
    pub account_id: Uuid,
    pub role: Role,
}

/// One stored file (a page).
#[derive(Object, Debug)]
pub struct FileView {
    pub id: Uuid,
    pub version: i32,
    pub page: i32,
    /// Detected from the content: `application/pdf`, `image/jpeg`…
    pub media_type: String,
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    pub uploaded_by: UploaderView,
    pub uploaded_at: DateTime<Utc>,
    /// Where to download it (same authorization on every request).
    pub download_url: String,
}

#[derive(Object, Debug)]
pub struct DocumentView {
    pub id: Uuid,
    pub person_id: Uuid,
    pub kind: KindView,
    /// As written by the uploader; may be empty (show the kind's label).
    pub title: String,
    pub issued_on: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub expiry: ExpiryView,
    pub current_version: i32,
    /// Counts the edits of kind, title and dates; also the document's `ETag`: send it back in
    /// `If-Match` with an edit.
    pub revision: i64,
    pub created_by: UploaderView,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Pages of the current version, in order.
    pub pages: Vec<FileView>,
    /// Pages of older versions, newest version first.
    pub older_versions: Vec<FileView>,
}

fn file_view(f: &DocumentFile) -> FileView {
    FileView {
        id: f.id.0,
        version: f.version,
        page: f.page,
        media_type: f.media_type.mime().to_owned(),
        size: f.size,
        sha256: f.sha256.clone(),
        uploaded_by: UploaderView {
            account_id: f.uploaded_by.account.0,
            role: f.uploaded_by.role.into(),
        },
        uploaded_at: f.uploaded_at,
        download_url: format!("/api/v1/documents/{}/files/{}", f.document, f.id),
    }
}

pub fn document_view(d: &Document, expiry: Expiry, language: &str) -> DocumentView {
    let mut older: Vec<&DocumentFile> = d
        .files
        .iter()
        .filter(|f| f.version != d.current_version)
        .collect();
    older.sort_by(|a, b| b.version.cmp(&a.version).then(a.page.cmp(&b.page)));
    DocumentView {
        id: d.id.0,
        person_id: d.person.0,
        kind: kind_view(&d.kind, language),
        title: d.title.clone(),
        issued_on: d.issued_on,
        valid_until: d.valid_until,
        expiry: expiry.into(),
        current_version: d.current_version,
        revision: d.revision,
        created_by: UploaderView {
            account_id: d.created_by.account.0,
            role: d.created_by.role.into(),
        },
        created_at: d.created_at,
        updated_at: d.updated_at,
        pages: d.current_files().map(file_view).collect(),
        older_versions: older.into_iter().map(file_view).collect(),
    }
}

/// An edit: absent fields stay; `null` clears a date. The document's `revision` as read (its
/// `ETag`) goes in `If-Match`.
#[derive(Object, Debug)]
pub struct DocumentPatch {
    pub kind: Option<String>,
    pub title: Option<String>,
    pub issued_on: poem_openapi::types::MaybeUndefined<NaiveDate>,
    pub valid_until: poem_openapi::types::MaybeUndefined<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum AccessName {
    Read,
    ReadUpload,
}

impl From<AccessName> for Access {
    fn from(a: AccessName) -> Self {
        match a {
            AccessName::Read => Access::Read,
            AccessName::ReadUpload => Access::ReadUpload,
        }
    }
}

impl From<Access> for AccessName {
    fn from(a: Access) -> Self {
        match a {
            Access::Read => AccessName::Read,
            Access::ReadUpload => AccessName::ReadUpload,
        }
    }
}

/// A new share: to one worker (`worker_id`) or every worker of an organisation
/// (`organisation_id`); the whole wallet, some kinds (`kinds`) or chosen documents
/// (`document_ids`).
#[derive(Object, Debug)]
pub struct NewGrantRequest {
    pub worker_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub kinds: Option<Vec<String>>,
    pub document_ids: Option<Vec<Uuid>>,
    pub access: AccessName,
    /// Optional end; the share stops by itself then.
    pub ends_at: Option<DateTime<Utc>>,
}

#[derive(Object, Debug)]
pub struct GrantView {
    pub id: Uuid,
    pub worker_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    /// `wallet`, `kinds` or `documents`.
    pub scope: String,
    pub kinds: Vec<KindView>,
    pub document_ids: Vec<Uuid>,
    pub access: AccessName,
    pub ends_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// In force now (not revoked, not past its end).
    pub active: bool,
    pub request_id: Option<Uuid>,
}

/// A grant as its person sees it; `active` as the wallet's clock says.
pub fn grant_view(state: &GrantState, language: &str) -> GrantView {
    let g = &state.grant;
    let (worker_id, organisation_id) = match g.grantee {
        Grantee::Worker(w) => (Some(w.0), None),
        Grantee::Organisation(o) => (None, Some(o.0)),
    };
    let (scope, kinds, document_ids) = match &g.scope {
        GrantScope::Wallet => ("wallet", Vec::new(), Vec::new()),
        GrantScope::Kinds(k) => (
            "kinds",
            k.iter().map(|k| kind_view(k, language)).collect(),
            Vec::new(),
        ),
        GrantScope::Documents(d) => ("documents", Vec::new(), d.iter().map(|d| d.0).collect()),
    };
    GrantView {
        id: g.id.0,
        worker_id,
        organisation_id,
        scope: scope.to_owned(),
        kinds,
        document_ids,
        access: g.access.into(),
        ends_at: g.ends_at,
        created_at: g.created_at,
        revoked_at: g.revoked_at,
        active: state.active,
        request_id: g.request.map(|r| r.0),
    }
}

#[derive(Object, Debug)]
pub struct ConsentRequest {
    /// `true`: my referents of now may see and add documents (not one who comes later);
    /// `false`: only through explicit shares. A referent at the counter records the
    /// person's answer about themself only.
    pub given: bool,
}

pub fn consent_view(state: &ConsentState) -> ConsentView {
    ConsentView {
        given: state.latest.as_ref().map(|c| c.given),
        at: state.latest.as_ref().map(|c| c.at),
        referent_has_access: state.referent_has_access,
        notice: state.notice.clone(),
    }
}

#[derive(Object, Debug)]
pub struct ConsentView {
    /// The person's latest answer; absent when never asked.
    pub given: Option<bool>,
    pub at: Option<DateTime<Utc>>,
    /// Whether a current referent (for a worker at the counter: they) sees the wallet now;
    /// this also depends on the deployment's `wallet.referent_access`.
    pub referent_has_access: bool,
    /// For a consent recorded at the counter: the alert sent to the person, in their
    /// language; print it and hand it over.
    #[oai(skip_serializing_if_is_none)]
    pub notice: Option<String>,
}

#[derive(Object, Debug)]
pub struct NewDocumentRequest {
    /// Document kinds asked for.
    pub kinds: Vec<String>,
    /// The plan step this is for, if any.
    pub step_id: Option<Uuid>,
    pub message: Option<String>,
}

/// The person's documents that answer one requested kind.
#[derive(Object, Debug)]
pub struct ProposalView {
    pub kind: KindView,
    /// Valid documents of that kind, the one valid longest first. Empty: the person has none
    /// yet and should add one.
    pub documents: Vec<DocumentView>,
}

#[derive(Object, Debug)]
pub struct RequestView {
    pub id: Uuid,
    pub person_id: Uuid,
    pub requested_by: Uuid,
    pub requested_by_name: String,
    pub kinds: Vec<KindView>,
    pub step_id: Option<Uuid>,
    pub message: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `open`, `fulfilled` or `cancelled`.
    pub status: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub grant_id: Option<Uuid>,
    /// For the person only: what PEPS proposes to share. Answering with
    /// `POST /api/v1/document-requests/{id}/fulfil` and no body shares the first document of
    /// each kind, in one action.
    pub proposals: Vec<ProposalView>,
    /// For the person: every requested kind has a valid document to share.
    pub can_fulfil_now: bool,
}

pub fn request_view(
    v: &CoreRequestView,
    expiry: impl Fn(&Document) -> Expiry,
    language: &str,
) -> RequestView {
    let r: &DocumentRequest = &v.request;
    RequestView {
        id: r.id.0,
        person_id: r.person.0,
        requested_by: r.requested_by.0,
        requested_by_name: v.requested_by_name.clone(),
        kinds: r.kinds.iter().map(|k| kind_view(k, language)).collect(),
        step_id: r.step.map(|s| s.0),
        message: r.message.clone(),
        created_at: r.created_at,
        status: r.status.as_str().to_owned(),
        closed_at: r.closed_at,
        grant_id: r.grant.map(|g| g.0),
        can_fulfil_now: !v.proposals.is_empty()
            && v.proposals
                .iter()
                .all(|p: &Proposal| !p.documents.is_empty()),
        proposals: v
            .proposals
            .iter()
            .map(|p| ProposalView {
                kind: kind_view(&p.kind, language),
                documents: p
                    .documents
                    .iter()
                    .map(|d| document_view(d, expiry(d), language))
                    .collect(),
            })
            .collect(),
    }
}

#[derive(Object, Debug)]
pub struct FulfilledView {
    pub request: RequestView,
    pub grant: GrantView,
}

#[derive(Object, Debug)]
pub struct LogLineView {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// `listed`, `viewed`, `downloaded`, `uploaded`, `edited`, `deleted`, `shared`, `revoked`,
    /// `consent_given`, `consent_withdrawn`, `requested`, `request_fulfilled`,
    /// `request_cancelled`, `exported`, `erased`.
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    /// What the actor was acting as.
    pub actor_role: Option<Role>,
    /// Set when a helper acted under a mandate.
    pub mandate_id: Option<Uuid>,
    pub document_id: Option<Uuid>,
    pub file_id: Option<Uuid>,
    pub grant_id: Option<Uuid>,
    pub kind: Option<KindView>,
    pub ip: Option<String>,
    pub detail: String,
}

pub fn log_line_view(l: &LogLine, language: &str) -> LogLineView {
    let e = &l.event;
    LogLineView {
        id: e.id.0,
        at: e.at,
        action: e.action.as_str().to_owned(),
        actor_id: e.actor.map(|a| a.0),
        actor_name: l.actor_name.clone(),
        actor_role: e.actor_role.map(Into::into),
        mandate_id: e.mandate.map(|m| m.0),
        document_id: e.document.map(|d| d.0),
        file_id: e.file.map(|f| f.0),
        grant_id: e.grant.map(|g| g.0),
        kind: e.kind.as_deref().map(|k| kind_view(k, language)),
        ip: e.ip.clone(),
        detail: e.detail.clone(),
    }
}

#[derive(Object, Debug)]
pub struct ErasedView {
    /// How many documents were deleted.
    pub deleted: u64,
}
