//! Staff members a provider vouched for whom no account matched (ProConnect with an email or
//! SIRET PEPS does not know): they wait, and an admin links them to an account or refuses.
//! Only admins see the requests; a request is never a way into an account by itself.

use super::*;
use crate::ports::ProvenIdentity;

/// How long a request waits before it is pruned (the staff member signs in again to refile).
const REQUEST_TTL_DAYS: i64 = 30;

/// A request as an admin sees it, with the account its email names, if any, to help decide.
#[derive(Debug, Clone)]
pub struct SignInRequestView {
    pub request: SignInRequest,
    /// The provider's button label ("ProConnect").
    pub provider_label: String,
    pub suggested: Option<SuggestedAccount>,
}

#[derive(Debug, Clone)]
pub struct SuggestedAccount {
    pub account: Account,
    pub organisations: Vec<Organisation>,
    /// Whether the SIRET the provider sent is one of the account's organisations'.
    pub employer_matches: bool,
}

impl Identity {
    /// Files (or refreshes) the request of a staff member no account matched, for a provider
    /// that signs staff in. Returns whether a request is waiting.
    pub(super) async fn file_sign_in_request(
        &self,
        entry: &ExternalProvider,
        proven: &ProvenIdentity,
    ) -> CoreResult<bool> {
        let for_staff = entry
            .roles
            .iter()
            .any(|r| matches!(r, Role::Worker | Role::Member | Role::Admin));
        if !for_staff {
            return Ok(false);
        }
        self.ports
            .external
            .save_sign_in_request(&SignInRequest {
                id: SignInRequestId::new(),
                provider: entry.provider.key().to_owned(),
                subject: proven.subject.clone(),
                email: proven.email.clone(),
                email_verified: proven.email_verified,
                given_name: proven.given_name.clone(),
                family_name: proven.family_name.clone(),
                siret: proven.siret.clone(),
                requested_at: self.now(),
            })
            .await?;
        Ok(true)
    }

    /// The requests waiting, oldest first. Admins only.
    pub async fn sign_in_requests(&self, actor: &Actor) -> CoreResult<Vec<SignInRequestView>> {
        only_admins(actor)?;
        let mut views = Vec::new();
        for request in self.ports.external.sign_in_requests().await? {
            views.push(self.view_of(request).await?);
        }
        Ok(views)
    }

    /// One request. Admins only.
    pub async fn sign_in_request(
        &self,
        actor: &Actor,
        id: SignInRequestId,
    ) -> CoreResult<SignInRequestView> {
        only_admins(actor)?;
        let request = self.ports.external.sign_in_request(id).await?;
        self.view_of(request).await
    }

    /// Links the request's identity to the account with this login (email or login name) and
    /// closes the request: the staff member's next sign-in through the provider opens that
    /// account. Admins only; written to the account's trail.
    pub async fn approve_sign_in_request(
        &self,
        actor: &Actor,
        id: SignInRequestId,
        login: &str,
    ) -> CoreResult<Account> {
        only_admins(actor)?;
        let request = self.ports.external.sign_in_request(id).await?;
        let entry = self.provider(&request.provider)?;
        let account = self
            .ports
            .accounts
            .account_by_login(&Login::normalise(login))
            .await?
            .filter(|a| a.status == AccountStatus::Active)
            .ok_or_else(|| ValidationError::new("login", "sign_in_request.account_unknown"))?;
        if !entry.roles.contains(&account.role) || account.role == Role::Person {
            return Err(ValidationError::new("login", "sign_in_request.account_role").into());
        }
        let link = ExternalLink {
            provider: request.provider.clone(),
            subject: request.subject.clone(),
            account: account.id,
            linked_at: self.now(),
        };
        match self.ports.external.create_external_link(&link).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(ValidationError::new("login", "sign_in_request.already_linked").into());
            }
            Err(e) => return Err(e.into()),
        }
        // Linked: the request is moot whether or not another admin closed it meanwhile.
        match self.ports.external.delete_sign_in_request(id).await {
            Ok(()) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        self.audit(
            Some(actor),
            None,
            AuditAction::ExternalLinked,
            Some(account.id),
            format!("provider={} request={}", request.provider, id.0),
        )
        .await?;
        Ok(account)
    }

    /// Closes a request without linking anyone. Admins only; the staff member may sign in
    /// again, which files a new request.
    pub async fn refuse_sign_in_request(
        &self,
        actor: &Actor,
        id: SignInRequestId,
    ) -> CoreResult<()> {
        only_admins(actor)?;
        let request = self.ports.external.sign_in_request(id).await?;
        self.ports.external.delete_sign_in_request(id).await?;
        self.audit(
            Some(actor),
            None,
            AuditAction::SignInRequestRefused,
            None,
            format!("provider={} request={}", request.provider, id.0),
        )
        .await
    }

    /// Once an identity is linked (on the spot, or by its holder's password), any request it
    /// left waiting is moot.
    pub(super) async fn close_sign_in_requests_of(
        &self,
        provider: &str,
        subject: &str,
    ) -> CoreResult<()> {
        for request in self.ports.external.sign_in_requests().await? {
            if request.provider == provider && request.subject == subject {
                match self.ports.external.delete_sign_in_request(request.id).await {
                    Ok(()) | Err(StoreError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }

    /// Prunes requests nobody handled within thirty days.
    pub(super) async fn prune_sign_in_requests(&self) -> CoreResult<u64> {
        Ok(self
            .ports
            .external
            .prune_sign_in_requests(self.now() - Duration::days(REQUEST_TTL_DAYS))
            .await?)
    }

    async fn view_of(&self, request: SignInRequest) -> CoreResult<SignInRequestView> {
        let provider_label = self
            .providers
            .iter()
            .find(|p| p.provider.key() == request.provider)
            .map_or_else(|| request.provider.clone(), |p| p.label.clone());
        let suggested = match &request.email {
            Some(email) => {
                self.suggested_account(email, request.siret.as_deref())
                    .await?
            }
            None => None,
        };
        Ok(SignInRequestView {
            request,
            provider_label,
            suggested,
        })
    }

    async fn suggested_account(
        &self,
        email: &str,
        siret: Option<&str>,
    ) -> CoreResult<Option<SuggestedAccount>> {
        let Some(account) = self
            .ports
            .accounts
            .account_by_login(&Login::normalise(email))
            .await?
            .filter(|a| a.role != Role::Person && a.role != Role::Helper)
        else {
            return Ok(None);
        };
        let mut organisations = Vec::new();
        for id in self.ports.organisations.memberships(account.id).await? {
            organisations.push(self.ports.organisations.organisation(id).await?);
        }
        let employer_matches = siret.is_some_and(|siret| {
            organisations
                .iter()
                .any(|o| o.siret.as_ref().is_some_and(|s| s.as_str() == siret))
        });
        Ok(Some(SuggestedAccount {
            account,
            organisations,
            employer_matches,
        }))
    }
}

fn only_admins(actor: &Actor) -> CoreResult<()> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(CoreError::Denied)
    }
}
