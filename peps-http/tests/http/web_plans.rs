//! The plan pages over HTTP, on SQLite and PostgreSQL: a person signs in and lands on their
//! plan, reads it in French and in Arabic (right to left, machine translations marked, the
//! French one tap away), prints it; nobody else ever sees it on their own plan page, and only
//! those the core lets read it may print it.

use peps_core::i18n;
use serde_json::{Value, json};

use super::support::*;
use super::web::{Jar, food_bank, get_page, hidden_csrf, post_form, publish};

/// Person P's plan, written by their referent (worker A) over the API: a step from the
/// "RSA" template due on 20 November 2026, and a step sending P to a catalogue offer with an
/// appointment, tasks and a document to bring. Returns the plan's id.
pub async fn write_plan(app: &TestApp, worker: &str, person: uuid::Uuid, offer: &str) -> String {
    let post = |path: String, body: Value| async move {
        status_json(
            app.client
                .post(path)
                .header("authorization", format!("Bearer {worker}"))
                .body_json(&body)
                .send()
                .await,
        )
        .await
    };
    let (status, plan) = post(
        format!("/api/v1/persons/{person}/plans"),
        json!({"title": "Se nourrir cette semaine"}),
    )
    .await;
    assert_eq!(status, 201, "{plan}");
    let plan = plan["id"].as_str().unwrap().to_owned();
    for body in [
        json!({"template_id": "demander-le-rsa", "due_on": "2026-11-20"}),
        json!({
            "title": "Aller à la banque alimentaire",
            "explanation": "Présentez-vous à l'accueil avec ce plan.",
            "tasks": ["Prendre le bus 4", "Demander Mme Martin à l'accueil"],
            "orientation": {"offer_id": offer},
            "appointment_at": "2026-11-10T14:30:00",
            "documents": ["identity"],
        }),
    ] {
        let (status, step) = post(format!("/api/v1/plans/{plan}/steps"), body).await;
        assert_eq!(status, 201, "{step}");
    }
    plan
}

/// A browser signed in with `token` (the API's and the pages' sessions are the same).
fn signed_in(token: &str) -> Jar {
    Jar {
        csrf: None,
        session: Some(token.to_owned()),
    }
}

