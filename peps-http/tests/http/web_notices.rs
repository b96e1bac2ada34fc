//! The outbox and text messages on the pages, on SQLite and PostgreSQL: an admin sees the
//! messages that could not be sent and retries or discards them (CSRF required, nobody else
//! may); a person stops and restarts text messages from their account page.

use peps_core::i18n;
use peps_core::outbox::{OutboxMessage, OutboxStatus, Recipient};
use peps_core::ports::OutboxRepository;

use super::support::*;
use super::web::{Jar, get_page, hidden_csrf, post_form};

fn signed_in(token: &str) -> Jar {
    Jar {
        csrf: None,
        session: Some(token.to_owned()),
    }
}

/// The page's text with minijinja's escapes read back, to find a sentence in it.
fn readable(html: &str) -> String {
    html.replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A text message to `person` that the provider refused: parked.
async fn parked_text(app: &TestApp, person: peps_core::domain::AccountId) -> OutboxMessage {
    let message = OutboxMessage::new(
        Recipient::Sms {
            to: peps_core::domain::Phone::parse("06 12 34 56 78").unwrap(),
        },
        peps_core::domain::Language::parse("ar").unwrap(),
        "PEPS: إجراء جديد في خطتك.".into(),
        Some(person),
        "plans.new_step",
        peps_core::clock::Clock::now(app.clock.as_ref()),
    );
    app.shared
        .enqueue(std::slice::from_ref(&message))
        .await
        .unwrap();
    app.shared
        .record_failure(message.id, 1, "400 number refused", None)
        .await
        .unwrap();
    message
}

#[tokio::test]
async fn an_admin_retries_or_discards_what_could_not_be_sent_and_nobody_else_may() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let first = parked_text(&app, cast.person_p.0).await;

        // The admin's account page leads to the outbox, with the count.
        let mut admin = signed_in(&cast.admin.1);
        let (status, _, html) = get_page(&app, &mut admin, "/fr/account").await;
        assert_eq!(status, 200);
        assert!(html.contains("href=\"/fr/admin/outbox\""), "{html}");
        assert!(readable(&html).contains(&i18n::text_with(
            "web.outbox.link",
            "fr",
            &[("count", "1")]
        )));

        // Nobody else: anonymous to the sign-in page, staff and persons refused, no link.
        let resp = app.client.get("/fr/admin/outbox").send().await;
        resp.assert_status(poem::http::StatusCode::SEE_OTHER);
        resp.assert_header("location", "/fr/sign-in");
        for (who, token) in [
            ("worker A", &cast.worker_a.1),
            ("person P", &cast.person_p.1),
            ("member X", &cast.member_x.1),
        ] {
            let mut jar = signed_in(token);
            let (status, _, html) = get_page(&app, &mut jar, "/fr/admin/outbox").await;
            assert_eq!(status, 403, "{who}");
            assert!(!html.contains("…78"), "{who}");
            let (_, _, account) = get_page(&app, &mut jar, "/fr/account").await;
            assert!(!account.contains("/fr/admin/outbox"), "{who}");
        }

        // The list: the end of the number, the template, the provider's answer; not the text.
        let (status, _, html) = get_page(&app, &mut admin, "/fr/admin/outbox").await;
        assert_eq!(status, 200);
        assert!(html.contains("…78"));
        assert!(!html.contains("06 12 34 56 78"));
        assert!(html.contains("plans.new_step"));
        assert!(html.contains("400 number refused"));
        assert!(!html.contains("إجراء جديد"), "never the text");
        // When it was written, on the territory's clock (Paris by default), not UTC.
        let local = first.created_at.with_timezone(&chrono_tz::Europe::Paris);
        assert!(
            html.contains(&local.format("%d/%m/%Y %H:%M").to_string()),
            "{local} in {html}"
        );
        let (_, _, arabic) = get_page(&app, &mut admin, "/ar/admin/outbox").await;
        assert!(
            arabic.contains(&i18n::format_time(local.time(), "ar")),
            "Arabic digits: {arabic}"
        );
        assert!(!arabic.contains("UTC"));
        // The person's language named in its own words and voice.
        assert!(html.contains("<bdi lang=\"ar\">العربية</bdi>"), "{html}");
        let csrf = hidden_csrf(&html);
        let retry = format!("/fr/admin/outbox/{}/retry", first.id);

        // A worker's valid form is still refused; a form without its CSRF field too.
        let mut worker = signed_in(&cast.worker_a.1);
        let (_, _, worker_page) = get_page(&app, &mut worker, "/fr/account").await;
        let worker_csrf = hidden_csrf(&worker_page);
        let (status, _, _) = post_form(&app, &mut worker, &retry, &[("csrf", &worker_csrf)]).await;
        assert_eq!(status, 403);
        let (status, _, _) = post_form(&app, &mut admin, &retry, &[]).await;
        assert_eq!(status, 403);
        assert_eq!(
            app.shared.message(first.id).await.unwrap().status,
            OutboxStatus::Parked
        );

        let (status, headers, _) = post_form(&app, &mut admin, &retry, &[("csrf", &csrf)]).await;
        assert_eq!(status, 303);
        assert_eq!(headers["location"], "/fr/admin/outbox?done=retried");
        let m = app.shared.message(first.id).await.unwrap();
        assert_eq!((m.status, m.attempts), (OutboxStatus::Pending, 0));
        let (_, _, html) = get_page(&app, &mut admin, "/fr/admin/outbox?done=retried").await;
        assert!(readable(&html).contains(&i18n::text("web.outbox.retried", "fr")));
        assert!(readable(&html).contains(&i18n::text("web.outbox.empty", "fr")));
        // Retrying again: it is no longer parked.
        let (status, _, html) = post_form(&app, &mut admin, &retry, &[("csrf", &csrf)]).await;
        assert_eq!(status, 409);
        assert!(readable(&html).contains(&i18n::error_message("outbox.not_parked", "fr")));

        let second = parked_text(&app, cast.person_p.0).await;
        let (status, headers, _) = post_form(
            &app,
            &mut admin,
            &format!("/fr/admin/outbox/{}/discard", second.id),
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(headers["location"], "/fr/admin/outbox?done=discarded");
        assert!(app.shared.message(second.id).await.is_err());

        // Both are in P's trail, by the admin.
        let (_, trail) = status_json(
            app.client
                .get(format!("/api/v1/accounts/{}/audit-events", cast.person_p.0))
                .header("authorization", format!("Bearer {}", cast.admin.1))
                .send()
                .await,
        )
        .await;
        let actions: Vec<&str> = trail
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert!(actions.contains(&"notices.retried"), "{actions:?}");
        assert!(actions.contains(&"notices.discarded"), "{actions:?}");
    }
}

