//! In-memory reference adapter. It exists to pin down the ports' behaviour (it passes the same
//! conformance suite as the SQL adapters) and for fast unit tests; it is not for production.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::catalogue::{Offer, OfferStatus, OrganisationProfile};
use crate::domain::*;
use crate::error::{Conflict, StoreError};
use crate::plans::{Plan, PlanEvent, PlanStatus, Step, StepMessage, TemplateRef};
use crate::ports::*;

#[derive(Default)]
pub(super) struct State {
    pub(super) accounts: HashMap<AccountId, Account>,
    passwords: HashMap<AccountId, String>,
    /// Who issued the code that last reset a password, until the holder sets their own.
    password_reset_by: HashMap<AccountId, AccountId>,
    organisations: HashMap<OrganisationId, Organisation>,
    memberships: Vec<(AccountId, OrganisationId, DateTime<Utc>)>,
    referents: Vec<Referent>,
    mandates: Vec<Mandate>,
    sessions: HashMap<SessionId, Session>,
    activations: Vec<ActivationCode>,
    throttle: HashMap<String, ThrottleState>,
    audit: Vec<AuditEvent>,
    catalogue_seq: i64,
    /// Offer and the stamp of its last write.
    offers: HashMap<OfferId, (Offer, i64)>,
    offer_history: Vec<OfferHistoryEntry>,
    reminders: HashMap<(OfferId, DateTime<Utc>), DateTime<Utc>>,
    profiles: HashMap<OrganisationId, StoredProfile>,
    imported: HashMap<(RecordKind, String, String), ImportedRecord>,
    import_jobs: HashMap<ImportJobId, ImportJob>,
    plans: HashMap<PlanId, Plan>,
    steps: HashMap<StepId, Step>,
    messages: Vec<StepMessage>,
    plan_events: Vec<PlanEvent>,
    due_reminders: HashMap<(StepId, NaiveDate), DateTime<Utc>>,
    pub(super) wallet: super::memory_wallet::WalletState,
}

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn conflict(kind: Conflict) -> StoreError {
    StoreError::Conflict(kind)
}

#[async_trait]
impl AccountRepository for MemoryStore {
    async fn create_account(&self, new: &NewAccount) -> StoreResult<()> {
        let mut s = self.lock();
        let a = &new.account;
        if s.accounts.contains_key(&a.id) || s.accounts.values().any(|x| x.login == a.login) {
            return Err(conflict(Conflict::Duplicate));
        }
        if new
            .organisations
            .iter()
            .any(|o| !s.organisations.contains_key(o))
        {
            return Err(conflict(Conflict::MissingReference));
        }
        if let Some(r) = &new.referent
            && !s.accounts.contains_key(&r.worker)
        {
            return Err(conflict(Conflict::MissingReference));
        }
        s.accounts.insert(a.id, a.clone());
        if let Some(hash) = &new.password_hash {
            s.passwords.insert(a.id, hash.clone());
        }
        for o in &new.organisations {
            s.memberships.push((a.id, *o, a.created_at));
        }
        if let Some(r) = &new.referent {
            s.referents.push(r.clone());
        }
        if let Some(code) = &new.activation {
            s.activations.push(code.clone());
        }
        Ok(())
    }

    async fn account(&self, id: AccountId) -> StoreResult<Account> {
        self.lock()
            .accounts
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn account_by_login(&self, login: &Login) -> StoreResult<Option<Account>> {
        Ok(self
            .lock()
            .accounts
            .values()
            .find(|a| &a.login == login)
            .cloned())
    }

    async fn list_accounts(
        &self,
        role: Option<Role>,
        after: Option<AccountId>,
        limit: u32,
    ) -> StoreResult<Vec<Account>> {
        let s = self.lock();
        let mut all: Vec<Account> = s
            .accounts
            .values()
            .filter(|a| role.is_none_or(|r| a.role == r))
            .filter(|a| after.is_none_or(|after| a.id > after))
            .cloned()
            .collect();
        all.sort_by_key(|a| a.id);
        all.truncate(limit as usize);
        Ok(all)
    }

    async fn set_status(&self, id: AccountId, status: AccountStatus) -> StoreResult<()> {
        let mut s = self.lock();
        let a = s.accounts.get_mut(&id).ok_or(StoreError::NotFound)?;
        a.status = status;
        Ok(())
    }

    async fn set_language(&self, id: AccountId, language: &Language) -> StoreResult<()> {
        let mut s = self.lock();
        let a = s.accounts.get_mut(&id).ok_or(StoreError::NotFound)?;
        a.language = language.clone();
        Ok(())
    }

    async fn password_hash(&self, id: AccountId) -> StoreResult<Option<String>> {
        let s = self.lock();
        if !s.accounts.contains_key(&id) {
            return Err(StoreError::NotFound);
        }
        Ok(s.passwords.get(&id).cloned())
    }

    async fn set_password_hash(&self, id: AccountId, hash: &str) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&id) {
            return Err(StoreError::NotFound);
        }
        s.passwords.insert(id, hash.to_owned());
        s.password_reset_by.remove(&id);
        Ok(())
    }

    async fn password_reset_by(&self, id: AccountId) -> StoreResult<Option<AccountId>> {
        let s = self.lock();
        if !s.accounts.contains_key(&id) {
            return Err(StoreError::NotFound);
        }
        Ok(s.password_reset_by.get(&id).copied())
    }
}

