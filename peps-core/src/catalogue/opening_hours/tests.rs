//! Table of real-world values from French social-service data.

use chrono::{NaiveDate, NaiveDateTime};

use super::*;

/// `"09:00-12:00,14:00-17:00"` to minute intervals; `""` is closed.
fn minutes(text: &str) -> Vec<(u16, u16)> {
    let time = |hhmm: &str| {
        let (h, m) = hhmm.split_once(':').unwrap();
        h.parse::<u16>().unwrap() * 60 + m.parse::<u16>().unwrap()
    };
    text.split(',')
        .filter(|span| !span.is_empty())
        .map(|span| {
            let (start, end) = span.split_once('-').unwrap();
            (time(start), time(end))
        })
        .collect()
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
}

// Reference dates in 2026: Mar 2 is a Monday (ISO week 10), Apr 6 is Easter Monday.
const MON: &str = "2026-03-02";
const TUE: &str = "2026-03-03";
const WED: &str = "2026-03-04";
const THU: &str = "2026-03-05";
const FRI: &str = "2026-03-06";
const SAT: &str = "2026-03-07";
const SUN: &str = "2026-03-08";
const EASTER_MONDAY: &str = "2026-04-06";

/// (value, canonical form, [(date, open intervals that day)]).
type Valid = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const VALID: &[Valid] = &[
    (
        "Mo-Fr 09:00-12:00,14:00-17:00",
        "Mo-Fr 09:00-12:00,14:00-17:00",
        &[
            (MON, "09:00-12:00,14:00-17:00"),
            (SAT, ""),
            (EASTER_MONDAY, "09:00-12:00,14:00-17:00"),
        ],
    ),
    (
        "Mo-Fr 08:30-12:30; PH off",
        "Mo-Fr 08:30-12:30; PH off",
        &[
            (MON, "08:30-12:30"),
            (EASTER_MONDAY, ""),
            ("2026-05-14", ""),
            (SUN, ""),
        ],
    ),
    (
        "Tu,Th 14:00-17:00; Dec 24-Jan 01 off",
        "Tu,Th 14:00-17:00; Dec 24-Jan 01 off",
        &[
            (TUE, "14:00-17:00"),
            ("2026-12-24", ""),
            ("2026-12-31", ""),
            ("2027-01-07", "14:00-17:00"),
        ],
    ),
    (
        "Mo[1] 09:00-12:00",
        "Mo[1] 09:00-12:00",
        &[
            (MON, "09:00-12:00"),
            ("2026-03-09", ""),
            ("2026-04-06", "09:00-12:00"),
        ],
    ),
    (
        "24/7",
        "24/7",
        &[(MON, "00:00-24:00"), (EASTER_MONDAY, "00:00-24:00")],
    ),
    (
        "Mo-Su 22:00-06:00",
        "Mo-Su 22:00-06:00",
        &[
            (MON, "00:00-06:00,22:00-24:00"),
            (SUN, "00:00-06:00,22:00-24:00"),
        ],
    ),
    (
        "\"sur rendez-vous\"",
        "\"sur rendez-vous\"",
        &[(MON, ""), (SAT, "")],
    ),
    (
        "mo-fr 8h30-12h",
        "Mo-Fr 08:30-12:00",
        &[(MON, "08:30-12:00"), (SAT, "")],
    ),
    (
        "Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00; PH off",
        "Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00; PH off",
        &[
            (FRI, "08:30-12:00,13:30-17:00"),
            (SAT, "09:00-12:00"),
            (EASTER_MONDAY, ""),
        ],
    ),
    (
        "Mo-Fr 08:00-18:00; We 08:00-12:00",
        "Mo-Fr 08:00-18:00; We 08:00-12:00",
        &[(TUE, "08:00-18:00"), (WED, "08:00-12:00")],
    ),
    (
        "Mo-Sa 09:00-18:00; PH off",
        "Mo-Sa 09:00-18:00; PH off",
        &[
            (SAT, "09:00-18:00"),
            (EASTER_MONDAY, ""),
            ("2026-07-14", ""),
        ],
    ),
    (
        "Mo-Fr 08:00-12:00, Sa 09:00-12:00",
        "Mo-Fr 08:00-12:00, Sa 09:00-12:00",
        &[(MON, "08:00-12:00"), (SAT, "09:00-12:00"), (SUN, "")],
    ),
    (
        "Fr 22:00-02:00",
        "Fr 22:00-02:00",
        &[(FRI, "22:00-24:00"), (SAT, "00:00-02:00"), (THU, "")],
    ),
    (
        "Mo-Fr 09:00-17:00 || \"sur rendez-vous\"",
        "Mo-Fr 09:00-17:00 || \"sur rendez-vous\"",
        &[(MON, "09:00-17:00"), (SAT, "")],
    ),
    (
        "Mo,We,Fr 09:00-12:00",
        "Mo,We,Fr 09:00-12:00",
        &[(WED, "09:00-12:00"), (TUE, "")],
    ),
    (
        "Sa-Mo 10:00-16:00",
        "Sa-Mo 10:00-16:00",
        &[(SUN, "10:00-16:00"), (MON, "10:00-16:00"), (TUE, "")],
    ),
    (
        "Su[-1] 10:00-12:00",
        "Su[-1] 10:00-12:00",
        &[("2026-03-29", "10:00-12:00"), ("2026-03-22", "")],
    ),
    (
        "Th[1,3] 14:00-16:00",
        "Th[1,3] 14:00-16:00",
        &[
            (THU, "14:00-16:00"),
            ("2026-03-12", ""),
            ("2026-03-19", "14:00-16:00"),
        ],
    ),
    (
        "Fr[2-4] 09:00-11:00",
        "Fr[2-4] 09:00-11:00",
        &[
            (FRI, ""),
            ("2026-03-13", "09:00-11:00"),
            ("2026-03-27", "09:00-11:00"),
        ],
    ),
    (
        "PH,Sa 10:00-12:00",
        "Sa,PH 10:00-12:00",
        &[
            (SAT, "10:00-12:00"),
            (EASTER_MONDAY, "10:00-12:00"),
            (MON, ""),
        ],
    ),
    (
        "Mo-Fr,PH 09:00-12:00",
        "Mo-Fr,PH 09:00-12:00",
        &[
            (MON, "09:00-12:00"),
            ("2026-11-01", "09:00-12:00"),
            (SUN, ""),
        ],
    ),
    (
        "Mo-Fr 10:00-12:00; PH Mo 14:00-16:00",
        "Mo-Fr 10:00-12:00; PH Mo 14:00-16:00",
        &[
            (EASTER_MONDAY, "14:00-16:00"),
            ("2026-01-01", "10:00-12:00"),
            (MON, "10:00-12:00"),
        ],
    ),
    (
        "Jan-Mar Mo-Fr 09:00-12:00",
        "Jan-Mar Mo-Fr 09:00-12:00",
        &[(MON, "09:00-12:00"), ("2026-04-07", "")],
    ),
    (
        "Nov-Feb Mo-Fr 09:00-16:00; Mar-Oct Mo-Fr 09:00-18:00",
        "Nov-Feb Mo-Fr 09:00-16:00; Mar-Oct Mo-Fr 09:00-18:00",
        &[
            (MON, "09:00-18:00"),
            ("2026-01-05", "09:00-16:00"),
            ("2026-11-02", "09:00-16:00"),
        ],
    ),
    (
        "Mo-Fr 09:00-17:00; Jul 14-Aug 15 off",
        "Mo-Fr 09:00-17:00; Jul 14-Aug 15 off",
        &[
            ("2026-07-13", "09:00-17:00"),
            ("2026-07-20", ""),
            ("2026-08-17", "09:00-17:00"),
        ],
    ),
    (
        "Mo-Su 10:00-18:00; Dec 25 off",
        "Mo-Su 10:00-18:00; Dec 25 off",
        &[("2026-12-24", "10:00-18:00"), ("2026-12-25", "")],
    ),
    (
        "Jan 1-Mar 15 Mo-Fr 10:00-12:00",
        "Jan 01-Mar 15 Mo-Fr 10:00-12:00",
        &[(MON, "10:00-12:00"), ("2026-03-16", "")],
    ),
    (
        "week 01-10 Mo 09:00-12:00",
        "week 01-10 Mo 09:00-12:00",
        &[(MON, "09:00-12:00"), ("2026-03-09", "")],
    ),
    (
        "2026 Mo-Fr 09:00-12:00",
        "2026 Mo-Fr 09:00-12:00",
        &[(MON, "09:00-12:00"), ("2027-03-01", "")],
    ),
    (
        "2026-2028 Sa 10:00-12:00",
        "2026-2028 Sa 10:00-12:00",
        &[(SAT, "10:00-12:00"), ("2029-03-03", "")],
    ),
    (
        "Mo-Fr 08:00+",
        "Mo-Fr 08:00+",
        &[(MON, "08:00-24:00"), (SAT, "")],
    ),
    (
        "MO-FR 09:00 - 12:00 ;",
        "Mo-Fr 09:00-12:00",
        &[(MON, "09:00-12:00")],
    ),
    (
        "Mo\u{2013}Fr 9:00\u{2014}12:00",
        "Mo-Fr 09:00-12:00",
        &[(MON, "09:00-12:00")],
    ),
    (
        "Mo-Fr 14h-17h30",
        "Mo-Fr 14:00-17:30",
        &[(MON, "14:00-17:30")],
    ),
    (
        "Mo-Fr 08:00-12:00 13:30-17:00",
        "Mo-Fr 08:00-12:00,13:30-17:00",
        &[(MON, "08:00-12:00,13:30-17:00")],
    ),
    (
        "Mo-Fr 08h30-12h00 / 13h30-17h00",
        "Mo-Fr 08:30-12:00,13:30-17:00",
        &[(MON, "08:30-12:00,13:30-17:00")],
    ),
    ("Sa", "Sa", &[(SAT, "00:00-24:00"), (FRI, "")]),
    (
        "Mo-Fr 09:00-12:00 \"sur rendez-vous l'après-midi\"",
        "Mo-Fr 09:00-12:00 \"sur rendez-vous l'après-midi\"",
        &[(MON, "09:00-12:00")],
    ),
    (
        "Mo-Fr 09:00-12:00; We off",
        "Mo-Fr 09:00-12:00; We off",
        &[(WED, ""), (THU, "09:00-12:00")],
    ),
    (
        "Mo-Fr 08:00-18:00, We 12:00-14:00 off",
        "Mo-Fr 08:00-18:00, We 12:00-14:00 off",
        &[(WED, "08:00-12:00,14:00-18:00"), (THU, "08:00-18:00")],
    ),
    (
        "Mo-Fr 08:00-18:00; We 12:00-14:00 closed",
        "Mo-Fr 08:00-18:00; We 12:00-14:00 off",
        &[(WED, "08:00-12:00,14:00-18:00")],
    ),
    ("off", "off", &[(MON, ""), (SUN, "")]),
    (
        "Mo-Fr 00:00-24:00",
        "Mo-Fr 00:00-24:00",
        &[(MON, "00:00-24:00"), (SAT, "")],
    ),
    (
        "Mo-Fr: 09:00-12:00",
        "Mo-Fr 09:00-12:00",
        &[(MON, "09:00-12:00")],
    ),
    (
        "Tu 09:00-12:00 unknown",
        "Tu 09:00-12:00 unknown",
        &[(TUE, "")],
    ),
    (
        "PH off; Mo-Fr 09:00-12:00",
        "PH off; Mo-Fr 09:00-12:00",
        &[
            (EASTER_MONDAY, "09:00-12:00"),
            ("2026-05-01", "09:00-12:00"),
        ],
    ),
    (
        "Mo-Fr 09:00-12:00; SH off",
        "Mo-Fr 09:00-12:00; SH off",
        &[(MON, "09:00-12:00"), ("2026-02-16", "09:00-12:00")],
    ),
    (
        "Dec 24-26 10:00-12:00",
        "Dec 24-26 10:00-12:00",
        &[("2026-12-24", "10:00-12:00"), ("2026-12-27", "")],
    ),
    (
        "Jan-Mar: Mo 10:00-11:00",
        "Jan-Mar Mo 10:00-11:00",
        &[(MON, "10:00-11:00"), ("2026-04-13", "")],
    ),
    (
        "Mo-Fr 09:00-12:00, 14:00-17:00",
        "Mo-Fr 09:00-12:00,14:00-17:00",
        &[(MON, "09:00-12:00,14:00-17:00"), (SAT, "")],
    ),
    (
        "Mo-Fr 09:00-12:00; Sa 10:00-12:00 \"sur rendez-vous\"",
        "Mo-Fr 09:00-12:00; Sa 10:00-12:00 \"sur rendez-vous\"",
        &[(SAT, "10:00-12:00")],
    ),
    (
        "Mo 08:00-12:00; Tu \"sur rendez-vous\"",
        "Mo 08:00-12:00; Tu \"sur rendez-vous\"",
        &[(MON, "08:00-12:00"), (TUE, "")],
    ),
    (
        "Mo-Fr 20:00-24:00, Sa 00:00-02:00",
        "Mo-Fr 20:00-24:00, Sa 00:00-02:00",
        &[(FRI, "20:00-24:00"), (SAT, "00:00-02:00")],
    ),
];

