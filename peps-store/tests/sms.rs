//! The Brevo SMS adapter against an in-process server speaking Brevo's API
//! (`peps_store::testing_sms`).

use std::time::{Duration, Instant};

use peps_core::domain::{Language, Phone};
use peps_core::ports::{Sms, SmsSender};
use peps_store::sms::{BrevoSms, SmsSettings};
use peps_store::testing_sms::{API_KEY, Behaviour, BrevoTestServer, SENDER};

fn sms(reference: &str, to: &str, language: &str, body: &str) -> Sms {
    Sms {
        reference: reference.to_owned(),
        to: Phone::parse(to).unwrap(),
        language: Language::parse(language).unwrap(),
        body: body.to_owned(),
    }
}

const FRENCH: &str = "PEPS : une démarche de votre plan est à faire avant le 15/12/2026.";
const ARABIC: &str = "PEPS: خطوة في خطتك يجب القيام بها قبل 15/12/2026.";

#[tokio::test]
async fn sends_the_text_to_the_international_number_with_its_reference() {
    let server = BrevoTestServer::start().await;
    let adapter = server.adapter(Duration::from_secs(5));
    adapter
        .send(&sms("notice-1", "06 12 34 56 78", "fr", FRENCH))
        .await
        .unwrap();
    let sent = server.messages();
    assert_eq!(sent.len(), 1);
    let m = &sent[0];
    assert_eq!(m.recipient, "33612345678");
    assert_eq!(m.sender, SENDER);
    assert_eq!(m.content, FRENCH);
    assert_eq!(m.delivered, FRENCH, "é and à are GSM-7: nothing replaced");
    assert_eq!(m.kind, "transactional");
    assert!(!m.unicode_enabled, "a GSM-7 text goes as GSM-7 (cheaper)");
    assert_eq!(m.tag, Some(serde_json::json!("notice-1")));
    assert_eq!(m.idempotency_key.as_deref(), Some("notice-1"));
}

#[tokio::test]
async fn a_text_outside_gsm7_is_sent_as_unicode() {
    let server = BrevoTestServer::start().await;
    let adapter = server.adapter(Duration::from_secs(5));
    adapter
        .send(&sms("notice-ar", "+33 (0)7 81 00 00 00", "ar", ARABIC))
        .await
        .unwrap();
    adapter
        .send(&sms(
            "notice-fr",
            "0033 6 12 34 56 78",
            "fr",
            "PEPS : votre démarche doit être faite.",
        ))
        .await
        .unwrap();
    let sent = server.messages();
    assert_eq!(sent[0].recipient, "33781000000");
    assert!(sent[0].unicode_enabled);
    assert_eq!(sent[0].delivered, ARABIC, "the Arabic text arrives whole");
    assert_eq!(sent[1].recipient, "33612345678");
    assert!(sent[1].unicode_enabled, "one ê makes the whole text UCS-2");
    assert!(!sent[1].delivered.contains('?'));
}

#[tokio::test]
async fn a_retry_with_the_same_reference_is_recorded_once() {
    let server = BrevoTestServer::start().await;
    let adapter = server.adapter(Duration::from_secs(5));
    let message = sms("outbox-42", "06 12 34 56 78", "fr", FRENCH);
    adapter.send(&message).await.unwrap();
    adapter.send(&message).await.unwrap();
    assert_eq!(server.requests(), 2);
    assert_eq!(
        server.messages().len(),
        1,
        "the provider deduplicated the retry"
    );
    adapter
        .send(&sms("outbox-43", "06 12 34 56 78", "fr", FRENCH))
        .await
        .unwrap();
    assert_eq!(
        server.messages().len(),
        2,
        "another notice is another message"
    );
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_transient() {
    let server = BrevoTestServer::start().await;
    let adapter = server.adapter(Duration::from_secs(5));
    let message = sms("n", "06 12 34 56 78", "fr", FRENCH);
    for status in [500, 502, 503, 429] {
        server.behave(Behaviour::Status(status));
        let err = adapter.send(&message).await.unwrap_err();
        assert!(!err.permanent, "{status}: {err}");
        assert!(err.reason.contains(&status.to_string()), "{err}");
    }
    // Once the provider is back, the retry goes through.
    server.behave(Behaviour::Normal);
    adapter.send(&message).await.unwrap();
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn a_refused_message_is_permanent() {
    let server = BrevoTestServer::start().await;
    let adapter = server.adapter(Duration::from_secs(5));
    server.behave(Behaviour::Status(400));
    let err = adapter
        .send(&sms("n", "06 12 34 56 78", "fr", FRENCH))
        .await
        .unwrap_err();
    assert!(err.permanent, "{err}");
    assert!(err.reason.contains("invalid_parameter"), "{err}");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn a_number_that_cannot_be_international_is_permanent_without_a_request() {
    let server = BrevoTestServer::start().await;
    let adapter = server.adapter(Duration::from_secs(5));
    let err = adapter
        .send(&sms("n", "115", "fr", FRENCH))
        .await
        .unwrap_err();
    assert!(err.permanent, "{err}");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn a_hanging_provider_times_out_as_transient() {
    let server = BrevoTestServer::start().await;
    let adapter = server.adapter(Duration::from_millis(400));
    server.behave(Behaviour::Hang);
    let started = Instant::now();
    let err = adapter
        .send(&sms("n", "06 12 34 56 78", "fr", FRENCH))
        .await
        .unwrap_err();
    assert!(!err.permanent, "{err}");
    assert!(err.reason.contains("timed out"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn an_unreachable_provider_is_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}/v3", listener.local_addr().unwrap());
    drop(listener);
    let adapter = BrevoSms::new(&SmsSettings {
        provider: "brevo".into(),
        api_key: API_KEY.into(),
        sender: SENDER.into(),
        base_url,
        timeout: Duration::from_secs(2),
    })
    .unwrap();
    let err = adapter
        .send(&sms("n", "06 12 34 56 78", "fr", FRENCH))
        .await
        .unwrap_err();
    assert!(!err.permanent, "{err}");
}

#[tokio::test]
async fn a_wrong_key_is_transient_and_never_shown() {
    let server = BrevoTestServer::start().await;
    let mut settings = server.settings(Duration::from_secs(5));
    settings.api_key = "xkeysib-wrong-key-do-not-print".into();
    let adapter = BrevoSms::new(&settings).unwrap();
    let err = adapter
        .send(&sms("n", "06 12 34 56 78", "fr", FRENCH))
        .await
        .unwrap_err();
    assert!(!err.permanent, "a fixed key makes the retry succeed: {err}");
    assert!(err.reason.contains("401"), "{err}");
    assert!(!err.reason.contains("xkeysib"), "{err}");
    assert!(server.messages().is_empty());

    let debug = format!("{adapter:?} {settings:?}");
    assert!(!debug.contains("xkeysib-wrong-key-do-not-print"), "{debug}");
    let good = server.adapter(Duration::from_secs(5));
    assert!(!format!("{good:?}").contains(API_KEY));
    assert!(format!("{good:?}").contains("redacted"));
}
