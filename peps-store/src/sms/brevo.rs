//! [`SmsSender`] adapter for Brevo (formerly Sendinblue, Paris), transactional SMS.
//!
//! Follows Brevo's developer documentation, "Transactional SMS endpoints"
//! (<https://developers.brevo.com/docs/transactional-sms-endpoints>) and the changelog entry of
//! 1 May 2025 "Deprecated Endpoint: POST /v3/transactionalSMS/sms"
//! (<https://developers.brevo.com/changelog/2025/5/1>), which moves sending to
//! `POST https://api.brevo.com/v3/transactionalSMS/send`:
//!
//! - headers `api-key: <key>`, `content-type: application/json`, `accept: application/json`;
//! - body `{"sender", "recipient", "content", "type": "transactional", "tag", "unicodeEnabled"}`:
//!   `sender` is at most 11 letters and digits, `recipient` the number with its country code
//!   (6 to 15 digits), `tag` a string (or up to 10) that Brevo's logs and webhooks carry back,
//!   `unicodeEnabled` false makes Brevo turn characters outside GSM-7 into their closest
//!   Latin letters ("unicode option on all SMS endpoints", changelog of 10 November 2021);
//! - answer `201 {"messageId": 1511882900176220}`; an error is
//!   `{"code": "invalid_parameter", "message": "…"}` with 400, 401 (key), 402 (not enough
//!   credits), 403 (permission), 429 (rate), 5xx.
//!
//! The notice's `reference` goes in `tag` and in an `Idempotency-Key` header. Brevo documents
//! idempotency for transactional email only (an `idempotencyKey`); the header costs nothing on
//! the SMS endpoint, deduplicates retries at any gateway or proxy that honours it, and the tag
//! lets an operator find a duplicate in Brevo's logs.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

use peps_core::ports::{NotifyError, Sms, SmsSender};
use peps_core::sms::{SmsEncoding, sms_segments};

use super::{SenderName, SmsConfigError, SmsSettings, international_digits, number_ending};

/// Brevo's API, as `notifications.sms_base_url` defaults to.
pub const DEFAULT_BASE_URL: &str = "https://api.brevo.com/v3";

/// Sends text messages through Brevo's transactional SMS API.
pub struct BrevoSms {
    client: reqwest::Client,
    endpoint: String,
    api_key: String,
    sender: SenderName,
}

