//! Kubernetes CronJob schedules and time zones, checked as the API server checks them.
//!
//! Kubernetes parses `spec.schedule` with robfig/cron v3 `ParseStandard` and, on create, rejects
//! any schedule that contains `TZ`. [`check`] accepts that language: five fields (minute, hour,
//! day of month, month, weekday) separated by whitespace, each a comma-separated list of `*` or
//! `?`, numbers, ranges `a-b` and steps `*/n`, `a-b/n` or `a/n` (from `a` to the field's end);
//! month names `jan`-`dec` and weekday names `sun`-`sat` in any case; weekdays 0-6 (7 is
//! rejected); the descriptors `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
//! `@midnight`, `@hourly` and `@every <Go duration>`, which must be the whole schedule.
//!
//! It is stricter than Kubernetes where Kubernetes accepts a schedule that does not do what it
//! says, because such a schedule is a bug its author wants to hear about before deploying it:
//! - an empty list item (`1,,2`, `,`): robfig drops it, so a field of only commas never matches;
//! - a range that starts at `*` (`*-5`): robfig ignores everything after `*`;
//! - a step longer than the field's period (`*/90` minutes): it does not carry over into the
//!   next hour, so only the start matches;
//! - a day of month that none of the chosen months has (`0 0 30 2 *`) when the weekday is `*`:
//!   the job never runs;
//! - `@every` with a duration under one second, zero or negative: robfig runs it every second.
//!
//! [`check_time_zone`] checks `spec.timeZone` the same way, against the names of the time zone
//! database.

use std::fmt;

use crate::diagnostic::did_you_mean;

/// Why a schedule is rejected, and where in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError {
    /// Byte offset inside the expression of the offending field or character.
    pub offset: usize,
    /// Byte length of the offending part (0 for a position, such as an empty schedule).
    pub len: usize,
    /// What is wrong, lowercase, without a trailing period.
    pub message: String,
    /// How to fix it, when there is something more specific to say than the message.
    pub hint: Option<String>,
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CronError {}

impl CronError {
    fn new(offset: usize, len: usize, message: impl Into<String>) -> CronError {
        CronError {
            offset,
            len,
            message: message.into(),
            hint: None,
        }
    }

    fn at(token: Token<'_>, message: impl Into<String>) -> CronError {
        CronError::new(token.offset, token.text.len(), message)
    }

    fn hint(mut self, hint: impl Into<String>) -> CronError {
        self.hint = Some(hint.into());
        self
    }
}

/// Checks a CronJob schedule: `Ok` when Kubernetes accepts it and it does what it says.
pub fn check(expr: &str) -> Result<(), CronError> {
    let words = words(expr);
    if words.is_empty() {
        return Err(CronError::new(0, expr.len(), "the schedule is empty")
            .hint("write five fields, such as `0 3 * * *`, or a descriptor such as `@daily`"));
    }
    if let Some(tz) = words
        .iter()
        .find(|w| w.text.starts_with("TZ=") || w.text.starts_with("CRON_TZ="))
    {
        let zone = tz.text.split_once('=').map_or("", |(_, z)| z);
        return Err(
            CronError::at(*tz, "the schedule cannot carry a time zone").hint(format!(
                "Kubernetes rejects `TZ=` and `CRON_TZ=` in schedules: remove `{}` and set `time_zone = \"{zone}\"` in the service's [job] table",
                tz.text
            )),
        );
    }
    if expr.starts_with('@') {
        return descriptor(expr);
    }
    if words[0].text.starts_with('@') {
        return Err(CronError::new(
            0,
            words[0].offset,
            format!("unexpected space before `{}`", words[0].text),
        )
        .hint("Kubernetes does not trim descriptors: start the schedule with `@`"));
    }
    if words.len() != FIELDS.len() {
        return Err(field_count(&words));
    }
    let mut sets = [Set::default(); 5];
    for ((set, word), field) in sets.iter_mut().zip(&words).zip(&FIELDS) {
        *set = parse_field(*word, field)?;
    }
    runs_at_all(&sets, words[2])
}

/// IANA time zone names, as `time.LoadLocation` finds them in the time zone database.
const TIME_ZONES: &str = include_str!("time_zones.txt");