/// (value, error code, column).
const INVALID: &[(&str, &str, usize)] = &[
    ("Lundi 9:00-12:00", "opening_hours.expected_weekday", 1),
    ("Mo-Fr 08:00-25:00", "opening_hours.invalid_time", 13),
    (
        "Mo-Fr 08:00-12:00 \"accueil",
        "opening_hours.unterminated_comment",
        19,
    ),
    ("Mo-Fr sunrise-sunset", "opening_hours.unsupported", 7),
    ("", "opening_hours.empty", 1),
    ("   ", "opening_hours.empty", 1),
    ("Mo-Fr 12:60-14:00", "opening_hours.invalid_time", 7),
    ("Feb 31", "opening_hours.invalid_day", 5),
    ("Dec 00 off", "opening_hours.invalid_day", 5),
    ("Apr 31 off", "opening_hours.invalid_day", 5),
    (
        "2027-2026 Mo 09:00-12:00",
        "opening_hours.reversed_range",
        1,
    ),
    ("Mo-Fr 8-12", "opening_hours.expected_time", 7),
    ("Mo-Fr 09:00-", "opening_hours.expected_time", 13),
    ("Mo-Lu 09:00-12:00", "opening_hours.expected_weekday", 4),
    ("Jan-Foo", "opening_hours.expected_month", 5),
    (
        "Mo-Fr (sunrise+01:00)-18:00",
        "opening_hours.unsupported",
        7,
    ),
    ("Mo-Fr 09:00-12:00;;", "opening_hours.unexpected", 19),
    ("Mo-Fr 09:00-12:00 @", "opening_hours.unexpected", 19),
    ("Mo[0] 09:00-12:00", "opening_hours.invalid_day", 4),
    ("Fr[4-2] 09:00-12:00", "opening_hours.reversed_range", 4),
    ("week 54", "opening_hours.invalid_day", 6),
    ("Lun-Ven 9h-12h", "opening_hours.expected_weekday", 1),
    ("Mo-Fr 24:00-02:00", "opening_hours.invalid_time", 7),
    ("Mo-Fr 9:5-12:00", "opening_hours.invalid_time", 7),
    (
        "Du lundi au vendredi de 9h à 12h",
        "opening_hours.expected_weekday",
        1,
    ),
    ("Mo-Fr 09:00-12:00 || ", "opening_hours.unexpected", 22),
    ("Mo-Fr 12:00", "opening_hours.unexpected", 12),
    (
        "Mo-Fr 09h00-12h00 samedi",
        "opening_hours.expected_weekday",
        19,
    ),
    ("janvier-mars Mo", "opening_hours.expected_month", 1),
    (
        "Mo-Fr 09:00-12:00 \"ok\" 14:00-17:00",
        "opening_hours.unexpected",
        24,
    ),
    (
        "Mo-Fr 09:00-12:00 ; Mo-Fr « 14:00 »",
        "opening_hours.unexpected",
        27,
    ),
    (
        "Mo-Fr 09:00-12:00 ; Sa 10:00-12:00 dimanche",
        "opening_hours.expected_weekday",
        36,
    ),
    ("Dec 26-24 off", "opening_hours.reversed_range", 5),
    (
        "Mo-Fr 09:00-12:00; easter off",
        "opening_hours.unsupported",
        20,
    ),
    ("Mo-Fr dusk-18:00", "opening_hours.unsupported", 7),
    ("Mo-Fr 08:00-sunset", "opening_hours.unsupported", 13),
    ("Fermé", "opening_hours.expected_weekday", 1),
    ("; Mo 09:00-12:00", "opening_hours.unexpected", 1),
    ("Mo-Fr 9h-12h, é", "opening_hours.expected_weekday", 15),
    ("Mo-Fr 09:00-12:00 24/7", "opening_hours.unexpected", 19),
    ("2026-27 Mo", "opening_hours.unexpected", 6),
];

