//! A deterministic generator of realistic catalogues (cargo feature `synthetic`): French
//! titles and descriptions per topic category, offerers named after the communes of the Yonne,
//! real commune codes and coordinates, OpenStreetMap opening hours. The same seed always gives
//! the same catalogue, so the demo and the benchmarks are repeatable.
//!
//! Text material: `data/synthetic/offer-templates.yml` (PEPS's own writing); communes:
//! `data/synthetic/communes-89.tsv` (Etalab découpage administratif, GeoNames — see
//! `data/synthetic/PROVENANCE.md`).

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use std::collections::BTreeMap;

use super::offer::{
    Accessibility, ChangeKind, Contact, Location, Mobilisation, OfferContent, Validity,
};
use super::reference::ReferenceData;

#[derive(Debug, Deserialize)]
struct Category {
    titles: Vec<String>,
    summaries: Vec<String>,
    paragraphs: Vec<String>,
    topics: Vec<String>,
    audiences: Vec<String>,
    service_types: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct WeightedLanguage {
    code: String,
    weight: f64,
}

#[derive(Debug, Deserialize)]
struct ChangeTemplate {
    kind: String,
    days: i64,
    message: String,
    opening_hours: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Templates {
    categories: BTreeMap<String, Category>,
    organisations: Vec<String>,
    networks: Vec<String>,
    opening_hours: Vec<String>,
    languages_spoken: Vec<WeightedLanguage>,
    temporary_changes: Vec<ChangeTemplate>,
}

/// A commune of the generator's territory.
#[derive(Debug, Clone, PartialEq)]
pub struct Commune {
    pub code: String,
    pub postcode: String,
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
    pub population: u32,
}

/// An offerer to create before its offers.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticOrganisation {
    pub name: String,
    pub commune: Commune,
    pub networks: Vec<String>,
}

/// A temporary change, relative to "today".
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticChange {
    pub starts_in_days: i64,
    pub days: i64,
    pub kind: ChangeKind,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticOffer {
    /// Index into the organisations list.
    pub organisation: usize,
    pub content: OfferContent,
    /// How long ago the offer was last verified (some are overdue, as in real life).
    pub verified_days_ago: i64,
    pub temporary_change: Option<SyntheticChange>,
}

pub struct Catalogue {
    pub organisations: Vec<SyntheticOrganisation>,
    pub offers: Vec<SyntheticOffer>,
}

const STREETS: &[&str] = &[
    "rue de la République",
    "place de l’Hôtel de Ville",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "rue du Général de Gaulle",
    "boulevard Pasteur",
    "rue des Écoles",
    "place du Marché",
    "rue de la Gare",
    "allée des Tilleuls",
];

/// The communes of the Yonne the generator places offers in.
pub fn communes() -> Vec<Commune> {
    include_str!("../../data/synthetic/communes-89.tsv")
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            Some(Commune {
                code: cols.first()?.to_string(),
                postcode: cols.get(1)?.to_string(),
                name: cols.get(2)?.to_string(),
                latitude: cols.get(3)?.parse().ok()?,
                longitude: cols.get(4)?.parse().ok()?,
                population: cols.get(5)?.parse().ok()?,
            })
        })
        .collect()
}

fn templates() -> Templates {
    serde_yaml::from_str(include_str!("../../data/synthetic/offer-templates.yml"))
        .expect("offer-templates.yml is valid")
}

/// "de Sens", "d’Auxerre", "du Val d’Ocre", "des Ormes".
fn de(commune: &str) -> String {
    if let Some(rest) = commune.strip_prefix("Le ") {
        format!("du {rest}")
    } else if let Some(rest) = commune.strip_prefix("Les ") {
        format!("des {rest}")
    } else if commune
        .chars()
        .next()
        .is_some_and(|c| "AEIOUYHÉÈÊÎÔÛaeiouyh".contains(c))
    {
        format!("d’{commune}")
    } else {
        format!("de {commune}")
    }
}

/// Picks a commune with probability growing with its population, as services concentrate in
/// towns.
fn weighted_commune<'a>(rng: &mut StdRng, communes: &'a [Commune], total: u64) -> &'a Commune {
    let mut ticket = rng.gen_range(0..total.max(1));
    for c in communes {
        let weight = u64::from(c.population).max(1);
        if ticket < weight {
            return c;
        }
        ticket -= weight;
    }
    &communes[0]
}

