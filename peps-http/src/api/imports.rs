//! Admins import a data·inclusion extract: upload the files, get a job, follow it, download
//! its report. The import runs in the background; its state is kept in the database.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::http::StatusCode;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Multipart, Object, OpenApi, param::Path};
use serde_json::Value;
use std::path::Path as FsPath;

use super::Tag;
use crate::auth::BearerAuth;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use peps_core::catalogue::import_job::ImportJob;
use peps_core::domain::ImportJobId;
use peps_core::services::exchange::{self, StartedImport};

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

async fn save_upload(upload: Upload, path: &FsPath) -> std::io::Result<()> {
    let mut from = upload.into_file();
    let mut to = tokio::fs::File::create(path).await?;
    tokio::io::copy(&mut from, &mut to).await?;
    to.sync_all().await
}

/// Writes the uploaded files where the accepted import expects them.
async fn save_uploads(
    started: &StartedImport,
    structures: Option<Upload>,
    services: Option<Upload>,
) -> std::io::Result<()> {
    let files = started.files();
    for (upload, path) in [(structures, &files.structures), (services, &files.services)] {
        if let (Some(upload), Some(path)) = (upload, path) {
            save_upload(upload, path).await?;
        }
    }
    Ok(())
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
        let imports = state.data_inclusion.imports.clone();
        let name = |upload: &Option<Upload>, default: &str| {
            upload
                .as_ref()
                .map(|u| u.file_name().unwrap_or(default).to_owned())
        };
        let started = imports
            .start(
                &auth.0.actor,
                exchange::ImportRequest {
                    structures: name(&request.structures, "structures"),
                    services: name(&request.services, "services"),
                    departement: request.departement,
                    dry_run: request.dry_run.unwrap_or(false),
                    default_theme: request.default_theme,
                },
            )
            .await?;
        if let Err(e) = save_uploads(&started, request.structures, request.services).await {
            tracing::error!(error = %e, "cannot store an uploaded extract");
            imports
                .abandon(started, "the uploaded files could not be stored")
                .await;
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service.unavailable",
            ));
        }
        let job = view(started.job());
        tokio::spawn(async move { imports.run(started).await });
        Ok(Started::Accepted(Json(job)))
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
        let job = state
            .data_inclusion
            .imports
            .job(&auth.0.actor, ImportJobId(id.0))
            .await?;
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
        let path = state
            .data_inclusion
            .imports
            .report(&auth.0.actor, ImportJobId(id.0))
            .await?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "import.report_missing"))?;
        Ok(ReportFile::Ok(Binary(poem::Body::from_async_read(file))))
    }
}