#[test]
fn valid_values() {
    assert!(VALID.len() >= 40);
    for &(input, canonical, checks) in VALID {
        let value = OpeningHours::parse(input)
            .unwrap_or_else(|error| panic!("{input:?} should parse: {error}"));
        assert_eq!(value.to_string(), canonical, "canonical form of {input:?}");
        assert_eq!(
            OpeningHours::parse(canonical),
            Ok(value.clone()),
            "{input:?}"
        );
        for &(day, expected) in checks {
            assert_eq!(
                value.intervals_on(date(day)),
                minutes(expected),
                "{input:?} on {day}"
            );
        }
    }
}

#[test]
fn invalid_values() {
    for &(input, code, column) in INVALID {
        let error = OpeningHours::parse(input).expect_err(input);
        assert_eq!(
            (error.code, error.column),
            (code, column),
            "{input:?}: {error}"
        );
        assert!(ERROR_CODES.contains(&error.code));
    }
    assert!(VALID.len() + INVALID.len() >= 80);
}

#[test]
fn error_found_and_message() {
    let error = OpeningHours::parse("Lundi 9:00-12:00").unwrap_err();
    assert_eq!(error.found.as_deref(), Some("Lundi"));
    let error = OpeningHours::parse("Mo-Fr 08:00-25:00").unwrap_err();
    assert_eq!(error.found.as_deref(), Some("25:00"));
    assert_eq!(
        error.to_string(),
        "column 13: invalid time (hours 00-24, minutes 00-59, 24:00 only as an end), found \"25:00\""
    );
    let error = OpeningHours::parse("Mo-Fr 8-12").unwrap_err();
    assert_eq!(
        error.to_string(),
        "column 7: expected a time such as 08:30, found \"8\""
    );
    let error = OpeningHours::parse("Mo-Fr sunrise-sunset").unwrap_err();
    assert_eq!(error.found.as_deref(), Some("sunrise"));
    let error = OpeningHours::parse("Mo-Fr 09:00-").unwrap_err();
    assert_eq!(error.found, None);
    assert_eq!(
        error.to_string(),
        "column 13: expected a time such as 08:30, found the end of the value"
    );
    let error = OpeningHours::parse("Mo-Fr 09:00-12:00;;").unwrap_err();
    assert_eq!(error.to_string(), "column 19: unexpected \";\"");
}