/// A catalogue of `offers` offers spread over `organisations` offerers, always the same for
/// the same seed.
pub fn catalogue(
    seed: u64,
    organisations: usize,
    offers: usize,
    reference: &ReferenceData,
    today: chrono::NaiveDate,
) -> Catalogue {
    let t = templates();
    let communes = communes();
    let total: u64 = communes.iter().map(|c| u64::from(c.population)).sum();
    let mut rng = StdRng::seed_from_u64(seed);

    let mut names = std::collections::HashSet::new();
    let mut orgs = Vec::with_capacity(organisations);
    while orgs.len() < organisations {
        let commune = weighted_commune(&mut rng, &communes, total).clone();
        let pattern = t.organisations.choose(&mut rng).expect("patterns");
        let mut name = pattern
            .replace("{de_commune}", &de(&commune.name))
            .replace("{commune}", &commune.name);
        if !names.insert(name.clone()) {
            name = format!("{name} ({})", orgs.len() + 1);
            names.insert(name.clone());
        }
        let n = rng.gen_range(0..=1);
        let networks = t.networks.choose_multiple(&mut rng, n).cloned().collect();
        orgs.push(SyntheticOrganisation {
            name,
            commune,
            networks,
        });
    }

    let categories: Vec<(&String, &Category)> = t.categories.iter().collect();
    let mut list = Vec::with_capacity(offers);
    for i in 0..offers {
        let organisation = i % organisations.max(1);
        let org = &orgs[organisation];
        let (_, cat) = categories[rng.gen_range(0..categories.len())];
        let n = rng.gen_range(1..=cat.topics.len().min(3));
        let mut topics: Vec<String> = cat.topics.choose_multiple(&mut rng, n).cloned().collect();
        topics.sort();
        let theme = reference
            .theme_for_topic(&topics[0])
            .or_else(|| reference.themes().first().map(|t| t.code.as_str()))
            .unwrap_or_default()
            .to_owned();
        let audiences = if rng.gen_bool(0.2) {
            vec!["tous-publics".to_owned()]
        } else {
            let n = rng.gen_range(1..=2);
            let mut a: Vec<String> = cat
                .audiences
                .choose_multiple(&mut rng, n)
                .cloned()
                .collect();
            a.sort();
            a
        };
        let title = cat.titles.choose(&mut rng).expect("titles").clone();
        let title = if rng.gen_bool(0.5) {
            format!("{title} – {}", org.commune.name)
        } else {
            title
        };
        let n = rng.gen_range(2..=3);
        let mut paragraphs: Vec<&String> = cat.paragraphs.choose_multiple(&mut rng, n).collect();
        paragraphs.shuffle(&mut rng);
        let description = paragraphs
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join("\n\n");
        let in_person = rng.gen_bool(0.9);
        let mut reception_modes = Vec::new();
        if in_person {
            reception_modes.push("en-presentiel".to_owned());
        }
        if !in_person || rng.gen_bool(0.3) {
            reception_modes.push("a-distance".to_owned());
        }
        let jitter = |rng: &mut StdRng| rng.gen_range(-0.006..0.006);
        let location = Location {
            address: Some(format!(
                "{} {}",
                rng.gen_range(1..80),
                STREETS.choose(&mut rng).expect("streets")
            )),
            address_complement: None,
            postcode: Some(org.commune.postcode.clone()),
            commune: Some(org.commune.name.clone()),
            commune_code: Some(org.commune.code.clone()),
            latitude: Some(((org.commune.latitude + jitter(&mut rng)) * 1e5).round() / 1e5),
            longitude: Some(((org.commune.longitude + jitter(&mut rng)) * 1e5).round() / 1e5),
        };
        let zone = match rng.gen_range(0..10) {
            0..=6 => vec!["89".to_owned()],
            7 | 8 => vec![org.commune.code.clone()],
            _ => vec!["france".to_owned()],
        };
        let languages_spoken = t
            .languages_spoken
            .iter()
            .filter(|l| rng.gen_bool(l.weight.clamp(0.0, 1.0)))
            .map(|l| l.code.clone())
            .collect();
        let slug: String = crate::catalogue::text::fold(&org.name)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|s| !s.is_empty())
            .take(4)
            .collect::<Vec<_>>()
            .join("-");
        let content = OfferContent {
            title,
            summary: cat.summaries.choose(&mut rng).cloned(),
            description,
            theme,
            topics,
            service_type: cat.service_types.choose(&mut rng).cloned(),
            audiences,
            audience_details: None,
            cost: Some(
                if rng.gen_bool(0.85) {
                    "gratuit"
                } else {
                    "payant"
                }
                .to_owned(),
            ),
            cost_details: None,
            access_conditions: None,
            mobilisation: Mobilisation {
                modes: vec!["telephoner".into(), "se-presenter".into()],
                mobilised_by: if rng.gen_bool(0.6) {
                    vec!["professionnels".into(), "usagers".into()]
                } else {
                    vec!["usagers".into()]
                },
                link: None,
                details: None,
            },
            reception_modes,
            locations: if in_person { vec![location] } else { vec![] },
            eligibility_zone: zone,
            opening_hours: t.opening_hours.choose(&mut rng).cloned(),
            languages_spoken,
            accessibility: Accessibility {
                step_free_access: Some(rng.gen_bool(0.7)),
                ..Accessibility::default()
            },
            contact: Contact {
                email: Some(format!("contact@{slug}.example.org")),
                // 01 99 00 xx xx: ARCEP's range reserved for fiction, never a real line.
                phone: Some(format!(
                    "01 99 00 {:02} {:02}",
                    rng.gen_range(0..100),
                    rng.gen_range(0..100)
                )),
            },
            professional_contact: None,
            website: Some(format!("https://{slug}.example.org")),
            validity: rng.gen_bool(0.05).then(|| {
                let start = today - chrono::Duration::days(30);
                Validity {
                    starts_on: start,
                    ends_on: start + chrono::Duration::days(rng.gen_range(60..240)),
                }
            }),
            update_frequency_months: *[3u8, 6, 6, 6, 12].choose(&mut rng).expect("frequencies"),
            translations: BTreeMap::new(),
        };
        let temporary_change = rng.gen_bool(0.05).then(|| {
            let template = t.temporary_changes.choose(&mut rng).expect("changes");
            SyntheticChange {
                starts_in_days: rng.gen_range(-10..10),
                days: template.days.max(1),
                kind: match (&template.kind[..], &template.opening_hours) {
                    ("changed_hours", Some(hours)) => ChangeKind::ChangedHours {
                        opening_hours: hours.clone(),
                    },
                    _ => ChangeKind::Closed,
                },
                message: template.message.clone(),
            }
        });
        list.push(SyntheticOffer {
            organisation,
            content,
            verified_days_ago: rng.gen_range(0..300),
            temporary_change,
        });
    }
    Catalogue {
        organisations: orgs,
        offers: list,
    }
}

