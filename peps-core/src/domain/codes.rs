//! Enums whose values are stable codes: written to the database and shown in histories and
//! access logs, so a variant's spelling never changes once released.

/// `stable_codes! { pub enum Name { Variant = "code", … } }` defines the enum with `ALL`,
/// `as_str`, `parse`, `Display`, and serde as the code string.
macro_rules! stable_codes {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $code:literal),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// `None` for a code this version does not know.
            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|a| a.as_str() == raw)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&raw).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        concat!("unknown ", stringify!($name), " `{}`"),
                        raw
                    ))
                })
            }
        }
    };
}
pub(crate) use stable_codes;

#[cfg(test)]
mod tests {
    stable_codes! {
        enum Sample { One = "sample.one", Two = "sample.two" }
    }

    #[test]
    fn codes_round_trip_and_unknown_ones_are_refused() {
        for s in Sample::ALL {
            assert_eq!(Sample::parse(s.as_str()), Some(*s));
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(serde_json::from_str::<Sample>(&json).unwrap(), *s);
        }
        assert_eq!(Sample::Two.to_string(), "sample.two");
        assert_eq!(Sample::parse("sample.three"), None);
        assert!(serde_json::from_str::<Sample>("\"sample.three\"").is_err());
    }
}
