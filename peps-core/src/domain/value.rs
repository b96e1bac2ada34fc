//! What the small string values of the kernel ([`Phone`](super::Phone),
//! [`WebUrl`](super::WebUrl), [`DepartementCode`](super::DepartementCode),
//! [`KeyId`](super::KeyId)) have in common: one `parse` holds the rule, and every way in
//! (`FromStr`, `TryFrom<String>`, serde) goes through it.

/// A value refused by its rule. Says what the rule is, never which field it was: each use
/// case reports it with its own field and code (`offer.contact.phone_invalid`,
/// `account.phone.invalid`…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{rule}")]
pub struct InvalidValue {
    pub rule: &'static str,
}

/// The traits of a string value whose `parse(&str) -> Result<Self, InvalidValue>` holds the
/// rule. Declare the type with
/// `#[derive(Serialize, Deserialize)] #[serde(try_from = "String", into = "String")]` so that
/// it reads and writes as a plain string, checked when read.
macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::InvalidValue;
            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Self::parse(raw)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::domain::InvalidValue;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

pub(crate) use string_value;
