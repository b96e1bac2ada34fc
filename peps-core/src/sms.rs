//! What a text message costs: its encoding and its number of segments.
//!
//! A text message travels as 140-byte segments. A text written entirely in the GSM 03.38
//! default alphabet (3GPP TS 23.038 §6.2.1: Latin letters, digits, common punctuation and a few
//! accented letters such as é è à ù ì ò Ç) is sent in 7-bit units: 160 in a single message, 153
//! per part of a longer one (the rest carries the header that joins the parts). Characters of
//! the extension table (€ [ ] { } \ ~ ^ | and form feed) take two units each, an escape and the
//! character. Any other character — ê, ç, the typographic apostrophe ’, Arabic, Ge'ez, Cyrillic
//! — switches the whole message to UCS-2: 70 UTF-16 units in a single message, 67 per part, a
//! character outside the Basic Multilingual Plane (most emoji) counting two.
//!
//! Providers bill per segment, so one ê in a French text can triple its cost.

/// How a text message is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmsEncoding {
    /// The GSM 03.38 default alphabet, 7 bits per unit.
    Gsm7,
    /// UTF-16, 16 bits per unit.
    Ucs2,
}

impl SmsEncoding {
    /// One letter for tables: `G` or `U`.
    pub fn letter(self) -> char {
        match self {
            SmsEncoding::Gsm7 => 'G',
            SmsEncoding::Ucs2 => 'U',
        }
    }

    /// Units in a message sent as one segment.
    pub fn single_limit(self) -> usize {
        match self {
            SmsEncoding::Gsm7 => 160,
            SmsEncoding::Ucs2 => 70,
        }
    }

    /// Units in each part of a message sent in several segments.
    pub fn part_limit(self) -> usize {
        match self {
            SmsEncoding::Gsm7 => 153,
            SmsEncoding::Ucs2 => 67,
        }
    }
}

/// A text message's encoding, length and cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsSegments {
    pub encoding: SmsEncoding,
    /// Length in the encoding's units: septets for GSM-7 (extension characters count two),
    /// UTF-16 code units for UCS-2.
    pub units: usize,
    /// Segments sent and billed (0 for an empty text).
    pub segments: usize,
}

