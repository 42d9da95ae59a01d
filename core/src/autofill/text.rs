//! Text as it goes into a Rally field: rendered pieces (plain text and links),
//! encoded for the field (HTML for rich text, one plain line for STRING fields),
//! and cut to the field's length with a visible marker.

use serde::{Deserialize, Serialize};

/// A piece of rendered text: plain text, or a web address that becomes a link in
/// rich text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Text(String),
    Link(String),
}

impl Seg {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Seg::Text(t) | Seg::Link(t) => t,
        }
    }
}

pub(crate) fn is_blank(segs: &[Seg]) -> bool {
    segs.iter().all(|s| s.as_str().trim().is_empty())
}

pub(crate) fn plain(segs: &[Seg]) -> String {
    segs.iter().map(Seg::as_str).collect()
}

/// Bytes of text in the pieces.
pub(crate) fn text_len(segs: &[Seg]) -> usize {
    segs.iter().map(|s| s.as_str().len()).sum()
}

/// Cuts the pieces to at most `max` bytes of text, on a character boundary; a link is
/// dropped whole rather than cut. True when something was cut.
pub(crate) fn cap(segs: &mut Vec<Seg>, max: usize) -> bool {
    let mut used = 0;
    for i in 0..segs.len() {
        let len = segs[i].as_str().len();
        if used + len <= max {
            used += len;
            continue;
        }
        let keep = match &mut segs[i] {
            Seg::Text(t) => {
                let mut at = max - used;
                while !t.is_char_boundary(at) {
                    at -= 1;
                }
                t.truncate(at);
                !t.is_empty()
            }
            Seg::Link(_) => false,
        };
        segs.truncate(if keep { i + 1 } else { i });
        return true;
    }
    false
}

/// How a value is written into its field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum TextFormat {
    /// Plain text, line breaks kept.
    #[default]
    Plain,
    /// Plain text on one line: line breaks become spaces (Rally STRING fields).
    SingleLine,
    /// HTML for Rally's rich-text fields: text escaped, line breaks as `<br />`,
    /// web addresses as links.
    Html,
}

/// Encode into units that must not be split by truncation (an entity, a `<br />`,
/// a whole link).
pub(crate) fn encode(segs: &[Seg], format: TextFormat) -> Vec<String> {
    let mut atoms = Vec::new();
    for seg in segs {
        match (seg, format) {
            (Seg::Link(url), TextFormat::Html) if is_safe_url(url) => {
                let e = escape_html(url.trim());
                atoms.push(format!("<a href=\"{e}\">{e}</a>"));
            }
            (seg, TextFormat::Html) => {
                let text = seg.as_str();
                let mut chars = text.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '\r' => {
                            if chars.peek() != Some(&'\n') {
                                atoms.push("<br />".to_string());
                            }
                        }
                        '\n' => atoms.push("<br />".to_string()),
                        // spaces at a line start or after a space would collapse in HTML
                        ' ' | '\t' => {
                            let keep = matches!(
                                atoms.last().map(String::as_str),
                                Some("<br />" | " " | "&nbsp;")
                            );
                            atoms.push(if keep { "&nbsp;" } else { " " }.to_string());
                        }
                        c if c.is_control() => {}
                        c => atoms.push(escape_char(c)),
                    }
                }
            }
            (seg, TextFormat::SingleLine) => {
                for c in seg.as_str().chars() {
                    if c == '\n' || c == '\r' || c == '\t' {
                        // one space for a run of line breaks
                        if atoms.last().map(String::as_str) != Some(" ") {
                            atoms.push(" ".to_string());
                        }
                    } else if !c.is_control() {
                        atoms.push(c.to_string());
                    }
                }
            }
            (seg, TextFormat::Plain) => {
                let mut chars = seg.as_str().chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        // \r\n and a lone \r are both one line break
                        '\r' => {
                            if chars.peek() != Some(&'\n') {
                                atoms.push("\n".to_string());
                            }
                        }
                        '\n' | '\t' => atoms.push(c.to_string()),
                        c if c.is_control() => {}
                        c => atoms.push(c.to_string()),
                    }
                }
            }
        }
    }
    atoms
}

/// Only web addresses become links; anything else (`javascript:`...) stays text.
pub(crate) fn is_safe_url(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    u.starts_with("https://") || u.starts_with("http://") || u.starts_with("mailto:")
}

