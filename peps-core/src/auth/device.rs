//! Known-device tokens: a device where the owner signed in keeps one, and shows it at the next
//! login. Someone sending wrong passwords from elsewhere then slows down their own guesses,
//! never the owner's sign-in from their usual device.
//!
//! A token is a random nonce and a SHA-256 over the nonce, the account and the stored password
//! hash. Nothing is stored: the server checks it against the password hash it holds, which
//! never leaves it. A new password (a reset included) voids every device token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::AccountId;

const PREFIX: &str = "pepsdev_";

fn mac(nonce: &[u8], account: AccountId, password_hash: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"peps known device v1\0");
    h.update(nonce);
    h.update(account.0.as_bytes());
    h.update(password_hash.as_bytes());
    h.finalize().into()
}

/// A new token for `account`, whose stored password hash is `password_hash`.
pub fn issue(account: AccountId, password_hash: &str) -> String {
    let mut nonce = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&mac(&nonce, account, password_hash));
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `token` was issued for `account` under its current password hash.
pub fn verify(token: &str, account: AccountId, password_hash: &str) -> bool {
    let Some(bytes) = token
        .strip_prefix(PREFIX)
        .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
    else {
        return false;
    };
    if bytes.len() != 48 {
        return false;
    }
    let (nonce, tag) = bytes.split_at(16);
    let expected = mac(nonce, account, password_hash);
    tag.iter()
        .zip(expected)
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_holds_for_its_account_and_password_only() {
        let (a, b) = (AccountId::new(), AccountId::new());
        let token = issue(a, "$argon2id$one");
        assert!(verify(&token, a, "$argon2id$one"));
        assert!(!verify(&token, b, "$argon2id$one"), "another account");
        assert!(
            !verify(&token, a, "$argon2id$two"),
            "a new password voids it"
        );
        assert!(!verify("pepsdev_AAAA", a, "$argon2id$one"));
        assert!(!verify("", a, "$argon2id$one"));
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(!verify(&tampered, a, "$argon2id$one"));
        assert_ne!(
            issue(a, "$argon2id$one"),
            token,
            "each sign-in draws a new nonce"
        );
    }
}
