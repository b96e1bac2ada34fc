use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wallet_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub document_id: Uuid,
    pub version: i32,
    pub page: i32,
    pub media_type: String,
    /// Plaintext size in bytes.
    pub size: i64,
    pub sha256: String,
    #[sea_orm(unique)]
    pub blob_key: String,
    pub algorithm: String,
    /// The key-encryption key that wrapped the data key, and how.
    pub key_id: String,
    pub key_algorithm: String,
    #[sea_orm(column_type = "Blob")]
    pub wrapped_key: Vec<u8>,
    pub uploaded_by: Uuid,
    pub uploaded_by_role: String,
    pub uploaded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
