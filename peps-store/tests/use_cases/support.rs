//! A store, a manual clock and the people the rules are about.

use chrono::{DateTime, TimeZone, Utc};
use std::sync::Arc;

use peps_core::auth::Argon2Hasher;
use peps_core::clock::ManualClock;
use peps_core::domain::{OrganisationId, OrganisationKind, Role};
use peps_core::policy::Actor;
use peps_core::services::{
    Catalogue, CataloguePorts, CatalogueSettings, Identity, IdentityPorts, IdentitySettings,
    NewOrganisation, ProvisionAccount,
};
use peps_store::SeaOrmStore;
use peps_store::testing::{TestBackend, TestStore, fresh};

pub use peps_store::testing::backends;

/// Far from the wall clock on purpose: a rule that reads the wall clock instead of the
/// service's shows here.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2031, 3, 3, 10, 0, 0).unwrap()
}

pub struct World {
    _db: TestStore,
    pub store: Arc<SeaOrmStore>,
    pub clock: Arc<ManualClock>,
    pub identity: Identity,
}

impl World {
    pub async fn new(backend: TestBackend) -> Self {
        let db = fresh(backend).await;
        let store = Arc::new(db.store());
        let clock = Arc::new(ManualClock::new(start()));
        let identity = Identity::new(
            IdentityPorts::from_store(store.clone()),
            Arc::new(Argon2Hasher::default()),
            clock.clone(),
            IdentitySettings::default(),
        );
        Self {
            _db: db,
            store,
            clock,
            identity,
        }
    }

    pub async fn organisation(&self, name: &str, kind: OrganisationKind) -> OrganisationId {
        self.identity
            .provision_organisation(NewOrganisation {
                name: name.to_owned(),
                kind,
                siret: None,
            })
            .await
            .unwrap()
            .id
    }

    /// A new account of `role`, in `organisations`, as the actor it acts as.
    pub async fn actor(&self, role: Role, organisations: &[OrganisationId]) -> Actor {
        let account = self
            .identity
            .provision_account(ProvisionAccount {
                role,
                email: format!("{}@test.peps", uuid::Uuid::new_v4().simple()),
                display_name: format!("Test {}", role.as_str()),
                password: "Correct-Horse-Battery-9".to_owned(),
                organisations: organisations.to_vec(),
            })
            .await
            .unwrap();
        Actor {
            account: account.id,
            role,
            organisations: organisations.to_vec(),
        }
    }

    pub fn catalogue(&self, settings: CatalogueSettings) -> Catalogue {
        Catalogue::new(
            CataloguePorts {
                offers: self.store.clone(),
                organisations: self.store.clone(),
                accounts: self.store.clone(),
                outbox: self.store.clone(),
            },
            self.clock.clone(),
            Arc::new(peps_core::catalogue::ReferenceData::builtin()),
            settings,
        )
    }
}

impl World {
    pub fn clock_now(&self) -> DateTime<Utc> {
        use peps_core::clock::Clock;
        self.clock.now()
    }
}
