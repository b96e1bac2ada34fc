//! The HTTP calls to a provider: bounded in time and size, never following redirects, and
//! mapping every network failure or server error to [`SignInError::Unavailable`].

use peps_core::ports::SignInError;
use std::time::Duration;

/// Connecting and the whole request, each.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// No provider answer is larger (a discovery document or a key set is a few KiB).
const MAX_BODY_BYTES: usize = 256 * 1024;

pub(crate) fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(TIMEOUT)
        .timeout(TIMEOUT)
        // A redirect from a token or userinfo endpoint would carry the code or the access
        // token somewhere else.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("PEPS/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// An answer from the provider, read whole (up to the size limit).
pub(crate) struct Answer {
    pub status: reqwest::StatusCode,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Answer {
    /// The media type without parameters, lower case (`application/jwt`).
    pub fn media_type(&self) -> String {
        self.content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }
}

/// Sends the request and reads the answer. Network failures, time-outs, 5xx and oversized
/// bodies are `Unavailable`; other statuses are left to the caller.
pub(crate) async fn send(request: reqwest::RequestBuilder) -> Result<Answer, SignInError> {
    let mut response = request.send().await.map_err(|error| {
        // The URL is the provider's endpoint (no secret in it); the error carries no body.
        tracing::warn!(error = %error.without_url(), "OpenID provider unreachable");
        SignInError::Unavailable
    })?;
    let status = response.status();
    if status.is_server_error() {
        tracing::warn!(
            status = status.as_u16(),
            "OpenID provider answered a server error"
        );
        return Err(SignInError::Unavailable);
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    tracing::warn!("OpenID provider answer too large");
                    return Err(SignInError::Unavailable);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(_) => return Err(SignInError::Unavailable),
        }
    }
    Ok(Answer {
        status,
        content_type,
        body,
    })
}

/// `application/x-www-form-urlencoded` encoding of one value (RFC 6749 §2.3.1 asks for it on
/// the client id and secret before HTTP Basic).
pub(crate) fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
