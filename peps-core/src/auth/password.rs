//! Passwords: the CNIL rule (délibération 2022-100) and hashing behind a small port.

use crate::error::ValidationError;
use argon2::password_hash::{PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::fmt;

/// A password that satisfies the rule. Its `Debug` never prints it.
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

pub const MAX_PASSWORD_CHARS: usize = 256;

impl Password {
    /// The CNIL rule, any one of:
    /// - at least 12 characters with lower case, upper case, digits and special characters;
    /// - at least 14 characters (long is strong; a passphrase of four or more words fits here);
    ///
    /// and in every case at least 5 distinct characters, so that `aaaaaaaaaaaaaa` is refused.
    /// `context` holds words the password must not contain (the login, the name).
    pub fn new(raw: &str, context: &[&str]) -> Result<Self, ValidationError> {
        let len = raw.chars().count();
        if len > MAX_PASSWORD_CHARS {
            return Err(ValidationError::new(
                "password",
                "account.password.too_long",
            ));
        }
        let classes = [
            raw.chars().any(|c| c.is_lowercase()),
            raw.chars().any(|c| c.is_uppercase()),
            raw.chars().any(|c| c.is_numeric()),
            raw.chars().any(|c| !c.is_alphanumeric()),
        ]
        .into_iter()
        .filter(|present| *present)
        .count();
        let long_enough = len >= 14 || (len >= 12 && classes == 4);
        if !long_enough {
            return Err(ValidationError::new(
                "password",
                "account.password.too_weak",
            ));
        }
        let mut distinct: Vec<char> = raw.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 5 {
            return Err(ValidationError::new(
                "password",
                "account.password.too_weak",
            ));
        }
        let lower = raw.to_lowercase();
        // An email's domain (gmail, orange…) is not personal; its local part and names are.
        let personal = context
            .iter()
            .map(|c| c.split('@').next().unwrap_or(c))
            .flat_map(|c| c.split(['.', ' ', '-', '_']))
            .filter(|part| part.chars().count() >= 4)
            .any(|part| lower.contains(&part.to_lowercase()));
        if personal {
            return Err(ValidationError::new(
                "password",
                "account.password.personal",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Turns passwords into stored hashes (PHC strings) and checks them.
pub trait PasswordHasher: Send + Sync {
    fn hash(&self, password: &Password) -> String;
    /// Checks any candidate against a stored hash; `false` on mismatch or an unreadable hash.
    fn verify(&self, candidate: &str, stored: &str) -> bool;
}

/// argon2id with OWASP's parameters (19 MiB, 2 passes); the default.
pub struct Argon2Hasher {
    argon2: Argon2<'static>,
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters");
        Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        }
    }
}

impl PasswordHasher for Argon2Hasher {
    fn hash(&self, password: &Password) -> String {
        use argon2::password_hash::PasswordHasher as _;
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        self.argon2
            .hash_password(password.expose().as_bytes(), &salt)
            .expect("argon2 hashing with valid parameters cannot fail")
            .to_string()
    }

    fn verify(&self, candidate: &str, stored: &str) -> bool {
        PasswordHash::new(stored)
            .map(|hash| {
                self.argon2
                    .verify_password(candidate.as_bytes(), &hash)
                    .is_ok()
            })
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cnil_rule() {
        assert!(
            Password::new("Soleil-2026!x", &[]).is_ok(),
            "12+ with 4 classes"
        );
        assert!(
            Password::new("soleil-2026x", &[]).is_err(),
            "12 without upper case"
        );
        assert!(
            Password::new("cheval pomme bleu", &[]).is_ok(),
            "passphrase, 17 chars"
        );
        assert!(Password::new("correcthorsebat", &[]).is_ok(), "15 chars");
        assert!(Password::new("Abc1!", &[]).is_err());
        assert!(
            Password::new("aaaaaaaaaaaaaaaaaaa", &[]).is_err(),
            "repetitive"
        );
        assert!(Password::new(&"x1Y!".repeat(70), &[]).is_err(), "too long");
        let err = Password::new("marie.dupont.2026!", &["marie.dupont@example.fr"]).unwrap_err();
        assert_eq!(err.code, "account.password.personal");
        assert!(Password::new("Demo-Password-2026", &["admin@demo.peps"]).is_ok());
    }

    #[test]
    fn hash_and_verify() {
        let hasher = Argon2Hasher::default();
        let password = Password::new("cheval pomme bleu", &[]).unwrap();
        let hash = hasher.hash(&password);
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher.verify("cheval pomme bleu", &hash));
        assert!(!hasher.verify("cheval pomme blue", &hash));
        assert!(!hasher.verify("cheval pomme bleu", "not a hash"));
        assert_eq!(format!("{password:?}"), "Password(***)");
    }

    proptest! {
        #[test]
        fn rule_never_panics(s in "\\PC{0,300}") {
            let _ = Password::new(&s, &["someone@example.fr"]);
        }
    }
}
