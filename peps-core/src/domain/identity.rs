//! Identity: accounts and their roles, organisations, memberships, referents, mandates, sessions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use super::contact::Phone;
use super::ids::*;
use super::language::Language;
use super::siret::Siret;
use crate::error::ValidationError;

/// Each account has exactly one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A person accompanied by social services (usager).
    Person,
    /// A social worker (travailleur social); may be a person's referent.
    Worker,
    /// A member of an offerer organisation, who publishes its offers.
    Member,
    /// A helper (aidant) acting for a person under a mandate.
    Helper,
    /// An administrator of the collectivity.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Person,
        Role::Worker,
        Role::Member,
        Role::Helper,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Person => "person",
            Role::Worker => "worker",
            Role::Member => "member",
            Role::Helper => "helper",
            Role::Admin => "admin",
        }
    }

    /// Workers and members belong to organisations; the other roles do not.
    pub fn has_organisations(self) -> bool {
        matches!(self, Role::Worker | Role::Member)
    }
}

impl FromStr for Role {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(ValidationError::new("role", "account.role.unknown"))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Created by a worker or an admin; the holder has not chosen a password yet.
    PendingActivation,
    Active,
    Disabled,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::PendingActivation => "pending_activation",
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
        }
    }
}

impl FromStr for AccountStatus {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending_activation" => Ok(Self::PendingActivation),
            "active" => Ok(Self::Active),
            "disabled" => Ok(Self::Disabled),
            _ => Err(ValidationError::new("status", "account.status.unknown")),
        }
    }
}

/// An email address, trimmed and lower-cased. Deliberately permissive (one `@`, a dot in the
/// domain, no spaces): the only real check of an address is a message reaching it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let email = raw.trim().to_lowercase();
        let invalid = ValidationError::new("email", "account.email.invalid");
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid);
        }
        let (local, domain) = email.split_once('@').ok_or(invalid.clone())?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(invalid);
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

/// What someone types to log in: their email, or for people without one, the login name printed
/// on their activation sheet (e.g. `marie.dupont.4821`). Always lower-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Login(String);

impl Login {
    /// Normalises what was typed; never fails, so an unknown login looks like any other.
    pub fn normalise(raw: &str) -> Self {
        Self(raw.trim().to_lowercase())
    }

    pub fn from_email(email: &Email) -> Self {
        Self(email.as_str().to_owned())
    }

