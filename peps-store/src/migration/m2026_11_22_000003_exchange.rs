//! data·inclusion exchange: what each import wrote, keyed by (kind, source, id), and the
//! background import jobs admins start over HTTP.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m2026_11_22_000001_identity::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImportedRecords {
    Table,
    Kind,
    Source,
    OriginId,
    LocalId,
    DateMaj,
    ContentHash,
    ImportedVersion,
    ImportedAt,
}

#[derive(DeriveIden)]
enum Offers {
    Table,
}

#[derive(DeriveIden)]
enum ImportJobs {
    Table,
    Id,
    RequestedBy,
    Status,
    CreatedAt,
    FinishedAt,
    Details,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ImportedRecords::Table)
                    .col(string_len(ImportedRecords::Kind, 16))
                    .col(string_len(ImportedRecords::Source, 200))
                    .col(string_len(ImportedRecords::OriginId, 400))
                    .col(uuid(ImportedRecords::LocalId))
                    .col(date(ImportedRecords::DateMaj))
                    .col(string_len(ImportedRecords::ContentHash, 64))
                    .col(big_integer(ImportedRecords::ImportedVersion))
                    .col(timestamp_with_time_zone(ImportedRecords::ImportedAt))
                    .primary_key(
                        Index::create()
                            .col(ImportedRecords::Kind)
                            .col(ImportedRecords::Source)
                            .col(ImportedRecords::OriginId),
                    )
                    .to_owned(),
            )
            .await?;
        // Led by local_id: with `kind` first, PostgreSQL picks this index for the (kind,
        // source, id) lookups of an import while the table has no statistics yet, and reads
        // every record of the kind.
        manager
            .create_index(index(
                "idx_imported_records_local",
                ImportedRecords::Table,
                &["local_id", "kind"],
            ))
            .await?;
        // Keyset pages of the published catalogue (open data, exports): without these, SQLite
        // sorts every published offer for each page.
        manager
            .create_index(index(
                "idx_offers_status_id",
                Offers::Table,
                &["status", "id"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_offers_status_organisation",
                Offers::Table,
                &["status", "organisation_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ImportJobs::Table)
                    .col(uuid(ImportJobs::Id).primary_key())
                    .col(uuid(ImportJobs::RequestedBy))
                    .col(string_len(ImportJobs::Status, 16))
                    .col(timestamp_with_time_zone(ImportJobs::CreatedAt))
                    .col(timestamp_with_time_zone_null(ImportJobs::FinishedAt))
                    .col(text(ImportJobs::Details))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_offers_status_id", "idx_offers_status_organisation"] {
            manager
                .drop_index(Index::drop().name(name).table(Offers::Table).to_owned())
                .await?;
        }
        for table in [
            ImportJobs::Table.into_iden(),
            ImportedRecords::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
