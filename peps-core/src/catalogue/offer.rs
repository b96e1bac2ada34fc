//! Offers and organisation profiles, modelled on the data·inclusion v1 `service` and
//! `structure` (field names in English; the mapping to v1 is in `docs/catalogue.md`).

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::opening_hours::OpeningHours;
use super::reference::{ListKind, ReferenceData};
use crate::domain::translation::{self, SourceHash, Translation};
use crate::domain::{
    AccountId, DepartementCode, Email, Language, OfferId, OrganisationId, Phone, TemporaryChangeId,
    WebUrl,
};
use crate::error::ValidationError;

pub use crate::domain::translation::Provenance;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Location {
    pub address: Option<String>,
    pub address_complement: Option<String>,
    pub postcode: Option<String>,
    pub commune: Option<String>,
    /// INSEE code of the commune (`89024`, `2A004`).
    pub commune_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl Location {
    /// The département of the commune: `89`, `2A`, `971`.
    pub fn departement(&self) -> Option<DepartementCode> {
        DepartementCode::of_commune(self.commune_code.as_deref()?)
    }

    pub fn point(&self) -> Option<(f64, f64)> {
        Some((self.latitude?, self.longitude?))
    }

    /// The place as the public may know it when its address is confidential: the commune and
    /// its postcode, never the street nor the coordinates.
    pub fn withhold_street(&mut self) {
        self.address = None;
        self.address_complement = None;
        self.latitude = None;
        self.longitude = None;
    }
}

/// Public contact of the service, shown to everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Contact {
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A named person to reach at the service: personal data, shown only to professionals
/// (workers, offerer members, admins), never to anonymous readers nor in open data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ProfessionalContact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Mobilisation {
    /// data·inclusion `modes_mobilisation`: how to get in: phone, email, come in, use the link.
    pub modes: Vec<String>,
    /// data·inclusion `mobilisable_par`: professionals, the people themselves, or both.
    pub mobilised_by: Vec<String>,
    pub link: Option<String>,
    pub details: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Accessibility {
    /// The place's page on Acceslibre (acceslibre.beta.gouv.fr), the national reference.
    pub acceslibre_url: Option<String>,
    pub step_free_access: Option<bool>,
    pub adapted_toilets: Option<bool>,
    pub hearing_loop: Option<bool>,
    pub sign_language: Option<bool>,
    pub easy_to_read_documents: Option<bool>,
}

/// For time-bound actions (a workshop cycle, a winter scheme): first and last day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validity {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// An offer's texts in another language than French; a summary or description left out reads
/// the French one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferTexts {
    pub title: String,
    pub summary: Option<String>,
    pub description: Option<String>,
}

/// One language version of an offer's texts, tied to the French it was made from (title,
/// summary and description together, [`OfferContent::source_hash`]): when the French changes,
/// the translation is stale and no longer served. Its source may be unknown (`None`: written
/// before hashes were kept); such a translation is not served either, and
/// [`OfferContent::normalize`] takes one without a hash as made from the current French.
pub type OfferTranslation = Translation<OfferTexts, Option<SourceHash>>;

