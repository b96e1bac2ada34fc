//! The [`Scanner`] port on ClamAV's daemon, clamd, through its `INSTREAM` command: the file is
//! streamed to clamd as it arrives, never written to a disk clamd can see.
//!
//! Protocol: `zINSTREAM\0`, then chunks framed as a 4-byte big-endian length and the bytes, a
//! zero length to end, and one reply up to `\0`: `stream: OK`, `stream: <name> FOUND`, or
//! `<reason> ERROR`.

use async_trait::async_trait;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use peps_core::wallet::ports::{ScanError, ScanSession, ScanVerdict, Scanner};

/// clamd's `StreamMaxLength` defaults to 25 MB, but a single chunk is bounded on our side.
const MAX_CHUNK: usize = 1024 * 1024;
/// A reply is one short line; more means we are not talking to clamd.
const MAX_REPLY: usize = 4096;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddress {
    /// `unix:/run/clamav/clamd.ctl`
    Unix(PathBuf),
    /// `tcp://host:port`
    Tcp(String),
}

#[derive(Debug, thiserror::Error)]
#[error(
    "clamd address `{0}` is not valid; write unix:/run/clamav/clamd.ctl or tcp://127.0.0.1:3310"
)]
pub struct ClamdAddressError(String);

impl ClamdAddress {
    pub fn parse(raw: &str) -> Result<Self, ClamdAddressError> {
        let bad = || ClamdAddressError(raw.to_owned());
        let raw_trimmed = raw.trim();
        if let Some(path) = raw_trimmed.strip_prefix("unix:") {
            // Accept `unix:///path` as well as `unix:/path`.
            let path = path.strip_prefix("//").unwrap_or(path);
            if !path.starts_with('/') {
                return Err(bad());
            }
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        if let Some(host_port) = raw_trimmed.strip_prefix("tcp://") {
            let host_port = host_port.strip_suffix('/').unwrap_or(host_port);
            let (host, port) = host_port.rsplit_once(':').ok_or_else(bad)?;
            let host_ok = !host.is_empty() && !host.contains(['/', '@', ' ']);
            if !host_ok || port.parse::<u16>().map_or(true, |p| p == 0) {
                return Err(bad());
            }
            return Ok(Self::Tcp(host_port.to_owned()));
        }
        Err(bad())
    }
}

impl fmt::Display for ClamdAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unix(path) => write!(f, "unix:{}", path.display()),
            Self::Tcp(host_port) => write!(f, "tcp://{host_port}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClamdScanner {
    address: ClamdAddress,
    timeout: Duration,
}

impl ClamdScanner {
    pub fn new(address: &str) -> Result<Self, ClamdAddressError> {
        Ok(Self {
            address: ClamdAddress::parse(address)?,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// How long to wait to connect, for clamd to take each chunk, and for its verdict (which
    /// comes only once the whole file is scanned).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn address(&self) -> &ClamdAddress {
        &self.address
    }

    async fn connect(&self) -> std::io::Result<Box<dyn Connection>> {
        match &self.address {
            ClamdAddress::Tcp(host_port) => {
                let stream = tokio::net::TcpStream::connect(host_port.as_str()).await?;
                stream.set_nodelay(true)?;
                Ok(Box::new(stream))
            }
            #[cfg(unix)]
            ClamdAddress::Unix(path) => Ok(Box::new(tokio::net::UnixStream::connect(path).await?)),
            #[cfg(not(unix))]
            ClamdAddress::Unix(_) => Err(std::io::Error::other(
                "unix sockets are not available on this system",
            )),
        }
    }
}

trait Connection: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Connection for T {}

#[async_trait]
impl Scanner for ClamdScanner {
    async fn start(&self) -> Result<Box<dyn ScanSession>, ScanError> {
        let address = self.address.to_string();
        let mut conn = tokio::time::timeout(self.timeout, self.connect())
            .await
            .map_err(|_| {
                ScanError(format!(
                    "clamd at {address}: no connection after {:?}",
                    self.timeout
                ))
            })?
            .map_err(|e| ScanError(format!("clamd at {address}: cannot connect: {e}")))?;
        let mut session = ClamdSession {
            conn: None,
            address,
            timeout: self.timeout,
        };
        session.send(&mut conn, b"zINSTREAM\0").await?;
        session.conn = Some(conn);
        Ok(Box::new(session))
    }
}

struct ClamdSession {
    conn: Option<Box<dyn Connection>>,
    address: String,
    timeout: Duration,
}

impl ClamdSession {
    fn error(&self, what: impl fmt::Display) -> ScanError {
        ScanError(format!("clamd at {}: {what}", self.address))
    }

    /// Writes with the timeout. When clamd hangs up mid-stream (a size limit, a shutdown) it
    /// has usually said why first, so that reply is the error, rather than a broken pipe.
    async fn send(&self, conn: &mut Box<dyn Connection>, bytes: &[u8]) -> Result<(), ScanError> {
        match tokio::time::timeout(self.timeout, conn.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => match self.read_reply(conn).await {
                Ok(reply) if !reply.is_empty() => Err(self.error(reply)),
                _ => Err(self.error(format!("connection lost: {e}"))),
            },
            Err(_) => Err(self.error(format!("took no data for {:?}", self.timeout))),
        }
    }

    async fn read_reply(&self, conn: &mut Box<dyn Connection>) -> Result<String, ScanError> {
        let read = async {
            let mut reply = Vec::new();
            let mut byte = [0u8; 256];
            loop {
                let n = conn.read(&mut byte).await?;
                if n == 0 {
                    break;
                }
                reply.extend_from_slice(&byte[..n]);
                if let Some(end) = reply.iter().position(|&b| b == 0) {
                    reply.truncate(end);
                    break;
                }
                if reply.len() > MAX_REPLY {
                    return Err(std::io::Error::other("reply too long"));
                }
            }
            Ok::<_, std::io::Error>(reply)
        };
        let reply = tokio::time::timeout(self.timeout, read)
            .await
            .map_err(|_| self.error(format!("no verdict after {:?}", self.timeout)))?
            .map_err(|e| self.error(format!("cannot read the verdict: {e}")))?;
        Ok(String::from_utf8_lossy(&reply).trim().to_owned())
    }

    fn take_conn(&mut self) -> Result<Box<dyn Connection>, ScanError> {
        self.conn
            .take()
            .ok_or_else(|| self.error("the scan already failed"))
    }
}

/// Reads clamd's one-line verdict.
pub fn parse_reply(reply: &str) -> Result<ScanVerdict, String> {
    let reply = reply.trim_end_matches('\0').trim();
    let Some(result) = reply.strip_prefix("stream: ") else {
        return Err(reply.to_owned());
    };
    if result == "OK" {
        return Ok(ScanVerdict::Clean);
    }
    match result.strip_suffix(" FOUND") {
        Some(name) if !name.trim().is_empty() => Ok(ScanVerdict::Infected(name.trim().to_owned())),
        _ => Err(reply.to_owned()),
    }
}

#[async_trait]
impl ScanSession for ClamdSession {
    async fn feed(&mut self, bytes: &[u8]) -> Result<(), ScanError> {
        // On failure the connection is dropped: a half-sent chunk cannot be resumed.
        let mut conn = self.take_conn()?;
        for chunk in bytes.chunks(MAX_CHUNK) {
            let len = u32::try_from(chunk.len()).map_err(|_| self.error("chunk too long"))?;
            self.send(&mut conn, &len.to_be_bytes()).await?;
            self.send(&mut conn, chunk).await?;
        }
        self.conn = Some(conn);
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<ScanVerdict, ScanError> {
        let mut conn = self.take_conn()?;
        self.send(&mut conn, &0u32.to_be_bytes()).await?;
        let reply = self.read_reply(&mut conn).await?;
        if reply.is_empty() {
            return Err(self.error("closed the connection without a verdict"));
        }
        parse_reply(&reply).map_err(|reply| self.error(reply))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse() {
        assert_eq!(
            ClamdAddress::parse("unix:/run/clamav/clamd.ctl").unwrap(),
            ClamdAddress::Unix("/run/clamav/clamd.ctl".into())
        );
        assert_eq!(
            ClamdAddress::parse("unix:///run/clamav/clamd.ctl").unwrap(),
            ClamdAddress::Unix("/run/clamav/clamd.ctl".into())
        );
        assert_eq!(
            ClamdAddress::parse("tcp://clamav:3310").unwrap(),
            ClamdAddress::Tcp("clamav:3310".into())
        );
        assert_eq!(
            ClamdAddress::parse("tcp://[::1]:3310").unwrap(),
            ClamdAddress::Tcp("[::1]:3310".into())
        );
        for bad in [
            "",
            "clamav:3310",
            "unix:relative.sock",
            "tcp://clamav",
            "tcp://:3310",
            "tcp://clamav:0",
            "tcp://clamav:99999",
            "http://clamav:3310",
        ] {
            let err = ClamdAddress::parse(bad).unwrap_err().to_string();
            assert!(err.contains("unix:/run/clamav/clamd.ctl"), "{bad}: {err}");
        }
    }

    #[test]
    fn replies_parse() {
        assert_eq!(parse_reply("stream: OK"), Ok(ScanVerdict::Clean));
        assert_eq!(
            parse_reply("stream: Eicar-Test-Signature FOUND\0"),
            Ok(ScanVerdict::Infected("Eicar-Test-Signature".into()))
        );
        assert_eq!(
            parse_reply("INSTREAM size limit exceeded. ERROR"),
            Err("INSTREAM size limit exceeded. ERROR".into())
        );
        assert_eq!(
            parse_reply("stream: Can't allocate memory ERROR"),
            Err("stream: Can't allocate memory ERROR".into())
        );
        assert_eq!(parse_reply("stream:  FOUND"), Err("stream:  FOUND".into()));
        assert_eq!(
            parse_reply("UNKNOWN COMMAND"),
            Err("UNKNOWN COMMAND".into())
        );
    }
}
