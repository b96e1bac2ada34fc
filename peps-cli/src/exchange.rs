//! `peps import data-inclusion` and `peps export data-inclusion`.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::app;
use crate::config::Config;
use peps_core::catalogue::data_inclusion::read::Format;
use peps_core::catalogue::data_inclusion::write::{
    RecordWriter, SERVICE_COLUMNS, STRUCTURE_COLUMNS,
};
use peps_core::services::exchange::{
    ExportSettings, ImportFiles, ImportObserver, ImportSummary, KindSummary, Phase, Progress,
    ReportLine,
};

/// Progress on a terminal as a bar (records/s, ETA), elsewhere as a log line every few
/// seconds; report lines to a JSON Lines file.
struct CliObserver {
    bar: Option<ProgressBar>,
    phase: Option<Phase>,
    started: Instant,
    last_line: Instant,
    last_records: Option<u64>,
    report: BufWriter<std::fs::File>,
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Scanning => "scanning services",
        Phase::Structures => "structures",
        Phase::Services => "services",
    }
}

impl ImportObserver for CliObserver {
    fn progress(&mut self, p: &Progress) {
        if self.phase != Some(p.phase) {
            self.phase = Some(p.phase);
            self.started = Instant::now();
            if let Some(bar) = &self.bar {
                bar.reset();
                bar.set_length(p.total_bytes);
                bar.set_prefix(phase_name(p.phase));
            }
        }
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = p.records as f64 / elapsed;
        match &self.bar {
            Some(bar) => {
                bar.set_position(p.bytes_read);
                bar.set_message(format!("{} records, {rate:.0}/s", p.records));
            }
            None if self.last_records != Some(p.records)
                && p.records > 0
                && (self.last_line.elapsed() >= Duration::from_secs(5)
                    || p.bytes_read >= p.total_bytes) =>
            {
                self.last_line = Instant::now();
                self.last_records = Some(p.records);
                let share = p.bytes_read as f64 / p.total_bytes.max(1) as f64;
                let eta = if share > 0.0 {
                    elapsed * (1.0 - share) / share
                } else {
                    0.0
                };
                tracing::info!(
                    phase = phase_name(p.phase),
                    records = p.records,
                    per_second = rate.round() as u64,
                    percent = (share * 100.0).round() as u64,
                    eta_seconds = eta.round() as u64,
                    "import progress"
                );
            }
            None => {}
        }
    }

    fn report(&mut self, line: &ReportLine) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.report, line)?;
        self.report.write_all(b"\n")
    }
}

pub struct ImportArgs {
    pub structures: Option<PathBuf>,
    pub services: Option<PathBuf>,
    pub departement: Option<String>,
    pub dry_run: bool,
    pub default_theme: Option<String>,
    pub report: PathBuf,
}

fn print_kind(name: &str, k: &KindSummary) {
    println!(
        "{name:<11} {:>9} read  {:>9} created  {:>9} updated  {:>9} unchanged  {:>7} verified",
        k.read, k.created, k.updated, k.unchanged, k.verified
    );
    println!(
        "{:<11} {:>9} rejected  {:>6} with dropped fields  {:>6} kept (edited in PEPS)  \
         {:>6} outdated  {:>6} out of area  {:>6} conflicts",
        "", k.rejected, k.with_dropped_fields, k.kept_local, k.outdated, k.out_of_area, k.conflicts
    );
}

fn print_summary(summary: &ImportSummary, report: &Path, elapsed: Duration) {
    println!(
        "data·inclusion import{} finished in {:.1} s:",
        if summary.dry_run {
            " (dry run, nothing written)"
        } else {
            ""
        },
        elapsed.as_secs_f64()
    );
    print_kind("structures", &summary.structures);
    print_kind("services", &summary.services);
    println!("Report: {}", report.display());
    for e in &summary.file_errors {
        println!("File error: {e}");
    }
}

pub async fn import(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    if args.structures.is_none() && args.services.is_none() {
        anyhow::bail!("give --structures, --services or both");
    }
    let store = app::connect(config).await?;
    let exchange = app::exchange(config, store)?;
    // The same checks as an admin's import over HTTP, with the same messages.
    let options = exchange
        .options(
            args.departement.as_deref(),
            args.dry_run,
            args.default_theme,
        )
        .map_err(|e| match e {
            peps_core::CoreError::InvalidFields(all) => anyhow::anyhow!(
                "{}",
                all.iter()
                    .map(|v| peps_core::i18n::error_message(v.code, "en"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            e => anyhow::anyhow!("{}", peps_core::i18n::error_message(e.code(), "en")),
        })?;
    let report = std::fs::File::create(&args.report)
        .with_context(|| format!("creating the report {}", args.report.display()))?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>18} [{bar:30}] {percent:>3}% {msg} (ETA {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    });
    let mut observer = CliObserver {
        bar,
        phase: None,
        started: Instant::now(),
        last_line: Instant::now(),
        last_records: None,
        report: BufWriter::new(report),
    };
    let started = Instant::now();
    let summary = exchange
        .import(
            &ImportFiles {
                structures: args.structures,
                services: args.services,
            },
            &options,
            &mut observer,
        )
        .await;
    if let Some(bar) = &observer.bar {
        bar.finish_and_clear();
    }
    observer.report.flush().context("writing the report")?;
    let summary = summary?;
    print_summary(&summary, &args.report, started.elapsed());
    if !summary.file_errors.is_empty() {
        anyhow::bail!("a file could not be read to its end; fix it and run the import again");
    }
    Ok(())
}

pub async fn export(config: &Config, format: &str, out: &Path) -> anyhow::Result<()> {
    let (format, extension) = match format {
        "json" => (Format::JsonArray, "json"),
        "jsonl" => (Format::JsonLines, "jsonl"),
        "csv" => (Format::Csv, "csv"),
        other => anyhow::bail!("unknown format {other}: json, jsonl or csv"),
    };
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let store = app::connect(config).await?;
    let exchange = app::exchange(config, store)?;
    let settings = ExportSettings {
        source: config.data_inclusion.source.clone(),
        public_url: config.server.public_url.clone(),
    };
    let started = Instant::now();
    let mut pages = exchange.export(settings);
    let structures_path = out.join(format!("structures.{extension}"));
    let services_path = out.join(format!("services.{extension}"));
    let (mut structures, mut services) = (0u64, 0u64);
    // Pages are fetched asynchronously, files written synchronously: gather per page.
    let mut structure_writer = RecordWriter::new(
        BufWriter::new(std::fs::File::create(
            structures_path.with_extension("partial"),
        )?),
        format,
        STRUCTURE_COLUMNS,
    )?;
    while let Some(page) = pages.next_structures().await? {
        for record in &page {
            structure_writer.write(record)?;
        }
        structures += page.len() as u64;
    }
    finish(structure_writer, &structures_path)?;
    let mut service_writer = RecordWriter::new(
        BufWriter::new(std::fs::File::create(
            services_path.with_extension("partial"),
        )?),
        format,
        SERVICE_COLUMNS,
    )?;
    while let Some(page) = pages.next_services().await? {
        for record in &page {
            service_writer.write(record)?;
        }
        services += page.len() as u64;
    }
    finish(service_writer, &services_path)?;
    println!(
        "Exported {structures} structures to {} and {services} services to {} in {:.1} s.",
        structures_path.display(),
        services_path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Closes the file written under a temporary name, then renames it: readers never see half
/// a file.
fn finish(writer: RecordWriter<BufWriter<std::fs::File>>, path: &Path) -> anyhow::Result<()> {
    let out = writer.finish()?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    std::fs::rename(path.with_extension("partial"), path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
