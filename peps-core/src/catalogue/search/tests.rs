//! Search behaviour on fixed data and a fixed clock.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use super::*;
use crate::catalogue::offer::{
    Accessibility, ChangeKind, Contact, Location, Mobilisation, OfferContent, OfferStatus,
    TemporaryChange,
};
use crate::catalogue::reference::ReferenceData;
use crate::domain::{OfferId, OrganisationId, TemporaryChangeId};

const AUXERRE: (f64, f64) = (47.7996, 3.5703);
const SENS: (f64, f64) = (48.1974, 3.2833);
const MONETEAU: (f64, f64) = (47.8490, 3.5820);

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn verified(days_ago: i64) -> DateTime<Utc> {
    "2026-11-20T10:00:00Z".parse::<DateTime<Utc>>().unwrap() - chrono::Duration::days(days_ago)
}

struct Spec {
    title: &'static str,
    description: &'static str,
    theme: &'static str,
    topics: &'static [&'static str],
    commune: (&'static str, (f64, f64)),
    hours: Option<&'static str>,
    cost: &'static str,
}

fn offer(spec: &Spec, verified_days_ago: i64) -> Offer {
    let reference = ReferenceData::builtin();
    let content = OfferContent {
        title: spec.title.into(),
        summary: None,
        description: spec.description.into(),
        theme: spec.theme.into(),
        topics: spec.topics.iter().map(|t| (*t).to_owned()).collect(),
        service_type: Some("accompagnement".into()),
        audiences: vec!["tous-publics".into()],
        audience_details: None,
        cost: Some(spec.cost.into()),
        cost_details: None,
        access_conditions: None,
        mobilisation: Mobilisation::default(),
        reception_modes: vec!["en-presentiel".into()],
        locations: vec![Location {
            commune_code: Some(spec.commune.0.into()),
            latitude: Some(spec.commune.1.0),
            longitude: Some(spec.commune.1.1),
            ..Location::default()
        }],
        eligibility_zone: vec![spec.commune.0.into()],
        opening_hours: spec.hours.map(str::to_owned),
        languages_spoken: vec!["fr".into()],
        accessibility: Accessibility::default(),
        contact: Contact::default(),
        professional_contact: None,
        website: None,
        validity: None,
        update_frequency_months: 6,
        translations: BTreeMap::new(),
        confidential_address: false,
    }
    .normalize(&reference)
    .unwrap();
    Offer {
        id: OfferId::new(),
        organisation_id: OrganisationId::new(),
        organisation_name: "CCAS".into(),
        status: OfferStatus::Published,
        content,
        temporary_changes: vec![],
        origin: None,
        review: None,
        version: 1,
        created_at: verified(verified_days_ago),
        updated_at: verified(verified_days_ago),
        last_verified_at: verified(verified_days_ago),
        published_at: None,
    }
}

const HOUSING: &[&str] = &["logement-hebergement--louer-un-logement"];
const SHELTER: &[&str] = &["logement-hebergement--rechercher-une-solution-dhebergement-temporaire"];
const JOBS: &[&str] = &["trouver-un-emploi--repondre-a-des-offres-demploi"];

fn specs() -> Vec<Spec> {
    vec![
        Spec {
            title: "Hébergement d’urgence pour familles",
            description: "Mise à l’abri le soir, orientation par le 115.",
            theme: "ville-du-quotidien",
            topics: SHELTER,
            commune: ("89024", AUXERRE),
            hours: Some("Mo-Su 18:00-23:00"),
            cost: "gratuit",
        },
        Spec {
            title: "Permanence logement du CCAS",
            description: "Aide à la constitution de la demande de logement social.",
            theme: "ville-du-quotidien",
            topics: HOUSING,
            commune: ("89387", SENS),
            hours: Some("Mo-Fr 09:00-12:00,14:00-17:00; PH off"),
            cost: "gratuit",
        },
        Spec {
            title: "Atelier CV et lettre de motivation",
            description: "Préparer ses candidatures avec une conseillère.",
            theme: "formation-emploi",
            topics: JOBS,
            commune: ("89263", MONETEAU),
            hours: Some("Tu,Th 14:00-17:00"),
            cost: "payant",
        },
        Spec {
            title: "Accueil de jour",
            description: "Un lieu pour se poser, prendre une douche, être hébergé ponctuellement.",
            theme: "ville-du-quotidien",
            topics: SHELTER,
            commune: ("89024", AUXERRE),
            hours: None,
            cost: "gratuit",
        },
    ]
}

