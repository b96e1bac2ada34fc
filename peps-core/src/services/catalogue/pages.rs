//! The search sequence every reader's page goes through, in one call: catch up with the store,
//! answer from the recent pages when the same search was just made, otherwise search the index
//! and label the facets in the reader's language — the JSON API and the web pages alike.
//!
//! Pages are kept per process, keyed by the catalogue change counter their results reflect,
//! the minute (for "open now" and freshness notices), the language, the query and the kind of
//! page (each adapter renders its own): any write to the catalogue, on any instance, moves the
//! counter, so a kept page is never staler than a fresh one.

use chrono::{DateTime, NaiveDateTime, Utc};
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::Catalogue;
use crate::catalogue::search::{Facet, SearchQuery, SearchResults};
use crate::domain::Language;
use crate::error::CoreResult;

/// One value of a facet, with its label in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetValue {
    pub code: String,
    pub label: String,
    pub count: usize,
}

/// A facet's counts, labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledFacet {
    pub facet: Facet,
    pub values: Vec<FacetValue>,
}

/// What a search page is made from.
#[derive(Debug)]
pub struct SearchOutcome<'a> {
    pub results: SearchResults,
    /// The facets of `results`, labelled in `language`.
    pub facets: Vec<LabelledFacet>,
    pub language: &'a Language,
    /// The service's time the search ran at: "open now", and the freshness notices a page
    /// shows, use this instant.
    pub now: DateTime<Utc>,
    /// `now` on the collectivity's wall clock.
    pub local_now: NaiveDateTime,
}

/// Entries kept before the pages start over; a page is a few tens of kilobytes.
const CAPACITY: usize = 512;

/// Recently rendered pages, of whatever type each adapter renders.
#[derive(Default)]
pub(super) struct RecentPages {
    entries: Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>,
}

impl RecentPages {
    fn get<T: Send + Sync + 'static>(&self, key: &str) -> Option<Arc<T>> {
        let entry = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()?;
        entry.downcast::<T>().ok()
    }

    fn put<T: Send + Sync + 'static>(&self, key: String, page: Arc<T>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Starting over is simpler than LRU bookkeeping and, keyed by counter and minute,
        // entries age out within a minute anyway.
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, page);
    }
}

impl Catalogue {
    /// A page of published offers for `query`, rendered by `render` in `language`, or the
    /// same page rendered moments ago if nothing in the catalogue changed since (same counter,
    /// same minute, same query and language, same page type `T`). An invalid query (unknown
    /// code, bad cursor…) is an error and never kept.
    pub async fn search_page<T, F>(
        &self,
        query: &SearchQuery,
        language: &Language,
        render: F,
    ) -> CoreResult<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&SearchOutcome<'_>) -> T,
    {
        let seq = self.sync().await?;
        let now = self.now();
        let local_now = self.local_at(now);
        let key = format!(
            "{seq}|{}|{}|{}|{query:?}",
            local_now.format("%Y-%m-%dT%H:%M"),
            language.code(),
            std::any::type_name::<T>(),
        );
        if let Some(page) = self.pages.get::<T>(&key) {
            return Ok(page);
        }
        let results = self.search_index(query, local_now)?;
        let facets = self.labelled_facets(&results, language);
        let page = Arc::new(render(&SearchOutcome {
            results,
            facets,
            language,
            now,
            local_now,
        }));
        self.pages.put(key, page.clone());
        Ok(page)
    }

    fn labelled_facets(&self, results: &SearchResults, language: &Language) -> Vec<LabelledFacet> {
        let lang = language.code();
        results
            .facets
            .iter()
            .map(|f| LabelledFacet {
                facet: f.facet,
                values: f
                    .values
                    .iter()
                    .map(|(code, count)| FacetValue {
                        label: match f.facet.list() {
                            Some(kind) => self.reference.label(kind, code, lang).text.to_owned(),
                            // Spoken languages are named in their own language.
                            None => Language::parse(code)
                                .map(|l| l.info().native_name.clone())
                                .unwrap_or_else(|_| code.clone()),
                        },
                        code: code.clone(),
                        count: *count,
                    })
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_pages_and_starts_over_when_full() {
        let pages = RecentPages::default();
        assert!(pages.get::<u32>("a").is_none());
        pages.put("a".into(), Arc::new(1u32));
        assert_eq!(pages.get::<u32>("a").as_deref(), Some(&1));
        for i in 0..CAPACITY {
            pages.put(format!("k{i}"), Arc::new(2u32));
        }
        assert!(
            pages.get::<u32>("a").is_none(),
            "the full cache started over"
        );
    }

    #[test]
    fn a_page_of_another_type_is_not_taken_for_one() {
        let pages = RecentPages::default();
        pages.put("a".into(), Arc::new(1u32));
        assert!(pages.get::<String>("a").is_none());
    }
}