#[async_trait]
impl OrganisationRepository for MemoryStore {
    async fn create_organisation(&self, organisation: &Organisation) -> StoreResult<()> {
        let mut s = self.lock();
        if s.organisations.contains_key(&organisation.id)
            || (organisation.siret.is_some()
                && s.organisations
                    .values()
                    .any(|o| o.siret == organisation.siret))
        {
            return Err(conflict(Conflict::Duplicate));
        }
        s.organisations
            .insert(organisation.id, organisation.clone());
        Ok(())
    }

    async fn organisation(&self, id: OrganisationId) -> StoreResult<Organisation> {
        self.lock()
            .organisations
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn list_organisations(&self) -> StoreResult<Vec<Organisation>> {
        let mut all: Vec<_> = self.lock().organisations.values().cloned().collect();
        all.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()).then(a.id.cmp(&b.id)));
        Ok(all)
    }

    async fn add_membership(
        &self,
        account: AccountId,
        organisation: OrganisationId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&account) || !s.organisations.contains_key(&organisation) {
            return Err(StoreError::NotFound);
        }
        if s.memberships
            .iter()
            .any(|(a, o, _)| *a == account && *o == organisation)
        {
            return Err(conflict(Conflict::Duplicate));
        }
        s.memberships.push((account, organisation, at));
        Ok(())
    }

    async fn memberships(&self, account: AccountId) -> StoreResult<Vec<OrganisationId>> {
        let mut orgs: Vec<_> = self
            .lock()
            .memberships
            .iter()
            .filter(|(a, _, _)| *a == account)
            .map(|(_, o, _)| *o)
            .collect();
        orgs.sort();
        Ok(orgs)
    }

    async fn members(&self, organisation: OrganisationId) -> StoreResult<Vec<AccountId>> {
        let mut members: Vec<_> = self
            .lock()
            .memberships
            .iter()
            .filter(|(_, o, _)| *o == organisation)
            .map(|(a, _, _)| *a)
            .collect();
        members.sort();
        Ok(members)
    }
}

