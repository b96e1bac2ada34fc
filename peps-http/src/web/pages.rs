//! The page handlers: read the request, call one use case, render a template.

use poem::http::{HeaderValue, StatusCode, header};
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, Route, get, handler};
use serde::Deserialize;

use super::views::{self, *};
use super::visit::{self, Visit};
use super::{JS, Site};
use crate::auth::client_info;
use crate::state::AppState;
use peps_core::CoreError;
use peps_core::catalogue::ListKind;
use peps_core::catalogue::search::{Near, OpenAt, SearchQuery, Sort};
use peps_core::domain::{Assurance, Language, OfferId, PlanId, Role};
use peps_core::i18n;
use peps_core::services::{ExternalOutcome, PlanListing, SecondFactorRules, SessionHolder};

pub fn language_routes() -> Route {
    Route::new()
        .at("/", get(home))
        .at("/search", get(search))
        .at("/offers/:id", get(offer))
        .at("/sign-in", get(sign_in_form).post(sign_in))
        .at("/activate", get(activate_form).post(activate))
        .at("/account", get(account))
        .at("/plans", get(plans))
        .at("/plans/:id/print", get(plan_print))
        .at("/account/unlink/:provider", poem::post(unlink_provider))
        .at("/account/text-messages", poem::post(set_text_messages))
        .at("/sign-in/with/:provider", get(sign_in_with))
        .at(
            "/second-factor",
            get(second_factor_form).post(second_factor_submit),
        )
        .at("/sign-out", poem::post(sign_out))
        .at("/sign-out-everywhere", poem::post(sign_out_everywhere))
        .at("/languages", get(languages))
        .at("/legal", get(legal))
        .at("/accessibility", get(accessibility))
}

pub(super) fn site(state: &AppState) -> &Site {
    &state.settings.site
}

pub(super) fn redirect(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .finish()
}

/// The path of this request below its language prefix, with its query: where the language
/// links lead in another language.
pub(super) fn here(req: &Request, lang: &Language) -> String {
    let path = req.uri().path();
    let rest = path
        .strip_prefix(&format!("/{}", lang.code()))
        .unwrap_or(path);
    let rest = if rest.is_empty() { "/" } else { rest };
    match req.uri().query() {
        Some(q) if !q.is_empty() => format!("{rest}?{q}"),
        _ => rest.to_owned(),
    }
}

pub(super) fn t(key: &str, lang: &Language) -> String {
    i18n::text(key, lang.code())
}

fn error_page(
    state: &AppState,
    req: &Request,
    lang: &Language,
    visit: &Visit,
    status: StatusCode,
    message: String,
) -> Response {
    site(state).page(
        status,
        "error.html",
        lang,
        &here(req, lang),
        &t("web.error.title", lang),
        visit,
        &ErrorPage {
            status: status.as_u16(),
            message,
        },
    )
}

pub(super) fn core_error_page(
    state: &AppState,
    req: &Request,
    lang: &Language,
    visit: &Visit,
    err: &CoreError,
) -> Response {
    let status = match err {
        CoreError::NotFound => StatusCode::NOT_FOUND,
        CoreError::Denied => StatusCode::FORBIDDEN,
        CoreError::Invalid(_) | CoreError::InvalidFields(_) => StatusCode::BAD_REQUEST,
        CoreError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        CoreError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        // The request was sound but the thing moved on (already retried, edited meanwhile).
        CoreError::Conflict(_) | CoreError::Stale(_) => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    };
    if matches!(err, CoreError::Store(_)) {
        tracing::warn!(error = %err, "store error on a page");
    }
    error_page(
        state,
        req,
        lang,
        visit,
        status,
        i18n::error_message(err.code(), lang.code()),
    )
}

pub(super) fn csrf_refused(
    state: &AppState,
    req: &Request,
    lang: &Language,
    visit: &Visit,
) -> Response {
    error_page(
        state,
        req,
        lang,
        visit,
        StatusCode::FORBIDDEN,
        t("web.error.csrf", lang),
    )
}

// ---------------------------------------------------------------- static files and `/`

#[handler]
pub async fn root(req: &Request, state: Data<&AppState>) -> Response {
    let visit = Visit::of(req, &state).await;
    let lang = match &visit.viewer {
        Some(v) => v.account.language.clone(),
        None => Language::negotiate(
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        ),
    };
    let mut resp = redirect(&format!("/{}/", lang.code()));
    resp.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    resp
}

fn asset(body: Vec<u8>, content_type: &str) -> Response {
    Response::builder()
        .content_type(content_type)
        .header(header::CACHE_CONTROL, "public, max-age=86400")
        .body(body)
}

#[handler]
pub fn css(state: Data<&AppState>) -> Response {
    asset(
        site(&state).css.clone().into_bytes(),
        "text/css; charset=utf-8",
    )
}

#[handler]
pub fn js() -> Response {
    asset(JS.as_bytes().to_vec(), "text/javascript; charset=utf-8")
}

#[handler]
pub fn logo(state: Data<&AppState>) -> Response {
    match &site(&state).branding.logo {
        Some((bytes, content_type)) => asset(bytes.clone(), content_type),
        None => Response::builder().status(StatusCode::NOT_FOUND).finish(),
    }
}

// ---------------------------------------------------------------- catalogue

const RADII: [&str; 5] = ["2", "5", "10", "20", "50"];
const DEFAULT_RADIUS: &str = "10";

fn options(state: &AppState, lang: &Language, form: &SearchForm) -> SearchOptions {
    let reference = state.catalogue.reference();
    let list = |kind: ListKind, selected: &str| -> Vec<Opt> {
        reference
            .codes(kind)
            .iter()
            .map(|code| Opt {
                label: reference.label(kind, code, lang.code()).text.to_owned(),
                selected: code == selected,
                code: code.clone(),
            })
            .collect()
    };
    SearchOptions {
        themes: list(ListKind::Themes, &form.theme),
        topics: list(ListKind::TopicCategories, &form.topic),
        audiences: list(ListKind::Audiences, &form.audience),
        costs: list(ListKind::Costs, &form.cost),
        radii: RADII
            .iter()
            .map(|r| Opt {
                code: (*r).to_owned(),
                label: i18n::text_with("web.results.distance", lang.code(), &[("km", r)]),
                selected: *r == form.radius,
            })
            .collect(),
        communes: views::communes().iter().map(|c| c.name.clone()).collect(),
    }
}

