//! The name of a wallet key-encryption key.

use serde::{Deserialize, Serialize};

use super::value::{InvalidValue, string_value};

/// Names a key-encryption key in a key file, in every wrapped data key and in the database,
/// and is bound into each wrapping: 1 to 64 ASCII letters, digits, `-`, `_` or `.` (no `:`,
/// which ends the id in a key-file line, nor anything a shell or a log would mangle).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.is_empty()
            || raw.len() > Self::MAX_LEN
            || !raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(InvalidValue {
                rule: "a key id is 1 to 64 letters, digits, '-', '_' or '.'",
            });
        }
        Ok(Self(raw.to_owned()))
    }
}

string_value!(KeyId);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_a_key_file_can_hold() {
        for ok in [
            "k20260101",
            "2026",
            "kek-1",
            "a_b.c",
            "k".repeat(64).as_str(),
        ] {
            assert_eq!(KeyId::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "a/b",
            "a:b",
            "a b",
            " k",
            "clé",
            "k".repeat(65).as_str(),
        ] {
            assert!(KeyId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reads_and_writes_as_a_plain_string_checked_when_read() {
        let id: KeyId = serde_json::from_str("\"kek-1\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"kek-1\"");
        assert!(serde_json::from_str::<KeyId>("\"a/b\"").is_err());
        assert_eq!("kek-1".parse::<KeyId>().unwrap().to_string(), "kek-1");
    }

    proptest! {
        #[test]
        fn never_panics_and_keeps_what_it_accepts(s in "\\PC{0,70}") {
            if let Ok(id) = KeyId::parse(&s) {
                prop_assert_eq!(id.as_str(), s.as_str());
            }
        }
    }
}
