//! The documented API, one module per area.

mod accounts;
mod auth;
mod catalogue;
mod imports;
pub use catalogue::SearchPage;
mod offer_views;
mod offers;
mod organisations;
pub(crate) mod plan_views;
mod plans;
mod relations;
mod step_templates;
mod system;
mod views;
mod wallet;
mod wallet_views;

pub type Apis = (
    system::SystemApi,
    auth::AuthApi,
    accounts::AccountsApi,
    organisations::OrganisationsApi,
    relations::RelationsApi,
    catalogue::CatalogueApi,
    offers::OffersApi,
    imports::ImportsApi,
    step_templates::StepTemplatesApi,
    plans::PlansApi,
    wallet::WalletApi,
    wallet::WalletExportApi,
);

pub fn apis() -> Apis {
    (
        system::SystemApi,
        auth::AuthApi,
        accounts::AccountsApi,
        organisations::OrganisationsApi,
        relations::RelationsApi,
        catalogue::CatalogueApi,
        offers::OffersApi,
        imports::ImportsApi,
        step_templates::StepTemplatesApi,
        plans::PlansApi,
        wallet::WalletApi,
        wallet::WalletExportApi,
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
    /// The public catalogue: search, offers, profiles, reference lists.
    Catalogue,
    /// Offerers managing their offers; moderation and freshness.
    Offers,
    /// Step plans and the step templates they start from.
    Plans,
    /// The document wallet: documents, shares, requests, the access log.
    Wallet,
}
