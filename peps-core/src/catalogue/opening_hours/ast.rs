//! Syntax tree of an `opening_hours` value.
//!
//! The tree keeps exactly what `Display` prints, so that printing and parsing again gives an equal
//! tree. Spellings that mean the same thing (`closed`/`off`, `8h30`/`08:30`, `Mo-Mo`/`Mo`) are
//! folded by the parser, never stored.

/// How a rule combines with the rules before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RuleKind {
    /// After `;` (or first): replaces what earlier rules said for the days it matches.
    Normal,
    /// After `,`: adds to earlier rules without replacing them.
    Additional,
    /// After `||`: applies only to days no earlier rule matched.
    Fallback,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rule {
    pub(super) kind: RuleKind,
    pub(super) selector: Selector,
    /// Empty means all day.
    pub(super) times: Vec<TimeSpan>,
    /// `None` when the value did not say; see [`Rule::state`].
    pub(super) modifier: Option<Modifier>,
    /// Text between double quotes, without them; it can never contain `"`.
    pub(super) comment: Option<String>,
}

impl Rule {
    /// The state the rule gives to the times it covers.
    ///
    /// A rule that is only a comment (`"sur rendez-vous"`, `Sa "sur rendez-vous"`) tells people to
    /// read the comment rather than promising anything, so it is `unknown`, as in the reference
    /// implementation (opening_hours.js).
    pub(super) fn state(&self) -> Modifier {
        match self.modifier {
            Some(modifier) => modifier,
            None if self.times.is_empty() && self.comment.is_some() => Modifier::Unknown,
            None => Modifier::Open,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Modifier {
    Open,
    /// `off` or `closed`.
    Off,
    Unknown,
}

/// Date selectors of one rule; an empty list matches every date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Selector {
    /// `24/7`; when set, every list below is empty.
    pub(super) always: bool,
    pub(super) years: Vec<YearRange>,
    pub(super) monthdays: Vec<MonthdayRange>,
    pub(super) weeks: Vec<WeekRange>,
    pub(super) weekdays: Vec<WeekdayRange>,
    pub(super) holidays: Vec<Holiday>,
    /// `PH Mo-Fr` (space: a holiday that is also a weekday in the list) rather than `Mo-Fr,PH`
    /// (comma: either). Only meaningful when both lists are non-empty.
    pub(super) holidays_and_weekdays: bool,
}

impl Selector {
    /// True when only the weekday can make the selector match or not.
    pub(super) fn depends_only_on_weekday(&self) -> bool {
        self.years.is_empty()
            && self.monthdays.is_empty()
            && self.weeks.is_empty()
            && self.holidays.is_empty()
            && self.weekdays.iter().all(|range| range.nth.is_empty())
    }
}

/// Inclusive; `from <= to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct YearRange {
    pub(super) from: u16,
    pub(super) to: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MonthdayRange {
    /// Months 1..=12, inclusive; wraps over the year end when `from > to` (`Nov-Feb`).
    Months { from: u8, to: u8 },
    /// Inclusive; wraps over the year end when `from > to` (`Dec 24-Jan 01`).
    Dates { from: MonthDay, to: MonthDay },
}

/// Ordered by month then day, which is what date ranges compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct MonthDay {
    pub(super) month: u8,
    pub(super) day: u8,
}

/// ISO weeks 1..=53, inclusive; wraps over the year end when `from > to` (`week 50-02`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WeekRange {
    pub(super) from: u8,
    pub(super) to: u8,
}

/// Weekdays 0 (Monday) ..= 6 (Sunday), inclusive; wraps when `from > to` (`Sa-Mo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WeekdayRange {
    pub(super) from: u8,
    pub(super) to: u8,
    /// Occurrences within the month (`Mo[1]`, `Su[-1]`); empty means every occurrence.
    pub(super) nth: Vec<Nth>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Nth {
    /// 1..=5 counted from the start of the month, inclusive, `from <= to`.
    Range { from: u8, to: u8 },
    /// 1..=5 counted from the end of the month: 1 is the last one.
    FromEnd(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Holiday {
    /// `PH`: French public holidays (metropolitan France).
    Public,
    /// `SH`: school holidays. Accepted so that real values parse, but it never matches: school
    /// holidays depend on the academic zone and year, and no calendar is shipped here.
    School,
}

/// Minutes since midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TimeSpan {
    /// 0..1440.
    pub(super) start: u16,
    /// 0..=1440 as written; at or before `start` means it ends on the next day.
    /// `None` only for an open end without a closing time (`08:00+`).
    pub(super) end: Option<u16>,
    /// Written with a trailing `+`.
    pub(super) open_end: bool,
}

impl TimeSpan {
    /// Half-open range in minutes from the start of the day the span belongs to; the end may
    /// exceed 1440 (up to 2879) when the span runs past midnight.
    ///
    /// An open end (`08:00+`) is "open, closing time unknown"; we count it as open until
    /// midnight so that a search for "open now" does not hide such places.
    pub(super) fn minutes(self) -> (u16, u16) {
        match self.end {
            Some(end) if end > self.start => (self.start, end),
            Some(end) => (self.start, end + 1440),
            None => (self.start, 1440),
        }
    }
}