/// Generates a data·inclusion v1 extract of `structures` structures and `services` services,
/// streamed to the two callbacks (so a 100,000-service file never sits in memory), always the
/// same for the same seed. Like real extracts it has flaws: about 1 % of the records break
/// the schema (unknown topic, too short a name, a malformed date), some opening hours are free
/// text, some services have no address of their own (their structure's applies), some
/// structures share a SIRET.
pub fn data_inclusion_extract(
    seed: u64,
    structures: usize,
    services: usize,
    reference: &ReferenceData,
    today: chrono::NaiveDate,
    mut on_structure: impl FnMut(super::data_inclusion::V1Structure),
    mut on_service: impl FnMut(super::data_inclusion::V1Service),
) {
    use super::data_inclusion::{service, structure};
    use crate::catalogue::{Offer, OfferStatus, OrganisationProfile};
    use crate::domain::*;

    const CHUNK: usize = 500;
    let structures = structures.max(1);
    let per_structure = services.div_ceil(structures).max(1);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed_da7a);
    let at = today.and_hms_opt(9, 0, 0).expect("valid time").and_utc();
    let source = "synthetique";
    let mut services_left = services;
    let mut first = 0;
    while first < structures {
        let count = CHUNK.min(structures - first);
        let wanted = (count * per_structure).min(services_left);
        let generated = catalogue(seed + first as u64, count, wanted.max(1), reference, today);
        for (i, org) in generated.organisations.iter().enumerate() {
            let n = first + i;
            let organisation = Organisation {
                id: OrganisationId(uuid::Uuid::from_u128(n as u128)),
                name: OrganisationName::parse(&org.name).expect("generated names are valid"),
                kind: OrganisationKind::Offerer,
                siret: None,
                created_at: at,
            };
            let profile = OrganisationProfile {
                description: Some(format!("{} accueille et oriente les habitants.", org.name)),
                address: Some(Location {
                    address: Some(format!("{} place de la Mairie", 1 + n % 40)),
                    address_complement: None,
                    postcode: Some(org.commune.postcode.clone()),
                    commune: Some(org.commune.name.clone()),
                    commune_code: Some(org.commune.code.clone()),
                    latitude: Some(org.commune.latitude),
                    longitude: Some(org.commune.longitude),
                }),
                networks: org.networks.clone(),
                opening_hours: Some("Mo-Fr 09:00-12:00,14:00-17:00".into()),
                ..OrganisationProfile::default()
            };
            let updated = at - chrono::Duration::days(rng.gen_range(0..400));
            let mut record = structure(
                &organisation,
                Some(&profile),
                updated,
                source,
                "https://exemple.invalid",
            );
            record.id = format!("structure-{n}");
            record.lien_source = Some(format!("https://exemple.invalid/structures/{n}"));
            if rng.gen_bool(0.3) {
                record.siret = Some(siret_for(n % (structures / 2 + 1)));
            }
            if rng.gen_bool(0.004) {
                record.nom = "X".into();
            }
            on_structure(record);
        }
        for (j, generated_offer) in generated.offers.into_iter().enumerate() {
            if services_left == 0 {
                break;
            }
            services_left -= 1;
            let n = services - services_left - 1;
            let structure_n = first + generated_offer.organisation;
            let offer = Offer {
                id: OfferId(uuid::Uuid::from_u128(n as u128)),
                organisation_id: OrganisationId(uuid::Uuid::from_u128(structure_n as u128)),
                organisation_name: String::new(),
                status: OfferStatus::Published,
                content: generated_offer.content,
                temporary_changes: Vec::new(),
                origin: None,
                review: None,
                version: 1,
                created_at: at,
                updated_at: at - chrono::Duration::days(rng.gen_range(0..400)),
                last_verified_at: at,
                published_at: Some(at),
            };
            let mut record = service(&offer, source, "https://exemple.invalid");
            record.id = format!("service-{n}");
            record.structure_id = format!("structure-{structure_n}");
            record.lien_source = Some(format!("https://exemple.invalid/services/{n}"));
            match (j + first) % 97 {
                0 => record.thematiques = Some(vec!["pas-une-thematique".into()]),
                1 => record.date_maj = "2026-02-30".into(),
                2 => record.horaires_accueil = Some("Le lundi matin, sur rendez-vous".into()),
                3..=5 => {
                    // No address of its own: the structure's applies.
                    record.adresse = None;
                    record.code_postal = None;
                    record.commune = None;
                    record.code_insee = None;
                    record.latitude = None;
                    record.longitude = None;
                }
                _ => {}
            }
            on_service(record);
        }
        first += count;
    }
}

/// A SIRET that passes the Luhn check, different for each `n`.
fn siret_for(n: usize) -> String {
    let base = format!("{:013}", 3_000_000_000_000_u64 + n as u64);
    (0..10)
        .map(|check| format!("{base}{check}"))
        .find(|candidate| crate::domain::Siret::parse(candidate).is_ok())
        .expect("one check digit satisfies Luhn")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_offers_are_valid_and_repeatable() {
        let reference = ReferenceData::builtin();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let a = catalogue(7, 20, 300, &reference, today);
        let b = catalogue(7, 20, 300, &reference, today);
        assert_eq!(a.offers.len(), 300);
        for (x, y) in a.offers.iter().zip(&b.offers) {
            assert_eq!(x.content.title, y.content.title);
        }
        let themes: std::collections::HashSet<&str> =
            a.offers.iter().map(|o| o.content.theme.as_str()).collect();
        assert_eq!(themes.len(), 3, "every theme is represented");
        for offer in &a.offers {
            offer
                .content
                .clone()
                .normalize(&reference)
                .unwrap_or_else(|e| panic!("{:?}: {e:?}", offer.content.title));
        }
        assert!(communes().len() >= 100);
    }
}
