//! An offer's change history, as the catalogue records it.

use chrono::{DateTime, Utc};

use crate::domain::{AccountId, OfferId};

crate::domain::codes::stable_codes! {
    /// What a line of an offer's history records.
    pub enum OfferAction {
        Created = "created",
        Updated = "updated",
        /// Written by a data·inclusion import.
        Imported = "imported",
        Submitted = "submitted",
        Published = "published",
        Approved = "approved",
        Rejected = "rejected",
        Suspended = "suspended",
        Archived = "archived",
        Restored = "restored",
        /// Someone confirmed the offer is still accurate.
        Verified = "verified",
        TemporaryChangeAdded = "temporary_change_added",
        TemporaryChangeRemoved = "temporary_change_removed",
    }
}

/// One line of an offer's change history: who did what, when, to which fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferHistoryEntry {
    pub offer: OfferId,
    /// The offer's version after the change.
    pub version: i64,
    pub at: DateTime<Utc>,
    /// `None` for PEPS itself (an import, a scheduled job).
    pub actor: Option<AccountId>,
    pub action: OfferAction,
    /// The top-level content fields that changed.
    pub fields: Vec<String>,
    /// Why (a refusal's reason).
    pub reason: Option<String>,
}
