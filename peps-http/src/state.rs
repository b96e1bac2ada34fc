//! What every handler can reach.

use std::sync::Arc;

use peps_core::ports::StoreHealth;
use peps_core::services::{Catalogue, Identity, Outbox, Plans, Wallet};

#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest request body accepted, in bytes (JSON API; uploads have their own limits).
    pub max_body_bytes: usize,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted reverse proxy).
    pub trust_forwarded_for: bool,
    /// Largest upload (a data·inclusion extract), streamed to disk.
    pub max_upload_bytes: u64,
    /// The web pages' templates and branding.
    #[cfg(feature = "web")]
    pub site: Arc<crate::web::Site>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            trust_forwarded_for: false,
            max_upload_bytes: 1024 * 1024 * 1024,
            #[cfg(feature = "web")]
            site: crate::web::builtin(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub identity: Arc<Identity>,
    pub catalogue: Arc<Catalogue>,
    /// Persons' step plans.
    pub plans: Arc<Plans>,
    /// Persons' document wallets.
    pub wallet: Arc<Wallet>,
    /// Messages waiting to be sent: the admin's view of failures, a person's SMS choice.
    pub outbox: Arc<Outbox>,
    pub health: Arc<dyn StoreHealth>,
    /// Open data and imports in the data·inclusion format.
    pub data_inclusion: Arc<crate::data_inclusion::DataInclusion>,
    pub settings: HttpSettings,
}