/// Offer translations are stored (and were stored before [`Translation`] existed) flat:
/// `{"title", "summary", "description", "provenance", "source_hash"}`, the provenance and the
/// hash optional.
mod stored_translations {
    use super::*;
    use serde::{Deserializer, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Flat {
        title: String,
        summary: Option<String>,
        description: Option<String>,
        #[serde(default)]
        provenance: Provenance,
        #[serde(default)]
        source_hash: Option<SourceHash>,
    }

    pub fn serialize<S: Serializer>(
        translations: &BTreeMap<String, OfferTranslation>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let flat: BTreeMap<&String, Flat> = translations
            .iter()
            .map(|(code, t)| {
                let flat = Flat {
                    title: t.value.title.clone(),
                    summary: t.value.summary.clone(),
                    description: t.value.description.clone(),
                    provenance: t.provenance,
                    source_hash: t.source_hash.clone(),
                };
                (code, flat)
            })
            .collect();
        flat.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, OfferTranslation>, D::Error> {
        let flat = BTreeMap::<String, Flat>::deserialize(deserializer)?;
        Ok(flat
            .into_iter()
            .map(|(code, f)| {
                let texts = OfferTexts {
                    title: f.title,
                    summary: f.summary,
                    description: f.description,
                };
                let translation = Translation {
                    value: texts,
                    provenance: f.provenance,
                    source_hash: f.source_hash,
                };
                (code, translation)
            })
            .collect())
    }
}

/// Everything an offerer writes about an offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferContent {
    pub title: String,
    pub summary: Option<String>,
    pub description: String,
    pub theme: String,
    #[serde(default)]
    pub topics: Vec<String>,
    pub service_type: Option<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
    pub audience_details: Option<String>,
    pub cost: Option<String>,
    pub cost_details: Option<String>,
    pub access_conditions: Option<String>,
    #[serde(default)]
    pub mobilisation: Mobilisation,
    #[serde(default)]
    pub reception_modes: Vec<String>,
    #[serde(default)]
    pub locations: Vec<Location>,
    #[serde(default)]
    pub eligibility_zone: Vec<String>,
    /// OpenStreetMap `opening_hours` syntax, stored in canonical form.
    pub opening_hours: Option<String>,
    #[serde(default)]
    pub languages_spoken: Vec<String>,
    #[serde(default)]
    pub accessibility: Accessibility,
    #[serde(default)]
    pub contact: Contact,
    pub professional_contact: Option<ProfessionalContact>,
    pub website: Option<String>,
    pub validity: Option<Validity>,
    #[serde(default = "default_frequency")]
    pub update_frequency_months: u8,
    #[serde(default, with = "stored_translations")]
    pub translations: BTreeMap<String, OfferTranslation>,
    /// The places' streets and coordinates are known only to professionals (a shelter for
    /// women victims of violence, for instance): the public sees the commune, nothing closer.
    /// See [`OfferContent::withhold_confidential_places`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confidential_address: bool,
}

impl OfferContent {
    /// Removes what a confidential address hides (streets and coordinates) from every place;
    /// nothing when the address is public. Every public output (search, the offer's pages,
    /// plans, open data, exports) goes through this.
    pub fn withhold_confidential_places(&mut self) {
        if self.confidential_address {
            self.locations
                .iter_mut()
                .for_each(Location::withhold_street);
        }
    }
}

fn default_frequency() -> u8 {
    UpdateFrequency::DEFAULT_MONTHS
}

/// How often an offerer must confirm an offer is still right.
pub struct UpdateFrequency;

impl UpdateFrequency {
    pub const ALLOWED_MONTHS: [u8; 4] = [1, 3, 6, 12];
    pub const DEFAULT_MONTHS: u8 = 6;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    Draft,
    /// Waiting for an admin's validation (deployments with moderation).
    PendingReview,
    Published,
    Suspended,
    Archived,
}

impl OfferStatus {
    pub const ALL: [OfferStatus; 5] = [
        OfferStatus::Draft,
        OfferStatus::PendingReview,
        OfferStatus::Published,
        OfferStatus::Suspended,
        OfferStatus::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Draft => "draft",
            OfferStatus::PendingReview => "pending_review",
            OfferStatus::Published => "published",
            OfferStatus::Suspended => "suspended",
            OfferStatus::Archived => "archived",
        }
    }
}

impl FromStr for OfferStatus {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OfferStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or(ValidationError::new("status", "offer.status.unknown"))
    }
}

impl fmt::Display for OfferStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    Closed,
    /// Other hours than usual, in `opening_hours` syntax.
    ChangedHours {
        opening_hours: String,
    },
}

/// A closure or other hours between two days (inclusive), with a message for readers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemporaryChange {
    pub id: TemporaryChangeId,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    #[serde(flatten)]
    pub kind: ChangeKind,
    pub message: String,
}

impl TemporaryChange {
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.starts_on <= day && day <= self.ends_on
    }
}

/// Where an imported offer came from (data·inclusion `source`, `id`, `lien_source`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub source: String,
    pub id: String,
    pub link: Option<String>,
}

/// The last moderation decision, kept so the offerer sees why publication was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub approved: bool,
    pub reason: Option<String>,
    pub by: AccountId,
    pub at: DateTime<Utc>,
}

