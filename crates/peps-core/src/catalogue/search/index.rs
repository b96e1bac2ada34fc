//! The index itself: posting lists of French stems, per-offer facet values, locations and
//! compiled opening hours, and the query executor.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::cursor::{Cursor, fingerprint};
use super::geo::{BoundingBox, distance_km};
use super::{
    CursorError, Facet, FacetCounts, Near, OpenAt, SearchHit, SearchQuery, SearchResults, Sort,
};
use crate::catalogue::offer::{ChangeKind, Offer, OfferStatus, departement_of};
use crate::catalogue::opening_hours::{OpeningHours, WeeklySchedule};
use crate::catalogue::reference::{ListKind, ReferenceData, topic_category};
use crate::catalogue::text;
use crate::domain::{Language, OfferId};

/// Which fields of an offer a word occurs in, packed under the slot number in a posting.
const TITLE: u32 = 1;
const TOPICS: u32 = 2;
const SUMMARY: u32 = 4;
const DESCRIPTION: u32 = 8;
const ORGANISATION: u32 = 16;
const FIELD_BITS: u32 = 5;
const FIELD_MASK: u32 = (1 << FIELD_BITS) - 1;

/// A word in the title says more than one in the description; a word found in several fields
/// a little more still.
fn field_weight(fields: u32) -> f32 {
    let mut best = 0.0f32;
    let mut found = 0u8;
    for (bit, weight) in [
        (TITLE, 4.0),
        (TOPICS, 2.5),
        (SUMMARY, 2.0),
        (ORGANISATION, 1.5),
        (DESCRIPTION, 1.0),
    ] {
        if fields & bit != 0 {
            best = best.max(weight);
            found += 1;
        }
    }
    best + 0.25 * f32::from(found.saturating_sub(1))
}

/// Match quality of a query word against an index word.
const EXACT: f32 = 1.0;
const PREFIX: f32 = 0.7;
const ONE_TYPO: f32 = 0.6;
const TWO_TYPOS: f32 = 0.4;

struct Hours {
    /// The fast path for hours that depend only on weekday and time (nearly all of them).
    weekly: Option<WeeklySchedule>,
    full: OpeningHours,
}

impl Hours {
    fn compile(raw: &str) -> Option<Hours> {
        let full = OpeningHours::parse(raw).ok()?;
        Some(Hours {
            weekly: full.weekly(),
            full,
        })
    }

    fn is_open(&self, at: NaiveDateTime) -> bool {
        match &self.weekly {
            Some(week) => week.is_open(at.weekday(), minute_of_day(at)),
            None => self.full.is_open_at(at),
        }
    }
}

fn minute_of_day(at: NaiveDateTime) -> u16 {
    (at.hour() * 60 + at.minute()) as u16
}

struct TemporaryHours {
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    /// `None`: closed.
    hours: Option<Hours>,
}

struct Doc {
    offer: Arc<Offer>,
    id: u128,
    facets: Vec<(Facet, u16)>,
    points: Vec<(f64, f64)>,
    communes: Vec<String>,
    departements: Vec<String>,
    zone: Vec<String>,
    hours: Option<Hours>,
    changes: Vec<TemporaryHours>,
    verified: i64,
    ends_on: Option<NaiveDate>,
}

impl Doc {
    fn is_open(&self, at: NaiveDateTime) -> bool {
        let day = at.date();
        // The latest-starting change wins, as in `Offer::change_on`.
        if let Some(change) = self
            .changes
            .iter()
            .filter(|c| c.starts_on <= day && day <= c.ends_on)
            .max_by_key(|c| c.starts_on)
        {
            return change.hours.as_ref().is_some_and(|h| h.is_open(at));
        }
        self.hours.as_ref().is_some_and(|h| h.is_open(at))
    }

    fn has(&self, facet: Facet, wanted: &[bool]) -> bool {
        self.facets
            .iter()
            .any(|(f, v)| *f == facet && wanted.get(usize::from(*v)).copied().unwrap_or(false))
    }

    fn eligible_in(&self, commune: &str) -> bool {
        self.zone.is_empty()
            || self
                .zone
                .iter()
                .any(|z| z == "france" || z == commune || z.as_str() == departement_of(commune))
    }
}

