//! [`PlanRepository`] on sea-orm. What a worker wrote of a step (with its translations) and a
//! plan's title are JSON documents read and written whole; a step made from a template keeps
//! the template's reference (id and version columns), never a copy of its texts. The columns
//! beside them are what SQL filters and orders on.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

use crate::SeaOrmStore;
use crate::entities::{plan, plan_event, plan_step, plan_worker, step_message, step_reminder};
use crate::error::{corrupt, db_err, stale_or_missing};
use peps_core::StoreError;
use peps_core::domain::*;
use peps_core::plans::{
    Orientation, Plan, PlanEvent, PlanStatus, Step, StepContent, StepMessage, StepStatus,
    TemplateRef, TranslatableText, WhoActs,
};
use peps_core::ports::{PlanInFull, PlanRepository, StoreResult};

fn json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(StoreError::unavailable)
}

fn plan_model(p: &Plan) -> StoreResult<plan::Model> {
    Ok(plan::Model {
        id: p.id.0,
        person_id: p.person.0,
        title: json(&p.title)?,
        status: p.status.as_str().to_owned(),
        created_by: p.created_by.0,
        created_at: p.created_at,
        updated_at: p.updated_at,
        version: p.version,
    })
}

fn plan_domain(m: plan::Model, workers: BTreeSet<AccountId>) -> StoreResult<Plan> {
    let title: TranslatableText =
        serde_json::from_str(&m.title).map_err(|_| corrupt("plan title of", &m.id.to_string()))?;
    Ok(Plan {
        id: PlanId(m.id),
        person: AccountId(m.person_id),
        title,
        status: PlanStatus::parse(&m.status).ok_or_else(|| corrupt("plan status", &m.status))?,
        workers,
        created_by: AccountId(m.created_by),
        created_at: m.created_at,
        updated_at: m.updated_at,
        version: m.version,
    })
}

fn step_model(s: &Step) -> StoreResult<plan_step::Model> {
    Ok(plan_step::Model {
        id: s.id.0,
        plan_id: s.plan.0,
        position: i32::try_from(s.position).unwrap_or(i32::MAX),
        template: s.template.as_ref().map(|t| t.id.clone()),
        template_version: s.template.as_ref().map(|t| t.version.clone()),
        content: json(&s.content)?,
        who_acts: s.who_acts.as_str().to_owned(),
        orientation: s.orientation.as_ref().map(json).transpose()?,
        due_on: s.due_on,
        appointment_at: s.appointment_at,
        documents: json(&s.documents)?,
        status: s.status.as_str().to_owned(),
        status_changed_at: s.status_changed_at,
        status_changed_by: s.status_changed_by.0,
        private_note: s.private_note.clone(),
        created_at: s.created_at,
        updated_at: s.updated_at,
        version: s.version,
    })
}

fn step_domain(m: plan_step::Model) -> StoreResult<Step> {
    let id = m.id.to_string();
    let content: StepContent =
        serde_json::from_str(&m.content).map_err(|_| corrupt("step content of", &id))?;
    let orientation: Option<Orientation> = m
        .orientation
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|_| corrupt("step orientation of", &id))?;
    let documents: Vec<String> =
        serde_json::from_str(&m.documents).map_err(|_| corrupt("step documents of", &id))?;
    Ok(Step {
        id: StepId(m.id),
        plan: PlanId(m.plan_id),
        position: u32::try_from(m.position).unwrap_or(0),
        template: m.template.map(|id| TemplateRef {
            id,
            version: m.template_version.unwrap_or_default(),
        }),
        content,
        who_acts: WhoActs::parse(&m.who_acts).ok_or_else(|| corrupt("who acts", &m.who_acts))?,
        orientation,
        due_on: m.due_on,
        appointment_at: m.appointment_at,
        documents,
        status: StepStatus::parse(&m.status).ok_or_else(|| corrupt("step status", &m.status))?,
        status_changed_at: m.status_changed_at,
        status_changed_by: AccountId(m.status_changed_by),
        private_note: m.private_note,
        created_at: m.created_at,
        updated_at: m.updated_at,
        version: m.version,
    })
}

fn event_model(e: &PlanEvent) -> StoreResult<plan_event::ActiveModel> {
    let mut model = plan_event::Model {
        seq: 0,
        id: e.id.0,
        plan_id: e.plan.0,
        step_id: e.step.map(|s| s.0),
        at: e.at,
        actor_id: e.actor.0,
        actor_role: e.actor_role.as_str().to_owned(),
        action: e.action.as_str().to_owned(),
        detail: json(&e.detail)?,
    }
    .into_active_model();
    model.seq = sea_orm::ActiveValue::NotSet;
    Ok(model)
}

