use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_steps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plan_id: Uuid,
    pub position: i32,
    /// The template the step follows (its id), if any.
    pub template: Option<String>,
    /// The version of the template's texts the step's history last noted.
    pub template_version: Option<String>,
    /// What the worker wrote (the adapted fields of a template step, every field of a free
    /// one) and its translations, as JSON: never a copy of the template's texts.
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
