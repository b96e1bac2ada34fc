//! Typed identifiers, so an account id can never be passed where an organisation id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    )*};
}

typed_id!(
    /// An account of any role.
    AccountId,
    /// An organisation: social service, offerer, public agency.
    OrganisationId,
    /// A referent relation between a worker and a person.
    ReferentId,
    /// A helper's mandate from a person.
    MandateId,
    /// A login session.
    SessionId,
    /// A one-time activation code.
    ActivationId,
    /// An audit event.
    AuditEventId,
    /// An offer of the catalogue.
    OfferId,
    /// A temporary change (closure, other hours) of an offer.
    TemporaryChangeId,
    /// A data·inclusion import run in the background.
    ImportJobId,
    /// A person's plan of steps.
    PlanId,
    /// A step (démarche) of a plan.
    StepId,
    /// A message in a step's thread.
    StepMessageId,
    /// A line of a plan's history.
    PlanEventId,
    /// A document of a person's wallet.
    DocumentId,
    /// One stored file (a page) of a document.
    DocumentFileId,
    /// A person's grant of wallet access to a worker or an organisation.
    GrantId,
    /// A worker's request for documents.
    DocumentRequestId,
    /// A line of a wallet's access log.
    WalletEventId,
    /// A staff member's sign-in through a provider, waiting for an admin.
    SignInRequestId,
    /// A message waiting in the outbox (also its idempotency key with the provider).
    OutboxId,
);
