//! RFC 9457 problem details. Handlers return [`ApiError`]; the `Problems` middleware renders it
//! (and every other error: bad JSON, unknown routes, oversized bodies) in the request's language.

use poem::http::StatusCode;
use poem_openapi::Object;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use std::time::Duration;

use peps_core::{CoreError, StoreError, ValidationError};

/// A problem document, `application/problem+json`.
#[derive(Debug, Clone, Object)]
pub struct Problem {
    /// `urn:peps:problem:<code>`.
    #[oai(rename = "type")]
    pub problem_type: String,
    /// The message, in the request's language.
    pub title: String,
    pub status: u16,
    /// Stable, machine-readable code, e.g. `account.password.too_weak`.
    pub code: String,
    /// The request field at fault, for validation errors.
    #[oai(skip_serializing_if_is_none)]
    pub field: Option<String>,
    /// For structured text (opening hours): the 1-based character column where the problem is.
    #[oai(skip_serializing_if_is_none)]
    pub column: Option<u32>,
    /// Every invalid field, when there are several (the first is also in `code`/`field`).
    #[oai(skip_serializing_if_is_none)]
    pub errors: Option<Vec<FieldProblem>>,
    /// The language of `title`.
    pub lang: String,
    /// Quote this when asking for help: it finds the request in the server's logs.
    #[oai(skip_serializing_if_is_none)]
    pub request_id: Option<String>,
}

/// One invalid field.
#[derive(Debug, Clone, Object)]
pub struct FieldProblem {
    pub field: String,
    pub code: String,
    /// The message, in the request's language.
    pub title: String,
    #[oai(skip_serializing_if_is_none)]
    pub column: Option<u32>,
}

/// An error a handler returns: a status and a stable code; localised later.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub field: Option<&'static str>,
    pub retry_after: Option<Duration>,
    /// Validation details: every invalid field, with positions where known.
    pub errors: Vec<ValidationError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        Self {
            status,
            code,
            field: None,
            retry_after: None,
            errors: Vec::new(),
        }
    }

    /// 422 for one field, with a stable code.
    pub fn invalid(field: &'static str, code: &'static str) -> Self {
        CoreError::Invalid(ValidationError::new(field, code)).into()
    }
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        let code = err.code();
        let status = match &err {
            // A file refused for its type, whatever its name said.
            CoreError::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            CoreError::Invalid(_) | CoreError::InvalidFields(_) => StatusCode::UNPROCESSABLE_ENTITY,
            CoreError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            CoreError::Integrity(_) => {
                tracing::error!(error = %err, "stored data failed its integrity check");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            CoreError::Unavailable(_) => {
                tracing::error!(error = %err, "dependency unavailable");
                StatusCode::SERVICE_UNAVAILABLE
            }
            // An edit based on an outdated version: the If-Match precondition failed.
            CoreError::Stale(_) => StatusCode::PRECONDITION_FAILED,
            CoreError::Denied | CoreError::Forbidden(_) => StatusCode::FORBIDDEN,
            CoreError::NotFound => StatusCode::NOT_FOUND,
            CoreError::Conflict(_) | CoreError::Store(StoreError::Conflict(_)) => {
                StatusCode::CONFLICT
            }
            CoreError::InvalidCredentials
            | CoreError::Unauthenticated
            | CoreError::SecondFactorRequired { .. }
            | CoreError::InvalidSecondFactor => StatusCode::UNAUTHORIZED,
            CoreError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            CoreError::InvalidActivationCode => StatusCode::BAD_REQUEST,
            CoreError::Store(_) => {
                tracing::error!(error = %err, source = ?std::error::Error::source(&err), "store failure");
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        Self {
            status,
            code,
            field: err.validation_errors().first().map(|v| v.field),
            errors: err.validation_errors().to_vec(),
            retry_after: match &err {
                CoreError::Throttled { retry_after } => Some(*retry_after),
                _ => None,
            },
        }
    }
}

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.status
    }
}

/// The error responses documented on every operation.
const DOCUMENTED: &[(u16, &str)] = &[
    (
        400,
        "Malformed request, wrong type, or invalid activation code",
    ),
    (
        401,
        "Not logged in, session expired, or wrong login or password",
    ),
    (403, "Logged in, but not allowed"),
    (404, "Not found, or not visible to you"),
    (409, "Conflicts with existing data; nothing was written"),
    (
        412,
        "The resource changed since the version in If-Match; reload and retry",
    ),
    (
        413,
        "Request body too large, or the file over the size limit or the quota",
    ),
    (
        415,
        "File type refused (detected from its content, not its name)",
    ),
    (
        422,
        "A field is invalid; `field` and `code` say which and why",
    ),
    (
        428,
        "This change needs an If-Match header with the version being edited",
    ),
    (429, "Too many attempts; see Retry-After"),
    (
        500,
        "Stored data failed its integrity check; nothing of it was sent",
    ),
    (503, "Storage unavailable"),
];

impl poem_openapi::ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: DOCUMENTED
                .iter()
                .map(|(status, description)| MetaResponse {
                    description,
                    status: Some(*status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: "application/problem+json",
                        schema: MetaSchemaRef::Reference(Problem::name().into_owned()),
                    }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
