//! The index itself: posting lists of French stems, per-offer facet values, locations and
//! compiled opening hours, and the query executor.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;

use super::cursor::{Cursor, fingerprint};
use super::geo::{BoundingBox, LocalDistance};
use super::vocabulary::{Meaning, Unit, Vocabulary};
use super::{
    CursorError, Facet, FacetCounts, Near, OpenAt, SearchHit, SearchQuery, SearchResults, Sort,
};
use crate::catalogue::offer::{ChangeKind, Offer, OfferStatus};
use crate::catalogue::opening_hours::{OpeningHours, WeeklySchedule};
use crate::catalogue::reference::{ListKind, ReferenceData, topic_category};
use crate::catalogue::text;
use crate::domain::DepartementCode;
use crate::domain::{Language, OfferId};
use crate::places;

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
/// Another form of a short word (same stem, other letters).
const OTHER_FORM: f32 = 0.9;
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

/// What every query looks at for every offer, kept flat and small so a scan of 50,000 offers
/// stays in cache: facet values as bitmasks, a bounding box of the locations, an index into the
/// table of distinct opening hours.
#[derive(Clone, Copy)]
struct Hot {
    masks: Masks,
    /// min lat, max lat, min lon, max lon of the offer's locations.
    bbox: Option<[f32; 4]>,
    /// Index in `SearchIndex::hours`, or `NO_HOURS`.
    hours: u32,
    has_changes: bool,
    verified: i64,
    ends_on: Option<NaiveDate>,
    id: u128,
}

const NO_HOURS: u32 = u32::MAX;

/// One bitmask per facet: bit i = the i-th code of its list. Topics (69 in data·inclusion v1)
/// get 128 bits, the other lists 32 (checked when the reference data loads), which keeps the
/// per-offer record small enough for a full scan to stay fast.
#[derive(Clone, Copy, Default)]
struct Masks {
    topic: u128,
    others: [u32; 7],
}

impl Masks {
    fn slot(facet: Facet) -> Option<usize> {
        match facet {
            Facet::Topic => None,
            Facet::Theme => Some(0),
            Facet::Category => Some(1),
            Facet::Audience => Some(2),
            Facet::ServiceType => Some(3),
            Facet::Cost => Some(4),
            Facet::ReceptionMode => Some(5),
            Facet::Language => Some(6),
        }
    }

    fn get(&self, facet: Facet) -> u128 {
        match Self::slot(facet) {
            None => self.topic,
            Some(i) => u128::from(self.others[i]),
        }
    }

    fn add(&mut self, facet: Facet, bit: u16) {
        match Self::slot(facet) {
            None => self.topic |= 1u128 << bit,
            Some(i) if bit < 32 => self.others[i] |= 1u32 << bit,
            Some(_) => {}
        }
    }
}

/// The rest, read only for matches or rare filters.
struct Doc {
    offer: Arc<Offer>,
    points: Vec<(f64, f64)>,
    communes: Vec<String>,
    departements: Vec<String>,
    zone: Vec<String>,
    changes: Vec<TemporaryHours>,
}

impl Doc {
    /// The temporary change in force on `day`, the latest-starting one (as `Offer::change_on`).
    fn change_on(&self, day: NaiveDate) -> Option<&TemporaryHours> {
        self.changes
            .iter()
            .filter(|c| c.starts_on <= day && day <= c.ends_on)
            .max_by_key(|c| c.starts_on)
    }

