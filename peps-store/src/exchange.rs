//! [`CatalogueExchange`] on sea-orm: bulk writes for data·inclusion imports (one transaction
//! per batch, multi-row inserts), keyset pages for exports, and import jobs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

use crate::SeaOrmStore;
use crate::entities::{
    import_job, imported_record, offer, offer_history, organisation, organisation_profile,
};
use crate::error::{corrupt, db_err};
use crate::offers::{history_model, profile_domain, save_profile, take_seqs, to_model};
use crate::organisations::to_domain as organisation_domain;
use peps_core::StoreError;
use peps_core::catalogue::{Offer, OfferStatus};
use peps_core::domain::*;
use peps_core::ports::*;

/// Rows per multi-row INSERT: under SQLite's and PostgreSQL's bound-parameter limits for the
/// widest table here.
const INSERT_CHUNK: usize = 400;

fn record_model(r: &ImportedRecord) -> imported_record::ActiveModel {
    imported_record::Model {
        kind: r.kind.as_str().to_owned(),
        source: r.source.clone(),
        origin_id: r.id.clone(),
        local_id: r.local_id,
        date_maj: r.date_maj,
        content_hash: r.content_hash.clone(),
        imported_version: r.imported_version,
        imported_at: r.imported_at,
    }
    .into_active_model()
}

fn record_domain(m: imported_record::Model) -> StoreResult<ImportedRecord> {
    Ok(ImportedRecord {
        kind: RecordKind::parse(&m.kind).ok_or_else(|| corrupt("record kind", &m.kind))?,
        source: m.source,
        id: m.origin_id,
        local_id: m.local_id,
        date_maj: m.date_maj,
        content_hash: m.content_hash,
        imported_version: m.imported_version,
        imported_at: m.imported_at,
    })
}

fn organisation_model(o: &Organisation) -> organisation::ActiveModel {
    organisation::Model {
        id: o.id.0,
        name: o.name.as_str().to_owned(),
        kind: o.kind.as_str().to_owned(),
        siret: o.siret.as_ref().map(|s| s.as_str().to_owned()),
        created_at: o.created_at,
    }
    .into_active_model()
}

async fn insert_chunked<A, E>(txn: &DatabaseTransaction, rows: Vec<A>) -> StoreResult<()>
where
    A: ActiveModelTrait<Entity = E> + Send,
    E: EntityTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(INSERT_CHUNK).collect();
        E::insert_many(chunk).exec(txn).await.map_err(db_err)?;
    }
    Ok(())
}

/// The SIRETs among `sirets` already held by an organisation other than the one writing it.
async fn sirets_taken(
    txn: &DatabaseTransaction,
    sirets: &[(OrganisationId, String)],
) -> StoreResult<HashSet<String>> {
    let mut taken = HashSet::new();
    for chunk in sirets.chunks(INSERT_CHUNK) {
        let rows = organisation::Entity::find()
            .filter(organisation::Column::Siret.is_in(chunk.iter().map(|(_, s)| s.clone())))
            .all(txn)
            .await
            .map_err(db_err)?;
        for row in rows {
            let owner = chunk
                .iter()
                .any(|(id, s)| Some(s) == row.siret.as_ref() && id.0 == row.id);
            if !owner {
                taken.extend(row.siret);
            }
        }
    }
    Ok(taken)
}

