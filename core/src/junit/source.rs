//! A `BufRead` wrapper that counts positions and enforces the per-event size limits.
//!
//! quick-xml only knows byte offsets. To give a line and column for an error without
//! keeping the whole input, this wrapper keeps a window of the most recently consumed
//! bytes together with the line and column where that window starts.

use crate::error::{Location, count_scalars};
use std::cell::Cell;
use std::io::{self, BufRead, Read};

/// Bytes kept behind the read position for computing line and column.
const WINDOW_KEEP: usize = 64 * 1024;

/// Which size limit applies to the event being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventClass {
    /// Not decided yet: the first bytes of the event have not been seen.
    Unknown,
    /// A tag, comment, declaration or DOCTYPE: limited by `max_markup_bytes`.
    Markup,
    /// Text or CDATA: limited by `max_text_bytes`.
    Text,
}

/// The message of the I/O error used to stop quick-xml when an event grows too large.
pub const OVERSIZED_EVENT: &str = "tmbridge: event exceeds the size limit";

pub struct Source<R> {
    inner: R,
    consumed: u64,
    window: Vec<u8>,
    window_start: u64,
    window_line: u64,
    window_column: u64,
    event_start: u64,
    event_class: EventClass,
    /// The first bytes of the current event, enough to tell CDATA from markup.
    prefix: [u8; 3],
    prefix_len: usize,
    max_markup: u64,
    max_text: u64,
    /// The last location computed (see `location`).
    cursor: Cell<Location>,
    /// Set when the size limit stopped the read: which class was exceeded.
    pub oversized: Option<EventClass>,
}

impl<R: BufRead> Source<R> {
    pub fn new(inner: R, max_markup: u64, max_text: u64) -> Source<R> {
        Source {
            inner,
            consumed: 0,
            window: Vec::new(),
            window_start: 0,
            window_line: 1,
            window_column: 1,
            event_start: 0,
            event_class: EventClass::Unknown,
            prefix: [0; 3],
            prefix_len: 0,
            max_markup,
            max_text,
            oversized: None,
            cursor: Cell::new(Location {
                offset: 0,
                line: 1,
                column: 1,
            }),
        }
    }

    /// Called before each quick-xml read: a new event starts here.
    pub fn begin_event(&mut self) {
        self.event_start = self.consumed;
        self.event_class = EventClass::Unknown;
        self.prefix_len = 0;
        // quick-xml ends a text event by consuming the `<` of the next one: that event
        // is markup (or CDATA), and must get the markup limit, not the text limit.
        if let Some(b'<') = self.consumed.checked_sub(1).and_then(|at| self.byte_at(at)) {
            self.prefix[0] = b'<';
            self.prefix_len = 1;
        }
    }

    pub fn inner(&self) -> &R {
        &self.inner
    }

    pub fn inner_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Line and column of a byte offset. Exact for offsets inside the kept window;
    /// older offsets (only possible inside a single huge event) get the window's start.
    ///
    /// Locations are asked for in increasing order almost always, so the last answer
    /// is kept as a cursor and the next one only scans the bytes in between.
    pub fn location(&self, offset: u64) -> Location {
        if offset < self.window_start {
            return Location {
                offset,
                line: self.window_line,
                column: self.window_column,
            };
        }
        let cursor = self.cursor.get();
        let from = if cursor.offset >= self.window_start && cursor.offset <= offset {
            cursor
        } else {
            Location {
                offset: self.window_start,
                line: self.window_line,
                column: self.window_column,
            }
        };
        let start = (from.offset - self.window_start) as usize;
        let end = ((offset - self.window_start) as usize).clamp(start, self.window.len());
        let between = &self.window[start..end];
        let newlines = memchr::memchr_iter(b'\n', between).count() as u64;
        let column = match memchr::memrchr(b'\n', between) {
            Some(i) => 1 + count_scalars(&between[i + 1..]),
            None => from.column + count_scalars(between),
        };
        let location = Location {
            offset: self.window_start + end as u64,
            line: from.line + newlines,
            column,
        };
        self.cursor.set(location);
        Location { offset, ..location }
    }

