//! Organisations and their members.

use super::*;
use crate::domain::AuditAction;

impl Identity {
    pub async fn create_organisation(
        &self,
        actor: &Actor,
        req: NewOrganisation,
    ) -> CoreResult<Organisation> {
        authorize(actor.role, Action::CreateOrganisation, Relation::Unrelated)
            .map_err(|_| CoreError::Denied)?;
        let organisation = self.provision_organisation(req).await?;
        self.audit(
            Some(actor),
            None,
            AuditAction::OrganisationCreated,
            None,
            format!("organisation={}", organisation.id),
        )
        .await?;
        Ok(organisation)
    }

    /// Trusted operator tooling only, like [`Identity::provision_account`]: no actor, no
    /// policy, no audit event. `create_organisation` adds those on top.
    pub async fn provision_organisation(&self, req: NewOrganisation) -> CoreResult<Organisation> {
        let organisation = Organisation {
            id: OrganisationId::new(),
            name: OrganisationName::parse(&req.name)?,
            kind: req.kind,
            siret: req
                .siret
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(Siret::parse)
                .transpose()?,
            created_at: self.now(),
        };
        self.ports
            .organisations
            .create_organisation(&organisation)
            .await
            .map_err(|e| conflict_as(e, "organisation.siret_taken"))?;
        Ok(organisation)
    }

    pub async fn organisation(
        &self,
        actor: &Actor,
        id: OrganisationId,
    ) -> CoreResult<Organisation> {
        authorize(actor.role, Action::ViewOrganisation, Relation::Unrelated)
            .map_err(|_| CoreError::Denied)?;
        Ok(self.ports.organisations.organisation(id).await?)
    }

    pub async fn list_organisations(&self, actor: &Actor) -> CoreResult<Vec<Organisation>> {
        authorize(actor.role, Action::ViewOrganisation, Relation::Unrelated)
            .map_err(|_| CoreError::Denied)?;
        Ok(self.ports.organisations.list_organisations().await?)
    }

    pub async fn add_member(
        &self,
        actor: &Actor,
        organisation: OrganisationId,
        account: AccountId,
    ) -> CoreResult<()> {
        authorize(actor.role, Action::AddMember, Relation::Unrelated)
            .map_err(|_| CoreError::Denied)?;
        let member = self.ports.accounts.account(account).await?;
        self.ports.organisations.organisation(organisation).await?;
        self.check_organisations_fit(member.role, &[organisation])?;
        self.ports
            .organisations
            .add_membership(account, organisation, self.now())
            .await
            .map_err(|e| conflict_as(e, "organisation.already_member"))?;
        self.audit(
            Some(actor),
            None,
            AuditAction::MemberAdded,
            Some(account),
            format!("organisation={organisation}"),
        )
        .await
    }
}
