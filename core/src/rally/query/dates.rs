//! Dates as people and Rally's views write them (`2013-12-31`, `2013-Dec-31`,
//! `12/31/2013`, `Dec 31, 2013 5:30 PM`, with or without a zone) turned into the
//! UTC `yyyy-mm-ddThh:mm:ssZ` Rally compares reliably. A value without a zone is
//! local time in the zone the host names (IANA), DST included; a date alone means
//! local midnight. `today` (also `today-7`) is Rally's own and stays as it is.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, Offset, TimeZone, TimeZoneDatabase};

/// The IANA zone `name` from the bundled database (never the system's files).
pub fn zone(name: &str) -> Option<TimeZone> {
    if name.eq_ignore_ascii_case("utc") || name.eq_ignore_ascii_case("z") {
        return Some(TimeZone::UTC);
    }
    TimeZoneDatabase::bundled().get(name).ok()
}

/// A date read from text, not yet placed in a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedDate {
    pub civil: DateTime,
    /// Offset from UTC in seconds when the text named one (`Z` is 0).
    pub offset: Option<i32>,
    /// Only a date, no time of day.
    pub date_only: bool,
    /// Day and month could be read either way (`01/02/2013`); read as month/day.
    pub month_day_ambiguous: bool,
}

/// What converting one date gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// `2013-12-31T05:00:00Z`.
    pub text: String,
    pub parsed: ParsedDate,
    /// The local time fell in a DST gap (did not exist) or fold (existed twice).
    pub local_time_note: Option<&'static str>,
}

/// `today`, `today-7`, `today+1` (any case).
pub fn is_relative(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    match lower.strip_prefix("today") {
        Some("") => true,
        Some(rest) => {
            let digits = rest.strip_prefix('-').or_else(|| rest.strip_prefix('+'));
            digits.is_some_and(|d| {
                !d.is_empty() && d.len() <= 5 && d.bytes().all(|b| b.is_ascii_digit())
            })
        }
        None => false,
    }
}

/// Converts `text` to UTC, reading zone-less values in `tz`. `None` if it is not a date.
pub fn to_utc(text: &str, tz: &TimeZone) -> Option<Converted> {
    let parsed = parse(text)?;
    let (ts, local_time_note) = match parsed.offset {
        Some(secs) => (
            Offset::from_seconds(secs)
                .ok()?
                .to_timestamp(parsed.civil)
                .ok()?,
            None,
        ),
        None => {
            let ambiguous = tz.to_ambiguous_timestamp(parsed.civil);
            let note = match ambiguous.offset() {
                AmbiguousOffset::Unambiguous { .. } => None,
                AmbiguousOffset::Gap { .. } => Some("gap"),
                AmbiguousOffset::Fold { .. } => Some("fold"),
            };
            (ambiguous.compatible().ok()?, note)
        }
    };
    Some(Converted {
        text: format_utc(ts),
        parsed,
        local_time_note,
    })
}

/// `yyyy-mm-ddThh:mm:ssZ`, with milliseconds (or finer) only when they are not zero.
pub fn format_utc(ts: Timestamp) -> String {
    let dt = TimeZone::UTC.to_datetime(ts);
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    let nanos = dt.subsec_nanosecond();
    if nanos != 0 {
        let digits = format!("{nanos:09}");
        let keep = if nanos % 1_000_000 == 0 {
            3
        } else if nanos % 1_000 == 0 {
            6
        } else {
            9
        };
        out.push('.');
        out.push_str(digits.get(..keep).unwrap_or(&digits));
    }
    out.push('Z');
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'a> {
    Num(u32, usize),
    Word(&'a str),
    Sym(char),
}

fn pieces(text: &str) -> Option<Vec<Piece<'_>>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
        } else if c.is_ascii_digit() {
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let digits = &rest[..end];
            if digits.len() > 9 {
                return None;
            }
            out.push(Piece::Num(digits.parse().ok()?, digits.len()));
            rest = &rest[end..];
        } else if c.is_ascii_alphabetic() {
            let end = rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            out.push(Piece::Word(&rest[..end]));
            rest = &rest[end..];
        } else if matches!(c, '-' | '/' | ':' | '.' | ',' | '+') {
            out.push(Piece::Sym(c));
            rest = &rest[1..];
        } else {
            return None;
        }
    }
    Some(out)
}

