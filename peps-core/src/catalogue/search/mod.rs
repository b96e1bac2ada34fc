//! Catalogue search: an in-memory index of the published offers, kept in step with the store
//! by the catalogue service (see [`crate::services::catalogue`]), so every server instance
//! answers from the same data without a search server to run.
//!
//! Why in memory rather than SQLite FTS5 / PostgreSQL full-text: the same behaviour on both
//! databases (accent folding, French stemming, typo tolerance, opening hours evaluated per
//! offer, facet counts), and latencies of a few milliseconds at 50,000 offers, which the
//! SQL engines could not give with facets and "open now" computed per row. A département's
//! catalogue (a few thousand offers, 50,000 at most) fits comfortably in memory.

mod cursor;
pub mod geo;
mod index;
pub mod vocabulary;

pub use cursor::CursorError;
pub use index::SearchIndex;

use chrono::NaiveDateTime;
use std::sync::Arc;

use super::offer::Offer;
use super::reference::ListKind;

/// A dimension readers can filter on and get counts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Facet {
    Theme,
    Topic,
    Category,
    Audience,
    ServiceType,
    Cost,
    ReceptionMode,
    Language,
}

impl Facet {
    pub const ALL: [Facet; 8] = [
        Facet::Theme,
        Facet::Topic,
        Facet::Category,
        Facet::Audience,
        Facet::ServiceType,
        Facet::Cost,
        Facet::ReceptionMode,
        Facet::Language,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Facet::Theme => "theme",
            Facet::Topic => "topic",
            Facet::Category => "category",
            Facet::Audience => "audience",
            Facet::ServiceType => "service_type",
            Facet::Cost => "cost",
            Facet::ReceptionMode => "reception_mode",
            Facet::Language => "language",
        }
    }

    /// The reference list the facet's values come from (languages come from languages.tsv).
    pub fn list(self) -> Option<ListKind> {
        Some(match self {
            Facet::Theme => ListKind::Themes,
            Facet::Topic => ListKind::Topics,
            Facet::Category => ListKind::TopicCategories,
            Facet::Audience => ListKind::Audiences,
            Facet::ServiceType => ListKind::ServiceTypes,
            Facet::Cost => ListKind::Costs,
            Facet::ReceptionMode => ListKind::ReceptionModes,
            Facet::Language => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Best text match first; without text, nearest first when a point is given, else the
    /// most recently verified first.
    #[default]
    Relevance,
    Distance,
    /// Most recently verified first.
    Freshness,
}

impl Sort {
    pub fn parse(raw: &str) -> Option<Sort> {
        match raw {
            "relevance" => Some(Sort::Relevance),
            "distance" => Some(Sort::Distance),
            "freshness" => Some(Sort::Freshness),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Distance => "distance",
            Sort::Freshness => "freshness",
        }
    }
}

/// "Open now" is kept as such (not as a time) so a cursor stays valid from page to page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenAt {
    Now,
    At(NaiveDateTime),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    pub latitude: f64,
    pub longitude: f64,
    pub radius_km: f64,
}

/// What a reader asks for. Within one filter, values are alternatives (OR); different
/// filters must all hold (AND).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchQuery {
    pub text: Option<String>,
    /// The language the words are in (the reader's), to prefer its meaning of a word that
    /// means different things in different languages; any language's words are read anyway.
    pub text_language: Option<String>,
    pub themes: Vec<String>,
    /// Topic codes, or whole categories (`logement-hebergement`).
    pub topics: Vec<String>,
    pub audiences: Vec<String>,
    pub costs: Vec<String>,
    pub service_types: Vec<String>,
    pub reception_modes: Vec<String>,
    pub languages: Vec<String>,
    pub near: Option<Near>,
    /// Offers with a location in one of these communes (INSEE codes).
    pub communes: Vec<String>,
    /// Offers with a location in one of these départements.
    pub departements: Vec<String>,
    /// Offers whose eligibility zone covers this commune (by commune, its EPCI, its
    /// département, or France; an offer without a zone is open to all).
    pub eligible_commune: Option<String>,
    /// Only offers open now, or at a given Europe/Paris wall-clock time.
    pub open: Option<OpenAt>,
    pub sort: Sort,
    pub cursor: Option<String>,
    pub limit: usize,
    /// Count the matches per facet value (`SearchResults::facets`): asked for by a page that
    /// shows the counts, not by one that only lists results.
    pub facets: bool,
}

#[derive(Debug, Clone)]
pub struct SearchHit {
    pub offer: Arc<Offer>,
    /// Text relevance (higher is better); 0 without text.
    pub score: f32,
    /// To the nearest location of the offer, when the query gave a point.
    pub distance_km: Option<f64>,
    /// (the query's word or phrase, the topic or category code it found the offer by): why a
    /// "سكن" found an offer titled "Hébergement d'urgence".
    pub matched: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetCounts {
    pub facet: Facet,
    /// (code, number of matching offers), most frequent first; only non-zero counts.
    pub values: Vec<(String, usize)>,
}

#[derive(Debug, Clone)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// How many offers match, over all pages.
    pub total: usize,
    /// Empty unless the query asked for them.
    pub facets: Vec<FacetCounts>,
    /// Pass back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// The sort actually applied (relevance without text becomes distance or freshness).
    pub sort: Sort,
    /// Query words no offer answers in any way, left out of the search.
    pub ignored_words: Vec<String>,
}

#[cfg(test)]
mod tests;