#[async_trait]
impl RelationRepository for MemoryStore {
    async fn add_referent(&self, referent: &Referent) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&referent.worker) || !s.accounts.contains_key(&referent.person)
        {
            return Err(conflict(Conflict::MissingReference));
        }
        s.referents.push(referent.clone());
        Ok(())
    }

    async fn end_referent(&self, id: ReferentId, at: DateTime<Utc>) -> StoreResult<()> {
        let mut s = self.lock();
        let r = s
            .referents
            .iter_mut()
            .find(|r| r.id == id && r.ended_at.is_none())
            .ok_or(StoreError::NotFound)?;
        r.ended_at = Some(at);
        Ok(())
    }

    async fn referents_of(&self, person: AccountId) -> StoreResult<Vec<Referent>> {
        let mut all: Vec<_> = self
            .lock()
            .referents
            .iter()
            .filter(|r| r.person == person)
            .cloned()
            .collect();
        all.sort_by_key(|r| (r.started_at, r.id));
        Ok(all)
    }

    async fn persons_of(&self, worker: AccountId) -> StoreResult<Vec<Referent>> {
        let mut all: Vec<_> = self
            .lock()
            .referents
            .iter()
            .filter(|r| r.worker == worker)
            .cloned()
            .collect();
        all.sort_by_key(|r| (r.started_at, r.id));
        Ok(all)
    }

    async fn create_mandate(&self, mandate: &Mandate) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&mandate.helper) || !s.accounts.contains_key(&mandate.person) {
            return Err(conflict(Conflict::MissingReference));
        }
        s.mandates.push(mandate.clone());
        Ok(())
    }

    async fn mandate(&self, id: MandateId) -> StoreResult<Mandate> {
        self.lock()
            .mandates
            .iter()
            .find(|m| m.id == id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn mandates_of_person(&self, person: AccountId) -> StoreResult<Vec<Mandate>> {
        let mut all: Vec<_> = self
            .lock()
            .mandates
            .iter()
            .filter(|m| m.person == person)
            .cloned()
            .collect();
        all.sort_by_key(|m| (m.created_at, m.id));
        Ok(all)
    }

    async fn mandates_of_helper(&self, helper: AccountId) -> StoreResult<Vec<Mandate>> {
        let mut all: Vec<_> = self
            .lock()
            .mandates
            .iter()
            .filter(|m| m.helper == helper)
            .cloned()
            .collect();
        all.sort_by_key(|m| (m.created_at, m.id));
        Ok(all)
    }

    async fn revoke_mandate(
        &self,
        id: MandateId,
        by: AccountId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut s = self.lock();
        let m = s
            .mandates
            .iter_mut()
            .find(|m| m.id == id)
            .ok_or(StoreError::NotFound)?;
        if m.revoked_at.is_some() {
            return Err(conflict(Conflict::AlreadyRevoked));
        }
        m.revoked_at = Some(at);
        m.revoked_by = Some(by);
        Ok(())
    }
}

#[async_trait]
impl SessionRepository for MemoryStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&session.account) {
            return Err(conflict(Conflict::MissingReference));
        }
        if s.sessions
            .values()
            .any(|x| x.token_hash == session.token_hash)
        {
            return Err(conflict(Conflict::Duplicate));
        }
        s.sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn session_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        Ok(self
            .lock()
            .sessions
            .values()
            .find(|x| x.token_hash == token_hash)
            .cloned())
    }

    async fn touch_session(&self, id: SessionId, at: DateTime<Utc>) -> StoreResult<()> {
        let mut s = self.lock();
        let session = s.sessions.get_mut(&id).ok_or(StoreError::NotFound)?;
        session.last_seen_at = at;
        Ok(())
    }

    async fn delete_session(&self, id: SessionId) -> StoreResult<()> {
        self.lock()
            .sessions
            .remove(&id)
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }

    async fn delete_sessions_of(&self, account: AccountId) -> StoreResult<u64> {
        let mut s = self.lock();
        let before = s.sessions.len();
        s.sessions.retain(|_, x| x.account != account);
        Ok((before - s.sessions.len()) as u64)
    }

    async fn delete_expired_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut s = self.lock();
        let before = s.sessions.len();
        s.sessions
            .retain(|_, x| x.expires_at > now && x.last_seen_at > idle_before);
        Ok((before - s.sessions.len()) as u64)
    }

    async fn create_activation(&self, code: &ActivationCode) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&code.account) {
            return Err(conflict(Conflict::MissingReference));
        }
        s.activations
            .retain(|c| c.account != code.account || c.used_at.is_some());
        s.activations.push(code.clone());
        Ok(())
    }

    async fn pending_activation(&self, account: AccountId) -> StoreResult<Option<ActivationCode>> {
        Ok(self
            .lock()
            .activations
            .iter()
            .filter(|c| c.account == account && c.used_at.is_none())
            .max_by_key(|c| c.created_at)
            .cloned())
    }

    async fn record_activation_failure(&self, id: ActivationId) -> StoreResult<u32> {
        let mut s = self.lock();
        let c = s
            .activations
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or(StoreError::NotFound)?;
        c.failed_attempts += 1;
        Ok(c.failed_attempts)
    }

    async fn complete_activation(
        &self,
        id: ActivationId,
        account: AccountId,
        password_hash: &str,
        at: DateTime<Utc>,
        reset_by: Option<AccountId>,
    ) -> StoreResult<()> {
        let mut s = self.lock();
        let code = s
            .activations
            .iter_mut()
            .find(|c| c.id == id && c.account == account)
            .ok_or(StoreError::NotFound)?;
        if code.used_at.is_some() {
            return Err(conflict(Conflict::AlreadyUsed));
        }
        code.used_at = Some(at);
        s.passwords.insert(account, password_hash.to_owned());
        match reset_by {
            Some(issuer) => s.password_reset_by.insert(account, issuer),
            None => s.password_reset_by.remove(&account),
        };
        let a = s.accounts.get_mut(&account).ok_or(StoreError::NotFound)?;
        a.status = AccountStatus::Active;
        Ok(())
    }
}