/// The GSM 03.38 default alphabet (basic table), in the order of its code points.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                          ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table's characters, each sent as an escape plus the character.
const GSM7_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Units of `c` in GSM-7, or `None` when it has no GSM-7 form.
fn gsm7_units(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Whether the whole text can be sent in the GSM 03.38 default alphabet.
pub fn is_gsm7(text: &str) -> bool {
    text.chars().all(|c| gsm7_units(c).is_some())
}

/// The encoding a provider must use for `text`, its length and its number of segments.
///
/// Parts of a long message are filled greedily and never split a character: an extension
/// character's escape pair, or a UTF-16 surrogate pair, moves whole to the next part (as
/// handsets and gateways do), so a long text may take one segment more than `units / 153`.
pub fn sms_segments(text: &str) -> SmsSegments {
    let (encoding, widths): (SmsEncoding, Vec<usize>) = if is_gsm7(text) {
        (
            SmsEncoding::Gsm7,
            text.chars().map(|c| gsm7_units(c).unwrap_or(1)).collect(),
        )
    } else {
        (
            SmsEncoding::Ucs2,
            text.chars().map(char::len_utf16).collect(),
        )
    };
    let units: usize = widths.iter().sum();
    let segments = if units == 0 {
        0
    } else if units <= encoding.single_limit() {
        1
    } else {
        let limit = encoding.part_limit();
        let (mut parts, mut used) = (1, 0);
        for width in widths {
            if used + width > limit {
                parts += 1;
                used = 0;
            }
            used += width;
        }
        parts
    };
    SmsSegments {
        encoding,
        units,
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SmsEncoding::*;

    fn count(text: &str) -> (SmsEncoding, usize, usize) {
        let s = sms_segments(text);
        (s.encoding, s.units, s.segments)
    }

    #[test]
    fn the_gsm_basic_table_has_its_128_characters() {
        assert_eq!(GSM7_BASIC.chars().count(), 128 - 1, "all but the escape");
        assert_eq!(GSM7_EXTENSION.chars().count(), 10);
    }

    #[test]
    fn gsm_lengths_around_the_single_message_limit() {
        assert_eq!(count(&"a".repeat(159)), (Gsm7, 159, 1));
        assert_eq!(count(&"a".repeat(160)), (Gsm7, 160, 1));
        assert_eq!(count(&"a".repeat(161)), (Gsm7, 161, 2));
        assert_eq!(count(&"a".repeat(306)), (Gsm7, 306, 2));
        assert_eq!(count(&"a".repeat(307)), (Gsm7, 307, 3));
        assert_eq!(count(""), (Gsm7, 0, 0));
    }

    #[test]
    fn extension_characters_count_two() {
        assert_eq!(count("€"), (Gsm7, 2, 1));
        assert_eq!(count("[]{}\\~^|"), (Gsm7, 16, 1));
        // 159 letters and a euro sign: 161 units, two segments.
        assert_eq!(count(&format!("{}€", "a".repeat(159))), (Gsm7, 161, 2));
        // 152 letters then a euro sign: the escape pair does not fit in the first part's last
        // unit and moves whole to the second.
        let text = format!("{}€{}", "a".repeat(152), "b".repeat(152));
        assert_eq!(count(&text), (Gsm7, 306, 3));
    }

    #[test]
    fn french_accents_of_the_basic_table_stay_gsm() {
        let text = "Vous êtes";
        assert_eq!(count(text).0, Ucs2, "ê is not in the GSM table");
        for ok in ["é à è ù ì ò Ç É", "Où ? Déjà là. Ça marche : à mardi !"] {
            assert!(is_gsm7(ok), "{ok}");
            assert_eq!(count(ok).0, Gsm7, "{ok}");
        }
        for forces_ucs2 in [
            "ç", "ê", "â", "î", "ô", "û", "ë", "ï", "œ", "’", "«", "\u{a0}",
        ] {
            assert_eq!(count(forces_ucs2).0, Ucs2, "{forces_ucs2:?}");
        }
        // A plain French notice: one GSM segment; the same with "à réaliser avant" spelt with
        // a circumflex costs UCS-2.
        assert_eq!(
            count("PEPS : une démarche de votre plan est à faire avant le 15/12/2026."),
            (Gsm7, 66, 1)
        );
        assert_eq!(count("PEPS : votre démarche doit être faite.").0, Ucs2);
    }

    #[test]
    fn ucs2_lengths_around_the_single_message_limit() {
        let arabic = |n: usize| "ب".repeat(n);
        assert_eq!(count(&arabic(70)), (Ucs2, 70, 1));
        assert_eq!(count(&arabic(71)), (Ucs2, 71, 2));
        assert_eq!(count(&arabic(134)), (Ucs2, 134, 2));
        assert_eq!(count(&arabic(135)), (Ucs2, 135, 3));
        // Tigrinya (Ge'ez script) is UCS-2 too.
        assert_eq!(count("ሰላም").0, Ucs2);
    }

    #[test]
    fn emoji_count_two_utf16_units() {
        assert_eq!(count("😀"), (Ucs2, 2, 1));
        assert_eq!(count(&"😀".repeat(35)), (Ucs2, 70, 1));
        assert_eq!(count(&"😀".repeat(36)), (Ucs2, 72, 2));
        // 66 units then an emoji: its surrogate pair moves whole to the second part.
        let text = format!("{}😀{}", "ب".repeat(66), "ب".repeat(10));
        assert_eq!(count(&text), (Ucs2, 78, 2));
        let text = format!("{}😀{}", "ب".repeat(66), "ب".repeat(66));
        assert_eq!(count(&text), (Ucs2, 134, 3));
    }

    #[test]
    fn one_non_gsm_character_switches_the_whole_text() {
        let text = format!("{}ê", "a".repeat(69));
        assert_eq!(count(&text), (Ucs2, 70, 1));
        let text = format!("{}ê", "a".repeat(70));
        assert_eq!(count(&text), (Ucs2, 71, 2));
    }
}