/// An offer as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Offer {
    pub id: OfferId,
    pub organisation_id: OrganisationId,
    /// The organisation's name when the offer was read (for display; not stored with it).
    #[serde(default)]
    pub organisation_name: String,
    pub status: OfferStatus,
    pub content: OfferContent,
    #[serde(default)]
    pub temporary_changes: Vec<TemporaryChange>,
    pub origin: Option<Origin>,
    pub review: Option<Review>,
    /// Increases by one with every change; clients send it back in `If-Match`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_verified_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl Offer {
    pub fn verify_by(&self) -> DateTime<Utc> {
        verify_by(self.last_verified_at, self.content.update_frequency_months)
    }

    pub fn freshness(&self, now: DateTime<Utc>, grace: chrono::Duration) -> Freshness {
        let verify_by = self.verify_by();
        let state = if now < verify_by {
            FreshnessState::Fresh
        } else if now < verify_by + grace {
            FreshnessState::Due
        } else {
            FreshnessState::Unverified
        };
        Freshness { verify_by, state }
    }

    /// The temporary change in force on `day`, the latest-starting one if several overlap.
    pub fn change_on(&self, day: NaiveDate) -> Option<&TemporaryChange> {
        self.temporary_changes
            .iter()
            .filter(|c| c.covers(day))
            .max_by_key(|c| c.starts_on)
    }

    /// Open at this local wall-clock time, from the day's temporary change or the regular
    /// hours; `None` when the offer gives no (valid) hours.
    pub fn is_open_at(&self, local: chrono::NaiveDateTime) -> Option<bool> {
        match self.change_on(local.date()).map(|c| &c.kind) {
            Some(ChangeKind::Closed) => Some(false),
            Some(ChangeKind::ChangedHours { opening_hours }) => OpeningHours::parse(opening_hours)
                .ok()
                .map(|h| h.is_open_at(local)),
            None => self
                .content
                .opening_hours
                .as_deref()
                .and_then(|raw| OpeningHours::parse(raw).ok())
                .map(|h| h.is_open_at(local)),
        }
    }

    /// The open intervals on `day` (minutes since local midnight, `[start, end)`), from the
    /// day's temporary change or the regular hours, chosen as [`Offer::is_open_at`] chooses;
    /// empty when closed that day, `None` when the offer gives no (valid) hours.
    pub fn hours_on(&self, day: NaiveDate) -> Option<Vec<(u16, u16)>> {
        match self.change_on(day).map(|c| &c.kind) {
            Some(ChangeKind::Closed) => Some(Vec::new()),
            Some(ChangeKind::ChangedHours { opening_hours }) => OpeningHours::parse(opening_hours)
                .ok()
                .map(|h| h.intervals_on(day)),
            None => self
                .content
                .opening_hours
                .as_deref()
                .and_then(|raw| OpeningHours::parse(raw).ok())
                .map(|h| h.intervals_on(day)),
        }
    }

    /// Is the offer over (a time-bound action whose last day has passed)?
    pub fn has_ended(&self, today: NaiveDate) -> bool {
        self.content.validity.is_some_and(|v| v.ends_on < today)
    }
}

