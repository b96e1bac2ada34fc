//! data·inclusion import and export at the size of a national extract: 20,000 structures and
//! 100,000 services (override with PEPS_BENCH_STRUCTURES / PEPS_BENCH_SERVICES).
//!
//!     cargo bench -p peps-store --bench data_inclusion
//!
//! 1. Generates a synthetic v1 extract into a temporary folder (PEPS_BENCH_FORMAT = json,
//!    jsonl or csv; jsonl by default).
//! 2. Imports it into a fresh SQLite file, or into a schema of its own on the server named by
//!    PEPS_BENCH_DATABASE_URL (`postgres://…`; the schema is dropped at the end).
//! 3. Imports it again: every record must come out `unchanged`, or the bench exits non-zero.
//! 4. Exports the catalogue (PEPS_BENCH_EXPORT_FORMAT, json by default).
//!
//! The import, the rerun and the export each run in a child process (this binary again, with
//! PEPS_BENCH_ROLE set) so that their peak memory (VmHWM) is theirs alone, not the generator's.
//! PEPS_BENCH_DIR keeps the files and the SQLite database in that folder (to profile a child:
//! PEPS_BENCH_ROLE=export PEPS_BENCH_CHILD_URL=sqlite://DIR/peps.db PEPS_BENCH_CHILD_DIR=DIR).
//! Figures are printed, never asserted; the last block is a Markdown table for
//! docs/performance.md.

use chrono::Utc;
use serde_json::{Value, json};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use peps_core::catalogue::data_inclusion::read::Format;
use peps_core::catalogue::data_inclusion::write::{
    RecordWriter, SERVICE_COLUMNS, STRUCTURE_COLUMNS,
};
use peps_core::catalogue::{ReferenceData, synthetic};
use peps_core::clock::SystemClock;
use peps_core::services::exchange::{
    Exchange, ExportPages, ExportSettings, ImportFiles, ImportObserver, ImportOptions, Phase,
    Progress, ReportLine,
};
use peps_store::{Backend, DatabaseUrl, SeaOrmStore};

/// Children hand their figures back on one stdout line starting with this.
const RESULT_PREFIX: &str = "PEPS_BENCH_RESULT ";
const ROLE_VAR: &str = "PEPS_BENCH_ROLE";
const CHILD_URL_VAR: &str = "PEPS_BENCH_CHILD_URL";
const CHILD_SCHEMA_VAR: &str = "PEPS_BENCH_CHILD_SCHEMA";
const CHILD_STRUCTURES_VAR: &str = "PEPS_BENCH_CHILD_STRUCTURES";
const CHILD_SERVICES_VAR: &str = "PEPS_BENCH_CHILD_SERVICES";
const CHILD_DIR_VAR: &str = "PEPS_BENCH_CHILD_DIR";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn env_format(name: &str, default: Format) -> Format {
    match std::env::var(name).ok().as_deref() {
        None | Some("") => default,
        Some("json") => Format::JsonArray,
        Some("jsonl") => Format::JsonLines,
        Some("csv") => Format::Csv,
        Some(other) => {
            eprintln!("{name}={other:?}: expected json, jsonl or csv");
            std::process::exit(2);
        }
    }
}

