//! Reference lists (themes, data·inclusion v1 topics, audiences, service types…) and their
//! labels in every language. They are data, not code: PEPS ships a built-in set
//! (`data/catalogue/`) and an adopter replaces any file of it by configuration
//! (`catalogue.reference_dir`), so a collectivity changes its themes without a rebuild.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::domain::Language;

/// The lists an offer's coded fields take their values from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListKind {
    Themes,
    TopicCategories,
    Topics,
    ServiceTypes,
    Costs,
    ReceptionModes,
    MobilisationModes,
    MobilisedBy,
    Audiences,
    Networks,
}

impl ListKind {
    pub const ALL: [ListKind; 10] = [
        ListKind::Themes,
        ListKind::TopicCategories,
        ListKind::Topics,
        ListKind::ServiceTypes,
        ListKind::Costs,
        ListKind::ReceptionModes,
        ListKind::MobilisationModes,
        ListKind::MobilisedBy,
        ListKind::Audiences,
        ListKind::Networks,
    ];

    /// The list's name in URLs and label keys (`topics.<code>`).
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Themes => "themes",
            ListKind::TopicCategories => "topic_categories",
            ListKind::Topics => "topics",
            ListKind::ServiceTypes => "service_types",
            ListKind::Costs => "costs",
            ListKind::ReceptionModes => "reception_modes",
            ListKind::MobilisationModes => "mobilisation_modes",
            ListKind::MobilisedBy => "mobilised_by",
            ListKind::Audiences => "audiences",
            ListKind::Networks => "networks",
        }
    }

    pub fn parse(raw: &str) -> Option<ListKind> {
        ListKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// The data·inclusion v1 CSV the codes come from, for the lists that have one.
    fn csv_file(self) -> Option<&'static str> {
        Some(match self {
            ListKind::Topics => "thematiques_v1.csv",
            ListKind::ServiceTypes => "types_de_services_v1.csv",
            ListKind::Costs => "frais_v1.csv",
            ListKind::ReceptionModes => "modes_accueil_v1.csv",
            ListKind::MobilisationModes => "modes_mobilisation_v1.csv",
            ListKind::MobilisedBy => "personne_mobilisatrice_v1.csv",
            ListKind::Audiences => "publics_v1.csv",
            ListKind::Networks => "reseaux_porteurs_v1.csv",
            ListKind::Themes | ListKind::TopicCategories => return None,
        })
    }

    /// Networks are proper names (60 000 Rebonds, Restos du cœur…): shown in French everywhere.
    fn is_translated(self) -> bool {
        self != ListKind::Networks
    }
}

impl fmt::Display for ListKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A collectivity theme and the data·inclusion topic categories it covers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Theme {
    pub code: String,
    pub label: String,
    #[serde(default)]
    pub categories: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ThemesFile {
    version: u32,
    themes: Vec<Theme>,
}

/// A label in the language asked for, or in French when there is none (`fallback`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label<'a> {
    pub text: &'a str,
    pub language: &'a str,
    pub fallback: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("{file}: {message}")]
    Malformed { file: String, message: String },
    #[error("{file}: unknown language {language}")]
    UnknownLanguage { file: String, language: String },
    #[error("{file}: label for unknown code {key}")]
    UnknownCode { file: String, key: String },
    #[error("themes.yml: theme {theme} covers unknown topic category {category}")]
    UnknownCategory { theme: String, category: String },
    #[error("themes.yml: at least one theme is needed")]
    NoThemes,
    #[error("the {list} list has {count} codes; search supports at most {limit}")]
    TooManyCodes {
        list: &'static str,
        count: usize,
        limit: usize,
    },
}

/// The built-in files, by their name relative to `data/catalogue/`.
const BUILTIN: &[(&str, &str)] = &[
    (
        "themes.yml",
        include_str!("../../data/catalogue/themes.yml"),
    ),
    (
        "data-inclusion-v1/thematiques_v1.csv",
        include_str!("../../data/catalogue/data-inclusion-v1/thematiques_v1.csv"),
    ),
    (
        "data-inclusion-v1/types_de_services_v1.csv",
        include_str!("../../data/catalogue/data-inclusion-v1/types_de_services_v1.csv"),
    ),
    (
        "data-inclusion-v1/frais_v1.csv",
        include_str!("../../data/catalogue/data-inclusion-v1/frais_v1.csv"),
    ),
    (
        "data-inclusion-v1/modes_accueil_v1.csv",
        include_str!("../../data/catalogue/data-inclusion-v1/modes_accueil_v1.csv"),
    ),
    (
        "data-inclusion-v1/modes_mobilisation_v1.csv",
        include_str!("../../data/catalogue/data-inclusion-v1/modes_mobilisation_v1.csv"),
    ),
    (
        "data-inclusion-v1/personne_mobilisatrice_v1.csv",
        include_str!("../../data/catalogue/data-inclusion-v1/personne_mobilisatrice_v1.csv"),
    ),
    (
        "data-inclusion-v1/publics_v1.csv",
        include_str!("../../data/catalogue/data-inclusion-v1/publics_v1.csv"),
    ),
    (
        "data-inclusion-v1/reseaux_porteurs_v1.csv",
        include_str!("../../data/catalogue/data-inclusion-v1/reseaux_porteurs_v1.csv"),
    ),
];

