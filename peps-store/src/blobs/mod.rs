//! Blob stores for the wallet's encrypted files, picked by URL:
//!
//! - `file:///var/lib/peps/wallet` or a plain path: [`FsBlobStore`], the default;
//! - `s3://bucket?endpoint=http://127.0.0.1:9000&region=fr-par`: [`S3BlobStore`] (the region
//!   defaults to `us-east-1`, the endpoint to AWS itself). The keys come apart, from the
//!   configuration or `_FILE` secrets, so the URL can be logged.

mod fs;
mod s3;

pub use fs::FsBlobStore;
pub use s3::{PART_SIZE, S3BlobStore, S3Credentials, S3Location};

use peps_core::wallet::ports::{BlobError, BlobStore};
use std::path::PathBuf;
use std::sync::Arc;

const DEFAULT_REGION: &str = "us-east-1";

#[derive(Debug, thiserror::Error)]
pub enum BlobConfigError {
    #[error("blob store URL scheme `{0}` is not supported; use file:// (or a path) or s3://")]
    UnknownScheme(String),
    #[error("blob store URL is not valid: {0}")]
    BadUrl(String),
    #[error("s3:// blob store URL names no bucket; write s3://bucket?endpoint=…")]
    MissingBucket,
    #[error("S3 endpoint {0}")]
    BadEndpoint(String),
    #[error("unknown parameter `{0}` in the s3:// blob store URL; known: endpoint, region")]
    UnknownParameter(String),
    #[error("cannot open the blob store: {0}")]
    Open(#[source] BlobError),
}

/// Opens the blob store `url` names; for S3, with `s3`'s keys.
pub async fn blob_store_from_url(
    url: &str,
    s3: S3Credentials,
) -> Result<Arc<dyn BlobStore>, BlobConfigError> {
    match parse_blob_url(url)? {
        BlobUrl::Fs(root) => Ok(Arc::new(
            FsBlobStore::open(root)
                .await
                .map_err(BlobConfigError::Open)?,
        )),
        BlobUrl::S3(location) => Ok(Arc::new(
            S3BlobStore::new(location, s3).map_err(BlobConfigError::Open)?,
        )),
    }
}

/// What a blob store URL says, before anything is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobUrl {
    Fs(PathBuf),
    S3(S3Location),
}

pub fn parse_blob_url(raw: &str) -> Result<BlobUrl, BlobConfigError> {
    let raw = raw.trim();
    let Some((scheme, _)) = raw.split_once("://") else {
        if raw.is_empty() {
            return Err(BlobConfigError::BadUrl("it is empty".into()));
        }
        return Ok(BlobUrl::Fs(PathBuf::from(raw)));
    };
    let url = url::Url::parse(raw).map_err(|e| BlobConfigError::BadUrl(e.to_string()))?;
    match scheme.to_ascii_lowercase().as_str() {
        "file" => url
            .to_file_path()
            .map(BlobUrl::Fs)
            .map_err(|()| BlobConfigError::BadUrl("a file:// URL needs an absolute path".into())),
        "s3" => parse_s3(&url).map(BlobUrl::S3),
        other => Err(BlobConfigError::UnknownScheme(other.to_owned())),
    }
}

fn parse_s3(url: &url::Url) -> Result<S3Location, BlobConfigError> {
    let bucket = url.host_str().unwrap_or_default();
    if bucket.is_empty() {
        return Err(BlobConfigError::MissingBucket);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(BlobConfigError::BadUrl(
            "keys do not belong in the s3:// URL; configure them apart".into(),
        ));
    }
    if !matches!(url.path(), "" | "/") {
        return Err(BlobConfigError::BadUrl(
            "an s3:// URL names a bucket only, without a path".into(),
        ));
    }
    let mut location = S3Location {
        bucket: bucket.to_owned(),
        endpoint: None,
        region: DEFAULT_REGION.to_owned(),
    };
    for (name, value) in url.query_pairs() {
        match name.as_ref() {
            "endpoint" => location.endpoint = Some(parse_endpoint(&value)?),
            "region" if !value.trim().is_empty() => location.region = value.trim().to_owned(),
            "region" => return Err(BlobConfigError::BadUrl("the region is empty".into())),
            other => return Err(BlobConfigError::UnknownParameter(other.to_owned())),
        }
    }
    Ok(location)
}

fn parse_endpoint(raw: &str) -> Result<String, BlobConfigError> {
    let bad = |why: &str| BlobConfigError::BadEndpoint(why.to_owned());
    let endpoint = url::Url::parse(raw.trim()).map_err(|e| {
        bad(&format!(
            "is not a URL ({e}); write e.g. http://127.0.0.1:9000"
        ))
    })?;
    if !matches!(endpoint.scheme(), "http" | "https") {
        return Err(bad("must be an http:// or https:// URL"));
    }
    if endpoint.host_str().is_none_or(str::is_empty) {
        return Err(bad("names no host"));
    }
    if !endpoint.username().is_empty() || endpoint.password().is_some() {
        return Err(bad("must not hold credentials; configure the keys apart"));
    }
    if endpoint.query().is_some() || endpoint.fragment().is_some() {
        return Err(bad("must not have a query or a fragment"));
    }
    Ok(endpoint.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(bucket: &str, endpoint: Option<&str>, region: &str) -> BlobUrl {
        BlobUrl::S3(S3Location {
            bucket: bucket.into(),
            endpoint: endpoint.map(Into::into),
            region: region.into(),
        })
    }

    #[test]
    fn urls_pick_the_store() {
        assert_eq!(
            parse_blob_url("file:///var/lib/peps/wallet").unwrap(),
            BlobUrl::Fs("/var/lib/peps/wallet".into())
        );
        assert_eq!(
            parse_blob_url("./peps-data/wallet").unwrap(),
            BlobUrl::Fs("./peps-data/wallet".into())
        );
        assert_eq!(
            parse_blob_url("s3://wallet?endpoint=http://127.0.0.1:9000&region=fr-par").unwrap(),
            s3("wallet", Some("http://127.0.0.1:9000"), "fr-par")
        );
        assert_eq!(
            parse_blob_url("s3://wallet?endpoint=https://s3.fr-par.scw.cloud/").unwrap(),
            s3("wallet", Some("https://s3.fr-par.scw.cloud"), "us-east-1")
        );
        assert_eq!(
            parse_blob_url("s3://wallet").unwrap(),
            s3("wallet", None, "us-east-1")
        );
    }

    #[test]
    fn bad_urls_say_why() {
        for (url, expected) in [
            ("ftp://host/x", "scheme `ftp`"),
            ("s3://?endpoint=http://h:9000", "no bucket"),
            ("s3://b?endpoint=localhost:9000", "http:// or https://"),
            ("s3://b?endpoint=not a url", "is not a URL"),
            (
                "s3://b?endpoint=http://u:secret@h:9000",
                "must not hold credentials",
            ),
            ("s3://key:secret@b", "keys do not belong"),
            ("s3://b/some/path", "bucket only"),
            ("s3://b?regoin=x", "unknown parameter `regoin`"),
            ("", "empty"),
        ] {
            let err = parse_blob_url(url).unwrap_err().to_string();
            assert!(err.contains(expected), "{url}: {err}");
            assert!(!err.contains("secret"), "{url}: {err}");
        }
    }

    #[test]
    fn credentials_hide_the_secret() {
        let creds = S3Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI".into(),
        };
        let shown = format!("{creds:?}");
        assert!(
            shown.contains("AKIDEXAMPLE") && !shown.contains("wJalrXUtnFEMI"),
            "{shown}"
        );
    }
}
