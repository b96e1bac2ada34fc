//! One-time codes: issued by a referent or an admin, typed by the holder with a new password.

use super::*;
use crate::domain::AuditAction;

impl Identity {
    /// A new code for an account not yet activated, or a password reset for a person with
    /// no email and no phone (the paper case). For anyone else, a reset is only
    /// [`Self::reset_password_at_counter`].
    pub async fn issue_activation_code(
        &self,
        actor: &Actor,
        account_id: AccountId,
    ) -> CoreResult<IssuedActivation> {
        self.issue_code(actor, account_id, false).await
    }

    /// The person asks, at the counter, for a new code because they lost their password.
    /// Same as [`Self::issue_activation_code`], allowed whatever channels the person has.
    pub async fn reset_password_at_counter(
        &self,
        actor: &Actor,
        account_id: AccountId,
    ) -> CoreResult<IssuedActivation> {
        self.issue_code(actor, account_id, true).await
    }

    /// Earlier unused codes stop working. For an active account this is a password reset:
    /// the person is alerted at once by every channel, it is written in their audit trail,
    /// and the password chosen with the code opens none of their wallet until they change
    /// it themself (whoever issued the code may know it).
    async fn issue_code(
        &self,
        actor: &Actor,
        account_id: AccountId,
        asked_at_counter: bool,
    ) -> CoreResult<IssuedActivation> {
        let account = self
            .authorized_account(actor, Action::IssueActivationCode, account_id)
            .await?;
        if account.status == AccountStatus::Disabled {
            return Err(CoreError::Conflict("account.disabled"));
        }
        let reset = account.status == AccountStatus::Active;
        let paper_only = account.email.is_none() && account.phone.is_none();
        if reset && !paper_only && !asked_at_counter {
            // Someone who can receive a message resets nothing without asking for it.
            return Err(CoreError::Forbidden("account.reset_needs_counter_request"));
        }
        let now = self.now();
        let (code, activation) = self.new_activation(account.id, actor.account, now);
        // A reset alerts the person; the alert is stored with the code, never one without
        // the other.
        let alerted = if reset {
            Some(self.alert(
                &account,
                Alert::PasswordReset,
                &[("worker", self.name_of(actor.account).await?.as_str())],
            ))
        } else {
            None
        };
        let messages = alerted.as_ref().map_or(&[][..], |a| &a.messages[..]);
        self.ports
            .sessions
            .create_activation(&activation, messages)
            .await?;
        let (action, detail) = match &alerted {
            Some(alerted) => (
                AuditAction::PasswordResetIssued,
                format!(
                    "by={} at_counter={asked_at_counter} alerted={}",
                    actor.account,
                    describe_deliveries(alerted)
                ),
            ),
            None => (AuditAction::ActivationIssued, String::new()),
        };
        self.audit(Some(actor), None, action, Some(account.id), detail)
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
        // On an active account the code reset the password: its issuer may know the new one.
        let reset_by = (account.status == AccountStatus::Active && pending.issued_by != account.id)
            .then_some(pending.issued_by);
        let hash = self.hasher.hash(&password);
        match self
            .ports
            .sessions
            .complete_activation(pending.id, account.id, &hash, now, reset_by)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(crate::Conflict::AlreadyUsed)) => {
                return Err(CoreError::InvalidActivationCode);
            }
            Err(e) => return Err(e.into()),
        }
        // A code also serves as a password reset: sessions opened with the old password end.
        self.ports.sessions.delete_sessions_of(account.id).await?;
        let account = self.ports.accounts.account(account.id).await?;
        let (action, detail) = match reset_by {
            Some(issuer) => (
                AuditAction::PasswordReset,
                format!("code_issued_by={issuer}"),
            ),
            None => (AuditAction::AccountActivated, String::new()),
        };
        self.audit(None, None, action, Some(account.id), detail)
            .await?;
        let (token, session) = self.open_session(&account, "paper_code").await?;
        Ok(LoginOutcome {
            device_token: Some(crate::auth::device::issue(account.id, &hash)),
            token,
            session,
            account,
        })
    }
}

/// `email,sms` (queued by those channels) or `none`, for the audit line.
pub(super) fn describe_deliveries(outcome: &AlertOutcome) -> String {
    use super::super::plan_notices::Delivery;
    outcome
        .deliveries
        .iter()
        .map(|d| match d {
            Delivery::Email => "email",
            Delivery::Sms => "sms",
            Delivery::NoChannel => "none",
        })
        .collect::<Vec<_>>()
        .join(",")
}
