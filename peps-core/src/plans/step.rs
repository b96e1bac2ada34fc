//! The texts of a step (démarche) of a person's plan: French, and translations that know which
//! French they were made from, field by field.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

use super::templates::{StepTemplate, TemplateText};
use crate::domain::Language;
pub use crate::domain::translation::Localized;
use crate::domain::translation::{Provenance, SourceHash, SourceText, Translation};

/// A step's texts in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StepTexts {
    pub title: String,
    pub explanation: String,
    pub tasks: Vec<String>,
}

/// The translations of a step into one language, field by field, so that adapting one field
/// of a vetted text keeps the other fields' vetted translations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StepTranslation {
    pub title: Option<Translation<String>>,
    pub explanation: Option<Translation<String>>,
    pub tasks: Option<Translation<Vec<String>>>,
}

/// A step's texts as a reader sees them in one language.
#[derive(Debug, PartialEq, Eq)]
pub struct LocalizedStep<'a> {
    pub title: Localized<'a, str>,
    pub explanation: Localized<'a, str>,
    pub tasks: Localized<'a, [String]>,
}

/// The language-bearing part of a step, as stored: what the worker wrote, and for a step made
/// from a template, nothing of the template's texts. A step that follows a template reads the
/// template's current French and vetted translations for every field the worker did not adapt,
/// so a correction of the template reaches it; a stored step stays a few hundred bytes instead
/// of a copy of every language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StepContent {
    /// The worker's French, field by field: every field of a free step, the adapted ones of a
    /// step made from a template (`None`: the template's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<String>>,
    /// Translations of the worker's fields (and of template fields into a language the
    /// template lacks), by language code (`ar`, `fr-x-falc`…).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, StepTranslation>,
    /// The template the step follows, shared with every step that does; never stored (the
    /// step's `template` reference names it, and the plan use cases set it on reading).
    #[serde(skip)]
    template: Option<Arc<StepTemplate>>,
}

fn field<T>(value: T, provenance: Provenance, source: SourceHash) -> Option<Translation<T>> {
    Some(Translation::new(value, provenance, source))
}

/// Which of the three fields.
#[derive(Clone, Copy)]
enum Field {
    Title,
    Explanation,
    Tasks,
}

impl StepContent {
    /// A free step: the worker wrote every field.
    pub fn free(french: StepTexts) -> StepContent {
        StepContent {
            title: Some(french.title),
            explanation: Some(french.explanation),
            tasks: Some(french.tasks),
            translations: BTreeMap::new(),
            template: None,
        }
    }

    /// A step that follows a template, adapted in nothing yet.
    pub fn from_template(template: Arc<StepTemplate>) -> StepContent {
        StepContent {
            template: Some(template),
            ..StepContent::default()
        }
    }

    /// Sets the template whose texts the fields the worker did not adapt read (`None`: the
    /// template is gone, those fields read empty).
    pub fn follow(&mut self, template: Option<Arc<StepTemplate>>) {
        self.template = template;
    }

    pub fn template(&self) -> Option<&StepTemplate> {
        self.template.as_deref()
    }

    fn template_text(&self, language: &str) -> Option<&TemplateText> {
        self.template.as_ref()?.texts.get(language)
    }

    fn is_own(&self, field: Field) -> bool {
        match field {
            Field::Title => self.title.is_some(),
            Field::Explanation => self.explanation.is_some(),
            Field::Tasks => self.tasks.is_some(),
        }
    }

