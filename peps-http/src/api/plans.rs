//! Step plans: a referent writes a person's plan; the person reads it in their language,
//! reports progress and asks questions; a printable page for the counter.
//!
//! Whoever may not know that a plan exists gets 404, exactly as for an unknown id.

use chrono::{NaiveDate, NaiveDateTime};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Html, Json};
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::plan_views::*;
use super::versions::{MaybeTagged, PLAN, STEP, Tagged, TaggedCreated, TaggedDone};
use super::views::Created;
use crate::auth::BearerAuth;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use peps_core::domain::{Account, AccountId, Language, OfferId, PlanId, StepId};
use peps_core::plans::{Orientation, StepDraft};
use peps_core::services::{NewStep, PlanChange, PlanView as CorePlanView, StepDetail};

pub struct PlansApi;

#[derive(Object, Debug)]
pub struct NewPlanRequest {
    /// In French; translated into the person's language when a translator is configured.
    pub title: String,
}

/// An edit: absent fields stay. The plan's version as read (its `ETag`) goes in `If-Match`.
#[derive(Object, Debug)]
pub struct PlanPatch {
    pub title: Option<String>,
    pub status: Option<PlanStatusName>,
}

/// Either a catalogue offer (`offer_id`) or a place described by hand (`name` and details).
#[derive(Object, Debug, Clone)]
pub struct OrientationInput {
    pub offer_id: Option<Uuid>,
    pub name: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub url: Option<String>,
}

impl From<OrientationInput> for Orientation {
    fn from(o: OrientationInput) -> Self {
        match o.offer_id {
            Some(id) => Orientation::Offer { offer: OfferId(id) },
            None => Orientation::Place {
                name: o.name.unwrap_or_default(),
                address: o.address,
                phone: o.phone,
                email: o.email,
                url: o.url,
            },
        }
    }
}

/// A new step: from a template (`template_id`, its texts adaptable field by field) or free
/// text (`title` at least). Texts are in French.
#[derive(Object, Debug)]
pub struct NewStepRequest {
    pub template_id: Option<String>,
    pub title: Option<String>,
    pub explanation: Option<String>,
    /// What to do, in order.
    pub tasks: Option<Vec<String>>,
    pub who_acts: Option<WhoActsName>,
    pub orientation: Option<OrientationInput>,
    pub due_on: Option<NaiveDate>,
    /// Local time at the place, e.g. `2026-12-03T14:30:00`.
    pub appointment_at: Option<NaiveDateTime>,
    /// Document kinds (wallet kinds); the template's when absent.
    pub documents: Option<Vec<String>>,
    /// Seen by the workers of the plan only.
    pub private_note: Option<String>,
}

/// An edit: absent fields stay; `null` clears an optional one. The step's `version` as read
/// goes in `If-Match`.
#[derive(Object, Debug)]
pub struct StepPatch {
    pub title: Option<String>,
    pub explanation: Option<String>,
    pub tasks: Option<Vec<String>>,
    pub who_acts: Option<WhoActsName>,
    pub orientation: MaybeUndefined<OrientationInput>,
    pub due_on: MaybeUndefined<NaiveDate>,
    pub appointment_at: MaybeUndefined<NaiveDateTime>,
    pub documents: Option<Vec<String>>,
    pub private_note: MaybeUndefined<String>,
}

#[derive(Object, Debug)]
pub struct StatusRequest {
    /// The person may set `in_progress`, `done` or `abandoned_by_person`; the plan's workers
    /// any status.
    pub status: StepStatusName,
}

#[derive(Object, Debug)]
pub struct OrderRequest {
    /// Every step of the plan, once, in the new order.
    pub step_ids: Vec<Uuid>,
}

#[derive(Object, Debug)]
pub struct MessageRequest {
    pub body: String,
}

#[derive(Object, Debug)]
pub struct WorkerRequest {
    pub worker_id: Uuid,
}

#[derive(ApiResponse)]
pub enum PrintPage {
    /// A page designed for print (or "save as PDF"): the person's language and French side by
    /// side.
    #[oai(status = 200)]
    Ok(
        Html<String>,
        #[oai(header = "Content-Security-Policy")] String,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// `lang`, else the reader's own language; French readers' browsers may still ask for
/// another language (a worker printing for a person at the counter).
pub(super) fn reading_language(
    req: &Request,
    lang: Option<&str>,
    reader: &Account,
) -> ApiResult<Language> {
    if lang.is_some() || reader.language.code() == Language::REFERENCE {
        return super::catalogue::reader_language(req, lang);
    }
    Ok(reader.language.clone())
}

fn maybe<T, U>(value: MaybeUndefined<T>, map: impl FnOnce(T) -> U) -> Option<Option<U>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(map(v))),
    }
}

fn step_reading(step: &StepDetail, language: &Language) -> StepView {
    step_view(&step.step, language.code(), &step.offers)
}

