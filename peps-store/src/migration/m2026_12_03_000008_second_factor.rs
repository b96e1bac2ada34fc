//! Strong sign-in: how each session was opened and how strongly (existing sessions count as
//! one factor), TOTP secrets, the hashes of unused recovery codes, accounts linked to identity
//! providers by (provider, subject), and one-time values bound to a browser (OpenID sign-ins in
//! flight).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m2026_11_22_000001_identity::fk;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Method,
    Assurance,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SecondFactors {
    Table,
    AccountId,
    Secret,
    ConfirmedAt,
    LastStep,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    AccountId,
    CodeHash,
}

#[derive(DeriveIden)]
enum ExternalLinks {
    Table,
    Provider,
    Subject,
    AccountId,
    LinkedAt,
}

#[derive(DeriveIden)]
enum OneTimeValues {
    Table,
    KeyHash,
    BrowserHash,
    Payload,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(string_len(Sessions::Method, 64).default("password"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(string_len(Sessions::Assurance, 32).default("single"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SecondFactors::Table)
                    .col(uuid(SecondFactors::AccountId).primary_key())
                    .col(string_len(SecondFactors::Secret, 128))
                    .col(timestamp_with_time_zone_null(SecondFactors::ConfirmedAt))
                    .col(big_integer(SecondFactors::LastStep))
                    .foreign_key(&mut fk(
                        "fk_second_factors_account",
                        (SecondFactors::Table, SecondFactors::AccountId),
                        (Accounts::Table, Accounts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(uuid(RecoveryCodes::AccountId))
                    .col(string_len(RecoveryCodes::CodeHash, 64))
                    .primary_key(
                        Index::create()
                            .col(RecoveryCodes::AccountId)
                            .col(RecoveryCodes::CodeHash),
                    )
                    .foreign_key(&mut fk(
                        "fk_recovery_codes_factor",
                        (RecoveryCodes::Table, RecoveryCodes::AccountId),
                        (SecondFactors::Table, SecondFactors::AccountId),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExternalLinks::Table)
                    .col(string_len(ExternalLinks::Provider, 64))
                    .col(string_len(ExternalLinks::Subject, 255))
                    .col(uuid(ExternalLinks::AccountId))
                    .col(timestamp_with_time_zone(ExternalLinks::LinkedAt))
                    .primary_key(
                        Index::create()
                            .col(ExternalLinks::Provider)
                            .col(ExternalLinks::Subject),
                    )
                    .foreign_key(&mut fk(
                        "fk_external_links_account",
                        (ExternalLinks::Table, ExternalLinks::AccountId),
                        (Accounts::Table, Accounts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_external_links_account_provider")
                    .table(ExternalLinks::Table)
                    .col(ExternalLinks::AccountId)
                    .col(ExternalLinks::Provider)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OneTimeValues::Table)
                    .col(string_len(OneTimeValues::KeyHash, 64).primary_key())
                    .col(string_len(OneTimeValues::BrowserHash, 64))
                    .col(text(OneTimeValues::Payload))
                    .col(timestamp_with_time_zone(OneTimeValues::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OneTimeValues::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ExternalLinks::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RecoveryCodes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SecondFactors::Table).to_owned())
            .await?;
        for column in [Sessions::Assurance, Sessions::Method] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveMigrationName)]
pub struct Migration;
