//! [`Translator`] adapter for a self-hosted LibreTranslate server (libretranslate.com's open
//! source API), configured by URL. Texts are sent to that server only: run it on the
//! collectivity's own infrastructure, since workers' notes about people pass through it.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

use peps_core::domain::Language;
use peps_core::ports::{TranslateError, Translator};

pub struct LibreTranslate {
    client: reqwest::Client,
    endpoint: String,
    api_key: Option<String>,
}

impl std::fmt::Debug for LibreTranslate {
    // The API key is a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibreTranslate")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Request<'a> {
    q: &'a [String],
    source: &'a str,
    target: &'a str,
    format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key: Option<&'a str>,
}

#[derive(Deserialize)]
struct Response {
    #[serde(rename = "translatedText")]
    translated: Vec<String>,
}

/// PEPS's language codes in LibreTranslate's. Easy-to-read French is written by people, never
/// by a machine.
fn libre_code(language: &Language) -> Option<&str> {
    match language.code() {
        "fr-x-falc" => None,
        code => Some(code),
    }
}

impl LibreTranslate {
    /// `url` is the server's base address (`http://translate.internal:5000`).
    pub fn new(url: &str, api_key: Option<String>) -> Result<Self, TranslateError> {
        let base = url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(TranslateError(format!(
                "translator URL must start with http:// or https://: {base}"
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| TranslateError(e.to_string()))?;
        Ok(Self {
            client,
            endpoint: format!("{base}/translate"),
            api_key,
        })
    }
}

#[async_trait]
impl Translator for LibreTranslate {
    async fn translate(
        &self,
        texts: &[String],
        source: &Language,
        target: &Language,
    ) -> Result<Option<Vec<String>>, TranslateError> {
        let (Some(from), Some(to)) = (libre_code(source), libre_code(target)) else {
            return Ok(None);
        };
        if texts.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let response = self
            .client
            .post(&self.endpoint)
            .json(&Request {
                q: texts,
                source: from,
                target: to,
                format: "text",
                api_key: self.api_key.as_deref(),
            })
            .send()
            .await
            .map_err(|e| TranslateError(format!("LibreTranslate unreachable: {e}")))?;
        let status = response.status();
        // LibreTranslate answers 400 for a language it does not offer.
        if status == reqwest::StatusCode::BAD_REQUEST {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(TranslateError(format!("LibreTranslate answered {status}")));
        }
        let body: Response = response
            .json()
            .await
            .map_err(|e| TranslateError(format!("LibreTranslate answer unreadable: {e}")))?;
        if body.translated.len() != texts.len() {
            return Err(TranslateError(format!(
                "LibreTranslate returned {} texts for {}",
                body.translated.len(),
                texts.len()
            )));
        }
        Ok(Some(body.translated))
    }
}
