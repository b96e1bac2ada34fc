//! One glossary per language (`glossary/<code>.yml`), applied to every string of that
//! language's locale file, and every translation marked machine-assisted.
//!
//! `glossary/fr.yml` holds the French words and the forms that find them in `fr.yml`; every
//! other glossary gives, for each of those terms, the one rendering its language uses (`forms`
//! that count as using it, `avoid` for renderings that must no longer appear). See
//! docs/architecture.md (Languages).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use peps_core::domain::Language;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Glossary {
    language: String,
    provenance: String,
    reviewed: bool,
    terms: BTreeMap<String, Term>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Term {
    term: String,
    forms: Vec<String>,
    #[serde(default)]
    avoid: Vec<String>,
    /// Why this rendering (translated glossaries).
    #[serde(default)]
    why: Option<String>,
    /// What the word names (French glossary).
    #[serde(default)]
    means: Option<String>,
    /// Keys where the French word has another sense and the term does not apply.
    #[serde(default)]
    not_this_sense: Vec<String>,
}

fn path(parts: &[&str]) -> PathBuf {
    parts
        .iter()
        .fold(PathBuf::from(env!("CARGO_MANIFEST_DIR")), |p, part| {
            p.join(part)
        })
}

fn read(parts: &[&str]) -> String {
    let path = path(parts);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn glossary(code: &str) -> Glossary {
    let file = format!("{code}.yml");
    serde_yaml::from_str(&read(&["glossary", &file]))
        .unwrap_or_else(|e| panic!("glossary/{file} does not parse: {e}"))
}

fn locale(code: &str) -> BTreeMap<String, String> {
    let file = format!("{code}.yml");
    let map: BTreeMap<String, serde_yaml::Value> = serde_yaml::from_str(&read(&["locales", &file]))
        .unwrap_or_else(|e| panic!("locales/{file} does not parse: {e}"));
    map.into_iter()
        .filter_map(|(k, v)| Some((k, v.as_str()?.to_owned())))
        .collect()
}

fn codes() -> Vec<String> {
    Language::all().iter().map(|l| l.code.clone()).collect()
}

/// Unicode lowercase, without the combining dot that lowercasing the Turkish capital "İ" leaves
/// ("İşlem" lowercases to "i\u{307}şlem", which would not contain "işlem").
fn norm(text: &str) -> String {
    text.to_lowercase().replace('\u{307}', "")
}

/// Whether `needle` starts a word of `hay`: French "offre" must not match "coffre".
fn at_word_start(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(i, _)| {
        hay[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric())
    })
}

#[test]
fn every_language_has_a_glossary_with_its_provenance() {
    let reference = glossary(Language::REFERENCE);
    assert_eq!(reference.language, "fr");
    assert_eq!(reference.provenance, "original", "glossary/fr.yml");
    assert!(!reference.terms.is_empty(), "glossary/fr.yml has no term");
    for (id, term) in &reference.terms {
        assert!(!term.term.trim().is_empty(), "fr: {id} has no term");
        assert!(term.means.is_some(), "fr: {id} does not say what it means");
    }
    let mut expected: BTreeSet<String> = codes().into_iter().map(|c| format!("{c}.yml")).collect();
    for code in codes().iter().filter(|c| *c != Language::REFERENCE) {
        let g = glossary(code);
        assert_eq!(
            &g.language, code,
            "glossary/{code}.yml names another language"
        );
        // Every translation is machine-assisted until a native speaker reviews it; the field
        // stays so that a review can be recorded without changing the format.
        assert_eq!(g.provenance, "machine-assisted", "glossary/{code}.yml");
        let _reviewed: bool = g.reviewed;
        let ids: BTreeSet<_> = g.terms.keys().collect();
        let reference_ids: BTreeSet<_> = reference.terms.keys().collect();
        assert_eq!(
            ids, reference_ids,
            "{code}: not the terms of glossary/fr.yml"
        );
        for (id, term) in &g.terms {
            assert!(!term.term.trim().is_empty(), "{code}: {id} has no term");
            assert!(
                !term.forms.is_empty() && term.forms.iter().all(|f| !f.trim().is_empty()),
                "{code}: {id} needs non-empty forms"
            );
            assert!(
                term.avoid.iter().all(|a| !a.trim().is_empty()),
                "{code}: {id} has an empty avoid entry"
            );
            assert!(
                term.why.as_deref().is_some_and(|w| !w.trim().is_empty()),
                "{code}: {id} does not say why"
            );
        }
    }
    // No glossary for a language PEPS does not offer (a typo in a file name would be ignored).
    for entry in std::fs::read_dir(path(&["glossary"])).expect("glossary/ exists") {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(expected.remove(&name), "glossary/{name}: no such language");
    }
    assert!(expected.is_empty(), "missing glossaries: {expected:?}");
}

#[test]
fn every_string_uses_its_languages_glossary() {
    let reference = glossary(Language::REFERENCE);
    let french = locale(Language::REFERENCE);
    // For each term, the French keys it applies to.
    let mut uses: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, term) in &reference.terms {
        let keys: Vec<&str> = french
            .iter()
            .filter(|(key, _)| !term.not_this_sense.contains(key))
            .filter(|(_, value)| {
                let value = norm(value);
                term.forms.iter().any(|f| at_word_start(&value, &norm(f)))
            })
            .map(|(key, _)| key.as_str())
            .collect();
        // A term that matches nothing means its French forms no longer match fr.yml, and the
        // check below would pass without checking anything.
        assert!(!keys.is_empty(), "fr: no string uses the term {id}");
        for key in &term.not_this_sense {
            assert!(french.contains_key(key), "fr: {id}: unknown key {key}");
        }
        for (key, value) in &french {
            for avoid in &term.avoid {
                assert!(
                    !norm(value).contains(&norm(avoid)),
                    "fr: {key} uses \"{avoid}\" instead of \"{}\"",
                    term.term
                );
            }
        }
        uses.insert(id, keys);
    }

    let mut failures = Vec::new();
    for code in codes().iter().filter(|c| *c != Language::REFERENCE) {
        let g = glossary(code);
        let strings = locale(code);
        for (id, keys) in &uses {
            let term = &g.terms[*id];
            let forms: Vec<String> = term.forms.iter().map(|f| norm(f)).collect();
            let avoid: Vec<String> = term.avoid.iter().map(|a| norm(a)).collect();
            for key in keys {
                let Some(value) = strings.get(*key) else {
                    failures.push(format!("{code}: {key} is missing"));
                    continue;
                };
                let value = norm(value);
                if !forms.iter().any(|f| value.contains(f.as_str())) {
                    failures.push(format!(
                        "{code}: {key} does not use \"{}\" ({id}): {value}",
                        term.term
                    ));
                }
                for a in avoid.iter().filter(|a| value.contains(a.as_str())) {
                    failures.push(format!(
                        "{code}: {key} uses \"{a}\" instead of \"{}\" ({id}): {value}",
                        term.term
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} strings break their glossary:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_translation_is_marked_machine_assisted() {
    for code in codes().iter().filter(|c| *c != Language::REFERENCE) {
        let file = format!("{code}.yml");
        let text = read(&["locales", &file]);
        let expected = format!(
            "# Machine-assisted translation from fr.yml, not yet reviewed by a native speaker. \
             Glossary: ../glossary/{code}.yml"
        );
        assert_eq!(
            text.lines().next(),
            Some(expected.as_str()),
            "locales/{file} must start with the machine-assisted header"
        );
    }
}
