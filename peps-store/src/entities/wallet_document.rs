use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wallet_documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    pub issued_on: Option<Date>,
    pub valid_until: Option<Date>,
    pub current_version: i32,
    pub created_by: Uuid,
    pub created_by_role: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub revision: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
