//! Identity and access use cases: log in and out, accounts, activation codes for people
//! without email, organisations, referents and mandates.
//!
//! Authentication is split so that other ways of proving who one is (FranceConnect for persons,
//! ProConnect for staff, over OpenID Connect) plug in without touching core types: an adapter
//! verifies the proof, finds the account, and calls [`Identity::open_session`].

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use std::collections::BTreeSet;
use std::sync::Arc;

use super::conflict_as;
use super::relations::{self, Standing};
use super::throttle::{self, Limit};
use crate::auth::activation::hash_typed_code;
use crate::auth::token::hash_token;
use crate::auth::{ActivationCodeValue, Password, PasswordHasher, SessionToken};
use crate::clock::Clock;
use crate::domain::*;
use crate::error::{CoreError, CoreResult, StoreError, ValidationError};
use crate::policy::{Action, Actor, Relation, authorize};
use crate::ports::*;

/// Tunables, with the defaults documented in `peps config default`.
#[derive(Debug, Clone)]
pub struct IdentitySettings {
    /// A session unused for this long ends.
    pub session_idle: Duration,
    /// A session ends this long after login, used or not.
    pub session_absolute: Duration,
    pub activation_ttl: Duration,
    /// Wrong codes before an activation code is void.
    pub activation_max_attempts: u32,
    pub login_failures_per_account: u32,
    pub login_failures_per_ip: u32,
    pub throttle_window: Duration,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            session_idle: Duration::hours(2),
            session_absolute: Duration::hours(12),
            activation_ttl: Duration::days(14),
            activation_max_attempts: 5,
            login_failures_per_account: 5,
            login_failures_per_ip: 50,
            throttle_window: Duration::minutes(15),
        }
    }
}

/// The ports the identity use cases need; each may come from a different adapter.
#[derive(Clone)]
pub struct IdentityPorts {
    pub accounts: Arc<dyn AccountRepository>,
    pub organisations: Arc<dyn OrganisationRepository>,
    pub relations: Arc<dyn RelationRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub throttle: Arc<dyn ThrottleRepository>,
    pub audit: Arc<dyn AuditLog>,
}

impl IdentityPorts {
    /// All ports from one store that implements them all.
    pub fn from_store<S: IdentityStore + 'static>(store: Arc<S>) -> Self {
        Self {
            accounts: store.clone(),
            organisations: store.clone(),
            relations: store.clone(),
            sessions: store.clone(),
            throttle: store.clone(),
            audit: store,
        }
    }
}

/// Where a request comes from, for rate limiting.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
}

pub struct LoginOutcome {
    pub token: SessionToken,
    pub session: Session,
    pub account: Account,
}

/// The result of authenticating a bearer token.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub actor: Actor,
    pub session: SessionId,
    pub account: Account,
}

