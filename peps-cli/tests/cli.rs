//! The `peps` binary as an operator uses it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn peps(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_peps"));
    cmd.current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("PEPS_DATABASE__URL")
        .env("PEPS_LOG__LEVEL", "warn");
    cmd
}

#[test]
fn config_default_is_the_documented_example_and_loads() {
    let dir = tempfile::tempdir().unwrap();
    let out = peps(dir.path())
        .args(["config", "default"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[database]") && text.contains("login_failures_per_account"));
    std::fs::write(dir.path().join("peps.toml"), &text).unwrap();
    let check = peps(dir.path()).args(["config", "check"]).output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn config_check_refuses_text_messages_without_a_key_and_never_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = peps(dir.path())
        .args(["config", "check"])
        .env("PEPS_NOTIFICATIONS__SMS", "brevo")
        .env_remove("PEPS_NOTIFICATIONS__SMS_API_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("notifications.sms_api_key is missing"),
        "{stderr}"
    );
    let out = peps(dir.path())
        .args(["config", "check"])
        .env("PEPS_NOTIFICATIONS__SMS", "brevo")
        .env("PEPS_NOTIFICATIONS__SMS_API_KEY", "xkeysib-never-printed")
        .env("PEPS_NOTIFICATIONS__SMS_SENDER", "PEPS 89")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("notifications.sms_sender"), "{stderr}");
    let out = peps(dir.path())
        .args(["config", "check"])
        .env("PEPS_NOTIFICATIONS__SMS", "brevo")
        .env("PEPS_NOTIFICATIONS__SMS_API_KEY", "xkeysib-never-printed")
        .env("PEPS_NOTIFICATIONS__SMS_SENDER", "CCAS89")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("CCAS89"), "{stdout}");
    assert!(!stdout.contains("xkeysib") && !stderr.contains("xkeysib"));
}

#[test]
fn unknown_configuration_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("peps.toml"),
        "[server]\nlisen = \"0.0.0.0:1\"\n",
    )
    .unwrap();
    let out = peps(dir.path()).args(["config", "check"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("lisen"));
}

#[test]
fn create_admin_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = peps(dir.path())
        .args(["admin", "create-admin", "--email", "dsi@example.org"])
        .env_remove("PEPS_ADMIN_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"une longue phrase secrete\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("dsi@example.org"));
    assert!(dir.path().join("peps-data/peps.db").exists());

    // A second admin with the same email is refused with a clear message.
    let out = peps(dir.path())
        .args(["admin", "create-admin", "--email", "DSI@example.org"])
        .env("PEPS_ADMIN_PASSWORD", "une autre phrase secrete")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("account.login_taken"));

    // A weak password is refused before anything is written.
    let out = peps(dir.path())
        .args(["admin", "create-admin", "--email", "other@example.org"])
        .env("PEPS_ADMIN_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("account.password.too_weak"));
}

struct Demo {
    child: Child,
    url: String,
    password: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_demo(dir: &std::path::Path, password: Option<&str>) -> Demo {
    start_demo_with(dir, password, &[])
}

fn start_demo_with(dir: &std::path::Path, password: Option<&str>, env: &[(&str, &str)]) -> Demo {
    let mut cmd = peps(dir);
    cmd.envs(env.iter().copied());
    cmd.arg("demo")
        .env("PEPS_SERVER__LISTEN", "0.0.0.0:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    match password {
        Some(p) => cmd.env("PEPS_DEMO_PASSWORD", p),
        None => cmd.env_remove("PEPS_DEMO_PASSWORD"),
    };
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let (mut url, mut pw) = (None, None);
    let started = Instant::now();
    while url.is_none() || pw.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "demo did not start"
        );
        let line = lines.next().expect("demo output").unwrap();
        if let Some(rest) = line.strip_prefix("PEPS demo is running on ") {
            url = Some(rest.trim().to_owned());
        }
        if let Some(rest) = line.split("password for all: ").nth(1) {
            pw = Some(rest.trim_end_matches(')').trim_end_matches("):").to_owned());
        }
    }
    Demo {
        child,
        url: url.unwrap(),
        password: pw.unwrap(),
    }
}