    /// The fields the worker wrote or adapted (every field of a free step).
    pub fn own_fields(&self) -> Vec<&'static str> {
        [Field::Title, Field::Explanation, Field::Tasks]
            .into_iter()
            .zip(super::templates::TEXT_FIELDS)
            .filter(|(f, _)| self.is_own(*f))
            .map(|(_, name)| name)
            .collect()
    }

    pub fn french_title(&self) -> &str {
        self.title
            .as_deref()
            .or_else(|| Some(self.template_text(Language::REFERENCE)?.title.as_str()))
            .unwrap_or_default()
    }

    pub fn french_explanation(&self) -> &str {
        self.explanation
            .as_deref()
            .or_else(|| {
                Some(
                    self.template_text(Language::REFERENCE)?
                        .explanation
                        .as_str(),
                )
            })
            .unwrap_or_default()
    }

    pub fn french_tasks(&self) -> &[String] {
        self.tasks
            .as_deref()
            .or_else(|| Some(self.template_text(Language::REFERENCE)?.tasks.as_slice()))
            .unwrap_or_default()
    }

    /// The French as read: the worker's fields, the template's for the others.
    pub fn french(&self) -> StepTexts {
        StepTexts {
            title: self.french_title().to_owned(),
            explanation: self.french_explanation().to_owned(),
            tasks: self.french_tasks().to_vec(),
        }
    }

    fn title_hash(&self) -> SourceHash {
        self.french_title().source_hash()
    }

    fn explanation_hash(&self) -> SourceHash {
        self.french_explanation().source_hash()
    }

    fn tasks_hash(&self) -> SourceHash {
        self.french_tasks().source_hash()
    }

    /// Replaces the French. A field equal to the template's follows the template again; any
    /// other becomes the worker's, and its former translations are no longer shown (the other
    /// fields keep their vetted translations).
    pub fn adapt(&mut self, french: StepTexts) {
        let template = self.template_text(Language::REFERENCE).cloned();
        let own = |value: &str, of_template: Option<&str>| of_template != Some(value);
        self.title =
            own(&french.title, template.as_ref().map(|t| t.title.as_str())).then_some(french.title);
        self.explanation = own(
            &french.explanation,
            template.as_ref().map(|t| t.explanation.as_str()),
        )
        .then_some(french.explanation);
        self.tasks =
            (template.as_ref().map(|t| &t.tasks) != Some(&french.tasks)).then_some(french.tasks);
        self.prune();
    }

    /// Drops stored translations nobody can see any more: of a field that follows the
    /// template in a language the template has, or made from a former French.
    pub fn prune(&mut self) {
        let (title, explanation, tasks) = (
            self.title_hash(),
            self.explanation_hash(),
            self.tasks_hash(),
        );
        let template_has = |code: &str, field: Field, me: &Self| {
            !me.is_own(field) && me.template_text(code).is_some()
        };
        let mut translations = std::mem::take(&mut self.translations);
        for (code, t) in translations.iter_mut() {
            if template_has(code, Field::Title, self) || !current(&t.title, &title) {
                t.title = None;
            }
            if template_has(code, Field::Explanation, self)
                || !current(&t.explanation, &explanation)
            {
                t.explanation = None;
            }
            if template_has(code, Field::Tasks, self) || !current(&t.tasks, &tasks) {
                t.tasks = None;
            }
        }
        translations
            .retain(|_, t| t.title.is_some() || t.explanation.is_some() || t.tasks.is_some());
        self.translations = translations;
    }

    /// Sets the translation of the current French into `language` (a machine or a person).
    pub fn translate(&mut self, language: &str, texts: StepTexts, provenance: Provenance) {
        let (title, explanation, tasks) = (
            self.title_hash(),
            self.explanation_hash(),
            self.tasks_hash(),
        );
        let aligned = texts.tasks.len() == self.french_tasks().len();
        let entry = self.translations.entry(language.to_owned()).or_default();
        entry.title = field(texts.title, provenance, title);
        entry.explanation = field(texts.explanation, provenance, explanation);
        entry.tasks = aligned
            .then(|| field(texts.tasks, provenance, tasks))
            .flatten();
    }

    /// Sets the translation of the fields that have no current one in `language`, keeping the
    /// current ones (a vetted title survives a machine translation of a new explanation).
    pub fn fill_stale(&mut self, language: &str, texts: StepTexts, provenance: Provenance) {
        let missing = [Field::Title, Field::Explanation, Field::Tasks]
            .map(|f| !self.has_current(language, f));
        let (title, explanation, tasks) = (
            self.title_hash(),
            self.explanation_hash(),
            self.tasks_hash(),
        );
        let aligned = texts.tasks.len() == self.french_tasks().len();
        let entry = self.translations.entry(language.to_owned()).or_default();
        if missing[0] {
            entry.title = field(texts.title, provenance, title);
        }
        if missing[1] {
            entry.explanation = field(texts.explanation, provenance, explanation);
        }
        if missing[2] && aligned {
            entry.tasks = field(texts.tasks, provenance, tasks);
        }
    }

    /// Whether `field` reads in `language` without falling back to French.
    fn has_current(&self, language: &str, field: Field) -> bool {
        if language == Language::REFERENCE
            || (!self.is_own(field) && self.template_text(language).is_some())
        {
            return true;
        }
        let Some(t) = self.translations.get(language) else {
            return false;
        };
        match field {
            Field::Title => current(&t.title, &self.title_hash()),
            Field::Explanation => current(&t.explanation, &self.explanation_hash()),
            Field::Tasks => current(&t.tasks, &self.tasks_hash()),
        }
    }

    /// Whether every field has a current translation in `language` (French always has).
    pub fn is_current_in(&self, language: &str) -> bool {
        [Field::Title, Field::Explanation, Field::Tasks]
            .into_iter()
            .all(|f| self.has_current(language, f))
    }

    /// The languages whose stored translation lacks a current version of some field (to send
    /// to the translator after an edit).
    pub fn stale_languages(&self) -> Vec<&str> {
        let template = self.template.iter().flat_map(|t| t.texts.keys());
        let mut languages: Vec<&str> = self
            .translations
            .keys()
            .chain(template)
            .map(String::as_str)
            .filter(|code| !self.is_current_in(code))
            .collect();
        languages.sort_unstable();
        languages.dedup();
        languages
    }

    /// The step in `language`, field by field: the template's text for a field the worker did
    /// not adapt, else a current translation, else the French.
    pub fn localized<'a>(&'a self, language: &'a str) -> LocalizedStep<'a> {
        let template = self
            .template_text(language)
            .filter(|_| language != Language::REFERENCE);
        let from_template = |field: Field| template.filter(|_| !self.is_own(field));
        let provenance = |t: &TemplateText| t.provenance.unwrap_or(Provenance::Machine);
        let translation = self.translations.get(language);
        let text = |field: Field, of_template: fn(&TemplateText) -> &str| {
            if let Some(t) = from_template(field) {
                return Localized::as_is(of_template(t), language, provenance(t));
            }
            let (stored, hash, french) = match field {
                Field::Title => (
                    translation.and_then(|t| t.title.as_ref()),
                    self.title_hash(),
                    self.french_title(),
                ),
                _ => (
                    translation.and_then(|t| t.explanation.as_ref()),
                    self.explanation_hash(),
                    self.french_explanation(),
                ),
            };
            Localized::pick(language, stored, &hash, french)
        };
        let tasks = match from_template(Field::Tasks) {
            Some(t) => Localized::as_is(t.tasks.as_slice(), language, provenance(t)),
            None => Localized::pick(
                language,
                translation.and_then(|t| t.tasks.as_ref()),
                &self.tasks_hash(),
                self.french_tasks(),
            ),
        };
        LocalizedStep {
            title: text(Field::Title, |t| t.title.as_str()),
            explanation: text(Field::Explanation, |t| t.explanation.as_str()),
            tasks,
        }
    }
}