/// A field of /proc/self/status, in kB (VmHWM: peak resident set; VmRSS: current).
fn proc_status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mb_kb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn mb_bytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn child_store() -> SeaOrmStore {
    let url = DatabaseUrl::new(std::env::var(CHILD_URL_VAR).expect("database URL from parent"));
    let schema = std::env::var(CHILD_SCHEMA_VAR).ok();
    SeaOrmStore::connect_with(&url, schema.as_deref())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

// ----------------------------------------------------------------------------------------------
// Children
// ----------------------------------------------------------------------------------------------

/// Splits the import's time and memory by phase, from the progress it reports after each chunk.
struct Timing {
    started: Instant,
    /// When the last structures chunk was done.
    structures_done: Option<Duration>,
    max_rss_structures_kb: u64,
    max_rss_services_kb: u64,
    reports: u64,
}

impl ImportObserver for Timing {
    fn progress(&mut self, progress: &Progress) {
        let rss = proc_status_kb("VmRSS");
        match progress.phase {
            Phase::Structures | Phase::Scanning => {
                self.structures_done = Some(self.started.elapsed());
                self.max_rss_structures_kb = self.max_rss_structures_kb.max(rss);
            }
            Phase::Services => self.max_rss_services_kb = self.max_rss_services_kb.max(rss),
        }
    }

    fn report(&mut self, _: &ReportLine) -> std::io::Result<()> {
        self.reports += 1;
        Ok(())
    }
}

fn child_import() {
    let files = ImportFiles {
        structures: std::env::var_os(CHILD_STRUCTURES_VAR).map(PathBuf::from),
        services: std::env::var_os(CHILD_SERVICES_VAR).map(PathBuf::from),
    };
    let result = runtime().block_on(async {
        let store = Arc::new(child_store().await);
        let exchange = Exchange::new(
            store.clone(),
            store.clone(),
            Arc::new(SystemClock),
            Arc::new(ReferenceData::builtin()),
        );
        let started = Instant::now();
        let mut timing = Timing {
            started,
            structures_done: None,
            max_rss_structures_kb: 0,
            max_rss_services_kb: 0,
            reports: 0,
        };
        let summary = exchange
            .import(&files, &ImportOptions::default(), &mut timing)
            .await
            .unwrap_or_else(|e| panic!("import failed: {e}"));
        let seconds = started.elapsed().as_secs_f64();
        json!({
            "seconds": seconds,
            "structures_seconds": timing.structures_done.map(|d| d.as_secs_f64()),
            "rss_structures_kb": timing.max_rss_structures_kb,
            "rss_services_kb": timing.max_rss_services_kb,
            "report_lines": timing.reports,
            "summary": summary,
        })
    });
    let mut result = result;
    result["vm_hwm_kb"] = json!(proc_status_kb("VmHWM"));
    println!("{RESULT_PREFIX}{result}");
}

fn child_export() {
    let format = env_format("PEPS_BENCH_EXPORT_FORMAT", Format::JsonArray);
    let dir = PathBuf::from(std::env::var_os(CHILD_DIR_VAR).expect("folder from parent"));
    let structures_path = dir.join(format!("export-structures.{}", format.as_str()));
    let services_path = dir.join(format!("export-services.{}", format.as_str()));
    let mut result = runtime().block_on(async {
        let store = Arc::new(child_store().await);
        let mut pages = ExportPages::new(
            store.clone(),
            ExportSettings {
                source: "peps-89".into(),
                public_url: "https://peps.example.org".into(),
            },
        );
        let started = Instant::now();
        let out = BufWriter::new(File::create(&structures_path).unwrap());
        let mut writer = RecordWriter::new(out, format, STRUCTURE_COLUMNS).unwrap();
        let mut structures = 0u64;
        while let Some(page) = pages.next_structures().await.unwrap() {
            for record in &page {
                writer.write(record).unwrap();
            }
            structures += page.len() as u64;
        }
        writer.finish().unwrap();
        let structures_seconds = started.elapsed().as_secs_f64();
        let out = BufWriter::new(File::create(&services_path).unwrap());
        let mut writer = RecordWriter::new(out, format, SERVICE_COLUMNS).unwrap();
        let mut services = 0u64;
        while let Some(page) = pages.next_services().await.unwrap() {
            for record in &page {
                writer.write(record).unwrap();
            }
            services += page.len() as u64;
        }
        writer.finish().unwrap();
        json!({
            "seconds": started.elapsed().as_secs_f64(),
            "structures_seconds": structures_seconds,
            "structures": structures,
            "services": services,
        })
    });
    result["structures_bytes"] = json!(file_size(&structures_path));
    result["services_bytes"] = json!(file_size(&services_path));
    result["format"] = json!(format.as_str());
    result["vm_hwm_kb"] = json!(proc_status_kb("VmHWM"));
    println!("{RESULT_PREFIX}{result}");
}

// ----------------------------------------------------------------------------------------------
// Parent
// ----------------------------------------------------------------------------------------------

/// Where the children find the database.
struct Target {
    url: DatabaseUrl,
    schema: Option<String>,
    /// The SQLite file, for its size.
    sqlite_file: Option<PathBuf>,
}

/// A fresh, migrated, empty catalogue: a SQLite file in `dir`, or (as the `testing` module does
/// for tests) a PostgreSQL schema of its own on the PEPS_BENCH_DATABASE_URL server.
async fn fresh_target(dir: &Path) -> Target {
    let Some(url) = std::env::var("PEPS_BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        let file = dir.join("peps.db");
        let url = DatabaseUrl::new(format!("sqlite://{}", file.display()));
        let store = SeaOrmStore::connect_with(&url, None).await.unwrap();
        store.migrate().await.unwrap();
        return Target {
            url,
            schema: None,
            sqlite_file: Some(file),
        };
    };
    let url = DatabaseUrl::new(url);
    match url.backend().unwrap_or_else(|e| panic!("{e}")) {
        Backend::Postgres => {
            let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
            let admin = SeaOrmStore::connect_with(&url, None)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
            use sea_orm::ConnectionTrait;
            admin
                .connection()
                .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
                .await
                .expect("create bench schema");
            let store = SeaOrmStore::connect_with(&url, Some(&schema))
                .await
                .unwrap();
            store.migrate().await.unwrap();
            Target {
                url,
                schema: Some(schema),
                sqlite_file: None,
            }
        }
        Backend::Sqlite => {
            println!("warning: {url} is used as is; the bench expects it empty");
            let store = SeaOrmStore::connect_with(&url, None).await.unwrap();
            store.migrate().await.unwrap();
            Target {
                url,
                schema: None,
                sqlite_file: None,
            }
        }
    }
}

async fn drop_target(target: &Target) {
    let Some(schema) = &target.schema else { return };
    if std::env::var_os("PEPS_BENCH_KEEP").is_some() {
        println!("schema {schema} kept (PEPS_BENCH_KEEP)");
        return;
    }
    use sea_orm::ConnectionTrait;
    let admin = SeaOrmStore::connect_with(&target.url, None).await.unwrap();
    admin
        .connection()
        .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .expect("drop bench schema");
}

/// Runs this binary again as `role`, and returns the figures it hands back and the wall time
/// of the whole child (process start and connection included).
fn run_child(role: &str, target: &Target, envs: &[(&str, &Path)]) -> (Value, f64) {
    let exe = std::env::current_exe().expect("own executable");
    let mut command = Command::new(exe);
    command
        .env(ROLE_VAR, role)
        .env(CHILD_URL_VAR, target.url.expose())
        .env_remove(CHILD_SCHEMA_VAR);
    if let Some(schema) = &target.schema {
        command.env(CHILD_SCHEMA_VAR, schema);
    }
    for (name, value) in envs {
        command.env(name, value);
    }
    let started = Instant::now();
    let output = command.output().expect("run child");
    let wall = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut result = None;
    for line in stdout.lines() {
        match line.strip_prefix(RESULT_PREFIX) {
            Some(json) => result = Some(serde_json::from_str(json).expect("child result")),
            None => println!("  [{role}] {line}"),
        }
    }
    if !output.status.success() || result.is_none() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        eprintln!("the {role} child failed: {}", output.status);
        std::process::exit(1);
    }
    (result.unwrap(), wall)
}

