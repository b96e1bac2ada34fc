//! What an import run says: counts per kind, report lines, progress, and how it failed.

use serde::Serialize;
use std::path::PathBuf;

use crate::error::{CoreError, StoreError};

/// What happened to the records of one kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KindSummary {
    pub read: u64,
    pub created: u64,
    pub updated: u64,
    /// Same content as last imported; for services, a newer `date_maj` still renews the
    /// verification date (`verified`).
    pub unchanged: u64,
    pub verified: u64,
    /// Edited in PEPS after the source's `date_maj`: PEPS's version kept.
    pub kept_local: u64,
    /// Older than the version PEPS already holds from the source.
    pub outdated: u64,
    /// Outside `--departement`.
    pub out_of_area: u64,
    pub rejected: u64,
    /// Records taken without one or more optional fields.
    pub with_dropped_fields: u64,
    /// Changed in PEPS while the import ran; a rerun takes them up.
    pub conflicts: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub dry_run: bool,
    pub structures: KindSummary,
    pub services: KindSummary,
    /// A file that could not be read to its end (broken JSON framing, unreadable CSV).
    pub file_errors: Vec<String>,
}

/// One line of the import report (JSON Lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportLine {
    pub kind: &'static str,
    /// Where the record is in its file (1-based), for records without a usable id.
    pub position: u64,
    pub line: u64,
    pub source: Option<String>,
    pub id: Option<String>,
    /// `rejected`, `field_dropped`, `kept_local`, `outdated` or `conflict`.
    pub outcome: &'static str,
    pub field: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// `--departement`: finding the structures the département's services belong to.
    Scanning,
    Structures,
    Services,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub phase: Phase,
    pub records: u64,
    pub bytes_read: u64,
    pub total_bytes: u64,
}

/// Where an import tells how it goes: a progress bar, log lines, a job's status.
pub trait ImportObserver: Send {
    fn progress(&mut self, progress: &Progress);
    fn report(&mut self, line: &ReportLine) -> std::io::Result<()>;
}

/// An observer that ignores everything (library use without a report).
pub struct Quiet;

impl ImportObserver for Quiet {
    fn progress(&mut self, _: &Progress) {}
    fn report(&mut self, _: &ReportLine) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes report lines as JSON Lines to any writer.
pub struct JsonLinesReport<W: std::io::Write + Send>(pub W);

impl<W: std::io::Write + Send> ImportObserver for JsonLinesReport<W> {
    fn progress(&mut self, _: &Progress) {}
    fn report(&mut self, line: &ReportLine) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.0, line)?;
        self.0.write_all(b"\n")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the report: {0}")]
    Report(std::io::Error),
    #[error("unknown default theme `{0}`")]
    UnknownTheme(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ImportError> for CoreError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Store(s) => CoreError::Store(s),
            ImportError::UnknownTheme(_) => CoreError::Invalid(crate::error::ValidationError::new(
                "default_theme",
                "import.default_theme.unknown",
            )),
            other => CoreError::Store(StoreError::unavailable(other)),
        }
    }
}
