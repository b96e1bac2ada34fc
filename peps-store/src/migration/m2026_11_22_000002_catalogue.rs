//! Catalogue: offers (content kept as one JSON document, with the columns queries need beside
//! it), their change history, verification reminders, organisation profiles, and the
//! catalogue change counter that keeps every instance's search index current.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m2026_11_22_000001_identity::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CatalogueSeq {
    Table,
    Id,
    Value,
}

#[derive(DeriveIden)]
enum Offers {
    Table,
    Id,
    OrganisationId,
    Status,
    Version,
    Seq,
    Document,
    CreatedAt,
    UpdatedAt,
    LastVerifiedAt,
    VerifyDueAt,
    PublishedAt,
    OriginSource,
    OriginId,
}

#[derive(DeriveIden)]
enum OfferHistory {
    Table,
    Id,
    OfferId,
    Version,
    At,
    ActorId,
    Action,
    Fields,
    Reason,
}

#[derive(DeriveIden)]
enum OfferReminders {
    Table,
    OfferId,
    DueAt,
    SentAt,
}

#[derive(DeriveIden)]
enum OrganisationProfiles {
    Table,
    OrganisationId,
    Document,
    Version,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::Cascade;

        manager
            .create_table(
                Table::create()
                    .table(CatalogueSeq::Table)
                    .col(integer(CatalogueSeq::Id).primary_key())
                    .col(big_integer(CatalogueSeq::Value))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(CatalogueSeq::Table)
                    .columns([CatalogueSeq::Id, CatalogueSeq::Value])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Offers::Table)
                    .col(uuid(Offers::Id).primary_key())
                    .col(uuid(Offers::OrganisationId))
                    .col(string_len(Offers::Status, 24))
                    .col(big_integer(Offers::Version))
                    .col(big_integer(Offers::Seq).unique_key())
                    .col(text(Offers::Document))
                    .col(timestamp_with_time_zone(Offers::CreatedAt))
                    .col(timestamp_with_time_zone(Offers::UpdatedAt))
                    .col(timestamp_with_time_zone(Offers::LastVerifiedAt))
                    .col(timestamp_with_time_zone(Offers::VerifyDueAt))
                    .col(timestamp_with_time_zone_null(Offers::PublishedAt))
                    .col(string_len_null(Offers::OriginSource, 200))
                    .col(string_len_null(Offers::OriginId, 400))
                    .foreign_key(&mut fk(
                        "fk_offers_organisation",
                        (Offers::Table, Offers::OrganisationId),
                        (Organisations::Table, Organisations::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_offers_organisation",
                Offers::Table,
                &["organisation_id", "status"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_offers_due",
                Offers::Table,
                &["status", "verify_due_at"],
            ))
            .await?;
        manager
            .create_index(
                index(
                    "idx_offers_origin",
                    Offers::Table,
                    &["origin_source", "origin_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OfferHistory::Table)
                    .col(big_integer(OfferHistory::Id).primary_key().auto_increment())
                    .col(uuid(OfferHistory::OfferId))
                    .col(big_integer(OfferHistory::Version))
                    .col(timestamp_with_time_zone(OfferHistory::At))
                    .col(uuid_null(OfferHistory::ActorId))
                    .col(string_len(OfferHistory::Action, 48))
                    .col(text(OfferHistory::Fields))
                    .col(text_null(OfferHistory::Reason))
                    .foreign_key(&mut fk(
                        "fk_offer_history_offer",
                        (OfferHistory::Table, OfferHistory::OfferId),
                        (Offers::Table, Offers::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_offer_history_offer",
                OfferHistory::Table,
                &["offer_id", "version"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OfferReminders::Table)
                    .col(uuid(OfferReminders::OfferId))
                    .col(timestamp_with_time_zone(OfferReminders::DueAt))
                    .col(timestamp_with_time_zone(OfferReminders::SentAt))
                    .primary_key(
                        Index::create()
                            .col(OfferReminders::OfferId)
                            .col(OfferReminders::DueAt),
                    )
                    .foreign_key(&mut fk(
                        "fk_offer_reminders_offer",
                        (OfferReminders::Table, OfferReminders::OfferId),
                        (Offers::Table, Offers::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrganisationProfiles::Table)
                    .col(uuid(OrganisationProfiles::OrganisationId).primary_key())
                    .col(text(OrganisationProfiles::Document))
                    .col(big_integer(OrganisationProfiles::Version))
                    .col(timestamp_with_time_zone(OrganisationProfiles::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_organisation_profiles_organisation",
                        (
                            OrganisationProfiles::Table,
                            OrganisationProfiles::OrganisationId,
                        ),
                        (Organisations::Table, Organisations::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OrganisationProfiles::Table.into_iden(),
            OfferReminders::Table.into_iden(),
            OfferHistory::Table.into_iden(),
            Offers::Table.into_iden(),
            CatalogueSeq::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
