//! Reading a plan in full in one row: the plan, its person, and its steps and workers folded
//! into JSON arrays by the database itself.
//!
//! Why one row: each row of a result reaches the request through the SQLite driver's worker
//! thread, one hand-over (and often one thread wake-up) per row, so a plan of eight steps read
//! as eight joined rows costs about as much as eight small queries. Folding the steps into one
//! JSON column makes the whole plan one round trip and one row on both databases.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{DbBackend, DbErr, EntityTrait, FromQueryResult, QueryResult, QuerySelect};
use serde_json::Value;

use crate::entities::{account, plan, plan_step};
use crate::error::corrupt;
use peps_core::StoreError;
use peps_core::ports::StoreResult;

/// The step columns, in the order each step's JSON array holds them. `{uuid}` wraps a UUID
/// column: SQLite keeps UUIDs as 16-byte blobs, which JSON cannot hold, so they travel as hex.
fn step_columns(uuid: fn(&str) -> String) -> String {
    format!(
        "{}, s.position, s.template, s.template_version, s.content, s.who_acts, \
         s.orientation, s.due_on, s.appointment_at, s.documents, s.status, \
         s.status_changed_at, {}, s.private_note, s.created_at, s.updated_at, s.version",
        uuid("s.id"),
        uuid("s.status_changed_by"),
    )
}

fn sqlite_uuid(column: &str) -> String {
    format!("lower(hex({column}))")
}

fn steps_column(backend: DbBackend) -> String {
    match backend {
        DbBackend::Postgres => format!(
            "(SELECT COALESCE(json_agg(json_build_array({})), '[]'::json)::text \
             FROM plan_steps s WHERE s.plan_id = plans.id)",
            step_columns(str::to_owned)
        ),
        _ => format!(
            "(SELECT json_group_array(json_array({})) \
             FROM plan_steps s WHERE s.plan_id = plans.id)",
            step_columns(sqlite_uuid)
        ),
    }
}

fn workers_column(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => {
            "(SELECT COALESCE(json_agg(w.worker_id), '[]'::json)::text \
             FROM plan_workers w WHERE w.plan_id = plans.id)"
        }
        _ => {
            "(SELECT json_group_array(lower(hex(w.worker_id))) \
             FROM plan_workers w WHERE w.plan_id = plans.id)"
        }
    }
}

/// The plan's own columns with its steps and workers as JSON text.
pub(crate) struct PlanRow {
    pub plan: plan::Model,
    pub steps: String,
    pub workers: String,
}

impl FromQueryResult for PlanRow {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            plan: plan::Model::from_query_result(res, pre)?,
            steps: res.try_get(pre, "steps")?,
            workers: res.try_get(pre, "workers")?,
        })
    }
}

/// One statement, one row: the plan, its person (sea-orm's `A_`/`B_` prefixes), its steps and
/// its workers.
pub(crate) async fn plan_row<C: sea_orm::ConnectionTrait>(
    db: &C,
    id: uuid::Uuid,
) -> StoreResult<Option<(PlanRow, Option<account::Model>)>> {
    let backend = db.get_database_backend();
    plan::Entity::find_by_id(id)
        .find_also_related(account::Entity)
        .expr_as(Expr::cust(steps_column(backend)), "A_steps")
        .expr_as(Expr::cust(workers_column(backend)), "A_workers")
        .into_model::<PlanRow, account::Model>()
        .one(db)
        .await
        .map_err(crate::error::db_err)
}

fn bad(what: &str) -> StoreError {
    corrupt("plan step (folded)", what)
}

fn text(v: &Value) -> StoreResult<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        // A JSON column folded as JSON rather than text (PostgreSQL `jsonb`): its text again.
        Value::Object(_) | Value::Array(_) => Ok(v.to_string()),
        _ => Err(bad("text")),
    }
}

fn optional_text(v: &Value) -> StoreResult<Option<String>> {
    match v {
        Value::Null => Ok(None),
        other => text(other).map(Some),
    }
}

fn uuid(v: &Value) -> StoreResult<uuid::Uuid> {
    v.as_str()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .ok_or_else(|| bad("uuid"))
}

fn integer(v: &Value) -> StoreResult<i64> {
    v.as_i64().ok_or_else(|| bad("integer"))
}

/// RFC 3339 (both databases write it so), with a space instead of the `T` tolerated.
fn instant(v: &Value) -> StoreResult<DateTime<Utc>> {
    let s = v.as_str().ok_or_else(|| bad("timestamp"))?;
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| bad(s))
}

fn local_time(v: &Value) -> StoreResult<Option<NaiveDateTime>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
            .map(Some)
            .map_err(|_| bad(s)),
        _ => Err(bad("local time")),
    }
}

fn date(v: &Value) -> StoreResult<Option<NaiveDate>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| bad(s)),
        _ => Err(bad("date")),
    }
}

/// The steps folded by [`plan_row`], as the rows `plan_steps` would give.
pub(crate) fn steps(plan_id: uuid::Uuid, folded: &str) -> StoreResult<Vec<plan_step::Model>> {
    let rows: Vec<Vec<Value>> = serde_json::from_str(folded).map_err(|_| bad("array"))?;
    rows.into_iter()
        .map(|r| {
            let [
                id,
                position,
                template,
                template_version,
                content,
                who_acts,
                orientation,
                due_on,
                appointment_at,
                documents,
                status,
                status_changed_at,
                status_changed_by,
                private_note,
                created_at,
                updated_at,
                version,
            ] = <[Value; 17]>::try_from(r).map_err(|_| bad("columns"))?;
            Ok(plan_step::Model {
                id: uuid(&id)?,
                plan_id,
                position: i32::try_from(integer(&position)?).map_err(|_| bad("position"))?,
                template: optional_text(&template)?,
                template_version: optional_text(&template_version)?,
                content: text(&content)?,
                who_acts: text(&who_acts)?,
                orientation: optional_text(&orientation)?,
                due_on: date(&due_on)?,
                appointment_at: local_time(&appointment_at)?,
                documents: text(&documents)?,
                status: text(&status)?,
                status_changed_at: instant(&status_changed_at)?,
                status_changed_by: uuid(&status_changed_by)?,
                private_note: optional_text(&private_note)?,
                created_at: instant(&created_at)?,
                updated_at: instant(&updated_at)?,
                version: integer(&version)?,
            })
        })
        .collect()
}

/// The workers folded by [`plan_row`].
pub(crate) fn workers(folded: &str) -> StoreResult<Vec<uuid::Uuid>> {
    let ids: Vec<Value> = serde_json::from_str(folded).map_err(|_| bad("array"))?;
    ids.iter().map(uuid).collect()
}
