//! [`SecondFactorRepository`] on sea-orm: TOTP secrets and recovery codes. Accepting a step
//! and using a recovery code are single conditional statements, so two racing requests with
//! the same code cannot both pass.

use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, TransactionTrait,
};

use crate::SeaOrmStore;
use crate::accounts::found;
use crate::entities::{recovery_code, second_factor};
use crate::error::{corrupt, db_err};
use peps_core::domain::*;
use peps_core::ports::{SecondFactorRepository, StoreResult};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[async_trait]
impl SecondFactorRepository for SeaOrmStore {
    async fn second_factor(&self, account: AccountId) -> StoreResult<Option<SecondFactor>> {
        let Some(row) = second_factor::Entity::find_by_id(account.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        let mut recovery_hashes: Vec<String> = recovery_code::Entity::find()
            .filter(recovery_code::Column::AccountId.eq(account.0))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|r| r.code_hash)
            .collect();
        recovery_hashes.sort();
        Ok(Some(SecondFactor {
            account,
            secret: unhex(&row.secret).ok_or_else(|| corrupt("second factor", "secret"))?,
            confirmed_at: row.confirmed_at,
            last_step: row.last_step,
            recovery_hashes,
        }))
    }

    async fn save_second_factor(&self, factor: &SecondFactor) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        second_factor::Entity::delete_by_id(factor.account.0)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        second_factor::Model {
            account_id: factor.account.0,
            secret: hex(&factor.secret),
            confirmed_at: factor.confirmed_at,
            last_step: factor.last_step,
        }
        .into_active_model()
        .insert(&txn)
        .await
        .map_err(db_err)?;
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::AccountId.eq(factor.account.0))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        for hash in &factor.recovery_hashes {
            recovery_code::Model {
                account_id: factor.account.0,
                code_hash: hash.clone(),
            }
            .into_active_model()
            .insert(&txn)
            .await
            .map_err(db_err)?;
        }
        txn.commit().await.map_err(db_err)
    }

    async fn delete_second_factor(&self, account: AccountId) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::AccountId.eq(account.0))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        let deleted = second_factor::Entity::delete_by_id(account.0)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        found(deleted.rows_affected)?;
        txn.commit().await.map_err(db_err)
    }

    async fn accept_totp_step(&self, account: AccountId, step: i64) -> StoreResult<bool> {
        let updated = second_factor::Entity::update_many()
            .col_expr(second_factor::Column::LastStep, Expr::value(step))
            .filter(second_factor::Column::AccountId.eq(account.0))
            .filter(second_factor::Column::LastStep.lt(step))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        if updated.rows_affected == 1 {
            return Ok(true);
        }
        match second_factor::Entity::find_by_id(account.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
        {
            Some(_) => Ok(false),
            None => Err(peps_core::StoreError::NotFound),
        }
    }

    async fn use_recovery_code(&self, account: AccountId, hash: &str) -> StoreResult<bool> {
        let deleted = recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::AccountId.eq(account.0))
            .filter(recovery_code::Column::CodeHash.eq(hash))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(deleted.rows_affected == 1)
    }
}