/// When an offer verified at `last_verified` must be verified again.
pub fn verify_by(last_verified: DateTime<Utc>, months: u8) -> DateTime<Utc> {
    last_verified
        .checked_add_months(Months::new(u32::from(months)))
        .unwrap_or(last_verified)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FreshnessState {
    Fresh,
    /// Past its verification date: the offerer is reminded.
    Due,
    /// Past the grace period too: readers are told it has not been verified since its date.
    Unverified,
}

impl FreshnessState {
    pub fn as_str(self) -> &'static str {
        match self {
            FreshnessState::Fresh => "fresh",
            FreshnessState::Due => "due",
            FreshnessState::Unverified => "unverified",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub verify_by: DateTime<Utc>,
    pub state: FreshnessState,
}

/// An offer's texts in one language, as a reader gets them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalizedTexts<'a> {
    pub language: &'a str,
    pub provenance: Provenance,
    /// True when the language asked for has no current translation and French is shown.
    pub fallback: bool,
    pub title: &'a str,
    pub summary: Option<&'a str>,
    pub description: &'a str,
}

impl OfferContent {
    /// Identifies the French texts a translation was made from.
    pub fn source_hash(&self) -> SourceHash {
        SourceHash::of(&[
            self.title.as_str(),
            self.summary.as_deref().unwrap_or(""),
            &self.description,
        ])
    }

    /// Is the translation into `language` made from the current French text?
    pub fn translation_is_current(&self, language: &str) -> bool {
        self.translations
            .get(language)
            .is_some_and(|t| t.is_current_for(&self.source_hash()))
    }

    /// The texts in `language` when a current translation exists, else the French original.
    pub fn localized(&self, language: &str) -> LocalizedTexts<'_> {
        let stored = self.translations.get_key_value(language);
        let shown = translation::current(language, stored.map(|(_, t)| t), &self.source_hash());
        if let (Some(t), Some((code, _))) = (shown, stored) {
            return LocalizedTexts {
                language: code,
                provenance: t.provenance,
                fallback: false,
                title: &t.value.title,
                summary: t.value.summary.as_deref().or(self.summary.as_deref()),
                description: t.value.description.as_deref().unwrap_or(&self.description),
            };
        }
        LocalizedTexts {
            language: Language::REFERENCE,
            provenance: Provenance::Original,
            fallback: language != Language::REFERENCE,
            title: &self.title,
            summary: self.summary.as_deref(),
            description: &self.description,
        }
    }

    /// The top-level fields that differ, for the change history.
    pub fn changed_fields(&self, other: &OfferContent) -> Vec<String> {
        let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
            (serde_json::to_value(self), serde_json::to_value(other))
        else {
            return vec!["*".to_owned()];
        };
        a.iter()
            .filter(|(key, value)| b.get(*key) != Some(value))
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Trims texts, drops duplicates, puts opening hours in canonical form, stamps new
    /// translations with the current source hash, and checks every field against the rules and
    /// the reference lists. Returns every problem at once.
    pub fn normalize(
        mut self,
        reference: &ReferenceData,
    ) -> Result<OfferContent, Vec<ValidationError>> {
        let mut p = Problems::default();

        self.title = collapse(&self.title);
        let title_len = self.title.chars().count();
        p.check(title_len >= 3, "title", "offer.title.too_short");
        p.check(title_len <= 150, "title", "offer.title.too_long");
        self.summary = trimmed(self.summary);
        p.check(
            char_len(&self.summary) <= 280,
            "summary",
            "offer.summary.too_long",
        );
        self.description = self.description.trim().to_owned();
        let description_len = self.description.chars().count();
        p.check(
            description_len >= 5,
            "description",
            "offer.description.too_short",
        );
        p.check(
            description_len <= 10_000,
            "description",
            "offer.description.too_long",
        );
        self.theme = self.theme.trim().to_owned();
        p.check(
            reference.contains(ListKind::Themes, &self.theme),
            "theme",
            "offer.theme.unknown",
        );

        dedup(&mut self.topics);
        p.check(
            self.topics
                .iter()
                .all(|t| reference.contains(ListKind::Topics, t)),
            "topics",
            "offer.topics.unknown",
        );
        p.check(self.topics.len() <= 20, "topics", "offer.topics.too_many");
        self.service_type = trimmed(self.service_type);
        p.check(
            self.service_type
                .as_deref()
                .is_none_or(|t| reference.contains(ListKind::ServiceTypes, t)),
            "service_type",
            "offer.service_type.unknown",
        );
        dedup(&mut self.audiences);
        p.check(
            self.audiences
                .iter()
                .all(|a| reference.contains(ListKind::Audiences, a)),
            "audiences",
            "offer.audiences.unknown",
        );
        p.check(
            !(self.audiences.len() > 1 && self.audiences.iter().any(|a| a == "tous-publics")),
            "audiences",
            "offer.audiences.tous_publics_alone",
        );
        self.audience_details = trimmed(self.audience_details);
        p.check(
            char_len(&self.audience_details) <= 2_000,
            "audience_details",
            "offer.text.too_long",
        );
        self.cost = trimmed(self.cost);
        p.check(
            self.cost
                .as_deref()
                .is_none_or(|c| reference.contains(ListKind::Costs, c)),
            "cost",
            "offer.cost.unknown",
        );
        self.cost_details = trimmed(self.cost_details);
        p.check(
            char_len(&self.cost_details) <= 2_000,
            "cost_details",
            "offer.text.too_long",
        );
        self.access_conditions = trimmed(self.access_conditions);
        p.check(
            char_len(&self.access_conditions) <= 2_000,
            "access_conditions",
            "offer.text.too_long",
        );

        dedup(&mut self.mobilisation.modes);
        p.check(
            self.mobilisation
                .modes
                .iter()
                .all(|m| reference.contains(ListKind::MobilisationModes, m)),
            "mobilisation.modes",
            "offer.mobilisation.modes_unknown",
        );
        dedup(&mut self.mobilisation.mobilised_by);
        p.check(
            self.mobilisation
                .mobilised_by
                .iter()
                .all(|m| reference.contains(ListKind::MobilisedBy, m)),
            "mobilisation.mobilised_by",
            "offer.mobilisation.mobilised_by_unknown",
        );
        self.mobilisation.link = p.web_url(
            self.mobilisation.link,
            "mobilisation.link",
            "offer.url.invalid",
        );
        self.mobilisation.details = trimmed(self.mobilisation.details);
        p.check(
            char_len(&self.mobilisation.details) <= 2_000,
            "mobilisation.details",
            "offer.text.too_long",
        );

        dedup(&mut self.reception_modes);
        p.check(
            self.reception_modes
                .iter()
                .all(|m| reference.contains(ListKind::ReceptionModes, m)),
            "reception_modes",
            "offer.reception_modes.unknown",
        );
        p.check(
            self.locations.len() <= 50,
            "locations",
            "offer.locations.too_many",
        );
        for location in &mut self.locations {
            normalize_location(location, &OFFER_LOCATION, &mut p);
        }
        p.check(
            !self.reception_modes.iter().any(|m| m == "en-presentiel")
                || !self.locations.is_empty(),
            "locations",
            "offer.locations.required_in_person",
        );
        self.eligibility_zone = self
            .eligibility_zone
            .iter()
            .map(|z| z.trim().to_uppercase().replace("FRANCE", "france"))
            .collect();
        dedup(&mut self.eligibility_zone);
        p.check(
            self.eligibility_zone.iter().all(|z| is_zone(z)),
            "eligibility_zone",
            "offer.eligibility_zone.invalid",
        );

        self.opening_hours = canonical_hours(self.opening_hours, &mut p);

        let mut languages = Vec::new();
        let mut languages_ok = true;
        for code in &self.languages_spoken {
            match Language::parse(code) {
                Ok(l) => languages.push(l.code().to_owned()),
                Err(_) => languages_ok = false,
            }
        }
        dedup(&mut languages);
        self.languages_spoken = languages;
        p.check(
            languages_ok,
            "languages_spoken",
            "offer.languages_spoken.unknown",
        );
        self.accessibility.acceslibre_url = p.web_url(
            self.accessibility.acceslibre_url,
            "accessibility.acceslibre_url",
            "offer.url.invalid",
        );
        normalize_contact(&mut self.contact, &PUBLIC_CONTACT, &mut p);
        if let Some(pro) = &mut self.professional_contact {
            pro.name = trimmed(pro.name.take());
            p.check(
                char_len(&pro.name) <= 200,
                "professional_contact.name",
                "offer.text.too_long",
            );
            let mut reach = Contact {
                email: pro.email.take(),
                phone: pro.phone.take(),
            };
            normalize_contact(&mut reach, &PROFESSIONAL_CONTACT, &mut p);
            pro.email = reach.email;
            pro.phone = reach.phone;
        }
        self.website = p.web_url(self.website, "website", "offer.url.invalid");
        p.check(
            self.validity.is_none_or(|v| v.starts_on <= v.ends_on),
            "validity",
            "offer.validity.reversed",
        );
        p.check(
            UpdateFrequency::ALLOWED_MONTHS.contains(&self.update_frequency_months),
            "update_frequency_months",
            "offer.update_frequency.invalid",
        );

        let source_hash = self.source_hash();
        let mut translations = BTreeMap::new();
        for (code, mut t) in std::mem::take(&mut self.translations) {
            let language = Language::parse(&code).ok().filter(|l| l.code() != "fr");
            p.check(
                language.is_some(),
                "translations",
                "offer.translations.language",
            );
            t.value.title = collapse(&t.value.title);
            let len = t.value.title.chars().count();
            p.check(
                (3..=150).contains(&len),
                "translations.title",
                "offer.translations.title_length",
            );
            t.value.summary = trimmed(t.value.summary);
            t.value.description = trimmed(t.value.description);
            p.check(
                char_len(&t.value.summary) <= 1_000 && char_len(&t.value.description) <= 20_000,
                "translations",
                "offer.text.too_long",
            );
            if t.source_hash.is_none() {
                t.source_hash = Some(source_hash.clone());
            }
            if let Some(language) = language {
                translations.insert(language.code().to_owned(), t);
            }
        }
        self.translations = translations;
        p.into_result(self)
    }
}

/// An offerer's public profile (data·inclusion `structure`), beside its name and SIRET.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OrganisationProfile {
    pub description: Option<String>,
    pub address: Option<Location>,
    #[serde(default)]
    pub contact: Contact,
    pub website: Option<String>,
    pub opening_hours: Option<String>,
    /// data·inclusion `reseaux_porteurs`.
    #[serde(default)]
    pub networks: Vec<String>,
    pub accessibility_url: Option<String>,
    /// The organisation's address is known only to professionals (see
    /// [`OfferContent::confidential_address`]); its offers are confidential too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confidential_address: bool,
}

