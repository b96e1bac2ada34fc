//! The document wallet's use cases. Papers are the person's: they see, add, edit, share and
//! delete; a worker reaches only what a grant (or the person's consent to their referent)
//! covers, a helper only under a `wallet:read` / `wallet:upload` mandate, an admin nothing.
//! Whoever may not see a document gets `NotFound`, as for one that does not exist. Every
//! access is written to the person's access log, which only grows.

mod access;
mod export;
mod files;
mod hashing;
mod maintenance;
mod sharing;

use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeSet;
use std::sync::Arc;

use super::plan_notices::Notices;
use crate::clock::Clock;
use crate::domain::*;
use crate::ports::*;
use crate::wallet::document::builtin_kinds;
use crate::wallet::ports::{BlobStore, KeyVault, Scanner};
use crate::wallet::sniff::MediaType;
use crate::wallet::*;

pub use access::Permit;
pub use export::{MANIFEST, WalletExport};
pub use files::{DocumentChange, FileDownload, NewDocument, Placement, PlainReader, UploadSource};
pub use maintenance::{ExpiryReport, ReapReport, RotationReport};
pub use sharing::{
    ConsentState, Fulfilled, GrantState, NewGrant, NewRequest, Proposal, RequestView,
};

/// The ports the wallet needs.
#[derive(Clone)]
pub struct WalletPorts {
    pub wallet: Arc<dyn WalletRepository>,
    pub accounts: Arc<dyn AccountRepository>,
    pub relations: Arc<dyn RelationRepository>,
    pub organisations: Arc<dyn OrganisationRepository>,
    pub audit: Arc<dyn AuditLog>,
    /// To check that a request's plan step is one of the person's.
    pub plans: Arc<dyn PlanRepository>,
    pub blobs: Arc<dyn BlobStore>,
    pub keys: Arc<dyn KeyVault>,
    pub scanner: Option<Arc<dyn Scanner>>,
}

impl WalletPorts {
    pub fn from_store<S>(
        store: Arc<S>,
        blobs: Arc<dyn BlobStore>,
        keys: Arc<dyn KeyVault>,
        scanner: Option<Arc<dyn Scanner>>,
    ) -> Self
    where
        S: WalletRepository + IdentityStore + PlanRepository + 'static,
    {
        Self {
            wallet: store.clone(),
            accounts: store.clone(),
            relations: store.clone(),
            organisations: store.clone(),
            plans: store.clone(),
            audit: store,
            blobs,
            keys,
            scanner,
        }
    }
}

#[derive(Debug, Clone)]
pub struct WalletSettings {
    /// Largest file accepted, in bytes.
    pub max_file_size: u64,
    /// Most bytes one person's wallet may hold (every version counts).
    pub quota: u64,
    pub allowed_types: BTreeSet<MediaType>,
    pub referent_access: ReferentAccess,
    /// Documents whose validity ends within this many days are flagged, and the person is
    /// reminded this many days before.
    pub expiry_notice_days: u32,
    /// Document kinds accepted (the built-in ones, plus a deployment's own).
    pub kinds: Vec<String>,
    /// How long a share made by answering a request lasts, in days.
    pub request_share_days: u32,
}

impl Default for WalletSettings {
    fn default() -> Self {
        Self {
            max_file_size: 20 * 1024 * 1024,
            quota: 500 * 1024 * 1024,
            allowed_types: MediaType::ALL.into_iter().collect(),
            referent_access: ReferentAccess::AfterConsent,
            expiry_notice_days: 30,
            kinds: builtin_kinds(),
            request_share_days: 90,
        }
    }
}

/// Who acts and from where, for the access log.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: crate::policy::Actor,
    pub ip: Option<String>,
}

pub struct Wallet {
    ports: WalletPorts,
    channels: Notices,
    clock: Arc<dyn Clock>,
    settings: WalletSettings,
}

impl Wallet {
    pub fn new(
        ports: WalletPorts,
        channels: Notices,
        clock: Arc<dyn Clock>,
        settings: WalletSettings,
    ) -> Self {
        Self {
            ports,
            channels,
            clock,
            settings,
        }
    }

    pub fn settings(&self) -> &WalletSettings {
        &self.settings
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    /// A log line for `action`, by the caller, under the permit's mandate if any.
    fn event(
        &self,
        caller: &Caller,
        person: AccountId,
        mandate: Option<MandateId>,
        action: WalletAction,
    ) -> WalletEvent {
        WalletEvent {
            id: WalletEventId::new(),
            at: self.now(),
            person,
            actor: Some(caller.actor.account),
            actor_role: Some(caller.actor.role),
            mandate,
            action,
            document: None,
            file: None,
            grant: None,
            kind: None,
            ip: caller.ip.clone(),
            detail: String::new(),
            outbox: Vec::new(),
        }
    }

    /// A person's documents flagged against their validity date, today.
    pub fn expiry(&self, document: &Document) -> Expiry {
        document.expiry(self.today(), self.settings.expiry_notice_days)
    }
}

/// A log line with the names a reader needs.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub event: WalletEvent,
    pub actor_name: Option<String>,
}

fn with_document(mut event: WalletEvent, document: &Document) -> WalletEvent {
    event.document = Some(document.id);
    event.kind = Some(document.kind.clone());
    event
}