/// A step as its reader sees it, with its version as `ETag`.
fn tagged_step(step: &StepDetail, language: &Language) -> Tagged<StepView> {
    Tagged::new(step_reading(step, language), step.step.version)
}

#[OpenApi(tag = "Tag::Plans")]
impl PlansApi {
    /// A person's referent starts a plan for them.
    #[oai(path = "/api/v1/persons/:id/plans", method = "post")]
    async fn create(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<NewPlanRequest>,
    ) -> ApiResult<TaggedCreated<PlanView>> {
        let language = reading_language(req, None, &auth.0.account)?;
        let detail = state
            .plans
            .create_plan(&auth.0.actor, AccountId(id.0), &body.0.title)
            .await?;
        Ok(TaggedCreated::new(
            plan_view(&detail, &language),
            detail.plan.version,
        ))
    }

    /// A person's plans that the reader may see (admins: metadata only).
    #[oai(path = "/api/v1/persons/:id/plans", method = "get")]
    async fn list(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        lang: Query<Option<String>>,
    ) -> ApiResult<Json<Vec<PlanSummaryView>>> {
        let language = reading_language(req, lang.0.as_deref(), &auth.0.account)?;
        let plans = state.plans.plans_of(&auth.0.actor, AccountId(id.0)).await?;
        Ok(Json(
            plans
                .iter()
                .map(|p| summary_view(p, language.code()))
                .collect(),
        ))
    }

    /// A plan in the reader's language (`lang`, else their profile's, else Accept-Language):
    /// every text says its language, direction and provenance, and falls back to French
    /// visibly. Its `ETag` is the version to send in `If-Match` when editing it. Admins get
    /// metadata only (and no `ETag`).
    #[oai(path = "/api/v1/plans/:id", method = "get")]
    async fn one(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        lang: Query<Option<String>>,
    ) -> ApiResult<MaybeTagged<PlanReading>> {
        let language = reading_language(req, lang.0.as_deref(), &auth.0.account)?;
        Ok(match state.plans.plan(&auth.0.actor, PlanId(id.0)).await? {
            CorePlanView::Full(detail) => MaybeTagged::new(
                PlanReading::Full(plan_view(&detail, &language)),
                Some(detail.plan.version),
            ),
            // Admins do not edit plans: no version to send back.
            CorePlanView::Metadata(m) => MaybeTagged::new(PlanReading::Metadata(m.into()), None),
        })
    }

    /// The plan's workers: rename, close or reopen it. `If-Match` must carry the version
    /// being edited (the plan's `ETag`).
    #[oai(path = "/api/v1/plans/:id", method = "patch")]
    async fn update(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: Json<PlanPatch>,
    ) -> ApiResult<Tagged<PlanView>> {
        let version = PLAN.required(if_match.0.as_deref())?;
        let language = reading_language(req, None, &auth.0.account)?;
        let body = body.0;
        let detail = state
            .plans
            .update_plan(
                &auth.0.actor,
                PlanId(id.0),
                PlanChange {
                    version,
                    title: body.title,
                    status: body.status.map(Into::into),
                },
            )
            .await?;
        Ok(Tagged::new(
            plan_view(&detail, &language),
            detail.plan.version,
        ))
    }

    /// The plan's workers: add a step at the end, from a template or free text.
    #[oai(path = "/api/v1/plans/:id/steps", method = "post")]
    async fn add_step(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<NewStepRequest>,
    ) -> ApiResult<TaggedCreated<StepView>> {
        let language = reading_language(req, None, &auth.0.account)?;
        let body = body.0;
        let step = state
            .plans
            .add_step(
                &auth.0.actor,
                PlanId(id.0),
                NewStep {
                    template: body.template_id,
                    draft: StepDraft {
                        title: body.title,
                        explanation: body.explanation,
                        tasks: body.tasks,
                        who_acts: body.who_acts.map(Into::into),
                        orientation: body.orientation.map(|o| Some(o.into())),
                        due_on: body.due_on.map(Some),
                        appointment_at: body.appointment_at.map(Some),
                        documents: body.documents,
                        private_note: body.private_note.map(Some),
                    },
                },
            )
            .await?;
        Ok(TaggedCreated::new(
            step_reading(&step, &language),
            step.step.version,
        ))
    }

    /// The plan's workers: edit a step. A French field that changes loses its translations
    /// until translated again (the reader sees the French, flagged as a fallback). `If-Match`
    /// must carry the version being edited (the step's `version`, or the `ETag` of its last
    /// write).
    #[oai(path = "/api/v1/plans/:id/steps/:step_id", method = "patch")]
    #[allow(clippy::too_many_arguments)]
    async fn update_step(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        step_id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: Json<StepPatch>,
    ) -> ApiResult<Tagged<StepView>> {
        let version = STEP.required(if_match.0.as_deref())?;
        let language = reading_language(req, None, &auth.0.account)?;
        let body = body.0;
        let step = state
            .plans
            .update_step(
                &auth.0.actor,
                PlanId(id.0),
                StepId(step_id.0),
                version,
                StepDraft {
                    title: body.title,
                    explanation: body.explanation,
                    tasks: body.tasks,
                    who_acts: body.who_acts.map(Into::into),
                    orientation: maybe(body.orientation, Into::into),
                    due_on: maybe(body.due_on, |d| d),
                    appointment_at: maybe(body.appointment_at, |a| a),
                    documents: body.documents,
                    private_note: maybe(body.private_note, |n| n),
                },
            )
            .await?;
        Ok(tagged_step(&step, &language))
    }