macro_rules! label_files {
    ($($code:literal),* $(,)?) => {
        &[$((concat!("labels/", $code, ".yml"), include_str!(concat!("../../data/catalogue/labels/", $code, ".yml")))),*]
    };
}

/// One label file per language of `data/languages.tsv` (a test checks none is missing).
const LABEL_FILES: &[(&str, &str)] = crate::domain::language::with_language_codes!(label_files);

/// All reference lists with their labels. Cheap to share behind an `Arc`.
#[derive(Debug, Clone)]
pub struct ReferenceData {
    version: String,
    themes: Vec<Theme>,
    codes: BTreeMap<ListKind, Vec<String>>,
    /// language → `list.code` → label, as loaded.
    labels: HashMap<String, HashMap<String, String>>,
    /// The same, by language, list and code: looked up on every search result, without
    /// building a key.
    index: HashMap<String, HashMap<ListKind, HashMap<String, String>>>,
    /// A collectivity's own search words (`vocabulary/<language>.yml`), added to the shipped
    /// ones: (language, file content), checked on load.
    vocabulary: Vec<(String, String)>,
}

impl ReferenceData {
    /// The lists shipped with PEPS.
    pub fn builtin() -> Self {
        Self::from_files(std::iter::empty()).expect("the built-in reference data is valid")
    }

