//! Recursive-descent parser over [`lex`] tokens.
//!
//! Lists are greedy: a comma continues the list it follows when the next token can extend it
//! (`Mo,We`, `08:00-12:00,14:00-17:00`); otherwise it starts an additional rule
//! (`Mo-Fr 08:00-12:00, Sa 09:00-12:00`).

use super::ast::{
    Holiday, Modifier, MonthDay, MonthdayRange, Nth, Rule, RuleKind, Selector, TimeSpan, WeekRange,
    WeekdayRange, YearRange,
};
use super::error::{
    EMPTY, EXPECTED_MONTH, EXPECTED_TIME, EXPECTED_WEEKDAY, INVALID_DAY, INVALID_TIME, MAX_CHARS,
    OpeningHoursError, REVERSED_RANGE, TOO_LONG, UNEXPECTED, UNSUPPORTED, UNTERMINATED_COMMENT,
};
use super::lex::{Kw, TokKind, Token, lex};

type Result<T> = std::result::Result<T, OpeningHoursError>;

pub(super) fn parse(input: &str) -> Result<Vec<Rule>> {
    // Checked before lexing so that a huge value costs no more than counting its characters.
    if input.len() > MAX_CHARS && input.chars().nth(MAX_CHARS).is_some() {
        return Err(OpeningHoursError::new(TOO_LONG, MAX_CHARS + 1, None));
    }
    let tokens = lex(input);
    if tokens.is_empty() {
        return Err(OpeningHoursError::new(EMPTY, 1, None));
    }
    let mut parser = Parser {
        input,
        tokens,
        pos: 0,
        end_col: input.chars().count() + 1,
    };
    parser.value()
}

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// Column reported when the value ends too early.
    end_col: usize,
}

