//! Who is visiting: the session cookie (the same sessions as the API's bearer tokens, from the
//! same identity core) and the CSRF token every form carries.
//!
//! CSRF: a random `peps_csrf` cookie (HttpOnly, SameSite=Lax) plus a hidden field holding a
//! hash of that cookie *and* the session token. A cross-site page can neither read the cookie
//! nor compute the field, and a cookie planted from elsewhere is useless without the session.
//! Both cookies are replaced at sign-in and sign-out.

use poem::Request;
use poem::http::header;
use sha2::{Digest, Sha256};

use crate::state::AppState;
use peps_core::CoreError;
use peps_core::services::{Authenticated, SessionHolder};

pub const SESSION_COOKIE: &str = "peps_session";
pub const CSRF_COOKIE: &str = "peps_csrf";

pub fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A fresh random value for the CSRF cookie (two UUID v4: 244 random bits).
pub fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

pub fn csrf_for(csrf_cookie: &str, session: Option<&str>) -> String {
    let mut hash = Sha256::new();
    hash.update(b"peps-web-csrf\0");
    hash.update(csrf_cookie.as_bytes());
    hash.update(b"\0");
    hash.update(session.unwrap_or("").as_bytes());
    hash.finalize()
        .iter()
        .take(20)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares in time independent of where the first difference is.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub struct Visit {
    pub session_token: Option<String>,
    pub viewer: Option<Authenticated>,
    /// A session that awaits its second factor (or needs a stronger one): it signs nobody in
    /// and opens only the second-factor page; its token still binds the forms' CSRF field.
    pub holder: Option<SessionHolder>,
    /// The CSRF cookie's value; `new_csrf` when it must be set with this response.
    pub csrf_cookie: String,
    pub new_csrf: bool,
}

impl Visit {
    /// Reads the cookies; a session cookie that no longer opens a session counts as none.
    pub async fn of(req: &Request, state: &AppState) -> Self {
        let session_token = cookie(req, SESSION_COOKIE).map(str::to_owned);
        let (viewer, holder) = match &session_token {
            Some(token) => match state.identity.authenticate(token).await {
                Ok(viewer) => (Some(viewer), None),
                Err(CoreError::SecondFactorRequired { .. }) => {
                    (None, state.identity.authenticate_holder(token).await.ok())
                }
                Err(_) => (None, None),
            },
            None => (None, None),
        };
        let (csrf_cookie, new_csrf) = match cookie(req, CSRF_COOKIE) {
            Some(v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                (v.to_owned(), false)
            }
            _ => (random_token(), true),
        };
        let live = viewer.is_some() || holder.is_some();
        Self {
            session_token: session_token.filter(|_| live),
            viewer,
            holder,
            csrf_cookie,
            new_csrf,
        }
    }

    /// The session whatever its assurance (a pending one, or a signed-in visitor's), for the
    /// second-factor steps.
    pub async fn any_holder(&self, state: &AppState) -> Option<SessionHolder> {
        if let Some(holder) = &self.holder {
            return Some(holder.clone());
        }
        let token = self
            .session_token
            .as_deref()
            .filter(|_| self.viewer.is_some())?;
        state.identity.authenticate_holder(token).await.ok()
    }

    /// The value of the hidden `csrf` field of this visit's forms.
    pub fn csrf(&self) -> String {
        csrf_for(&self.csrf_cookie, self.session_token.as_deref())
    }

    /// Whether a posted form carries this visit's token.
    pub fn csrf_ok(&self, posted: Option<&str>) -> bool {
        !self.new_csrf && posted.is_some_and(|p| same(p, &self.csrf()))
    }
}

/// `Set-Cookie` for one of our cookies: HttpOnly and SameSite=Lax always, Secure behind HTTPS;
/// a session cookie (no Max-Age) unless it is being removed.
pub fn set_cookie(name: &str, value: &str, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if value.is_empty() {
        c.push_str("; Max-Age=0");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_token_depends_on_both_cookies() {
        let a = csrf_for("aa", None);
        assert_ne!(a, csrf_for("aa", Some("peps_x")));
        assert_ne!(a, csrf_for("ab", None));
        assert_eq!(a, csrf_for("aa", None));
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &csrf_for("ab", None)));
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_behind_https() {
        let c = set_cookie(SESSION_COOKIE, "t", true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        assert!(!set_cookie(SESSION_COOKIE, "t", false).contains("Secure"));
        assert!(set_cookie(SESSION_COOKIE, "", false).contains("Max-Age=0"));
    }
}
