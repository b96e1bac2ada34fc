//! Content written in French, and its translations. A translation records who made it and the
//! French it was made from, so that when the French changes it stops being shown (readers get
//! the French, marked as such) instead of saying something the author no longer says. Offers,
//! plan titles and step texts all keep their translations this way.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use super::Language;

/// Who wrote a text: its author, a person who checked a translation, or a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    #[default]
    Original,
    HumanReviewed,
    Machine,
}

impl Provenance {
    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Original => "original",
            Provenance::HumanReviewed => "human_reviewed",
            Provenance::Machine => "machine",
        }
    }
}

/// Identifies the French a translation was made from: a short hash of its texts. Only ever
/// compared: a hash read from the database or sent back by a client is taken as it is (one
/// that matches no French just marks its translation as out of date).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourceHash(String);

impl SourceHash {
    /// The hash of French texts, taken in order and kept apart (`["ab", "c"]` and
    /// `["a", "bc"]` differ). Stored with translations and in template versions, so its
    /// spelling (16 hex digits of SHA-256) never changes.
    pub fn of(parts: &[&str]) -> SourceHash {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        SourceHash(
            hasher
                .finalize()
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for SourceHash {
    fn from(value: String) -> Self {
        SourceHash(value)
    }
}

impl From<SourceHash> for String {
    fn from(value: SourceHash) -> Self {
        value.0
    }
}

impl fmt::Display for SourceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// French that a translation can be made from.
pub trait SourceText {
    fn source_hash(&self) -> SourceHash;
}

impl SourceText for str {
    fn source_hash(&self) -> SourceHash {
        SourceHash::of(&[self])
    }
}

impl SourceText for String {
    fn source_hash(&self) -> SourceHash {
        self.as_str().source_hash()
    }
}

impl SourceText for [String] {
    fn source_hash(&self) -> SourceHash {
        let parts: Vec<&str> = self.iter().map(String::as_str).collect();
        SourceHash::of(&parts)
    }
}

impl SourceText for Vec<String> {
    fn source_hash(&self) -> SourceHash {
        self.as_slice().source_hash()
    }
}

/// What a translation knows of its French: its hash ([`SourceHash`]), or, for offer
/// translations written before hashes were kept or imported without one, maybe nothing
/// (`Option<SourceHash>`: such a translation is never taken as current).
pub trait MadeFrom {
    fn made_from(&self) -> Option<&SourceHash>;
}

impl MadeFrom for SourceHash {
    fn made_from(&self) -> Option<&SourceHash> {
        Some(self)
    }
}

impl MadeFrom for Option<SourceHash> {
    fn made_from(&self) -> Option<&SourceHash> {
        self.as_ref()
    }
}

/// A translation of some French `T` (a text, a list of tasks, an offer's texts), with who
/// made it and the French it was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translation<T, H = SourceHash> {
    pub value: T,
    pub provenance: Provenance,
    /// When the French changes, this no longer matches and the translation is not shown.
    pub source_hash: H,
}

impl<T> Translation<T> {
    pub fn new(value: T, provenance: Provenance, source_hash: SourceHash) -> Self {
        Translation {
            value,
            provenance,
            source_hash,
        }
    }
}

impl<T, H: MadeFrom> Translation<T, H> {
    /// Whether it was made from the French whose hash is `source`.
    pub fn is_current_for(&self, source: &SourceHash) -> bool {
        self.source_hash.made_from() == Some(source)
    }
}

/// The translation a reader of `language` is shown: `translation` if it was made from the
/// current French (`source`); `None` when the French is to be shown, either because it was
/// asked for or because there is no current translation.
pub fn current<'a, T, H: MadeFrom>(
    language: &str,
    translation: Option<&'a Translation<T, H>>,
    source: &SourceHash,
) -> Option<&'a Translation<T, H>> {
    translation.filter(|t| language != Language::REFERENCE && t.is_current_for(source))
}

/// A text in the reader's language, or the French with `fallback` set, so that a page can say
/// which language it shows and a machine translation is never taken for the author's words.
#[derive(Debug, PartialEq, Eq)]
pub struct Localized<'a, T: ?Sized> {
    pub value: &'a T,
    pub language: &'a str,
    pub provenance: Provenance,
    pub fallback: bool,
}

impl<'a, T: ?Sized> Localized<'a, T> {
    /// The French, marked as a fallback when `asked` is another language.
    pub fn french(value: &'a T, asked: &str) -> Self {
        Localized {
            value,
            language: Language::REFERENCE,
            provenance: Provenance::Original,
            fallback: asked != Language::REFERENCE,
        }
    }

    /// Text that is in `language` as it is (a template's vetted translation).
    pub fn as_is(value: &'a T, language: &'a str, provenance: Provenance) -> Self {
        Localized {
            value,
            language,
            provenance,
            fallback: false,
        }
    }