impl Parser<'_> {
    fn value(&mut self) -> Result<Vec<Rule>> {
        let mut rules = Vec::new();
        let mut kind = RuleKind::Normal;
        loop {
            let rule = self.rule(kind)?;
            let separator = self.kind(0);
            kind = match separator {
                None => {
                    rules.push(rule);
                    return Ok(rules);
                }
                Some(TokKind::Semicolon) => RuleKind::Normal,
                Some(TokKind::Comma) => RuleKind::Additional,
                Some(TokKind::OrOr) => RuleKind::Fallback,
                Some(_) => return Err(self.leftover_error(&rule)),
            };
            rules.push(rule);
            self.pos += 1;
            // A trailing `;` or `,` is common in hand-written values and harmless.
            if separator != Some(TokKind::OrOr) && self.kind(0).is_none() {
                return Ok(rules);
            }
        }
    }

    fn rule(&mut self, kind: RuleKind) -> Result<Rule> {
        let start = self.pos;
        let mut selector = Selector::default();
        let mut times = Vec::new();
        if self.at_always() {
            self.pos += 3;
            selector.always = true;
        } else {
            if self.at_year(0) {
                selector.years = self.years()?;
            }
            if matches!(self.kw(0), Some(Kw::Month(_))) {
                selector.monthdays = self.monthdays()?;
            }
            if self.kw(0) == Some(Kw::Week) {
                selector.weeks = self.weeks()?;
            }
            if self.pos > start {
                // OSM allows `Jan-Mar: Mo-Fr ...`.
                self.skip_colon();
            }
            if matches!(
                self.kw(0),
                Some(Kw::Weekday(_) | Kw::PublicHoliday | Kw::SchoolHoliday)
            ) {
                self.weekday_selector(&mut selector)?;
                // Not OSM, but `Mo-Fr: 08:00-12:00` is frequent and unambiguous.
                self.skip_colon();
            }
            if self.at_time(0) {
                times = self.times()?;
            }
        }
        let modifier = match self.kw(0) {
            Some(Kw::Open) => Some(Modifier::Open),
            Some(Kw::Off) => Some(Modifier::Off),
            Some(Kw::Unknown) => Some(Modifier::Unknown),
            _ => None,
        };
        if modifier.is_some() {
            self.pos += 1;
        }
        let mut comment = None;
        if self.kind(0) == Some(TokKind::Comment) {
            let token = self.tokens[self.pos];
            comment = Some(self.input[token.start + 1..token.end - 1].to_owned());
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.rule_start_error());
        }
        Ok(Rule {
            kind,
            selector,
            times,
            modifier,
            comment,
        })
    }

    /// A colon is skipped only when something follows in the same rule: `Jan:, Feb` would
    /// otherwise print as `Jan, Feb`, which reads back as one rule.
    fn skip_colon(&mut self) {
        if self.kind(0) == Some(TokKind::Colon)
            && !matches!(
                self.kind(1),
                None | Some(TokKind::Comma | TokKind::Semicolon | TokKind::OrOr)
            )
        {
            self.pos += 1;
        }
    }

    fn years(&mut self) -> Result<Vec<YearRange>> {
        let mut years = Vec::new();
        loop {
            let first = self.pos;
            let from = self.number(0) as u16;
            self.pos += 1;
            let mut to = from;
            if self.kind(0) == Some(TokKind::Dash) {
                self.pos += 1;
                if !self.at_year(0) {
                    return Err(self.fail(UNEXPECTED));
                }
                to = self.number(0) as u16;
                self.pos += 1;
                if to < from {
                    return Err(self.error_over(REVERSED_RANGE, first, self.pos - 1));
                }
            }
            years.push(YearRange { from, to });
            if !(self.kind(0) == Some(TokKind::Comma) && self.at_year(1)) {
                return Ok(years);
            }
            self.pos += 1;
        }
    }

    fn monthdays(&mut self) -> Result<Vec<MonthdayRange>> {
        let mut ranges = Vec::new();
        loop {
            let from_month = self.month(0);
            self.pos += 1;
            let range = if self.at_number(0) {
                let first = self.pos;
                let from = self.day(from_month)?;
                let mut to = from;
                if self.kind(0) == Some(TokKind::Dash) {
                    self.pos += 1;
                    if self.at_number(0) {
                        to = self.day(from_month)?;
                        if to < from {
                            return Err(self.error_over(REVERSED_RANGE, first, self.pos - 1));
                        }
                    } else if matches!(self.kw(0), Some(Kw::Month(_))) {
                        let to_month = self.month(0);
                        self.pos += 1;
                        if !self.at_number(0) {
                            return Err(self.fail(UNEXPECTED));
                        }
                        to = self.day(to_month)?;
                    } else {
                        return Err(self.fail(EXPECTED_MONTH));
                    }
                }
                MonthdayRange::Dates { from, to }
            } else {
                let mut to = from_month;
                if self.kind(0) == Some(TokKind::Dash) {
                    self.pos += 1;
                    if !matches!(self.kw(0), Some(Kw::Month(_))) {
                        return Err(self.fail(EXPECTED_MONTH));
                    }
                    to = self.month(0);
                    self.pos += 1;
                }
                MonthdayRange::Months {
                    from: from_month,
                    to,
                }
            };
            ranges.push(range);
            if !(self.kind(0) == Some(TokKind::Comma) && matches!(self.kw(1), Some(Kw::Month(_)))) {
                return Ok(ranges);
            }
            self.pos += 1;
        }
    }

    /// Reads the day number at the current token for `month` (February allows the 29th).
    fn day(&mut self, month: u8) -> Result<MonthDay> {
        let value = self.number(0);
        let days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][usize::from(month - 1)];
        if self.digits(0) > 2 || value == 0 || value > days {
            return Err(self.fail(INVALID_DAY));
        }
        self.pos += 1;
        Ok(MonthDay {
            month,
            day: value as u8,
        })
    }

    fn weeks(&mut self) -> Result<Vec<WeekRange>> {
        self.pos += 1;
        let mut weeks = Vec::new();
        loop {
            if !self.at_number(0) {
                return Err(self.fail(UNEXPECTED));
            }
            let from = self.week_number()?;
            let mut to = from;
            if self.kind(0) == Some(TokKind::Dash) {
                self.pos += 1;
                if !self.at_number(0) {
                    return Err(self.fail(UNEXPECTED));
                }
                to = self.week_number()?;
            }
            weeks.push(WeekRange { from, to });
            if !(self.kind(0) == Some(TokKind::Comma) && self.at_small_number(1)) {
                return Ok(weeks);
            }
            self.pos += 1;
        }
    }

    fn week_number(&mut self) -> Result<u8> {
        let value = self.number(0);
        if !(1..=53).contains(&value) {
            return Err(self.fail(INVALID_DAY));
        }
        self.pos += 1;
        Ok(value as u8)
    }

    fn weekday_selector(&mut self, selector: &mut Selector) -> Result<()> {
        loop {
            match self.kw(0) {
                Some(Kw::PublicHoliday) => {
                    self.pos += 1;
                    selector.holidays.push(Holiday::Public);
                }
                Some(Kw::SchoolHoliday) => {
                    self.pos += 1;
                    selector.holidays.push(Holiday::School);
                }
                _ => selector.weekdays.push(self.weekday_range()?),
            }
            if !(self.kind(0) == Some(TokKind::Comma)
                && matches!(
                    self.kw(1),
                    Some(Kw::Weekday(_) | Kw::PublicHoliday | Kw::SchoolHoliday)
                ))
            {
                break;
            }
            self.pos += 1;
        }
        if selector.weekdays.is_empty() && matches!(self.kw(0), Some(Kw::Weekday(_))) {
            selector.holidays_and_weekdays = true;
            loop {
                selector.weekdays.push(self.weekday_range()?);
                if !(self.kind(0) == Some(TokKind::Comma)
                    && matches!(self.kw(1), Some(Kw::Weekday(_))))
                {
                    break;
                }
                self.pos += 1;
            }
        }
        Ok(())
    }

    fn weekday_range(&mut self) -> Result<WeekdayRange> {
        let Some(Kw::Weekday(from)) = self.kw(0) else {
            return Err(self.fail(EXPECTED_WEEKDAY));
        };
        self.pos += 1;
        let mut to = from;
        if self.kind(0) == Some(TokKind::Dash) {
            self.pos += 1;
            let Some(Kw::Weekday(day)) = self.kw(0) else {
                return Err(self.fail(EXPECTED_WEEKDAY));
            };
            to = day;
            self.pos += 1;
        }
        let mut nth = Vec::new();
        if self.kind(0) == Some(TokKind::LBracket) {
            self.pos += 1;
            loop {
                nth.push(self.nth()?);
                match self.kind(0) {
                    Some(TokKind::Comma) => self.pos += 1,
                    Some(TokKind::RBracket) => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.fail(UNEXPECTED)),
                }
            }
        }
        Ok(WeekdayRange { from, to, nth })
    }

    fn nth(&mut self) -> Result<Nth> {
        if self.kind(0) == Some(TokKind::Dash) {
            self.pos += 1;
            return Ok(Nth::FromEnd(self.nth_number()?));
        }
        let first = self.pos;
        let from = self.nth_number()?;
        let mut to = from;
        if self.kind(0) == Some(TokKind::Dash) {
            self.pos += 1;
            to = self.nth_number()?;
            if to < from {
                return Err(self.error_over(REVERSED_RANGE, first, self.pos - 1));
            }
        }
        Ok(Nth::Range { from, to })
    }

    fn nth_number(&mut self) -> Result<u8> {
        if !matches!(self.kind(0), Some(TokKind::Num { .. })) {
            return Err(self.fail(UNEXPECTED));
        }
        let value = self.number(0);
        if !(1..=5).contains(&value) {
            return Err(self.fail(INVALID_DAY));
        }
        self.pos += 1;
        Ok(value as u8)
    }

    fn times(&mut self) -> Result<Vec<TimeSpan>> {
        let mut spans = Vec::new();
        loop {
            spans.push(self.time_span()?);
            // Not OSM, but "08:00-12:00 / 14:00-17:00" and "08:00-12:00 14:00-17:00" are
            // frequent and unambiguous.
            if matches!(self.kind(0), Some(TokKind::Comma | TokKind::Slash)) && self.at_time(1) {
                self.pos += 1;
            } else if !self.at_time(0) {
                return Ok(spans);
            }
        }
    }

    fn time_span(&mut self) -> Result<TimeSpan> {
        let start = self.time(false)?;
        match self.kind(0) {
            Some(TokKind::Dash) => {
                self.pos += 1;
                if !self.at_time(0) {
                    return Err(self.fail(EXPECTED_TIME));
                }
                let end = self.time(true)?;
                let open_end = self.kind(0) == Some(TokKind::Plus);
                if open_end {
                    self.pos += 1;
                }
                Ok(TimeSpan {
                    start,
                    end: Some(end),
                    open_end,
                })
            }
            Some(TokKind::Plus) => {
                self.pos += 1;
                Ok(TimeSpan {
                    start,
                    end: None,
                    open_end: true,
                })
            }
            _ => Err(self.fail(UNEXPECTED)),
        }
    }

    /// Reads a time at a position where [`Self::at_time`] holds, in minutes since midnight.
    fn time(&mut self, is_end: bool) -> Result<u16> {
        let first = self.pos;
        let hours = self.number(0);
        let hour_digits = self.digits(0);
        let (minutes, minute_digits, len) = if self.kind(1) == Some(TokKind::Colon)
            || (self.glued(2) && matches!(self.kind(2), Some(TokKind::Num { .. })))
        {
            (self.number(2), self.digits(2), 3)
        } else {
            // "14h": the minutes may be left out after an `h`.
            (0, 2, 2)
        };
        self.pos += len;
        let valid = hour_digits <= 2
            && minute_digits == 2
            && minutes < 60
            && (hours < 24 || hours == 24 && minutes == 0 && is_end);
        if !valid {
            return Err(self.error_over(INVALID_TIME, first, self.pos - 1));
        }
        Ok((hours * 60 + minutes) as u16)
    }

    /// Error for a rule that does not even start: say what a rule can start with.
    fn rule_start_error(&self) -> OpeningHoursError {
        match self.kind(0) {
            Some(TokKind::Num { .. }) => self.fail(EXPECTED_TIME),
            Some(TokKind::Word(_)) => self.fail(EXPECTED_WEEKDAY),
            _ => self.fail(UNEXPECTED),
        }
    }

    /// Error for a token left after a complete rule: guess what the rule was missing.
    fn leftover_error(&self, rule: &Rule) -> OpeningHoursError {
        let bare = rule.times.is_empty()
            && rule.modifier.is_none()
            && rule.comment.is_none()
            && !rule.selector.always;
        match self.kind(0) {
            Some(TokKind::Num { .. } | TokKind::Word(Kw::Other)) if bare => {
                self.fail(EXPECTED_TIME)
            }
            _ => self.fail(UNEXPECTED),
        }
    }

    /// Error at the current token, with `code` unless the token explains itself better.
    fn fail(&self, code: &'static str) -> OpeningHoursError {
        let code = match self.kind(0) {
            Some(TokKind::UnterminatedComment) => UNTERMINATED_COMMENT,
            Some(TokKind::LParen | TokKind::Word(Kw::Variable)) => UNSUPPORTED,
            Some(TokKind::Word(Kw::WeekdayName)) => EXPECTED_WEEKDAY,
            Some(TokKind::Word(Kw::MonthName)) => EXPECTED_MONTH,
            _ => code,
        };
        if code == UNTERMINATED_COMMENT {
            let token = self.tokens[self.pos];
            return OpeningHoursError::new(code, token.col, Some("\""));
        }
        match self.tokens.get(self.pos) {
            Some(_) => self.error_over(code, self.pos, self.pos),
            None => OpeningHoursError::new(code, self.end_col, None),
        }
    }

    /// Error spanning tokens `first..=last`, quoting their text.
    fn error_over(&self, code: &'static str, first: usize, last: usize) -> OpeningHoursError {
        let (first, last) = (self.tokens[first], self.tokens[last]);
        OpeningHoursError::new(code, first.col, Some(&self.input[first.start..last.end]))
    }

    fn kind(&self, offset: usize) -> Option<TokKind> {
        self.tokens.get(self.pos + offset).map(|token| token.kind)
    }

    fn kw(&self, offset: usize) -> Option<Kw> {
        match self.kind(offset) {
            Some(TokKind::Word(kw)) => Some(kw),
            _ => None,
        }
    }

    fn number(&self, offset: usize) -> u32 {
        match self.kind(offset) {
            Some(TokKind::Num { value, .. }) => value,
            _ => 0,
        }
    }

    fn digits(&self, offset: usize) -> usize {
        match self.kind(offset) {
            Some(TokKind::Num { digits, .. }) => digits,
            _ => 0,
        }
    }

    fn month(&self, offset: usize) -> u8 {
        match self.kw(offset) {
            Some(Kw::Month(month)) => month,
            _ => 1,
        }
    }

    /// True when the token at `offset` touches the one before it.
    fn glued(&self, offset: usize) -> bool {
        let index = self.pos + offset;
        index > 0
            && self
                .tokens
                .get(index)
                .is_some_and(|token| token.col == self.tokens[index - 1].end_col)
    }

    /// `08:30`, `8:30`, `8h30` or `8h`, written without spaces.
    fn at_time(&self, offset: usize) -> bool {
        if !matches!(self.kind(offset), Some(TokKind::Num { .. })) || !self.glued(offset + 1) {
            return false;
        }
        match self.kind(offset + 1) {
            Some(TokKind::Colon) => {
                matches!(self.kind(offset + 2), Some(TokKind::Num { .. })) && self.glued(offset + 2)
            }
            Some(TokKind::HourSep) => true,
            _ => false,
        }
    }

    fn at_always(&self) -> bool {
        matches!(
            self.kind(0),
            Some(TokKind::Num {
                value: 24,
                digits: 2
            })
        ) && self.kind(1) == Some(TokKind::Slash)
            && matches!(
                self.kind(2),
                Some(TokKind::Num {
                    value: 7,
                    digits: 1
                })
            )
            && self.glued(1)
            && self.glued(2)
    }

    fn at_year(&self, offset: usize) -> bool {
        matches!(
            self.kind(offset),
            Some(TokKind::Num {
                value: 1000..,
                digits: 4
            })
        ) && !self.at_time(offset)
    }

    /// A number that is not the hour of a time.
    fn at_number(&self, offset: usize) -> bool {
        matches!(self.kind(offset), Some(TokKind::Num { .. })) && !self.at_time(offset)
    }

    /// A number that can continue a week list, and not the start of a rule (`24/7`, a time or
    /// a year).
    fn at_small_number(&self, offset: usize) -> bool {
        matches!(self.kind(offset), Some(TokKind::Num { digits: ..=2, .. }))
            && !self.at_time(offset)
            && !(self.kind(offset + 1) == Some(TokKind::Slash) && self.glued(offset + 1))
    }
}