impl std::fmt::Debug for BrevoSms {
    // The API key is a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrevoSms")
            .field("endpoint", &self.endpoint)
            .field("sender", &self.sender.as_str())
            .field("api_key", &"<redacted>")
            .finish()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SendRequest<'a> {
    sender: &'a str,
    recipient: &'a str,
    content: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    tag: &'a str,
    unicode_enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendResponse {
    #[serde(default)]
    message_id: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct ErrorResponse {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl BrevoSms {
    /// Checks the key, the sender and the address, and builds the HTTP client (no network).
    pub fn new(settings: &SmsSettings) -> Result<Self, SmsConfigError> {
        let api_key = settings.api_key.trim();
        if api_key.is_empty() {
            return Err(SmsConfigError::MissingKey("brevo"));
        }
        let sender = SenderName::parse(&settings.sender)?;
        let base = match settings.base_url.trim() {
            "" => DEFAULT_BASE_URL,
            url => url,
        }
        .trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(SmsConfigError::BaseUrl(base.to_owned()));
        }
        if settings.timeout.is_zero() || settings.timeout > Duration::from_secs(120) {
            return Err(SmsConfigError::Timeout);
        }
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| SmsConfigError::Client(e.to_string()))?;
        Ok(Self {
            client,
            endpoint: format!("{base}/transactionalSMS/send"),
            api_key: api_key.to_owned(),
            sender,
        })
    }
}

/// Brevo's error answer, short and on one line (it goes to the log), with any phone number
/// it quotes masked.
fn describe(status: reqwest::StatusCode, body: &str) -> String {
    let error: ErrorResponse = serde_json::from_str(body).unwrap_or_default();
    let mut message = String::new();
    let mut digits = String::new();
    let flush = |digits: &mut String, message: &mut String| {
        if digits.len() >= 6 {
            message.push_str("[number]");
        } else {
            message.push_str(digits);
        }
        digits.clear();
    };
    for c in error.message.chars().take(200).filter(|c| !c.is_control()) {
        if c.is_ascii_digit() || (c == '+' && digits.is_empty()) {
            digits.push(c);
        } else {
            flush(&mut digits, &mut message);
            message.push(c);
        }
    }
    flush(&mut digits, &mut message);
    format!("Brevo answered {status} {} {message}", error.code)
        .trim_end()
        .to_owned()
}

#[async_trait]
impl SmsSender for BrevoSms {
    async fn send(&self, sms: &Sms) -> Result<(), NotifyError> {
        let recipient = international_digits(&sms.to).ok_or_else(|| {
            NotifyError::permanent(format!(
                "number ending {} cannot be written internationally",
                number_ending(&sms.to)
            ))
        })?;
        let segments = sms_segments(&sms.body);
        let response = self
            .client
            .post(&self.endpoint)
            .header("api-key", &self.api_key)
            .header("accept", "application/json")
            .header("Idempotency-Key", &sms.reference)
            .json(&SendRequest {
                sender: self.sender.as_str(),
                recipient: &recipient,
                content: &sms.body,
                kind: "transactional",
                tag: &sms.reference,
                unicode_enabled: segments.encoding == SmsEncoding::Ucs2,
            })
            .send()
            .await
            .map_err(|e| {
                // Timeouts, refused connections, DNS failures, a connection cut mid-answer:
                // the message may or may not have left; the retry carries the same key.
                if e.is_builder() {
                    // This message cannot be put in a request (a reference that is not a
                    // header value): the same message will never go.
                    return NotifyError::permanent(format!("Brevo request not built: {e}"));
                }
                let what = if e.is_timeout() {
                    "timed out"
                } else if e.is_connect() {
                    "unreachable"
                } else {
                    "request failed"
                };
                NotifyError::transient(format!("Brevo {what}: {}", e.without_url()))
            })?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status.is_success() {
            let id = serde_json::from_str::<SendResponse>(&body)
                .ok()
                .and_then(|r| r.message_id)
                .map(|id| id.to_string())
                .unwrap_or_default();
            tracing::info!(
                provider = "brevo",
                reference = %sms.reference,
                message_id = %id,
                to_ending = number_ending(&sms.to),
                segments = segments.segments,
                encoding = %segments.encoding.letter(),
                "text message sent"
            );
            return Ok(());
        }
        let reason = describe(status, &body);
        use reqwest::StatusCode as S;
        match status {
            // The key, the account or its credits: an operator's fix makes retries succeed.
            S::UNAUTHORIZED | S::FORBIDDEN | S::PAYMENT_REQUIRED => {
                tracing::error!(
                    provider = "brevo",
                    status = status.as_u16(),
                    "text messages refused for the account, not the message: check \
                     notifications.sms_api_key and the Brevo account's SMS credits; notices \
                     are retried"
                );
                Err(NotifyError::transient(reason))
            }
            // The address: every message would get the same answer.
            S::NOT_FOUND | S::METHOD_NOT_ALLOWED => {
                tracing::error!(
                    provider = "brevo",
                    status = status.as_u16(),
                    endpoint = %self.endpoint,
                    "text messages: the SMS API is not at this address: check \
                     notifications.sms_base_url; notices are retried"
                );
                Err(NotifyError::transient(reason))
            }
            S::REQUEST_TIMEOUT | S::TOO_MANY_REQUESTS => Err(NotifyError::transient(reason)),
            s if s.is_server_error() => Err(NotifyError::transient(reason)),
            // This message refused (a malformed number, a refused sender or text): sending it
            // again changes nothing.
            s if s.is_client_error() => Err(NotifyError::permanent(reason)),
            _ => Err(NotifyError::transient(reason)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_one_short_line_without_the_number() {
        let body = r#"{"code":"invalid_parameter","message":"Invalid phone number +33612345678\n in 2 fields"}"#;
        assert_eq!(
            describe(reqwest::StatusCode::BAD_REQUEST, body),
            "Brevo answered 400 Bad Request invalid_parameter Invalid phone number [number] in 2 fields"
        );
        assert_eq!(
            describe(reqwest::StatusCode::BAD_GATEWAY, "<html>"),
            "Brevo answered 502 Bad Gateway"
        );
    }
}