fn event_domain(m: plan_event::Model) -> StoreResult<PlanEvent> {
    Ok(PlanEvent {
        id: PlanEventId(m.id),
        plan: PlanId(m.plan_id),
        step: m.step_id.map(StepId),
        at: m.at,
        actor: AccountId(m.actor_id),
        actor_role: m
            .actor_role
            .parse()
            .map_err(|_| corrupt("role", &m.actor_role))?,
        action: peps_core::plans::PlanAction::parse(&m.action)
            .ok_or_else(|| corrupt("plan action", &m.action))?,
        detail: serde_json::from_str(&m.detail)
            .map_err(|_| corrupt("plan event detail", &m.id.to_string()))?,
        outbox: Vec::new(),
    })
}

fn message_domain(m: step_message::Model) -> StoreResult<StepMessage> {
    Ok(StepMessage {
        id: StepMessageId(m.id),
        plan: PlanId(m.plan_id),
        step: StepId(m.step_id),
        author: AccountId(m.author_id),
        author_role: m
            .author_role
            .parse()
            .map_err(|_| corrupt("role", &m.author_role))?,
        body: m.body,
        at: m.at,
    })
}

/// Steps still to do (planned, in progress) of active plans: what reminders look at.
fn open_steps_of_active_plans() -> sea_orm::Select<plan_step::Entity> {
    let open: Vec<&str> = StepStatus::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(StepStatus::as_str)
        .collect();
    let active_plans = sea_orm::sea_query::Query::select()
        .column(plan::Column::Id)
        .from(plan::Entity)
        .and_where(plan::Column::Status.eq(PlanStatus::Active.as_str()))
        .to_owned();
    plan_step::Entity::find()
        .filter(plan_step::Column::Status.is_in(open))
        .filter(plan_step::Column::PlanId.in_subquery(active_plans))
}

async fn insert_events(db: &impl ConnectionTrait, events: &[PlanEvent]) -> StoreResult<()> {
    for event in events {
        plan_event::Entity::insert(event_model(event)?)
            .exec(db)
            .await
            .map_err(db_err)?;
        crate::outbox::insert_messages(db, &event.outbox).await?;
    }
    Ok(())
}

