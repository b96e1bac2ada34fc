//! The communes of France (INSEE's official list, with postcodes, EPCI and a centre point),
//! shipped with PEPS: see `data/places/PROVENANCE.md`. People name places as they say them
//! ("st florentin", "Sens", "89100"); offers and filters store INSEE codes. This module turns
//! one into the other, and tells which EPCI a commune belongs to, so an offer reserved to an
//! EPCI's inhabitants matches a person's commune.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::catalogue::text::fold;

const COMMUNES_TSV: &str = include_str!("../data/places/communes.tsv");
const DEPARTEMENTS_TSV: &str = include_str!("../data/places/departements.tsv");

/// The département a reader means: its code (`89`, `2a`) or its name as people write it
/// (`Yonne`, `cote d'or`, `Seine-Saint-Denis`).
pub fn departement(text: &str) -> Option<&'static str> {
    static BY_KEY: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
        let mut map = HashMap::new();
        for line in DEPARTEMENTS_TSV.lines().skip(1) {
            if let Some((code, name)) = line.split_once('\t') {
                map.insert(name_key(code), code);
                map.insert(name_key(name), code);
            }
        }
        map
    });
    BY_KEY.get(&name_key(text)).copied()
}

/// A commune (or a municipal arrondissement of Paris, Lyon or Marseille).
#[derive(Debug, Clone, PartialEq)]
pub struct Commune {
    /// INSEE code (`89387`, `2A004`).
    pub code: String,
    pub name: String,
    pub departement: String,
    pub postcodes: Vec<String>,
    /// SIREN of the EPCI the commune belongs to.
    pub epci: Option<String>,
    /// Where the commune is, as a point (see PROVENANCE.md for where it comes from); `None`
    /// when no source places it with certainty.
    pub centre: Option<(f64, f64)>,
    pub centre_source: CentreSource,
    pub population: u32,
}

/// Where a commune's centre point comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CentreSource {
    /// GeoNames' point for the town (or its chef-lieu's, for a commune nouvelle).
    Surveyed,
    /// The mean of the surveyed points sharing a postcode with it (see
    /// `derive_missing_centres`).
    Postcode,
    None,
}

/// Every commune, searchable by code, name and postcode.
pub struct Communes {
    all: Vec<Commune>,
    by_code: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
    by_postcode: HashMap<String, Vec<usize>>,
}

/// The communes shipped with PEPS, read once on first use.
pub fn communes() -> &'static Communes {
    static COMMUNES: LazyLock<Communes> = LazyLock::new(|| Communes::parse(COMMUNES_TSV));
    &COMMUNES
}

