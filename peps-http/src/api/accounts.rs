//! Accounts: staff created by admins, persons created by workers, activation codes.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::text::Text;
use super::views::{Account, Activation, AuditEvent, Created, Role};
use crate::auth::BearerAuth;
use crate::problem::ApiResult;
use crate::state::AppState;
use peps_core::domain::{AccountId, OrganisationId};
use peps_core::services::{NewPerson, NewStaffAccount};

pub struct AccountsApi;

#[derive(Debug, Object)]
pub struct NewStaff {
    /// worker, member, helper or admin (persons are created with `POST /api/v1/persons`).
    pub role: Role,
    pub email: String,
    pub display_name: Text,
    pub language: Option<String>,
    /// For workers and members: their organisations.
    #[oai(default)]
    pub organisation_ids: Vec<Uuid>,
}

#[derive(Debug, Object)]
pub struct NewPersonRequest {
    pub display_name: Text,
    /// Optional: many people have no email; they log in with a generated login name.
    pub email: Option<String>,
    /// A mobile number for text-message notices, for people without email.
    pub phone: Option<String>,
    /// The language the person reads; French when absent.
    pub language: Option<String>,
}

#[OpenApi(tag = "Tag::Accounts")]
impl AccountsApi {
    /// Admins: create a worker, member, helper or admin account. Returns the one-time code the
    /// holder activates it with.
    #[oai(path = "/api/v1/accounts", method = "post")]
    async fn create_staff(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<NewStaff>,
    ) -> ApiResult<Created<Activation>> {
        let body = body.0;
        let issued = state
            .identity
            .create_staff_account(
                &auth.0.actor,
                NewStaffAccount {
                    role: body.role.into(),
                    email: body.email,
                    display_name: body.display_name.into(),
                    language: body.language,
                    organisations: body
                        .organisation_ids
                        .into_iter()
                        .map(OrganisationId)
                        .collect(),
                },
            )
            .await?;
        Ok(Created::Created(Json(issued.into())))
    }

    /// Admins: list accounts, by id, optionally of one role. Pass the last id as `after` for
    /// the next page.
    #[oai(path = "/api/v1/accounts", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        role: Query<Option<Role>>,
        after: Query<Option<Uuid>>,
        #[oai(
            default = "default_limit",
            validator(minimum(value = "1"), maximum(value = "200"))
        )]
        limit: Query<u32>,
    ) -> ApiResult<Json<Vec<Account>>> {
        let accounts = state
            .identity
            .list_accounts(
                &auth.0.actor,
                role.0.map(Into::into),
                after.0.map(AccountId),
                limit.0,
            )
            .await?;
        Ok(Json(accounts.into_iter().map(Into::into).collect()))
    }

    /// One account: oneself, a person one is referent of, a person whose mandate one holds,
    /// a colleague, or anyone for admins. Others get 404.
    #[oai(path = "/api/v1/accounts/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Account>> {
        let account = state
            .identity
            .account(&auth.0.actor, AccountId(id.0))
            .await?;
        Ok(Json(account.into()))
    }

    /// Admins: disable an account; its sessions end at once.
    #[oai(path = "/api/v1/accounts/:id/disable", method = "post")]
    async fn disable(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Account>> {
        let account = state
            .identity
            .disable_account(&auth.0.actor, AccountId(id.0))
            .await?;
        Ok(Json(account.into()))
    }

    /// The referent or an admin issues a new one-time code. Earlier codes stop working. For an
    /// account already active this resets the password: only for a person with no email and
    /// no phone, or with `at_counter=true` when the person asks for it at the counter (else
    /// 403 `account.reset_needs_counter_request`). The person is alerted by every channel,
    /// the reset is in their audit trail, and the new password opens none of their wallet
    /// until they change it themself.
    #[oai(path = "/api/v1/accounts/:id/activation-code", method = "post")]
    async fn activation_code(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// The person asked for a new code at the counter (a forgotten password).
        #[oai(default)]
        at_counter: Query<bool>,
    ) -> ApiResult<Created<Activation>> {
        let issued = if at_counter.0 {
            state
                .identity
                .reset_password_at_counter(&auth.0.actor, AccountId(id.0))
                .await?
        } else {
            state
                .identity
                .issue_activation_code(&auth.0.actor, AccountId(id.0))
                .await?
        };
        Ok(Created::Created(Json(issued.into())))
    }

    /// What was done with or about an account, newest first: for the holder and admins.
    #[oai(path = "/api/v1/accounts/:id/audit-events", method = "get")]
    async fn audit_events(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(
            default = "default_limit",
            validator(minimum(value = "1"), maximum(value = "500"))
        )]
        limit: Query<u32>,
    ) -> ApiResult<Json<Vec<AuditEvent>>> {
        let events = state
            .identity
            .audit_trail(&auth.0.actor, AccountId(id.0), limit.0)
            .await?;
        Ok(Json(events.into_iter().map(Into::into).collect()))
    }

    /// Workers and admins: create the account of a person (with or without email). A worker
    /// becomes the person's referent. Returns the activation sheet to print and hand over.
    #[oai(path = "/api/v1/persons", method = "post")]
    async fn create_person(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<NewPersonRequest>,
    ) -> ApiResult<Created<Activation>> {
        let body = body.0;
        let issued = state
            .identity
            .create_person(
                &auth.0.actor,
                NewPerson {
                    display_name: body.display_name.into(),
                    email: body.email,
                    phone: body.phone,
                    language: body.language,
                },
            )
            .await?;
        Ok(Created::Created(Json(issued.into())))
    }
}

fn default_limit() -> u32 {
    50
}
