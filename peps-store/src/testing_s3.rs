//! A real S3 server for tests, in process: s3s-fs serves a temporary folder on 127.0.0.1, with
//! signed requests checked against fixed keys. Adopters' tests can use it as ours do.
//!
//! ```ignore
//! let server = peps_store::testing_s3::S3TestServer::start().await;
//! peps_core::testing::conformance::blobs::run(&*server.blob_store().await).await;
//! ```

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use peps_core::wallet::ports::BlobStore;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::blobs::{S3Credentials, blob_store_from_url};

pub const BUCKET: &str = "peps-test";
const ACCESS_KEY: &str = "peps-test-access";
const SECRET_KEY: &str = "peps-test-secret-0123456789";

/// Serves until dropped.
pub struct S3TestServer {
    addr: SocketAddr,
    accept: JoinHandle<()>,
    dir: tempfile::TempDir,
}

impl S3TestServer {
    /// Panics when the server cannot start: a test that skipped S3 silently would prove nothing.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder for the S3 server");
        // s3s-fs maps each bucket to a folder of its root.
        std::fs::create_dir(dir.path().join(BUCKET)).expect("bucket folder");
        let fs = s3s_fs::FileSystem::new(dir.path()).expect("s3s-fs over the temporary folder");
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();

        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listen on 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let accept = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            // Owned here so that aborting this task closes every connection too.
            let mut connections = JoinSet::new();
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                connections.spawn(async move {
                    let _ = conn.await;
                });
                // Forget finished connections as we go.
                while connections.try_join_next().is_some() {}
            }
        });
        Self { addr, accept, dir }
    }

    /// `s3://peps-test?endpoint=http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("s3://{BUCKET}?endpoint=http://{}", self.addr)
    }

    pub fn credentials(&self) -> S3Credentials {
        S3Credentials {
            access_key_id: ACCESS_KEY.to_owned(),
            secret_access_key: SECRET_KEY.to_owned(),
        }
    }

    /// A store on this server's bucket, through the same URL parsing as production.
    pub async fn blob_store(&self) -> Arc<dyn BlobStore> {
        blob_store_from_url(&self.url(), self.credentials())
            .await
            .expect("S3 blob store on the test server")
    }

    /// The folder the server keeps its state in (the bucket is `BUCKET` inside).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for S3TestServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