/// Checks a CronJob `timeZone` as Kubernetes does: not empty, not `Local`, each `/`-separated
/// part of at most 14 letters, digits, `.`, `-`, `_` or `+` (not `.`, `..` or starting with
/// `-`), and a name the time zone database knows (the list of tzdata 2025b, zones and links).
pub fn check_time_zone(zone: &str) -> Result<(), CronError> {
    let example = "write an IANA name, such as `Europe/Paris`, `America/New_York` or `Etc/UTC`";
    if zone.is_empty() {
        return Err(CronError::new(0, 0, "the time zone is empty").hint(
            "leave `time_zone` out for the controller manager's zone, or name one such as `Etc/UTC`",
        ));
    }
    if zone.eq_ignore_ascii_case("local") {
        return Err(CronError::new(
            0,
            zone.len(),
            format!("`{zone}` is not an explicit time zone"),
        )
        .hint(example));
    }
    let whole = Token {
        text: zone,
        offset: 0,
    };
    for part in whole.split('/') {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+');
        let bad = part.text.is_empty()
            || part.text.len() > 14
            || part.text == "."
            || part.text == ".."
            || part.text.starts_with('-')
            || !part.text.chars().all(allowed);
        if bad {
            return Err(
                CronError::at(part, format!("`{zone}` is not a time zone name")).hint(example),
            );
        }
    }
    let names = TIME_ZONES.lines().filter(|l| !l.starts_with('#'));
    if names.clone().any(|name| name == zone) {
        return Ok(());
    }
    let err = CronError::at(whole, format!("unknown time zone `{zone}`"));
    Err(match did_you_mean(zone, names) {
        Some(name) => err.hint(format!("did you mean `{name}`?")),
        None => err.hint(example),
    })
}

/// A slice of the expression and where it starts.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    text: &'a str,
    offset: usize,
}

impl<'a> Token<'a> {
    /// Splits on `sep`, keeping empty parts (they are errors worth pointing at).
    fn split(self, sep: char) -> Vec<Token<'a>> {
        let mut offset = self.offset;
        self.text
            .split(sep)
            .map(|text| {
                let t = Token { text, offset };
                offset += text.len() + sep.len_utf8();
                t
            })
            .collect()
    }
}

/// Whitespace-separated words, as Go's `strings.Fields` splits them (Unicode white space).
fn words(expr: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in expr.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push(Token {
                    text: &expr[s..i],
                    offset: s,
                });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Token {
            text: &expr[s..],
            offset: s,
        });
    }
    out
}

fn field_count(words: &[Token<'_>]) -> CronError {
    let found = words.len();
    let message = format!("expected 5 fields (minute hour day month weekday), found {found}");
    let last = words[found - 1];
    let end = last.offset + last.text.len();
    if found > FIELDS.len() {
        let start = words[FIELDS.len()].offset;
        CronError::new(start, end - start, message).hint(
            "Kubernetes schedules have no seconds or year field (Quartz and Spring have them)",
        )
    } else {
        CronError::new(words[0].offset, end - words[0].offset, message)
            .hint("write minute, hour, day of month, month and weekday, such as `0 3 * * *`")
    }
}

/// One of the five fields: its name in messages, its bounds and its names (value = min + index),
/// the period it repeats over and the `@every` unit of a fixed interval of its unit.
struct Field {
    name: &'static str,
    min: u64,
    max: u64,
    names: &'static [&'static str],
    syntax: &'static str,
    period: &'static str,
    every: Option<&'static str>,
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
        syntax: "write a minute 0-59, `*`, a list (`0,30`), a range (`0-29`) or a step (`*/15`)",
        period: "an hour (60 minutes)",
        every: Some("m"),
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
        syntax: "write an hour 0-23, `*`, a list (`6,18`), a range (`9-17`) or a step (`*/2`)",
        period: "a day (24 hours)",
        every: Some("h"),
    },
    Field {
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
        syntax: "write a day 1-31, `*` or `?`, a list (`1,15`), a range (`1-7`) or a step (`*/2`)",
        period: "a month (31 days)",
        every: None,
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
        syntax: "write a month 1-12 or `jan`-`dec`, `*`, a list, a range or a step",
        period: "a year (12 months)",
        every: None,
    },
    Field {
        name: "weekday",
        min: 0,
        max: 6,
        names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
        syntax: "write a weekday 0-6 (0 is sunday) or `sun`-`sat`, `*` or `?`, a list or a range",
        period: "a week (7 days)",
        every: None,
    },
];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The values a field matches, as robfig keeps them: a bit per value, and whether a `*` or `?`
/// (without a step above 1) was among them, which decides how day of month and weekday combine.
#[derive(Debug, Clone, Copy, Default)]
struct Set {
    bits: u64,
    star: bool,
}

fn parse_field(word: Token<'_>, field: &Field) -> Result<Set, CronError> {
    let mut set = Set::default();
    for item in word.split(',') {
        let s = parse_item(item, field)?;
        set.bits |= s.bits;
        set.star |= s.star;
    }
    Ok(set)
}