#[async_trait]
impl ThrottleRepository for MemoryStore {
    async fn throttle_state(&self, key: &str) -> StoreResult<Option<ThrottleState>> {
        Ok(self.lock().throttle.get(key).copied())
    }

    async fn record_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window_start_after: DateTime<Utc>,
    ) -> StoreResult<ThrottleState> {
        let mut s = self.lock();
        let entry = s.throttle.entry(key.to_owned()).or_insert(ThrottleState {
            window_started_at: now,
            failures: 0,
        });
        if entry.window_started_at < window_start_after {
            *entry = ThrottleState {
                window_started_at: now,
                failures: 0,
            };
        }
        entry.failures += 1;
        Ok(*entry)
    }

    async fn clear_throttle(&self, key: &str) -> StoreResult<()> {
        self.lock().throttle.remove(key);
        Ok(())
    }

    async fn prune_throttle(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut s = self.lock();
        let count = s.throttle.len();
        s.throttle
            .retain(|_, state| state.window_started_at >= before);
        Ok((count - s.throttle.len()) as u64)
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn record(&self, event: &AuditEvent) -> StoreResult<()> {
        self.lock().audit.push(event.clone());
        Ok(())
    }

    async fn events_for(&self, subject: AccountId, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        let s = self.lock();
        let mut events: Vec<_> = s
            .audit
            .iter()
            .filter(|e| e.subject == Some(subject))
            .cloned()
            .collect();
        events.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        events.truncate(limit as usize);
        Ok(events)
    }
}

#[async_trait]
impl StoreHealth for MemoryStore {
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}

impl State {
    fn with_name(&self, offer: &Offer) -> Offer {
        let mut offer = offer.clone();
        offer.organisation_name = self
            .organisations
            .get(&offer.organisation_id)
            .map(|o| o.name.as_str().to_owned())
            .unwrap_or_default();
        offer
    }
}

