//! Evaluation of rules against dates.
//!
//! Each date gets its *own* schedule from the rules that match it: minutes 0..2880, where
//! 1440.. is the part of a range that runs past midnight (`Fr 22:00-02:00`). The open minutes of
//! a day are its own schedule below 1440 plus the previous day's own schedule from 1440 on. So a
//! later rule that matches Saturday replaces Saturday's own ranges but never cuts Friday's range
//! that runs into Saturday: simple, and what most values mean.
//!
//! One evaluator drives every use through [`DayTarget`], so that the point query, the day
//! intervals and the weekly schedule cannot disagree.

use chrono::{Datelike, Days, NaiveDate};

use super::WeeklySchedule;
use super::ast::{Holiday, Modifier, MonthdayRange, Nth, Rule, RuleKind, Selector, WeekdayRange};
use super::holidays::is_french_public_holiday;

const DAY: u16 = 1440;
/// A day's own schedule, including what runs past its midnight.
const OWN_DAY: u16 = 2 * DAY;
const WEEK: u16 = 7 * DAY;

/// Receives the effect of the rules on one date's own schedule.
pub(super) trait DayTarget {
    fn clear(&mut self);
    /// Half-open minute range, `start < end <= 2880`.
    fn add(&mut self, start: u16, end: u16);
    fn remove(&mut self, start: u16, end: u16);
}

pub(super) fn eval_day<T: DayTarget>(rules: &[Rule], date: NaiveDate, target: &mut T) {
    let mut holiday = None;
    let mut matched = false;
    for rule in rules {
        if rule.kind == RuleKind::Fallback && matched {
            continue;
        }
        if !rule.selector.matches(date, &mut holiday) {
            continue;
        }
        matched = true;
        let state = rule.state();
        // `Mo-Fr 08:00-18:00; We 12:00-14:00 off` closes only the lunch break: an `off` rule with
        // times takes those times away instead of replacing the whole day.
        let closes_times = state == Modifier::Off && !rule.times.is_empty();
        if rule.kind != RuleKind::Additional && !closes_times {
            target.clear();
        }
        match (state, rule.times.is_empty()) {
            (Modifier::Open, true) => target.add(0, DAY),
            (Modifier::Open, false) => {
                for span in &rule.times {
                    let (start, end) = span.minutes();
                    target.add(start, end);
                }
            }
            (Modifier::Off | Modifier::Unknown, true) => target.remove(0, OWN_DAY),
            (Modifier::Off | Modifier::Unknown, false) => {
                for span in &rule.times {
                    let (start, end) = span.minutes();
                    target.remove(start, end);
                }
            }
        }
    }
}

/// Whether one minute of a date's own schedule is open.
pub(super) struct Point {
    pub(super) minute: u16,
    pub(super) open: bool,
}

impl DayTarget for Point {
    fn clear(&mut self) {
        self.open = false;
    }
    fn add(&mut self, start: u16, end: u16) {
        if (start..end).contains(&self.minute) {
            self.open = true;
        }
    }
    fn remove(&mut self, start: u16, end: u16) {
        if (start..end).contains(&self.minute) {
            self.open = false;
        }
    }
}

/// Minute bitmap; `W` 64-bit words.
#[derive(Clone)]
pub(super) struct Bits<const W: usize>([u64; W]);

/// Enough words for a date's own schedule (2880 minutes).
pub(super) type DayBits = Bits<45>;
/// Enough words for a week (10080 minutes).
type WeekBits = Bits<158>;

impl<const W: usize> Bits<W> {
    pub(super) fn new() -> Self {
        Bits([0; W])
    }

    fn set(&mut self, start: u16, end: u16, value: bool) {
        let (mut minute, end) = (usize::from(start), usize::from(end));
        while minute < end {
            let (word, bit) = (minute / 64, minute % 64);
            let count = (64 - bit).min(end - minute);
            let mask = (u64::MAX >> (64 - count)) << bit;
            if value {
                self.0[word] |= mask;
            } else {
                self.0[word] &= !mask;
            }
            minute += count;
        }
    }

    /// One minute's bit: the reference the word-at-a-time scan is tested against.
    #[cfg(test)]
    fn get(&self, minute: usize) -> bool {
        self.0[minute / 64] & (1 << (minute % 64)) != 0
    }

