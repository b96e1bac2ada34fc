//! JSON shapes of the catalogue: what offerers send (codes, plain values) and what readers get
//! (the same content plus labels, texts in their language, freshness and "open now").

use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::{Enum, Object};
use std::collections::BTreeMap;
use uuid::Uuid;

use super::views::TextDirection as Direction;
use peps_core::catalogue::offer::{
    self as o, ChangeKind, FreshnessState, Offer, OfferContent, OfferStatus as S,
    OrganisationProfile, Provenance as P,
};
use peps_core::catalogue::{ListKind, ReferenceData};
use peps_core::domain::Language;
use peps_core::i18n;

#[derive(Debug, Clone, Object, Default)]
pub struct Location {
    pub address: Option<String>,
    pub address_complement: Option<String>,
    /// Five digits.
    pub postcode: Option<String>,
    pub commune: Option<String>,
    /// INSEE code of the commune, e.g. `89024`.
    pub commune_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, Object, Default)]
pub struct Contact {
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A named contact person. Personal data: only professionals (workers, offerer members,
/// admins) receive it.
#[derive(Debug, Clone, Object, Default)]
pub struct ProfessionalContact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Object, Default)]
pub struct Mobilisation {
    /// Codes of the `mobilisation_modes` list.
    #[oai(default)]
    pub modes: Vec<String>,
    /// Codes of the `mobilised_by` list.
    #[oai(default)]
    pub mobilised_by: Vec<String>,
    pub link: Option<String>,
    pub details: Option<String>,
}

#[derive(Debug, Clone, Object, Default)]
pub struct Accessibility {
    /// The place's page on acceslibre.beta.gouv.fr.
    pub acceslibre_url: Option<String>,
    pub step_free_access: Option<bool>,
    pub adapted_toilets: Option<bool>,
    pub hearing_loop: Option<bool>,
    pub sign_language: Option<bool>,
    pub easy_to_read_documents: Option<bool>,
}