#[async_trait]
impl OfferRepository for MemoryStore {
    async fn create_offer(&self, offer: &Offer, entry: &OfferHistoryEntry) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.organisations.contains_key(&offer.organisation_id) {
            return Err(StoreError::NotFound);
        }
        if s.offers.contains_key(&offer.id)
            || offer.origin.as_ref().is_some_and(|o| {
                s.offers.values().any(|(x, _)| {
                    x.origin
                        .as_ref()
                        .is_some_and(|xo| xo.source == o.source && xo.id == o.id)
                })
            })
        {
            return Err(conflict(Conflict::Duplicate));
        }
        s.catalogue_seq += 1;
        let seq = s.catalogue_seq;
        s.offers.insert(offer.id, (offer.clone(), seq));
        s.offer_history.push(entry.clone());
        Ok(())
    }

    async fn update_offer(
        &self,
        offer: &Offer,
        expected_version: i64,
        entry: &OfferHistoryEntry,
    ) -> StoreResult<()> {
        let mut s = self.lock();
        match s.offers.get(&offer.id) {
            None => return Err(StoreError::NotFound),
            Some((stored, _)) if stored.version != expected_version => {
                return Err(StoreError::Stale);
            }
            Some(_) => {}
        }
        s.catalogue_seq += 1;
        let seq = s.catalogue_seq;
        s.offers.insert(offer.id, (offer.clone(), seq));
        s.offer_history.push(entry.clone());
        Ok(())
    }

    async fn offer(&self, id: OfferId) -> StoreResult<Offer> {
        let s = self.lock();
        s.offers
            .get(&id)
            .map(|(o, _)| s.with_name(o))
            .ok_or(StoreError::NotFound)
    }

    async fn offers_of(
        &self,
        organisation: OrganisationId,
        statuses: &[OfferStatus],
    ) -> StoreResult<Vec<Offer>> {
        let s = self.lock();
        let mut offers: Vec<Offer> = s
            .offers
            .values()
            .map(|(o, _)| o)
            .filter(|o| o.organisation_id == organisation)
            .filter(|o| statuses.is_empty() || statuses.contains(&o.status))
            .map(|o| s.with_name(o))
            .collect();
        offers.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
        Ok(offers)
    }

    async fn offer_history(&self, id: OfferId) -> StoreResult<Vec<OfferHistoryEntry>> {
        Ok(self
            .lock()
            .offer_history
            .iter()
            .filter(|e| e.offer == id)
            .cloned()
            .collect())
    }

    async fn catalogue_seq(&self) -> StoreResult<i64> {
        Ok(self.lock().catalogue_seq)
    }

    async fn offers_changed_since(&self, after: i64, limit: u32) -> StoreResult<Vec<(i64, Offer)>> {
        let s = self.lock();
        let mut changed: Vec<(i64, Offer)> = s
            .offers
            .values()
            .filter(|(_, seq)| *seq > after)
            .map(|(o, seq)| (*seq, s.with_name(o)))
            .collect();
        changed.sort_by_key(|(seq, _)| *seq);
        changed.truncate(limit as usize);
        Ok(changed)
    }

    async fn offers_due(
        &self,
        due_by: DateTime<Utc>,
        organisation: Option<OrganisationId>,
    ) -> StoreResult<Vec<Offer>> {
        let s = self.lock();
        let mut due: Vec<Offer> = s
            .offers
            .values()
            .map(|(o, _)| o)
            .filter(|o| o.status == OfferStatus::Published && o.verify_by() <= due_by)
            .filter(|o| organisation.is_none_or(|org| o.organisation_id == org))
            .map(|o| s.with_name(o))
            .collect();
        due.sort_by(|a, b| a.verify_by().cmp(&b.verify_by()).then(a.id.cmp(&b.id)));
        Ok(due)
    }

    async fn offers_pending_review(&self) -> StoreResult<Vec<Offer>> {
        let s = self.lock();
        let mut pending: Vec<Offer> = s
            .offers
            .values()
            .map(|(o, _)| o)
            .filter(|o| o.status == OfferStatus::PendingReview)
            .map(|o| s.with_name(o))
            .collect();
        pending.sort_by(|a, b| a.updated_at.cmp(&b.updated_at).then(a.id.cmp(&b.id)));
        Ok(pending)
    }

    async fn record_reminder(
        &self,
        offer: OfferId,
        due_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut s = self.lock();
        if s.reminders.contains_key(&(offer, due_at)) {
            return Ok(false);
        }
        s.reminders.insert((offer, due_at), at);
        Ok(true)
    }

    async fn reminder_sent(&self, offer: OfferId, due_at: DateTime<Utc>) -> StoreResult<bool> {
        Ok(self.lock().reminders.contains_key(&(offer, due_at)))
    }

    async fn organisation_profile(
        &self,
        organisation: OrganisationId,
    ) -> StoreResult<Option<StoredProfile>> {
        Ok(self.lock().profiles.get(&organisation).cloned())
    }

    async fn save_organisation_profile(
        &self,
        organisation: OrganisationId,
        profile: &OrganisationProfile,
        expected_version: Option<i64>,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let mut s = self.lock();
        if !s.organisations.contains_key(&organisation) {
            return Err(conflict(Conflict::MissingReference));
        }
        let current = s.profiles.get(&organisation).map(|p| p.version);
        if current != expected_version {
            return Err(StoreError::Stale);
        }
        let version = current.unwrap_or(0) + 1;
        s.catalogue_seq += 1;
        s.profiles.insert(
            organisation,
            StoredProfile {
                profile: profile.clone(),
                version,
                updated_at: at,
            },
        );
        Ok(version)
    }
}

#[async_trait]
impl CatalogueExchange for MemoryStore {
    async fn held_records(
        &self,
        kind: RecordKind,
        source: &str,
        ids: &[String],
    ) -> StoreResult<Vec<HeldRecord>> {
        let s = self.lock();
        Ok(ids
            .iter()
            .filter_map(|id| {
                let record = s.imported.get(&(kind, source.to_owned(), id.clone()))?;
                let (current_version, updated_at) = match kind {
                    RecordKind::Service => s
                        .offers
                        .get(&OfferId(record.local_id))
                        .map(|(o, _)| (o.version, o.updated_at))?,
                    RecordKind::Structure => s
                        .profiles
                        .get(&OrganisationId(record.local_id))
                        .map(|p| (p.version, p.updated_at))?,
                };
                Some(HeldRecord {
                    record: record.clone(),
                    current_version,
                    updated_at,
                })
            })
            .collect())
    }

