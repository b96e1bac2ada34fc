//! The in-memory reference of the catalogue port.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, conflict};
use crate::catalogue::{Offer, OfferStatus, OrganisationProfile};
use crate::domain::*;
use crate::error::{Conflict, StoreError};
use crate::ports::*;

use super::State;

impl State {
    pub(super) fn with_name(&self, offer: &Offer) -> Offer {
        let mut offer = offer.clone();
        offer.organisation_name = self
            .organisations
            .get(&offer.organisation_id)
            .map(|o| o.name.as_str().to_owned())
            .unwrap_or_default();
        offer
    }
}

#[async_trait]
impl OfferRepository for MemoryStore {
    async fn create_offer(&self, offer: &Offer, entry: &OfferHistoryEntry) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.organisations.contains_key(&offer.organisation_id) {
            return Err(StoreError::NotFound);
        }
        if s.offers.contains_key(&offer.id)
            || offer.origin.as_ref().is_some_and(|o| {
                s.offers.values().any(|(x, _)| {
                    x.origin
                        .as_ref()
                        .is_some_and(|xo| xo.source == o.source && xo.id == o.id)
                })
            })
        {
            return Err(conflict(Conflict::Duplicate));
        }
        s.catalogue_seq += 1;
        let seq = s.catalogue_seq;
        s.offers.insert(offer.id, (offer.clone(), seq));
        s.offer_history.push(entry.clone());
        Ok(())
    }

    async fn update_offer(
        &self,
        offer: &Offer,
        expected_version: i64,
        entry: &OfferHistoryEntry,
    ) -> StoreResult<()> {
        let mut s = self.lock();
        match s.offers.get(&offer.id) {
            None => return Err(StoreError::NotFound),
            Some((stored, _)) if stored.version != expected_version => {
                return Err(StoreError::Stale);
            }
            Some(_) => {}
        }
        s.catalogue_seq += 1;
        let seq = s.catalogue_seq;
        s.offers.insert(offer.id, (offer.clone(), seq));
        s.offer_history.push(entry.clone());
        Ok(())
    }

    async fn offer(&self, id: OfferId) -> StoreResult<Offer> {
        let s = self.lock();
        s.offers
            .get(&id)
            .map(|(o, _)| s.with_name(o))
            .ok_or(StoreError::NotFound)
    }

    async fn offers_of(
        &self,
        organisation: OrganisationId,
        statuses: &[OfferStatus],
    ) -> StoreResult<Vec<Offer>> {
        let s = self.lock();
        let mut offers: Vec<Offer> = s
            .offers
            .values()
            .map(|(o, _)| o)
            .filter(|o| o.organisation_id == organisation)
            .filter(|o| statuses.is_empty() || statuses.contains(&o.status))
            .map(|o| s.with_name(o))
            .collect();
        offers.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
        Ok(offers)
    }

    async fn offer_history(&self, id: OfferId) -> StoreResult<Vec<OfferHistoryEntry>> {
        Ok(self
            .lock()
            .offer_history
            .iter()
            .filter(|e| e.offer == id)
            .cloned()
            .collect())
    }

    async fn catalogue_seq(&self) -> StoreResult<i64> {
        Ok(self.lock().catalogue_seq)
    }

    async fn offers_changed_since(&self, after: i64, limit: u32) -> StoreResult<Vec<(i64, Offer)>> {
        let s = self.lock();
        let mut changed: Vec<(i64, Offer)> = s
            .offers
            .values()
            .filter(|(_, seq)| *seq > after)
            .map(|(o, seq)| (*seq, s.with_name(o)))
            .collect();
        changed.sort_by_key(|(seq, _)| *seq);
        changed.truncate(limit as usize);
        Ok(changed)
    }

    async fn offers_due(
        &self,
        due_by: DateTime<Utc>,
        organisation: Option<OrganisationId>,
    ) -> StoreResult<Vec<Offer>> {
        let s = self.lock();
        let mut due: Vec<Offer> = s
            .offers
            .values()
            .map(|(o, _)| o)
            .filter(|o| o.status == OfferStatus::Published && o.verify_by() <= due_by)
            .filter(|o| organisation.is_none_or(|org| o.organisation_id == org))
            .map(|o| s.with_name(o))
            .collect();
        due.sort_by(|a, b| a.verify_by().cmp(&b.verify_by()).then(a.id.cmp(&b.id)));
        Ok(due)
    }

    async fn offers_pending_review(&self) -> StoreResult<Vec<Offer>> {
        let s = self.lock();
        let mut pending: Vec<Offer> = s
            .offers
            .values()
            .map(|(o, _)| o)
            .filter(|o| o.status == OfferStatus::PendingReview)
            .map(|o| s.with_name(o))
            .collect();
        pending.sort_by(|a, b| a.updated_at.cmp(&b.updated_at).then(a.id.cmp(&b.id)));
        Ok(pending)
    }

    async fn record_reminder(
        &self,
        offer: OfferId,
        due_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut s = self.lock();
        if s.reminders.contains_key(&(offer, due_at)) {
            return Ok(false);
        }
        s.reminders.insert((offer, due_at), at);
        Ok(true)
    }

    async fn reminder_sent(&self, offer: OfferId, due_at: DateTime<Utc>) -> StoreResult<bool> {
        Ok(self.lock().reminders.contains_key(&(offer, due_at)))
    }

    async fn organisation_profile(
        &self,
        organisation: OrganisationId,
    ) -> StoreResult<Option<StoredProfile>> {
        Ok(self.lock().profiles.get(&organisation).cloned())
    }

    async fn save_organisation_profile(
        &self,
        organisation: OrganisationId,
        profile: &OrganisationProfile,
        expected_version: Option<i64>,
        at: DateTime<Utc>,
        offers: &[OfferRewrite],
    ) -> StoreResult<i64> {
        let mut s = self.lock();
        if !s.organisations.contains_key(&organisation) {
            return Err(conflict(Conflict::MissingReference));
        }
        let current = s.profiles.get(&organisation).map(|p| p.version);
        if current != expected_version {
            return Err(StoreError::Stale);
        }
        for rewrite in offers {
            match s.offers.get(&rewrite.offer.id) {
                None => return Err(StoreError::NotFound),
                Some((stored, _)) if stored.version != rewrite.expected_version => {
                    return Err(StoreError::Stale);
                }
                Some(_) => {}
            }
        }
        for rewrite in offers {
            s.catalogue_seq += 1;
            let seq = s.catalogue_seq;
            s.offers
                .insert(rewrite.offer.id, (rewrite.offer.clone(), seq));
            s.offer_history.push(rewrite.entry.clone());
        }
        let version = current.unwrap_or(0) + 1;
        s.catalogue_seq += 1;
        s.profiles.insert(
            organisation,
            StoredProfile {
                profile: profile.clone(),
                version,
                updated_at: at,
            },
        );
        Ok(version)
    }
}
