//! Percent-encoding for paths and query strings.

/// Decodes `%XX` escapes (and `+` as a space in query strings). Invalid escapes
/// stay as they are; invalid UTF-8 is replaced.
pub fn decode_component(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `a=1&b=x%20y` → `[("a","1"),("b","x y")]`.
pub fn split_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k, true), decode_component(v, true))
        })
        .collect()
}

/// Encodes everything but unreserved characters.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_encodes() {
        assert_eq!(decode_component("a%20b+c", true), "a b c");
        assert_eq!(decode_component("a%20b+c", false), "a b+c");
        assert_eq!(decode_component("100%", false), "100%");
        assert_eq!(decode_component("%zz%4", false), "%zz%4");
        let q = "(FormattedID = \"TC1\")";
        assert_eq!(decode_component(&encode_component(q), true), q);
        assert_eq!(
            split_query("fetch=true&query=%28Name%20%3D%20x%29&start"),
            vec![
                ("fetch".to_string(), "true".to_string()),
                ("query".to_string(), "(Name = x)".to_string()),
                ("start".to_string(), String::new())
            ]
        );
    }
}