    /// The first minute at or after `from` and below `limit` whose bit is `value`, a word at a
    /// time (a page of results asks this for every card, so no minute-by-minute scan).
    fn next(&self, from: usize, limit: usize, value: bool) -> Option<usize> {
        let mut minute = from;
        while minute < limit {
            let (word, bit) = (minute / 64, minute % 64);
            let bits = if value { self.0[word] } else { !self.0[word] } >> bit;
            if bits != 0 {
                let found = minute + bits.trailing_zeros() as usize;
                return (found < limit).then_some(found);
            }
            minute += 64 - bit;
        }
        None
    }

    /// Maximal runs of set bits below `limit`, ascending.
    pub(super) fn ranges(&self, limit: u16) -> Vec<(u16, u16)> {
        let limit = usize::from(limit).min(W * 64);
        let mut ranges = Vec::new();
        let mut minute = 0;
        while let Some(start) = self.next(minute, limit, true) {
            let end = self.next(start, limit, false).unwrap_or(limit);
            // Minutes fit in u16: `limit` came from a u16.
            ranges.push((start as u16, end as u16));
            minute = end;
        }
        ranges
    }
}

impl<const W: usize> DayTarget for Bits<W> {
    fn clear(&mut self) {
        self.0 = [0; W];
    }
    fn add(&mut self, start: u16, end: u16) {
        self.set(start, end, true);
    }
    fn remove(&mut self, start: u16, end: u16) {
        self.set(start, end, false);
    }
}

