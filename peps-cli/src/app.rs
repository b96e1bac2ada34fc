//! The composition root: the only place that reads configuration and wires adapters.

use anyhow::Context;
use std::sync::Arc;

use crate::config::{Config, LogFormat};
use peps_core::auth::Argon2Hasher;
use peps_core::clock::SystemClock;
use peps_core::domain::{Account, Role};
use peps_core::services::exchange::Exchange;
use peps_core::services::{
    Catalogue, CataloguePorts, Exclusive, Identity, IdentityPorts, Notices, Outbox, OutboxPorts,
    PlanPorts, Plans, ProvisionAccount, Ran,
};
use peps_http::{AppState, DataInclusion, DataInclusionSettings, HttpSettings};
use peps_store::{Backend, DatabaseUrl, SeaOrmStore};

pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is harmless: keep the first.
    let _ = match config.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Connects to the configured database and brings its schema up to date.
pub async fn connect(config: &Config) -> anyhow::Result<Arc<SeaOrmStore>> {
    let url = DatabaseUrl::new(config.database.url.clone());
    if url.backend()? == Backend::Sqlite {
        ensure_sqlite_folder(url.expose())?;
    }
    let store = Arc::new(
        SeaOrmStore::connect_with(&url, None)
            .await
            .with_context(|| format!("opening the database {url}"))?,
    );
    store.migrate().await?;
    tracing::info!(database = %url, "database ready");
    Ok(store)
}

/// The data·inclusion import and export, without the rest of PEPS (for the command line:
/// no search index to load).
pub fn exchange(config: &Config, store: Arc<SeaOrmStore>) -> anyhow::Result<Exchange> {
    Ok(Exchange::new(
        store.clone(),
        store,
        Arc::new(SystemClock),
        Arc::new(config.reference_data()?),
    ))
}

/// The plan use cases with their channels and translator; in a server, steps' offers come from
/// the catalogue's index.
pub fn plans(
    config: &Config,
    store: Arc<SeaOrmStore>,
    catalogue: Option<Arc<Catalogue>>,
) -> anyhow::Result<Plans> {
    let notices = Notices::new(store.clone(), Arc::new(SystemClock));
    let ports = PlanPorts::from_store(store);
    Ok(Plans::new(
        match catalogue {
            Some(catalogue) => ports.with_catalogue(catalogue),
            None => ports,
        },
        Arc::new(config.step_templates()?),
        config.translator()?,
        notices,
        Arc::new(SystemClock),
        config.plan_settings(),
    ))
}

/// The wallet's key-encryption keys, read from `wallet.key_file`. With `create`, a missing
/// file is made with one fresh key, readable by its owner only: the caller has checked that
/// no file is encrypted yet (a missing key file with encrypted files is an operator's
/// mistake to report, not to paper over).
pub fn key_ring(
    config: &Config,
    create: bool,
) -> anyhow::Result<peps_core::wallet::keyring::KeyRing> {
    let path = &config.wallet.key_file;
    if create && !path.exists() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let id: peps_core::domain::KeyId =
            chrono::Utc::now().format("k%Y%m%d").to_string().parse()?;
        let line = peps_core::wallet::keyring::KeyRing::generate_line(&id);
        write_private(
            path,
            &format!("# PEPS wallet key-encryption keys; the last line is active.\n{line}\n"),
        )?;
        tracing::warn!(file = %path.display(), "created a wallet key file: back it up apart from the database");
    }
    peps_store::keys::load_key_file(path)
        .with_context(|| format!("wallet.key_file ({})", path.display()))
}

