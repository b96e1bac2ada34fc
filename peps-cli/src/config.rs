//! Configuration: built-in defaults (the documented example file), then the file, then
//! `PEPS_<SECTION>__<KEY>` environment variables. Unknown keys are errors.

use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const DEFAULT_CONFIG: &str = include_str!("../peps.example.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: Server,
    pub database: Database,
    pub auth: Auth,
    pub log: Log,
    pub catalogue: CatalogueConfig,
    pub data_inclusion: DataInclusionConfig,
    pub plans: PlansConfig,
    pub notifications: Notifications,
    pub wallet: WalletConfig,
    pub web: WebConfig,
    pub oidc: OidcConfig,
    pub outbox: OutboxConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxConfig {
    pub interval_seconds: u64,
    /// How long a server holds the messages it took to send; a server killed meanwhile
    /// leaves them to another (or to itself, restarted) after this time.
    pub claim_seconds: i64,
    pub max_attempts: u32,
    /// `HH:MM-HH:MM`, or empty for none.
    pub quiet_hours: String,
    pub sms_per_person_per_day: u32,
    pub keep_sent_days: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    pub providers: Vec<ProviderConfig>,
}

/// One identity provider. `preset` fills the protocol settings of FranceConnect v2 or
/// ProConnect; the rest is what the provider gave the collectivity at registration.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// `franceconnect` or `proconnect`.
    pub preset: String,
    /// The key in the callback address (`/oidc/<key>/callback`) and in account links.
    pub key: String,
    /// The sign-in button's label.
    pub label: String,
    pub issuer: String,
    pub client_id: String,
    /// Read from this file (one line), never written in the configuration itself.
    pub client_secret_file: PathBuf,
    /// Roles allowed to sign in through it: `person` for FranceConnect, `worker`, `member`
    /// (and `admin`) for ProConnect.
    pub roles: Vec<String>,
    /// `acr` values that make a session strong (no TOTP asked on top).
    #[serde(default)]
    pub strong_acr: Vec<String>,
    /// Sent as `acr_values`; the preset's when absent.
    #[serde(default)]
    pub acr_values: Option<Vec<String>>,
    /// The scopes asked for; the preset's when absent (`openid` is always asked).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("preset", &self.preset)
            .field("key", &self.key)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret_file", &self.client_secret_file)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    pub name: String,
    pub logo: PathBuf,
    pub logo_alt: String,
    pub colour_primary: String,
    pub colour_on_primary: String,
    pub colour_link: String,
    pub legal_notice_url: String,
    pub accessibility_url: String,
    pub footer_links: Vec<FooterLinkConfig>,
    pub templates_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FooterLinkConfig {
    pub label: String,
    pub url: String,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletConfig {
    pub blob_url: String,
    pub s3_access_key_id: String,
    #[serde(default)]
    pub s3_access_key_id_file: Option<PathBuf>,
    pub s3_secret_access_key: String,
    #[serde(default)]
    pub s3_secret_access_key_file: Option<PathBuf>,
    pub key_file: PathBuf,
    pub max_file_mb: u64,
    pub quota_mb: u64,
    pub allowed_types: Vec<String>,
    pub referent_access: String,
    pub expiry_notice_days: u32,
    pub request_share_days: u32,
    pub extra_kinds: Vec<String>,
    pub scanner: String,
    pub reap_after_minutes: i64,
}

impl std::fmt::Debug for WalletConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalletConfig")
            .field("blob_url", &self.blob_url)
            .field("s3_access_key_id", &self.s3_access_key_id)
            .field("s3_secret_access_key", &"<redacted>")
            .field("key_file", &self.key_file)
            .field("max_file_mb", &self.max_file_mb)
            .field("quota_mb", &self.quota_mb)
            .field("allowed_types", &self.allowed_types)
            .field("referent_access", &self.referent_access)
            .field("scanner", &self.scanner)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlansConfig {
    pub templates_dir: PathBuf,
    pub due_reminder_days: u32,
    pub appointment_reminder_days: u32,
    /// A LibreTranslate server's URL; empty: no machine translation.
    pub translator_url: String,
    #[serde(default)]
    pub translator_api_key: String,
    #[serde(default)]
    pub translator_api_key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataInclusionConfig {
    pub source: String,
    pub import_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueConfig {
    pub moderation: bool,
    pub unverified_after_days: i64,
    pub timezone: String,
    pub reference_dir: PathBuf,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notifications {
    pub url: String,
    #[serde(default)]
    pub url_file: Option<PathBuf>,
    pub from: String,
    /// Text messages for people without email: "log" (nothing sent) or "brevo".
    pub sms: String,
    /// The SMS provider's API key (a secret: never logged nor printed).
    #[serde(default)]
    pub sms_api_key: String,
    #[serde(default)]
    pub sms_api_key_file: Option<PathBuf>,
    /// The alphanumeric sender shown on phones (3 to 11 letters and digits).
    #[serde(default)]
    pub sms_sender: String,
    /// The provider's API address; empty: the provider's own.
    #[serde(default)]
    pub sms_base_url: String,
    /// How long one request to the provider may take.
    #[serde(default = "default_sms_timeout_seconds")]
    pub sms_timeout_seconds: u64,
}

fn default_sms_timeout_seconds() -> u64 {
    10
}

impl std::fmt::Debug for Notifications {
    // The SMTP URL may hold a password; the SMS API key is a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = self.url.split("://").next().unwrap_or("");
        let key = if self.sms_api_key.is_empty() {
            "<empty>"
        } else {
            "<redacted>"
        };
        f.debug_struct("Notifications")
            .field("url", &format!("{scheme}://[redacted]"))
            .field("from", &self.from)
            .field("sms", &self.sms)
            .field("sms_api_key", &key)
            .field("sms_sender", &self.sms_sender)
            .field("sms_base_url", &self.sms_base_url)
            .field("sms_timeout_seconds", &self.sms_timeout_seconds)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    pub listen: String,
    pub public_url: String,
    pub max_body_bytes: usize,
    pub max_upload_bytes: u64,
    pub trust_forwarded_for: bool,
    pub purge_interval_seconds: u64,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub url: String,
    #[serde(default)]
    pub url_file: Option<PathBuf>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("url", &peps_store::DatabaseUrl::new(self.url.clone()))
            .field("url_file", &self.url_file)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    pub activation_code_days: i64,
    pub activation_max_attempts: u32,
    pub login_failures_per_account: u32,
    pub login_failures_per_ip: u32,
    pub throttle_window_minutes: i64,
    pub login_slowdown_after: u32,
    pub login_slowdown_seconds: i64,
    pub second_factor_workers: peps_core::services::SecondFactorRule,
    pub second_factor_members: peps_core::services::SecondFactorRule,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Only `PEPS_<SECTION>__<KEY>` variables are configuration; others such as
/// `PEPS_DEMO_PASSWORD` or `PEPS_TEST_DATABASE_URL` are not, and must not trip the unknown-key
/// check.
fn config_env(vars: impl Iterator<Item = (String, String)>) -> config::Map<String, String> {
    vars.filter(|(k, _)| {
        k.strip_prefix("PEPS_")
            .is_some_and(|rest| rest.contains("__") && !rest.starts_with('_'))
    })
    .collect()
}

impl Config {
    /// Loads the configuration. `file` is `--config`; without it `./peps.toml` is read when
    /// present.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        Self::load_from(file, std::env::vars())
    }

    pub fn load_from(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_CONFIG,
            config::FileFormat::Toml,
        ));
        match file {
            Some(path) => {
                if !path.exists() {
                    bail!("configuration file {} does not exist", path.display());
                }
                builder = builder.add_source(
                    config::File::from(path.to_path_buf()).format(config::FileFormat::Toml),
                );
            }
            None if Path::new("peps.toml").exists() => {
                builder = builder.add_source(
                    config::File::with_name("peps.toml").format(config::FileFormat::Toml),
                );
            }
            None => {}
        }
        builder = builder.add_source(
            config::Environment::with_prefix("PEPS")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .source(Some(config_env(env))),
        );
        let mut config: Config = builder
            .build()
            .context("reading the configuration")?
            .try_deserialize()
            .context("invalid configuration")?;
        if let Some(path) = config
            .database
            .url_file
            .take()
            .filter(|p| !p.as_os_str().is_empty())
        {
            let url = std::fs::read_to_string(&path)
                .with_context(|| format!("reading database.url_file {}", path.display()))?;
            config.database.url = url.trim().to_owned();
        }
        if let Some(path) = config
            .notifications
            .url_file
            .take()
            .filter(|p| !p.as_os_str().is_empty())
        {
            let url = std::fs::read_to_string(&path)
                .with_context(|| format!("reading notifications.url_file {}", path.display()))?;
            config.notifications.url = url.trim().to_owned();
        }
        if let Some(path) = config
            .plans
            .translator_api_key_file
            .take()
            .filter(|p| !p.as_os_str().is_empty())
        {
            let key = std::fs::read_to_string(&path).with_context(|| {
                format!("reading plans.translator_api_key_file {}", path.display())
            })?;
            config.plans.translator_api_key = key.trim().to_owned();
        }
        for (name, file, value) in [
            (
                "notifications.sms_api_key_file",
                config.notifications.sms_api_key_file.take(),
                &mut config.notifications.sms_api_key,
            ),
            (
                "wallet.s3_access_key_id_file",
                config.wallet.s3_access_key_id_file.take(),
                &mut config.wallet.s3_access_key_id,
            ),
            (
                "wallet.s3_secret_access_key_file",
                config.wallet.s3_secret_access_key_file.take(),
                &mut config.wallet.s3_secret_access_key,
            ),
        ] {
            if let Some(path) = file.filter(|p| !p.as_os_str().is_empty()) {
                let secret = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {name} {}", path.display()))?;
                *value = secret.trim().to_owned();
            }
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let a = &self.auth;
        for (name, value) in [
            ("auth.session_idle_minutes", a.session_idle_minutes),
            ("auth.session_absolute_hours", a.session_absolute_hours),
            ("auth.activation_code_days", a.activation_code_days),
            ("auth.throttle_window_minutes", a.throttle_window_minutes),
            ("auth.login_slowdown_seconds", a.login_slowdown_seconds),
        ] {
            if value <= 0 {
                bail!("{name} must be positive, not {value}");
            }
        }
        for (name, value) in [
            ("auth.activation_max_attempts", a.activation_max_attempts),
            (
                "auth.login_failures_per_account",
                a.login_failures_per_account,
            ),
            ("auth.login_failures_per_ip", a.login_failures_per_ip),
            ("auth.login_slowdown_after", a.login_slowdown_after),
        ] {
            if value == 0 {
                bail!("{name} must be at least 1");
            }
        }
        if self.catalogue.unverified_after_days < 0 {
            bail!("catalogue.unverified_after_days must not be negative");
        }
        self.catalogue
            .timezone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| {
                anyhow::anyhow!(
                    "catalogue.timezone: unknown time zone {:?}",
                    self.catalogue.timezone
                )
            })?;
        self.wallet_settings()?;
        self.web_settings()?;
        self.outbox_settings()?;
        self.sms_sender()?;
        if self.server.max_body_bytes < 1024 {
            bail!("server.max_body_bytes must be at least 1024");
        }
        peps_store::DatabaseUrl::new(self.database.url.clone())
            .backend()
            .context("database.url")?;
        Ok(())
    }

    pub fn catalogue_settings(&self) -> peps_core::services::CatalogueSettings {
        peps_core::services::CatalogueSettings {
            moderation: self.catalogue.moderation,
            unverified_after: chrono::Duration::days(self.catalogue.unverified_after_days),
            timezone: self
                .catalogue
                .timezone
                .parse()
                .unwrap_or(chrono_tz::Europe::Paris),
        }
    }

    /// The reference lists: built-in, with the files of `catalogue.reference_dir` replacing
    /// theirs.
    pub fn reference_data(&self) -> anyhow::Result<peps_core::catalogue::ReferenceData> {
        let dir = &self.catalogue.reference_dir;
        let mut files = Vec::new();
        if !dir.as_os_str().is_empty() {
            for sub in ["", "data-inclusion-v1", "labels", "vocabulary"] {
                let folder = dir.join(sub);
                if !folder.is_dir() {
                    continue;
                }
                for entry in std::fs::read_dir(&folder)
                    .with_context(|| format!("reading {}", folder.display()))?
                {
                    let path = entry?.path();
                    let is_data = path.extension().is_some_and(|e| e == "yml" || e == "csv");
                    if !path.is_file() || !is_data {
                        continue;
                    }
                    let name = path
                        .strip_prefix(dir)
                        .unwrap_or(&path)
                        .to_string_lossy()
                        .replace('\\', "/");
                    let content = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    files.push((name, content));
                }
            }
        }
        peps_core::catalogue::ReferenceData::from_files(files)
            .context("catalogue.reference_dir: invalid reference lists")
    }

    /// The step templates: built-in, with `plans.templates_dir` adding and replacing templates
    /// and texts.
    pub fn step_templates(&self) -> anyhow::Result<peps_core::plans::TemplateLibrary> {
        let dir = &self.plans.templates_dir;
        if dir.as_os_str().is_empty() {
            return Ok(peps_core::plans::TemplateLibrary::builtin());
        }
        peps_core::plans::TemplateLibrary::with_overrides(dir)
            .with_context(|| format!("plans.templates_dir ({})", dir.display()))
    }

    /// Machine translation of what workers write: none, or a LibreTranslate server.
    pub fn translator(&self) -> anyhow::Result<std::sync::Arc<dyn peps_core::ports::Translator>> {
        let p = &self.plans;
        if p.translator_url.trim().is_empty() {
            return Ok(std::sync::Arc::new(peps_core::ports::NoTranslator));
        }
        let key = Some(p.translator_api_key.clone()).filter(|k| !k.is_empty());
        let translator = peps_store::translate::LibreTranslate::new(&p.translator_url, key)
            .map_err(|e| anyhow::anyhow!("plans.translator_url: {e}"))?;
        Ok(std::sync::Arc::new(translator))
    }

    /// The text-message settings of `notifications.sms*`.
    pub fn sms_settings(&self) -> peps_store::sms::SmsSettings {
        let n = &self.notifications;
        peps_store::sms::SmsSettings {
            provider: n.sms.clone(),
            api_key: n.sms_api_key.clone(),
            sender: n.sms_sender.clone(),
            base_url: n.sms_base_url.clone(),
            timeout: std::time::Duration::from_secs(n.sms_timeout_seconds),
        }
    }

    /// Text messages for people without email: the log, or the configured provider (checked,
    /// no network).
    pub fn sms_sender(&self) -> anyhow::Result<std::sync::Arc<dyn peps_core::ports::SmsSender>> {
        peps_store::sms::sms_sender(&self.sms_settings()).map_err(|e| anyhow::anyhow!("{e}"))
    }

    pub fn wallet_settings(&self) -> anyhow::Result<peps_core::services::WalletSettings> {
        use peps_core::wallet::ReferentAccess;
        use peps_core::wallet::sniff::MediaType;
        let w = &self.wallet;
        if w.max_file_mb == 0 || w.quota_mb == 0 {
            bail!("wallet.max_file_mb and wallet.quota_mb must be at least 1");
        }
        let mut allowed = std::collections::BTreeSet::new();
        for t in &w.allowed_types {
            allowed.insert(MediaType::parse(t).ok_or_else(|| {
                anyhow::anyhow!(
                    "wallet.allowed_types: unknown type {t:?} (pdf, jpeg, png, webp, heic)"
                )
            })?);
        }
        if allowed.is_empty() {
            bail!("wallet.allowed_types must name at least one type");
        }
        let referent_access = ReferentAccess::parse(&w.referent_access).ok_or_else(|| {
            anyhow::anyhow!(
                "wallet.referent_access: {:?} is not after_consent, always or never",
                w.referent_access
            )
        })?;
        let mut kinds = peps_core::wallet::document::builtin_kinds();
        for k in &w.extra_kinds {
            if k.is_empty() || !k.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                bail!("wallet.extra_kinds: {k:?} must be lower-case letters and _");
            }
            if !kinds.contains(k) {
                kinds.push(k.clone());
            }
        }
        if w.reap_after_minutes < 0 {
            bail!("wallet.reap_after_minutes must not be negative");
        }
        Ok(peps_core::services::WalletSettings {
            max_file_size: w.max_file_mb * 1024 * 1024,
            quota: w.quota_mb * 1024 * 1024,
            allowed_types: allowed,
            referent_access,
            expiry_notice_days: w.expiry_notice_days,
            kinds,
            request_share_days: w.request_share_days.max(1),
        })
    }

    /// The web pages' branding and templates; colours are checked for contrast here, the
    /// templates when the server loads them.
    pub fn web_settings(&self) -> anyhow::Result<peps_http::web::WebSettings> {
        use peps_http::web::{Branding, Colour, FooterLink};
        let w = &self.web;
        let colour = |name: &str, raw: &str| {
            Colour::parse(raw).map_err(|e| anyhow::anyhow!("web.{name}: {e}"))
        };
        let logo = if w.logo.as_os_str().is_empty() {
            None
        } else {
            let content_type = match w
                .logo
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("png") => "image/png",
                Some("svg") => "image/svg+xml",
                Some("webp") => "image/webp",
                Some("jpg" | "jpeg") => "image/jpeg",
                _ => bail!(
                    "web.logo: {} is not a .png, .svg, .webp or .jpg file",
                    w.logo.display()
                ),
            };
            let bytes = std::fs::read(&w.logo)
                .with_context(|| format!("reading web.logo {}", w.logo.display()))?;
            Some((bytes, content_type))
        };
        for link in &w.footer_links {
            if link.label.trim().is_empty() || link.url.trim().is_empty() {
                bail!("web.footer_links: each link needs a label and a url");
            }
        }
        let branding = Branding {
            name: w.name.clone(),
            logo,
            logo_alt: w.logo_alt.clone(),
            primary: colour("colour_primary", &w.colour_primary)?,
            on_primary: colour("colour_on_primary", &w.colour_on_primary)?,
            link: colour("colour_link", &w.colour_link)?,
            footer_links: w
                .footer_links
                .iter()
                .map(|l| FooterLink {
                    label: l.label.clone(),
                    url: l.url.clone(),
                })
                .collect(),
            legal_notice_url: w.legal_notice_url.clone(),
            accessibility_url: w.accessibility_url.clone(),
        };
        branding.check_contrast().map_err(|e| anyhow::anyhow!(e))?;
        Ok(peps_http::web::WebSettings {
            branding,
            templates_dir: Some(w.templates_dir.clone()).filter(|d| !d.as_os_str().is_empty()),
            public_url: self.server.public_url.clone(),
        })
    }

    pub fn plan_settings(&self) -> peps_core::services::PlanSettings {
        peps_core::services::PlanSettings {
            due_reminder_days: self.plans.due_reminder_days,
            appointment_reminder_days: self.plans.appointment_reminder_days,
            timezone: self.catalogue_settings().timezone,
        }
    }

    /// The outbox sender's settings; `check` has refused bad values.
    pub fn outbox_settings(&self) -> anyhow::Result<peps_core::services::OutboxSettings> {
        let o = &self.outbox;
        if o.max_attempts == 0 {
            bail!("outbox.max_attempts must be at least 1");
        }
        if o.interval_seconds == 0 {
            bail!("outbox.interval_seconds must be at least 1");
        }
        if o.claim_seconds < 1 {
            bail!("outbox.claim_seconds must be at least 1");
        }
        if o.keep_sent_days < 1 {
            bail!("outbox.keep_sent_days must be at least 1");
        }
        let quiet_hours = match o.quiet_hours.trim() {
            "" => None,
            raw => Some(
                peps_core::services::QuietHours::parse(raw)
                    .map_err(|e| anyhow::anyhow!("outbox.quiet_hours: {e}"))?,
            ),
        };
        Ok(peps_core::services::OutboxSettings {
            retry: peps_core::outbox::RetryPolicy {
                max_attempts: o.max_attempts,
                ..Default::default()
            },
            quiet_hours,
            timezone: self.catalogue_settings().timezone,
            sms_per_person_per_day: o.sms_per_person_per_day,
            keep_sent: chrono::Duration::days(o.keep_sent_days),
            claim_for: chrono::Duration::seconds(o.claim_seconds),
            ..Default::default()
        })
    }

    /// The configured identity providers, ready to sign in with. Reads each client secret
    /// from its file; any mistake is reported with the provider's key.
    pub fn identity_providers(&self) -> anyhow::Result<Vec<peps_core::services::ExternalProvider>> {
        use peps_http::oidc::{OpenIdClient, OpenIdSettings};
        let base = self.server.public_url.trim_end_matches('/');
        let mut providers = Vec::new();
        for p in &self.oidc.providers {
            let secret = std::fs::read_to_string(&p.client_secret_file).with_context(|| {
                format!(
                    "oidc provider {}: reading client_secret_file {}",
                    p.key,
                    p.client_secret_file.display()
                )
            })?;
            let (secret, redirect, logout) = (
                secret.trim().to_owned(),
                format!("{base}/oidc/{}/callback", p.key),
                format!("{base}/"),
            );
            let mut settings = match p.preset.as_str() {
                "franceconnect" => OpenIdSettings::franceconnect_v2(
                    &p.issuer,
                    &p.client_id,
                    &secret,
                    &redirect,
                    &logout,
                ),
                "proconnect" => {
                    OpenIdSettings::proconnect(&p.issuer, &p.client_id, &secret, &redirect, &logout)
                }
                other => bail!(
                    "oidc provider {}: preset must be franceconnect or proconnect, not {other:?}",
                    p.key
                ),
            };
            settings.key = p.key.clone();
            settings.roles = p.roles.clone();
            if let Some(acr) = &p.acr_values {
                settings.acr_values = acr.clone();
            }
            if let Some(scopes) = &p.scopes {
                settings.scopes = scopes.clone();
                if !settings.scopes.iter().any(|s| s == "openid") {
                    settings.scopes.insert(0, "openid".to_owned());
                }
            }
            let roles = p
                .roles
                .iter()
                .map(|r| {
                    r.parse::<peps_core::domain::Role>()
                        .map_err(|_| anyhow::anyhow!("oidc provider {}: unknown role {r:?}", p.key))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            if roles.is_empty() {
                bail!("oidc provider {}: roles must name at least one role", p.key);
            }
            let client = OpenIdClient::new(settings)
                .map_err(|e| anyhow::anyhow!("oidc provider {}: {e}", p.key))?;
            providers.push(peps_core::services::ExternalProvider {
                provider: std::sync::Arc::new(client),
                label: p.label.clone(),
                roles,
                strong_acr: p.strong_acr.clone(),
            });
        }
        Ok(providers)
    }

    pub fn identity_settings(&self) -> peps_core::services::IdentitySettings {
        use chrono::Duration;
        let a = &self.auth;
        peps_core::services::IdentitySettings {
            session_idle: Duration::minutes(a.session_idle_minutes),
            session_absolute: Duration::hours(a.session_absolute_hours),
            activation_ttl: Duration::days(a.activation_code_days),
            activation_max_attempts: a.activation_max_attempts,
            login_failures_per_account: a.login_failures_per_account,
            login_failures_per_ip: a.login_failures_per_ip,
            throttle_window: Duration::minutes(a.throttle_window_minutes),
            login_slowdown_after: a.login_slowdown_after,
            login_slowdown_interval: Duration::seconds(a.login_slowdown_seconds),
            second_factor: peps_core::services::SecondFactorRules {
                worker: a.second_factor_workers,
                member: a.second_factor_members,
            },
            totp_issuer: self.web.name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn defaults_load() {
        let config = Config::load_from(None, env(&[])).unwrap();
        assert_eq!(config.server.listen, "127.0.0.1:8080");
        assert_eq!(config.auth.login_failures_per_account, 5);
        assert_eq!(config.log.format, LogFormat::Text);
    }

    #[test]
    fn identity_providers_are_built_from_presets_and_secret_files() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("fc-secret");
        std::fs::write(&secret, "s3cret-from-file\n").unwrap();
        let write = |providers: &str| {
            let path = dir.path().join("peps.toml");
            std::fs::write(
                &path,
                format!("[server]\npublic_url = \"https://peps.example.fr\"\n[oidc]\n{providers}"),
            )
            .unwrap();
            Config::load_from(Some(&path), env(&[])).unwrap()
        };
        let provider = |preset: &str, roles: &str, secret_file: &std::path::Path| {
            format!(
                "[[oidc.providers]]\npreset = \"{preset}\"\nkey = \"fc\"\nlabel = \"FranceConnect\"\n\
                 issuer = \"https://fc.example.fr/api/v2\"\nclient_id = \"peps\"\n\
                 client_secret_file = \"{}\"\nroles = {roles}\nscopes = [\"email\"]\n",
                secret_file.display()
            )
        };

        let config = write(&provider("franceconnect", r#"["person"]"#, &secret));
        let providers = config.identity_providers().unwrap();
        assert_eq!(providers.len(), 1);
        assert_eq!(providers[0].provider.key(), "fc");
        assert_eq!(providers[0].roles, vec![peps_core::domain::Role::Person]);
        assert!(!format!("{:?}", config.oidc.providers).contains("s3cret"));

        for (providers, expected) in [
            (provider("keycloak", r#"["person"]"#, &secret), "preset"),
            (
                provider("franceconnect", r#"["king"]"#, &secret),
                "unknown role",
            ),
            (
                provider("franceconnect", "[]", &secret),
                "at least one role",
            ),
            (
                provider("franceconnect", r#"["person"]"#, &dir.path().join("none")),
                "client_secret_file",
            ),
        ] {
            let err = write(&providers).identity_providers().err().unwrap();
            assert!(format!("{err:#}").contains(expected), "{err:#}");
        }
    }

    #[test]
    fn file_then_env_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("peps.toml");
        std::fs::write(
            &path,
            "[server]\nlisten = \"0.0.0.0:9000\"\n[auth]\nsession_idle_minutes = 30\n",
        )
        .unwrap();
        let config = Config::load_from(
            Some(&path),
            env(&[
                ("PEPS_AUTH__SESSION_IDLE_MINUTES", "45"),
                ("PEPS_DEMO_PASSWORD", "not configuration"),
                ("PEPS_TEST_DATABASE_URL", "postgres://x"),
            ]),
        )
        .unwrap();
        assert_eq!(config.server.listen, "0.0.0.0:9000");
        assert_eq!(config.auth.session_idle_minutes, 45);
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("peps.toml");
        std::fs::write(&path, "[server]\nlisten_adress = \"0.0.0.0:9000\"\n").unwrap();
        let err = Config::load_from(Some(&path), env(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("listen_adress"), "{err:#}");

        let err = Config::load_from(None, env(&[("PEPS_SERVER__LISTN", "x")])).unwrap_err();
        assert!(format!("{err:#}").contains("listn"), "{err:#}");
    }

    #[test]
    fn secrets_from_files_and_never_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("db_url");
        std::fs::write(&secret, "postgres://peps:hunter2-secret@db/peps\n").unwrap();
        let config = Config::load_from(
            None,
            env(&[("PEPS_DATABASE__URL_FILE", secret.to_str().unwrap())]),
        )
        .unwrap();
        assert_eq!(
            config.database.url,
            "postgres://peps:hunter2-secret@db/peps"
        );
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn text_messages_through_brevo_need_a_key_and_a_sender() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("brevo-key");
        std::fs::write(&key_file, "xkeysib-from-a-file-0123\n").unwrap();
        let config = Config::load_from(
            None,
            env(&[
                ("PEPS_NOTIFICATIONS__SMS", "brevo"),
                ("PEPS_NOTIFICATIONS__SMS_SENDER", "CCAS89"),
                (
                    "PEPS_NOTIFICATIONS__SMS_API_KEY_FILE",
                    key_file.to_str().unwrap(),
                ),
            ]),
        )
        .unwrap();
        assert_eq!(config.notifications.sms_api_key, "xkeysib-from-a-file-0123");
        assert_eq!(config.sms_settings().timeout.as_secs(), 10);
        let sender = config.sms_sender().unwrap();
        drop(sender);
        let printed = format!("{config:?}");
        assert!(!printed.contains("xkeysib"), "{printed}");
        assert!(printed.contains("CCAS89"), "{printed}");

        let config = Config::load_from(
            None,
            env(&[
                ("PEPS_NOTIFICATIONS__SMS", "brevo"),
                ("PEPS_NOTIFICATIONS__SMS_SENDER", "PEPS"),
                ("PEPS_NOTIFICATIONS__SMS_API_KEY", "xkeysib-env"),
            ]),
        )
        .unwrap();
        assert!(!format!("{config:?}").contains("xkeysib-env"));

        for (pairs, expected) in [
            (
                vec![
                    ("PEPS_NOTIFICATIONS__SMS", "brevo"),
                    ("PEPS_NOTIFICATIONS__SMS_SENDER", "PEPS"),
                ],
                "notifications.sms_api_key is missing",
            ),
            (
                vec![
                    ("PEPS_NOTIFICATIONS__SMS", "brevo"),
                    ("PEPS_NOTIFICATIONS__SMS_API_KEY", "k"),
                    ("PEPS_NOTIFICATIONS__SMS_SENDER", "Mairie d'Auxerre"),
                ],
                "notifications.sms_sender",
            ),
            (
                vec![("PEPS_NOTIFICATIONS__SMS", "carrier-pigeon")],
                "notifications.sms must be",
            ),
            (
                vec![
                    ("PEPS_NOTIFICATIONS__SMS", "brevo"),
                    ("PEPS_NOTIFICATIONS__SMS_API_KEY", "k"),
                    ("PEPS_NOTIFICATIONS__SMS_TIMEOUT_SECONDS", "0"),
                ],
                "notifications.sms_timeout_seconds",
            ),
        ] {
            let err = Config::load_from(None, env(&pairs)).unwrap_err();
            let message = format!("{err:#}");
            assert!(message.contains(expected), "{pairs:?}: {message}");
            assert!(!message.contains("xkeysib"), "{message}");
        }
    }

    #[test]
    fn bad_values_are_refused() {
        for (key, value) in [
            ("PEPS_AUTH__SESSION_IDLE_MINUTES", "0"),
            ("PEPS_DATABASE__URL", "mysql://x/y"),
            ("PEPS_LOG__FORMAT", "xml"),
            ("PEPS_SERVER__MAX_BODY_BYTES", "lots"),
        ] {
            assert!(
                Config::load_from(None, env(&[(key, value)])).is_err(),
                "{key}={value}"
            );
        }
    }

    #[test]
    fn a_colour_without_enough_contrast_is_refused_at_start() {
        let err =
            Config::load_from(None, env(&[("PEPS_WEB__COLOUR_PRIMARY", "#ffdd00")])).unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("web.colour_on_primary"), "{message}");
        assert!(message.contains("4.5:1"), "{message}");
        let err = Config::load_from(None, env(&[("PEPS_WEB__COLOUR_LINK", "blue")])).unwrap_err();
        assert!(format!("{err:#}").contains("web.colour_link"), "{err:#}");
        let err = Config::load_from(None, env(&[("PEPS_WEB__COLOR_LINK", "#000000")])).unwrap_err();
        assert!(format!("{err:#}").contains("color_link"), "{err:#}");
    }

    #[test]
    fn footer_links_come_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("peps.toml");
        std::fs::write(
            &path,
            "[web]\nname = \"Yonne\"\nfooter_links = [{ label = \"Contact\", url = \"https://example.fr/contact\" }]\n",
        )
        .unwrap();
        let config = Config::load_from(Some(&path), env(&[])).unwrap();
        let web = config.web_settings().unwrap();
        assert_eq!(web.branding.name, "Yonne");
        assert_eq!(web.branding.footer_links[0].label, "Contact");
    }

    #[test]
    fn missing_file_is_an_error() {
        assert!(Config::load_from(Some(Path::new("/nonexistent/peps.toml")), env(&[])).is_err());
    }
}