fn current<T>(field: &Option<Translation<T>>, hash: &SourceHash) -> bool {
    field.as_ref().is_some_and(|f| f.is_current_for(hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plans::TemplateLibrary;

    fn rsa() -> StepContent {
        let library = TemplateLibrary::builtin();
        StepContent::from_template(library.shared("demander-le-rsa").unwrap().clone())
    }

    #[test]
    fn a_template_step_reads_in_every_language() {
        let step = rsa();
        for code in ["ar", "ti", "fr-x-falc", "zh-Hans"] {
            let read = step.localized(code);
            assert_eq!(read.title.language, code);
            assert!(!read.title.fallback && !read.tasks.fallback);
            assert_eq!(read.tasks.value.len(), step.french_tasks().len());
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
        let mut french = step.french();
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
        let mut step = StepContent::free(step.french());
        texts.tasks.pop();
        step.translate("ar", texts, Provenance::Machine);
        assert!(step.localized("ar").tasks.fallback);
        assert!(!step.localized("ar").title.fallback);
    }

    #[test]
    fn translations_are_stored_field_by_field_as_before() {
        let mut step = StepContent::free(StepTexts {
            title: "Aller à la permanence".into(),
            explanation: "Le mardi matin.".into(),
            tasks: vec!["Prendre ses papiers".into()],
        });
        step.translate(
            "en",
            StepTexts {
                title: "Go to the office".into(),
                explanation: "On Tuesday morning.".into(),
                tasks: vec!["Take your papers".into()],
            },
            Provenance::HumanReviewed,
        );
        let stored = serde_json::to_value(&step).unwrap();
        let hash = |parts: &[&str]| SourceHash::of(parts).as_str().to_owned();
        assert_eq!(
            stored,
            serde_json::json!({
                "title": "Aller à la permanence",
                "explanation": "Le mardi matin.",
                "tasks": ["Prendre ses papiers"],
                "translations": {"en": {
                    "title": {
                        "value": "Go to the office",
                        "provenance": "human_reviewed",
                        "source_hash": hash(&["Aller à la permanence"]),
                    },
                    "explanation": {
                        "value": "On Tuesday morning.",
                        "provenance": "human_reviewed",
                        "source_hash": hash(&["Le mardi matin."]),
                    },
                    "tasks": {
                        "value": ["Take your papers"],
                        "provenance": "human_reviewed",
                        "source_hash": hash(&["Prendre ses papiers"]),
                    },
                }},
            })
        );
        let back: StepContent = serde_json::from_value(stored).unwrap();
        assert_eq!(back, step);
    }

    #[test]
    fn a_language_without_translation_falls_back_to_french_visibly() {
        let step = StepContent::free(StepTexts {
            title: "Aller à la permanence".into(),
            explanation: "Le mardi matin.".into(),
            tasks: vec!["Prendre ses papiers".into()],
        });
        let read = step.localized("ps");
        assert_eq!(read.title.language, "fr");
        assert!(read.title.fallback && read.explanation.fallback && read.tasks.fallback);
    }
}
