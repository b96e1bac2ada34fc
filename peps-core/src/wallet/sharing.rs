//! Who besides the person may see or add documents: grants, the referent's consent, document
//! requests; and the log of every access, which only grows.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::document::Document;
use crate::domain::{
    AccountId, DocumentFileId, DocumentId, DocumentRequestId, GrantId, MandateId, OrganisationId,
    Role, StepId, WalletEventId,
};

/// To whom a grant is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Grantee {
    Worker(AccountId),
    /// Every worker who is a member of the organisation at the time of access.
    Organisation(OrganisationId),
}

/// Which documents a grant covers. Kinds cover documents of those kinds added later too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "values", rename_all = "snake_case")]
pub enum GrantScope {
    Wallet,
    Kinds(BTreeSet<String>),
    Documents(BTreeSet<DocumentId>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Read,
    ReadUpload,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::ReadUpload => "read_upload",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Access::Read, Access::ReadUpload]
            .into_iter()
            .find(|a| a.as_str() == raw)
    }

    pub fn allows(self, needed: Access) -> bool {
        self >= needed
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: GrantId,
    pub person: AccountId,
    pub grantee: Grantee,
    pub scope: GrantScope,
    pub access: Access,
    pub ends_at: Option<DateTime<Utc>>,
    pub created_by: AccountId,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<AccountId>,
    /// The request this grant answered, if any.
    pub request: Option<DocumentRequestId>,
}

impl Grant {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.ends_at.is_none_or(|end| now < end)
    }

    pub fn names(&self, worker: AccountId, organisations: &[OrganisationId]) -> bool {
        match self.grantee {
            Grantee::Worker(w) => w == worker,
            Grantee::Organisation(o) => organisations.contains(&o),
        }
    }

    pub fn covers(&self, document: &Document) -> bool {
        match &self.scope {
            GrantScope::Wallet => true,
            GrantScope::Kinds(kinds) => kinds.contains(&document.kind),
            GrantScope::Documents(ids) => ids.contains(&document.id),
        }
    }

    /// Whether a new document of `kind` may be added under this grant.
    pub fn covers_new(&self, kind: &str) -> bool {
        match &self.scope {
            GrantScope::Wallet => true,
            GrantScope::Kinds(kinds) => kinds.contains(kind),
            GrantScope::Documents(_) => false,
        }
    }
}

/// The person's answer to "may my referent see my wallet?", kept as a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferentConsent {
    pub person: AccountId,
    /// The worker this answer is about. `None` (the person answering for "my referents"):
    /// the referents current at `at`, never a worker who becomes one later.
    pub worker: Option<AccountId>,
    pub given: bool,
    pub at: DateTime<Utc>,
    /// Who recorded it: the person, or the worker at the counter (then `worker` is them).
    pub by: AccountId,
}

/// Whether the person's current referent sees the wallet without a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferentAccess {
    /// Only once the person has consented (recorded); the default.
    #[default]
    AfterConsent,
    /// Always, as long as the relation lasts (a deployment's choice, to be stated to people).
    Always,
    /// Never: only explicit grants.
    Never,
}

impl ReferentAccess {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "after_consent" => Some(Self::AfterConsent),
            "always" => Some(Self::Always),
            "never" => Some(Self::Never),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Open,
    Fulfilled,
    Cancelled,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Fulfilled => "fulfilled",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Open, Self::Fulfilled, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// A worker asking the person for documents of some kinds, possibly for a plan step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRequest {
    pub id: DocumentRequestId,
    pub person: AccountId,
    pub requested_by: AccountId,
    pub kinds: Vec<String>,
    pub step: Option<StepId>,
    pub message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub status: RequestStatus,
    pub closed_at: Option<DateTime<Utc>>,
    /// The grant that fulfilled it.
    pub grant: Option<GrantId>,
}

/// What happened in a wallet. The codes are stable: the person's access log shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WalletAction {
    Listed,
    Viewed,
    Downloaded,
    Uploaded,
    Edited,
    Deleted,
    Shared,
    Revoked,
    ConsentGiven,
    ConsentWithdrawn,
    Requested,
    RequestFulfilled,
    RequestCancelled,
    Exported,
    Erased,
}

impl WalletAction {
    pub const ALL: [WalletAction; 15] = [
        Self::Listed,
        Self::Viewed,
        Self::Downloaded,
        Self::Uploaded,
        Self::Edited,
        Self::Deleted,
        Self::Shared,
        Self::Revoked,
        Self::ConsentGiven,
        Self::ConsentWithdrawn,
        Self::Requested,
        Self::RequestFulfilled,
        Self::RequestCancelled,
        Self::Exported,
        Self::Erased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Listed => "listed",
            Self::Viewed => "viewed",
            Self::Downloaded => "downloaded",
            Self::Uploaded => "uploaded",
            Self::Edited => "edited",
            Self::Deleted => "deleted",
            Self::Shared => "shared",
            Self::Revoked => "revoked",
            Self::ConsentGiven => "consent_given",
            Self::ConsentWithdrawn => "consent_withdrawn",
            Self::Requested => "requested",
            Self::RequestFulfilled => "request_fulfilled",
            Self::RequestCancelled => "request_cancelled",
            Self::Exported => "exported",
            Self::Erased => "erased",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }
}

/// One line of a wallet's access log: who, acting as what, when, on which document, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletEvent {
    pub id: WalletEventId,
    pub at: DateTime<Utc>,
    pub person: AccountId,
    /// `None` for PEPS itself (a reminder, the reaper).
    pub actor: Option<AccountId>,
    pub actor_role: Option<Role>,
    pub mandate: Option<MandateId>,
    pub action: WalletAction,
    pub document: Option<DocumentId>,
    pub file: Option<DocumentFileId>,
    pub grant: Option<GrantId>,
    /// The document's kind at the time, so the log stays readable after a deletion.
    pub kind: Option<String>,
    pub ip: Option<String>,
    /// Short, non-secret details.
    pub detail: String,
    /// The messages this access or change causes, written to the outbox in its transaction.
    /// Not part of the log: always empty when read back.
    pub outbox: Vec<crate::outbox::OutboxMessage>,
}