impl OrganisationProfile {
    /// Removes the street and coordinates when the address is confidential.
    pub fn withhold_confidential_place(&mut self) {
        if self.confidential_address
            && let Some(address) = &mut self.address
        {
            address.withhold_street();
        }
    }

    pub fn normalize(
        mut self,
        reference: &ReferenceData,
    ) -> Result<OrganisationProfile, Vec<ValidationError>> {
        let mut p = Problems::default();
        self.description = trimmed(self.description);
        p.check(
            self.description.is_none() || (5..=10_000).contains(&char_len(&self.description)),
            "description",
            "organisation.description.length",
        );
        if let Some(address) = &mut self.address {
            normalize_location(address, &PROFILE_ADDRESS, &mut p);
        }
        normalize_contact(&mut self.contact, &PUBLIC_CONTACT, &mut p);
        for (field, url) in [
            ("website", &mut self.website),
            ("accessibility_url", &mut self.accessibility_url),
        ] {
            *url = p.web_url(url.take(), field, "offer.url.invalid");
        }
        self.opening_hours = canonical_hours(self.opening_hours, &mut p);
        dedup(&mut self.networks);
        p.check(
            self.networks
                .iter()
                .all(|n| reference.contains(ListKind::Networks, n)),
            "networks",
            "organisation.networks.unknown",
        );
        p.into_result(self)
    }
}

/// Validation problems, gathered so that every invalid field is reported at once.
#[derive(Default)]
struct Problems(Vec<ValidationError>);

impl Problems {
    fn check(&mut self, ok: bool, field: &'static str, code: &'static str) {
        if !ok {
            self.0.push(ValidationError::new(field, code));
        }
    }