    /// The built-in lists with some files replaced, each given as (name relative to
    /// `data/catalogue/`, content): `themes.yml`, `data-inclusion-v1/<list>.csv`,
    /// `labels/<language>.yml`. A replaced label file may hold only some keys; the others keep
    /// their built-in labels.
    pub fn from_files(
        overrides: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ReferenceError> {
        let mut files: BTreeMap<String, String> = BUILTIN
            .iter()
            .chain(LABEL_FILES)
            .map(|(name, content)| ((*name).to_owned(), (*content).to_owned()))
            .collect();
        // Built-in label files may name codes an adopter's lists dropped: those labels are
        // skipped. The adopter's own label files must only name existing codes.
        let mut adopter_labels: Vec<(String, String)> = Vec::new();
        let mut vocabulary: Vec<(String, String)> = Vec::new();
        for (name, content) in overrides {
            if name.starts_with("labels/") {
                adopter_labels.push((name, content));
            } else if let Some(file) = name.strip_prefix("vocabulary/") {
                let language = file.trim_end_matches(".yml");
                if Language::parse(language).is_err() {
                    return Err(ReferenceError::UnknownLanguage {
                        file: name.clone(),
                        language: language.to_owned(),
                    });
                }
                vocabulary.push((language.to_owned(), content));
            } else {
                files.insert(name, content);
            }
        }

        let themes_file: ThemesFile =
            serde_yaml::from_str(&files["themes.yml"]).map_err(|e| ReferenceError::Malformed {
                file: "themes.yml".into(),
                message: e.to_string(),
            })?;
        if themes_file.themes.is_empty() {
            return Err(ReferenceError::NoThemes);
        }

        let mut codes: BTreeMap<ListKind, Vec<String>> = BTreeMap::new();
        let mut labels: HashMap<String, HashMap<String, String>> = HashMap::new();
        let french = labels.entry(Language::REFERENCE.to_owned()).or_default();
        for kind in ListKind::ALL {
            let Some(file) = kind.csv_file() else {
                continue;
            };
            let name = format!("data-inclusion-v1/{file}");
            let rows = parse_csv(&name, &files[&name])?;
            for (code, label) in &rows {
                french.insert(format!("{kind}.{code}"), label.clone());
            }
            codes.insert(kind, rows.into_iter().map(|(code, _)| code).collect());
        }
        let topic_categories: Vec<String> = {
            let mut seen = Vec::new();
            for topic in &codes[&ListKind::Topics] {
                let category = topic_category(topic).to_owned();
                if !seen.contains(&category) {
                    seen.push(category);
                }
            }
            seen
        };
        for theme in &themes_file.themes {
            french.insert(format!("themes.{}", theme.code), theme.label.clone());
            for category in &theme.categories {
                if !topic_categories.contains(category) {
                    return Err(ReferenceError::UnknownCategory {
                        theme: theme.code.clone(),
                        category: category.clone(),
                    });
                }
            }
        }
        codes.insert(
            ListKind::Themes,
            themes_file.themes.iter().map(|t| t.code.clone()).collect(),
        );
        codes.insert(ListKind::TopicCategories, topic_categories);
        // Search keeps each offer's values of a list as a bitmask: 128 bits for topics, 32
        // for the other searchable lists.
        for (kind, list) in &codes {
            let limit = match kind {
                ListKind::Topics => 128,
                ListKind::Networks | ListKind::MobilisationModes | ListKind::MobilisedBy => {
                    usize::MAX
                }
                _ => 32,
            };
            if list.len() > limit {
                return Err(ReferenceError::TooManyCodes {
                    list: kind.as_str(),
                    count: list.len(),
                    limit,
                });
            }
        }

        let mut data = ReferenceData {
            version: format!("peps-{}+data-inclusion-v1", themes_file.version),
            themes: themes_file.themes,
            codes,
            labels,
            index: HashMap::new(),
            vocabulary,
        };
        for (language, content) in &data.vocabulary {
            crate::catalogue::search::vocabulary::check(content, &data).map_err(|message| {
                ReferenceError::Malformed {
                    file: format!("vocabulary/{language}.yml"),
                    message,
                }
            })?;
        }
        for (name, content) in files.iter().filter(|(name, _)| name.starts_with("labels/")) {
            data.add_label_file(name, content, false)?;
        }
        for (name, content) in &adopter_labels {
            data.add_label_file(name, content, true)?;
        }
        for (language, entries) in &data.labels {
            let by_list = data.index.entry(language.clone()).or_default();
            for (key, label) in entries {
                if let Some((list, code)) = key.split_once('.')
                    && let Some(kind) = ListKind::parse(list)
                {
                    by_list
                        .entry(kind)
                        .or_default()
                        .insert(code.to_owned(), label.clone());
                }
            }
        }
        Ok(data)
    }

    fn add_label_file(
        &mut self,
        name: &str,
        content: &str,
        strict: bool,
    ) -> Result<(), ReferenceError> {
        let language = name
            .trim_start_matches("labels/")
            .trim_end_matches(".yml")
            .to_owned();
        let language = Language::parse(&language)
            .map_err(|_| ReferenceError::UnknownLanguage {
                file: name.to_owned(),
                language: language.clone(),
            })?
            .code()
            .to_owned();
        let mut entries: BTreeMap<String, String> =
            serde_yaml::from_str(content).map_err(|e| ReferenceError::Malformed {
                file: name.to_owned(),
                message: e.to_string(),
            })?;
        let is_known = |key: &str| {
            key.split_once('.').is_some_and(|(list, code)| {
                ListKind::parse(list).is_some_and(|kind| self.contains(kind, code))
            })
        };
        if let Some(unknown) = entries.keys().find(|k| !is_known(k)) {
            if strict {
                return Err(ReferenceError::UnknownCode {
                    file: name.to_owned(),
                    key: unknown.clone(),
                });
            }
            entries.retain(|k, _| is_known(k));
        }
        self.labels.entry(language).or_default().extend(entries);
        Ok(())
    }

    /// Identifies this set of lists, e.g. in API responses, so clients can cache them.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn themes(&self) -> &[Theme] {
        &self.themes
    }

    /// The collectivity's own search words, by language (see `vocabulary/README.md`).
    pub fn vocabulary_files(&self) -> &[(String, String)] {
        &self.vocabulary
    }

    pub fn codes(&self, kind: ListKind) -> &[String] {
        self.codes.get(&kind).map_or(&[], Vec::as_slice)
    }

    pub fn contains(&self, kind: ListKind, code: &str) -> bool {
        self.codes(kind).iter().any(|c| c == code)
    }

    /// The label of a code in `language`, falling back to French (flagged).
    pub fn label<'a>(&'a self, kind: ListKind, code: &'a str, language: &str) -> Label<'a> {
        let find = |language: &str| {
            self.index
                .get_key_value(language)
                .and_then(|(lang, lists)| Some((lang, lists.get(&kind)?.get(code)?)))
        };
        if kind.is_translated()
            && let Some((language, text)) = find(language)
        {
            return Label {
                text,
                language,
                fallback: false,
            };
        }
        let french = find(Language::REFERENCE).map_or(code, |(_, text)| text.as_str());
        Label {
            text: french,
            language: Language::REFERENCE,
            fallback: language != Language::REFERENCE,
        }
    }