/// Facet values as small numbers, in reference-list order.
struct FacetCodes {
    codes: Vec<Vec<String>>,
    lookup: Vec<HashMap<String, u16>>,
}

impl FacetCodes {
    fn new(reference: &ReferenceData) -> Self {
        let codes: Vec<Vec<String>> = Facet::ALL
            .iter()
            .map(|facet| match facet.list() {
                Some(list) => reference.codes(list).to_vec(),
                None => Language::all().iter().map(|l| l.code.clone()).collect(),
            })
            .collect();
        let lookup = codes
            .iter()
            .map(|list| {
                list.iter()
                    .enumerate()
                    .map(|(i, c)| (c.clone(), i as u16))
                    .collect()
            })
            .collect();
        Self { codes, lookup }
    }

    fn id(&self, facet: Facet, code: &str) -> Option<u16> {
        self.lookup[facet as usize].get(code).copied()
    }

    fn code(&self, facet: Facet, id: u16) -> &str {
        &self.codes[facet as usize][usize::from(id)]
    }

    fn len(&self, facet: Facet) -> usize {
        self.codes[facet as usize].len()
    }

    /// A membership table for the codes asked for; unknown codes match nothing.
    fn wanted(&self, facet: Facet, values: &[String]) -> Option<Vec<bool>> {
        if values.is_empty() {
            return None;
        }
        let mut wanted = vec![false; self.len(facet)];
        for value in values {
            if let Some(id) = self.id(facet, value) {
                wanted[usize::from(id)] = true;
            }
        }
        Some(wanted)
    }
}

/// The query's facet filters, compiled once per search.
struct Filters {
    facets: Vec<(Facet, Vec<bool>)>,
    /// `topic=` accepts topics and whole categories: either matching is enough.
    topics: Option<(Vec<bool>, Vec<bool>)>,
}

/// The published offers, searchable. Not thread-safe by itself: the catalogue service holds it
/// behind a lock and feeds it the store's changes.
pub struct SearchIndex {
    reference: Arc<ReferenceData>,
    facets: FacetCodes,
    docs: Vec<Option<Doc>>,
    by_id: HashMap<OfferId, u32>,
    /// Stem → postings (slot << FIELD_BITS | fields), in slot order.
    postings: HashMap<String, Vec<u32>>,
    /// Every folded word seen → its stem, for prefix and typo matching.
    words: BTreeMap<String, String>,
    dead: usize,
    seq: i64,
}

impl SearchIndex {
    pub fn new(reference: Arc<ReferenceData>) -> Self {
        Self {
            facets: FacetCodes::new(&reference),
            reference,
            docs: Vec::new(),
            by_id: HashMap::new(),
            postings: HashMap::new(),
            words: BTreeMap::new(),
            dead: 0,
            seq: 0,
        }
    }

    /// The store sequence number of the last change applied.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// How many offers are searchable.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Applies changed offers (any status) up to store sequence `seq`: published ones are
    /// (re)indexed, the others leave the index.
    pub fn apply(&mut self, offers: impl IntoIterator<Item = Offer>, seq: i64) {
        for offer in offers {
            self.remove(offer.id);
            if offer.status == OfferStatus::Published {
                self.insert(offer);
            }
        }
        self.seq = self.seq.max(seq);
        if self.dead > 1_000 && self.dead * 4 > self.docs.len() {
            self.compact();
        }
    }

    fn remove(&mut self, id: OfferId) {
        if let Some(slot) = self.by_id.remove(&id) {
            self.docs[slot as usize] = None;
            self.dead += 1;
        }
    }

    /// Rebuilds the posting lists without the removed offers' slots.
    fn compact(&mut self) {
        let live: Vec<Arc<Offer>> = self.docs.drain(..).flatten().map(|doc| doc.offer).collect();
        self.by_id.clear();
        self.postings.clear();
        self.words.clear();
        self.dead = 0;
        for offer in live {
            self.insert(Arc::unwrap_or_clone(offer));
        }
    }