fn month(word: &str) -> Option<i8> {
    const NAMES: [&str; 12] = [
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
    let lower = word.to_ascii_lowercase();
    if lower.len() < 3 {
        return None;
    }
    let index = NAMES
        .iter()
        .position(|n| n.starts_with(&lower) || (lower == "sept" && *n == "september"))?;
    i8::try_from(index + 1).ok()
}

/// Reads a date (and maybe a time and a zone) from `text`.
pub fn parse(text: &str) -> Option<ParsedDate> {
    let p = pieces(text.trim())?;
    let (date, ambiguous, used) = date_part(&p)?;
    let rest = p.get(used..)?;
    let (time, offset, date_only) = if rest.is_empty() {
        (Time::midnight(), None, true)
    } else {
        let (time, offset) = time_part(rest)?;
        (time, offset, false)
    };
    Some(ParsedDate {
        civil: date.to_datetime(time),
        offset,
        date_only,
        month_day_ambiguous: ambiguous,
    })
}

fn is_date_sep(p: Option<&Piece>) -> bool {
    matches!(p, Some(Piece::Sym('-' | '/' | '.')))
}

fn make_date(y: u32, m: u32, d: u32) -> Option<Date> {
    Date::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
    )
    .ok()
}

fn full_year(y: u32, digits: usize) -> Option<u32> {
    match digits {
        4 => Some(y),
        2 if y < 70 => Some(2000 + y),
        2 => Some(1900 + y),
        _ => None,
    }
}

/// The date at the start of `p`: the date, whether month/day was ambiguous, and
/// how many pieces it used.
fn date_part(p: &[Piece]) -> Option<(Date, bool, usize)> {
    use Piece::*;
    match p {
        // 2013-12-31, 2013/12/31
        [Num(y, 4), s1, Num(m, 1..=2), s2, Num(d, 1..=2), ..]
            if is_date_sep(Some(s1)) && s1 == s2 =>
        {
            Some((make_date(*y, *m, *d)?, false, 5))
        }
        // 2013-Dec-31
        [Num(y, 4), s1, Word(mon), s2, Num(d, 1..=2), ..] if is_date_sep(Some(s1)) && s1 == s2 => {
            Some((
                make_date(*y, u32::try_from(month(mon)?).ok()?, *d)?,
                false,
                5,
            ))
        }
        // 12/31/2013, 31/12/2013 (a first number above 12 is the day), 12-31-13
        [
            Num(a, 1..=2),
            s1,
            Num(b, 1..=2),
            s2,
            Num(y, yd @ (2 | 4)),
            ..,
        ] if is_date_sep(Some(s1)) && s1 == s2 => {
            let year = full_year(*y, *yd)?;
            let (m, d) = if *a > 12 { (*b, *a) } else { (*a, *b) };
            let ambiguous = *a <= 12 && *b <= 12 && a != b;
            Some((make_date(year, m, d)?, ambiguous, 5))
        }
        // 31-Dec-2013, 31 Dec 2013, 31.Dec.2013
        [Num(d, 1..=2), s1, Word(mon), s2, Num(y, 4), ..] if is_date_sep(Some(s1)) && s1 == s2 => {
            Some((
                make_date(*y, u32::try_from(month(mon)?).ok()?, *d)?,
                false,
                5,
            ))
        }
        [Num(d, 1..=2), Word(mon), Num(y, 4), ..] => Some((
            make_date(*y, u32::try_from(month(mon)?).ok()?, *d)?,
            false,
            3,
        )),
        // Dec 31, 2013 / Dec 31 2013
        [Word(mon), Num(d, 1..=2), Sym(','), Num(y, 4), ..] => Some((
            make_date(*y, u32::try_from(month(mon)?).ok()?, *d)?,
            false,
            4,
        )),
        [Word(mon), Num(d, 1..=2), Num(y, 4), ..] => Some((
            make_date(*y, u32::try_from(month(mon)?).ok()?, *d)?,
            false,
            3,
        )),
        _ => None,
    }
}