#[handler]
async fn home(req: &Request, state: Data<&AppState>, lang: Data<&Language>) -> Response {
    let visit = Visit::of(req, &state).await;
    let reference = state.catalogue.reference();
    let page = HomePage {
        themes: reference
            .themes()
            .iter()
            .map(|theme| ThemeLink {
                label: reference
                    .label(ListKind::Themes, &theme.code, lang.code())
                    .text
                    .to_owned(),
                url: format!("/{}/search?theme={}", lang.code(), encode(&theme.code)),
            })
            .collect(),
        options: options(
            &state,
            &lang,
            &SearchForm {
                radius: DEFAULT_RADIUS.to_owned(),
                ..SearchForm::default()
            },
        ),
    };
    site(&state).page(
        StatusCode::OK,
        "home.html",
        &lang,
        &here(req, &lang),
        "",
        &visit,
        &page,
    )
}

#[derive(Debug, Deserialize, Default)]
struct SearchParams {
    q: Option<String>,
    commune: Option<String>,
    radius: Option<String>,
    theme: Option<String>,
    topic: Option<String>,
    audience: Option<String>,
    cost: Option<String>,
    open_now: Option<String>,
    /// "latitude,longitude", set by the "around me" enhancement (never typed by hand).
    near: Option<String>,
    cursor: Option<String>,
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn search_url(lang: &Language, form: &SearchForm, cursor: Option<&str>) -> String {
    let mut parts = Vec::new();
    for (name, value) in [
        ("q", &form.q),
        ("commune", &form.commune),
        ("radius", &form.radius),
        ("theme", &form.theme),
        ("topic", &form.topic),
        ("audience", &form.audience),
        ("cost", &form.cost),
        ("near", &form.near),
    ] {
        if !value.is_empty() {
            parts.push(format!("{name}={}", encode(value)));
        }
    }
    if form.open_now {
        parts.push("open_now=1".to_owned());
    }
    if let Some(c) = cursor {
        parts.push(format!("cursor={}", encode(c)));
    }
    format!("/{}/search?{}", lang.code(), parts.join("&"))
}

fn field_of(code: &str) -> &'static str {
    match code {
        c if c.starts_with("search.text") => "q",
        c if c.starts_with("search.radius") || c.starts_with("search.point") => "commune",
        _ => "q",
    }
}

#[handler]
async fn search(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    params: Query<SearchParams>,
) -> Response {
    let visit = Visit::of(req, &state).await;
    let p = params.0;
    let clean = |v: Option<String>| v.map(|s| s.trim().to_owned()).unwrap_or_default();
    let radius = clean(p.radius);
    let mut form = SearchForm {
        q: clean(p.q),
        commune: clean(p.commune),
        radius: if RADII.contains(&radius.as_str()) {
            radius
        } else {
            DEFAULT_RADIUS.to_owned()
        },
        theme: clean(p.theme),
        topic: clean(p.topic),
        audience: clean(p.audience),
        cost: clean(p.cost),
        open_now: p.open_now.is_some_and(|v| !v.is_empty()),
        near: String::new(),
    };
    let mut errors = Vec::new();
    let radius_km = form.radius.parse().unwrap_or(10.0);
    let near = if form.commune.is_empty() {
        // A commune typed by the reader wins over a position found by the browser.
        match clean(p.near) {
            point if point.is_empty() => None,
            point => match views::parse_point(&point) {
                Some((latitude, longitude)) => {
                    form.near = views::format_point(latitude, longitude);
                    Some(Near {
                        latitude,
                        longitude,
                        radius_km,
                    })
                }
                None => {
                    errors.push(FieldError {
                        field: "commune".to_owned(),
                        message: t("web.search.near_invalid", &lang),
                    });
                    None
                }
            },
        }
    } else {
        match views::find_commune(&form.commune) {
            Some((latitude, longitude)) => Some(Near {
                latitude,
                longitude,
                radius_km,
            }),
            None => {
                errors.push(FieldError {
                    field: "commune".to_owned(),
                    message: i18n::text_with(
                        "web.search.commune_unknown",
                        lang.code(),
                        &[("name", &form.commune)],
                    ),
                });
                None
            }
        }
    };
    let one = |v: &str| {
        if v.is_empty() {
            Vec::new()
        } else {
            vec![v.to_owned()]
        }
    };
    let query = SearchQuery {
        text: Some(form.q.clone()).filter(|q| !q.is_empty()),
        text_language: Some(lang.code().to_owned()),
        themes: one(&form.theme),
        topics: one(&form.topic),
        audiences: one(&form.audience),
        costs: one(&form.cost),
        service_types: Vec::new(),
        reception_modes: Vec::new(),
        languages: Vec::new(),
        sort: if near.is_some() && form.q.is_empty() {
            Sort::Distance
        } else {
            Sort::Relevance
        },
        near,
        communes: Vec::new(),
        departements: Vec::new(),
        eligible_commune: None,
        open: form.open_now.then_some(OpenAt::Now),
        cursor: p.cursor.filter(|c| !c.is_empty()),
        limit: 20,
        facets: false,
    };
    let has_cursor = query.cursor.is_some();
    let mut page = ResultsPage {
        options: options(&state, &lang, &form),
        form,
        errors,
        total: None,
        ignored: Vec::new(),
        cards: Vec::new(),
        next_url: None,
        first_url: None,
    };
    if page.errors.is_empty() {
        match super::search::search(&state, &query, &lang).await {
            Ok(results) => {
                let ctx = context(&state, &lang);
                page.total = Some(results.total);
                page.ignored = results.ignored_words.clone();
                page.cards = results
                    .hits
                    .iter()
                    .map(|hit| views::card(&hit.offer, hit.distance_km, &hit.matched, &ctx))
                    .collect();
                page.next_url = results
                    .next_cursor
                    .as_deref()
                    .map(|c| search_url(&lang, &page.form, Some(c)));
                page.first_url = has_cursor.then(|| search_url(&lang, &page.form, None));
            }
            Err(CoreError::Invalid(v)) => page.errors.push(FieldError {
                field: field_of(v.code).to_owned(),
                message: i18n::error_message(v.code, lang.code()),
            }),
            Err(err) => return core_error_page(&state, req, &lang, &visit, &err),
        }
    }
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let title = if page.errors.is_empty() {
        t("web.results.title", &lang)
    } else {
        format!(
            "{} {}",
            t("web.form.error_prefix", &lang),
            t("web.results.title", &lang)
        )
    };
    site(&state).page(
        status,
        "results.html",
        &lang,
        &here(req, &lang),
        &title,
        &visit,
        &page,
    )
}

