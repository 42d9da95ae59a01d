//! Characters that must not travel into a query, a form value or a terminal: NUL and
//! the other C0 and C1 control characters (tab, line feed and carriage return
//! excepted), DEL, and the bidirectional controls (U+061C, U+200E, U+200F,
//! U+202A..U+202E, U+2066..U+2069) that make text read differently from what it is.
//!
//! The Rally query normaliser refuses them with a position; auto-fill strips them
//! from values with a warning; messages that quote input escape them with
//! [`printable`].

/// True for a character no query or value may carry.
pub fn is_forbidden(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => false,
        c if c.is_control() => true,
        c => is_bidi_control(c),
    }
}

/// The invisible characters that change the direction text is shown in.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// The first forbidden character: its byte offset and the character.
pub fn find_forbidden(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|(_, c)| is_forbidden(*c))
}

/// `text` without its forbidden characters, and how many were removed.
pub fn strip_forbidden(text: &str) -> (String, usize) {
    let kept: String = text.chars().filter(|c| !is_forbidden(*c)).collect();
    let removed = text.chars().count() - kept.chars().count();
    (kept, removed)
}

/// A character named for a message: `U+0000 (NUL)`, `U+202E (RIGHT-TO-LEFT OVERRIDE)`.
pub fn describe(c: char) -> String {
    let name = match c {
        '\0' => "NUL",
        '\u{7F}' => "DELETE",
        '\u{1B}' => "ESCAPE",
        '\u{061C}' => "ARABIC LETTER MARK",
        '\u{200E}' => "LEFT-TO-RIGHT MARK",
        '\u{200F}' => "RIGHT-TO-LEFT MARK",
        '\u{202A}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202B}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202C}' => "POP DIRECTIONAL FORMATTING",
        '\u{202D}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202E}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        _ => "control character",
    };
    format!("U+{:04X} ({name})", c as u32)
}

/// Text safe to put on a terminal, on one line: control and bidirectional characters
/// escaped (`\n`, `\u{1b}`), cut after `max_chars` characters with `…`.
pub fn printable(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == max_chars {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_bidi_control(c) || c == '\u{FEFF}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_escape_and_bidi_controls_are_forbidden_but_whitespace_is_not() {
        for c in [
            '\0', '\u{1B}', '\u{7F}', '\u{85}', '\u{202E}', '\u{2066}', '\u{061C}',
        ] {
            assert!(is_forbidden(c), "{}", describe(c));
        }
        for c in ['\t', '\n', '\r', ' ', 'é', '\u{200D}', '€'] {
            assert!(!is_forbidden(c), "{c:?}");
        }
    }

    #[test]
    fn finding_and_stripping_agree() {
        let text = "a\u{202E}b\0c";
        assert_eq!(find_forbidden(text), Some((1, '\u{202E}')));
        assert_eq!(strip_forbidden(text), ("abc".to_string(), 2));
        assert_eq!(strip_forbidden("tab\tok"), ("tab\tok".to_string(), 0));
        assert_eq!(describe('\0'), "U+0000 (NUL)");
    }

    #[test]
    fn printable_text_has_no_raw_control_and_is_cut() {
        let shown = printable("a\x1b[31mred\nb\u{202E}c\0", 100);
        assert!(!shown.chars().any(|c| c.is_control() || is_bidi_control(c)));
        assert_eq!(shown, "a\\u{1b}[31mred\\nb\\u{202e}c\\u{0}");
        assert_eq!(printable("abcdef", 3), "abc…");
        assert_eq!(printable("abc", 3), "abc");
    }
}
