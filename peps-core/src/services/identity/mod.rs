//! Identity and access use cases: log in and out, accounts, activation codes for people
//! without email, organisations, referents and mandates.
//!
//! Authentication is split so that other ways of proving who one is (FranceConnect for persons,
//! ProConnect for staff, over OpenID Connect) plug in without touching core types: an adapter
//! verifies the proof, finds the account, and calls [`Identity::open_session`].

use crate::domain::AuditAction;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::Rng;
use std::collections::BTreeSet;
use std::sync::Arc;

use super::conflict_as;
use super::plan_notices::{Alert, AlertOutcome, Notices};
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

mod accounts;
mod activation;
mod external;
mod mandates;
mod organisations;
mod referents;
mod second_factor;
mod session;
mod sign_in_requests;

pub use external::{ExternalOutcome, ExternalProvider};
pub use second_factor::{Enrolment, SecondFactorStatus, SessionHolder};
pub use sign_in_requests::{SignInRequestView, SuggestedAccount};

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
    /// Failed logins for one login from one address within the window, then 429 there.
    pub login_failures_per_account: u32,
    pub login_failures_per_ip: u32,
    pub throttle_window: Duration,
    /// Failed logins for one login from everywhere within the window before guesses slow
    /// down to one per `login_slowdown_interval` (except from a known device).
    pub login_slowdown_after: u32,
    pub login_slowdown_interval: Duration,
    /// Whether workers and members must pass a second factor; admins always must.
    pub second_factor: SecondFactorRules,
    /// The name an authenticator app shows next to the code (the instance's name).
    pub totp_issuer: String,
}

/// Whether a role must use a second factor. A role where it is optional still passes it at
/// every sign-in once its holder set one up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorRule {
    Optional,
    Required,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondFactorRules {
    pub worker: SecondFactorRule,
    pub member: SecondFactorRule,
}

impl SecondFactorRules {
    /// Whether every session of this role must be strong. Admins' always must: they reach
    /// every account.
    pub fn required(&self, role: Role) -> bool {
        match role {
            Role::Admin => true,
            Role::Worker => self.worker == SecondFactorRule::Required,
            Role::Member => self.member == SecondFactorRule::Required,
            Role::Person | Role::Helper => false,
        }
    }

    /// Who may set up a second factor: staff, who reach other people's papers and plans.
    pub fn offered(role: Role) -> bool {
        matches!(role, Role::Worker | Role::Member | Role::Admin)
    }
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
            login_slowdown_after: 20,
            login_slowdown_interval: Duration::seconds(30),
            second_factor: SecondFactorRules {
                worker: SecondFactorRule::Optional,
                member: SecondFactorRule::Optional,
            },
            totp_issuer: "PEPS".to_owned(),
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
    pub second_factors: Arc<dyn SecondFactorRepository>,
    pub external: Arc<dyn ExternalIdentityRepository>,
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
            second_factors: store.clone(),
            external: store.clone(),
            throttle: store.clone(),
            audit: store,
        }
    }
}

/// Where a request comes from, for rate limiting.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    /// The known-device token this device received at its last sign-in, if it shows one.
    pub known_device: Option<String>,
}

pub struct LoginOutcome {
    pub token: SessionToken,
    pub session: Session,
    pub account: Account,
    /// For the device to keep and show at its next login (see [`crate::auth::device`]).
    pub device_token: Option<String>,
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
    /// For wallet scopes given by the referent at the counter: the day the person gave their
    /// explicit consent (at most [`COUNTER_CONSENT_DAYS`] ago). Ignored when the person
    /// grants the mandate themself.
    pub consent_given_on: Option<NaiveDate>,
}

/// How old a consent recorded at the counter may be: the person signed it at the meeting.
pub const COUNTER_CONSENT_DAYS: i64 = 30;

/// Longest a mandate may run before the person renews it.
const MAX_MANDATE: Duration = Duration::days(3 * 366);

