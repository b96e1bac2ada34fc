//! One-time activation codes, made to be read off a sheet of paper and typed by someone who
//! may not read French: 10 characters of an alphabet without look-alikes (no 0/O, 1/I/L, U),
//! shown in two groups as `K7M3Q-9XH2W` (50 bits). Typing is forgiving: case, spaces and
//! dashes are ignored and look-alikes are read as what they look like.

use base64::Engine;
use rand::Rng;
use std::fmt;

use super::token::hash_token;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LEN: usize = 10;

pub struct ActivationCodeValue(String);

impl ActivationCodeValue {
    pub fn generate() -> Self {
        let mut rng = rand::rngs::OsRng;
        let code: String = (0..LEN)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        Self(code)
    }

    /// The code as printed for the person: two groups of five.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..5], &self.0[5..])
    }

    pub fn hash(&self) -> String {
        hash_code(&self.0)
    }
}

impl fmt::Debug for ActivationCodeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActivationCodeValue(***)")
    }
}

/// Normalises what was typed (`k7m3q 9xh2w`, `K7M3Q-9XHZW`…) and hashes it for lookup.
pub fn hash_typed_code(typed: &str) -> Option<String> {
    let normalised: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '.'))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            'U' => 'V',
            other => other,
        })
        .collect();
    (normalised.len() == LEN && normalised.bytes().all(|b| ALPHABET.contains(&b)))
        .then(|| hash_code(&normalised))
}

fn hash_code(code: &str) -> String {
    // Domain-separated from session tokens so one can never be used as the other.
    hash_token(&format!(
        "activation:{}",
        base64::engine::general_purpose::STANDARD.encode(code)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn typed_variants_match() {
        let code = ActivationCodeValue::generate();
        let shown = code.display();
        assert_eq!(shown.len(), 11);
        assert_eq!(hash_typed_code(&shown), Some(code.hash()));
        assert_eq!(hash_typed_code(&shown.to_lowercase()), Some(code.hash()));
        assert_eq!(hash_typed_code(&shown.replace('-', " ")), Some(code.hash()));
        assert_eq!(hash_typed_code("ABC"), None);
        assert_eq!(hash_typed_code("ABCDE-FGHJ!"), None);
    }

    #[test]
    fn look_alikes_are_forgiven() {
        let code = ActivationCodeValue("10V0K11111".to_owned());
        assert_eq!(hash_typed_code("LOU0K-I1L11"), Some(code.hash()));
    }

    proptest! {
        #[test]
        fn typed_never_panics(s in "\\PC{0,40}") {
            let _ = hash_typed_code(&s);
        }
    }
}
