//! Use cases. Each takes the acting [`crate::policy::Actor`] explicitly and asks the policy
//! before touching anything.

pub mod catalogue;
pub mod exchange;
pub mod identity;
pub mod plan_notices;
pub mod plans;
mod relations;
mod throttle;

pub use catalogue::{
    Catalogue, CataloguePorts, CatalogueSettings, NewTemporaryChange, RemindReport, Transition,
};
pub use identity::{
    Authenticated, ClientInfo, Identity, IdentityPorts, IdentitySettings, IssuedActivation,
    LoginOutcome, NewMandate, NewOrganisation, NewPerson, NewStaffAccount, ProvisionAccount,
};
pub use plan_notices::{Delivery, PersonNotice, PlanChannels};
pub use plans::{
    DueReport, HistoryLine, NewStep, PlanChange, PlanDetail, PlanListing, PlanMetadata, PlanPorts,
    PlanRights, PlanSettings, PlanSummary, PlanView, Plans, ThreadMessage,
};
