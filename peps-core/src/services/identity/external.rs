//! Signing in through an identity provider (FranceConnect for persons, ProConnect for staff).
//!
//! An account is found by the pair (provider, subject) only, never by an email alone: that is
//! how other platforms ended up with duplicate person records. A subject no account is linked
//! to is linked once:
//! - a person signs in once more with their password or paper code, in the same browser
//!   ([`Identity::link_pending_identity`]), or at the counter with their referent, who hands
//!   them a paper code for that purpose;
//! - a staff member is matched when the provider vouches for their email (ProConnect checks it
//!   at the employer) and, when it sends one, the employer's SIRET is one of the account's
//!   organisations'; otherwise their request waits for an admin, who links them to an account
//!   or refuses (`sign_in_requests`). Until then they may also link themselves by signing in
//!   once with their password, like a person.
//!
//! The `state` of a sign-in in flight, an identity waiting to be linked and the provider
//! session to end at sign-out are one-time values bound to the browser.

use super::*;
use crate::ports::{OpenIdProvider, PendingSignIn, ProvenIdentity, SignInError};
use sha2::{Digest, Sha256};

/// How long the browser has to come back from the provider.
const SIGN_IN_TTL_MINUTES: i64 = 10;
/// How long an identity waits for its holder's password or paper code.
const LINK_TTL_MINUTES: i64 = 15;

/// One identity provider as configured.
#[derive(Clone)]
pub struct ExternalProvider {
    pub provider: Arc<dyn OpenIdProvider>,
    /// What the sign-in button says ("FranceConnect").
    pub label: String,
    /// The roles whose accounts may sign in through it (FranceConnect: persons).
    pub roles: Vec<Role>,
    /// The `acr` values that make a session strong (a ProConnect sign-in with a second factor
    /// at the provider): no TOTP is asked on top.
    pub strong_acr: Vec<String>,
}

pub enum ExternalOutcome {
    SignedIn(Box<LoginOutcome>),
    /// The provider knows this person, PEPS does not yet: signing in once with a password or
    /// paper code in this browser links them.
    NotLinked {
        provider_label: String,
        /// A staff provider: an admin has been asked to link this identity to an account.
        awaiting_approval: bool,
    },
}