fn index_of(offers: &[Offer]) -> SearchIndex {
    let mut index = SearchIndex::new(Arc::new(ReferenceData::builtin()));
    index.apply(offers.iter().cloned(), 1);
    index
}

fn titles(results: &SearchResults) -> Vec<&str> {
    results
        .hits
        .iter()
        .map(|h| h.offer.content.title.as_str())
        .collect()
}

fn query(text: &str) -> SearchQuery {
    SearchQuery {
        text: Some(text.into()),
        limit: 20,
        ..SearchQuery::default()
    }
}

/// A Monday, not a public holiday.
fn monday_10am() -> NaiveDateTime {
    at("2026-11-23 10:00")
}

fn catalogue() -> (Vec<Offer>, SearchIndex) {
    let offers: Vec<Offer> = specs()
        .iter()
        .enumerate()
        .map(|(i, s)| offer(s, i as i64 * 10))
        .collect();
    let index = index_of(&offers);
    (offers, index)
}

#[test]
fn accents_case_plurals_and_typos_match() {
    let (_, index) = catalogue();
    let now = monday_10am();
    for q in ["hebergements", "HÉBERGEMENT", "hébergé", "hebergemnt"] {
        let found = index.search(&query(q), now).unwrap();
        assert!(
            titles(&found).contains(&"Hébergement d’urgence pour familles"),
            "{q}: {:?}",
            titles(&found)
        );
    }
    // Every word must match; the title outweighs the description, and both outweigh an offer
    // found through the vocabulary (housing offers for "logement").
    let found = index.search(&query("logement social"), now).unwrap();
    assert_eq!(titles(&found)[0], "Permanence logement du CCAS");
    let found = index.search(&query("hébergement"), now).unwrap();
    assert_eq!(titles(&found)[0], "Hébergement d’urgence pour familles");
    // Topic labels are searchable too ("Rechercher une solution d'hébergement temporaire").
    let found = index.search(&query("temporaire"), now).unwrap();
    assert_eq!(found.total, 2);
    // Search as you type: an unfinished last word.
    let found = index.search(&query("lettre de motiv"), now).unwrap();
    assert_eq!(titles(&found), ["Atelier CV et lettre de motivation"]);
    assert_eq!(index.search(&query("piscine"), now).unwrap().total, 0);
    assert_eq!(index.search(&query("de la"), now).unwrap().total, 0);
}

#[test]
fn short_words_match_only_as_typed() {
    let mut specs = specs();
    for (title, description) in [
        (
            "Cafétéria solidaire",
            "Un repas chaud à petit prix, le midi.",
        ),
        (
            "Permanence CAF",
            "Rendez-vous avec un conseiller de la CAF.",
        ),
        (
            "Repair café",
            "On répare ensemble vos objets, autour d'un café.",
        ),
        (
            "Sorties culturelles",
            "Ouvert à toutes et à tous, le samedi.",
        ),
    ] {
        specs.push(Spec {
            title,
            description,
            theme: "ville-du-quotidien",
            topics: JOBS,
            commune: ("89024", AUXERRE),
            hours: None,
            cost: "gratuit",
        });
    }
    let offers: Vec<Offer> = specs.iter().map(|s| offer(s, 0)).collect();
    let index = index_of(&offers);
    let now = monday_10am();
    // "CAF" is a word of the catalogue: not also the start of "cafétéria", nor "café" (whose
    // French stem is "caf").
    let found = index.search(&query("CAF"), now).unwrap();
    assert_eq!(titles(&found), ["Permanence CAF"]);
    let found = index.search(&query("café"), now).unwrap();
    assert_eq!(titles(&found)[0], "Repair café");
    // "toit" is one letter from "tout" ("toutes"), which is no reason to offer outings; it
    // means a roof, and finds the housing offers.
    let found = index.search(&query("toit"), now).unwrap();
    assert!(!titles(&found).contains(&"Sorties culturelles"));
    assert!(titles(&found).contains(&"Hébergement d’urgence pour familles"));
    assert!(
        found.hits.iter().all(|h| !h.matched.is_empty()),
        "each says why"
    );
    // Typed in full, the short words still match, and longer words keep their tolerance.
    let found = index.search(&query("cafét"), now).unwrap();
    assert_eq!(titles(&found)[0], "Cafétéria solidaire");
    let found = index.search(&query("toutes"), now).unwrap();
    assert_eq!(titles(&found), ["Sorties culturelles"]);
    let found = index.search(&query("permanense caf"), now).unwrap();
    assert_eq!(titles(&found), ["Permanence CAF"]);
}