/// Open minutes of `date` from its own schedule and the previous day's overflow.
pub(super) fn intervals_on(rules: &[Rule], date: NaiveDate) -> Vec<(u16, u16)> {
    let mut own = DayBits::new();
    eval_day(rules, date, &mut own);
    let mut ranges: Vec<(u16, u16)> = own
        .ranges(DAY)
        .into_iter()
        .chain(date.pred_opt().into_iter().flat_map(|previous| {
            let mut before = DayBits::new();
            eval_day(rules, previous, &mut before);
            before
                .ranges(OWN_DAY)
                .into_iter()
                .filter(|&(_, end)| end > DAY)
                .map(|(start, end)| (start.max(DAY) - DAY, end - DAY))
        }))
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Whether `minute` (0..1440) of `date` is open, without allocating.
pub(super) fn is_open(rules: &[Rule], spills: bool, date: NaiveDate, minute: u16) -> bool {
    let mut point = Point {
        minute,
        open: false,
    };
    eval_day(rules, date, &mut point);
    if point.open || !spills {
        return point.open;
    }
    let Some(previous) = date.pred_opt() else {
        return false;
    };
    let mut point = Point {
        minute: minute + DAY,
        open: false,
    };
    eval_day(rules, previous, &mut point);
    point.open
}

/// Whether some open range runs past midnight, so the previous day must be looked at.
pub(super) fn spills(rules: &[Rule]) -> bool {
    rules.iter().any(|rule| {
        rule.state() == Modifier::Open && rule.times.iter().any(|span| span.minutes().1 > DAY)
    })
}

/// The weekly schedule, when no rule looks at anything but the weekday.
pub(super) fn weekly(rules: &[Rule]) -> Option<WeeklySchedule> {
    if !rules
        .iter()
        .all(|rule| rule.selector.depends_only_on_weekday())
    {
        return None;
    }
    // Any Monday would do since only the weekday matters.
    let monday = NaiveDate::from_ymd_opt(2024, 1, 1)?;
    let mut week = WeekBits::new();
    for weekday in 0..7u16 {
        let mut own = DayBits::new();
        eval_day(rules, monday + Days::new(weekday.into()), &mut own);
        let offset = weekday * DAY;
        for (start, end) in own.ranges(OWN_DAY) {
            let (start, end) = (start + offset, end + offset);
            // Sunday night runs into Monday morning.
            if start < WEEK {
                week.add(start, end.min(WEEK));
            }
            if end > WEEK {
                week.add(start.max(WEEK) - WEEK, end - WEEK);
            }
        }
    }
    Some(WeeklySchedule {
        intervals: week.ranges(WEEK),
    })
}

impl Selector {
    /// `holiday` caches the public-holiday test across the rules of one date.
    fn matches(&self, date: NaiveDate, holiday: &mut Option<bool>) -> bool {
        if self.always {
            return true;
        }
        if !self.years.is_empty()
            && !self
                .years
                .iter()
                .any(|range| (i32::from(range.from)..=i32::from(range.to)).contains(&date.year()))
        {
            return false;
        }
        if !self.monthdays.is_empty() && !self.monthdays.iter().any(|range| range.matches(date)) {
            return false;
        }
        if !self.weeks.is_empty() {
            let week = date.iso_week().week();
            let in_week = |from: u8, to: u8| wrapping_contains(from.into(), to.into(), week);
            if !self.weeks.iter().any(|range| in_week(range.from, range.to)) {
                return false;
            }
        }
        let weekday_ok = || self.weekdays.iter().any(|range| range.matches(date));
        let mut holiday_ok = || {
            self.holidays.iter().any(|kind| match kind {
                Holiday::Public => *holiday.get_or_insert_with(|| is_french_public_holiday(date)),
                Holiday::School => false,
            })
        };
        match (self.weekdays.is_empty(), self.holidays.is_empty()) {
            (true, true) => true,
            (false, true) => weekday_ok(),
            (true, false) => holiday_ok(),
            (false, false) if self.holidays_and_weekdays => holiday_ok() && weekday_ok(),
            (false, false) => weekday_ok() || holiday_ok(),
        }
    }
}

impl MonthdayRange {
    fn matches(&self, date: NaiveDate) -> bool {
        match *self {
            MonthdayRange::Months { from, to } => {
                wrapping_contains(from.into(), to.into(), date.month())
            }
            MonthdayRange::Dates { from, to } => {
                let key = |month: u32, day: u32| month * 32 + day;
                wrapping_contains(
                    key(from.month.into(), from.day.into()),
                    key(to.month.into(), to.day.into()),
                    key(date.month(), date.day()),
                )
            }
        }
    }
}

impl WeekdayRange {
    fn matches(&self, date: NaiveDate) -> bool {
        let weekday = date.weekday().num_days_from_monday();
        if !wrapping_contains(self.from.into(), self.to.into(), weekday) {
            return false;
        }
        if self.nth.is_empty() {
            return true;
        }
        let day = date.day();
        let from_start = (day - 1) / 7 + 1;
        let from_end = (days_in_month(date) - day) / 7 + 1;
        self.nth.iter().any(|nth| match *nth {
            Nth::Range { from, to } => (u32::from(from)..=u32::from(to)).contains(&from_start),
            Nth::FromEnd(n) => u32::from(n) == from_end,
        })
    }
}

/// Inclusive range that wraps around when `from > to` (`Sa-Mo`, `Nov-Feb`).
fn wrapping_contains(from: u32, to: u32, value: u32) -> bool {
    if from <= to {
        (from..=to).contains(&value)
    } else {
        value >= from || value <= to
    }
}

fn days_in_month(date: NaiveDate) -> u32 {
    match date.month() {
        4 | 6 | 9 | 11 => 30,
        2 if date.leap_year() => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod bits_tests {
    use super::Bits;

    /// The word-at-a-time scan agrees with a minute-by-minute one on runs that start, end and
    /// cross word boundaries, and on the limit cutting a run.
    #[test]
    fn ranges_match_a_minute_by_minute_scan() {
        let runs: &[&[(u16, u16)]] = &[
            &[],
            &[(0, 2880)],
            &[(0, 1), (63, 65), (127, 128), (540, 720), (840, 1020)],
            &[(1380, 1800)],
            &[(64, 128), (128, 192), (2879, 2880)],
        ];
        for run in runs {
            let mut bits = Bits::<45>::new();
            for (s, e) in run.iter() {
                bits.set(*s, *e, true);
            }
            for limit in [1440u16, 2880, 100, 0] {
                let mut expected = Vec::new();
                let mut start = None;
                for minute in 0..limit {
                    match (bits.get(usize::from(minute)), start) {
                        (true, None) => start = Some(minute),
                        (false, Some(from)) => {
                            expected.push((from, minute));
                            start = None;
                        }
                        _ => {}
                    }
                }
                if let Some(from) = start {
                    expected.push((from, limit));
                }
                assert_eq!(bits.ranges(limit), expected, "{run:?} below {limit}");
            }
        }
    }
}