    fn eligible_in(&self, commune: &str) -> bool {
        self.zone.is_empty()
            || self.zone.iter().any(|z| {
                z == "france"
                    || z == commune
                    || DepartementCode::of_commune(commune).is_some_and(|d| d == z.as_str())
                    || places::communes().epci_of(commune) == Some(z.as_str())
            })
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
                // Facets are bitmasks: a list holds at most 128 codes (checked when the
                // reference data loads); any beyond would simply not be searchable.
                list.iter()
                    .take(128)
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

    /// The bitmask of the codes asked for; unknown codes match nothing.
    fn wanted(&self, facet: Facet, values: &[String]) -> Option<u128> {
        if values.is_empty() {
            return None;
        }
        Some(
            values
                .iter()
                .filter_map(|v| self.id(facet, v))
                .fold(0u128, |mask, id| mask | (1u128 << id)),
        )
    }
}

/// The query's facet filters, compiled once per search.
struct Filters {
    facets: Vec<(Facet, u128)>,
    /// `topic=` accepts topics and whole categories: either matching is enough.
    topics: Option<(u128, u128)>,
    /// Filters that need the cold data (communes, départements, eligibility).
    cold: bool,
}

/// The published offers, searchable. Not thread-safe by itself: the catalogue service holds it
/// behind a lock and feeds it the store's changes.
pub struct SearchIndex {
    reference: Arc<ReferenceData>,
    facets: FacetCodes,
    hot: Vec<Option<Hot>>,
    /// Each slot's offer id (0 for a removed one), beside `hot` for the plain searches.
    ids: Vec<u128>,
    /// Slots whose offer is live and not time-bound: a plain search needs nothing more.
    plain: Vec<u64>,
    docs: Vec<Option<Doc>>,
    /// Distinct opening hours, compiled once: offers share a handful of schedules, so "open
    /// now" evaluates each schedule once per query instead of once per offer.
    hours: Vec<Hours>,
    hours_ids: HashMap<String, u32>,
    /// For each facet and value, the set of slots holding it (one bit per slot): facet counts
    /// are then popcounts of (matches AND value), whatever the number of matches.
    value_slots: Vec<Vec<Vec<u64>>>,
    by_id: HashMap<OfferId, u32>,
    /// Stem → postings (slot << FIELD_BITS | fields), in slot order.
    postings: HashMap<String, Vec<u32>>,
    /// Every folded word seen → its stem, for prefix and typo matching.
    words: BTreeMap<String, String>,
    dead: usize,
    seq: i64,
    /// People's words → topics and French words; `None` searches the offers' words only.
    vocabulary: Option<Arc<Vocabulary>>,
}

impl SearchIndex {
    pub fn new(reference: Arc<ReferenceData>) -> Self {
        Self {
            vocabulary: Some(Arc::new(Vocabulary::shipped(&reference))),
            facets: FacetCodes::new(&reference),
            reference,
            hot: Vec::new(),
            ids: Vec::new(),
            plain: Vec::new(),
            docs: Vec::new(),
            hours: Vec::new(),
            hours_ids: HashMap::new(),
            value_slots: vec![Vec::new(); Facet::ALL.len()],
            by_id: HashMap::new(),
            postings: HashMap::new(),
            words: BTreeMap::new(),
            dead: 0,
            seq: 0,
        }
    }

    /// Searches with another vocabulary, or none (to measure what it brings).
    pub fn set_vocabulary(&mut self, vocabulary: Option<Arc<Vocabulary>>) {
        self.vocabulary = vocabulary;
    }

    /// The store sequence number of the last change applied.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// A searchable (published) offer by id.
    pub fn offer(&self, id: OfferId) -> Option<Arc<Offer>> {
        let slot = *self.by_id.get(&id)? as usize;
        self.docs.get(slot)?.as_ref().map(|doc| doc.offer.clone())
    }

