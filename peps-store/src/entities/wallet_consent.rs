use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wallet_consents")]
pub struct Model {
    /// Commit order: the latest answer is the one with the highest `seq`.
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub person_id: Uuid,
    pub given: bool,
    pub at: DateTimeUtc,
    pub by_id: Uuid,
    /// The worker this answer is about; `None`: the referents current at `at`.
    pub worker_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
