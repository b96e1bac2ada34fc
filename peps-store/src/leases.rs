//! [`LeaseRepository`] on sea-orm: named leases in the shared database.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter};

use crate::SeaOrmStore;
use crate::entities::lease;
use crate::error::db_err;
use peps_core::ports::{Lease, LeaseRepository, StoreResult};

#[async_trait]
impl LeaseRepository for SeaOrmStore {
    /// One statement, so two processes racing cannot both win: the insert takes a free name;
    /// on a taken one the update applies only where the row's lease ran out or is already
    /// ours. PostgreSQL locks the conflicting row and checks the condition against its latest
    /// committed version, so of two racers the second sees the first's row and affects
    /// nothing; SQLite runs writers one at a time.
    async fn try_acquire(
        &self,
        name: &str,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let insert = Query::insert()
            .into_table(lease::Entity)
            .columns([
                lease::Column::Name,
                lease::Column::Holder,
                lease::Column::HeldUntil,
            ])
            .values_panic([name.into(), holder.into(), until.into()])
            .on_conflict(
                OnConflict::column(lease::Column::Name)
                    .update_columns([lease::Column::Holder, lease::Column::HeldUntil])
                    .action_and_where(
                        Expr::col((lease::Entity, lease::Column::HeldUntil))
                            .lte(now)
                            .or(Expr::col((lease::Entity, lease::Column::Holder)).eq(holder)),
                    )
                    .to_owned(),
            )
            .to_owned();
        let statement = self.db.get_database_backend().build(&insert);
        let done = self.db.execute_raw(statement).await.map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn release(&self, name: &str, holder: &str) -> StoreResult<()> {
        lease::Entity::delete_many()
            .filter(lease::Column::Name.eq(name))
            .filter(lease::Column::Holder.eq(holder))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn lease(&self, name: &str) -> StoreResult<Option<Lease>> {
        Ok(lease::Entity::find_by_id(name.to_owned())
            .one(&self.db)
            .await
            .map_err(db_err)?
            .map(|m| Lease {
                name: m.name,
                holder: m.holder,
                until: m.held_until,
            }))
    }
}
