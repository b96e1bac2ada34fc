//! An offer's change history, as the catalogue records it.

use chrono::{DateTime, Utc};

use crate::domain::{AccountId, OfferId};

/// One line of an offer's change history: who did what, when, to which fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferHistoryEntry {
    pub offer: OfferId,
    /// The offer's version after the change.
    pub version: i64,
    pub at: DateTime<Utc>,
    /// `None` for PEPS itself (an import, a scheduled job).
    pub actor: Option<AccountId>,
    /// A stable code: `created`, `updated`, `published`, `submitted`, `approved`, `rejected`,
    /// `suspended`, `archived`, `restored`, `verified`, `temporary_change_added`,
    /// `temporary_change_removed`.
    pub action: String,
    /// The top-level content fields that changed.
    pub fields: Vec<String>,
    /// Why (a refusal's reason).
    pub reason: Option<String>,
}