fn write_private(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// The wallet use cases: blob store, key vault and antivirus from the configuration.
pub async fn wallet(
    config: &Config,
    store: Arc<SeaOrmStore>,
    create_key: bool,
) -> anyhow::Result<peps_core::services::Wallet> {
    let w = &config.wallet;
    let blobs = peps_store::blobs::blob_store_from_url(
        &w.blob_url,
        peps_store::blobs::S3Credentials {
            access_key_id: w.s3_access_key_id.clone(),
            secret_access_key: w.s3_secret_access_key.clone(),
        },
    )
    .await
    .context("wallet.blob_url")?;
    let create_key = create_key
        || !config.wallet.key_file.exists()
            && {
                use peps_core::wallet::WalletRepository;
                let sealed = store.files_not_under_key(None, 1).await?;
                if !sealed.is_empty() {
                    anyhow::bail!(
                        "wallet.key_file {} is missing, but the wallet holds files encrypted under key {:?}: \
                 restore the key file from its backup (see docs/security.md)",
                        config.wallet.key_file.display(),
                        sealed[0].1.key_id
                    );
                }
                true
            };
    let keys = Arc::new(key_ring(config, create_key)?);
    let scanner: Option<Arc<dyn peps_core::wallet::ports::Scanner>> = if w.scanner.trim().is_empty()
    {
        None
    } else {
        Some(Arc::new(
            peps_store::clamd::ClamdScanner::new(&w.scanner).context("wallet.scanner")?,
        ))
    };
    tracing::info!(blobs = %blobs.describe(), antivirus = scanner.is_some(), "wallet ready");
    let notices = Notices::new(store.clone(), Arc::new(SystemClock));
    Ok(peps_core::services::Wallet::new(
        peps_core::services::WalletPorts::from_store(store, blobs, keys, scanner),
        notices,
        Arc::new(SystemClock),
        config.wallet_settings()?,
    ))
}

/// The outbox's sender, with the configured email and SMS adapters.
pub fn outbox(config: &Config, store: Arc<SeaOrmStore>) -> anyhow::Result<Outbox> {
    let email = peps_store::notify::notifier_from_url(
        &config.notifications.url,
        &config.notifications.from,
    )
    .context("notifications.url")?;
    let sms = config.sms_sender()?;
    Ok(Outbox::new(
        OutboxPorts::from_store(store),
        email,
        sms,
        Arc::new(SystemClock),
        config.outbox_settings()?,
    ))
}

/// Notes in the plans' histories the template corrections their steps now read (once per
/// step and template version), and refuses to start when steps follow a template the library
/// no longer has: their texts would read empty.
async fn follow_template_corrections(plans: &Plans) -> anyhow::Result<()> {
    let report = plans
        .follow_template_corrections()
        .await
        .map_err(|e| anyhow::anyhow!("following step template corrections: {e}"))?;
    if !report.missing.is_empty() {
        let missing: Vec<String> = report
            .missing
            .iter()
            .map(|(id, steps)| format!("{id} ({steps} steps)"))
            .collect();
        anyhow::bail!(
            "plans.templates_dir: steps follow templates that are no longer there: {}; put \
             them back (a template may be replaced, not removed)",
            missing.join(", ")
        );
    }
    if report.noted + report.unaffected > 0 {
        tracing::info!(
            noted = report.noted,
            unaffected = report.unaffected,
            "steps follow their corrected templates"
        );
    }
    Ok(())
}

/// This process's name in the leases table: host, process id and a random part, so two
/// processes on one host, or a process and its restarted self, never pass for each other.
pub fn holder_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned());
    let random: u32 = rand::random();
    format!("{host}:{}:{random:08x}", std::process::id())
}

/// Background work that runs on one instance at a time, through leases in the database.
pub fn exclusive(store: Arc<SeaOrmStore>) -> Exclusive {
    Exclusive::new(store, Arc::new(SystemClock), holder_id())
}

/// The lease name of the periodic purge of expired sessions and login-failure counters.
pub const PURGE_LEASE: &str = "serve.purge_expired";

/// The lease name of the removal of upload leftovers (`peps wallet reap`, and at start).
pub const REAP_LEASE: &str = "wallet reap";

/// How long a one-off job's lease lasts (cron commands, the reap at start): longer than any
/// run, so a second run started meanwhile on another node steps aside. A run that crashed
/// holds it until then.
pub const CRON_LEASE_MINUTES: i64 = 120;

