//! Keyset cursors. A page ends at some (sort key, offer id); the next page starts strictly
//! after it. Sort keys depend only on the offer and the query (never on what else is in the
//! catalogue), so offers added or removed meanwhile cause no duplicate and no gap.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid or foreign search cursor")]
pub struct CursorError;

/// Where the previous page ended, bound to the query it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cursor {
    pub fingerprint: u64,
    pub key: i64,
    pub id: u128,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(33);
        bytes.push(1u8);
        bytes.extend_from_slice(&self.fingerprint.to_be_bytes());
        bytes.extend_from_slice(&self.key.to_be_bytes());
        bytes.extend_from_slice(&self.id.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Refuses a cursor made for another query: its positions would mean nothing here.
    pub fn decode(raw: &str, fingerprint: u64) -> Result<Cursor, CursorError> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| CursorError)?;
        if bytes.len() != 33 || bytes[0] != 1 {
            return Err(CursorError);
        }
        let cursor = Cursor {
            fingerprint: u64::from_be_bytes(bytes[1..9].try_into().map_err(|_| CursorError)?),
            key: i64::from_be_bytes(bytes[9..17].try_into().map_err(|_| CursorError)?),
            id: u128::from_be_bytes(bytes[17..33].try_into().map_err(|_| CursorError)?),
        };
        if cursor.fingerprint != fingerprint {
            return Err(CursorError);
        }
        Ok(cursor)
    }
}

/// FNV-1a: stable across processes and versions (unlike `DefaultHasher`), so a cursor from
/// one server instance works on another.
pub(super) fn fingerprint(canonical_query: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in canonical_query.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let c = Cursor {
            fingerprint: fingerprint("q=logement"),
            key: -1234,
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode(), c.fingerprint), Ok(c));
        assert_eq!(
            Cursor::decode(&c.encode(), fingerprint("q=emploi")),
            Err(CursorError)
        );
        for bad in ["", "!!!", "AAAA", &"A".repeat(500)] {
            assert_eq!(Cursor::decode(bad, c.fingerprint), Err(CursorError));
        }
    }
}
