//! The language of an answer (messages and results): `?lang=` where an operation takes it, else
//! the `Accept-Language` the client sent, else the signed-in account's own language, else
//! French. A person whose profile says Arabic reads Arabic from a client that sends nothing.

use poem::Request;
use poem::http::header;
use std::sync::{Arc, OnceLock};

use peps_core::domain::Language;

/// The signed-in account's language, learnt when the request's token is checked. The
/// `Problems` middleware puts an empty one in every request and reads it back for errors.
#[derive(Debug, Clone, Default)]
pub struct AccountLanguage(Arc<OnceLock<Language>>);

impl AccountLanguage {
    /// Notes the language of the account behind the request's token.
    pub fn remember(req: &Request, language: &Language) {
        if let Some(slot) = req.extensions().get::<Self>() {
            let _ = slot.0.set(language.clone());
        }
    }

    fn get(&self) -> Option<Language> {
        self.0.get().cloned()
    }
}

fn accept_language(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

/// The language of the answer when no `?lang=` chose one.
pub fn answer_language(req: &Request) -> Language {
    chosen(
        accept_language(req),
        req.extensions().get::<AccountLanguage>(),
    )
}

/// `Accept-Language` when sent wins; then the account's language; then French.
pub fn chosen(accept_language: Option<&str>, account: Option<&AccountLanguage>) -> Language {
    match (accept_language, account.and_then(AccountLanguage::get)) {
        (None, Some(language)) => language,
        (header, _) => Language::negotiate(header),
    }
}