    fn insert(&mut self, offer: Offer) {
        let slot = self.docs.len() as u32;
        let content = &offer.content;

        let mut fields: HashMap<String, u32> = HashMap::new();
        let mut add = |text: &str, field: u32, words: &mut BTreeMap<String, String>| {
            for word in text::words(text) {
                let stem = words
                    .entry(word.clone())
                    .or_insert_with(|| text::stem(&word))
                    .clone();
                *fields.entry(stem).or_default() |= field;
            }
        };
        add(&content.title, TITLE, &mut self.words);
        if let Some(summary) = &content.summary {
            add(summary, SUMMARY, &mut self.words);
        }
        add(&content.description, DESCRIPTION, &mut self.words);
        add(&offer.organisation_name, ORGANISATION, &mut self.words);
        for topic in &content.topics {
            let category = topic_category(topic);
            let labels = [
                self.reference.label(ListKind::Topics, topic, "fr").text,
                self.reference
                    .label(ListKind::TopicCategories, category, "fr")
                    .text,
            ];
            for label in labels {
                add(label, TOPICS, &mut self.words);
            }
        }
        for (stem, bits) in fields {
            self.postings
                .entry(stem)
                .or_default()
                .push((slot << FIELD_BITS) | bits);
        }

        let mut facets = Vec::new();
        let mut push = |facet: Facet, code: &str| {
            if let Some(id) = self.facets.id(facet, code)
                && !facets.contains(&(facet, id))
            {
                facets.push((facet, id));
            }
        };
        push(Facet::Theme, &content.theme);
        for topic in &content.topics {
            push(Facet::Topic, topic);
            push(Facet::Category, topic_category(topic));
        }
        for audience in &content.audiences {
            push(Facet::Audience, audience);
        }
        if let Some(service_type) = &content.service_type {
            push(Facet::ServiceType, service_type);
        }
        if let Some(cost) = &content.cost {
            push(Facet::Cost, cost);
        }
        for mode in &content.reception_modes {
            push(Facet::ReceptionMode, mode);
        }
        for language in &content.languages_spoken {
            push(Facet::Language, language);
        }

        let points = content.locations.iter().filter_map(|l| l.point()).collect();
        let communes: Vec<String> = content
            .locations
            .iter()
            .filter_map(|l| l.commune_code.clone())
            .collect();
        let mut departements: Vec<String> = communes
            .iter()
            .map(|c| departement_of(c).to_owned())
            .collect();
        departements.dedup();
        let changes = offer
            .temporary_changes
            .iter()
            .map(|c| TemporaryHours {
                starts_on: c.starts_on,
                ends_on: c.ends_on,
                hours: match &c.kind {
                    ChangeKind::Closed => None,
                    ChangeKind::ChangedHours { opening_hours } => Hours::compile(opening_hours),
                },
            })
            .collect();
        let doc = Doc {
            id: offer.id.0.as_u128(),
            facets,
            points,
            communes,
            departements,
            zone: content.eligibility_zone.clone(),
            hours: content.opening_hours.as_deref().and_then(Hours::compile),
            changes,
            verified: offer.last_verified_at.timestamp(),
            ends_on: content.validity.map(|v| v.ends_on),
            offer: Arc::new(offer),
        };
        self.by_id.insert(doc.offer.id, slot);
        self.docs.push(Some(doc));
    }

    /// Runs a query. `now` is the current Europe/Paris wall-clock time: it decides "open now"
    /// and hides time-bound offers that have ended.
    pub fn search(
        &self,
        query: &SearchQuery,
        now: NaiveDateTime,
    ) -> Result<SearchResults, CursorError> {
        let canonical = {
            let mut q = query.clone();
            q.cursor = None;
            q.limit = 0;
            format!("{q:?}")
        };
        let print = fingerprint(&canonical);
        let after = query
            .cursor
            .as_deref()
            .map(|raw| Cursor::decode(raw, print))
            .transpose()?;

        let has_text = query.text.as_deref().is_some_and(|t| !t.trim().is_empty());
        let words = query.text.as_deref().map(text::words).unwrap_or_default();
        let sort = match query.sort {
            Sort::Relevance if !words.is_empty() => Sort::Relevance,
            Sort::Relevance | Sort::Distance if query.near.is_some() => Sort::Distance,
            _ => Sort::Freshness,
        };
        let candidates: Vec<(u32, f32)> = if words.is_empty() {
            if has_text {
                // Only stop words ("de la"): nothing to look for, nothing matches.
                Vec::new()
            } else {
                self.docs
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.is_some())
                    .map(|(slot, _)| (slot as u32, 0.0))
                    .collect()
            }
        } else {
            self.text_matches(&words)
        };

