//! Canonical form of a value: OSM spellings, two-digit times, `off` for `closed`, one space
//! between parts. Parsing what this prints gives back an equal [`OpeningHours`], unless printing
//! made it longer than the 1,000-character limit (`8h` prints as `08:00`).

use std::fmt::{self, Display, Formatter, Write};

use super::OpeningHours;
use super::ast::{
    Holiday, Modifier, MonthDay, MonthdayRange, Nth, Rule, RuleKind, Selector, TimeSpan,
    WeekdayRange,
};

const WEEKDAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Display for OpeningHours {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (index, rule) in self.rules.iter().enumerate() {
            if index > 0 {
                f.write_str(match rule.kind {
                    RuleKind::Normal => "; ",
                    RuleKind::Additional => ", ",
                    RuleKind::Fallback => " || ",
                })?;
            }
            write!(f, "{rule}")?;
        }
        Ok(())
    }
}

/// Writes space-separated parts.
struct Parts<'a, 'b> {
    f: &'a mut Formatter<'b>,
    empty: bool,
}

impl Parts<'_, '_> {
    fn start(&mut self) -> fmt::Result {
        if !std::mem::replace(&mut self.empty, false) {
            self.f.write_char(' ')?;
        }
        Ok(())
    }

    fn list<T>(
        &mut self,
        items: &[T],
        write: impl Fn(&mut Formatter<'_>, &T) -> fmt::Result,
    ) -> fmt::Result {
        if items.is_empty() {
            return Ok(());
        }
        self.start()?;
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                self.f.write_char(',')?;
            }
            write(self.f, item)?;
        }
        Ok(())
    }
}

impl Display for Rule {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut parts = Parts { f, empty: true };
        write_selector(&mut parts, &self.selector)?;
        parts.list(&self.times, write_span)?;
        if let Some(modifier) = self.modifier {
            parts.start()?;
            parts.f.write_str(match modifier {
                Modifier::Open => "open",
                Modifier::Off => "off",
                Modifier::Unknown => "unknown",
            })?;
        }
        if let Some(comment) = &self.comment {
            parts.start()?;
            write!(parts.f, "\"{comment}\"")?;
        }
        Ok(())
    }
}

fn write_selector(parts: &mut Parts<'_, '_>, selector: &Selector) -> fmt::Result {
    if selector.always {
        parts.start()?;
        return parts.f.write_str("24/7");
    }
    parts.list(&selector.years, |f, range| {
        write!(f, "{}", range.from)?;
        if range.to != range.from {
            write!(f, "-{}", range.to)?;
        }
        Ok(())
    })?;
    parts.list(&selector.monthdays, write_monthday)?;
    if !selector.weeks.is_empty() {
        parts.start()?;
        parts.f.write_str("week")?;
        parts.empty = false;
        parts.list(&selector.weeks, |f, range| {
            write!(f, "{:02}", range.from)?;
            if range.to != range.from {
                write!(f, "-{:02}", range.to)?;
            }
            Ok(())
        })?;
    }
    let holidays = |f: &mut Formatter<'_>, holiday: &Holiday| {
        f.write_str(match holiday {
            Holiday::Public => "PH",
            Holiday::School => "SH",
        })
    };
    if selector.holidays_and_weekdays && !selector.weekdays.is_empty() {
        parts.list(&selector.holidays, holidays)?;
        parts.list(&selector.weekdays, write_weekdays)?;
    } else if selector.weekdays.is_empty() {
        parts.list(&selector.holidays, holidays)?;
    } else {
        parts.list(&selector.weekdays, write_weekdays)?;
        for holiday in &selector.holidays {
            parts.f.write_char(',')?;
            holidays(parts.f, holiday)?;
        }
    }
    Ok(())
}

fn write_monthday(f: &mut Formatter<'_>, range: &MonthdayRange) -> fmt::Result {
    let month = |month: u8| MONTHS[usize::from(month - 1)];
    let date =
        |f: &mut Formatter<'_>, date: MonthDay| write!(f, "{} {:02}", month(date.month), date.day);
    match *range {
        MonthdayRange::Months { from, to } if from == to => f.write_str(month(from)),
        MonthdayRange::Months { from, to } => write!(f, "{}-{}", month(from), month(to)),
        MonthdayRange::Dates { from, to } if from == to => date(f, from),
        // `Dec 24-26`; a reversed day range in one month must keep its second month to wrap.
        MonthdayRange::Dates { from, to } if from.month == to.month && from.day < to.day => {
            date(f, from)?;
            write!(f, "-{:02}", to.day)
        }
        MonthdayRange::Dates { from, to } => {
            date(f, from)?;
            f.write_char('-')?;
            date(f, to)
        }
    }
}

fn write_weekdays(f: &mut Formatter<'_>, range: &WeekdayRange) -> fmt::Result {
    f.write_str(WEEKDAYS[usize::from(range.from)])?;
    if range.to != range.from {
        write!(f, "-{}", WEEKDAYS[usize::from(range.to)])?;
    }
    if range.nth.is_empty() {
        return Ok(());
    }
    f.write_char('[')?;
    for (index, nth) in range.nth.iter().enumerate() {
        if index > 0 {
            f.write_char(',')?;
        }
        match *nth {
            Nth::Range { from, to } if from == to => write!(f, "{from}")?,
            Nth::Range { from, to } => write!(f, "{from}-{to}")?,
            Nth::FromEnd(n) => write!(f, "-{n}")?,
        }
    }
    f.write_char(']')
}

fn write_span(f: &mut Formatter<'_>, span: &TimeSpan) -> fmt::Result {
    let time =
        |f: &mut Formatter<'_>, minutes: u16| write!(f, "{:02}:{:02}", minutes / 60, minutes % 60);
    time(f, span.start)?;
    if let Some(end) = span.end {
        f.write_char('-')?;
        time(f, end)?;
    }
    if span.open_end {
        f.write_char('+')?;
    }
    Ok(())
}