impl SeaOrmStore {
    async fn write_organisations(
        &self,
        txn: &DatabaseTransaction,
        writes: &[OrganisationWrite],
        outcome: &mut BatchOutcome,
        records: &mut Vec<imported_record::ActiveModel>,
    ) -> StoreResult<()> {
        let wanted: Vec<(OrganisationId, String)> = writes
            .iter()
            .filter_map(|w| {
                let siret = w.organisation.siret.as_ref()?;
                Some((w.organisation.id, siret.as_str().to_owned()))
            })
            .collect();
        let mut taken = sirets_taken(txn, &wanted).await?;
        let mut new_organisations = Vec::new();
        let mut new_profiles = Vec::new();
        for w in writes {
            let mut org = w.organisation.clone();
            if let Some(siret) = org.siret.as_ref().map(|s| s.as_str().to_owned()) {
                // Also guards against two structures of the same batch sharing one.
                if !taken.insert(siret) {
                    org.siret = None;
                    outcome.sirets_dropped.push(w.record.id.clone());
                }
            }
            let document = serde_json::to_string(&w.profile).map_err(StoreError::unavailable)?;
            match w.expected_profile_version {
                None => {
                    new_organisations.push(organisation_model(&org));
                    new_profiles.push(
                        organisation_profile::Model {
                            organisation_id: org.id.0,
                            document,
                            version: 1,
                            updated_at: w.record.imported_at,
                        }
                        .into_active_model(),
                    );
                }
                Some(version) => {
                    match save_profile(txn, org.id, document, Some(version), w.record.imported_at)
                        .await
                    {
                        Ok(_) => {}
                        Err(StoreError::Stale | StoreError::Conflict(_)) => {
                            outcome
                                .conflicts
                                .push((RecordKind::Structure, w.record.id.clone()));
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                    organisation::Entity::update_many()
                        .col_expr(
                            organisation::Column::Name,
                            Expr::value(org.name.as_str().to_owned()),
                        )
                        .col_expr(
                            organisation::Column::Siret,
                            Expr::value(org.siret.as_ref().map(|s| s.as_str().to_owned())),
                        )
                        .filter(organisation::Column::Id.eq(org.id.0))
                        .exec(txn)
                        .await
                        .map_err(db_err)?;
                }
            }
            records.push(record_model(&w.record));
        }
        insert_chunked(txn, new_organisations).await?;
        insert_chunked(txn, new_profiles).await?;
        Ok(())
    }

    async fn write_offers(
        &self,
        txn: &DatabaseTransaction,
        writes: &[OfferWrite],
        outcome: &mut BatchOutcome,
        records: &mut Vec<imported_record::ActiveModel>,
    ) -> StoreResult<()> {
        let last = take_seqs(txn, writes.len() as u32).await?;
        let mut seq = last - writes.len() as i64;
        let mut new_offers = Vec::new();
        let mut entries = Vec::new();
        for w in writes {
            seq += 1;
            let model = to_model(&w.offer, seq)?;
            match w.expected_version {
                None => new_offers.push(model.into_active_model()),
                Some(expected) => {
                    let updated = offer::Entity::update_many()
                        .set(model.into_active_model().reset_all())
                        .filter(offer::Column::Id.eq(w.offer.id.0))
                        .filter(offer::Column::Version.eq(expected))
                        .exec(txn)
                        .await
                        .map_err(db_err)?;
                    if updated.rows_affected == 0 {
                        outcome
                            .conflicts
                            .push((RecordKind::Service, w.record.id.clone()));
                        continue;
                    }
                }
            }
            entries.push(history_model(&w.entry)?);
            records.push(record_model(&w.record));
        }
        insert_chunked(txn, new_offers).await?;
        insert_chunked::<offer_history::ActiveModel, _>(txn, entries).await?;
        Ok(())
    }
}

#[async_trait]
impl CatalogueExchange for SeaOrmStore {
    async fn held_records(
        &self,
        kind: RecordKind,
        source: &str,
        ids: &[String],
    ) -> StoreResult<Vec<HeldRecord>> {
        let mut held = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(INSERT_CHUNK) {
            let records: Vec<ImportedRecord> = imported_record::Entity::find()
                .filter(imported_record::Column::Kind.eq(kind.as_str()))
                .filter(imported_record::Column::Source.eq(source))
                .filter(imported_record::Column::OriginId.is_in(chunk.iter().cloned()))
                .all(&self.db)
                .await
                .map_err(db_err)?
                .into_iter()
                .map(record_domain)
                .collect::<StoreResult<_>>()?;
            let local: Vec<Uuid> = records.iter().map(|r| r.local_id).collect();
            // The local record's present version, when it still exists.
            let state: HashMap<Uuid, (i64, DateTime<Utc>)> = match kind {
                RecordKind::Service => offer::Entity::find()
                    .select_only()
                    .columns([
                        offer::Column::Id,
                        offer::Column::Version,
                        offer::Column::UpdatedAt,
                    ])
                    .filter(offer::Column::Id.is_in(local))
                    .into_tuple::<(Uuid, i64, DateTime<Utc>)>()
                    .all(&self.db)
                    .await
                    .map_err(db_err)?,
                RecordKind::Structure => organisation_profile::Entity::find()
                    .select_only()
                    .columns([
                        organisation_profile::Column::OrganisationId,
                        organisation_profile::Column::Version,
                        organisation_profile::Column::UpdatedAt,
                    ])
                    .filter(organisation_profile::Column::OrganisationId.is_in(local))
                    .into_tuple::<(Uuid, i64, DateTime<Utc>)>()
                    .all(&self.db)
                    .await
                    .map_err(db_err)?,
            }
            .into_iter()
            .map(|(id, version, at)| (id, (version, at)))
            .collect();
            held.extend(records.into_iter().filter_map(|record| {
                let (current_version, updated_at) = *state.get(&record.local_id)?;
                Some(HeldRecord {
                    record,
                    current_version,
                    updated_at,
                })
            }));
        }
        Ok(held)
    }

    async fn origins_of(
        &self,
        kind: RecordKind,
        local_ids: &[Uuid],
    ) -> StoreResult<Vec<ImportedRecord>> {
        let mut found = Vec::new();
        for chunk in local_ids.chunks(INSERT_CHUNK) {
            let rows = imported_record::Entity::find()
                .filter(imported_record::Column::Kind.eq(kind.as_str()))
                .filter(imported_record::Column::LocalId.is_in(chunk.iter().copied()))
                .all(&self.db)
                .await
                .map_err(db_err)?;
            for row in rows {
                found.push(record_domain(row)?);
            }
        }
        Ok(found)
    }

    async fn profiles_of(
        &self,
        organisations: &[OrganisationId],
    ) -> StoreResult<Vec<(OrganisationId, StoredProfile)>> {
        let mut found = Vec::new();
        for chunk in organisations.chunks(INSERT_CHUNK) {
            let rows = organisation_profile::Entity::find()
                .filter(
                    organisation_profile::Column::OrganisationId.is_in(chunk.iter().map(|o| o.0)),
                )
                .all(&self.db)
                .await
                .map_err(db_err)?;
            for row in rows {
                found.push((OrganisationId(row.organisation_id), profile_domain(row)?));
            }
        }
        Ok(found)
    }

    async fn apply_import(&self, batch: &ImportBatch) -> StoreResult<BatchOutcome> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let mut outcome = BatchOutcome::default();
        let mut records = Vec::new();
        if !batch.organisations.is_empty() {
            self.write_organisations(&txn, &batch.organisations, &mut outcome, &mut records)
                .await?;
            // Structures are open data too: their changes move the catalogue counter.
            take_seqs(&txn, 1).await?;
        }
        if !batch.offers.is_empty() {
            self.write_offers(&txn, &batch.offers, &mut outcome, &mut records)
                .await?;
        }
        let mut records = records.into_iter().peekable();
        while records.peek().is_some() {
            let chunk: Vec<_> = records.by_ref().take(INSERT_CHUNK).collect();
            imported_record::Entity::insert_many(chunk)
                .on_conflict(
                    OnConflict::columns([
                        imported_record::Column::Kind,
                        imported_record::Column::Source,
                        imported_record::Column::OriginId,
                    ])
                    .update_columns([
                        imported_record::Column::LocalId,
                        imported_record::Column::DateMaj,
                        imported_record::Column::ContentHash,
                        imported_record::Column::ImportedVersion,
                        imported_record::Column::ImportedAt,
                    ])
                    .to_owned(),
                )
                .exec(&txn)
                .await
                .map_err(db_err)?;
        }
        txn.commit().await.map_err(db_err)?;
        Ok(outcome)
    }

    async fn published_offers(
        &self,
        after: Option<OfferId>,
        limit: u32,
    ) -> StoreResult<Vec<Offer>> {
        let mut query =
            offer::Entity::find().filter(offer::Column::Status.eq(OfferStatus::Published.as_str()));
        if let Some(after) = after {
            query = query.filter(offer::Column::Id.gt(after.0));
        }
        let models = query
            .order_by_asc(offer::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        self.with_names(models).await
    }

    async fn public_organisations(
        &self,
        after: Option<OrganisationId>,
        limit: u32,
    ) -> StoreResult<Vec<(Organisation, Option<StoredProfile>)>> {
        let with_offers = Query::select()
            .column(offer::Column::OrganisationId)
            .from(offer::Entity)
            .and_where(offer::Column::Status.eq(OfferStatus::Published.as_str()))
            .to_owned();
        let with_profiles = Query::select()
            .column(organisation_profile::Column::OrganisationId)
            .from(organisation_profile::Entity)
            .to_owned();
        let mut query = organisation::Entity::find().filter(
            Condition::any()
                .add(organisation::Column::Id.in_subquery(with_offers))
                .add(organisation::Column::Id.in_subquery(with_profiles)),
        );
        if let Some(after) = after {
            query = query.filter(organisation::Column::Id.gt(after.0));
        }
        let rows = query
            .order_by_asc(organisation::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let ids: Vec<OrganisationId> = rows.iter().map(|r| OrganisationId(r.id)).collect();
        let mut profiles: HashMap<OrganisationId, StoredProfile> =
            self.profiles_of(&ids).await?.into_iter().collect();
        rows.into_iter()
            .map(|row| {
                let org = organisation_domain(row)?;
                let profile = profiles.remove(&org.id);
                Ok((org, profile))
            })
            .collect()
    }

    async fn catalogue_changed_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let offers: Option<DateTime<Utc>> = offer::Entity::find()
            .select_only()
            .column_as(offer::Column::UpdatedAt.max(), "at")
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(&self.db)
            .await
            .map_err(db_err)?
            .flatten();
        let profiles: Option<DateTime<Utc>> = organisation_profile::Entity::find()
            .select_only()
            .column_as(organisation_profile::Column::UpdatedAt.max(), "at")
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(&self.db)
            .await
            .map_err(db_err)?
            .flatten();
        Ok(offers.max(profiles))
    }

    async fn save_import_job(&self, job: &ImportJob) -> StoreResult<()> {
        let model = import_job::ActiveModel {
            id: Set(job.id.0),
            requested_by: Set(job.requested_by.0),
            status: Set(job.status.as_str().to_owned()),
            created_at: Set(job.created_at),
            finished_at: Set(job.finished_at),
            details: Set(job.details.to_string()),
        };
        import_job::Entity::insert(model)
            .on_conflict(
                OnConflict::column(import_job::Column::Id)
                    .update_columns([
                        import_job::Column::Status,
                        import_job::Column::FinishedAt,
                        import_job::Column::Details,
                    ])
                    .to_owned(),
            )
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn import_job(&self, id: ImportJobId) -> StoreResult<ImportJob> {
        let m = import_job::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        Ok(ImportJob {
            id: ImportJobId(m.id),
            requested_by: AccountId(m.requested_by),
            status: ImportJobStatus::parse(&m.status)
                .ok_or_else(|| corrupt("import job status", &m.status))?,
            created_at: m.created_at,
            finished_at: m.finished_at,
            details: serde_json::from_str(&m.details)
                .map_err(|_| corrupt("import job details of", &m.id.to_string()))?,
        })
    }

    async fn interrupt_import_jobs(&self, at: DateTime<Utc>) -> StoreResult<u64> {
        let unfinished = [ImportJobStatus::Queued, ImportJobStatus::Running].map(|s| s.as_str());
        let result = import_job::Entity::update_many()
            .col_expr(
                import_job::Column::Status,
                Expr::value(ImportJobStatus::Interrupted.as_str()),
            )
            .col_expr(import_job::Column::FinishedAt, Expr::value(at))
            .filter(import_job::Column::Status.is_in(unfinished))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(result.rows_affected)
    }
}