    /// Up to `limit` published offers of `organisation` other than `except`, in index order:
    /// "the offerer's other offers" without reading every offer of the offerer from the store.
    pub fn published_of(
        &self,
        organisation: crate::domain::OrganisationId,
        except: OfferId,
        limit: usize,
    ) -> Vec<Arc<Offer>> {
        self.docs
            .iter()
            .flatten()
            .filter(|doc| doc.offer.organisation_id == organisation && doc.offer.id != except)
            .take(limit)
            .map(|doc| doc.offer.clone())
            .collect()
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

    fn mark_values(&mut self, slot: u32, masks: &Masks, present: bool) {
        let (word, bit) = ((slot / 64) as usize, 1u64 << (slot % 64));
        for facet in Facet::ALL {
            let facet_index = facet as usize;
            let mut bits = masks.get(facet);
            while bits != 0 {
                let value = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let values = &mut self.value_slots[facet_index];
                if values.len() <= value {
                    values.resize_with(value + 1, Vec::new);
                }
                let set = &mut values[value];
                if set.len() <= word {
                    set.resize(word + 1, 0);
                }
                if present {
                    set[word] |= bit;
                } else {
                    set[word] &= !bit;
                }
            }
        }
    }

    fn remove(&mut self, id: OfferId) {
        if let Some(slot) = self.by_id.remove(&id) {
            self.docs[slot as usize] = None;
            self.ids[slot as usize] = 0;
            if let Some(word) = self.plain.get_mut((slot / 64) as usize) {
                *word &= !(1u64 << (slot % 64));
            }
            if let Some(hot) = self.hot[slot as usize].take() {
                self.mark_values(slot, &hot.masks, false);
            }
            self.dead += 1;
        }
    }

    /// Rebuilds the posting lists without the removed offers' slots.
    fn compact(&mut self) {
        let live: Vec<Arc<Offer>> = self.docs.drain(..).flatten().map(|doc| doc.offer).collect();
        self.hot.clear();
        self.ids.clear();
        self.plain.clear();
        self.by_id.clear();
        self.postings.clear();
        self.words.clear();
        self.hours.clear();
        self.hours_ids.clear();
        self.value_slots = vec![Vec::new(); Facet::ALL.len()];
        self.dead = 0;
        for offer in live {
            self.insert(Arc::unwrap_or_clone(offer));
        }
    }

    fn insert(&mut self, mut offer: Offer) {
        let slot = self.docs.len() as u32;
        // The index is the public catalogue: a confidential place is kept as its commune, and
        // found by distance to the commune's centre, so no result, distance or sort order
        // gives its street away.
        offer.content.withhold_confidential_places();
        let content = &offer.content;

        let mut fields: HashMap<String, u32> = HashMap::new();
        let mut add = |text: &str, field: u32, words: &mut BTreeMap<String, String>| {
            for word in text::words(text) {
                let stem = words
                    .entry(word.clone())
                    .or_insert_with(|| text::stem(&word))
                    .clone();
                // A short word also under its exact form: "CAF" is an acronym, not the stem
                // of "café" (see `exact_form`).
                if word.chars().count() <= SHORT_WORD && word.chars().all(char::is_alphabetic) {
                    *fields.entry(exact_form(&word)).or_default() |= field;
                }
                *fields.entry(stem).or_default() |= field;
            }
        };
        add(&content.title, TITLE, &mut self.words);
        if let Some(summary) = &content.summary {
            add(summary, SUMMARY, &mut self.words);
        }
        add(&content.description, DESCRIPTION, &mut self.words);
        add(&offer.organisation_name, ORGANISATION, &mut self.words);
        // Offers translated by their offerer are found in those languages too.
        for translation in content.translations.values() {
            let t = &translation.value;
            add(&t.title, TITLE, &mut self.words);
            if let Some(summary) = &t.summary {
                add(summary, SUMMARY, &mut self.words);
            }
            if let Some(description) = &t.description {
                add(description, DESCRIPTION, &mut self.words);
            }
        }
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

        let mut masks = Masks::default();
        let mut push = |facet: Facet, code: &str| {
            if let Some(id) = self.facets.id(facet, code) {
                masks.add(facet, id);
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

        let points: Vec<(f64, f64)> = if content.confidential_address {
            content
                .locations
                .iter()
                .filter_map(|l| places::communes().centre(l.commune_code.as_deref()?))
                .collect()
        } else {
            content.locations.iter().filter_map(|l| l.point()).collect()
        };
        // f32 keeps positions to about half a metre: plenty for "within 10 km".
        let bbox = points.iter().fold(None, |acc: Option<[f32; 4]>, p| {
            let (lat, lon) = (p.0 as f32, p.1 as f32);
            Some(match acc {
                None => [lat, lat, lon, lon],
                Some([a, b, c, d]) => [a.min(lat), b.max(lat), c.min(lon), d.max(lon)],
            })
        });
        let communes: Vec<String> = content
            .locations
            .iter()
            .filter_map(|l| l.commune_code.clone())
            .collect();
        let mut departements: Vec<String> = communes
            .iter()
            .filter_map(|c| DepartementCode::of_commune(c).map(String::from))
            .collect();
        departements.dedup();
        let changes: Vec<TemporaryHours> = offer
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
        let hours = match content.opening_hours.as_deref() {
            None => NO_HOURS,
            Some(raw) => match self.hours_ids.get(raw) {
                Some(id) => *id,
                None => match Hours::compile(raw) {
                    Some(compiled) => {
                        let id = self.hours.len() as u32;
                        self.hours.push(compiled);
                        self.hours_ids.insert(raw.to_owned(), id);
                        id
                    }
                    None => NO_HOURS,
                },
            },
        };
        self.mark_values(slot, &masks, true);
        self.ids.push(offer.id.0.as_u128());
        if self.plain.len() <= (slot / 64) as usize {
            self.plain.push(0);
        }
        if content.validity.is_none() {
            self.plain[(slot / 64) as usize] |= 1u64 << (slot % 64);
        }
        self.hot.push(Some(Hot {
            masks,
            bbox,
            hours,
            has_changes: !changes.is_empty(),
            verified: offer.last_verified_at.timestamp(),
            ends_on: content.validity.map(|v| v.ends_on),
            id: offer.id.0.as_u128(),
        }));
        let doc = Doc {
            points,
            communes,
            departements,
            zone: content.eligibility_zone.clone(),
            changes,
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
            // Counts or not, the pages are the same.
            q.facets = false;
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
        let units = match &self.vocabulary {
            Some(v) => v.read(&words, query.text_language.as_deref()),
            None => words
                .iter()
                .map(|w| Unit {
                    words: vec![w.clone()],
                    meanings: Vec::new(),
                })
                .collect(),
        };
        let mut ignored_words = Vec::new();
        let sort = match query.sort {
            Sort::Relevance if !words.is_empty() => Sort::Relevance,
            Sort::Relevance | Sort::Distance if query.near.is_some() => Sort::Distance,
            _ => Sort::Freshness,
        };
        // Without words every offer is a candidate: scan the slots, no list to build.
        let text_hits: Option<Vec<(u32, f32)>> = if words.is_empty() {
            has_text.then(Vec::new) // only stop words ("de la"): nothing matches
        } else {
            Some(self.text_matches(&units, &mut ignored_words))
        };

        let filters = self.compile_filters(query);
        let open_at = query.open.map(|o| match o {
            OpenAt::Now => now,
            OpenAt::At(at) => at,
        });
        // Each distinct schedule is evaluated at most once per query.
        let mut open_cache: Vec<u8> = if open_at.is_some() {
            vec![UNKNOWN; self.hours.len()]
        } else {
            Vec::new()
        };
        let bbox = query
            .near
            .map(|n| BoundingBox::around((n.latitude, n.longitude), n.radius_km));
        let flat =
            LocalDistance::around(query.near.map_or((0.0, 0.0), |n| (n.latitude, n.longitude)));
        let today = now.date();

        // Facet filters as one bitset (values ORed within a filter, filters ANDed): most
        // candidates are then turned away by a bit test, before their record is read.
        let allowed = self.allowed_slots(&filters);
        let mut matched = if query.facets {
            vec![0u64; self.hot.len().div_ceil(64)]
        } else {
            Vec::new()
        };
        let mut total = 0usize;
        let limit = query.limit.clamp(1, 100);
        // The `limit + 1` best (sort key, id) after the cursor: a bounded max-heap, so a query
        // matching 40,000 offers does not sort 40,000 entries.
        let mut best: BinaryHeap<Ranked> = BinaryHeap::with_capacity(limit + 2);
        // A relevance search with no place, no time and no commune needs nothing of an offer
        // that is live and not time-bound but its id: reading it from the compact id table,
        // not the offer's record, keeps a broad search out of main memory.
        let plain_query =
            sort == Sort::Relevance && query.near.is_none() && open_at.is_none() && !filters.cold;
        let mut consider = |slot: u32, score: f32| {
            let (word, bit) = ((slot / 64) as usize, 1u64 << (slot % 64));
            if let Some(allowed) = &allowed
                && allowed[word] & bit == 0
            {
                return;
            }
            if plain_query && self.plain[word] & bit != 0 {
                total += 1;
                if let Some(word) = matched.get_mut(word) {
                    *word |= bit;
                }
                let key = -((score * 1000.0).round() as i64);
                let id = self.ids[slot as usize];
                if after.is_some_and(|c| (key, id) <= (c.key, c.id)) {
                    return;
                }
                if best.len() > limit
                    && best
                        .peek()
                        .is_some_and(|worst| (key, id) >= (worst.key, worst.id))
                {
                    return;
                }
                best.push(Ranked {
                    key,
                    id,
                    slot,
                    score,
                    distance: None,
                });
                if best.len() > limit + 1 {
                    best.pop();
                }
                return;
            }
            let Some(hot) = self.hot[slot as usize].as_ref() else {
                return;
            };
            if hot.ends_on.is_some_and(|end| end < today) {
                return;
            }
            if filters.cold && !self.passes_cold(slot, query) {
                return;
            }
            let distance = match (query.near, bbox) {
                (Some(near), Some(bbox)) => {
                    let Some(b) = hot.bbox else {
                        return;
                    };
                    if !bbox.overlaps(b) {
                        return;
                    }
                    // One location (the usual case): its box is the point itself, no need to
                    // reach for the offer's other data.
                    let found = if b[0] == b[1] && b[2] == b[3] {
                        let d = flat.distance_km((f64::from(b[0]), f64::from(b[2])));
                        (d <= near.radius_km).then_some(d)
                    } else {
                        self.docs[slot as usize]
                            .as_ref()
                            .and_then(|doc| nearest(doc, near, bbox, &flat))
                    };
                    match found {
                        Some(d) => Some(d),
                        None => return,
                    }
                }
                _ => None,
            };
            if let Some(at) = open_at
                && !self.is_open(slot, hot, at, &mut open_cache)
            {
                return;
            }
            total += 1;
            if let Some(word) = matched.get_mut((slot / 64) as usize) {
                *word |= 1u64 << (slot % 64);
            }
            let key = match sort {
                Sort::Relevance => -((score * 1000.0).round() as i64),
                Sort::Distance => (distance.unwrap_or(0.0) * 1000.0).round() as i64,
                Sort::Freshness => -hot.verified,
            };
            if after.is_some_and(|c| (key, hot.id) <= (c.key, c.id)) {
                return;
            }
            let ranked = Ranked {
                key,
                id: hot.id,
                slot,
                score,
                distance,
            };
            if best.len() <= limit {
                best.push(ranked);
            } else if best.peek().is_some_and(|worst| ranked < *worst) {
                best.pop();
                best.push(ranked);
            }
        };
        match text_hits {
            Some(hits) => hits
                .into_iter()
                .for_each(|(slot, score)| consider(slot, score)),
            None => match allowed.clone() {
                // Only the slots the filters allow.
                Some(allowed) => {
                    for (w, bits) in allowed.into_iter().enumerate() {
                        let mut bits = bits;
                        while bits != 0 {
                            let slot = (w * 64) as u32 + bits.trailing_zeros();
                            bits &= bits - 1;
                            consider(slot, 0.0);
                        }
                    }
                }
                None => (0..self.hot.len() as u32).for_each(|slot| consider(slot, 0.0)),
            },
        }

        let mut page = best.into_sorted_vec();
        let more = page.len() > limit;
        page.truncate(limit);
        let next_cursor = if more {
            page.last().map(|r| {
                Cursor {
                    fingerprint: print,
                    key: r.key,
                    id: r.id,
                }
                .encode()
            })
        } else {
            None
        };
        let hits = page
            .into_iter()
            .filter_map(|r| {
                self.docs[r.slot as usize].as_ref().map(|doc| SearchHit {
                    matched: matched_topics(&doc.offer, &units),
                    offer: Arc::clone(&doc.offer),
                    score: r.score,
                    distance_km: r.distance,
                })
            })
            .collect();
        let facets = if !query.facets {
            Vec::new()
        } else {
            self.facet_counts(&matched)
        };
        Ok(SearchResults {
            hits,
            total,
            facets,
            next_cursor,
            sort,
            ignored_words,
        })
    }

    /// The counts of every facet value among the `matched` slots: popcounts of bitsets.
    fn facet_counts(&self, matched: &[u64]) -> Vec<FacetCounts> {
        Facet::ALL
            .iter()
            .map(|facet| {
                let mut values: Vec<(String, usize)> = self.value_slots[*facet as usize]
                    .iter()
                    .enumerate()
                    .map(|(id, slots)| {
                        let n: u32 = slots
                            .iter()
                            .zip(matched)
                            .map(|(a, b)| (a & b).count_ones())
                            .sum();
                        (id, n as usize)
                    })
                    .filter(|(_, n)| *n > 0)
                    .map(|(id, n)| (self.facets.code(*facet, id as u16).to_owned(), n))
                    .collect();
                values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                FacetCounts {
                    facet: *facet,
                    values,
                }
            })
            .collect()
    }

    /// The slots the facet filters allow, or `None` without facet filters.
    fn allowed_slots(&self, filters: &Filters) -> Option<Vec<u64>> {
        let words = self.hot.len().div_ceil(64);
        let union = |facet: Facet, wanted: u128| -> Vec<u64> {
            let mut set = vec![0u64; words];
            let mut bits = wanted;
            while bits != 0 {
                let value = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if let Some(slots) = self.value_slots[facet as usize].get(value) {
                    for (a, b) in set.iter_mut().zip(slots) {
                        *a |= b;
                    }
                }
            }
            set
        };
        let mut sets: Vec<Vec<u64>> = filters
            .facets
            .iter()
            .map(|(facet, wanted)| union(*facet, *wanted))
            .collect();
        if let Some((topics, categories)) = filters.topics {
            let mut either = union(Facet::Topic, topics);
            for (a, b) in either.iter_mut().zip(union(Facet::Category, categories)) {
                *a |= b;
            }
            sets.push(either);
        }
        let mut sets = sets.into_iter();
        let mut allowed = sets.next()?;
        for set in sets {
            for (a, b) in allowed.iter_mut().zip(set) {
                *a &= b;
            }
        }
        Some(allowed)
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
        Filters {
            facets,
            topics,
            cold: !query.communes.is_empty()
                || !query.departements.is_empty()
                || query.eligible_commune.is_some(),
        }
    }

    /// Open at `at`, per the day's temporary change or the (cached) regular schedule.
    fn is_open(&self, slot: u32, hot: &Hot, at: NaiveDateTime, cache: &mut [u8]) -> bool {
        if hot.has_changes
            && let Some(change) = self.docs[slot as usize]
                .as_ref()
                .and_then(|doc| doc.change_on(at.date()))
        {
            return change.hours.as_ref().is_some_and(|h| h.is_open(at));
        }
        if hot.hours == NO_HOURS {
            return false;
        }
        let cached = &mut cache[hot.hours as usize];
        if *cached == UNKNOWN {
            *cached = u8::from(self.hours[hot.hours as usize].is_open(at));
        }
        *cached == 1
    }

    fn passes_cold(&self, slot: u32, query: &SearchQuery) -> bool {
        let Some(doc) = self.docs[slot as usize].as_ref() else {
            return false;
        };
        (query.communes.is_empty() || doc.communes.iter().any(|c| query.communes.contains(c)))
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

    /// Offers answering every unit of the query (a word or a known phrase): by their own
    /// words (exactly, by stem, by prefix for the last word, or with a typo), by a topic the
    /// unit names, or by the French words it stands for; with their scores, in slot order. A
    /// unit nothing in the catalogue answers is left out (and reported) rather than emptying
    /// the results, unless nothing answers at all.
    fn text_matches(&self, units: &[Unit], ignored: &mut Vec<String>) -> Vec<(u32, f32)> {
        let mut answered: Vec<Vec<(u32, f32)>> = Vec::with_capacity(units.len());
        for (i, unit) in units.iter().enumerate() {
            let hits = self.unit_hits(unit, i + 1 == units.len());
            if hits.is_empty() {
                ignored.push(unit.text());
            } else {
                answered.push(hits);
            }
        }
        let mut result: Option<Vec<(u32, f32)>> = None;
        for hits in &answered {
            result = Some(match result {
                None => hits.clone(),
                Some(previous) => intersect(&previous, hits),
            });
            if result.as_ref().is_some_and(Vec::is_empty) {
                break;
            }
        }
        match result {
            // No offer answers every word ("un toit ce soir"): those answering most of them,
            // rather than nothing.
            Some(all) if all.is_empty() && answered.len() > 1 => union_sum(&answered),
            other => other.unwrap_or_default(),
        }
    }

    fn unit_hits(&self, unit: &Unit, is_last: bool) -> Vec<(u32, f32)> {
        // A short word the vocabulary reads as a synonym or an acronym ("caf", "rsa", "toit")
        // is that word exactly: no stem, no prefix, no typo ("CAF" is not "café").
        let acronym = matches!(&unit.words[..], [word] if word.chars().count() <= SHORT_WORD)
            && unit
                .meanings
                .iter()
                .any(|m| matches!(m, Meaning::French(_)));
        let own = if acronym {
            self.postings
                .get(&exact_form(&unit.words[0]))
                .map(|postings| {
                    postings
                        .iter()
                        .map(|p| (p >> FIELD_BITS, EXACT * field_weight(p & FIELD_MASK)))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            self.words_hits(&unit.words, is_last, 1.0)
        };
        if unit.meanings.is_empty() {
            return own;
        }
        let mut all = own;
        for meaning in &unit.meanings {
            let more = match meaning {
                Meaning::Topic(code) => self.topic_hits(code),
                // A phrase scores as one word would: its words' mean, not their sum.
                Meaning::French(words) => {
                    self.words_hits(words, false, SYNONYM / words.len() as f32)
                }
            };
            all = merge_best(&all, &more);
        }
        all
    }

    /// Offers holding every one of `words`, their scores scaled by `quality`.
    fn words_hits(&self, words: &[String], last_is_open: bool, quality: f32) -> Vec<(u32, f32)> {
        let mut result: Option<Vec<(u32, f32)>> = None;
        for (i, word) in words.iter().enumerate() {
            let mut hits = self.word_hits(word, last_is_open && i + 1 == words.len());
            if quality != 1.0 {
                hits.iter_mut().for_each(|h| h.1 *= quality);
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

    /// Offers carrying a topic, or any topic of a category.
    fn topic_hits(&self, code: &str) -> Vec<(u32, f32)> {
        let (facet, score) = if code.contains("--") {
            (Facet::Topic, BY_TOPIC)
        } else {
            (Facet::Category, BY_CATEGORY)
        };
        let slots = self
            .facets
            .id(facet, code)
            .and_then(|id| self.value_slots[facet as usize].get(usize::from(id)));
        let Some(slots) = slots else {
            return Vec::new();
        };
        let mut hits = Vec::new();
        for (w, bits) in slots.iter().enumerate() {
            let mut bits = *bits;
            while bits != 0 {
                let slot = (w * 64) as u32 + bits.trailing_zeros();
                bits &= bits - 1;
                hits.push((slot, score));
            }
        }
        hits
    }

    /// Offers holding one query word, in slot order.
    fn word_hits(&self, word: &str, is_last: bool) -> Vec<(u32, f32)> {
        let expansions = self.expand(word, is_last);
        let postings_count = expansions
            .iter()
            .filter_map(|(stem, _)| self.postings.get(stem.as_str()))
            .map(Vec::len)
            .sum();
        let mut hits: Vec<(u32, f32)> = Vec::with_capacity(postings_count);
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
            if hits.len() > 4_096 {
                // Many postings: one pass over a dense score table beats sorting them.
                let mut best = vec![0f32; self.hot.len()];
                for (slot, score) in &hits {
                    let cell = &mut best[*slot as usize];
                    *cell = cell.max(*score);
                }
                hits = best
                    .iter()
                    .enumerate()
                    .filter(|(_, score)| **score > 0.0)
                    .map(|(slot, score)| (slot as u32, *score))
                    .collect();
            } else {
                hits.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
                hits.dedup_by_key(|h| h.0);
            }
        }
        hits
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
        // A short word as written outranks its other forms: "café" finds the "Repair café"
        // before "CAF" (one French stem), "aide" the "aide" before the "aides".
        let as_written = exact_form(word);
        let written = word.chars().count() <= SHORT_WORD && self.postings.contains_key(&as_written);
        if exact {
            add(&stem, if written { OTHER_FORM } else { EXACT });
        }
        if written {
            add(&as_written, EXACT);
        }
        // Search as you type: the last word may be unfinished ("héberg"). A short word that
        // is itself a word of the catalogue stands for itself: "CAF" is not the start of "cafétéria".
        let length = word.chars().count();
        if is_last && length >= 3 && !(exact && length <= SHORT_WORD) {
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

/// Sorted-merge union of two slot-ordered lists, keeping each slot's better score: linear,
/// where sorting the concatenation cost a fifth of a broad search.
fn merge_best(a: &[(u32, f32)], b: &[(u32, f32)]) -> Vec<(u32, f32)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((a[i].0, a[i].1.max(b[j].1)));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Every slot of the lists, scores added: an offer answering more of the lists ranks higher.
fn union_sum(lists: &[Vec<(u32, f32)>]) -> Vec<(u32, f32)> {
    let mut all: Vec<(u32, f32)> = lists.iter().flatten().copied().collect();
    all.sort_unstable_by_key(|h| h.0);
    let mut out: Vec<(u32, f32)> = Vec::with_capacity(all.len());
    for (slot, score) in all {
        match out.last_mut() {
            Some(last) if last.0 == slot => last.1 += score,
            _ => out.push((slot, score)),
        }
    }
    out
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

/// A word that names the offer's topic (through the vocabulary): the offerer chose the topic,
/// so it says more than a word in the description or summary (or a synonym there), less
/// than the word in the title.
const BY_TOPIC: f32 = 3.0;
/// A whole category is a broader answer than one of its topics.
const BY_CATEGORY: f32 = 2.5;
/// The French words a word stands for count a little less than the word itself.
const SYNONYM: f32 = 0.8;

/// For a page's offers: which of the query's words found them through a topic, and which.
fn matched_topics(offer: &Offer, units: &[Unit]) -> Vec<(String, String)> {
    units
        .iter()
        .filter_map(|unit| {
            unit.meanings.iter().find_map(|m| match m {
                Meaning::Topic(code)
                    if offer
                        .content
                        .topics
                        .iter()
                        .any(|t| t == code || topic_category(t) == code) =>
                {
                    Some((unit.text(), code.clone()))
                }
                _ => None,
            })
        })
        .collect()
}

/// The posting key of a short word's exact form, apart from the stems (which never start
/// with "=").
fn exact_form(word: &str) -> String {
    format!("={word}")
}

/// Up to this many letters, a query word that the catalogue holds is not also read as the
/// beginning of longer words.
const SHORT_WORD: usize = 4;

const UNKNOWN: u8 = 2;

/// A candidate for the page, ordered by (sort key, id): the heap keeps the smallest.
struct Ranked {
    key: i64,
    id: u128,
    slot: u32,
    score: f32,
    distance: Option<f64>,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        (self.key, self.id) == (other.key, other.id)
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.key, self.id).cmp(&(other.key, other.id))
    }
}

/// Distance to the offer's nearest location within the radius, if any.
fn nearest(doc: &Doc, near: Near, bbox: BoundingBox, flat: &LocalDistance) -> Option<f64> {
    doc.points
        .iter()
        .filter(|p| bbox.contains(**p))
        .map(|p| flat.distance_km(*p))
        .filter(|d| *d <= near.radius_km)
        .min_by(f64::total_cmp)
}
