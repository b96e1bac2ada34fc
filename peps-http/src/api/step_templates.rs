//! Step templates ("démarches types"): public, no personal data. Each text says its language,
//! its writing direction and who wrote it, and falls back to French visibly.

use poem::Request;
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, param::Path, param::Query};

use super::Tag;
use super::catalogue::reader_language;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use peps_core::domain::{Direction, Language};
use peps_core::plans::templates::{StepTemplate, TemplateText, WhoActs};

pub struct StepTemplatesApi;

/// A template's texts in one language.
#[derive(Object)]
pub struct TemplateTextView {
    /// The language of these texts (`ar`, `fr-x-falc`…).
    pub language: String,
    /// `ltr` or `rtl`, for the front end.
    pub direction: String,
    /// `original`, `human_reviewed` or `machine`.
    pub provenance: String,
    /// True when the requested language has no text and French is shown instead.
    pub fallback: bool,
    pub title: String,
    pub explanation: String,
    /// What to do, in order.
    pub tasks: Vec<String>,
}

#[derive(Object)]
pub struct StepTemplateView {
    pub id: String,
    /// Who usually does it: `person`, `referent` or `helper`.
    pub who_acts: String,
    /// Kinds of documents it needs (wallet kinds).
    pub documents: Vec<String>,
    /// Catalogue topics whose offers suit it (for orientations).
    pub topics: Vec<String>,
    /// Official online services.
    pub links: Vec<String>,
    /// In the reader's language (or French, with `fallback`).
    pub text: TemplateTextView,
    /// The French original, when `text` is in another language.
    pub french: Option<TemplateTextView>,
    /// The easy-to-read French version (FALC).
    pub easy_french: Option<TemplateTextView>,
}

#[derive(Object)]
pub struct StepTemplateList {
    /// The language asked for.
    pub language: String,
    pub templates: Vec<StepTemplateView>,
}

fn text_view(code: &str, text: &TemplateText, fallback: bool) -> TemplateTextView {
    let direction = Language::parse(code).map_or(Direction::Ltr, |l| l.direction());
    TemplateTextView {
        language: code.to_owned(),
        direction: match direction {
            Direction::Rtl => "rtl",
            Direction::Ltr => "ltr",
        }
        .to_owned(),
        provenance: text
            .provenance
            .map_or("original", |p| p.as_str())
            .to_owned(),
        fallback,
        title: text.title.clone(),
        explanation: text.explanation.clone(),
        tasks: text.tasks.clone(),
    }
}

fn view(template: &StepTemplate, language: &Language) -> ApiResult<StepTemplateView> {
    let french_code = Language::REFERENCE;
    let french = template
        .texts
        .get(french_code)
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal"))?;
    let (text, french_too) = match template.texts.get(language.code()) {
        Some(text) if language.code() != french_code => (
            text_view(language.code(), text, false),
            Some(text_view(french_code, french, false)),
        ),
        Some(text) => (text_view(french_code, text, false), None),
        None => (text_view(french_code, french, true), None),
    };
    Ok(StepTemplateView {
        id: template.id.clone(),
        who_acts: match template.who_acts {
            WhoActs::Person => "person",
            WhoActs::Referent => "referent",
            WhoActs::Helper => "helper",
        }
        .to_owned(),
        documents: template.documents.clone(),
        topics: template.topics.clone(),
        links: template.links.clone(),
        text,
        french: french_too,
        easy_french: template
            .texts
            .get("fr-x-falc")
            .filter(|_| language.code() != "fr-x-falc")
            .map(|t| text_view("fr-x-falc", t, false)),
    })
}

#[OpenApi(tag = "Tag::Plans")]
impl StepTemplatesApi {
    /// Every step template, in the reader's language (`lang`, else Accept-Language).
    #[oai(path = "/api/v1/step-templates", method = "get")]
    async fn list(
        &self,
        req: &Request,
        state: Data<&AppState>,
        lang: Query<Option<String>>,
    ) -> ApiResult<Json<StepTemplateList>> {
        let language = reader_language(req, lang.0.as_deref())?;
        let templates = state
            .plans
            .templates()
            .all()
            .iter()
            .map(|t| view(t, &language))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(Json(StepTemplateList {
            language: language.code().to_owned(),
            templates,
        }))
    }

    /// One step template, in the reader's language.
    #[oai(path = "/api/v1/step-templates/:id", method = "get")]
    async fn one(
        &self,
        req: &Request,
        state: Data<&AppState>,
        id: Path<String>,
        lang: Query<Option<String>>,
    ) -> ApiResult<Json<StepTemplateView>> {
        let language = reader_language(req, lang.0.as_deref())?;
        let template = state
            .plans
            .templates()
            .get(&id.0)
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "resource.not_found"))?;
        Ok(Json(view(template, &language)?))
    }
}
