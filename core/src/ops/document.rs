//! A document inside an op's input: the XML or JSON a host read, given as text,
//! as raw bytes (bindings with a byte type) or as `{"base64": "..."}` (plain JSON).

use base64::Engine as _;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// The bytes of a document, however they arrived.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document(pub Vec<u8>);

/// Text, or `{"base64": ...}` in plain JSON (bindings also pass bytes).
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Document {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DocumentInput".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A document: text, bytes, or base64 in plain JSON.",
            "anyOf": [
                {"type": "string"},
                {"type": "object", "properties": {"base64": {"type": "string"}}, "required": ["base64"], "additionalProperties": false}
            ]
        })
    }
}

impl Document {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Document, D::Error> {
        deserializer.deserialize_any(DocumentVisitor)
    }
}

/// Written back as text when it is UTF-8 (the common case), else as base64.
impl Serialize for Document {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => serializer.serialize_str(text),
            Err(_) => {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(Some(1))?;
                let encoded = base64::engine::general_purpose::STANDARD.encode(&self.0);
                map.serialize_entry("base64", &encoded)?;
                map.end()
            }
        }
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a document: a string, bytes, or {\"base64\": \"...\"}")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Document, E> {
        Ok(Document(v.as_bytes().to_vec()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Document, E> {
        Ok(Document(v.into_bytes()))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Document, E> {
        Ok(Document(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Document, E> {
        Ok(Document(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut encoded: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != "base64" {
                return Err(de::Error::unknown_field(&key, &["base64"]));
            }
            if encoded.is_some() {
                return Err(de::Error::duplicate_field("base64"));
            }
            encoded = Some(map.next_value()?);
        }
        let encoded = encoded.ok_or_else(|| de::Error::missing_field("base64"))?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_bytes())
            .map(Document)
            .map_err(|e| de::Error::custom(format!("`base64` is not valid base64: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_and_base64() {
        let d: Document = crate::json::from_str("\"<a/>\"").unwrap();
        assert_eq!(d.bytes(), b"<a/>");
        let d: Document = crate::json::from_str(r#"{"base64":"PGEvPuk="}"#).unwrap();
        assert_eq!(d.bytes(), b"<a/>\xe9");
    }

    #[test]
    fn refuses_other_shapes() {
        for bad in ["1", "[]", r#"{"b64":"x"}"#, r#"{"base64":"!!"}"#, "{}"] {
            assert!(crate::json::from_str::<Document>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn writes_utf8_as_text_and_the_rest_as_base64() {
        let text = serde_json::to_string(&Document(b"<a/>".to_vec())).unwrap();
        assert_eq!(text, "\"<a/>\"");
        let bin = serde_json::to_string(&Document(vec![0xe9])).unwrap();
        assert_eq!(bin, r#"{"base64":"6Q=="}"#);
    }
}