    /// A web address, trimmed, or the problem (the value is kept as typed so that the other
    /// checks still see it); `None` when empty.
    fn web_url(
        &mut self,
        value: Option<String>,
        field: &'static str,
        code: &'static str,
    ) -> Option<String> {
        let raw = trimmed(value)?;
        match WebUrl::parse(&raw) {
            Ok(url) => Some(url.into()),
            Err(_) => {
                self.0.push(ValidationError::new(field, code));
                Some(raw)
            }
        }
    }

    fn into_result<T>(self, value: T) -> Result<T, Vec<ValidationError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

/// The request's names for a place's fields (validation fields are `&'static str`).
struct PlaceFields {
    postcode: &'static str,
    commune_code: &'static str,
    coordinates: &'static str,
}

const OFFER_LOCATION: PlaceFields = PlaceFields {
    postcode: "locations.postcode",
    commune_code: "locations.commune_code",
    coordinates: "locations.coordinates",
};

const PROFILE_ADDRESS: PlaceFields = PlaceFields {
    postcode: "address.postcode",
    commune_code: "address.commune_code",
    coordinates: "address.coordinates",
};

/// The request's names for a contact's fields.
struct ContactFields {
    email: &'static str,
    phone: &'static str,
}

const PUBLIC_CONTACT: ContactFields = ContactFields {
    email: "contact.email",
    phone: "contact.phone",
};

const PROFESSIONAL_CONTACT: ContactFields = ContactFields {
    email: "professional_contact.email",
    phone: "professional_contact.phone",
};

/// Trims a place's texts and checks its postcode, INSEE code and coordinates.
fn normalize_location(location: &mut Location, fields: &PlaceFields, p: &mut Problems) {
    location.address = trimmed(location.address.take());
    location.address_complement = trimmed(location.address_complement.take());
    location.commune = trimmed(location.commune.take());
    location.postcode = trimmed(location.postcode.take());
    location.commune_code = trimmed(location.commune_code.take()).map(|c| c.to_uppercase());
    p.check(
        location
            .postcode
            .as_deref()
            .is_none_or(|c| c.len() == 5 && c.bytes().all(|b| b.is_ascii_digit())),
        fields.postcode,
        "offer.locations.postcode_invalid",
    );
    p.check(
        location.commune_code.as_deref().is_none_or(is_commune_code),
        fields.commune_code,
        "offer.locations.commune_code_invalid",
    );
    let coordinates_ok = match (location.latitude, location.longitude) {
        (None, None) => true,
        (Some(lat), Some(lon)) => {
            lat.is_finite()
                && lon.is_finite()
                && (-90.0..=90.0).contains(&lat)
                && (-180.0..=180.0).contains(&lon)
        }
        _ => false,
    };
    p.check(
        coordinates_ok,
        fields.coordinates,
        "offer.locations.coordinates_invalid",
    );
}

/// Lower-cases the email and checks it and the phone number.
fn normalize_contact(contact: &mut Contact, fields: &ContactFields, p: &mut Problems) {
    contact.email = trimmed(contact.email.take()).map(|e| e.to_lowercase());
    p.check(
        contact
            .email
            .as_deref()
            .is_none_or(|e| Email::parse(e).is_ok()),
        fields.email,
        "offer.contact.email_invalid",
    );
    contact.phone = trimmed(contact.phone.take()).map(|raw| match Phone::parse(&raw) {
        Ok(phone) => phone.into(),
        Err(_) => {
            p.0.push(ValidationError::new(
                fields.phone,
                "offer.contact.phone_invalid",
            ));
            raw
        }
    });
}

/// Opening hours in canonical form, or the parser's error with its column.
fn canonical_hours(value: Option<String>, p: &mut Problems) -> Option<String> {
    let raw = trimmed(value)?;
    match OpeningHours::parse(&raw) {
        Ok(hours) => Some(hours.to_string()),
        Err(e) => {
            p.0.push(ValidationError::new("opening_hours", e.code).at(e.column, e.found));
            Some(raw)
        }
    }
}

fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Single spaces, no line breaks: titles are one line.
fn collapse(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn char_len(value: &Option<String>) -> usize {
    value.as_deref().map_or(0, |v| v.chars().count())
}

fn dedup(values: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    values.retain(|v| seen.insert(v.clone()));
}

/// INSEE commune code: five characters, digits except Corsica's 2A/2B.
pub fn is_commune_code(code: &str) -> bool {
    code.len() == 5
        && (code.bytes().all(|b| b.is_ascii_digit())
            || ((code.starts_with("2A") || code.starts_with("2B"))
                && code[2..].bytes().all(|b| b.is_ascii_digit())))
}

/// An eligibility zone as data·inclusion v1 allows: `france`, a département (`89`, `2A`,
/// `971`), a commune (INSEE code), or an EPCI (SIREN, nine digits).
pub fn is_zone(zone: &str) -> bool {
    zone == "france"
        || DepartementCode::parse(zone).is_ok()
        || is_commune_code(zone)
        || (zone.len() == 9 && zone.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> OfferContent {
        OfferContent {
            title: "  Aide à la recherche   d’un logement ".into(),
            summary: Some("Un conseiller vous aide à trouver un logement.".into()),
            description: "Permanence logement du CCAS : constitution du dossier de demande de logement social.".into(),
            theme: "ville-du-quotidien".into(),
            topics: vec![
                "logement-hebergement--louer-un-logement".into(),
                "logement-hebergement--louer-un-logement".into(),
            ],
            service_type: Some("accompagnement".into()),
            audiences: vec!["tous-publics".into()],
            audience_details: None,
            cost: Some("gratuit".into()),
            cost_details: None,
            access_conditions: None,
            mobilisation: Mobilisation {
                modes: vec!["telephoner".into(), "se-presenter".into()],
                mobilised_by: vec!["usagers".into()],
                link: None,
                details: None,
            },
            reception_modes: vec!["en-presentiel".into()],
            locations: vec![Location {
                address: Some("14 place de l’Hôtel de Ville".into()),
                postcode: Some("89000".into()),
                commune: Some("Auxerre".into()),
                commune_code: Some("89024".into()),
                latitude: Some(47.7982),
                longitude: Some(3.5673),
                ..Location::default()
            }],
            eligibility_zone: vec!["89024".into()],
            opening_hours: Some("mo-fr 09:00-12:00".into()),
            languages_spoken: vec!["FR".into(), "ar".into()],
            accessibility: Accessibility::default(),
            contact: Contact {
                email: Some("Logement@ccas-auxerre.example.fr".into()),
                phone: Some("03 86 00 00 00".into()),
            },
            professional_contact: None,
            website: None,
            validity: None,
            update_frequency_months: 6,
            translations: BTreeMap::new(),
            confidential_address: false,
        }
    }

    #[test]
    fn a_good_offer_is_normalised() {
        let reference = ReferenceData::builtin();
        let offer = sample().normalize(&reference).unwrap();
        assert_eq!(offer.title, "Aide à la recherche d’un logement");
        assert_eq!(offer.topics.len(), 1);
        assert_eq!(offer.opening_hours.as_deref(), Some("Mo-Fr 09:00-12:00"));
        assert_eq!(offer.languages_spoken, ["fr", "ar"]);
        assert_eq!(
            offer.contact.email.as_deref(),
            Some("logement@ccas-auxerre.example.fr")
        );
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let reference = ReferenceData::builtin();
        let mut bad = sample();
        bad.title = "ab".into();
        bad.description = "x".repeat(10_001);
        bad.theme = "nope".into();
        bad.audiences = vec!["tous-publics".into(), "jeunes".into()];
        bad.opening_hours = Some("Mo-Fr 08:00-25:00".into());
        bad.update_frequency_months = 2;
        bad.eligibility_zone = vec!["Auxerre".into()];
        bad.website = Some("javascript:alert(1)".into());
        let codes: Vec<&str> = bad
            .normalize(&reference)
            .unwrap_err()
            .iter()
            .map(|e| e.code)
            .collect();
        for expected in [
            "offer.title.too_short",
            "offer.description.too_long",
            "offer.theme.unknown",
            "offer.audiences.tous_publics_alone",
            "opening_hours.invalid_time",
            "offer.update_frequency.invalid",
            "offer.eligibility_zone.invalid",
            "offer.url.invalid",
        ] {
            assert!(codes.contains(&expected), "{expected} not in {codes:?}");
        }
    }

    #[test]
    fn opening_hours_errors_say_where() {
        let reference = ReferenceData::builtin();
        let mut bad = sample();
        bad.opening_hours = Some("Mo-Fr 08:00-12:00; Lundi 14:00-17:00".into());
        let errors = bad.normalize(&reference).unwrap_err();
        assert_eq!(errors[0].field, "opening_hours");
        assert_eq!(errors[0].column, Some(20));
        assert_eq!(errors[0].found.as_deref(), Some("Lundi"));
    }

    #[test]
    fn translations_go_stale_when_the_french_changes() {
        let reference = ReferenceData::builtin();
        let mut offer = sample();
        offer.translations.insert(
            "en".into(),
            OfferTranslation {
                value: OfferTexts {
                    title: "Help finding a home".into(),
                    summary: None,
                    description: None,
                },
                provenance: Provenance::HumanReviewed,
                source_hash: None,
            },
        );
        let offer = offer.normalize(&reference).unwrap();
        let english = offer.localized("en");
        assert_eq!(english.title, "Help finding a home");
        assert!(!english.fallback);
        assert_eq!(english.provenance, Provenance::HumanReviewed);
        let mut edited = offer.clone();
        edited.description.push_str(" Sur rendez-vous.");
        let edited = edited.normalize(&reference).unwrap();
        assert!(!edited.translation_is_current("en"));
        let shown = edited.localized("en");
        assert!(shown.fallback);
        assert_eq!(shown.language, "fr");
        assert_eq!(
            edited.changed_fields(&offer),
            vec!["description".to_owned()]
        );
    }

    #[test]
    fn translations_are_stored_flat_as_before() {
        let reference = ReferenceData::builtin();
        let offer = sample().normalize(&reference).unwrap();
        let mut stored = serde_json::to_value(&offer).unwrap();
        let current = offer.source_hash();
        // As written before `Translation` existed, one with the hash of the current French
        // and one without (its source unknown), provenance left out.
        stored["translations"] = serde_json::json!({
            "en": {
                "title": "Help finding a home",
                "summary": null,
                "description": "The CCAS helps.",
                "provenance": "human_reviewed",
                "source_hash": current.as_str(),
            },
            "de": {"title": "Hilfe bei der Wohnungssuche", "summary": null, "description": null},
        });
        let read: OfferContent = serde_json::from_value(stored.clone()).unwrap();
        let en = &read.translations["en"];
        assert_eq!(en.value.description.as_deref(), Some("The CCAS helps."));
        assert_eq!(en.provenance, Provenance::HumanReviewed);
        assert!(read.translation_is_current("en"));
        let de = &read.translations["de"];
        assert_eq!(
            (de.provenance, &de.source_hash),
            (Provenance::Original, &None)
        );
        // A translation whose source is unknown is not served…
        assert!(read.localized("de").fallback);
        assert!(!read.localized("en").fallback);
        // …and is written back as it was read.
        let mut expected = stored;
        expected["translations"]["de"]["provenance"] = "original".into();
        expected["translations"]["de"]["source_hash"] = serde_json::Value::Null;
        assert_eq!(serde_json::to_value(&read).unwrap(), expected);
    }

    #[test]
    fn profiles_follow_the_same_rules_for_places_contacts_and_hours() {
        let reference = ReferenceData::builtin();
        let profile = OrganisationProfile {
            address: Some(Location {
                postcode: Some(" 89000 ".into()),
                commune_code: Some("2a004".into()),
                latitude: Some(47.8),
                ..Location::default()
            }),
            contact: Contact {
                email: Some("Accueil@Example.FR".into()),
                phone: Some("abc".into()),
            },
            opening_hours: Some("tu 9h-12h".into()),
            ..OrganisationProfile::default()
        };
        let fields: Vec<&str> = profile
            .clone()
            .normalize(&reference)
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["address.coordinates", "contact.phone"]);
        let mut fixed = profile;
        fixed.address.as_mut().unwrap().latitude = None;
        fixed.contact.phone = None;
        let fixed = fixed.normalize(&reference).unwrap();
        let address = fixed.address.unwrap();
        assert_eq!(address.postcode.as_deref(), Some("89000"));
        assert_eq!(address.commune_code.as_deref(), Some("2A004"));
        assert_eq!(fixed.contact.email.as_deref(), Some("accueil@example.fr"));
        assert_eq!(fixed.opening_hours.as_deref(), Some("Tu 09:00-12:00"));
    }

    #[test]
    fn zones_and_departements() {
        for ok in ["france", "89", "2A", "971", "89024", "2B033", "248900664"] {
            assert!(is_zone(ok), "{ok}");
        }
        for bad in ["", "FR", "00", "8", "8902", "89024A", "Paris"] {
            assert!(!is_zone(bad), "{bad}");
        }
        let place = |code: &str| Location {
            commune_code: Some(code.into()),
            ..Location::default()
        };
        assert_eq!(place("97105").departement().unwrap(), "971");
        assert_eq!(place("2A004").departement().unwrap(), "2A");
    }

    #[test]
    fn freshness_follows_the_update_frequency() {
        let reference = ReferenceData::builtin();
        let t0: DateTime<Utc> = "2026-01-10T10:00:00Z".parse().unwrap();
        let offer = Offer {
            id: OfferId::new(),
            organisation_id: OrganisationId::new(),
            organisation_name: String::new(),
            status: OfferStatus::Published,
            content: sample().normalize(&reference).unwrap(),
            temporary_changes: vec![],
            origin: None,
            review: None,
            version: 1,
            created_at: t0,
            updated_at: t0,
            last_verified_at: t0,
            published_at: Some(t0),
        };
        let grace = chrono::Duration::days(30);
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(offer.verify_by(), at("2026-07-10T10:00:00Z"));
        assert_eq!(
            offer.freshness(at("2026-07-01T00:00:00Z"), grace).state,
            FreshnessState::Fresh
        );
        assert_eq!(
            offer.freshness(at("2026-07-20T00:00:00Z"), grace).state,
            FreshnessState::Due
        );
        assert_eq!(
            offer.freshness(at("2026-08-20T00:00:00Z"), grace).state,
            FreshnessState::Unverified
        );
    }
}
