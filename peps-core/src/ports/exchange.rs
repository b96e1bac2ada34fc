//! Exchange port: the data·inclusion import and export bookkeeping and the import jobs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use super::catalogue::{OfferHistoryEntry, StoredProfile};
pub use crate::catalogue::import_job::{ImportJob, ImportJobStatus};
use crate::catalogue::{Offer, OrganisationProfile};
use crate::domain::*;

/// Which data·inclusion record kind an imported record was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    Structure,
    Service,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Structure => "structure",
            RecordKind::Service => "service",
        }
    }

    pub fn parse(raw: &str) -> Option<RecordKind> {
        match raw {
            "structure" => Some(RecordKind::Structure),
            "service" => Some(RecordKind::Service),
            _ => None,
        }
    }
}

/// What PEPS remembers of a record it imported, keyed by (`kind`, `source`, `id`): the local
/// organisation or offer it became, and what the import last wrote, so that a rerun changes
/// nothing and local edits made since are recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRecord {
    pub kind: RecordKind,
    pub source: String,
    pub id: String,
    /// The organisation (structure) or offer (service) id.
    pub local_id: uuid::Uuid,
    /// The source's `date_maj` of the record last applied.
    pub date_maj: chrono::NaiveDate,
    /// A hash of what the import wrote (the mapped content), to recognise an unchanged record.
    pub content_hash: String,
    /// The local version (offer version, profile version) right after the import wrote it:
    /// a higher current version means someone edited the record in PEPS since.
    pub imported_version: i64,
    pub imported_at: DateTime<Utc>,
}

/// An imported record and the present state of the local record it became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRecord {
    pub record: ImportedRecord,
    pub current_version: i64,
    pub updated_at: DateTime<Utc>,
}

/// An organisation (data·inclusion structure) to create or update, with its profile. An update
/// changes the name, the SIRET and the profile; the kind and creation date stay.
#[derive(Debug, Clone)]
pub struct OrganisationWrite {
    pub organisation: Organisation,
    pub profile: OrganisationProfile,
    /// `None` creates the organisation and its profile (version 1); `Some(v)` updates them
    /// when the profile is still at version `v` (else the write is skipped as a conflict).
    pub expected_profile_version: Option<i64>,
    pub record: ImportedRecord,
}

/// An offer (data·inclusion service) to create or update.
#[derive(Debug, Clone)]
pub struct OfferWrite {
    pub offer: Offer,
    /// `None` creates the offer; `Some(v)` updates it when still at version `v`.
    pub expected_version: Option<i64>,
    pub entry: OfferHistoryEntry,
    pub record: ImportedRecord,
}

/// One transaction's worth of imported records.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    pub organisations: Vec<OrganisationWrite>,
    pub offers: Vec<OfferWrite>,
}

/// Records of a batch that were not written because someone changed them in PEPS between the
/// import reading them and writing them; a rerun takes them up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub conflicts: Vec<(RecordKind, String)>,
    /// Structures (by source id) saved without their SIRET because another organisation has
    /// it (the same establishment listed by two sources, say).
    pub sirets_dropped: Vec<String>,
}

/// Reading and writing the catalogue in bulk, for data·inclusion imports and open data.
#[async_trait]
pub trait CatalogueExchange: Send + Sync {
    /// The records of `ids` already imported from `source`, with their local state.
    async fn held_records(
        &self,
        kind: RecordKind,
        source: &str,
        ids: &[String],
    ) -> StoreResult<Vec<HeldRecord>>;
    /// The imported records that became these local organisations or offers.
    async fn origins_of(
        &self,
        kind: RecordKind,
        local_ids: &[uuid::Uuid],
    ) -> StoreResult<Vec<ImportedRecord>>;
    /// The profiles of these organisations (those that have one).
    async fn profiles_of(
        &self,
        organisations: &[OrganisationId],
    ) -> StoreResult<Vec<(OrganisationId, StoredProfile)>>;
    /// Writes a batch in one transaction, stamping every offer with the catalogue counter.
    async fn apply_import(&self, batch: &ImportBatch) -> StoreResult<BatchOutcome>;
    /// Published offers with an id greater than `after`, in id order.
    async fn published_offers(&self, after: Option<OfferId>, limit: u32)
    -> StoreResult<Vec<Offer>>;
    /// Organisations with a published offer or a profile, with an id greater than `after`, in
    /// id order, with their profiles.
    async fn public_organisations(
        &self,
        after: Option<OrganisationId>,
        limit: u32,
    ) -> StoreResult<Vec<(Organisation, Option<StoredProfile>)>>;
    /// When the catalogue last changed (any offer or profile), for `Last-Modified`.
    async fn catalogue_changed_at(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// Creates or replaces an import job's state.
    async fn save_import_job(&self, job: &ImportJob) -> StoreResult<()>;
    async fn import_job(&self, id: ImportJobId) -> StoreResult<ImportJob>;
    /// Marks every `queued` or `running` job `interrupted`, finished at `at` (at start-up:
    /// their runner stopped with the server). Returns how many.
    async fn interrupt_import_jobs(&self, at: DateTime<Utc>) -> StoreResult<u64>;
}
