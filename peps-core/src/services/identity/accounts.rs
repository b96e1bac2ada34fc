//! Accounts: provisioned by operator tooling, staff created by admins, persons created by
//! workers; viewing, listing, disabling, language, audit trail.

use super::*;
use crate::domain::AuditAction;

impl Identity {
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
            AuditAction::AccountCreated,
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
            AuditAction::PasswordChanged,
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
            AuditAction::AccountCreated,
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
                Phone::parse(p).map_err(|_| ValidationError::new("phone", "account.phone.invalid"))
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
                        AuditAction::AccountCreated,
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
            AuditAction::AccountDisabled,
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
}
