//! The key a host stores a run's progress under, so that the same work given again
//! (a rerun of the same script) resumes instead of starting over. Computed here so
//! that every runtime finds the same key for the same work, and a state file
//! written by one binding is read by another.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// SHA-256 (hex) of `{"kind": ..., "work": ...}` written canonically: object keys
/// sorted, no spaces, strings escaped as serde_json escapes them.
pub fn work_key(kind: &str, work: &Value) -> String {
    let mut text = String::from("{\"kind\":");
    text.push_str(&Value::String(kind.to_string()).to_string());
    text.push_str(",\"work\":");
    canonical(work, &mut text);
    text.push('}');
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_matter_and_content_does() {
        let a = work_key("rally.publish", &json!({"b": 1, "a": [true, null, "é"]}));
        let b = work_key("rally.publish", &json!({"a": [true, null, "é"], "b": 1}));
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(
            a,
            work_key("rally.defect", &json!({"a": [true, null, "é"], "b": 1}))
        );
        assert_ne!(
            a,
            work_key("rally.publish", &json!({"a": [true, null, "e"], "b": 1}))
        );
    }

    #[test]
    fn the_canonical_text_is_what_the_key_hashes() {
        // sha256 of {"kind":"k","work":{"a":1,"b":"x"}}, computed independently.
        let text = r#"{"kind":"k","work":{"a":1,"b":"x"}}"#;
        let expected: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(work_key("k", &json!({"b": "x", "a": 1})), expected);
    }
}
