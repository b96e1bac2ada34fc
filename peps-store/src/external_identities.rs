//! [`ExternalIdentityRepository`] on sea-orm: accounts linked to identity providers, and
//! one-time values. Taking a value is a delete whose row count decides who got it, so two
//! racing callbacks with the same `state` never both sign in.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};

use crate::SeaOrmStore;
use crate::accounts::found;
use crate::entities::{external_link, one_time_value};
use crate::error::db_err;
use peps_core::domain::*;
use peps_core::ports::{ExternalIdentityRepository, StoreResult};

fn link_to_domain(m: external_link::Model) -> ExternalLink {
    ExternalLink {
        provider: m.provider,
        subject: m.subject,
        account: AccountId(m.account_id),
        linked_at: m.linked_at,
    }
}

#[async_trait]
impl ExternalIdentityRepository for SeaOrmStore {
    async fn external_link(
        &self,
        provider: &str,
        subject: &str,
    ) -> StoreResult<Option<ExternalLink>> {
        Ok(
            external_link::Entity::find_by_id((provider.to_owned(), subject.to_owned()))
                .one(&self.db)
                .await
                .map_err(db_err)?
                .map(link_to_domain),
        )
    }

    async fn external_links_of(&self, account: AccountId) -> StoreResult<Vec<ExternalLink>> {
        Ok(external_link::Entity::find()
            .filter(external_link::Column::AccountId.eq(account.0))
            .order_by_asc(external_link::Column::Provider)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(link_to_domain)
            .collect())
    }

    async fn create_external_link(&self, link: &ExternalLink) -> StoreResult<()> {
        external_link::Model {
            provider: link.provider.clone(),
            subject: link.subject.clone(),
            account_id: link.account.0,
            linked_at: link.linked_at,
        }
        .into_active_model()
        .insert(&self.db)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delete_external_link(&self, account: AccountId, provider: &str) -> StoreResult<()> {
        let deleted = external_link::Entity::delete_many()
            .filter(external_link::Column::AccountId.eq(account.0))
            .filter(external_link::Column::Provider.eq(provider))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        found(deleted.rows_affected)
    }

    async fn put_one_time(&self, value: &OneTimeValue) -> StoreResult<()> {
        one_time_value::Model {
            key_hash: value.key_hash.clone(),
            browser_hash: value.browser_hash.clone(),
            payload: value.payload.clone(),
            created_at: value.created_at,
        }
        .into_active_model()
        .insert(&self.db)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn take_one_time(&self, key_hash: &str) -> StoreResult<Option<OneTimeValue>> {
        let Some(row) = one_time_value::Entity::find_by_id(key_hash.to_owned())
            .one(&self.db)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        let deleted = one_time_value::Entity::delete_by_id(key_hash.to_owned())
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        if deleted.rows_affected != 1 {
            // Another request took it between the read and the delete.
            return Ok(None);
        }
        Ok(Some(OneTimeValue {
            key_hash: row.key_hash,
            browser_hash: row.browser_hash,
            payload: row.payload,
            created_at: row.created_at,
        }))
    }

    async fn prune_one_time(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        Ok(one_time_value::Entity::delete_many()
            .filter(one_time_value::Column::CreatedAt.lt(before))
            .exec(&self.db)
            .await
            .map_err(db_err)?
            .rows_affected)
    }
}
