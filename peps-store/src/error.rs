//! sea-orm errors to the ports' [`StoreError`]: constraint violations become `Conflict`.

use peps_core::{Conflict, StoreError};
use sea_orm::{DbErr, SqlErr};

pub(crate) fn db_err(err: DbErr) -> StoreError {
    match err.sql_err() {
        // The database's message names the constraint: useful in a log, never in an answer.
        Some(SqlErr::UniqueConstraintViolation(m)) => {
            tracing::debug!(constraint = %m, "unique constraint refused a write");
            StoreError::Conflict(Conflict::Duplicate)
        }
        Some(SqlErr::ForeignKeyConstraintViolation(m)) => {
            tracing::debug!(constraint = %m, "foreign key refused a write");
            StoreError::Conflict(Conflict::MissingReference)
        }
        _ => match err {
            DbErr::RecordNotFound(_) => StoreError::NotFound,
            other => StoreError::unavailable(other),
        },
    }
}

/// A stored value that does not parse back into a domain type: the database was edited by
/// hand or by a newer version.
pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::unavailable(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("stored {what} {value:?} is not valid"),
    ))
}

/// Why a versioned update changed no row: the record moved on since it was read (`Stale`),
/// or it does not exist (`NotFound`).
pub(crate) async fn stale_or_missing<E>(
    db: &impl sea_orm::ConnectionTrait,
    id: uuid::Uuid,
) -> StoreError
where
    E: sea_orm::EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<uuid::Uuid>,
{
    match E::find_by_id(id).one(db).await {
        Ok(Some(_)) => StoreError::Stale,
        Ok(None) => StoreError::NotFound,
        Err(e) => db_err(e),
    }
}