/// minijinja escapes `'`, `/` and `"` in values; the tests' `text` reads `/` and `'` back.
fn html_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[tokio::test]
async fn a_person_reads_their_plan_in_french_and_arabic_and_prints_it() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let offer = publish(&app, &cast.member_x.1, cast.org_x.0, food_bank()).await;
        let plan = write_plan(&app, &cast.worker_a.1, cast.person_p.0.0, &offer).await;

        // The person signs in with the password and lands on the plan.
        let mut jar = Jar::default();
        let (_, _, form) = get_page(&app, &mut jar, "/fr/sign-in").await;
        let csrf = hidden_csrf(&form);
        let (status, headers, _) = post_form(
            &app,
            &mut jar,
            "/fr/sign-in",
            &[
                ("login", "person.p@test.peps"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
        assert_eq!(status, 303, "{backend:?}");
        assert_eq!(headers.get("location").unwrap(), "/fr/plans");

        let (status, headers, html) = get_page(&app, &mut jar, "/fr/plans").await;
        assert_eq!(status, 200, "{html}");
        assert_eq!(
            headers.get("content-security-policy").unwrap(),
            peps_http::web::CSP
        );
        assert!(html.contains("<html lang=\"fr\" dir=\"ltr\">"));
        assert!(html.contains(&i18n::text("plans.print.heading", "fr")));
        assert!(html.contains("href=\"/fr/plans\" aria-current=\"page\""));
        assert!(html.contains("Se nourrir cette semaine"));
        // Steps in order, in an ordered list, each with its status in words.
        let list = html.find("<ol class=\"steps\">").expect("the steps' list");
        let rsa = html.find("RSA").expect("the RSA step");
        let food = html.find("Aller à la banque alimentaire").unwrap();
        assert!(list < rsa && rsa < food);
        assert!(html.contains(&i18n::text("plans.status.planned", "fr")));
        // The referent of now by name, not the former one.
        assert!(html.contains("Test worker.a@test.peps"));
        assert!(!html.contains("Test worker.c@test.peps"));
        // Dates in the reader's format, where and what to bring, a link to the offer's page.
        assert!(html.contains("20/11/2026"), "{html}");
        assert!(html.contains("10/11/2026") && html.contains("14:30"));
        assert!(html.contains(&format!("href=\"/fr/offers/{offer}\"")));
        assert!(html.contains("Banque alimentaire d'Auxerre"));
        assert!(html.contains("href=\"tel:+33386004242\""));
        assert!(html.contains(&html_text(&i18n::text("documents.kind.identity", "fr"))));
        assert!(html.contains("Prendre le bus 4"));
        let print = format!("/fr/plans/{plan}/print");
        assert!(html.contains(&format!("href=\"{print}\"")));
        // French is the original: no translation mark.
        assert!(!html.contains(&i18n::text("web.plans.machine", "fr")));

        // In Arabic: the same plan, right to left, the template's translation marked as a
        // machine translation (as the API says it is), the French a tap away.
        let (status, read) = status_json(
            app.client
                .get(format!("/api/v1/plans/{plan}?lang=ar"))
                .header("authorization", format!("Bearer {}", cast.person_p.1))
                .send()
                .await,
        )
        .await;
        assert_eq!(status, 200, "{read}");
        let rsa_ar = &read["steps"][0]["title"];
        assert_eq!(rsa_ar["language"], "ar", "{read}");
        assert_eq!(rsa_ar["provenance"], "machine", "{read}");
        let (status, _, html) = get_page(&app, &mut jar, "/ar/plans").await;
        assert_eq!(status, 200);
        assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"));
        assert!(html.contains(&html_text(rsa_ar["value"].as_str().unwrap())));
        assert!(html.contains(&format!(
            "<span lang=\"ar\" dir=\"rtl\">{}</span>",
            html_text(rsa_ar["value"].as_str().unwrap())
        )));
        assert!(html.contains(&i18n::text("web.plans.machine", "ar")));
        assert!(html.contains(&i18n::text("plans.status.planned", "ar")));
        assert!(html.contains(&i18n::text("web.offer.see_original", "ar")));
        assert!(html.contains("<div lang=\"fr\" dir=\"ltr\" class=\"french text\">"));
        // The free step has no Arabic yet: shown in French, tagged so, and said so.
        assert!(html.contains(&i18n::text("plans.print.not_translated", "ar")));
        assert!(
            html.contains("<span lang=\"fr\" dir=\"ltr\">Aller à la banque alimentaire</span>")
        );
        // Dates isolated inside the Arabic sentence, phone numbers left to right.
        assert!(html.contains("\u{2068}"));
        assert!(html.contains("<bdi dir=\"ltr\">03 86 00 42 42</bdi>"));
        assert!(html.contains(&format!("href=\"/ar/offers/{offer}\"")));

        // The printable sheet, through the session cookie, with the sheet's own policy.
        let (status, headers, sheet) = get_page(&app, &mut jar, &print).await;
        assert_eq!(status, 200, "{sheet}");
        // Nothing loads or runs but its inline style (the API's sheet's policy).
        let csp = headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            csp.starts_with("default-src 'none'; style-src 'unsafe-inline'"),
            "{csp}"
        );
        assert!(!csp.contains("script-src"), "{csp}");
        assert_eq!(headers.get("x-frame-options").unwrap(), "DENY");
        assert!(sheet.contains("<html lang=\"fr\" dir=\"ltr\">"));
        assert!(sheet.contains("Se nourrir cette semaine"));
        assert!(sheet.contains("Test person.p@test.peps"));
        let (status, _, sheet) = get_page(&app, &mut jar, &format!("/ar/plans/{plan}/print")).await;
        assert_eq!(status, 200);
        assert!(sheet.contains("<html lang=\"ar\" dir=\"rtl\">"));
        assert!(sheet.contains(&i18n::text("plans.print.heading", "ar")));
    }
}

