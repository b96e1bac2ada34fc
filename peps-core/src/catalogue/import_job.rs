//! An import of data·inclusion files an admin started, run in the background.

use chrono::{DateTime, Utc};

use crate::domain::{AccountId, ImportJobId};

/// An import an admin started over HTTP, run in the background.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportJob {
    pub id: ImportJobId,
    pub requested_by: AccountId,
    pub status: ImportJobStatus,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The job's options and its running (then final) summary, as JSON.
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportJobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    /// The server stopped while the job ran; rerunning the same files converges.
    Interrupted,
}

impl ImportJobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportJobStatus::Queued => "queued",
            ImportJobStatus::Running => "running",
            ImportJobStatus::Succeeded => "succeeded",
            ImportJobStatus::Failed => "failed",
            ImportJobStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(raw: &str) -> Option<ImportJobStatus> {
        [
            ImportJobStatus::Queued,
            ImportJobStatus::Running,
            ImportJobStatus::Succeeded,
            ImportJobStatus::Failed,
            ImportJobStatus::Interrupted,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}