    /// A readable login for someone without an email: their name folded to ASCII and a number.
    pub fn generated(display_name: &DisplayName, number: u16) -> Self {
        let mut slug = String::new();
        for c in display_name.as_str().chars().flat_map(fold_to_ascii) {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('.') {
                slug.push('.');
            }
            if slug.len() >= 24 {
                break;
            }
        }
        let slug = slug.trim_end_matches('.');
        let slug = if slug.is_empty() { "personne" } else { slug };
        Self(format!("{slug}.{number:04}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn fold_to_ascii(c: char) -> impl Iterator<Item = char> {
    let folded: &str = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'ç' | 'Ç' | 'ć' | 'č' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' | 'ę' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' | 'ń' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'œ' | 'Œ' => "oe",
        'æ' | 'Æ' => "ae",
        'ß' => "ss",
        'ł' | 'Ł' => "l",
        'ș' | 'ş' | 'Ș' | 'Ş' | 'š' | 'ś' => "s",
        'ț' | 'ţ' | 'Ț' | 'Ţ' => "t",
        'ă' | 'Ă' | 'ą' => "a",
        'ž' | 'ź' | 'ż' => "z",
        _ => "",
    };
    let keep = folded.is_empty().then_some(c);
    folded.chars().chain(keep)
}

/// A name to show for an account: 1 to 120 characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(ValidationError::new(
                "display_name",
                "account.display_name.empty",
            ));
        }
        if name.chars().count() > 120 {
            return Err(ValidationError::new(
                "display_name",
                "account.display_name.too_long",
            ));
        }
        if name.chars().any(char::is_control) || super::text::check_shown_text(name).is_err() {
            return Err(ValidationError::new(
                "display_name",
                "account.display_name.invalid",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DisplayName> for String {
    fn from(value: DisplayName) -> Self {
        value.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub role: Role,
    pub login: Login,
    pub email: Option<Email>,
    /// A mobile number for text-message notices, for people without email.
    pub phone: Option<Phone>,
    pub display_name: DisplayName,
    pub language: Language,
    pub status: AccountStatus,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    /// CCAS, département social service, social-work association.
    SocialService,
    /// An association or company offering services in the catalogue.
    Offerer,
    /// France Travail, CAF, CPAM, a mairie…
    PublicAgency,
}

impl OrganisationKind {
    pub const ALL: [OrganisationKind; 3] = [
        OrganisationKind::SocialService,
        OrganisationKind::Offerer,
        OrganisationKind::PublicAgency,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrganisationKind::SocialService => "social_service",
            OrganisationKind::Offerer => "offerer",
            OrganisationKind::PublicAgency => "public_agency",
        }
    }
}

impl FromStr for OrganisationKind {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrganisationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(ValidationError::new("kind", "organisation.kind.unknown"))
    }
}

/// An organisation's name: 2 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrganisationName(String);

impl OrganisationName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim();
        let len = name.chars().count();
        if len < 2 {
            return Err(ValidationError::new("name", "organisation.name.too_short"));
        }
        if len > 200 {
            return Err(ValidationError::new("name", "organisation.name.too_long"));
        }
        if name.chars().any(char::is_control) || super::text::check_shown_text(name).is_err() {
            return Err(ValidationError::new("name", "organisation.name.invalid"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrganisationName {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<OrganisationName> for String {
    fn from(value: OrganisationName) -> Self {
        value.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: OrganisationName,
    pub kind: OrganisationKind,
    pub siret: Option<Siret>,
    pub created_at: DateTime<Utc>,
}

/// The referent relation: a worker following a person, from `started_at` until `ended_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referent {
    pub id: ReferentId,
    pub worker: AccountId,
    pub person: AccountId,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

impl Referent {
    pub fn is_current(&self, now: DateTime<Utc>) -> bool {
        self.started_at <= now && self.ended_at.is_none_or(|end| now < end)
    }
}

/// What a helper may do for a person under a mandate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MandateScope {
    #[serde(rename = "plans:read")]
    PlansRead,
    #[serde(rename = "wallet:read")]
    WalletRead,
    #[serde(rename = "wallet:upload")]
    WalletUpload,
}

impl MandateScope {
    pub const ALL: [MandateScope; 3] = [
        MandateScope::PlansRead,
        MandateScope::WalletRead,
        MandateScope::WalletUpload,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MandateScope::PlansRead => "plans:read",
            MandateScope::WalletRead => "wallet:read",
            MandateScope::WalletUpload => "wallet:upload",
        }
    }
}

impl FromStr for MandateScope {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MandateScope::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or(ValidationError::new("scopes", "mandate.scope.unknown"))
    }
}

/// A person's authorisation for a helper to act for them, within scopes, for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mandate {
    pub id: MandateId,
    pub helper: AccountId,
    pub person: AccountId,
    pub scopes: BTreeSet<MandateScope>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_by: AccountId,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<AccountId>,
}

impl Mandate {
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.starts_at <= now && now < self.ends_at
    }
}

/// A login session. Only the SHA-256 of the token is stored: a database leak gives no session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub account: AccountId,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// How the session was opened, for the holder's trail and the admin: `password`,
    /// `paper_code`, `password+totp`, `password+recovery_code`, `oidc:proconnect`…
    pub method: String,
    pub assurance: Assurance,
}

/// How strongly a session's holder proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assurance {
    /// The password was right; the second factor is still awaited. Such a session opens
    /// nothing but the second-factor pages and endpoints.
    AwaitingSecondFactor,
    /// One factor.
    Single,
    /// Two factors, or a provider's assurance level that the configuration counts as strong.
    Strong,
}