fn escape_char(c: char) -> String {
    match c {
        '&' => "&amp;".to_string(),
        '<' => "&lt;".to_string(),
        '>' => "&gt;".to_string(),
        '"' => "&quot;".to_string(),
        '\'' => "&#39;".to_string(),
        c => c.to_string(),
    }
}

pub(crate) fn escape_html(text: &str) -> String {
    text.chars().map(escape_char).collect()
}

/// The result of fitting atoms into a length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fitted {
    pub text: String,
    pub truncated: bool,
    /// Length before cutting, in characters.
    pub original_chars: u64,
}

/// Join atoms, cutting so that the text plus `reserve` characters fits `max`
/// characters; a cut text ends with `marker` (already encoded for the field).
pub(crate) fn fit(atoms: &[String], max: Option<u64>, reserve: u64, marker: &str) -> Fitted {
    let lengths: Vec<u64> = atoms.iter().map(|a| a.chars().count() as u64).collect();
    let total: u64 = lengths.iter().sum();
    let joined = || atoms.concat();
    let Some(max) = max else {
        return Fitted {
            text: joined(),
            truncated: false,
            original_chars: total,
        };
    };
    let room = max.saturating_sub(reserve);
    if total <= room {
        return Fitted {
            text: joined(),
            truncated: false,
            original_chars: total,
        };
    }
    let marker_len = marker.chars().count() as u64;
    let (budget, marker) = if marker_len <= room {
        (room - marker_len, marker)
    } else {
        (room, "")
    };
    let mut text = String::new();
    let mut used = 0u64;
    for (atom, len) in atoms.iter().zip(&lengths) {
        if used + len > budget {
            break;
        }
        text.push_str(atom);
        used += len;
    }
    // do not leave the cut on a space or half a line break
    while text.ends_with(' ') {
        text.pop();
    }
    text.push_str(marker);
    Fitted {
        text,
        truncated: true,
        original_chars: total,
    }
}

/// Rich text from the sources (qTest stores HTML) as plain text: tags dropped,
/// block ends and `<br>` as line breaks, entities decoded, spaces collapsed.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    let mut skip_until: Option<&'static str> = None;
    // Once no `>` follows, none will: remember it rather than search the rest of the
    // text again at every `<` (which made text full of `<` quadratic).
    let mut no_more_gt = false;
    while let Some(c) = rest.chars().next() {
        if c == '<' && !no_more_gt {
            let after = &rest[1..];
            let starts_tag = after
                .chars()
                .next()
                .is_some_and(|n| n.is_ascii_alphabetic() || n == '/' || n == '!');
            let end = if starts_tag { after.find('>') } else { None };
            no_more_gt = starts_tag && end.is_none();
            if let Some(end) = end {
                let tag = &after[..end];
                rest = &after[end + 1..];
                let name: String = tag
                    .trim_start_matches('/')
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
                    .to_ascii_lowercase();
                let closing = tag.starts_with('/');
                if let Some(wanted) = skip_until {
                    if closing && name == wanted {
                        skip_until = None;
                    }
                    continue;
                }
                match name.as_str() {
                    "script" | "style" if !closing => {
                        skip_until = if name == "script" {
                            Some("script")
                        } else {
                            Some("style")
                        }
                    }
                    "br" => out.push('\n'),
                    "li" if !closing => {
                        block_break(&mut out);
                        out.push_str("- ");
                    }
                    "p" | "div" | "li" | "tr" | "ul" | "ol" | "table" | "h1" | "h2" | "h3"
                    | "h4" | "h5" | "h6" | "pre" | "blockquote" => block_break(&mut out),
                    _ => {}
                }
                continue;
            }
        }
        rest = &rest[c.len_utf8()..];
        if skip_until.is_some() {
            continue;
        }
        if c == '&'
            && let Some((decoded, used)) = entity(rest)
        {
            out.push(decoded);
            rest = &rest[used..];
            continue;
        }
        out.push(if c == '\n' || c == '\r' || c == '\t' {
            ' '
        } else {
            c
        });
    }
    tidy_lines(&out)
}