pub struct App {
    pub state: AppState,
    /// The store behind the services (for leases).
    pub store: Arc<SeaOrmStore>,
}

impl App {
    /// Connects, migrates and wires the services.
    pub async fn start(config: &Config) -> anyhow::Result<Self> {
        let store = connect(config).await?;
        let outbox = Arc::new(outbox(config, store.clone())?);
        let identity = Identity::new(
            IdentityPorts::from_store(store.clone()),
            Arc::new(Argon2Hasher::default()),
            Arc::new(SystemClock),
            config.identity_settings(),
        )
        .with_providers(config.identity_providers()?)
        .with_notices(Notices::new(store.clone(), Arc::new(SystemClock)));
        let wallet = wallet(config, store.clone(), false).await?;
        // Under the same lease as `peps wallet reap`: instances starting together, or a reap
        // from cron, do not sweep the storage at the same time.
        let reaped = exclusive(store.clone())
            .run_exclusively(
                REAP_LEASE,
                chrono::Duration::minutes(CRON_LEASE_MINUTES),
                || wallet.reap(chrono::Duration::minutes(config.wallet.reap_after_minutes)),
            )
            .await;
        match reaped.and_then(|ran| match ran {
            Ran::Done(result) => result.map(Some),
            Ran::HeldElsewhere { .. } => Ok(None),
        }) {
            Ok(None) => tracing::info!("another instance is removing leftovers of uploads"),
            Ok(Some(r)) if r.partial + r.orphans > 0 => {
                tracing::info!(
                    partial = r.partial,
                    orphans = r.orphans,
                    "removed leftovers of interrupted uploads"
                );
            }
            Ok(Some(_)) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not look for leftovers of interrupted uploads")
            }
        }
        let catalogue = Catalogue::new(
            CataloguePorts {
                offers: store.clone(),
                organisations: store.clone(),
                accounts: store.clone(),
                outbox: store.clone(),
            },
            Arc::new(SystemClock),
            Arc::new(config.reference_data()?),
            config.catalogue_settings(),
        );
        // Load the search index now, so the first reader does not wait for it.
        catalogue
            .sync()
            .await
            .map_err(|e| anyhow::anyhow!("loading the catalogue: {e}"))?;
        tracing::info!(offers = catalogue.indexed_offers(), "catalogue index ready");
        let catalogue = Arc::new(catalogue);
        let plans = plans(config, store.clone(), Some(catalogue.clone()))?;
        follow_template_corrections(&plans).await?;
        let exchange = Arc::new(exchange(config, store.clone())?);
        let data_inclusion = Arc::new(DataInclusion::new(
            exchange,
            Some(catalogue.clone()),
            DataInclusionSettings {
                source: config.data_inclusion.source.clone(),
                public_url: config.server.public_url.clone(),
                import_dir: config.data_inclusion.import_dir.clone(),
            },
        ));
        let state = AppState {
            plans: Arc::new(plans),
            wallet: Arc::new(wallet),
            outbox,
            data_inclusion,
            identity: Arc::new(identity),
            catalogue,
            health: store.clone(),
            settings: HttpSettings {
                max_body_bytes: config.server.max_body_bytes,
                max_upload_bytes: config.server.max_upload_bytes,
                trust_forwarded_for: config.server.trust_forwarded_for,
                site: Arc::new(
                    peps_http::web::Site::load(config.web_settings()?)
                        .map_err(|e| anyhow::anyhow!(e))?,
                ),
            },
        };
        Ok(Self { state, store })
    }

    pub async fn create_admin(
        &self,
        email: &str,
        name: &str,
        password: &str,
    ) -> anyhow::Result<Account> {
        self.state
            .identity
            .provision_account(ProvisionAccount {
                role: Role::Admin,
                email: email.to_owned(),
                display_name: name.to_owned(),
                password: password.to_owned(),
                organisations: vec![],
            })
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "{} ({})",
                    peps_core::i18n::error_message(e.code(), "en"),
                    e.code()
                )
            })
    }

    /// Serves until SIGTERM or Ctrl-C, then finishes requests in flight.
    pub async fn serve(
        self,
        listener: std::net::TcpListener,
        config: &Config,
    ) -> anyhow::Result<()> {
        let addr = listener.local_addr()?;
        tracing::info!(%addr, public_url = %config.server.public_url, "PEPS listening");
        // Imports run inside the server that accepted them: those still unfinished were cut
        // short when it stopped. Marked here, once, so that reading a job never writes.
        match self
            .state
            .data_inclusion
            .imports
            .interrupt_unfinished()
            .await
        {
            Ok(0) => {}
            Ok(jobs) => tracing::warn!(
                jobs,
                "import jobs cut short by the last stop are marked interrupted"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not look for import jobs cut short by the last stop")
            }
        }
        let identity = self.state.identity.clone();
        let exclusive = Arc::new(exclusive(self.store.clone()));
        let period = config.server.purge_interval_seconds.max(1);
        let purge = {
            let exclusive = exclusive.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(period));
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let lease = chrono::Duration::seconds(i64::try_from(period).unwrap_or(i64::MAX));
                loop {
                    every.tick().await;
                    // Every instance ticks; the one holding the lease purges, the others skip.
                    let ran = exclusive
                        .run_once_per(PURGE_LEASE, lease, || identity.purge_expired())
                        .await;
                    match ran {
                        Ok(Ran::Done(Ok((sessions, counters)))) => tracing::info!(
                            sessions,
                            counters,
                            "purged expired sessions and counters"
                        ),
                        Ok(Ran::Done(Err(err))) => {
                            tracing::warn!(error = %err, "purge failed; will retry")
                        }
                        Ok(Ran::HeldElsewhere { holder, .. }) => tracing::debug!(
                            holder = holder.as_deref().unwrap_or("?"),
                            "another instance purges expired sessions"
                        ),
                        Err(err) => {
                            tracing::warn!(error = %err, "purge lease unavailable; will retry")
                        }
                    }
                }
            })
        };
        let outbox = self.state.outbox.clone();
        let interval = std::time::Duration::from_secs(config.outbox.interval_seconds);
        let sender = tokio::spawn(async move { send_outbox(outbox, interval).await });
        let served = peps_http::serve_tcp(listener, self.state, shutdown_signal()).await;
        purge.abort();
        sender.abort();
        // Let another instance take the purge over at once rather than after the lease ends.
        if let Err(err) = exclusive.release(PURGE_LEASE).await {
            tracing::warn!(error = %err, "could not give the purge lease up");
        }
        served?;
        tracing::info!("PEPS stopped");
        Ok(())
    }
}

