//! Bounded capture of element text (system-out, stack traces) and the
//! `[[PROPERTY|name=value]]` / `[[ATTACHMENT|path]]` markers that CI plugins read from it.

use crate::model::{CapturedText, Property};

/// Longest unfinished marker carried from one text chunk to the next.
const MAX_MARKER_BYTES: usize = 64 * 1024;

/// Text of one element, possibly arriving in several chunks (text, CDATA, text).
pub struct Capture {
    text: String,
    total: u64,
    limit: usize,
    truncated: bool,
    scan_markers: bool,
    carry: String,
    pub properties: Vec<Property>,
    pub attachments: Vec<String>,
}

impl Capture {
    pub fn new(limit: usize, scan_markers: bool) -> Capture {
        Capture {
            text: String::new(),
            total: 0,
            limit,
            truncated: false,
            scan_markers,
            carry: String::new(),
            properties: Vec::new(),
            attachments: Vec::new(),
        }
    }

    pub fn push(&mut self, chunk: &str) {
        self.total += chunk.len() as u64;
        if !self.truncated {
            let room = self.limit.saturating_sub(self.text.len());
            if chunk.len() <= room {
                self.text.push_str(chunk);
            } else {
                self.text
                    .push_str(&chunk[..floor_char_boundary(chunk, room)]);
                self.truncated = true;
            }
        }
        if self.scan_markers {
            self.scan(chunk);
        }
    }

    fn scan(&mut self, chunk: &str) {
        let joined;
        let mut rest: &str = if self.carry.is_empty() {
            chunk
        } else {
            joined = format!("{}{chunk}", std::mem::take(&mut self.carry));
            &joined
        };
        while let Some(open) = rest.find("[[") {
            let after = &rest[open + 2..];
            match after.find("]]") {
                Some(close) => {
                    self.marker(&after[..close]);
                    rest = &after[close + 2..];
                }
                None => {
                    if rest.len() - open <= MAX_MARKER_BYTES {
                        self.carry = rest[open..].to_string();
                    }
                    return;
                }
            }
        }
        // A lone '[' at the end may start a marker in the next chunk.
        if rest.ends_with('[') {
            self.carry = "[".to_string();
        }
    }

    fn marker(&mut self, body: &str) {
        if let Some(path) = body.strip_prefix("ATTACHMENT|") {
            let path = path.trim();
            if !path.is_empty() {
                self.attachments.push(path.to_string());
            }
        } else if let Some(pair) = body.strip_prefix("PROPERTY|")
            && let Some((name, value)) = pair.split_once('=')
        {
            let name = name.trim();
            if !name.is_empty() {
                self.properties.push(Property {
                    name: name.to_string(),
                    value: value.to_string(),
                });
            }
        }
    }

    /// The captured text, or `None` when the element was empty or only whitespace.
    pub fn finish(self) -> (Option<CapturedText>, Vec<Property>, Vec<String>) {
        let text = if self.text.trim().is_empty() && !self.truncated {
            None
        } else {
            Some(CapturedText {
                text: self.text,
                truncated: self.truncated,
                original_bytes: self.total,
            })
        };
        (text, self.properties, self.attachments)
    }
}

/// The largest index `<= at` that is a char boundary of `s`.
pub fn floor_char_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    let mut i = at;
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The first non-empty line of `text`, trimmed and cut to `max` bytes: a message for
/// outcomes that only have a body.
pub fn first_line(text: &str, max: usize) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(line[..floor_char_boundary(line, max)].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_a_char_boundary_and_keeps_the_length() {
        let mut c = Capture::new(5, false);
        c.push("ab€cd");
        let (text, _, _) = c.finish();
        let text = text.expect("captured");
        assert_eq!(text.text, "ab€");
        assert!(text.truncated);
        assert_eq!(text.original_bytes, 7);
    }

    #[test]
    fn finds_markers_across_chunks() {
        let mut c = Capture::new(1000, true);
        c.push("log\n[[ATTACHMENT|/tmp/shot.png]]\n[[PROP");
        c.push("ERTY|browser=firefox]] and [[other]] [");
        c.push("[ATTACHMENT|b.txt]]");
        let (_, props, attachments) = c.finish();
        assert_eq!(attachments, vec!["/tmp/shot.png", "b.txt"]);
        assert_eq!(
            props,
            vec![Property {
                name: "browser".into(),
                value: "firefox".into()
            }]
        );
    }

    #[test]
    fn whitespace_only_is_no_text() {
        let mut c = Capture::new(10, true);
        c.push("  \n ");
        assert!(c.finish().0.is_none());
    }

    #[test]
    fn first_line_skips_blank_lines() {
        assert_eq!(
            first_line("\n  \n  boom  \nmore", 100).as_deref(),
            Some("boom")
        );
        assert_eq!(first_line("ééé", 3).as_deref(), Some("é"));
        assert_eq!(first_line(" \n", 3), None);
    }
}