impl Assurance {
    pub fn as_str(self) -> &'static str {
        match self {
            Assurance::AwaitingSecondFactor => "awaiting_second_factor",
            Assurance::Single => "single",
            Assurance::Strong => "strong",
        }
    }
}

impl Assurance {
    /// Reads what [`Self::as_str`] wrote; only ever stored values, never user input.
    pub fn parse_stored(s: &str) -> Option<Self> {
        match s {
            "awaiting_second_factor" => Some(Self::AwaitingSecondFactor),
            "single" => Some(Self::Single),
            "strong" => Some(Self::Strong),
            _ => None,
        }
    }
}

/// An account linked to an identity provider's subject. The pair (provider, subject) is the
/// only key an external sign-in finds an account by: never the email alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalLink {
    /// The configured provider's key (`franceconnect`, `proconnect`, …).
    pub provider: String,
    pub subject: String,
    pub account: AccountId,
    pub linked_at: DateTime<Utc>,
}

/// A staff member an identity provider vouched for (ProConnect) whom no account matched: they
/// wait for an admin to link them to an account, or to refuse. One per (provider, subject);
/// signing in again refreshes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInRequest {
    pub id: SignInRequestId,
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    /// Whether the provider vouches for the email (ProConnect checks it at the employer).
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// The employer's SIRET, as the provider sent it.
    pub siret: Option<String>,
    pub requested_at: DateTime<Utc>,
}

/// A value that can be taken once, bound to one browser: an OpenID sign-in in flight (keyed by
/// its `state`), an identity waiting to be linked, a provider session to end at sign-out.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeValue {
    /// SHA-256 (hex) of the key: a stolen database holds no usable `state`.
    pub key_hash: String,
    /// SHA-256 (hex) of the browser's binding secret; empty when not bound to a browser.
    pub browser_hash: String,
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for OneTimeValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneTimeValue")
            .field("key_hash", &self.key_hash)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// An account's second factor: a TOTP secret and the hashes of its unused recovery codes.
#[derive(Clone, PartialEq, Eq)]
pub struct SecondFactor {
    pub account: AccountId,
    /// The shared TOTP secret (20 random bytes).
    pub secret: Vec<u8>,
    /// `None` while enrolment awaits its first code: an unconfirmed factor is not required
    /// at sign-in, so a half-done enrolment never locks anyone out.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The last TOTP step accepted: a code is never accepted twice.
    pub last_step: i64,
    pub recovery_hashes: Vec<String>,
}

impl std::fmt::Debug for SecondFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondFactor")
            .field("account", &self.account)
            .field("secret", &"<redacted>")
            .field("confirmed_at", &self.confirmed_at)
            .field("last_step", &self.last_step)
            .field("recovery_codes_left", &self.recovery_hashes.len())
            .finish()
    }
}

/// A one-time code a worker or admin hands over (on paper) so the holder chooses a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationCode {
    pub id: ActivationId,
    pub account: AccountId,
    pub code_hash: String,
    pub issued_by: AccountId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub failed_attempts: u32,
}