/// A freshly issued code: what to print on the sheet handed to the person.
#[derive(Debug)]
pub struct IssuedActivation {
    pub account: Account,
    pub login: Login,
    pub code: ActivationCodeValue,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewPerson {
    pub display_name: String,
    pub email: Option<String>,
    /// For text-message notices when the person has no email.
    pub phone: Option<String>,
    pub language: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewStaffAccount {
    pub role: Role,
    pub email: String,
    pub display_name: String,
    pub language: Option<String>,
    pub organisations: Vec<OrganisationId>,
}

/// An account created by trusted operator tooling (the `peps` command), with a password.
#[derive(Debug, Clone)]
pub struct ProvisionAccount {
    pub role: Role,
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub organisations: Vec<OrganisationId>,
}

#[derive(Debug, Clone)]
pub struct NewOrganisation {
    pub name: String,
    pub kind: OrganisationKind,
    pub siret: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewMandate {
    pub helper: AccountId,
    pub scopes: Vec<MandateScope>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: DateTime<Utc>,
}

/// Longest a mandate may run before the person renews it.
const MAX_MANDATE: Duration = Duration::days(3 * 366);

pub struct Identity {
    ports: IdentityPorts,
    hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
    settings: IdentitySettings,
    /// Verified against when the login is unknown, so both cases cost the same time.
    decoy_hash: String,
}

impl Identity {
    pub fn new(
        ports: IdentityPorts,
        hasher: Arc<dyn PasswordHasher>,
        clock: Arc<dyn Clock>,
        settings: IdentitySettings,
    ) -> Self {
        let decoy = Password::new("decoy password never matches", &[]).expect("valid decoy");
        let decoy_hash = hasher.hash(&decoy);
        Self {
            ports,
            hasher,
            clock,
            settings,
            decoy_hash,
        }
    }

    pub fn settings(&self) -> &IdentitySettings {
        &self.settings
    }

    /// The time as the services see it (from the injected [`Clock`]).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn account_limit(&self) -> Limit {
        Limit {
            max_failures: self.settings.login_failures_per_account,
            window: self.settings.throttle_window,
        }
    }

    fn ip_limit(&self) -> Limit {
        Limit {
            max_failures: self.settings.login_failures_per_ip,
            window: self.settings.throttle_window,
        }
    }

    async fn audit(
        &self,
        actor: Option<&Actor>,
        mandate: Option<MandateId>,
        action: &str,
        subject: Option<AccountId>,
        detail: String,
    ) -> CoreResult<()> {
        let event = AuditEvent {
            id: AuditEventId::new(),
            at: self.now(),
            actor: actor.map(|a| a.account),
            actor_role: actor.map(|a| a.role),
            mandate,
            action: action.to_owned(),
            subject,
            detail,
        };
        self.ports.audit.record(&event).await?;
        Ok(())
    }

    // ----- authentication -------------------------------------------------------------

    /// Email (or printed login) and password. An unknown login and a wrong password give the
    /// same error in the same time; failures are limited per login and per client address.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client: &ClientInfo,
    ) -> CoreResult<LoginOutcome> {
        let now = self.now();
        let login = Login::normalise(login);
        let account_key = format!("login:account:{}", login.as_str());
        let ip_key = client.ip.as_ref().map(|ip| format!("login:ip:{ip}"));
        let throttle = self.ports.throttle.as_ref();
        throttle::check(throttle, &account_key, self.account_limit(), now).await?;
        if let Some(key) = &ip_key {
            throttle::check(throttle, key, self.ip_limit(), now).await?;
        }

        let account = self.ports.accounts.account_by_login(&login).await?;
        let stored = match &account {
            Some(a) => self.ports.accounts.password_hash(a.id).await?,
            None => None,
        };
        let matches = self
            .hasher
            .verify(password, stored.as_deref().unwrap_or(&self.decoy_hash))
            && stored.is_some();
        let account = match account {
            Some(a) if matches && a.status == AccountStatus::Active => a,
            other => {
                throttle::fail(throttle, &account_key, self.account_limit(), now).await?;
                if let Some(key) = &ip_key {
                    throttle::fail(throttle, key, self.ip_limit(), now).await?;
                }
                if let Some(a) = other {
                    self.audit(None, None, "auth.login_failed", Some(a.id), String::new())
                        .await?;
                }
                return Err(CoreError::InvalidCredentials);
            }
        };
        throttle.clear_throttle(&account_key).await?;
        let (token, session) = self.open_session(&account).await?;
        self.audit(None, None, "auth.login", Some(account.id), String::new())
            .await?;
        Ok(LoginOutcome {
            token,
            session,
            account,
        })
    }

    /// Opens a session for an account whose holder has proved who they are (password here,
    /// or an OpenID Connect adapter). Refuses accounts that are not active.
    pub async fn open_session(&self, account: &Account) -> CoreResult<(SessionToken, Session)> {
        if account.status != AccountStatus::Active {
            return Err(CoreError::InvalidCredentials);
        }
        let now = self.now();
        let token = SessionToken::generate();
        let session = Session {
            id: SessionId::new(),
            account: account.id,
            token_hash: token.hash(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.settings.session_absolute,
        };
        self.ports.sessions.create_session(&session).await?;
        Ok((token, session))
    }

    /// Resolves a bearer token to the acting account, or `Unauthenticated`.
    pub async fn authenticate(&self, token: &str) -> CoreResult<Authenticated> {
        let now = self.now();
        let sessions = &self.ports.sessions;
        let Some(session) = sessions.session_by_token_hash(&hash_token(token)).await? else {
            return Err(CoreError::Unauthenticated);
        };
        let idle_end = session.last_seen_at + self.settings.session_idle;
        if now >= session.expires_at || now >= idle_end {
            sessions.delete_session(session.id).await?;
            return Err(CoreError::Unauthenticated);
        }
        let account = match self.ports.accounts.account(session.account).await {
            Ok(a) if a.status == AccountStatus::Active => a,
            Ok(_) | Err(StoreError::NotFound) => {
                sessions.delete_session(session.id).await?;
                return Err(CoreError::Unauthenticated);
            }
            Err(other) => return Err(other.into()),
        };
        // Writing on every request would make reads cost a write; a minute of slack is enough.
        if now - session.last_seen_at > Duration::minutes(1) {
            sessions.touch_session(session.id, now).await?;
        }
        let organisations = self.ports.organisations.memberships(account.id).await?;
        Ok(Authenticated {
            actor: Actor {
                account: account.id,
                role: account.role,
                organisations,
            },
            session: session.id,
            account,
        })
    }

    /// Deletes sessions that can no longer be used and rate-limit counters whose window is
    /// over. Idempotent; `peps serve` runs it periodically. Returns (sessions, counters).
    pub async fn purge_expired(&self) -> CoreResult<(u64, u64)> {
        let now = self.now();
        let sessions = self
            .ports
            .sessions
            .delete_expired_sessions(now, now - self.settings.session_idle)
            .await?;
        let counters = self
            .ports
            .throttle
            .prune_throttle(now - self.settings.throttle_window)
            .await?;
        Ok((sessions, counters))
    }

    pub async fn logout(&self, session: SessionId) -> CoreResult<()> {
        match self.ports.sessions.delete_session(session).await {
            Ok(()) | Err(StoreError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Ends every session of the actor's account, on every device.
    pub async fn logout_everywhere(&self, actor: &Actor) -> CoreResult<u64> {
        let ended = self
            .ports
            .sessions
            .delete_sessions_of(actor.account)
            .await?;
        self.audit(
            Some(actor),
            None,
            "auth.logout_all",
            Some(actor.account),
            format!("sessions={ended}"),
        )
        .await?;
        Ok(ended)
    }

    /// Changes one's own password; every session ends, so a thief's session does too.
    pub async fn change_password(&self, actor: &Actor, current: &str, new: &str) -> CoreResult<()> {
        let account = self.ports.accounts.account(actor.account).await?;
        let stored = self.ports.accounts.password_hash(account.id).await?;
        let ok = stored
            .as_deref()
            .is_some_and(|hash| self.hasher.verify(current, hash));
        if !ok {
            return Err(CoreError::InvalidCredentials);
        }
        let password = Password::new(new, &personal_words(&account))?;
        self.ports
            .accounts
            .set_password_hash(account.id, &self.hasher.hash(&password))
            .await?;
        self.ports.sessions.delete_sessions_of(account.id).await?;
        self.audit(
            Some(actor),
            None,
            "account.password_changed",
            Some(account.id),
            String::new(),
        )
        .await
    }

    // ----- accounts -------------------------------------------------------------------

    /// Trusted operator tooling only (`peps admin create-admin`, `peps demo`): no actor, no
    /// policy. Not reachable over HTTP. Fails with `Conflict` when the email is taken.
    pub async fn provision_account(&self, req: ProvisionAccount) -> CoreResult<Account> {
        let email = Email::parse(&req.email)?;
        let display_name = DisplayName::parse(&req.display_name)?;
        let password = Password::new(&req.password, &[email.as_str(), display_name.as_str()])?;
        let account = Account {
            id: AccountId::new(),
            role: req.role,
            login: Login::from_email(&email),
            email: Some(email),
            phone: None,
            display_name,
            language: Language::french(),
            status: AccountStatus::Active,
            created_at: self.now(),
        };
        self.check_organisations_fit(req.role, &req.organisations)?;
        let new = NewAccount {
            account: account.clone(),
            password_hash: Some(self.hasher.hash(&password)),
            organisations: req.organisations,
            referent: None,
            activation: None,
        };
        self.insert_account(&new).await?;
        self.audit(
            None,
            None,
            "account.created",
            Some(account.id),
            format!("role={} by=operator", account.role),
        )
        .await?;
        Ok(account)
    }

    /// Trusted operator tooling only: sets the password of an existing account by login
    /// (used by `peps demo` so that each run's printed password works). Ends its sessions.
    pub async fn operator_set_password(&self, login: &str, password: &str) -> CoreResult<Account> {
        let account = self
            .ports
            .accounts
            .account_by_login(&Login::normalise(login))
            .await?
            .ok_or(CoreError::NotFound)?;
        let password = Password::new(password, &personal_words(&account))?;
        self.ports
            .accounts
            .set_password_hash(account.id, &self.hasher.hash(&password))
            .await?;
        self.ports.sessions.delete_sessions_of(account.id).await?;
        self.audit(
            None,
            None,
            "account.password_changed",
            Some(account.id),
            "by=operator".to_owned(),
        )
        .await?;
        Ok(account)
    }

    /// Looks an account up by login, for operator tooling.
    pub async fn find_by_login(&self, login: &str) -> CoreResult<Option<Account>> {
        Ok(self
            .ports
            .accounts
            .account_by_login(&Login::normalise(login))
            .await?)
    }

    /// An admin creates a worker, member, helper or admin account; the holder activates it
    /// with the returned code and chooses their password.
    pub async fn create_staff_account(
        &self,
        actor: &Actor,
        req: NewStaffAccount,
    ) -> CoreResult<IssuedActivation> {
        authorize(
            actor.role,
            Action::CreateAccount(req.role),
            Relation::Unrelated,
        )
        .map_err(|_| CoreError::Denied)?;
        if req.role == Role::Person {
            return Err(ValidationError::new("role", "account.role.use_person_endpoint").into());
        }
        let email = Email::parse(&req.email)?;
        let display_name = DisplayName::parse(&req.display_name)?;
        let language = parse_language(req.language.as_deref())?;
        self.check_organisations_fit(req.role, &req.organisations)?;
        let now = self.now();
        let account = Account {
            id: AccountId::new(),
            role: req.role,
            login: Login::from_email(&email),
            email: Some(email),
            phone: None,
            display_name,
            language,
            status: AccountStatus::PendingActivation,
            created_at: now,
        };
        let (code, activation) = self.new_activation(account.id, actor.account, now);
        let new = NewAccount {
            account: account.clone(),
            password_hash: None,
            organisations: req.organisations,
            referent: None,
            activation: Some(activation.clone()),
        };
        self.insert_account(&new).await?;
        self.audit(
            Some(actor),
            None,
            "account.created",
            Some(account.id),
            format!("role={}", account.role),
        )
        .await?;
        Ok(IssuedActivation {
            login: account.login.clone(),
            account,
            code,
            expires_at: activation.expires_at,
        })
    }

    /// A worker (who becomes the referent) or an admin creates a person's account, with or
    /// without email. The code is handed over on paper with the login.
    pub async fn create_person(
        &self,
        actor: &Actor,
        req: NewPerson,
    ) -> CoreResult<IssuedActivation> {
        authorize(
            actor.role,
            Action::CreateAccount(Role::Person),
            Relation::Unrelated,
        )
        .map_err(|_| CoreError::Denied)?;
        let display_name = DisplayName::parse(&req.display_name)?;
        let email = req
            .email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .map(Email::parse)
            .transpose()?;
        let phone = req
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                crate::catalogue::offer::is_phone(p)
                    .then(|| p.to_owned())
                    .ok_or(ValidationError::new("phone", "account.phone.invalid"))
            })
            .transpose()?;
        let language = parse_language(req.language.as_deref())?;
        let now = self.now();
        let mut last_conflict = None;
        // A generated login may collide with an existing one; draw again a few times.
        for _ in 0..8 {
            let login = match &email {
                Some(e) => Login::from_email(e),
                None => Login::generated(&display_name, rand::thread_rng().gen_range(0..10_000)),
            };
            let account = Account {
                id: AccountId::new(),
                role: Role::Person,
                login,
                email: email.clone(),
                phone: phone.clone(),
                display_name: display_name.clone(),
                language: language.clone(),
                status: AccountStatus::PendingActivation,
                created_at: now,
            };
            let referent = (actor.role == Role::Worker).then(|| Referent {
                id: ReferentId::new(),
                worker: actor.account,
                person: account.id,
                started_at: now,
                ended_at: None,
            });
            let (code, activation) = self.new_activation(account.id, actor.account, now);
            let new = NewAccount {
                account: account.clone(),
                password_hash: None,
                organisations: vec![],
                referent,
                activation: Some(activation.clone()),
            };
            match self.insert_account(&new).await {
                Ok(()) => {
                    self.audit(
                        Some(actor),
                        None,
                        "account.created",
                        Some(account.id),
                        "role=person".to_owned(),
                    )
                    .await?;
                    return Ok(IssuedActivation {
                        login: account.login.clone(),
                        account,
                        code,
                        expires_at: activation.expires_at,
                    });
                }
                Err(CoreError::Conflict(code)) if email.is_none() => last_conflict = Some(code),
                Err(other) => return Err(other),
            }
        }
        Err(CoreError::Conflict(
            last_conflict.unwrap_or("account.login_taken"),
        ))
    }

    /// A new code for an account (first activation, or a forgotten password for someone
    /// without email). Earlier unused codes stop working.
    pub async fn issue_activation_code(
        &self,
        actor: &Actor,
        account_id: AccountId,
    ) -> CoreResult<IssuedActivation> {
        let account = self
            .authorized_account(actor, Action::IssueActivationCode, account_id)
            .await?;
        if account.status == AccountStatus::Disabled {
            return Err(CoreError::Conflict("account.disabled"));
        }
        let now = self.now();
        let (code, activation) = self.new_activation(account.id, actor.account, now);
        self.ports.sessions.create_activation(&activation).await?;
        self.audit(
            Some(actor),
            None,
            "account.activation_issued",
            Some(account.id),
            String::new(),
        )
        .await?;
        Ok(IssuedActivation {
            login: account.login.clone(),
            account,
            code,
            expires_at: activation.expires_at,
        })
    }

    /// The holder types their login, the code and a new password; they are then logged in.
    pub async fn activate(
        &self,
        login: &str,
        typed_code: &str,
        new_password: &str,
        client: &ClientInfo,
    ) -> CoreResult<LoginOutcome> {
        let now = self.now();
        let login = Login::normalise(login);
        let throttle = self.ports.throttle.as_ref();
        let ip_key = client.ip.as_ref().map(|ip| format!("activate:ip:{ip}"));
        if let Some(key) = &ip_key {
            throttle::check(throttle, key, self.ip_limit(), now).await?;
        }
        let fail = || async {
            if let Some(key) = &ip_key {
                throttle::fail(throttle, key, self.ip_limit(), now).await?;
            }
            Err::<LoginOutcome, _>(CoreError::InvalidActivationCode)
        };

        let Some(account) = self.ports.accounts.account_by_login(&login).await? else {
            return fail().await;
        };
        if account.status == AccountStatus::Disabled {
            return fail().await;
        }
        let Some(pending) = self.ports.sessions.pending_activation(account.id).await? else {
            return fail().await;
        };
        let usable = now < pending.expires_at
            && pending.failed_attempts < self.settings.activation_max_attempts;
        let typed_hash = hash_typed_code(typed_code);
        let matches = typed_hash
            .is_some_and(|h| constant_time_eq(h.as_bytes(), pending.code_hash.as_bytes()));
        if !usable || !matches {
            if usable {
                self.ports
                    .sessions
                    .record_activation_failure(pending.id)
                    .await?;
            }
            return fail().await;
        }
        // Only now, with a right code, is a weak password worth reporting.
        let password = Password::new(new_password, &personal_words(&account))?;
        match self
            .ports
            .sessions
            .complete_activation(pending.id, account.id, &self.hasher.hash(&password), now)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(CoreError::InvalidActivationCode),
            Err(e) => return Err(e.into()),
        }
        // A code also serves as a password reset: sessions opened with the old password end.
        self.ports.sessions.delete_sessions_of(account.id).await?;
        let account = self.ports.accounts.account(account.id).await?;
        self.audit(
            None,
            None,
            "account.activated",
            Some(account.id),
            String::new(),
        )
        .await?;
        let (token, session) = self.open_session(&account).await?;
        Ok(LoginOutcome {
            token,
            session,
            account,
        })
    }

    pub async fn account(&self, actor: &Actor, id: AccountId) -> CoreResult<Account> {
        self.authorized_account(actor, Action::ViewAccount, id)
            .await
    }

    pub async fn list_accounts(
        &self,
        actor: &Actor,
        role: Option<Role>,
        after: Option<AccountId>,
        limit: u32,
    ) -> CoreResult<Vec<Account>> {
        authorize(actor.role, Action::ListAccounts, Relation::Unrelated)
            .map_err(|_| CoreError::Denied)?;
        Ok(self
            .ports
            .accounts
            .list_accounts(role, after, limit.clamp(1, 200))
            .await?)
    }

    pub async fn disable_account(&self, actor: &Actor, id: AccountId) -> CoreResult<Account> {
        self.authorized_account(actor, Action::DisableAccount, id)
            .await?;
        self.ports
            .accounts
            .set_status(id, AccountStatus::Disabled)
            .await?;
        self.ports.sessions.delete_sessions_of(id).await?;
        self.audit(
            Some(actor),
            None,
            "account.disabled",
            Some(id),
            String::new(),
        )
        .await?;
        Ok(self.ports.accounts.account(id).await?)
    }

    /// Sets the language the account holder reads PEPS in.
    pub async fn set_my_language(&self, actor: &Actor, language: &str) -> CoreResult<Account> {
        let language = Language::parse(language)?;
        self.ports
            .accounts
            .set_language(actor.account, &language)
            .await?;
        Ok(self.ports.accounts.account(actor.account).await?)
    }

    pub async fn audit_trail(
        &self,
        actor: &Actor,
        subject: AccountId,
        limit: u32,
    ) -> CoreResult<Vec<AuditEvent>> {
        self.authorized_account(actor, Action::ViewAuditTrail, subject)
            .await?;
        Ok(self
            .ports
            .audit
            .events_for(subject, limit.clamp(1, 500))
            .await?)
    }

    // ----- organisations --------------------------------------------------------------

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
            "organisation.created",
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
            "organisation.member_added",
            Some(account),
            format!("organisation={organisation}"),
        )
        .await
    }