#[tokio::test]
async fn nobody_else_sees_the_plan_and_each_role_lands_where_it_should() {
    for backend in backends() {
        let app = TestApp::new(backend).await;
        let cast = Cast::new(&app).await;
        let offer = publish(&app, &cast.member_x.1, cast.org_x.0, food_bank()).await;
        let plan = write_plan(&app, &cast.worker_a.1, cast.person_p.0.0, &offer).await;
        let print = format!("/fr/plans/{plan}/print");

        // Anonymous: to the sign-in page, for the list and the sheet alike.
        for path in ["/fr/plans", print.as_str()] {
            let resp = app.client.get(path).send().await;
            resp.assert_status(poem::http::StatusCode::SEE_OTHER);
            resp.assert_header("location", "/fr/sign-in");
        }

        // Another person: their own empty plan page, never P's plan; P's sheet is not found.
        let mut q = signed_in(&cast.person_q.1);
        let (status, _, html) = get_page(&app, &mut q, "/fr/plans").await;
        assert_eq!(status, 200);
        assert!(html.contains(&html_text(&i18n::text("web.plans.empty", "fr"))));
        assert!(!html.contains("Se nourrir cette semaine"));
        assert!(html.contains("href=\"/fr/plans\" aria-current=\"page\""));
        let (status, _, html) = get_page(&app, &mut q, &print).await;
        assert_eq!(status, 404);
        assert!(!html.contains("Se nourrir cette semaine"));
        assert!(html.contains("<html lang=\"fr\""));

        // Staff have no plan of their own: the page says so, and shows nobody else's — not
        // even the referent's own person's. No "my plan" link in their header.
        for (who, token) in [
            ("worker A (referent)", &cast.worker_a.1),
            ("worker B", &cast.worker_b.1),
            ("admin", &cast.admin.1),
            ("member X", &cast.member_x.1),
            ("helper", &cast.helper.1),
        ] {
            let mut jar = signed_in(token);
            let (status, _, html) = get_page(&app, &mut jar, "/fr/plans").await;
            assert_eq!(status, 200, "{who}");
            assert!(
                html.contains(&html_text(&i18n::text("web.plans.empty_staff", "fr"))),
                "{who}: {html}"
            );
            assert!(!html.contains("Se nourrir cette semaine"), "{who}");
            assert!(!html.contains("RSA"), "{who}");
            assert!(!html.contains("href=\"/fr/plans\""), "{who}");
        }

        // The sheet: the referent prints it (as the API lets them); an unrelated worker, the
        // former referent and a member get the 404 page; the admin, who may know that the
        // plan exists but not read it, is refused.
        let mut a = signed_in(&cast.worker_a.1);
        let (status, _, sheet) = get_page(&app, &mut a, &print).await;
        assert_eq!(status, 200);
        assert!(sheet.contains("Se nourrir cette semaine"));
        for (who, token) in [
            ("worker B", &cast.worker_b.1),
            ("former referent", &cast.ex_referent.1),
            ("member X", &cast.member_x.1),
        ] {
            let mut jar = signed_in(token);
            let (status, _, html) = get_page(&app, &mut jar, &print).await;
            assert_eq!(status, 404, "{who}");
            assert!(!html.contains("Se nourrir cette semaine"), "{who}");
        }
        let mut admin = signed_in(&cast.admin.1);
        let (status, _, html) = get_page(&app, &mut admin, &print).await;
        assert_eq!(status, 403);
        assert!(!html.contains("Se nourrir cette semaine"));
        // Not a plan id: not found.
        let (status, _, _) = get_page(&app, &mut a, "/fr/plans/not-a-plan/print").await;
        assert_eq!(status, 404);

        // Landing after a password sign-in: a person on their plan, a worker on the account.
        for (login, to) in [
            ("person.q@test.peps", "/fr/plans"),
            ("member.x@test.peps", "/fr/account"),
            ("worker.b@test.peps", "/fr/account"),
        ] {
            let mut jar = Jar::default();
            let (_, _, form) = get_page(&app, &mut jar, "/fr/sign-in").await;
            let csrf = hidden_csrf(&form);
            let (status, headers, _) = post_form(
                &app,
                &mut jar,
                "/fr/sign-in",
                &[("login", login), ("password", PASSWORD), ("csrf", &csrf)],
            )
            .await;
            assert_eq!(status, 303, "{login}");
            assert_eq!(headers.get("location").unwrap(), to, "{login}");
        }
    }
}
