//! [`OutboxRepository`] on sea-orm. A claim is a conditional UPDATE whose row count decides
//! which sender got the message, so two instances racing on PostgreSQL never both send it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use crate::SeaOrmStore;
use crate::entities::{outbox_message, sms_opt_out};
use crate::error::{corrupt, db_err};
use peps_core::StoreError;
use peps_core::domain::*;
use peps_core::outbox::{Channel, OutboxMessage, OutboxStatus, Recipient};
use peps_core::ports::{OutboxCounts, OutboxRepository, StoreResult};

fn model(m: &OutboxMessage) -> outbox_message::Model {
    let (channel, address, subject) = match &m.recipient {
        Recipient::Email { to, subject } => (
            Channel::Email,
            to.as_str().to_owned(),
            Some(subject.clone()),
        ),
        Recipient::Sms { to } => (Channel::Sms, to.as_str().to_owned(), None),
    };
    outbox_message::Model {
        id: m.id.0,
        channel: channel.as_str().to_owned(),
        address,
        subject,
        language: m.language.code().to_owned(),
        body: m.body.clone(),
        person_id: m.person.map(|p| p.0),
        purpose: m.purpose.clone(),
        dedupe_key: m.dedupe_key.clone(),
        created_at: m.created_at,
        status: m.status.as_str().to_owned(),
        attempts: i32::try_from(m.attempts).unwrap_or(i32::MAX),
        next_attempt_at: m.next_attempt_at,
        claimed_until: None,
        last_error: m.last_error.clone(),
        sent_at: m.sent_at,
    }
}

fn domain(m: outbox_message::Model) -> StoreResult<OutboxMessage> {
    let id = m.id.to_string();
    let recipient = match m.channel.as_str() {
        "email" => Recipient::Email {
            to: Email::parse(&m.address).map_err(|_| corrupt("outbox address", &id))?,
            subject: m.subject.unwrap_or_default(),
        },
        "sms" => Recipient::Sms {
            to: Phone::parse(&m.address).map_err(|_| corrupt("outbox phone", &id))?,
        },
        other => return Err(corrupt("outbox channel", other)),
    };
    Ok(OutboxMessage {
        id: OutboxId(m.id),
        recipient,
        language: Language::parse(&m.language).map_err(|_| corrupt("language", &m.language))?,
        body: m.body,
        person: m.person_id.map(AccountId),
        purpose: m.purpose,
        dedupe_key: m.dedupe_key,
        created_at: m.created_at,
        status: OutboxStatus::parse(&m.status)
            .ok_or_else(|| corrupt("outbox status", &m.status))?,
        attempts: u32::try_from(m.attempts).unwrap_or(0),
        next_attempt_at: m.next_attempt_at,
        last_error: m.last_error,
        sent_at: m.sent_at,
    })
}

/// Writes messages on `db` (the caller's transaction when they ride on a change), skipping
/// those whose dedupe key is stored already. Returns how many were added.
pub(crate) async fn insert_messages(
    db: &impl ConnectionTrait,
    messages: &[OutboxMessage],
) -> StoreResult<usize> {
    let mut added = 0;
    for m in messages {
        let rows =
            outbox_message::Entity::insert(sea_orm::IntoActiveModel::into_active_model(model(m)))
                // No conflict target: SQLite checks a target when it prepares the statement,
                // and a pooled connection that read the schema before the migration made the
                // index refuses it. The only unique columns are the id and the dedupe key,
                // and a message with a known id is that same message.
                .on_conflict(OnConflict::new().do_nothing().to_owned())
                .exec_without_returning(db)
                .await
                .map_err(db_err)?;
        added += usize::try_from(rows).unwrap_or(0);
    }
    Ok(added)
}

/// An update that also gives up the sender's claim: the message is settled, or waits again.
fn releasing() -> sea_orm::UpdateMany<outbox_message::Entity> {
    outbox_message::Entity::update_many().col_expr(
        outbox_message::Column::ClaimedUntil,
        Expr::value(Option::<DateTime<Utc>>::None),
    )
}

fn in_status(status: OutboxStatus) -> sea_orm::sea_query::SimpleExpr {
    outbox_message::Column::Status.eq(status.as_str())
}

impl SeaOrmStore {
    /// Applies `update` to message `id`; `NotFound` when no row matched.
    async fn settle(
        &self,
        update: sea_orm::UpdateMany<outbox_message::Entity>,
        id: OutboxId,
    ) -> StoreResult<()> {
        let rows = update
            .filter(outbox_message::Column::Id.eq(id.0))
            .exec(&self.db)
            .await
            .map_err(db_err)?
            .rows_affected;
        settled(rows)
    }
}

