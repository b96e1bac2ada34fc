use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_steps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plan_id: Uuid,
    pub position: i32,
    pub template: Option<String>,
    /// French texts and translations, as JSON.
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub who_acts: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub orientation: Option<String>,
    pub due_on: Option<Date>,
    pub appointment_at: Option<DateTime>,
    /// Document kind codes, as a JSON array.
    #[sea_orm(column_type = "Text")]
    pub documents: String,
    pub status: String,
    pub status_changed_at: DateTimeUtc,
    pub status_changed_by: Uuid,
    #[sea_orm(column_type = "Text", nullable)]
    pub private_note: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
