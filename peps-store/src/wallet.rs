//! [`WalletRepository`] on sea-orm. Every write and the access-log lines it records go in one
//! transaction; the log itself (`wallet_events`) is append-only in the database (triggers, see
//! the wallet migration), and this file has no path that changes or removes a line.
//!
//! Write transactions start as `BEGIN IMMEDIATE` on SQLite, so each takes the database's single
//! write lock before it reads anything it decides on (a deferred transaction that read first
//! could not write afterwards if another wrote meanwhile). On PostgreSQL, `add_file` locks the
//! person's account row, so two uploads of one person never both pass the quota check.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, Func, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::collections::HashMap;
use uuid::Uuid;

use crate::SeaOrmStore;
use crate::entities::{
    account, document_reminder, document_request, wallet_consent, wallet_document, wallet_event,
    wallet_file, wallet_grant,
};
use crate::error::{corrupt, db_err};
use peps_core::domain::*;
use peps_core::ports::StoreResult;
use peps_core::wallet::ports::{BlobKey, WrappedKey};
use peps_core::wallet::sniff::MediaType;
use peps_core::wallet::{
    Access, Document, DocumentFile, DocumentRequest, FilePlacement, Grant, GrantScope, Grantee,
    ReferentConsent, RequestStatus, Uploader, WalletAction, WalletEvent, WalletRepository,
};
use peps_core::{Conflict, StoreError};

/// How many ids go in one `IN (…)` list (well under SQLite's and PostgreSQL's bind limits).
const IN_CHUNK: usize = 500;

fn conflict(kind: Conflict) -> StoreError {
    StoreError::Conflict(kind)
}

/// Like [`db_err`], but a foreign-key violation means the row it points to (the person, the
/// document) does not exist.
fn missing_on_fk(err: DbErr) -> StoreError {
    match err.sql_err() {
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => StoreError::NotFound,
        _ => db_err(err),
    }
}

fn role(raw: &str) -> StoreResult<Role> {
    raw.parse().map_err(|_| corrupt("role", raw))
}

