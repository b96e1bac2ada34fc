//! Wallet load run against the release `peps` binary, as an operator would run it: a 1 GiB
//! upload and download (resident memory and throughput), the same file copied with `cp` for
//! comparison, and 100 concurrent 5 MB uploads (errors, orphan blobs).
//!
//! `cargo bench -p peps-cli --bench wallet_load` (set `PEPS_BENCH_DIR` to put the files on
//! another disk; the default is a temporary folder). Figures go to docs/performance.md.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const GIB: u64 = 1024 * 1024 * 1024;

struct Server {
    child: Child,
    url: String,
    password: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_peps"))
        .arg("demo")
        .current_dir(dir)
        .env("PEPS_SERVER__LISTEN", "127.0.0.1:0")
        .env("PEPS_SERVER__MAX_UPLOAD_BYTES", (2 * GIB).to_string())
        .env("PEPS_WALLET__MAX_FILE_MB", "2048")
        .env("PEPS_WALLET__QUOTA_MB", "8192")
        .env("PEPS_LOG__LEVEL", "warn")
        .env("PEPS_DEMO_PASSWORD", "Mot de passe du banc d'essai")
        .env_remove("PEPS_DATABASE__URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the release peps binary");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("demo output").unwrap();
        if let Some(rest) = line.strip_prefix("PEPS demo is running on ") {
            break rest.trim().to_owned();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        url,
        password: "Mot de passe du banc d'essai".to_owned(),
    }
}

fn kib_field(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resets the peak resident size the kernel tracks for the process.
fn reset_peak(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("clear_refs (Linux)");
}

fn curl(args: &[&str]) -> (String, Duration) {
    let started = Instant::now();
    let out = Command::new("curl").args(args).output().expect("curl");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (String::from_utf8_lossy(&out.stdout).into_owned(), took)
}

fn field<'a>(body: &'a str, name: &str) -> &'a str {
    body.split(&format!("\"{name}\":\""))
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
}

fn big_file(path: &Path, size: u64) {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut block = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in block.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    block[..9].copy_from_slice(b"%PDF-1.7\n");
    let mut written = 0;
    while written < size {
        let n = (size - written).min(block.len() as u64) as usize;
        f.write_all(&block[..n]).unwrap();
        block[9] = block[9].wrapping_add(1);
        written += n as u64;
    }
    f.flush().unwrap();
    f.get_ref().sync_all().unwrap();
}

fn mb_per_s(bytes: u64, took: Duration) -> f64 {
    bytes as f64 / 1e6 / took.as_secs_f64()
}

