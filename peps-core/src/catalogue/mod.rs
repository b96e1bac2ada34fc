//! The catalogue of social offers: offers and organisation profiles (modelled on the
//! data·inclusion v1 schema), reference lists, opening hours, and search.

pub mod data_inclusion;
pub mod history;
pub mod import_job;
pub mod offer;
pub mod opening_hours;
pub mod reference;
pub mod search;
pub mod text;

#[cfg(feature = "synthetic")]
pub mod synthetic;

pub use history::{OfferAction, OfferHistoryEntry};
pub use offer::{
    Accessibility, ChangeKind, Contact, Freshness, FreshnessState, Location, Mobilisation, Offer,
    OfferContent, OfferStatus, OfferTexts, OfferTranslation, OrganisationProfile, Origin,
    ProfessionalContact, Provenance, Review, TemporaryChange, UpdateFrequency, Validity,
};
pub use reference::{ListKind, ReferenceData};
