//! The outbox of messages to send (written with the change that causes them), and the
//! persons who asked for no text messages.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Channel,
    Address,
    Subject,
    Language,
    Body,
    PersonId,
    Purpose,
    DedupeKey,
    CreatedAt,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastError,
    SentAt,
}

#[derive(DeriveIden)]
enum SmsOptOuts {
    Table,
    PersonId,
    At,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(uuid(Outbox::Id).primary_key())
                    .col(string_len(Outbox::Channel, 16))
                    .col(string_len(Outbox::Address, 320))
                    .col(string_len_null(Outbox::Subject, 500))
                    .col(string_len(Outbox::Language, 16))
                    .col(text(Outbox::Body))
                    // No foreign key: a message outlives an erased account only until sent
                    // or purged, and must not block the erasure.
                    .col(uuid_null(Outbox::PersonId))
                    .col(string_len(Outbox::Purpose, 64))
                    .col(string_len_null(Outbox::DedupeKey, 200))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(string_len(Outbox::Status, 16))
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Outbox::ClaimedUntil))
                    .col(string_len_null(Outbox::LastError, 500))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_outbox_dedupe_key")
                    .table(Outbox::Table)
                    .col(Outbox::DedupeKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_person_sent")
                    .table(Outbox::Table)
                    .col(Outbox::PersonId)
                    .col(Outbox::SentAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SmsOptOuts::Table)
                    .col(uuid(SmsOptOuts::PersonId).primary_key())
                    .col(timestamp_with_time_zone(SmsOptOuts::At))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SmsOptOuts::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await
    }
}
