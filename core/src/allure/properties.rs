//! `environment.properties`: Java's properties format (`key=value`, `key: value` or
//! `key value`; `#` and `!` comments; a trailing backslash continues the line;
//! `\t`, `\n`, `\uXXXX` escapes). Entries keep their order; a key given twice keeps
//! its last value, as Java's `Properties` does.

use crate::model::Property;

/// Most entries kept.
const MAX_ENTRIES: usize = 1000;

pub(crate) fn read_properties(text: &str) -> Vec<Property> {
    let mut out: Vec<Property> = Vec::new();
    for line in logical_lines(text) {
        let (key, value) = split_entry(&line);
        if key.is_empty() {
            continue;
        }
        if let Some(existing) = out.iter_mut().find(|p| p.name == key) {
            existing.value = value;
        } else if out.len() < MAX_ENTRIES {
            out.push(Property { name: key, value });
        }
    }
    out
}

/// Lines joined across continuations, comments and blank lines left out; the
/// escapes are still in the text.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for raw in text.split(['\n', '\r']) {
        let line = raw.trim_start_matches([' ', '\t', '\u{c}']);
        let continuing = current.is_some();
        if !continuing && (line.is_empty() || line.starts_with('#') || line.starts_with('!')) {
            continue;
        }
        let backslashes = line.bytes().rev().take_while(|&b| b == b'\\').count();
        let (body, more) = if backslashes % 2 == 1 {
            (&line[..line.len() - 1], true)
        } else {
            (line, false)
        };
        let mut joined = current.take().unwrap_or_default();
        joined.push_str(body);
        if more {
            current = Some(joined);
        } else {
            out.push(joined);
        }
    }
    if let Some(last) = current {
        out.push(last);
    }
    out
}

/// The key and the value of one logical line, unescaped.
fn split_entry(line: &str) -> (String, String) {
    let mut key = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => key.push(unescape(&mut chars)),
            '=' | ':' => break,
            ' ' | '\t' | '\u{c}' => {
                // Blanks end the key; one `=` or `:` after them is still the separator.
                while chars
                    .peek()
                    .is_some_and(|c| matches!(c, ' ' | '\t' | '\u{c}'))
                {
                    chars.next();
                }
                if chars.peek().is_some_and(|c| matches!(c, '=' | ':')) {
                    chars.next();
                }
                break;
            }
            _ => key.push(c),
        }
    }
    while chars
        .peek()
        .is_some_and(|c| matches!(c, ' ' | '\t' | '\u{c}'))
    {
        chars.next();
    }
    let mut value = String::new();
    while let Some(c) = chars.next() {
        if c == '\\' {
            value.push(unescape(&mut chars));
        } else {
            value.push(c);
        }
    }
    (key, value)
}

fn unescape(chars: &mut std::iter::Peekable<std::str::Chars>) -> char {
    match chars.next() {
        Some('t') => '\t',
        Some('n') => '\n',
        Some('r') => '\r',
        Some('f') => '\u{c}',
        Some('u') => {
            let hex: String = chars.by_ref().take(4).collect();
            u32::from_str_radix(&hex, 16)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}')
        }
        Some(other) => other,
        None => '\\',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        read_properties(text)
            .into_iter()
            .map(|p| (p.name, p.value))
            .collect()
    }

    #[test]
    fn reads_the_forms_java_accepts() {
        let text = "# comment\n! other\nBrowser=Chrome\nStand : Production \nos linux\n\
                    path=C:\\\\tmp\\n\nlong = one, \\\n    two\nname=caf\\u00e9\n\nBrowser=Firefox\n";
        assert_eq!(
            pairs(text),
            vec![
                ("Browser".into(), "Firefox".into()),
                ("Stand".into(), "Production ".into()),
                ("os".into(), "linux".into()),
                ("path".into(), "C:\\tmp\n".into()),
                ("long".into(), "one, two".into()),
                ("name".into(), "café".into()),
            ]
        );
    }

    #[test]
    fn odd_input_never_panics() {
        for text in [
            "\\",
            "=\\u12",
            "a\\",
            "\\u",
            "k=\\uZZZZ",
            "a b = c",
            "\r\n\r\n",
        ] {
            let _ = read_properties(text);
        }
        assert_eq!(pairs("k=\\uZZZZ"), vec![("k".into(), "\u{fffd}".into())]);
    }
}
