//! What `peps backup` and `peps restore` need from the database: a consistent copy of a live
//! SQLite database, the schema version it carries, and an integrity check. PostgreSQL has its
//! own tools for this (pg_dump, WAL archiving), which docs/operating.md describes.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use std::path::{Path, PathBuf};

use crate::connect::{Backend, DatabaseUrl, SeaOrmStore};
use crate::migration::MIGRATION_TABLE;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(
        "`peps backup` copies the embedded SQLite database only; back up PostgreSQL with \
         pg_dump or your provider's point-in-time recovery (docs/operating.md, \"Backups and \
         restore\")"
    )]
    NotSqlite,
    #[error("{0} already exists; a snapshot is written to a new file only")]
    Exists(PathBuf),
    #[error("the snapshot's path {0} is not valid UTF-8")]
    NotUtf8(PathBuf),
    #[error("SQLite could not write the snapshot: {0}")]
    Sqlite(#[source] DbErr),
}

impl DatabaseUrl {
    /// The database file of a `sqlite://` URL (`None` for PostgreSQL or an in-memory
    /// database).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        if self.backend().ok()? != Backend::Sqlite {
            return None;
        }
        let path = self
            .expose()
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:")
            .split('?')
            .next()
            .unwrap_or_default();
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Some(PathBuf::from(path))
    }
}

impl SeaOrmStore {
    /// Writes a transactionally consistent copy of the database to `dest` (a new file) with
    /// `VACUUM INTO`, while other connections and processes keep reading and writing: SQLite
    /// reads the database inside one read transaction, which in WAL mode blocks no writer, so
    /// the copy is the database as of one commit. (Copying the file itself would not be: the
    /// latest commits may sit in the `-wal` file, and the copy could catch a page half-way.)
    pub async fn snapshot_sqlite(&self, dest: &Path) -> Result<(), SnapshotError> {
        if self.backend() != Backend::Sqlite {
            return Err(SnapshotError::NotSqlite);
        }
        // VACUUM INTO refuses a non-empty existing file itself; say it more clearly first.
        if dest.exists() {
            return Err(SnapshotError::Exists(dest.to_owned()));
        }
        let path = dest
            .to_str()
            .ok_or_else(|| SnapshotError::NotUtf8(dest.to_owned()))?;
        // A bound parameter, not a quoted string: any file name is safe.
        self.db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "VACUUM INTO ?",
                [path.into()],
            ))
            .await
            .map_err(SnapshotError::Sqlite)?;
        Ok(())
    }

    /// The name of the newest migration applied (`None` on an empty database), recorded in a
    /// backup so that an operator can tell which PEPS versions can read it.
    pub async fn latest_migration(&self) -> Result<Option<String>, DbErr> {
        let backend = self.db.get_database_backend();
        let table_exists = match backend {
            DbBackend::Sqlite => format!(
                "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '{MIGRATION_TABLE}'"
            ),
            _ => format!(
                "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = '{MIGRATION_TABLE}'"
            ),
        };
        let n: i64 = self
            .db
            .query_one_raw(Statement::from_string(backend, table_exists))
            .await?
            .map(|row| row.try_get("", "n"))
            .transpose()?
            .unwrap_or(0);
        if n == 0 {
            return Ok(None);
        }
        self.db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT version FROM {MIGRATION_TABLE} ORDER BY version DESC LIMIT 1"),
            ))
            .await?
            .map(|row| row.try_get("", "version"))
            .transpose()
    }

    /// SQLite's `PRAGMA integrity_check`: `Ok(())` when it answers `ok`, else its findings.
    /// (PostgreSQL has no equivalent; it answers `Ok(())`.)
    pub async fn integrity_check(&self) -> Result<Result<(), String>, DbErr> {
        if self.backend() != Backend::Sqlite {
            return Ok(Ok(()));
        }
        let rows = self
            .db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await?;
        let findings: Vec<String> = rows
            .iter()
            .map(|row| row.try_get_by_index::<String>(0))
            .collect::<Result<_, _>>()?;
        if findings.len() == 1 && findings[0] == "ok" {
            Ok(Ok(()))
        } else {
            Ok(Err(findings.join("; ")))
        }
    }

    /// Folds the write-ahead log into the database file and closes every connection, so that
    /// the file alone holds the whole database (before it is hashed, moved or renamed).
    pub async fn close(self) -> Result<(), DbErr> {
        if self.backend() == Backend::Sqlite {
            self.db
                .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
        }
        self.db.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        let path = |u: &str| DatabaseUrl::new(u).sqlite_path();
        assert_eq!(
            path("sqlite://./peps-data/peps.db"),
            Some("./peps-data/peps.db".into())
        );
        assert_eq!(
            path("sqlite:///var/lib/peps/peps.db?mode=rwc"),
            Some("/var/lib/peps/peps.db".into())
        );
        assert_eq!(path("sqlite::memory:"), None);
        assert_eq!(path("postgres://u:p@h/db"), None);
    }

    /// Snapshots taken while another task commits pairs of rows, one pair per transaction:
    /// each snapshot holds whole pairs only, passes the integrity check and knows its schema.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn snapshots_are_consistent_while_writes_go_on() {
        use sea_orm::TransactionTrait;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("live.db").display());
        let store = SeaOrmStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        store
            .db
            .execute_unprepared("CREATE TABLE pairs (n INTEGER NOT NULL)")
            .await
            .unwrap();
        let writer = {
            let db = store.db.clone();
            tokio::spawn(async move {
                for i in 0..300 {
                    let txn = db.begin().await.unwrap();
                    for _ in 0..2 {
                        txn.execute_unprepared(&format!("INSERT INTO pairs VALUES ({i})"))
                            .await
                            .unwrap();
                    }
                    txn.commit().await.unwrap();
                }
            })
        };
        let mut counts = Vec::new();
        for k in 0..5 {
            let dest = dir.path().join(format!("snapshot-{k}.db"));
            store.snapshot_sqlite(&dest).await.unwrap();
            assert!(matches!(
                store.snapshot_sqlite(&dest).await,
                Err(SnapshotError::Exists(_))
            ));
            let snap = SeaOrmStore::connect(&format!("sqlite://{}", dest.display()))
                .await
                .unwrap();
            assert_eq!(snap.integrity_check().await.unwrap(), Ok(()));
            assert!(snap.latest_migration().await.unwrap().is_some());
            let n: i64 = snap
                .db
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT count(*) AS n FROM pairs",
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get("", "n")
                .unwrap();
            assert_eq!(n % 2, 0, "a snapshot caught half a transaction");
            counts.push(n);
            snap.close().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        writer.await.unwrap();
        assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
        store.close().await.unwrap();
    }
}