fn context<'a>(state: &'a AppState, lang: &'a Language) -> views::Context<'a> {
    views::Context {
        reference: state.catalogue.reference(),
        language: lang,
        now: state.catalogue.now(),
        local_now: state.catalogue.local_now(),
        grace: state.catalogue.settings().unverified_after,
    }
}

/// How many of the offerer's other offers an offer page lists.
const OTHER_OFFERS_SHOWN: usize = 10;

#[handler]
async fn offer(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    id: Path<String>,
) -> Response {
    let visit = Visit::of(req, &state).await;
    let Ok(id) = uuid::Uuid::parse_str(&id.0) else {
        return core_error_page(&state, req, &lang, &visit, &CoreError::NotFound);
    };
    let actor = visit.viewer.as_ref().map(|v| &v.actor);
    let found = match state
        .catalogue
        .offer_page(actor, OfferId(id), OTHER_OFFERS_SHOWN)
        .await
    {
        Ok(found) => found,
        Err(err) => return core_error_page(&state, req, &lang, &visit, &err),
    };
    let page = views::offer_page(&found.offer, &found.others, &context(&state, &lang));
    site(&state).page(
        StatusCode::OK,
        "offer.html",
        &lang,
        &here(req, &lang),
        &page.title.clone(),
        &visit,
        &page,
    )
}

// ---------------------------------------------------------------- sign-in and activation

#[derive(Debug, Deserialize)]
struct SignInForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    csrf: Option<String>,
}

fn sign_in_page(
    state: &AppState,
    req: &Request,
    lang: &Language,
    visit: &Visit,
    template: &str,
    page: &SignInPage,
) -> Response {
    let (status, title_key) = match template {
        "activate.html" => (StatusCode::OK, "web.activate.title"),
        _ => (StatusCode::OK, "web.sign_in.title"),
    };
    let mut title = t(title_key, lang);
    let with_providers;
    let page = if page.providers.is_empty() && template == "sign_in.html" {
        with_providers = SignInPage {
            providers: provider_buttons(state),
            ..page.clone()
        };
        &with_providers
    } else {
        page
    };
    let status = if page.errors.is_empty() {
        status
    } else {
        title = format!("{} {title}", t("web.form.error_prefix", lang));
        StatusCode::BAD_REQUEST
    };
    site(state).page(
        status,
        template,
        lang,
        &here(req, lang),
        &title,
        visit,
        page,
    )
}

#[handler]
async fn sign_in_form(req: &Request, state: Data<&AppState>, lang: Data<&Language>) -> Response {
    let visit = Visit::of(req, &state).await;
    sign_in_page(
        &state,
        req,
        &lang,
        &visit,
        "sign_in.html",
        &SignInPage::default(),
    )
}

#[handler]
async fn activate_form(req: &Request, state: Data<&AppState>, lang: Data<&Language>) -> Response {
    let visit = Visit::of(req, &state).await;
    sign_in_page(
        &state,
        req,
        &lang,
        &visit,
        "activate.html",
        &SignInPage::default(),
    )
}

fn required(errors: &mut Vec<FieldError>, field: &str, value: &str, lang: &Language) {
    if value.trim().is_empty() {
        errors.push(FieldError {
            field: field.to_owned(),
            message: t(&format!("web.form.{field}_required"), lang),
        });
    }
}

/// Which field an identity error belongs beside.
fn identity_field(code: &str) -> &'static str {
    match code {
        "auth.activation_code_invalid" => "code",
        c if c.starts_with("account.password") => "password",
        _ => "login",
    }
}

/// Signed in: a new session cookie (never the one the browser came with), a new CSRF cookie,
/// and the session the browser held before, if any, ended.
async fn signed_in(
    state: &AppState,
    lang: &Language,
    visit: &Visit,
    outcome: peps_core::services::LoginOutcome,
) -> Response {
    if let Some(old) = &visit.viewer {
        let _ = state.identity.logout(old.session).await;
    }
    if let Some(old) = &visit.holder {
        let _ = state.identity.logout(old.session.id).await;
    }
    let new_csrf = visit::random_token();
    let next = if outcome.session.assurance == Assurance::AwaitingSecondFactor {
        // The link waits for the second factor, in this browser under its new cookie.
        if let Err(err) = state
            .identity
            .carry_pending_identity(&visit.csrf_cookie, &new_csrf)
            .await
        {
            tracing::info!(code = err.code(), "identity waiting to be linked dropped");
        }
        "second-factor".to_owned()
    } else {
        // An identity this browser brought back from a provider is linked by this sign-in
        // (never before the second factor).
        account_after_link(
            state,
            outcome.token.expose(),
            &visit.csrf_cookie,
            outcome.account.role,
        )
        .await
    };
    let mut resp = redirect(&format!("/{}/{next}", lang.code()));
    let site = site(state);
    site.set_cookie(&mut resp, visit::SESSION_COOKIE, outcome.token.expose());
    site.set_cookie(&mut resp, visit::CSRF_COOKIE, &new_csrf);
    resp
}

#[handler]
async fn sign_in(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    form: Form<SignInForm>,
) -> Response {
    let visit = Visit::of(req, &state).await;
    let form = form.0;
    if !visit.csrf_ok(form.csrf.as_deref()) {
        return csrf_refused(&state, req, &lang, &visit);
    }
    let mut page = SignInPage {
        login: form.login.trim().to_owned(),
        ..SignInPage::default()
    };
    required(&mut page.errors, "login", &form.login, &lang);
    required(&mut page.errors, "password", &form.password, &lang);
    if page.errors.is_empty() {
        let client = client_info(req, &state);
        match state
            .identity
            .login(form.login.trim(), &form.password, &client)
            .await
        {
            Ok(outcome) => return signed_in(&state, &lang, &visit, outcome).await,
            Err(err) => page.errors.push(FieldError {
                field: identity_field(err.code()).to_owned(),
                message: i18n::error_message(err.code(), lang.code()),
            }),
        }
    }
    sign_in_page(&state, req, &lang, &visit, "sign_in.html", &page)
}

