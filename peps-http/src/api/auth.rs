//! Logging in and out, activation, and one's own account.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use super::views::{Account, Done, Mandate, Me, Session};
use crate::auth::{BearerAuth, SessionHolderAuth, client_info};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use peps_core::domain::AccountId;
use peps_core::services::{ClientInfo, LoginOutcome, SecondFactorStatus};
use poem_openapi::param::Path;

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
pub struct SecondFactorCode {
    /// The six digits the authenticator shows (spaces allowed), or one of the recovery codes.
    pub code: String,
}

#[derive(Debug, Object)]
pub struct SecondFactorState {
    /// Whether this account's role may use a second factor (staff).
    pub offered: bool,
    /// Whether this account's role must (admins always; workers and members by configuration).
    pub required: bool,
    pub enrolled: bool,
    pub recovery_codes_left: u32,
    /// This session's assurance: `awaiting_second_factor`, `single` or `strong`.
    pub session: String,
}

impl From<SecondFactorStatus> for SecondFactorState {
    fn from(s: SecondFactorStatus) -> Self {
        Self {
            offered: s.offered,
            required: s.required,
            enrolled: s.enrolled,
            recovery_codes_left: u32::try_from(s.recovery_codes_left).unwrap_or(u32::MAX),
            session: s.session.as_str().to_owned(),
        }
    }
}

/// What an authenticator app needs. Shown once; not stored anywhere but in PEPS's database.
#[derive(Debug, Object)]
pub struct EnrolmentStart {
    /// `otpauth://totp/…`, for a QR code.
    pub otpauth_uri: String,
    /// The same secret in base32, to type by hand.
    pub secret: String,
}

#[derive(Debug, Object)]
pub struct RecoveryCodes {
    /// Ten one-time codes, shown once: each opens a session when the phone is lost.
    pub recovery_codes: Vec<String>,
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
        assurance: outcome.session.assurance.as_str().to_owned(),
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

    /// This session's second factor: whether it is required, set up, and passed.
    #[oai(path = "/api/v1/auth/second-factor", method = "get")]
    async fn second_factor(
        &self,
        state: Data<&AppState>,
        auth: SessionHolderAuth,
    ) -> ApiResult<Json<SecondFactorState>> {
        let status = state.identity.second_factor_status(&auth.0).await?;
        Ok(Json(status.into()))
    }

    /// Pass the second factor with a code from the authenticator or a recovery code: the
    /// session becomes strong. A code is accepted once; wrong codes are rate-limited like
    /// passwords.
    #[oai(path = "/api/v1/auth/second-factor", method = "post")]
    async fn pass_second_factor(
        &self,
        state: Data<&AppState>,
        auth: SessionHolderAuth,
        body: Json<SecondFactorCode>,
    ) -> ApiResult<Json<SecondFactorState>> {
        state
            .identity
            .pass_second_factor(&auth.0, &body.code)
            .await?;
        let holder = peps_core::services::SessionHolder {
            session: peps_core::domain::Session {
                assurance: peps_core::domain::Assurance::Strong,
                ..auth.0.session
            },
            account: auth.0.account,
        };
        let status = state.identity.second_factor_status(&holder).await?;
        Ok(Json(status.into()))
    }

    /// Start setting up an authenticator app or TOTP card (staff only). Replacing one that is
    /// already set up needs a strong session.
    #[oai(path = "/api/v1/auth/second-factor/enrolment", method = "post")]
    async fn begin_enrolment(
        &self,
        state: Data<&AppState>,
        auth: SessionHolderAuth,
    ) -> ApiResult<Json<EnrolmentStart>> {
        let enrolment = state.identity.begin_enrolment(&auth.0).await?;
        Ok(Json(EnrolmentStart {
            otpauth_uri: enrolment.otpauth_uri,
            secret: enrolment.secret,
        }))
    }

    /// Confirm the authenticator with its first code: from now on it is asked at every
    /// sign-in, this session is strong, and the recovery codes are returned, once.
    #[oai(path = "/api/v1/auth/second-factor/enrolment/confirm", method = "post")]
    async fn confirm_enrolment(
        &self,
        state: Data<&AppState>,
        auth: SessionHolderAuth,
        body: Json<SecondFactorCode>,
    ) -> ApiResult<Json<RecoveryCodes>> {
        let recovery_codes = state
            .identity
            .confirm_enrolment(&auth.0, &body.code)
            .await?;
        Ok(Json(RecoveryCodes { recovery_codes }))
    }

    /// New recovery codes; the old ones stop working. Needs a strong session.
    #[oai(path = "/api/v1/auth/second-factor/recovery-codes", method = "post")]
    async fn renew_recovery_codes(
        &self,
        state: Data<&AppState>,
        auth: SessionHolderAuth,
    ) -> ApiResult<Json<RecoveryCodes>> {
        let recovery_codes = state.identity.renew_recovery_codes(&auth.0).await?;
        Ok(Json(RecoveryCodes { recovery_codes }))
    }

    /// Remove an account's second factor: its holder (where the role does not require one)
    /// or an admin, for someone who lost their phone. Every session of that account ends.
    #[oai(path = "/api/v1/accounts/:id/second-factor", method = "delete")]
    async fn remove_second_factor(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<uuid::Uuid>,
    ) -> ApiResult<Done> {
        state
            .identity
            .remove_second_factor(&auth.0.actor, AccountId(id.0))
            .await?;
        Ok(Done::Done)
    }
}
