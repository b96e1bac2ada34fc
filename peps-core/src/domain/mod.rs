//! Domain types, one module per area. Constructors validate (parse, don't validate), so a value
//! of these types is always well-formed.

pub mod codes;
pub mod contact;
pub mod identity;
pub mod ids;
pub mod key_id;
pub mod language;
pub mod place;
pub mod siret;
pub mod text;
pub mod translation;
mod value;

pub use contact::{Phone, WebUrl};
pub use identity::*;
pub use ids::*;
pub use key_id::KeyId;
pub use language::{Direction, Language, LanguageInfo};
pub use place::DepartementCode;
pub use siret::Siret;
pub use text::check_shown_text;
pub use translation::{
    Localized, MadeFrom, Provenance, SourceHash, SourceText, TranslatableText, Translation,
};
pub use value::InvalidValue;