#[test]
fn too_long_is_refused_before_parsing() {
    let long = "Mo ".repeat(400);
    let error = OpeningHours::parse(&long).unwrap_err();
    assert_eq!((error.code, error.column), ("opening_hours.too_long", 1001));
    // 1,000 characters of multi-byte text are still accepted by the length check.
    let exactly = format!("\"{}\"", "é".repeat(998));
    assert!(OpeningHours::parse(&exactly).is_ok());
    let over = format!("\"{}\"", "é".repeat(999));
    assert_eq!(
        OpeningHours::parse(&over).unwrap_err().code,
        "opening_hours.too_long"
    );
}

#[test]
fn canonical_form_may_exceed_the_length_limit() {
    // Display adds a space after each comma between rules, so this 999-character value prints
    // in 1,248 characters, which parse refuses like any other long value.
    let input = vec!["\"a\""; 250].join(",");
    let text = OpeningHours::parse(&input).unwrap().to_string();
    assert_eq!(text.chars().count(), 1248);
    assert_eq!(
        OpeningHours::parse(&text).unwrap_err().code,
        "opening_hours.too_long"
    );
}

#[test]
fn found_is_short() {
    let word = "a".repeat(200);
    let error = OpeningHours::parse(&word).unwrap_err();
    assert!(error.found.unwrap().chars().count() <= 41);
}