fn parse_item(item: Token<'_>, field: &Field) -> Result<Set, CronError> {
    if item.text.is_empty() {
        return Err(CronError::new(
            item.offset,
            0,
            format!("empty item in the {} list", field.name),
        )
        .hint("remove the extra `,`"));
    }
    let parts = item.split('/');
    if parts.len() > 2 {
        return Err(
            CronError::at(item, format!("`{}` has more than one `/`", item.text))
                .hint(field.syntax),
        );
    }
    let ends = parts[0].split('-');
    let star = ends[0].text == "*" || ends[0].text == "?";
    let (start, mut end) = if star {
        if ends.len() > 1 {
            return Err(CronError::at(
                parts[0],
                format!(
                    "{} range `{}` cannot start at `{}`",
                    field.name, parts[0].text, ends[0].text
                ),
            )
            .hint(format!(
                "Kubernetes ignores what follows `{}-`: write numbers, such as `{}-{}`",
                ends[0].text, field.min, field.max
            )));
        }
        (field.min, field.max)
    } else {
        let start = value(ends[0], item, field)?;
        match ends.len() {
            1 => (start, start),
            2 => (start, value(ends[1], item, field)?),
            _ => {
                return Err(CronError::at(
                    parts[0],
                    format!("`{}` has more than one `-`", parts[0].text),
                )
                .hint(field.syntax));
            }
        }
    };
    let step = match parts.get(1) {
        Some(step) => {
            // `a/n` means from a to the end of the field.
            if ends.len() == 1 {
                end = field.max;
            }
            step_value(*step, field)?
        }
        None => 1,
    };
    if start > end {
        return Err(CronError::at(
            parts[0],
            format!("{} range `{}` runs backwards", field.name, parts[0].text),
        )
        .hint(format!(
            "ranges do not wrap around: write `{start}-{},{}-{end}`",
            field.max, field.min
        )));
    }
    if step > field.max - field.min + 1 {
        let step_token = parts[1];
        let err = CronError::at(
            step_token,
            format!(
                "step {} is longer than {}, so only {} {start} matches",
                step_token.text, field.period, field.name
            ),
        );
        return Err(match field.every {
            Some(unit) => err.hint(format!(
                "a step does not carry over into the next period; for a fixed interval, write `@every {step}{unit}`"
            )),
            None => err.hint("a step does not carry over into the next period: list the values"),
        });
    }
    let mut bits = 0u64;
    let mut v = start;
    while v <= end {
        bits |= 1 << v;
        v = v.saturating_add(step);
    }
    Ok(Set {
        bits,
        star: star && step == 1,
    })
}

/// A number (Go's `strconv.Atoi`: optional `+`, decimal digits) or a name, within the bounds.
fn value(token: Token<'_>, item: Token<'_>, field: &Field) -> Result<u64, CronError> {
    if token.text.is_empty() {
        return Err(CronError::at(
            item,
            format!("missing {} value in `{}`", field.name, item.text),
        )
        .hint(field.syntax));
    }
    if let Some(n) = number(token.text) {
        if n < field.min || n > field.max {
            let message = format!(
                "{} {} is out of range {}-{}",
                field.name, token.text, field.min, field.max
            );
            let err = CronError::at(token, message);
            return Err(match (field.name, n) {
                ("weekday", 7) => {
                    err.hint("Kubernetes counts sunday as 0 and rejects 7: write `0` or `sun`")
                }
                ("hour", 24) => err.hint("midnight is hour 0"),
                ("day of month" | "month", 0) => err.hint(format!("{}s count from 1", field.name)),
                _ => err,
            });
        }
        return Ok(n);
    }
    let lower = go_lowercase(token.text);
    if let Some(i) = field.names.iter().position(|n| *n == lower) {
        return Ok(field.min + i as u64);
    }
    let what = match field.name {
        "month" => "is not a month number or name",
        "weekday" => "is not a weekday number or name",
        _ => "is not a number",
    };
    let err = CronError::at(token, format!("{} `{}` {what}", field.name, token.text));
    Err(if token.text.contains(['L', 'W', '#']) {
        err.hint("Kubernetes does not support Quartz's `L`, `W` and `#`")
    } else {
        err.hint(field.syntax)
    })
}

fn step_value(token: Token<'_>, field: &Field) -> Result<u64, CronError> {
    match number(token.text) {
        Some(0) => Err(CronError::at(token, "a step must be at least 1")),
        Some(n) => Ok(n),
        None => Err(CronError::at(
            token,
            format!("{} step `{}` is not a number", field.name, token.text),
        )
        .hint(field.syntax)),
    }
}

/// Digits with an optional `+`, as `strconv.Atoi` reads them; too large to hold is `u64::MAX`,
/// which every bound rejects as Kubernetes does.
fn number(text: &str) -> Option<u64> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse().unwrap_or(u64::MAX))
}

/// Lowercases as Go's `strings.ToLower` (simple case mapping), which robfig uses for names:
/// it maps `İ` to `i`, where Rust's full mapping adds a combining dot.
fn go_lowercase(text: &str) -> String {
    text.chars()
        .flat_map(|c| if c == '\u{130}' { 'i' } else { c }.to_lowercase())
        .collect()
}