    /// The byte at `offset`, when it is still in the kept window.
    pub fn byte_at(&self, offset: u64) -> Option<u8> {
        let rel = offset.checked_sub(self.window_start)?;
        self.window.get(usize::try_from(rel).ok()?).copied()
    }

    fn limit(&self) -> u64 {
        match self.event_class {
            EventClass::Text => self.max_text,
            _ => self.max_markup,
        }
    }

    fn trim_window(&mut self) {
        if self.window.len() > 2 * WINDOW_KEEP {
            let drop = self.window.len() - WINDOW_KEEP;
            let dropped = &self.window[..drop];
            self.window_line += memchr::memchr_iter(b'\n', dropped).count() as u64;
            self.window_column = match memchr::memrchr(b'\n', dropped) {
                Some(i) => 1 + count_scalars(&dropped[i + 1..]),
                None => self.window_column + count_scalars(dropped),
            };
            self.window_start += drop as u64;
            self.window.drain(..drop);
        }
    }
}

impl<R: BufRead> Read for Source<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Source<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let used = self.consumed - self.event_start;
        if used > self.limit() {
            self.oversized = Some(self.event_class);
            return Err(io::Error::other(OVERSIZED_EVENT));
        }
        let limit = self.limit();
        let buf = self.inner.fill_buf()?;
        // Hand out no more than the limit allows, so that the next call can stop the
        // event even when the input is one big slice.
        let room = usize::try_from(limit - used)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        let buf = &buf[..buf.len().min(room)];
        if self.event_class == EventClass::Unknown {
            let mut probe = [0u8; 3];
            let known = self.prefix_len;
            probe[..known].copy_from_slice(&self.prefix[..known]);
            let extra = (3 - known).min(buf.len());
            probe[known..known + extra].copy_from_slice(&buf[..extra]);
            self.event_class = classify(&probe[..known + extra]);
        }
        Ok(buf)
    }

    fn consume(&mut self, amt: usize) {
        // `fill_buf` on the inner reader returns the same bytes again without reading.
        if let Ok(buf) = self.inner.fill_buf() {
            let bytes = &buf[..amt.min(buf.len())];
            self.window.extend_from_slice(bytes);
            for &b in bytes.iter().take(3 - self.prefix_len) {
                self.prefix[self.prefix_len] = b;
                self.prefix_len += 1;
            }
        }
        self.trim_window();
        self.inner.consume(amt);
        self.consumed += amt as u64;
    }
}

/// Decides from the first (up to) three bytes of an event; `<![` can only start CDATA here.
fn classify(start: &[u8]) -> EventClass {
    match start {
        [] => EventClass::Unknown,
        [first, ..] if *first != b'<' => EventClass::Text,
        [b'<', b'!', b'['] => EventClass::Text,
        [_, _, _] => EventClass::Markup,
        _ => EventClass::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_is_exact_inside_the_window() {
        let text = "<a>\n  <b é='1'/>\n</a>".as_bytes();
        let mut src = Source::new(text, 1 << 20, 1 << 20);
        let mut sink = Vec::new();
        src.read_to_end(&mut sink).unwrap_or_default();
        let offset = text.iter().position(|&b| b == b'=').unwrap_or(0) as u64;
        assert_eq!(
            src.location(offset),
            Location::in_text(text, offset as usize)
        );
    }

    #[test]
    fn location_survives_window_eviction() {
        let mut text = Vec::new();
        for i in 0..20_000 {
            text.extend_from_slice(format!("line {i} ü\n").as_bytes());
        }
        let mut src = Source::new(&text[..], 1 << 30, 1 << 30);
        let mut sink = Vec::new();
        src.read_to_end(&mut sink).unwrap_or_default();
        let offset = text.len() as u64 - 5;
        assert_eq!(
            src.location(offset),
            Location::in_text(&text, offset as usize)
        );
    }

    #[test]
    fn classifies_cdata_as_text() {
        assert_eq!(classify(b"<!["), EventClass::Text);
        assert_eq!(classify(b"<!-"), EventClass::Markup);
        assert_eq!(classify(b"hel"), EventClass::Text);
        assert_eq!(classify(b"<a>"), EventClass::Markup);
        assert_eq!(classify(b"<!"), EventClass::Unknown);
    }
}
