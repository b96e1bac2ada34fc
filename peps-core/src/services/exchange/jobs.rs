//! Background imports, the admins' use case: start one (checked, recorded as `queued`), run it
//! (`running`, its progress saved as it goes, then `succeeded` or `failed` with its summary),
//! follow it, download its report. A job still `queued` or `running` when the server starts
//! again was cut short: [`ImportJobs::interrupt_unfinished`] marks it `interrupted` once, at
//! start-up, so that reading a job never writes.
//!
//! Every entry point takes the acting [`Actor`]; a run can only be made from what
//! [`ImportJobs::start`] returned, so no adapter reaches an import without the check.

use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use super::{Exchange, ImportFiles, ImportObserver, ImportOptions, Progress, ReportLine};
use crate::catalogue::import_job::{ImportJob, ImportJobStatus};
use crate::domain::ImportJobId;
use crate::error::{CoreError, CoreResult, StoreError, ValidationError};
use crate::policy::{Action, Actor, Relation, authorize};
use crate::services::Catalogue;

/// What an admin asks for. The files themselves are written by the adapter, where
/// [`StartedImport`] says, once the request is accepted.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    /// The structures file's name as uploaded, when one is sent.
    pub structures: Option<String>,
    /// The services file's name as uploaded, when one is sent.
    pub services: Option<String>,
    /// `89`, `2A`, `971`; trimmed and upper-cased.
    pub departement: Option<String>,
    pub dry_run: bool,
    pub default_theme: Option<String>,
}

/// An accepted import, recorded as `queued`: write the uploaded files at `files`' paths,
/// then hand it to [`ImportJobs::run`] (or to [`ImportJobs::abandon`] if they cannot be
/// written).
#[derive(Debug)]
pub struct StartedImport {
    job: ImportJob,
    options: ImportOptions,
    files: ImportFiles,
}

impl StartedImport {
    /// The job as recorded, for the answer to the admin.
    pub fn job(&self) -> &ImportJob {
        &self.job
    }

    /// Where the adapter writes the uploaded files.
    pub fn files(&self) -> &ImportFiles {
        &self.files
    }
}

/// Imports run in the background, kept in the store so that any instance can answer about
/// them.
pub struct ImportJobs {
    exchange: Arc<Exchange>,
    /// One folder per job: the uploaded extract while it runs, the report afterwards.
    dir: PathBuf,
    /// Brought up to date after a successful import, so the first reader does not wait.
    catalogue: Option<Arc<Catalogue>>,
}

const REPORT: &str = "report.jsonl";

impl ImportJobs {
    pub fn new(exchange: Arc<Exchange>, dir: PathBuf, catalogue: Option<Arc<Catalogue>>) -> Self {
        Self {
            exchange,
            dir,
            catalogue,
        }
    }

    /// The import engine these jobs run, for what needs no job (open data export).
    pub fn exchange(&self) -> &Arc<Exchange> {
        &self.exchange
    }

    fn job_dir(&self, id: ImportJobId) -> PathBuf {
        self.dir.join(id.to_string())
    }

    /// Checks the request and records a `queued` job with its options.
    pub async fn start(&self, actor: &Actor, request: ImportRequest) -> CoreResult<StartedImport> {
        may_import(actor)?;
        if request.structures.is_none() && request.services.is_none() {
            return Err(ValidationError::new("services", "import.files_missing").into());
        }
        let options = self.exchange.options(
            request.departement.as_deref(),
            request.dry_run,
            request.default_theme,
        )?;
        let job = ImportJob {
            id: ImportJobId::new(),
            requested_by: actor.account,
            status: ImportJobStatus::Queued,
            created_at: self.exchange.clock.now(),
            finished_at: None,
            details: json!({
                "options": {
                    "departement": options.departement,
                    "dry_run": options.dry_run,
                    "default_theme": options.default_theme,
                    "structures": request.structures,
                    "services": request.services,
                }
            }),
        };
        let dir = self.job_dir(job.id);
        std::fs::create_dir_all(&dir).map_err(unavailable)?;
        self.exchange.store.save_import_job(&job).await?;
        let files = ImportFiles {
            structures: request.structures.map(|_| dir.join("structures.upload")),
            services: request.services.map(|_| dir.join("services.upload")),
        };
        Ok(StartedImport {
            job,
            options,
            files,
        })
    }

