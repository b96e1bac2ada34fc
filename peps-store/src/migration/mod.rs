//! Schema migrations, written with sea-query's builder so one definition serves SQLite and
//! PostgreSQL. Never edit a released migration: add a new one.

use sea_orm_migration::prelude::*;

mod m2026_11_22_000001_identity;
mod m2026_11_22_000002_catalogue;
mod m2026_11_22_000003_exchange;
mod m2026_11_22_000004_plans;
mod m2026_11_23_000005_wallet;
mod m2026_12_02_000006_paths_to_papers;
mod m2026_12_02_000007_lean_step_texts;
mod m2026_12_03_000008_second_factor;
mod m2026_12_03_000009_sign_in_requests;
mod m2026_12_03_000010_outbox;
mod m2026_12_03_000011_leases;

/// The table recording applied migrations (also read by `peps backup`).
pub(crate) const MIGRATION_TABLE: &str = "peps_migrations";

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m2026_11_22_000001_identity::Migration),
            Box::new(m2026_11_22_000002_catalogue::Migration),
            Box::new(m2026_11_22_000003_exchange::Migration),
            Box::new(m2026_11_22_000004_plans::Migration),
            Box::new(m2026_11_23_000005_wallet::Migration),
            Box::new(m2026_12_02_000006_paths_to_papers::Migration),
            Box::new(m2026_12_02_000007_lean_step_texts::Migration),
            Box::new(m2026_12_03_000008_second_factor::Migration),
            Box::new(m2026_12_03_000009_sign_in_requests::Migration),
            Box::new(m2026_12_03_000010_outbox::Migration),
            Box::new(m2026_12_03_000011_leases::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        MIGRATION_TABLE.into_iden()
    }
}
