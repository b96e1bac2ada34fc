//! SIRET: the 14-digit French establishment number, checked with the Luhn algorithm.

use crate::error::ValidationError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Siret(String);

impl Siret {
    /// Accepts the 14 digits with or without the spaces people type them with.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new("siret", "organisation.siret.format"));
        }
        // La Poste's establishments (SIREN 356000000) follow a digit-sum rule instead of Luhn.
        let valid = if digits.starts_with("356000000") {
            digits
                .bytes()
                .map(|b| u32::from(b - b'0'))
                .sum::<u32>()
                .is_multiple_of(5)
        } else {
            luhn_valid(&digits)
        };
        if !valid {
            return Err(ValidationError::new("siret", "organisation.siret.checksum"));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl TryFrom<String> for Siret {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Siret> for String {
    fn from(value: Siret) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_real_sirets() {
        assert!(Siret::parse("21750001600019").is_ok());
        assert!(Siret::parse("228 900 016 00004").is_ok());
        // La Poste's digit-sum rule.
        assert!(Siret::parse("35600000012346").is_ok());
        assert!(Siret::parse("35600000012347").is_err());
    }

    #[test]
    fn refuses_bad_checksum_and_format() {
        assert_eq!(
            Siret::parse("21750001600018").unwrap_err().code,
            "organisation.siret.checksum"
        );
        assert_eq!(
            Siret::parse("2175000160001").unwrap_err().code,
            "organisation.siret.format"
        );
        assert_eq!(
            Siret::parse("2175000160001A").unwrap_err().code,
            "organisation.siret.format"
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = Siret::parse(&s);
        }

        #[test]
        fn one_changed_digit_is_caught(pos in 0usize..14, delta in 1u8..10) {
            let good = b"21750001600019";
            let mut bad = good.to_vec();
            bad[pos] = b'0' + (bad[pos] - b'0' + delta) % 10;
            let bad = String::from_utf8(bad).unwrap();
            prop_assert!(Siret::parse(&bad).is_err());
        }
    }
}
