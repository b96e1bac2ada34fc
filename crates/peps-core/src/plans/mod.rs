//! Step plans: personalised lists of démarches a referent writes for a person. This part
//! holds the step templates ("démarches types") every plan starts from.

pub mod step;
pub mod templates;

pub use step::{LocalizedStep, StepContent, StepTexts, StepTranslation};
pub use templates::{StepTemplate, TemplateError, TemplateLibrary, TemplateText, WhoActs};