/// How a commune's name is compared: case, accents, hyphens and apostrophes do not matter,
/// and "st"/"ste" stand for "saint"/"sainte" ("St-Florentin" = "saint florentin").
pub fn name_key(name: &str) -> String {
    fold(name)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "st" => "saint",
            "ste" => "sainte",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Communes {
    fn parse(tsv: &str) -> Communes {
        let mut all = Vec::with_capacity(40_000);
        for line in tsv.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            let [
                code,
                name,
                departement,
                postcodes,
                epci,
                lat,
                lon,
                population,
                ..,
            ] = cols[..]
            else {
                continue;
            };
            let centre = match (lat.parse::<f64>(), lon.parse::<f64>()) {
                (Ok(lat), Ok(lon)) => Some((lat, lon)),
                _ => None,
            };
            all.push(Commune {
                code: code.to_owned(),
                name: name.to_owned(),
                departement: departement.to_owned(),
                postcodes: postcodes.split_whitespace().map(str::to_owned).collect(),
                epci: (!epci.is_empty()).then(|| epci.to_owned()),
                centre,
                centre_source: if centre.is_some() {
                    CentreSource::Surveyed
                } else {
                    CentreSource::None
                },
                population: population.parse().unwrap_or(0),
            });
        }
        derive_missing_centres(&mut all);
        let mut by_code = HashMap::with_capacity(all.len());
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::with_capacity(all.len());
        let mut by_postcode: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, c) in all.iter().enumerate() {
            by_code.insert(c.code.clone(), i);
            by_name.entry(name_key(&c.name)).or_default().push(i);
            for postcode in &c.postcodes {
                by_postcode.entry(postcode.clone()).or_default().push(i);
            }
        }
        // Homonyms: the most populous first.
        for list in by_name.values_mut().chain(by_postcode.values_mut()) {
            list.sort_by_key(|&i| std::cmp::Reverse(all[i].population));
        }
        Communes {
            all,
            by_code,
            by_name,
            by_postcode,
        }
    }

    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    pub fn get(&self, code: &str) -> Option<&Commune> {
        self.by_code.get(code).map(|&i| &self.all[i])
    }

    /// The commune's centre point, if known.
    pub fn centre(&self, code: &str) -> Option<(f64, f64)> {
        self.get(code)?.centre
    }

    /// The SIREN of the commune's EPCI.
    pub fn epci_of(&self, code: &str) -> Option<&str> {
        self.get(code)?.epci.as_deref()
    }

    /// The communes a person means by `text`: a postcode (every commune it serves), an INSEE
    /// code, or a name (every commune of that name, most populous first). Five digits are a
    /// postcode first: people know theirs, rarely an INSEE code, and some 3,000 numbers are
    /// both ("89100" is Sens's postcode and Chéroy's INSEE code). A name may be narrowed by
    /// a département or a postcode after it: "Sainte-Colombe (89)", "Sainte-Colombe 89",
    /// "Sens 89100".
    pub fn find(&self, text: &str) -> Vec<&Commune> {
        let text = text.trim();
        let pick = |ids: &[usize]| ids.iter().map(|&i| &self.all[i]).collect::<Vec<_>>();
        if let Some(ids) = self.by_postcode.get(text) {
            return pick(ids);
        }
        if let Some(c) = self.get(&text.to_uppercase()) {
            return vec![c];
        }
        let key = name_key(text);
        if let Some(ids) = self.by_name.get(&key) {
            return pick(ids);
        }
        // "<name> <département or postcode>"
        if let Some((name, narrow)) = key.rsplit_once(' ')
            && let Some(ids) = self.by_name.get(name)
        {
            let narrow = narrow.to_uppercase();
            return pick(ids)
                .into_iter()
                .filter(|c| c.departement == narrow || c.postcodes.contains(&narrow))
                .collect();
        }
        Vec::new()
    }
}