super::codes::stable_codes! {
    /// What an audit line records.
    pub enum AuditAction {
        AccountCreated = "account.created",
        AccountDisabled = "account.disabled",
        AccountActivated = "account.activated",
        ActivationIssued = "account.activation_issued",
        PasswordChanged = "account.password_changed",
        /// A worker issued a code for an active account (the paper case, or asked at the counter).
        PasswordResetIssued = "account.password_reset_issued",
        /// The code a worker issued was used: the password was reset.
        PasswordReset = "account.password_reset",
        Login = "auth.login",
        LoginFailed = "auth.login_failed",
        LogoutAll = "auth.logout_all",
        /// A second factor was confirmed (detail: `recovery_codes=10`).
        SecondFactorEnrolled = "auth.second_factor_enrolled",
        /// A session was raised to strong; detail says how (`totp`, `recovery_code`).
        SecondFactorPassed = "auth.second_factor_passed",
        SecondFactorFailed = "auth.second_factor_failed",
        /// By the holder, or by an admin for someone who lost their phone.
        SecondFactorRemoved = "auth.second_factor_removed",
        RecoveryCodesRenewed = "auth.recovery_codes_renewed",
        /// An identity provider's subject was linked to the account (detail: the provider).
        ExternalLinked = "auth.external_linked",
        ExternalUnlinked = "auth.external_unlinked",
        /// An admin refused a staff member's sign-in through a provider (detail: the provider).
        SignInRequestRefused = "auth.sign_in_request_refused",
        MandateGranted = "mandate.granted",
        MandateRevoked = "mandate.revoked",
        /// A helper acted under a mandate.
        MandateUsed = "mandate.used",
        OrganisationCreated = "organisation.created",
        MemberAdded = "organisation.member_added",
        ReferentAssigned = "referent.assigned",
        ReferentEnded = "referent.ended",
        /// The person, or their referent at the counter, stopped text messages to them.
        TextMessagesStopped = "notices.sms_stopped",
        TextMessagesResumed = "notices.sms_resumed",
        /// An admin tried again a message to the person that could not be sent.
        NoticeRetried = "notices.retried",
        /// An admin gave up a message to the person that could not be sent.
        NoticeDiscarded = "notices.discarded",
    }
}

/// A recorded access or change, kept for the person it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub at: DateTime<Utc>,
    /// Who acted; `None` for the system itself (e.g. a scheduled job).
    pub actor: Option<AccountId>,
    /// The actor's role at the time, and the mandate when a helper acted under one.
    pub actor_role: Option<Role>,
    pub mandate: Option<MandateId>,
    pub action: AuditAction,
    /// The person (or account) the event concerns, who can read it.
    pub subject: Option<AccountId>,
    /// Short, non-secret details (ids, scopes), never passwords or tokens.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Marie.Dupont@Example.FR ").unwrap().as_str(),
            "marie.dupont@example.fr"
        );
        for bad in [
            "", "no-at", "a@b", "a@@b.fr", "a b@c.fr", "@c.fr", "a@.fr", "a@c.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn generated_logins_are_readable_ascii() {
        let name = DisplayName::parse("Hélène Œuvray-SSmith").unwrap();
        assert_eq!(
            Login::generated(&name, 42).as_str(),
            "helene.oeuvray.ssmith.0042"
        );
        let arabic = DisplayName::parse("محمد").unwrap();
        assert_eq!(Login::generated(&arabic, 7).as_str(), "personne.0007");
    }

    #[test]
    fn mandate_validity_window() {
        let now = Utc::now();
        let mut m = Mandate {
            id: MandateId::new(),
            helper: AccountId::new(),
            person: AccountId::new(),
            scopes: [MandateScope::PlansRead].into(),
            starts_at: now - chrono::Duration::days(1),
            ends_at: now + chrono::Duration::days(1),
            created_by: AccountId::new(),
            created_at: now,
            revoked_at: None,
            revoked_by: None,
        };
        assert!(m.is_valid_at(now));
        assert!(!m.is_valid_at(now + chrono::Duration::days(2)));
        m.revoked_at = Some(now);
        assert!(!m.is_valid_at(now));
    }

    #[test]
    fn strings_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        for scope in MandateScope::ALL {
            assert_eq!(scope.as_str().parse::<MandateScope>().unwrap(), scope);
        }
        for kind in OrganisationKind::ALL {
            assert_eq!(kind.as_str().parse::<OrganisationKind>().unwrap(), kind);
        }
    }
}
