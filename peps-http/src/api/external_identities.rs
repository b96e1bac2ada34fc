//! Identity providers from the API: one's own links (list, unlink) and, for admins, the staff
//! members a provider vouched for whom no account matched. Linking itself happens in a browser
//! (the provider's pages), so there is no "link" call here.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::views::{Account, Done, Organisation};
use crate::auth::BearerAuth;
use crate::problem::ApiResult;
use crate::state::AppState;
use peps_core::domain::{self as d, SignInRequestId};
use peps_core::services::SignInRequestView;

pub struct ExternalIdentitiesApi;

/// An identity provider one's account is linked to.
#[derive(Debug, Object)]
pub struct ExternalLink {
    /// The provider's key in the configuration (`franceconnect`, `proconnect`).
    pub provider: String,
    /// What the sign-in button says.
    pub label: String,
    pub linked_at: DateTime<Utc>,
}

/// A staff member's sign-in through a provider that no account matched, waiting for an admin.
#[derive(Debug, Object)]
pub struct SignInRequest {
    pub id: Uuid,
    pub provider: String,
    pub provider_label: String,
    pub email: Option<String>,
    /// Whether the provider vouches for the email.
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// The employer's SIRET, as the provider sent it.
    pub siret: Option<String>,
    pub requested_at: DateTime<Utc>,
    /// The staff account that has this email, if any.
    pub suggested_account: Option<SuggestedAccount>,
}

#[derive(Debug, Object)]
pub struct SuggestedAccount {
    pub account: Account,
    pub organisations: Vec<Organisation>,
    /// Whether the SIRET sent is one of these organisations'.
    pub employer_matches: bool,
}

#[derive(Debug, Object)]
pub struct ApproveSignInRequest {
    /// The login (email or login name) of the staff account to link the identity to.
    pub login: String,
}

impl From<SignInRequestView> for SignInRequest {
    fn from(v: SignInRequestView) -> Self {
        let r = v.request;
        Self {
            id: r.id.0,
            provider: r.provider,
            provider_label: v.provider_label,
            email: r.email,
            email_verified: r.email_verified,
            given_name: r.given_name,
            family_name: r.family_name,
            siret: r.siret,
            requested_at: r.requested_at,
            suggested_account: v.suggested.map(|s| SuggestedAccount {
                account: s.account.into(),
                organisations: s.organisations.into_iter().map(Into::into).collect(),
                employer_matches: s.employer_matches,
            }),
        }
    }
}

fn link_view(state: &AppState, link: d::ExternalLink) -> ExternalLink {
    let label = state
        .identity
        .providers()
        .iter()
        .find(|p| p.provider.key() == link.provider)
        .map_or_else(|| link.provider.clone(), |p| p.label.clone());
    ExternalLink {
        provider: link.provider,
        label,
        linked_at: link.linked_at,
    }
}

#[OpenApi(tag = "Tag::Auth")]
impl ExternalIdentitiesApi {
    /// The identity providers (FranceConnect, ProConnect) one's account is linked to.
    #[oai(path = "/api/v1/auth/external-links", method = "get")]
    async fn my_links(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> ApiResult<Json<Vec<ExternalLink>>> {
        let links = state.identity.my_external_links(&auth.0.actor).await?;
        Ok(Json(
            links.into_iter().map(|l| link_view(&state, l)).collect(),
        ))
    }

    /// Unlinks one's account from a provider; written to one's trail. Signing in through that
    /// provider then asks to link again.
    #[oai(path = "/api/v1/auth/external-links/:provider", method = "delete")]
    async fn unlink(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        provider: Path<String>,
    ) -> ApiResult<Done> {
        state
            .identity
            .unlink_external(&auth.0.actor, &provider.0)
            .await?;
        Ok(Done::Done)
    }

    /// Staff members a provider vouched for whom no account matched, oldest first. Admins.
    #[oai(path = "/api/v1/admin/sign-in-requests", method = "get")]
    async fn requests(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> ApiResult<Json<Vec<SignInRequest>>> {
        let requests = state.identity.sign_in_requests(&auth.0.actor).await?;
        Ok(Json(requests.into_iter().map(Into::into).collect()))
    }

    /// Links the request's identity to a staff account and closes the request: that staff
    /// member's next sign-in through the provider opens the account. Admins.
    #[oai(path = "/api/v1/admin/sign-in-requests/:id/approve", method = "post")]
    async fn approve(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<ApproveSignInRequest>,
    ) -> ApiResult<Json<Account>> {
        let account = state
            .identity
            .approve_sign_in_request(&auth.0.actor, SignInRequestId(id.0), &body.login)
            .await?;
        Ok(Json(account.into()))
    }

    /// Refuses a request: nothing is linked. Admins.
    #[oai(path = "/api/v1/admin/sign-in-requests/:id", method = "delete")]
    async fn refuse(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Done> {
        state
            .identity
            .refuse_sign_in_request(&auth.0.actor, SignInRequestId(id.0))
            .await?;
        Ok(Done::Done)
    }
}