/// GeoNames places only communes of some 500 inhabitants or more (see PROVENANCE.md). A
/// commune it leaves out gets the mean of the points of the communes sharing one of its
/// postcodes: a postcode is one post office's round, a few kilometres across, so the point
/// lands near the commune — close enough for "within 10 km", and marked as derived.
fn derive_missing_centres(all: &mut [Commune]) {
    let mut sums: HashMap<&str, (f64, f64, u32)> = HashMap::new();
    for c in all
        .iter()
        .filter(|c| c.centre_source == CentreSource::Surveyed)
    {
        let (lat, lon) = c.centre.expect("surveyed communes have a point");
        for postcode in &c.postcodes {
            let sum = sums.entry(postcode.as_str()).or_default();
            *sum = (sum.0 + lat, sum.1 + lon, sum.2 + 1);
        }
    }
    let derived: Vec<Option<(f64, f64)>> = all
        .iter()
        .map(|c| {
            if c.centre.is_some() {
                return None;
            }
            let (lat, lon, n) = c
                .postcodes
                .iter()
                .filter_map(|p| sums.get(p.as_str()))
                .fold((0.0, 0.0, 0), |a, s| (a.0 + s.0, a.1 + s.1, a.2 + s.2));
            (n > 0).then(|| (lat / f64::from(n), lon / f64::from(n)))
        })
        .collect();
    for (c, point) in all.iter_mut().zip(derived) {
        if let Some(point) = point {
            c.centre = Some(point);
            c.centre_source = CentreSource::Postcode;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_holds_all_of_france() {
        let all = communes();
        assert!(all.len() > 34_000, "{}", all.len());
        for (code, name) in [
            ("89387", "Sens"),
            ("89345", "Saint-Florentin"),
            ("75056", "Paris"),
            ("2A004", "Ajaccio"),
            ("97411", "Saint-Denis"),
        ] {
            assert_eq!(all.get(code).map(|c| c.name.as_str()), Some(name), "{code}");
        }
    }

    #[test]
    fn names_are_found_as_people_write_them() {
        let all = communes();
        for typed in [
            "Saint-Florentin",
            "st florentin",
            "SAINT FLORENTIN",
            "St-Florentin",
        ] {
            let found: Vec<&str> = all.find(typed).iter().map(|c| c.code.as_str()).collect();
            // The Yonne's, then the Indre's smaller one.
            assert_eq!(found, ["89345", "36191"], "{typed}");
        }
        assert_eq!(all.find("saint florentin 89")[0].code, "89345");
        assert_eq!(all.find("sens")[0].code, "89387");
        assert_eq!(all.find("89387")[0].name, "Sens");
    }

    #[test]
    fn homonyms_come_most_populous_first_and_can_be_narrowed() {
        let all = communes();
        let saint_denis = all.find("Saint-Denis");
        assert!(saint_denis.len() > 1);
        assert!(
            saint_denis
                .windows(2)
                .all(|w| w[0].population >= w[1].population)
        );
        let in_yonne = all.find("Sainte-Colombe (89)");
        assert!(!in_yonne.is_empty());
        assert!(in_yonne.iter().all(|c| c.departement == "89"));
    }

    #[test]
    fn a_postcode_finds_every_commune_it_serves() {
        // 89100 is also Chéroy's INSEE code: a person means the postcode.
        let found = communes().find("89100");
        assert_eq!(found[0].code, "89387", "Sens first, the most populous");
        assert!(found.len() > 1);
        assert!(
            found
                .iter()
                .all(|c| c.postcodes.contains(&"89100".to_owned()))
        );
    }

    #[test]
    fn nearly_every_commune_is_placed() {
        let all = &communes().all;
        let placed = all.iter().filter(|c| c.centre.is_some()).count();
        // 41 % surveyed, the rest but a few hundred derived from their postcode.
        assert!(placed * 100 / all.len() >= 95, "{placed} of {}", all.len());
        let derived = all
            .iter()
            .filter(|c| c.centre_source == CentreSource::Postcode)
            .count();
        assert!(derived > 10_000);
    }

    #[test]
    fn a_derived_centre_lands_near_the_commune() {
        // Les Ormes (89281, postcode 89110, 281 inhabitants) is too small for GeoNames; its
        // territory's boundary passes by 47.857, 3.279 (IGN).
        let c = communes().get("89281").unwrap();
        assert_eq!(c.centre_source, CentreSource::Postcode);
        let d = crate::catalogue::search::geo::distance_km(c.centre.unwrap(), (47.857, 3.279));
        assert!(d < 15.0, "{d} km");
    }

    #[test]
    fn departements_by_code_or_name() {
        assert_eq!(departement("Yonne"), Some("89"));
        assert_eq!(departement("YONNE"), Some("89"));
        assert_eq!(departement("cote d or"), Some("21"));
        assert_eq!(departement("2a"), Some("2A"));
        assert_eq!(departement("976"), Some("976"));
        assert_eq!(departement("Gondwana"), None);
    }

    #[test]
    fn an_unknown_place_is_nothing() {
        assert!(communes().find("Atlantide").is_empty());
        assert!(communes().find("").is_empty());
    }

    #[test]
    fn communes_know_their_epci_and_centre() {
        let all = communes();
        assert!(all.epci_of("89387").is_some_and(|s| s.len() == 9));
        let (lat, lon) = all.centre("89387").expect("Sens is placed");
        assert!((48.0..48.4).contains(&lat) && (3.1..3.5).contains(&lon));
    }
}
