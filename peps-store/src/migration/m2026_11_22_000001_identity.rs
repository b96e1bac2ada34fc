//! Identity and access: accounts, credentials, organisations, memberships, referents,
//! mandates, sessions, activation codes, throttling counters and the audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Role,
    Login,
    Email,
    DisplayName,
    Language,
    Status,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Credentials {
    Table,
    AccountId,
    PasswordHash,
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
    Name,
    Kind,
    Siret,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    AccountId,
    OrganisationId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Referents {
    Table,
    Id,
    WorkerId,
    PersonId,
    StartedAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum Mandates {
    Table,
    Id,
    HelperId,
    PersonId,
    Scopes,
    StartsAt,
    EndsAt,
    CreatedBy,
    CreatedAt,
    RevokedAt,
    RevokedBy,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    AccountId,
    TokenHash,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum ActivationCodes {
    Table,
    Id,
    AccountId,
    CodeHash,
    IssuedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    VoidedAt,
    FailedAttempts,
}

#[derive(DeriveIden)]
enum Throttle {
    Table,
    Key,
    WindowStartedAt,
    Failures,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    ActorId,
    ActorRole,
    MandateId,
    Action,
    SubjectId,
    Detail,
}

pub(super) fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

pub(super) fn index(
    name: &str,
    table: impl IntoIden,
    cols: &[&'static str],
) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};

        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(uuid(Accounts::Id).primary_key())
                    .col(string_len(Accounts::Role, 16))
                    .col(string_len_uniq(Accounts::Login, 320))
                    .col(string_len_null(Accounts::Email, 320))
                    .col(string_len(Accounts::DisplayName, 480))
                    .col(string_len(Accounts::Language, 16))
                    .col(string_len(Accounts::Status, 24))
                    .col(timestamp_with_time_zone(Accounts::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Credentials::Table)
                    .col(uuid(Credentials::AccountId).primary_key())
                    .col(text(Credentials::PasswordHash))
                    .foreign_key(&mut fk(
                        "fk_credentials_account",
                        (Credentials::Table, Credentials::AccountId),
                        (Accounts::Table, Accounts::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Organisations::Table)
                    .col(uuid(Organisations::Id).primary_key())
                    .col(string_len(Organisations::Name, 800))
                    .col(string_len(Organisations::Kind, 24))
                    .col(string_len_null(Organisations::Siret, 14).unique_key())
                    .col(timestamp_with_time_zone(Organisations::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(uuid(Memberships::AccountId))
                    .col(uuid(Memberships::OrganisationId))
                    .col(timestamp_with_time_zone(Memberships::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(Memberships::AccountId)
                            .col(Memberships::OrganisationId),
                    )
                    .foreign_key(&mut fk(
                        "fk_memberships_account",
                        (Memberships::Table, Memberships::AccountId),
                        (Accounts::Table, Accounts::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_memberships_organisation",
                        (Memberships::Table, Memberships::OrganisationId),
                        (Organisations::Table, Organisations::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_memberships_organisation",
                Memberships::Table,
                &["organisation_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Referents::Table)
                    .col(uuid(Referents::Id).primary_key())
                    .col(uuid(Referents::WorkerId))
                    .col(uuid(Referents::PersonId))
                    .col(timestamp_with_time_zone(Referents::StartedAt))
                    .col(timestamp_with_time_zone_null(Referents::EndedAt))
                    .foreign_key(&mut fk(
                        "fk_referents_worker",
                        (Referents::Table, Referents::WorkerId),
                        (Accounts::Table, Accounts::Id),
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_referents_person",
                        (Referents::Table, Referents::PersonId),
                        (Accounts::Table, Accounts::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_referents_person",
                Referents::Table,
                &["person_id"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_referents_worker",
                Referents::Table,
                &["worker_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Mandates::Table)
                    .col(uuid(Mandates::Id).primary_key())
                    .col(uuid(Mandates::HelperId))
                    .col(uuid(Mandates::PersonId))
                    .col(string_len(Mandates::Scopes, 200))
                    .col(timestamp_with_time_zone(Mandates::StartsAt))
                    .col(timestamp_with_time_zone(Mandates::EndsAt))
                    .col(uuid(Mandates::CreatedBy))
                    .col(timestamp_with_time_zone(Mandates::CreatedAt))
                    .col(timestamp_with_time_zone_null(Mandates::RevokedAt))
                    .col(uuid_null(Mandates::RevokedBy))
                    .foreign_key(&mut fk(
                        "fk_mandates_helper",
                        (Mandates::Table, Mandates::HelperId),
                        (Accounts::Table, Accounts::Id),
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_mandates_person",
                        (Mandates::Table, Mandates::PersonId),
                        (Accounts::Table, Accounts::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_mandates_person",
                Mandates::Table,
                &["person_id"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_mandates_helper",
                Mandates::Table,
                &["helper_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(uuid(Sessions::Id).primary_key())
                    .col(uuid(Sessions::AccountId))
                    .col(string_len_uniq(Sessions::TokenHash, 64))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .foreign_key(&mut fk(
                        "fk_sessions_account",
                        (Sessions::Table, Sessions::AccountId),
                        (Accounts::Table, Accounts::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_sessions_account",
                Sessions::Table,
                &["account_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActivationCodes::Table)
                    .col(uuid(ActivationCodes::Id).primary_key())
                    .col(uuid(ActivationCodes::AccountId))
                    .col(string_len(ActivationCodes::CodeHash, 64))
                    .col(uuid(ActivationCodes::IssuedBy))
                    .col(timestamp_with_time_zone(ActivationCodes::CreatedAt))
                    .col(timestamp_with_time_zone(ActivationCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ActivationCodes::UsedAt))
                    .col(timestamp_with_time_zone_null(ActivationCodes::VoidedAt))
                    .col(integer(ActivationCodes::FailedAttempts).default(0))
                    .foreign_key(&mut fk(
                        "fk_activation_codes_account",
                        (ActivationCodes::Table, ActivationCodes::AccountId),
                        (Accounts::Table, Accounts::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_activation_codes_account",
                ActivationCodes::Table,
                &["account_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Throttle::Table)
                    .col(string_len(Throttle::Key, 400).primary_key())
                    .col(timestamp_with_time_zone(Throttle::WindowStartedAt))
                    .col(integer(Throttle::Failures))
                    .to_owned(),
            )
            .await?;

        // No foreign keys: the log outlives what it speaks of.
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(uuid(AuditEvents::Id).primary_key())
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .col(uuid_null(AuditEvents::ActorId))
                    .col(string_len_null(AuditEvents::ActorRole, 16))
                    .col(uuid_null(AuditEvents::MandateId))
                    .col(string_len(AuditEvents::Action, 80))
                    .col(uuid_null(AuditEvents::SubjectId))
                    .col(text(AuditEvents::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_audit_events_subject_at",
                AuditEvents::Table,
                &["subject_id", "at"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditEvents::Table.into_iden(),
            Throttle::Table.into_iden(),
            ActivationCodes::Table.into_iden(),
            Sessions::Table.into_iden(),
            Mandates::Table.into_iden(),
            Referents::Table.into_iden(),
            Memberships::Table.into_iden(),
            Organisations::Table.into_iden(),
            Credentials::Table.into_iden(),
            Accounts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
