//! The in-memory reference of the identity ports.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, conflict};
use crate::domain::*;
use crate::error::{Conflict, StoreError};
use crate::ports::*;

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

    async fn create_mandate(
        &self,
        mandate: &Mandate,
        outbox: &[crate::outbox::OutboxMessage],
    ) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&mandate.helper) || !s.accounts.contains_key(&mandate.person) {
            return Err(conflict(Conflict::MissingReference));
        }
        s.mandates.push(mandate.clone());
        self.queue(outbox);
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

    async fn set_session_assurance(
        &self,
        id: SessionId,
        assurance: Assurance,
        method: &str,
    ) -> StoreResult<()> {
        let mut s = self.lock();
        let session = s.sessions.get_mut(&id).ok_or(StoreError::NotFound)?;
        session.assurance = assurance;
        session.method = method.to_owned();
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

    async fn create_activation(
        &self,
        code: &ActivationCode,
        outbox: &[crate::outbox::OutboxMessage],
    ) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&code.account) {
            return Err(conflict(Conflict::MissingReference));
        }
        s.activations
            .retain(|c| c.account != code.account || c.used_at.is_some());
        s.activations.push(code.clone());
        self.queue(outbox);
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

#[async_trait]
impl SecondFactorRepository for MemoryStore {
    async fn second_factor(&self, account: AccountId) -> StoreResult<Option<SecondFactor>> {
        Ok(self.lock().second_factors.get(&account).cloned())
    }

    async fn save_second_factor(&self, factor: &SecondFactor) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&factor.account) {
            return Err(conflict(Conflict::MissingReference));
        }
        s.second_factors.insert(factor.account, factor.clone());
        Ok(())
    }

    async fn delete_second_factor(&self, account: AccountId) -> StoreResult<()> {
        self.lock()
            .second_factors
            .remove(&account)
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }

    async fn accept_totp_step(&self, account: AccountId, step: i64) -> StoreResult<bool> {
        let mut s = self.lock();
        let factor = s
            .second_factors
            .get_mut(&account)
            .ok_or(StoreError::NotFound)?;
        if factor.last_step >= step {
            return Ok(false);
        }
        factor.last_step = step;
        Ok(true)
    }

    async fn use_recovery_code(&self, account: AccountId, hash: &str) -> StoreResult<bool> {
        let mut s = self.lock();
        let Some(factor) = s.second_factors.get_mut(&account) else {
            return Ok(false);
        };
        let before = factor.recovery_hashes.len();
        factor.recovery_hashes.retain(|h| h != hash);
        Ok(factor.recovery_hashes.len() < before)
    }
}

#[async_trait]
impl ExternalIdentityRepository for MemoryStore {
    async fn external_link(
        &self,
        provider: &str,
        subject: &str,
    ) -> StoreResult<Option<ExternalLink>> {
        Ok(self
            .lock()
            .external_links
            .iter()
            .find(|l| l.provider == provider && l.subject == subject)
            .cloned())
    }

    async fn external_links_of(&self, account: AccountId) -> StoreResult<Vec<ExternalLink>> {
        let mut links: Vec<_> = self
            .lock()
            .external_links
            .iter()
            .filter(|l| l.account == account)
            .cloned()
            .collect();
        links.sort_by(|a, b| a.provider.cmp(&b.provider));
        Ok(links)
    }

    async fn create_external_link(&self, link: &ExternalLink) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.accounts.contains_key(&link.account) {
            return Err(conflict(Conflict::MissingReference));
        }
        if s.external_links.iter().any(|l| {
            l.provider == link.provider && (l.subject == link.subject || l.account == link.account)
        }) {
            return Err(conflict(Conflict::Duplicate));
        }
        s.external_links.push(link.clone());
        Ok(())
    }

    async fn delete_external_link(&self, account: AccountId, provider: &str) -> StoreResult<()> {
        let mut s = self.lock();
        let before = s.external_links.len();
        s.external_links
            .retain(|l| !(l.account == account && l.provider == provider));
        if s.external_links.len() == before {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn put_one_time(&self, value: &OneTimeValue) -> StoreResult<()> {
        let mut s = self.lock();
        if s.one_time.contains_key(&value.key_hash) {
            return Err(conflict(Conflict::Duplicate));
        }
        s.one_time.insert(value.key_hash.clone(), value.clone());
        Ok(())
    }

    async fn take_one_time(&self, key_hash: &str) -> StoreResult<Option<OneTimeValue>> {
        Ok(self.lock().one_time.remove(key_hash))
    }

    async fn prune_one_time(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut s = self.lock();
        let count = s.one_time.len();
        s.one_time.retain(|_, v| v.created_at >= before);
        Ok((count - s.one_time.len()) as u64)
    }

    async fn save_sign_in_request(&self, request: &SignInRequest) -> StoreResult<SignInRequest> {
        let mut s = self.lock();
        if let Some(filed) = s
            .sign_in_requests
            .iter_mut()
            .find(|r| r.provider == request.provider && r.subject == request.subject)
        {
            *filed = SignInRequest {
                id: filed.id,
                ..request.clone()
            };
            return Ok(filed.clone());
        }
        s.sign_in_requests.push(request.clone());
        Ok(request.clone())
    }

    async fn sign_in_requests(&self) -> StoreResult<Vec<SignInRequest>> {
        let mut requests = self.lock().sign_in_requests.clone();
        requests.sort_by_key(|r| r.requested_at);
        Ok(requests)
    }

    async fn sign_in_request(&self, id: SignInRequestId) -> StoreResult<SignInRequest> {
        self.lock()
            .sign_in_requests
            .iter()
            .find(|r| r.id == id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    async fn delete_sign_in_request(&self, id: SignInRequestId) -> StoreResult<()> {
        let mut s = self.lock();
        let before = s.sign_in_requests.len();
        s.sign_in_requests.retain(|r| r.id != id);
        if s.sign_in_requests.len() == before {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn prune_sign_in_requests(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut s = self.lock();
        let count = s.sign_in_requests.len();
        s.sign_in_requests.retain(|r| r.requested_at >= before);
        Ok((count - s.sign_in_requests.len()) as u64)
    }
}
