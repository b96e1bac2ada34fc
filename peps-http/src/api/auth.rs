//! Logging in and out, activation, and one's own account.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use super::views::{Account, Done, Mandate, Me, Session};
use crate::auth::{BearerAuth, client_info};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use peps_core::services::{ClientInfo, LoginOutcome};

pub struct AuthApi;

#[derive(Debug, Object)]
pub struct LoginRequest {
    /// Email address, or the login name printed on the activation sheet (as for activation).
    pub login: Option<String>,
    /// Accepted in place of `login`, for clients written before it existed.
    pub email: Option<String>,
    pub password: String,
    /// The `device_token` this device received at its last sign-in, if any.
    pub device_token: Option<String>,
}

#[derive(Debug, Object)]
pub struct ActivateRequest {
    /// The login printed on the activation sheet (or the email).
    pub login: String,
    /// The one-time code, e.g. `K7M3Q-9XH2W` (case, spaces and dashes do not matter).
    pub code: String,
    /// The password the holder chooses.
    pub password: String,
}

#[derive(Debug, Object)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Object)]
pub struct SetLanguage {
    /// A code from `GET /api/v1/languages`.
    pub language: String,
}

#[derive(Debug, Object)]
pub struct LoggedOut {
    /// How many sessions were ended.
    pub ended: u64,
}

fn session(outcome: LoginOutcome) -> Json<Session> {
    Json(Session {
        token: outcome.token.expose().to_owned(),
        token_type: "Bearer".to_owned(),
        expires_at: outcome.session.expires_at,
        account: outcome.account.into(),
        device_token: outcome.device_token,
    })
}

#[OpenApi(tag = "Tag::Auth")]
impl AuthApi {
    /// Log in with `login` (email or printed login name; `email` is accepted too) and password.
    /// The same error answers an unknown login and a wrong password. Repeated failures from
    /// one address get 429 with Retry-After; failures on one login from everywhere only slow
    /// guesses down, and never a device that sends its `device_token`.
    #[oai(path = "/api/v1/auth/login", method = "post")]
    async fn login(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> ApiResult<Json<Session>> {
        let body = body.0;
        let Some(login) = body.login.or(body.email) else {
            return Err(ApiError::invalid("login", "auth.login_required"));
        };
        let client = ClientInfo {
            known_device: body.device_token,
            ..client_info(req, &state)
        };
        let outcome = state
            .identity
            .login(&login, &body.password, &client)
            .await?;
        Ok(session(outcome))
    }

    /// Activate an account (or reset a forgotten password) with a one-time code handed over
    /// by a referent or an admin, choosing a password. Logs in.
    #[oai(path = "/api/v1/auth/activate", method = "post")]
    async fn activate(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<ActivateRequest>,
    ) -> ApiResult<Json<Session>> {
        let client = client_info(req, &state);
        let outcome = state
            .identity
            .activate(&body.login, &body.code, &body.password, &client)
            .await?;
        Ok(session(outcome))
    }

    /// End this session.
    #[oai(path = "/api/v1/auth/logout", method = "post")]
    async fn logout(&self, state: Data<&AppState>, auth: BearerAuth) -> ApiResult<Done> {
        state.identity.logout(auth.0.session).await?;
        Ok(Done::Done)
    }

    /// End every session of this account, on every device.
    #[oai(path = "/api/v1/auth/logout-all", method = "post")]
    async fn logout_all(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> ApiResult<Json<LoggedOut>> {
        let ended = state.identity.logout_everywhere(&auth.0.actor).await?;
        Ok(Json(LoggedOut { ended }))
    }

    /// The logged-in account, its organisations and its reading direction.
    #[oai(path = "/api/v1/me", method = "get")]
    async fn me(&self, auth: BearerAuth) -> ApiResult<Json<Me>> {
        let direction = auth.0.account.language.direction().into();
        Ok(Json(Me {
            organisation_ids: auth.0.actor.organisations.iter().map(|o| o.0).collect(),
            account: auth.0.account.into(),
            direction,
        }))
    }

    /// Change one's password. Every session ends: log in again.
    #[oai(path = "/api/v1/me/password", method = "put")]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<ChangePassword>,
    ) -> ApiResult<Done> {
        state
            .identity
            .change_password(&auth.0.actor, &body.current_password, &body.new_password)
            .await?;
        Ok(Done::Done)
    }

    /// Choose the language PEPS speaks to you.
    #[oai(path = "/api/v1/me/language", method = "put")]
    async fn set_language(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<SetLanguage>,
    ) -> ApiResult<Json<Account>> {
        let account = state
            .identity
            .set_my_language(&auth.0.actor, &body.language)
            .await?;
        Ok(Json(account.into()))
    }

    /// For helpers: the mandates you hold, valid or not.
    #[oai(path = "/api/v1/me/mandates", method = "get")]
    async fn my_mandates(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> ApiResult<Json<Vec<Mandate>>> {
        let now = state.identity.now();
        let mandates = state.identity.my_mandates(&auth.0.actor).await?;
        Ok(Json(
            mandates
                .into_iter()
                .map(|m| Mandate::from_domain(m, now))
                .collect(),
        ))
    }
}
