use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wallet_events")]
pub struct Model {
    /// Commit order, so a person's log reads in the order things happened. The table only
    /// grows: triggers refuse updates and deletes.
    #[sea_orm(primary_key)]
    pub seq: i64,
    #[sea_orm(unique)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub person_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub mandate_id: Option<Uuid>,
    pub action: String,
    pub document_id: Option<Uuid>,
    pub file_id: Option<Uuid>,
    pub grant_id: Option<Uuid>,
    pub kind: Option<String>,
    pub ip: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
