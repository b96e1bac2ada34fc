//! Bearer authentication: `Authorization: Bearer <token>` resolved to the acting account.

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::language::AccountLanguage;
use crate::problem::ApiError;
use crate::state::AppState;
use peps_core::services::{Authenticated, ClientInfo, SessionHolder};

/// A session token from `POST /api/v1/auth/login` or `/api/v1/auth/activate`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "opaque", checker = "check_bearer")]
pub struct BearerAuth(pub Authenticated);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Authenticated> {
    let state = req.data::<AppState>().expect("routes() attaches the state");
    let authenticated = state
        .identity
        .authenticate(&bearer.token)
        .await
        .map_err(ApiError::from)?;
    AccountLanguage::remember(req, &authenticated.account.language);
    Ok(authenticated)
}

/// A session token whatever its assurance: only the second-factor operations take it, so a
/// session still awaiting its second factor reaches nothing else.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "opaque", checker = "check_holder")]
pub struct SessionHolderAuth(pub SessionHolder);

async fn check_holder(req: &Request, bearer: Bearer) -> poem::Result<SessionHolder> {
    let state = req.data::<AppState>().expect("routes() attaches the state");
    let holder = state
        .identity
        .authenticate_holder(&bearer.token)
        .await
        .map_err(ApiError::from)?;
    AccountLanguage::remember(req, &holder.account.language);
    Ok(holder)
}

/// The client's address for rate limiting: the peer, or `X-Forwarded-For` behind a trusted
/// proxy.
pub fn client_info(req: &Request, state: &AppState) -> ClientInfo {
    let forwarded = state
        .settings
        .trust_forwarded_for
        .then(|| req.headers().get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let peer = req
        .remote_addr()
        .as_socket_addr()
        .map(|addr| addr.ip().to_string());
    ClientInfo {
        ip: forwarded.or(peer),
        known_device: None,
    }
}

/// The caller on public endpoints: `None` without an `Authorization` header; a present but
/// invalid token is refused (401), never silently treated as anonymous.
pub async fn optional_viewer(
    req: &Request,
    state: &AppState,
) -> Result<Option<Authenticated>, ApiError> {
    let Some(value) = req.headers().get(poem::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::from(peps_core::CoreError::Unauthenticated))?;
    let authenticated = state
        .identity
        .authenticate(token)
        .await
        .map_err(ApiError::from)?;
    AccountLanguage::remember(req, &authenticated.account.language);
    Ok(Some(authenticated))
}