#[derive(serde::Serialize, serde::Deserialize)]
struct WaitingLink {
    provider: String,
    subject: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ProviderSession {
    provider: String,
    id_token: String,
}

fn digest(purpose: &str, value: &str) -> String {
    let hash = Sha256::digest(format!("peps-{purpose}:{value}").as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the person is told; the precise reason goes to the log (never a token).
fn sign_in_error(provider: &str, err: SignInError) -> CoreError {
    match err {
        SignInError::Unavailable => {
            tracing::warn!(provider, "identity provider unavailable");
            CoreError::Unavailable("oidc.unavailable")
        }
        SignInError::Refused(reason) => {
            tracing::info!(provider, reason = %reason, "identity provider refused the sign-in");
            CoreError::Forbidden("oidc.refused")
        }
        SignInError::Rejected(code) => {
            tracing::warn!(provider, code, "identity proof rejected");
            CoreError::Forbidden("oidc.rejected")
        }
    }
}

impl Identity {
    pub fn with_providers(mut self, providers: Vec<ExternalProvider>) -> Self {
        self.providers = providers;
        self
    }

    /// The configured providers, in the order of the configuration.
    pub fn providers(&self) -> &[ExternalProvider] {
        &self.providers
    }

    pub(super) fn provider(&self, key: &str) -> CoreResult<&ExternalProvider> {
        self.providers
            .iter()
            .find(|p| p.provider.key() == key)
            .ok_or(CoreError::NotFound)
    }

    /// Starts a sign-in: the address to send the browser to. `browser` is a secret only this
    /// browser holds (its CSRF cookie): the sign-in can only finish there.
    pub async fn begin_external_sign_in(&self, key: &str, browser: &str) -> CoreResult<String> {
        let now = self.now();
        let entry = self.provider(key)?;
        let start = entry
            .provider
            .start(now)
            .await
            .map_err(|e| sign_in_error(key, e))?;
        let payload = serde_json::to_string(&start.pending)
            .map_err(|_| CoreError::Unavailable("oidc.unavailable"))?;
        self.ports
            .external
            .put_one_time(&OneTimeValue {
                key_hash: digest("oidc-state", &start.pending.state),
                browser_hash: digest("browser", browser),
                payload,
                created_at: now,
            })
            .await?;
        Ok(start.url)
    }

    /// Finishes a sign-in when the provider sends the browser back with `state` and `code`.
    /// A `state` works once, in the browser that started it, within ten minutes.
    pub async fn finish_external_sign_in(
        &self,
        key: &str,
        state: &str,
        code: &str,
        browser: &str,
    ) -> CoreResult<ExternalOutcome> {
        let now = self.now();
        let entry = self.provider(key)?;
        let pending = self
            .take_bound("oidc-state", state, browser, SIGN_IN_TTL_MINUTES)
            .await?
            .and_then(|payload| serde_json::from_str::<PendingSignIn>(&payload).ok())
            .filter(|p| p.provider == key)
            .ok_or(CoreError::Forbidden("oidc.state"))?;
        let proven = entry
            .provider
            .finish(&pending, code, now)
            .await
            .map_err(|e| sign_in_error(key, e))?;
        let account = match self
            .ports
            .external
            .external_link(key, &proven.subject)
            .await?
        {
            Some(link) => Some(self.ports.accounts.account(link.account).await?),
            None => self.staff_vouched_for(entry, &proven).await?,
        };
        let Some(account) = account else {
            // Kept for this browser's next password or paper-code sign-in.
            let slot = digest("oidc-link", browser);
            let _ = self.ports.external.take_one_time(&slot).await?;
            let waiting = WaitingLink {
                provider: key.to_owned(),
                subject: proven.subject.clone(),
            };
            self.ports
                .external
                .put_one_time(&OneTimeValue {
                    key_hash: slot,
                    browser_hash: digest("browser", browser),
                    payload: serde_json::to_string(&waiting)
                        .map_err(|_| CoreError::Unavailable("oidc.unavailable"))?,
                    created_at: now,
                })
                .await?;
            let awaiting_approval = self.file_sign_in_request(entry, &proven).await?;
            return Ok(ExternalOutcome::NotLinked {
                provider_label: entry.label.clone(),
                awaiting_approval,
            });
        };
        if !entry.roles.contains(&account.role) {
            return Err(CoreError::Forbidden("oidc.role"));
        }
        let strong = proven
            .acr
            .as_ref()
            .is_some_and(|acr| entry.strong_acr.contains(acr));
        let assurance = if strong {
            Assurance::Strong
        } else {
            self.first_factor_assurance(&account).await?
        };
        let (token, session) = self
            .open_session_as(&account, &format!("oidc:{key}"), assurance)
            .await?;
        let provider_session = ProviderSession {
            provider: key.to_owned(),
            id_token: proven.id_token.clone(),
        };
        if let Ok(payload) = serde_json::to_string(&provider_session) {
            self.ports
                .external
                .put_one_time(&OneTimeValue {
                    key_hash: digest("oidc-logout", &session.id.to_string()),
                    browser_hash: String::new(),
                    payload,
                    created_at: now,
                })
                .await?;
        }
        self.audit(
            None,
            None,
            AuditAction::Login,
            Some(account.id),
            format!("provider={key}"),
        )
        .await?;
        Ok(ExternalOutcome::SignedIn(Box::new(LoginOutcome {
            token,
            session,
            account,
            device_token: None,
        })))
    }

    /// A staff member the provider vouches for: verified email, and the employer's SIRET
    /// among the account's organisations when the provider sends one. Linked on the spot.
    async fn staff_vouched_for(
        &self,
        entry: &ExternalProvider,
        proven: &ProvenIdentity,
    ) -> CoreResult<Option<Account>> {
        let (Some(email), true) = (&proven.email, proven.email_verified) else {
            return Ok(None);
        };
        let Some(account) = self
            .ports
            .accounts
            .account_by_login(&Login::normalise(email))
            .await?
        else {
            return Ok(None);
        };
        let staff = matches!(account.role, Role::Worker | Role::Member | Role::Admin);
        if !staff || !entry.roles.contains(&account.role) || account.status != AccountStatus::Active
        {
            return Ok(None);
        }
        if let Some(siret) = &proven.siret {
            let mut employer = false;
            for org in self.ports.organisations.memberships(account.id).await? {
                let organisation = self.ports.organisations.organisation(org).await?;
                employer |= organisation
                    .siret
                    .as_ref()
                    .is_some_and(|s| s.as_str() == siret);
            }
            if !employer {
                return Ok(None);
            }
        }
        self.link(&account, entry.provider.key(), &proven.subject, None)
            .await?;
        Ok(Some(account))
    }

    /// Right after a password or paper-code sign-in: links the identity this browser brought
    /// back from a provider in the last fifteen minutes, if any, to the session's account.
    /// Only a session that acts for its holder links: one still awaiting its second factor
    /// leaves the identity waiting. Returns the provider's key.
    pub async fn link_pending_identity(
        &self,
        session_token: &str,
        browser: &str,
    ) -> CoreResult<Option<String>> {
        let signed_in = match self.authenticate(session_token).await {
            Ok(signed_in) => signed_in,
            Err(CoreError::SecondFactorRequired { .. }) => return Ok(None),
            Err(err) => return Err(err),
        };
        let Some(payload) = self
            .take_bound("oidc-link", browser, browser, LINK_TTL_MINUTES)
            .await?
        else {
            return Ok(None);
        };
        let Ok(waiting) = serde_json::from_str::<WaitingLink>(&payload) else {
            return Ok(None);
        };
        let entry = self.provider(&waiting.provider)?;
        if !entry.roles.contains(&signed_in.account.role) {
            return Err(CoreError::Forbidden("oidc.role"));
        }
        self.link(
            &signed_in.account,
            &waiting.provider,
            &waiting.subject,
            Some(&signed_in.actor),
        )
        .await?;
        Ok(Some(waiting.provider))
    }

    /// Keeps an identity waiting to be linked when the browser's binding secret changes (a
    /// sign-in renews it) before the link can be made (after the second factor).
    pub async fn carry_pending_identity(&self, from: &str, to: &str) -> CoreResult<()> {
        let Some(mut value) = self
            .ports
            .external
            .take_one_time(&digest("oidc-link", from))
            .await?
        else {
            return Ok(());
        };
        if value.browser_hash != digest("browser", from) {
            return Ok(());
        }
        value.key_hash = digest("oidc-link", to);
        value.browser_hash = digest("browser", to);
        self.ports.external.put_one_time(&value).await?;
        Ok(())
    }

    async fn link(
        &self,
        account: &Account,
        provider: &str,
        subject: &str,
        actor: Option<&Actor>,
    ) -> CoreResult<()> {
        let link = ExternalLink {
            provider: provider.to_owned(),
            subject: subject.to_owned(),
            account: account.id,
            linked_at: self.now(),
        };
        match self.ports.external.create_external_link(&link).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(CoreError::Forbidden("oidc.already_linked"));
            }
            Err(e) => return Err(e.into()),
        }
        self.close_sign_in_requests_of(provider, subject).await?;
        self.audit(
            actor,
            None,
            AuditAction::ExternalLinked,
            Some(account.id),
            format!("provider={provider}"),
        )
        .await
    }

    /// The providers one's account is linked to.
    pub async fn my_external_links(&self, actor: &Actor) -> CoreResult<Vec<ExternalLink>> {
        Ok(self.ports.external.external_links_of(actor.account).await?)
    }

    /// Unlinks one's account from a provider; written to one's trail.
    pub async fn unlink_external(&self, actor: &Actor, provider: &str) -> CoreResult<()> {
        self.ports
            .external
            .delete_external_link(actor.account, provider)
            .await?;
        self.audit(
            Some(actor),
            None,
            AuditAction::ExternalUnlinked,
            Some(actor.account),
            format!("provider={provider}"),
        )
        .await
    }

    /// At sign-out of a session opened through a provider: where to send the browser so the
    /// provider's session ends too. Works once.
    pub async fn external_logout_url(
        &self,
        session: SessionId,
        state: &str,
    ) -> CoreResult<Option<String>> {
        let Some(value) = self
            .ports
            .external
            .take_one_time(&digest("oidc-logout", &session.to_string()))
            .await?
        else {
            return Ok(None);
        };
        let Ok(provider_session) = serde_json::from_str::<ProviderSession>(&value.payload) else {
            return Ok(None);
        };
        let Ok(entry) = self.provider(&provider_session.provider) else {
            return Ok(None);
        };
        match entry
            .provider
            .logout_url(&provider_session.id_token, state)
            .await
        {
            Ok(url) => Ok(url),
            // The local session is over either way; the provider's ends when it expires.
            Err(e) => {
                tracing::warn!(provider = %provider_session.provider, code = e.code(), "provider logout unavailable");
                Ok(None)
            }
        }
    }

    /// Takes a one-time value bound to `browser`, if it is still fresh.
    async fn take_bound(
        &self,
        purpose: &str,
        key: &str,
        browser: &str,
        ttl_minutes: i64,
    ) -> CoreResult<Option<String>> {
        let Some(value) = self
            .ports
            .external
            .take_one_time(&digest(purpose, key))
            .await?
        else {
            return Ok(None);
        };
        let fresh = self.now() - value.created_at <= Duration::minutes(ttl_minutes);
        if value.browser_hash != digest("browser", browser) || !fresh {
            return Ok(None);
        }
        Ok(Some(value.payload))
    }
}