fn main() {
    let base: PathBuf =
        std::env::var_os("PEPS_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = tempfile::tempdir_in(base).unwrap();
    let file = dir.path().join("one-gib.pdf");
    big_file(&file, GIB);

    // cp of the same file, to the same disk, flushed like PEPS flushes each stored file.
    let copy = dir.path().join("copy.pdf");
    let started = Instant::now();
    let status = Command::new("cp").arg(&file).arg(&copy).status().unwrap();
    assert!(status.success());
    let cp_took = started.elapsed();
    std::fs::File::open(&copy).unwrap().sync_all().unwrap();
    let cp_sync_took = started.elapsed();
    std::fs::remove_file(&copy).unwrap();

    let server = start(dir.path());
    let pid = server.child.id();
    let login = format!(
        r#"{{"email":"person@demo.peps","password":"{}"}}"#,
        server.password
    );
    let (body, _) = curl(&[
        "-sf",
        "-H",
        "content-type: application/json",
        "-d",
        &login,
        &format!("{}/api/v1/auth/login", server.url),
    ]);
    let token = field(&body, "token").to_owned();
    let auth = format!("authorization: Bearer {token}");
    let (me, _) = curl(&["-sf", "-H", &auth, &format!("{}/api/v1/me", server.url)]);
    let person = field(&me, "id").to_owned();
    let list_url = format!("{}/api/v1/persons/{person}/documents", server.url);
    let count = |auth: &str| {
        curl(&["-sf", "-H", auth, &list_url])
            .0
            .matches("\"download_url\"")
            .count()
    };
    let seeded = count(&auth);
    let blobs_before = count_files(&dir.path().join("peps-data/blobs/blobs"));
    let upload_url = format!(
        "{}/api/v1/persons/{person}/documents?kind=identity",
        server.url
    );
    // Warm up: first upload and download paths, allocator arenas.
    let small = dir.path().join("small.pdf");
    big_file(&small, 5_000_000);
    let (doc, _) = curl(&[
        "-sf",
        "-H",
        &auth,
        "-H",
        "content-type: application/pdf",
        "-X",
        "POST",
        "-T",
        small.to_str().unwrap(),
        &upload_url,
    ]);
    let small_url = format!(
        "{}{}",
        server.url,
        doc.split("\"download_url\":\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
    );
    curl(&["-sf", "-H", &auth, "-o", "/dev/null", &small_url]);

    let before = kib_field(pid, "VmRSS:");
    reset_peak(pid);
    let (doc, up_took) = curl(&[
        "-sf",
        "-H",
        &auth,
        "-H",
        "content-type: application/pdf",
        "-X",
        "POST",
        "-T",
        file.to_str().unwrap(),
        &upload_url,
    ]);
    let up_peak = kib_field(pid, "VmHWM:");
    let big_url = format!(
        "{}{}",
        server.url,
        doc.split("\"download_url\":\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
    );

    let before_down = kib_field(pid, "VmRSS:");
    reset_peak(pid);
    let (_, down_took) = curl(&[
        "-sf",
        "-H",
        &auth,
        "-o",
        dir.path().join("back.pdf").to_str().unwrap(),
        &big_url,
    ]);
    let down_peak = kib_field(pid, "VmHWM:");
    let same = std::fs::read(dir.path().join("back.pdf"))
        .map(|b| b.len() as u64)
        .unwrap_or(0)
        == GIB;
    std::fs::remove_file(dir.path().join("back.pdf")).ok();

    // 100 concurrent 5 MB uploads.
    let started = Instant::now();
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let (auth, url, small) = (auth.clone(), upload_url.clone(), small.clone());
            std::thread::spawn(move || {
                let out = Command::new("curl")
                    .args([
                        "-s",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code}",
                        "-H",
                        &auth,
                        "-H",
                        "content-type: application/pdf",
                        "-X",
                        "POST",
                        "-T",
                        small.to_str().unwrap(),
                        &url,
                    ])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).into_owned()
            })
        })
        .collect();
    let codes: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let burst_took = started.elapsed();
    let errors = codes.iter().filter(|c| c.as_str() != "201").count();
    let blobs = count_files(&dir.path().join("peps-data/blobs/blobs")) - blobs_before;
    let partial = count_files(&dir.path().join("peps-data/blobs/partial"));
    let documents = count(&auth) - seeded;

    println!(
        "\n## Wallet load run ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| measure | figure |\n|---|---:|");
    println!(
        "| cp of 1 GiB (page cache) | {:.0} MB/s ({:.2} s) |",
        mb_per_s(GIB, cp_took),
        cp_took.as_secs_f64()
    );
    println!(
        "| cp of 1 GiB + fsync | {:.0} MB/s ({:.2} s) |",
        mb_per_s(GIB, cp_sync_took),
        cp_sync_took.as_secs_f64()
    );
    println!(
        "| encrypted upload of 1 GiB over HTTP (sniff, SHA-256, AES-256-GCM, fsync) | {:.0} MB/s ({:.2} s), {:.0} % of cp, {:.0} % of cp + fsync |",
        mb_per_s(GIB, up_took),
        up_took.as_secs_f64(),
        100.0 * cp_took.as_secs_f64() / up_took.as_secs_f64(),
        100.0 * cp_sync_took.as_secs_f64() / up_took.as_secs_f64()
    );
    println!(
        "| server resident memory during the upload, above its level before | {:.1} MiB (before {:.1} MiB, peak {:.1} MiB) |",
        up_peak.saturating_sub(before) as f64 / 1024.0,
        before as f64 / 1024.0,
        up_peak as f64 / 1024.0
    );
    println!(
        "| download of 1 GiB (authenticated decryption) | {:.0} MB/s ({:.2} s), complete: {same} |",
        mb_per_s(GIB, down_took),
        down_took.as_secs_f64()
    );
    println!(
        "| server resident memory during the download, above its level before | {:.1} MiB (before {:.1} MiB, peak {:.1} MiB) |",
        down_peak.saturating_sub(before_down) as f64 / 1024.0,
        before_down as f64 / 1024.0,
        down_peak as f64 / 1024.0
    );
    println!(
        "| 100 concurrent 5 MB uploads | {:.2} s, {errors} errors, {documents} new documents listed (102 expected), {blobs} new blobs on disk, {partial} partial files |",
        burst_took.as_secs_f64()
    );
    assert_eq!(errors, 0, "{codes:?}");
    assert_eq!((blobs, partial, documents), (102, 0, 102));
}

fn count_files(dir: &Path) -> usize {
    let mut n = 0;
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                todo.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}
