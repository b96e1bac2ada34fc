//! The pages in a real browser: a real server on 127.0.0.1:0, driven by Debian's headless
//! Chromium through tests/browser/run.mjs (axe-core on every page in fr, fr-x-falc, en, ar, uk
//! and ps; keyboard path; JavaScript off; 320 px; the printable plan as PDF in ar and fa, read
//! back with pdftotext). Without Chromium, node, pdftotext or the npm packages (`npm ci` in
//! peps-http/tests/browser) the test says so and passes, unless `CI` is set.
//!
//! `PEPS_SCREENSHOTS=docs/screenshots` also writes the main pages' screenshots there.

use std::path::Path;
use std::process::Command;

use super::support::*;
use super::web::{food_bank, publish};
use super::web_plans::write_plan;

fn missing_tools(dir: &Path) -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!(
            "no Chromium at {chromium} (apt-get install chromium)"
        ));
    }
    if Command::new("pdftotext").arg("-v").output().is_err() {
        return Some("no pdftotext (apt-get install poppler-utils)".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("no node (apt-get install nodejs)".into());
    }
    if !dir.join("node_modules/axe-core").exists()
        || !dir.join("node_modules/playwright-core").exists()
    {
        return Some(format!(
            "no npm packages in {} (run `npm ci` there)",
            dir.display()
        ));
    }
    None
}

/// Says why and passes without the tools, unless `CI` is set.
fn tools_present(dir: &Path) -> bool {
    let Some(missing) = missing_tools(dir) else {
        return true;
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "browser tests are required in CI: {missing}"
    );
    eprintln!("SKIPPED browser tests: {missing}");
    false
}

#[tokio::test]
async fn pages_pass_axe_keyboard_no_script_and_narrow_screens_in_chromium() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !tools_present(&dir) {
        return;
    }
    let app = TestApp::new(backends()[0]).await;
    let cast = Cast::new(&app).await;
    let offer = publish(&app, &cast.member_x.1, cast.org_x.0, food_bank()).await;
    let mut other = food_bank();
    other["title"] = serde_json::json!("Épicerie solidaire");
    other["opening_hours"] = serde_json::json!("Tu,Th 14:00-18:00");
    publish(&app, &cast.member_x.1, cast.org_x.0, other).await;
    // A Monday, 10:00 in Paris: the food bank is open.
    use chrono::TimeZone;
    app.clock
        .set(chrono::Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap());
    // Signed in at the new time (the cast's sessions started at the test's first clock).
    let (print_path, token, plan) = plan_to_print(&app, &cast, &offer).await;
    // A text message the provider refused, for the admin's outbox page; a person with a
    // phone, for the text-message choice on the account page.
    let parked = peps_core::outbox::OutboxMessage::new(
        peps_core::outbox::Recipient::Sms {
            to: peps_core::domain::Phone::parse("06 12 34 56 78").unwrap(),
        },
        peps_core::domain::Language::parse("ar").unwrap(),
        "PEPS".into(),
        Some(cast.person_p.0),
        "plans.appointment",
        peps_core::clock::Clock::now(app.clock.as_ref()),
    );
    {
        use peps_core::ports::OutboxRepository;
        app.shared
            .enqueue(std::slice::from_ref(&parked))
            .await
            .unwrap();
        app.shared
            .record_failure(parked.id, 10, "HTTP 503 from the provider", None)
            .await
            .unwrap();
    }
    let admin_token = app.login("admin@test.peps").await;
    let (_, sms_token) = app
        .person_with_phone("person.r@test.peps", "+33 6 98 76 54 32")
        .await;

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(peps_http::serve_tcp(listener, app.state.clone(), async {
        let _ = stopped.await;
    }));

    let mut args = vec![
        "run.mjs".to_owned(),
        base,
        offer,
        "member.x@test.peps".to_owned(),
        PASSWORD.to_owned(),
    ];
    if let Some(shots) = std::env::var_os("PEPS_SCREENSHOTS") {
        let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(shots);
        std::fs::create_dir_all(&shots).unwrap();
        args.push(shots.to_string_lossy().into_owned());
    }
    let clock_ms = peps_core::clock::Clock::now(app.clock.as_ref()).timestamp_millis();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(&args)
            .env("PEPS_PRINT_PATH", print_path)
            .env("PEPS_PRINT_TOKEN", token)
            .env("PEPS_PRINT_EXPECT", PRINT_EXPECT.join("\n"))
            .env("PEPS_PERSON_LOGIN", "person.p@test.peps")
            .env("PEPS_PLAN_ID", plan)
            .env("PEPS_ADMIN_TOKEN", admin_token)
            .env("PEPS_SMS_TOKEN", sms_token)
            .env("PEPS_CLOCK_MS", clock_ms.to_string())
            .current_dir(&dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let _ = stop.send(());
    let _ = server.await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "browser checks failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("\"pages_checked_with_axe\": 81"),
        "{stdout}"
    );
}