fn count(summary: &Value, kind: &str, field: &str) -> u64 {
    summary["summary"][kind][field].as_u64().unwrap_or(0)
}

fn print_summary(result: &Value) {
    for kind in ["structures", "services"] {
        let k = &result["summary"][kind];
        println!(
            "  {kind:<10} read {:>7}  created {:>7}  updated {:>5}  unchanged {:>7}  verified {:>5}  rejected {:>5}  with_dropped_fields {:>5}  conflicts {}",
            k["read"],
            k["created"],
            k["updated"],
            k["unchanged"],
            k["verified"],
            k["rejected"],
            k["with_dropped_fields"],
            k["conflicts"],
        );
    }
    let errors = &result["summary"]["file_errors"];
    if errors.as_array().is_some_and(|e| !e.is_empty()) {
        println!("  file errors: {errors}");
    }
}

fn print_import(label: &str, result: &Value, wall: f64, records: usize) {
    let seconds = result["seconds"].as_f64().unwrap_or(0.0);
    let structures_seconds = result["structures_seconds"].as_f64().unwrap_or(0.0);
    println!(
        "{label}: {seconds:.1} s ({:.0} records/s; child wall time {wall:.1} s); structures {structures_seconds:.1} s, services {:.1} s",
        records as f64 / seconds,
        seconds - structures_seconds,
    );
    println!(
        "  peak RSS (VmHWM) {:.1} MB; RSS at chunk ends: structures ≤ {:.1} MB, services ≤ {:.1} MB; {} report lines",
        mb_kb(result["vm_hwm_kb"].as_u64().unwrap_or(0)),
        mb_kb(result["rss_structures_kb"].as_u64().unwrap_or(0)),
        mb_kb(result["rss_services_kb"].as_u64().unwrap_or(0)),
        result["report_lines"],
    );
    print_summary(result);
}