#[test]
fn columns_count_characters_not_bytes() {
    // The first "é" is two bytes, so the second one is at character 8 but byte 9.
    let error = OpeningHours::parse("\"café\" é").unwrap_err();
    assert_eq!(error.column, 8);
}

#[test]
fn comments_in_order() {
    let value =
        OpeningHours::parse("Mo-Fr 09:00-12:00 \"accueil\"; Sa \"sur rendez-vous\"").unwrap();
    assert_eq!(value.comments(), ["accueil", "sur rendez-vous"]);
    assert!(
        OpeningHours::parse("Mo 09:00-12:00")
            .unwrap()
            .comments()
            .is_empty()
    );
}

#[test]
fn from_str_is_parse() {
    let value: OpeningHours = "mo-fr 9h-12h".parse().unwrap();
    assert_eq!(Ok(value), OpeningHours::parse("Mo-Fr 09:00-12:00"));
    assert!("Lundi".parse::<OpeningHours>().is_err());
}

#[test]
fn always_open() {
    assert!(OpeningHours::parse("24/7").unwrap().is_always_open());
    assert!(
        OpeningHours::parse("Mo-Su 00:00-24:00")
            .unwrap()
            .is_always_open()
    );
    assert!(
        !OpeningHours::parse("24/7; PH off")
            .unwrap()
            .is_always_open()
    );
    assert!(
        !OpeningHours::parse("Mo-Sa 00:00-24:00")
            .unwrap()
            .is_always_open()
    );
    assert!(!OpeningHours::parse("24/7 off").unwrap().is_always_open());
}

