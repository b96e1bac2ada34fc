//! Step plans: personalised lists of démarches a referent writes for a person, from the step
//! templates ("démarches types") or free text, readable in the person's language.

pub mod plan;
pub mod step;
pub mod templates;

pub use crate::domain::translation::TranslatableText;
pub use plan::{
    Orientation, Plan, PlanAction, PlanEvent, PlanStatus, Step, StepDraft, StepMessage, StepStatus,
};
pub use step::{LocalizedStep, StepContent, StepTexts, StepTranslation};
pub use templates::{
    DOCUMENT_KINDS, StepTemplate, TEXT_FIELDS, TemplateError, TemplateLibrary, TemplateRef,
    TemplateText, WhoActs,
};
