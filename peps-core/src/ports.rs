//! Ports: one small async trait per concern. Adapters (ours in `peps-store`, or an adopter's)
//! implement them; services hold them as `Arc<dyn …>` so any one can be swapped at run time.
//! Every adapter must pass the conformance suite in `peps_core::testing::conformance`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use crate::catalogue::{Offer, OfferStatus, OrganisationProfile};
use crate::domain::*;
use crate::error::StoreError;
use crate::plans::{Plan, PlanEvent, Step, StepMessage, TemplateRef};

pub type StoreResult<T> = Result<T, StoreError>;

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
    async fn create_mandate(&self, mandate: &Mandate) -> StoreResult<()>;
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
    /// Stores a new code and voids the account's earlier unused ones, in one transaction.
    async fn create_activation(&self, code: &ActivationCode) -> StoreResult<()>;
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

/// A store that implements every identity port, like `peps_store::SeaOrmStore`.
pub trait IdentityStore:
    AccountRepository
    + OrganisationRepository
    + RelationRepository
    + SessionRepository
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
        + ThrottleRepository
        + AuditLog
        + StoreHealth
{
}

/// One line of an offer's change history: who did what, when, to which fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferHistoryEntry {
    pub offer: OfferId,
    /// The offer's version after the change.
    pub version: i64,
    pub at: DateTime<Utc>,
    /// `None` for PEPS itself (an import, a scheduled job).
    pub actor: Option<AccountId>,
    /// A stable code: `created`, `updated`, `published`, `submitted`, `approved`, `rejected`,
    /// `suspended`, `archived`, `restored`, `verified`, `temporary_change_added`,
    /// `temporary_change_removed`.
    pub action: String,
    /// The top-level content fields that changed.
    pub fields: Vec<String>,
    /// Why (a refusal's reason).
    pub reason: Option<String>,
}

/// An organisation's profile with its optimistic-concurrency version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProfile {
    pub profile: OrganisationProfile,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait OfferRepository: Send + Sync {
    /// Stores a new offer and its first history entry in one transaction; `Conflict` when the
    /// id exists, `NotFound` when the organisation does not.
    async fn create_offer(&self, offer: &Offer, entry: &OfferHistoryEntry) -> StoreResult<()>;
    /// Replaces the offer only if the stored version is still `expected_version`, and appends
    /// the history entry, in one transaction. `Conflict` (nothing written) when someone else
    /// changed it meanwhile; `NotFound` when it does not exist.
    async fn update_offer(
        &self,
        offer: &Offer,
        expected_version: i64,
        entry: &OfferHistoryEntry,
    ) -> StoreResult<()>;
    /// The offer, with its organisation's current name.
    async fn offer(&self, id: OfferId) -> StoreResult<Offer>;
    /// An organisation's offers in the given statuses (all when empty), newest first.
    async fn offers_of(
        &self,
        organisation: OrganisationId,
        statuses: &[OfferStatus],
    ) -> StoreResult<Vec<Offer>>;
    /// Oldest first.
    async fn offer_history(&self, id: OfferId) -> StoreResult<Vec<OfferHistoryEntry>>;
    /// The catalogue's change counter: every offer write increases it, in commit order, and
    /// stamps the offer with it. Search indexes compare it with their own.
    async fn catalogue_seq(&self) -> StoreResult<i64>;
    /// Offers (any status) stamped after `after`, in stamp order, at most `limit`, each with
    /// its stamp.
    async fn offers_changed_since(&self, after: i64, limit: u32) -> StoreResult<Vec<(i64, Offer)>>;
    /// Published offers whose verification date is at or before `due_by`, optionally of one
    /// organisation, the most overdue first.
    async fn offers_due(
        &self,
        due_by: DateTime<Utc>,
        organisation: Option<OrganisationId>,
    ) -> StoreResult<Vec<Offer>>;
    /// Offers waiting for validation, oldest first.
    async fn offers_pending_review(&self) -> StoreResult<Vec<Offer>>;
    /// Remembers that the reminder for this offer's verification date was sent; `false` when
    /// it already was (so reminders are idempotent).
    async fn record_reminder(
        &self,
        offer: OfferId,
        due_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn reminder_sent(&self, offer: OfferId, due_at: DateTime<Utc>) -> StoreResult<bool>;
    async fn organisation_profile(
        &self,
        organisation: OrganisationId,
    ) -> StoreResult<Option<StoredProfile>>;
    /// Creates (expected `None`) or replaces (expected = current version) the profile;
    /// `Conflict` on a version mismatch. Returns the new version.
    async fn save_organisation_profile(
        &self,
        organisation: OrganisationId,
        profile: &OrganisationProfile,
        expected_version: Option<i64>,
        at: DateTime<Utc>,
    ) -> StoreResult<i64>;
}

/// A message to one recipient, already in their language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub to: Email,
    pub language: Language,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
#[error("notification not sent: {0}")]
pub struct NotifyError(pub String);

/// Outgoing messages (email now; SMS for plans later). Adapters: log, SMTP.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn send(&self, notification: &Notification) -> Result<(), NotifyError>;
}

