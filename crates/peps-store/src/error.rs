//! sea-orm errors to the ports' [`StoreError`]: constraint violations become `Conflict`.

use peps_core::StoreError;
use sea_orm::{DbErr, SqlErr};

pub(crate) fn db_err(err: DbErr) -> StoreError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(m)) => StoreError::Conflict(m),
        Some(SqlErr::ForeignKeyConstraintViolation(m)) => StoreError::Conflict(m),
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
