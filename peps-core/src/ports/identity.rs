//! Identity ports: accounts, organisations, the relations between people, sessions, rate
//! limits and the audit log, and [`IdentityStore`], the umbrella a full adapter implements.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::*;

/// Everything that must exist from the moment an account exists, written in one transaction.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub account: Account,
    pub password_hash: Option<String>,
    pub organisations: Vec<OrganisationId>,
    /// For a person created by a worker: that worker becomes the referent.
    pub referent: Option<Referent>,
    pub activation: Option<ActivationCode>,
}

#[async_trait]
pub trait AccountRepository: Send + Sync {
    /// `Conflict` when the login is taken or an organisation does not exist; nothing is written.
    async fn create_account(&self, new: &NewAccount) -> StoreResult<()>;
    async fn account(&self, id: AccountId) -> StoreResult<Account>;
    async fn account_by_login(&self, login: &Login) -> StoreResult<Option<Account>>;
    /// Accounts ordered by id, after `after` when given (keyset pagination).
    async fn list_accounts(
        &self,
        role: Option<Role>,
        after: Option<AccountId>,
        limit: u32,
    ) -> StoreResult<Vec<Account>>;
    async fn set_status(&self, id: AccountId, status: AccountStatus) -> StoreResult<()>;
    async fn set_language(&self, id: AccountId, language: &Language) -> StoreResult<()>;
    async fn password_hash(&self, id: AccountId) -> StoreResult<Option<String>>;
    /// Sets the holder's own password; clears [`Self::password_reset_by`].
    async fn set_password_hash(&self, id: AccountId, hash: &str) -> StoreResult<()>;
    /// Who issued the code that reset the current password, until the holder sets their own
    /// (`None` for a password the holder chose, or chose at their first activation).
    async fn password_reset_by(&self, id: AccountId) -> StoreResult<Option<AccountId>>;
}