/// robfig matches a day when day of month and weekday both match if either is `*`, and when
/// either matches otherwise; with weekday `*`, a day of month no chosen month has never comes.
fn runs_at_all(sets: &[Set; 5], day_word: Token<'_>) -> Result<(), CronError> {
    const DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let [_, _, day, month, weekday] = sets;
    if day.star || !weekday.star {
        return Ok(());
    }
    let first_day = day.bits.trailing_zeros();
    let chosen: Vec<usize> = (0..12)
        .filter(|m| month.bits & (1 << (m + 1)) != 0)
        .collect();
    if chosen.iter().any(|&m| first_day <= DAYS[m]) {
        return Ok(());
    }
    let message = match chosen.as_slice() {
        [m] => format!(
            "{} has no day {first_day}, so the job never runs",
            MONTHS[*m]
        ),
        _ => format!("none of the chosen months has a day {first_day}, so the job never runs"),
    };
    Err(CronError::at(day_word, message)
        .hint("choose days every chosen month has (february has 29 in leap years)"))
}

const DESCRIPTORS: [&str; 7] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

const DESCRIPTOR_HINT: &str = "use `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`, `@every <duration>` or five fields";

/// A schedule starting with `@`: robfig compares the whole, untrimmed string.
fn descriptor(expr: &str) -> Result<(), CronError> {
    if DESCRIPTORS.contains(&expr) {
        return Ok(());
    }
    if let Some(duration) = expr.strip_prefix("@every ") {
        return every(Token {
            text: duration,
            offset: "@every ".len(),
        });
    }
    let word_end = expr.find(char::is_whitespace).unwrap_or(expr.len());
    let word = &expr[..word_end];
    let whole = Token {
        text: word,
        offset: 0,
    };
    if DESCRIPTORS.contains(&word) {
        let rest = &expr[word_end..];
        let message = if rest.trim().is_empty() {
            format!("unexpected space after `{word}`")
        } else {
            format!("unexpected `{}` after `{word}`", rest.trim())
        };
        return Err(CronError::new(word_end, rest.len(), message).hint(format!(
            "Kubernetes takes a descriptor alone: write `{word}`"
        )));
    }
    if word == "@every" {
        return Err(
            CronError::at(whole, "`@every` needs a duration after one space")
                .hint("write `@every 1h30m`"),
        );
    }
    let lower = word.to_lowercase();
    if DESCRIPTORS.contains(&lower.as_str()) || lower == "@every" {
        return Err(CronError::at(whole, format!("unknown descriptor `{word}`"))
            .hint(format!("descriptors are lowercase: write `{lower}`")));
    }
    let err = CronError::at(whole, format!("unknown descriptor `{word}`"));
    let close = did_you_mean(word, DESCRIPTORS.iter().copied().chain(["@every"]));
    Err(match (word, close) {
        ("@reboot", _) => err.hint(format!("a CronJob cannot run at boot; {DESCRIPTOR_HINT}")),
        (_, Some(close)) => err.hint(format!("did you mean `{close}`?")),
        _ => err.hint(DESCRIPTOR_HINT),
    })
}

const DURATION_HINT: &str =
    "write a Go duration: numbers with units `h`, `m`, `s`, `ms`, `us` or `ns`, such as `1h30m`";
const TOO_LONG: u128 = 1 << 63;

/// The duration of `@every`: a Go duration of at least one second.
fn every(token: Token<'_>) -> Result<(), CronError> {
    let (negative, nanos) = go_duration(token)?;
    if negative && nanos > 0 {
        return Err(CronError::at(
            token,
            format!("duration `{}` is negative", token.text),
        ));
    }
    if nanos < 1_000_000_000 {
        return Err(CronError::at(
            token,
            format!("duration `{}` is shorter than one second", token.text),
        )
        .hint("Kubernetes runs `@every` at most once a second: write `1s` or more"));
    }
    Ok(())
}

fn too_long(token: Token<'_>) -> CronError {
    CronError::at(token, format!("duration `{}` is too long", token.text))
        .hint("Go durations end near 2562047h (292 years)")
}

/// Reads a duration as Go's `time.ParseDuration` does (`[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or
/// `0`), with its overflow bounds: whether it is negative, and its size in nanoseconds.
fn go_duration(token: Token<'_>) -> Result<(bool, u128), CronError> {
    let text = token.text;
    let (negative, mut pos) = match text.as_bytes().first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    if &text[pos..] == "0" {
        return Ok((negative, 0));
    }
    if pos == text.len() {
        return Err(CronError::at(token, "`@every` needs a duration").hint(DURATION_HINT));
    }
    let mut total: u128 = 0;
    while pos < text.len() {
        let (nanos, next) = duration_term(token, pos)?;
        total += nanos;
        if total > TOO_LONG {
            return Err(too_long(token));
        }
        pos = next;
    }
    if !negative && total > TOO_LONG - 1 {
        return Err(too_long(token));
    }
    Ok((negative, total))
}

