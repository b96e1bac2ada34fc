//! The PEPS HTTP API: poem + poem-openapi. Handlers are thin: decode, call one core service,
//! encode. Errors are RFC 9457 problem+json with a stable `code`, localised per request.
//!
//! [`routes`] builds the endpoint (for in-process tests and embedding); [`serve`] runs it on a
//! listener until a shutdown future resolves (tests use port 0).

mod api;
mod auth;
pub mod data_inclusion;
mod language;
mod malformed;
mod middleware;
pub mod oidc;
mod plan_print;
mod problem;
mod state;
#[cfg(feature = "web")]
pub mod web;

use poem::listener::{Listener, TcpAcceptor};
use poem::{EndpointExt, IntoEndpoint, Route, Server};
use poem_openapi::OpenApiService;
use std::future::Future;
use std::time::Duration;

pub use data_inclusion::{DataInclusion, DataInclusionSettings};
pub use problem::{ApiError, Problem};
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

/// The only routes that are not operations of the OpenAPI document: the document itself and
/// its viewer. Every other route is served by the OpenAPI service, so it is documented; add
/// nothing to [`routes`] outside this list (a test holds the list to these two).
fn outside_the_document(
    service: &OpenApiService<api::Apis, ()>,
) -> Vec<(&'static str, poem::endpoint::BoxEndpoint<'static>)> {
    let spec = service.spec();
    vec![
        (
            "/openapi.json",
            poem::get(poem::endpoint::make_sync(move |_| {
                poem::Response::builder()
                    .content_type("application/json")
                    .body(spec.clone())
            }))
            .boxed(),
        ),
        ("/docs", service.swagger_ui().map_to_response().boxed()),
    ]
}

/// Every (method, path) the server answers, paths written as in the OpenAPI document
/// (`/api/v1/offers/{id}`); the two routes outside the document come with method `*`.
pub fn served_routes() -> Vec<(String, String)> {
    use poem_openapi::OpenApi;
    let mut table = std::collections::HashMap::new();
    api::apis().add_routes(&mut table);
    let mut served: Vec<(String, String)> = table
        .into_iter()
        .flat_map(|(path, methods)| {
            let path = path
                .split('/')
                .map(|seg| match seg.strip_prefix(':') {
                    Some(name) => format!("{{{name}}}"),
                    None => seg.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("/");
            methods
                .into_keys()
                .map(move |method| (method.as_str().to_lowercase(), path.clone()))
        })
        .chain(
            outside_the_document(&openapi())
                .into_iter()
                .map(|(path, _)| ("*".to_owned(), path.to_owned())),
        )
        .collect();
    served.sort();
    served
}

/// Every route of the API, with its middleware, ready to serve.
pub fn routes(state: AppState) -> impl poem::Endpoint<Output = poem::Response> + 'static {
    let service = openapi();
    let name_the_field = malformed::NameTheField::new(&openapi_json());
    let max_body = state.settings.max_body_bytes;
    let max_upload = state.settings.max_upload_bytes;
    let route =
        outside_the_document(&service)
            .into_iter()
            .fold(Route::new(), |route, (path, endpoint)| match path {
                // The viewer serves its assets below its path.
                "/docs" => route.nest(path, endpoint),
                _ => route.at(path, endpoint),
            });
    // The web pages are HTML for people, not API operations: they sit beside the document.
    #[cfg(feature = "web")]
    let route = web::mount(route);
    let route = route.nest("/", service.into_endpoint());
    #[cfg(feature = "web")]
    let route = route.with(web::RootRedirect);
    route
        .with(name_the_field)
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
