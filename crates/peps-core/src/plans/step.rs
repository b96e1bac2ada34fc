//! The texts of a step (démarche) of a person's plan: French, and translations that know which
//! French they were made from, field by field.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use super::templates::{StepTemplate, TemplateText};
use crate::catalogue::Provenance;
use crate::domain::Language;

/// A step's texts in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepTexts {
    pub title: String,
    pub explanation: String,
    pub tasks: Vec<String>,
}

/// A translation of one text field, tied to the French it was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranslatedField<T> {
    pub value: T,
    pub provenance: Provenance,
    /// Hash of the French source; when the French changes, this translation is stale.
    pub source_hash: String,
}

/// The translations of a step into one language, field by field, so that adapting one field
/// of a vetted text keeps the other fields' vetted translations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StepTranslation {
    pub title: Option<TranslatedField<String>>,
    pub explanation: Option<TranslatedField<String>>,
    pub tasks: Option<TranslatedField<Vec<String>>>,
}

pub(crate) fn hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl StepTexts {
    fn title_hash(&self) -> String {
        hash(&[&self.title])
    }

    fn explanation_hash(&self) -> String {
        hash(&[&self.explanation])
    }

    fn tasks_hash(&self) -> String {
        let parts: Vec<&str> = self.tasks.iter().map(String::as_str).collect();
        hash(&parts)
    }
}

/// A step's texts as a reader sees them in one language.
#[derive(Debug, PartialEq, Eq)]
pub struct LocalizedStep<'a> {
    pub title: Localized<'a, str>,
    pub explanation: Localized<'a, str>,
    pub tasks: Localized<'a, [String]>,
}

/// One field in the reader's language, or the French with `fallback` set.
#[derive(Debug, PartialEq, Eq)]
pub struct Localized<'a, T: ?Sized> {
    pub value: &'a T,
    pub language: &'a str,
    pub provenance: Provenance,
    pub fallback: bool,
}

/// The language-bearing part of a step: French source and translations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepContent {
    /// French, the source every translation is made from.
    pub french: StepTexts,
    /// By language code (`ar`, `fr-x-falc`…).
    pub translations: BTreeMap<String, StepTranslation>,
}

fn field<T>(value: T, provenance: Provenance, source_hash: String) -> Option<TranslatedField<T>> {
    Some(TranslatedField {
        value,
        provenance,
        source_hash,
    })
}

impl StepContent {
    /// A step's content from a template: its French and every translation it has.
    pub fn from_template(template: &StepTemplate) -> Option<StepContent> {
        let french = template.texts.get(Language::REFERENCE)?;
        let french = StepTexts {
            title: french.title.clone(),
            explanation: french.explanation.clone(),
            tasks: french.tasks.clone(),
        };
        let translations = template
            .texts
            .iter()
            .filter(|(code, _)| code.as_str() != Language::REFERENCE)
            .map(|(code, text): (&String, &TemplateText)| {
                let provenance = text.provenance.unwrap_or(Provenance::Machine);
                (
                    code.clone(),
                    StepTranslation {
                        title: field(text.title.clone(), provenance, french.title_hash()),
                        explanation: field(
                            text.explanation.clone(),
                            provenance,
                            french.explanation_hash(),
                        ),
                        tasks: field(text.tasks.clone(), provenance, french.tasks_hash()),
                    },
                )
            })
            .collect();
        Some(StepContent {
            french,
            translations,
        })
    }

    /// Replaces the French text. Translations of the fields that changed are no longer current
    /// (they stay stored, marked by their source hash, and are not shown); the others keep
    /// their vetted translations.
    pub fn adapt(&mut self, french: StepTexts) {
        self.french = french;
    }

    /// Sets the translation of the current French into `language` (a machine or a person).
    pub fn translate(&mut self, language: &str, texts: StepTexts, provenance: Provenance) {
        let entry = self.translations.entry(language.to_owned()).or_default();
        entry.title = field(texts.title, provenance, self.french.title_hash());
        entry.explanation = field(
            texts.explanation,
            provenance,
            self.french.explanation_hash(),
        );
        entry.tasks = (texts.tasks.len() == self.french.tasks.len())
            .then(|| field(texts.tasks, provenance, self.french.tasks_hash()))
            .flatten();
    }

    /// Sets the translation of the fields that have no current one in `language`, keeping the
    /// current ones (a vetted title survives a machine translation of a new explanation).
    pub fn fill_stale(&mut self, language: &str, texts: StepTexts, provenance: Provenance) {
        let (title, explanation, tasks) = (
            self.french.title_hash(),
            self.french.explanation_hash(),
            self.french.tasks_hash(),
        );
        let aligned = texts.tasks.len() == self.french.tasks.len();
        let entry = self.translations.entry(language.to_owned()).or_default();
        if !current(&entry.title, &title) {
            entry.title = field(texts.title, provenance, title);
        }
        if !current(&entry.explanation, &explanation) {
            entry.explanation = field(texts.explanation, provenance, explanation);
        }
        if !current(&entry.tasks, &tasks) && aligned {
            entry.tasks = field(texts.tasks, provenance, tasks);
        }
    }

