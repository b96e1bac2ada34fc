//! Catalogue ports: offers, their history and the change counter, organisation profiles.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
pub use crate::catalogue::history::OfferHistoryEntry;
use crate::catalogue::{Offer, OfferStatus, OrganisationProfile};
use crate::domain::*;

/// An organisation's profile with its optimistic-concurrency version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProfile {
    pub profile: OrganisationProfile,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// An offer rewritten together with its organisation's profile (see
/// [`OfferRepository::save_organisation_profile`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OfferRewrite {
    pub offer: Offer,
    pub expected_version: i64,
    pub entry: OfferHistoryEntry,
}

#[async_trait]
pub trait OfferRepository: Send + Sync {
    /// Stores a new offer and its first history entry in one transaction; `Conflict` when the
    /// id exists, `NotFound` when the organisation does not.
    async fn create_offer(&self, offer: &Offer, entry: &OfferHistoryEntry) -> StoreResult<()>;
    /// Replaces the offer only if the stored version is still `expected_version`, and appends
    /// the history entry, in one transaction. `Conflict` (nothing written) when someone else
    /// changed it meanwhile; `NotFound` when it does not exist.
    async fn update_offer(
        &self,
        offer: &Offer,
        expected_version: i64,
        entry: &OfferHistoryEntry,
    ) -> StoreResult<()>;
    /// The offer, with its organisation's current name.
    async fn offer(&self, id: OfferId) -> StoreResult<Offer>;
    /// An organisation's offers in the given statuses (all when empty), newest first.
    async fn offers_of(
        &self,
        organisation: OrganisationId,
        statuses: &[OfferStatus],
    ) -> StoreResult<Vec<Offer>>;
    /// Oldest first.
    async fn offer_history(&self, id: OfferId) -> StoreResult<Vec<OfferHistoryEntry>>;
    /// The catalogue's change counter: every offer write increases it, in commit order, and
    /// stamps the offer with it. Search indexes compare it with their own.
    async fn catalogue_seq(&self) -> StoreResult<i64>;
    /// Offers (any status) stamped after `after`, in stamp order, at most `limit`, each with
    /// its stamp.
    async fn offers_changed_since(&self, after: i64, limit: u32) -> StoreResult<Vec<(i64, Offer)>>;
    /// Published offers whose verification date is at or before `due_by`, optionally of one
    /// organisation, the most overdue first.
    async fn offers_due(
        &self,
        due_by: DateTime<Utc>,
        organisation: Option<OrganisationId>,
    ) -> StoreResult<Vec<Offer>>;
    /// Offers waiting for validation, oldest first.
    async fn offers_pending_review(&self) -> StoreResult<Vec<Offer>>;
    /// Remembers that the reminder for this offer's verification date was sent; `false` when
    /// it already was (so reminders are idempotent).
    async fn record_reminder(
        &self,
        offer: OfferId,
        due_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn reminder_sent(&self, offer: OfferId, due_at: DateTime<Utc>) -> StoreResult<bool>;
    async fn organisation_profile(
        &self,
        organisation: OrganisationId,
    ) -> StoreResult<Option<StoredProfile>>;
    /// Creates (expected `None`) or replaces (expected = current version) the profile, and
    /// rewrites `offers` as [`OfferRepository::update_offer`] would, all in one transaction:
    /// an organisation whose address turns confidential never has a moment where its offers
    /// still show theirs. `Stale` (nothing written) on any version mismatch. Returns the
    /// profile's new version.
    async fn save_organisation_profile(
        &self,
        organisation: OrganisationId,
        profile: &OrganisationProfile,
        expected_version: Option<i64>,
        at: DateTime<Utc>,
        offers: &[OfferRewrite],
    ) -> StoreResult<i64>;
}

/// The catalogue's published offers, for the plans that point to them. The catalogue answers
/// from its search index (caught up with the store first); any [`OfferRepository`] answers by
/// reading each offer.
#[async_trait]
pub trait PublishedOffers: Send + Sync {
    /// Each id with its offer if it is published now, `None` otherwise.
    async fn published(
        &self,
        ids: &std::collections::BTreeSet<OfferId>,
    ) -> StoreResult<std::collections::BTreeMap<OfferId, Option<Offer>>>;
}

#[async_trait]
impl<T: OfferRepository + ?Sized> PublishedOffers for T {
    async fn published(
        &self,
        ids: &std::collections::BTreeSet<OfferId>,
    ) -> StoreResult<std::collections::BTreeMap<OfferId, Option<Offer>>> {
        let mut found = std::collections::BTreeMap::new();
        for id in ids {
            let offer = match self.offer(*id).await {
                Ok(offer) if offer.status == OfferStatus::Published => Some(offer),
                Ok(_) | Err(crate::error::StoreError::NotFound) => None,
                Err(e) => return Err(e),
            };
            found.insert(*id, offer);
        }
        Ok(found)
    }
}