#[handler]
async fn activate(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    form: Form<SignInForm>,
) -> Response {
    let visit = Visit::of(req, &state).await;
    let form = form.0;
    if !visit.csrf_ok(form.csrf.as_deref()) {
        return csrf_refused(&state, req, &lang, &visit);
    }
    let mut page = SignInPage {
        login: form.login.trim().to_owned(),
        code: form.code.trim().to_owned(),
        ..SignInPage::default()
    };
    required(&mut page.errors, "login", &form.login, &lang);
    required(&mut page.errors, "code", &form.code, &lang);
    required(&mut page.errors, "password", &form.password, &lang);
    if page.errors.is_empty() {
        let client = client_info(req, &state);
        match state
            .identity
            .activate(form.login.trim(), &form.code, &form.password, &client)
            .await
        {
            Ok(outcome) => return signed_in(&state, &lang, &visit, outcome).await,
            Err(err) => page.errors.push(FieldError {
                field: identity_field(err.code()).to_owned(),
                message: i18n::error_message(err.code(), lang.code()),
            }),
        }
    }
    sign_in_page(&state, req, &lang, &visit, "activate.html", &page)
}

#[handler]
async fn account(req: &Request, state: Data<&AppState>, lang: Data<&Language>) -> Response {
    let visit = Visit::of(req, &state).await;
    let viewer = match signed_in_page(&visit, &lang) {
        Ok(viewer) => viewer,
        Err(elsewhere) => return *elsewhere,
    };
    let mut second_factor = None;
    if SecondFactorRules::offered(viewer.account.role)
        && let Some(holder) = visit.any_holder(&state).await
    {
        match state.identity.second_factor_status(&holder).await {
            Ok(status) => {
                second_factor = Some(SecondFactorView {
                    enabled: status.enrolled,
                    required: status.required,
                    recovery_codes_left: status.recovery_codes_left,
                    setup_url: (!status.enrolled)
                        .then(|| format!("/{}/second-factor", lang.code())),
                })
            }
            Err(err) => return core_error_page(&state, req, &lang, &visit, &err),
        }
    }
    let linked = match state.identity.my_external_links(&viewer.actor).await {
        Ok(links) => links
            .into_iter()
            .map(|l| ProviderButton {
                label: provider_label(&state, &l.provider),
                key: l.provider,
            })
            .collect(),
        Err(err) => return core_error_page(&state, req, &lang, &visit, &err),
    };
    let refused = query_param(req, "link_refused")
        .filter(|code| code.starts_with("oidc."))
        .map(|code| i18n::error_message(&code, lang.code()));
    let notice = refused.or_else(|| {
        query_param(req, "linked").map(|key| {
            t("web.account.linked_now", &lang).replace("%{provider}", &provider_label(&state, &key))
        })
    });
    // Only admins may see the requests; for anyone else the use case says no.
    let sign_in_requests = match state.identity.sign_in_requests(&viewer.actor).await {
        Ok(requests) => Some(requests.len()),
        Err(CoreError::Denied) => None,
        Err(err) => return core_error_page(&state, req, &lang, &visit, &err),
    };
    // Only admins may see the outbox; for anyone else the use case says no.
    let parked_messages = match state.outbox.counts(&viewer.actor).await {
        Ok(counts) => Some(counts.parked),
        Err(CoreError::Denied) => None,
        Err(err) => return core_error_page(&state, req, &lang, &visit, &err),
    };
    // A person chooses their text messages; staff receive none.
    let text_messages = if viewer.account.role == peps_core::domain::Role::Person {
        match state
            .outbox
            .text_messages_wanted(&viewer.actor, viewer.account.id)
            .await
        {
            Ok(wanted) => Some(TextMessagesView::new(
                viewer.account.phone.as_ref().map(|p| p.as_str().to_owned()),
                wanted,
                &lang,
            )),
            Err(err) => return core_error_page(&state, req, &lang, &visit, &err),
        }
    } else {
        None
    };
    let notice = notice.or_else(|| {
        query_param(req, "sms").and_then(|done| match done.as_str() {
            "stopped" => Some(t("web.sms.stopped", &lang)),
            "resumed" => Some(t("web.sms.resumed", &lang)),
            _ => None,
        })
    });
    let page = AccountPage {
        name: viewer.account.display_name.as_str().to_owned(),
        login: viewer.account.login.as_str().to_owned(),
        second_factor,
        linked,
        notice,
        sign_in_requests,
        parked_messages,
        text_messages,
    };
    site(&state).page(
        StatusCode::OK,
        "account.html",
        &lang,
        &here(req, &lang),
        &t("web.account.title", &lang),
        &visit,
        &page,
    )
}

// ---------------------------------------------------------------- plans

/// `GET /{lang}/plans`: the viewer's own plans, in full, in the page's language. The core
/// decides what the viewer may read; a worker or an admin has no plan of their own.
#[handler]
async fn plans(req: &Request, state: Data<&AppState>, lang: Data<&Language>) -> Response {
    let visit = Visit::of(req, &state).await;
    let viewer = match signed_in_page(&visit, &lang) {
        Ok(viewer) => viewer,
        Err(elsewhere) => return *elsewhere,
    };
    let listings = match state
        .plans
        .plans_of(&viewer.actor, viewer.actor.account)
        .await
    {
        Ok(listings) => listings,
        // Nobody whose plans this viewer may read: no plan to show.
        Err(CoreError::NotFound) => Vec::new(),
        Err(err) => return core_error_page(&state, req, &lang, &visit, &err),
    };
    let mut cards = Vec::new();
    let mut referents = Vec::new();
    for listing in &listings {
        let PlanListing::Readable(summary) = listing else {
            continue;
        };
        match state
            .plans
            .plan_detail(&viewer.actor, summary.plan.id)
            .await
        {
            Ok(detail) => {
                for name in &detail.referents {
                    if !referents.contains(name) {
                        referents.push(name.clone());
                    }
                }
                cards.push(super::plans::plan_card(&detail, &lang));
            }
            // Gone or closed to this viewer since the list was read.
            Err(CoreError::NotFound | CoreError::Denied) => {}
            Err(err) => return core_error_page(&state, req, &lang, &visit, &err),
        }
    }
    // Plans under way first, finished ones after.
    cards.sort_by_key(|card| card.closed);
    let page = super::plans::PlansPage {
        plans: cards,
        referents,
        staff: viewer.account.role != Role::Person,
    };
    site(&state).page(
        StatusCode::OK,
        "plans.html",
        &lang,
        &here(req, &lang),
        &t("plans.print.heading", &lang),
        &visit,
        &page,
    )
}