/// Which data·inclusion record kind an imported record was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    Structure,
    Service,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Structure => "structure",
            RecordKind::Service => "service",
        }
    }

    pub fn parse(raw: &str) -> Option<RecordKind> {
        match raw {
            "structure" => Some(RecordKind::Structure),
            "service" => Some(RecordKind::Service),
            _ => None,
        }
    }
}

/// What PEPS remembers of a record it imported, keyed by (`kind`, `source`, `id`): the local
/// organisation or offer it became, and what the import last wrote, so that a rerun changes
/// nothing and local edits made since are recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRecord {
    pub kind: RecordKind,
    pub source: String,
    pub id: String,
    /// The organisation (structure) or offer (service) id.
    pub local_id: uuid::Uuid,
    /// The source's `date_maj` of the record last applied.
    pub date_maj: chrono::NaiveDate,
    /// A hash of what the import wrote (the mapped content), to recognise an unchanged record.
    pub content_hash: String,
    /// The local version (offer version, profile version) right after the import wrote it:
    /// a higher current version means someone edited the record in PEPS since.
    pub imported_version: i64,
    pub imported_at: DateTime<Utc>,
}

/// An imported record and the present state of the local record it became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRecord {
    pub record: ImportedRecord,
    pub current_version: i64,
    pub updated_at: DateTime<Utc>,
}

/// An organisation (data·inclusion structure) to create or update, with its profile. An update
/// changes the name, the SIRET and the profile; the kind and creation date stay.
#[derive(Debug, Clone)]
pub struct OrganisationWrite {
    pub organisation: Organisation,
    pub profile: OrganisationProfile,
    /// `None` creates the organisation and its profile (version 1); `Some(v)` updates them
    /// when the profile is still at version `v` (else the write is skipped as a conflict).
    pub expected_profile_version: Option<i64>,
    pub record: ImportedRecord,
}

/// An offer (data·inclusion service) to create or update.
#[derive(Debug, Clone)]
pub struct OfferWrite {
    pub offer: Offer,
    /// `None` creates the offer; `Some(v)` updates it when still at version `v`.
    pub expected_version: Option<i64>,
    pub entry: OfferHistoryEntry,
    pub record: ImportedRecord,
}

/// One transaction's worth of imported records.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    pub organisations: Vec<OrganisationWrite>,
    pub offers: Vec<OfferWrite>,
}

/// Records of a batch that were not written because someone changed them in PEPS between the
/// import reading them and writing them; a rerun takes them up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub conflicts: Vec<(RecordKind, String)>,
    /// Structures (by source id) saved without their SIRET because another organisation has
    /// it (the same establishment listed by two sources, say).
    pub sirets_dropped: Vec<String>,
}

/// Reading and writing the catalogue in bulk, for data·inclusion imports and open data.
#[async_trait]
pub trait CatalogueExchange: Send + Sync {
    /// The records of `ids` already imported from `source`, with their local state.
    async fn held_records(
        &self,
        kind: RecordKind,
        source: &str,
        ids: &[String],
    ) -> StoreResult<Vec<HeldRecord>>;
    /// The imported records that became these local organisations or offers.
    async fn origins_of(
        &self,
        kind: RecordKind,
        local_ids: &[uuid::Uuid],
    ) -> StoreResult<Vec<ImportedRecord>>;
    /// The profiles of these organisations (those that have one).
    async fn profiles_of(
        &self,
        organisations: &[OrganisationId],
    ) -> StoreResult<Vec<(OrganisationId, StoredProfile)>>;
    /// Writes a batch in one transaction, stamping every offer with the catalogue counter.
    async fn apply_import(&self, batch: &ImportBatch) -> StoreResult<BatchOutcome>;
    /// Published offers with an id greater than `after`, in id order.
    async fn published_offers(&self, after: Option<OfferId>, limit: u32)
    -> StoreResult<Vec<Offer>>;
    /// Organisations with a published offer or a profile, with an id greater than `after`, in
    /// id order, with their profiles.
    async fn public_organisations(
        &self,
        after: Option<OrganisationId>,
        limit: u32,
    ) -> StoreResult<Vec<(Organisation, Option<StoredProfile>)>>;
    /// When the catalogue last changed (any offer or profile), for `Last-Modified`.
    async fn catalogue_changed_at(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// Creates or replaces an import job's state.
    async fn save_import_job(&self, job: &ImportJob) -> StoreResult<()>;
    async fn import_job(&self, id: ImportJobId) -> StoreResult<ImportJob>;
    /// Marks every `queued` or `running` job `interrupted`, finished at `at` (at start-up:
    /// their runner stopped with the server). Returns how many.
    async fn interrupt_import_jobs(&self, at: DateTime<Utc>) -> StoreResult<u64>;
}

/// An import an admin started over HTTP, run in the background.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportJob {
    pub id: ImportJobId,
    pub requested_by: AccountId,
    pub status: ImportJobStatus,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The job's options and its running (then final) summary, as JSON.
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportJobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    /// The server stopped while the job ran; rerunning the same files converges.
    Interrupted,
}

