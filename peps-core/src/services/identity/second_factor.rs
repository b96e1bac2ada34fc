//! The second factor for staff: TOTP codes from an authenticator app or a hardware card, and
//! recovery codes. Workers, members and admins reach the papers and plans of vulnerable people;
//! a stolen password alone must not open them.
//!
//! A session opened with a password awaits the second factor when the holder has one or their
//! role requires one ([`SecondFactorRules`]); until then [`Identity::authenticate`] refuses it
//! and only these use cases accept it.

use super::*;
use crate::auth::totp;

/// A session and its account, whatever the session's assurance.
#[derive(Debug, Clone)]
pub struct SessionHolder {
    pub session: Session,
    pub account: Account,
}

/// What to show while setting up an authenticator: the QR code's address and the secret to
/// type by hand.
#[derive(Clone)]
pub struct Enrolment {
    pub otpauth_uri: String,
    /// Base32, as authenticator apps take it.
    pub secret: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment { .. }")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactorStatus {
    /// Whether the role may use one (staff).
    pub offered: bool,
    pub required: bool,
    pub enrolled: bool,
    pub recovery_codes_left: usize,
    pub session: Assurance,
}

impl Identity {
    fn second_factor_limit(&self) -> Limit {
        Limit {
            max_failures: self.settings.login_failures_per_account,
            window: self.settings.throttle_window,
        }
    }

    /// The account's factor once confirmed (a set-up still waiting for its first code is not).
    async fn confirmed_factor(&self, account: AccountId) -> CoreResult<Option<SecondFactor>> {
        Ok(self
            .ports
            .second_factors
            .second_factor(account)
            .await?
            .filter(|f| f.confirmed_at.is_some()))
    }

    pub async fn second_factor_status(
        &self,
        holder: &SessionHolder,
    ) -> CoreResult<SecondFactorStatus> {
        let factor = self.confirmed_factor(holder.account.id).await?;
        Ok(SecondFactorStatus {
            offered: SecondFactorRules::offered(holder.account.role),
            required: self.settings.second_factor.required(holder.account.role),
            enrolled: factor.is_some(),
            recovery_codes_left: factor.map_or(0, |f| f.recovery_hashes.len()),
            session: holder.session.assurance,
        })
    }

    /// Starts setting up an authenticator: a new secret, not yet required at sign-in. Replacing
    /// a confirmed factor needs a strong session (a password thief cannot swap the phone).
    pub async fn begin_enrolment(&self, holder: &SessionHolder) -> CoreResult<Enrolment> {
        if !SecondFactorRules::offered(holder.account.role) {
            return Err(CoreError::Denied);
        }
        let existing = self
            .ports
            .second_factors
            .second_factor(holder.account.id)
            .await?;
        if existing.is_some_and(|f| f.confirmed_at.is_some())
            && holder.session.assurance != Assurance::Strong
        {
            return Err(CoreError::SecondFactorRequired { enrolled: true });
        }
        let secret = totp::new_secret();
        self.ports
            .second_factors
            .save_second_factor(&SecondFactor {
                account: holder.account.id,
                secret: secret.clone(),
                confirmed_at: None,
                last_step: 0,
                recovery_hashes: Vec::new(),
            })
            .await?;
        let label = holder
            .account
            .email
            .as_ref()
            .map(|e| e.as_str().to_owned())
            .unwrap_or_else(|| holder.account.login.as_str().to_owned());
        Ok(Enrolment {
            otpauth_uri: totp::provisioning_uri(&self.settings.totp_issuer, &label, &secret),
            secret: totp::base32(&secret),
        })
    }

    /// Confirms the authenticator with its first code: the factor is now required at every
    /// sign-in, this session becomes strong, and the recovery codes are returned, once.
    pub async fn confirm_enrolment(
        &self,
        holder: &SessionHolder,
        code: &str,
    ) -> CoreResult<Vec<String>> {
        let now = self.now();
        let key = format!("second_factor:{}", holder.account.id);
        let throttle = self.ports.throttle.as_ref();
        throttle::check(throttle, &key, self.second_factor_limit(), now).await?;
        let pending = self
            .ports
            .second_factors
            .second_factor(holder.account.id)
            .await?
            .filter(|f| f.confirmed_at.is_none())
            .ok_or(CoreError::Conflict("second_factor.no_enrolment"))?;
        let Some(step) = totp::matching_step(&pending.secret, code, now) else {
            throttle::fail(throttle, &key, self.second_factor_limit(), now).await?;
            return Err(CoreError::InvalidSecondFactor);
        };
        throttle.clear_throttle(&key).await?;
        let codes = totp::new_recovery_codes();
        self.ports
            .second_factors
            .save_second_factor(&SecondFactor {
                confirmed_at: Some(now),
                last_step: step,
                recovery_hashes: codes.iter().map(|c| totp::recovery_hash(c)).collect(),
                ..pending
            })
            .await?;
        self.raise_session(holder, "totp").await?;
        self.audit(
            Some(&holder_actor(holder)),
            None,
            AuditAction::SecondFactorEnrolled,
            Some(holder.account.id),
            format!("recovery_codes={}", codes.len()),
        )
        .await?;
        Ok(codes)
    }

