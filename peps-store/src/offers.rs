//! [`OfferRepository`] on sea-orm. An offer's content is one JSON document (it is read and
//! written whole, and searched in memory); the columns beside it are what SQL filters on.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

use crate::SeaOrmStore;
use crate::entities::{offer, offer_history, offer_reminder, organisation, organisation_profile};
use crate::error::{corrupt, db_err, stale_or_missing};
use peps_core::catalogue::offer::{Origin, Review, TemporaryChange};
use peps_core::catalogue::{Offer, OfferContent, OfferStatus, OrganisationProfile};
use peps_core::domain::*;
use peps_core::ports::{
    OfferHistoryEntry, OfferRepository, OfferRewrite, StoreResult, StoredProfile,
};
use peps_core::{Conflict, StoreError};

/// What the `document` column holds.
#[derive(Serialize, Deserialize)]
struct Document {
    content: OfferContent,
    #[serde(default)]
    temporary_changes: Vec<TemporaryChange>,
    #[serde(default)]
    origin: Option<Origin>,
    #[serde(default)]
    review: Option<Review>,
}

pub(crate) fn to_model(o: &Offer, seq: i64) -> StoreResult<offer::Model> {
    let document = serde_json::to_string(&Document {
        content: o.content.clone(),
        temporary_changes: o.temporary_changes.clone(),
        origin: o.origin.clone(),
        review: o.review.clone(),
    })
    .map_err(StoreError::unavailable)?;
    Ok(offer::Model {
        id: o.id.0,
        organisation_id: o.organisation_id.0,
        status: o.status.as_str().to_owned(),
        version: o.version,
        seq,
        document,
        created_at: o.created_at,
        updated_at: o.updated_at,
        last_verified_at: o.last_verified_at,
        verify_due_at: o.verify_by(),
        published_at: o.published_at,
        origin_source: o.origin.as_ref().map(|r| r.source.clone()),
        origin_id: o.origin.as_ref().map(|r| r.id.clone()),
    })
}

fn to_domain(m: offer::Model, organisation_name: String) -> StoreResult<Offer> {
    let document: Document = serde_json::from_str(&m.document)
        .map_err(|_| corrupt("offer document of", &m.id.to_string()))?;
    Ok(Offer {
        id: OfferId(m.id),
        organisation_id: OrganisationId(m.organisation_id),
        organisation_name,
        status: m
            .status
            .parse()
            .map_err(|_| corrupt("offer status", &m.status))?,
        content: document.content,
        temporary_changes: document.temporary_changes,
        origin: document.origin,
        review: document.review,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
        last_verified_at: m.last_verified_at,
        published_at: m.published_at,
    })
}

pub(crate) fn history_model(e: &OfferHistoryEntry) -> StoreResult<offer_history::ActiveModel> {
    Ok(offer_history::ActiveModel {
        offer_id: Set(e.offer.0),
        version: Set(e.version),
        at: Set(e.at),
        actor_id: Set(e.actor.map(|a| a.0)),
        action: Set(e.action.as_str().to_owned()),
        fields: Set(serde_json::to_string(&e.fields).map_err(StoreError::unavailable)?),
        reason: Set(e.reason.clone()),
        ..Default::default()
    })
}

/// Takes the next catalogue stamp. On PostgreSQL the row lock this UPDATE holds until commit
/// makes concurrent writers commit in stamp order, so a reader that has seen stamp N has seen
/// every write stamped before N. SQLite serialises writers anyway.
pub(crate) async fn next_seq(txn: &DatabaseTransaction) -> StoreResult<i64> {
    take_seqs(txn, 1).await
}

/// Takes `n` consecutive stamps and returns the last one.
pub(crate) async fn take_seqs(txn: &DatabaseTransaction, n: u32) -> StoreResult<i64> {
    let row = txn
        .query_one_raw(Statement::from_string(
            txn.get_database_backend(),
            format!("UPDATE catalogue_seq SET value = value + {n} WHERE id = 1 RETURNING value"),
        ))
        .await
        .map_err(db_err)?
        .ok_or_else(|| corrupt("catalogue counter", "missing"))?;
    row.try_get::<i64>("", "value").map_err(db_err)
}

impl SeaOrmStore {
    async fn organisation_names(&self, ids: &[Uuid]) -> StoreResult<HashMap<Uuid, String>> {
        let mut unique: Vec<Uuid> = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let mut names = HashMap::new();
        for chunk in unique.chunks(500) {
            let rows = organisation::Entity::find()
                .filter(organisation::Column::Id.is_in(chunk.iter().copied()))
                .all(&self.db)
                .await
                .map_err(db_err)?;
            names.extend(rows.into_iter().map(|o| (o.id, o.name)));
        }
        Ok(names)
    }

