//! A server speaking Brevo's transactional SMS API, in process on 127.0.0.1, for tests (ours
//! and adopters'): it checks the API key and the request's JSON as Brevo documents it,
//! records each message, honours `Idempotency-Key` (the same key again gets the same answer
//! and records nothing), and can be told to fail.
//!
//! ```ignore
//! let server = peps_store::testing_sms::BrevoTestServer::start().await;
//! let sms = server.adapter(std::time::Duration::from_secs(2));
//! sms.send(&message).await?;
//! assert_eq!(server.messages().len(), 1);
//! ```

use poem::http::{HeaderMap, StatusCode};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Response, Route, Server, handler};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::task::JoinHandle;

use crate::sms::{BrevoSms, SmsSettings};

/// The key the server accepts.
pub const API_KEY: &str = "xkeysib-peps-test-0123456789abcdef";
/// The sender [`BrevoTestServer::adapter`] configures.
pub const SENDER: &str = "PEPS";

/// One message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedSms {
    pub message_id: u64,
    pub sender: String,
    pub recipient: String,
    /// The text as sent.
    pub content: String,
    /// What the phone shows: with `unicodeEnabled` false, characters outside GSM-7 are
    /// replaced, as Brevo transliterates them (here: `?`, so a test sees the damage).
    pub delivered: String,
    pub kind: String,
    pub tag: Option<Value>,
    pub unicode_enabled: bool,
    pub idempotency_key: Option<String>,
}

/// How the server answers the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// As Brevo does.
    #[default]
    Normal,
    /// Answers this status with a Brevo error body, recording nothing.
    Status(u16),
    /// Never answers.
    Hang,
}

#[derive(Default)]
struct State {
    behaviour: Behaviour,
    messages: Vec<ReceivedSms>,
    /// Idempotency key → the answer given the first time.
    answered: HashMap<String, u64>,
    next_id: u64,
    requests: usize,
}

/// Serves until dropped.
pub struct BrevoTestServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(json!({ "code": code, "message": message }).to_string())
}

/// Brevo's documented rules for the request, as a message on failure.
fn check_shape(body: &Value) -> Result<(), String> {
    let Some(object) = body.as_object() else {
        return Err("body must be a JSON object".into());
    };
    for key in object.keys() {
        if ![
            "sender",
            "recipient",
            "content",
            "type",
            "tag",
            "webUrl",
            "unicodeEnabled",
            "organisationPrefix",
        ]
        .contains(&key.as_str())
        {
            return Err(format!("unknown parameter {key}"));
        }
    }
    let text = |key: &str| object.get(key).and_then(Value::as_str);
    let sender = text("sender").ok_or("sender is required")?;
    let alphanumeric = sender.len() <= 11 && sender.chars().all(|c| c.is_ascii_alphanumeric());
    let numeric = sender.len() <= 15 && sender.chars().all(|c| c.is_ascii_digit());
    if sender.is_empty() || !(alphanumeric || numeric) {
        return Err("sender is invalid".into());
    }
    let recipient = text("recipient").ok_or("recipient is required")?;
    let digits = recipient.strip_prefix('+').unwrap_or(recipient);
    if !(6..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("Invalid phone number".into());
    }
    if text("content").is_none_or(str::is_empty) {
        return Err("content is required".into());
    }
    if let Some(kind) = object.get("type")
        && !matches!(kind.as_str(), Some("transactional" | "marketing"))
    {
        return Err("type must be transactional or marketing".into());
    }
    if let Some(flag) = object.get("unicodeEnabled")
        && !flag.is_boolean()
    {
        return Err("unicodeEnabled must be a boolean".into());
    }
    match object.get("tag") {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(tags))
            if tags.len() <= 10
                && tags
                    .iter()
                    .all(|t| t.as_str().is_some_and(|t| !t.is_empty())) => {}
        Some(_) => return Err("tag must be a string or up to 10 strings".into()),
    }
    Ok(())
}

