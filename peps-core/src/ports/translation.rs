//! Translation port: machine translation of free text a worker writes.

use async_trait::async_trait;

use crate::domain::*;

#[derive(Debug, thiserror::Error)]
#[error("translation failed: {0}")]
pub struct TranslateError(pub String);

/// Machine translation of free text a worker writes (adapters: none by default; a
/// self-hosted LibreTranslate server). Results are always shown as machine-translated, with
/// the original one tap away.
#[async_trait]
pub trait Translator: Send + Sync {
    /// `texts` from `source` into `target`, in the same order; `Ok(None)` when this translator
    /// does not offer that pair of languages.
    async fn translate(
        &self,
        texts: &[String],
        source: &Language,
        target: &Language,
    ) -> Result<Option<Vec<String>>, TranslateError>;
}

/// No machine translation: texts stay in French until someone translates them.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTranslator;

#[async_trait]
impl Translator for NoTranslator {
    async fn translate(
        &self,
        _: &[String],
        _: &Language,
        _: &Language,
    ) -> Result<Option<Vec<String>>, TranslateError> {
        Ok(None)
    }
}
