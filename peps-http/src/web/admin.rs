//! Admin pages: the staff members a provider vouched for whom no account matched, and the
//! messages the outbox could not send. Each page calls the use cases, which refuse anyone
//! but an admin (whose session is always strong).

use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{Request, Response, Route, get, handler};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::pages::{
    core_error_page, here, query_param, redirect, signed_in_form, signed_in_page, site, t,
};
use super::views::FieldError;
use super::visit::Visit;
use crate::state::AppState;
use peps_core::CoreError;
use peps_core::domain::{Language, OutboxId, SignInRequestId};
use peps_core::i18n;
use peps_core::services::{ParkedMessage, SignInRequestView};

/// The language routes with the admin pages added.
pub fn with_admin_routes(route: Route) -> Route {
    route
        .at("/admin/sign-in-requests", get(requests))
        .at("/admin/sign-in-requests/:id/approve", poem::post(approve))
        .at("/admin/sign-in-requests/:id/refuse", poem::post(refuse))
        .at("/admin/outbox", get(outbox))
        .at("/admin/outbox/:id/retry", poem::post(retry))
        .at("/admin/outbox/:id/discard", poem::post(discard))
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestsPage {
    pub requests: Vec<RequestView>,
    pub notice: Option<String>,
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    pub id: String,
    /// The name the provider sent, else the email.
    pub name: String,
    pub provider: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub siret: Option<String>,
    pub requested_on: String,
    pub suggested: Option<SuggestedView>,
    /// What the login field holds: the email, or what the admin typed last.
    pub login: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuggestedView {
    pub name: String,
    pub login: String,
    pub organisations: String,
    pub employer_matches: bool,
    pub siret_sent: bool,
}

fn view(request: SignInRequestView, lang: &Language) -> RequestView {
    let r = request.request;
    let name = match (&r.given_name, &r.family_name) {
        (Some(given), Some(family)) => format!("{given} {family}"),
        (Some(one), None) | (None, Some(one)) => one.clone(),
        (None, None) => r.email.clone().unwrap_or_else(|| r.subject.clone()),
    };
    RequestView {
        id: r.id.0.to_string(),
        name,
        provider: request.provider_label,
        // The account the email names, if any; otherwise the email, for the admin to correct.
        login: request
            .suggested
            .as_ref()
            .map(|s| s.account.login.as_str().to_owned())
            .or_else(|| r.email.clone())
            .unwrap_or_default(),
        email: r.email,
        email_verified: r.email_verified,
        siret: r.siret.clone(),
        requested_on: i18n::format_date(r.requested_at.date_naive(), lang.code()),
        suggested: request.suggested.map(|s| SuggestedView {
            name: s.account.display_name.as_str().to_owned(),
            login: s.account.login.as_str().to_owned(),
            organisations: s
                .organisations
                .iter()
                .map(|o| o.name.as_str().to_owned())
                .collect::<Vec<_>>()
                .join(", "),
            employer_matches: s.employer_matches,
            siret_sent: r.siret.is_some(),
        }),
    }
}

/// `GET /{lang}/admin/sign-in-requests`.
#[handler]
async fn requests(req: &Request, state: Data<&AppState>, lang: Data<&Language>) -> Response {
    let visit = Visit::of(req, &state).await;
    let notice = query_param(req, "done").and_then(|done| match done.as_str() {
        "approved" => Some(t("web.admin.requests.approved", &lang)),
        "refused" => Some(t("web.admin.requests.refused", &lang)),
        _ => None,
    });
    render(req, &state, &lang, &visit, notice, None).await
}

/// The list, with the error of a failed approval beside that request's field.
async fn render(
    req: &Request,
    state: &AppState,
    lang: &Language,
    visit: &Visit,
    notice: Option<String>,
    failed: Option<(Uuid, String, CoreError)>,
) -> Response {
    let actor = match signed_in_page(visit, lang) {
        Ok(viewer) => viewer.actor.clone(),
        Err(elsewhere) => return *elsewhere,
    };
    let listed = match state.identity.sign_in_requests(&actor).await {
        Ok(listed) => listed,
        Err(err) => return core_error_page(state, req, lang, visit, &err),
    };
    let mut errors = Vec::new();
    let mut waiting: Vec<RequestView> = listed.into_iter().map(|r| view(r, lang)).collect();
    if let Some((id, login, err)) = failed {
        let id = id.to_string();
        if let Some(r) = waiting.iter_mut().find(|r| r.id == id) {
            r.login = login;
        }
        errors.push(FieldError {
            field: format!("login-{id}"),
            message: i18n::error_message(err.code(), lang.code()),
        });
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    site(state).page(
        status,
        "admin_requests.html",
        lang,
        &here(req, lang),
        &t("web.admin.requests.title", lang),
        visit,
        &RequestsPage {
            requests: waiting,
            notice,
            errors,
        },
    )
}

#[derive(Debug, Deserialize)]
struct ApproveForm {
    csrf: Option<String>,
    #[serde(default)]
    login: String,
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
}

/// `POST /{lang}/admin/sign-in-requests/{id}/approve`.
#[handler]
async fn approve(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    Path(id): Path<Uuid>,
    form: Form<ApproveForm>,
) -> Response {
    let (visit, actor) = match signed_in_form(req, &state, &lang, form.csrf.as_deref()).await {
        Ok(signed_in) => signed_in,
        Err(refused) => return refused,
    };
    let login = form.login.trim().to_owned();
    match state
        .identity
        .approve_sign_in_request(&actor, SignInRequestId(id), &login)
        .await
    {
        Ok(_) => redirect(&format!(
            "/{}/admin/sign-in-requests?done=approved",
            lang.code()
        )),
        Err(err @ (CoreError::Invalid(_) | CoreError::InvalidFields(_))) => {
            render(req, &state, &lang, &visit, None, Some((id, login, err))).await
        }
        Err(err) => core_error_page(&state, req, &lang, &visit, &err),
    }
}

/// `POST /{lang}/admin/sign-in-requests/{id}/refuse`.
#[handler]
async fn refuse(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    Path(id): Path<Uuid>,
    form: Form<CsrfForm>,
) -> Response {
    let (visit, actor) = match signed_in_form(req, &state, &lang, form.csrf.as_deref()).await {
        Ok(signed_in) => signed_in,
        Err(refused) => return refused,
    };
    match state
        .identity
        .refuse_sign_in_request(&actor, SignInRequestId(id))
        .await
    {
        Ok(()) => redirect(&format!(
            "/{}/admin/sign-in-requests?done=refused",
            lang.code()
        )),
        Err(err) => core_error_page(&state, req, &lang, &visit, &err),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxPage {
    pub counts: String,
    pub parked: Vec<ParkedView>,
    pub notice: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ParkedView {
    pub id: String,
    pub channel: String,
    pub to_hint: String,
    pub purpose: String,
    pub language: String,
    /// The language's code, for the `lang` of its native name (read by a screen reader in that
    /// language's voice).
    pub language_code: String,
    pub created_on: String,
    pub attempts: u32,
    pub error: String,
}

/// `at` in the territory's local time (the admin reads it beside the people's own clocks), in
/// the reader's date style and digits.
fn local_moment(
    at: chrono::DateTime<chrono::Utc>,
    timezone: chrono_tz::Tz,
    lang: &Language,
) -> String {
    let local = at.with_timezone(&timezone);
    format!(
        "{} {}",
        i18n::format_date(local.date_naive(), lang.code()),
        i18n::format_time(local.time(), lang.code())
    )
}

fn parked_view(m: ParkedMessage, timezone: chrono_tz::Tz, lang: &Language) -> ParkedView {
    ParkedView {
        id: m.id.0.to_string(),
        channel: t(&format!("web.outbox.channel_{}", m.channel.as_str()), lang),
        to_hint: m.to_hint,
        purpose: m.purpose,
        language: m.language.info().native_name.to_owned(),
        language_code: m.language.code().to_owned(),
        created_on: local_moment(m.created_at, timezone, lang),
        attempts: m.attempts,
        error: m.last_error.unwrap_or_default(),
    }
}

/// `GET /{lang}/admin/outbox`: the messages that could not be sent, to send again or give up.
#[handler]
async fn outbox(req: &Request, state: Data<&AppState>, lang: Data<&Language>) -> Response {
    let visit = Visit::of(req, &state).await;
    let actor = match signed_in_page(&visit, &lang) {
        Ok(viewer) => viewer.actor.clone(),
        Err(elsewhere) => return *elsewhere,
    };
    let (counts, parked) = match (
        state.outbox.counts(&actor).await,
        state.outbox.parked(&actor).await,
    ) {
        (Ok(c), Ok(p)) => (c, p),
        (Err(err), _) | (_, Err(err)) => return core_error_page(&state, req, &lang, &visit, &err),
    };
    let notice = query_param(req, "done").and_then(|done| match done.as_str() {
        "retried" => Some(t("web.outbox.retried", &lang)),
        "discarded" => Some(t("web.outbox.discarded", &lang)),
        _ => None,
    });
    site(&state).page(
        StatusCode::OK,
        "admin_outbox.html",
        &lang,
        &here(req, &lang),
        &t("web.outbox.title", &lang),
        &visit,
        &OutboxPage {
            counts: i18n::text_with(
                "web.outbox.counts",
                lang.code(),
                &[
                    ("pending", &counts.pending.to_string()),
                    ("parked", &counts.parked.to_string()),
                    ("sent", &counts.sent.to_string()),
                ],
            ),
            parked: parked
                .into_iter()
                .map(|m| parked_view(m, state.outbox.settings().timezone, &lang))
                .collect(),
            notice,
        },
    )
}

/// `POST /{lang}/admin/outbox/{id}/retry`.
#[handler]
async fn retry(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    Path(id): Path<Uuid>,
    form: Form<CsrfForm>,
) -> Response {
    settle(req, &state, &lang, OutboxId(id), &form, Settle::Retry).await
}

/// `POST /{lang}/admin/outbox/{id}/discard`.
#[handler]
async fn discard(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    Path(id): Path<Uuid>,
    form: Form<CsrfForm>,
) -> Response {
    settle(req, &state, &lang, OutboxId(id), &form, Settle::Discard).await
}

enum Settle {
    Retry,
    Discard,
}

/// Retries or discards a parked message, then back to the list saying which was done.
async fn settle(
    req: &Request,
    state: &AppState,
    lang: &Language,
    id: OutboxId,
    form: &CsrfForm,
    how: Settle,
) -> Response {
    let (visit, actor) = match signed_in_form(req, state, lang, form.csrf.as_deref()).await {
        Ok(signed_in) => signed_in,
        Err(refused) => return refused,
    };
    let (done, settled) = match how {
        Settle::Retry => ("retried", state.outbox.retry(&actor, id).await),
        Settle::Discard => ("discarded", state.outbox.discard(&actor, id).await),
    };
    match settled {
        Ok(()) => redirect(&format!("/{}/admin/outbox?done={done}", lang.code())),
        Err(err) => core_error_page(state, req, lang, &visit, &err),
    }
}

/// What the rendering test shows of the outbox page in every language.
pub fn sample_outbox(lang: &Language) -> OutboxPage {
    OutboxPage {
        counts: i18n::text_with(
            "web.outbox.counts",
            lang.code(),
            &[("pending", "3"), ("parked", "1"), ("sent", "1204")],
        ),
        parked: vec![ParkedView {
            id: "00000000-0000-0000-0000-000000000002".into(),
            channel: t("web.outbox.channel_sms", lang),
            to_hint: "…78".into(),
            purpose: "plans.appointment".into(),
            language: "العربية".into(),
            language_code: "ar".into(),
            created_on: local_moment(
                chrono::DateTime::from_timestamp(1_796_313_900, 0).expect("a moment"),
                chrono_tz::Europe::Paris,
                lang,
            ),
            attempts: 10,
            error: "HTTP 503 from the provider".into(),
        }],
        notice: Some(t("web.outbox.retried", lang)),
    }
}

/// What the rendering test shows in every language.
pub fn sample(lang: &Language) -> RequestsPage {
    RequestsPage {
        requests: vec![RequestView {
            id: "00000000-0000-0000-0000-000000000001".into(),
            name: "Camille Martin".into(),
            provider: "ProConnect".into(),
            email: Some("camille.martin@ccas-auxerre.fr".into()),
            email_verified: true,
            siret: Some("21890024900015".into()),
            requested_on: i18n::format_date(
                chrono::NaiveDate::from_ymd_opt(2026, 12, 3).expect("a date"),
                lang.code(),
            ),
            suggested: Some(SuggestedView {
                name: "Camille Martin".into(),
                login: "camille.martin@ccas-auxerre.fr".into(),
                organisations: "CCAS d'Auxerre".into(),
                employer_matches: false,
                siret_sent: true,
            }),
            login: "camille.martin@ccas-auxerre.fr".into(),
        }],
        notice: None,
        errors: vec![FieldError {
            field: "login-00000000-0000-0000-0000-000000000001".into(),
            message: i18n::error_message("sign_in_request.account_role", lang.code()),
        }],
    }
}
