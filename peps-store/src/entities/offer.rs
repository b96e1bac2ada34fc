use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "offers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub status: String,
    pub version: i64,
    #[sea_orm(unique)]
    pub seq: i64,
    #[sea_orm(column_type = "Text")]
    pub document: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_verified_at: DateTimeUtc,
    pub verify_due_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    pub origin_source: Option<String>,
    pub origin_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
