use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_events")]
pub struct Model {
    /// Commit order, so a plan's history reads in the order things happened.
    #[sea_orm(primary_key)]
    pub seq: i64,
    #[sea_orm(unique)]
    pub id: Uuid,
    pub plan_id: Uuid,
    pub step_id: Option<Uuid>,
    pub at: DateTimeUtc,
    pub actor_id: Uuid,
    pub actor_role: String,
    pub action: String,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
