//! The person's say over their wallet: grants, consent for the referent, answering requests
//! ("never asked fourteen times"), and the access log.

use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeSet, HashMap};

use super::{Caller, LogLine, Wallet};
use crate::domain::*;
use crate::error::{CoreError, CoreResult, StoreError, ValidationError};
use crate::policy::{Action, Relation, authorize};
use crate::services::plan_notices::{Alert, PersonNotice};
use crate::wallet::repository::conflicts;
use crate::wallet::*;

#[derive(Debug, Clone)]
pub struct NewGrant {
    pub grantee: Grantee,
    pub scope: GrantScope,
    pub access: Access,
    pub ends_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewRequest {
    pub kinds: Vec<String>,
    pub step: Option<StepId>,
    pub message: Option<String>,
}

/// For one requested kind: the person's documents of that kind still valid, best first.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub kind: String,
    pub documents: Vec<Document>,
}

/// The answers about referents' access, as the person (or the worker at the counter) sees
/// them after a change.
#[derive(Debug, Clone)]
pub struct ConsentState {
    /// The latest answer recorded, about any referent.
    pub latest: Option<ReferentConsent>,
    /// Whether a current referent (at the counter: this worker) sees the wallet now; this
    /// also depends on the deployment's `wallet.referent_access`.
    pub referent_has_access: bool,
    /// For a consent recorded at the counter: the alert sent to the person, in their
    /// language, for the counter to print and hand over.
    pub notice: Option<String>,
}

/// A request as its reader sees it: for the person, what PEPS proposes to share.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub request: DocumentRequest,
    pub requested_by_name: String,
    /// Only for the person (a worker must not learn what they were not given).
    pub proposals: Vec<Proposal>,
}

/// A grant with what the service's clock says of it, so a reader's flags never disagree with
/// the rules the service applies.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantState {
    pub grant: Grant,
    /// Not revoked and not past its end, now.
    pub active: bool,
}

/// A request the person answered in one action, and the share it made.
#[derive(Debug, Clone)]
pub struct Fulfilled {
    pub request: RequestView,
    pub grant: GrantState,
}

const MESSAGE_MAX: usize = 2000;
/// A share ends within three years, like a mandate: papers change, and a share nobody
/// remembers should not outlive them. (No end date: until revoked, the person's choice.)
const MAX_SHARE_DAYS: i64 = 3 * 366;

impl Wallet {
    // ----- grants ---------------------------------------------------------------------

    /// The person shares with a worker or an organisation.
    pub async fn grant(
        &self,
        caller: &Caller,
        person: AccountId,
        new: NewGrant,
    ) -> CoreResult<GrantState> {
        self.permit(caller, person, Action::ShareWallet).await?;
        self.check_grant(person, &new).await?;
        let grant = Grant {
            id: GrantId::new(),
            person,
            grantee: new.grantee,
            scope: new.scope,
            access: new.access,
            ends_at: new.ends_at,
            created_by: caller.actor.account,
            created_at: self.now(),
            revoked_at: None,
            revoked_by: None,
            request: None,
        };
        let mut event = self.event(caller, person, None, WalletAction::Shared);
        event.grant = Some(grant.id);
        event.detail = describe_grant(&grant);
        self.ports.wallet.create_grant(&grant, &event).await?;
        Ok(self.grant_state(grant))
    }

    fn grant_state(&self, grant: Grant) -> GrantState {
        GrantState {
            active: grant.is_active(self.now()),
            grant,
        }
    }

