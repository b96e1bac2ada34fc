//! Ways to reach a service or a person: a phone number and a web address, each checked by one
//! rule wherever it is typed (an offer, an organisation's profile, a step's place, an account).

use serde::{Deserialize, Serialize};

use super::value::{InvalidValue, string_value};

/// A French or international phone number as people write it: digits, spaces, dots, dashes,
/// parentheses, a leading `+`; between 3 (short numbers such as 115) and 20 digits. Kept as
/// written (trimmed), since that is how readers dial it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let phone = raw.trim();
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed = phone
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || " .-()".contains(c) || (c == '+' && i == 0));
        if !(3..=20).contains(&digits) || !allowed {
            return Err(InvalidValue {
                rule: "a phone number is 3 to 20 digits, with spaces, dots, dashes, parentheses \
                       and a leading +",
            });
        }
        Ok(Self(phone.to_owned()))
    }
}

string_value!(Phone);

/// An absolute http(s) address with a host and no spaces, as data·inclusion's `format: uri`;
/// anything else (`javascript:`, `ftp:`, a bare word) is refused, so a link shown to a reader
/// always opens a web page.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebUrl(String);

impl WebUrl {
    /// Longer addresses are not opened by every browser.
    pub const MAX_LEN: usize = 2083;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let url = raw.trim();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let valid = rest.is_some_and(|r| {
            let host = r.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty()
                && host.contains('.')
                && url.len() <= Self::MAX_LEN
                && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        });
        if !valid {
            return Err(InvalidValue {
                rule: "a web address starts with https:// or http://, names a host and has no \
                       spaces",
            });
        }
        Ok(Self(url.to_owned()))
    }
}

string_value!(WebUrl);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn phones_as_people_write_them() {
        for ok in [
            "03 86 00 00 00",
            "+33 3 86 00 00 00",
            "115",
            "(0)3.86.00-00-00",
        ] {
            assert_eq!(Phone::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(Phone::parse(" 115 ").unwrap(), "115");
        for bad in [
            "",
            "12",
            "03 86 ab",
            "3+3",
            "call me",
            "1".repeat(21).as_str(),
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn web_addresses() {
        let ok = WebUrl::parse(" https://acceslibre.beta.gouv.fr/app/89-auxerre/ ").unwrap();
        assert_eq!(
            ok.as_str(),
            "https://acceslibre.beta.gouv.fr/app/89-auxerre/"
        );
        assert!(WebUrl::parse("http://ccas.example.fr?x=1").is_ok());
        for bad in [
            "https://",
            "https://localhost",
            "ftp://x.fr",
            "https://a b.fr",
            "javascript:alert(1)",
            "www.example.fr",
        ] {
            assert!(WebUrl::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("https://x.fr/{}", "a".repeat(WebUrl::MAX_LEN));
        assert!(WebUrl::parse(&long).is_err());
    }

    #[test]
    fn they_read_and_write_as_plain_strings_checked_when_read() {
        let phone: Phone = serde_json::from_str("\"03 86 00 00 00\"").unwrap();
        assert_eq!(serde_json::to_string(&phone).unwrap(), "\"03 86 00 00 00\"");
        assert!(serde_json::from_str::<Phone>("\"call me\"").is_err());
        let url: WebUrl = serde_json::from_str("\"https://ccas.example.fr\"").unwrap();
        assert_eq!(
            serde_json::to_string(&url).unwrap(),
            "\"https://ccas.example.fr\""
        );
        assert!(serde_json::from_str::<WebUrl>("\"javascript:alert(1)\"").is_err());
        assert_eq!("115".parse::<Phone>().unwrap().to_string(), "115");
    }

    proptest! {
        #[test]
        fn never_panic_and_keep_what_they_accept(s in "\\PC{0,40}") {
            if let Ok(p) = Phone::parse(&s) {
                prop_assert_eq!(Phone::parse(p.as_str()), Ok(p.clone()));
            }
            if let Ok(u) = WebUrl::parse(&s) {
                prop_assert_eq!(WebUrl::parse(u.as_str()), Ok(u.clone()));
            }
        }
    }
}
