//! What people's words mean in the catalogue: "سكن", "житло", "housing", "toit" or "CAF" name
//! a need the French offers describe in other words. The vocabulary (data files under
//! `data/catalogue/vocabulary/`, one per language, which a collectivity extends) and the
//! reference lists' labels in the 22 languages turn a query's words into topics (offers carrying
//! them match) and into the French words offers use (their postings match).

use std::collections::{BTreeMap, HashMap};

use crate::catalogue::text::{bounded_distance, stem, typo_budget};

use crate::catalogue::reference::{ListKind, ReferenceData};
use crate::catalogue::text;

macro_rules! vocabulary_files {
    ($($code:literal),* $(,)?) => {
        &[$(($code, include_str!(concat!("../../../data/catalogue/vocabulary/", $code, ".yml")))),*]
    };
}

/// One vocabulary file per language of `data/languages.tsv`.
const FILES: &[(&str, &str)] = crate::domain::language::with_language_codes!(vocabulary_files);

/// What a query's word (or phrase) stands for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Meaning {
    /// A topic or a topic category code: offers carrying it answer.
    Topic(String),
    /// Folded French words offers use for it ("caf" → "caisse allocations familiales").
    French(Vec<String>),
}

#[derive(Debug, Clone)]
struct Entry {
    language: &'static str,
    meaning: Meaning,
}

/// A piece of the query: the words it covers as typed (folded) and what they mean.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub words: Vec<String>,
    pub meanings: Vec<Meaning>,
}

impl Unit {
    pub fn text(&self) -> String {
        self.words.join(" ")
    }
}

/// Every language's words, folded and keyed by phrase ("aide alimentaire", "سكن").
#[derive(Debug, Default)]
pub struct Vocabulary {
    entries: HashMap<String, Vec<Entry>>,
    /// One-word keys in order (typo lookup by first letter), and by French stem ("dettes"
    /// finds "dette").
    single: BTreeMap<String, ()>,
    stems: HashMap<String, Vec<String>>,
    /// The longest phrase, in words.
    longest: usize,
    /// The longest phrase without spaces in a script written without them (Han), in chars.
    longest_unspaced: usize,
}

#[derive(serde::Deserialize)]
struct File {
    #[serde(default)]
    topics: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    words: BTreeMap<String, Vec<String>>,
}

impl Vocabulary {
    /// The shipped files and the labels of `reference`.
    pub fn shipped(reference: &ReferenceData) -> Vocabulary {
        let mut v = Vocabulary::default();
        for (language, yaml) in FILES {
            let file: File = serde_yaml::from_str(yaml)
                .unwrap_or_else(|e| panic!("vocabulary/{language}.yml: {e}"));
            v.add_file(language, file);
        }
        // The collectivity's own words, after the shipped ones.
        for (language, yaml) in reference.vocabulary_files() {
            let Some(language) = crate::domain::Language::all()
                .iter()
                .find(|l| l.code == *language)
                .map(|l| l.code.as_str())
            else {
                continue;
            };
            let Ok(file) = serde_yaml::from_str::<File>(yaml) else {
                continue; // checked when the reference data loaded
            };
            v.add_file(language, file);
        }
        // A label said in full ("السكن والإيواء", "Житло та проживання") names its code. French
        // labels are already in every offer's text.
        for info in crate::domain::Language::all() {
            let Some(language) = FILES.iter().find(|(l, _)| *l == info.code).map(|(l, _)| *l)
            else {
                continue;
            };
            if language == "fr" {
                continue;
            }
            for kind in [ListKind::Topics, ListKind::TopicCategories] {
                for code in reference.codes(kind) {
                    let label = reference.label(kind, code, language);
                    if label.language == language {
                        v.add(label.text, language, Meaning::Topic(code.clone()));
                    }
                }
            }
        }
        v
    }

    fn add_file(&mut self, language: &'static str, file: File) {
        for (code, phrases) in file.topics {
            for phrase in phrases {
                self.add(&phrase, language, Meaning::Topic(code.clone()));
            }
        }
        for (word, french) in file.words {
            for phrase in french {
                let words = text::words(&phrase);
                if !words.is_empty() {
                    self.add(&word, language, Meaning::French(words));
                }
            }
        }
    }

    fn add(&mut self, phrase: &str, language: &'static str, meaning: Meaning) {
        let words = text::words(phrase);
        if words.is_empty() {
            return;
        }
        self.longest = self.longest.max(words.len());
        if words.len() == 1 && words[0].chars().any(is_unspaced) {
            self.longest_unspaced = self.longest_unspaced.max(words[0].chars().count());
        }
        if words.len() == 1 && !self.single.contains_key(&words[0]) {
            self.single.insert(words[0].clone(), ());
            self.stems
                .entry(stem(&words[0]))
                .or_default()
                .push(words[0].clone());
        }
        let entries = self.entries.entry(words.join(" ")).or_default();
        if !entries
            .iter()
            .any(|e| e.language == language && e.meaning == meaning)
        {
            entries.push(Entry { language, meaning });
        }
    }

