//! Property tests: no panics, exact round trips, and agreement between the evaluation paths.

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::ast::{
    Holiday, Modifier, MonthDay, MonthdayRange, Nth, Rule, RuleKind, Selector, TimeSpan, WeekRange,
    WeekdayRange, YearRange,
};
use super::{ERROR_CODES, OpeningHours};

fn nth() -> impl Strategy<Value = Nth> {
    prop_oneof![
        (1u8..=5, 1u8..=5).prop_map(|(a, b)| Nth::Range {
            from: a.min(b),
            to: a.max(b)
        }),
        (1u8..=5).prop_map(Nth::FromEnd),
    ]
}

fn weekday_range(with_nth: bool) -> impl Strategy<Value = WeekdayRange> {
    let nth = if with_nth {
        vec(nth(), 0..3).boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    (0u8..7, 0u8..7, nth).prop_map(|(from, to, nth)| WeekdayRange { from, to, nth })
}

fn month_day() -> impl Strategy<Value = MonthDay> {
    (1u8..=12).prop_flat_map(|month| {
        let days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][usize::from(month - 1)];
        (1u8..=days).prop_map(move |day| MonthDay { month, day })
    })
}

fn monthday_range() -> impl Strategy<Value = MonthdayRange> {
    prop_oneof![
        (1u8..=12, 1u8..=12).prop_map(|(from, to)| MonthdayRange::Months { from, to }),
        (month_day(), month_day()).prop_map(|(from, to)| MonthdayRange::Dates { from, to }),
        // Short ranges inside one month, printed as `Dec 24-26`.
        (month_day(), 0u8..4).prop_map(|(from, length)| MonthdayRange::Dates {
            from,
            to: MonthDay {
                day: (from.day + length).min(28).max(from.day),
                ..from
            },
        }),
    ]
}

fn year_range() -> impl Strategy<Value = YearRange> {
    prop_oneof![
        (2020u16..=2032, 2020u16..=2032),
        (1000u16..=9999, 1000u16..=9999)
    ]
    .prop_map(|(a, b)| YearRange {
        from: a.min(b),
        to: a.max(b),
    })
}

fn time_span() -> impl Strategy<Value = TimeSpan> {
    // Quarter hours make spans overlap and touch often; any minute must work too.
    let minute = prop_oneof![(0u16..96).prop_map(|q| q * 15), 0u16..1440];
    let end = prop_oneof![(0u16..=96).prop_map(|q| q * 15), 0u16..=1440];
    (minute, option::weighted(0.9, end), any::<bool>()).prop_map(|(start, end, open_end)| {
        TimeSpan {
            start,
            end,
            open_end: open_end || end.is_none(),
        }
    })
}

fn selector(weekly_only: bool) -> impl Strategy<Value = Selector> {
    let limit = |n: usize| if weekly_only { 0..1 } else { 0..n };
    let holiday = prop_oneof![Just(Holiday::Public), Just(Holiday::School)];
    let lists = (
        vec(year_range(), limit(3)),
        vec(monthday_range(), limit(3)),
        vec((1u8..=53, 1u8..=53), limit(3)),
        vec(weekday_range(!weekly_only), 0..3),
        vec(holiday, limit(3)),
        any::<bool>(),
    )
        .prop_map(|(years, monthdays, weeks, weekdays, holidays, and)| {
            let holidays_and_weekdays = and && !weekdays.is_empty() && !holidays.is_empty();
            Selector {
                always: false,
                years,
                monthdays,
                weeks: weeks
                    .into_iter()
                    .map(|(from, to)| WeekRange { from, to })
                    .collect(),
                weekdays,
                holidays,
                holidays_and_weekdays,
            }
        });
    prop_oneof![
        1 => Just(Selector { always: true, ..Selector::default() }),
        6 => lists,
    ]
}

