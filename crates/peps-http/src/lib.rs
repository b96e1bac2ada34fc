//! The PEPS HTTP API: poem + poem-openapi. Handlers are thin: decode, call one core service,
//! encode. Errors are RFC 9457 problem+json with a stable `code`, localised per request.
//!
//! [`routes`] builds the endpoint (for in-process tests and embedding); [`serve`] runs it on a
//! listener until a shutdown future resolves (tests use port 0).

mod api;
mod auth;
pub mod data_inclusion;
mod middleware;
mod plan_print;
mod problem;
mod search_cache;
mod state;

use poem::listener::{Listener, TcpAcceptor};
use poem::{EndpointExt, IntoEndpoint, Route, Server};
use poem_openapi::OpenApiService;
use std::future::Future;
use std::time::Duration;

pub use data_inclusion::{DataInclusion, DataInclusionSettings};
pub use problem::{ApiError, Problem};
pub use search_cache::SearchCache;
pub use state::{AppState, HttpSettings};

/// The OpenAPI service with every documented route.
fn openapi() -> OpenApiService<api::Apis, ()> {
    OpenApiService::new(api::apis(), "PEPS API", env!("CARGO_PKG_VERSION"))
        .description(
            "Paris Espace Partagé Solidaire: catalogue of social offers, step plans and document \
             wallet. Errors are RFC 9457 problem+json with a stable `code`; messages follow \
             Accept-Language.",
        )
        .license(poem_openapi::LicenseObject::new("EUPL-1.2"))
}

/// The OpenAPI 3 document, as served at `/openapi.json` and committed as docs/openapi.json.
pub fn openapi_json() -> String {
    openapi().spec()
}

/// Routes whose bodies are files, streamed to disk under their own size limit rather than
/// read into memory.
/// `*` stands for one path segment (an id).
const UPLOAD_PATHS: &[&str] = &[
    "/api/v1/admin/imports",
    "/api/v1/persons/*/documents",
    "/api/v1/documents/*/pages",
];

/// Every route of the API, with its middleware, ready to serve.
pub fn routes(state: AppState) -> impl poem::Endpoint<Output = poem::Response> + 'static {
    let service = openapi();
    let spec = service.spec();
    let docs = service.swagger_ui();
    let max_body = state.settings.max_body_bytes;
    let max_upload = state.settings.max_upload_bytes;
    Route::new()
        .at(
            "/opendata/:file",
            poem::get(data_inclusion::opendata).with(poem::middleware::Compression::new()),
        )
        .at(
            "/openapi.json",
            poem::get(poem::endpoint::make_sync(move |_| {
                poem::Response::builder()
                    .content_type("application/json")
                    .body(spec.clone())
            })),
        )
        .nest("/docs", docs)
        .nest("/", service.into_endpoint())
        .with(middleware::BodyLimit::new(max_body).streaming(UPLOAD_PATHS, max_upload))
        .with(middleware::Problems)
        .with(middleware::RequestLog)
        .with(middleware::SecurityHeaders)
        .data(state)
}

/// Serves the API on `listener` until `shutdown` resolves, then lets requests in flight finish
/// (up to 10 seconds).
pub async fn serve<L, F>(listener: L, state: AppState, shutdown: F) -> std::io::Result<()>
where
    L: Listener + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    Server::new(listener)
        .run_with_graceful_shutdown(routes(state), shutdown, Some(Duration::from_secs(10)))
        .await
}

/// Serves on an already-bound std listener (port 0 in tests: bind first, read the port, serve).
pub async fn serve_tcp<F>(
    listener: std::net::TcpListener,
    state: AppState,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    listener.set_nonblocking(true)?;
    let acceptor = TcpAcceptor::from_std(listener)?;
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(routes(state), shutdown, Some(Duration::from_secs(10)))
        .await
}
