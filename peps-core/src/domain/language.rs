//! The 22 languages PEPS speaks (data/languages.tsv, copied from the shared design), their native
//! names and writing direction, and the choice of a language from an Accept-Language header.

use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

use crate::error::ValidationError;

/// Calls `$callback!` with every language code as a literal, for files compiled in per
/// language (`include_str!` needs literal paths). Tests check the list against languages.tsv.
macro_rules! with_language_codes {
    ($callback:ident) => {
        $callback!(
            "fr",
            "fr-x-falc",
            "en",
            "ar",
            "es",
            "pt",
            "ro",
            "ru",
            "uk",
            "pl",
            "sq",
            "ka",
            "tr",
            "fa",
            "ps",
            "ur",
            "bn",
            "ta",
            "zh-Hans",
            "ti",
            "am",
            "so",
            "ff"
        )
    };
}
pub(crate) use with_language_codes;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ltr,
    Rtl,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LanguageInfo {
    pub code: String,
    pub name: String,
    pub native_name: String,
    pub direction: Direction,
    pub note: String,
}

static LANGUAGES: LazyLock<Vec<LanguageInfo>> = LazyLock::new(|| {
    include_str!("../../data/languages.tsv")
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut cols = line.split('\t');
            let mut next = || cols.next().unwrap_or("").trim().to_owned();
            let (code, name, native_name, direction, note) =
                (next(), next(), next(), next(), next());
            LanguageInfo {
                code,
                name,
                native_name,
                direction: if direction == "rtl" {
                    Direction::Rtl
                } else {
                    Direction::Ltr
                },
                note,
            }
        })
        .collect()
});

/// A language PEPS supports, by its code in languages.tsv (`fr`, `fr-x-falc`, `zh-Hans`…).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

impl Language {
    pub const REFERENCE: &'static str = "fr";
    pub const FALLBACK: &'static str = "en";

    pub fn all() -> &'static [LanguageInfo] {
        &LANGUAGES
    }

    pub fn french() -> Self {
        Self(Self::REFERENCE.to_owned())
    }

    /// Accepts a supported code, case-insensitively (`ZH-hans` is `zh-Hans`).
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        LANGUAGES
            .iter()
            .find(|l| l.code.eq_ignore_ascii_case(raw.trim()))
            .map(|l| Self(l.code.clone()))
            .ok_or(ValidationError::new("language", "language.unsupported"))
    }

    pub fn code(&self) -> &str {
        &self.0
    }

    pub fn info(&self) -> &'static LanguageInfo {
        LANGUAGES
            .iter()
            .find(|l| l.code == self.0)
            .expect("a Language is only built from the table")
    }

    pub fn direction(&self) -> Direction {
        self.info().direction
    }

    /// The best supported language for an HTTP `Accept-Language` value, by quality then order;
    /// `fr-FR` matches `fr`, `zh-CN` and `zh` match `zh-Hans`. French when nothing matches.
    pub fn negotiate(accept_language: Option<&str>) -> Self {
        let Some(header) = accept_language else {
            return Self::french();
        };
        let mut ranges: Vec<(f32, usize, &str)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut pieces = part.trim().split(';');
                let tag = pieces.next()?.trim();
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                (!tag.is_empty() && q > 0.0).then_some((q, i, tag))
            })
            .collect();
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranges
            .iter()
            .find_map(|(_, _, tag)| Self::match_tag(tag))
            .unwrap_or_else(Self::french)
    }

    fn match_tag(tag: &str) -> Option<Self> {
        if let Ok(exact) = Self::parse(tag) {
            return Some(exact);
        }
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        if primary == "zh" {
            return Self::parse("zh-Hans").ok();
        }
        // "prs" (Dari) is served by the Persian entry, which covers Farsi and Dari.
        if primary == "prs" {
            return Self::parse("fa").ok();
        }
        Self::parse(&primary).ok()
    }
}

impl TryFrom<String> for Language {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Language> for String {
    fn from(value: Language) -> Self {
        value.0
    }
}

impl Default for Language {
    fn default() -> Self {
        Self::french()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_22_languages_with_french_first() {
        let all = Language::all();
        assert_eq!(
            all.len(),
            23,
            "22 languages plus the FALC variant of French"
        );
        assert_eq!(all[0].code, "fr");
        let rtl: Vec<_> = all
            .iter()
            .filter(|l| l.direction == Direction::Rtl)
            .map(|l| l.code.as_str())
            .collect();
        assert_eq!(rtl, ["ar", "fa", "ps", "ur"]);
    }

    #[test]
    fn negotiates_accept_language() {
        assert_eq!(Language::negotiate(None).code(), "fr");
        assert_eq!(Language::negotiate(Some("en-GB,en;q=0.9")).code(), "en");
        assert_eq!(Language::negotiate(Some("de, ar;q=0.5")).code(), "ar");
        assert_eq!(Language::negotiate(Some("zh-CN")).code(), "zh-Hans");
        assert_eq!(Language::negotiate(Some("uk;q=0.2, ru;q=0.8")).code(), "ru");
        assert_eq!(Language::negotiate(Some("fr-x-falc")).code(), "fr-x-falc");
        assert_eq!(Language::negotiate(Some("xx, ;;;, *")).code(), "fr");
        assert_eq!(Language::negotiate(Some("en;q=0")).code(), "fr");
    }

    /// The project's design folder sits beside the repository in CI (which sets `CI`), where the
    /// check is required; an adopter's clone has no such folder, and is told so.
    #[test]
    fn copy_matches_shared_design() {
        let shared = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/design/languages.tsv"
        );
        match std::fs::read_to_string(shared) {
            Ok(text) => assert_eq!(text, include_str!("../../data/languages.tsv")),
            Err(e) if std::env::var_os("CI").is_some() => {
                panic!("CI needs {shared} to check the language list against: {e}")
            }
            Err(_) => eprintln!("note: {shared} not found, language list not compared"),
        }
    }
}
