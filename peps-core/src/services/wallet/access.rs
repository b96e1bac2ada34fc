//! How an actor stands towards a person's wallet, worked out once per request and then asked
//! document by document.

use chrono::{DateTime, Utc};

use super::{Caller, Wallet};
use crate::domain::*;
use crate::error::{CoreError, CoreResult};
use crate::policy::{Action, Actor, Relation, authorize};
use crate::wallet::*;

/// What the caller may reach in one person's wallet.
#[derive(Debug, Clone)]
pub struct Permit {
    pub person: AccountId,
    pub relation: Relation,
    /// The helper's mandate this rests on, written in every log line.
    pub mandate: Option<MandateId>,
    /// Everything, as the person, a mandated helper or a consented referent.
    whole: Option<Access>,
    /// The caller's grants in force (workers only).
    grants: Vec<Grant>,
}

impl Permit {
    fn access_to(&self, document: &Document) -> Option<Access> {
        let by_grant = self
            .grants
            .iter()
            .filter(|g| g.covers(document))
            .map(|g| g.access)
            .max();
        self.whole.max(by_grant)
    }

    pub fn can_read(&self, document: &Document) -> bool {
        document.person == self.person && self.access_to(document).is_some()
    }

    pub fn can_add_to(&self, document: &Document) -> bool {
        document.person == self.person
            && self
                .access_to(document)
                .is_some_and(|a| a.allows(Access::ReadUpload))
    }

    pub fn can_add_kind(&self, kind: &str) -> bool {
        self.whole.is_some_and(|a| a.allows(Access::ReadUpload))
            || self
                .grants
                .iter()
                .any(|g| g.access.allows(Access::ReadUpload) && g.covers_new(kind))
    }

    /// The grant a worker's access to `document` rests on (for the log).
    pub fn grant_for(&self, document: &Document) -> Option<GrantId> {
        if self.whole.is_some() {
            return None;
        }
        self.grants
            .iter()
            .find(|g| g.covers(document))
            .map(|g| g.id)
    }
}

fn denied_as_not_found(role: Role, action: Action, relation: Relation) -> CoreResult<()> {
    // Nobody learns that a wallet, a document or a grant exists unless they may see it.
    authorize(role, action, relation).map_err(|_| CoreError::NotFound)
}

impl Wallet {
    /// The caller's permit on `person`'s wallet for `action`, or `NotFound`.
    pub async fn permit(
        &self,
        caller: &Caller,
        person: AccountId,
        action: Action,
    ) -> CoreResult<Permit> {
        let needed = match action {
            Action::UploadDocuments => Access::ReadUpload,
            _ => Access::Read,
        };
        let permit = self
            .standing(&caller.actor, person, needed, self.now())
            .await?;
        if permit.relation == Relation::OneselfByIssuedCode {
            // The person, but with a password someone else chose through a code they issued.
            return Err(CoreError::Forbidden("account.password_change_required"));
        }
        if authorize(caller.actor.role, action, permit.relation).is_err() {
            // Someone who may see the wallet learns they may not do this; anyone else learns
            // nothing, not even that the person has a wallet.
            let reader = if needed == Access::Read {
                permit.relation
            } else {
                self.standing(&caller.actor, person, Access::Read, self.now())
                    .await?
                    .relation
            };
            denied_as_not_found(caller.actor.role, Action::ViewDocuments, reader)?;
            return Err(CoreError::Denied);
        }
        Ok(permit)
    }

