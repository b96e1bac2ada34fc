//! [`ThrottleRepository`] on sea-orm: failure counters shared by every server instance.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, ExprTrait, QueryFilter, Set,
    TransactionTrait,
};

use crate::SeaOrmStore;
use crate::entities::throttle;
use crate::error::db_err;
use peps_core::ports::{StoreResult, ThrottleRepository, ThrottleState};
use peps_core::{Conflict, StoreError};

fn to_state(m: throttle::Model) -> ThrottleState {
    ThrottleState {
        window_started_at: m.window_started_at,
        failures: u32::try_from(m.failures).unwrap_or(0),
    }
}

async fn bump(
    txn: &DatabaseTransaction,
    key: &str,
    now: DateTime<Utc>,
    window_start_after: DateTime<Utc>,
) -> StoreResult<()> {
    // Within the window: one more failure. Past it: a new window with this failure.
    let within = throttle::Entity::update_many()
        .col_expr(
            throttle::Column::Failures,
            Expr::col(throttle::Column::Failures).add(1),
        )
        .filter(throttle::Column::Key.eq(key))
        .filter(throttle::Column::WindowStartedAt.gte(window_start_after))
        .exec(txn)
        .await
        .map_err(db_err)?;
    if within.rows_affected > 0 {
        return Ok(());
    }
    let renewed = throttle::Entity::update_many()
        .col_expr(throttle::Column::Failures, 1.into())
        .col_expr(throttle::Column::WindowStartedAt, now.into())
        .filter(throttle::Column::Key.eq(key))
        .exec(txn)
        .await
        .map_err(db_err)?;
    if renewed.rows_affected > 0 {
        return Ok(());
    }
    throttle::ActiveModel {
        key: Set(key.to_owned()),
        window_started_at: Set(now),
        failures: Set(1),
    }
    .insert(txn)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl ThrottleRepository for SeaOrmStore {
    async fn throttle_state(&self, key: &str) -> StoreResult<Option<ThrottleState>> {
        Ok(throttle::Entity::find_by_id(key.to_owned())
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(to_state))
    }

    async fn record_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window_start_after: DateTime<Utc>,
    ) -> StoreResult<ThrottleState> {
        // Two first failures racing both try to insert; the loser retries as an update.
        for attempt in 0..3 {
            let txn = self.db.begin().await.map_err(db_err)?;
            match bump(&txn, key, now, window_start_after).await {
                Ok(()) => {
                    let state = throttle::Entity::find_by_id(key.to_owned())
                        .one(&txn)
                        .await
                        .map_err(db_err)?
                        .ok_or(StoreError::NotFound)?;
                    txn.commit().await.map_err(db_err)?;
                    return Ok(to_state(state));
                }
                Err(StoreError::Conflict(_)) if attempt < 2 => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict(Conflict::Contention))
    }

    async fn clear_throttle(&self, key: &str) -> StoreResult<()> {
        throttle::Entity::delete_by_id(key.to_owned())
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn prune_throttle(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        Ok(throttle::Entity::delete_many()
            .filter(throttle::Column::WindowStartedAt.lt(before))
            .exec(&self.db)
            .await
            .map_err(db_err)?
            .rows_affected)
    }
}
