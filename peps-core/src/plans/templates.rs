//! Step templates ("démarches types"): reusable steps with vetted texts in every supported
//! language and in easy-to-read French (FALC). They hold no personal data.
//!
//! Data: `data/plans/templates/templates.yml` (what does not depend on language) and
//! `data/plans/templates/texts/<language>.yml` (one file per language, French the source). A
//! collectivity adds or replaces templates and translations with a folder of the same shape
//! (see docs/plans.md).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::catalogue::{ListKind, ReferenceData};
use crate::domain::translation::{Provenance, SourceHash};
use crate::domain::{Language, WebUrl};

/// Who usually does a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhoActs {
    Person,
    Referent,
    Helper,
}

impl WhoActs {
    pub const ALL: [WhoActs; 3] = [WhoActs::Person, WhoActs::Referent, WhoActs::Helper];

    pub fn as_str(self) -> &'static str {
        match self {
            WhoActs::Person => "person",
            WhoActs::Referent => "referent",
            WhoActs::Helper => "helper",
        }
    }

    pub fn parse(raw: &str) -> Option<WhoActs> {
        Self::ALL.into_iter().find(|w| w.as_str() == raw)
    }
}

/// Kinds of documents a step may need (the wallet's kinds).
pub const DOCUMENT_KINDS: &[&str] = &[
    "identity",
    "passport",
    "residence_permit",
    "proof_of_address",
    "tax_notice",
    "payslips",
    "caf_certificate",
    "health_insurance_certificate",
    "bank_details",
    "family_record_book",
    "birth_certificate",
    "proof_of_resources",
    "france_travail_registration",
    "domiciliation_certificate",
    "photo",
    "medical_certificate",
    "housing_contract",
    "rent_receipts",
    "school_certificate",
    "work_contract",
];

/// A template's texts in one language.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TemplateText {
    pub title: String,
    pub explanation: String,
    pub tasks: Vec<String>,
    /// Set from the file's `provenance` when the entry has none.
    #[serde(default)]
    pub provenance: Option<Provenance>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepTemplate {
    pub id: String,
    pub who_acts: WhoActs,
    pub documents: Vec<String>,
    /// Catalogue topics whose offers suit this step (for proposed orientations).
    pub topics: Vec<String>,
    /// Official online services.
    pub links: Vec<String>,
    /// Texts by language code (`fr`, `fr-x-falc`, `ar`…).
    pub texts: BTreeMap<String, TemplateText>,
}

#[derive(Debug, Deserialize)]
struct TemplateFile {
    templates: Vec<TemplateEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateEntry {
    id: String,
    who_acts: WhoActs,
    #[serde(default)]
    documents: Vec<String>,
    #[serde(default)]
    topics: Vec<String>,
    #[serde(default)]
    links: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct TextFile {
    language: String,
    provenance: Provenance,
    templates: BTreeMap<String, TemplateText>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("{file}: {message}")]
    Malformed { file: String, message: String },
    #[error("template {id}: {message}")]
    Invalid { id: String, message: String },
}

/// The step templates of a deployment. Shared (`Arc`) so that every step that follows a
/// template reads its texts without copying them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateLibrary {
    templates: Vec<Arc<StepTemplate>>,
}

/// The template a step follows, and the version of the template's texts the step's history
/// last noted (see [`StepTemplate::version`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateRef {
    pub id: String,
    pub version: String,
}

/// The fields of a step's text, in the order a template version lists their hashes.
pub const TEXT_FIELDS: [&str; 3] = ["title", "explanation", "tasks"];

