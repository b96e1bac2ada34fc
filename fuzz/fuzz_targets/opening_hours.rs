#![no_main]

use chrono::{NaiveDate, NaiveDateTime};
use libfuzzer_sys::fuzz_target;
use peps_core::catalogue::opening_hours::{ERROR_CODES, OpeningHours};

fn at(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|date| date.and_hms_opt(hour, minute, 0))
        .expect("valid fixed date")
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    match OpeningHours::parse(&input) {
        Ok(value) => {
            let text = value.to_string();
            // The canonical form can be longer than the input ("8h" prints as "08:00"), so a
            // value just under the length limit may print over it: then only the refusal is
            // expected.
            if text.chars().count() > 1000 {
                let error = OpeningHours::parse(&text).expect_err("over the length limit");
                assert_eq!(error.code, "opening_hours.too_long");
            } else {
                let again = OpeningHours::parse(&text)
                    .unwrap_or_else(|error| panic!("{input:?} printed as {text:?}: {error}"));
                assert_eq!(value, again, "{input:?} printed as {text:?}");
                assert_eq!(again.to_string(), text);
            }
            // A weekday, an Easter Monday, a year end and a night that crosses midnight.
            for time in [
                at(2026, 3, 2, 10, 0),
                at(2026, 4, 6, 0, 30),
                at(2026, 12, 31, 23, 59),
                at(2027, 1, 1, 1, 0),
            ] {
                let open = value.is_open_at(time);
                let minute = (time.time().signed_duration_since(chrono::NaiveTime::MIN))
                    .num_minutes() as u16;
                let in_intervals = value
                    .intervals_on(time.date())
                    .iter()
                    .any(|&(start, end)| (start..end).contains(&minute));
                assert_eq!(open, in_intervals, "{text:?} at {time}");
            }
            let _ = value.weekly();
            let _ = value.is_always_open();
        }
        Err(error) => {
            assert!(ERROR_CODES.contains(&error.code));
            assert!(
                (1..=input.chars().count() + 1).contains(&error.column),
                "{input:?}: {error:?}"
            );
        }
    }
});
