//! The open data files (`/opendata/…`) as documented operations: the published catalogue in the
//! data·inclusion v1 schema, for anyone, compressed on request, with `ETag` and `Last-Modified`.

use poem::middleware::Compression;
use poem::web::Data;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response};
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::{ApiResponse, OpenApi};
use std::marker::PhantomData;

use super::Tag;
use crate::problem::ApiResult;
use crate::state::AppState;

pub struct OpenDataApi;

#[OpenApi(tag = "Tag::OpenData")]
impl OpenDataApi {
    /// Every organisation with a published offer, as data·inclusion `structures` (JSON array).
    #[oai(
        path = "/opendata/structures.json",
        method = "get",
        transform = "compressed"
    )]
    async fn structures_json(
        &self,
        req: &Request,
        state: Data<&AppState>,
    ) -> ApiResult<OpenDataFile<JsonFile>> {
        serve(req, &state, "structures.json").await
    }

    /// Every published offer, as data·inclusion `services` (JSON array).
    #[oai(
        path = "/opendata/services.json",
        method = "get",
        transform = "compressed"
    )]
    async fn services_json(
        &self,
        req: &Request,
        state: Data<&AppState>,
    ) -> ApiResult<OpenDataFile<JsonFile>> {
        serve(req, &state, "services.json").await
    }

    /// The structures as CSV, one line per organisation.
    #[oai(
        path = "/opendata/structures.csv",
        method = "get",
        transform = "compressed"
    )]
    async fn structures_csv(
        &self,
        req: &Request,
        state: Data<&AppState>,
    ) -> ApiResult<OpenDataFile<CsvFile>> {
        serve(req, &state, "structures.csv").await
    }

    /// The services as CSV, one line per offer.
    #[oai(
        path = "/opendata/services.csv",
        method = "get",
        transform = "compressed"
    )]
    async fn services_csv(
        &self,
        req: &Request,
        state: Data<&AppState>,
    ) -> ApiResult<OpenDataFile<CsvFile>> {
        serve(req, &state, "services.csv").await
    }
}

fn compressed(ep: impl Endpoint) -> impl Endpoint {
    ep.with(Compression::new())
}

async fn serve<F>(req: &Request, state: &AppState, file: &str) -> ApiResult<OpenDataFile<F>> {
    let response = crate::data_inclusion::opendata(req, file, state).await?;
    Ok(OpenDataFile(response, PhantomData))
}

/// How a file is documented: its media type and the shape of its content.
pub trait FileFormat: Send {
    const CONTENT_TYPE: &'static str;
    fn schema() -> MetaSchema;
}

pub struct JsonFile;

impl FileFormat for JsonFile {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";
    fn schema() -> MetaSchema {
        MetaSchema {
            description: Some("data·inclusion v1 records"),
            items: Some(Box::new(MetaSchemaRef::Inline(Box::new(MetaSchema::new(
                "object",
            ))))),
            ..MetaSchema::new("array")
        }
    }
}

pub struct CsvFile;

impl FileFormat for CsvFile {
    const CONTENT_TYPE: &'static str = "text/csv; charset=utf-8";
    fn schema() -> MetaSchema {
        MetaSchema {
            description: Some("data·inclusion v1 columns, a header line first"),
            ..MetaSchema::new("string")
        }
    }
}

/// The file (200) or "not modified" (304), built by the open data adapter with its caching
/// headers; documented here.
pub struct OpenDataFile<F>(Response, PhantomData<F>);

impl<F: Send> IntoResponse for OpenDataFile<F> {
    fn into_response(self) -> Response {
        self.0
    }
}

fn string_header(name: &str, description: &str, required: bool) -> MetaHeader {
    MetaHeader {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        required,
        deprecated: false,
        schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
    }
}

impl<F: FileFormat> ApiResponse for OpenDataFile<F> {
    fn meta() -> MetaResponses {
        let validators = || {
            vec![
                string_header("ETag", "Changes whenever the catalogue does", true),
                string_header(
                    "Last-Modified",
                    "When the catalogue last changed, when known",
                    false,
                ),
            ]
        };
        MetaResponses {
            responses: vec![
                MetaResponse {
                    description: "The file",
                    status: Some(200),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: F::CONTENT_TYPE,
                        schema: MetaSchemaRef::Inline(Box::new(F::schema())),
                    }],
                    headers: validators(),
                },
                MetaResponse {
                    description: "Unchanged since `If-None-Match` or `If-Modified-Since`",
                    status: Some(304),
                    status_range: None,
                    content: vec![],
                    headers: validators(),
                },
            ],
        }
    }

    fn register(_registry: &mut Registry) {}
}