fn http(url: &str, body: Option<&str>) -> (u16, String) {
    // A minimal HTTP/1.1 client: the test needs nothing more.
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    let request = match body {
        Some(b) => format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
            b.len()
        ),
        None => format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    };
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn demo_runs_on_loopback_twice_without_duplicating() {
    let dir = tempfile::tempdir().unwrap();
    let first = start_demo(dir.path(), None);
    assert!(
        first.url.starts_with("http://127.0.0.1:"),
        "demo must listen on loopback: {}",
        first.url
    );
    assert_eq!(http(&format!("{}/health", first.url), None).0, 200);
    let login = format!(
        r#"{{"email":"person@demo.peps","password":"{}"}}"#,
        first.password
    );
    let (status, body) = http(&format!("{}/api/v1/auth/login", first.url), Some(&login));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"token\":\"peps_"));
    // The demo person's plan page shows the plan their referent wrote, step by step.
    let token = field(&body, "token").to_owned();
    let (status, page) = page_with_session(&format!("{}/fr/plans", first.url), &token);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<ol class=\"steps\">"), "{page}");
    assert_eq!(page.matches("<li class=\"step step-").count(), 4, "{page}");
    // A catalogue to search, across the three themes.
    let (status, body) = http(
        &format!("{}/api/v1/offers?limit=1&facets=true", first.url),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"total\":240"), "{body}");
    for theme in ["ville-du-quotidien", "soin-de-soi", "formation-emploi"] {
        assert!(body.contains(&format!("\"code\":\"{theme}\"")), "{theme}");
    }
    drop(first);

    let second = start_demo(dir.path(), Some("Mon mot de passe de démo"));
    for email in ["admin", "worker", "member", "person", "helper"] {
        let login =
            format!(r#"{{"email":"{email}@demo.peps","password":"Mon mot de passe de démo"}}"#);
        let (status, body) = http(&format!("{}/api/v1/auth/login", second.url), Some(&login));
        assert_eq!(status, 200, "{email}: {body}");
    }
    // Still one account per demo role: the admin lists them.
    let login = r#"{"email":"admin@demo.peps","password":"Mon mot de passe de démo"}"#;
    let (_, body) = http(&format!("{}/api/v1/auth/login", second.url), Some(login));
    let token = body
        .split("\"token\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    // The demo admin sets up a second factor at the first sign-in, as any admin does.
    let (status, start) = http_as(
        &format!("{}/api/v1/auth/second-factor/enrolment", second.url),
        "POST",
        &token,
    );
    assert_eq!(status, 200, "{start}");
    let secret = peps_core::auth::totp::from_base32(field(&start, "secret")).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code = peps_core::auth::totp::code_for_step(&secret, (now / 30) as i64);
    let (status, body) = http_with(
        &format!("{}/api/v1/auth/second-factor/enrolment/confirm", second.url),
        &token,
        &format!(r#"{{"code":"{code}"}}"#),
    );
    assert_eq!(status, 200, "{body}");
    let rest = second.url.strip_prefix("http://").unwrap().to_owned();
    let mut stream = std::net::TcpStream::connect(&rest).unwrap();
    write!(stream, "GET /api/v1/accounts?limit=200 HTTP/1.1\r\nHost: {rest}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    assert_eq!(response.matches("\"login\":").count(), 5, "{response}");
    // And the catalogue was not seeded twice.
    let (_, body) = http(&format!("{}/api/v1/offers?limit=1", second.url), None);
    assert!(body.contains("\"total\":240"), "{body}");
}

/// A request with a bearer token; returns status and body.
fn http_as(url: &str, method: &str, token: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A page read with the session cookie a browser would hold (HTTP/1.0: the body is not chunked).
fn page_with_session(url: &str, token: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nCookie: peps_session={token}\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    std::io::Read::read_to_end(&mut stream, &mut response).unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A JSON POST with a bearer token; returns status and body.
fn http_with(url: &str, token: &str, body: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn field<'a>(body: &'a str, name: &str) -> &'a str {
    body.split(&format!("\"{name}\":\""))
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Where a crash test keeps its blobs: a folder, or a bucket of an S3 server in this process.
enum CrashBlobs {
    Folder,
    S3(
        peps_store::testing_s3::S3TestServer,
        // The S3 server's tasks run here while the `peps` process talks to it.
        #[allow(dead_code)] tokio::runtime::Runtime,
    ),
}

impl CrashBlobs {
    fn s3() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(peps_store::testing_s3::S3TestServer::start());
        CrashBlobs::S3(server, rt)
    }

    fn env(&self) -> Vec<(String, String)> {
        match self {
            CrashBlobs::Folder => vec![],
            CrashBlobs::S3(server, _) => {
                let c = server.credentials();
                vec![
                    ("PEPS_WALLET__BLOB_URL".into(), server.url()),
                    ("PEPS_WALLET__S3_ACCESS_KEY_ID".into(), c.access_key_id),
                    (
                        "PEPS_WALLET__S3_SECRET_ACCESS_KEY".into(),
                        c.secret_access_key,
                    ),
                ]
            }
        }
    }

    /// Committed blobs.
    fn stored(&self, dir: &std::path::Path) -> usize {
        match self {
            CrashBlobs::Folder => files_under(&dir.join("peps-data/blobs/blobs")).len(),
            CrashBlobs::S3(server, _) => {
                files_under(&server.root().join(peps_store::testing_s3::BUCKET)).len()
            }
        }
    }
}

/// A PostgreSQL database of its own for a crash test (the demo uses the default schema), when
/// PostgreSQL is configured for tests; dropped at the end.
struct CrashDatabase {
    url: String,
    admin_url: String,
    name: String,
}

impl CrashDatabase {
    fn create() -> Option<Self> {
        Self::named("peps_crash")
    }

    /// A database `<prefix>_<process id>`: tests running at once in this process need
    /// different prefixes.
    fn named(prefix: &str) -> Option<Self> {
        let admin_url = std::env::var("PEPS_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())?;
        let name = format!("{prefix}_{}", std::process::id());
        let (base, _) = admin_url.rsplit_once('/')?;
        let url = format!("{base}/{name}");
        Self::sql(&admin_url, &format!("DROP DATABASE IF EXISTS {name}"));
        Self::sql(&admin_url, &format!("CREATE DATABASE {name}"));
        Some(Self {
            url,
            admin_url,
            name,
        })
    }

    fn sql(url: &str, statement: &str) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use sea_orm::ConnectionTrait;
            let db = sea_orm::Database::connect(url).await.unwrap();
            db.execute_unprepared(statement).await.unwrap();
            db.close().await.unwrap();
        });
    }
}