    async fn origins_of(
        &self,
        kind: RecordKind,
        local_ids: &[uuid::Uuid],
    ) -> StoreResult<Vec<ImportedRecord>> {
        let s = self.lock();
        Ok(s.imported
            .values()
            .filter(|r| r.kind == kind && local_ids.contains(&r.local_id))
            .cloned()
            .collect())
    }

    async fn profiles_of(
        &self,
        organisations: &[OrganisationId],
    ) -> StoreResult<Vec<(OrganisationId, StoredProfile)>> {
        let s = self.lock();
        Ok(organisations
            .iter()
            .filter_map(|id| Some((*id, s.profiles.get(id)?.clone())))
            .collect())
    }

    async fn apply_import(&self, batch: &ImportBatch) -> StoreResult<BatchOutcome> {
        let mut s = self.lock();
        let mut outcome = BatchOutcome::default();
        // All or nothing, as a transaction: work on a copy.
        let mut next = State {
            organisations: s.organisations.clone(),
            profiles: s.profiles.clone(),
            offers: s.offers.clone(),
            imported: s.imported.clone(),
            catalogue_seq: s.catalogue_seq,
            ..State::default()
        };
        let mut history = Vec::new();
        for w in &batch.organisations {
            let mut org = w.organisation.clone();
            if let Some(siret) = &org.siret {
                let taken = next
                    .organisations
                    .values()
                    .any(|o| o.id != org.id && o.siret.as_ref() == Some(siret));
                if taken {
                    org.siret = None;
                    outcome.sirets_dropped.push(w.record.id.clone());
                }
            }
            let current = next.profiles.get(&org.id).map(|p| p.version);
            match w.expected_profile_version {
                None if next.organisations.contains_key(&org.id) => {
                    return Err(conflict(Conflict::Duplicate));
                }
                None => {
                    next.organisations.insert(org.id, org.clone());
                }
                Some(v) if current != Some(v) => {
                    outcome
                        .conflicts
                        .push((RecordKind::Structure, w.record.id.clone()));
                    continue;
                }
                Some(_) => {
                    let stored = next
                        .organisations
                        .get_mut(&org.id)
                        .ok_or(StoreError::NotFound)?;
                    stored.name = org.name.clone();
                    stored.siret = org.siret.clone();
                }
            }
            next.profiles.insert(
                org.id,
                StoredProfile {
                    profile: w.profile.clone(),
                    version: current.unwrap_or(0) + 1,
                    updated_at: w.record.imported_at,
                },
            );
            next.imported.insert(
                (w.record.kind, w.record.source.clone(), w.record.id.clone()),
                w.record.clone(),
            );
        }
        if !batch.organisations.is_empty() {
            next.catalogue_seq += 1;
        }
        for w in &batch.offers {
            next.catalogue_seq += 1;
            if !next.organisations.contains_key(&w.offer.organisation_id) {
                return Err(conflict(Conflict::MissingReference));
            }
            let current = next.offers.get(&w.offer.id).map(|(o, _)| o.version);
            match (w.expected_version, current) {
                (None, Some(_)) => return Err(conflict(Conflict::Duplicate)),
                (Some(v), c) if c != Some(v) => {
                    outcome
                        .conflicts
                        .push((RecordKind::Service, w.record.id.clone()));
                    continue;
                }
                _ => {}
            }
            let seq = next.catalogue_seq;
            next.offers.insert(w.offer.id, (w.offer.clone(), seq));
            history.push(w.entry.clone());
            next.imported.insert(
                (w.record.kind, w.record.source.clone(), w.record.id.clone()),
                w.record.clone(),
            );
        }
        s.organisations = next.organisations;
        s.profiles = next.profiles;
        s.offers = next.offers;
        s.imported = next.imported;
        s.catalogue_seq = next.catalogue_seq;
        s.offer_history.extend(history);
        Ok(outcome)
    }

    async fn published_offers(
        &self,
        after: Option<OfferId>,
        limit: u32,
    ) -> StoreResult<Vec<Offer>> {
        let s = self.lock();
        let mut offers: Vec<&Offer> = s
            .offers
            .values()
            .map(|(o, _)| o)
            .filter(|o| o.status == OfferStatus::Published && after.is_none_or(|a| o.id > a))
            .collect();
        offers.sort_by_key(|o| o.id);
        Ok(offers
            .into_iter()
            .take(limit as usize)
            .map(|o| s.with_name(o))
            .collect())
    }