#[test]
fn is_open_at_examples() {
    let value = OpeningHours::parse("Mo-Fr 08:30-12:30; PH off").unwrap();
    assert!(value.is_open_at(at("2026-03-02 08:30")));
    assert!(value.is_open_at(at("2026-03-02 12:29")));
    assert!(!value.is_open_at(at("2026-03-02 12:30")));
    assert!(!value.is_open_at(at("2026-04-06 10:00")));
    let night = OpeningHours::parse("Fr 22:00-02:00").unwrap();
    assert!(night.is_open_at(at("2026-03-07 01:59")));
    assert!(!night.is_open_at(at("2026-03-07 02:00")));
    assert!(!night.is_open_at(at("2026-03-06 01:00")));
}

#[test]
fn weekly_fast_path() {
    let weekly = OpeningHours::parse("Mo-Fr 09:00-12:00; Su 23:00-01:00")
        .unwrap()
        .weekly()
        .unwrap();
    assert_eq!(
        weekly.intervals(),
        [
            (0, 60),
            (540, 720),
            (1980, 2160),
            (3420, 3600),
            (4860, 5040),
            (6300, 6480),
            (10020, 10080)
        ]
    );
    assert!(weekly.is_open(chrono::Weekday::Mon, 30));
    assert!(!weekly.is_open(chrono::Weekday::Mon, 60));
    assert!(!weekly.is_open(chrono::Weekday::Mon, 2000));
    for not_weekly in [
        "Mo-Fr 09:00-12:00; PH off",
        "SH off",
        "Mo[1] 10:00-12:00",
        "Jan Mo",
        "2026 Mo",
        "week 01 Mo",
        "Dec 25 off",
    ] {
        assert!(
            OpeningHours::parse(not_weekly).unwrap().weekly().is_none(),
            "{not_weekly}"
        );
    }
    assert!(
        OpeningHours::parse("\"sur rendez-vous\"")
            .unwrap()
            .weekly()
            .is_some()
    );
}

/// `cargo test --release -- --ignored --nocapture is_open_at_speed`
#[test]
#[ignore = "timing report, not a check"]
fn is_open_at_speed() {
    use std::hint::black_box;
    use std::time::Instant;
    let start = at("2026-01-01 00:00");
    let times: Vec<NaiveDateTime> = (0..10_000)
        .map(|i| start + chrono::Duration::minutes(i * 97))
        .collect();
    for input in [
        "Mo-Fr 09:00-12:00,14:00-17:00",
        "Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00",
        "Mo-Fr 08:30-12:30; PH off",
        "Tu,Th 14:00-17:00; Dec 24-Jan 01 off",
        "Mo[1] 09:00-12:00",
        "Mo-Su 22:00-06:00; PH off",
    ] {
        let value = OpeningHours::parse(input).unwrap();
        let rounds = 100;
        let began = Instant::now();
        let mut open = 0usize;
        for _ in 0..rounds {
            for &time in &times {
                open += usize::from(black_box(&value).is_open_at(black_box(time)));
            }
        }
        let per_call = began.elapsed().as_nanos() as f64 / (rounds * times.len()) as f64;
        println!(
            "{per_call:7.1} ns/call  weekly={:<5} {input:?} ({open} open)",
            value.weekly().is_some()
        );
    }
}
