//! A deterministic generator of realistic catalogues (cargo feature `synthetic`): French
//! offers written as kinds (a title always goes with a summary and paragraphs about the same
//! service), offerers of a kind that fits what they offer (no shelter run by a job-insertion
//! workshop), named after the communes of the Yonne, real commune codes and coordinates, phone
//! numbers of the Yonne's block, OpenStreetMap opening hours. The same seed always gives the
//! same catalogue, so the demo and the benchmarks are repeatable.
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
#[serde(deny_unknown_fields)]
struct Category {
    topics: Vec<String>,
    audiences: Vec<String>,
    service_types: Vec<String>,
    kinds: Vec<OfferKind>,
}

/// One kind of offer: any of its titles reads true with any of its summaries and paragraphs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OfferKind {
    titles: Vec<String>,
    summaries: Vec<String>,
    paragraphs: Vec<String>,
    /// A subset of the category's topics; all of them when absent.
    topics: Option<Vec<String>>,
    /// Who the text is written for; the category's audiences when absent.
    audiences: Option<Vec<String>>,
    service_types: Option<Vec<String>>,
    /// `payant` when the text says the service is paid for; free otherwise.
    cost: Option<String>,
    /// A place whose address must stay hidden (a shelter for women victims of violence).
    #[serde(default)]
    confidential_address: bool,
}

/// A kind of offerer and what it may offer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganisationKind {
    names: Vec<String>,
    /// Category keys (every topic of the category) or full topic values (that topic only).
    serves: Vec<String>,
    /// The only audiences it serves, when it has such a limit (a mission locale: jeunes).
    #[serde(default)]
    audiences: Vec<String>,
    networks: Vec<String>,
}

impl OrganisationKind {
    fn serves_topic(&self, topic: &str) -> bool {
        let category = topic.split("--").next().unwrap_or(topic);
        self.serves.iter().any(|s| s == category || s == topic)
    }
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
#[serde(deny_unknown_fields)]
struct Templates {
    categories: BTreeMap<String, Category>,
    practical_paragraphs: Vec<String>,
    organisations: BTreeMap<String, OrganisationKind>,
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
    /// Its kind, a key of `organisations` in offer-templates.yml ("ccas", "mission-locale"…).
    pub kind: String,
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

/// Streets of a town: boulevards and avenues read wrong in a village.
const TOWN_STREETS: &[&str] = &[
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

const VILLAGE_STREETS: &[&str] = &[
    "Grande Rue",
    "place de la Mairie",
    "rue de l’Église",
    "rue des Écoles",
    "rue du Moulin",
    "place du Marché",
    "rue de la Gare",
    "chemin des Vignes",
    "rue du Lavoir",
    "rue de la Fontaine",
];

/// Below this population a commune is a village (the Yonne's small communes are many).
const TOWN_POPULATION: u32 = 3_000;

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

/// An offer kind with the category it belongs to.
struct KindRef<'a> {
    category: &'a str,
    cat: &'a Category,
    kind: &'a OfferKind,
}

impl Templates {
    /// Every offer kind of every category, in the file's order.
    fn kinds(&self) -> Vec<KindRef<'_>> {
        self.categories
            .iter()
            .flat_map(|(category, cat)| {
                cat.kinds.iter().map(move |kind| KindRef {
                    category,
                    cat,
                    kind,
                })
            })
            .collect()
    }
}

impl KindRef<'_> {
    fn topics(&self) -> &[String] {
        self.kind.topics.as_deref().unwrap_or(&self.cat.topics)
    }

    fn audiences(&self) -> &[String] {
        self.kind
            .audiences
            .as_deref()
            .unwrap_or(&self.cat.audiences)
    }

    /// Whether an offerer of this kind may run it: it serves one of its topics and, if it
    /// serves only some people, the text is not written for others.
    fn fits(&self, org: &OrganisationKind) -> bool {
        self.topics().iter().any(|t| org.serves_topic(t))
            && (org.audiences.is_empty()
                || self.kind.audiences.is_none()
                || self.audiences().iter().any(|a| org.audiences.contains(a)))
    }
}