pub struct Identity {
    ports: IdentityPorts,
    hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
    settings: IdentitySettings,
    /// Verified against when the login is unknown, so both cases cost the same time.
    decoy_hash: String,
    /// Alerts to persons (a password reset, a path to their papers opened at the counter).
    notices: Option<Notices>,
    /// Identity providers (OpenID Connect), none unless configured.
    providers: Vec<external::ExternalProvider>,
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
            notices: None,
            providers: Vec::new(),
        }
    }

    /// Queues alerts to persons in the outbox. Without it alerts are only recorded in the
    /// person's audit trail (and their text returned for the counter to print).
    pub fn with_notices(mut self, notices: Notices) -> Self {
        self.notices = Some(notices);
        self
    }

    /// The alert by every channel the person has, as messages for the write that causes it to
    /// store in its transaction; the text is returned either way (for the counter to print).
    fn alert(&self, person: &Account, alert: Alert, args: &[(&str, &str)]) -> AlertOutcome {
        match &self.notices {
            Some(notices) => notices.alert(person, alert, args),
            None => AlertOutcome {
                deliveries: vec![super::plan_notices::Delivery::NoChannel],
                text: alert.body(person.language.code(), args),
                messages: Vec::new(),
            },
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

    /// One failure per interval: the pace of guesses on a login under attack.
    fn pace_limit(&self) -> Limit {
        Limit {
            max_failures: 1,
            window: self.settings.login_slowdown_interval,
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
        action: AuditAction,
        subject: Option<AccountId>,
        detail: String,
    ) -> CoreResult<()> {
        let event = AuditEvent {
            id: AuditEventId::new(),
            at: self.now(),
            actor: actor.map(|a| a.account),
            actor_role: actor.map(|a| a.role),
            mandate,
            action,
            subject,
            detail,
        };
        self.ports.audit.record(&event).await?;
        Ok(())
    }

    // ----- helpers --------------------------------------------------------------------

    /// An account's display name, for alerts ("who did this").
    async fn name_of(&self, id: AccountId) -> CoreResult<String> {
        Ok(self
            .ports
            .accounts
            .account(id)
            .await?
            .display_name
            .as_str()
            .to_owned())
    }

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
                AuditAction::MandateUsed,
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

    /// With `auth.second_factor_workers = "required"`, a worker's password opens nothing until
    /// a second factor is set up and passed; members stay optional; admins always need one.
    #[tokio::test]
    async fn a_required_second_factor_is_enforced_per_role() {
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap(),
        ));
        let settings = IdentitySettings {
            second_factor: SecondFactorRules {
                worker: SecondFactorRule::Required,
                member: SecondFactorRule::Optional,
            },
            ..IdentitySettings::default()
        };
        let identity = Identity::new(
            IdentityPorts::from_store(Arc::new(MemoryStore::new())),
            Arc::new(Argon2Hasher::default()),
            clock.clone(),
            settings,
        );
        let password = "Une phrase de passe solide";
        for (role, email) in [
            (Role::Worker, "w@example.fr"),
            (Role::Member, "m@example.fr"),
        ] {
            identity
                .provision_account(ProvisionAccount {
                    role,
                    email: email.into(),
                    display_name: "X".into(),
                    password: password.into(),
                    organisations: vec![],
                })
                .await
                .unwrap();
        }
        let client = ClientInfo::default();

        let member = identity
            .login("m@example.fr", password, &client)
            .await
            .unwrap();
        assert_eq!(member.session.assurance, Assurance::Single);
        assert!(identity.authenticate(member.token.expose()).await.is_ok());

        let worker = identity
            .login("w@example.fr", password, &client)
            .await
            .unwrap();
        assert_eq!(worker.session.assurance, Assurance::AwaitingSecondFactor);
        assert!(matches!(
            identity.authenticate(worker.token.expose()).await,
            Err(CoreError::SecondFactorRequired { enrolled: false })
        ));
        let holder = identity
            .authenticate_holder(worker.token.expose())
            .await
            .unwrap();
        let enrolment = identity.begin_enrolment(&holder).await.unwrap();
        let secret = crate::auth::totp::from_base32(&enrolment.secret).unwrap();
        let code =
            crate::auth::totp::code_for_step(&secret, crate::auth::totp::step_at(clock.now()));
        let codes = identity.confirm_enrolment(&holder, &code).await.unwrap();
        assert_eq!(codes.len(), 10);
        let authenticated = identity.authenticate(worker.token.expose()).await.unwrap();
        assert_eq!(authenticated.actor.role, Role::Worker);

        // The next sign-in awaits the code again.
        let again = identity
            .login("w@example.fr", password, &client)
            .await
            .unwrap();
        assert!(matches!(
            identity.authenticate(again.token.expose()).await,
            Err(CoreError::SecondFactorRequired { enrolled: true })
        ));
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
            ..ClientInfo::default()
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
        // The first session idled out; the failure counters' windows are over: the login's
        // from everywhere, its pace and the address's (the login-and-address one was cleared
        // by the successful login).
        assert_eq!(identity.purge_expired().await.unwrap(), (1, 3));
        assert_eq!(identity.purge_expired().await.unwrap(), (0, 0));
        identity.authenticate(fresh.token.expose()).await.unwrap();
    }
}
