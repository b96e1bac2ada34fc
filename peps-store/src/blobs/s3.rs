//! Blobs in an S3-compatible bucket (AWS, Scaleway, OVH, MinIO, Garage…) through
//! `object_store`.
//!
//! Uploads are multipart: parts of [`PART_SIZE`] go out as soon as they fill, so memory per
//! upload stays around one part whatever the file size, and nothing is visible under the key
//! until the upload completes.

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{ClientOptions, MultipartUpload, ObjectStore, ObjectStoreExt, PutPayload};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use peps_core::wallet::ports::*;

/// The smallest part S3 accepts (all but the last). Every part but the last has exactly this
/// size, as Cloudflare R2 requires.
pub const PART_SIZE: usize = 5 * 1024 * 1024;

/// The keys of an S3 bucket. The secret never shows in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// Where the bucket is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// `None` for AWS itself; `http://` is allowed for a server on a private network.
    pub endpoint: Option<String>,
    pub region: String,
}

#[derive(Clone)]
pub struct S3BlobStore {
    store: Arc<AmazonS3>,
    location: S3Location,
}

impl fmt::Debug for S3BlobStore {
    // The client's own `Debug` would print its credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3BlobStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

fn unavailable(err: object_store::Error) -> BlobError {
    match err {
        object_store::Error::NotFound { .. } => BlobError::NotFound,
        other => BlobError::unavailable(other),
    }
}

fn path_of(key: &BlobKey) -> Path {
    Path::from(key.as_str())
}

impl S3BlobStore {
    /// Builds the client; no request is made until the first operation.
    pub fn new(location: S3Location, credentials: S3Credentials) -> BlobResult<Self> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&location.bucket)
            .with_region(&location.region)
            .with_access_key_id(credentials.access_key_id)
            .with_secret_access_key(credentials.secret_access_key)
            // Path style works with every S3-compatible server, and bucket names with dots.
            .with_virtual_hosted_style_request(false)
            .with_client_options(
                ClientOptions::new()
                    // A request covers a whole 5 MiB part on a slow link, or a download read
                    // at the pace of a person's phone; a broken download resumes by range.
                    .with_timeout(Duration::from_secs(300))
                    .with_connect_timeout(Duration::from_secs(10)),
            );
        if let Some(endpoint) = &location.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let store = builder.build().map_err(BlobError::unavailable)?;
        Ok(Self {
            store: Arc::new(store),
            location,
        })
    }

    pub fn location(&self) -> &S3Location {
        &self.location
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn create(&self, key: &BlobKey) -> BlobResult<Box<dyn BlobWrite>> {
        let upload = self
            .store
            .put_multipart(&path_of(key))
            .await
            .map_err(unavailable)?;
        Ok(Box::new(S3Writer {
            upload: Some(upload),
            buffer: BytesMut::new(),
        }))
    }

    async fn open(&self, key: &BlobKey) -> BlobResult<Box<dyn BlobRead>> {
        let result = self.store.get(&path_of(key)).await.map_err(unavailable)?;
        Ok(Box::new(S3Reader {
            stream: result.into_stream(),
        }))
    }

    async fn delete(&self, key: &BlobKey) -> BlobResult<()> {
        match self.store.delete(&path_of(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn list(&self) -> BlobResult<Vec<BlobInfo>> {
        let mut listing = self.store.list(Some(&Path::from("w")));
        let mut all = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(unavailable)?;
            // Anything else in the bucket is not ours to report.
            if let Some(key) = BlobKey::parse(meta.location.as_ref()) {
                all.push(BlobInfo {
                    key,
                    size: meta.size,
                    modified_at: meta.last_modified,
                });
            }
        }
        Ok(all)
    }

    /// Always 0: S3 cannot be asked for the uploads a crash left behind by `object_store`, and
    /// they are invisible and never listed anyway. They still cost storage, so operators must
    /// set the bucket lifecycle rule `AbortIncompleteMultipartUpload` (e.g. after 1 day),
    /// which clears them on the server side.
    async fn reap_partial(&self, _started_before: DateTime<Utc>) -> BlobResult<u64> {
        Ok(0)
    }

    fn describe(&self) -> String {
        let endpoint = self
            .location
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", self.location.region));
        format!("s3://{} at {endpoint}", self.location.bucket)
    }
}

struct S3Writer {
    /// `None` once completed or aborted, so `Drop` knows there is nothing left to abort.
    upload: Option<Box<dyn MultipartUpload>>,
    /// Less than one part, between writes.
    buffer: BytesMut,
}

impl S3Writer {
    fn upload(&mut self) -> BlobResult<&mut Box<dyn MultipartUpload>> {
        self.upload
            .as_mut()
            .ok_or_else(|| BlobError::unavailable(std::io::Error::other("writer already finished")))
    }

    async fn send_part(&mut self, part: Bytes) -> BlobResult<()> {
        // One part in flight at a time keeps memory bounded; parts are big enough that the
        // round trip does not dominate.
        self.upload()?
            .put_part(PutPayload::from(part))
            .await
            .map_err(unavailable)
    }
}

#[async_trait]
impl BlobWrite for S3Writer {
    async fn write(&mut self, bytes: Vec<u8>) -> BlobResult<()> {
        let mut bytes = Bytes::from(bytes);
        while !bytes.is_empty() {
            let room = PART_SIZE - self.buffer.len();
            if self.buffer.is_empty() && bytes.len() >= PART_SIZE {
                // A whole part straight from the caller's bytes, without copying.
                let part = bytes.split_to(PART_SIZE);
                self.send_part(part).await?;
                continue;
            }
            let take = room.min(bytes.len());
            self.buffer.extend_from_slice(&bytes.split_to(take));
            if self.buffer.len() == PART_SIZE {
                let part = self.buffer.split().freeze();
                self.send_part(part).await?;
            }
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> BlobResult<()> {
        if !self.buffer.is_empty() {
            let last = self.buffer.split().freeze();
            self.send_part(last).await?;
        }
        let mut upload = self.upload.take().ok_or_else(|| {
            BlobError::unavailable(std::io::Error::other("writer already finished"))
        })?;
        match upload.complete().await {
            Ok(_) => Ok(()),
            Err(e) => {
                // Do not leave the parts sitting in the bucket until the lifecycle rule.
                let _ = upload.abort().await;
                Err(unavailable(e))
            }
        }
    }

    async fn abort(mut self: Box<Self>) -> BlobResult<()> {
        match self.upload.take() {
            Some(mut upload) => upload.abort().await.map_err(unavailable),
            None => Ok(()),
        }
    }
}

impl Drop for S3Writer {
    fn drop(&mut self) {
        let Some(mut upload) = self.upload.take() else {
            return;
        };
        // Best effort: without a runtime (or if this fails) the bucket's lifecycle rule
        // `AbortIncompleteMultipartUpload` clears it later.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = upload.abort().await {
                    tracing::warn!(error = %e, "could not abort a dropped blob upload");
                }
            });
        }
    }
}

struct S3Reader {
    stream: BoxStream<'static, object_store::Result<Bytes>>,
}

#[async_trait]
impl BlobRead for S3Reader {
    async fn next_chunk(&mut self) -> BlobResult<Option<Vec<u8>>> {
        match self.stream.next().await {
            Some(Ok(bytes)) => Ok(Some(bytes.into())),
            Some(Err(e)) => Err(unavailable(e)),
            None => Ok(None),
        }
    }
}
