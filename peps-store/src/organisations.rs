//! [`OrganisationRepository`] on sea-orm.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use crate::SeaOrmStore;
use crate::entities::{account, membership, organisation};
use crate::error::{corrupt, db_err};
use peps_core::StoreError;
use peps_core::domain::*;
use peps_core::ports::{OrganisationRepository, StoreResult};

pub(crate) fn to_domain(m: organisation::Model) -> StoreResult<Organisation> {
    Ok(Organisation {
        id: OrganisationId(m.id),
        name: OrganisationName::parse(&m.name)
            .map_err(|_| corrupt("organisation name", &m.name))?,
        kind: m
            .kind
            .parse()
            .map_err(|_| corrupt("organisation kind", &m.kind))?,
        siret: m
            .siret
            .as_deref()
            .map(|s| Siret::parse(s).map_err(|_| corrupt("SIRET", s)))
            .transpose()?,
        created_at: m.created_at,
    })
}

#[async_trait]
impl OrganisationRepository for SeaOrmStore {
    async fn create_organisation(&self, o: &Organisation) -> StoreResult<()> {
        organisation::Model {
            id: o.id.0,
            name: o.name.as_str().to_owned(),
            kind: o.kind.as_str().to_owned(),
            siret: o.siret.as_ref().map(|s| s.as_str().to_owned()),
            created_at: o.created_at,
        }
        .into_active_model()
        .insert(&self.db)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn organisation(&self, id: OrganisationId) -> StoreResult<Organisation> {
        organisation::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)
            .and_then(to_domain)
    }

    async fn list_organisations(&self) -> StoreResult<Vec<Organisation>> {
        organisation::Entity::find()
            .order_by_asc(organisation::Column::Name)
            .order_by_asc(organisation::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn add_membership(
        &self,
        account_id: AccountId,
        organisation_id: OrganisationId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let account_exists = account::Entity::find_by_id(account_id.0)
            .one(&txn)
            .await
            .map_err(db_err)?
            .is_some();
        let organisation_exists = organisation::Entity::find_by_id(organisation_id.0)
            .one(&txn)
            .await
            .map_err(db_err)?
            .is_some();
        if !account_exists || !organisation_exists {
            return Err(StoreError::NotFound);
        }
        membership::ActiveModel {
            account_id: Set(account_id.0),
            organisation_id: Set(organisation_id.0),
            created_at: Set(at),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        txn.commit().await.map_err(db_err)
    }

    async fn memberships(&self, account_id: AccountId) -> StoreResult<Vec<OrganisationId>> {
        Ok(membership::Entity::find()
            .filter(membership::Column::AccountId.eq(account_id.0))
            .order_by_asc(membership::Column::OrganisationId)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|m| OrganisationId(m.organisation_id))
            .collect())
    }

    async fn members(&self, organisation_id: OrganisationId) -> StoreResult<Vec<AccountId>> {
        Ok(membership::Entity::find()
            .filter(membership::Column::OrganisationId.eq(organisation_id.0))
            .order_by_asc(membership::Column::AccountId)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|m| AccountId(m.account_id))
            .collect())
    }
}