fn settled(rows: u64) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[async_trait]
impl OutboxRepository for SeaOrmStore {
    async fn enqueue(&self, messages: &[OutboxMessage]) -> StoreResult<usize> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let added = insert_messages(&txn, messages).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(added)
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>> {
        let free = || {
            sea_orm::Condition::any()
                .add(outbox_message::Column::ClaimedUntil.is_null())
                .add(outbox_message::Column::ClaimedUntil.lt(now))
        };
        let candidates: Vec<outbox_message::Model> = outbox_message::Entity::find()
            .filter(in_status(OutboxStatus::Pending))
            .filter(outbox_message::Column::NextAttemptAt.lte(now))
            .filter(free())
            .order_by_asc(outbox_message::Column::NextAttemptAt)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let mut claimed = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            // Still pending and free: whoever's UPDATE matches first holds it.
            let rows = outbox_message::Entity::update_many()
                .col_expr(outbox_message::Column::ClaimedUntil, Expr::value(until))
                .filter(outbox_message::Column::Id.eq(candidate.id))
                .filter(in_status(OutboxStatus::Pending))
                .filter(free())
                .exec(&self.db)
                .await
                .map_err(db_err)?
                .rows_affected;
            if rows == 1 {
                claimed.push(domain(candidate)?);
            }
        }
        Ok(claimed)
    }

    async fn mark_sent(&self, id: OutboxId, at: DateTime<Utc>) -> StoreResult<()> {
        let update = releasing()
            .col_expr(
                outbox_message::Column::Status,
                Expr::value(OutboxStatus::Sent.as_str()),
            )
            .col_expr(outbox_message::Column::SentAt, Expr::value(at))
            .col_expr(
                outbox_message::Column::LastError,
                Expr::value(Option::<String>::None),
            );
        self.settle(update, id).await
    }

    async fn record_failure(
        &self,
        id: OutboxId,
        attempts: u32,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        let error: String = error.chars().take(500).collect();
        let mut update = releasing()
            .col_expr(
                outbox_message::Column::Attempts,
                Expr::value(i32::try_from(attempts).unwrap_or(i32::MAX)),
            )
            .col_expr(outbox_message::Column::LastError, Expr::value(error));
        update = match retry_at {
            Some(at) => update.col_expr(outbox_message::Column::NextAttemptAt, Expr::value(at)),
            None => update.col_expr(
                outbox_message::Column::Status,
                Expr::value(OutboxStatus::Parked.as_str()),
            ),
        };
        self.settle(update.filter(in_status(OutboxStatus::Pending)), id)
            .await
    }

    async fn postpone(&self, id: OutboxId, until: DateTime<Utc>) -> StoreResult<()> {
        let update = releasing()
            .col_expr(outbox_message::Column::NextAttemptAt, Expr::value(until))
            .filter(in_status(OutboxStatus::Pending));
        self.settle(update, id).await
    }

    async fn message(&self, id: OutboxId) -> StoreResult<OutboxMessage> {
        let m = outbox_message::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        domain(m)
    }

    async fn parked(&self, limit: u32) -> StoreResult<Vec<OutboxMessage>> {
        outbox_message::Entity::find()
            .filter(in_status(OutboxStatus::Parked))
            .order_by_asc(outbox_message::Column::CreatedAt)
            .order_by_asc(outbox_message::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(domain)
            .collect()
    }

    async fn requeue(&self, id: OutboxId, now: DateTime<Utc>) -> StoreResult<()> {
        let update = outbox_message::Entity::update_many()
            .col_expr(
                outbox_message::Column::Status,
                Expr::value(OutboxStatus::Pending.as_str()),
            )
            .col_expr(outbox_message::Column::Attempts, Expr::value(0))
            .col_expr(outbox_message::Column::NextAttemptAt, Expr::value(now))
            .filter(in_status(OutboxStatus::Parked));
        self.settle(update, id).await
    }

    async fn discard(&self, id: OutboxId) -> StoreResult<()> {
        let rows = outbox_message::Entity::delete_many()
            .filter(outbox_message::Column::Id.eq(id.0))
            .filter(in_status(OutboxStatus::Parked))
            .exec(&self.db)
            .await
            .map_err(db_err)?
            .rows_affected;
        settled(rows)
    }

    async fn counts(&self) -> StoreResult<OutboxCounts> {
        let count = |status: OutboxStatus| {
            outbox_message::Entity::find()
                .filter(in_status(status))
                .count(&self.db)
        };
        Ok(OutboxCounts {
            pending: count(OutboxStatus::Pending).await.map_err(db_err)?,
            parked: count(OutboxStatus::Parked).await.map_err(db_err)?,
            sent: count(OutboxStatus::Sent).await.map_err(db_err)?,
        })
    }

    async fn sms_sent_to(&self, person: AccountId, since: DateTime<Utc>) -> StoreResult<u32> {
        let n = outbox_message::Entity::find()
            .filter(outbox_message::Column::PersonId.eq(person.0))
            .filter(outbox_message::Column::Channel.eq(Channel::Sms.as_str()))
            .filter(outbox_message::Column::SentAt.gte(since))
            .count(&self.db)
            .await
            .map_err(db_err)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn purge_sent(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        Ok(outbox_message::Entity::delete_many()
            .filter(outbox_message::Column::Status.eq(OutboxStatus::Sent.as_str()))
            .filter(outbox_message::Column::SentAt.lt(before))
            .exec(&self.db)
            .await
            .map_err(db_err)?
            .rows_affected)
    }

    async fn set_sms_opt_out(
        &self,
        person: AccountId,
        opted_out: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        if opted_out {
            sms_opt_out::Entity::insert(sms_opt_out::ActiveModel {
                person_id: sea_orm::Set(person.0),
                at: sea_orm::Set(at),
            })
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .map_err(db_err)?;
        } else {
            sms_opt_out::Entity::delete_by_id(person.0)
                .exec(&self.db)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    async fn sms_opted_out(&self, person: AccountId) -> StoreResult<bool> {
        Ok(sms_opt_out::Entity::find_by_id(person.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .is_some())
    }
}
