//! Documents and their files, as the wallet keeps them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::ports::{BlobKey, WrappedKey};
use super::sniff::MediaType;
use crate::domain::{AccountId, DocumentFileId, DocumentId, Role};
use crate::error::ValidationError;
use crate::plans::DOCUMENT_KINDS;

pub const TITLE_MAX: usize = 200;

/// Who put something in a wallet, and as what (the person, a worker scanning a paper at the
/// counter, a helper under a mandate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploader {
    pub account: AccountId,
    pub role: Role,
}

/// One proof of a person (an identity card, a tax notice…), with one or more pages per version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: DocumentId,
    pub person: AccountId,
    pub kind: String,
    pub title: String,
    pub issued_on: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    /// The version whose pages are current; a new version (a renewed card) keeps the old pages.
    pub current_version: i32,
    pub created_by: Uploader,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Optimistic concurrency for metadata edits.
    pub revision: i64,
    /// Every file of every version, by version then page.
    pub files: Vec<DocumentFile>,
}

impl Document {
    pub fn current_files(&self) -> impl Iterator<Item = &DocumentFile> {
        self.files
            .iter()
            .filter(move |f| f.version == self.current_version)
    }

    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    pub fn expiry(&self, today: NaiveDate, soon_days: u32) -> Expiry {
        Expiry::of(self.valid_until, today, soon_days)
    }
}

/// One stored file: a page of a version of a document, sealed under its own data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentFile {
    pub id: DocumentFileId,
    pub document: DocumentId,
    pub version: i32,
    pub page: i32,
    pub media_type: MediaType,
    /// Plaintext size in bytes.
    pub size: u64,
    /// SHA-256 of the plaintext, lower-case hex (for the export manifest and integrity checks).
    pub sha256: String,
    pub blob: BlobKey,
    /// The content cipher (`A256GCM-STREAM-64K`).
    pub algorithm: String,
    pub wrapped_key: WrappedKey,
    pub uploaded_by: Uploader,
    pub uploaded_at: DateTime<Utc>,
}

/// Where a document stands against its `valid until` date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expiry {
    /// No end date (a birth certificate), or far enough away.
    Valid,
    ExpiresSoon,
    Expired,
}

impl Expiry {
    pub fn of(valid_until: Option<NaiveDate>, today: NaiveDate, soon_days: u32) -> Self {
        match valid_until {
            Some(end) if end < today => Expiry::Expired,
            Some(end) if (end - today).num_days() <= i64::from(soon_days) => Expiry::ExpiresSoon,
            _ => Expiry::Valid,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Expiry::Valid => "valid",
            Expiry::ExpiresSoon => "expires_soon",
            Expiry::Expired => "expired",
        }
    }
}

/// What someone writes about a document (kind, title, dates), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentFields {
    pub kind: String,
    pub title: String,
    pub issued_on: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
}

impl DocumentFields {
    /// Checks every field; a missing title becomes the kind's code (the API shows its label).
    pub fn check(self, kinds: &[String]) -> Result<Self, Vec<ValidationError>> {
        let mut errors = Vec::new();
        let kind = self.kind.trim().to_owned();
        if !kinds.contains(&kind) {
            errors.push(
                ValidationError::new("kind", "document.kind.unknown").at(1, Some(kind.clone())),
            );
        }
        let title = self.title.trim().to_owned();
        if title.chars().count() > TITLE_MAX {
            errors.push(ValidationError::new("title", "document.title.too_long"));
        }
        if title.chars().any(char::is_control) || crate::domain::check_shown_text(&title).is_err() {
            errors.push(ValidationError::new("title", "document.title.invalid"));
        }
        let plausible = |d: NaiveDate| (1900..=2200).contains(&chrono::Datelike::year(&d));
        if self.issued_on.is_some_and(|d| !plausible(d))
            || self.valid_until.is_some_and(|d| !plausible(d))
        {
            errors.push(ValidationError::new(
                "valid_until",
                "document.date.out_of_range",
            ));
        }
        if let (Some(issued), Some(until)) = (self.issued_on, self.valid_until)
            && until < issued
        {
            errors.push(ValidationError::new(
                "valid_until",
                "document.date.before_issue",
            ));
        }
        if errors.is_empty() {
            Ok(Self {
                kind,
                title,
                ..self
            })
        } else {
            Err(errors)
        }
    }
}

/// The built-in document kinds (the step plans use the same codes). A deployment may add its
/// own in `wallet.extra_kinds`, with labels in its locale files.
pub fn builtin_kinds() -> Vec<String> {
    DOCUMENT_KINDS.iter().map(|k| (*k).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn expiry_is_flagged_before_and_after_the_date() {
        let today = date(2026, 11, 22);
        assert_eq!(Expiry::of(None, today, 30), Expiry::Valid);
        assert_eq!(Expiry::of(Some(date(2027, 6, 1)), today, 30), Expiry::Valid);
        assert_eq!(
            Expiry::of(Some(date(2026, 12, 22)), today, 30),
            Expiry::ExpiresSoon
        );
        assert_eq!(Expiry::of(Some(today), today, 30), Expiry::ExpiresSoon);
        assert_eq!(
            Expiry::of(Some(date(2026, 11, 21)), today, 30),
            Expiry::Expired
        );
    }

    #[test]
    fn fields_are_checked_all_at_once() {
        let kinds = builtin_kinds();
        let ok = DocumentFields {
            kind: " passport ".into(),
            title: " Passeport ".into(),
            issued_on: Some(date(2020, 1, 1)),
            valid_until: Some(date(2030, 1, 1)),
        }
        .check(&kinds)
        .unwrap();
        assert_eq!(
            (ok.kind.as_str(), ok.title.as_str()),
            ("passport", "Passeport")
        );
        let errors = DocumentFields {
            kind: "selfie".into(),
            title: "x".repeat(TITLE_MAX + 1),
            issued_on: Some(date(2030, 1, 1)),
            valid_until: Some(date(2020, 1, 1)),
        }
        .check(&kinds)
        .unwrap_err();
        let codes: Vec<_> = errors.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            [
                "document.kind.unknown",
                "document.title.too_long",
                "document.date.before_issue"
            ]
        );
    }
}