#[async_trait]
pub trait OrganisationRepository: Send + Sync {
    /// `Conflict` when the SIRET is already registered.
    async fn create_organisation(&self, organisation: &Organisation) -> StoreResult<()>;
    async fn organisation(&self, id: OrganisationId) -> StoreResult<Organisation>;
    async fn list_organisations(&self) -> StoreResult<Vec<Organisation>>;
    /// `Conflict` when already a member; `NotFound` when either side does not exist.
    async fn add_membership(
        &self,
        account: AccountId,
        organisation: OrganisationId,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn memberships(&self, account: AccountId) -> StoreResult<Vec<OrganisationId>>;
    async fn members(&self, organisation: OrganisationId) -> StoreResult<Vec<AccountId>>;
}

#[async_trait]
pub trait RelationRepository: Send + Sync {
    async fn add_referent(&self, referent: &Referent) -> StoreResult<()>;
    /// Ends a current relation; `NotFound` when there is none with that id still open.
    async fn end_referent(&self, id: ReferentId, at: DateTime<Utc>) -> StoreResult<()>;
    /// All referent relations of a person, past and present, oldest first.
    async fn referents_of(&self, person: AccountId) -> StoreResult<Vec<Referent>>;
    /// All referent relations of a worker, past and present, oldest first.
    async fn persons_of(&self, worker: AccountId) -> StoreResult<Vec<Referent>>;
    /// Stores a mandate, and the messages its creation causes (an alert to the person) in the
    /// same transaction.
    async fn create_mandate(
        &self,
        mandate: &Mandate,
        outbox: &[crate::outbox::OutboxMessage],
    ) -> StoreResult<()>;
    async fn mandate(&self, id: MandateId) -> StoreResult<Mandate>;
    async fn mandates_of_person(&self, person: AccountId) -> StoreResult<Vec<Mandate>>;
    async fn mandates_of_helper(&self, helper: AccountId) -> StoreResult<Vec<Mandate>>;
    /// `Conflict` when already revoked.
    async fn revoke_mandate(
        &self,
        id: MandateId,
        by: AccountId,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
}

#[async_trait]
pub trait SessionRepository: Send + Sync {
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    async fn session_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Session>>;
    async fn touch_session(&self, id: SessionId, at: DateTime<Utc>) -> StoreResult<()>;
    /// Raises (or records) how the session was proved, after a second factor.
    async fn set_session_assurance(
        &self,
        id: SessionId,
        assurance: Assurance,
        method: &str,
    ) -> StoreResult<()>;
    async fn delete_session(&self, id: SessionId) -> StoreResult<()>;
    /// Returns how many sessions were ended.
    async fn delete_sessions_of(&self, account: AccountId) -> StoreResult<u64>;
    /// Deletes sessions past their absolute expiry (`expires_at <= now`) or unused since
    /// `idle_before` (`last_seen_at <= idle_before`); returns how many.
    async fn delete_expired_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Stores a new code and voids the account's earlier unused ones, with the messages the
    /// code causes (the alert of a reset), in one transaction.
    async fn create_activation(
        &self,
        code: &ActivationCode,
        outbox: &[crate::outbox::OutboxMessage],
    ) -> StoreResult<()>;
    /// The account's newest unused code, if any.
    async fn pending_activation(&self, account: AccountId) -> StoreResult<Option<ActivationCode>>;
    /// Counts a wrong code; returns the new count.
    async fn record_activation_failure(&self, id: ActivationId) -> StoreResult<u32>;
    /// Marks the code used, sets the password and activates the account, in one transaction;
    /// `Conflict` (and nothing written) when the code was used meanwhile.
    ///
    /// `reset_by` is the code's issuer when the code reset the password of an account that
    /// was already active: it is kept with the password (see
    /// [`AccountRepository::password_reset_by`]) until the holder sets their own.
    async fn complete_activation(
        &self,
        id: ActivationId,
        account: AccountId,
        password_hash: &str,
        at: DateTime<Utc>,
        reset_by: Option<AccountId>,
    ) -> StoreResult<()>;
}

/// Failure counters for rate limiting, shared by every server instance using the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    pub window_started_at: DateTime<Utc>,
    pub failures: u32,
}

#[async_trait]
pub trait ThrottleRepository: Send + Sync {
    async fn throttle_state(&self, key: &str) -> StoreResult<Option<ThrottleState>>;
    /// Adds a failure to the key's current window, or opens a new window when the current one
    /// started before `window_start_after`. Returns the state after the update.
    async fn record_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window_start_after: DateTime<Utc>,
    ) -> StoreResult<ThrottleState>;
    async fn clear_throttle(&self, key: &str) -> StoreResult<()>;
    /// Deletes counters whose window started before `before`; returns how many.
    async fn prune_throttle(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn record(&self, event: &AuditEvent) -> StoreResult<()>;
    /// Events about `subject`, newest first.
    async fn events_for(&self, subject: AccountId, limit: u32) -> StoreResult<Vec<AuditEvent>>;
}

#[async_trait]
pub trait StoreHealth: Send + Sync {
    /// `Ok` when the store answers a trivial query.
    async fn ping(&self) -> StoreResult<()>;
}

/// Second factors (TOTP secrets and recovery codes). Accepting a code is a compare-and-set in
/// the store, so two requests racing with the same code cannot both succeed.
#[async_trait]
pub trait SecondFactorRepository: Send + Sync {
    async fn second_factor(&self, account: AccountId) -> StoreResult<Option<SecondFactor>>;
    /// Creates or replaces the account's factor and its recovery codes, in one transaction.
    async fn save_second_factor(&self, factor: &SecondFactor) -> StoreResult<()>;
    /// `NotFound` when there is none.
    async fn delete_second_factor(&self, account: AccountId) -> StoreResult<()>;
    /// Records `step` as used if it is later than the last one used; `false` (nothing
    /// written) when it is not, which is how a replayed code is refused.
    async fn accept_totp_step(&self, account: AccountId, step: i64) -> StoreResult<bool>;
    /// Removes the recovery code with this hash; `false` when there is no such unused code.
    async fn use_recovery_code(&self, account: AccountId, hash: &str) -> StoreResult<bool>;
}

/// Accounts linked to identity providers, and one-time values bound to a browser.
#[async_trait]
pub trait ExternalIdentityRepository: Send + Sync {
    async fn external_link(
        &self,
        provider: &str,
        subject: &str,
    ) -> StoreResult<Option<ExternalLink>>;
    async fn external_links_of(&self, account: AccountId) -> StoreResult<Vec<ExternalLink>>;
    /// `Conflict(Duplicate)` when the subject is linked already, or the account already has a
    /// link with this provider; nothing written then.
    async fn create_external_link(&self, link: &ExternalLink) -> StoreResult<()>;
    /// `NotFound` when there is none.
    async fn delete_external_link(&self, account: AccountId, provider: &str) -> StoreResult<()>;
    /// `Conflict(Duplicate)` when the key is taken.
    async fn put_one_time(&self, value: &OneTimeValue) -> StoreResult<()>;
    /// Removes and returns the value; `None` when there is none (already taken). Two racing
    /// takers never both get it.
    async fn take_one_time(&self, key_hash: &str) -> StoreResult<Option<OneTimeValue>>;
    /// Removes values created before `before`; returns how many.
    async fn prune_one_time(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Files the request, or refreshes the one already filed for its (provider, subject)
    /// (claims and time; the id stays). Returns the stored request.
    async fn save_sign_in_request(&self, request: &SignInRequest) -> StoreResult<SignInRequest>;
    /// Every request waiting, oldest first.
    async fn sign_in_requests(&self) -> StoreResult<Vec<SignInRequest>>;
    /// `NotFound` when there is none.
    async fn sign_in_request(&self, id: SignInRequestId) -> StoreResult<SignInRequest>;
    /// `NotFound` when there is none (another admin handled it first).
    async fn delete_sign_in_request(&self, id: SignInRequestId) -> StoreResult<()>;
    /// Removes requests filed before `before`; returns how many.
    async fn prune_sign_in_requests(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// A store that implements every identity port, like `peps_store::SeaOrmStore`.
pub trait IdentityStore:
    AccountRepository
    + OrganisationRepository
    + RelationRepository
    + SessionRepository
    + SecondFactorRepository
    + ExternalIdentityRepository
    + ThrottleRepository
    + AuditLog
    + StoreHealth
{
}

impl<T> IdentityStore for T where
    T: AccountRepository
        + OrganisationRepository
        + RelationRepository
        + SessionRepository
        + SecondFactorRepository
        + ExternalIdentityRepository
        + ThrottleRepository
        + AuditLog
        + StoreHealth
{
}