fn rule(weekly_only: bool) -> impl Strategy<Value = Rule> {
    let kind = prop_oneof![
        3 => Just(RuleKind::Normal),
        2 => Just(RuleKind::Additional),
        1 => Just(RuleKind::Fallback),
    ];
    let modifier = prop_oneof![
        Just(Modifier::Open),
        Just(Modifier::Off),
        Just(Modifier::Unknown)
    ];
    (
        kind,
        selector(weekly_only),
        vec(time_span(), 0..3),
        option::weighted(0.3, modifier),
        option::weighted(0.2, "[^\"]{0,12}"),
    )
        .prop_map(|(kind, selector, times, modifier, comment)| Rule {
            times: if selector.always { Vec::new() } else { times },
            kind,
            selector,
            modifier,
            comment,
        })
}

/// Kinds of list a comma can extend; see `parse`.
#[derive(PartialEq, Eq, Clone, Copy)]
enum List {
    Years,
    Months,
    Weekdays,
    WeekdaysOrHolidays,
    Holidays,
    Times,
}

/// The list a rule's printed form ends with, if a comma after it could extend that list.
fn ends_with(rule: &Rule) -> Option<List> {
    let selector = &rule.selector;
    if rule.modifier.is_some() || rule.comment.is_some() || selector.always {
        None
    } else if !rule.times.is_empty() {
        Some(List::Times)
    } else if !selector.weekdays.is_empty() || !selector.holidays.is_empty() {
        Some(if selector.holidays_and_weekdays {
            List::Weekdays
        } else {
            List::WeekdaysOrHolidays
        })
    } else if !selector.weeks.is_empty() {
        None
    } else if !selector.monthdays.is_empty() {
        Some(List::Months)
    } else if !selector.years.is_empty() {
        Some(List::Years)
    } else {
        None
    }
}

fn starts_with(rule: &Rule) -> Option<List> {
    let selector = &rule.selector;
    if selector.always {
        None
    } else if !selector.years.is_empty() {
        Some(List::Years)
    } else if !selector.monthdays.is_empty() {
        Some(List::Months)
    } else if !selector.weeks.is_empty() {
        None
    } else if !selector.weekdays.is_empty() && !selector.holidays_and_weekdays {
        Some(List::Weekdays)
    } else if !selector.holidays.is_empty() {
        Some(List::Holidays)
    } else if !rule.times.is_empty() {
        Some(List::Times)
    } else {
        None
    }
}

/// Additional rules whose start would continue the previous rule's list cannot be written in
/// OSM syntax (`Mo, Tu` is one rule); make those normal rules.
fn writable(mut rules: Vec<Rule>) -> Vec<Rule> {
    rules[0].kind = RuleKind::Normal;
    for index in 0..rules.len() {
        let rule = &mut rules[index];
        if rule.selector == Selector::default()
            && rule.times.is_empty()
            && rule.modifier.is_none()
            && rule.comment.is_none()
        {
            rule.modifier = Some(Modifier::Open);
        }
        if index > 0 && rules[index].kind == RuleKind::Additional {
            let conflict = match (ends_with(&rules[index - 1]), starts_with(&rules[index])) {
                (Some(List::WeekdaysOrHolidays), Some(List::Weekdays | List::Holidays)) => true,
                (Some(end), Some(start)) => end == start,
                _ => false,
            };
            if conflict {
                rules[index].kind = RuleKind::Normal;
            }
        }
    }
    rules
}

fn rules(weekly_only: bool) -> impl Strategy<Value = Vec<Rule>> {
    vec(rule(weekly_only), 1..5).prop_map(writable)
}

fn date_time() -> impl Strategy<Value = NaiveDateTime> {
    let first = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    (0u64..4 * 366, 0u32..1440, 0u32..60).prop_map(move |(day, minute, second)| {
        let time = NaiveTime::from_hms_opt(minute / 60, minute % 60, second).unwrap();
        (first + Days::new(day)).and_time(time)
    })
}

/// Values built from pieces of real syntax, to reach deep into the parser.
fn token_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("Mo"),
        Just("fr"),
        Just("Sa"),
        Just("Su"),
        Just("PH"),
        Just("SH"),
        Just("Dec"),
        Just("jan"),
        Just("week"),
        Just("2026"),
        Just("25"),
        Just("1"),
        Just("08:30"),
        Just("8h"),
        Just("24:00"),
        Just("24/7"),
        Just("-"),
        Just("–"),
        Just(","),
        Just(";"),
        Just("||"),
        Just(":"),
        Just("+"),
        Just("["),
        Just("]"),
        Just("-1"),
        Just(" "),
        Just("off"),
        Just("closed"),
        Just("open"),
        Just("unknown"),
        Just("\"rdv\""),
        Just("\""),
        Just("sunrise"),
        Just("("),
        Just("Lundi"),
        Just("é"),
        Just("/"),
    ];
    vec(piece, 0..14).prop_map(|pieces| pieces.concat())
}

