//! data·inclusion import and export: the département's catalogue bootstrapped from a national
//! extract, and given back as open data in the same v1 schema.
//!
//! An import reads records in chunks, validates and maps each one, and writes each chunk in one
//! transaction. What it wrote is remembered per (`source`, `id`) with a hash of the mapped
//! content: rerunning an import changes nothing, and rerunning an interrupted one (even killed)
//! picks up where the last committed chunk ended and converges to the same state.
//!
//! When a record changed both at the source and in PEPS, the newer one wins: the source's
//! `date_maj` against the day of the last change made in PEPS. On the same day PEPS wins, since
//! `date_maj` has no time of day and the offerer's edit was made knowingly.
//!
//! By concern: [`import`](self) runs an extract through the mapping into the store,
//! `outcome` says what a run did (summary, report lines, progress), `area` decides what is in a
//! département, `export` pages through the published catalogue, and `jobs` is the admins' use
//! case of background imports (started, followed and reported with the acting `Actor`).

use chrono::{DateTime, Utc};
use std::sync::Arc;

use crate::catalogue::ReferenceData;
use crate::catalogue::data_inclusion::schema::V1Schemas;
use crate::clock::Clock;
use crate::domain::DepartementCode;
use crate::error::{CoreError, CoreResult, ValidationError};
use crate::ports::*;

mod area;
mod export;
mod import;
mod jobs;
mod options;
mod outcome;

pub use export::{ExportPages, ExportSettings};
pub use jobs::*;
pub use options::*;
pub use outcome::*;

pub struct Exchange {
    store: Arc<dyn CatalogueExchange>,
    offers: Arc<dyn OfferRepository>,
    clock: Arc<dyn Clock>,
    reference: Arc<ReferenceData>,
    schemas: Arc<V1Schemas>,
}

impl Exchange {
    pub fn new(
        store: Arc<dyn CatalogueExchange>,
        offers: Arc<dyn OfferRepository>,
        clock: Arc<dyn Clock>,
        reference: Arc<ReferenceData>,
    ) -> Self {
        Self {
            store,
            offers,
            clock,
            reference,
            schemas: Arc::new(V1Schemas::new()),
        }
    }

    pub fn reference(&self) -> &ReferenceData {
        &self.reference
    }

    /// The published catalogue as v1 records, page by page.
    pub fn export(&self, settings: ExportSettings) -> ExportPages {
        ExportPages::new(self.store.clone(), settings)
    }

    /// Options as someone typed them, checked before anything starts: the département trimmed
    /// and upper-cased (`2a` is `2A`), the default theme one of the reference list's. The
    /// command line and the admins' background jobs both start here.
    pub fn options(
        &self,
        departement: Option<&str>,
        dry_run: bool,
        default_theme: Option<String>,
    ) -> CoreResult<ImportOptions> {
        let mut errors = Vec::new();
        let departement = departement
            .map(|d| d.trim().to_uppercase())
            .filter(|d| !d.is_empty())
            .and_then(|d| match DepartementCode::parse(&d) {
                Ok(code) => Some(code),
                Err(_) => {
                    errors.push(ValidationError::new(
                        "departement",
                        "import.departement.invalid",
                    ));
                    None
                }
            });
        let known = |t: &String| self.reference.themes().iter().any(|x| &x.code == t);
        if default_theme.as_ref().is_some_and(|t| !known(t)) {
            errors.push(ValidationError::new(
                "default_theme",
                "import.default_theme.unknown",
            ));
        }
        CoreError::from_validation(errors)?;
        Ok(ImportOptions {
            departement,
            dry_run,
            default_theme,
            ..ImportOptions::default()
        })
    }

    /// The catalogue counter: any change to offers or profiles moves it.
    pub async fn catalogue_seq(&self) -> CoreResult<i64> {
        Ok(self.offers.catalogue_seq().await?)
    }

    /// The catalogue counter (for ETags) and when the catalogue last changed.
    pub async fn catalogue_state(&self) -> CoreResult<(i64, Option<DateTime<Utc>>)> {
        let seq = self.offers.catalogue_seq().await?;
        let at = self.store.catalogue_changed_at().await?;
        Ok((seq, at))
    }
}