    /// `translation` into `language` if it is current for `source`, else the `french`.
    pub fn pick<U: Borrow<T>, H: MadeFrom>(
        language: &'a str,
        translation: Option<&'a Translation<U, H>>,
        source: &SourceHash,
        french: &'a T,
    ) -> Self {
        match current(language, translation, source) {
            Some(t) => Localized::as_is(t.value.borrow(), language, t.provenance),
            None => Localized::french(french, language),
        }
    }
}

/// French written by a worker (a plan's title), with its translations by language code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranslatableText<T = String> {
    pub french: T,
    #[serde(default)]
    pub translations: BTreeMap<String, Translation<T>>,
}

impl<T: SourceText> TranslatableText<T> {
    pub fn new(french: T) -> Self {
        Self {
            french,
            translations: BTreeMap::new(),
        }
    }

    pub fn source_hash(&self) -> SourceHash {
        self.french.source_hash()
    }

    /// Replaces the French; translations of the former text stop being shown.
    pub fn set_french(&mut self, french: T) {
        self.french = french;
    }

    /// Sets the translation of the current French into `language`.
    pub fn translate(&mut self, language: &str, value: T, provenance: Provenance) {
        let source = self.source_hash();
        self.translations.insert(
            language.to_owned(),
            Translation::new(value, provenance, source),
        );
    }

    /// Whether `language` reads without falling back to French (French always does).
    pub fn is_current_in(&self, language: &str) -> bool {
        language == Language::REFERENCE
            || self
                .translations
                .get(language)
                .is_some_and(|t| t.is_current_for(&self.source_hash()))
    }

    /// The text in `language` when a current translation exists, else the French.
    pub fn localized<'a>(&'a self, language: &'a str) -> Localized<'a, T::Target>
    where
        T: Deref + Borrow<T::Target>,
    {
        Localized::pick(
            language,
            self.translations.get(language),
            &self.source_hash(),
            self.french.deref(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_hash_keeps_its_spelling_and_keeps_texts_apart() {
        // Stored in every translation and template version: a change would make every
        // stored translation look out of date.
        assert_eq!(SourceHash::of(&["Logement"]).as_str().len(), 16);
        assert_eq!(SourceHash::of(&[]).as_str(), "e3b0c44298fc1c14");
        assert_eq!(SourceHash::of(&[""]).as_str(), "6e340b9cffb37a98");
        assert_ne!(SourceHash::of(&["ab", "c"]), SourceHash::of(&["a", "bc"]));
        assert_eq!("Logement".source_hash(), SourceHash::of(&["Logement"]));
        let tasks = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(tasks.source_hash(), SourceHash::of(&["a", "b"]));
    }

    #[test]
    fn only_a_translation_of_the_current_french_is_shown() {
        let source = SourceHash::of(&["Logement"]);
        let t = Translation::new("السكن".to_owned(), Provenance::Machine, source.clone());
        let shown: Localized<'_, str> = Localized::pick("ar", Some(&t), &source, "Logement");
        assert_eq!(shown, Localized::as_is("السكن", "ar", Provenance::Machine));
        let other = SourceHash::of(&["Trouver un logement"]);
        let shown: Localized<'_, str> =
            Localized::pick("ar", Some(&t), &other, "Trouver un logement");
        assert_eq!((shown.value, shown.language), ("Trouver un logement", "fr"));
        assert!(shown.fallback && shown.provenance == Provenance::Original);
        // French asked for: French, not a fallback.
        let shown: Localized<'_, str> = Localized::pick("fr", Some(&t), &source, "Logement");
        assert!(!shown.fallback && shown.value == "Logement");
    }

    #[test]
    fn a_translation_whose_source_is_unknown_is_never_current() {
        let source = SourceHash::of(&["x"]);
        let unknown: Translation<(), Option<SourceHash>> = Translation {
            value: (),
            provenance: Provenance::HumanReviewed,
            source_hash: None,
        };
        assert!(!unknown.is_current_for(&source));
        assert!(current("en", Some(&unknown), &source).is_none());
    }

    #[test]
    fn a_translatable_text_is_stored_as_before() {
        let mut title = TranslatableText::new("Logement".to_owned());
        title.translate("ar", "السكن".into(), Provenance::Machine);
        let stored = serde_json::to_value(&title).unwrap();
        assert_eq!(
            stored,
            json!({
                "french": "Logement",
                "translations": {"ar": {
                    "value": "السكن",
                    "provenance": "machine",
                    "source_hash": SourceHash::of(&["Logement"]).as_str(),
                }},
            })
        );
        let back: TranslatableText = serde_json::from_value(stored).unwrap();
        assert_eq!(back, title);
        let bare: TranslatableText = serde_json::from_value(json!({"french": "x"})).unwrap();
        assert!(bare.translations.is_empty());

        let localized = title.localized("ar");
        assert_eq!((localized.value, localized.fallback), ("السكن", false));
        title.set_french("Trouver un logement".into());
        assert!(!title.is_current_in("ar") && title.is_current_in("fr"));
        assert!(title.localized("ar").fallback);
    }
}
