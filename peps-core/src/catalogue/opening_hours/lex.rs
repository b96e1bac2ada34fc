//! Splits a value into tokens that remember their character columns.
//!
//! Lexing never fails: characters that cannot start a token become [`TokKind::Other`] and an
//! unclosed quote becomes [`TokKind::UnterminatedComment`], so that the parser reports whichever
//! problem comes first in the value.

/// Classified word, so that the parser matches keywords case-insensitively without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kw {
    /// 0 = Monday.
    Weekday(u8),
    /// 1 = January.
    Month(u8),
    PublicHoliday,
    SchoolHoliday,
    Week,
    Open,
    /// `off` or `closed`.
    Off,
    Unknown,
    /// sunrise, sunset, dawn, dusk, easter.
    Variable,
    /// A French or English weekday name: the user meant a weekday.
    WeekdayName,
    /// A French or English month name: the user meant a month.
    MonthName,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokKind {
    /// ASCII digits; `value` saturates, `digits` tells `8` from `08` and `2026` from `26`.
    Num {
        value: u32,
        digits: usize,
    },
    Word(Kw),
    /// The `h` of `8h30` or `14h`.
    HourSep,
    Colon,
    /// `-` and the typographic dashes French text is full of.
    Dash,
    Comma,
    Semicolon,
    OrOr,
    Plus,
    Slash,
    LBracket,
    RBracket,
    /// Starts a variable time such as `(sunrise+01:00)`.
    LParen,
    Comment,
    UnterminatedComment,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Token {
    pub(super) kind: TokKind,
    /// 1-based character column of the first character.
    pub(super) col: usize,
    /// Column just after the last character, to tell `08:30` from `08 : 30`.
    pub(super) end_col: usize,
    /// Byte range in the input.
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) fn lex(input: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let byte_at = |index: usize| chars.get(index).map_or(input.len(), |&(byte, _)| byte);
    let char_at = |index: usize| chars.get(index).map(|&(_, c)| c);
    let mut tokens = Vec::new();
    let mut push = |kind: TokKind, from: usize, to: usize| {
        tokens.push(Token {
            kind,
            col: from + 1,
            end_col: to + 1,
            start: byte_at(from),
            end: byte_at(to),
        });
    };
    let mut i = 0;
    while let Some(c) = char_at(i) {
        let from = i;
        i += 1;
        let kind = if c.is_whitespace() {
            continue;
        } else if c.is_ascii_digit() {
            let mut value = c.to_digit(10).unwrap_or(0);
            let mut digits = 1;
            while let Some(digit) = char_at(i)
                .filter(char::is_ascii_digit)
                .and_then(|c| c.to_digit(10))
            {
                value = value.saturating_mul(10).saturating_add(digit);
                digits += 1;
                i += 1;
            }
            push(TokKind::Num { value, digits }, from, i);
            // "8h30", "12h": an `h` glued to a number and not starting a word ("8heures").
            if matches!(char_at(i), Some('h' | 'H'))
                && !char_at(i + 1).is_some_and(char::is_alphabetic)
            {
                push(TokKind::HourSep, i, i + 1);
                i += 1;
            }
            continue;
        } else if c.is_alphabetic() {
            while char_at(i).is_some_and(char::is_alphabetic) {
                i += 1;
            }
            TokKind::Word(classify(&input[byte_at(from)..byte_at(i)]))
        } else if c == '"' {
            match (i..chars.len()).find(|&j| chars[j].1 == '"') {
                Some(close) => {
                    i = close + 1;
                    TokKind::Comment
                }
                None => {
                    i = chars.len();
                    TokKind::UnterminatedComment
                }
            }
        } else {
            match c {
                ':' => TokKind::Colon,
                '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}'
                | '\u{2212}' => TokKind::Dash,
                ',' => TokKind::Comma,
                ';' => TokKind::Semicolon,
                '|' if char_at(i) == Some('|') => {
                    i += 1;
                    TokKind::OrOr
                }
                '+' => TokKind::Plus,
                '/' => TokKind::Slash,
                '[' => TokKind::LBracket,
                ']' => TokKind::RBracket,
                '(' => TokKind::LParen,
                _ => TokKind::Other,
            }
        };
        push(kind, from, i);
    }
    tokens
}

fn classify(word: &str) -> Kw {
    let lower = word.to_lowercase();
    match lower.as_str() {
        "mo" => Kw::Weekday(0),
        "tu" => Kw::Weekday(1),
        "we" => Kw::Weekday(2),
        "th" => Kw::Weekday(3),
        "fr" => Kw::Weekday(4),
        "sa" => Kw::Weekday(5),
        "su" => Kw::Weekday(6),
        "jan" => Kw::Month(1),
        "feb" => Kw::Month(2),
        "mar" => Kw::Month(3),
        "apr" => Kw::Month(4),
        "may" => Kw::Month(5),
        "jun" => Kw::Month(6),
        "jul" => Kw::Month(7),
        "aug" => Kw::Month(8),
        "sep" => Kw::Month(9),
        "oct" => Kw::Month(10),
        "nov" => Kw::Month(11),
        "dec" => Kw::Month(12),
        "ph" => Kw::PublicHoliday,
        "sh" => Kw::SchoolHoliday,
        "week" => Kw::Week,
        "open" => Kw::Open,
        "off" | "closed" => Kw::Off,
        "unknown" => Kw::Unknown,
        "sunrise" | "sunset" | "dawn" | "dusk" | "easter" => Kw::Variable,
        "lundi" | "mardi" | "mercredi" | "jeudi" | "vendredi" | "samedi" | "dimanche" | "lun"
        | "mer" | "jeu" | "ven" | "sam" | "dim" | "monday" | "tuesday" | "wednesday"
        | "thursday" | "friday" | "saturday" | "sunday" | "mon" | "tue" | "wed" | "thu" | "fri"
        | "sat" | "sun" => Kw::WeekdayName,
        "janvier" | "février" | "fevrier" | "mars" | "avril" | "mai" | "juin" | "juillet"
        | "août" | "aout" | "septembre" | "octobre" | "novembre" | "décembre" | "decembre"
        | "january" | "february" | "march" | "april" | "june" | "july" | "august" | "september"
        | "october" | "november" | "december" => Kw::MonthName,
        _ => Kw::Other,
    }
}
