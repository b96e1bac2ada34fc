//! Admins import a data·inclusion extract: upload the files, get a job, follow it, download
//! its report. The import runs in the background; its state is kept in the database.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::http::StatusCode;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Multipart, Object, OpenApi, param::Path};
use serde_json::{Value, json};
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};

use super::Tag;
use crate::auth::BearerAuth;
use crate::data_inclusion::DataInclusion;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use peps_core::domain::ImportJobId;
use peps_core::ports::{ImportJob, ImportJobStatus};
use peps_core::services::exchange::{
    ImportFiles, ImportObserver, ImportOptions, Progress, ReportLine,
};

pub struct ImportsApi;

/// The extract: either file or both, in JSON, JSON Lines or CSV (detected).
#[derive(Multipart)]
pub struct ImportRequest {
    /// data·inclusion v1 structures.
    structures: Option<Upload>,
    /// data·inclusion v1 services.
    services: Option<Upload>,
    /// Keep only what is in (or open to the people of) this département: `89`, `2A`, `971`.
    departement: Option<String>,
    /// Validate and count without writing.
    dry_run: Option<bool>,
    /// Theme for services whose topics no theme covers (default: the first theme).
    default_theme: Option<String>,
}

/// An import job: its options, progress, and when done its summary.
#[derive(Object)]
pub struct ImportJobView {
    pub id: uuid::Uuid,
    /// `queued`, `running`, `succeeded`, `failed`, or `interrupted` (the server stopped while
    /// it ran: upload the files again, the import converges).
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Options, progress (`phase`, `records`, `bytes_read`, `total_bytes`), `summary` (counts
    /// per kind) and `error`, as the import reports them.
    pub details: Value,
    /// Where to download the report (JSON Lines: one line per rejected record, dropped field
    /// or skipped record).
    pub report_url: String,
}

fn view(job: &ImportJob) -> ImportJobView {
    ImportJobView {
        id: job.id.0,
        status: job.status.as_str().to_owned(),
        created_at: job.created_at,
        finished_at: job.finished_at,
        details: job.details.clone(),
        report_url: format!("/api/v1/admin/imports/{}/report", job.id),
    }
}

#[derive(ApiResponse)]
enum Started {
    /// Accepted: the import runs in the background.
    #[oai(status = 202)]
    Accepted(Json<ImportJobView>),
}

#[derive(ApiResponse)]
enum ReportFile {
    #[oai(status = 200, content_type = "application/x-ndjson")]
    Ok(Binary<poem::Body>),
}

fn job_dir(di: &DataInclusion, id: ImportJobId) -> PathBuf {
    di.settings.import_dir.join(id.to_string())
}

async fn save_upload(upload: Upload, path: &FsPath) -> ApiResult<()> {
    let mut from = upload.into_file();
    let mut to = tokio::fs::File::create(path).await.map_err(storage_error)?;
    tokio::io::copy(&mut from, &mut to)
        .await
        .map_err(storage_error)?;
    to.sync_all().await.map_err(storage_error)?;
    Ok(())
}

fn storage_error(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "cannot store an uploaded extract");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "service.unavailable")
}

/// Reports lines to the job's report file and keeps the latest progress for the job's status.
struct JobObserver {
    report: std::io::BufWriter<std::fs::File>,
    progress: Arc<Mutex<Option<Progress>>>,
}

impl ImportObserver for JobObserver {
    fn progress(&mut self, progress: &Progress) {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner()) = Some(progress.clone());
    }

    fn report(&mut self, line: &ReportLine) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.report, line)?;
        std::io::Write::write_all(&mut self.report, b"\n")
    }
}