/// `T10:30`, `10:30:15.250`, `5:30 PM`, then an optional zone: `Z`, `UTC`, `GMT`,
/// `+01:00`, `-0500`, `+01`.
fn time_part(p: &[Piece]) -> Option<(Time, Option<i32>)> {
    use Piece::*;
    let mut i = 0;
    if matches!(p.first(), Some(Word(w)) if w.eq_ignore_ascii_case("t")) {
        i += 1;
    }
    let (h, m) = match p.get(i..i + 3)? {
        [Num(h, 1..=2), Sym(':'), Num(m, 2)] => (*h, *m),
        _ => return None,
    };
    i += 3;
    let mut s = 0;
    let mut nanos = 0;
    if let Some([Sym(':'), Num(sec, 2)]) = p.get(i..i + 2) {
        s = *sec;
        i += 2;
        if let Some([Sym('.'), Num(frac, digits @ 1..=9)]) = p.get(i..i + 2) {
            nanos = frac.checked_mul(10u32.checked_pow(u32::try_from(9 - digits).ok()?)?)?;
            i += 2;
        }
    }
    let mut hour = h;
    if let Some(Word(w)) = p.get(i) {
        let lower = w.to_ascii_lowercase();
        if lower == "am" || lower == "pm" {
            if !(1..=12).contains(&h) {
                return None;
            }
            hour = match (lower.as_str(), h) {
                ("am", 12) => 0,
                ("am", h) => h,
                ("pm", 12) => 12,
                (_, h) => h + 12,
            };
            i += 1;
        }
    }
    let offset = match p.get(i..)? {
        [] => None,
        [Word(z)]
            if z.eq_ignore_ascii_case("z")
                || z.eq_ignore_ascii_case("utc")
                || z.eq_ignore_ascii_case("gmt") =>
        {
            Some(0)
        }
        [Sym(sign @ ('+' | '-')), rest @ ..] => {
            let (oh, om) = match rest {
                [Num(hh, 2)] => (*hh, 0),
                [Num(hhmm, 4)] => (*hhmm / 100, *hhmm % 100),
                [Num(hh, 2), Sym(':'), Num(mm, 2)] => (*hh, *mm),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = i32::try_from(oh * 3600 + om * 60).ok()?;
            Some(if *sign == '-' { -secs } else { secs })
        }
        _ => return None,
    };
    let time = Time::new(
        i8::try_from(hour).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(s).ok()?,
        i32::try_from(nanos).ok()?,
    )
    .ok()?;
    Some((time, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str, zone_name: &str) -> Option<String> {
        to_utc(text, &zone(zone_name).unwrap()).map(|c| c.text)
    }

    #[test]
    fn the_forms_people_write_in_utc() {
        for text in [
            "2013-12-31",
            "2013-Dec-31",
            "2013-dec-31",
            "2013-December-31",
            "12/31/2013",
            "31/12/2013",
            "12-31-2013",
            "12/31/13",
            "31-Dec-2013",
            "31 Dec 2013",
            "Dec 31, 2013",
            "December 31 2013",
            "2013/12/31",
        ] {
            assert_eq!(
                utc(text, "UTC").as_deref(),
                Some("2013-12-31T00:00:00Z"),
                "{text}"
            );
        }
    }

    #[test]
    fn times_and_zones() {
        assert_eq!(
            utc("2013-12-31T10:30", "UTC").unwrap(),
            "2013-12-31T10:30:00Z"
        );
        assert_eq!(
            utc("2013-12-31 10:30:15", "UTC").unwrap(),
            "2013-12-31T10:30:15Z"
        );
        assert_eq!(
            utc("12/31/2013 5:30 PM", "UTC").unwrap(),
            "2013-12-31T17:30:00Z"
        );
        assert_eq!(
            utc("12/31/2013 12:05 AM", "UTC").unwrap(),
            "2013-12-31T00:05:00Z"
        );
        assert_eq!(
            utc("2013-12-31T10:30:00+01:00", "UTC").unwrap(),
            "2013-12-31T09:30:00Z"
        );
        assert_eq!(
            utc("2013-12-31T10:30:00-0500", "Asia/Tokyo").unwrap(),
            "2013-12-31T15:30:00Z"
        );
        assert_eq!(
            utc("2013-12-31T10:30:00Z", "Asia/Tokyo").unwrap(),
            "2013-12-31T10:30:00Z"
        );
        assert_eq!(
            utc("2013-12-31T10:30:00.250Z", "UTC").unwrap(),
            "2013-12-31T10:30:00.250Z"
        );
        assert_eq!(
            utc("2013-12-31T10:30:00.000Z", "UTC").unwrap(),
            "2013-12-31T10:30:00Z"
        );
    }

    #[test]
    fn local_midnight_follows_daylight_saving_time() {
        // New York is UTC-5 in winter and UTC-4 in summer.
        assert_eq!(
            utc("2013-12-31", "America/New_York").unwrap(),
            "2013-12-31T05:00:00Z"
        );
        assert_eq!(
            utc("2013-07-01", "America/New_York").unwrap(),
            "2013-07-01T04:00:00Z"
        );
        // The day DST starts in Europe (2024-03-31, 02:00 → 03:00): midnight is still +01:00.
        assert_eq!(
            utc("2024-03-31", "Europe/Berlin").unwrap(),
            "2024-03-30T23:00:00Z"
        );
        assert_eq!(
            utc("2024-04-01", "Europe/Berlin").unwrap(),
            "2024-03-31T22:00:00Z"
        );
        // Southern hemisphere: Sydney is +11 in January, +10 in July.
        assert_eq!(
            utc("2024-01-15", "Australia/Sydney").unwrap(),
            "2024-01-14T13:00:00Z"
        );
        assert_eq!(
            utc("2024-07-15", "Australia/Sydney").unwrap(),
            "2024-07-14T14:00:00Z"
        );
    }

    #[test]
    fn a_local_midnight_that_does_not_exist_is_noted() {
        // Brazil started DST at midnight on 2018-11-04: 00:00 became 01:00 (-02:00).
        let c = to_utc("2018-11-04", &zone("America/Sao_Paulo").unwrap()).unwrap();
        assert_eq!(c.text, "2018-11-04T03:00:00Z");
        assert_eq!(c.local_time_note, Some("gap"));
    }

    #[test]
    fn ambiguity_and_refusals() {
        assert!(parse("01/02/2013").unwrap().month_day_ambiguous);
        assert!(!parse("01/01/2013").unwrap().month_day_ambiguous);
        assert!(!parse("13/02/2013").unwrap().month_day_ambiguous);
        for text in [
            "",
            "2013",
            "2013-13-01",
            "2013-02-30",
            "Name",
            "US123",
            "2013-12-31T25:00",
            "12/31/2013 13:00 PM",
            "2013-12-31T10:00+25:00",
            "2013-12-31x",
            "1.5",
            "2013-12/31",
            "2013-Foo-31",
            "99999999999-1-1",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
        assert_eq!(zone("Mars/Olympus"), None);
    }

    #[test]
    fn relative_dates() {
        for ok in ["today", "TODAY", "today-7", "today+1"] {
            assert!(is_relative(ok), "{ok}");
        }
        for no in ["todays", "today-", "today-x", "yesterday"] {
            assert!(!is_relative(no), "{no}");
        }
    }
}
