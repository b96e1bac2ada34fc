//! The in-memory reference of the exchange port.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::State;
use super::{MemoryStore, conflict};
use crate::catalogue::{Offer, OfferStatus};
use crate::domain::*;
use crate::error::{Conflict, StoreError};
use crate::ports::*;

#[async_trait]
impl CatalogueExchange for MemoryStore {
    async fn held_records(
        &self,
        kind: RecordKind,
        source: &str,
        ids: &[String],
    ) -> StoreResult<Vec<HeldRecord>> {
        let s = self.lock();
        Ok(ids
            .iter()
            .filter_map(|id| {
                let record = s.imported.get(&(kind, source.to_owned(), id.clone()))?;
                let (current_version, updated_at) = match kind {
                    RecordKind::Service => s
                        .offers
                        .get(&OfferId(record.local_id))
                        .map(|(o, _)| (o.version, o.updated_at))?,
                    RecordKind::Structure => s
                        .profiles
                        .get(&OrganisationId(record.local_id))
                        .map(|p| (p.version, p.updated_at))?,
                };
                Some(HeldRecord {
                    record: record.clone(),
                    current_version,
                    updated_at,
                })
            })
            .collect())
    }

    async fn origins_of(
        &self,
        kind: RecordKind,
        local_ids: &[uuid::Uuid],
    ) -> StoreResult<Vec<ImportedRecord>> {
        let s = self.lock();
        Ok(s.imported
            .values()
            .filter(|r| r.kind == kind && local_ids.contains(&r.local_id))
            .cloned()
            .collect())
    }

    async fn profiles_of(
        &self,
        organisations: &[OrganisationId],
    ) -> StoreResult<Vec<(OrganisationId, StoredProfile)>> {
        let s = self.lock();
        Ok(organisations
            .iter()
            .filter_map(|id| Some((*id, s.profiles.get(id)?.clone())))
            .collect())
    }

    async fn apply_import(&self, batch: &ImportBatch) -> StoreResult<BatchOutcome> {
        let mut s = self.lock();
        let mut outcome = BatchOutcome::default();
        // All or nothing, as a transaction: work on a copy.
        let mut next = State {
            organisations: s.organisations.clone(),
            profiles: s.profiles.clone(),
            offers: s.offers.clone(),
            imported: s.imported.clone(),
            catalogue_seq: s.catalogue_seq,
            ..State::default()
        };
        let mut history = Vec::new();
        for w in &batch.organisations {
            let mut org = w.organisation.clone();
            if let Some(siret) = &org.siret {
                let taken = next
                    .organisations
                    .values()
                    .any(|o| o.id != org.id && o.siret.as_ref() == Some(siret));
                if taken {
                    org.siret = None;
                    outcome.sirets_dropped.push(w.record.id.clone());
                }
            }
            let current = next.profiles.get(&org.id).map(|p| p.version);
            match w.expected_profile_version {
                None if next.organisations.contains_key(&org.id) => {
                    return Err(conflict(Conflict::Duplicate));
                }
                None => {
                    next.organisations.insert(org.id, org.clone());
                }
                Some(v) if current != Some(v) => {
                    outcome
                        .conflicts
                        .push((RecordKind::Structure, w.record.id.clone()));
                    continue;
                }
                Some(_) => {
                    let stored = next
                        .organisations
                        .get_mut(&org.id)
                        .ok_or(StoreError::NotFound)?;
                    stored.name = org.name.clone();
                    stored.siret = org.siret.clone();
                }
            }
            next.profiles.insert(
                org.id,
                StoredProfile {
                    profile: w.profile.clone(),
                    version: current.unwrap_or(0) + 1,
                    updated_at: w.record.imported_at,
                },
            );
            next.imported.insert(
                (w.record.kind, w.record.source.clone(), w.record.id.clone()),
                w.record.clone(),
            );
        }
        if !batch.organisations.is_empty() {
            next.catalogue_seq += 1;
        }
        for w in &batch.offers {
            next.catalogue_seq += 1;
            if !next.organisations.contains_key(&w.offer.organisation_id) {
                return Err(conflict(Conflict::MissingReference));
            }
            let current = next.offers.get(&w.offer.id).map(|(o, _)| o.version);
            match (w.expected_version, current) {
                (None, Some(_)) => return Err(conflict(Conflict::Duplicate)),
                (Some(v), c) if c != Some(v) => {
                    outcome
                        .conflicts
                        .push((RecordKind::Service, w.record.id.clone()));
                    continue;
                }
                _ => {}
            }
            let seq = next.catalogue_seq;
            next.offers.insert(w.offer.id, (w.offer.clone(), seq));
            history.push(w.entry.clone());
            next.imported.insert(
                (w.record.kind, w.record.source.clone(), w.record.id.clone()),
                w.record.clone(),
            );
        }
        s.organisations = next.organisations;
        s.profiles = next.profiles;
        s.offers = next.offers;
        s.imported = next.imported;
        s.catalogue_seq = next.catalogue_seq;
        s.offer_history.extend(history);
        Ok(outcome)
    }

    async fn published_offers(
        &self,
        after: Option<OfferId>,
        limit: u32,
    ) -> StoreResult<Vec<Offer>> {
        let s = self.lock();
        let mut offers: Vec<&Offer> = s
            .offers
            .values()
            .map(|(o, _)| o)
            .filter(|o| o.status == OfferStatus::Published && after.is_none_or(|a| o.id > a))
            .collect();
        offers.sort_by_key(|o| o.id);
        Ok(offers
            .into_iter()
            .take(limit as usize)
            .map(|o| s.with_name(o))
            .collect())
    }

    async fn public_organisations(
        &self,
        after: Option<OrganisationId>,
        limit: u32,
    ) -> StoreResult<Vec<(Organisation, Option<StoredProfile>)>> {
        let s = self.lock();
        let mut orgs: Vec<&Organisation> = s
            .organisations
            .values()
            .filter(|o| after.is_none_or(|a| o.id > a))
            .filter(|o| {
                s.profiles.contains_key(&o.id)
                    || s.offers.values().any(|(x, _)| {
                        x.organisation_id == o.id && x.status == OfferStatus::Published
                    })
            })
            .collect();
        orgs.sort_by_key(|o| o.id);
        Ok(orgs
            .into_iter()
            .take(limit as usize)
            .map(|o| (o.clone(), s.profiles.get(&o.id).cloned()))
            .collect())
    }

    async fn catalogue_changed_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let s = self.lock();
        let offers = s.offers.values().map(|(o, _)| o.updated_at).max();
        let profiles = s.profiles.values().map(|p| p.updated_at).max();
        Ok(offers.max(profiles))
    }

    async fn save_import_job(&self, job: &ImportJob) -> StoreResult<()> {
        self.lock().import_jobs.insert(job.id, job.clone());
        Ok(())
    }

    async fn import_job(&self, id: ImportJobId) -> StoreResult<ImportJob> {
        self.lock()
            .import_jobs
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn interrupt_import_jobs(&self, at: DateTime<Utc>) -> StoreResult<u64> {
        let mut s = self.lock();
        let mut count = 0;
        for job in s.import_jobs.values_mut() {
            if matches!(
                job.status,
                ImportJobStatus::Queued | ImportJobStatus::Running
            ) {
                job.status = ImportJobStatus::Interrupted;
                job.finished_at = Some(at);
                count += 1;
            }
        }
        Ok(count)
    }
}