    async fn check_grant(&self, person: AccountId, new: &NewGrant) -> CoreResult<()> {
        let mut errors = Vec::new();
        match new.grantee {
            Grantee::Worker(id) => match self.ports.accounts.account(id).await {
                Ok(a) if a.role == Role::Worker && a.status == AccountStatus::Active => {}
                Ok(_) | Err(StoreError::NotFound) => errors.push(ValidationError::new(
                    "grantee",
                    "grant.grantee.not_a_worker",
                )),
                Err(e) => return Err(e.into()),
            },
            Grantee::Organisation(id) => match self.ports.organisations.organisation(id).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => errors.push(ValidationError::new(
                    "grantee",
                    "grant.grantee.unknown_organisation",
                )),
                Err(e) => return Err(e.into()),
            },
        }
        match &new.scope {
            GrantScope::Wallet => {}
            GrantScope::Kinds(kinds) => {
                if kinds.is_empty() || kinds.iter().any(|k| !self.settings.kinds.contains(k)) {
                    errors.push(ValidationError::new("scope", "grant.scope.unknown_kind"));
                }
            }
            GrantScope::Documents(ids) => {
                let mine = self.document_ids(person).await?;
                if ids.is_empty() || !ids.is_subset(&mine) {
                    errors.push(ValidationError::new(
                        "scope",
                        "grant.scope.unknown_document",
                    ));
                }
            }
        }
        if new.ends_at.is_some_and(|end| end <= self.now()) {
            errors.push(ValidationError::new("ends_at", "grant.ends_at.past"));
        }
        if new
            .ends_at
            .is_some_and(|end| end - self.now() > Duration::days(MAX_SHARE_DAYS))
        {
            errors.push(ValidationError::new("ends_at", "grant.ends_at.too_far"));
        }
        CoreError::from_validation(errors)
    }

    /// The person's grants, past and present.
    pub async fn grants(&self, caller: &Caller, person: AccountId) -> CoreResult<Vec<GrantState>> {
        self.permit(caller, person, Action::ShareWallet).await?;
        let grants = self.ports.wallet.grants_of(person).await?;
        Ok(grants.into_iter().map(|g| self.grant_state(g)).collect())
    }

    /// Ends a grant now; the next request under it is refused.
    pub async fn revoke(&self, caller: &Caller, id: GrantId) -> CoreResult<GrantState> {
        let grant = self.ports.wallet.grant(id).await?;
        self.permit(caller, grant.person, Action::ShareWallet)
            .await?;
        let mut event = self.event(caller, grant.person, None, WalletAction::Revoked);
        event.grant = Some(grant.id);
        event.detail = describe_grant(&grant);
        self.ports
            .wallet
            .revoke_grant(id, caller.actor.account, self.now(), &event)
            .await
            .map_err(|e| crate::services::conflict_as(e, conflicts::ALREADY_REVOKED))?;
        let grant = self.ports.wallet.grant(id).await?;
        Ok(self.grant_state(grant))
    }

    // ----- the referent's access -----------------------------------------------------

    /// Records a yes or no to referents seeing the wallet.
    ///
    /// - The person, from their own password: about their referents current now, each
    ///   recorded by name (a worker who becomes a referent later is not covered); a no
    ///   withdraws it from all of them.
    /// - A current referent at the counter: the person's explicit consent (or withdrawal) to
    ///   this worker's own access, recorded with the time and the worker as its author. The
    ///   person is alerted at once by every channel, in their language; the text is returned
    ///   for the counter to print.
    pub async fn set_referent_consent(
        &self,
        caller: &Caller,
        person: AccountId,
        given: bool,
    ) -> CoreResult<ConsentState> {
        let now = self.now();
        let action = if given {
            WalletAction::ConsentGiven
        } else {
            WalletAction::ConsentWithdrawn
        };
        let record = |worker: Option<AccountId>| ReferentConsent {
            person,
            worker,
            given,
            at: now,
            by: caller.actor.account,
        };
        if caller.actor.role == Role::Worker {
            let since = self.counter_referent(caller, person).await?;
            let account = self.ports.accounts.account(person).await?;
            let date = now.date_naive().to_string();
            let alert = self.channels.alert(
                &account,
                Alert::PathOpenedAtCounter,
                &[
                    (
                        "worker",
                        self.display_name(caller.actor.account).await?.as_str(),
                    ),
                    ("date", date.as_str()),
                ],
            );
            let mut event = self.event(caller, person, None, action);
            event.detail = "at_counter".to_owned();
            // The alert is written with the consent: one never goes without the other.
            event.outbox = alert.messages;
            self.ports
                .wallet
                .record_consent(&record(Some(caller.actor.account)), &event)
                .await?;
            return Ok(ConsentState {
                latest: self.ports.wallet.consents(person).await?.pop(),
                referent_has_access: self
                    .referent_has_access(person, caller.actor.account, since)
                    .await?,
                notice: Some(alert.text),
            });
        }
        self.permit(caller, person, Action::ShareWallet).await?;
        let current: Vec<AccountId> = self
            .ports
            .relations
            .referents_of(person)
            .await?
            .into_iter()
            .filter(|r| r.is_current(now))
            .map(|r| r.worker)
            .collect();
        if given {
            if current.is_empty() {
                return Err(ValidationError::new("given", "consent.no_referent").into());
            }
            for worker in current {
                let event = self.event(caller, person, None, action);
                self.ports
                    .wallet
                    .record_consent(&record(Some(worker)), &event)
                    .await?;
            }
        } else {
            let event = self.event(caller, person, None, action);
            self.ports
                .wallet
                .record_consent(&record(None), &event)
                .await?;
        }
        self.consent_state(person, now).await
    }

    /// The person's latest answer, if any, and whether a current referent sees the wallet.
    pub async fn referent_consent(
        &self,
        caller: &Caller,
        person: AccountId,
    ) -> CoreResult<ConsentState> {
        self.permit(caller, person, Action::ShareWallet).await?;
        self.consent_state(person, self.now()).await
    }

    async fn consent_state(
        &self,
        person: AccountId,
        now: DateTime<Utc>,
    ) -> CoreResult<ConsentState> {
        let mut referent_has_access = false;
        for referent in self.ports.relations.referents_of(person).await? {
            if referent.is_current(now)
                && self
                    .referent_has_access(person, referent.worker, referent.started_at)
                    .await?
            {
                referent_has_access = true;
            }
        }
        Ok(ConsentState {
            latest: self.ports.wallet.consents(person).await?.pop(),
            referent_has_access,
            notice: None,
        })
    }

    /// A worker recording consent at the counter must be the person's referent now; the
    /// start of that relation is returned. Anyone else learns nothing (`NotFound`).
    async fn counter_referent(
        &self,
        caller: &Caller,
        person: AccountId,
    ) -> CoreResult<DateTime<Utc>> {
        let now = self.now();
        let current = self
            .ports
            .relations
            .referents_of(person)
            .await?
            .into_iter()
            .find(|r| r.worker == caller.actor.account && r.is_current(now));
        let relation = if current.is_some() {
            Relation::CurrentReferent
        } else {
            Relation::Unrelated
        };
        authorize(caller.actor.role, Action::RecordCounterConsent, relation)
            .map_err(|_| CoreError::NotFound)?;
        Ok(current.map(|r| r.started_at).unwrap_or(now))
    }

    async fn display_name(&self, id: AccountId) -> CoreResult<String> {
        Ok(self
            .ports
            .accounts
            .account(id)
            .await?
            .display_name
            .as_str()
            .to_owned())
    }

    // ----- requests -------------------------------------------------------------------

    /// A worker asks the person for documents of some kinds; the person is told.
    pub async fn request(
        &self,
        caller: &Caller,
        person: AccountId,
        new: NewRequest,
    ) -> CoreResult<RequestView> {
        let permit = self.standing_for_request(caller, person).await?;
        let mut kinds: Vec<String> = Vec::new();
        for kind in new.kinds.iter().map(|k| k.trim().to_owned()) {
            if !self.settings.kinds.contains(&kind) {
                return Err(ValidationError::new("kinds", "document.kind.unknown")
                    .at(1, Some(kind))
                    .into());
            }
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if kinds.is_empty() {
            return Err(ValidationError::new("kinds", "request.kinds.empty").into());
        }
        if let Some(step) = new.step {
            let theirs = match self.ports.plans.step(step).await {
                Ok(step) => self.ports.plans.plan(step.plan).await?.person == person,
                Err(StoreError::NotFound) => false,
                Err(e) => return Err(e.into()),
            };
            if !theirs {
                return Err(ValidationError::new("step_id", "request.step.unknown").into());
            }
        }
        let message = new
            .message
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty());
        if message
            .as_ref()
            .is_some_and(|m| m.chars().count() > MESSAGE_MAX)
        {
            return Err(ValidationError::new("message", "request.message.too_long").into());
        }
        let request = DocumentRequest {
            id: DocumentRequestId::new(),
            person,
            requested_by: caller.actor.account,
            kinds,
            step: new.step,
            message,
            created_at: self.now(),
            status: RequestStatus::Open,
            closed_at: None,
            grant: None,
        };
        let mut event = self.event(caller, person, permit, WalletAction::Requested);
        event.detail = request.kinds.join(",");
        let account = self.ports.accounts.account(person).await?;
        event.outbox = self
            .channels
            .to_person(&account, PersonNotice::DocumentsRequested)
            .await?
            .messages;
        self.ports.wallet.create_request(&request, &event).await?;
        self.request_view(caller, request).await
    }

    async fn standing_for_request(
        &self,
        caller: &Caller,
        person: AccountId,
    ) -> CoreResult<Option<MandateId>> {
        let permit = self
            .permit(caller, person, Action::RequestDocuments)
            .await?;
        Ok(permit.mandate)
    }

    /// Requests about a person: all of them for the person, a worker's own for a worker.
    pub async fn requests(
        &self,
        caller: &Caller,
        person: AccountId,
    ) -> CoreResult<Vec<RequestView>> {
        let all = self.ports.wallet.requests_of(person).await?;
        let mine: Vec<DocumentRequest> = if caller.actor.account == person {
            all
        } else {
            self.permit(caller, person, Action::RequestDocuments)
                .await?;
            all.into_iter()
                .filter(|r| r.requested_by == caller.actor.account)
                .collect()
        };
        let mut views = Vec::with_capacity(mine.len());
        for r in mine {
            views.push(self.request_view(caller, r).await?);
        }
        Ok(views)
    }

    pub async fn request_detail(
        &self,
        caller: &Caller,
        id: DocumentRequestId,
    ) -> CoreResult<RequestView> {
        let request = self.ports.wallet.request(id).await?;
        if caller.actor.account != request.person && caller.actor.account != request.requested_by {
            return Err(CoreError::NotFound);
        }
        self.request_view(caller, request).await
    }

    async fn request_view(
        &self,
        caller: &Caller,
        request: DocumentRequest,
    ) -> CoreResult<RequestView> {
        let requested_by_name = match self.ports.accounts.account(request.requested_by).await {
            Ok(a) => a.display_name.as_str().to_owned(),
            Err(StoreError::NotFound) => String::new(),
            Err(e) => return Err(e.into()),
        };
        let proposals = if caller.actor.account == request.person {
            self.proposals(&request).await?
        } else {
            Vec::new()
        };
        Ok(RequestView {
            request,
            requested_by_name,
            proposals,
        })
    }

    /// For each requested kind, the person's documents of that kind that are not expired,
    /// the one valid longest first.
    async fn proposals(&self, request: &DocumentRequest) -> CoreResult<Vec<Proposal>> {
        let today = self.today();
        let documents = self.ports.wallet.documents_of(request.person).await?;
        let mut by_kind: HashMap<&str, Vec<Document>> = HashMap::new();
        for d in &documents {
            if d.expiry(today, 0) != Expiry::Expired {
                by_kind.entry(d.kind.as_str()).or_default().push(d.clone());
            }
        }
        Ok(request
            .kinds
            .iter()
            .map(|kind| {
                let mut docs = by_kind.remove(kind.as_str()).unwrap_or_default();
                docs.sort_by(|a, b| {
                    let end = |d: &Document| d.valid_until.unwrap_or(chrono::NaiveDate::MAX);
                    end(b).cmp(&end(a)).then(b.created_at.cmp(&a.created_at))
                });
                Proposal {
                    kind: kind.clone(),
                    documents: docs,
                }
            })
            .collect())
    }

    /// One action by the person: shares the chosen documents (by default the first proposal
    /// of each kind) with the worker who asked, read-only, for `request_share_days`, and
    /// closes the request.
    pub async fn fulfil(
        &self,
        caller: &Caller,
        id: DocumentRequestId,
        documents: Option<Vec<DocumentId>>,
    ) -> CoreResult<Fulfilled> {
        let request = self.ports.wallet.request(id).await?;
        self.permit(caller, request.person, Action::ShareWallet)
            .await?;
        if request.status != RequestStatus::Open {
            return Err(CoreError::Conflict(conflicts::REQUEST_CLOSED));
        }
        let chosen: BTreeSet<DocumentId> = match documents {
            Some(ids) => ids.into_iter().collect(),
            None => self
                .proposals(&request)
                .await?
                .into_iter()
                .filter_map(|p| p.documents.first().map(|d| d.id))
                .collect(),
        };
        if chosen.is_empty() {
            return Err(ValidationError::new("documents", "request.nothing_to_share").into());
        }
        let new = NewGrant {
            grantee: Grantee::Worker(request.requested_by),
            scope: GrantScope::Documents(chosen),
            access: Access::Read,
            ends_at: Some(self.now() + Duration::days(i64::from(self.settings.request_share_days))),
        };
        self.check_grant(request.person, &new).await?;
        let now = self.now();
        let grant = Grant {
            id: GrantId::new(),
            person: request.person,
            grantee: new.grantee,
            scope: new.scope,
            access: new.access,
            ends_at: new.ends_at,
            created_by: caller.actor.account,
            created_at: now,
            revoked_at: None,
            revoked_by: None,
            request: Some(request.id),
        };
        let closed = DocumentRequest {
            status: RequestStatus::Fulfilled,
            closed_at: Some(now),
            grant: Some(grant.id),
            ..request
        };
        let mut shared = self.event(caller, closed.person, None, WalletAction::Shared);
        shared.grant = Some(grant.id);
        shared.detail = describe_grant(&grant);
        let mut fulfilled = self.event(caller, closed.person, None, WalletAction::RequestFulfilled);
        fulfilled.grant = Some(grant.id);
        self.ports
            .wallet
            .close_request(&closed, Some(&grant), &[shared, fulfilled])
            .await
            .map_err(|e| crate::services::conflict_as(e, conflicts::REQUEST_CLOSED))?;
        Ok(Fulfilled {
            request: self.request_view(caller, closed).await?,
            grant: self.grant_state(grant),
        })
    }

    /// Closes a request without sharing: the person declines, or the worker withdraws it.
    pub async fn cancel_request(
        &self,
        caller: &Caller,
        id: DocumentRequestId,
    ) -> CoreResult<RequestView> {
        let request = self.ports.wallet.request(id).await?;
        if caller.actor.account != request.person && caller.actor.account != request.requested_by {
            return Err(CoreError::NotFound);
        }
        if request.status != RequestStatus::Open {
            return Err(CoreError::Conflict(conflicts::REQUEST_CLOSED));
        }
        let closed = DocumentRequest {
            status: RequestStatus::Cancelled,
            closed_at: Some(self.now()),
            ..request
        };
        let event = self.event(caller, closed.person, None, WalletAction::RequestCancelled);
        self.ports
            .wallet
            .close_request(&closed, None, &[event])
            .await
            .map_err(|e| crate::services::conflict_as(e, conflicts::REQUEST_CLOSED))?;
        self.request_view(caller, closed).await
    }

    // ----- the access log ---------------------------------------------------------------

    /// Who did what in the wallet, newest first (the person only).
    pub async fn log(
        &self,
        caller: &Caller,
        person: AccountId,
        before: Option<WalletEventId>,
        limit: u32,
    ) -> CoreResult<Vec<LogLine>> {
        let permit = self.permit(caller, person, Action::ViewWalletLog).await?;
        debug_assert_eq!(permit.relation, Relation::Oneself);
        let events = self
            .ports
            .wallet
            .events_of(person, before, limit.clamp(1, 500))
            .await?;
        let mut names: HashMap<AccountId, Option<String>> = HashMap::new();
        let mut lines = Vec::with_capacity(events.len());
        for event in events {
            let actor_name = match event.actor {
                Some(id) => match names.get(&id) {
                    Some(known) => known.clone(),
                    None => {
                        let name = match self.ports.accounts.account(id).await {
                            Ok(a) => Some(a.display_name.as_str().to_owned()),
                            Err(StoreError::NotFound) => None,
                            Err(e) => return Err(e.into()),
                        };
                        names.insert(id, name.clone());
                        name
                    }
                },
                None => None,
            };
            lines.push(LogLine { event, actor_name });
        }
        Ok(lines)
    }
}

fn describe_grant(grant: &Grant) -> String {
    let to = match grant.grantee {
        Grantee::Worker(id) => format!("worker {id}"),
        Grantee::Organisation(id) => format!("organisation {id}"),
    };
    let scope = match &grant.scope {
        GrantScope::Wallet => "whole wallet".to_owned(),
        GrantScope::Kinds(k) => {
            format!("kinds {}", k.iter().cloned().collect::<Vec<_>>().join(","))
        }
        GrantScope::Documents(d) => format!("{} documents", d.len()),
    };
    format!("{to}; {scope}; {}", grant.access.as_str())
}