    // ----- referents ------------------------------------------------------------------

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
            "referent.assigned",
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
            "referent.ended",
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

    // ----- mandates -------------------------------------------------------------------

    pub async fn grant_mandate(
        &self,
        actor: &Actor,
        person: AccountId,
        req: NewMandate,
    ) -> CoreResult<Mandate> {
        let person_account = self
            .authorized_account(actor, Action::GrantMandate, person)
            .await?;
        if person_account.role != Role::Person {
            return Err(ValidationError::new("person", "mandate.not_a_person").into());
        }
        let scopes: BTreeSet<MandateScope> = req.scopes.into_iter().collect();
        if scopes.is_empty() {
            return Err(ValidationError::new("scopes", "mandate.scopes.empty").into());
        }
        let now = self.now();
        let starts_at = req.starts_at.unwrap_or(now);
        if req.ends_at <= starts_at || req.ends_at <= now || req.ends_at - starts_at > MAX_MANDATE {
            return Err(ValidationError::new("ends_at", "mandate.period.invalid").into());
        }
        match self.ports.accounts.account(req.helper).await {
            Ok(a) if a.role == Role::Helper => {}
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(ValidationError::new("helper_id", "mandate.not_a_helper").into());
            }
            Err(e) => return Err(e.into()),
        }
        let mandate = Mandate {
            id: MandateId::new(),
            helper: req.helper,
            person,
            scopes,
            starts_at,
            ends_at: req.ends_at,
            created_by: actor.account,
            created_at: now,
            revoked_at: None,
            revoked_by: None,
        };
        self.ports.relations.create_mandate(&mandate).await?;
        self.audit(
            Some(actor),
            None,
            "mandate.granted",
            Some(person),
            format!("mandate={} helper={}", mandate.id, mandate.helper),
        )
        .await?;
        Ok(mandate)
    }

    pub async fn revoke_mandate(&self, actor: &Actor, id: MandateId) -> CoreResult<Mandate> {
        let mandate = self.ports.relations.mandate(id).await?;
        let person = self.ports.accounts.account(mandate.person).await?;
        let standing = relations::towards_mandate(
            self.ports.relations.as_ref(),
            self.ports.organisations.as_ref(),
            actor,
            &mandate,
            &person,
            self.now(),
        )
        .await?;
        if authorize(actor.role, Action::RevokeMandate, standing.relation).is_err() {
            // Whoever may not even see the mandates learns nothing of this one.
            let visible = authorize(actor.role, Action::ViewMandates, standing.relation).is_ok();
            return Err(if visible {
                CoreError::Denied
            } else {
                CoreError::NotFound
            });
        }
        if mandate.revoked_at.is_some() {
            return Err(CoreError::Conflict("mandate.already_revoked"));
        }
        self.ports
            .relations
            .revoke_mandate(id, actor.account, self.now())
            .await
            .map_err(|e| conflict_as(e, "mandate.already_revoked"))?;
        self.audit(
            Some(actor),
            None,
            "mandate.revoked",
            Some(mandate.person),
            format!("mandate={id}"),
        )
        .await?;
        Ok(self.ports.relations.mandate(id).await?)
    }

    pub async fn mandates_of_person(
        &self,
        actor: &Actor,
        person: AccountId,
    ) -> CoreResult<Vec<Mandate>> {
        // A helper sees only the mandates they hold, through `my_mandates`.
        self.authorized_account(actor, Action::ViewMandates, person)
            .await?;
        Ok(self.ports.relations.mandates_of_person(person).await?)
    }

    /// The mandates a helper holds (valid or not).
    pub async fn my_mandates(&self, actor: &Actor) -> CoreResult<Vec<Mandate>> {
        authorize(actor.role, Action::ViewMandates, Relation::MandateHolder)
            .map_err(|_| CoreError::Denied)?;
        Ok(self
            .ports
            .relations
            .mandates_of_helper(actor.account)
            .await?)
    }

    // ----- helpers --------------------------------------------------------------------

    /// Loads an account the actor wants to act on, and asks the policy (see [`Self::guard`]).
    async fn authorized_account(
        &self,
        actor: &Actor,
        action: Action,
        id: AccountId,
    ) -> CoreResult<Account> {
        let account = self.ports.accounts.account(id).await?;
        let standing = self.standing(actor, &account).await?;
        self.guard(actor, action, standing, &account).await?;
        Ok(account)
    }

    async fn standing(&self, actor: &Actor, target: &Account) -> CoreResult<Standing> {
        relations::towards_account(
            self.ports.relations.as_ref(),
            self.ports.organisations.as_ref(),
            actor,
            target,
            self.now(),
        )
        .await
    }

    /// Asks the policy. On refusal, an actor who may not even see the account gets
    /// `NotFound`, so that probing ids reveals nothing. A permit resting on a mandate is
    /// recorded for the person.
    async fn guard(
        &self,
        actor: &Actor,
        action: Action,
        standing: Standing,
        target: &Account,
    ) -> CoreResult<()> {
        if authorize(actor.role, action, standing.relation).is_err() {
            let visible = authorize(actor.role, Action::ViewAccount, standing.relation).is_ok();
            return Err(if visible {
                CoreError::Denied
            } else {
                CoreError::NotFound
            });
        }
        if let Some(mandate) = standing.mandate {
            self.audit(
                Some(actor),
                Some(mandate),
                "mandate.used",
                Some(target.id),
                format!("action={action:?}"),
            )
            .await?;
        }
        Ok(())
    }

    fn new_activation(
        &self,
        account: AccountId,
        issued_by: AccountId,
        now: DateTime<Utc>,
    ) -> (ActivationCodeValue, ActivationCode) {
        let code = ActivationCodeValue::generate();
        let record = ActivationCode {
            id: ActivationId::new(),
            account,
            code_hash: code.hash(),
            issued_by,
            created_at: now,
            expires_at: now + self.settings.activation_ttl,
            used_at: None,
            failed_attempts: 0,
        };
        (code, record)
    }

    fn check_organisations_fit(
        &self,
        role: Role,
        organisations: &[OrganisationId],
    ) -> CoreResult<()> {
        if !organisations.is_empty() && !role.has_organisations() {
            return Err(
                ValidationError::new("organisations", "organisation.membership_role").into(),
            );
        }
        Ok(())
    }

    async fn insert_account(&self, new: &NewAccount) -> CoreResult<()> {
        self.ports
            .accounts
            .create_account(new)
            .await
            .map_err(|e| conflict_as(e, "account.login_taken"))
    }
}

