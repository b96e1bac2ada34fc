//! Text that shows what it is. A name or a title is read by people deciding whom to trust
//! ("Mme Martin, CCAS" sharing papers, a step title a person acts on): it must not reorder
//! itself on screen with bidirectional controls, nor look empty while it is not.

/// Why a piece of text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deceptive {
    /// A bidirectional embedding, override or isolate control (U+202A–U+202E,
    /// U+2066–U+2069): it can make "fdp.exe" show as "exe.pdf", or a name read backwards.
    BidiControl,
    /// Only invisible characters (spaces, zero-width and format characters, fillers): the
    /// field looks empty, or like nothing a reader can check.
    Invisible,
}

/// Checks a name or a title (already trimmed of ordinary spaces). Empty text passes: whether
/// a field may be empty is the caller's rule.
pub fn check_shown_text(text: &str) -> Result<(), Deceptive> {
    if text.chars().any(is_bidi_control) {
        return Err(Deceptive::BidiControl);
    }
    if !text.is_empty() && text.chars().all(is_invisible) {
        return Err(Deceptive::Invisible);
    }
    Ok(())
}

/// The embedding, override and isolate controls. The implicit marks (U+200E LRM, U+200F RLM,
/// U+061C ALM) stay allowed: Arabic, Persian and Hebrew names need them to display right.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A character that draws nothing on its own.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{00AD}'               // soft hyphen
                | '\u{034F}'         // combining grapheme joiner
                | '\u{061C}'         // Arabic letter mark
                | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
                | '\u{17B4}' | '\u{17B5}' // Khmer inherent vowels
                | '\u{180B}'..='\u{180F}' // Mongolian selectors and vowel separator
                | '\u{200B}'..='\u{200F}' // zero-width space, joiners, marks
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}' // word joiner, invisible operators, isolates
                | '\u{2800}'         // braille blank
                | '\u{FE00}'..='\u{FE0F}' // variation selectors
                | '\u{FEFF}'         // byte order mark
                | '\u{E0000}'..='\u{E007F}' // tags
                | '\u{E0100}'..='\u{E01EF}' // variation selectors supplement
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_any_script_pass() {
        for ok in [
            "Amina Benali",
            "أمينة بن علي",
            "Мария Иванова",
            "李华",
            "O'Brien-Ødegård",
            // An Arabic name with the implicit right-to-left mark a keyboard may insert.
            "\u{200F}أمينة",
            "Zoé\u{200D}",
            "",
        ] {
            assert_eq!(check_shown_text(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn overrides_and_isolates_are_refused_wherever_they_are() {
        for c in ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}') {
            for text in [
                format!("{c}Martin"),
                format!("Mar{c}tin"),
                format!("Martin{c}"),
            ] {
                assert_eq!(
                    check_shown_text(&text),
                    Err(Deceptive::BidiControl),
                    "{text:?}"
                );
            }
        }
        // The classic: a worker's name that displays as someone else's.
        assert!(check_shown_text("CCAS \u{202E}nitraM emM").is_err());
    }

    #[test]
    fn text_made_only_of_invisible_characters_is_refused() {
        for text in [
            "\u{200B}",
            "\u{200B}\u{200C}\u{200D}",
            "\u{3164}",
            "\u{2800}\u{2800}",
            "\u{FEFF}",
            "\u{00A0}\u{2003}",
            "\u{E0041}\u{E0042}",
            "\u{115F}\u{1160}",
        ] {
            assert_eq!(
                check_shown_text(text),
                Err(Deceptive::Invisible),
                "{text:?}"
            );
        }
    }
}