    async fn public_organisations(
        &self,
        after: Option<OrganisationId>,
        limit: u32,
    ) -> StoreResult<Vec<(Organisation, Option<StoredProfile>)>> {
        let s = self.lock();
        let mut orgs: Vec<&Organisation> = s
            .organisations
            .values()
            .filter(|o| after.is_none_or(|a| o.id > a))
            .filter(|o| {
                s.profiles.contains_key(&o.id)
                    || s.offers.values().any(|(x, _)| {
                        x.organisation_id == o.id && x.status == OfferStatus::Published
                    })
            })
            .collect();
        orgs.sort_by_key(|o| o.id);
        Ok(orgs
            .into_iter()
            .take(limit as usize)
            .map(|o| (o.clone(), s.profiles.get(&o.id).cloned()))
            .collect())
    }

    async fn catalogue_changed_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let s = self.lock();
        let offers = s.offers.values().map(|(o, _)| o.updated_at).max();
        let profiles = s.profiles.values().map(|p| p.updated_at).max();
        Ok(offers.max(profiles))
    }

    async fn save_import_job(&self, job: &ImportJob) -> StoreResult<()> {
        self.lock().import_jobs.insert(job.id, job.clone());
        Ok(())
    }

    async fn import_job(&self, id: ImportJobId) -> StoreResult<ImportJob> {
        self.lock()
            .import_jobs
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn interrupt_import_jobs(&self, at: DateTime<Utc>) -> StoreResult<u64> {
        let mut s = self.lock();
        let mut count = 0;
        for job in s.import_jobs.values_mut() {
            if matches!(
                job.status,
                ImportJobStatus::Queued | ImportJobStatus::Running
            ) {
                job.status = ImportJobStatus::Interrupted;
                job.finished_at = Some(at);
                count += 1;
            }
        }
        Ok(count)
    }
}

