//! Liveness, readiness and the list of languages.

use poem::web::Data;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, OpenApi};

use super::Tag;
use super::views::LanguageInfo;
use crate::state::AppState;
use peps_core::domain::Language;

pub struct SystemApi;

#[derive(ApiResponse)]
enum Readiness {
    /// The database answers.
    #[oai(status = 200)]
    Ready(PlainText<&'static str>),
    /// The database does not answer.
    #[oai(status = 503)]
    NotReady(PlainText<&'static str>),
}

#[OpenApi(tag = "Tag::System")]
impl SystemApi {
    /// Liveness: the process answers.
    #[oai(path = "/health", method = "get")]
    async fn health(&self) -> PlainText<&'static str> {
        PlainText("ok")
    }

    /// Readiness: the database answers.
    #[oai(path = "/ready", method = "get")]
    async fn ready(&self, state: Data<&AppState>) -> Readiness {
        match state.health.ping().await {
            Ok(()) => Readiness::Ready(PlainText("ready")),
            Err(err) => {
                tracing::warn!(error = %err, "readiness check failed");
                Readiness::NotReady(PlainText("database unavailable"))
            }
        }
    }

    /// The languages PEPS speaks, with their native names and writing direction.
    #[oai(path = "/api/v1/languages", method = "get")]
    async fn languages(&self) -> Json<Vec<LanguageInfo>> {
        Json(
            Language::all()
                .iter()
                .map(|l| LanguageInfo {
                    code: l.code.clone(),
                    name: l.name.clone(),
                    native_name: l.native_name.clone(),
                    direction: l.direction.into(),
                    note: l.note.clone(),
                })
                .collect(),
        )
    }
}
