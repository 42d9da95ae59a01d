//! Small helpers the format readers share: bounded text, messages, durations.

use crate::junit::{Capture, first_line, floor_char_boundary, parse_seconds};
use crate::model::CapturedText;

/// Longest message kept (first line of a failure text, a step message).
pub(crate) const MAX_MESSAGE_BYTES: usize = 4096;

/// A bounded text capture that is finished into a plain string.
pub(crate) fn new_capture(limit: usize) -> Capture {
    Capture::new(limit, false)
}

pub(crate) fn finish_text(capture: Capture) -> Option<CapturedText> {
    capture.finish().0
}

/// The text, trimmed, as a message: `None` when blank; cut at [`MAX_MESSAGE_BYTES`].
pub(crate) fn message_of(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(trimmed[..floor_char_boundary(trimmed, MAX_MESSAGE_BYTES)].to_string())
}

/// The first line of a captured text, as a short message.
pub(crate) fn first_line_of(text: &Option<CapturedText>) -> Option<String> {
    text.as_ref()
        .and_then(|t| first_line(&t.text, MAX_MESSAGE_BYTES))
}

/// A duration in seconds (`"0.0123"`), or `None` when absent or unreadable.
pub(crate) fn seconds(text: Option<&str>) -> Option<u64> {
    text.and_then(|t| parse_seconds(t).ok().flatten())
}

/// A .NET `TimeSpan` as TRX writes it (`[d.]hh:mm:ss[.fffffff]`) in microseconds.
pub(crate) fn timespan_us(text: &str) -> Option<u64> {
    let text = text.trim();
    let (days, rest) = match text.split_once('.') {
        Some((d, r)) if !d.contains(':') => (d.parse::<u64>().ok()?, r),
        _ => (0, text),
    };
    let mut parts = rest.splitn(3, ':');
    let hours: u64 = parts.next()?.parse().ok()?;
    let minutes: u64 = parts.next()?.parse().ok()?;
    let seconds_us = parse_seconds(parts.next()?).ok()??;
    let whole = days
        .checked_mul(24)?
        .checked_add(hours)?
        .checked_mul(60)?
        .checked_add(minutes)?
        .checked_mul(60_000_000)?;
    whole.checked_add(seconds_us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans_as_trx_writes_them() {
        assert_eq!(timespan_us("00:00:00.0010000"), Some(1000));
        assert_eq!(timespan_us("00:01:02.5"), Some(62_500_000));
        assert_eq!(timespan_us("1.00:00:01"), Some(86_401_000_000));
        assert_eq!(timespan_us("nonsense"), None);
        assert_eq!(timespan_us("99999999999999999.00:00:00"), None);
    }

    #[test]
    fn messages_are_trimmed_and_bounded() {
        assert_eq!(message_of("  \n "), None);
        assert_eq!(message_of(" boom \n"), Some("boom".into()));
        assert_eq!(message_of(&"é".repeat(5000)).map(|m| m.len()), Some(4096));
    }
}