    async fn standing(
        &self,
        actor: &Actor,
        person: AccountId,
        needed: Access,
        now: DateTime<Utc>,
    ) -> CoreResult<Permit> {
        let mut permit = Permit {
            person,
            relation: Relation::Unrelated,
            mandate: None,
            whole: None,
            grants: Vec::new(),
        };
        if actor.account == person {
            permit.relation =
                super::super::relations::oneself(self.ports.accounts.as_ref(), person).await?;
            if permit.relation == Relation::Oneself {
                permit.whole = Some(Access::ReadUpload);
            }
            return Ok(permit);
        }
        match actor.role {
            Role::Worker => {
                let referents = self.ports.relations.referents_of(person).await?;
                let mine: Vec<_> = referents
                    .iter()
                    .filter(|r| r.worker == actor.account)
                    .collect();
                let current = mine.iter().find(|r| r.is_current(now));
                if let Some(relation) = current
                    && self
                        .referent_has_access(person, actor.account, relation.started_at)
                        .await?
                {
                    permit.whole = Some(Access::ReadUpload);
                }
                let current = current.is_some();
                permit.grants = self
                    .ports
                    .wallet
                    .grants_of(person)
                    .await?
                    .into_iter()
                    .filter(|g| {
                        g.is_active(now)
                            && g.names(actor.account, &actor.organisations)
                            && g.access.allows(needed)
                    })
                    .collect();
                permit.relation = if permit.whole.is_some() || !permit.grants.is_empty() {
                    Relation::WalletGrantee
                } else if current {
                    Relation::CurrentReferent
                } else if !mine.is_empty() {
                    Relation::FormerReferent
                } else {
                    Relation::Unrelated
                };
            }
            Role::Helper => {
                let scope = match needed {
                    Access::Read => MandateScope::WalletRead,
                    Access::ReadUpload => MandateScope::WalletUpload,
                };
                let mandates = self
                    .ports
                    .relations
                    .mandates_of_helper(actor.account)
                    .await?;
                if let Some(m) = mandates
                    .iter()
                    .find(|m| m.person == person && m.is_valid_at(now) && m.scopes.contains(&scope))
                {
                    permit.relation = Relation::MandatedHelper;
                    permit.mandate = Some(m.id);
                    permit.whole = Some(needed);
                }
            }
            _ => {}
        }
        Ok(permit)
    }

    /// Whether `worker`, the person's referent since `since`, sees the wallet without a
    /// grant. Under `after_consent`, the latest answer about them decides: one naming them
    /// given during this relation, or one about "my referents" given while they were one.
    /// A consent never reaches a worker who became a referent after it.
    pub async fn referent_has_access(
        &self,
        person: AccountId,
        worker: AccountId,
        since: DateTime<Utc>,
    ) -> CoreResult<bool> {
        Ok(match self.settings.referent_access {
            ReferentAccess::Always => true,
            ReferentAccess::Never => false,
            ReferentAccess::AfterConsent => {
                let history = self.ports.wallet.consents(person).await?;
                latest_about(&history, worker, since).is_some_and(|c| c.given)
            }
        })
    }

    /// A document the caller may read, with their permit; `NotFound` otherwise.
    pub(super) async fn readable(
        &self,
        caller: &Caller,
        id: DocumentId,
        action: Action,
    ) -> CoreResult<(Document, Permit)> {
        let document = self.ports.wallet.document(id).await?;
        let permit = self.permit(caller, document.person, action).await?;
        let ok = match action {
            Action::UploadDocuments => permit.can_add_to(&document),
            _ => permit.can_read(&document),
        };
        if !ok {
            return Err(CoreError::NotFound);
        }
        Ok((document, permit))
    }
}

/// The latest answer that concerns `worker`, referent since `since`.
pub(super) fn latest_about(
    history: &[ReferentConsent],
    worker: AccountId,
    since: DateTime<Utc>,
) -> Option<&ReferentConsent> {
    history.iter().rev().find(|c| match c.worker {
        Some(named) => named == worker && c.at >= since,
        // "My referents": those current when it was said, never one who came later.
        None => since <= c.at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, hour, 0, 0).unwrap()
    }

    fn answer(worker: Option<AccountId>, given: bool, hour: u32) -> ReferentConsent {
        ReferentConsent {
            person: AccountId::new(),
            worker,
            given,
            at: at(hour),
            by: AccountId::new(),
        }
    }

    #[test]
    fn consent_never_flows_to_another_worker() {
        let (a, b) = (AccountId::new(), AccountId::new());
        // The person consents about "my referents" at 10: A, referent since 9, is covered;
        // B, made co-referent at 11, is not.
        let history = [answer(None, true, 10)];
        assert!(latest_about(&history, a, at(9)).is_some_and(|c| c.given));
        assert!(latest_about(&history, b, at(11)).is_none());
        // A consent naming A never covers B, whenever B came.
        let history = [answer(Some(a), true, 10)];
        assert!(latest_about(&history, b, at(9)).is_none());
        // A consent given during an earlier relation does not come back with a new one.
        assert!(latest_about(&history, a, at(12)).is_none());
        // The latest answer about a worker wins; a withdrawal about "my referents" covers all.
        let history = [
            answer(Some(a), true, 10),
            answer(Some(b), true, 11),
            answer(None, false, 12),
        ];
        assert!(latest_about(&history, a, at(9)).is_some_and(|c| !c.given));
        assert!(latest_about(&history, b, at(11)).is_some_and(|c| !c.given));
    }
}