#[test]
fn radius_distance_commune_and_departement() {
    let (_, index) = catalogue();
    let now = monday_10am();
    let near_auxerre = SearchQuery {
        near: Some(Near {
            latitude: AUXERRE.0,
            longitude: AUXERRE.1,
            radius_km: 10.0,
        }),
        limit: 20,
        ..SearchQuery::default()
    };
    let found = index.search(&near_auxerre, now).unwrap();
    assert_eq!(found.sort, Sort::Distance);
    assert_eq!(found.total, 3, "Sens is 50 km away");
    let distances: Vec<f64> = found.hits.iter().map(|h| h.distance_km.unwrap()).collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!(distances[0] < 0.1);
    let moneteau = found
        .hits
        .iter()
        .find(|h| h.offer.content.title.starts_with("Atelier"))
        .unwrap();
    assert!((5.0..6.5).contains(&moneteau.distance_km.unwrap()));

    let sens = SearchQuery {
        communes: vec!["89387".into()],
        limit: 20,
        ..SearchQuery::default()
    };
    assert_eq!(
        titles(&index.search(&sens, now).unwrap()),
        ["Permanence logement du CCAS"]
    );
    let yonne = SearchQuery {
        departements: vec!["89".into()],
        limit: 20,
        ..SearchQuery::default()
    };
    assert_eq!(index.search(&yonne, now).unwrap().total, 4);
    let elsewhere = SearchQuery {
        departements: vec!["75".into()],
        limit: 20,
        ..SearchQuery::default()
    };
    assert_eq!(index.search(&elsewhere, now).unwrap().total, 0);
    let eligible = SearchQuery {
        eligible_commune: Some("89387".into()),
        limit: 20,
        ..SearchQuery::default()
    };
    assert_eq!(
        titles(&index.search(&eligible, now).unwrap()),
        ["Permanence logement du CCAS"]
    );
}

#[test]
fn open_now_follows_hours_holidays_and_temporary_closures() {
    let (mut offers, _) = catalogue();
    let open_at = |index: &SearchIndex, when: &str| {
        let q = SearchQuery {
            open: Some(OpenAt::At(at(when))),
            limit: 20,
            ..SearchQuery::default()
        };
        let mut t: Vec<String> = index
            .search(&q, at(when))
            .unwrap()
            .hits
            .iter()
            .map(|h| h.offer.content.title.clone())
            .collect();
        t.sort();
        t
    };
    let index = index_of(&offers);
    assert_eq!(
        open_at(&index, "2026-11-23 10:00"),
        ["Permanence logement du CCAS"]
    );
    assert_eq!(
        open_at(&index, "2026-11-24 15:00"),
        [
            "Atelier CV et lettre de motivation",
            "Permanence logement du CCAS"
        ]
    );
    assert_eq!(
        open_at(&index, "2026-11-23 20:00"),
        ["Hébergement d’urgence pour familles"]
    );
    // 11 November is a public holiday: "PH off".
    assert!(open_at(&index, "2026-11-11 10:00").is_empty());
    // An offer without hours is never "open now" (unknown), but is found otherwise.
    assert!(!open_at(&index, "2026-11-23 10:00").contains(&"Accueil de jour".to_owned()));

    // A temporary closure of the CCAS this week wins over its usual hours.
    offers[1].temporary_changes.push(TemporaryChange {
        id: TemporaryChangeId::new(),
        starts_on: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        kind: ChangeKind::Closed,
        message: "Fermé pour travaux".into(),
    });
    // And the workshop moves to Monday morning for a week.
    offers[2].temporary_changes.push(TemporaryChange {
        id: TemporaryChangeId::new(),
        starts_on: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        kind: ChangeKind::ChangedHours {
            opening_hours: "Mo 09:00-12:00".into(),
        },
        message: "Horaires exceptionnels".into(),
    });
    let index = index_of(&offers);
    assert_eq!(
        open_at(&index, "2026-11-23 10:00"),
        ["Atelier CV et lettre de motivation"]
    );
    assert!(open_at(&index, "2026-11-24 15:00").is_empty());
    assert_eq!(
        open_at(&index, "2026-11-30 10:00"),
        ["Permanence logement du CCAS"]
    );
}

