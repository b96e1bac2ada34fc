use std::fmt;

pub(super) const EMPTY: &str = "opening_hours.empty";
pub(super) const EXPECTED_TIME: &str = "opening_hours.expected_time";
pub(super) const INVALID_TIME: &str = "opening_hours.invalid_time";
pub(super) const EXPECTED_WEEKDAY: &str = "opening_hours.expected_weekday";
pub(super) const EXPECTED_MONTH: &str = "opening_hours.expected_month";
pub(super) const INVALID_DAY: &str = "opening_hours.invalid_day";
pub(super) const REVERSED_RANGE: &str = "opening_hours.reversed_range";
pub(super) const UNTERMINATED_COMMENT: &str = "opening_hours.unterminated_comment";
pub(super) const UNSUPPORTED: &str = "opening_hours.unsupported";
pub(super) const UNEXPECTED: &str = "opening_hours.unexpected";
pub(super) const TOO_LONG: &str = "opening_hours.too_long";

/// Every value [`OpeningHoursError::code`] can take; callers translate them, so they are stable.
pub const ERROR_CODES: &[&str] = &[
    EMPTY,
    EXPECTED_TIME,
    INVALID_TIME,
    EXPECTED_WEEKDAY,
    EXPECTED_MONTH,
    INVALID_DAY,
    REVERSED_RANGE,
    UNTERMINATED_COMMENT,
    UNSUPPORTED,
    UNEXPECTED,
    TOO_LONG,
];

/// Longest value accepted; real values are far shorter, and the limit bounds parsing work on
/// untrusted input.
pub(super) const MAX_CHARS: usize = 1000;

/// Longest `found` excerpt kept, so that an error message stays readable.
const MAX_FOUND_CHARS: usize = 40;

/// Why a value could not be parsed, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHoursError {
    /// One of [`ERROR_CODES`].
    pub code: &'static str,
    /// 1-based character (not byte) column where the problem starts; one past the last character
    /// when the value ends too early.
    pub column: usize,
    /// The offending token or character, shortened; `None` at the end of the value.
    pub found: Option<String>,
}

impl OpeningHoursError {
    pub(super) fn new(code: &'static str, column: usize, found: Option<&str>) -> Self {
        let found = found.map(|text| {
            let mut chars = text.chars();
            let mut short: String = chars.by_ref().take(MAX_FOUND_CHARS).collect();
            if chars.next().is_some() {
                short.push('…');
            }
            short
        });
        OpeningHoursError {
            code,
            column,
            found,
        }
    }

    fn expectation(&self) -> &'static str {
        match self.code {
            EMPTY => "the value is empty",
            EXPECTED_TIME => "expected a time such as 08:30",
            INVALID_TIME => "invalid time (hours 00-24, minutes 00-59, 24:00 only as an end)",
            EXPECTED_WEEKDAY => "expected a weekday (Mo, Tu, We, Th, Fr, Sa, Su) or PH, SH",
            EXPECTED_MONTH => {
                "expected a month (Jan, Feb, Mar, Apr, May, Jun, Jul, Aug, Sep, Oct, Nov, Dec)"
            }
            INVALID_DAY => "day, week or nth number out of range",
            REVERSED_RANGE => "range ends before it starts",
            UNTERMINATED_COMMENT => "comment is missing its closing double quote",
            UNSUPPORTED => "variable times (sunrise, sunset, dawn, dusk, easter) are not supported",
            TOO_LONG => "value is longer than 1000 characters",
            _ => "unexpected",
        }
    }
}

impl fmt::Display for OpeningHoursError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: ", self.column)?;
        if self.code == UNEXPECTED {
            return match &self.found {
                Some(found) => write!(f, "unexpected {found:?}"),
                None => f.write_str("unexpected end of the value"),
            };
        }
        f.write_str(self.expectation())?;
        match &self.found {
            Some(found) => write!(f, ", found {found:?}"),
            None if matches!(self.code, EMPTY | TOO_LONG) => Ok(()),
            None => f.write_str(", found the end of the value"),
        }
    }
}

impl std::error::Error for OpeningHoursError {}
