//! Logging in and out, sessions, one's own password.

use super::*;
use crate::domain::AuditAction;

impl Identity {
    /// Email (or printed login) and password. An unknown login and a wrong password give the
    /// same error in the same time.
    ///
    /// Failures are limited per (login, address) and per address. Failures on one login from
    /// everywhere only slow guessing down (one try per `login_slowdown_interval` once there
    /// were `login_slowdown_after` in the window): they never lock the owner out, and a device
    /// showing its known-device token is not slowed at all. The paper code
    /// ([`Self::activate`]) is counted apart.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client: &ClientInfo,
    ) -> CoreResult<LoginOutcome> {
        let now = self.now();
        let login = Login::normalise(login);
        let address = client.ip.as_deref().unwrap_or("-");
        let pair_key = format!("login:pair:{}:{address}", login.as_str());
        let account_key = format!("login:account:{}", login.as_str());
        let pace_key = format!("login:pace:{}", login.as_str());
        let ip_key = client.ip.as_ref().map(|ip| format!("login:ip:{ip}"));
        let throttle = self.ports.throttle.as_ref();
        if let Some(key) = &ip_key {
            throttle::check(throttle, key, self.ip_limit(), now).await?;
        }

        let account = self.ports.accounts.account_by_login(&login).await?;
        let stored = match &account {
            Some(a) => self.ports.accounts.password_hash(a.id).await?,
            None => None,
        };
        let known_device = match (&account, &stored, client.known_device.as_deref()) {
            (Some(a), Some(hash), Some(token)) => crate::auth::device::verify(token, a.id, hash),
            _ => false,
        };
        if !known_device {
            throttle::check(throttle, &pair_key, self.account_limit(), now).await?;
            if throttle::failures(throttle, &account_key, self.settings.throttle_window, now)
                .await?
                >= self.settings.login_slowdown_after
            {
                throttle::check(throttle, &pace_key, self.pace_limit(), now).await?;
            }
        }

        let matches = self
            .hasher
            .verify(password, stored.as_deref().unwrap_or(&self.decoy_hash))
            && stored.is_some();
        let account = match account {
            Some(a) if matches && a.status == AccountStatus::Active => a,
            other => {
                if !known_device {
                    throttle::fail(throttle, &pair_key, self.account_limit(), now).await?;
                    throttle::fail(throttle, &pace_key, self.pace_limit(), now).await?;
                }
                throttle::fail(throttle, &account_key, self.account_limit(), now).await?;
                if let Some(key) = &ip_key {
                    throttle::fail(throttle, key, self.ip_limit(), now).await?;
                }
                if let Some(a) = other {
                    self.audit(
                        None,
                        None,
                        AuditAction::LoginFailed,
                        Some(a.id),
                        String::new(),
                    )
                    .await?;
                }
                return Err(CoreError::InvalidCredentials);
            }
        };
        throttle.clear_throttle(&pair_key).await?;
        let (token, session) = self.open_session(&account, "password").await?;
        // A password someone else may know: the person's trail says so at every login.
        let detail = match self.ports.accounts.password_reset_by(account.id).await? {
            Some(issuer) => format!("password_reset_by={issuer}"),
            None => String::new(),
        };
        self.audit(None, None, AuditAction::Login, Some(account.id), detail)
            .await?;
        let device_token = stored
            .as_deref()
            .map(|hash| crate::auth::device::issue(account.id, hash));
        Ok(LoginOutcome {
            token,
            session,
            account,
            device_token,
        })
    }

    /// Opens a session for an account whose holder proved who they are with one factor (a
    /// password, a paper code): it awaits the second factor when the holder has one or their
    /// role requires one. Refuses accounts that are not active.
    pub async fn open_session(
        &self,
        account: &Account,
        method: &str,
    ) -> CoreResult<(SessionToken, Session)> {
        let assurance = self.first_factor_assurance(account).await?;
        self.open_session_as(account, method, assurance).await
    }

    /// After one factor: the second is awaited when the holder set one up or their role
    /// requires one.
    pub(super) async fn first_factor_assurance(&self, account: &Account) -> CoreResult<Assurance> {
        let awaits = self.settings.second_factor.required(account.role)
            || self
                .ports
                .second_factors
                .second_factor(account.id)
                .await?
                .is_some_and(|f| f.confirmed_at.is_some());
        Ok(if awaits {
            Assurance::AwaitingSecondFactor
        } else {
            Assurance::Single
        })
    }

    /// Opens a session of the given assurance (an OpenID Connect sign-in whose assurance level
    /// the configuration counts as strong opens a strong one).
    pub async fn open_session_as(
        &self,
        account: &Account,
        method: &str,
        assurance: Assurance,
    ) -> CoreResult<(SessionToken, Session)> {
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
            method: method.to_owned(),
            assurance,
        };
        self.ports.sessions.create_session(&session).await?;
        Ok((token, session))
    }

    /// Resolves a bearer token to the acting account, or `Unauthenticated`; a session still
    /// awaiting its second factor, or one factor where the role requires two, gives
    /// `SecondFactorRequired` and acts for nobody.
    pub async fn authenticate(&self, token: &str) -> CoreResult<Authenticated> {
        let holder = self.authenticate_holder(token).await?;
        let strong_needed = self.settings.second_factor.required(holder.account.role);
        if holder.session.assurance == Assurance::AwaitingSecondFactor
            || (strong_needed && holder.session.assurance != Assurance::Strong)
        {
            let enrolled = self
                .ports
                .second_factors
                .second_factor(holder.account.id)
                .await?
                .is_some_and(|f| f.confirmed_at.is_some());
            return Err(CoreError::SecondFactorRequired { enrolled });
        }
        let organisations = self
            .ports
            .organisations
            .memberships(holder.account.id)
            .await?;
        Ok(Authenticated {
            actor: Actor {
                account: holder.account.id,
                role: holder.account.role,
                organisations,
            },
            session: holder.session.id,
            account: holder.account,
        })
    }

    /// The session behind a token whatever its assurance: for the second-factor steps only.
    pub async fn authenticate_holder(&self, token: &str) -> CoreResult<SessionHolder> {
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
        Ok(SessionHolder { session, account })
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
        // Sign-ins never finished, identities never linked, provider sessions of sessions that
        // can no longer be used.
        self.ports
            .external
            .prune_one_time(now - self.settings.session_absolute)
            .await?;
        self.prune_sign_in_requests().await?;
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
            AuditAction::LogoutAll,
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
            AuditAction::PasswordChanged,
            Some(account.id),
            String::new(),
        )
        .await
    }
}