async fn run_job(
    di: Arc<DataInclusion>,
    catalogue: Arc<peps_core::services::Catalogue>,
    mut job: ImportJob,
    files: ImportFiles,
    options: ImportOptions,
) {
    let dir = job_dir(&di, job.id);
    let progress = Arc::new(Mutex::new(None));
    let finished = Arc::new(tokio::sync::Mutex::new(false));
    let outcome = async {
        let report = std::fs::File::create(dir.join("report.jsonl"))?;
        job.status = ImportJobStatus::Running;
        let _ = di.exchange.save_job(&job).await;
        let mut observer = JobObserver {
            report: std::io::BufWriter::new(report),
            progress: progress.clone(),
        };
        // Progress reaches the job's status every two seconds while the import runs. The
        // ticker and the final save take turns on `finished`, so a late progress save can
        // never overwrite the outcome.
        let ticker = {
            let di = di.clone();
            let progress = progress.clone();
            let finished = finished.clone();
            let mut job = job.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(2));
                loop {
                    every.tick().await;
                    let done = finished.lock().await;
                    if *done {
                        return;
                    }
                    let current = progress.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    if let Some(p) = current {
                        job.details["progress"] = json!(p);
                        let _ = di.exchange.save_job(&job).await;
                    }
                }
            })
        };
        let result = di.exchange.import(&files, &options, &mut observer).await;
        *finished.lock().await = true;
        ticker.abort();
        let flushed = std::io::Write::flush(&mut observer.report);
        Ok::<_, std::io::Error>((result, flushed))
    }
    .await;
    let last = progress.lock().unwrap_or_else(|e| e.into_inner()).clone();
    job.details["progress"] = json!(last);
    match outcome {
        Ok((Ok(summary), Ok(()))) => {
            job.status = ImportJobStatus::Succeeded;
            job.details["summary"] = json!(summary);
        }
        Ok((Err(e), _)) => {
            job.status = ImportJobStatus::Failed;
            job.details["error"] = json!(e.to_string());
        }
        Ok((_, Err(e))) | Err(e) => {
            job.status = ImportJobStatus::Failed;
            job.details["error"] = json!(format!("report: {e}"));
        }
    }
    job.finished_at = Some(di.exchange.now());
    if let Err(e) = di.exchange.save_job(&job).await {
        tracing::error!(job = %job.id, error = %e, "cannot record the end of an import job");
    }
    // The extract is no longer needed; the report stays for the admin.
    for file in [&files.structures, &files.services].into_iter().flatten() {
        let _ = std::fs::remove_file(file);
    }
    di.running
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&job.id);
    tracing::info!(job = %job.id, status = job.status.as_str(), "import job finished");
    // Bring this instance's search index up to date now, so that the first reader after a
    // large import does not wait for it.
    if job.status == ImportJobStatus::Succeeded
        && let Err(e) = catalogue.sync().await
    {
        tracing::warn!(error = %e, "search index catch-up after an import failed; the next search retries");
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Catalogue")]
impl ImportsApi {
    /// Start importing a data·inclusion extract (admins). Returns at once with the job to
    /// follow.
    #[oai(
        path = "/admin/imports",
        method = "post",
        operation_id = "start_import"
    )]
    async fn start(
        &self,
        req: &Request,
        auth: BearerAuth,
        request: ImportRequest,
    ) -> ApiResult<Started> {
        let state = req.data::<AppState>().expect("state");
        let di = state.data_inclusion.clone();
        di.exchange.check_may_import(&auth.0.actor)?;
        if request.structures.is_none() && request.services.is_none() {
            return Err(ApiError::invalid("services", "import.files_missing"));
        }
        let departement = request.departement.map(|d| d.trim().to_uppercase());
        if departement
            .as_deref()
            .is_some_and(|d| !peps_core::catalogue::offer::is_departement(d))
        {
            return Err(ApiError::invalid(
                "departement",
                "import.departement.invalid",
            ));
        }
        let known = |theme: &String| {
            di.exchange
                .reference()
                .themes()
                .iter()
                .any(|t| &t.code == theme)
        };
        if request.default_theme.as_ref().is_some_and(|t| !known(t)) {
            return Err(ApiError::invalid(
                "default_theme",
                "import.default_theme.unknown",
            ));
        }
        let options = ImportOptions {
            departement,
            dry_run: request.dry_run.unwrap_or(false),
            default_theme: request.default_theme,
            ..ImportOptions::default()
        };
        let details = json!({
            "options": {
                "departement": options.departement,
                "dry_run": options.dry_run,
                "default_theme": options.default_theme,
                "structures": request.structures.as_ref().map(|u| u.file_name().unwrap_or("structures").to_owned()),
                "services": request.services.as_ref().map(|u| u.file_name().unwrap_or("services").to_owned()),
            }
        });
        let job = di.exchange.create_job(&auth.0.actor, details).await?;
        let dir = job_dir(&di, job.id);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(storage_error)?;
        let mut files = ImportFiles::default();
        if let Some(upload) = request.structures {
            let path = dir.join("structures.upload");
            save_upload(upload, &path).await?;
            files.structures = Some(path);
        }
        if let Some(upload) = request.services {
            let path = dir.join("services.upload");
            save_upload(upload, &path).await?;
            files.services = Some(path);
        }
        di.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(job.id);
        tokio::spawn(run_job(
            di.clone(),
            state.catalogue.clone(),
            job.clone(),
            files,
            options,
        ));
        Ok(Started::Accepted(Json(view(&job))))
    }

    /// An import job's status, progress and summary (admins).
    #[oai(
        path = "/admin/imports/:id",
        method = "get",
        operation_id = "import_job"
    )]
    async fn job(
        &self,
        req: &Request,
        auth: BearerAuth,
        id: Path<uuid::Uuid>,
    ) -> ApiResult<Json<ImportJobView>> {
        let state = req.data::<AppState>().expect("state");
        let di = &state.data_inclusion;
        let id = ImportJobId(id.0);
        let mut job = di.exchange.job(&auth.0.actor, id).await?;
        let live = di
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&id);
        if matches!(
            job.status,
            ImportJobStatus::Queued | ImportJobStatus::Running
        ) && !live
        {
            job.status = ImportJobStatus::Interrupted;
            job.finished_at = Some(di.exchange.now());
            di.exchange.save_job(&job).await?;
        }
        Ok(Json(view(&job)))
    }

    /// An import job's report, as JSON Lines (admins).
    #[oai(
        path = "/admin/imports/:id/report",
        method = "get",
        operation_id = "import_report"
    )]
    async fn report(
        &self,
        req: &Request,
        auth: BearerAuth,
        id: Path<uuid::Uuid>,
    ) -> ApiResult<ReportFile> {
        let state = req.data::<AppState>().expect("state");
        let di = &state.data_inclusion;
        let job = di.exchange.job(&auth.0.actor, ImportJobId(id.0)).await?;
        let path = job_dir(di, job.id).join("report.jsonl");
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "import.report_missing"))?;
        Ok(ReportFile::Ok(Binary(poem::Body::from_async_read(file))))
    }
}
