//! The key-file adapter of the wallet's `KeyVault` port: key-encryption keys read from a file
//! (a mounted secret in containers) into a [`KeyRing`].

use std::path::Path;

use peps_core::wallet::keyring::{KeyRing, KeyRingError};

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read the key file: {0}")]
    Read(#[from] std::io::Error),
    #[error("{0}")]
    Invalid(#[from] KeyRingError),
}

/// Reads a key file. Warns (once, at start) when other users may read it.
pub fn load_key_file(path: &Path) -> Result<KeyRing, KeyFileError> {
    let contents = zeroize::Zeroizing::new(std::fs::read_to_string(path)?);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                file = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "the wallet key file is readable by other users; chmod 600 it"
            );
        }
    }
    let ring = KeyRing::parse(&contents)?;
    tracing::info!(keys = ring.key_ids().len(), "wallet keys loaded");
    Ok(ring)
}