        let filters = self.compile_filters(query);
        let open_at = query.open.map(|o| match o {
            OpenAt::Now => now,
            OpenAt::At(at) => at,
        });
        let bbox = query
            .near
            .map(|n| BoundingBox::around((n.latitude, n.longitude), n.radius_km));
        let today = now.date();

        let mut counts: Vec<Vec<usize>> = Facet::ALL
            .iter()
            .map(|f| vec![0; self.facets.len(*f)])
            .collect();
        let mut total = 0usize;
        // (sort key, id, slot, score, distance) of the matches after the cursor.
        let mut page: Vec<(i64, u128, u32, f32, Option<f64>)> = Vec::new();
        for (slot, score) in candidates {
            let Some(doc) = self.docs[slot as usize].as_ref() else {
                continue;
            };
            if doc.ends_on.is_some_and(|end| end < today) || !self.passes(doc, &filters, query) {
                continue;
            }
            let distance = match (query.near, bbox) {
                (Some(near), Some(bbox)) => match nearest(doc, near, bbox) {
                    Some(d) => Some(d),
                    None => continue,
                },
                _ => None,
            };
            if let Some(at) = open_at
                && !doc.is_open(at)
            {
                continue;
            }
            total += 1;
            for (facet, value) in &doc.facets {
                counts[*facet as usize][usize::from(*value)] += 1;
            }
            let key = match sort {
                Sort::Relevance => -((score * 1000.0).round() as i64),
                Sort::Distance => (distance.unwrap_or(0.0) * 1000.0).round() as i64,
                Sort::Freshness => -doc.verified,
            };
            if after.is_none_or(|c| (key, doc.id) > (c.key, c.id)) {
                page.push((key, doc.id, slot, score, distance));
            }
        }

