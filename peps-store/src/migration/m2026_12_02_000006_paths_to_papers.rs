//! Who opened a path to a person's papers: a password reset keeps the code's issuer until the
//! holder sets their own password, and a consent to a referent's access names that worker
//! (`NULL` for earlier rows: they cover the referents current when the consent was given).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Credentials {
    Table,
    ResetBy,
}

#[derive(DeriveIden)]
enum WalletConsents {
    Table,
    WorkerId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Credentials::Table)
                    .add_column(uuid_null(Credentials::ResetBy))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(WalletConsents::Table)
                    .add_column(uuid_null(WalletConsents::WorkerId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WalletConsents::Table)
                    .drop_column(WalletConsents::WorkerId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Credentials::Table)
                    .drop_column(Credentials::ResetBy)
                    .to_owned(),
            )
            .await
    }
}
