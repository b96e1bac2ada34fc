//! The clamd scanner against a fake clamd speaking the real INSTREAM protocol, over TCP and
//! over a unix socket.

use peps_core::wallet::ports::{ScanError, ScanVerdict, Scanner};
use peps_store::clamd::ClamdScanner;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

#[derive(Clone, Copy)]
enum Behaviour {
    /// Past `size_limit` bytes, replies with an error; real clamd then hangs up at once.
    Scan { size_limit: usize, hang_up: bool },
    /// Takes everything, never answers.
    Silent,
}

/// Serves one INSTREAM session the way clamd does; returns how many bytes it received.
async fn serve_session<S: AsyncRead + AsyncWrite + Unpin>(
    mut conn: S,
    behaviour: Behaviour,
) -> usize {
    let mut command = [0u8; 10];
    conn.read_exact(&mut command).await.unwrap();
    assert_eq!(&command, b"zINSTREAM\0", "the command clamd expects");
    let mut received = Vec::new();
    loop {
        let mut len = [0u8; 4];
        if conn.read_exact(&mut len).await.is_err() {
            return received.len();
        }
        let len = u32::from_be_bytes(len) as usize;
        assert!(len <= 1024 * 1024, "chunk of {len} bytes exceeds 1 MiB");
        if len == 0 {
            break;
        }
        let mut chunk = vec![0; len];
        conn.read_exact(&mut chunk).await.unwrap();
        received.extend_from_slice(&chunk);
        if let Behaviour::Scan {
            size_limit,
            hang_up,
        } = behaviour
            && received.len() > size_limit
        {
            conn.write_all(b"INSTREAM size limit exceeded. ERROR\0")
                .await
                .unwrap();
            if !hang_up {
                // Swallow the rest so the client reads our reply, not a reset.
                let _ = tokio::io::copy(&mut conn, &mut tokio::io::sink()).await;
            }
            return received.len();
        }
    }
    match behaviour {
        Behaviour::Scan { .. } => {
            let infected = received.windows(EICAR.len()).any(|w| w == EICAR);
            let reply: &[u8] = if infected {
                b"stream: Eicar-Test-Signature FOUND\0"
            } else {
                b"stream: OK\0"
            };
            conn.write_all(reply).await.unwrap();
        }
        Behaviour::Silent => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }
    received.len()
}

async fn fake_clamd_tcp(behaviour: Behaviour) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (conn, _) = listener.accept().await.unwrap();
            tokio::spawn(serve_session(conn, behaviour));
        }
    });
    format!("tcp://{addr}")
}

#[cfg(unix)]
async fn fake_clamd_unix(behaviour: Behaviour, dir: &std::path::Path) -> String {
    let path = dir.join("clamd.ctl");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    tokio::spawn(async move {
        loop {
            let (conn, _) = listener.accept().await.unwrap();
            tokio::spawn(serve_session(conn, behaviour));
        }
    });
    format!("unix:{}", path.display())
}

async fn scan(scanner: &ClamdScanner, pieces: &[&[u8]]) -> Result<ScanVerdict, ScanError> {
    let mut session = scanner.start().await?;
    for piece in pieces {
        session.feed(piece).await?;
    }
    session.finish().await
}

const NORMAL: Behaviour = Behaviour::Scan {
    size_limit: 10 * 1024 * 1024,
    hang_up: false,
};

async fn clean_and_infected(address: &str) {
    let scanner = ClamdScanner::new(address).unwrap();
    let clean = vec![b'a'; 3 * 1024 * 1024 + 5];
    assert_eq!(
        scan(&scanner, &[b"%PDF-1.7\n", &clean, b""]).await.unwrap(),
        ScanVerdict::Clean
    );
    assert_eq!(scan(&scanner, &[]).await.unwrap(), ScanVerdict::Clean);
    // The signature split across two feeds, and across the 1 MiB chunk boundary.
    let (head, tail) = EICAR.split_at(20);
    let mut padded = vec![b' '; 1024 * 1024 - 7];
    padded.extend_from_slice(head);
    assert_eq!(
        scan(&scanner, &[&padded, tail, b"trailer"]).await.unwrap(),
        ScanVerdict::Infected("Eicar-Test-Signature".into())
    );
}

#[tokio::test]
async fn clean_and_infected_over_tcp() {
    clean_and_infected(&fake_clamd_tcp(NORMAL).await).await;
}

#[cfg(unix)]
#[tokio::test]
async fn clean_and_infected_over_a_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    clean_and_infected(&fake_clamd_unix(NORMAL, dir.path()).await).await;
}

#[tokio::test]
async fn size_limit_is_a_scan_error() {
    let address = fake_clamd_tcp(Behaviour::Scan {
        size_limit: 100_000,
        hang_up: false,
    })
    .await;
    let scanner = ClamdScanner::new(&address).unwrap();
    let big = vec![0u8; 300_000];
    let err = scan(&scanner, &[&big, &big]).await.unwrap_err();
    assert!(
        err.0.contains("INSTREAM size limit exceeded. ERROR"),
        "{err}"
    );
}

#[tokio::test]
async fn clamd_hanging_up_at_the_size_limit_is_a_scan_error() {
    let address = fake_clamd_tcp(Behaviour::Scan {
        size_limit: 100_000,
        hang_up: true,
    })
    .await;
    let scanner = ClamdScanner::new(&address).unwrap();
    // Our writes then fail with a broken pipe; what clamd said before hanging up is the error.
    let big = vec![0u8; 4 * 1024 * 1024];
    for _ in 0..5 {
        let err = scan(&scanner, &[&big, &big]).await.unwrap_err();
        assert!(
            err.0.contains("INSTREAM size limit exceeded. ERROR"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn clamd_down_is_a_scan_error() {
    // A port that was just free: nothing listens on it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("tcp://{}", listener.local_addr().unwrap());
    drop(listener);
    let scanner = ClamdScanner::new(&address).unwrap();
    let err = scan(&scanner, &[b"hello"]).await.unwrap_err();
    assert!(err.0.contains("cannot connect"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let scanner =
        ClamdScanner::new(&format!("unix:{}", dir.path().join("none.ctl").display())).unwrap();
    let err = scan(&scanner, &[b"hello"]).await.unwrap_err();
    assert!(err.0.contains("cannot connect"), "{err}");
}

#[tokio::test]
async fn silent_clamd_times_out() {
    let address = fake_clamd_tcp(Behaviour::Silent).await;
    let scanner = ClamdScanner::new(&address)
        .unwrap()
        .with_timeout(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let err = scan(&scanner, &[b"hello"]).await.unwrap_err();
    assert!(err.0.contains("no verdict after"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn unresponsive_listener_times_out_on_connect() {
    // A listener that never accepts still completes the TCP handshake (the backlog), so the
    // connect succeeds and the verdict times out; either way it must end, with a ScanError.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("tcp://{}", listener.local_addr().unwrap());
    let scanner = ClamdScanner::new(&address)
        .unwrap()
        .with_timeout(Duration::from_millis(300));
    let started = std::time::Instant::now();
    assert!(scan(&scanner, &[b"hello"]).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(listener);
}