#[derive(Debug, Clone, Copy, Object)]
pub struct Validity {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Provenance {
    /// Written by the author in this language.
    Original,
    /// Translated and checked by a person.
    HumanReviewed,
    /// Translated by a machine, not checked.
    Machine,
}

impl From<P> for Provenance {
    fn from(p: P) -> Self {
        match p {
            P::Original => Provenance::Original,
            P::HumanReviewed => Provenance::HumanReviewed,
            P::Machine => Provenance::Machine,
        }
    }
}

impl From<Provenance> for P {
    fn from(p: Provenance) -> Self {
        match p {
            Provenance::Original => P::Original,
            Provenance::HumanReviewed => P::HumanReviewed,
            Provenance::Machine => P::Machine,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct Translation {
    pub title: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub provenance: Option<Provenance>,
    /// Set by PEPS: which French text this was translated from. Send it back unchanged; when
    /// the French changes, the translation is no longer shown until updated.
    pub source_hash: Option<String>,
}

/// An offer's content as an offerer writes it. Coded fields take codes from
/// `GET /api/v1/reference-lists`.
#[derive(Debug, Clone, Object)]
pub struct OfferContentBody {
    /// 3 to 150 characters.
    pub title: String,
    /// Up to 280 characters.
    pub summary: Option<String>,
    /// 5 to 10,000 characters.
    pub description: String,
    /// One of the collectivity's themes.
    pub theme: String,
    /// data·inclusion v1 thématiques.
    #[oai(default)]
    pub topics: Vec<String>,
    pub service_type: Option<String>,
    /// data·inclusion publics; `tous-publics` alone.
    #[oai(default)]
    pub audiences: Vec<String>,
    pub audience_details: Option<String>,
    /// `gratuit` or `payant`.
    pub cost: Option<String>,
    pub cost_details: Option<String>,
    pub access_conditions: Option<String>,
    #[oai(default)]
    pub mobilisation: Mobilisation,
    /// `en-presentiel`, `a-distance`.
    #[oai(default)]
    pub reception_modes: Vec<String>,
    #[oai(default)]
    pub locations: Vec<Location>,
    /// `france`, département codes, commune INSEE codes, EPCI SIREN.
    #[oai(default)]
    pub eligibility_zone: Vec<String>,
    /// OpenStreetMap `opening_hours` syntax, e.g. `Mo-Fr 09:00-12:00,14:00-17:00; PH off`.
    pub opening_hours: Option<String>,
    /// Language codes of `GET /api/v1/languages`.
    #[oai(default)]
    pub languages_spoken: Vec<String>,
    #[oai(default)]
    pub accessibility: Accessibility,
    #[oai(default)]
    pub contact: Contact,
    pub professional_contact: Option<ProfessionalContact>,
    pub website: Option<String>,
    pub validity: Option<Validity>,
    /// 1, 3, 6 (default) or 12.
    pub update_frequency_months: Option<u8>,
    /// Translations of title, summary and description, by language code.
    #[oai(default)]
    pub translations: BTreeMap<String, Translation>,
    /// The places' streets and coordinates are for professionals only (a shelter, for
    /// instance): others see the commune, nothing closer. Forced on when the organisation's
    /// address is confidential.
    #[oai(default)]
    pub confidential_address: bool,
}

fn location_in(l: Location) -> o::Location {
    o::Location {
        address: l.address,
        address_complement: l.address_complement,
        postcode: l.postcode,
        commune: l.commune,
        commune_code: l.commune_code,
        latitude: l.latitude,
        longitude: l.longitude,
    }
}

fn location_out(l: &o::Location) -> Location {
    Location {
        address: l.address.clone(),
        address_complement: l.address_complement.clone(),
        postcode: l.postcode.clone(),
        commune: l.commune.clone(),
        commune_code: l.commune_code.clone(),
        latitude: l.latitude,
        longitude: l.longitude,
    }
}

fn contact_in(c: Contact) -> o::Contact {
    o::Contact {
        email: c.email,
        phone: c.phone,
    }
}

fn contact_out(c: &o::Contact) -> Contact {
    Contact {
        email: c.email.clone(),
        phone: c.phone.clone(),
    }
}

impl From<OfferContentBody> for OfferContent {
    fn from(b: OfferContentBody) -> Self {
        OfferContent {
            title: b.title,
            summary: b.summary,
            description: b.description,
            theme: b.theme,
            topics: b.topics,
            service_type: b.service_type,
            audiences: b.audiences,
            audience_details: b.audience_details,
            cost: b.cost,
            cost_details: b.cost_details,
            access_conditions: b.access_conditions,
            mobilisation: o::Mobilisation {
                modes: b.mobilisation.modes,
                mobilised_by: b.mobilisation.mobilised_by,
                link: b.mobilisation.link,
                details: b.mobilisation.details,
            },
            reception_modes: b.reception_modes,
            locations: b.locations.into_iter().map(location_in).collect(),
            eligibility_zone: b.eligibility_zone,
            opening_hours: b.opening_hours,
            languages_spoken: b.languages_spoken,
            accessibility: o::Accessibility {
                acceslibre_url: b.accessibility.acceslibre_url,
                step_free_access: b.accessibility.step_free_access,
                adapted_toilets: b.accessibility.adapted_toilets,
                hearing_loop: b.accessibility.hearing_loop,
                sign_language: b.accessibility.sign_language,
                easy_to_read_documents: b.accessibility.easy_to_read_documents,
            },
            contact: contact_in(b.contact),
            professional_contact: b.professional_contact.map(|p| o::ProfessionalContact {
                name: p.name,
                email: p.email,
                phone: p.phone,
            }),
            website: b.website,
            validity: b.validity.map(|v| o::Validity {
                starts_on: v.starts_on,
                ends_on: v.ends_on,
            }),
            update_frequency_months: b
                .update_frequency_months
                .unwrap_or(o::UpdateFrequency::DEFAULT_MONTHS),
            translations: b
                .translations
                .into_iter()
                .map(|(lang, t)| {
                    (
                        lang,
                        o::OfferTranslation {
                            value: o::OfferTexts {
                                title: t.title,
                                summary: t.summary,
                                description: t.description,
                            },
                            provenance: t.provenance.map(Into::into).unwrap_or(P::Original),
                            source_hash: t.source_hash.map(Into::into),
                        },
                    )
                })
                .collect(),
            confidential_address: b.confidential_address,
        }
    }
}

impl From<&OfferContent> for OfferContentBody {
    fn from(c: &OfferContent) -> Self {
        OfferContentBody {
            title: c.title.clone(),
            summary: c.summary.clone(),
            description: c.description.clone(),
            theme: c.theme.clone(),
            topics: c.topics.clone(),
            service_type: c.service_type.clone(),
            audiences: c.audiences.clone(),
            audience_details: c.audience_details.clone(),
            cost: c.cost.clone(),
            cost_details: c.cost_details.clone(),
            access_conditions: c.access_conditions.clone(),
            mobilisation: Mobilisation {
                modes: c.mobilisation.modes.clone(),
                mobilised_by: c.mobilisation.mobilised_by.clone(),
                link: c.mobilisation.link.clone(),
                details: c.mobilisation.details.clone(),
            },
            reception_modes: c.reception_modes.clone(),
            locations: c.locations.iter().map(location_out).collect(),
            eligibility_zone: c.eligibility_zone.clone(),
            opening_hours: c.opening_hours.clone(),
            languages_spoken: c.languages_spoken.clone(),
            accessibility: Accessibility {
                acceslibre_url: c.accessibility.acceslibre_url.clone(),
                step_free_access: c.accessibility.step_free_access,
                adapted_toilets: c.accessibility.adapted_toilets,
                hearing_loop: c.accessibility.hearing_loop,
                sign_language: c.accessibility.sign_language,
                easy_to_read_documents: c.accessibility.easy_to_read_documents,
            },
            contact: contact_out(&c.contact),
            professional_contact: c
                .professional_contact
                .as_ref()
                .map(|p| ProfessionalContact {
                    name: p.name.clone(),
                    email: p.email.clone(),
                    phone: p.phone.clone(),
                }),
            website: c.website.clone(),
            validity: c.validity.map(|v| Validity {
                starts_on: v.starts_on,
                ends_on: v.ends_on,
            }),
            update_frequency_months: Some(c.update_frequency_months),
            translations: c
                .translations
                .iter()
                .map(|(lang, t)| {
                    (
                        lang.clone(),
                        Translation {
                            title: t.value.title.clone(),
                            summary: t.value.summary.clone(),
                            description: t.value.description.clone(),
                            provenance: Some(t.provenance.into()),
                            source_hash: t.source_hash.as_ref().map(|h| h.as_str().to_owned()),
                        },
                    )
                })
                .collect(),
            confidential_address: c.confidential_address,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum OfferStatus {
    Draft,
    PendingReview,
    Published,
    Suspended,
    Archived,
}

impl From<S> for OfferStatus {
    fn from(s: S) -> Self {
        match s {
            S::Draft => OfferStatus::Draft,
            S::PendingReview => OfferStatus::PendingReview,
            S::Published => OfferStatus::Published,
            S::Suspended => OfferStatus::Suspended,
            S::Archived => OfferStatus::Archived,
        }
    }
}

impl From<OfferStatus> for S {
    fn from(s: OfferStatus) -> Self {
        match s {
            OfferStatus::Draft => S::Draft,
            OfferStatus::PendingReview => S::PendingReview,
            OfferStatus::Published => S::Published,
            OfferStatus::Suspended => S::Suspended,
            OfferStatus::Archived => S::Archived,
        }
    }
}

/// A code with its label in the reader's language (French, flagged, when there is none).
#[derive(Debug, Clone, Object)]
pub struct Coded {
    pub code: String,
    pub label: String,
    pub label_language: String,
}

pub fn coded(reference: &ReferenceData, kind: ListKind, code: &str, lang: &str) -> Coded {
    let label = reference.label(kind, code, lang);
    Coded {
        code: code.to_owned(),
        label: label.text.to_owned(),
        label_language: label.language.to_owned(),
    }
}

/// The texts to show, in the reader's language when a current translation exists.
#[derive(Debug, Clone, Object)]
pub struct DisplayTexts {
    pub language: String,
    pub direction: Direction,
    pub provenance: Provenance,
    /// True when the language asked for had no current translation: these are the French texts.
    pub fallback: bool,
    pub title: String,
    pub summary: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Freshness {
    Fresh,
    Due,
    Unverified,
}

#[derive(Debug, Clone, Object)]
pub struct FreshnessView {
    pub state: Freshness,
    pub last_verified_at: DateTime<Utc>,
    /// The offerer is asked to verify the offer by then.
    pub verify_by: DateTime<Utc>,
    /// For readers, when the offer was not verified in time: "Non vérifiée depuis le …".
    pub notice: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ChangeKindView {
    Closed,
    ChangedHours,
}

#[derive(Debug, Clone, Object)]
pub struct TemporaryChangeView {
    pub id: Uuid,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub kind: ChangeKindView,
    pub opening_hours: Option<String>,
    pub message: String,
}

impl From<&o::TemporaryChange> for TemporaryChangeView {
    fn from(c: &o::TemporaryChange) -> Self {
        let (kind, opening_hours) = match &c.kind {
            ChangeKind::Closed => (ChangeKindView::Closed, None),
            ChangeKind::ChangedHours { opening_hours } => {
                (ChangeKindView::ChangedHours, Some(opening_hours.clone()))
            }
        };
        Self {
            id: c.id.0,
            starts_on: c.starts_on,
            ends_on: c.ends_on,
            kind,
            opening_hours,
            message: c.message.clone(),
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct OriginView {
    pub source: String,
    pub id: String,
    pub link: Option<String>,
}

#[derive(Debug, Clone, Object)]
pub struct ReviewView {
    pub approved: bool,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Object)]
pub struct OrganisationRef {
    pub id: Uuid,
    pub name: String,
}

/// Labels of an offer's coded fields, in the reader's language.
#[derive(Debug, Clone, Object)]
pub struct OfferLabels {
    pub theme: Coded,
    pub topics: Vec<Coded>,
    pub audiences: Vec<Coded>,
    pub service_type: Option<Coded>,
    pub cost: Option<Coded>,
    pub reception_modes: Vec<Coded>,
    pub mobilisation_modes: Vec<Coded>,
    pub mobilised_by: Vec<Coded>,
}

/// An offer as a reader (or its offerer) sees it.
#[derive(Debug, Clone, Object)]
pub struct OfferView {
    pub id: Uuid,
    pub organisation: OrganisationRef,
    pub status: OfferStatus,
    /// Send it back in `If-Match` when editing.
    pub version: i64,
    pub display: DisplayTexts,
    pub labels: OfferLabels,
    pub content: OfferContentBody,
    pub freshness: FreshnessView,
    pub temporary_changes: Vec<TemporaryChangeView>,
    /// The temporary change in force today, if any.
    pub current_change: Option<TemporaryChangeView>,
    /// Computed from the opening hours and temporary changes in the collectivity's time zone;
    /// absent when the offer gives no hours.
    pub open_now: Option<bool>,
    /// For imported offers: where they come from.
    pub origin: Option<OriginView>,
    /// The last moderation decision (offerers and admins only).
    pub review: Option<ReviewView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

/// What the views need besides the offer.
pub struct ViewContext<'a> {
    pub reference: &'a ReferenceData,
    pub language: &'a Language,
    pub now: DateTime<Utc>,
    pub local_now: chrono::NaiveDateTime,
    pub grace: chrono::Duration,
    /// Managers see moderation decisions.
    pub manager: bool,
}

pub fn display(offer: &Offer, ctx: &ViewContext<'_>) -> DisplayTexts {
    let texts = offer.content.localized(ctx.language.code());
    let language = Language::parse(texts.language).unwrap_or_else(|_| Language::french());
    DisplayTexts {
        language: texts.language.to_owned(),
        direction: language.info().direction.into(),
        provenance: texts.provenance.into(),
        fallback: texts.fallback,
        title: texts.title.to_owned(),
        summary: texts.summary.map(str::to_owned),
        description: texts.description.to_owned(),
    }
}

pub fn freshness(offer: &Offer, ctx: &ViewContext<'_>) -> FreshnessView {
    let f = offer.freshness(ctx.now, ctx.grace);
    let state = match f.state {
        FreshnessState::Fresh => Freshness::Fresh,
        FreshnessState::Due => Freshness::Due,
        FreshnessState::Unverified => Freshness::Unverified,
    };
    FreshnessView {
        state,
        last_verified_at: offer.last_verified_at,
        verify_by: f.verify_by,
        notice: (f.state == FreshnessState::Unverified).then(|| {
            i18n::text_with(
                "catalogue.unverified_since",
                ctx.language.code(),
                &[(
                    "date",
                    &i18n::format_date(offer.last_verified_at.date_naive(), ctx.language.code()),
                )],
            )
        }),
    }
}

pub fn labels(offer: &Offer, ctx: &ViewContext<'_>) -> OfferLabels {
    let lang = ctx.language.code();
    let r = ctx.reference;
    let c = &offer.content;
    let many = |kind: ListKind, codes: &[String]| -> Vec<Coded> {
        codes
            .iter()
            .map(|code| coded(r, kind, code, lang))
            .collect()
    };
    OfferLabels {
        theme: coded(r, ListKind::Themes, &c.theme, lang),
        topics: many(ListKind::Topics, &c.topics),
        audiences: many(ListKind::Audiences, &c.audiences),
        service_type: c
            .service_type
            .as_deref()
            .map(|t| coded(r, ListKind::ServiceTypes, t, lang)),
        cost: c
            .cost
            .as_deref()
            .map(|t| coded(r, ListKind::Costs, t, lang)),
        reception_modes: many(ListKind::ReceptionModes, &c.reception_modes),
        mobilisation_modes: many(ListKind::MobilisationModes, &c.mobilisation.modes),
        mobilised_by: many(ListKind::MobilisedBy, &c.mobilisation.mobilised_by),
    }
}

pub fn offer_view(offer: &Offer, ctx: &ViewContext<'_>) -> OfferView {
    OfferView {
        id: offer.id.0,
        organisation: OrganisationRef {
            id: offer.organisation_id.0,
            name: offer.organisation_name.clone(),
        },
        status: offer.status.into(),
        version: offer.version,
        display: display(offer, ctx),
        labels: labels(offer, ctx),
        content: (&offer.content).into(),
        freshness: freshness(offer, ctx),
        temporary_changes: offer.temporary_changes.iter().map(Into::into).collect(),
        current_change: offer.change_on(ctx.local_now.date()).map(Into::into),
        open_now: offer.is_open_at(ctx.local_now),
        origin: offer.origin.as_ref().map(|r| OriginView {
            source: r.source.clone(),
            id: r.id.clone(),
            link: r.link.clone(),
        }),
        review: ctx
            .manager
            .then(|| {
                offer.review.as_ref().map(|r| ReviewView {
                    approved: r.approved,
                    reason: r.reason.clone(),
                    at: r.at,
                })
            })
            .flatten(),
        created_at: offer.created_at,
        updated_at: offer.updated_at,
        published_at: offer.published_at,
    }
}

/// The texts a list shows: title and summary (the description is on the offer itself).
#[derive(Debug, Clone, Object)]
pub struct CardTexts {
    pub language: String,
    pub direction: Direction,
    pub provenance: Provenance,
    /// True when the language asked for had no current translation: these are the French texts.
    pub fallback: bool,
    pub title: String,
    pub summary: Option<String>,
}

/// A search result: what a list of offers shows.
#[derive(Debug, Clone, Object)]
pub struct OfferCard {
    pub id: Uuid,
    pub organisation: OrganisationRef,
    pub display: CardTexts,
    pub theme: Coded,
    pub topics: Vec<String>,
    pub cost: Option<String>,
    pub service_type: Option<String>,
    pub reception_modes: Vec<String>,
    pub locations: Vec<Location>,
    /// Streets and coordinates withheld: ask a professional for the address. A distance is
    /// then to the commune's centre.
    pub confidential_address: bool,
    /// To the nearest location, when the search gave a point.
    pub distance_km: Option<f64>,
    /// How the query's words found this offer through its topics, when they did: a page can
    /// say "found under «Hébergement» for «سكن»".
    pub matched: Vec<TopicMatch>,
    pub open_now: Option<bool>,
    pub current_change: Option<TemporaryChangeView>,
    pub freshness: FreshnessView,
    pub imported_from: Option<String>,
}

/// A query's word that found an offer through one of its topics.
#[derive(Debug, Clone, Object)]
pub struct TopicMatch {
    /// The word or phrase, as read (lower case, accents removed).
    pub word: String,
    /// A topic or topic category code.
    pub topic: String,
    /// Its label in the reader's language.
    pub label: String,
}

pub fn offer_card(
    offer: &Offer,
    distance_km: Option<f64>,
    matched: &[(String, String)],
    ctx: &ViewContext<'_>,
) -> OfferCard {
    let c = &offer.content;
    let full = display(offer, ctx);
    OfferCard {
        id: offer.id.0,
        organisation: OrganisationRef {
            id: offer.organisation_id.0,
            name: offer.organisation_name.clone(),
        },
        display: CardTexts {
            language: full.language,
            direction: full.direction,
            provenance: full.provenance,
            fallback: full.fallback,
            title: full.title,
            summary: full.summary,
        },
        theme: coded(
            ctx.reference,
            ListKind::Themes,
            &c.theme,
            ctx.language.code(),
        ),
        topics: c.topics.clone(),
        cost: c.cost.clone(),
        service_type: c.service_type.clone(),
        reception_modes: c.reception_modes.clone(),
        locations: c.locations.iter().map(location_out).collect(),
        confidential_address: c.confidential_address,
        distance_km: distance_km.map(|d| (d * 100.0).round() / 100.0),
        matched: matched
            .iter()
            .map(|(word, topic)| {
                let kind = if topic.contains("--") {
                    ListKind::Topics
                } else {
                    ListKind::TopicCategories
                };
                TopicMatch {
                    word: word.clone(),
                    label: ctx
                        .reference
                        .label(kind, topic, ctx.language.code())
                        .text
                        .to_owned(),
                    topic: topic.clone(),
                }
            })
            .collect(),
        open_now: offer.is_open_at(ctx.local_now),
        current_change: offer.change_on(ctx.local_now.date()).map(Into::into),
        freshness: freshness(offer, ctx),
        imported_from: offer.origin.as_ref().map(|r| r.source.clone()),
    }
}

/// An offerer's public profile.
#[derive(Debug, Clone, Object, Default)]
pub struct ProfileBody {
    pub description: Option<String>,
    pub address: Option<Location>,
    #[oai(default)]
    pub contact: Contact,
    pub website: Option<String>,
    pub opening_hours: Option<String>,
    /// Codes of the `networks` list (réseaux porteurs).
    #[oai(default)]
    pub networks: Vec<String>,
    pub accessibility_url: Option<String>,
    /// The address's street and coordinates are for professionals only; the organisation's
    /// offers are then confidential too.
    #[oai(default)]
    pub confidential_address: bool,
}

impl From<ProfileBody> for OrganisationProfile {
    fn from(b: ProfileBody) -> Self {
        OrganisationProfile {
            description: b.description,
            address: b.address.map(location_in),
            contact: contact_in(b.contact),
            website: b.website,
            opening_hours: b.opening_hours,
            networks: b.networks,
            accessibility_url: b.accessibility_url,
            confidential_address: b.confidential_address,
        }
    }
}

impl From<&OrganisationProfile> for ProfileBody {
    fn from(p: &OrganisationProfile) -> Self {
        ProfileBody {
            description: p.description.clone(),
            address: p.address.as_ref().map(location_out),
            contact: contact_out(&p.contact),
            website: p.website.clone(),
            opening_hours: p.opening_hours.clone(),
            networks: p.networks.clone(),
            accessibility_url: p.accessibility_url.clone(),
            confidential_address: p.confidential_address,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct ProfileView {
    pub organisation: OrganisationRef,
    pub siret: Option<String>,
    /// 0 when the organisation has not written its profile yet.
    pub version: i64,
    pub profile: ProfileBody,
    pub networks: Vec<Coded>,
    pub updated_at: Option<DateTime<Utc>>,
}
