//! What an import is asked to do.

use std::path::PathBuf;

use crate::domain::DepartementCode;

/// Records per transaction: large enough to amortise a commit, small enough to keep memory flat
/// and an interrupted import's lost work short.
pub const DEFAULT_BATCH: usize = 500;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Keep only what is located in this département (`89`, `2A`, `971`).
    pub departement: Option<DepartementCode>,
    /// Validate and count without writing anything.
    pub dry_run: bool,
    /// The theme of services whose topics no theme covers; the first theme when `None`.
    pub default_theme: Option<String>,
    pub batch_size: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            departement: None,
            dry_run: false,
            default_theme: None,
            batch_size: DEFAULT_BATCH,
        }
    }
}

/// The extract's files; either may be absent (services then refer to structures imported
/// earlier).
#[derive(Debug, Clone, Default)]
pub struct ImportFiles {
    pub structures: Option<PathBuf>,
    pub services: Option<PathBuf>,
}