    pub(crate) async fn with_names(&self, models: Vec<offer::Model>) -> StoreResult<Vec<Offer>> {
        let ids: Vec<Uuid> = models.iter().map(|m| m.organisation_id).collect();
        let names = self.organisation_names(&ids).await?;
        models
            .into_iter()
            .map(|m| {
                let name = names.get(&m.organisation_id).cloned().unwrap_or_default();
                to_domain(m, name)
            })
            .collect()
    }
}

#[async_trait]
impl OfferRepository for SeaOrmStore {
    async fn create_offer(&self, o: &Offer, entry: &OfferHistoryEntry) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let exists = organisation::Entity::find_by_id(o.organisation_id.0)
            .one(&txn)
            .await
            .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let seq = next_seq(&txn).await?;
        to_model(o, seq)?
            .into_active_model()
            .insert(&txn)
            .await
            .map_err(db_err)?;
        history_model(entry)?.insert(&txn).await.map_err(db_err)?;
        txn.commit().await.map_err(db_err)
    }

    async fn update_offer(
        &self,
        o: &Offer,
        expected_version: i64,
        entry: &OfferHistoryEntry,
    ) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        rewrite_offer(&txn, o, expected_version, entry).await?;
        txn.commit().await.map_err(db_err)
    }

    async fn offer(&self, id: OfferId) -> StoreResult<Offer> {
        let model = offer::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        let mut offers = self.with_names(vec![model]).await?;
        offers.pop().ok_or(StoreError::NotFound)
    }

    async fn offers_of(
        &self,
        organisation_id: OrganisationId,
        statuses: &[OfferStatus],
    ) -> StoreResult<Vec<Offer>> {
        let mut query =
            offer::Entity::find().filter(offer::Column::OrganisationId.eq(organisation_id.0));
        if !statuses.is_empty() {
            query = query.filter(offer::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
        }
        let models = query
            .order_by_desc(offer::Column::UpdatedAt)
            .order_by_asc(offer::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        self.with_names(models).await
    }

    async fn offer_history(&self, id: OfferId) -> StoreResult<Vec<OfferHistoryEntry>> {
        offer_history::Entity::find()
            .filter(offer_history::Column::OfferId.eq(id.0))
            .order_by_asc(offer_history::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|m| {
                Ok(OfferHistoryEntry {
                    offer: OfferId(m.offer_id),
                    version: m.version,
                    at: m.at,
                    actor: m.actor_id.map(AccountId),
                    fields: serde_json::from_str(&m.fields)
                        .map_err(|_| corrupt("history fields", &m.fields))?,
                    action: peps_core::catalogue::OfferAction::parse(&m.action)
                        .ok_or_else(|| corrupt("offer history action", &m.action))?,
                    reason: m.reason,
                })
            })
            .collect()
    }

    async fn catalogue_seq(&self) -> StoreResult<i64> {
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                self.db.get_database_backend(),
                "SELECT value FROM catalogue_seq WHERE id = 1",
            ))
            .await
            .map_err(db_err)?
            .ok_or_else(|| corrupt("catalogue counter", "missing"))?;
        row.try_get::<i64>("", "value").map_err(db_err)
    }

    async fn offers_changed_since(&self, after: i64, limit: u32) -> StoreResult<Vec<(i64, Offer)>> {
        let models = offer::Entity::find()
            .filter(offer::Column::Seq.gt(after))
            .order_by_asc(offer::Column::Seq)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let seqs: Vec<i64> = models.iter().map(|m| m.seq).collect();
        let offers = self.with_names(models).await?;
        Ok(seqs.into_iter().zip(offers).collect())
    }

    async fn offers_due(
        &self,
        due_by: DateTime<Utc>,
        organisation_id: Option<OrganisationId>,
    ) -> StoreResult<Vec<Offer>> {
        let mut query = offer::Entity::find()
            .filter(offer::Column::Status.eq(OfferStatus::Published.as_str()))
            .filter(offer::Column::VerifyDueAt.lte(due_by));
        if let Some(org) = organisation_id {
            query = query.filter(offer::Column::OrganisationId.eq(org.0));
        }
        let models = query
            .order_by_asc(offer::Column::VerifyDueAt)
            .order_by_asc(offer::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        self.with_names(models).await
    }

    async fn offers_pending_review(&self) -> StoreResult<Vec<Offer>> {
        let models = offer::Entity::find()
            .filter(offer::Column::Status.eq(OfferStatus::PendingReview.as_str()))
            .order_by_asc(offer::Column::UpdatedAt)
            .order_by_asc(offer::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        self.with_names(models).await
    }

    async fn record_reminder(
        &self,
        offer_id: OfferId,
        due_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        if self.reminder_sent(offer_id, due_at).await? {
            return Ok(false);
        }
        let inserted = offer_reminder::Model {
            offer_id: offer_id.0,
            due_at,
            sent_at: at,
        }
        .into_active_model()
        .insert(&self.db)
        .await;
        match inserted.map_err(db_err) {
            Ok(_) => Ok(true),
            // Another run recorded it between our check and our insert.
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(other) => Err(other),
        }
    }

    async fn reminder_sent(&self, offer_id: OfferId, due_at: DateTime<Utc>) -> StoreResult<bool> {
        Ok(offer_reminder::Entity::find_by_id((offer_id.0, due_at))
            .one(&self.db)
            .await
            .map_err(db_err)?
            .is_some())
    }

    async fn organisation_profile(
        &self,
        organisation_id: OrganisationId,
    ) -> StoreResult<Option<StoredProfile>> {
        organisation_profile::Entity::find_by_id(organisation_id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(profile_domain)
            .transpose()
    }

    async fn save_organisation_profile(
        &self,
        organisation_id: OrganisationId,
        profile: &OrganisationProfile,
        expected_version: Option<i64>,
        at: DateTime<Utc>,
        offers: &[OfferRewrite],
    ) -> StoreResult<i64> {
        let document = serde_json::to_string(profile).map_err(StoreError::unavailable)?;
        let txn = self.db.begin().await.map_err(db_err)?;
        let version = save_profile(&txn, organisation_id, document, expected_version, at).await?;
        for rewrite in offers {
            rewrite_offer(
                &txn,
                &rewrite.offer,
                rewrite.expected_version,
                &rewrite.entry,
            )
            .await?;
        }
        // Profiles are part of the open data: its ETag follows the catalogue counter.
        next_seq(&txn).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(version)
    }
}

/// Replaces the offer if still at `expected_version` and appends its history entry, within
/// the caller's transaction.
async fn rewrite_offer(
    txn: &DatabaseTransaction,
    o: &Offer,
    expected_version: i64,
    entry: &OfferHistoryEntry,
) -> StoreResult<()> {
    let seq = next_seq(txn).await?;
    // Every column is rewritten (the whole offer is the unit of change).
    let model = to_model(o, seq)?.into_active_model().reset_all();
    let updated = offer::Entity::update_many()
        .set(model)
        .filter(offer::Column::Id.eq(o.id.0))
        .filter(offer::Column::Version.eq(expected_version))
        .exec(txn)
        .await
        .map_err(db_err)?;
    if updated.rows_affected == 0 {
        return Err(stale_or_missing::<offer::Entity>(txn, o.id.0).await);
    }
    history_model(entry)?.insert(txn).await.map_err(db_err)?;
    Ok(())
}

/// Inserts (`expected_version` `None`) or updates a profile if still at `expected_version`.
pub(crate) async fn save_profile(
    txn: &DatabaseTransaction,
    organisation_id: OrganisationId,
    document: String,
    expected_version: Option<i64>,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    match expected_version {
        None => {
            organisation_profile::Model {
                organisation_id: organisation_id.0,
                document,
                version: 1,
                updated_at: at,
            }
            .into_active_model()
            .insert(txn)
            .await
            .map_err(|e| match db_err(e) {
                // Someone created the profile since the caller saw none: a stale read.
                StoreError::Conflict(Conflict::Duplicate) => StoreError::Stale,
                other => other,
            })?;
            Ok(1)
        }
        Some(version) => {
            let updated = organisation_profile::Entity::update_many()
                .col_expr(
                    organisation_profile::Column::Document,
                    Expr::value(document),
                )
                .col_expr(
                    organisation_profile::Column::Version,
                    Expr::value(version + 1),
                )
                .col_expr(organisation_profile::Column::UpdatedAt, Expr::value(at))
                .filter(organisation_profile::Column::OrganisationId.eq(organisation_id.0))
                .filter(organisation_profile::Column::Version.eq(version))
                .exec(txn)
                .await
                .map_err(db_err)?;
            if updated.rows_affected == 0 {
                return Err(StoreError::Stale);
            }
            Ok(version + 1)
        }
    }
}

pub(crate) fn profile_domain(m: organisation_profile::Model) -> StoreResult<StoredProfile> {
    Ok(StoredProfile {
        profile: serde_json::from_str(&m.document)
            .map_err(|_| corrupt("organisation profile of", &m.organisation_id.to_string()))?,
        version: m.version,
        updated_at: m.updated_at,
    })
}