impl ImportJobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportJobStatus::Queued => "queued",
            ImportJobStatus::Running => "running",
            ImportJobStatus::Succeeded => "succeeded",
            ImportJobStatus::Failed => "failed",
            ImportJobStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(raw: &str) -> Option<ImportJobStatus> {
        [
            ImportJobStatus::Queued,
            ImportJobStatus::Running,
            ImportJobStatus::Succeeded,
            ImportJobStatus::Failed,
            ImportJobStatus::Interrupted,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("translation failed: {0}")]
pub struct TranslateError(pub String);

/// Machine translation of free text a worker writes (adapters: none by default; a
/// self-hosted LibreTranslate server). Results are always shown as machine-translated, with
/// the original one tap away.
#[async_trait]
pub trait Translator: Send + Sync {
    /// `texts` from `source` into `target`, in the same order; `Ok(None)` when this translator
    /// does not offer that pair of languages.
    async fn translate(
        &self,
        texts: &[String],
        source: &Language,
        target: &Language,
    ) -> Result<Option<Vec<String>>, TranslateError>;
}

/// No machine translation: texts stay in French until someone translates them.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTranslator;

#[async_trait]
impl Translator for NoTranslator {
    async fn translate(
        &self,
        _: &[String],
        _: &Language,
        _: &Language,
    ) -> Result<Option<Vec<String>>, TranslateError> {
        Ok(None)
    }
}

/// Persons' plans, their steps, message threads and history. Every write that changes a plan
/// or a step appends its history lines in the same transaction.
#[async_trait]
pub trait PlanRepository: Send + Sync {
    /// `Conflict` when the id exists; `NotFound` when the person does not.
    async fn create_plan(&self, plan: &Plan, event: &PlanEvent) -> StoreResult<()>;
    async fn plan(&self, id: PlanId) -> StoreResult<Plan>;
    /// A person's plans, newest first.
    async fn plans_of(&self, person: AccountId) -> StoreResult<Vec<Plan>>;
    /// Replaces the plan (title, status, allowed workers) if still at `expected_version`;
    /// `Conflict` (nothing written) otherwise.
    async fn update_plan(
        &self,
        plan: &Plan,
        expected_version: i64,
        events: &[PlanEvent],
    ) -> StoreResult<()>;
    /// The plan's steps in order.
    async fn steps(&self, plan: PlanId) -> StoreResult<Vec<Step>>;
    async fn step(&self, id: StepId) -> StoreResult<Step>;
    /// Adds a step at the end of its plan (its `position` is set by the store); `NotFound`
    /// when the plan does not exist. Returns the position given.
    async fn add_step(&self, step: &Step, event: &PlanEvent) -> StoreResult<u32>;
    /// Replaces the step if still at `expected_version`; `Conflict` otherwise.
    async fn update_step(
        &self,
        step: &Step,
        expected_version: i64,
        events: &[PlanEvent],
    ) -> StoreResult<()>;
    /// Puts the plan's steps in this order; `Conflict` (nothing written) unless `order` names
    /// every step of the plan exactly once.
    async fn reorder_steps(
        &self,
        plan: PlanId,
        order: &[StepId],
        event: &PlanEvent,
    ) -> StoreResult<()>;
    async fn add_message(&self, message: &StepMessage, event: &PlanEvent) -> StoreResult<()>;
    /// A step's thread, oldest first.
    async fn messages(&self, step: StepId) -> StoreResult<Vec<StepMessage>>;
    /// Oldest first.
    async fn plan_history(&self, plan: PlanId) -> StoreResult<Vec<PlanEvent>>;
    /// Every step made from a template: its id and the template reference it holds.
    async fn template_references(&self) -> StoreResult<Vec<(StepId, TemplateRef)>>;
    /// Steps still to do (planned, in progress) of active plans, due between `from` and `to`
    /// inclusive, soonest first.
    async fn steps_due(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Step>>;
    /// Remembers that the person was reminded of this due date; `false` when they already
    /// were (so reminders are idempotent).
    async fn record_due_reminder(
        &self,
        step: StepId,
        due_on: NaiveDate,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

/// A text message to a phone, already in the recipient's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    pub to: String,
    pub language: Language,
    pub body: String,
}

/// Outgoing text messages, for people without email. Adapters: log (the default); an
/// operator's SMS gateway plugs in here.
#[async_trait]
pub trait SmsSender: Send + Sync {
    async fn send(&self, sms: &Sms) -> Result<(), NotifyError>;
}