fn parse_language(raw: Option<&str>) -> Result<Language, ValidationError> {
    raw.filter(|l| !l.trim().is_empty())
        .map(Language::parse)
        .transpose()
        .map(Option::unwrap_or_default)
}

fn personal_words(account: &Account) -> Vec<&str> {
    let mut words = vec![account.login.as_str(), account.display_name.as_str()];
    if let Some(email) = &account.email {
        words.push(email.as_str());
    }
    words
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Argon2Hasher;
    use crate::clock::ManualClock;
    use crate::testing::MemoryStore;
    use chrono::TimeZone;

    fn identity(clock: Arc<ManualClock>) -> Identity {
        Identity::new(
            IdentityPorts::from_store(Arc::new(MemoryStore::new())),
            Arc::new(Argon2Hasher::default()),
            clock,
            IdentitySettings::default(),
        )
    }

    #[tokio::test]
    async fn purge_removes_only_what_can_no_longer_be_used() {
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap(),
        ));
        let identity = identity(clock.clone());
        identity
            .provision_account(ProvisionAccount {
                role: Role::Worker,
                email: "w@example.fr".into(),
                display_name: "W".into(),
                password: "Une phrase de passe solide".into(),
                organisations: vec![],
            })
            .await
            .unwrap();
        let client = ClientInfo {
            ip: Some("192.0.2.1".into()),
        };
        identity
            .login("w@example.fr", "Une phrase de passe solide", &client)
            .await
            .unwrap();
        assert!(
            identity
                .login("w@example.fr", "wrong", &client)
                .await
                .is_err()
        );
        clock.advance(Duration::hours(3));
        let fresh = identity
            .login("w@example.fr", "Une phrase de passe solide", &client)
            .await
            .unwrap();
        // The first session idled out; the failure counters' windows are over.
        assert_eq!(identity.purge_expired().await.unwrap(), (1, 1));
        assert_eq!(identity.purge_expired().await.unwrap(), (0, 0));
        identity.authenticate(fresh.token.expose()).await.unwrap();
    }
}
