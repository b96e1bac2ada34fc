//! Use cases. Each takes the acting [`crate::policy::Actor`] explicitly and asks the policy
//! before touching anything.

pub mod catalogue;
pub mod exchange;
pub mod exclusive;
pub mod identity;
pub mod outbox;
pub mod plan_notices;
pub mod plans;
mod relations;
mod throttle;
pub mod wallet;

/// A store conflict as the use case's own stable code (a version that moved on, a rule
/// the store enforces); other store errors pass through.
fn conflict_as(err: crate::StoreError, code: &'static str) -> crate::CoreError {
    match err {
        crate::StoreError::Conflict(_) => crate::CoreError::Conflict(code),
        other => other.into(),
    }
}

/// An optimistic-concurrency miss as the use case's own stable code (which resource moved on);
/// other store errors pass through.
fn stale_as(err: crate::StoreError, code: &'static str) -> crate::CoreError {
    match err {
        crate::StoreError::Stale => crate::CoreError::Stale(code),
        other => other.into(),
    }
}

pub use catalogue::{
    Catalogue, CataloguePorts, CatalogueSettings, NewTemporaryChange, OfferPage, RemindReport,
    Transition,
};
pub use exclusive::{Exclusive, Ran};
pub use identity::{
    Authenticated, ClientInfo, Enrolment, ExternalOutcome, ExternalProvider, Identity,
    IdentityPorts, IdentitySettings, IssuedActivation, LoginOutcome, NewMandate, NewOrganisation,
    NewPerson, NewStaffAccount, ProvisionAccount, SecondFactorRule, SecondFactorRules,
    SecondFactorStatus, SessionHolder, SignInRequestView, SuggestedAccount,
};
pub use outbox::{DeliveryReport, Outbox, OutboxPorts, OutboxSettings, ParkedMessage, QuietHours};
pub use plan_notices::{Alert, AlertOutcome, Delivery, Notices, PersonMessages, PersonNotice};
pub use plans::{
    DueReport, HistoryLine, NewStep, PlanChange, PlanDetail, PlanListing, PlanMetadata, PlanPorts,
    PlanRights, PlanSettings, PlanSummary, PlanView, Plans, StepDetail, TemplateCorrections,
    ThreadMessage,
};
pub use wallet::{Caller, Wallet, WalletPorts, WalletSettings};