/// One number and unit of a duration, starting at byte `pos` of the token: its nanoseconds and
/// where the next term starts.
fn duration_term(token: Token<'_>, mut pos: usize) -> Result<(u128, usize), CronError> {
    let text = token.text;
    let invalid =
        || CronError::at(token, format!("`{}` is not a duration", token.text)).hint(DURATION_HINT);
    let rest = &text.as_bytes()[pos..];
    if !rest
        .first()
        .is_some_and(|b| *b == b'.' || b.is_ascii_digit())
    {
        return Err(invalid());
    }
    let number_start = pos;
    let int_digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut whole: u128 = 0;
    for b in &rest[..int_digits] {
        whole = whole * 10 + u128::from(b - b'0');
        if whole > TOO_LONG {
            return Err(too_long(token));
        }
    }
    pos += int_digits;
    let (mut fraction, mut scale, mut frac_digits) = (0, 1.0, 0);
    if text.as_bytes().get(pos) == Some(&b'.') {
        pos += 1;
        (fraction, scale, frac_digits) = leading_fraction(&text.as_bytes()[pos..]);
        pos += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return Err(invalid());
    }
    let unit_len = text.as_bytes()[pos..]
        .iter()
        .take_while(|b| !(**b == b'.' || b.is_ascii_digit()))
        .count();
    if unit_len == 0 {
        let number = Token {
            text: &text[number_start..pos],
            offset: token.offset + number_start,
        };
        return Err(
            CronError::at(number, format!("duration `{}` has no unit", token.text)).hint(format!(
                "add a unit such as `s`, `m` or `h`: `{}m`",
                number.text
            )),
        );
    }
    let unit = unit_nanos(Token {
        text: &text[pos..pos + unit_len],
        offset: token.offset + pos,
    })?;
    if whole > TOO_LONG / unit {
        return Err(too_long(token));
    }
    let mut nanos = whole * unit;
    if fraction > 0 {
        // Go's float arithmetic, so the rounding and the overflow bound are Go's.
        nanos += (fraction as f64 * (unit as f64 / scale)) as u128;
        if nanos > TOO_LONG {
            return Err(too_long(token));
        }
    }
    Ok((nanos, pos + unit_len))
}

/// Go's `leadingFraction`: the digits' value (those that fit), their scale, and how many
/// digits there were.
fn leading_fraction(bytes: &[u8]) -> (u128, f64, usize) {
    let (mut fraction, mut scale, mut digits, mut overflow) = (0u128, 1f64, 0, false);
    for b in bytes.iter().take_while(|b| b.is_ascii_digit()) {
        digits += 1;
        let next = fraction * 10 + u128::from(b - b'0');
        overflow = overflow || fraction > (TOO_LONG - 1) / 10 || next > TOO_LONG;
        if !overflow {
            fraction = next;
            scale *= 10.0;
        }
    }
    (fraction, scale, digits)
}

