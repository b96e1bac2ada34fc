//! Dates and times as each reader writes them: the order of day, month and year, the separator,
//! and the digits of their script. One function for every output (API messages, notices, printed
//! sheets, pages), so a date never reads `%d/%m/%Y` in a language that writes it otherwise.
//!
//! The patterns follow CLDR's short formats for each language with a four-digit year (a person
//! reading "02/12/26" cannot tell the year from the day). The calendar stays Gregorian in every
//! language: appointments and expiry dates are French administrative dates.

use chrono::{NaiveDate, NaiveTime};

/// How a language writes a numeric date.
#[derive(Clone, Copy)]
enum Order {
    DayMonthYear,
    YearMonthDay,
    MonthDayYear,
}

struct DateStyle {
    order: Order,
    separator: &'static str,
    /// Day and month with a leading zero (02/12) or without (2/12).
    padded: bool,
    digits: Digits,
    /// Chinese writes 2026年12月2日 rather than a separated form.
    han: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Digits {
    Latin,
    /// ٠١٢٣٤٥٦٧٨٩, as Arabic is written in the Mashriq (CLDR's default for `ar`).
    ArabicIndic,
    /// ۰۱۲۳۴۵۶۷۸۹, for Persian and Pashto.
    ExtendedArabicIndic,
    /// ০১২৩৪৫৬৭৮৯
    Bengali,
}

fn style(language: &str) -> DateStyle {
    use Order::*;
    let base = |order, separator, padded| DateStyle {
        order,
        separator,
        padded,
        digits: Digits::Latin,
        han: false,
    };
    match language {
        "fr" | "fr-x-falc" | "en" | "pt" | "am" | "ti" | "so" | "it" => {
            base(DayMonthYear, "/", true)
        }
        "es" | "ff" | "ur" | "ta" => base(DayMonthYear, "/", false),
        "uk" | "ru" | "pl" | "ro" | "tr" | "ka" => base(DayMonthYear, ".", true),
        "sq" => base(DayMonthYear, ".", false),
        "ar" => DateStyle {
            digits: Digits::ArabicIndic,
            ..base(DayMonthYear, "/", false)
        },
        "fa" | "ps" => DateStyle {
            digits: Digits::ExtendedArabicIndic,
            ..base(YearMonthDay, "/", false)
        },
        "bn" => DateStyle {
            digits: Digits::Bengali,
            ..base(DayMonthYear, "/", false)
        },
        "zh-Hans" | "zh" => DateStyle {
            han: true,
            ..base(YearMonthDay, "", false)
        },
        "en-US" => base(MonthDayYear, "/", false),
        _ => base(DayMonthYear, "/", true),
    }
}

/// `date` as `language` writes a short date (e.g. fr `02/12/2026`, uk `02.12.2026`,
/// ar `٢/١٢/٢٠٢٦`, fa `۲۰۲۶/۱۲/۲`, zh-Hans `2026年12月2日`).
pub fn format_date(date: NaiveDate, language: &str) -> String {
    use chrono::Datelike;
    let style = style(language);
    let (d, m, y) = (date.day(), date.month(), date.year());
    let text = if style.han {
        format!("{y}年{m}月{d}日")
    } else {
        let part = |n: u32| {
            if style.padded {
                format!("{n:02}")
            } else {
                n.to_string()
            }
        };
        let (d, m, y) = (part(d), part(m), format!("{y:04}"));
        let sep = style.separator;
        match style.order {
            Order::DayMonthYear => format!("{d}{sep}{m}{sep}{y}"),
            Order::YearMonthDay => format!("{y}{sep}{m}{sep}{d}"),
            Order::MonthDayYear => format!("{m}{sep}{d}{sep}{y}"),
        }
    };
    localise_digits(&text, language)
}

/// `time` on the 24-hour clock (French administrative usage, in every language), in the
/// language's digits: fr `14:05`, ar `١٤:٠٥`.
pub fn format_time(time: NaiveTime, language: &str) -> String {
    localise_digits(&time.format("%H:%M").to_string(), language)
}

/// The ASCII digits of `text` written in `language`'s own digits; other characters unchanged.
pub fn localise_digits(text: &str, language: &str) -> String {
    let zero = match style(language).digits {
        Digits::Latin => return text.to_owned(),
        Digits::ArabicIndic => '\u{0660}',
        Digits::ExtendedArabicIndic => '\u{06F0}',
        Digits::Bengali => '\u{09E6}',
    };
    text.chars()
        .map(|c| match c.to_digit(10) {
            Some(n) if c.is_ascii_digit() => char::from_u32(zero as u32 + n).unwrap_or(c),
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
    }

    #[test]
    fn each_language_orders_and_writes_its_own_date() {
        for (language, expected) in [
            ("fr", "02/12/2026"),
            ("fr-x-falc", "02/12/2026"),
            ("en", "02/12/2026"),
            ("ar", "٢/١٢/٢٠٢٦"),
            ("fa", "۲۰۲۶/۱۲/۲"),
            ("ps", "۲۰۲۶/۱۲/۲"),
            ("uk", "02.12.2026"),
            ("ru", "02.12.2026"),
            ("zh-Hans", "2026年12月2日"),
            ("bn", "২/১২/২০২৬"),
            ("es", "2/12/2026"),
            ("sq", "2.12.2026"),
            ("ur", "2/12/2026"),
        ] {
            assert_eq!(format_date(day(), language), expected, "{language}");
        }
    }

    #[test]
    fn every_language_of_peps_gets_a_four_digit_year() {
        for language in crate::domain::Language::all() {
            let code = language.code.as_str();
            let text = format_date(day(), code);
            assert!(
                text.contains(&localise_digits("2026", code)),
                "{code}: {text}"
            );
        }
    }

    #[test]
    fn times_use_the_24_hour_clock_in_the_readers_digits() {
        let t = NaiveTime::from_hms_opt(14, 5, 0).unwrap();
        assert_eq!(format_time(t, "fr"), "14:05");
        assert_eq!(format_time(t, "ar"), "١٤:٠٥");
        assert_eq!(format_time(t, "fa"), "۱۴:۰۵");
        assert_eq!(format_time(t, "zh-Hans"), "14:05");
    }

    #[test]
    fn only_ascii_digits_are_converted() {
        assert_eq!(localise_digits("n° 12, rue", "ar"), "n° ١٢, rue");
        assert_eq!(localise_digits("١٢", "fr"), "١٢");
    }
}