/// The outbox's sender: what is due every `interval`, and sent messages past their keeping
/// time once an hour. Every server runs it; each message is claimed by one of them.
async fn send_outbox(outbox: Arc<Outbox>, interval: std::time::Duration) {
    let mut every = tokio::time::interval(interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_purge = std::time::Instant::now();
    loop {
        every.tick().await;
        match outbox.deliver_due(50).await {
            Ok(r) if r.sent + r.retrying + r.parked + r.postponed > 0 => tracing::info!(
                sent = r.sent,
                retrying = r.retrying,
                parked = r.parked,
                postponed = r.postponed,
                "outbox"
            ),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "outbox sender failed; will retry"),
        }
        if last_purge.elapsed() >= std::time::Duration::from_secs(3600) {
            last_purge = std::time::Instant::now();
            match outbox.purge_sent().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(messages = n, "purged sent messages"),
                Err(err) => tracing::warn!(error = %err, "outbox purge failed; will retry"),
            }
        }
    }
}

pub fn bind(listen: &str) -> anyhow::Result<std::net::TcpListener> {
    std::net::TcpListener::bind(listen).with_context(|| format!("listening on {listen}"))
}

fn ensure_sqlite_folder(url: &str) -> anyhow::Result<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the folder {}", parent.display()))?;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested");
}