fn unit_nanos(unit: Token<'_>) -> Result<u128, CronError> {
    Ok(match unit.text {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        other => {
            let err = CronError::at(unit, format!("unknown duration unit `{other}`"));
            return Err(match other {
                "d" => err.hint("Go durations have no days: write hours, such as `24h`"),
                "w" => err.hint("Go durations have no weeks: write hours, such as `168h`"),
                _ => err.hint(DURATION_HINT),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(expr: &str) -> CronError {
        match check(expr) {
            Ok(()) => panic!("`{expr}` was accepted"),
            Err(e) => e,
        }
    }

    /// The offending text, so tests read as what the user sees underlined.
    fn at(expr: &str) -> (&str, String) {
        let e = err(expr);
        (&expr[e.offset..e.offset + e.len], e.message)
    }

    #[test]
    fn accepts_what_kubernetes_accepts() {
        for expr in [
            "0 3 * * *",
            "* * * * *",
            "*/5 * * * *",
            "0,15,30,45 * * * *",
            "1-5/2 * * * *",
            "5/15 * * * *",
            "*/1 * * * *",
            "0 9-17 * * 1-5",
            "0 0 1 1 *",
            "0 0 * * 0",
            "0 0 * * 6",
            "0 0 * * SUN",
            "0 0 * * mon-fri",
            "0 0 * * Sat,sun",
            "0 0 1 JAN-dec *",
            "0 0 1 jan/3 *",
            "0 0 1 */3 *",
            "0 0 ? * ?",
            "? ? ? ? ?",
            "+5 * * * *",
            "05 04 * * *",
            "  0 3 * * *  ",
            "0\t3\t*\t*\t*",
            "0\u{a0}3 * *\u{2003}*",
            "0 0 29 2 *",
            "0 0 31 1,2 *",
            "0 0 30 2 1",
            "0 0 31 4 */2",
            "0 0 30,1 2 *",
            "59 23 31 12 6",
            "@yearly",
            "@annually",
            "@monthly",
            "@weekly",
            "@daily",
            "@midnight",
            "@hourly",
            "@every 1h30m",
            "@every 1.5h",
            "@every 90s",
            "@every 1s",
            "@every +2m",
            "@every 1h0m0.5s",
            "@every 1000ms",
            "@every 1000000us",
            "@every 1000000\u{b5}s",
            "@every .5h",
            "@every 2562047h",
        ] {
            assert_eq!(check(expr), Ok(()), "{expr}");
        }
    }

    #[test]
    fn names_lowercase_as_go_does() {
        // Go's simple case mapping turns İ into i, so robfig reads FRİ as fri.
        assert_eq!(check("0 0 * * FR\u{130}"), Ok(()));
        assert!(check("0 0 * * FRJ").is_err());
    }

    #[test]
    fn out_of_range_values_point_at_the_value() {
        assert_eq!(
            at("61 * * * *"),
            ("61", "minute 61 is out of range 0-59".to_string())
        );
        assert_eq!(
            at("0 24 * * *"),
            ("24", "hour 24 is out of range 0-23".to_string())
        );
        assert_eq!(
            at("0 0 0 * *"),
            ("0", "day of month 0 is out of range 1-31".to_string())
        );
        assert_eq!(
            at("0 0 32 * *"),
            ("32", "day of month 32 is out of range 1-31".to_string())
        );
        assert_eq!(
            at("0 0 1 13 *"),
            ("13", "month 13 is out of range 1-12".to_string())
        );
        assert_eq!(
            at("0 0 1 0 *"),
            ("0", "month 0 is out of range 1-12".to_string())
        );
        assert_eq!(
            at("0 0 * * 1,5-7"),
            ("7", "weekday 7 is out of range 0-6".to_string())
        );
        assert_eq!(
            at("0 0 * * 99999999999999999999999"),
            (
                "99999999999999999999999",
                "weekday 99999999999999999999999 is out of range 0-6".to_string()
            )
        );
        let e = err("0 3 * * 7");
        assert_eq!((e.offset, e.len), (8, 1));
        assert_eq!(
            e.hint.as_deref(),
            Some("Kubernetes counts sunday as 0 and rejects 7: write `0` or `sun`")
        );
        assert_eq!(
            err("0 24 * * *").hint.as_deref(),
            Some("midnight is hour 0")
        );
    }

    #[test]
    fn field_count() {
        let e = err("0 0 3 * * *");
        assert_eq!(
            e.message,
            "expected 5 fields (minute hour day month weekday), found 6"
        );
        assert_eq!((e.offset, e.len), (10, 1));
        assert!(e.hint.is_some_and(|h| h.contains("no seconds")));
        assert_eq!(
            at(" 0 0 3 * * ? 2026"),
            (
                "? 2026",
                "expected 5 fields (minute hour day month weekday), found 7".to_string()
            )
        );
        assert_eq!(
            at(" * * * * "),
            (
                "* * * *",
                "expected 5 fields (minute hour day month weekday), found 4".to_string()
            )
        );
        assert_eq!(at("*"), ("*", err("*").message));
    }

    #[test]
    fn empty_schedules() {
        assert_eq!(err("").message, "the schedule is empty");
        let e = err(" \t ");
        assert_eq!(
            (e.offset, e.len, e.message.as_str()),
            (0, 3, "the schedule is empty")
        );
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(
            at("x * * * *"),
            ("x", "minute `x` is not a number".to_string())
        );
        assert_eq!(
            at("0 0 * * monday"),
            (
                "monday",
                "weekday `monday` is not a weekday number or name".to_string()
            )
        );
        assert_eq!(
            at("0 0 * mon *"),
            (
                "mon",
                "month `mon` is not a month number or name".to_string()
            )
        );
        assert_eq!(
            at("jan * * * *"),
            ("jan", "minute `jan` is not a number".to_string())
        );
        assert_eq!(
            at("0 0 * * jan"),
            (
                "jan",
                "weekday `jan` is not a weekday number or name".to_string()
            )
        );
        assert_eq!(
            at("1-2-3 * * * *"),
            ("1-2-3", "`1-2-3` has more than one `-`".to_string())
        );
        assert_eq!(
            at("*/2/3 * * * *"),
            ("*/2/3", "`*/2/3` has more than one `/`".to_string())
        );
        assert_eq!(
            at("0 5- * * *"),
            ("5-", "missing hour value in `5-`".to_string())
        );
        assert_eq!(
            at("-5 * * * *"),
            ("-5", "missing minute value in `-5`".to_string())
        );
        assert_eq!(
            at("/5 * * * *"),
            ("/5", "missing minute value in `/5`".to_string())
        );
        assert_eq!(
            at("*/0 * * * *"),
            ("0", "a step must be at least 1".to_string())
        );
        assert_eq!(
            at("*/-2 * * * *"),
            ("-2", "minute step `-2` is not a number".to_string())
        );
        assert_eq!(
            at("0 0 * * */mon"),
            ("mon", "weekday step `mon` is not a number".to_string())
        );
        assert_eq!(
            at("0 0 * * ++1"),
            (
                "++1",
                "weekday `++1` is not a weekday number or name".to_string()
            )
        );
        assert_eq!(
            at("+ * * * *"),
            ("+", "minute `+` is not a number".to_string())
        );
        let quartz = err("0 0 L * *");
        assert_eq!(quartz.message, "day of month `L` is not a number");
        assert!(quartz.hint.is_some_and(|h| h.contains("Quartz")));
        assert!(check("0 0 ? * 1#2").is_err());
        assert!(check("0 0 15W * *").is_err());
    }

    #[test]
    fn backwards_ranges() {
        assert_eq!(
            at("0 0 * * fri-mon"),
            (
                "fri-mon",
                "weekday range `fri-mon` runs backwards".to_string()
            )
        );
        assert_eq!(
            err("0 0 * * fri-mon").hint.as_deref(),
            Some("ranges do not wrap around: write `5-6,0-1`")
        );
        assert_eq!(
            at("0 22-2 * * *"),
            ("22-2", "hour range `22-2` runs backwards".to_string())
        );
        assert_eq!(check("0 2-2 * * *"), Ok(()));
    }

    #[test]
    fn time_zone_prefixes() {
        let e = err("CRON_TZ=Europe/Paris 0 3 * * *");
        assert_eq!(
            (e.offset, e.len, e.message.as_str()),
            (0, 20, "the schedule cannot carry a time zone")
        );
        assert_eq!(
            e.hint.as_deref(),
            Some(
                "Kubernetes rejects `TZ=` and `CRON_TZ=` in schedules: remove `CRON_TZ=Europe/Paris` and set `time_zone = \"Europe/Paris\"` in the service's [job] table"
            )
        );
        assert_eq!(at("TZ=UTC @daily").0, "TZ=UTC");
        assert_eq!(at("  TZ=UTC 0 3 * * *").0, "TZ=UTC");
        assert_eq!(at("0 3 * * * TZ=UTC").0, "TZ=UTC");
    }

    #[test]
    fn descriptors() {
        assert_eq!(
            at("@reboot"),
            ("@reboot", "unknown descriptor `@reboot`".to_string())
        );
        assert_eq!(
            err("@DAILY").hint.as_deref(),
            Some("descriptors are lowercase: write `@daily`")
        );
        assert_eq!(at("@"), ("@", "unknown descriptor `@`".to_string()));
        assert_eq!(
            at(" @daily"),
            (" ", "unexpected space before `@daily`".to_string())
        );
        assert_eq!(
            at("@daily "),
            (" ", "unexpected space after `@daily`".to_string())
        );
        assert_eq!(
            at("@weekly 0"),
            (" 0", "unexpected `0` after `@weekly`".to_string())
        );
        assert_eq!(
            at("@every"),
            (
                "@every",
                "`@every` needs a duration after one space".to_string()
            )
        );
        assert_eq!(
            at("@every\t1h"),
            (
                "@every",
                "`@every` needs a duration after one space".to_string()
            )
        );
        assert_eq!(at("@every ").1, "`@every` needs a duration");
        assert_eq!(
            at("@every  1h"),
            (" 1h", "` 1h` is not a duration".to_string())
        );
        assert_eq!(
            at("@every 1h "),
            ("h ", "unknown duration unit `h `".to_string())
        );
        assert_eq!(at("@daily*").1, "unknown descriptor `@daily*`");
    }

    #[test]
    fn every_durations() {
        assert_eq!(
            at("@every 5"),
            ("5", "duration `5` has no unit".to_string())
        );
        assert_eq!(
            at("@every 1h30"),
            ("30", "duration `1h30` has no unit".to_string())
        );
        let e = err("@every 1d");
        assert_eq!(
            (e.offset, e.len, e.message.as_str()),
            (8, 1, "unknown duration unit `d`")
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("Go durations have no days: write hours, such as `24h`")
        );
        assert_eq!(
            at("@every 1x5m"),
            ("x", "unknown duration unit `x`".to_string())
        );
        assert_eq!(at("@every .s").1, "`.s` is not a duration");
        assert_eq!(at("@every h").1, "`h` is not a duration");
        assert_eq!(
            at("@every -"),
            ("-", "`@every` needs a duration".to_string())
        );
        assert_eq!(at("@every 1..5s").1, "duration `1..5s` has no unit");
        assert_eq!(at("@every 2562048h").1, "duration `2562048h` is too long");
        assert_eq!(
            at("@every 9223372036854775808ns").1,
            "duration `9223372036854775808ns` is too long"
        );
        assert_eq!(check("@every 9223372036854775807ns"), Ok(()));
        assert_eq!(
            at("@every 99999999999999999999999h").1,
            "duration `99999999999999999999999h` is too long"
        );
    }

    #[test]
    fn stricter_than_kubernetes_where_a_schedule_misleads() {
        assert_eq!(
            err("1,,2 * * * *"),
            CronError::new(2, 0, "empty item in the minute list").hint("remove the extra `,`")
        );
        assert_eq!(err(", * * * *").message, "empty item in the minute list");
        assert_eq!(
            at("*-5 * * * *"),
            ("*-5", "minute range `*-5` cannot start at `*`".to_string())
        );
        assert_eq!(
            at("*/90 * * * *"),
            (
                "90",
                "step 90 is longer than an hour (60 minutes), so only minute 0 matches".to_string()
            )
        );
        assert_eq!(
            err("*/90 * * * *").hint.as_deref(),
            Some(
                "a step does not carry over into the next period; for a fixed interval, write `@every 90m`"
            )
        );
        assert_eq!(
            at("0 3/36 * * *").1,
            "step 36 is longer than a day (24 hours), so only hour 3 matches"
        );
        assert_eq!(
            at("0 0 * * 1-5/8").1,
            "step 8 is longer than a week (7 days), so only weekday 1 matches"
        );
        // A step of the whole period is the period itself: every 60 minutes is hourly.
        assert_eq!(check("*/60 * * * *"), Ok(()));
        assert_eq!(check("0 */24 * * *"), Ok(()));
        assert_eq!(check("0 1-5/5 * * *"), Ok(()));
        assert_eq!(
            at("0 0 30 2 *"),
            (
                "30",
                "february has no day 30, so the job never runs".to_string()
            )
        );
        assert_eq!(
            at("0 0 31 4,6,9 ?"),
            (
                "31",
                "none of the chosen months has a day 31, so the job never runs".to_string()
            )
        );
        assert_eq!(at("@every 0").1, "duration `0` is shorter than one second");
        assert_eq!(
            at("@every -0s").1,
            "duration `-0s` is shorter than one second"
        );
        assert_eq!(
            at("@every 500ms").1,
            "duration `500ms` is shorter than one second"
        );
        assert_eq!(at("@every -5m").1, "duration `-5m` is negative");
    }

    #[test]
    fn misspelt_descriptors_get_a_suggestion() {
        assert_eq!(
            err("@dialy").hint.as_deref(),
            Some("did you mean `@daily`?")
        );
        assert_eq!(
            err("@evry 1h").hint.as_deref(),
            Some("did you mean `@every`?")
        );
        assert!(
            err("@x")
                .hint
                .is_some_and(|h| h.starts_with("use `@yearly`"))
        );
    }

    #[test]
    fn time_zones() {
        for zone in [
            "Etc/UTC",
            "UTC",
            "Europe/Paris",
            "America/Argentina/Buenos_Aires",
            "America/Argentina/ComodRivadavia",
            "US/Eastern",
            "Etc/GMT+5",
            "Etc/GMT-14",
        ] {
            assert_eq!(check_time_zone(zone), Ok(()), "{zone}");
        }
        let e = check_time_zone("Europe/Pariss").unwrap_err();
        assert_eq!(
            (e.offset, e.len, e.message.as_str()),
            (0, 13, "unknown time zone `Europe/Pariss`")
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean `Europe/Paris`?"));
        assert_eq!(
            check_time_zone("europe/paris").unwrap_err().hint.as_deref(),
            Some("did you mean `Europe/Paris`?")
        );
        assert_eq!(
            check_time_zone("Local").unwrap_err().message,
            "`Local` is not an explicit time zone"
        );
        assert_eq!(
            check_time_zone("LOCAL").unwrap_err().message,
            "`LOCAL` is not an explicit time zone"
        );
        assert_eq!(
            check_time_zone("").unwrap_err().message,
            "the time zone is empty"
        );
        for (zone, part) in [
            ("Europe/../Paris", ".."),
            ("/Europe/Paris", ""),
            ("Europe//Paris", ""),
            ("Europe/Paris/", ""),
            ("America/-Bogota", "-Bogota"),
            ("Europe/Paris Time", "Paris Time"),
            ("America/ThisIsFifteenCh", "ThisIsFifteenCh"),
        ] {
            let e = check_time_zone(zone).unwrap_err();
            assert_eq!(&zone[e.offset..e.offset + e.len], part, "{zone}");
            assert_eq!(e.message, format!("`{zone}` is not a time zone name"));
        }
        assert_eq!(
            check_time_zone("Mars/Olympus").unwrap_err().message,
            "unknown time zone `Mars/Olympus`"
        );
    }

    #[test]
    fn offsets_are_byte_positions() {
        // A multi-byte space before the field: the offset counts its bytes.
        let expr = "0\u{3000}99 * * *";
        let e = err(expr);
        assert_eq!(&expr[e.offset..e.offset + e.len], "99");
        assert_eq!(e.offset, 4);
    }

    #[test]
    fn no_input_panics() {
        let pieces = [
            "",
            " ",
            "*",
            "?",
            "/",
            "-",
            ",",
            "+",
            "0",
            "7",
            "59",
            "99999999999999999999",
            "jan",
            "SUN",
            "@",
            "@every ",
            "1h",
            ".",
            "\u{130}",
            "\u{3000}",
            "TZ=",
            "L",
            "#",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let expr = format!("{a}{b}{c}");
                    if let Err(e) = check(&expr) {
                        assert!(e.offset + e.len <= expr.len(), "{expr:?}: {e:?}");
                        assert!(expr.is_char_boundary(e.offset), "{expr:?}");
                        assert!(expr.is_char_boundary(e.offset + e.len), "{expr:?}");
                    }
                    let five = format!("{a}{b} {c} * * {a}");
                    let _ = check(&five);
                }
            }
        }
    }
}
