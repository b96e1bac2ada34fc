//! The document wallet: documents and their files (with the wrapped data keys), grants, the
//! referent consent history, document requests, the access log and expiry reminders.
//!
//! The access log is append-only in the database itself: triggers refuse every `UPDATE`,
//! `DELETE` (and, on PostgreSQL, `TRUNCATE`) of `wallet_events`, whoever connects.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m2026_11_22_000001_identity::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum WalletDocuments {
    Table,
    Id,
    PersonId,
    Kind,
    Title,
    IssuedOn,
    ValidUntil,
    CurrentVersion,
    CreatedBy,
    CreatedByRole,
    CreatedAt,
    UpdatedAt,
    Revision,
}

#[derive(DeriveIden)]
enum WalletFiles {
    Table,
    Id,
    DocumentId,
    Version,
    Page,
    MediaType,
    Size,
    Sha256,
    BlobKey,
    Algorithm,
    KeyId,
    KeyAlgorithm,
    WrappedKey,
    UploadedBy,
    UploadedByRole,
    UploadedAt,
}

#[derive(DeriveIden)]
enum WalletGrants {
    Table,
    Id,
    PersonId,
    GranteeKind,
    GranteeId,
    Scope,
    Access,
    EndsAt,
    CreatedBy,
    CreatedAt,
    RevokedAt,
    RevokedBy,
    RequestId,
}

#[derive(DeriveIden)]
enum WalletConsents {
    Table,
    Seq,
    PersonId,
    Given,
    At,
    ById,
}

#[derive(DeriveIden)]
enum DocumentRequests {
    Table,
    Id,
    PersonId,
    RequestedBy,
    Kinds,
    StepId,
    Message,
    CreatedAt,
    Status,
    ClosedAt,
    GrantId,
}

#[derive(DeriveIden)]
enum WalletEvents {
    Table,
    Seq,
    Id,
    At,
    PersonId,
    ActorId,
    ActorRole,
    MandateId,
    Action,
    DocumentId,
    FileId,
    GrantId,
    Kind,
    Ip,
    Detail,
}

#[derive(DeriveIden)]
enum DocumentReminders {
    Table,
    DocumentId,
    ValidUntil,
    SentAt,
}

const POSTGRES_APPEND_ONLY: &[&str] = &[
    "CREATE OR REPLACE FUNCTION wallet_events_append_only() RETURNS trigger
     LANGUAGE plpgsql AS $$
     BEGIN
         RAISE EXCEPTION 'wallet_events is append-only';
     END;
     $$",
    "CREATE TRIGGER wallet_events_no_change
     BEFORE UPDATE OR DELETE ON wallet_events
     FOR EACH ROW EXECUTE FUNCTION wallet_events_append_only()",
    "CREATE TRIGGER wallet_events_no_truncate
     BEFORE TRUNCATE ON wallet_events
     FOR EACH STATEMENT EXECUTE FUNCTION wallet_events_append_only()",
];

