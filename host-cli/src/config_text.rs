//! Reading the text of a configuration, settings or schema file without ever putting
//! its raw bytes on the terminal: a binary file is named as such, and an error shows
//! at most a short excerpt with control characters escaped.

use std::path::Path;
use tmbridge_core::controls::printable;

/// Longest excerpt of a file quoted in a message, in characters.
const EXCERPT: usize = 80;

/// Longest message of a parser quoted, in characters (it may quote a key).
const MESSAGE: usize = 400;

/// A path as it may be printed.
pub fn shown_path(path: &Path) -> String {
    printable(&path.display().to_string(), 300)
}

/// Any text from a parser or a file, made safe for the terminal.
pub fn shown(text: &str) -> String {
    printable(text, MESSAGE)
}

/// The file's text, or why it is not a text file (without quoting it).
pub fn text_of<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, String> {
    let binary = || {
        format!(
            "{}: is not a text file (it holds binary data); expected TOML or JSON",
            shown_path(path)
        )
    };
    if bytes.contains(&0) {
        return Err(binary());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "{}: is not UTF-8 text (the first bad byte is at offset {}); save it as UTF-8",
            shown_path(path),
            e.valid_up_to()
        )
    })?;
    Ok(text)
}

/// A TOML error with its line and column, the parser's message and an escaped
/// excerpt of the line, instead of the parser's own rendering of the raw line.
pub fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> String {
    let mut out = format!("{}: ", shown_path(path));
    if let Some(span) = e.span() {
        let start = span.start.min(text.len());
        let start = (0..=start)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = 1 + text[..start].matches('\n').count();
        let column = 1 + text[line_start..start].chars().count();
        out.push_str(&format!(
            "line {line}, column {column}: {} (the line reads: {})",
            shown(e.message().trim()),
            printable(&text[line_start..line_end], EXCERPT)
        ));
    } else {
        out.push_str(&shown(e.message().trim()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_non_utf8_files_are_named_not_quoted() {
        let path = Path::new("tmbridge.toml");
        let e = text_of(path, b"\x7fELF\x02\x01\x00\x00\x1b[2J").unwrap_err();
        assert!(e.contains("binary") && !e.contains('\u{1b}'), "{e}");
        let e = text_of(path, b"[rally]\nurl = \"\xff\xfe\"").unwrap_err();
        assert!(e.contains("offset 15"), "{e}");
    }

    #[test]
    fn toml_errors_quote_an_escaped_short_excerpt() {
        let text = format!("[rally]\nurl = \x1b[31m{}\n", "x".repeat(500));
        let e = toml::from_str::<toml::Table>(&text).unwrap_err();
        let shown = toml_error(Path::new("c.toml"), &text, &e);
        assert!(shown.starts_with("c.toml: line 2, column "), "{shown}");
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert!(shown.contains("\\u{1b}[31m"), "{shown}");
        assert!(shown.chars().count() < 700, "{}", shown.chars().count());
    }
}
