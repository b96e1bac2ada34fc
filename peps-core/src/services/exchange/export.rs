//! The published catalogue given back as data·inclusion v1 records, page by page.

use std::sync::Arc;

use crate::catalogue::data_inclusion::{self as v1, V1Service, V1Structure};
use crate::domain::*;
use crate::error::CoreResult;
use crate::ports::*;

/// How an export names PEPS and where PEPS is reached (for `lien_source`).
#[derive(Debug, Clone)]
pub struct ExportSettings {
    /// The data·inclusion `source` of every exported record (`peps-89`).
    pub source: String,
    pub public_url: String,
}

/// Pages through the published catalogue as v1 records.
pub struct ExportPages {
    store: Arc<dyn CatalogueExchange>,
    settings: ExportSettings,
    after_organisation: Option<OrganisationId>,
    after_offer: Option<OfferId>,
    structures_done: bool,
    services_done: bool,
}

/// Records per page read from the store.
const EXPORT_PAGE: u32 = 1_000;

impl ExportPages {
    pub fn new(store: Arc<dyn CatalogueExchange>, settings: ExportSettings) -> Self {
        Self {
            store,
            settings,
            after_organisation: None,
            after_offer: None,
            structures_done: false,
            services_done: false,
        }
    }

    /// The next structures, or `None` at the end.
    pub async fn next_structures(&mut self) -> CoreResult<Option<Vec<V1Structure>>> {
        if self.structures_done {
            return Ok(None);
        }
        let page = self
            .store
            .public_organisations(self.after_organisation, EXPORT_PAGE)
            .await?;
        self.structures_done = page.len() < EXPORT_PAGE as usize;
        let Some((last, _)) = page.last() else {
            return Ok(None);
        };
        self.after_organisation = Some(last.id);
        Ok(Some(
            page.iter()
                .map(|(org, profile)| {
                    let updated = profile.as_ref().map_or(org.created_at, |p| p.updated_at);
                    v1::structure(
                        org,
                        profile.as_ref().map(|p| &p.profile),
                        updated,
                        &self.settings.source,
                        &self.settings.public_url,
                    )
                })
                .collect(),
        ))
    }

    /// The next services, or `None` at the end.
    pub async fn next_services(&mut self) -> CoreResult<Option<Vec<V1Service>>> {
        if self.services_done {
            return Ok(None);
        }
        let page = self
            .store
            .published_offers(self.after_offer, EXPORT_PAGE)
            .await?;
        self.services_done = page.len() < EXPORT_PAGE as usize;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        self.after_offer = Some(last.id);
        Ok(Some(
            page.iter()
                .map(|offer| v1::service(offer, &self.settings.source, &self.settings.public_url))
                .collect(),
        ))
    }
}