    /// Whether every field has a current translation in `language` (French always has).
    pub fn is_current_in(&self, language: &str) -> bool {
        language == Language::REFERENCE
            || self.translations.get(language).is_some_and(|t| {
                current(&t.title, &self.french.title_hash())
                    && current(&t.explanation, &self.french.explanation_hash())
                    && current(&t.tasks, &self.french.tasks_hash())
            })
    }

    /// The languages whose translation lacks a current version of some field (to send to the
    /// translator after an edit).
    pub fn stale_languages(&self) -> Vec<&str> {
        self.translations
            .iter()
            .filter(|(_, t)| {
                !current(&t.title, &self.french.title_hash())
                    || !current(&t.explanation, &self.french.explanation_hash())
                    || !current(&t.tasks, &self.french.tasks_hash())
            })
            .map(|(code, _)| code.as_str())
            .collect()
    }

    /// The step in `language`, field by field: a current translation, else the French.
    pub fn localized<'a>(&'a self, language: &'a str) -> LocalizedStep<'a> {
        let translation = self.translations.get(language);
        let pick = |t: Option<&'a TranslatedField<String>>, french: &'a str, hash: String| match t {
            Some(t) if t.source_hash == hash => Localized {
                value: t.value.as_str(),
                language,
                provenance: t.provenance,
                fallback: false,
            },
            _ => Localized {
                value: french,
                language: Language::REFERENCE,
                provenance: Provenance::Original,
                fallback: language != Language::REFERENCE,
            },
        };
        let tasks = match translation.and_then(|t| t.tasks.as_ref()) {
            Some(t) if t.source_hash == self.french.tasks_hash() => Localized {
                value: t.value.as_slice(),
                language,
                provenance: t.provenance,
                fallback: false,
            },
            _ => Localized {
                value: self.french.tasks.as_slice(),
                language: Language::REFERENCE,
                provenance: Provenance::Original,
                fallback: language != Language::REFERENCE,
            },
        };
        LocalizedStep {
            title: pick(
                translation.and_then(|t| t.title.as_ref()),
                &self.french.title,
                self.french.title_hash(),
            ),
            explanation: pick(
                translation.and_then(|t| t.explanation.as_ref()),
                &self.french.explanation,
                self.french.explanation_hash(),
            ),
            tasks,
        }
    }
}

fn current<T>(field: &Option<TranslatedField<T>>, hash: &str) -> bool {
    field.as_ref().is_some_and(|f| f.source_hash == hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plans::TemplateLibrary;

    fn rsa() -> StepContent {
        let library = TemplateLibrary::builtin();
        StepContent::from_template(library.get("demander-le-rsa").unwrap()).unwrap()
    }

    #[test]
    fn a_template_step_reads_in_every_language() {
        let step = rsa();
        for code in ["ar", "ti", "fr-x-falc", "zh-Hans"] {
            let read = step.localized(code);
            assert_eq!(read.title.language, code);
            assert!(!read.title.fallback && !read.tasks.fallback);
            assert_eq!(read.tasks.value.len(), step.french.tasks.len());
        }
        assert_eq!(step.localized("ar").title.provenance, Provenance::Machine);
        assert_eq!(
            step.localized("fr-x-falc").title.provenance,
            Provenance::Original
        );
        let french = step.localized("fr");
        assert_eq!(
            (french.title.language, french.title.fallback),
            ("fr", false)
        );
        assert!(step.stale_languages().is_empty());
    }

    #[test]
    fn adapting_a_field_loses_only_that_fields_translations() {
        let mut step = rsa();
        let arabic_title = step.localized("ar").title.value.to_owned();
        let mut french = step.french.clone();
        french.explanation = "Votre référent vous aide à remplir la demande mardi.".into();
        step.adapt(french);

        let read = step.localized("ar");
        // The explanation changed: French is shown, visibly; the title keeps its translation.
        assert_eq!(read.explanation.language, "fr");
        assert!(read.explanation.fallback);
        assert_eq!(
            read.explanation.value,
            "Votre référent vous aide à remplir la demande mardi."
        );
        assert_eq!(read.title.value, arabic_title);
        assert!(!read.title.fallback);
        assert!(!read.tasks.fallback);
        assert!(step.stale_languages().contains(&"ar"));

        // A new machine translation of the current French makes it current again.
        let mut texts = StepTexts {
            title: arabic_title.clone(),
            explanation: "يساعدك المسؤول عن متابعتك يوم الثلاثاء.".into(),
            tasks: step.localized("ar").tasks.value.to_vec(),
        };
        step.translate("ar", texts.clone(), Provenance::Machine);
        assert!(!step.localized("ar").explanation.fallback);
        assert!(!step.stale_languages().contains(&"ar"));

        // A translation that loses a task is not taken for the tasks.
        texts.tasks.pop();
        step.translate("ar", texts, Provenance::Machine);
        assert!(step.localized("ar").tasks.fallback);
    }

    #[test]
    fn a_language_without_translation_falls_back_to_french_visibly() {
        let step = StepContent {
            french: StepTexts {
                title: "Aller à la permanence".into(),
                explanation: "Le mardi matin.".into(),
                tasks: vec!["Prendre ses papiers".into()],
            },
            translations: BTreeMap::new(),
        };
        let read = step.localized("ps");
        assert_eq!(read.title.language, "fr");
        assert!(read.title.fallback && read.explanation.fallback && read.tasks.fallback);
    }
}