    /// How many phrases the vocabulary knows.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The meanings of one folded phrase, preferring the reader's language (and French) when
    /// the same phrase means different things in different languages ("pain" is bread in
    /// French, a symptom in English).
    fn meanings(&self, key: &str, language: Option<&str>) -> Option<Vec<Meaning>> {
        let entries = self.entries.get(key)?;
        let preferred: Vec<&Entry> = entries
            .iter()
            .filter(|e| Some(e.language) == language || e.language == "fr")
            .collect();
        let chosen: Vec<&Entry> = if preferred.is_empty() {
            entries.iter().collect()
        } else {
            preferred
        };
        let mut meanings: Vec<Meaning> = chosen.into_iter().map(|e| e.meaning.clone()).collect();
        meanings.sort();
        meanings.dedup();
        Some(narrowest(meanings))
    }

    /// A word's meanings when it is not written as the vocabulary has it: another form of it
    /// (same French stem: "dettes", "dette") or, from five letters, a typo ("nouriture").
    fn near_meanings(&self, word: &str, language: Option<&str>) -> Option<Vec<Meaning>> {
        if let Some(keys) = self.stems.get(&stem(word)) {
            let mut meanings: Vec<Meaning> = keys
                .iter()
                .filter_map(|k| self.meanings(k, language))
                .flatten()
                .collect();
            meanings.sort();
            meanings.dedup();
            return Some(narrowest(meanings));
        }
        let budget = typo_budget(word);
        if budget == 0 {
            return None;
        }
        let first: String = word.chars().take(1).collect();
        let mut best: Option<(usize, &String)> = None;
        for (candidate, ()) in self
            .single
            .range(first.clone()..)
            .take_while(|(k, _)| k.starts_with(&first))
        {
            if let Some(d) = bounded_distance(word, candidate, budget)
                && best.is_none_or(|(b, _)| d < b)
            {
                best = Some((d, candidate));
            }
        }
        self.meanings(best?.1, language)
    }

    /// Reads a query's folded words into units, longest known phrase first; a word of a script
    /// written without spaces (Chinese) is cut into the known words it holds.
    pub fn read(&self, words: &[String], language: Option<&str>) -> Vec<Unit> {
        let mut units = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let longest = self.longest.min(words.len() - i);
            let found = (1..=longest).rev().find_map(|n| {
                let key = words[i..i + n].join(" ");
                self.meanings(&key, language).map(|m| (n, m))
            });
            match found {
                Some((n, meanings)) => {
                    units.push(Unit {
                        words: words[i..i + n].to_vec(),
                        meanings,
                    });
                    i += n;
                }
                None if let Some(meanings) = self.near_meanings(&words[i], language) => {
                    units.push(Unit {
                        words: vec![words[i].clone()],
                        meanings,
                    });
                    i += 1;
                }
                None if words[i].chars().any(is_unspaced) => {
                    units.extend(self.segment(&words[i], language));
                    i += 1;
                }
                None => {
                    units.push(Unit {
                        words: vec![words[i].clone()],
                        meanings: Vec::new(),
                    });
                    i += 1;
                }
            }
        }
        units
    }

    /// Greedy longest match of known words in a run of unspaced script; what no known word
    /// covers stays as one unit per run, for the offers' own text.
    fn segment(&self, word: &str, language: Option<&str>) -> Vec<Unit> {
        let chars: Vec<char> = word.chars().collect();
        let mut units = Vec::new();
        let mut rest = String::new();
        let mut i = 0;
        while i < chars.len() {
            let longest = self.longest_unspaced.min(chars.len() - i);
            let found = (1..=longest).rev().find_map(|n| {
                let key: String = chars[i..i + n].iter().collect();
                self.meanings(&key, language).map(|m| (key, n, m))
            });
            match found {
                Some((key, n, meanings)) => {
                    if !rest.is_empty() {
                        units.push(Unit {
                            words: vec![std::mem::take(&mut rest)],
                            meanings: Vec::new(),
                        });
                    }
                    units.push(Unit {
                        words: vec![key],
                        meanings,
                    });
                    i += n;
                }
                None => {
                    rest.push(chars[i]);
                    i += 1;
                }
            }
        }
        if !rest.is_empty() {
            units.push(Unit {
                words: vec![rest],
                meanings: Vec::new(),
            });
        }
        units
    }
}

/// Checks a collectivity's vocabulary file: YAML of the shipped files' shape, naming only
/// topics and categories of `reference`.
pub fn check(yaml: &str, reference: &ReferenceData) -> Result<(), String> {
    let file: File = serde_yaml::from_str(yaml).map_err(|e| e.to_string())?;
    match file.topics.keys().find(|code| {
        !reference.contains(ListKind::Topics, code)
            && !reference.contains(ListKind::TopicCategories, code)
    }) {
        Some(code) => Err(format!("unknown topic or category {code}")),
        None => Ok(()),
    }
}