fn size_column(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

fn document_model(d: &Document) -> wallet_document::Model {
    wallet_document::Model {
        id: d.id.0,
        person_id: d.person.0,
        kind: d.kind.clone(),
        title: d.title.clone(),
        issued_on: d.issued_on,
        valid_until: d.valid_until,
        current_version: d.current_version,
        created_by: d.created_by.account.0,
        created_by_role: d.created_by.role.as_str().to_owned(),
        created_at: d.created_at,
        updated_at: d.updated_at,
        revision: d.revision,
    }
}

fn document_domain(m: wallet_document::Model, files: Vec<DocumentFile>) -> StoreResult<Document> {
    Ok(Document {
        id: DocumentId(m.id),
        person: AccountId(m.person_id),
        kind: m.kind,
        title: m.title,
        issued_on: m.issued_on,
        valid_until: m.valid_until,
        current_version: m.current_version,
        created_by: Uploader {
            account: AccountId(m.created_by),
            role: role(&m.created_by_role)?,
        },
        created_at: m.created_at,
        updated_at: m.updated_at,
        revision: m.revision,
        files,
    })
}

fn file_model(f: &DocumentFile, version: i32, page: i32) -> wallet_file::Model {
    wallet_file::Model {
        id: f.id.0,
        document_id: f.document.0,
        version,
        page,
        media_type: f.media_type.as_str().to_owned(),
        size: size_column(f.size),
        sha256: f.sha256.clone(),
        blob_key: f.blob.as_str().to_owned(),
        algorithm: f.algorithm.clone(),
        key_id: f.wrapped_key.key_id.as_str().to_owned(),
        key_algorithm: f.wrapped_key.algorithm.clone(),
        wrapped_key: f.wrapped_key.bytes.clone(),
        uploaded_by: f.uploaded_by.account.0,
        uploaded_by_role: f.uploaded_by.role.as_str().to_owned(),
        uploaded_at: f.uploaded_at,
    }
}

fn blob_key(raw: &str) -> StoreResult<BlobKey> {
    BlobKey::parse(raw).ok_or_else(|| corrupt("blob key", raw))
}

fn wrapped_key(m: &wallet_file::Model) -> StoreResult<WrappedKey> {
    Ok(WrappedKey {
        key_id: KeyId::parse(&m.key_id).map_err(|_| corrupt("key id", &m.key_id))?,
        algorithm: m.key_algorithm.clone(),
        bytes: m.wrapped_key.clone(),
    })
}

fn file_domain(m: wallet_file::Model) -> StoreResult<DocumentFile> {
    Ok(DocumentFile {
        id: DocumentFileId(m.id),
        document: DocumentId(m.document_id),
        version: m.version,
        page: m.page,
        media_type: MediaType::parse(&m.media_type)
            .ok_or_else(|| corrupt("media type", &m.media_type))?,
        size: u64::try_from(m.size).map_err(|_| corrupt("file size", &m.size.to_string()))?,
        sha256: m.sha256.clone(),
        blob: blob_key(&m.blob_key)?,
        algorithm: m.algorithm.clone(),
        wrapped_key: wrapped_key(&m)?,
        uploaded_by: Uploader {
            account: AccountId(m.uploaded_by),
            role: role(&m.uploaded_by_role)?,
        },
        uploaded_at: m.uploaded_at,
    })
}

fn grant_model(g: &Grant) -> StoreResult<wallet_grant::Model> {
    let (grantee_kind, grantee_id) = match g.grantee {
        Grantee::Worker(w) => ("worker", w.0),
        Grantee::Organisation(o) => ("organisation", o.0),
    };
    Ok(wallet_grant::Model {
        id: g.id.0,
        person_id: g.person.0,
        grantee_kind: grantee_kind.to_owned(),
        grantee_id,
        scope: serde_json::to_string(&g.scope).map_err(StoreError::unavailable)?,
        access: g.access.as_str().to_owned(),
        ends_at: g.ends_at,
        created_by: g.created_by.0,
        created_at: g.created_at,
        revoked_at: g.revoked_at,
        revoked_by: g.revoked_by.map(|a| a.0),
        request_id: g.request.map(|r| r.0),
    })
}

fn grant_domain(m: wallet_grant::Model) -> StoreResult<Grant> {
    let grantee = match m.grantee_kind.as_str() {
        "worker" => Grantee::Worker(AccountId(m.grantee_id)),
        "organisation" => Grantee::Organisation(OrganisationId(m.grantee_id)),
        other => return Err(corrupt("grantee kind", other)),
    };
    let scope: GrantScope =
        serde_json::from_str(&m.scope).map_err(|_| corrupt("grant scope of", &m.id.to_string()))?;
    Ok(Grant {
        id: GrantId(m.id),
        person: AccountId(m.person_id),
        grantee,
        scope,
        access: Access::parse(&m.access).ok_or_else(|| corrupt("grant access", &m.access))?,
        ends_at: m.ends_at,
        created_by: AccountId(m.created_by),
        created_at: m.created_at,
        revoked_at: m.revoked_at,
        revoked_by: m.revoked_by.map(AccountId),
        request: m.request_id.map(DocumentRequestId),
    })
}

fn request_model(r: &DocumentRequest) -> StoreResult<document_request::Model> {
    Ok(document_request::Model {
        id: r.id.0,
        person_id: r.person.0,
        requested_by: r.requested_by.0,
        kinds: serde_json::to_string(&r.kinds).map_err(StoreError::unavailable)?,
        step_id: r.step.map(|s| s.0),
        message: r.message.clone(),
        created_at: r.created_at,
        status: r.status.as_str().to_owned(),
        closed_at: r.closed_at,
        grant_id: r.grant.map(|g| g.0),
    })
}

fn request_domain(m: document_request::Model) -> StoreResult<DocumentRequest> {
    let kinds: Vec<String> = serde_json::from_str(&m.kinds)
        .map_err(|_| corrupt("requested kinds of", &m.id.to_string()))?;
    Ok(DocumentRequest {
        id: DocumentRequestId(m.id),
        person: AccountId(m.person_id),
        requested_by: AccountId(m.requested_by),
        kinds,
        step: m.step_id.map(StepId),
        message: m.message,
        created_at: m.created_at,
        status: RequestStatus::parse(&m.status)
            .ok_or_else(|| corrupt("request status", &m.status))?,
        closed_at: m.closed_at,
        grant: m.grant_id.map(GrantId),
    })
}

fn event_model(e: &WalletEvent) -> wallet_event::ActiveModel {
    let mut model = wallet_event::Model {
        seq: 0,
        id: e.id.0,
        at: e.at,
        person_id: e.person.0,
        actor_id: e.actor.map(|a| a.0),
        actor_role: e.actor_role.map(|r| r.as_str().to_owned()),
        mandate_id: e.mandate.map(|m| m.0),
        action: e.action.as_str().to_owned(),
        document_id: e.document.map(|d| d.0),
        file_id: e.file.map(|f| f.0),
        grant_id: e.grant.map(|g| g.0),
        kind: e.kind.clone(),
        ip: e.ip.clone(),
        detail: e.detail.clone(),
    }
    .into_active_model();
    // The database numbers the lines in commit order.
    model.seq = sea_orm::ActiveValue::NotSet;
    model
}

fn event_domain(m: wallet_event::Model) -> StoreResult<WalletEvent> {
    Ok(WalletEvent {
        id: WalletEventId(m.id),
        at: m.at,
        person: AccountId(m.person_id),
        actor: m.actor_id.map(AccountId),
        actor_role: m.actor_role.as_deref().map(role).transpose()?,
        mandate: m.mandate_id.map(MandateId),
        action: WalletAction::parse(&m.action)
            .ok_or_else(|| corrupt("wallet action", &m.action))?,
        document: m.document_id.map(DocumentId),
        file: m.file_id.map(DocumentFileId),
        grant: m.grant_id.map(GrantId),
        kind: m.kind,
        ip: m.ip,
        detail: m.detail,
        outbox: Vec::new(),
    })
}

async fn insert_events(db: &impl ConnectionTrait, events: &[WalletEvent]) -> StoreResult<()> {
    for event in events {
        wallet_event::Entity::insert(event_model(event))
            .exec_without_returning(db)
            .await
            .map_err(db_err)?;
        crate::outbox::insert_messages(db, &event.outbox).await?;
    }
    Ok(())
}

async fn insert_grant(db: &impl ConnectionTrait, grant: &Grant) -> StoreResult<()> {
    wallet_grant::Entity::insert(grant_model(grant)?.into_active_model())
        .exec_without_returning(db)
        .await
        .map_err(missing_on_fk)?;
    Ok(())
}

/// Why a guarded update changed no row: the row is there but no longer in the expected state
/// (`refusal`), or it does not exist (`NotFound`).
async fn refused_or_missing<E>(
    db: &impl ConnectionTrait,
    id: Uuid,
    refusal: StoreError,
) -> StoreError
where
    E: EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    match E::find_by_id(id).one(db).await {
        Ok(Some(_)) => refusal,
        Ok(None) => StoreError::NotFound,
        Err(e) => db_err(e),
    }
}