#[test]
fn facets_count_the_matching_offers() {
    let (_, index) = catalogue();
    let counted = SearchQuery {
        facets: true,
        ..query("hébergement")
    };
    assert!(
        index
            .search(&query("hébergement"), monday_10am())
            .unwrap()
            .facets
            .is_empty(),
        "no counts unless asked"
    );
    let found = index.search(&counted, monday_10am()).unwrap();
    let facet = |f: Facet| {
        found
            .facets
            .iter()
            .find(|c| c.facet == f)
            .unwrap()
            .values
            .clone()
    };
    // The CCAS permanence matches through its category label ("Logement et hébergement").
    assert_eq!(found.total, 3);
    assert_eq!(facet(Facet::Theme), [("ville-du-quotidien".to_owned(), 3)]);
    assert_eq!(
        facet(Facet::Category),
        [("logement-hebergement".to_owned(), 3)]
    );
    assert_eq!(
        facet(Facet::Topic),
        [(SHELTER[0].to_owned(), 2), (HOUSING[0].to_owned(), 1)]
    );
    let all = SearchQuery {
        limit: 1,
        facets: true,
        ..SearchQuery::default()
    };
    let found = index.search(&all, monday_10am()).unwrap();
    assert_eq!(found.total, 4);
    let themes: Vec<(String, usize)> = found.facets[0].values.clone();
    assert_eq!(
        themes,
        [
            ("ville-du-quotidien".to_owned(), 3),
            ("formation-emploi".to_owned(), 1)
        ]
    );
    // Filters combine: a category and a cost.
    let filtered = SearchQuery {
        topics: vec!["logement-hebergement".into()],
        costs: vec!["gratuit".into()],
        themes: vec!["ville-du-quotidien".into()],
        limit: 20,
        ..SearchQuery::default()
    };
    assert_eq!(index.search(&filtered, monday_10am()).unwrap().total, 3);
}

/// Pages followed by cursor while offers are added between pages: every offer present from
/// the start is seen exactly once.
#[test]
fn pagination_is_stable_under_concurrent_inserts() {
    let reference = Arc::new(ReferenceData::builtin());
    let spec = |i: usize| Spec {
        title: if i.is_multiple_of(2) {
            "Permanence logement"
        } else {
            "Aide au logement des jeunes"
        },
        description: "Accompagnement vers le logement.",
        theme: "ville-du-quotidien",
        topics: HOUSING,
        commune: ("89024", AUXERRE),
        hours: None,
        cost: "gratuit",
    };
    let originals: Vec<Offer> = (0..95).map(|i| offer(&spec(i), (i % 40) as i64)).collect();
    let mut index = SearchIndex::new(reference);
    index.apply(originals.iter().cloned(), 1);
    for sort in [Sort::Relevance, Sort::Freshness, Sort::Distance] {
        let mut q = query("logement");
        q.sort = sort;
        q.limit = 10;
        if sort == Sort::Distance {
            q.near = Some(Near {
                latitude: 47.8,
                longitude: 3.6,
                radius_km: 50.0,
            });
        }
        let mut seen = HashSet::new();
        let mut inserted = 0;
        loop {
            let page = index.search(&q, monday_10am()).unwrap();
            for hit in &page.hits {
                assert!(seen.insert(hit.offer.id), "{sort:?}: duplicate");
            }
            // Someone publishes three offers between two pages.
            let new: Vec<Offer> = (0..3).map(|i| offer(&spec(i), i as i64)).collect();
            inserted += new.len();
            index.apply(new, index.seq() + 1);
            match page.next_cursor {
                Some(cursor) => q.cursor = Some(cursor),
                None => break,
            }
        }
        for original in &originals {
            assert!(
                seen.contains(&original.id),
                "{sort:?}: an offer was skipped"
            );
        }
        assert!(inserted > 0);
    }
}

#[test]
fn removed_and_unpublished_offers_leave_the_index() {
    let (mut offers, mut index) = catalogue();
    offers[0].status = OfferStatus::Archived;
    offers[1].status = OfferStatus::Suspended;
    index.apply(offers[..2].iter().cloned(), 2);
    let found = index
        .search(
            &SearchQuery {
                limit: 20,
                ..SearchQuery::default()
            },
            monday_10am(),
        )
        .unwrap();
    assert_eq!(found.total, 2);
    assert_eq!(index.len(), 2);
    let wrong = SearchQuery {
        cursor: Some("bm9wZQ".into()),
        limit: 20,
        ..SearchQuery::default()
    };
    assert!(index.search(&wrong, monday_10am()).is_err());
}