impl Drop for CrashDatabase {
    fn drop(&mut self) {
        Self::sql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// kill -9 in the middle of an upload: after a restart, no record, no blob, no partial file.
fn killed_mid_upload_leaves_no_trace(blobs: CrashBlobs, database: Option<&CrashDatabase>) {
    let dir = tempfile::tempdir().unwrap();
    let password = "Mot de passe du test de panne";
    let mut env = blobs.env();
    env.push(("PEPS_WALLET__REAP_AFTER_MINUTES".into(), "0".into()));
    if let Some(db) = database {
        env.push(("PEPS_DATABASE__URL".into(), db.url.clone()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let start = |dir: &std::path::Path| {
        let mut demo = start_demo_with(dir, Some(password), &env);
        let login = format!(r#"{{"email":"person@demo.peps","password":"{password}"}}"#);
        let (_, body) = http(&format!("{}/api/v1/auth/login", demo.url), Some(&login));
        let token = field(&body, "token").to_owned();
        let (_, me) = http_as(&format!("{}/api/v1/me", demo.url), "GET", &token);
        let id = field(&me, "id").to_owned();
        demo.password = token;
        (demo, id)
    };
    let (mut demo, person) = start(dir.path());
    let partial_dir = dir.path().join("peps-data/blobs/partial");
    // The demo's own sample documents.
    let blobs_before = blobs.stored(dir.path());
    let list = format!("{}/api/v1/persons/{person}/documents", demo.url);
    let (_, listed_before) = http_as(&list, "GET", &demo.password);

    let host = demo.url.strip_prefix("http://").unwrap().to_owned();
    let mut stream = std::net::TcpStream::connect(&host).unwrap();
    let total = 16 * 1024 * 1024;
    write!(
        stream,
        "POST /api/v1/persons/{person}/documents?kind=identity HTTP/1.1\r\nHost: {host}\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/pdf\r\nContent-Length: {total}\r\n\r\n",
        demo.password
    )
    .unwrap();
    let mut page = b"%PDF-1.7\n".to_vec();
    page.resize(256 * 1024, b'x');
    // 12 MiB of 16: past the first 5 MiB part of an S3 multipart upload.
    for _ in 0..48 {
        stream.write_all(&page).unwrap();
    }
    stream.flush().unwrap();
    // Wait until the server is writing the upload out, then kill it without warning.
    match &blobs {
        CrashBlobs::Folder => {
            let started = Instant::now();
            while files_under(&partial_dir)
                .iter()
                .all(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0) == 0)
            {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "no partial upload appeared"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // The multipart upload's parts are inside the S3 server; give them time to arrive.
        CrashBlobs::S3(..) => std::thread::sleep(Duration::from_millis(1500)),
    }
    demo.child.kill().unwrap(); // SIGKILL
    demo.child.wait().unwrap();
    drop(stream);
    if matches!(blobs, CrashBlobs::Folder) {
        assert_eq!(
            files_under(&partial_dir).len(),
            1,
            "the crash left a partial upload"
        );
    }
    if let CrashBlobs::S3(server, _) = &blobs {
        let inflight = files_under(server.root())
            .iter()
            .filter(|f| {
                f.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(".upload")
            })
            .count();
        assert!(inflight > 0, "the kill came before any part reached S3");
    }
    drop(demo);

    let (demo, _) = start(dir.path());
    assert!(
        files_under(&partial_dir).is_empty(),
        "the partial upload was reaped at start"
    );
    assert_eq!(blobs.stored(dir.path()), blobs_before, "no new blob");
    let list = format!("{}/api/v1/persons/{person}/documents", demo.url);
    let (status, listed_after) = http_as(&list, "GET", &demo.password);
    assert_eq!(status, 200);
    assert_eq!(
        listed_after.matches("\"download_url\"").count(),
        listed_before.matches("\"download_url\"").count(),
        "no new document"
    );
}

#[test]
fn a_server_killed_mid_upload_leaves_no_trace_after_restart() {
    killed_mid_upload_leaves_no_trace(CrashBlobs::Folder, None);
}

#[test]
fn a_server_killed_mid_upload_to_s3_leaves_no_trace_after_restart() {
    killed_mid_upload_leaves_no_trace(CrashBlobs::s3(), None);
}

#[test]
fn a_server_killed_mid_upload_on_postgresql_leaves_no_trace_after_restart() {
    match CrashDatabase::create() {
        Some(db) => killed_mid_upload_leaves_no_trace(CrashBlobs::Folder, Some(&db)),
        None if std::env::var_os("PEPS_REQUIRE_POSTGRES").is_some() => {
            panic!("PEPS_REQUIRE_POSTGRES is set but PEPS_TEST_DATABASE_URL is not")
        }
        None => eprintln!("PostgreSQL not configured: crash test on SQLite only"),
    }
}

// ----- backup and restore -----------------------------------------------------------------

/// A request with a bearer token and an optional body, over HTTP/1.0 so the answer is not
/// chunked; returns the status and the raw body.
fn request(url: &str, method: &str, token: &str, body: Option<(&str, &[u8])>) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    let mut head =
        format!("{method} {path} HTTP/1.0\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n");
    if let Some((content_type, bytes)) = body {
        head.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            bytes.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    if let Some((_, bytes)) = body {
        stream.write_all(bytes).unwrap();
    }
    let mut response = Vec::new();
    std::io::Read::read_to_end(&mut stream, &mut response).unwrap();
    let status = String::from_utf8_lossy(&response[9..12]).parse().unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .unwrap_or(response.len());
    (status, response[split..].to_vec())
}

fn login(url: &str, email: &str, password: &str) -> (String, String) {
    let body = format!(r#"{{"email":"{email}","password":"{password}"}}"#);
    let (status, answer) = http(&format!("{url}/api/v1/auth/login"), Some(&body));
    assert_eq!(status, 200, "{answer}");
    let token = field(&answer, "token").to_owned();
    let (_, me) = http_as(&format!("{url}/api/v1/me"), "GET", &token);
    (token, field(&me, "id").to_owned())
}

/// `peps serve` on a free loopback port, in `dir`, with the default configuration.
fn serve(dir: &std::path::Path) -> Demo {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let child = peps(dir)
        .arg("serve")
        .env("PEPS_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "peps serve did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Demo {
        child,
        url,
        password: String::new(),
    }
}

fn integrity(db: &std::path::Path) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sea_orm::ConnectionTrait;
        let db = sea_orm::Database::connect(format!("sqlite://{}?mode=ro", db.display()))
            .await
            .unwrap();
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await
            .unwrap()
            .unwrap();
        let verdict: String = row.try_get_by_index(0).unwrap();
        db.close().await.unwrap();
        verdict
    })
}

/// Every document listed for the person, downloaded: (status, body) per file.
fn download_all(url: &str, token: &str, person: &str) -> Vec<(u16, Vec<u8>)> {
    let (status, list) = request(
        &format!("{url}/api/v1/persons/{person}/documents"),
        "GET",
        token,
        None,
    );
    assert_eq!(status, 200);
    let list = String::from_utf8(list).unwrap();
    list.split("\"download_url\":\"")
        .skip(1)
        .map(|rest| {
            let path = rest.split('"').next().unwrap();
            request(&format!("{url}{path}"), "GET", token, None)
        })
        .collect()
}

const BACKED_UP: &[u8] = b"%PDF-1.7\n% backup test document ";

#[test]
fn a_backup_taken_during_writes_restores_on_an_empty_machine() {
    let machine = tempfile::tempdir().unwrap();
    let password = "Mot de passe du test de sauvegarde";
    let demo = start_demo_with(machine.path(), Some(password), &[]);
    let (token, person) = login(&demo.url, "person@demo.peps", password);

    // Uploads go on in a loop while the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let uploaded = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Vec<u8>>::new()));
    let writer = {
        let (stop, uploaded) = (stop.clone(), uploaded.clone());
        let url = format!(
            "{}/api/v1/persons/{person}/documents?kind=identity",
            demo.url
        );
        let token = token.clone();
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let mut content = BACKED_UP.to_vec();
                content.extend_from_slice(format!("{i}\n").as_bytes());
                content.resize(64 * 1024, b'x');
                let (status, body) =
                    request(&url, "POST", &token, Some(("application/pdf", &content)));
                assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
                uploaded.lock().unwrap().push(content);
                i += 1;
            }
        })
    };
    let wait_for = |n: usize| {
        let started = Instant::now();
        while uploaded.lock().unwrap().len() < n {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "uploads stalled"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait_for(5);
    let before = uploaded.lock().unwrap().len();
    let out = peps(machine.path())
        .args(["backup", "--to", "backups"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("wallet.keys") && stderr.contains("NOT in this backup"),
        "{stderr}"
    );
    let backup = machine
        .path()
        .join(String::from_utf8(out.stdout).unwrap().trim());
    wait_for(before + 3);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.join().unwrap();
    drop(demo);
    let uploaded = uploaded.lock().unwrap().clone();
    let names: Vec<String> = files_under(&backup)
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"manifest.json".to_owned()) && names.contains(&"peps.db".to_owned()));
    assert!(!names.iter().any(|n| n.contains("keys")), "{names:?}");

    // An empty machine that kept only the key file.
    let empty = tempfile::tempdir().unwrap();
    std::fs::create_dir(empty.path().join("peps-data")).unwrap();
    std::fs::copy(
        machine.path().join("peps-data/wallet.keys"),
        empty.path().join("peps-data/wallet.keys"),
    )
    .unwrap();
    let started = Instant::now();
    let out = peps(empty.path())
        .arg("restore")
        .arg("--from")
        .arg(&backup)
        .output()
        .unwrap();
    eprintln!("restore took {:?}", started.elapsed());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(integrity(&empty.path().join("peps-data/peps.db")), "ok");

    let server = serve(empty.path());
    let (token, person_again) = login(&server.url, "person@demo.peps", password);
    assert_eq!(person_again, person);
    let files = download_all(&server.url, &token, &person);
    let mut restored = 0;
    for (status, body) in &files {
        assert_eq!(status, &200, "{}", String::from_utf8_lossy(body));
        if body.starts_with(BACKED_UP) {
            assert!(
                uploaded.contains(body),
                "a restored document is not one uploaded"
            );
            restored += 1;
        }
    }
    assert!(
        restored >= before && restored < uploaded.len(),
        "{restored} restored: at least the {before} uploaded before the backup, not the {} \
         uploaded in all",
        uploaded.len()
    );
    drop(server);

    // With another key, even under the same id, every document is refused with a clear
    // error, never garbage.
    let kept = std::fs::read_to_string(empty.path().join("peps-data/wallet.keys")).unwrap();
    let id = kept
        .lines()
        .rfind(|l| !l.starts_with('#') && l.contains(':'))
        .and_then(|l| l.split(':').next())
        .unwrap()
        .to_owned();
    let other = peps(empty.path())
        .args(["wallet", "new-key", "--id", &id])
        .output()
        .unwrap();
    std::fs::write(empty.path().join("peps-data/wallet.keys"), &other.stdout).unwrap();
    let server = serve(empty.path());
    let (token, _) = login(&server.url, "person@demo.peps", password);
    let files = download_all(&server.url, &token, &person);
    assert!(!files.is_empty());
    for (status, body) in &files {
        assert_eq!(*status, 500);
        let body = String::from_utf8_lossy(body);
        assert!(body.contains("document.key_invalid"), "{body}");
    }
}

const BLOB: &str = "blobs/ab/ab0123456789abcdef0123456789abcd";

/// A small backup (a migrated database and one stored file) to damage.
fn small_backup(dir: &std::path::Path) -> std::path::PathBuf {
    assert!(peps(dir).arg("migrate").output().unwrap().status.success());
    let blob = dir.join("peps-data/blobs").join(BLOB);
    std::fs::create_dir_all(blob.parent().unwrap()).unwrap();
    std::fs::write(&blob, vec![7u8; 4096]).unwrap();
    let out = peps(dir)
        .args(["backup", "--to", "backups"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join(String::from_utf8(out.stdout).unwrap().trim())
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for file in files_under(from) {
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, target).unwrap();
    }
}

#[test]
fn a_damaged_or_partial_backup_is_refused_and_the_target_stays_empty() {
    let machine = tempfile::tempdir().unwrap();
    let backup = small_backup(machine.path());
    type Damage = fn(&std::path::Path);
    let cases: [(&str, Damage, &str); 5] = [
        (
            "a flipped byte",
            |b| {
                let path = b.join(BLOB);
                let mut bytes = std::fs::read(&path).unwrap();
                bytes[100] ^= 1;
                std::fs::write(path, bytes).unwrap();
            },
            BLOB,
        ),
        (
            "a truncated database",
            |b| {
                let path = b.join("peps.db");
                let bytes = std::fs::read(&path).unwrap();
                std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
            },
            "peps.db",
        ),
        (
            "a missing file",
            |b| std::fs::remove_file(b.join(BLOB)).unwrap(),
            "is missing",
        ),
        (
            "a format from a newer PEPS",
            |b| {
                let path = b.join("manifest.json");
                let text = std::fs::read_to_string(&path).unwrap();
                std::fs::write(path, text.replace("\"format\": 1", "\"format\": 2")).unwrap();
            },
            "backup format 2",
        ),
        (
            "no manifest (an interrupted backup)",
            |b| std::fs::remove_file(b.join("manifest.json")).unwrap(),
            "not a complete backup",
        ),
    ];
    for (what, damage, named) in cases {
        let copy = tempfile::tempdir().unwrap();
        copy_tree(&backup, copy.path());
        damage(copy.path());
        let target = tempfile::tempdir().unwrap();
        let out = peps(target.path())
            .arg("restore")
            .arg("--from")
            .arg(copy.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}: restored");
        assert!(stderr.contains(named), "{what}: {stderr}");
        assert!(
            files_under(target.path()).is_empty(),
            "{what}: something was written"
        );
    }
}

#[test]
fn restore_refuses_a_place_that_holds_data() {
    let machine = tempfile::tempdir().unwrap();
    let backup = small_backup(machine.path());
    // The machine itself still has its database and files.
    let out = peps(machine.path())
        .arg("restore")
        .arg("--from")
        .arg(&backup)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("peps.db already exists") && stderr.contains("move"),
        "{stderr}"
    );

    // Only the blob folder holds something.
    let target = tempfile::tempdir().unwrap();
    let stray = target.path().join("peps-data/blobs/blobs/cd/stray");
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, b"x").unwrap();
    let out = peps(target.path())
        .arg("restore")
        .arg("--from")
        .arg(&backup)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("is not empty"), "{stderr}");
    assert_eq!(files_under(target.path()), vec![stray]);
}

#[test]
fn backup_refuses_postgresql_and_s3_and_points_to_the_procedure() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value, says) in [
        (
            "PEPS_DATABASE__URL",
            "postgres://peps:s3cret@db.invalid/peps",
            "pg_dump",
        ),
        (
            "PEPS_WALLET__BLOB_URL",
            "s3://wallet?endpoint=http://127.0.0.1:9",
            "versioning",
        ),
    ] {
        for command in ["backup", "restore"] {
            let flag = if command == "backup" {
                "--to"
            } else {
                "--from"
            };
            let out = peps(dir.path())
                .args([command, flag, "somewhere"])
                .env(key, value)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success());
            assert!(
                stderr.contains(says) && stderr.contains("docs/operating.md"),
                "{command} {value}: {stderr}"
            );
            assert!(!stderr.contains("s3cret"), "{stderr}");
        }
    }
    assert!(files_under(dir.path()).is_empty(), "nothing written");
}

