//! Use cases. Each takes the acting [`crate::policy::Actor`] explicitly and asks the policy
//! before touching anything.

pub mod identity;
mod relations;
mod throttle;

pub use identity::{
    Authenticated, ClientInfo, Identity, IdentityPorts, IdentitySettings, IssuedActivation,
    LoginOutcome, NewMandate, NewOrganisation, NewPerson, NewStaffAccount, ProvisionAccount,
};
