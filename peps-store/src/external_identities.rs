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
use crate::entities::{external_link, one_time_value, sign_in_request};
use crate::error::db_err;
use peps_core::StoreError;
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

fn request_to_domain(m: sign_in_request::Model) -> SignInRequest {
    SignInRequest {
        id: SignInRequestId(m.id),
        provider: m.provider,
        subject: m.subject,
        email: m.email,
        email_verified: m.email_verified,
        given_name: m.given_name,
        family_name: m.family_name,
        siret: m.siret,
        requested_at: m.requested_at,
    }
}

fn request_model(id: SignInRequestId, r: &SignInRequest) -> sign_in_request::Model {
    sign_in_request::Model {
        id: id.0,
        provider: r.provider.clone(),
        subject: r.subject.clone(),
        email: r.email.clone(),
        email_verified: r.email_verified,
        given_name: r.given_name.clone(),
        family_name: r.family_name.clone(),
        siret: r.siret.clone(),
        requested_at: r.requested_at,
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

    async fn save_sign_in_request(&self, request: &SignInRequest) -> StoreResult<SignInRequest> {
        let filed = || {
            sign_in_request::Entity::find()
                .filter(sign_in_request::Column::Provider.eq(request.provider.as_str()))
                .filter(sign_in_request::Column::Subject.eq(request.subject.as_str()))
                .one(&self.db)
        };
        if let Some(existing) = filed().await.map_err(db_err)? {
            let model = request_model(SignInRequestId(existing.id), request);
            model
                .clone()
                .into_active_model()
                .reset_all()
                .update(&self.db)
                .await
                .map_err(db_err)?;
            return Ok(request_to_domain(model));
        }
        let model = request_model(request.id, request);
        match model.clone().into_active_model().insert(&self.db).await {
            Ok(_) => Ok(request_to_domain(model)),
            // The same person signing in twice at once: the other request filed it.
            Err(err) => match filed().await.map_err(db_err)? {
                Some(existing) => Ok(request_to_domain(existing)),
                None => Err(db_err(err)),
            },
        }
    }

    async fn sign_in_requests(&self) -> StoreResult<Vec<SignInRequest>> {
        Ok(sign_in_request::Entity::find()
            .order_by_asc(sign_in_request::Column::RequestedAt)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(request_to_domain)
            .collect())
    }

    async fn sign_in_request(&self, id: SignInRequestId) -> StoreResult<SignInRequest> {
        sign_in_request::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(request_to_domain)
            .ok_or(StoreError::NotFound)
    }

    async fn delete_sign_in_request(&self, id: SignInRequestId) -> StoreResult<()> {
        let deleted = sign_in_request::Entity::delete_by_id(id.0)
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        found(deleted.rows_affected)
    }

    async fn prune_sign_in_requests(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        Ok(sign_in_request::Entity::delete_many()
            .filter(sign_in_request::Column::RequestedAt.lt(before))
            .exec(&self.db)
            .await
            .map_err(db_err)?
            .rows_affected)
    }
}