async fn replace_workers(db: &impl ConnectionTrait, p: &Plan) -> StoreResult<()> {
    plan_worker::Entity::delete_many()
        .filter(plan_worker::Column::PlanId.eq(p.id.0))
        .exec(db)
        .await
        .map_err(db_err)?;
    if p.workers.is_empty() {
        return Ok(());
    }
    let rows = p.workers.iter().map(|w| {
        plan_worker::Model {
            plan_id: p.id.0,
            worker_id: w.0,
        }
        .into_active_model()
    });
    plan_worker::Entity::insert_many(rows)
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Marks the plan changed; `NotFound` when it does not exist. Writing the plan row first also
/// serialises concurrent changes to one plan's steps (a row lock on PostgreSQL, the database
/// lock on SQLite).
async fn touch_plan(
    db: &impl ConnectionTrait,
    plan_id: PlanId,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let touched = plan::Entity::update_many()
        .col_expr(plan::Column::UpdatedAt, sea_orm::sea_query::Expr::value(at))
        .filter(plan::Column::Id.eq(plan_id.0))
        .exec(db)
        .await
        .map_err(db_err)?;
    if touched.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

impl SeaOrmStore {
    async fn workers_of(&self, plans: &[Uuid]) -> StoreResult<HashMap<Uuid, BTreeSet<AccountId>>> {
        let rows = plan_worker::Entity::find()
            .filter(plan_worker::Column::PlanId.is_in(plans.iter().copied()))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let mut by_plan: HashMap<Uuid, BTreeSet<AccountId>> = HashMap::new();
        for row in rows {
            by_plan
                .entry(row.plan_id)
                .or_default()
                .insert(AccountId(row.worker_id));
        }
        Ok(by_plan)
    }
}

#[async_trait]
impl PlanRepository for SeaOrmStore {
    async fn create_plan(&self, p: &Plan, event: &PlanEvent) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let person = crate::entities::account::Entity::find_by_id(p.person.0)
            .one(&txn)
            .await
            .map_err(db_err)?;
        if person.is_none() {
            return Err(StoreError::NotFound);
        }
        plan_model(p)?
            .into_active_model()
            .insert(&txn)
            .await
            .map_err(db_err)?;
        replace_workers(&txn, p).await?;
        insert_events(&txn, std::slice::from_ref(event)).await?;
        txn.commit().await.map_err(db_err)
    }

    async fn plan(&self, id: PlanId) -> StoreResult<Plan> {
        let model = plan::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        let mut workers = self.workers_of(&[id.0]).await?;
        plan_domain(model, workers.remove(&id.0).unwrap_or_default())
    }

    async fn plan_in_full(&self, id: PlanId) -> StoreResult<PlanInFull> {
        let (row, person) = crate::plan_read::plan_row(&self.db, id.0)
            .await?
            .ok_or(StoreError::NotFound)?;
        let person = person
            .ok_or_else(|| corrupt("plan (its person is missing)", &row.plan.id.to_string()))
            .and_then(crate::accounts::to_domain)?;
        let workers = crate::plan_read::workers(&row.workers)?
            .into_iter()
            .map(AccountId)
            .collect();
        let mut steps = crate::plan_read::steps(row.plan.id, &row.steps)?
            .into_iter()
            .map(step_domain)
            .collect::<StoreResult<Vec<Step>>>()?;
        steps.sort_by(|a, b| {
            a.position
                .cmp(&b.position)
                .then(a.created_at.cmp(&b.created_at))
        });
        Ok(PlanInFull {
            plan: plan_domain(row.plan, workers)?,
            person,
            steps,
        })
    }

    async fn plans_of(&self, person: AccountId) -> StoreResult<Vec<Plan>> {
        let models = plan::Entity::find()
            .filter(plan::Column::PersonId.eq(person.0))
            .order_by_desc(plan::Column::CreatedAt)
            .order_by_asc(plan::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
        let mut workers = self.workers_of(&ids).await?;
        models
            .into_iter()
            .map(|m| {
                let w = workers.remove(&m.id).unwrap_or_default();
                plan_domain(m, w)
            })
            .collect()
    }

    async fn update_plan(
        &self,
        p: &Plan,
        expected_version: i64,
        events: &[PlanEvent],
    ) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let model = plan_model(p)?.into_active_model().reset_all();
        let updated = plan::Entity::update_many()
            .set(model)
            .filter(plan::Column::Id.eq(p.id.0))
            .filter(plan::Column::Version.eq(expected_version))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if updated.rows_affected == 0 {
            return Err(stale_or_missing::<plan::Entity>(&txn, p.id.0).await);
        }
        replace_workers(&txn, p).await?;
        insert_events(&txn, events).await?;
        txn.commit().await.map_err(db_err)
    }

    async fn steps(&self, plan_id: PlanId) -> StoreResult<Vec<Step>> {
        plan_step::Entity::find()
            .filter(plan_step::Column::PlanId.eq(plan_id.0))
            .order_by_asc(plan_step::Column::Position)
            .order_by_asc(plan_step::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(step_domain)
            .collect()
    }

    async fn step(&self, id: StepId) -> StoreResult<Step> {
        let model = plan_step::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
        step_domain(model)
    }

    async fn add_step(&self, s: &Step, event: &PlanEvent) -> StoreResult<u32> {
        let txn = self.db.begin().await.map_err(db_err)?;
        // First, so that two steps added at once never get the same position.
        touch_plan(&txn, s.plan, s.created_at).await?;
        let last: Option<i32> = plan_step::Entity::find()
            .select_only()
            .column_as(plan_step::Column::Position.max(), "last")
            .filter(plan_step::Column::PlanId.eq(s.plan.0))
            .into_tuple::<Option<i32>>()
            .one(&txn)
            .await
            .map_err(db_err)?
            .flatten();
        let position = last.map_or(0, |p| p + 1);
        let mut model = step_model(s)?;
        model.position = position;
        model
            .into_active_model()
            .insert(&txn)
            .await
            .map_err(db_err)?;
        insert_events(&txn, std::slice::from_ref(event)).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(u32::try_from(position).unwrap_or(0))
    }

    async fn update_step(
        &self,
        s: &Step,
        expected_version: i64,
        events: &[PlanEvent],
    ) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let mut model = step_model(s)?.into_active_model().reset_all();
        // The order is reorder_steps' business: an edit never moves a step.
        model.position = sea_orm::ActiveValue::NotSet;
        let updated = plan_step::Entity::update_many()
            .set(model)
            .filter(plan_step::Column::Id.eq(s.id.0))
            .filter(plan_step::Column::Version.eq(expected_version))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        if updated.rows_affected == 0 {
            return Err(stale_or_missing::<plan_step::Entity>(&txn, s.id.0).await);
        }
        insert_events(&txn, events).await?;
        txn.commit().await.map_err(db_err)
    }

    async fn reorder_steps(
        &self,
        plan_id: PlanId,
        order: &[StepId],
        event: &PlanEvent,
    ) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        touch_plan(&txn, plan_id, event.at).await?;
        let held: BTreeSet<Uuid> = plan_step::Entity::find()
            .select_only()
            .column(plan_step::Column::Id)
            .filter(plan_step::Column::PlanId.eq(plan_id.0))
            .into_tuple::<Uuid>()
            .all(&txn)
            .await
            .map_err(db_err)?
            .into_iter()
            .collect();
        let given: BTreeSet<Uuid> = order.iter().map(|s| s.0).collect();
        if given.len() != order.len() || given != held {
            return Err(StoreError::Stale);
        }
        for (position, step) in order.iter().enumerate() {
            plan_step::Entity::update_many()
                .col_expr(
                    plan_step::Column::Position,
                    sea_orm::sea_query::Expr::value(i32::try_from(position).unwrap_or(i32::MAX)),
                )
                .filter(plan_step::Column::Id.eq(step.0))
                .exec(&txn)
                .await
                .map_err(db_err)?;
        }
        insert_events(&txn, std::slice::from_ref(event)).await?;
        txn.commit().await.map_err(db_err)
    }

    async fn add_message(&self, m: &StepMessage, event: &PlanEvent) -> StoreResult<()> {
        let txn = self.db.begin().await.map_err(db_err)?;
        step_message::Model {
            id: m.id.0,
            plan_id: m.plan.0,
            step_id: m.step.0,
            author_id: m.author.0,
            author_role: m.author_role.as_str().to_owned(),
            body: m.body.clone(),
            at: m.at,
        }
        .into_active_model()
        .insert(&txn)
        .await
        .map_err(|e| match db_err(e) {
            // The step was deleted meanwhile (foreign key).
            StoreError::Conflict(_) => StoreError::NotFound,
            other => other,
        })?;
        insert_events(&txn, std::slice::from_ref(event)).await?;
        txn.commit().await.map_err(db_err)
    }

    async fn messages(&self, step: StepId) -> StoreResult<Vec<StepMessage>> {
        step_message::Entity::find()
            .filter(step_message::Column::StepId.eq(step.0))
            .order_by_asc(step_message::Column::At)
            .order_by_asc(step_message::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(message_domain)
            .collect()
    }

    async fn plan_history(&self, plan_id: PlanId) -> StoreResult<Vec<PlanEvent>> {
        plan_event::Entity::find()
            .filter(plan_event::Column::PlanId.eq(plan_id.0))
            .order_by_asc(plan_event::Column::Seq)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(event_domain)
            .collect()
    }

    async fn template_references(&self) -> StoreResult<Vec<(StepId, TemplateRef)>> {
        let rows: Vec<(Uuid, Option<String>, Option<String>)> = plan_step::Entity::find()
            .select_only()
            .column(plan_step::Column::Id)
            .column(plan_step::Column::Template)
            .column(plan_step::Column::TemplateVersion)
            .filter(plan_step::Column::Template.is_not_null())
            .order_by_asc(plan_step::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, template, version)| {
                Some((
                    StepId(id),
                    TemplateRef {
                        id: template?,
                        version: version.unwrap_or_default(),
                    },
                ))
            })
            .collect())
    }

    async fn steps_due(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Step>> {
        open_steps_of_active_plans()
            .filter(plan_step::Column::DueOn.gte(from))
            .filter(plan_step::Column::DueOn.lte(to))
            .order_by_asc(plan_step::Column::DueOn)
            .order_by_asc(plan_step::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(step_domain)
            .collect()
    }

    async fn appointments_between(
        &self,
        from: chrono::NaiveDateTime,
        to: chrono::NaiveDateTime,
    ) -> StoreResult<Vec<Step>> {
        open_steps_of_active_plans()
            .filter(plan_step::Column::AppointmentAt.gte(from))
            .filter(plan_step::Column::AppointmentAt.lte(to))
            .order_by_asc(plan_step::Column::AppointmentAt)
            .order_by_asc(plan_step::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(step_domain)
            .collect()
    }

    async fn record_due_reminder(
        &self,
        step: StepId,
        due_on: NaiveDate,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let held = step_reminder::Entity::find_by_id((step.0, due_on))
            .one(&self.db)
            .await
            .map_err(db_err)?;
        if held.is_some() {
            return Ok(false);
        }
        let inserted = step_reminder::Model {
            step_id: step.0,
            due_on,
            sent_at: at,
        }
        .into_active_model()
        .insert(&self.db)
        .await;
        match inserted.map_err(db_err) {
            Ok(_) => Ok(true),
            // Either another run recorded it between our check and our insert, or the step
            // does not exist (foreign key).
            Err(StoreError::Conflict(_)) => {
                let recorded = step_reminder::Entity::find_by_id((step.0, due_on))
                    .one(&self.db)
                    .await
                    .map_err(db_err)?;
                if recorded.is_some() {
                    Ok(false)
                } else {
                    Err(StoreError::NotFound)
                }
            }
            Err(other) => Err(other),
        }
    }
}