/// Bytes a person's files take, all versions.
async fn usage_in(db: &impl ConnectionTrait, person: AccountId) -> StoreResult<u64> {
    let documents = Query::select()
        .column(wallet_document::Column::Id)
        .from(wallet_document::Entity)
        .and_where(wallet_document::Column::PersonId.eq(person.0))
        .to_owned();
    // SUM of a bigint is a numeric on PostgreSQL: cast it back.
    let total = wallet_file::Entity::find()
        .select_only()
        .expr_as(
            Func::cast_as(
                Func::sum(Expr::col(wallet_file::Column::Size)),
                Alias::new("BIGINT"),
            ),
            "total",
        )
        .filter(wallet_file::Column::DocumentId.in_subquery(documents))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await
        .map_err(db_err)?
        .flatten()
        .unwrap_or(0);
    u64::try_from(total).map_err(|_| corrupt("wallet usage", &total.to_string()))
}

/// Documents with their files, by version then page, in the order given.
async fn with_files(
    db: &impl ConnectionTrait,
    models: Vec<wallet_document::Model>,
) -> StoreResult<Vec<Document>> {
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let mut files: HashMap<Uuid, Vec<DocumentFile>> = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows = wallet_file::Entity::find()
            .filter(wallet_file::Column::DocumentId.is_in(chunk.iter().copied()))
            .order_by_asc(wallet_file::Column::Version)
            .order_by_asc(wallet_file::Column::Page)
            .order_by_asc(wallet_file::Column::Id)
            .all(db)
            .await
            .map_err(db_err)?;
        for row in rows {
            files
                .entry(row.document_id)
                .or_default()
                .push(file_domain(row)?);
        }
    }
    models
        .into_iter()
        .map(|m| {
            let of = files.remove(&m.id).unwrap_or_default();
            document_domain(m, of)
        })
        .collect()
}

