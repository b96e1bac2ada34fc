//! Cross-cutting HTTP concerns: request ids and logs, body limits, problem+json rendering,
//! security headers.

use poem::http::StatusCode;
use poem::http::header::{self, HeaderValue};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use std::time::Instant;
use tracing::Instrument;

use crate::language::{self, AccountLanguage};
use crate::malformed::FieldFault;
use crate::problem::{ApiError, FieldProblem, Problem};
use peps_core::ValidationError;
use peps_core::domain::Language;
use peps_core::i18n;

/// The id of the request being served, also sent back as `X-Request-Id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

const REQUEST_ID: &str = "x-request-id";

fn accepted_request_id(req: &Request) -> Option<String> {
    let value = req.headers().get(REQUEST_ID)?.to_str().ok()?;
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| value.to_owned())
}

/// Gives every request an id (the caller's `X-Request-Id` when sane), and logs one line per
/// request: method, path without query, status, duration. Never headers or bodies, so never
/// passwords or tokens.
pub struct RequestLog;

impl<E: Endpoint> Middleware<E> for RequestLog {
    type Output = RequestLogEndpoint<E>;
    fn transform(&self, inner: E) -> Self::Output {
        RequestLogEndpoint { inner }
    }
}

pub struct RequestLogEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for RequestLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let id =
            accepted_request_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        req.extensions_mut().insert(RequestId(id.clone()));
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let span = tracing::info_span!("request", request_id = %id, %method, %path);
        let started = Instant::now();
        let result = self.inner.call(req).instrument(span.clone()).await;
        let mut resp = match result {
            Ok(resp) => resp.into_response(),
            Err(err) => err.into_response(),
        };
        let status = resp.status().as_u16();
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        span.in_scope(|| {
            if status >= 500 {
                tracing::warn!(status, elapsed_ms, "served");
            } else {
                tracing::info!(status, elapsed_ms, "served");
            }
        });
        if let Ok(value) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert(REQUEST_ID, value);
        }
        Ok(resp)
    }
}

/// Refuses bodies over the limit with 413, whether or not they announce their length.
pub struct BodyLimit {
    max: usize,
    streamed: &'static [&'static str],
    max_streamed: u64,
}

impl BodyLimit {
    pub fn new(max: usize) -> Self {
        Self {
            max,
            streamed: &[],
            max_streamed: 0,
        }
    }

    /// Bodies of POSTs to these paths are uploads: passed on as a stream, cut at `max` bytes.
    pub fn streaming(mut self, paths: &'static [&'static str], max: u64) -> Self {
        self.streamed = paths;
        self.max_streamed = max;
        self
    }
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;
    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint {
            inner,
            max: self.max,
            streamed: self.streamed,
            max_streamed: self.max_streamed,
        }
    }
}

pub struct BodyLimitEndpoint<E> {
    inner: E,
    max: usize,
    streamed: &'static [&'static str],
    max_streamed: u64,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> poem::Result<E::Output> {
        let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request.too_large");
        let announced = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let upload = req.method() == poem::http::Method::POST
            && self
                .streamed
                .iter()
                .any(|pattern| path_matches(pattern, req.uri().path()));
        if upload {
            if announced.is_some_and(|len| len > self.max_streamed) {
                return Err(too_large().into());
            }
            // A file sent without a type (`curl --data-binary`): the type is decided from
            // the content anyway.
            if !req.headers().contains_key(header::CONTENT_TYPE) {
                req.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
            }
            let limit = self.max_streamed;
            let mut seen = 0u64;
            let stream = req.take_body().into_bytes_stream();
            let limited = futures_util::StreamExt::map(stream, move |chunk| {
                let chunk = chunk?;
                seen += chunk.len() as u64;
                if seen > limit {
                    return Err(std::io::Error::other("upload larger than allowed"));
                }
                Ok(chunk)
            });
            req.set_body(poem::Body::from_bytes_stream(limited));
            return self.inner.call(req).await;
        }
        if announced.is_some_and(|len| len > self.max as u64) {
            return Err(too_large().into());
        }
        let body = req.take_body();
        let bytes = body.into_bytes_limit(self.max).await.map_err(|err| {
            if matches!(err, poem::error::ReadBodyError::PayloadTooLarge) {
                poem::Error::from(too_large())
            } else {
                poem::Error::from(ApiError::new(StatusCode::BAD_REQUEST, "request.malformed"))
            }
        })?;
        req.set_body(bytes);
        self.inner.call(req).await
    }
}

