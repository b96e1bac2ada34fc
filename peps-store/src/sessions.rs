//! [`SessionRepository`] on sea-orm: sessions and activation codes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, ExprTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};

use crate::SeaOrmStore;
use crate::accounts::{activation_model, found};
use crate::entities::{account, activation_code, credential, session};
use crate::error::{corrupt, db_err};
use peps_core::domain::*;
use peps_core::ports::{SessionRepository, StoreResult};
use peps_core::{Conflict, StoreError};

fn session_to_domain(m: session::Model) -> StoreResult<Session> {
    Ok(Session {
        id: SessionId(m.id),
        account: AccountId(m.account_id),
        token_hash: m.token_hash,
        created_at: m.created_at,
        last_seen_at: m.last_seen_at,
        expires_at: m.expires_at,
        assurance: Assurance::parse_stored(&m.assurance)
            .ok_or_else(|| corrupt("session assurance", &m.assurance))?,
        method: m.method,
    })
}

fn activation_to_domain(m: activation_code::Model) -> ActivationCode {
    ActivationCode {
        id: ActivationId(m.id),
        account: AccountId(m.account_id),
        code_hash: m.code_hash,
        issued_by: AccountId(m.issued_by),
        created_at: m.created_at,
        expires_at: m.expires_at,
        used_at: m.used_at,
        failed_attempts: u32::try_from(m.failed_attempts).unwrap_or(0),
    }
}

#[async_trait]
impl SessionRepository for SeaOrmStore {
    async fn create_session(&self, s: &Session) -> StoreResult<()> {
        session::Model {
            id: s.id.0,
            account_id: s.account.0,
            token_hash: s.token_hash.clone(),
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            method: s.method.clone(),
            assurance: s.assurance.as_str().to_owned(),
        }
        .into_active_model()
        .insert(&self.db)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn session_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        Ok(session::Entity::find()
            .filter(session::Column::TokenHash.eq(token_hash))
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(session_to_domain)
            .transpose()?)
    }

    async fn set_session_assurance(
        &self,
        id: SessionId,
        assurance: Assurance,
        method: &str,
    ) -> StoreResult<()> {
        let updated = session::Entity::update_many()
            .col_expr(session::Column::Assurance, assurance.as_str().into())
            .col_expr(session::Column::Method, method.into())
            .filter(session::Column::Id.eq(id.0))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        found(updated.rows_affected)
    }

    async fn touch_session(&self, id: SessionId, at: DateTime<Utc>) -> StoreResult<()> {
        let updated = session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, at.into())
            .filter(session::Column::Id.eq(id.0))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        found(updated.rows_affected)
    }

    async fn delete_session(&self, id: SessionId) -> StoreResult<()> {
        let deleted = session::Entity::delete_by_id(id.0)
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        found(deleted.rows_affected)
    }

    async fn delete_sessions_of(&self, account_id: AccountId) -> StoreResult<u64> {
        Ok(session::Entity::delete_many()
            .filter(session::Column::AccountId.eq(account_id.0))
            .exec(&self.db)
            .await
            .map_err(db_err)?
            .rows_affected)
    }

    async fn delete_expired_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        Ok(session::Entity::delete_many()
            .filter(
                session::Column::ExpiresAt
                    .lte(now)
                    .or(session::Column::LastSeenAt.lte(idle_before)),
            )
            .exec(&self.db)
            .await
            .map_err(db_err)?
            .rows_affected)
    }

    async fn create_activation(
        &self,
        code: &ActivationCode,
        outbox: &[peps_core::outbox::OutboxMessage],
    ) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        activation_code::Entity::update_many()
            .col_expr(
                activation_code::Column::VoidedAt,
                Some(code.created_at).into(),
            )
            .filter(activation_code::Column::AccountId.eq(code.account.0))
            .filter(activation_code::Column::UsedAt.is_null())
            .filter(activation_code::Column::VoidedAt.is_null())
            .exec(&txn)
            .await
            .map_err(db_err)?;
        activation_model(code).insert(&txn).await.map_err(db_err)?;
        crate::outbox::insert_messages(&txn, outbox).await?;
        txn.commit().await.map_err(db_err)
    }

    async fn pending_activation(
        &self,
        account_id: AccountId,
    ) -> StoreResult<Option<ActivationCode>> {
        Ok(activation_code::Entity::find()
            .filter(activation_code::Column::AccountId.eq(account_id.0))
            .filter(activation_code::Column::UsedAt.is_null())
            .filter(activation_code::Column::VoidedAt.is_null())
            .order_by_desc(activation_code::Column::CreatedAt)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(activation_to_domain))
    }

    async fn record_activation_failure(&self, id: ActivationId) -> StoreResult<u32> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let updated = activation_code::Entity::update_many()
            .col_expr(
                activation_code::Column::FailedAttempts,
                Expr::col(activation_code::Column::FailedAttempts).add(1),
            )
            .filter(activation_code::Column::Id.eq(id.0))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        found(updated.rows_affected)?;
        let code = activation_code::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        txn.commit().await.map_err(db_err)?;
        Ok(u32::try_from(code.failed_attempts).unwrap_or(0))
    }

    async fn complete_activation(
        &self,
        id: ActivationId,
        account_id: AccountId,
        password_hash: &str,
        at: DateTime<Utc>,
        reset_by: Option<AccountId>,
    ) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        // The conditional update is the lock: of two concurrent completions, one wins.
        let claimed = activation_code::Entity::update_many()
            .col_expr(activation_code::Column::UsedAt, Some(at).into())
            .filter(activation_code::Column::Id.eq(id.0))
            .filter(activation_code::Column::AccountId.eq(account_id.0))
            .filter(activation_code::Column::UsedAt.is_null())
            .filter(activation_code::Column::VoidedAt.is_null())
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if claimed.rows_affected == 0 {
            return Err(StoreError::Conflict(Conflict::AlreadyUsed));
        }
        credential::Entity::delete_by_id(account_id.0)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        credential::ActiveModel {
            account_id: Set(account_id.0),
            password_hash: Set(password_hash.to_owned()),
            reset_by: Set(reset_by.map(|a| a.0)),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        let activated = account::Entity::update_many()
            .col_expr(
                account::Column::Status,
                AccountStatus::Active.as_str().into(),
            )
            .filter(account::Column::Id.eq(account_id.0))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        found(activated.rows_affected)?;
        txn.commit().await.map_err(db_err)
    }
}