    /// Runs an accepted import to its end and records the outcome; the extract is then
    /// deleted and the report kept. Meant for a background task: the outcome is in the job.
    pub async fn run(&self, started: StartedImport) -> ImportJob {
        let StartedImport {
            mut job,
            options,
            files,
        } = started;
        job.status = ImportJobStatus::Running;
        if let Err(e) = self.exchange.store.save_import_job(&job).await {
            tracing::warn!(job = %job.id, error = %e, "cannot record that an import job runs");
        }
        let outcome = match std::fs::File::create(self.job_dir(job.id).join(REPORT)) {
            Err(e) => Err(e),
            Ok(report) => {
                let mut observer = JobObserver {
                    report: std::io::BufWriter::new(report),
                    last: None,
                };
                let result = self
                    .exchange
                    .run(&files, &options, &mut observer, Some(&mut job))
                    .await;
                job.details["progress"] = json!(observer.last);
                observer.report.flush().map(|()| result)
            }
        };
        match outcome {
            Ok(Ok(summary)) => {
                job.status = ImportJobStatus::Succeeded;
                job.details["summary"] = json!(summary);
            }
            Ok(Err(e)) => {
                job.status = ImportJobStatus::Failed;
                job.details["error"] = json!(e.to_string());
            }
            Err(e) => {
                job.status = ImportJobStatus::Failed;
                job.details["error"] = json!(format!("report: {e}"));
            }
        }
        self.finish(&mut job, &files).await;
        // Bring this instance's search index up to date now, so that the first reader after
        // a large import does not wait for it.
        if job.status == ImportJobStatus::Succeeded
            && let Some(catalogue) = &self.catalogue
            && let Err(e) = catalogue.sync().await
        {
            tracing::warn!(error = %e, "search index catch-up after an import failed; the next search retries");
        }
        job
    }

    /// Records an accepted import as failed before it ran (its files could not be written).
    pub async fn abandon(&self, started: StartedImport, reason: &str) -> ImportJob {
        let StartedImport { mut job, files, .. } = started;
        job.status = ImportJobStatus::Failed;
        job.details["error"] = Value::String(reason.to_owned());
        self.finish(&mut job, &files).await;
        job
    }

    async fn finish(&self, job: &mut ImportJob, files: &ImportFiles) {
        job.finished_at = Some(self.exchange.clock.now());
        if let Err(e) = self.exchange.store.save_import_job(job).await {
            tracing::error!(job = %job.id, error = %e, "cannot record the end of an import job");
        }
        // The extract is no longer needed; the report stays for the admin.
        for file in [&files.structures, &files.services].into_iter().flatten() {
            let _ = std::fs::remove_file(file);
        }
        tracing::info!(job = %job.id, status = job.status.as_str(), "import job finished");
    }

    /// A job's status, progress and summary, as recorded. Never writes.
    pub async fn job(&self, actor: &Actor, id: ImportJobId) -> CoreResult<ImportJob> {
        may_import(actor)?;
        match self.exchange.store.import_job(id).await {
            Err(StoreError::NotFound) => Err(CoreError::NotFound),
            other => Ok(other?),
        }
    }

    /// Where a job's report is (JSON Lines); the file may be gone if the server's folder was
    /// cleaned.
    pub async fn report(&self, actor: &Actor, id: ImportJobId) -> CoreResult<PathBuf> {
        let job = self.job(actor, id).await?;
        Ok(self.job_dir(job.id).join(REPORT))
    }

    /// At start-up: jobs still `queued` or `running` were cut short by the stop, and become
    /// `interrupted` (uploading the same files again converges). Returns how many.
    ///
    /// Imports run in the instance that accepted them: with several instances, start the
    /// others while no import runs, or an import running elsewhere is shown as interrupted
    /// (it still completes, and then shows its outcome).
    pub async fn interrupt_unfinished(&self) -> CoreResult<u64> {
        Ok(self
            .exchange
            .store
            .interrupt_import_jobs(self.exchange.clock.now())
            .await?)
    }
}

/// Imports and their jobs are for admins only.
fn may_import(actor: &Actor) -> CoreResult<()> {
    authorize(actor.role, Action::ImportCatalogue, Relation::Unrelated)
        .map_err(|_| CoreError::Denied)
}

fn unavailable(e: std::io::Error) -> CoreError {
    tracing::error!(error = %e, "cannot prepare an import job's folder");
    CoreError::Store(StoreError::unavailable(e))
}

/// Writes report lines to the job's report file and keeps the latest progress for the
/// outcome.
struct JobObserver {
    report: std::io::BufWriter<std::fs::File>,
    last: Option<Progress>,
}

impl ImportObserver for JobObserver {
    fn progress(&mut self, progress: &Progress) {
        self.last = Some(progress.clone());
    }

    fn report(&mut self, line: &ReportLine) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.report, line)?;
        self.report.write_all(b"\n")
    }
}
