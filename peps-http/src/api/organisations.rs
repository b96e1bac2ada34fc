//! Organisations and their members.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::text::Text;
use super::views::{Created, Done, Organisation, OrganisationKind};
use crate::auth::BearerAuth;
use crate::problem::ApiResult;
use crate::state::AppState;
use peps_core::domain::{AccountId, OrganisationId};
use peps_core::services::NewOrganisation;

pub struct OrganisationsApi;

#[derive(Debug, Object)]
pub struct NewOrganisationRequest {
    pub name: Text,
    pub kind: OrganisationKind,
    /// 14 digits, checked; optional.
    pub siret: Option<String>,
}

#[derive(Debug, Object)]
pub struct NewMember {
    pub account_id: Uuid,
}

#[OpenApi(tag = "Tag::Organisations")]
impl OrganisationsApi {
    /// Admins: register an organisation.
    #[oai(path = "/api/v1/organisations", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<NewOrganisationRequest>,
    ) -> ApiResult<Created<Organisation>> {
        let body = body.0;
        let organisation = state
            .identity
            .create_organisation(
                &auth.0.actor,
                NewOrganisation {
                    name: body.name.into(),
                    kind: body.kind.into(),
                    siret: body.siret,
                },
            )
            .await?;
        Ok(Created::Created(Json(organisation.into())))
    }

    /// All organisations, by name.
    #[oai(path = "/api/v1/organisations", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> ApiResult<Json<Vec<Organisation>>> {
        let all = state.identity.list_organisations(&auth.0.actor).await?;
        Ok(Json(all.into_iter().map(Into::into).collect()))
    }

    #[oai(path = "/api/v1/organisations/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Organisation>> {
        let organisation = state
            .identity
            .organisation(&auth.0.actor, OrganisationId(id.0))
            .await?;
        Ok(Json(organisation.into()))
    }

    /// Admins: attach a worker or member account to the organisation.
    #[oai(path = "/api/v1/organisations/:id/members", method = "post")]
    async fn add_member(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<NewMember>,
    ) -> ApiResult<Done> {
        state
            .identity
            .add_member(
                &auth.0.actor,
                OrganisationId(id.0),
                AccountId(body.account_id),
            )
            .await?;
        Ok(Done::Done)
    }
}
