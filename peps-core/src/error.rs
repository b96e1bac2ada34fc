//! One error enum per layer: [`StoreError`] from ports, [`CoreError`] from services.

use std::time::Duration;

/// What a repository port can say went wrong. Adapters map their own errors onto these.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A rule of the store refused the write; nothing was written.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// An optimistic-concurrency miss: the record moved on since the caller read it (another
    /// version, another revision, another set of steps); nothing was written.
    #[error("stale: the record changed since it was read")]
    Stale,
    /// The store could not be reached or failed; the source says why (never shown to end users).
    #[error("store unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(err))
    }
}

/// Which rule of the store refused a write. Services match on it to pick their own error;
/// adapters map their database's errors onto it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// A value that must be unique is taken (a login, a SIRET, an id written twice).
    #[error("a unique value is already taken")]
    Duplicate,
    /// The write points to a record that does not exist (a foreign key).
    #[error("a referenced record does not exist")]
    MissingReference,
    /// A single-use thing (an activation code) was already used or replaced.
    #[error("already used or replaced")]
    AlreadyUsed,
    /// A grant or a mandate was already revoked.
    #[error("already revoked")]
    AlreadyRevoked,
    /// A document request was already answered or cancelled.
    #[error("request already closed")]
    RequestClosed,
    /// The person's files would exceed their quota.
    #[error("quota exceeded")]
    QuotaExceeded,
    /// Concurrent writers kept colliding on a counter; retrying later succeeds.
    #[error("contention")]
    Contention,
}

/// A field that failed validation, with a stable, machine-readable code such as
/// `account.password.too_weak`. The code is also the i18n key of the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {code}")]
pub struct ValidationError {
    pub field: &'static str,
    pub code: &'static str,
    /// Where in the value the problem starts (1-based character column), for structured text
    /// such as opening hours.
    pub column: Option<usize>,
    /// The offending part of the value, when showing it helps (never a secret).
    pub found: Option<String>,
}

impl ValidationError {
    pub fn new(field: &'static str, code: &'static str) -> Self {
        Self {
            field,
            code,
            column: None,
            found: None,
        }
    }

    pub fn at(mut self, column: usize, found: Option<String>) -> Self {
        self.column = Some(column);
        self.found = found;
        self
    }
}

/// What a use case can say went wrong. Every variant carries a stable code (see [`CoreError::code`]).
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationError),
    /// A file whose content (sniffed, whatever its name says) is of a type that is refused.
    #[error("unsupported type: {0}")]
    UnsupportedType(ValidationError),
    /// Several fields are invalid; never empty. Reported all at once so a form can be fixed in
    /// one go.
    #[error("invalid input: {} fields", .0.len())]
    InvalidFields(Vec<ValidationError>),
    /// The actor is not allowed to do this (and may know the resource exists).
    #[error("denied")]
    Denied,
    /// Refused for a reason the actor must know to get through, with its own code (e.g. a
    /// password to change before opening the wallet).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The resource changed since the caller read it (optimistic concurrency); the code names
    /// the resource, e.g. `offer.version_conflict`. HTTP answers 412 Precondition Failed.
    #[error("stale: {0}")]
    Stale(&'static str),
    /// Wrong login or password — deliberately the same for an unknown login.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("authentication required")]
    Unauthenticated,
    /// The session's holder must pass their second factor (or, with `enrolled` false, set one
    /// up) before anything else; the session itself is valid.
    #[error("second factor required")]
    SecondFactorRequired { enrolled: bool },
    /// A wrong, reused or expired one-time code.
    #[error("second factor code invalid")]
    InvalidSecondFactor,
    #[error("too many attempts, retry after {retry_after:?}")]
    Throttled { retry_after: Duration },
    #[error("activation code invalid or expired")]
    InvalidActivationCode,
    /// The request body is larger than allowed (a file over the size limit, a full quota).
    #[error("too large: {0}")]
    TooLarge(&'static str),
    /// Stored data failed its integrity check; nothing of it was returned.
    #[error("integrity check failed: {0}")]
    Integrity(&'static str),
    /// A service PEPS depends on (blob storage, antivirus, key vault) is down; retry later.
    #[error("dependency unavailable: {0}")]
    Unavailable(&'static str),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CoreError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => CoreError::NotFound,
            StoreError::Stale => CoreError::Stale("resource.stale"),
            other => CoreError::Store(other),
        }
    }
}

impl CoreError {
    /// The stable code of this error, also its i18n key under `errors.`.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::Invalid(v) | CoreError::UnsupportedType(v) => v.code,
            CoreError::InvalidFields(all) => {
                all.first().map_or("request.invalid_parameter", |v| v.code)
            }
            CoreError::Denied => "access.denied",
            CoreError::Forbidden(code) => code,
            CoreError::NotFound => "resource.not_found",
            CoreError::Conflict(code) | CoreError::Stale(code) => code,
            CoreError::InvalidCredentials => "auth.invalid_credentials",
            CoreError::Unauthenticated => "auth.required",
            CoreError::SecondFactorRequired { enrolled: true } => "auth.second_factor_required",
            CoreError::SecondFactorRequired { enrolled: false } => {
                "auth.second_factor_enrolment_required"
            }
            CoreError::InvalidSecondFactor => "auth.second_factor_invalid",
            CoreError::Throttled { .. } => "auth.too_many_attempts",
            CoreError::InvalidActivationCode => "auth.activation_code_invalid",
            CoreError::TooLarge(code)
            | CoreError::Integrity(code)
            | CoreError::Unavailable(code) => code,
            CoreError::Store(StoreError::Conflict(_)) => "resource.conflict",
            CoreError::Store(StoreError::Stale) => "resource.stale",
            CoreError::Store(_) => "service.unavailable",
        }
    }
}

impl CoreError {
    /// One error when there is one, all of them otherwise; `Ok` when `errors` is empty.
    pub fn from_validation(errors: Vec<ValidationError>) -> Result<(), CoreError> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(CoreError::invalid(errors))
        }
    }

    /// `Invalid` for one error, `InvalidFields` for several.
    pub fn invalid(mut errors: Vec<ValidationError>) -> CoreError {
        if errors.len() == 1 {
            CoreError::Invalid(errors.remove(0))
        } else {
            CoreError::InvalidFields(errors)
        }
    }

    /// The invalid fields this error is about, if it is a validation error.
    pub fn validation_errors(&self) -> &[ValidationError] {
        match self {
            CoreError::Invalid(v) | CoreError::UnsupportedType(v) => std::slice::from_ref(v),
            CoreError::InvalidFields(all) => all,
            _ => &[],
        }
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
