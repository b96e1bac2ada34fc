//! Key-encryption keys held in memory, loaded from a key file or a secret (`peps-store` reads
//! the file). One line per key, `<id>:<base64 of 32 random bytes>`; `#` starts a comment. The
//! last key is the active one: adding a line and running `peps wallet rotate-key` moves every
//! data key under it, after which older lines can be removed.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use zeroize::Zeroizing;

use super::ports::{KeyError, KeyVault, WrappedKey};
use crate::domain::KeyId;

/// The wrapping algorithm recorded with every wrapped key.
pub const WRAP_ALGORITHM: &str = "A256GCM-KW";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRingError {
    #[error("the key file holds no key")]
    Empty,
    #[error("line {0}: expected `<id>:<base64 of 32 bytes>`")]
    Malformed(usize),
    #[error("line {0}: a key id is 1 to 64 letters, digits, `-`, `_` or `.`")]
    BadId(usize),
    #[error("line {0}: the key id appears twice")]
    DuplicateId(usize),
}

pub struct KeyRing {
    /// In file order; the last is active.
    keys: Vec<(KeyId, Zeroizing<[u8; 32]>)>,
    /// The last key's id (a ring is never empty).
    active: KeyId,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("KeyRing").field("key_ids", &ids).finish()
    }
}

impl KeyRing {
    pub fn parse(contents: &str) -> Result<Self, KeyRingError> {
        let mut keys: Vec<(KeyId, Zeroizing<[u8; 32]>)> = Vec::new();
        for (n, raw) in contents.lines().enumerate() {
            let line_no = n + 1;
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (id, key) = line
                .split_once(':')
                .ok_or(KeyRingError::Malformed(line_no))?;
            let id = KeyId::parse(id.trim()).map_err(|_| KeyRingError::BadId(line_no))?;
            let bytes = Zeroizing::new(
                STANDARD
                    .decode(key.trim())
                    .map_err(|_| KeyRingError::Malformed(line_no))?,
            );
            let key: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| KeyRingError::Malformed(line_no))?;
            if keys.iter().any(|(k, _)| *k == id) {
                return Err(KeyRingError::DuplicateId(line_no));
            }
            keys.push((id, Zeroizing::new(key)));
        }
        let Some((active, _)) = keys.last() else {
            return Err(KeyRingError::Empty);
        };
        let active = active.clone();
        Ok(Self { keys, active })
    }

    /// A new key line to append to a key file: `<id>:<base64>`.
    pub fn generate_line(id: &KeyId) -> String {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        format!("{id}:{}", STANDARD.encode(key.as_ref()))
    }

    pub fn key_ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(|(id, _)| id.clone()).collect()
    }

    fn key(&self, id: &KeyId) -> Option<Aes256Gcm> {
        self.keys
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, key)| Aes256Gcm::new(&(**key).into()))
    }

    fn aad(key_id: &KeyId, context: &[u8]) -> Vec<u8> {
        let mut aad = b"peps-wallet-dek\0".to_vec();
        aad.extend_from_slice(key_id.as_str().as_bytes());
        aad.push(0);
        aad.extend_from_slice(context);
        aad
    }
}

#[async_trait]
impl KeyVault for KeyRing {
    fn active_key_id(&self) -> KeyId {
        self.active.clone()
    }

    async fn wrap(&self, data_key: &[u8; 32], context: &[u8]) -> Result<WrappedKey, KeyError> {
        let key_id = self.active_key_id();
        let cipher = self
            .key(&key_id)
            .ok_or_else(|| KeyError::UnknownKey(key_id.clone()))?;
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = Self::aad(&key_id, context);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: data_key,
                    aad: &aad,
                },
            )
            .map_err(|_| KeyError::Unavailable("wrap failed".into()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(WrappedKey {
            key_id,
            algorithm: WRAP_ALGORITHM.to_owned(),
            bytes,
        })
    }

    async fn unwrap(&self, wrapped: &WrappedKey, context: &[u8]) -> Result<[u8; 32], KeyError> {
        if wrapped.algorithm != WRAP_ALGORITHM || wrapped.bytes.len() != 12 + 32 + 16 {
            return Err(KeyError::Unwrap);
        }
        let cipher = self
            .key(&wrapped.key_id)
            .ok_or_else(|| KeyError::UnknownKey(wrapped.key_id.clone()))?;
        let aad = Self::aad(&wrapped.key_id, context);
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    Nonce::from_slice(&wrapped.bytes[..12]),
                    Payload {
                        msg: &wrapped.bytes[12..],
                        aad: &aad,
                    },
                )
                .map_err(|_| KeyError::Unwrap)?,
        );
        plain.as_slice().try_into().map_err(|_| KeyError::Unwrap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: &str) -> KeyId {
        KeyId::parse(raw).unwrap()
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn wraps_under_the_last_key_and_unwraps_only_in_its_context() {
        let file = format!(
            "# PEPS wallet keys\n{}\n{}\n",
            KeyRing::generate_line(&id("2025")),
            KeyRing::generate_line(&id("2026"))
        );
        let ring = KeyRing::parse(&file).unwrap();
        assert_eq!(ring.active_key_id(), "2026");
        assert!(
            !format!("{ring:?}").contains(file.lines().nth(2).unwrap().split(':').nth(1).unwrap())
        );
        let dek = [7u8; 32];
        let w = block_on(ring.wrap(&dek, b"file-1")).unwrap();
        assert_eq!(w.key_id, "2026");
        assert_eq!(block_on(ring.unwrap(&w, b"file-1")).unwrap(), dek);
        assert!(matches!(
            block_on(ring.unwrap(&w, b"file-2")),
            Err(KeyError::Unwrap)
        ));
        let mut bad = w.clone();
        bad.bytes[20] ^= 1;
        assert!(matches!(
            block_on(ring.unwrap(&bad, b"file-1")),
            Err(KeyError::Unwrap)
        ));
        let other = KeyRing::parse(&KeyRing::generate_line(&id("2026"))).unwrap();
        assert!(matches!(
            block_on(other.unwrap(&w, b"file-1")),
            Err(KeyError::Unwrap)
        ));
        let only_old = KeyRing::parse(&KeyRing::generate_line(&id("2024"))).unwrap();
        assert!(matches!(
            block_on(only_old.unwrap(&w, b"file-1")),
            Err(KeyError::UnknownKey(_))
        ));
    }

    #[test]
    fn bad_key_files_are_refused_with_the_line() {
        assert_eq!(
            KeyRing::parse("# nothing\n").unwrap_err(),
            KeyRingError::Empty
        );
        assert_eq!(
            KeyRing::parse("k1 abc").unwrap_err(),
            KeyRingError::Malformed(1)
        );
        assert_eq!(
            KeyRing::parse("\nk1:c2hvcnQ=").unwrap_err(),
            KeyRingError::Malformed(2)
        );
        let line = KeyRing::generate_line(&id("ab")).replacen("ab", "a/b", 1);
        assert_eq!(KeyRing::parse(&line).unwrap_err(), KeyRingError::BadId(1));
        let twice = format!(
            "{}\n{}",
            KeyRing::generate_line(&id("k")),
            KeyRing::generate_line(&id("k"))
        );
        assert_eq!(
            KeyRing::parse(&twice).unwrap_err(),
            KeyRingError::DuplicateId(2)
        );
    }
}