async fn load_document(db: &impl ConnectionTrait, id: DocumentId) -> StoreResult<Document> {
    let model = wallet_document::Entity::find_by_id(id.0)
        .one(db)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
    with_files(db, vec![model])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

impl SeaOrmStore {
    /// A write transaction: on SQLite it holds the write lock from its first statement.
    async fn write_txn(&self) -> StoreResult<DatabaseTransaction> {
        self.db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
            .map_err(db_err)
    }

    /// Serialises the writes that depend on a person's whole wallet (the quota): locks the
    /// person's account row on PostgreSQL; on SQLite the immediate transaction already holds
    /// the database's only write lock. `NotFound` when the account does not exist.
    async fn lock_person(&self, txn: &DatabaseTransaction, person: AccountId) -> StoreResult<()> {
        let mut query = account::Entity::find_by_id(person.0)
            .select_only()
            .column(account::Column::Id);
        if txn.get_database_backend() == DbBackend::Postgres {
            query = query.lock_exclusive();
        }
        query
            .into_tuple::<Uuid>()
            .one(txn)
            .await
            .map_err(db_err)?
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }
}

#[async_trait]
impl WalletRepository for SeaOrmStore {
    async fn add_file(
        &self,
        document: &Document,
        file: &DocumentFile,
        placement: FilePlacement,
        quota: u64,
        event: &WalletEvent,
    ) -> StoreResult<Document> {
        let txn = self.write_txn().await?;
        self.lock_person(&txn, document.person).await?;
        let used = usage_in(&txn, document.person).await?;
        if used.saturating_add(file.size) > quota {
            return Err(conflict(Conflict::QuotaExceeded));
        }
        let (version, page) = match placement {
            FilePlacement::NewDocument => {
                let mut model = document_model(document);
                model.current_version = 1;
                wallet_document::Entity::insert(model.into_active_model())
                    .exec_without_returning(&txn)
                    .await
                    .map_err(db_err)?;
                (1, 1)
            }
            FilePlacement::AddPage | FilePlacement::NewVersion => {
                let held = wallet_document::Entity::find_by_id(document.id.0)
                    .one(&txn)
                    .await
                    .map_err(db_err)?
                    // Not this person's document: the quota checked was not its owner's.
                    .filter(|d| d.person_id == document.person.0)
                    .ok_or(StoreError::NotFound)?;
                let version = if placement == FilePlacement::NewVersion {
                    held.current_version + 1
                } else {
                    held.current_version
                };
                wallet_document::Entity::update_many()
                    .col_expr(
                        wallet_document::Column::CurrentVersion,
                        Expr::value(version),
                    )
                    .col_expr(
                        wallet_document::Column::UpdatedAt,
                        Expr::value(file.uploaded_at),
                    )
                    .filter(wallet_document::Column::Id.eq(document.id.0))
                    .exec(&txn)
                    .await
                    .map_err(db_err)?;
                let pages = wallet_file::Entity::find()
                    .filter(wallet_file::Column::DocumentId.eq(document.id.0))
                    .filter(wallet_file::Column::Version.eq(version))
                    .count(&txn)
                    .await
                    .map_err(db_err)?;
                (version, i32::try_from(pages).unwrap_or(i32::MAX - 1) + 1)
            }
        };
        let mut model = file_model(file, version, page);
        model.document_id = document.id.0;
        wallet_file::Entity::insert(model.into_active_model())
            .exec_without_returning(&txn)
            .await
            .map_err(db_err)?;
        insert_events(&txn, std::slice::from_ref(event)).await?;
        let stored = load_document(&txn, document.id).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(stored)
    }

    async fn document(&self, id: DocumentId) -> StoreResult<Document> {
        load_document(&self.db, id).await
    }

    async fn documents_of(&self, person: AccountId) -> StoreResult<Vec<Document>> {
        let models = wallet_document::Entity::find()
            .filter(wallet_document::Column::PersonId.eq(person.0))
            .order_by_desc(wallet_document::Column::CreatedAt)
            .order_by_asc(wallet_document::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        with_files(&self.db, models).await
    }

    async fn usage(&self, person: AccountId) -> StoreResult<u64> {
        usage_in(&self.db, person).await
    }

    async fn update_document(
        &self,
        document: &Document,
        expected_revision: i64,
        event: &WalletEvent,
    ) -> StoreResult<i64> {
        let txn = self.write_txn().await?;
        let revision = expected_revision + 1;
        let updated = wallet_document::Entity::update_many()
            .col_expr(wallet_document::Column::Kind, Expr::value(&document.kind))
            .col_expr(wallet_document::Column::Title, Expr::value(&document.title))
            .col_expr(
                wallet_document::Column::IssuedOn,
                Expr::value(document.issued_on),
            )
            .col_expr(
                wallet_document::Column::ValidUntil,
                Expr::value(document.valid_until),
            )
            .col_expr(
                wallet_document::Column::UpdatedAt,
                Expr::value(document.updated_at),
            )
            .col_expr(wallet_document::Column::Revision, Expr::value(revision))
            .filter(wallet_document::Column::Id.eq(document.id.0))
            .filter(wallet_document::Column::Revision.eq(expected_revision))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if updated.rows_affected == 0 {
            return Err(refused_or_missing::<wallet_document::Entity>(
                &txn,
                document.id.0,
                StoreError::Stale,
            )
            .await);
        }
        insert_events(&txn, std::slice::from_ref(event)).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(revision)
    }

    async fn delete_documents(
        &self,
        ids: &[DocumentId],
        event: &WalletEvent,
    ) -> StoreResult<Vec<BlobKey>> {
        let txn = self.write_txn().await?;
        let ids: Vec<Uuid> = ids.iter().map(|d| d.0).collect();
        let mut blobs = Vec::new();
        for chunk in ids.chunks(IN_CHUNK) {
            // Lock the documents first, so that a page being added meanwhile is either
            // listed here or refused (its document is gone).
            let mut lock = wallet_document::Entity::find()
                .select_only()
                .column(wallet_document::Column::Id)
                .filter(wallet_document::Column::Id.is_in(chunk.iter().copied()));
            if txn.get_database_backend() == DbBackend::Postgres {
                lock = lock.lock_exclusive();
            }
            lock.into_tuple::<Uuid>().all(&txn).await.map_err(db_err)?;
            let mut files: Vec<(Uuid, i32, i32, String)> = wallet_file::Entity::find()
                .select_only()
                .column(wallet_file::Column::DocumentId)
                .column(wallet_file::Column::Version)
                .column(wallet_file::Column::Page)
                .column(wallet_file::Column::BlobKey)
                .filter(wallet_file::Column::DocumentId.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&txn)
                .await
                .map_err(db_err)?;
            let position: HashMap<Uuid, usize> =
                chunk.iter().enumerate().map(|(i, id)| (*id, i)).collect();
            files.sort_by_key(|(doc, version, page, _)| (position.get(doc), *version, *page));
            for (_, _, _, key) in files {
                blobs.push(blob_key(&key)?);
            }
            // Files and reminders go with their documents (foreign keys cascade).
            wallet_document::Entity::delete_many()
                .filter(wallet_document::Column::Id.is_in(chunk.iter().copied()))
                .exec(&txn)
                .await
                .map_err(db_err)?;
        }
        insert_events(&txn, std::slice::from_ref(event)).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(blobs)
    }

    async fn referenced_blobs(&self) -> StoreResult<Vec<BlobKey>> {
        wallet_file::Entity::find()
            .select_only()
            .column(wallet_file::Column::BlobKey)
            .into_tuple::<String>()
            .all(&self.db)
            .await
            .map_err(db_err)?
            .iter()
            .map(|k| blob_key(k))
            .collect()
    }

    async fn files_not_under_key(
        &self,
        key_id: Option<&KeyId>,
        limit: u32,
    ) -> StoreResult<Vec<(DocumentFileId, WrappedKey)>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut files = wallet_file::Entity::find();
        if let Some(key_id) = key_id {
            files = files.filter(wallet_file::Column::KeyId.ne(key_id.as_str()));
        }
        Ok(files
            .order_by_asc(wallet_file::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .iter()
            .map(|m| Ok((DocumentFileId(m.id), wrapped_key(m)?)))
            .collect::<StoreResult<_>>()?)
    }

    async fn rewrap(
        &self,
        file: DocumentFileId,
        old: &WrappedKey,
        new: &WrappedKey,
    ) -> StoreResult<()> {
        let updated = wallet_file::Entity::update_many()
            .col_expr(wallet_file::Column::KeyId, Expr::value(new.key_id.as_str()))
            .col_expr(
                wallet_file::Column::KeyAlgorithm,
                Expr::value(&new.algorithm),
            )
            .col_expr(
                wallet_file::Column::WrappedKey,
                Expr::value(new.bytes.clone()),
            )
            .filter(wallet_file::Column::Id.eq(file.0))
            .filter(wallet_file::Column::KeyId.eq(old.key_id.as_str()))
            .filter(wallet_file::Column::KeyAlgorithm.eq(&old.algorithm))
            .filter(wallet_file::Column::WrappedKey.eq(old.bytes.clone()))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        if updated.rows_affected == 0 {
            return Err(refused_or_missing::<wallet_file::Entity>(
                &self.db,
                file.0,
                StoreError::Stale,
            )
            .await);
        }
        Ok(())
    }

    async fn create_grant(&self, grant: &Grant, event: &WalletEvent) -> StoreResult<()> {
        let txn = self.write_txn().await?;
        insert_grant(&txn, grant).await?;
        insert_events(&txn, std::slice::from_ref(event)).await?;
        txn.commit().await.map_err(db_err)
    }

    async fn grant(&self, id: GrantId) -> StoreResult<Grant> {
        let model = wallet_grant::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        grant_domain(model)
    }

    async fn grants_of(&self, person: AccountId) -> StoreResult<Vec<Grant>> {
        wallet_grant::Entity::find()
            .filter(wallet_grant::Column::PersonId.eq(person.0))
            .order_by_desc(wallet_grant::Column::CreatedAt)
            .order_by_asc(wallet_grant::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(grant_domain)
            .collect()
    }

    async fn revoke_grant(
        &self,
        id: GrantId,
        by: AccountId,
        at: DateTime<Utc>,
        event: &WalletEvent,
    ) -> StoreResult<()> {
        let txn = self.write_txn().await?;
        let updated = wallet_grant::Entity::update_many()
            .col_expr(wallet_grant::Column::RevokedAt, Expr::value(at))
            .col_expr(wallet_grant::Column::RevokedBy, Expr::value(by.0))
            .filter(wallet_grant::Column::Id.eq(id.0))
            .filter(wallet_grant::Column::RevokedAt.is_null())
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if updated.rows_affected == 0 {
            return Err(refused_or_missing::<wallet_grant::Entity>(
                &txn,
                id.0,
                conflict(Conflict::AlreadyRevoked),
            )
            .await);
        }
        insert_events(&txn, std::slice::from_ref(event)).await?;
        txn.commit().await.map_err(db_err)
    }

    async fn record_consent(
        &self,
        consent: &ReferentConsent,
        event: &WalletEvent,
    ) -> StoreResult<()> {
        let txn = self.write_txn().await?;
        let mut model = wallet_consent::Model {
            seq: 0,
            person_id: consent.person.0,
            given: consent.given,
            at: consent.at,
            by_id: consent.by.0,
            worker_id: consent.worker.map(|w| w.0),
        }
        .into_active_model();
        model.seq = sea_orm::ActiveValue::NotSet;
        wallet_consent::Entity::insert(model)
            .exec_without_returning(&txn)
            .await
            .map_err(missing_on_fk)?;
        insert_events(&txn, std::slice::from_ref(event)).await?;
        txn.commit().await.map_err(db_err)
    }

    async fn consents(&self, person: AccountId) -> StoreResult<Vec<ReferentConsent>> {
        Ok(wallet_consent::Entity::find()
            .filter(wallet_consent::Column::PersonId.eq(person.0))
            .order_by_asc(wallet_consent::Column::Seq)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|m| ReferentConsent {
                person: AccountId(m.person_id),
                worker: m.worker_id.map(AccountId),
                given: m.given,
                at: m.at,
                by: AccountId(m.by_id),
            })
            .collect())
    }

    async fn create_request(
        &self,
        request: &DocumentRequest,
        event: &WalletEvent,
    ) -> StoreResult<()> {
        let txn = self.write_txn().await?;
        document_request::Entity::insert(request_model(request)?.into_active_model())
            .exec_without_returning(&txn)
            .await
            .map_err(missing_on_fk)?;
        insert_events(&txn, std::slice::from_ref(event)).await?;
        txn.commit().await.map_err(db_err)
    }

    async fn request(&self, id: DocumentRequestId) -> StoreResult<DocumentRequest> {
        let model = document_request::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        request_domain(model)
    }

    async fn requests_of(&self, person: AccountId) -> StoreResult<Vec<DocumentRequest>> {
        document_request::Entity::find()
            .filter(document_request::Column::PersonId.eq(person.0))
            .order_by_desc(document_request::Column::CreatedAt)
            .order_by_asc(document_request::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(request_domain)
            .collect()
    }

    async fn close_request(
        &self,
        request: &DocumentRequest,
        grant: Option<&Grant>,
        events: &[WalletEvent],
    ) -> StoreResult<()> {
        let txn = self.write_txn().await?;
        let updated = document_request::Entity::update_many()
            .col_expr(
                document_request::Column::Status,
                Expr::value(request.status.as_str()),
            )
            .col_expr(
                document_request::Column::ClosedAt,
                Expr::value(request.closed_at),
            )
            .col_expr(
                document_request::Column::GrantId,
                Expr::value(grant.map(|g| g.id.0)),
            )
            .filter(document_request::Column::Id.eq(request.id.0))
            .filter(document_request::Column::Status.eq(RequestStatus::Open.as_str()))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if updated.rows_affected == 0 {
            return Err(refused_or_missing::<document_request::Entity>(
                &txn,
                request.id.0,
                conflict(Conflict::RequestClosed),
            )
            .await);
        }
        if let Some(grant) = grant {
            insert_grant(&txn, grant).await?;
        }
        insert_events(&txn, events).await?;
        txn.commit().await.map_err(db_err)
    }

    async fn record_event(&self, event: &WalletEvent) -> StoreResult<()> {
        if event.outbox.is_empty() {
            // Most lines (every view of a document) cause no message: one statement.
            return insert_events(&self.db, std::slice::from_ref(event)).await;
        }
        let txn = self.db.begin().await.map_err(db_err)?;
        insert_events(&txn, std::slice::from_ref(event)).await?;
        txn.commit().await.map_err(db_err)
    }

    async fn events_of(
        &self,
        person: AccountId,
        before: Option<WalletEventId>,
        limit: u32,
    ) -> StoreResult<Vec<WalletEvent>> {
        let mut query =
            wallet_event::Entity::find().filter(wallet_event::Column::PersonId.eq(person.0));
        if let Some(before) = before {
            let seq = wallet_event::Entity::find()
                .select_only()
                .column(wallet_event::Column::Seq)
                .filter(wallet_event::Column::Id.eq(before.0))
                .into_tuple::<i64>()
                .one(&self.db)
                .await
                .map_err(db_err)?
                .ok_or(StoreError::NotFound)?;
            query = query.filter(wallet_event::Column::Seq.lt(seq));
        }
        query
            .order_by_desc(wallet_event::Column::Seq)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(event_domain)
            .collect()
    }

    async fn documents_expiring(
        &self,
        from: NaiveDate,
        until: NaiveDate,
    ) -> StoreResult<Vec<Document>> {
        let models = wallet_document::Entity::find()
            .filter(wallet_document::Column::ValidUntil.gte(from))
            .filter(wallet_document::Column::ValidUntil.lte(until))
            .order_by_asc(wallet_document::Column::ValidUntil)
            .order_by_asc(wallet_document::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        with_files(&self.db, models).await
    }

    async fn claim_expiry_reminder(
        &self,
        document: DocumentId,
        valid_until: NaiveDate,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let held = document_reminder::Entity::find_by_id((document.0, valid_until))
            .one(&self.db)
            .await
            .map_err(db_err)?;
        if held.is_some() {
            return Ok(false);
        }
        let inserted = document_reminder::Entity::insert(
            document_reminder::Model {
                document_id: document.0,
                valid_until,
                sent_at: at,
            }
            .into_active_model(),
        )
        .exec_without_returning(&self.db)
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(err) => match err.sql_err() {
                // Another run claimed it between our check and our insert.
                Some(SqlErr::UniqueConstraintViolation(_)) => Ok(false),
                // The document does not exist.
                Some(SqlErr::ForeignKeyConstraintViolation(_)) => Err(StoreError::NotFound),
                _ => Err(db_err(err)),
            },
        }
    }
}
