use chrono::{Datelike, NaiveDate};

/// Whether `date` is a public holiday in metropolitan France: Jan 1, Easter Monday, May 1, May 8,
/// Ascension, Whit Monday, Jul 14, Aug 15, Nov 1, Nov 11 and Dec 25.
///
/// Today's list is applied to every year (the history of when each holiday was introduced does
/// not matter for opening hours). Alsace-Moselle's extra days (Good Friday, Dec 26) and the
/// overseas departments' days are not included. Easter follows the Gregorian computus, which is
/// meaningful for 1583..=9999; other years get the same arithmetic on chrono's proleptic
/// calendar.
pub fn is_french_public_holiday(date: NaiveDate) -> bool {
    if matches!(
        (date.month(), date.day()),
        (1, 1) | (5, 1) | (5, 8) | (7, 14) | (8, 15) | (11, 1) | (11, 11) | (12, 25)
    ) {
        return true;
    }
    // Easter falls between March 22 and April 25, so its holidays between March 23 and June 14:
    // skip the computus for the rest of the year.
    if !(3..=6).contains(&date.month()) {
        return false;
    }
    easter_sunday(date.year())
        .is_some_and(|easter| matches!(date.signed_duration_since(easter).num_days(), 1 | 39 | 50))
}

/// Easter Sunday by the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
pub(super) fn easter_sunday(year: i32) -> Option<NaiveDate> {
    // Euclidean division keeps every intermediate non-negative for years before 0 as well.
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let n = h + l - 7 * m + 114;
    NaiveDate::from_ymd_opt(year, (n / 31) as u32, (n % 31 + 1) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    #[test]
    fn easter_known_dates() {
        let known = [
            (1583, 4, 10),
            (1818, 3, 22),
            (1943, 4, 25),
            (2000, 4, 23),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
            (2285, 3, 22),
            (9999, 3, 28),
        ];
        for (year, month, day) in known {
            assert_eq!(easter_sunday(year), Some(date(year, month, day)), "{year}");
        }
    }

    #[test]
    fn easter_is_a_sunday_in_its_window_for_every_year() {
        for year in 1583..=9999 {
            let easter = easter_sunday(year).unwrap();
            assert_eq!(easter.weekday(), chrono::Weekday::Sun, "{year}");
            assert!(
                easter >= date(year, 3, 22) && easter <= date(year, 4, 25),
                "{year}"
            );
        }
    }

    #[test]
    fn holidays_2024_to_2027() {
        let movable = [
            (2024, [(4, 1), (5, 9), (5, 20)]),
            (2025, [(4, 21), (5, 29), (6, 9)]),
            (2026, [(4, 6), (5, 14), (5, 25)]),
            (2027, [(3, 29), (5, 6), (5, 17)]),
        ];
        let fixed = [
            (1, 1),
            (5, 1),
            (5, 8),
            (7, 14),
            (8, 15),
            (11, 1),
            (11, 11),
            (12, 25),
        ];
        for (year, easter_based) in movable {
            let mut expected: Vec<NaiveDate> = fixed
                .iter()
                .chain(easter_based.iter())
                .map(|&(month, day)| date(year, month, day))
                .collect();
            expected.sort();
            let found: Vec<NaiveDate> = date(year, 1, 1)
                .iter_days()
                .take_while(|day| day.year() == year)
                .filter(|&day| is_french_public_holiday(day))
                .collect();
            assert_eq!(found, expected, "{year}");
        }
    }

    #[test]
    fn not_holidays() {
        for (year, month, day) in [(2026, 4, 5), (2026, 4, 3), (2026, 12, 26), (2026, 5, 15)] {
            assert!(!is_french_public_holiday(date(year, month, day)));
        }
    }

    #[test]
    fn extreme_dates_do_not_panic() {
        let _ = is_french_public_holiday(NaiveDate::MIN);
        let _ = is_french_public_holiday(NaiveDate::MAX);
        let _ = easter_sunday(i32::MIN / 2);
    }
}
