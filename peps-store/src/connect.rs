//! Connecting: the URL scheme picks the backend; a backend not compiled in is a clear error.

use async_trait::async_trait;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;
use std::fmt;
use std::time::Duration;

use crate::migration::Migrator;

/// The PostgreSQL advisory lock key that instances migrating at once take turns on ("PEPS"
/// in ASCII, then 1).
const MIGRATION_LOCK: i64 = 0x5045_5053_0000_0001;
use peps_core::ports::{StoreHealth, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL whose password never reaches `Debug`, `Display` or the logs.
#[derive(Clone)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn backend(&self) -> Result<Backend, ConnectError> {
        let scheme = self.0.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            other => Err(ConnectError::UnknownScheme(other.to_owned())),
        }
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return self.0.clone();
        };
        let Some((userinfo, host)) = rest.split_once('@') else {
            return self.0.clone();
        };
        match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => self.0.clone(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "unsupported database URL scheme {0:?}: use sqlite://path/to/peps.db or postgres://user:password@host/db"
    )]
    UnknownScheme(String),
    #[error("this build of PEPS has no {0} support: rebuild peps-store with the `{0}` feature")]
    NotCompiledIn(&'static str),
    #[error("cannot connect to the database at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: DbErr,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[source] DbErr),
}

/// The sea-orm adapter of every repository port.
#[derive(Clone)]
pub struct SeaOrmStore {
    pub(crate) db: DatabaseConnection,
    backend: Backend,
}

impl SeaOrmStore {
    /// Connects to `url`. SQLite files are created when missing, in WAL mode with foreign keys
    /// enforced; the parent folder must exist.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_with(&DatabaseUrl::new(url), None).await
    }

    /// Like [`SeaOrmStore::connect`], with a PostgreSQL schema to work in (used by tests to give
    /// each test its own schema).
    pub async fn connect_with(
        url: &DatabaseUrl,
        postgres_schema: Option<&str>,
    ) -> Result<Self, ConnectError> {
        let backend = url.backend()?;
        let mut options = ConnectOptions::new(url.expose().to_owned());
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10));
        match backend {
            Backend::Sqlite => {
                #[cfg(feature = "sqlite")]
                {
                    use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                    options.map_sqlx_sqlite_opts(|o| {
                        o.create_if_missing(true)
                            // Offers are JSON documents of 2–3 KB: 8 KiB pages waste far less
                            // than the 4 KiB default (only applies when the file is created).
                            .page_size(8192)
                            .pragma("cache_size", "-8192")
                            .foreign_keys(true)
                            .journal_mode(SqliteJournalMode::Wal)
                            // With WAL, NORMAL keeps the database consistent on any crash and
                            // loses at most the last commits on power loss, without an fsync
                            // per commit (SQLite's recommended pairing).
                            .synchronous(SqliteSynchronous::Normal)
                            .busy_timeout(Duration::from_secs(10))
                    });
                    // SQLite serialises writers; a small pool avoids lock contention.
                    options.max_connections(8);
                }
                #[cfg(not(feature = "sqlite"))]
                return Err(ConnectError::NotCompiledIn("sqlite"));
            }
            Backend::Postgres => {
                #[cfg(not(feature = "postgres"))]
                return Err(ConnectError::NotCompiledIn("postgres"));
                #[cfg(feature = "postgres")]
                if let Some(schema) = postgres_schema {
                    options.set_schema_search_path(schema.to_owned());
                }
            }
        }
        let db = Database::connect(options)
            .await
            .map_err(|source| ConnectError::Connect {
                url: url.redacted(),
                source,
            })?;
        Ok(Self { db, backend })
    }

    /// Brings the schema up to date. Safe to run at every start and from several instances:
    /// on PostgreSQL, instances starting together take turns (a transaction-scoped advisory
    /// lock, held on one pooled connection while the migrator works on another), and the later
    /// ones find nothing left to do. Without it, two first starts on an empty database both
    /// create the same tables and one fails. SQLite serialises writers anyway.
    pub async fn migrate(&self) -> Result<(), ConnectError> {
        let turn = match self.backend {
            Backend::Postgres => {
                use sea_orm::TransactionTrait;
                let txn = self.db.begin().await.map_err(ConnectError::Migrate)?;
                txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                    .await
                    .map_err(ConnectError::Migrate)?;
                Some(txn)
            }
            Backend::Sqlite => None,
        };
        let migrated = Migrator::up(&self.db, None)
            .await
            .map_err(ConnectError::Migrate);
        if let Some(txn) = turn {
            // Ending the transaction gives the next instance its turn.
            txn.rollback().await.map_err(ConnectError::Migrate)?;
        }
        migrated
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The underlying connection, for an adopter's own tables next to PEPS's.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

#[async_trait]
impl StoreHealth for SeaOrmStore {
    async fn ping(&self) -> StoreResult<()> {
        self.db
            .execute_unprepared("SELECT 1")
            .await
            .map(|_| ())
            .map_err(crate::error::db_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        let url = DatabaseUrl::new("postgres://peps:s3cr3t@db.example:5432/peps");
        assert_eq!(url.redacted(), "postgres://peps:***@db.example:5432/peps");
        assert!(!format!("{url:?}").contains("s3cr3t"));
        assert!(!format!("{url}").contains("s3cr3t"));
        let sqlite = DatabaseUrl::new("sqlite://./peps-data/peps.db");
        assert_eq!(sqlite.redacted(), "sqlite://./peps-data/peps.db");
    }

    #[test]
    fn scheme_picks_backend() {
        assert_eq!(
            DatabaseUrl::new("sqlite://x.db").backend().unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseUrl::new("postgresql://h/db").backend().unwrap(),
            Backend::Postgres
        );
        let err = DatabaseUrl::new("mysql://h/db").backend().unwrap_err();
        assert!(err.to_string().contains("mysql"));
    }
}