#[handler]
async fn send(
    headers: &HeaderMap,
    body: String,
    Data(state): Data<&Arc<Mutex<State>>>,
) -> Response {
    let behaviour = {
        let mut state = lock(state);
        state.requests += 1;
        state.behaviour
    };
    match behaviour {
        Behaviour::Normal => {}
        Behaviour::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let code = if code == 400 {
                "invalid_parameter"
            } else {
                "failure"
            };
            return error(status, code, "the test server was told to fail");
        }
        Behaviour::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }
    let key = headers.get("api-key").and_then(|v| v.to_str().ok());
    if key != Some(API_KEY) {
        return error(StatusCode::UNAUTHORIZED, "unauthorized", "Key not found");
    }
    if !headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "JSON expected",
        );
    }
    let Ok(body) = serde_json::from_str::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "Malformed JSON");
    };
    if let Err(message) = check_shape(&body) {
        return error(StatusCode::BAD_REQUEST, "invalid_parameter", &message);
    }
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut state = lock(state);
    let reply = |id: u64| {
        Response::builder()
            .status(StatusCode::CREATED)
            .content_type("application/json")
            .body(json!({ "messageId": id }).to_string())
    };
    if let Some(id) = idempotency_key
        .as_ref()
        .and_then(|k| state.answered.get(k).copied())
    {
        return reply(id);
    }
    state.next_id += 1;
    let message_id = 1_511_882_900_176_220 + state.next_id;
    let content = body["content"].as_str().unwrap_or_default().to_owned();
    let unicode_enabled = body["unicodeEnabled"].as_bool().unwrap_or(false);
    let delivered = if unicode_enabled {
        content.clone()
    } else {
        content
            .chars()
            .map(|c| {
                if peps_core::sms::is_gsm7(c.encode_utf8(&mut [0; 4])) {
                    c
                } else {
                    '?'
                }
            })
            .collect()
    };
    state.messages.push(ReceivedSms {
        message_id,
        sender: body["sender"].as_str().unwrap_or_default().to_owned(),
        recipient: body["recipient"].as_str().unwrap_or_default().to_owned(),
        content,
        delivered,
        kind: body["type"].as_str().unwrap_or("transactional").to_owned(),
        tag: body.get("tag").cloned(),
        unicode_enabled,
        idempotency_key: idempotency_key.clone(),
    });
    if let Some(key) = idempotency_key {
        state.answered.insert(key, message_id);
    }
    reply(message_id)
}

impl BrevoTestServer {
    /// Panics when the server cannot start: a test that skipped it would prove nothing.
    pub async fn start() -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("listen on 127.0.0.1");
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .expect("local address");
        let state = Arc::new(Mutex::new(State::default()));
        let app = Route::new()
            .at("/v3/transactionalSMS/send", poem::post(send))
            .data(state.clone());
        let task = tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor).run(app).await;
        });
        Self { addr, state, task }
    }

    /// `http://127.0.0.1:PORT/v3`, for `notifications.sms_base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v3", self.addr)
    }

    /// Settings naming this server, with the right key and [`SENDER`].
    pub fn settings(&self, timeout: Duration) -> SmsSettings {
        SmsSettings {
            provider: "brevo".to_owned(),
            api_key: API_KEY.to_owned(),
            sender: SENDER.to_owned(),
            base_url: self.base_url(),
            timeout,
        }
    }

    /// A Brevo adapter sending to this server.
    pub fn adapter(&self, timeout: Duration) -> BrevoSms {
        BrevoSms::new(&self.settings(timeout)).expect("Brevo adapter on the test server")
    }

    /// How the next requests are answered.
    pub fn behave(&self, behaviour: Behaviour) {
        lock(&self.state).behaviour = behaviour;
    }

    /// The messages accepted so far, in order.
    pub fn messages(&self) -> Vec<ReceivedSms> {
        lock(&self.state).messages.clone()
    }

    /// Requests received so far, answered or not.
    pub fn requests(&self) -> usize {
        lock(&self.state).requests
    }
}

impl Drop for BrevoTestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
