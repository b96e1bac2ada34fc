//! The documented API, one module per area.

mod accounts;
mod auth;
mod organisations;
mod relations;
mod system;
mod views;

pub type Apis = (
    system::SystemApi,
    auth::AuthApi,
    accounts::AccountsApi,
    organisations::OrganisationsApi,
    relations::RelationsApi,
);

pub fn apis() -> Apis {
    (
        system::SystemApi,
        auth::AuthApi,
        accounts::AccountsApi,
        organisations::OrganisationsApi,
        relations::RelationsApi,
    )
}

#[derive(poem_openapi::Tags)]
pub enum Tag {
    /// Liveness, readiness and reference lists.
    System,
    /// Logging in and out, activation codes, one's own account.
    Auth,
    /// Accounts of every role.
    Accounts,
    /// Social services, offerers and public agencies.
    Organisations,
    /// Referents and helpers' mandates.
    Relations,
}