impl StepTemplate {
    /// A version of the template's texts: one short hash per field (title, explanation,
    /// tasks) over every language and its provenance, so that a step can tell which of its
    /// fields a correction touched. Computed from the texts, so a collectivity that edits its
    /// files needs no version numbers.
    pub fn version(&self) -> String {
        let mut parts: [Vec<&str>; 3] = Default::default();
        for (code, text) in &self.texts {
            let provenance = text.provenance.map_or("", Provenance::as_str);
            parts[0].extend([code.as_str(), provenance, text.title.as_str()]);
            parts[1].extend([code.as_str(), provenance, text.explanation.as_str()]);
            parts[2].extend([code.as_str(), provenance]);
            parts[2].extend(text.tasks.iter().map(String::as_str));
        }
        parts
            .iter()
            .map(|p| SourceHash::of(p).to_string())
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The fields whose texts differ between two versions of a template (all of them when a
    /// version is not one [`StepTemplate::version`] made, e.g. empty).
    pub fn changed_fields(from: &str, to: &str) -> Vec<&'static str> {
        let (a, b): (Vec<&str>, Vec<&str>) = (from.split('.').collect(), to.split('.').collect());
        if a.len() != TEXT_FIELDS.len() || b.len() != TEXT_FIELDS.len() {
            return TEXT_FIELDS.to_vec();
        }
        TEXT_FIELDS
            .iter()
            .zip(a.iter().zip(&b))
            .filter(|(_, (x, y))| x != y)
            .map(|(field, _)| *field)
            .collect()
    }

    /// A reference to this template at its current version.
    pub fn reference(&self) -> TemplateRef {
        TemplateRef {
            id: self.id.clone(),
            version: self.version(),
        }
    }
}

const BUILTIN_TEMPLATES: &str = include_str!("../../data/plans/templates/templates.yml");

macro_rules! builtin_texts {
    ($($code:literal),* $(,)?) => {
        &[$(($code, include_str!(concat!("../../data/plans/templates/texts/", $code, ".yml")))),*]
    };
}

/// Every language's texts, compiled in.
const BUILTIN_TEXTS: &[(&str, &str)] = crate::domain::language::with_language_codes!(builtin_texts);

fn malformed(file: &str, e: impl std::fmt::Display) -> TemplateError {
    TemplateError::Malformed {
        file: file.to_owned(),
        message: e.to_string(),
    }
}

impl TemplateLibrary {
    /// The templates shipped with PEPS. They are checked by tests, so a failure here is a
    /// build defect.
    pub fn builtin() -> Self {
        Self::parse(
            BUILTIN_TEMPLATES,
            BUILTIN_TEXTS
                .iter()
                .map(|(code, text)| (format!("{code}.yml"), *text)),
        )
        .expect("built-in step templates are valid")
    }

