//! The one place the pages run a catalogue search: the core's single search call (catch up
//! with the store, the recent-pages cache, the search), keeping the results for the pages to
//! render with their own templates.

use std::sync::Arc;

use peps_core::catalogue::search::{SearchQuery, SearchResults};
use peps_core::domain::Language;
use peps_core::error::CoreResult;

use crate::state::AppState;

pub async fn search(
    state: &AppState,
    query: &SearchQuery,
    language: &Language,
) -> CoreResult<Arc<SearchResults>> {
    state
        .catalogue
        .search_page(query, language, |outcome| outcome.results.clone())
        .await
}
