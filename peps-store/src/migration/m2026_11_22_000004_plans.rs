//! Step plans: plans, the workers a person allowed on them, steps, message threads, history
//! and due-date reminders; and a phone number on accounts for text-message notices.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m2026_11_22_000001_identity::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Phone,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    PersonId,
    Title,
    Status,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum PlanWorkers {
    Table,
    PlanId,
    WorkerId,
}

#[derive(DeriveIden)]
enum PlanSteps {
    Table,
    Id,
    PlanId,
    Position,
    Template,
    Content,
    WhoActs,
    Orientation,
    DueOn,
    AppointmentAt,
    Documents,
    Status,
    StatusChangedAt,
    StatusChangedBy,
    PrivateNote,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum StepMessages {
    Table,
    Id,
    PlanId,
    StepId,
    AuthorId,
    AuthorRole,
    Body,
    At,
}

#[derive(DeriveIden)]
enum PlanEvents {
    Table,
    Seq,
    Id,
    PlanId,
    StepId,
    At,
    ActorId,
    ActorRole,
    Action,
    Detail,
}

#[derive(DeriveIden)]
enum StepReminders {
    Table,
    StepId,
    DueOn,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::Cascade;
        manager
            .alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .add_column(string_len_null(Accounts::Phone, 40))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Plans::Table)
                    .col(uuid(Plans::Id).primary_key())
                    .col(uuid(Plans::PersonId))
                    .col(text(Plans::Title))
                    .col(string_len(Plans::Status, 16))
                    .col(uuid(Plans::CreatedBy))
                    .col(timestamp_with_time_zone(Plans::CreatedAt))
                    .col(timestamp_with_time_zone(Plans::UpdatedAt))
                    .col(big_integer(Plans::Version))
                    .foreign_key(&mut fk(
                        "fk_plans_person",
                        (Plans::Table, Plans::PersonId),
                        (Accounts::Table, Accounts::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_plans_person",
                Plans::Table,
                &["person_id", "created_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanWorkers::Table)
                    .col(uuid(PlanWorkers::PlanId))
                    .col(uuid(PlanWorkers::WorkerId))
                    .primary_key(
                        Index::create()
                            .col(PlanWorkers::PlanId)
                            .col(PlanWorkers::WorkerId),
                    )
                    .foreign_key(&mut fk(
                        "fk_plan_workers_plan",
                        (PlanWorkers::Table, PlanWorkers::PlanId),
                        (Plans::Table, Plans::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_plan_workers_worker",
                        (PlanWorkers::Table, PlanWorkers::WorkerId),
                        (Accounts::Table, Accounts::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanSteps::Table)
                    .col(uuid(PlanSteps::Id).primary_key())
                    .col(uuid(PlanSteps::PlanId))
                    .col(integer(PlanSteps::Position))
                    .col(string_len_null(PlanSteps::Template, 100))
                    .col(text(PlanSteps::Content))
                    .col(string_len(PlanSteps::WhoActs, 16))
                    .col(text_null(PlanSteps::Orientation))
                    .col(date_null(PlanSteps::DueOn))
                    .col(date_time_null(PlanSteps::AppointmentAt))
                    .col(text(PlanSteps::Documents))
                    .col(string_len(PlanSteps::Status, 32))
                    .col(timestamp_with_time_zone(PlanSteps::StatusChangedAt))
                    .col(uuid(PlanSteps::StatusChangedBy))
                    .col(text_null(PlanSteps::PrivateNote))
                    .col(timestamp_with_time_zone(PlanSteps::CreatedAt))
                    .col(timestamp_with_time_zone(PlanSteps::UpdatedAt))
                    .col(big_integer(PlanSteps::Version))
                    .foreign_key(&mut fk(
                        "fk_plan_steps_plan",
                        (PlanSteps::Table, PlanSteps::PlanId),
                        (Plans::Table, Plans::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_plan_steps_plan",
                PlanSteps::Table,
                &["plan_id", "position"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_plan_steps_due",
                PlanSteps::Table,
                &["due_on", "status"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StepMessages::Table)
                    .col(uuid(StepMessages::Id).primary_key())
                    .col(uuid(StepMessages::PlanId))
                    .col(uuid(StepMessages::StepId))
                    .col(uuid(StepMessages::AuthorId))
                    .col(string_len(StepMessages::AuthorRole, 16))
                    .col(text(StepMessages::Body))
                    .col(timestamp_with_time_zone(StepMessages::At))
                    .foreign_key(&mut fk(
                        "fk_step_messages_step",
                        (StepMessages::Table, StepMessages::StepId),
                        (PlanSteps::Table, PlanSteps::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_step_messages_step",
                StepMessages::Table,
                &["step_id", "at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanEvents::Table)
                    .col(big_integer(PlanEvents::Seq).primary_key().auto_increment())
                    .col(uuid_uniq(PlanEvents::Id))
                    .col(uuid(PlanEvents::PlanId))
                    .col(uuid_null(PlanEvents::StepId))
                    .col(timestamp_with_time_zone(PlanEvents::At))
                    .col(uuid(PlanEvents::ActorId))
                    .col(string_len(PlanEvents::ActorRole, 16))
                    .col(string_len(PlanEvents::Action, 48))
                    .col(text(PlanEvents::Detail))
                    .foreign_key(&mut fk(
                        "fk_plan_events_plan",
                        (PlanEvents::Table, PlanEvents::PlanId),
                        (Plans::Table, Plans::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_plan_events_plan",
                PlanEvents::Table,
                &["plan_id", "seq"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StepReminders::Table)
                    .col(uuid(StepReminders::StepId))
                    .col(date(StepReminders::DueOn))
                    .col(timestamp_with_time_zone(StepReminders::SentAt))
                    .primary_key(
                        Index::create()
                            .col(StepReminders::StepId)
                            .col(StepReminders::DueOn),
                    )
                    .foreign_key(&mut fk(
                        "fk_step_reminders_step",
                        (StepReminders::Table, StepReminders::StepId),
                        (PlanSteps::Table, PlanSteps::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StepReminders::Table.into_iden(),
            PlanEvents::Table.into_iden(),
            StepMessages::Table.into_iden(),
            PlanSteps::Table.into_iden(),
            PlanWorkers::Table.into_iden(),
            Plans::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .drop_column(Accounts::Phone)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