/// The four needs asked in Arabic, Ukrainian, English, Pashto and Tigrinya find the offers
/// their French counterpart finds: every offer of the need's category or topic, the text's own
/// matches first, and each says which word found it under which topic.
#[test]
fn five_languages_find_what_french_finds() {
    let reference = Arc::new(ReferenceData::builtin());
    let today = Utc::now().date_naive();
    let generated = crate::catalogue::synthetic::catalogue(11, 40, 2_000, &reference, today);
    let now = Utc::now();
    let offers: Vec<Offer> = generated
        .offers
        .into_iter()
        .map(|o| Offer {
            id: OfferId::new(),
            organisation_id: OrganisationId::new(),
            organisation_name: generated.organisations[o.organisation].name.clone(),
            status: OfferStatus::Published,
            content: o.content,
            temporary_changes: Vec::new(),
            origin: None,
            review: None,
            version: 1,
            created_at: now,
            updated_at: now,
            last_verified_at: now,
            published_at: Some(now),
        })
        .collect();
    let mut index = SearchIndex::new(reference);
    index.apply(offers, 1);
    let at = monday_10am();
    let all = |text: &str, language: &str| -> HashSet<OfferId> {
        let mut found = HashSet::new();
        let mut cursor = None;
        loop {
            let page = index
                .search(
                    &SearchQuery {
                        text: Some(text.into()),
                        text_language: Some(language.into()),
                        limit: 100,
                        cursor,
                        ..SearchQuery::default()
                    },
                    at,
                )
                .unwrap();
            found.extend(page.hits.iter().map(|h| h.offer.id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return found,
            }
        }
    };
    let of_category = |category: &str| -> HashSet<OfferId> {
        let mut found = HashSet::new();
        let mut cursor = None;
        loop {
            let page = index
                .search(
                    &SearchQuery {
                        topics: vec![category.into()],
                        limit: 100,
                        cursor,
                        ..SearchQuery::default()
                    },
                    at,
                )
                .unwrap();
            found.extend(page.hits.iter().map(|h| h.offer.id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return found,
            }
        }
    };
    let needs = [
        (
            "logement-hebergement",
            "logement",
            ["سكن", "житло", "housing", "کور", "መንበሪ"],
        ),
        (
            "equipement-et-alimentation--alimentation",
            "alimentation",
            ["أكل", "їжа", "food", "خواړه", "መግቢ"],
        ),
        (
            "sante--acces-aux-soins",
            "médecin",
            ["طبيب", "лікар", "doctor", "ډاکټر", "ሓኪም"],
        ),
        (
            "trouver-un-emploi",
            "emploi",
            ["عمل", "робота", "job", "کار", "ስራሕ"],
        ),
    ];
    let languages = ["ar", "uk", "en", "ps", "ti"];
    for (category, french, words) in needs {
        let expected = of_category(category);
        assert!(expected.len() > 20, "{category}: {}", expected.len());
        let in_french = all(french, "fr");
        assert!(in_french.is_superset(&expected), "fr «{french}»");
        for (word, language) in words.iter().zip(languages) {
            let found = all(word, language);
            assert!(
                found.is_superset(&expected),
                "{language} «{word}» misses {} of {} {category} offers",
                expected.difference(&found).count(),
                expected.len()
            );
            let first = index
                .search(
                    &SearchQuery {
                        text: Some((*word).into()),
                        text_language: Some(language.into()),
                        limit: 20,
                        ..SearchQuery::default()
                    },
                    at,
                )
                .unwrap();
            // The first page is about the need (a synonym's French words may bring in a
            // neighbouring topic: "job" → "emploi" → a job-search workshop).
            let about = first
                .hits
                .iter()
                .filter(|h| {
                    h.offer
                        .content
                        .topics
                        .iter()
                        .any(|t| t.starts_with(category))
                })
                .count();
            assert!(
                about * 4 >= first.hits.len() * 3,
                "{language} «{word}»: {about} of {} first results about {category}",
                first.hits.len()
            );
            assert!(
                first.hits[0]
                    .matched
                    .iter()
                    .any(|(w, _)| w.contains(&crate::catalogue::text::words(word)[0])),
                "{language} «{word}»: says how it matched: {:?}",
                first.hits[0].matched
            );
        }
    }
}