    /// Passes the second factor: a TOTP code (each accepted once) or one of the recovery codes
    /// (each usable once). Wrong codes count like wrong passwords.
    pub async fn pass_second_factor(&self, holder: &SessionHolder, code: &str) -> CoreResult<()> {
        let now = self.now();
        let key = format!("second_factor:{}", holder.account.id);
        let throttle = self.ports.throttle.as_ref();
        throttle::check(throttle, &key, self.second_factor_limit(), now).await?;
        let factor = self
            .confirmed_factor(holder.account.id)
            .await?
            .ok_or(CoreError::SecondFactorRequired { enrolled: false })?;
        let factors = &self.ports.second_factors;
        let passed = match totp::matching_step(&factor.secret, code, now) {
            Some(step) => factors
                .accept_totp_step(holder.account.id, step)
                .await?
                .then_some("totp"),
            None => factors
                .use_recovery_code(holder.account.id, &totp::recovery_hash(code))
                .await?
                .then_some("recovery_code"),
        };
        let Some(how) = passed else {
            throttle::fail(throttle, &key, self.second_factor_limit(), now).await?;
            self.audit(
                None,
                None,
                AuditAction::SecondFactorFailed,
                Some(holder.account.id),
                String::new(),
            )
            .await?;
            return Err(CoreError::InvalidSecondFactor);
        };
        throttle.clear_throttle(&key).await?;
        self.raise_session(holder, how).await?;
        self.audit(
            Some(&holder_actor(holder)),
            None,
            AuditAction::SecondFactorPassed,
            Some(holder.account.id),
            format!("method={how}"),
        )
        .await
    }

    /// New recovery codes, the old ones void. Needs a strong session.
    pub async fn renew_recovery_codes(&self, holder: &SessionHolder) -> CoreResult<Vec<String>> {
        if holder.session.assurance != Assurance::Strong {
            return Err(CoreError::SecondFactorRequired { enrolled: true });
        }
        let factor = self
            .confirmed_factor(holder.account.id)
            .await?
            .ok_or(CoreError::NotFound)?;
        let codes = totp::new_recovery_codes();
        self.ports
            .second_factors
            .save_second_factor(&SecondFactor {
                recovery_hashes: codes.iter().map(|c| totp::recovery_hash(c)).collect(),
                ..factor
            })
            .await?;
        self.audit(
            Some(&holder_actor(holder)),
            None,
            AuditAction::RecoveryCodesRenewed,
            Some(holder.account.id),
            format!("recovery_codes={}", codes.len()),
        )
        .await?;
        Ok(codes)
    }

    /// Removes an account's second factor: its holder from a strong session (where the role
    /// does not require one), or an admin for someone who lost their phone. Every session of
    /// that account ends; at the next sign-in a role that requires a factor sets up a new one.
    pub async fn remove_second_factor(&self, actor: &Actor, account: AccountId) -> CoreResult<()> {
        let target = self.ports.accounts.account(account).await?;
        let allowed = actor.role == Role::Admin
            || (actor.account == account && !self.settings.second_factor.required(target.role));
        if !allowed {
            return Err(CoreError::Denied);
        }
        self.ports
            .second_factors
            .delete_second_factor(account)
            .await?;
        self.ports.sessions.delete_sessions_of(account).await?;
        self.audit(
            Some(actor),
            None,
            AuditAction::SecondFactorRemoved,
            Some(account),
            String::new(),
        )
        .await
    }

    /// For the operator at the server's console (`peps admin reset-second-factor`): the only
    /// way back in for an admin who lost both their phone and their recovery codes when no
    /// other admin can help. Every session of that account ends. Returns whether there was a
    /// factor to remove.
    pub async fn operator_remove_second_factor(&self, login: &str) -> CoreResult<bool> {
        let account = self
            .ports
            .accounts
            .account_by_login(&Login::normalise(login))
            .await?
            .ok_or(CoreError::NotFound)?;
        let removed = match self
            .ports
            .second_factors
            .delete_second_factor(account.id)
            .await
        {
            Ok(()) => true,
            Err(StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        };
        self.ports.sessions.delete_sessions_of(account.id).await?;
        if removed {
            self.audit(
                None,
                None,
                AuditAction::SecondFactorRemoved,
                Some(account.id),
                "by=operator".to_owned(),
            )
            .await?;
        }
        Ok(removed)
    }

    async fn raise_session(&self, holder: &SessionHolder, how: &str) -> CoreResult<()> {
        let first = holder
            .session
            .method
            .split('+')
            .next()
            .unwrap_or("password");
        self.ports
            .sessions
            .set_session_assurance(
                holder.session.id,
                Assurance::Strong,
                &format!("{first}+{how}"),
            )
            .await?;
        Ok(())
    }
}

/// The holder as an actor for the audit line (the session is theirs, even before it is strong).
fn holder_actor(holder: &SessionHolder) -> Actor {
    Actor {
        account: holder.account.id,
        role: holder.account.role,
        organisations: Vec::new(),
    }
}