    /// The built-in templates with a collectivity's folder laid over them: its
    /// `templates.yml` adds templates (or replaces those with the same id) and its
    /// `texts/<language>.yml` add or replace texts.
    pub fn with_overrides(dir: &Path) -> Result<Self, TemplateError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|e| malformed(&path.display().to_string(), e))
        };
        let mut library = Self::builtin();
        let templates = dir.join("templates.yml");
        let extra_templates = if templates.exists() {
            Some(read(&templates)?)
        } else {
            None
        };
        let mut texts = Vec::new();
        let texts_dir = dir.join("texts");
        if texts_dir.is_dir() {
            let entries = std::fs::read_dir(&texts_dir)
                .map_err(|e| malformed(&texts_dir.display().to_string(), e))?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "yml") {
                    texts.push((path.display().to_string(), read(&path)?));
                }
            }
        }
        let overlay = Self::parse_parts(
            extra_templates.as_deref().unwrap_or("templates: []"),
            texts.iter().map(|(f, t)| (f.clone(), t.as_str())),
            Some(&library),
        )?;
        for template in overlay.templates {
            match library.templates.iter_mut().find(|t| t.id == template.id) {
                Some(existing) => *existing = template,
                None => library.templates.push(template),
            }
        }
        library.check()?;
        Ok(library)
    }

    fn parse<'a>(
        templates: &str,
        texts: impl Iterator<Item = (String, &'a str)>,
    ) -> Result<Self, TemplateError> {
        let library = Self::parse_parts(templates, texts, None)?;
        library.check()?;
        Ok(library)
    }

    /// Reads the files. Texts for ids the templates file lacks apply to `base`'s templates.
    fn parse_parts<'a>(
        templates: &str,
        texts: impl Iterator<Item = (String, &'a str)>,
        base: Option<&TemplateLibrary>,
    ) -> Result<Self, TemplateError> {
        let file: TemplateFile =
            serde_yaml::from_str(templates).map_err(|e| malformed("templates.yml", e))?;
        let mut list: Vec<StepTemplate> = file
            .templates
            .into_iter()
            .map(|t| StepTemplate {
                id: t.id,
                who_acts: t.who_acts,
                documents: t.documents,
                topics: t.topics,
                links: t.links,
                texts: BTreeMap::new(),
            })
            .collect();
        for (name, content) in texts {
            let file: TextFile = serde_yaml::from_str(content).map_err(|e| malformed(&name, e))?;
            let language = Language::parse(&file.language)
                .map_err(|_| malformed(&name, format!("unknown language {}", file.language)))?;
            for (id, mut text) in file.templates {
                text.provenance.get_or_insert(file.provenance);
                let target = match list.iter_mut().find(|t| t.id == id) {
                    Some(t) => t,
                    None => {
                        let Some(from_base) = base.and_then(|b| b.get(&id)) else {
                            return Err(malformed(&name, format!("no template {id}")));
                        };
                        list.push(from_base.clone());
                        list.last_mut().expect("just pushed")
                    }
                };
                target.texts.insert(language.code().to_owned(), text);
            }
        }
        Ok(Self {
            templates: list.into_iter().map(Arc::new).collect(),
        })
    }

    /// Every template needs French, valid document kinds and links, and each translation the
    /// same number of tasks as the French (translations align task by task).
    fn check(&self) -> Result<(), TemplateError> {
        let mut seen = std::collections::HashSet::new();
        for t in &self.templates {
            let invalid = |message: String| TemplateError::Invalid {
                id: t.id.clone(),
                message,
            };
            if !seen.insert(&t.id) {
                return Err(invalid("listed twice".into()));
            }
            if t.id.is_empty()
                || !t
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(invalid(
                    "ids are lower-case letters, digits and dashes".into(),
                ));
            }
            if let Some(kind) = t
                .documents
                .iter()
                .find(|d| !DOCUMENT_KINDS.contains(&d.as_str()))
            {
                return Err(invalid(format!("unknown document kind {kind}")));
            }
            if let Some(link) = t.links.iter().find(|l| WebUrl::parse(l).is_err()) {
                return Err(invalid(format!("not a web address: {link}")));
            }
            let Some(french) = t.texts.get(Language::REFERENCE) else {
                return Err(invalid("no French text".into()));
            };
            for (code, text) in &t.texts {
                if text.tasks.len() != french.tasks.len() {
                    return Err(invalid(format!(
                        "{code} has {} tasks, French has {}",
                        text.tasks.len(),
                        french.tasks.len()
                    )));
                }
                if text.title.trim().is_empty() || text.explanation.trim().is_empty() {
                    return Err(invalid(format!("{code} has an empty title or explanation")));
                }
            }
        }
        Ok(())
    }

    /// Topics unknown to the catalogue's reference lists, as `template: topic`.
    pub fn unknown_topics(&self, reference: &ReferenceData) -> Vec<String> {
        self.templates
            .iter()
            .flat_map(|t| {
                t.topics
                    .iter()
                    .filter(|topic| !reference.contains(ListKind::Topics, topic))
                    .map(move |topic| format!("{}: {topic}", t.id))
            })
            .collect()
    }

    pub fn all(&self) -> &[Arc<StepTemplate>] {
        &self.templates
    }

    pub fn get(&self, id: &str) -> Option<&StepTemplate> {
        self.shared(id).map(Arc::as_ref)
    }

    /// The template, shared with the steps that follow it.
    pub fn shared(&self, id: &str) -> Option<&Arc<StepTemplate>> {
        self.templates.iter().find(|t| t.id == id)
    }

    /// The languages (of every supported one) a template has no text in.
    pub fn missing_languages(&self, id: &str) -> Vec<String> {
        let Some(t) = self.get(id) else {
            return Vec::new();
        };
        Language::all()
            .iter()
            .map(|l| l.code.to_string())
            .filter(|code| !t.texts.contains_key(code))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_in_every_language_and_in_easy_french() {
        let library = TemplateLibrary::builtin();
        assert!(
            library.all().len() >= 20,
            "{} templates",
            library.all().len()
        );
        for t in library.all() {
            let missing = library.missing_languages(&t.id);
            assert!(missing.is_empty(), "{} lacks {missing:?}", t.id);
            assert!(
                t.texts.contains_key("fr-x-falc"),
                "{} has no FALC text",
                t.id
            );
            for (code, text) in &t.texts {
                assert!(
                    text.title.chars().count() <= 120,
                    "{} {code}: long title",
                    t.id
                );
                let provenance = text.provenance.expect("every text has a provenance");
                // Only the French texts are originals; translations say they are translations.
                let original = code == "fr" || code == "fr-x-falc";
                assert_eq!(
                    provenance == Provenance::Original,
                    original,
                    "{} {code}: {provenance:?}",
                    t.id
                );
            }
        }
    }

    #[test]
    fn template_topics_are_catalogue_topics() {
        let unknown = TemplateLibrary::builtin().unknown_topics(&ReferenceData::builtin());
        assert!(unknown.is_empty(), "{unknown:?}");
    }

    #[test]
    fn a_translation_that_loses_a_task_is_refused() {
        let templates = "templates:\n  - id: essai\n    who_acts: person\n";
        let fr = "language: fr\nprovenance: original\ntemplates:\n  essai:\n    title: \"Essai\"\n    explanation: \"Une explication.\"\n    tasks: [\"Un\", \"Deux\"]\n";
        let en = "language: en\nprovenance: machine\ntemplates:\n  essai:\n    title: \"Test\"\n    explanation: \"An explanation.\"\n    tasks: [\"One\"]\n";
        let err = TemplateLibrary::parse(
            templates,
            [("fr.yml".to_owned(), fr), ("en.yml".to_owned(), en)].into_iter(),
        )
        .unwrap_err();
        assert!(
            matches!(err, TemplateError::Invalid { ref message, .. } if message.contains("en has 1 tasks")),
            "{err}"
        );
        let unknown_kind =
            "templates:\n  - id: essai\n    who_acts: person\n    documents: [fiche_de_paie]\n";
        let err = TemplateLibrary::parse(unknown_kind, [("fr.yml".to_owned(), fr)].into_iter())
            .unwrap_err();
        assert!(err.to_string().contains("fiche_de_paie"));
    }

    #[test]
    fn a_collectivity_adds_a_template_and_replaces_a_text() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("texts")).unwrap();
        std::fs::write(
            dir.path().join("templates.yml"),
            "templates:\n  - id: carte-mobilite-yonne\n    who_acts: person\n    documents: [identity, proof_of_address]\n",
        )
        .unwrap();
        let builtin = TemplateLibrary::builtin();
        let first = &builtin.all()[0];
        let tasks: Vec<String> = first.texts["fr"]
            .tasks
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect();
        std::fs::write(
            dir.path().join("texts/fr.yml"),
            format!(
                "language: fr\nprovenance: original\ntemplates:\n  carte-mobilite-yonne:\n    title: \"Demander la carte mobilité de l’Yonne\"\n    explanation: \"Une carte pour voyager moins cher.\"\n    tasks: [\"Remplir le formulaire\"]\n  {}:\n    title: \"Titre revu par le département\"\n    explanation: \"Explication locale.\"\n    tasks: [{}]\n",
                first.id,
                tasks.join(", ")
            ),
        )
        .unwrap();
        let library = TemplateLibrary::with_overrides(dir.path()).unwrap();
        assert_eq!(library.all().len(), builtin.all().len() + 1);
        assert_eq!(
            library.get(&first.id).unwrap().texts["fr"].title,
            "Titre revu par le département"
        );
        assert_eq!(
            library.get(&first.id).unwrap().texts["ar"],
            first.texts["ar"],
            "other languages stay"
        );
        assert_eq!(
            library.missing_languages("carte-mobilite-yonne").len(),
            Language::all().len() - 1
        );
    }
}