/// `GET /{lang}/plans/{id}/print`: the printable sheet of one plan, as the API's
/// `/api/v1/plans/{id}/print` gives it, in the page's language beside the French. Whoever may
/// not read the plan gets the 404 page, as for a plan that does not exist.
#[handler]
async fn plan_print(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    id: Path<String>,
) -> Response {
    let visit = Visit::of(req, &state).await;
    let viewer = match signed_in_page(&visit, &lang) {
        Ok(viewer) => viewer,
        Err(elsewhere) => return *elsewhere,
    };
    let Ok(id) = uuid::Uuid::parse_str(&id.0) else {
        return core_error_page(&state, req, &lang, &visit, &CoreError::NotFound);
    };
    let detail = match state.plans.plan_detail(&viewer.actor, PlanId(id)).await {
        Ok(detail) => detail,
        Err(err) => return core_error_page(&state, req, &lang, &visit, &err),
    };
    let today = state.catalogue.local_now().date();
    Response::builder()
        .content_type("text/html; charset=utf-8")
        .header(header::CONTENT_LANGUAGE, lang.code())
        .header(
            header::CONTENT_SECURITY_POLICY,
            crate::plan_print::CONTENT_SECURITY_POLICY,
        )
        .header(header::CACHE_CONTROL, "private, no-store")
        .body(crate::plan_print::render(&detail, &lang, today))
}

// ---------------------------------------------------------------- second factor

#[derive(Debug, Deserialize)]
struct SecondFactorForm {
    #[serde(default)]
    code: String,
    csrf: Option<String>,
}

/// The QR code of an `otpauth://` address as inline SVG (no file, no script: the strict CSP
/// allows it), black on white with its quiet zone.
pub fn qr_svg(data: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(data.as_bytes()) else {
        return String::new();
    };
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in HTML: without the XML declaration.
    match svg.find("<svg") {
        Some(at) => svg[at..].to_owned(),
        None => String::new(),
    }
}

/// The key in groups of four characters, easier to copy by hand.
pub fn groups_of_four(secret: &str) -> Vec<String> {
    secret
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().collect())
        .collect()
}

fn second_factor_page(
    state: &AppState,
    req: &Request,
    lang: &Language,
    visit: &Visit,
    page: &SecondFactorPage,
) -> Response {
    let key = if page.enrolling {
        "web.second_factor.setup_title"
    } else {
        "web.second_factor.title"
    };
    let (status, title) = if page.errors.is_empty() {
        (StatusCode::OK, t(key, lang))
    } else {
        (
            StatusCode::BAD_REQUEST,
            format!("{} {}", t("web.form.error_prefix", lang), t(key, lang)),
        )
    };
    site(state).page(
        status,
        "second_factor.html",
        lang,
        &here(req, lang),
        &title,
        visit,
        page,
    )
}

/// The session on the second-factor page, and whether an authenticator is set up; otherwise
/// where to go instead (sign in; the account, when there is nothing to do here: no second
/// factor for this role, or already passed).
async fn second_factor_step(
    state: &AppState,
    req: &Request,
    lang: &Language,
    visit: &Visit,
) -> Result<(SessionHolder, bool), Response> {
    let Some(holder) = visit.any_holder(state).await else {
        return Err(redirect(&format!("/{}/sign-in", lang.code())));
    };
    let status = match state.identity.second_factor_status(&holder).await {
        Ok(status) => status,
        Err(err) => return Err(core_error_page(state, req, lang, visit, &err)),
    };
    if !status.offered || (status.enrolled && status.session == Assurance::Strong) {
        return Err(redirect(&format!("/{}/account", lang.code())));
    }
    Ok((holder, status.enrolled))
}

#[handler]
async fn second_factor_form(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
) -> Response {
    let visit = Visit::of(req, &state).await;
    let (holder, enrolled) = match second_factor_step(&state, req, &lang, &visit).await {
        Ok(step) => step,
        Err(resp) => return resp,
    };
    let mut page = SecondFactorPage {
        enrolling: !enrolled,
        ..SecondFactorPage::default()
    };
    if !enrolled {
        match state.identity.begin_enrolment(&holder).await {
            Ok(enrolment) => {
                page.qr_svg = qr_svg(&enrolment.otpauth_uri);
                page.secret_groups = groups_of_four(&enrolment.secret);
            }
            Err(err) => return core_error_page(&state, req, &lang, &visit, &err),
        }
    }
    second_factor_page(&state, req, &lang, &visit, &page)
}

#[handler]
async fn second_factor_submit(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    form: Form<SecondFactorForm>,
) -> Response {
    let visit = Visit::of(req, &state).await;
    let form = form.0;
    if !visit.csrf_ok(form.csrf.as_deref()) {
        return csrf_refused(&state, req, &lang, &visit);
    }
    let (holder, enrolled) = match second_factor_step(&state, req, &lang, &visit).await {
        Ok(step) => step,
        Err(resp) => return resp,
    };
    let mut page = SecondFactorPage {
        enrolling: !enrolled,
        ..SecondFactorPage::default()
    };
    let code = form.code.trim();
    if code.is_empty() {
        page.errors.push(FieldError {
            field: "code".to_owned(),
            message: t("web.second_factor.code_required", &lang),
        });
        return second_factor_page(&state, req, &lang, &visit, &page);
    }
    let result = if enrolled {
        state
            .identity
            .pass_second_factor(&holder, code)
            .await
            .map(|()| None)
    } else {
        state
            .identity
            .confirm_enrolment(&holder, code)
            .await
            .map(Some)
    };
    match result {
        Ok(None) => {
            // An identity this browser brought back from a provider is linked now that the
            // session is strong.
            let token = visit.session_token.as_deref().unwrap_or_default();
            let next =
                account_after_link(&state, token, &visit.csrf_cookie, holder.account.role).await;
            redirect(&format!("/{}/{next}", lang.code()))
        }
        Ok(Some(codes)) => {
            // The session is now strong: the page shows the person as signed in.
            let visit = Visit::of(req, &state).await;
            site(&state).page(
                StatusCode::OK,
                "recovery_codes.html",
                &lang,
                &here(req, &lang),
                &t("web.recovery_codes.title", &lang),
                &visit,
                &RecoveryCodesPage { codes },
            )
        }
        // The set-up began elsewhere or was replaced: start again with a new key.
        Err(CoreError::Conflict(_)) => redirect(&format!("/{}/second-factor", lang.code())),
        Err(
            err @ (CoreError::InvalidSecondFactor
            | CoreError::Throttled { .. }
            | CoreError::Invalid(_)),
        ) => {
            page.errors.push(FieldError {
                field: "code".to_owned(),
                message: i18n::error_message(err.code(), lang.code()),
            });
            second_factor_page(&state, req, &lang, &visit, &page)
        }
        Err(err) => core_error_page(&state, req, &lang, &visit, &err),
    }
}

