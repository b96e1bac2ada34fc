//! Domain types, one module per area. Constructors validate (parse, don't validate), so a value
//! of these types is always well-formed.

pub mod identity;
pub mod ids;
pub mod language;
pub mod siret;
pub mod text;
pub mod translation;

pub use identity::*;
pub use ids::*;
pub use language::{Direction, Language, LanguageInfo};
pub use siret::Siret;
pub use text::check_shown_text;
pub use translation::{
    Localized, MadeFrom, Provenance, SourceHash, SourceText, TranslatableText, Translation,
};
