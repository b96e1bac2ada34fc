//! Staff members an identity provider vouched for whom no account matched: each waits, once
//! per (provider, subject), for an admin to link them to an account or to refuse.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveIden)]
enum SignInRequests {
    Table,
    Id,
    Provider,
    Subject,
    Email,
    EmailVerified,
    GivenName,
    FamilyName,
    Siret,
    RequestedAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SignInRequests::Table)
                    .col(uuid(SignInRequests::Id).primary_key())
                    .col(string_len(SignInRequests::Provider, 64))
                    .col(string_len(SignInRequests::Subject, 255))
                    .col(string_len_null(SignInRequests::Email, 320))
                    .col(boolean(SignInRequests::EmailVerified))
                    .col(string_len_null(SignInRequests::GivenName, 200))
                    .col(string_len_null(SignInRequests::FamilyName, 200))
                    .col(string_len_null(SignInRequests::Siret, 14))
                    .col(timestamp_with_time_zone(SignInRequests::RequestedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_sign_in_requests_subject")
                    .table(SignInRequests::Table)
                    .col(SignInRequests::Provider)
                    .col(SignInRequests::Subject)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SignInRequests::Table).to_owned())
            .await
    }
}