    /// Which languages have a label for every translated code (for the completeness test and
    /// for operators checking their own files).
    pub fn missing_labels(&self, language: &str) -> Vec<String> {
        let have = self.labels.get(language);
        ListKind::ALL
            .into_iter()
            .filter(|k| k.is_translated())
            .flat_map(|kind| {
                self.codes(kind)
                    .iter()
                    .map(move |code| format!("{kind}.{code}"))
            })
            .filter(|key| have.is_none_or(|l| !l.contains_key(key)))
            .collect()
    }

    /// The theme that covers a topic's category, for offers that arrive without a theme.
    pub fn theme_for_topic(&self, topic: &str) -> Option<&str> {
        let category = topic_category(topic);
        self.themes
            .iter()
            .find(|t| t.categories.iter().any(|c| c == category))
            .map(|t| t.code.as_str())
    }
}

/// `logement-hebergement--etre-accompagne-...` belongs to `logement-hebergement`.
pub fn topic_category(topic: &str) -> &str {
    topic
        .split_once("--")
        .map_or(topic, |(category, _)| category)
}

fn parse_csv(name: &str, content: &str) -> Result<Vec<(String, String)>, ReferenceError> {
    let malformed = |message: String| ReferenceError::Malformed {
        file: name.to_owned(),
        message,
    };
    let mut reader = csv::Reader::from_reader(content.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| malformed(e.to_string()))?
        .clone();
    let value = headers.iter().position(|h| h == "value");
    let label = headers.iter().position(|h| h == "label");
    let (Some(value), Some(label)) = (value, label) else {
        return Err(malformed("expected columns value and label".into()));
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| malformed(e.to_string()))?;
        let code = record.get(value).unwrap_or("").trim();
        if code.is_empty() {
            return Err(malformed("a row has an empty value".into()));
        }
        rows.push((
            code.to_owned(),
            record.get(label).unwrap_or(code).to_owned(),
        ));
    }
    if rows.is_empty() {
        return Err(malformed("no rows".into()));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_lists_match_data_inclusion_v1() {
        let data = ReferenceData::builtin();
        assert_eq!(data.codes(ListKind::Topics).len(), 69);
        assert_eq!(data.codes(ListKind::TopicCategories).len(), 16);
        assert_eq!(data.codes(ListKind::ServiceTypes).len(), 6);
        assert_eq!(data.codes(ListKind::Audiences).len(), 14);
        assert_eq!(data.codes(ListKind::Themes).len(), 3);
        assert!(data.contains(ListKind::Audiences, "tous-publics"));
        assert_eq!(data.label(ListKind::Costs, "gratuit", "fr").text, "Gratuit");
    }

    #[test]
    fn every_category_has_a_theme_and_every_language_every_label() {
        let data = ReferenceData::builtin();
        for category in data.codes(ListKind::TopicCategories) {
            assert!(
                data.themes()
                    .iter()
                    .any(|t| t.categories.contains(category)),
                "no theme covers {category}"
            );
        }
        for language in Language::all() {
            let missing = data.missing_labels(&language.code);
            assert!(missing.is_empty(), "{}: missing {missing:?}", language.code);
        }
    }

    #[test]
    fn labels_fall_back_to_french_visibly() {
        let data = ReferenceData::from_files([(
            "labels/ar.yml".to_owned(),
            "costs.gratuit: \"مجاني\"\n".to_owned(),
        )])
        .unwrap();
        let translated = data.label(ListKind::Costs, "gratuit", "ar");
        assert!(!translated.fallback);
        assert_eq!(translated.language, "ar");
        let network = data.label(ListKind::Networks, "adie", "ar");
        assert!(network.fallback);
        assert_eq!(network.language, "fr");
    }

    #[test]
    fn an_adopter_replaces_themes_by_file() {
        let themes = "version: 7\nthemes:\n  - code: emploi\n    label: Emploi\n    categories: [trouver-un-emploi]\n";
        let data =
            ReferenceData::from_files([("themes.yml".to_owned(), themes.to_owned())]).unwrap();
        assert_eq!(data.codes(ListKind::Themes), ["emploi".to_owned()]);
        assert_eq!(data.version(), "peps-7+data-inclusion-v1");
        assert_eq!(
            data.theme_for_topic("trouver-un-emploi--faire-des-candidatures-spontanees"),
            Some("emploi")
        );
        let bad = "version: 1\nthemes:\n  - code: x\n    label: X\n    categories: [nope]\n";
        assert!(matches!(
            ReferenceData::from_files([("themes.yml".to_owned(), bad.to_owned())]),
            Err(ReferenceError::UnknownCategory { .. })
        ));
        let unknown = ReferenceData::from_files([(
            "labels/es.yml".to_owned(),
            "topics.nope: \"x\"\n".to_owned(),
        )]);
        assert!(matches!(unknown, Err(ReferenceError::UnknownCode { .. })));
    }
}