#[async_trait]
impl PlanRepository for MemoryStore {
    async fn create_plan(&self, plan: &Plan, event: &PlanEvent) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&plan.person) {
            return Err(StoreError::NotFound);
        }
        if s.plans.contains_key(&plan.id) {
            return Err(conflict(Conflict::Duplicate));
        }
        s.plans.insert(plan.id, plan.clone());
        s.plan_events.push(event.clone());
        Ok(())
    }

    async fn plan(&self, id: PlanId) -> StoreResult<Plan> {
        self.lock()
            .plans
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn plans_of(&self, person: AccountId) -> StoreResult<Vec<Plan>> {
        let mut plans: Vec<Plan> = self
            .lock()
            .plans
            .values()
            .filter(|p| p.person == person)
            .cloned()
            .collect();
        plans.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        Ok(plans)
    }

    async fn update_plan(
        &self,
        plan: &Plan,
        expected_version: i64,
        events: &[PlanEvent],
    ) -> StoreResult<()> {
        let mut s = self.lock();
        let held = s.plans.get(&plan.id).ok_or(StoreError::NotFound)?;
        if held.version != expected_version {
            return Err(StoreError::Stale);
        }
        s.plans.insert(plan.id, plan.clone());
        s.plan_events.extend(events.iter().cloned());
        Ok(())
    }

    async fn steps(&self, plan: PlanId) -> StoreResult<Vec<Step>> {
        let mut steps: Vec<Step> = self
            .lock()
            .steps
            .values()
            .filter(|st| st.plan == plan)
            .cloned()
            .collect();
        steps.sort_by(|a, b| {
            a.position
                .cmp(&b.position)
                .then(a.created_at.cmp(&b.created_at))
        });
        Ok(steps)
    }

    async fn step(&self, id: StepId) -> StoreResult<Step> {
        self.lock()
            .steps
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn add_step(&self, step: &Step, event: &PlanEvent) -> StoreResult<u32> {
        let mut s = self.lock();
        if !s.plans.contains_key(&step.plan) {
            return Err(StoreError::NotFound);
        }
        if s.steps.contains_key(&step.id) {
            return Err(conflict(Conflict::Duplicate));
        }
        let position = s
            .steps
            .values()
            .filter(|st| st.plan == step.plan)
            .map(|st| st.position + 1)
            .max()
            .unwrap_or(0);
        let mut step = step.clone();
        step.position = position;
        s.steps.insert(step.id, step);
        s.plan_events.push(event.clone());
        Ok(position)
    }

    async fn update_step(
        &self,
        step: &Step,
        expected_version: i64,
        events: &[PlanEvent],
    ) -> StoreResult<()> {
        let mut s = self.lock();
        let held = s.steps.get(&step.id).ok_or(StoreError::NotFound)?;
        if held.version != expected_version {
            return Err(StoreError::Stale);
        }
        let mut step = step.clone();
        step.position = held.position;
        s.steps.insert(step.id, step);
        s.plan_events.extend(events.iter().cloned());
        Ok(())
    }

    async fn reorder_steps(
        &self,
        plan: PlanId,
        order: &[StepId],
        event: &PlanEvent,
    ) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.plans.contains_key(&plan) {
            return Err(StoreError::NotFound);
        }
        let held: std::collections::BTreeSet<StepId> = s
            .steps
            .values()
            .filter(|st| st.plan == plan)
            .map(|st| st.id)
            .collect();
        let given: std::collections::BTreeSet<StepId> = order.iter().copied().collect();
        if given.len() != order.len() || given != held {
            return Err(StoreError::Stale);
        }
        for (position, id) in order.iter().enumerate() {
            if let Some(step) = s.steps.get_mut(id) {
                step.position = u32::try_from(position).unwrap_or(u32::MAX);
            }
        }
        s.plan_events.push(event.clone());
        Ok(())
    }

    async fn add_message(&self, message: &StepMessage, event: &PlanEvent) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.steps.contains_key(&message.step) {
            return Err(StoreError::NotFound);
        }
        s.messages.push(message.clone());
        s.plan_events.push(event.clone());
        Ok(())
    }

    async fn messages(&self, step: StepId) -> StoreResult<Vec<StepMessage>> {
        let mut messages: Vec<StepMessage> = self
            .lock()
            .messages
            .iter()
            .filter(|m| m.step == step)
            .cloned()
            .collect();
        messages.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
        Ok(messages)
    }

    async fn plan_history(&self, plan: PlanId) -> StoreResult<Vec<PlanEvent>> {
        Ok(self
            .lock()
            .plan_events
            .iter()
            .filter(|e| e.plan == plan)
            .cloned()
            .collect())
    }

    async fn template_references(&self) -> StoreResult<Vec<(StepId, TemplateRef)>> {
        let s = self.lock();
        let mut refs: Vec<(StepId, TemplateRef)> = s
            .steps
            .values()
            .filter_map(|st| Some((st.id, st.template.clone()?)))
            .collect();
        refs.sort_by_key(|(id, _)| *id);
        Ok(refs)
    }

    async fn steps_due(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Step>> {
        let s = self.lock();
        let mut due: Vec<Step> = s
            .steps
            .values()
            .filter(|st| st.due_on.is_some_and(|d| d >= from && d <= to))
            .filter(|st| st.status.is_open())
            .filter(|st| {
                s.plans
                    .get(&st.plan)
                    .is_some_and(|p| p.status == PlanStatus::Active)
            })
            .cloned()
            .collect();
        due.sort_by(|a, b| a.due_on.cmp(&b.due_on).then(a.id.cmp(&b.id)));
        Ok(due)
    }

    async fn record_due_reminder(
        &self,
        step: StepId,
        due_on: NaiveDate,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut s = self.lock();
        if !s.steps.contains_key(&step) {
            return Err(StoreError::NotFound);
        }
        Ok(s.due_reminders.insert((step, due_on), at).is_none())
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn memory_store_conforms() {
        super::super::conformance::run_all(|| async { super::MemoryStore::new() }).await;
    }

    #[tokio::test]
    async fn memory_store_conforms_for_the_catalogue() {
        super::super::catalogue_conformance::run_all(|| async { super::MemoryStore::new() }).await;
    }

    #[tokio::test]
    async fn memory_store_conforms_for_plans() {
        super::super::plan_conformance::run_all(|| async { super::MemoryStore::new() }).await;
    }

    #[tokio::test]
    async fn memory_store_conforms_for_the_wallet() {
        super::super::wallet_conformance::run_all(|| async { super::MemoryStore::new() }).await;
    }

    #[tokio::test]
    async fn memory_store_conforms_for_the_wallet_on_one_store() {
        super::super::wallet_conformance::run(&super::MemoryStore::new()).await;
    }
}