fn check_any_input(input: &str) -> Result<(), TestCaseError> {
    match OpeningHours::parse(input) {
        Ok(value) => {
            let text = value.to_string();
            if text.chars().count() > 1000 {
                // Printing can lengthen a value past the limit; see the fuzz target.
                return Ok(());
            }
            let again = OpeningHours::parse(&text);
            prop_assert_eq!(
                again.as_ref(),
                Ok(&value),
                "{:?} printed as {:?}",
                input,
                text
            );
            prop_assert_eq!(again.unwrap().to_string(), text);
        }
        Err(error) => {
            let chars = input.chars().count();
            prop_assert!(
                (1..=chars + 1).contains(&error.column),
                "{:?}: {:?}",
                input,
                error
            );
            prop_assert!(ERROR_CODES.contains(&error.code));
            prop_assert!(!error.to_string().is_empty());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn parse_never_panics_on_any_string(input in any::<String>()) {
        check_any_input(&input)?;
    }

    #[test]
    fn parse_never_panics_on_printable_unicode(input in "\\PC{0,40}") {
        check_any_input(&input)?;
    }

    #[test]
    fn parse_never_panics_on_token_soup(input in token_soup()) {
        check_any_input(&input)?;
    }

    #[test]
    fn display_parse_round_trip(rules in rules(false)) {
        let value = OpeningHours::from_rules(rules);
        let text = value.to_string();
        let again = OpeningHours::parse(&text);
        prop_assert_eq!(again.as_ref(), Ok(&value), "printed as {:?}", text);
        prop_assert_eq!(again.unwrap().to_string(), text);
    }

    #[test]
    fn weekly_agrees_with_rules(rules in rules(true), at in vec(date_time(), 1..20)) {
        let value = OpeningHours::from_rules(rules);
        let weekly = value.weekly().expect("weekday-only rules have a weekly schedule");
        for at in at {
            let minute = super::minute_of_day(at);
            prop_assert_eq!(
                weekly.is_open(at.weekday(), minute),
                value.is_open_at_by_rules(at),
                "{} at {}", value, at
            );
        }
        let intervals = weekly.intervals();
        prop_assert!(intervals.windows(2).all(|pair| pair[0].1 < pair[1].0));
        prop_assert!(intervals.iter().all(|&(start, end)| start < end && end <= 10080));
    }

    #[test]
    fn is_open_at_agrees_with_intervals_on(rules in rules(false), at in vec(date_time(), 1..10)) {
        let value = OpeningHours::from_rules(rules);
        for at in at {
            let minute = super::minute_of_day(at);
            let intervals = value.intervals_on(at.date());
            prop_assert!(intervals.windows(2).all(|pair| pair[0].1 < pair[1].0));
            prop_assert!(intervals.iter().all(|&(start, end)| start < end && end <= 1440));
            let in_intervals = intervals.iter().any(|&(start, end)| (start..end).contains(&minute));
            prop_assert_eq!(value.is_open_at(at), in_intervals, "{} at {}", value, at);
            prop_assert_eq!(value.is_open_at_by_rules(at), in_intervals, "{} at {}", value, at);
        }
    }

    #[test]
    fn always_and_never(day in 0u64..3_000_000, minute in 0u32..1440) {
        let at = NaiveDate::from_ymd_opt(1, 1, 1).unwrap() + Days::new(day);
        let at = at.and_time(NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap());
        let always = OpeningHours::parse("24/7").unwrap();
        prop_assert!(always.is_open_at(at));
        prop_assert!(always.is_always_open());
        for never in ["off", "24/7 off", "Mo-Su closed", "\"sur rendez-vous\""] {
            prop_assert!(!OpeningHours::parse(never).unwrap().is_open_at(at), "{}", never);
        }
    }
}
