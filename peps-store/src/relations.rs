//! [`RelationRepository`] on sea-orm: referents and mandates.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    TransactionTrait,
};

use crate::SeaOrmStore;
use crate::accounts::{found, referent_model};
use crate::entities::{mandate, referent};
use crate::error::{corrupt, db_err};
use peps_core::domain::*;
use peps_core::ports::{RelationRepository, StoreResult};
use peps_core::{Conflict, StoreError};

fn referent_to_domain(m: referent::Model) -> Referent {
    Referent {
        id: ReferentId(m.id),
        worker: AccountId(m.worker_id),
        person: AccountId(m.person_id),
        started_at: m.started_at,
        ended_at: m.ended_at,
    }
}

fn mandate_to_domain(m: mandate::Model) -> StoreResult<Mandate> {
    let scopes = m
        .scopes
        .split_whitespace()
        .map(|s| s.parse().map_err(|_| corrupt("mandate scope", s)))
        .collect::<StoreResult<_>>()?;
    Ok(Mandate {
        id: MandateId(m.id),
        helper: AccountId(m.helper_id),
        person: AccountId(m.person_id),
        scopes,
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        created_by: AccountId(m.created_by),
        created_at: m.created_at,
        revoked_at: m.revoked_at,
        revoked_by: m.revoked_by.map(AccountId),
    })
}

async fn referents_where(
    store: &SeaOrmStore,
    column: referent::Column,
    id: AccountId,
) -> StoreResult<Vec<Referent>> {
    Ok(referent::Entity::find()
        .filter(column.eq(id.0))
        .order_by_asc(referent::Column::StartedAt)
        .order_by_asc(referent::Column::Id)
        .all(&store.db)
        .await
        .map_err(db_err)?
        .into_iter()
        .map(referent_to_domain)
        .collect())
}

async fn mandates_where(
    store: &SeaOrmStore,
    column: mandate::Column,
    id: AccountId,
) -> StoreResult<Vec<Mandate>> {
    mandate::Entity::find()
        .filter(column.eq(id.0))
        .order_by_asc(mandate::Column::CreatedAt)
        .order_by_asc(mandate::Column::Id)
        .all(&store.db)
        .await
        .map_err(db_err)?
        .into_iter()
        .map(mandate_to_domain)
        .collect()
}

#[async_trait]
impl RelationRepository for SeaOrmStore {
    async fn add_referent(&self, r: &Referent) -> StoreResult<()> {
        referent_model(r).insert(&self.db).await.map_err(db_err)?;
        Ok(())
    }

    async fn end_referent(&self, id: ReferentId, at: DateTime<Utc>) -> StoreResult<()> {
        let updated = referent::Entity::update_many()
            .col_expr(referent::Column::EndedAt, Some(at).into())
            .filter(referent::Column::Id.eq(id.0))
            .filter(referent::Column::EndedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        found(updated.rows_affected)
    }

    async fn referents_of(&self, person: AccountId) -> StoreResult<Vec<Referent>> {
        referents_where(self, referent::Column::PersonId, person).await
    }

    async fn persons_of(&self, worker: AccountId) -> StoreResult<Vec<Referent>> {
        referents_where(self, referent::Column::WorkerId, worker).await
    }

    async fn create_mandate(
        &self,
        m: &Mandate,
        outbox: &[peps_core::outbox::OutboxMessage],
    ) -> StoreResult<()> {
        let scopes: Vec<&str> = m.scopes.iter().map(|s| s.as_str()).collect();
        let txn = sea_orm::TransactionTrait::begin(&self.db)
            .await
            .map_err(db_err)?;
        mandate::Model {
            id: m.id.0,
            helper_id: m.helper.0,
            person_id: m.person.0,
            scopes: scopes.join(" "),
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            created_by: m.created_by.0,
            created_at: m.created_at,
            revoked_at: m.revoked_at,
            revoked_by: m.revoked_by.map(|a| a.0),
        }
        .into_active_model()
        .insert(&txn)
        .await
        .map_err(db_err)?;
        crate::outbox::insert_messages(&txn, outbox).await?;
        txn.commit().await.map_err(db_err)
    }

    async fn mandate(&self, id: MandateId) -> StoreResult<Mandate> {
        mandate::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)
            .and_then(mandate_to_domain)
    }

    async fn mandates_of_person(&self, person: AccountId) -> StoreResult<Vec<Mandate>> {
        mandates_where(self, mandate::Column::PersonId, person).await
    }

    async fn mandates_of_helper(&self, helper: AccountId) -> StoreResult<Vec<Mandate>> {
        mandates_where(self, mandate::Column::HelperId, helper).await
    }

    async fn revoke_mandate(
        &self,
        id: MandateId,
        by: AccountId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let updated = mandate::Entity::update_many()
            .col_expr(mandate::Column::RevokedAt, Some(at).into())
            .col_expr(mandate::Column::RevokedBy, Some(by.0).into())
            .filter(mandate::Column::Id.eq(id.0))
            .filter(mandate::Column::RevokedAt.is_null())
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if updated.rows_affected == 0 {
            let exists = mandate::Entity::find_by_id(id.0)
                .one(&txn)
                .await
                .map_err(db_err)?
                .is_some();
            return Err(if exists {
                StoreError::Conflict(Conflict::AlreadyRevoked)
            } else {
                StoreError::NotFound
            });
        }
        txn.commit().await.map_err(db_err)
    }
}