/// A catalogue of `offers` offers spread over `organisations` offerers, always the same for
/// the same seed. Each offer is run by an offerer whose kind serves it; when there are at
/// least as many offers as offerers, every offerer has at least one.
pub fn catalogue(
    seed: u64,
    organisations: usize,
    offers: usize,
    reference: &ReferenceData,
    today: chrono::NaiveDate,
) -> Catalogue {
    assert!(
        organisations > 0 || offers == 0,
        "offers need at least one organisation"
    );
    let t = templates();
    let communes = communes();
    let total: u64 = communes.iter().map(|c| u64::from(c.population)).sum();
    let mut rng = StdRng::seed_from_u64(seed);

    // Name patterns are dealt from a shuffled deck, so a small catalogue (the demo's 24
    // offerers) gets many different kinds of offerer rather than three CCAS.
    let patterns: Vec<(&String, &String)> = t
        .organisations
        .iter()
        .flat_map(|(kind, k)| k.names.iter().map(move |n| (kind, n)))
        .collect();
    let mut deck: Vec<(&String, &String)> = Vec::new();
    let mut names = std::collections::HashSet::new();
    let mut orgs = Vec::with_capacity(organisations);
    while orgs.len() < organisations {
        if deck.is_empty() {
            deck = patterns.clone();
            deck.shuffle(&mut rng);
        }
        let (kind, pattern) = deck.pop().expect("a non-empty deck");
        let commune = weighted_commune(&mut rng, &communes, total).clone();
        let mut name = pattern
            .replace("{de_commune}", &de(&commune.name))
            .replace("{commune}", &commune.name);
        if !names.insert(name.clone()) {
            name = format!("{name} ({})", orgs.len() + 1);
            names.insert(name.clone());
        }
        let org_kind = &t.organisations[kind];
        let n = rng.gen_range(0..=1).min(org_kind.networks.len());
        let networks = org_kind
            .networks
            .choose_multiple(&mut rng, n)
            .cloned()
            .collect();
        orgs.push(SyntheticOrganisation {
            name,
            kind: kind.clone(),
            commune,
            networks,
        });
    }

    let kinds = t.kinds();
    // Which offerers may run each offer kind.
    let runners: Vec<Vec<usize>> = kinds
        .iter()
        .map(|k| {
            (0..orgs.len())
                .filter(|&o| k.fits(&t.organisations[&orgs[o].kind]))
                .collect()
        })
        .collect();
    // The categories this catalogue's offerers can serve, each with the kinds they can run.
    let mut by_category: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, k) in kinds.iter().enumerate() {
        if !runners[i].is_empty() {
            by_category.entry(k.category).or_default().push(i);
        }
    }
    let by_category: Vec<Vec<usize>> = by_category.into_values().collect();
    // Round-robin position per offer kind, so its offers spread over all who may run it.
    let mut turn = vec![0usize; kinds.len()];

    let mut list = Vec::with_capacity(offers);
    for i in 0..offers {
        let (organisation, k) = if i < orgs.len() {
            // First, one offer for each offerer, so none is left empty.
            let fitting: Vec<usize> = (0..kinds.len())
                .filter(|&k| runners[k].contains(&i))
                .collect();
            let k = *fitting
                .choose(&mut rng)
                .expect("every organisation kind serves some offer kind (tested)");
            (i, k)
        } else {
            let category = by_category.choose(&mut rng).expect("served categories");
            let k = *category.choose(&mut rng).expect("kinds");
            let organisation = runners[k][turn[k] % runners[k].len()];
            turn[k] += 1;
            (organisation, k)
        };
        let org = &orgs[organisation];
        let org_kind = &t.organisations[&org.kind];
        let kind = &kinds[k];
        let cat = kind.cat;
        let kind_ref = kind;
        let kind = kind.kind;

        let served: Vec<&String> = kind_ref
            .topics()
            .iter()
            .filter(|topic| org_kind.serves_topic(topic))
            .collect();
        let n = rng.gen_range(1..=served.len().min(3));
        let mut topics: Vec<String> = served
            .choose_multiple(&mut rng, n)
            .map(|t| (*t).clone())
            .collect();
        topics.sort();
        let theme = reference
            .theme_for_topic(&topics[0])
            .or_else(|| reference.themes().first().map(|t| t.code.as_str()))
            .unwrap_or_default()
            .to_owned();
        // Open to all only when neither the text nor the offerer names its public.
        let audiences =
            if kind.audiences.is_none() && org_kind.audiences.is_empty() && rng.gen_bool(0.2) {
                vec!["tous-publics".to_owned()]
            } else {
                let written_for = kind_ref.audiences();
                let mut pool: Vec<&String> = if org_kind.audiences.is_empty() {
                    written_for.iter().collect()
                } else {
                    written_for
                        .iter()
                        .filter(|a| org_kind.audiences.contains(a))
                        .collect()
                };
                if pool.is_empty() {
                    // A text written for anyone, at an offerer that serves some people only.
                    pool = org_kind.audiences.iter().collect();
                }
                let n = rng.gen_range(1..=pool.len().min(2));
                let mut a: Vec<String> = pool
                    .choose_multiple(&mut rng, n)
                    .map(|a| (*a).clone())
                    .collect();
                a.sort();
                a
            };
        let title = kind.titles.choose(&mut rng).expect("titles").clone();
        let title = if rng.gen_bool(0.5) {
            format!("{title} – {}", org.commune.name)
        } else {
            title
        };
        let summary = kind.summaries.choose(&mut rng).cloned();
        let mut paragraphs: Vec<&str> = kind.paragraphs.iter().map(String::as_str).collect();
        if rng.gen_bool(0.4) {
            paragraphs.push(t.practical_paragraphs.choose(&mut rng).expect("practical"));
        }
        let description = paragraphs.join("\n\n");
        let in_person = rng.gen_bool(0.9);
        let mut reception_modes = Vec::new();
        if in_person {
            reception_modes.push("en-presentiel".to_owned());
        }
        if !in_person || rng.gen_bool(0.3) {
            reception_modes.push("a-distance".to_owned());
        }
        let jitter = |rng: &mut StdRng| rng.gen_range(-0.006..0.006);
        let streets = if org.commune.population >= TOWN_POPULATION {
            TOWN_STREETS
        } else {
            VILLAGE_STREETS
        };
        let location = Location {
            address: Some(format!(
                "{} {}",
                rng.gen_range(1..80),
                streets.choose(&mut rng).expect("streets")
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
            summary,
            description,
            theme,
            topics,
            service_type: kind
                .service_types
                .as_ref()
                .unwrap_or(&cat.service_types)
                .choose(&mut rng)
                .cloned(),
            audiences,
            audience_details: None,
            cost: Some(kind.cost.clone().unwrap_or_else(|| "gratuit".to_owned())),
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
                // A French number is ten digits; 03 86 is the Yonne's geographic block, so
                // the demo reads local. The last six digits are random and may be a real
                // subscriber's line: the demo is never to be used to call anyone (see
                // PROVENANCE.md).
                phone: Some(format!(
                    "03 86 {:02} {:02} {:02}",
                    rng.gen_range(0..100),
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
            confidential_address: kind.confidential_address,
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
    use crate::catalogue::ListKind;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    /// "03 86 12 34 56": ten digits in pairs, single spaces, in the Yonne's block.
    fn is_yonne_phone(phone: &str) -> bool {
        phone.strip_prefix("03 86").is_some_and(|rest| {
            rest.len() == 9
                && rest.as_bytes().chunks(3).all(|pair| {
                    pair[0] == b' ' && pair[1].is_ascii_digit() && pair[2].is_ascii_digit()
                })
        })
    }

    #[test]
    fn the_phone_check_refuses_other_numbers() {
        assert!(is_yonne_phone("03 86 12 34 56"));
        for wrong in [
            "01 99 00 12 34",
            "03 85 12 34 56",
            "03 86 12 34 5",
            "03 86 12 34 567",
            "03 86 12 34 56 78",
            "03 86 12 34  56",
            "03.86.12.34.56",
            "03 86 12 3a 56",
        ] {
            assert!(!is_yonne_phone(wrong), "{wrong}");
        }
    }

    #[test]
    fn generated_offers_are_valid_and_repeatable() {
        let reference = ReferenceData::builtin();
        let a = catalogue(7, 20, 300, &reference, today());
        let b = catalogue(7, 20, 300, &reference, today());
        assert_eq!(a.offers.len(), 300);
        assert_eq!(a.organisations, b.organisations);
        assert_eq!(a.offers, b.offers);
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

    #[test]
    fn every_template_code_is_in_the_reference_lists() {
        let reference = ReferenceData::builtin();
        let t = templates();
        let check = |kind: ListKind, code: &str, at: &str| {
            assert!(
                reference.contains(kind, code),
                "{at}: {code} is no {kind:?}"
            );
        };
        for (key, cat) in &t.categories {
            assert!(!cat.kinds.is_empty(), "{key}");
            for topic in &cat.topics {
                assert!(topic.starts_with(&format!("{key}--")), "{key}: {topic}");
                check(ListKind::Topics, topic, key);
            }
            for kind in &cat.kinds {
                let at = &format!("{key}: {:?}", kind.titles);
                assert!(
                    !kind.titles.is_empty()
                        && !kind.summaries.is_empty()
                        && !kind.paragraphs.is_empty(),
                    "{at}"
                );
                for topic in kind.topics.iter().flatten() {
                    assert!(cat.topics.contains(topic), "{at}: {topic}");
                }
                for audience in kind.audiences.iter().flatten().chain(&cat.audiences) {
                    assert_ne!(audience, "tous-publics", "{at}");
                    check(ListKind::Audiences, audience, at);
                }
                for service_type in kind
                    .service_types
                    .iter()
                    .flatten()
                    .chain(&cat.service_types)
                {
                    check(ListKind::ServiceTypes, service_type, at);
                }
                if let Some(cost) = &kind.cost {
                    check(ListKind::Costs, cost, at);
                }
            }
        }
        for (key, org) in &t.organisations {
            for served in &org.serves {
                let category = served.split("--").next().unwrap_or(served);
                let cat = t
                    .categories
                    .get(category)
                    .unwrap_or_else(|| panic!("{key}: no category {category}"));
                assert!(
                    served == category || cat.topics.contains(served),
                    "{key}: {served}"
                );
            }
            for audience in &org.audiences {
                check(ListKind::Audiences, audience, key);
            }
            for network in &org.networks {
                check(ListKind::Networks, network, key);
            }
            for name in &org.names {
                assert!(
                    name.contains("{commune}") || name.contains("{de_commune}"),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn every_offerer_kind_can_run_some_offer_and_every_offer_has_a_runner() {
        let t = templates();
        let kinds = t.kinds();
        for (key, org) in &t.organisations {
            assert!(kinds.iter().any(|k| k.fits(org)), "{key} runs nothing");
        }
        for k in &kinds {
            assert!(
                t.organisations.values().any(|org| k.fits(org)),
                "nobody runs {:?}",
                k.kind.titles
            );
        }
    }

    /// What a social worker would notice: the title, summary and paragraphs describe the same
    /// service; the offerer is of a kind that runs such a service, for such people; the phone
    /// number is the Yonne's; the address is in the offerer's commune.
    #[test]
    fn generated_offers_read_true() {
        let reference = ReferenceData::builtin();
        let t = templates();
        for (seed, organisations, offers) in [(7, 20, 300), (89, 24, 240), (2026, 500, 3000)] {
            let generated = catalogue(seed, organisations, offers, &reference, today());
            let mut served = vec![0; organisations];
            for offer in &generated.offers {
                let c = &offer.content;
                let org = &generated.organisations[offer.organisation];
                served[offer.organisation] += 1;
                let category = c.topics[0].split("--").next().unwrap();
                let cat = &t.categories[category];
                let bare_title = c
                    .title
                    .strip_suffix(&format!(" – {}", org.commune.name))
                    .unwrap_or(&c.title);
                let kind = cat
                    .kinds
                    .iter()
                    .find(|k| k.titles.iter().any(|x| x == bare_title))
                    .unwrap_or_else(|| panic!("{category}: no kind titled {bare_title:?}"));
                let summary = c.summary.as_ref().unwrap();
                assert!(
                    kind.summaries.contains(summary),
                    "{bare_title:?} does not go with {summary:?}"
                );
                for paragraph in c.description.split("\n\n") {
                    assert!(
                        kind.paragraphs.iter().any(|p| p == paragraph)
                            || t.practical_paragraphs.iter().any(|p| p == paragraph),
                        "{bare_title:?} does not go with {paragraph:?}"
                    );
                }
                assert!(
                    c.description.starts_with(&kind.paragraphs[0]),
                    "{bare_title:?}: its own text comes first"
                );
                let org_kind = &t.organisations[&org.kind];
                for topic in &c.topics {
                    assert!(
                        org_kind.serves_topic(topic),
                        "{} ({}) does not offer {topic}: {bare_title:?}",
                        org.name,
                        org.kind
                    );
                }
                if !org_kind.audiences.is_empty() {
                    for audience in &c.audiences {
                        assert!(
                            org_kind.audiences.contains(audience),
                            "{} does not serve {audience}",
                            org.name
                        );
                    }
                }
                if let Some(written_for) = &kind.audiences {
                    assert!(
                        c.audiences.iter().all(|a| written_for.contains(a)),
                        "{bare_title:?} is not for {:?}",
                        c.audiences
                    );
                }
                let phone = c.contact.phone.as_deref().unwrap();
                assert!(is_yonne_phone(phone), "{phone}");
                for location in &c.locations {
                    assert_eq!(location.commune.as_ref(), Some(&org.commune.name));
                    assert_eq!(location.postcode.as_ref(), Some(&org.commune.postcode));
                    assert!(location.postcode.as_ref().unwrap().starts_with("89"));
                }
            }
            assert!(
                served.iter().all(|&n| n > 0),
                "seed {seed}: an offerer has no offer"
            );
        }
    }

    #[test]
    fn organisation_names_read_right_with_their_commune() {
        assert_eq!(de("Auxerre"), "d’Auxerre");
        assert_eq!(de("Sens"), "de Sens");
        assert_eq!(de("Héry"), "d’Héry");
        assert_eq!(de("Le Val d’Ocre"), "du Val d’Ocre");
        assert_eq!(de("Les Ormes"), "des Ormes");
        let generated = catalogue(89, 60, 60, &ReferenceData::builtin(), today());
        for org in &generated.organisations {
            assert!(
                org.name.contains(&org.commune.name),
                "{} is not in {}",
                org.name,
                org.commune.name
            );
            assert!(!org.name.contains('{'), "{}", org.name);
        }
    }

    #[test]
    fn the_benchmark_catalogue_keeps_its_variety() {
        let generated = catalogue(2026, 500, 5000, &ReferenceData::builtin(), today());
        let titles: std::collections::HashSet<&str> = generated
            .offers
            .iter()
            .map(|o| o.content.title.split(" – ").next().unwrap())
            .collect();
        let descriptions: std::collections::HashSet<&str> = generated
            .offers
            .iter()
            .map(|o| o.content.description.as_str())
            .collect();
        assert!(titles.len() >= 191, "{} distinct titles", titles.len());
        assert!(
            descriptions.len() >= 300,
            "{} distinct descriptions",
            descriptions.len()
        );
    }
}
