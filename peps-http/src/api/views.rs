//! JSON shapes of the API, and their conversions from domain types.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use peps_core::domain::{self as d, Direction};
use peps_core::i18n;
use peps_core::services::IssuedActivation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Role {
    Person,
    Worker,
    Member,
    Helper,
    Admin,
}

impl From<Role> for d::Role {
    fn from(r: Role) -> Self {
        match r {
            Role::Person => d::Role::Person,
            Role::Worker => d::Role::Worker,
            Role::Member => d::Role::Member,
            Role::Helper => d::Role::Helper,
            Role::Admin => d::Role::Admin,
        }
    }
}

impl From<d::Role> for Role {
    fn from(r: d::Role) -> Self {
        match r {
            d::Role::Person => Role::Person,
            d::Role::Worker => Role::Worker,
            d::Role::Member => Role::Member,
            d::Role::Helper => Role::Helper,
            d::Role::Admin => Role::Admin,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum AccountStatus {
    PendingActivation,
    Active,
    Disabled,
}

impl From<d::AccountStatus> for AccountStatus {
    fn from(s: d::AccountStatus) -> Self {
        match s {
            d::AccountStatus::PendingActivation => AccountStatus::PendingActivation,
            d::AccountStatus::Active => AccountStatus::Active,
            d::AccountStatus::Disabled => AccountStatus::Disabled,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum OrganisationKind {
    SocialService,
    Offerer,
    PublicAgency,
}

impl From<OrganisationKind> for d::OrganisationKind {
    fn from(k: OrganisationKind) -> Self {
        match k {
            OrganisationKind::SocialService => d::OrganisationKind::SocialService,
            OrganisationKind::Offerer => d::OrganisationKind::Offerer,
            OrganisationKind::PublicAgency => d::OrganisationKind::PublicAgency,
        }
    }
}

impl From<d::OrganisationKind> for OrganisationKind {
    fn from(k: d::OrganisationKind) -> Self {
        match k {
            d::OrganisationKind::SocialService => OrganisationKind::SocialService,
            d::OrganisationKind::Offerer => OrganisationKind::Offerer,
            d::OrganisationKind::PublicAgency => OrganisationKind::PublicAgency,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum MandateScope {
    #[oai(rename = "plans:read")]
    PlansRead,
    #[oai(rename = "wallet:read")]
    WalletRead,
    #[oai(rename = "wallet:upload")]
    WalletUpload,
}

impl From<MandateScope> for d::MandateScope {
    fn from(s: MandateScope) -> Self {
        match s {
            MandateScope::PlansRead => d::MandateScope::PlansRead,
            MandateScope::WalletRead => d::MandateScope::WalletRead,
            MandateScope::WalletUpload => d::MandateScope::WalletUpload,
        }
    }
}

impl From<d::MandateScope> for MandateScope {
    fn from(s: d::MandateScope) -> Self {
        match s {
            d::MandateScope::PlansRead => MandateScope::PlansRead,
            d::MandateScope::WalletRead => MandateScope::WalletRead,
            d::MandateScope::WalletUpload => MandateScope::WalletUpload,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum TextDirection {
    Ltr,
    Rtl,
}

impl From<Direction> for TextDirection {
    fn from(d: Direction) -> Self {
        match d {
            Direction::Ltr => TextDirection::Ltr,
            Direction::Rtl => TextDirection::Rtl,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct Account {
    pub id: Uuid,
    pub role: Role,
    /// What the holder types to log in: their email, or a generated login name.
    pub login: String,
    pub email: Option<String>,
    pub display_name: String,
    /// The language PEPS speaks to this account holder.
    pub language: String,
    pub status: AccountStatus,
    pub created_at: DateTime<Utc>,
}

impl From<d::Account> for Account {
    fn from(a: d::Account) -> Self {
        Self {
            id: a.id.0,
            role: a.role.into(),
            login: a.login.as_str().to_owned(),
            email: a.email.map(String::from),
            display_name: a.display_name.into(),
            language: a.language.into(),
            status: a.status.into(),
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct Me {
    #[oai(flatten)]
    pub account: Account,
    pub organisation_ids: Vec<Uuid>,
    /// `rtl` for Arabic, Persian, Pashto and Urdu, so a front end sets `dir="rtl"`.
    pub direction: TextDirection,
}

#[derive(Debug, Clone, Object)]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    pub kind: OrganisationKind,
    pub siret: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<d::Organisation> for Organisation {
    fn from(o: d::Organisation) -> Self {
        Self {
            id: o.id.0,
            name: o.name.into(),
            kind: o.kind.into(),
            siret: o.siret.map(String::from),
            created_at: o.created_at,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct Referent {
    pub id: Uuid,
    pub worker_id: Uuid,
    pub person_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub current: bool,
}

impl Referent {
    pub fn from_domain(r: d::Referent, now: DateTime<Utc>) -> Self {
        Self {
            current: r.is_current(now),
            id: r.id.0,
            worker_id: r.worker.0,
            person_id: r.person.0,
            started_at: r.started_at,
            ended_at: r.ended_at,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct Mandate {
    pub id: Uuid,
    pub helper_id: Uuid,
    pub person_id: Uuid,
    pub scopes: Vec<MandateScope>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<Uuid>,
    /// Whether the mandate can be used now.
    pub valid: bool,
}

impl Mandate {
    pub fn from_domain(m: d::Mandate, now: DateTime<Utc>) -> Self {
        Self {
            valid: m.is_valid_at(now),
            id: m.id.0,
            helper_id: m.helper.0,
            person_id: m.person.0,
            scopes: m.scopes.into_iter().map(Into::into).collect(),
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            created_by: m.created_by.0,
            created_at: m.created_at,
            revoked_at: m.revoked_at,
            revoked_by: m.revoked_by.map(|a| a.0),
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct AuditEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<Role>,
    pub mandate_id: Option<Uuid>,
    /// Stable code, e.g. `auth.login`, `mandate.used`.
    pub action: String,
    pub subject_id: Option<Uuid>,
    pub detail: String,
}

impl From<d::AuditEvent> for AuditEvent {
    fn from(e: d::AuditEvent) -> Self {
        Self {
            id: e.id.0,
            at: e.at,
            actor_id: e.actor.map(|a| a.0),
            actor_role: e.actor_role.map(Into::into),
            mandate_id: e.mandate.map(|m| m.0),
            action: e.action.as_str().to_owned(),
            subject_id: e.subject.map(|s| s.0),
            detail: e.detail,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct LanguageInfo {
    /// Code used everywhere in the API (`fr`, `fr-x-falc`, `zh-Hans`…).
    pub code: String,
    pub name: String,
    pub native_name: String,
    pub direction: TextDirection,
    pub note: String,
}

#[derive(Debug, Clone, Object)]
pub struct SheetText {
    pub language: String,
    pub direction: TextDirection,
    pub text: String,
}

/// What to hand over to the account holder, printed: login and one-time code, with
/// instructions in their language and in French.
#[derive(Debug, Clone, Object)]
pub struct Activation {
    pub account: Account,
    pub login: String,
    /// Shown once; PEPS keeps only a hash.
    pub activation_code: String,
    pub expires_at: DateTime<Utc>,
    pub sheet: SheetText,
    pub sheet_fr: SheetText,
}

impl From<IssuedActivation> for Activation {
    fn from(issued: IssuedActivation) -> Self {
        let code = issued.code.display();
        let expires = issued.expires_at.format("%Y-%m-%d").to_string();
        let sheet_in = |language: &d::Language| SheetText {
            language: language.code().to_owned(),
            direction: language.direction().into(),
            text: i18n::activation_sheet(language, issued.login.as_str(), &code, &expires),
        };
        Self {
            sheet: sheet_in(&issued.account.language),
            sheet_fr: sheet_in(&d::Language::french()),
            login: issued.login.as_str().to_owned(),
            activation_code: code.clone(),
            expires_at: issued.expires_at,
            account: issued.account.into(),
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct Session {
    /// Send as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    pub token_type: String,
    /// The session ends at this time at the latest, or earlier when unused for a while.
    pub expires_at: DateTime<Utc>,
    /// `awaiting_second_factor`: pass the second factor (`POST /api/v1/auth/second-factor`)
    /// or set one up (`/api/v1/auth/second-factor/enrolment`) before anything else; `single`
    /// or `strong`.
    pub assurance: String,
    pub account: Account,
    /// Keep it on this device and send it as `device_token` at the next login: failed
    /// attempts by others on this login then never slow this device down. Void once the
    /// password changes.
    #[oai(skip_serializing_if_is_none)]
    pub device_token: Option<String>,
}

/// `201 Created` with the new resource.
#[derive(poem_openapi::ApiResponse)]
pub enum Created<T: poem_openapi::types::ToJSON + Send + Sync> {
    #[oai(status = 201)]
    Created(poem_openapi::payload::Json<T>),
}

/// `204 No Content`.
#[derive(poem_openapi::ApiResponse)]
pub enum Done {
    #[oai(status = 204)]
    Done,
}