/// A line break at the end of a block, unless the text already ends a line
/// (`</p><p>` is one break, not two).
fn block_break(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// `rest` starts just after `&`: the decoded character and the bytes used.
fn entity(rest: &str) -> Option<(char, usize)> {
    // Only the next 11 bytes can hold `name;`: never search further.
    let window = &rest.as_bytes()[..rest.len().min(11)];
    let end = memchr::memchr(b';', window)?;
    let name = &rest[..end];
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        _ => {
            let code =
                if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    u32::from_str_radix(hex, 16).ok()?
                } else {
                    name.strip_prefix('#')?.parse::<u32>().ok()?
                };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}

/// Collapse spaces, trim each line, keep at most one empty line in a row.
fn tidy_lines(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.split('\n') {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(s: &str) -> Vec<Seg> {
        vec![Seg::Text(s.to_string())]
    }

    #[test]
    fn html_escapes_text_and_links_only_web_addresses() {
        let segs = vec![
            Seg::Text("a < b & \"c\"\nnext".into()),
            Seg::Link("https://q.example/run?a=1&b=2".into()),
            Seg::Link("javascript:alert(1)".into()),
        ];
        let html = encode(&segs, TextFormat::Html).concat();
        assert_eq!(
            html,
            "a &lt; b &amp; &quot;c&quot;<br />next\
             <a href=\"https://q.example/run?a=1&amp;b=2\">https://q.example/run?a=1&amp;b=2</a>\
             javascript:alert(1)"
        );
    }

    #[test]
    fn single_line_joins_lines_and_plain_keeps_them() {
        assert_eq!(
            encode(&text("one\r\n\ntwo\tthree"), TextFormat::SingleLine).concat(),
            "one two three"
        );
        assert_eq!(
            encode(&text("one\r\ntwo\u{0}"), TextFormat::Plain).concat(),
            "one\ntwo"
        );
        assert_eq!(
            encode(&[Seg::Link("https://x".into())], TextFormat::Plain).concat(),
            "https://x"
        );
    }

    #[test]
    fn fit_cuts_with_marker_on_atom_boundaries() {
        let atoms = encode(&text("a&b&c&d"), TextFormat::Html);
        // "a&amp;b&amp;c&amp;d" is 19 chars
        let f = fit(&atoms, Some(12), 0, "…");
        assert!(f.truncated);
        assert_eq!(f.original_chars, 19);
        assert_eq!(f.text, "a&amp;b…", "never half an entity");
        assert!(f.text.chars().count() <= 12);
        let f = fit(&atoms, Some(19), 0, "…");
        assert!(!f.truncated);
        let f = fit(&atoms, Some(30), 15, "[cut]");
        assert_eq!(f.text, "a&amp;b[cut]", "the reserve is kept free");
        let f = fit(&atoms, Some(2), 0, "[truncated]");
        assert_eq!(f.text, "a", "a marker longer than the room is left out");
    }

    #[test]
    fn html_to_text_reads_qtest_rich_text() {
        assert_eq!(
            html_to_text(
                "<p>Open <b>login</b>&nbsp;page</p><p>Type &lt;user&gt; &amp; go</p><br/>"
            ),
            "Open login page\nType <user> & go"
        );
        assert_eq!(
            html_to_text("<ul><li>one</li><li>two</li></ul>"),
            "- one\n- two"
        );
        assert_eq!(
            html_to_text("a < b and c>d &bogus; &#65;&#x42;"),
            "a < b and c>d &bogus; AB"
        );
        assert_eq!(html_to_text("x<script>alert(1)</script>y<!-- c -->"), "xy");
        assert_eq!(html_to_text("<p>unclosed"), "unclosed");
        assert_eq!(html_to_text("broken <tag"), "broken <tag");
    }

    proptest! {
        #[test]
        fn fit_never_exceeds_max_and_keeps_a_prefix(s in "\\PC{0,80}", max in 0u64..60, reserve in 0u64..20) {
            let atoms = encode(&text(&s), TextFormat::Html);
            let f = fit(&atoms, Some(max), reserve, "… [truncated]");
            prop_assert!(f.text.chars().count() as u64 <= max.saturating_sub(reserve));
            let full = atoms.concat();
            if !f.truncated {
                prop_assert_eq!(&f.text, &full);
            } else {
                let kept = f.text.trim_end_matches("… [truncated]");
                prop_assert!(full.starts_with(kept));
            }
        }

        #[test]
        fn html_to_text_never_panics(s in "\\PC{0,120}") {
            let _ = html_to_text(&s);
        }
    }
}