/// A topic says more than its whole category: when a word names both, the topic alone.
fn narrowest(meanings: Vec<Meaning>) -> Vec<Meaning> {
    let topics: Vec<&str> = meanings
        .iter()
        .filter_map(|m| match m {
            Meaning::Topic(code) if code.contains("--") => Some(code.as_str()),
            _ => None,
        })
        .collect();
    let covered = |category: &str| {
        topics
            .iter()
            .any(|t| t.split("--").next() == Some(category))
    };
    let keep: Vec<bool> = meanings
        .iter()
        .map(|m| match m {
            Meaning::Topic(code) => code.contains("--") || !covered(code),
            Meaning::French(_) => true,
        })
        .collect();
    meanings
        .into_iter()
        .zip(keep)
        .filter_map(|(m, k)| k.then_some(m))
        .collect()
}

/// Scripts written without spaces between words.
fn is_unspaced(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        Vocabulary::shipped(&ReferenceData::builtin())
    }

    fn topics_of(v: &Vocabulary, query: &str, language: &str) -> Vec<String> {
        v.read(&text::words(query), Some(language))
            .into_iter()
            .flat_map(|u| u.meanings)
            .filter_map(|m| match m {
                Meaning::Topic(code) => Some(code),
                Meaning::French(_) => None,
            })
            .collect()
    }

    #[test]
    fn every_file_parses_and_names_known_codes() {
        let reference = ReferenceData::builtin();
        for (language, yaml) in FILES {
            let file: File = serde_yaml::from_str(yaml).unwrap();
            for code in file.topics.keys() {
                assert!(
                    reference.contains(ListKind::Topics, code)
                        || reference.contains(ListKind::TopicCategories, code),
                    "{language}: {code}"
                );
            }
        }
        assert!(vocabulary().len() > 5_000, "{}", vocabulary().len());
    }

    #[test]
    fn everyday_words_in_five_languages_name_the_four_needs() {
        let v = vocabulary();
        let needs = [
            ("ar", ["سكن", "أكل", "طبيب", "عمل"]),
            ("uk", ["житло", "їжа", "лікар", "робота"]),
            ("en", ["housing", "food", "doctor", "job"]),
            ("ps", ["کور", "خواړه", "ډاکټر", "کار"]),
            ("ti", ["መንበሪ", "መግቢ", "ሓኪም", "ስራሕ"]),
        ];
        let categories = [
            "logement-hebergement",
            "equipement-et-alimentation",
            "sante",
            "trouver-un-emploi",
        ];
        for (language, words) in needs {
            for (word, category) in words.iter().zip(categories) {
                let topics = topics_of(&v, word, language);
                assert!(
                    topics.iter().any(|t| t.starts_with(category)),
                    "{language} «{word}» should name {category}: {topics:?}"
                );
            }
        }
    }

    #[test]
    fn french_acronyms_and_slang_lead_to_french_words() {
        let v = vocabulary();
        let units = v.read(&text::words("CAF"), Some("fr"));
        assert!(
            units[0]
                .meanings
                .iter()
                .any(|m| matches!(m, Meaning::French(w) if w.contains(&"allocations".to_owned()))),
            "{units:?}"
        );
        // "toit" (roof) is housing, through the French words and the topics alike.
        let toit = &v.read(&text::words("toit"), Some("fr"))[0].meanings;
        assert!(
            toit.iter()
                .any(|m| matches!(m, Meaning::French(w) if w.contains(&"hebergement".to_owned()))),
            "{toit:?}"
        );
        assert!(
            topics_of(&v, "toit", "fr")
                .iter()
                .any(|t| t.starts_with("logement-hebergement")),
            "{toit:?}"
        );
    }

    #[test]
    fn a_collectivity_adds_its_own_words() {
        let reference = ReferenceData::from_files([(
            "vocabulary/fr.yml".to_owned(),
            "words:\n  coupdepouce: [\"aide alimentaire\"]\ntopics:\n  mobilite: [\"navette du canton\"]\n".to_owned(),
        )])
        .unwrap();
        let v = Vocabulary::shipped(&reference);
        assert_eq!(topics_of(&v, "navette du canton", "fr"), ["mobilite"]);
        assert!(
            !v.read(&text::words("coupdepouce"), Some("fr"))[0]
                .meanings
                .is_empty()
        );
        // And the shipped words are still there.
        assert!(!topics_of(&v, "housing", "en").is_empty());
        let wrong = ReferenceData::from_files([(
            "vocabulary/fr.yml".to_owned(),
            "topics:\n  nulle-part: [ici]\n".to_owned(),
        )]);
        assert!(wrong.is_err());
        let unknown = ReferenceData::from_files([("vocabulary/xx.yml".to_owned(), String::new())]);
        assert!(unknown.is_err());
    }

    #[test]
    fn phrases_are_read_whole_and_chinese_is_cut_into_words() {
        let v = vocabulary();
        let units = v.read(&text::words("aide alimentaire"), Some("fr"));
        assert_eq!(units.len(), 1, "{units:?}");
        let units = v.read(&text::words("找工作"), Some("zh-Hans"));
        assert!(
            units.iter().any(|u| !u.meanings.is_empty()),
            "a known word inside: {units:?}"
        );
    }
}