        let limit = query.limit.clamp(1, 100);
        let more = page.len() > limit;
        if more {
            page.select_nth_unstable_by(limit, |a, b| (a.0, a.1).cmp(&(b.0, b.1)));
            page.truncate(limit);
        }
        page.sort_unstable_by_key(|p| (p.0, p.1));
        let next_cursor = if more {
            page.last().map(|(key, id, ..)| {
                Cursor {
                    fingerprint: print,
                    key: *key,
                    id: *id,
                }
                .encode()
            })
        } else {
            None
        };
        let hits = page
            .into_iter()
            .filter_map(|(_, _, slot, score, distance_km)| {
                self.docs[slot as usize].as_ref().map(|doc| SearchHit {
                    offer: Arc::clone(&doc.offer),
                    score,
                    distance_km,
                })
            })
            .collect();
        let facets = Facet::ALL
            .iter()
            .map(|facet| {
                let mut values: Vec<(String, usize)> = counts[*facet as usize]
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| **n > 0)
                    .map(|(id, n)| (self.facets.code(*facet, id as u16).to_owned(), *n))
                    .collect();
                values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                FacetCounts {
                    facet: *facet,
                    values,
                }
            })
            .collect();
        Ok(SearchResults {
            hits,
            total,
            facets,
            next_cursor,
            sort,
        })
    }

    fn compile_filters(&self, query: &SearchQuery) -> Filters {
        let mut facets = Vec::new();
        for (facet, values) in [
            (Facet::Theme, &query.themes),
            (Facet::Audience, &query.audiences),
            (Facet::Cost, &query.costs),
            (Facet::ServiceType, &query.service_types),
            (Facet::ReceptionMode, &query.reception_modes),
            (Facet::Language, &query.languages),
        ] {
            if let Some(wanted) = self.facets.wanted(facet, values) {
                facets.push((facet, wanted));
            }
        }
        let topics = (!query.topics.is_empty()).then(|| {
            (
                self.facets
                    .wanted(Facet::Topic, &query.topics)
                    .unwrap_or_default(),
                self.facets
                    .wanted(Facet::Category, &query.topics)
                    .unwrap_or_default(),
            )
        });
        Filters { facets, topics }
    }

    fn passes(&self, doc: &Doc, filters: &Filters, query: &SearchQuery) -> bool {
        filters
            .facets
            .iter()
            .all(|(facet, wanted)| doc.has(*facet, wanted))
            && filters.topics.as_ref().is_none_or(|(topics, categories)| {
                doc.has(Facet::Topic, topics) || doc.has(Facet::Category, categories)
            })
            && (query.communes.is_empty()
                || doc.communes.iter().any(|c| query.communes.contains(c)))
            && (query.departements.is_empty()
                || doc
                    .departements
                    .iter()
                    .any(|d| query.departements.contains(d)))
            && query
                .eligible_commune
                .as_deref()
                .is_none_or(|c| doc.eligible_in(c))
    }

    /// Offers containing every query word (exactly, by stem, by prefix for the last word, or
    /// with a typo), with their scores, in slot order.
    fn text_matches(&self, words: &[String]) -> Vec<(u32, f32)> {
        let mut result: Option<Vec<(u32, f32)>> = None;
        for (i, word) in words.iter().enumerate() {
            let expansions = self.expand(word, i + 1 == words.len());
            let mut hits: Vec<(u32, f32)> = Vec::new();
            for (stem, quality) in &expansions {
                if let Some(postings) = self.postings.get(stem.as_str()) {
                    hits.extend(
                        postings
                            .iter()
                            .map(|p| (p >> FIELD_BITS, quality * field_weight(p & FIELD_MASK))),
                    );
                }
            }
            if expansions.len() > 1 {
                hits.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
                hits.dedup_by_key(|h| h.0);
            }
            result = Some(match result {
                None => hits,
                Some(previous) => intersect(&previous, &hits),
            });
            if result.as_ref().is_some_and(Vec::is_empty) {
                break;
            }
        }
        result.unwrap_or_default()
    }

    /// The index stems a query word stands for, with how well each matches.
    fn expand(&self, word: &str, is_last: bool) -> Vec<(String, f32)> {
        let stem = text::stem(word);
        let mut out: Vec<(String, f32)> = Vec::new();
        let mut add = |stem: &str, quality: f32| match out.iter_mut().find(|(s, _)| s == stem) {
            Some(existing) => existing.1 = existing.1.max(quality),
            None => out.push((stem.to_owned(), quality)),
        };
        let exact = self.postings.contains_key(&stem);
        if exact {
            add(&stem, EXACT);
        }
        // Search as you type: the last word may be unfinished ("héberg").
        if is_last && word.chars().count() >= 3 {
            for (_, stem) in self
                .words
                .range(word.to_owned()..)
                .take_while(|(w, _)| w.starts_with(word))
                .take(64)
            {
                add(stem, PREFIX);
            }
        }
        let budget = text::typo_budget(word);
        if !exact && budget > 0 {
            // Typos rarely hit the first letter; looking only there keeps this fast.
            let first: String = word.chars().take(1).collect();
            for (candidate, stem) in self
                .words
                .range(first.clone()..)
                .take_while(|(w, _)| w.starts_with(&first))
            {
                if let Some(distance) = text::bounded_distance(word, candidate, budget) {
                    add(stem, if distance <= 1 { ONE_TYPO } else { TWO_TYPOS });
                }
            }
        }
        out
    }
}

/// Sorted-merge intersection of two slot-ordered lists, adding the scores.
fn intersect(a: &[(u32, f32)], b: &[(u32, f32)]) -> Vec<(u32, f32)> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push((a[i].0, a[i].1 + b[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Distance to the offer's nearest location within the radius, if any.
fn nearest(doc: &Doc, near: Near, bbox: BoundingBox) -> Option<f64> {
    doc.points
        .iter()
        .filter(|p| bbox.contains(**p))
        .map(|p| distance_km((near.latitude, near.longitude), *p))
        .filter(|d| *d <= near.radius_km)
        .min_by(f64::total_cmp)
}
