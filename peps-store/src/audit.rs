//! [`AuditLog`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::SeaOrmStore;
use crate::entities::audit_event;
use crate::error::{corrupt, db_err};
use peps_core::domain::*;
use peps_core::ports::{AuditLog, StoreResult};

fn to_domain(m: audit_event::Model) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        id: AuditEventId(m.id),
        at: m.at,
        actor: m.actor_id.map(AccountId),
        actor_role: m
            .actor_role
            .as_deref()
            .map(|r| r.parse().map_err(|_| corrupt("role", r)))
            .transpose()?,
        mandate: m.mandate_id.map(MandateId),
        action: AuditAction::parse(&m.action).ok_or_else(|| corrupt("audit action", &m.action))?,
        subject: m.subject_id.map(AccountId),
        detail: m.detail,
    })
}

#[async_trait]
impl AuditLog for SeaOrmStore {
    async fn record(&self, e: &AuditEvent) -> StoreResult<()> {
        audit_event::Model {
            id: e.id.0,
            at: e.at,
            actor_id: e.actor.map(|a| a.0),
            actor_role: e.actor_role.map(|r| r.as_str().to_owned()),
            mandate_id: e.mandate.map(|m| m.0),
            action: e.action.as_str().to_owned(),
            subject_id: e.subject.map(|s| s.0),
            detail: e.detail.clone(),
        }
        .into_active_model()
        .insert(&self.db)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn events_for(&self, subject: AccountId, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        audit_event::Entity::find()
            .filter(audit_event::Column::SubjectId.eq(subject.0))
            .order_by_desc(audit_event::Column::At)
            .order_by_desc(audit_event::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(to_domain)
            .collect()
    }
}
