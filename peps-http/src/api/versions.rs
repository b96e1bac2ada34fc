//! One HTTP style for every versioned resource (offers, organisation profiles, plans, steps,
//! wallet documents): a read or a write answers the resource's current version as `ETag`; an
//! edit sends it back in `If-Match`. A missing `If-Match` is `428 Precondition Required`
//! (`<resource>.version_required`); a value that is not a version, or not the current one, is
//! `412 Precondition Failed` with the resource's stale code, and nothing is written. The core
//! use cases take the expected version as an argument: only the decoding lives here.

use poem::http::StatusCode;
use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;
use poem_openapi::types::ToJSON;

use crate::problem::{ApiError, ApiResult};

/// The codes a resource answers when an edit's precondition fails.
#[derive(Debug, Clone, Copy)]
pub struct Versioned {
    /// 412: `If-Match` is not a version, or not the current one (the core's `Stale` code).
    pub stale: &'static str,
    /// 428: no `If-Match` at all.
    pub required: &'static str,
}

pub const OFFER: Versioned = Versioned {
    stale: "offer.version_conflict",
    required: "offer.version_required",
};

pub const PLAN: Versioned = Versioned {
    stale: "plan.version_changed",
    required: "plan.version_required",
};

pub const STEP: Versioned = Versioned {
    stale: "step.version_changed",
    required: "step.version_required",
};

/// A document's edit counter is its `revision` (its `current_version` counts file versions).
pub const DOCUMENT: Versioned = Versioned {
    stale: "document.revision_changed",
    required: "document.revision_required",
};

/// An organisation's profile: its first version is written without `If-Match`.
pub const PROFILE_STALE: &str = "organisation.profile.version_conflict";

/// `"3"`, `W/"3"` or `3` → 3; absent → `None`; anything else → 412 `stale`. The one parser of
/// `If-Match` in the API.
pub fn optional_version(if_match: Option<&str>, stale: &'static str) -> ApiResult<Option<i64>> {
    let Some(raw) = if_match else {
        return Ok(None);
    };
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| ApiError::new(StatusCode::PRECONDITION_FAILED, stale))
}

impl Versioned {
    /// The version an edit is based on, where the core also takes an edit without one (an
    /// offer's transitions).
    pub fn optional(&self, if_match: Option<&str>) -> ApiResult<Option<i64>> {
        optional_version(if_match, self.stale)
    }

    /// The version an edit is based on: absent → 428 `required`.
    pub fn required(&self, if_match: Option<&str>) -> ApiResult<i64> {
        self.optional(if_match)?
            .ok_or_else(|| ApiError::new(StatusCode::PRECONDITION_REQUIRED, self.required))
    }
}

/// The `ETag` of a version: `"3"`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A versioned resource, with its current version as `ETag`.
#[derive(ApiResponse)]
pub enum Tagged<T: ToJSON + Send + Sync> {
    /// The resource; its `ETag` is the version to send back in `If-Match` when editing it.
    #[oai(status = 200)]
    Ok(
        Json<T>,
        /// The resource's current version, e.g. `"3"`.
        #[oai(header = "ETag")]
        String,
    ),
}

impl<T: ToJSON + Send + Sync> Tagged<T> {
    pub fn new(body: T, version: i64) -> Self {
        Self::Ok(Json(body), etag(version))
    }
}

/// A versioned resource that may have no version to edit: an organisation's profile not
/// written yet, a plan read by an admin (metadata only).
#[derive(ApiResponse)]
pub enum MaybeTagged<T: ToJSON + Send + Sync> {
    /// The resource; its `ETag`, when present, is the version to send back in `If-Match` when
    /// editing it.
    #[oai(status = 200)]
    Ok(
        Json<T>,
        /// The resource's current version, e.g. `"3"`; absent when there is none to edit.
        #[oai(header = "ETag")]
        Option<String>,
    ),
}

impl<T: ToJSON + Send + Sync> MaybeTagged<T> {
    pub fn new(body: T, version: Option<i64>) -> Self {
        Self::Ok(Json(body), version.map(etag))
    }
}

/// `201 Created` with a versioned resource and its first version as `ETag`.
#[derive(ApiResponse)]
pub enum TaggedCreated<T: ToJSON + Send + Sync> {
    /// The new resource; its `ETag` is the version to send back in `If-Match` when editing it.
    #[oai(status = 201)]
    Created(
        Json<T>,
        /// The resource's first version, e.g. `"1"`.
        #[oai(header = "ETag")]
        String,
    ),
}

impl<T: ToJSON + Send + Sync> TaggedCreated<T> {
    pub fn new(body: T, version: i64) -> Self {
        Self::Created(Json(body), etag(version))
    }
}

/// `204 No Content` after a write that moved a resource to a new version, given as `ETag`.
#[derive(ApiResponse)]
pub enum TaggedDone {
    /// Done; the `ETag` is the resource's new version.
    #[oai(status = 204)]
    Done(
        /// The resource's new version, e.g. `"4"`.
        #[oai(header = "ETag")]
        String,
    ),
}

impl TaggedDone {
    pub fn new(version: i64) -> Self {
        Self::Done(etag(version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_a_version_quoted_weak_or_bare() {
        for raw in ["\"3\"", "W/\"3\"", "3", " \"3\" "] {
            assert_eq!(PLAN.required(Some(raw)).unwrap(), 3, "{raw}");
            assert_eq!(STEP.optional(Some(raw)).unwrap(), Some(3), "{raw}");
        }
        assert_eq!(etag(3), "\"3\"");
        assert_eq!(PLAN.required(Some(&etag(7))).unwrap(), 7);
    }

    #[test]
    fn a_missing_if_match_is_428_with_the_resources_code() {
        for (resource, code) in [
            (OFFER, "offer.version_required"),
            (PLAN, "plan.version_required"),
            (STEP, "step.version_required"),
            (DOCUMENT, "document.revision_required"),
        ] {
            let err = resource.required(None).unwrap_err();
            assert_eq!(
                (err.status, err.code),
                (StatusCode::PRECONDITION_REQUIRED, code)
            );
            assert_eq!(resource.optional(None).unwrap(), None);
        }
    }

    #[test]
    fn an_if_match_that_is_not_a_version_is_412_with_the_stale_code() {
        for raw in ["*", "\"abc\"", "", "W/", "\"3-x\""] {
            for resource in [OFFER, PLAN, STEP, DOCUMENT] {
                let err = resource.required(Some(raw)).unwrap_err();
                assert_eq!(
                    (err.status, err.code),
                    (StatusCode::PRECONDITION_FAILED, resource.stale),
                    "{raw}"
                );
            }
            let err = optional_version(Some(raw), PROFILE_STALE).unwrap_err();
            assert_eq!(err.code, PROFILE_STALE);
        }
    }

    #[test]
    fn every_code_is_listed_and_translated() {
        let codes = [OFFER, PLAN, STEP, DOCUMENT]
            .into_iter()
            .flat_map(|r| [r.stale, r.required])
            .chain([PROFILE_STALE]);
        for code in codes {
            assert!(
                peps_core::i18n::ERROR_CODES.contains(&code),
                "{code} is not in ERROR_CODES"
            );
        }
    }
}
