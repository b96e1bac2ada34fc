//! `peps`: run the PEPS server and administer it.

mod app;
mod backup;
mod config;
mod demo;
mod exchange;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::BufRead;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "peps", version, about = "PEPS — Paris Espace Partagé Solidaire", long_about = None)]
struct Cli {
    /// Configuration file (TOML). Default: ./peps.toml when present, else built-in defaults.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, then serve the API until SIGTERM or Ctrl-C.
    Serve,
    /// Try PEPS: an embedded database under ./peps-data, demo accounts, served on loopback.
    Demo,
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Administration tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Catalogue tasks.
    Catalogue {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// Step plans tasks.
    Plans {
        #[command(subcommand)]
        command: PlansCommand,
    },
    /// Document wallet tasks: keys, leftovers, expiry reminders.
    Wallet {
        #[command(subcommand)]
        command: WalletCommand,
    },
    /// Bring data into the catalogue.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Write the published catalogue out.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// The outbox of emails and text messages: what waits, what failed, send again.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Back up the embedded setup (SQLite database and blob folder) while PEPS runs, into a
    /// new folder `DIR/peps-backup-<UTC time>`. The wallet key file is not included: back it
    /// up apart. PostgreSQL and S3: see docs/operating.md.
    Backup {
        /// The folder to write the backup into (created if needed).
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// Restore a backup made by `peps backup` into the configured database file and blob
    /// folder, which must be empty; checks every file's checksum first, then migrates.
    Restore {
        /// The backup folder (`peps-backup-<UTC time>`).
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import a data·inclusion v1 extract (JSON array, JSON Lines or CSV, detected). Running
    /// it again changes nothing; an interrupted run can simply be run again.
    DataInclusion {
        /// The structures file.
        #[arg(long, value_name = "FILE")]
        structures: Option<PathBuf>,
        /// The services file.
        #[arg(long, value_name = "FILE")]
        services: Option<PathBuf>,
        /// Keep only what is in, or open to the people of, this département (89, 2A, 971).
        #[arg(long)]
        departement: Option<String>,
        /// Validate and count, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Theme of services whose topics no theme covers (default: the first theme).
        #[arg(long)]
        default_theme: Option<String>,
        /// Where to write the report of rejected records and dropped fields (JSON Lines).
        #[arg(
            long,
            value_name = "FILE",
            default_value = "data-inclusion-report.jsonl"
        )]
        report: PathBuf,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Write the published catalogue as data·inclusion v1 structures and services.
    DataInclusion {
        /// json, jsonl or csv.
        #[arg(long, default_value = "json")]
        format: String,
        /// The folder to write structures.<format> and services.<format> into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum CatalogueCommand {
    /// Remind offerers of their offers past their verification date (through
    /// `notifications.url`). Safe to run from cron as often as wanted: each offer is reminded
    /// once per verification date.
    Remind,
}

#[derive(Subcommand)]
enum PlansCommand {
    /// Remind persons of steps due within `plans.due_reminder_days` (by email, else by text
    /// message, in their language). Safe to run from cron as often as wanted: each due date
    /// is reminded once.
    Remind,
}

#[derive(Subcommand)]
enum WalletCommand {
    /// Print a new key-encryption key line (`<id>:<base64>`) to append to `wallet.key_file`;
    /// it becomes the active key at the next start. Then run `rotate-key`.
    NewKey {
        /// The key's id, e.g. the year: 2027 (1 to 64 letters, digits, `-`, `_` or `.`).
        #[arg(long)]
        id: peps_core::domain::KeyId,
    },
    /// Re-wrap every file's data key under the active (last) key of `wallet.key_file`. Content
    /// is not re-encrypted. Safe to interrupt and run again; afterwards older keys can be
    /// removed from the file.
    RotateKey,
    /// Remove partial uploads and files no document points to, older than
    /// `wallet.reap_after_minutes` (also done at every server start).
    Reap,
    /// Tell people whose documents stop being valid within `wallet.expiry_notice_days` (by
    /// email, else text message, in their language). Safe to run from cron as often as
    /// wanted: each document's date is reminded once.
    Remind,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator account. The password is read from the first line of standard
    /// input (or PEPS_ADMIN_PASSWORD), so it never appears in the shell history.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrateur PEPS")]
        name: String,
    },
    /// Remove the second factor of an account whose holder lost their phone and recovery
    /// codes (for the last admin: no one else can). Every session of that account ends; a
    /// role that requires a second factor sets up a new one at the next sign-in.
    ResetSecondFactor {
        #[arg(long)]
        login: String,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// How many messages wait, failed (parked) and were sent.
    Status,
    /// List the messages that could not be sent (never their text; the address in part).
    Parked,
    /// Send a parked message again (its id from `parked`), with a fresh count of tries.
    Retry { id: uuid::Uuid },
    /// Give up a parked message for good; the person is not told by it.
    Discard { id: uuid::Uuid },
    /// Send what is due now, once (`peps serve` does it every `outbox.interval_seconds`).
    Deliver,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the documented default configuration, to start a peps.toml from.
    Default,
    /// Load the configuration (defaults, file, environment) and report errors.
    Check,
}

/// Runs a cron command's work if no other instance is running the same command, taking the
/// lease `command` in the database; otherwise says so and succeeds, so cron can start it on
/// every node.
async fn exclusively<F, Fut>(
    store: std::sync::Arc<peps_store::SeaOrmStore>,
    command: &str,
    job: F,
) -> anyhow::Result<()>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    use peps_core::services::Ran;
    let exclusive = app::exclusive(store);
    let ran = exclusive
        .run_exclusively(
            command,
            chrono::Duration::minutes(app::CRON_LEASE_MINUTES),
            job,
        )
        .await
        .map_err(|e| anyhow::anyhow!("peps {command}: taking its lease: {e} ({})", e.code()))?;
    match ran {
        Ran::Done(result) => result,
        Ran::HeldElsewhere { holder, until } => {
            println!(
                "peps {command} is already running on another instance ({}, lease until {}); \
                 nothing done here.",
                holder.as_deref().unwrap_or("unknown"),
                until.map_or_else(|| "now".to_owned(), |u| u.to_rfc3339()),
            );
            Ok(())
        }
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Config {
        command: ConfigCommand::Default,
    } = cli.command
    {
        print!("{}", config::DEFAULT_CONFIG);
        return Ok(());
    }
    let config = config::Config::load(cli.config.as_deref())?;
    app::init_logging(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run(cli.command, config))
}

async fn run(command: Command, config: config::Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let app = app::App::start(&config).await?;
            let listener = app::bind(&config.server.listen)?;
            app.serve(listener, &config).await
        }
        Command::Demo => demo::run(config).await,
        Command::Migrate => {
            app::App::start(&config).await?;
            println!("Database is up to date.");
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::CreateAdmin { email, name },
        } => {
            let password = match std::env::var("PEPS_ADMIN_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => {
                    eprintln!("Password for {email} (one line on standard input):");
                    let mut line = String::new();
                    std::io::stdin()
                        .lock()
                        .read_line(&mut line)
                        .context("reading the password")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let app = app::App::start(&config).await?;
            let account = app.create_admin(&email, &name, &password).await?;
            println!(
                "Administrator {} created (id {}).",
                account.login.as_str(),
                account.id
            );
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::ResetSecondFactor { login },
        } => {
            let app = app::App::start(&config).await?;
            let removed = app
                .state
                .identity
                .operator_remove_second_factor(&login)
                .await
                .map_err(|e| anyhow::anyhow!("{login}: {}", e.code()))?;
            if removed {
                println!("Second factor of {login} removed; its sessions ended.");
            } else {
                println!("{login} had no second factor; its sessions ended.");
            }
            Ok(())
        }
        Command::Catalogue {
            command: CatalogueCommand::Remind,
        } => {
            let app = app::App::start(&config).await?;
            exclusively(app.store.clone(), "catalogue remind", || async {
                let report = app
                    .state
                    .catalogue
                    .remind()
                    .await
                    .map_err(|e| anyhow::anyhow!("reminders: {e} ({})", e.code()))?;
                println!(
                    "{} offers past their verification date: {} reminded now, {} already \
                     reminded, {} without any member to remind; {} messages queued in the outbox.",
                    report.offers_due,
                    report.reminded,
                    report.already_reminded,
                    report.without_recipient,
                    report.messages_queued,
                );
                Ok(())
            })
            .await
        }
        Command::Plans {
            command: PlansCommand::Remind,
        } => {
            let store = app::connect(&config).await?;
            let plans = app::plans(&config, store.clone(), None)?;
            exclusively(store, "plans remind", || async {
                let report = plans
                    .remind_due()
                    .await
                    .map_err(|e| anyhow::anyhow!("reminders: {e} ({})", e.code()))?;
                println!(
                    "{} persons reminded of a step due within {} days; {} steps already \
                     reminded; {} appointments reminded, {} already; {} persons without email \
                     or phone (their referent tells them). Reminders are queued in the outbox: \
                     `peps serve` sends them (or `peps outbox deliver`).",
                    report.reminded,
                    config.plans.due_reminder_days,
                    report.already_reminded,
                    report.appointments,
                    report.appointments_already_reminded,
                    report.no_channel,
                );
                Ok(())
            })
            .await
        }
        Command::Wallet {
            command: WalletCommand::NewKey { id },
        } => {
            println!(
                "{}",
                peps_core::wallet::keyring::KeyRing::generate_line(&id)
            );
            Ok(())
        }
        Command::Wallet { command } => {
            let store = app::connect(&config).await?;
            let wallet = app::wallet(&config, store.clone(), false).await?;
            let fail = |e: peps_core::CoreError| anyhow::anyhow!("{e} ({})", e.code());
            match command {
                WalletCommand::RotateKey => {
                    let r = wallet.rotate_keys().await.map_err(fail)?;
                    println!(
                        "{} data keys re-wrapped; {} changed meanwhile (run again).",
                        r.rewrapped, r.skipped
                    );
                }
                WalletCommand::Reap => {
                    exclusively(store, app::REAP_LEASE, || async {
                        let r = wallet
                            .reap(chrono::Duration::minutes(config.wallet.reap_after_minutes))
                            .await
                            .map_err(fail)?;
                        println!(
                            "{} partial uploads and {} unreferenced files removed.",
                            r.partial, r.orphans
                        );
                        Ok(())
                    })
                    .await?;
                }
                WalletCommand::Remind => {
                    exclusively(store, "wallet remind", || async {
                        let r = wallet.remind_expiring().await.map_err(fail)?;
                        println!(
                            "{} persons reminded of documents ending within {} days; {} \
                             documents already reminded; {} persons without email or phone. \
                             Reminders are queued in the outbox.",
                            r.reminded,
                            config.wallet.expiry_notice_days,
                            r.already_reminded,
                            r.no_channel,
                        );
                        Ok(())
                    })
                    .await?;
                }
                WalletCommand::NewKey { .. } => unreachable!("handled above"),
            }
            Ok(())
        }
        Command::Import {
            command:
                ImportCommand::DataInclusion {
                    structures,
                    services,
                    departement,
                    dry_run,
                    default_theme,
                    report,
                },
        } => {
            exchange::import(
                &config,
                exchange::ImportArgs {
                    structures,
                    services,
                    departement,
                    dry_run,
                    default_theme,
                    report,
                },
            )
            .await
        }
        Command::Export {
            command: ExportCommand::DataInclusion { format, out },
        } => exchange::export(&config, &format, &out).await,
        Command::Outbox { command } => outbox_command(&config, command).await,
        Command::Backup { to } => backup::backup(&config, &to).await,
        Command::Restore { from } => backup::restore(&config, &from).await,
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            // Reads the providers' secret files and checks their settings (no network).
            let providers = config.identity_providers()?;
            println!("Configuration is valid.");
            for p in &providers {
                println!(
                    "Identity provider {} ({}) ready.",
                    p.provider.key(),
                    p.label
                );
            }
            println!("{config:#?}");
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Default,
        } => unreachable!("handled before loading the configuration"),
    }
}

async fn outbox_command(config: &config::Config, command: OutboxCommand) -> anyhow::Result<()> {
    let store = app::connect(config).await?;
    let outbox = app::outbox(config, store)?;
    let fail = |e: peps_core::CoreError| {
        anyhow::anyhow!(
            "{} ({})",
            peps_core::i18n::error_message(e.code(), "en"),
            e.code()
        )
    };
    match command {
        OutboxCommand::Status => {
            let c = outbox.operator_counts().await.map_err(fail)?;
            println!(
                "{} waiting to be sent, {} parked (failed), {} sent and kept.",
                c.pending, c.parked, c.sent
            );
        }
        OutboxCommand::Parked => {
            let parked = outbox.operator_parked().await.map_err(fail)?;
            if parked.is_empty() {
                println!("No parked message.");
            }
            for m in parked {
                println!(
                    "{}  {}  {:<5} {:<28} {:<8} tries={} created={} error={}",
                    m.id,
                    m.to_hint,
                    m.channel.as_str(),
                    m.purpose,
                    m.language.code(),
                    m.attempts,
                    m.created_at.format("%Y-%m-%d %H:%M UTC"),
                    m.last_error.as_deref().unwrap_or("-"),
                );
            }
        }
        OutboxCommand::Retry { id } => {
            outbox
                .operator_retry(peps_core::domain::OutboxId(id))
                .await
                .map_err(fail)?;
            println!("Message {id} will be sent again by the next pass of the sender.");
        }
        OutboxCommand::Discard { id } => {
            outbox
                .operator_discard(peps_core::domain::OutboxId(id))
                .await
                .map_err(fail)?;
            println!("Message {id} given up.");
        }
        OutboxCommand::Deliver => {
            let r = outbox.deliver_due(u32::MAX).await.map_err(fail)?;
            println!(
                "{} sent, {} to retry later, {} parked, {} held back (quiet hours, daily cap).",
                r.sent, r.retrying, r.parked, r.postponed
            );
        }
    }
    Ok(())
}