// ---------------------------------------------------------------- identity providers

fn provider_buttons(state: &AppState) -> Vec<ProviderButton> {
    state
        .identity
        .providers()
        .iter()
        .map(|p| ProviderButton {
            key: p.provider.key().to_owned(),
            label: p.label.clone(),
        })
        .collect()
}

fn provider_label(state: &AppState, key: &str) -> String {
    state
        .identity
        .providers()
        .iter()
        .find(|p| p.provider.key() == key)
        .map_or_else(|| key.to_owned(), |p| p.label.clone())
}

/// Links the identity this browser brought back from a provider, if any, to the session's
/// account; where to go next: the account page saying what happened when there was an
/// identity to link, else where this role lands (a person on their plan).
async fn account_after_link(
    state: &AppState,
    session_token: &str,
    browser: &str,
    role: Role,
) -> String {
    match state
        .identity
        .link_pending_identity(session_token, browser)
        .await
    {
        Ok(Some(provider)) => format!("account?linked={provider}"),
        Ok(None) => super::plans::landing(role).to_owned(),
        Err(err) => {
            tracing::info!(code = err.code(), "identity not linked");
            format!("account?link_refused={}", err.code())
        }
    }
}

pub(super) fn query_param(req: &Request, name: &str) -> Option<String> {
    req.uri().query().and_then(|q| {
        q.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| {
                v.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .collect()
            })
        })
    })
}

/// `GET /{lang}/sign-in/with/{provider}`: to the provider. A link, not a form: the pages' CSP
/// lets forms post to PEPS only, and a redirect after a form would be blocked.
#[handler]
async fn sign_in_with(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    Path(key): Path<String>,
) -> Response {
    let visit = Visit::of(req, &state).await;
    match state
        .identity
        .begin_external_sign_in(&key, &visit.csrf_cookie)
        .await
    {
        Ok(url) => {
            let mut resp = redirect(&url);
            if visit.new_csrf {
                site(&state).set_cookie(&mut resp, visit::CSRF_COOKIE, &visit.csrf_cookie);
            }
            resp
        }
        Err(err) => provider_error(&state, req, &lang, &visit, &err),
    }
}