fn generate(dir: &Path, format: Format, structures: usize, services: usize) -> (PathBuf, PathBuf) {
    let structures_path = dir.join(format!("structures.{}", format.as_str()));
    let services_path = dir.join(format!("services.{}", format.as_str()));
    let reference = ReferenceData::builtin();
    let today = Utc::now().date_naive();
    let started = Instant::now();
    let out = BufWriter::with_capacity(1 << 16, File::create(&structures_path).unwrap());
    let mut structure_writer = RecordWriter::new(out, format, STRUCTURE_COLUMNS).unwrap();
    let out = BufWriter::with_capacity(1 << 16, File::create(&services_path).unwrap());
    let mut service_writer = RecordWriter::new(out, format, SERVICE_COLUMNS).unwrap();
    let (mut written_structures, mut written_services) = (0usize, 0usize);
    synthetic::data_inclusion_extract(
        2026,
        structures,
        services,
        &reference,
        today,
        |record| {
            structure_writer.write(&record).unwrap();
            written_structures += 1;
        },
        |record| {
            service_writer.write(&record).unwrap();
            written_services += 1;
        },
    );
    structure_writer.finish().unwrap().flush().unwrap();
    service_writer.finish().unwrap().flush().unwrap();
    println!(
        "generated {written_structures} structures and {written_services} services ({}) in {:.1} s: {} {:.1} MB, {} {:.1} MB; generator peak RSS {:.1} MB",
        format.as_str(),
        started.elapsed().as_secs_f64(),
        structures_path.file_name().unwrap().to_string_lossy(),
        mb_bytes(file_size(&structures_path)),
        services_path.file_name().unwrap().to_string_lossy(),
        mb_bytes(file_size(&services_path)),
        mb_kb(proc_status_kb("VmHWM")),
    );
    (structures_path, services_path)
}

