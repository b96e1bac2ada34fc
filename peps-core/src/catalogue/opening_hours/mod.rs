//! OpenStreetMap `opening_hours` values, as found in data·inclusion's `horaires_accueil`.
//!
//! Follows <https://wiki.openstreetmap.org/wiki/Key:opening_hours/specification> for what French
//! social-service data uses:
//!
//! - `24/7`; rules separated by `;` (replaces earlier rules for the days it matches), `,`
//!   (adds to them; only where a comma cannot continue a list) and `||` (fallback for days no
//!   earlier rule matched);
//! - years (`2026`, `2026-2028`), months and dates (`Jan-Mar`, `Dec 25`, `Dec 24-26`,
//!   `Jul 14-Aug 15`, `Dec 24-Jan 01`), ISO weeks (`week 01-10`), weekdays (`Mo-Fr`, `Sa-Mo`,
//!   `Mo[1]`, `Su[-1]`, `Th[1,3]`, `Fr[2-4]`), `PH` (French public holidays) and `SH` (school
//!   holidays, which never match: no school calendar is shipped), an optional `:` after dates;
//! - times (`08:30-12:00`, `22:00-02:00`, `..-24:00`, `08:00+`), rules with only times apply every
//!   day, rules without times apply all day. A range past midnight belongs to the day it starts
//!   on and spills into the next one (`Fr 22:00-02:00` opens Saturday 00:00-02:00). An open end
//!   (`08:00+`, closing time unknown) counts as open until midnight, so that "open now" searches
//!   do not hide such places;
//! - `open`, `off`, `closed`, `unknown` and a `"comment"`; a rule without times whose only
//!   content besides its selectors is a comment is `unknown`, which never counts as open.
//!
//! Tolerated, and printed canonically by `Display`: any case, extra spaces, a trailing `;` or
//! `,`, typographic dashes, `8h30`/`14h`, `8:30`, `Mo-Fr: ...`, times separated by spaces or
//! `/`.
//! Not supported: sunrise/sunset/dawn/dusk, easter and other variable times or dates, steps
//! (`/2`), day offsets (`PH +1 day`), times past 24:00 (`22:00-26:00`), and natural language
//! (`Lundi`).
//!
//! Evaluation is in Europe/Paris wall-clock time: callers convert instants first.

mod ast;
mod display;
mod error;
mod eval;
mod holidays;
mod lex;
mod parse;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike, Weekday};

pub use error::{ERROR_CODES, OpeningHoursError};
pub use holidays::is_french_public_holiday;

/// A parsed `opening_hours` value; parse once, evaluate many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours {
    rules: Vec<ast::Rule>,
    /// Derived from `rules` at construction so that the common case costs a binary search.
    weekly: Option<WeeklySchedule>,
    /// Derived from `rules`: whether a day's ranges may run into the next day.
    spills: bool,
}

impl OpeningHours {
    /// Parses a value; values over 1,000 characters are refused before parsing.
    pub fn parse(input: &str) -> Result<OpeningHours, OpeningHoursError> {
        parse::parse(input).map(Self::from_rules)
    }

    fn from_rules(rules: Vec<ast::Rule>) -> Self {
        OpeningHours {
            weekly: eval::weekly(&rules),
            spills: eval::spills(&rules),
            rules,
        }
    }

    /// Is it open at this local (Europe/Paris wall-clock) date-time? `unknown` counts as not
    /// open. Seconds are ignored. Does not allocate.
    pub fn is_open_at(&self, at: NaiveDateTime) -> bool {
        let minute = minute_of_day(at);
        match &self.weekly {
            Some(weekly) => weekly.is_open(at.weekday(), minute),
            None => eval::is_open(&self.rules, self.spills, at.date(), minute),
        }
    }

    /// Open intervals on that date, in minutes since local midnight `[start, end)`,
    /// `end <= 1440`, sorted and merged, including the part of a previous day's range that runs
    /// past midnight.
    pub fn intervals_on(&self, date: NaiveDate) -> Vec<(u16, u16)> {
        eval::intervals_on(&self.rules, date)
    }

    /// `Some(schedule)` when the value depends only on weekday and time (no month, date, year,
    /// week, nth-weekday, PH or SH selector): the fast path for searching many offers.
    /// It is computed at parse time, and `is_open_at` already uses it; this returns a copy.
    pub fn weekly(&self) -> Option<WeeklySchedule> {
        self.weekly.clone()
    }

    /// Comments attached to rules (e.g. "sur rendez-vous"), in order.
    pub fn comments(&self) -> Vec<&str> {
        self.rules
            .iter()
            .filter_map(|rule| rule.comment.as_deref())
            .collect()
    }

    /// Open at every minute of every day, as with `24/7` (or `Mo-Su 00:00-24:00`).
    pub fn is_always_open(&self) -> bool {
        self.weekly
            .as_ref()
            .is_some_and(|weekly| weekly.intervals == [(0, MINUTES_PER_WEEK)])
    }

    /// The slow path, kept reachable so tests can check the weekly fast path against it.
    #[cfg(test)]
    fn is_open_at_by_rules(&self, at: NaiveDateTime) -> bool {
        eval::is_open(&self.rules, self.spills, at.date(), minute_of_day(at))
    }
}

impl FromStr for OpeningHours {
    type Err = OpeningHoursError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

const MINUTES_PER_DAY: u16 = 1440;
const MINUTES_PER_WEEK: u16 = 7 * MINUTES_PER_DAY;

fn minute_of_day(at: NaiveDateTime) -> u16 {
    (at.hour() * 60 + at.minute()) as u16
}

/// Open intervals over a week that repeats: minute-of-week, Monday 00:00 = 0, 10080 = a week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklySchedule {
    /// Sorted, merged, half-open, within `0..=10080`.
    intervals: Vec<(u16, u16)>,
}

impl WeeklySchedule {
    /// `minute_of_day` counts from local midnight; values from 1440 on are never open.
    /// O(log n), no allocation.
    pub fn is_open(&self, weekday: Weekday, minute_of_day: u16) -> bool {
        if minute_of_day >= MINUTES_PER_DAY {
            return false;
        }
        let minute = weekday.num_days_from_monday() as u16 * MINUTES_PER_DAY + minute_of_day;
        let after = self
            .intervals
            .partition_point(|&(start, _)| start <= minute);
        after > 0 && minute < self.intervals[after - 1].1
    }

    /// Sorted, merged, half-open intervals in minute-of-week.
    pub fn intervals(&self) -> &[(u16, u16)] {
        &self.intervals
    }
}