/// Whether `path` fits `pattern`, where a `*` segment stands for any one segment.
fn path_matches(pattern: &str, path: &str) -> bool {
    let mut p = pattern.split('/');
    let mut s = path.split('/');
    loop {
        match (p.next(), s.next()) {
            (None, None) => return true,
            (Some("*"), Some(seg)) if !seg.is_empty() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// Turns every error, and every error status without a problem body, into a localised
/// `application/problem+json` response.
pub struct Problems;

impl<E: Endpoint> Middleware<E> for Problems {
    type Output = ProblemsEndpoint<E>;
    fn transform(&self, inner: E) -> Self::Output {
        ProblemsEndpoint { inner }
    }
}

pub struct ProblemsEndpoint<E> {
    inner: E,
}

fn generic_code(status: StatusCode, err: Option<&poem::Error>) -> &'static str {
    match status.as_u16() {
        400 if err.is_some_and(|e| {
            e.is::<poem_openapi::error::ParseParamError>()
                || e.is::<poem_openapi::error::ParsePathError>()
        }) =>
        {
            "request.invalid_parameter"
        }
        400 => "request.malformed",
        401 => "auth.required",
        403 => "access.denied",
        404 => "route.not_found",
        405 => "request.method_not_allowed",
        413 => "request.too_large",
        415 => "request.unsupported_media_type",
        409 => "resource.conflict",
        429 => "auth.too_many_attempts",
        503 => "service.unavailable",
        s if s < 500 => "request.malformed",
        _ => "internal",
    }
}

/// A malformed request whose field or parameter is known, as a problem.
fn render_fault(
    fault: &FieldFault,
    language: &Language,
    request_id: Option<&RequestId>,
) -> Response {
    let api = ApiError::new(fault.status(), fault.code);
    let mut resp = render(&api, language, request_id);
    let lang = language.code();
    let problem = Problem {
        title: i18n::error_message_with(
            fault.message,
            lang,
            &[("field", &fault.field), ("expected", &fault.expected)],
        ),
        field: Some(fault.field.clone()),
        ..problem(&api, lang, request_id)
    };
    resp.set_body(poem_openapi::types::ToJSON::to_json_string(&problem));
    resp
}

fn render(api: &ApiError, language: &Language, request_id: Option<&RequestId>) -> Response {
    let lang = language.code();
    let problem = problem(api, lang, request_id);
    let body = poem_openapi::types::ToJSON::to_json_string(&problem);
    let mut resp = Response::builder()
        .status(api.status)
        .content_type("application/problem+json")
        .header(header::CONTENT_LANGUAGE, lang)
        .body(body);
    if let Some(wait) = api.retry_after {
        let secs = wait.as_secs().max(1);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    if api.status == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    // The rest of an oversized body was not read: the connection cannot carry another request.
    if api.status == StatusCode::PAYLOAD_TOO_LARGE {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

fn problem(api: &ApiError, lang: &str, request_id: Option<&RequestId>) -> Problem {
    let message = |v: &ValidationError| {
        let column = v.column.map(|c| c.to_string()).unwrap_or_default();
        let found = v.found.clone().unwrap_or_default();
        i18n::error_message_with(v.code, lang, &[("column", &column), ("found", &found)])
    };
    Problem {
        problem_type: format!("urn:peps:problem:{}", api.code),
        title: api
            .errors
            .first()
            .map_or_else(|| i18n::error_message(api.code, lang), message),
        status: api.status.as_u16(),
        code: api.code.to_owned(),
        field: api.field.map(str::to_owned),
        column: api.errors.first().and_then(|v| v.column).map(|c| c as u32),
        errors: (api.errors.len() > 1).then(|| {
            api.errors
                .iter()
                .map(|v| FieldProblem {
                    field: v.field.to_owned(),
                    code: v.code.to_owned(),
                    title: message(v),
                    column: v.column.map(|c| c as u32),
                })
                .collect()
        }),
        lang: lang.to_owned(),
        request_id: request_id.map(|r| r.0.clone()),
    }
}

impl<E: Endpoint> Endpoint for ProblemsEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let accept_language = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let account_language = AccountLanguage::default();
        req.extensions_mut().insert(account_language.clone());
        let request_id = req.extensions().get::<RequestId>().cloned();
        let result = self.inner.call(req).await;
        let language = language::chosen(accept_language.as_deref(), Some(&account_language));
        match result {
            Ok(resp) => {
                let resp = resp.into_response();
                let status = resp.status();
                let is_problem = resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
                    // Web pages render their own error pages.
                    v.as_bytes().starts_with(b"application/problem+json")
                        || v.as_bytes().starts_with(b"text/html")
                });
                if (status.is_client_error() || status.is_server_error()) && !is_problem {
                    let api = ApiError::new(status, generic_code(status, None));
                    return Ok(render(&api, &language, request_id.as_ref()));
                }
                Ok(resp)
            }
            Err(err) => {
                if let Some(fault) = err.downcast_ref::<FieldFault>() {
                    return Ok(render_fault(fault, &language, request_id.as_ref()));
                }
                let api = match err.downcast_ref::<ApiError>() {
                    Some(api) => api.clone(),
                    None => {
                        let status = err.status();
                        if status.is_server_error() {
                            tracing::error!(error = %err, "unhandled error");
                        }
                        ApiError::new(status, generic_code(status, Some(&err)))
                    }
                };
                Ok(render(&api, &language, request_id.as_ref()))
            }
        }
    }
}

/// Headers every response carries: no MIME sniffing, no caching of personal data, no referrer.
pub struct SecurityHeaders;

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;
    fn transform(&self, inner: E) -> Self::Output {
        SecurityHeadersEndpoint { inner }
    }
}

pub struct SecurityHeadersEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let is_api = req.uri().path().starts_with("/api/");
        let mut resp = self.inner.call(req).await?.into_response();
        let headers = resp.headers_mut();
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        if is_api {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        Ok(resp)
    }
}
