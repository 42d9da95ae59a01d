//! Reading `time` attributes into integer microseconds, without floats.
//!
//! Reporters write seconds as `1.5`, `0.000`, `1,234.5` (thousands separators, from
//! locale-aware formatters), `1,5` (a decimal comma), `1e-05` (Python's repr of small
//! floats) and sometimes a trailing `s`. Missing, empty or negative values have no
//! duration.

/// Why a non-empty `time` could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeProblem {
    Negative,
    Unreadable,
}

/// Seconds as written → microseconds, rounded half up. `Ok(None)` for empty text.
pub fn parse_seconds(text: &str) -> Result<Option<u64>, TimeProblem> {
    let mut t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Some(us) = plain_seconds(t) {
        return Ok(Some(us));
    }
    if let Some(ms) = t.strip_suffix("ms") {
        // A few reporters write milliseconds with a unit: `12.5ms`.
        return parse_seconds(ms).map(|v| v.map(|us| (us + 500) / 1000));
    }
    if let Some(stripped) = t.strip_suffix('s').or_else(|| t.strip_suffix('S')) {
        t = stripped.trim_end();
    }
    let negative = t.starts_with('-');
    let t = t.trim_start_matches(['+', '-']);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => {
            let exp: i32 = t[i + 1..].parse().map_err(|_| TimeProblem::Unreadable)?;
            (&t[..i], exp)
        }
        None => (t, 0),
    };
    let (int_part, frac_part) = split_decimal(mantissa).ok_or(TimeProblem::Unreadable)?;
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(TimeProblem::Unreadable);
    }
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok(&int_part) || !digits_ok(frac_part) {
        return Err(TimeProblem::Unreadable);
    }
    let all_zero = int_part.bytes().chain(frac_part.bytes()).all(|b| b == b'0');
    if negative && !all_zero {
        return Err(TimeProblem::Negative);
    }
    // value = 0.<digits> * 10^(point) ; microseconds = value * 10^6
    let digits: String = format!("{int_part}{frac_part}");
    let point = int_part.len() as i64 + exponent as i64 + 6;
    scale(&digits, point)
        .ok_or(TimeProblem::Unreadable)
        .map(Some)
}

/// The common form (`12`, `0.345`, `1.2345675`, `.5`) without allocating: digits, at
/// most one `.`, and at most 12 digits before it. Any other text takes the general path,
/// which gives the same answer for these.
fn plain_seconds(text: &str) -> Option<u64> {
    let (int_part, frac_part) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int_part.len() > 12
        || (int_part.is_empty() && frac_part.is_empty())
        || !digits(int_part)
        || !digits(frac_part)
    {
        return None;
    }
    let mut us = int_part
        .bytes()
        .fold(0u64, |v, b| v * 10 + u64::from(b - b'0'));
    let frac = frac_part.as_bytes();
    for i in 0..6 {
        us = us * 10 + frac.get(i).map_or(0, |b| u64::from(b - b'0'));
    }
    // Rounded half up on the first digit below a microsecond, as `scale` does.
    if frac.get(6).is_some_and(|&b| b >= b'5') {
        us += 1;
    }
    Some(us)
}

/// Splits the number at its decimal mark, removing thousands separators.
fn split_decimal(text: &str) -> Option<(String, &str)> {
    let has_dot = text.contains('.');
    let commas = text.matches(',').count();
    let (int_raw, frac) = if has_dot {
        let (i, f) = text.split_once('.')?;
        (i, f)
    } else if commas == 1 {
        let (i, f) = text.split_once(',')?;
        // `1,234` is a thousands separator (US locale); `1,5` a decimal comma.
        if f.len() == 3 && !i.is_empty() && i.len() <= 3 && !i.starts_with('0') {
            return Some((format!("{i}{f}"), ""));
        }
        (i, f)
    } else {
        (text, "")
    };
    if int_raw.contains(',') && !thousands_grouped(int_raw) {
        return None;
    }
    Some((int_raw.replace(',', ""), frac))
}

