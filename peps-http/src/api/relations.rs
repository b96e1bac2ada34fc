//! Referents and mandates.

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::views::{Created, Done, Mandate, MandateScope, Referent};
use crate::auth::BearerAuth;
use crate::problem::ApiResult;
use crate::state::AppState;
use peps_core::domain::{AccountId, MandateId};
use peps_core::services::NewMandate;

pub struct RelationsApi;

#[derive(Debug, Object)]
pub struct NewReferent {
    pub worker_id: Uuid,
}

#[derive(Debug, Object)]
pub struct NewMandateRequest {
    pub helper_id: Uuid,
    pub scopes: Vec<MandateScope>,
    /// Now when absent.
    pub starts_at: Option<DateTime<Utc>>,
    /// At most three years after the start.
    pub ends_at: DateTime<Utc>,
    /// Wallet scopes given by the referent at the counter: the day the person gave their
    /// explicit consent (within the last 30 days). The person is alerted at once.
    pub consent_given_on: Option<NaiveDate>,
}

#[OpenApi(tag = "Tag::Relations")]
impl RelationsApi {
    /// The person's referents, past and present.
    #[oai(path = "/api/v1/persons/:id/referents", method = "get")]
    async fn referents(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<Referent>>> {
        let now = state.identity.now();
        let all = state
            .identity
            .referents(&auth.0.actor, AccountId(id.0))
            .await?;
        Ok(Json(
            all.into_iter()
                .map(|r| Referent::from_domain(r, now))
                .collect(),
        ))
    }

    /// Admins, or a current referent handing over: make a worker the person's referent.
    #[oai(path = "/api/v1/persons/:id/referents", method = "post")]
    async fn assign_referent(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<NewReferent>,
    ) -> ApiResult<Created<Referent>> {
        let referent = state
            .identity
            .assign_referent(&auth.0.actor, AccountId(id.0), AccountId(body.worker_id))
            .await?;
        Ok(Created::Created(Json(Referent::from_domain(
            referent,
            state.identity.now(),
        ))))
    }

    /// End a worker's referent relation with the person; their access ends at once.
    #[oai(path = "/api/v1/persons/:id/referents/:worker_id", method = "delete")]
    async fn end_referent(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        worker_id: Path<Uuid>,
    ) -> ApiResult<Done> {
        state
            .identity
            .end_referent(&auth.0.actor, AccountId(id.0), AccountId(worker_id.0))
            .await?;
        Ok(Done::Done)
    }

    /// The mandates a person gave, valid or not.
    #[oai(path = "/api/v1/persons/:id/mandates", method = "get")]
    async fn mandates(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<Mandate>>> {
        let now = state.identity.now();
        let all = state
            .identity
            .mandates_of_person(&auth.0.actor, AccountId(id.0))
            .await?;
        Ok(Json(
            all.into_iter()
                .map(|m| Mandate::from_domain(m, now))
                .collect(),
        ))
    }

    /// The person gives a helper a mandate. Their referent or an admin may give one for plans
    /// only; wallet scopes are the person's own (from their own password), or the referent's
    /// at the counter with `consent_given_on`. An admin gives no wallet scope.
    #[oai(path = "/api/v1/persons/:id/mandates", method = "post")]
    async fn grant_mandate(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<NewMandateRequest>,
    ) -> ApiResult<Created<Mandate>> {
        let body = body.0;
        let mandate = state
            .identity
            .grant_mandate(
                &auth.0.actor,
                AccountId(id.0),
                NewMandate {
                    helper: AccountId(body.helper_id),
                    scopes: body.scopes.into_iter().map(Into::into).collect(),
                    starts_at: body.starts_at,
                    ends_at: body.ends_at,
                    consent_given_on: body.consent_given_on,
                },
            )
            .await?;
        Ok(Created::Created(Json(Mandate::from_domain(
            mandate,
            state.identity.now(),
        ))))
    }

    /// The person, the helper or an admin revokes a mandate, with immediate effect.
    #[oai(path = "/api/v1/mandates/:id/revoke", method = "post")]
    async fn revoke_mandate(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Mandate>> {
        let mandate = state
            .identity
            .revoke_mandate(&auth.0.actor, MandateId(id.0))
            .await?;
        Ok(Json(Mandate::from_domain(mandate, state.identity.now())))
    }
}
