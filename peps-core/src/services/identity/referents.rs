//! A person's referents: assigned, handed over, ended.

use super::*;
use crate::domain::AuditAction;

impl Identity {
    pub async fn assign_referent(
        &self,
        actor: &Actor,
        person: AccountId,
        worker: AccountId,
    ) -> CoreResult<Referent> {
        let person_account = self
            .authorized_account(actor, Action::AssignReferent, person)
            .await?;
        if person_account.role != Role::Person {
            return Err(ValidationError::new("person", "referent.not_a_person").into());
        }
        let worker_account = match self.ports.accounts.account(worker).await {
            Ok(a) if a.role == Role::Worker && a.status != AccountStatus::Disabled => a,
            Ok(_) => return Err(ValidationError::new("worker_id", "referent.not_a_worker").into()),
            Err(StoreError::NotFound) => {
                return Err(ValidationError::new("worker_id", "referent.not_a_worker").into());
            }
            Err(e) => return Err(e.into()),
        };
        let now = self.now();
        let current = self.ports.relations.referents_of(person).await?;
        if current
            .iter()
            .any(|r| r.worker == worker_account.id && r.is_current(now))
        {
            return Err(CoreError::Conflict("referent.already_current"));
        }
        let referent = Referent {
            id: ReferentId::new(),
            worker,
            person,
            started_at: now,
            ended_at: None,
        };
        self.ports.relations.add_referent(&referent).await?;
        self.audit(
            Some(actor),
            None,
            AuditAction::ReferentAssigned,
            Some(person),
            format!("worker={worker}"),
        )
        .await?;
        Ok(referent)
    }

    pub async fn end_referent(
        &self,
        actor: &Actor,
        person: AccountId,
        worker: AccountId,
    ) -> CoreResult<()> {
        self.authorized_account(actor, Action::EndReferent, person)
            .await?;
        let now = self.now();
        let referents = self.ports.relations.referents_of(person).await?;
        let current = referents
            .iter()
            .find(|r| r.worker == worker && r.is_current(now))
            .ok_or(CoreError::NotFound)?;
        self.ports.relations.end_referent(current.id, now).await?;
        self.audit(
            Some(actor),
            None,
            AuditAction::ReferentEnded,
            Some(person),
            format!("worker={worker}"),
        )
        .await
    }

    pub async fn referents(&self, actor: &Actor, person: AccountId) -> CoreResult<Vec<Referent>> {
        self.authorized_account(actor, Action::ViewReferents, person)
            .await?;
        Ok(self.ports.relations.referents_of(person).await?)
    }
}