#[derive(Debug, Deserialize)]
struct ProviderReturn {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /oidc/{provider}/callback`: where the provider sends the browser back (the address to
/// register with the provider). Signed in, the account opens in its own language.
#[handler]
pub async fn provider_callback(
    req: &Request,
    state: Data<&AppState>,
    Path(key): Path<String>,
    query: Query<ProviderReturn>,
) -> Response {
    let visit = Visit::of(req, &state).await;
    let lang = Language::negotiate(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let (Some(code), Some(returned_state), None) = (&query.code, &query.state, &query.error) else {
        // The person cancelled at the provider, or it refused: back to the sign-in page.
        let err = CoreError::Forbidden("oidc.refused");
        return provider_error(&state, req, &lang, &visit, &err);
    };
    match state
        .identity
        .finish_external_sign_in(&key, returned_state, code, &visit.csrf_cookie)
        .await
    {
        Ok(ExternalOutcome::SignedIn(outcome)) => {
            let lang = outcome.account.language.clone();
            signed_in(&state, &lang, &visit, *outcome).await
        }
        Ok(ExternalOutcome::NotLinked {
            provider_label,
            awaiting_approval,
        }) => {
            let key = if awaiting_approval {
                "web.sign_in.link_notice_staff"
            } else {
                "web.sign_in.link_notice"
            };
            let page = SignInPage {
                notice: Some(t(key, &lang).replace("%{provider}", &provider_label)),
                ..SignInPage::default()
            };
            sign_in_page(&state, req, &lang, &visit, "sign_in.html", &page)
        }
        Err(err) => provider_error(&state, req, &lang, &visit, &err),
    }
}

/// A sign-in through a provider that failed: the sign-in page with the reason, so another way
/// in is right there; never a 500.
fn provider_error(
    state: &AppState,
    req: &Request,
    lang: &Language,
    visit: &Visit,
    err: &CoreError,
) -> Response {
    let status = match err {
        CoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        CoreError::NotFound => StatusCode::NOT_FOUND,
        _ => StatusCode::FORBIDDEN,
    };
    let page = SignInPage {
        errors: vec![FieldError {
            field: "login".to_owned(),
            message: i18n::error_message(err.code(), lang.code()),
        }],
        ..SignInPage::default()
    };
    let mut resp = sign_in_page(state, req, lang, visit, "sign_in.html", &page);
    resp.set_status(status);
    resp
}

#[derive(Debug, Deserialize)]
struct CsrfOnly {
    csrf: Option<String>,
}

async fn end_sessions(
    req: &Request,
    state: &AppState,
    lang: &Language,
    form: CsrfOnly,
    everywhere: bool,
) -> Response {
    let visit = Visit::of(req, state).await;
    if !visit.csrf_ok(form.csrf.as_deref()) {
        return csrf_refused(state, req, lang, &visit);
    }
    let mut provider_logout = None;
    if let Some(viewer) = &visit.viewer {
        provider_logout = state
            .identity
            .external_logout_url(viewer.session, &visit::random_token())
            .await
            .ok()
            .flatten();
        let ended = if everywhere {
            state
                .identity
                .logout_everywhere(&viewer.actor)
                .await
                .map(|_| ())
        } else {
            state.identity.logout(viewer.session).await
        };
        if let Err(err) = ended {
            return core_error_page(state, req, lang, &visit, &err);
        }
    } else if let Some(holder) = &visit.holder {
        // A session still awaiting its second factor ends the same way.
        if let Err(err) = state.identity.logout(holder.session.id).await {
            return core_error_page(state, req, lang, &visit, &err);
        }
    }
    let site = site(state);
    let mut resp = match provider_logout {
        // A page with a link, not a redirect: the form's CSP (form-action 'self') forbids
        // following a redirect to the provider after a form submission.
        Some(url) => {
            let visit = Visit {
                session_token: None,
                viewer: None,
                holder: None,
                csrf_cookie: visit.csrf_cookie.clone(),
                new_csrf: false,
            };
            site.page(
                StatusCode::OK,
                "signed_out.html",
                lang,
                &here(req, lang),
                &t("web.signed_out.title", lang),
                &visit,
                &SignedOutPage {
                    provider_logout_url: url,
                },
            )
        }
        None => redirect(&format!("/{}/", lang.code())),
    };
    site.set_cookie(&mut resp, visit::SESSION_COOKIE, "");
    site.set_cookie(&mut resp, visit::CSRF_COOKIE, &visit::random_token());
    resp
}

#[handler]
async fn unlink_provider(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    Path(key): Path<String>,
    form: Form<CsrfOnly>,
) -> Response {
    let (visit, actor) = match signed_in_form(req, &state, &lang, form.csrf.as_deref()).await {
        Ok(signed_in) => signed_in,
        Err(refused) => return refused,
    };
    match state.identity.unlink_external(&actor, &key).await {
        Ok(()) => redirect(&format!("/{}/account", lang.code())),
        Err(err) => core_error_page(&state, req, &lang, &visit, &err),
    }
}

#[derive(Debug, Deserialize)]
struct TextMessagesForm {
    csrf: Option<String>,
    /// `on` or `off`.
    #[serde(default)]
    sms: String,
}

/// `POST /{lang}/account/text-messages`: the person stops or restarts text messages.
#[handler]
async fn set_text_messages(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    form: Form<TextMessagesForm>,
) -> Response {
    let (visit, actor) = match signed_in_form(req, &state, &lang, form.csrf.as_deref()).await {
        Ok(signed_in) => signed_in,
        Err(refused) => return refused,
    };
    let wanted = form.sms == "on";
    match state
        .outbox
        .set_text_messages(&actor, actor.account, wanted)
        .await
    {
        Ok(()) => redirect(&format!(
            "/{}/account?sms={}",
            lang.code(),
            if wanted { "resumed" } else { "stopped" }
        )),
        Err(err) => core_error_page(&state, req, &lang, &visit, &err),
    }
}

/// The preamble of a page for someone signed in: their actor, or where to go first (the
/// second-factor page for a session not yet strong enough, else the sign-in page).
pub(super) fn signed_in_page<'v>(
    visit: &'v Visit,
    lang: &Language,
) -> Result<&'v peps_core::services::Authenticated, Box<Response>> {
    match &visit.viewer {
        Some(viewer) => Ok(viewer),
        None if visit.holder.is_some() => Err(Box::new(redirect(&format!(
            "/{}/second-factor",
            lang.code()
        )))),
        None => Err(Box::new(redirect(&format!("/{}/sign-in", lang.code())))),
    }
}

/// The preamble of a form posted by someone signed in: the visit and its actor, or the answer
/// already decided (the CSRF field refused, or to the sign-in page).
pub(super) async fn signed_in_form(
    req: &Request,
    state: &AppState,
    lang: &Language,
    csrf: Option<&str>,
) -> Result<(Visit, peps_core::policy::Actor), Response> {
    let visit = Visit::of(req, state).await;
    if !visit.csrf_ok(csrf) {
        return Err(csrf_refused(state, req, lang, &visit));
    }
    match &visit.viewer {
        Some(viewer) => {
            let actor = viewer.actor.clone();
            Ok((visit, actor))
        }
        None => Err(redirect(&format!("/{}/sign-in", lang.code()))),
    }
}

#[handler]
async fn sign_out(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    form: Form<CsrfOnly>,
) -> Response {
    end_sessions(req, &state, &lang, form.0, false).await
}

#[handler]
async fn sign_out_everywhere(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    form: Form<CsrfOnly>,
) -> Response {
    end_sessions(req, &state, &lang, form.0, true).await
}

// ---------------------------------------------------------------- languages and legal pages

#[derive(Debug, Deserialize)]
struct Back {
    back: Option<String>,
}

/// Every language, in its own name, each leading to the same page in that language.
pub fn languages_page(lang: &Language, back: &str) -> LanguagesPage {
    LanguagesPage {
        languages: Language::all()
            .iter()
            .map(|info| LanguageLink {
                code: info.code.clone(),
                native: info.native_name.clone(),
                dir: match info.direction {
                    peps_core::domain::Direction::Rtl => "rtl",
                    peps_core::domain::Direction::Ltr => "ltr",
                },
                url: format!("/{}{back}", info.code),
                current: info.code == lang.code(),
            })
            .collect(),
    }
}

#[handler]
async fn languages(
    req: &Request,
    state: Data<&AppState>,
    lang: Data<&Language>,
    back: Query<Back>,
) -> Response {
    let visit = Visit::of(req, &state).await;
    // Only a path of this site: never a link elsewhere.
    let back = back
        .0
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/".to_owned());
    site(&state).page(
        StatusCode::OK,
        "languages.html",
        &lang,
        &here(req, &lang),
        &t("web.languages.title", &lang),
        &visit,
        &languages_page(&lang, &back),
    )
}

async fn plain_page(
    req: &Request,
    state: &AppState,
    lang: &Language,
    template: &str,
    title_key: &str,
) -> Response {
    let visit = Visit::of(req, state).await;
    site(state).page(
        StatusCode::OK,
        template,
        lang,
        &here(req, lang),
        &t(title_key, lang),
        &visit,
        &(),
    )
}

#[handler]
async fn legal(req: &Request, state: Data<&AppState>, lang: Data<&Language>) -> Response {
    plain_page(req, &state, &lang, "legal.html", "web.legal.title").await
}

#[handler]
async fn accessibility(req: &Request, state: Data<&AppState>, lang: Data<&Language>) -> Response {
    plain_page(
        req,
        &state,
        &lang,
        "accessibility.html",
        "web.accessibility.title",
    )
    .await
}

// ---------------------------------------------------------------- sample data for the tests

fn sample_options(lang: &Language) -> SearchOptions {
    let opt = |code: &str, label: &str, selected: bool| Opt {
        code: code.to_owned(),
        label: label.to_owned(),
        selected,
    };
    let _ = lang;
    SearchOptions {
        themes: vec![
            opt("se-loger", "Se loger", true),
            opt("se-nourrir", "Se nourrir", false),
        ],
        topics: vec![opt("logement-hebergement", "Logement", false)],
        audiences: vec![opt("familles", "Familles", false)],
        costs: vec![opt("gratuit", "Gratuit", false)],
        radii: vec![opt("10", "10 km", true)],
        communes: vec!["Auxerre".to_owned(), "Sens".to_owned()],
    }
}

pub fn sample_home(lang: &Language) -> HomePage {
    HomePage {
        themes: vec![ThemeLink {
            label: "Se loger".to_owned(),
            url: format!("/{}/search?theme=se-loger", lang.code()),
        }],
        options: sample_options(lang),
    }
}

fn sample_card(lang: &Language) -> Card {
    Card {
        url: format!("/{}/offers/1", lang.code()),
        title: "Épicerie solidaire".to_owned(),
        title_lang: "fr".to_owned(),
        title_dir: "ltr",
        summary: Some("Produits à petit prix.".to_owned()),
        organisation: "CCAS d'Auxerre".to_owned(),
        place: Some("Auxerre".to_owned()),
        distance: Some(views::distance(2.4, lang.code())),
        open: Some(OpenState {
            kind: "open",
            text: "Ouvert, ferme à 17:00".to_owned(),
        }),
        change: Some("Fermé le 24 décembre".to_owned()),
        freshness: Some("Non vérifiée depuis le 01/01/2026".to_owned()),
        matched: Some(("Alimentation".to_owned(), "أكل".to_owned())),
    }
}

pub fn sample_results(lang: &Language) -> ResultsPage {
    ResultsPage {
        form: SearchForm {
            q: "épicerie".to_owned(),
            commune: "Auxerre".to_owned(),
            radius: "10".to_owned(),
            open_now: true,
            near: "47.798,3.570".to_owned(),
            ..SearchForm::default()
        },
        options: sample_options(lang),
        errors: vec![FieldError {
            field: "commune".to_owned(),
            message: "Commune inconnue".to_owned(),
        }],
        total: Some(1),
        ignored: vec!["zqxw".to_owned()],
        cards: vec![sample_card(lang)],
        next_url: Some(format!("/{}/search?cursor=x", lang.code())),
        first_url: Some(format!("/{}/search", lang.code())),
    }
}

pub fn sample_offer(lang: &Language) -> OfferPage {
    let link = |url: &str, text: &str| LinkView {
        url: url.to_owned(),
        text: text.to_owned(),
    };
    OfferPage {
        title: "Épicerie solidaire".to_owned(),
        content_lang: "fr".to_owned(),
        content_dir: "ltr",
        machine: true,
        fallback: true,
        original_url: "/fr/offers/1".to_owned(),
        organisation: "CCAS d'Auxerre".to_owned(),
        summary: Some("Produits à petit prix.".to_owned()),
        paragraphs: vec!["Sur orientation d'un travailleur social.".to_owned()],
        theme: "Se nourrir".to_owned(),
        audiences: vec!["Familles".to_owned()],
        audience_details: Some("Habitants d'Auxerre".to_owned()),
        cost: Some("Gratuit".to_owned()),
        cost_details: Some("Participation de 10 %".to_owned()),
        access_conditions: Some("Sur rendez-vous".to_owned()),
        address_withheld: false,
        places: vec![PlaceView {
            lines: vec!["12 rue de Paris".to_owned(), "89000 Auxerre".to_owned()],
            osm_url: Some("https://www.openstreetmap.org/?mlat=47.8&mlon=3.57".to_owned()),
        }],
        hours: vec![
            HoursRow {
                day: t("web.day.mo", lang),
                today: true,
                times: Some("09:00–12:00".to_owned()),
            },
            HoursRow {
                day: t("web.day.su", lang),
                today: false,
                times: None,
            },
        ],
        hours_notes: vec!["sur rendez-vous".to_owned()],
        open: Some(OpenState {
            kind: "closed",
            text: t("web.open.closed_today", lang),
        }),
        changes: vec![ChangeView {
            from: "24/12/2026".to_owned(),
            to: "26/12/2026".to_owned(),
            closed: true,
            message: "Fermeture de fin d'année".to_owned(),
        }],
        phone: Some(link("tel:+33386000000", "03 86 00 00 00")),
        email: Some(link("mailto:contact@example.org", "contact@example.org")),
        website: Some(link("https://example.org", "example.org")),
        accessibility: vec![Labelled {
            label: t("web.offer.access.step_free", lang),
            value: t("web.yes", lang),
        }],
        acceslibre_url: Some("https://acceslibre.beta.gouv.fr/".to_owned()),
        others: vec![link("/fr/offers/2", "Aide alimentaire")],
        freshness: Some("Non vérifiée".to_owned()),
        verified_on: "01/01/2026".to_owned(),
    }
}

pub fn sample_second_factor(enrolling: bool) -> SecondFactorPage {
    SecondFactorPage {
        enrolling,
        qr_svg: if enrolling {
            qr_svg("otpauth://totp/PEPS:marie%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=PEPS")
        } else {
            String::new()
        },
        secret_groups: if enrolling {
            groups_of_four("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        } else {
            Vec::new()
        },
        errors: vec![FieldError {
            field: "code".to_owned(),
            message: "Code incorrect".to_owned(),
        }],
    }
}

pub fn sample_sign_in(_lang: &Language) -> SignInPage {
    SignInPage {
        login: "marie.dupont.0042".to_owned(),
        code: "K7M3Q-9XH2W".to_owned(),
        errors: vec![FieldError {
            field: "password".to_owned(),
            message: "Mot de passe incorrect".to_owned(),
        }],
        notice: Some("FranceConnect".to_owned()),
        providers: vec![ProviderButton {
            key: "franceconnect".to_owned(),
            label: "FranceConnect".to_owned(),
        }],
    }
}