const SQLITE_APPEND_ONLY: &[&str] = &[
    "CREATE TRIGGER wallet_events_no_update
     BEFORE UPDATE ON wallet_events
     BEGIN
         SELECT RAISE(ABORT, 'wallet_events is append-only');
     END",
    "CREATE TRIGGER wallet_events_no_delete
     BEFORE DELETE ON wallet_events
     BEGIN
         SELECT RAISE(ABORT, 'wallet_events is append-only');
     END",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::Cascade;
        manager
            .create_table(
                Table::create()
                    .table(WalletDocuments::Table)
                    .col(uuid(WalletDocuments::Id).primary_key())
                    .col(uuid(WalletDocuments::PersonId))
                    .col(string_len(WalletDocuments::Kind, 100))
                    .col(text(WalletDocuments::Title))
                    .col(date_null(WalletDocuments::IssuedOn))
                    .col(date_null(WalletDocuments::ValidUntil))
                    .col(integer(WalletDocuments::CurrentVersion))
                    .col(uuid(WalletDocuments::CreatedBy))
                    .col(string_len(WalletDocuments::CreatedByRole, 16))
                    .col(timestamp_with_time_zone(WalletDocuments::CreatedAt))
                    .col(timestamp_with_time_zone(WalletDocuments::UpdatedAt))
                    .col(big_integer(WalletDocuments::Revision))
                    .foreign_key(&mut fk(
                        "fk_wallet_documents_person",
                        (WalletDocuments::Table, WalletDocuments::PersonId),
                        (Accounts::Table, Accounts::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_wallet_documents_person",
                WalletDocuments::Table,
                &["person_id", "created_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_wallet_documents_valid_until",
                WalletDocuments::Table,
                &["valid_until"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WalletFiles::Table)
                    .col(uuid(WalletFiles::Id).primary_key())
                    .col(uuid(WalletFiles::DocumentId))
                    .col(integer(WalletFiles::Version))
                    .col(integer(WalletFiles::Page))
                    .col(string_len(WalletFiles::MediaType, 16))
                    .col(big_integer(WalletFiles::Size))
                    .col(string_len(WalletFiles::Sha256, 64))
                    .col(string_len_uniq(WalletFiles::BlobKey, 64))
                    .col(string_len(WalletFiles::Algorithm, 32))
                    .col(string_len(WalletFiles::KeyId, 100))
                    .col(string_len(WalletFiles::KeyAlgorithm, 32))
                    // bytea on PostgreSQL, blob on SQLite.
                    .col(blob(WalletFiles::WrappedKey))
                    .col(uuid(WalletFiles::UploadedBy))
                    .col(string_len(WalletFiles::UploadedByRole, 16))
                    .col(timestamp_with_time_zone(WalletFiles::UploadedAt))
                    .foreign_key(&mut fk(
                        "fk_wallet_files_document",
                        (WalletFiles::Table, WalletFiles::DocumentId),
                        (WalletDocuments::Table, WalletDocuments::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_wallet_files_document",
                WalletFiles::Table,
                &["document_id", "version", "page"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_wallet_files_key",
                WalletFiles::Table,
                &["key_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WalletGrants::Table)
                    .col(uuid(WalletGrants::Id).primary_key())
                    .col(uuid(WalletGrants::PersonId))
                    .col(string_len(WalletGrants::GranteeKind, 16))
                    .col(uuid(WalletGrants::GranteeId))
                    .col(text(WalletGrants::Scope))
                    .col(string_len(WalletGrants::Access, 16))
                    .col(timestamp_with_time_zone_null(WalletGrants::EndsAt))
                    .col(uuid(WalletGrants::CreatedBy))
                    .col(timestamp_with_time_zone(WalletGrants::CreatedAt))
                    .col(timestamp_with_time_zone_null(WalletGrants::RevokedAt))
                    .col(uuid_null(WalletGrants::RevokedBy))
                    .col(uuid_null(WalletGrants::RequestId))
                    .foreign_key(&mut fk(
                        "fk_wallet_grants_person",
                        (WalletGrants::Table, WalletGrants::PersonId),
                        (Accounts::Table, Accounts::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_wallet_grants_person",
                WalletGrants::Table,
                &["person_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WalletConsents::Table)
                    .col(
                        big_integer(WalletConsents::Seq)
                            .primary_key()
                            .auto_increment(),
                    )
                    .col(uuid(WalletConsents::PersonId))
                    .col(boolean(WalletConsents::Given))
                    .col(timestamp_with_time_zone(WalletConsents::At))
                    .col(uuid(WalletConsents::ById))
                    .foreign_key(&mut fk(
                        "fk_wallet_consents_person",
                        (WalletConsents::Table, WalletConsents::PersonId),
                        (Accounts::Table, Accounts::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_wallet_consents_person",
                WalletConsents::Table,
                &["person_id", "seq"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DocumentRequests::Table)
                    .col(uuid(DocumentRequests::Id).primary_key())
                    .col(uuid(DocumentRequests::PersonId))
                    .col(uuid(DocumentRequests::RequestedBy))
                    .col(text(DocumentRequests::Kinds))
                    .col(uuid_null(DocumentRequests::StepId))
                    .col(text_null(DocumentRequests::Message))
                    .col(timestamp_with_time_zone(DocumentRequests::CreatedAt))
                    .col(string_len(DocumentRequests::Status, 16))
                    .col(timestamp_with_time_zone_null(DocumentRequests::ClosedAt))
                    .col(uuid_null(DocumentRequests::GrantId))
                    .foreign_key(&mut fk(
                        "fk_document_requests_person",
                        (DocumentRequests::Table, DocumentRequests::PersonId),
                        (Accounts::Table, Accounts::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_document_requests_person",
                DocumentRequests::Table,
                &["person_id", "created_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WalletEvents::Table)
                    .col(
                        big_integer(WalletEvents::Seq)
                            .primary_key()
                            .auto_increment(),
                    )
                    .col(uuid_uniq(WalletEvents::Id))
                    .col(timestamp_with_time_zone(WalletEvents::At))
                    // No foreign key: the log outlives documents, grants and even the
                    // account rows it names, and must never be cascaded away.
                    .col(uuid(WalletEvents::PersonId))
                    .col(uuid_null(WalletEvents::ActorId))
                    .col(string_len_null(WalletEvents::ActorRole, 16))
                    .col(uuid_null(WalletEvents::MandateId))
                    .col(string_len(WalletEvents::Action, 32))
                    .col(uuid_null(WalletEvents::DocumentId))
                    .col(uuid_null(WalletEvents::FileId))
                    .col(uuid_null(WalletEvents::GrantId))
                    .col(string_len_null(WalletEvents::Kind, 100))
                    .col(string_len_null(WalletEvents::Ip, 64))
                    .col(text(WalletEvents::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_wallet_events_person",
                WalletEvents::Table,
                &["person_id", "seq"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DocumentReminders::Table)
                    .col(uuid(DocumentReminders::DocumentId))
                    .col(date(DocumentReminders::ValidUntil))
                    .col(timestamp_with_time_zone(DocumentReminders::SentAt))
                    .primary_key(
                        Index::create()
                            .col(DocumentReminders::DocumentId)
                            .col(DocumentReminders::ValidUntil),
                    )
                    .foreign_key(&mut fk(
                        "fk_document_reminders_document",
                        (DocumentReminders::Table, DocumentReminders::DocumentId),
                        (WalletDocuments::Table, WalletDocuments::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        let statements = match manager.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES_APPEND_ONLY,
            DatabaseBackend::Sqlite => SQLITE_APPEND_ONLY,
            other => {
                return Err(DbErr::Migration(format!(
                    "no append-only triggers for {other:?}"
                )));
            }
        };
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS wallet_events_no_truncate ON wallet_events",
                )
                .await?;
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS wallet_events_no_change ON wallet_events",
                )
                .await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS wallet_events_append_only()")
                    .await?;
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER IF EXISTS wallet_events_no_update")
                    .await?;
                db.execute_unprepared("DROP TRIGGER IF EXISTS wallet_events_no_delete")
                    .await?;
            }
        }
        for table in [
            DocumentReminders::Table.into_iden(),
            WalletEvents::Table.into_iden(),
            DocumentRequests::Table.into_iden(),
            WalletConsents::Table.into_iden(),
            WalletGrants::Table.into_iden(),
            WalletFiles::Table.into_iden(),
            WalletDocuments::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
