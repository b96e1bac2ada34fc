//! Where in France: département codes, as the catalogue's filters, imports and eligibility
//! zones name them.

use serde::{Deserialize, Serialize};

use super::value::{InvalidValue, string_value};

/// A département code as INSEE writes it: two digits (`89`; not `00` nor `20`, Corsica being
/// `2A` and `2B`) or three for overseas (`971`). Exactly that form: a caller reading what a
/// person typed trims and upper-cases first (`2a` is `2A`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DepartementCode(String);

impl DepartementCode {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let valid = match raw.len() {
            2 => {
                raw == "2A"
                    || raw == "2B"
                    || (raw.bytes().all(|b| b.is_ascii_digit()) && raw != "00" && raw != "20")
            }
            3 => raw.starts_with("97") && raw.bytes().all(|b| b.is_ascii_digit()),
            _ => false,
        };
        if !valid {
            return Err(InvalidValue {
                rule: "a département code is two digits, 2A, 2B, or three digits from 97",
            });
        }
        Ok(Self(raw.to_owned()))
    }

    /// The département of an INSEE commune code (`89024` is in `89`, `97105` in `971`,
    /// `2A004` in `2A`); `None` when its first characters name no département.
    pub fn of_commune(commune_code: &str) -> Option<DepartementCode> {
        let len = if commune_code.starts_with("97") { 3 } else { 2 };
        Self::parse(commune_code.get(..len)?).ok()
    }

    /// Whether the commune with this INSEE code is in the département.
    pub fn contains_commune(&self, commune_code: &str) -> bool {
        Self::of_commune(commune_code).as_ref() == Some(self)
    }
}

string_value!(DepartementCode);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_of_the_mainland_corsica_and_overseas() {
        for ok in ["01", "89", "2A", "2B", "95", "971", "976"] {
            assert_eq!(DepartementCode::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "", "8", "00", "20", "2a", " 89", "89 ", "975x", "981", "9710", "FR",
        ] {
            assert!(DepartementCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_departement_of_a_commune() {
        let of = |c: &str| DepartementCode::of_commune(c).map(String::from);
        assert_eq!(of("89024").as_deref(), Some("89"));
        assert_eq!(of("97105").as_deref(), Some("971"));
        assert_eq!(of("2A004").as_deref(), Some("2A"));
        assert_eq!(of("20004"), None);
        assert_eq!(of("8"), None);
        let yonne = DepartementCode::parse("89").unwrap();
        assert!(yonne.contains_commune("89024") && !yonne.contains_commune("58194"));
    }

    #[test]
    fn reads_and_writes_as_a_plain_string_checked_when_read() {
        let code: DepartementCode = serde_json::from_str("\"2A\"").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"2A\"");
        assert!(serde_json::from_str::<DepartementCode>("\"20\"").is_err());
        assert_eq!("971".parse::<DepartementCode>().unwrap().to_string(), "971");
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,6}") {
            let _ = DepartementCode::parse(&s);
            let _ = DepartementCode::of_commune(&s);
        }
    }
}