fn parent() {
    let structures = env_usize("PEPS_BENCH_STRUCTURES", 20_000);
    let services = env_usize("PEPS_BENCH_SERVICES", 100_000);
    let format = env_format("PEPS_BENCH_FORMAT", Format::JsonLines);
    // PEPS_BENCH_DIR keeps the extract, the database and the export (for profiling a child).
    let kept = std::env::var_os("PEPS_BENCH_DIR").map(PathBuf::from);
    let _temporary;
    let dir = match kept {
        Some(dir) => {
            std::fs::create_dir_all(&dir).unwrap();
            if dir.join("peps.db").exists() {
                eprintln!(
                    "{} already holds a database: use an empty folder",
                    dir.display()
                );
                std::process::exit(2);
            }
            dir
        }
        None => {
            let temporary = tempfile::tempdir().expect("temporary folder");
            let dir = temporary.path().to_owned();
            _temporary = temporary;
            dir
        }
    };
    let dir = dir.as_path();
    println!();
    let (structures_path, services_path) = generate(dir, format, structures, services);
    let extract_bytes = file_size(&structures_path) + file_size(&services_path);

    let rt = runtime();
    let target = rt.block_on(fresh_target(dir));
    let backend = match target.url.backend() {
        Ok(Backend::Postgres) => "PostgreSQL",
        _ => "SQLite",
    };
    println!("database: {backend} {}", target.url);
    let records = structures + services;
    let files: [(&str, &Path); 2] = [
        (CHILD_STRUCTURES_VAR, &structures_path),
        (CHILD_SERVICES_VAR, &services_path),
    ];

    let (first, first_wall) = run_child("import", &target, &files);
    print_import("import", &first, first_wall, records);
    let database_bytes = target.sqlite_file.as_ref().map(|f| {
        file_size(f)
            + file_size(&f.with_extension("db-wal"))
            + file_size(&f.with_extension("db-shm"))
    });
    if let Some(bytes) = database_bytes {
        println!("  SQLite database {:.1} MB (WAL included)", mb_bytes(bytes));
    }

    let (again, again_wall) = run_child("import", &target, &files);
    print_import("rerun", &again, again_wall, records);
    let mut broken = Vec::new();
    for kind in ["structures", "services"] {
        let stored = count(&first, kind, "created")
            + count(&first, kind, "updated")
            + count(&first, kind, "unchanged");
        for field in [
            "created",
            "updated",
            "verified",
            "kept_local",
            "outdated",
            "conflicts",
        ] {
            if count(&again, kind, field) != 0 {
                broken.push(format!("{kind}.{field} = {}", count(&again, kind, field)));
            }
        }
        if count(&again, kind, "unchanged") != stored {
            broken.push(format!(
                "{kind}.unchanged = {}, expected {stored}",
                count(&again, kind, "unchanged")
            ));
        }
        if count(&again, kind, "rejected") != count(&first, kind, "rejected") {
            broken.push(format!(
                "{kind}.rejected = {}, was {}",
                count(&again, kind, "rejected"),
                count(&first, kind, "rejected")
            ));
        }
    }

    let (export, export_wall) = run_child("export", &target, &[(CHILD_DIR_VAR, dir)]);
    let export_seconds = export["seconds"].as_f64().unwrap_or(0.0);
    let exported =
        export["structures"].as_u64().unwrap_or(0) + export["services"].as_u64().unwrap_or(0);
    println!(
        "export ({}): {export_seconds:.1} s (structures {:.1} s; {:.0} records/s; child wall time {export_wall:.1} s): {} structures {:.1} MB, {} services {:.1} MB; peak RSS (VmHWM) {:.1} MB",
        export["format"].as_str().unwrap_or("?"),
        export["structures_seconds"].as_f64().unwrap_or(0.0),
        exported as f64 / export_seconds,
        export["structures"],
        mb_bytes(export["structures_bytes"].as_u64().unwrap_or(0)),
        export["services"],
        mb_bytes(export["services_bytes"].as_u64().unwrap_or(0)),
        mb_kb(export["vm_hwm_kb"].as_u64().unwrap_or(0)),
    );
    rt.block_on(drop_target(&target));

    let seconds = |v: &Value| v["seconds"].as_f64().unwrap_or(0.0);
    let peak = |v: &Value| mb_kb(v["vm_hwm_kb"].as_u64().unwrap_or(0));
    println!(
        "\n#### data·inclusion exchange, {backend}: {structures} structures + {services} services ({}, {:.0} MB)\n",
        format.as_str(),
        mb_bytes(extract_bytes)
    );
    println!("| step | records | time | records/s | peak RSS |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| import ({} created, {} rejected) | {records} | {:.1} s | {:.0} | {:.0} MB |",
        count(&first, "structures", "created") + count(&first, "services", "created"),
        count(&first, "structures", "rejected") + count(&first, "services", "rejected"),
        seconds(&first),
        records as f64 / seconds(&first),
        peak(&first),
    );
    println!(
        "| rerun (all unchanged) | {records} | {:.1} s | {:.0} | {:.0} MB |",
        seconds(&again),
        records as f64 / seconds(&again),
        peak(&again),
    );
    println!(
        "| export ({}, {:.0} MB) | {exported} | {:.1} s | {:.0} | {:.0} MB |",
        export["format"].as_str().unwrap_or("?"),
        mb_bytes(
            export["structures_bytes"].as_u64().unwrap_or(0)
                + export["services_bytes"].as_u64().unwrap_or(0)
        ),
        export_seconds,
        exported as f64 / export_seconds,
        peak(&export),
    );
    if let Some(bytes) = database_bytes {
        println!("\nSQLite database after import: {:.0} MB.", mb_bytes(bytes));
    }

    if !broken.is_empty() {
        eprintln!("\nthe rerun was not idempotent: {}", broken.join(", "));
        std::process::exit(1);
    }
}

fn main() {
    match std::env::var(ROLE_VAR).ok().as_deref() {
        Some("import") => return child_import(),
        Some("export") => return child_export(),
        Some(other) => panic!("unknown {ROLE_VAR} {other:?}"),
        None => {}
    }
    // `cargo test --benches` runs bench targets with --bench absent: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    parent();
}