fn thousands_grouped(int_raw: &str) -> bool {
    let mut groups = int_raw.split(',');
    let first_ok = groups.next().is_some_and(|g| (1..=3).contains(&g.len()));
    first_ok && groups.all(|g| g.len() == 3)
}

/// `digits` with the decimal point after `point` digits, rounded half up to an integer.
fn scale(all_digits: &str, point: i64) -> Option<u64> {
    let digits = all_digits.trim_start_matches('0');
    let point = point - (all_digits.len() - digits.len()) as i64;
    if digits.is_empty() {
        return Some(0);
    }
    let len = digits.len() as i64;
    if point <= 0 {
        // Below one microsecond: rounds to 0 or, at exactly .5 or more, 1.
        return Some(u64::from(point == 0 && digits.as_bytes()[0] >= b'5'));
    }
    if point >= len {
        let zeros = (point - len) as usize;
        if point > 19 {
            return None;
        }
        let mut whole: u64 = digits.parse().ok()?;
        for _ in 0..zeros {
            whole = whole.checked_mul(10)?;
        }
        return Some(whole);
    }
    if point > 19 {
        return None;
    }
    let (whole, rest) = digits.split_at(point as usize);
    let mut value: u64 = whole.parse().ok()?;
    if rest.as_bytes()[0] >= b'5' {
        value = value.checked_add(1)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_forms_reporters_write() {
        let cases = [
            ("1.5", Some(1_500_000)),
            ("0.000", Some(0)),
            ("0", Some(0)),
            ("12", Some(12_000_000)),
            ("1,234.5", Some(1_234_500_000)),
            ("1,234", Some(1_234_000_000)),
            ("1,5", Some(1_500_000)),
            ("0,001", Some(1_000)),
            ("1e-05", Some(10)),
            ("2.5E+2", Some(250_000_000)),
            (".25", Some(250_000)),
            ("3.", Some(3_000_000)),
            ("0.0000005", Some(1)),
            ("0.0000004", Some(0)),
            ("1.2345675", Some(1_234_568)),
            ("0.5s", Some(500_000)),
            ("12.5ms", Some(12_500)),
            ("3 ms", Some(3_000)),
            ("", None),
            ("  ", None),
            ("-0.0", Some(0)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_seconds(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn refuses_negative_and_garbage() {
        assert_eq!(parse_seconds("-1.5"), Err(TimeProblem::Negative));
        for bad in [
            "abc",
            "1.2.3",
            "<<computed>>",
            "1,23,4",
            "e5",
            ".",
            "1e",
            "NaN",
        ] {
            assert_eq!(parse_seconds(bad), Err(TimeProblem::Unreadable), "{bad}");
        }
        assert_eq!(parse_seconds("1e400"), Err(TimeProblem::Unreadable));
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,24}") {
            let _ = parse_seconds(&text);
        }

        #[test]
        fn plain_form_agrees_with_the_general_path(text in "[0-9]{0,14}(\\.[0-9]{0,10})?") {
            let t = text.trim();
            let general = if t.is_empty() {
                Ok(None)
            } else {
                split_decimal(t)
                    .filter(|(i, f)| !(i.is_empty() && f.is_empty()))
                    .and_then(|(i, f)| scale(&format!("{i}{f}"), i.len() as i64 + 6))
                    .map(Some)
                    .ok_or(TimeProblem::Unreadable)
            };
            prop_assert_eq!(parse_seconds(&text), general);
        }

        #[test]
        fn agrees_with_integer_arithmetic(secs in 0u64..10_000_000, micros in 0u64..1_000_000) {
            let text = format!("{secs}.{micros:06}");
            prop_assert_eq!(parse_seconds(&text), Ok(Some(secs * 1_000_000 + micros)));
        }
    }
}
