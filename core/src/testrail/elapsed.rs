//! TestRail's `elapsed` timespan: `30s`, `1m 45s`, `2h 5m`.

use std::fmt::Write;

/// The `elapsed` value for a duration in microseconds.
///
/// By default whole seconds, rounded, with a 1 s minimum for any test that took time
/// (TestRail does not store less). With `allow_ms`, seconds with up to three decimals,
/// as trcli sends them to TestRail instances that accept milliseconds (`0.25s`,
/// `65.123s`). No duration, or zero, gives `None`: the field is left unset.
pub fn elapsed(duration_us: Option<u64>, allow_ms: bool) -> Option<String> {
    let us = duration_us.filter(|&d| d > 0)?;
    if allow_ms {
        let ms = us / 1000 + u64::from(us % 1000 >= 500);
        if ms == 0 {
            return None;
        }
        let (secs, frac) = (ms / 1000, ms % 1000);
        if frac == 0 {
            return Some(format!("{secs}s"));
        }
        let frac = format!("{frac:03}");
        return Some(format!("{secs}.{}s", frac.trim_end_matches('0')));
    }
    let secs = (us / 1_000_000 + u64::from(us % 1_000_000 >= 500_000)).max(1);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    // One string, written in place (this runs once per result).
    let mut out = String::with_capacity(16);
    for (value, unit) in [(h, 'h'), (m, 'm'), (s, 's')] {
        if value > 0 {
            if !out.is_empty() {
                out.push(' ');
            }
            let _ = write!(out, "{value}{unit}");
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn whole_seconds_with_a_one_second_minimum() {
        let cases = [
            (1, "1s"),
            (400_000, "1s"),
            (1_499_999, "1s"),
            (1_500_000, "2s"),
            (30_000_000, "30s"),
            (65_000_000, "1m 5s"),
            (105_000_000, "1m 45s"),
            (120_000_000, "2m"),
            (3_600_000_000, "1h"),
            (3_725_400_000, "1h 2m 5s"),
        ];
        for (us, want) in cases {
            assert_eq!(elapsed(Some(us), false).as_deref(), Some(want), "{us}");
        }
        assert_eq!(elapsed(Some(0), false), None);
        assert_eq!(elapsed(None, false), None);
    }

    #[test]
    fn milliseconds_when_allowed() {
        assert_eq!(elapsed(Some(250_000), true).as_deref(), Some("0.25s"));
        assert_eq!(elapsed(Some(65_123_000), true).as_deref(), Some("65.123s"));
        assert_eq!(elapsed(Some(2_000_000), true).as_deref(), Some("2s"));
        assert_eq!(elapsed(Some(1_500), true).as_deref(), Some("0.002s"));
        assert_eq!(elapsed(Some(400), true), None);
    }

    fn seconds_of(text: &str) -> u64 {
        text.split(' ')
            .map(|p| {
                let (n, unit) = p.split_at(p.len() - 1);
                let n: u64 = n.parse().unwrap();
                match unit {
                    "h" => n * 3600,
                    "m" => n * 60,
                    _ => n,
                }
            })
            .sum()
    }

    proptest! {
        #[test]
        fn whole_second_form_reads_back_to_the_rounded_duration(us in 1u64..10_000_000_000_000) {
            let text = elapsed(Some(us), false).unwrap();
            let want = ((us + 500_000) / 1_000_000).max(1);
            prop_assert_eq!(seconds_of(&text), want);
        }
    }
}