#[tokio::test]
async fn a_person_stops_and_restarts_text_messages_from_the_account_page() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let (person, token) = app
            .person_with_phone("person.r@test.peps", "06 98 76 54 32")
            .await;
        let mut jar = signed_in(&token);
        let (status, _, html) = get_page(&app, &mut jar, "/ar/account").await;
        assert_eq!(status, 200);
        assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"));
        // The number reads left to right inside the Arabic sentence.
        assert!(
            html.contains("<bdi dir=\"ltr\">06 98 76 54 32</bdi>"),
            "{html}"
        );
        assert!(readable(&html).contains(&i18n::text("web.sms.stop", "ar")));
        let csrf = hidden_csrf(&html);

        let (status, _, _) = post_form(
            &app,
            &mut jar,
            "/ar/account/text-messages",
            &[("sms", "off")],
        )
        .await;
        assert_eq!(status, 403, "no CSRF field");
        let (status, headers, _) = post_form(
            &app,
            &mut jar,
            "/ar/account/text-messages",
            &[("csrf", &csrf), ("sms", "off")],
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(headers["location"], "/ar/account?sms=stopped");
        assert!(app.shared.sms_opted_out(person).await.unwrap());
        let (_, _, html) = get_page(&app, &mut jar, "/ar/account?sms=stopped").await;
        assert!(readable(&html).contains(&i18n::text("web.sms.stopped", "ar")));
        assert!(readable(&html).contains(&i18n::text("web.sms.resume", "ar")));

        let (status, _, _) = post_form(
            &app,
            &mut jar,
            "/ar/account/text-messages",
            &[("csrf", &csrf), ("sms", "on")],
        )
        .await;
        assert_eq!(status, 303);
        assert!(!app.shared.sms_opted_out(person).await.unwrap());

        // Someone with no phone is told so, and has nothing to stop.
        let mut p = signed_in(&cast.person_p.1);
        let (_, _, html) = get_page(&app, &mut p, "/fr/account").await;
        assert!(readable(&html).contains(&i18n::text("web.sms.no_phone", "fr")));
        assert!(!html.contains("/fr/account/text-messages"));
        let csrf = hidden_csrf(&html);
        let (status, _, html) = post_form(
            &app,
            &mut p,
            "/fr/account/text-messages",
            &[("csrf", &csrf), ("sms", "off")],
        )
        .await;
        assert_eq!(status, 400);
        assert!(readable(&html).contains(&i18n::error_message("notices.sms.no_phone", "fr")));
        // Staff have no such section.
        let mut a = signed_in(&cast.worker_a.1);
        let (_, _, html) = get_page(&app, &mut a, "/fr/account").await;
        assert!(!html.contains("sms-title"));
    }
}