    /// Move a step on. The person reports progress (in progress, done, given up); the plan's
    /// workers set any status. Who and when are kept in the history.
    #[oai(path = "/api/v1/plans/:id/steps/:step_id/status", method = "put")]
    async fn set_status(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        step_id: Path<Uuid>,
        body: Json<StatusRequest>,
    ) -> ApiResult<Tagged<StepView>> {
        let language = reading_language(req, None, &auth.0.account)?;
        let step = state
            .plans
            .set_step_status(
                &auth.0.actor,
                PlanId(id.0),
                StepId(step_id.0),
                body.0.status.into(),
            )
            .await?;
        Ok(tagged_step(&step, &language))
    }

    /// The plan's workers: put the steps in a new order.
    #[oai(path = "/api/v1/plans/:id/order", method = "put")]
    async fn reorder(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<OrderRequest>,
    ) -> ApiResult<Tagged<PlanView>> {
        let language = reading_language(req, None, &auth.0.account)?;
        let order: Vec<StepId> = body.0.step_ids.into_iter().map(StepId).collect();
        let detail = state
            .plans
            .reorder_steps(&auth.0.actor, PlanId(id.0), &order)
            .await?;
        Ok(Tagged::new(
            plan_view(&detail, &language),
            detail.plan.version,
        ))
    }

    /// A step's message thread (the person and the plan's workers).
    #[oai(path = "/api/v1/plans/:id/steps/:step_id/messages", method = "get")]
    async fn messages(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        step_id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<MessageView>>> {
        let thread = state
            .plans
            .messages(&auth.0.actor, PlanId(id.0), StepId(step_id.0))
            .await?;
        Ok(Json(thread.into_iter().map(Into::into).collect()))
    }

    /// The person asks a question on a step, or a worker answers.
    #[oai(path = "/api/v1/plans/:id/steps/:step_id/messages", method = "post")]
    async fn post_message(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        step_id: Path<Uuid>,
        body: Json<MessageRequest>,
    ) -> ApiResult<Created<MessageView>> {
        let message = state
            .plans
            .post_message(&auth.0.actor, PlanId(id.0), StepId(step_id.0), &body.0.body)
            .await?;
        Ok(Created::Created(Json(message.into())))
    }

    /// Every change to the plan, oldest first: who, when, what.
    #[oai(path = "/api/v1/plans/:id/history", method = "get")]
    async fn history(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<HistoryEntryView>>> {
        let lines = state.plans.history(&auth.0.actor, PlanId(id.0)).await?;
        Ok(Json(lines.iter().map(history_view).collect()))
    }

    /// The person: let another worker read and edit this plan.
    #[oai(path = "/api/v1/plans/:id/workers", method = "post")]
    async fn allow_worker(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<WorkerRequest>,
    ) -> ApiResult<TaggedDone> {
        let plan = state
            .plans
            .allow_worker(&auth.0.actor, PlanId(id.0), AccountId(body.0.worker_id))
            .await?;
        Ok(TaggedDone::new(plan.version))
    }

    /// The person: take a worker off this plan, with immediate effect.
    #[oai(path = "/api/v1/plans/:id/workers/:worker_id", method = "delete")]
    async fn remove_worker(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        worker_id: Path<Uuid>,
    ) -> ApiResult<TaggedDone> {
        let plan = state
            .plans
            .remove_worker(&auth.0.actor, PlanId(id.0), AccountId(worker_id.0))
            .await?;
        Ok(TaggedDone::new(plan.version))
    }

    /// A page to print (or save as PDF) for someone without a device: the plan in the
    /// person's language (or `lang`) beside the French, right-to-left scripts laid out as such.
    #[oai(path = "/api/v1/plans/:id/print", method = "get")]
    async fn print(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        lang: Query<Option<String>>,
    ) -> ApiResult<PrintPage> {
        let detail = state.plans.plan_detail(&auth.0.actor, PlanId(id.0)).await?;
        // The person's language by default: the sheet is for them, whoever prints it.
        let language = match lang.0.as_deref() {
            Some(code) => {
                Language::parse(code).map_err(|e| ApiError::from(peps_core::CoreError::from(e)))?
            }
            None => detail.person.language.clone(),
        };
        let today = state.catalogue.local_now().date();
        Ok(PrintPage::Ok(
            Html(crate::plan_print::render(&detail, &language, today)),
            crate::plan_print::CONTENT_SECURITY_POLICY.to_owned(),
            "private, no-store".to_owned(),
        ))
    }
}