// ----- the outbox survives a crash ---------------------------------------------------------

/// An SMTP relay on 127.0.0.1 that takes its time to answer each message (a slow provider)
/// and knows messages by their Message-ID, as a relay that honours the key does: it counts
/// every delivery attempt and every distinct message.
struct SlowRelay {
    url: String,
    attempts: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    received: std::sync::mpsc::Receiver<()>,
}

impl SlowRelay {
    fn start(delay: Duration) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let attempts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tell, received) = std::sync::mpsc::channel();
        let kept = attempts.clone();
        std::thread::spawn(move || {
            for socket in listener.incoming().flatten() {
                let kept = kept.clone();
                let tell = tell.clone();
                std::thread::spawn(move || {
                    let mut write = socket.try_clone().unwrap();
                    let mut lines = BufReader::new(socket).lines();
                    let _ = write.write_all(b"220 slow ESMTP\r\n");
                    let mut data: Option<String> = None;
                    while let Some(Ok(line)) = lines.next() {
                        if let Some(body) = data.as_mut() {
                            if line == "." {
                                let id = body
                                    .lines()
                                    .find_map(|l| l.strip_prefix("Message-ID: "))
                                    .unwrap_or("none")
                                    .to_owned();
                                data = None;
                                kept.lock().unwrap().push(id);
                                let _ = tell.send(());
                                std::thread::sleep(delay);
                                if write.write_all(b"250 queued\r\n").is_err() {
                                    break;
                                }
                            } else {
                                body.push_str(&line);
                                body.push('\n');
                            }
                            continue;
                        }
                        let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250 slow\r\n",
                            "DATA" => {
                                data = Some(String::new());
                                b"354 go ahead\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n");
                                break;
                            }
                            _ => b"250 OK\r\n",
                        };
                        if write.write_all(reply).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Self {
            url,
            attempts,
            received,
        }
    }

    fn attempts(&self) -> Vec<String> {
        self.attempts.lock().unwrap().clone()
    }
}

/// `peps outbox status` → (pending, parked, sent).
fn outbox_status(dir: &std::path::Path, env: &[(&str, &str)]) -> (u64, u64, u64) {
    let out = peps(dir)
        .envs(env.iter().copied())
        .args(["outbox", "status"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let numbers: Vec<u64> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    (numbers[0], numbers[1], numbers[2])
}

/// kill -9 while the sender waits for the relay's answer: after a restart every message is
/// delivered, none is lost, and the one in flight goes again under the same Message-ID.
fn a_killed_sender_loses_nothing(database: Option<&CrashDatabase>) {
    let dir = tempfile::tempdir().unwrap();
    let password = "Mot de passe du test du courrier";
    let relay = SlowRelay::start(Duration::from_millis(300));
    let mut env: Vec<(String, String)> = vec![
        ("PEPS_NOTIFICATIONS__URL".into(), relay.url.clone()),
        ("PEPS_OUTBOX__INTERVAL_SECONDS".into(), "1".into()),
        ("PEPS_OUTBOX__CLAIM_SECONDS".into(), "2".into()),
        // Whatever the hour CI runs at.
        ("PEPS_OUTBOX__QUIET_HOURS".into(), String::new()),
    ];
    if let Some(db) = database {
        env.push(("PEPS_DATABASE__URL".into(), db.url.clone()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let demo = start_demo_with(dir.path(), Some(password), &env);
    let (token, person) = login(&demo.url, "person@demo.peps", password);
    let (_, plans) = http_as(
        &format!("{}/api/v1/persons/{person}/plans", demo.url),
        "GET",
        &token,
    );
    let plans: serde_json::Value = serde_json::from_str(&plans).unwrap();
    let plan = plans[0]["id"].as_str().unwrap().to_owned();
    let (_, detail) = http_as(&format!("{}/api/v1/plans/{plan}", demo.url), "GET", &token);
    let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
    let step = detail["steps"][0]["id"].as_str().unwrap().to_owned();
    // Each message of the person tells their referent by email: 20 emails to send.
    for i in 0..20 {
        let (status, answer) = http_with(
            &format!("{}/api/v1/plans/{plan}/steps/{step}/messages", demo.url),
            &token,
            &format!(r#"{{"body":"Question {i}"}}"#),
        );
        assert_eq!(status, 201, "{answer}");
    }
    // Kill the server while the relay holds its fifth message without answering yet.
    for _ in 0..5 {
        relay
            .received
            .recv_timeout(Duration::from_secs(60))
            .expect("the relay received messages");
    }
    let mut demo = demo;
    demo.child.kill().unwrap(); // SIGKILL
    demo.child.wait().unwrap();
    drop(demo);
    let before_restart = relay.attempts().len();
    assert!(before_restart >= 5);
    let (pending, _, _) = outbox_status(dir.path(), &env);
    assert!(pending > 0, "the kill came after everything was sent");

    let _demo = start_demo_with(dir.path(), Some(password), &env);
    let started = Instant::now();
    let (pending, parked, sent) = loop {
        let status = outbox_status(dir.path(), &env);
        if status.0 == 0 {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "messages still waiting: {status:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let attempts = relay.attempts();
    let distinct: std::collections::BTreeSet<&String> = attempts.iter().collect();
    assert_eq!((pending, parked), (0, 0), "nothing waits, nothing failed");
    assert!(
        sent >= 20,
        "at least the 20 emails of the test were sent: {sent}"
    );
    assert_eq!(
        distinct.len() as u64,
        sent,
        "every message reached the relay, each under its own Message-ID"
    );
    assert!(
        !distinct.contains(&"none".to_owned()),
        "every email carries its outbox id"
    );
    let repeated = attempts.len() - distinct.len();
    assert!(
        repeated <= 1,
        "only the message in flight at the kill went twice (same Message-ID): {repeated}"
    );
}

#[test]
fn a_sender_killed_mid_send_loses_nothing_and_repeats_only_under_the_same_key() {
    a_killed_sender_loses_nothing(None);
}

#[test]
fn a_sender_killed_mid_send_on_postgresql_loses_nothing() {
    match CrashDatabase::named("peps_crash_outbox") {
        Some(db) => a_killed_sender_loses_nothing(Some(&db)),
        None if std::env::var_os("PEPS_REQUIRE_POSTGRES").is_some() => {
            panic!("PEPS_REQUIRE_POSTGRES is set but PEPS_TEST_DATABASE_URL is not")
        }
        None => eprintln!("PostgreSQL not configured: outbox crash test on SQLite only"),
    }
}

// ----- several instances on one PostgreSQL and one S3 -------------------------------------

mod several_instances {
    //! Two `peps` processes on one PostgreSQL database and one S3 bucket, as behind a load
    //! balancer: what one writes the other serves at once, a session opened on one works on the
    //! other, writers on both at once leave both search indexes equal to the database, and
    //! background work runs on one of them only.

    use super::*;
    use serde_json::Value;
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    const PASSWORD: &str = "Mot de passe des deux instances";
    const PURGED: &str = "purged expired sessions and counters";
    const INSTANCES: usize = 2;
    const WRITERS: usize = 4;
    const WRITES: usize = 25;

    struct Instance {
        child: Child,
        url: String,
        log: std::path::PathBuf,
    }

    impl Drop for Instance {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    impl Instance {
        /// How many purges this instance has run so far (its log at level info).
        fn purges(&self) -> usize {
            std::fs::read_to_string(&self.log)
                .unwrap_or_default()
                .matches(PURGED)
                .count()
        }
    }

    /// Instance A: `peps demo` (migrates, seeds the accounts and the catalogue, serves).
    fn start_demo_instance(dir: &std::path::Path, env: &[(String, String)]) -> Instance {
        let log = dir.join("a.log");
        let mut child = peps(dir)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .arg("demo")
            .env("PEPS_SERVER__LISTEN", "127.0.0.1:0")
            .env("PEPS_DEMO_PASSWORD", PASSWORD)
            .env("PEPS_LOG__LEVEL", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let started = Instant::now();
        let url = loop {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "instance A did not start"
            );
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("A stopped: {}", std::fs::read_to_string(&log).unwrap()))
                .unwrap();
            if let Some(rest) = line.strip_prefix("PEPS demo is running on ") {
                break rest.trim().to_owned();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Instance { child, url, log }
    }

    /// Instance B: `peps serve` on a free loopback port.
    fn start_serve_instance(dir: &std::path::Path, env: &[(String, String)]) -> Instance {
        let log = dir.join("b.log");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let mut child = peps(dir)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .arg("serve")
            .env("PEPS_SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("PEPS_SERVER__PUBLIC_URL", &url)
            .env("PEPS_LOG__LEVEL", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "B stopped ({status}): {}",
                    std::fs::read_to_string(&log).unwrap()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "instance B did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Instance { child, url, log }
    }

    /// One HTTP/1.0 request (so the answer is not chunked): status, head, body.
    fn call(
        url: &str,
        method: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> (u16, String, Vec<u8>) {
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest
            .split_once('/')
            .map(|(h, p)| (h, format!("/{p}")))
            .unwrap();
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        let mut head = format!("{method} {path} HTTP/1.0\r\nHost: {host}\r\n");
        if let Some(token) = token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some((content_type, bytes)) = body {
            head.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
                bytes.len()
            ));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        if let Some((_, bytes)) = body {
            stream.write_all(bytes).unwrap();
        }
        let mut response = Vec::new();
        std::io::Read::read_to_end(&mut stream, &mut response).unwrap();
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| i + 4)
            .unwrap_or(response.len());
        let head = String::from_utf8_lossy(&response[..split]).into_owned();
        let status = head[9..12].parse().unwrap();
        (status, head, response[split..].to_vec())
    }

    fn json(body: &[u8]) -> Value {
        serde_json::from_slice(body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
    }

    fn etag(head: &str) -> String {
        head.lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(name, _)| name.eq_ignore_ascii_case("etag"))
            })
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no ETag in {head}"))
    }

    fn content(title: &str) -> Vec<u8> {
        serde_json::json!({
            "title": title,
            "description": "Une offre écrite par le test des deux instances.",
            "theme": "ville-du-quotidien",
        })
        .to_string()
        .into_bytes()
    }

    const JSON: &str = "application/json";

    /// Creates and publishes an offer; returns its id and ETag.
    fn create_published(url: &str, token: &str, org: &str, title: &str) -> (String, String) {
        let (status, _, body) = call(
            &format!("{url}/api/v1/organisations/{org}/offers"),
            "POST",
            Some(token),
            &[],
            Some((JSON, &content(title))),
        );
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        let id = json(&body)["id"].as_str().unwrap().to_owned();
        let (status, head, body) = call(
            &format!("{url}/api/v1/offers/{id}/publish"),
            "POST",
            Some(token),
            &[],
            None,
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        (id, etag(&head))
    }

    /// Replaces an offer's content; returns the new ETag.
    fn edit(url: &str, token: &str, id: &str, version: &str, title: &str) -> String {
        let (status, head, body) = call(
            &format!("{url}/api/v1/offers/{id}"),
            "PUT",
            Some(token),
            &[("If-Match", version)],
            Some((JSON, &content(title))),
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        etag(&head)
    }

    /// The titles of the search hits for `q` on one instance.
    fn found(url: &str, q: &str) -> Vec<String> {
        let (status, _, body) = call(
            &format!("{url}/api/v1/offers?q={q}&limit=20"),
            "GET",
            None,
            &[],
            None,
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        json(&body)["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["display"]["title"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Everything an instance's search index holds: id → title, page after page.
    fn whole_index(url: &str) -> BTreeMap<String, String> {
        let mut all = BTreeMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut page = format!("{url}/api/v1/offers?limit=100");
            if let Some(c) = &cursor {
                let encoded: String = c
                    .bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect();
                page.push_str(&format!("&cursor={encoded}"));
            }
            let (status, _, body) = call(&page, "GET", None, &[], None);
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            let page = json(&body);
            for hit in page["hits"].as_array().unwrap() {
                all.insert(
                    hit["id"].as_str().unwrap().to_owned(),
                    hit["display"]["title"].as_str().unwrap().to_owned(),
                );
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return all,
            }
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// The published offers as the database has them: id → title.
    fn published_in_database(url: &str) -> BTreeMap<String, String> {
        use peps_core::catalogue::OfferStatus;
        use peps_core::ports::OfferRepository;
        runtime().block_on(async {
            let store = peps_store::SeaOrmStore::connect(url).await.unwrap();
            store
                .offers_changed_since(0, 1_000_000)
                .await
                .unwrap()
                .into_iter()
                .filter(|(_, o)| o.status == OfferStatus::Published)
                .map(|(_, o)| (o.id.0.to_string(), o.content.title))
                .collect()
        })
    }

    #[test]
    fn two_instances_share_one_postgresql_and_one_s3() {
        let Some(db) = CrashDatabase::named("peps_multi") else {
            if std::env::var_os("PEPS_REQUIRE_POSTGRES").is_some() {
                panic!("PEPS_REQUIRE_POSTGRES is set but PEPS_TEST_DATABASE_URL is not");
            }
            println!(
                "SKIPPED two_instances_share_one_postgresql_and_one_s3: PEPS_TEST_DATABASE_URL \
                 is not set"
            );
            return;
        };
        let blobs = CrashBlobs::s3();
        let dir = tempfile::tempdir().unwrap();
        let mut env = blobs.env();
        env.push(("PEPS_DATABASE__URL".into(), db.url.clone()));
        // The periodic purge every second, to see which instance does it.
        env.push(("PEPS_SERVER__PURGE_INTERVAL_SECONDS".into(), "1".into()));
        // Both run in `dir`, so both read the same wallet key file, as every instance must.
        let a = start_demo_instance(dir.path(), &env);
        let b = start_serve_instance(dir.path(), &env);
        let both_up = Instant::now();
        let purges_before = a.purges() + b.purges();

        // A session opened on A works on B, as a bearer token and as a browser's cookie.
        let (member, member_id) = login(&a.url, "member@demo.peps", PASSWORD);
        let (status, _, me) = call(
            &format!("{}/api/v1/me", b.url),
            "GET",
            Some(&member),
            &[],
            None,
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&me));
        let me = json(&me);
        assert_eq!(me["id"], member_id.as_str());
        let org = me["organisation_ids"][0].as_str().unwrap().to_owned();
        let (person, person_id) = login(&a.url, "person@demo.peps", PASSWORD);
        let (status, page) = page_with_session(&format!("{}/fr/plans", b.url), &person);
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("<ol class=\"steps\">"), "{page}");

        // An offer published on A is found on B at once; its edit too.
        let (id, version) = create_published(&a.url, &member, &org, "Atelier zorglub");
        assert_eq!(found(&b.url, "zorglub"), vec!["Atelier zorglub".to_owned()]);
        edit(&a.url, &member, &id, &version, "Atelier bidulon");
        assert_eq!(found(&b.url, "bidulon"), vec!["Atelier bidulon".to_owned()]);
        assert!(found(&b.url, "zorglub").is_empty());

        // A document uploaded on A downloads on B, the same bytes.
        let mut pdf = b"%PDF-1.7\n% uploaded on instance A\n".to_vec();
        pdf.resize(300 * 1024, b'a');
        let (status, _, body) = call(
            &format!(
                "{}/api/v1/persons/{person_id}/documents?kind=identity",
                a.url
            ),
            "POST",
            Some(&person),
            &[],
            Some(("application/pdf", &pdf)),
        );
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        let downloads = download_all(&b.url, &person, &person_id);
        assert!(
            downloads
                .iter()
                .any(|(status, bytes)| *status == 200 && *bytes == pdf),
            "B serves the document A stored"
        );

        // Writers on both instances at once, and readers searching on both meanwhile, so the
        // indexes catch up in the middle of the writes.
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let searches = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = [&a.url, &b.url]
            .into_iter()
            .map(|url| {
                let (url, stop, searches) = (url.clone(), stop.clone(), searches.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        found(&url, "concours");
                        searches.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        let writers: Vec<_> = (0..INSTANCES * WRITERS)
            .map(|w| {
                let url = [&a.url, &b.url][w % INSTANCES].clone();
                let (member, org) = (member.clone(), org.clone());
                std::thread::spawn(move || {
                    let title = |n: usize| format!("Concours {w} écriture {n}");
                    let (id, mut version) = create_published(&url, &member, &org, &title(1));
                    for n in 3..=WRITES {
                        version = edit(&url, &member, &id, &version, &title(n));
                    }
                    (id, title(WRITES))
                })
            })
            .collect();
        let written: Vec<(String, String)> =
            writers.into_iter().map(|w| w.join().unwrap()).collect();
        stop.store(true, Ordering::SeqCst);
        for reader in readers {
            reader.join().unwrap();
        }
        let writing = started.elapsed();
        println!(
            "{} writers × {WRITES} writes on {INSTANCES} instances in {writing:?}, {} searches \
             meanwhile",
            INSTANCES * WRITERS,
            searches.load(Ordering::SeqCst)
        );

        let database = published_in_database(&db.url);
        for (id, title) in &written {
            assert_eq!(
                database.get(id),
                Some(title),
                "the database has the last write"
            );
        }
        for (name, instance) in [("A", &a), ("B", &b)] {
            let index = whole_index(&instance.url);
            let missing: Vec<_> = database
                .iter()
                .filter(|(id, title)| index.get(*id) != Some(*title))
                .map(|(id, title)| (id, title, index.get(id)))
                .collect();
            assert!(
                missing.is_empty(),
                "{name}'s index differs from the database on {} offers: {missing:?}",
                missing.len()
            );
            assert_eq!(index.len(), database.len(), "{name}: nothing more either");
        }

        // The periodic purge: both instances tick every second, one of them purges.
        while both_up.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(200));
        }
        let window = both_up.elapsed().as_secs();
        let purges = a.purges() + b.purges() - purges_before;
        println!(
            "purges in {window} s with both instances up: {purges} (A {}, B {})",
            a.purges(),
            b.purges()
        );
        assert!(purges >= 1, "nobody purged");
        assert!(
            purges as u64 <= window + 3,
            "{purges} purges in {window} s: both instances purged"
        );

        // A cron command finds its lease held by another instance: it says so, succeeds, and
        // does nothing.
        let rt = runtime();
        let store = rt
            .block_on(peps_store::SeaOrmStore::connect(&db.url))
            .unwrap();
        let cron = || {
            let mut cmd = peps(dir.path());
            cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .args(["plans", "remind"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd
        };
        {
            use peps_core::ports::LeaseRepository;
            let now = chrono::Utc::now();
            let until = now + chrono::Duration::minutes(10);
            assert!(
                rt.block_on(store.try_acquire("plans remind", "another-node:1:test", until, now))
                    .unwrap()
            );
            let out = cron().output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                stdout.contains("already running on another instance (another-node:1:test"),
                "{stdout}"
            );
            assert!(!stdout.contains("persons reminded"), "{stdout}");
            rt.block_on(store.release("plans remind", "another-node:1:test"))
                .unwrap();
            // Two at once: both succeed, at least one does the work, and the lease is free
            // after them.
            let runs: Vec<_> = (0..2).map(|_| cron().spawn().unwrap()).collect();
            let outputs: Vec<String> = runs
                .into_iter()
                .map(|r| {
                    let out = r.wait_with_output().unwrap();
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    String::from_utf8_lossy(&out.stdout).into_owned()
                })
                .collect();
            println!("two `peps plans remind` at once: {outputs:?}");
            assert!(
                outputs.iter().any(|o| o.contains("persons reminded")),
                "{outputs:?}"
            );
            assert!(
                outputs.iter().all(|o| o.contains("persons reminded")
                    || o.contains("already running on another instance")),
                "{outputs:?}"
            );
            assert_eq!(rt.block_on(store.lease("plans remind")).unwrap(), None);
        }
        drop(a);
        drop(b);
        drop(blobs);
        drop(db);
    }
}