/// What the printed plan must show in reading order in Arabic and Persian, as pdftotext reads
/// it back from the PDF (in visual order: a number laid out backwards comes out backwards).
const PRINT_EXPECT: &[&str] = &[
    "03 86 00 42 42",
    "12 rue de Paris 89000 Auxerre",
    "contact@banque.example.org",
    "10/11/2026",
];

/// Person P's plan, written by their referent: a step from a template, and one sending P to
/// the food bank with an appointment. Returns the printable page's path, the referent's token
/// and the plan's id.
async fn plan_to_print(app: &TestApp, cast: &Cast, offer: &str) -> (String, String, String) {
    let worker = app.login("worker.a@test.peps").await;
    let plan = write_plan(app, &worker, cast.person_p.0.0, offer).await;
    (format!("/api/v1/plans/{plan}/print"), worker, plan)
}

/// FranceConnect and ProConnect in Chromium with JavaScript off, against the local OpenID
/// providers: a person is linked once with the password, then FranceConnect alone opens her
/// plan in Arabic, and signing out offers the provider's logout; a worker is linked by
/// ProConnect on the spot (email and SIRET vouched for); another, whom no account matches,
/// waits until the admin links her on the queue's page. tests/browser/run-oidc.mjs.
#[tokio::test]
async fn franceconnect_and_proconnect_sign_in_in_chromium() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !tools_present(&dir) {
        return;
    }
    if !crate::oidc_provider::tools_present() {
        return;
    }
    use crate::provider_sign_in::{Site, provider, users};
    let app = TestApp::new(backends()[0]).await;
    let cast = Cast::new(&app).await;
    let resp = app
        .client
        .put("/api/v1/me/language")
        .header("authorization", format!("Bearer {}", cast.person_p.1))
        .body_json(&serde_json::json!({"language": "ar"}))
        .send()
        .await;
    resp.assert_status_is_ok();
    // Her referent has written her plan: FranceConnect brings her to it.
    let offer = publish(&app, &cast.member_x.1, cast.org_x.0, food_bank()).await;
    write_plan(&app, &cast.worker_a.1, cast.person_p.0.0, &offer).await;
    let (listener, base) = Site::bind().await;
    let op = crate::oidc_provider::LocalProvider::start_for(
        "franceconnect",
        users(&[(
            "paulette",
            serde_json::json!({"given_name": "Paulette", "family_name": "Martin", "birthdate": "1950-03-01"}),
        )]),
        &format!("{base}/oidc/franceconnect/callback"),
        &format!("{base}/"),
    );
    let fc = provider(
        &op,
        &base,
        peps_http::oidc::OpenIdSettings::franceconnect_v2,
        "FranceConnect",
        vec![peps_core::domain::Role::Person],
        vec![],
    );
    // ProConnect: a worker of an organisation whose SIRET the provider vouches for.
    // Camille is known to PEPS under another email: her request waits for the admin ("chef",
    // strong through ProConnect), who links it on the queue's page.
    crate::provider_sign_in::ccas_workers(
        &app,
        &["ines@ccas.example.org", "camille.martin@ccas.example.org"],
    )
    .await;
    let pc_op = crate::oidc_provider::LocalProvider::start_for(
        "proconnect",
        users(&[
            (
                "ines",
                serde_json::json!({"email": "ines@ccas.example.org", "given_name": "Inès", "usual_name": "Haddad", "uid": "ines", "siret": "21750001600019"}),
            ),
            (
                "camille",
                serde_json::json!({"email": "c.martin@mairie-sens.example.org", "given_name": "Camille", "usual_name": "Martin", "uid": "camille", "siret": "21750001600019"}),
            ),
            (
                "chef",
                serde_json::json!({"email": "admin@test.peps", "given_name": "Chef", "usual_name": "Admin", "uid": "chef"}),
            ),
        ]),
        &format!("{base}/oidc/proconnect/callback"),
        &format!("{base}/"),
    );
    let pc = provider(
        &pc_op,
        &base,
        peps_http::oidc::OpenIdSettings::proconnect,
        "ProConnect",
        vec![
            peps_core::domain::Role::Worker,
            peps_core::domain::Role::Member,
            peps_core::domain::Role::Admin,
        ],
        vec!["eidas1".to_owned()],
    );
    let site = Site::serve(&app, listener, vec![fc, pc]);
    let mut args = vec![
        "run-oidc.mjs".to_owned(),
        base,
        "person.p@test.peps".to_owned(),
        PASSWORD.to_owned(),
        "paulette".to_owned(),
        "ines".to_owned(),
        "camille".to_owned(),
        "chef".to_owned(),
        "camille.martin@ccas.example.org".to_owned(),
    ];
    if let Some(shots) = std::env::var_os("PEPS_SCREENSHOTS") {
        let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(shots);
        std::fs::create_dir_all(&shots).unwrap();
        args.push(shots.to_string_lossy().into_owned());
    }
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    site.close().await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "FranceConnect or ProConnect in Chromium failed:\n{stdout}\n{stderr}\n{}\n{}",
        op.log(),
        pc_op.log()
    );
    assert!(stdout.contains("\"pages_checked_with_axe\": 9"), "{stdout}");
}
