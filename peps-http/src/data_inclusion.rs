//! data·inclusion over HTTP: the open data files (`/opendata/…`), streamed page by page with
//! validators for caches, and the background import jobs admins start.

use chrono::{DateTime, Utc};
use poem::http::{StatusCode, header};
use poem::{Body, Request, Response};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::problem::ApiError;
use crate::state::AppState;
use peps_core::catalogue::data_inclusion::read::Format;
use peps_core::catalogue::data_inclusion::write::{
    RecordWriter, SERVICE_COLUMNS, STRUCTURE_COLUMNS,
};
use peps_core::services::Catalogue;
use peps_core::services::exchange::{Exchange, ExportPages, ExportSettings, ImportJobs};

/// How this deployment names itself in data·inclusion, and where import jobs keep their files.
#[derive(Debug, Clone)]
pub struct DataInclusionSettings {
    /// The `source` of every exported record (`peps-89`).
    pub source: String,
    /// Where PEPS is reached, for `lien_source`.
    pub public_url: String,
    /// Uploaded extracts and import reports, one folder per job.
    pub import_dir: PathBuf,
}

/// What the open data and import handlers share.
pub struct DataInclusion {
    pub exchange: Arc<Exchange>,
    /// The admins' background imports.
    pub imports: Arc<ImportJobs>,
    pub settings: DataInclusionSettings,
    /// The catalogue counter last seen, and when the catalogue changed then.
    last_modified: Mutex<Option<(i64, Option<DateTime<Utc>>)>>,
}

impl DataInclusion {
    /// `catalogue`, when given, catches up with each successful import at once.
    pub fn new(
        exchange: Arc<Exchange>,
        catalogue: Option<Arc<Catalogue>>,
        settings: DataInclusionSettings,
    ) -> Self {
        Self {
            imports: Arc::new(ImportJobs::new(
                exchange.clone(),
                settings.import_dir.clone(),
                catalogue,
            )),
            exchange,
            settings,
            last_modified: Mutex::default(),
        }
    }

    fn export_settings(&self) -> ExportSettings {
        ExportSettings {
            source: self.settings.source.clone(),
            public_url: self.settings.public_url.clone(),
        }
    }

    /// The counter and the last change, asking the store for the latter only when the counter
    /// moved.
    async fn catalogue_state(&self) -> Result<(i64, Option<DateTime<Utc>>), ApiError> {
        let seq = self.exchange.catalogue_seq().await?;
        let cached = *self.last_modified.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, at)) = cached.filter(|(cached, _)| *cached == seq) {
            return Ok((seq, at));
        }
        let (seq, at) = self.exchange.catalogue_state().await?;
        *self.last_modified.lock().unwrap_or_else(|e| e.into_inner()) = Some((seq, at));
        Ok((seq, at))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dataset {
    Structures,
    Services,
}

fn parse_file(name: &str) -> Option<(Dataset, Format)> {
    let (stem, extension) = name.rsplit_once('.')?;
    let dataset = match stem {
        "structures" => Dataset::Structures,
        "services" => Dataset::Services,
        _ => return None,
    };
    let format = match extension {
        "json" => Format::JsonArray,
        "csv" => Format::Csv,
        _ => return None,
    };
    Some((dataset, format))
}

/// A writer whose output the stream takes away after each page.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct ExportStream {
    pages: ExportPages,
    writer: RecordWriter<SharedBuffer>,
    buffer: SharedBuffer,
    dataset: Dataset,
}

/// Writes the next page; `false` at the end.
async fn write_page(s: &mut ExportStream) -> std::io::Result<bool> {
    let failed = |e: peps_core::CoreError| std::io::Error::other(e.to_string());
    match s.dataset {
        Dataset::Structures => match s.pages.next_structures().await.map_err(failed)? {
            Some(page) => page
                .iter()
                .try_for_each(|r| s.writer.write(r))
                .map(|_| true),
            None => Ok(false),
        },
        Dataset::Services => match s.pages.next_services().await.map_err(failed)? {
            Some(page) => page
                .iter()
                .try_for_each(|r| s.writer.write(r))
                .map(|_| true),
            None => Ok(false),
        },
    }
}

fn export_body(pages: ExportPages, dataset: Dataset, format: Format) -> std::io::Result<Body> {
    let buffer = SharedBuffer::default();
    let columns = match dataset {
        Dataset::Structures => STRUCTURE_COLUMNS,
        Dataset::Services => SERVICE_COLUMNS,
    };
    let writer = RecordWriter::new(buffer.clone(), format, columns)?;
    let state = ExportStream {
        pages,
        writer,
        buffer,
        dataset,
    };
    let stream = futures_util::stream::unfold(Some(state), |state| async move {
        let mut s = state?;
        match write_page(&mut s).await {
            Ok(true) => {
                let bytes = s.buffer.take();
                Some((Ok(bytes::Bytes::from(bytes)), Some(s)))
            }
            Ok(false) => {
                let buffer = s.buffer.clone();
                match s.writer.finish() {
                    Ok(_) => Some((Ok(bytes::Bytes::from(buffer.take())), None)),
                    Err(e) => Some((Err(e), None)),
                }
            }
            // The response is cut short: a client never mistakes a partial file for a whole.
            Err(e) => {
                tracing::error!(error = %e, "open data export failed");
                Some((Err(e), None))
            }
        }
    });
    Ok(Body::from_bytes_stream(stream))
}

fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// `GET /opendata/{structures,services}.{json,csv}`: the published catalogue in the
/// data·inclusion v1 schema, for anyone, with `ETag` and `Last-Modified`.
pub(crate) async fn opendata(
    req: &Request,
    file: &str,
    state: &AppState,
) -> Result<Response, ApiError> {
    let (dataset, format) =
        parse_file(file).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "route.not_found"))?;
    let di = &state.data_inclusion;
    let (seq, changed_at) = di.catalogue_state().await?;
    let etag = format!("W/\"{seq}-{file}\"");
    let last_modified = changed_at.map(http_date);
    let header_value = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let not_modified = match header_value(header::IF_NONE_MATCH) {
        Some(tags) => tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"),
        None => match (header_value(header::IF_MODIFIED_SINCE), changed_at) {
            (Some(since), Some(at)) => DateTime::parse_from_rfc2822(since)
                .is_ok_and(|since| at.timestamp() <= since.timestamp()),
            _ => false,
        },
    };
    let mut response = Response::builder()
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, "public, max-age=60")
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .header(header::VARY, "Accept-Encoding");
    if let Some(at) = &last_modified {
        response = response.header(header::LAST_MODIFIED, at.as_str());
    }
    if not_modified {
        return Ok(response.status(StatusCode::NOT_MODIFIED).finish());
    }
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        _ => "application/json; charset=utf-8",
    };
    let body = export_body(di.exchange.export(di.export_settings()), dataset, format)
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal"))?;
    Ok(response
        .content_type(content_type)
        .header(
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{file}\""),
        )
        .body(body))
}
