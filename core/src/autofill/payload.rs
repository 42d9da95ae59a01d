//! The Rally create payload (`{"Defect": {...}}`) built from the filled form.

use super::schema::FieldKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One attribute value in a Rally create payload. Serialised bare: a string, a
/// number, a boolean, a ref string, or a web link object. Decimals stay strings
/// (WSAPI accepts them, and the output never holds a float).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillPayloadValue")
)]
pub enum PayloadValue {
    Bool(bool),
    Integer(i64),
    Text(String),
    WebLink {
        #[serde(rename = "LinkID")]
        link_id: String,
        #[serde(rename = "DisplayString")]
        display_string: String,
    },
}

/// `{"Defect": {"Name": ..., "Project": "/project/123", ...}}`: the body of
/// `POST /slm/webservice/v2.0/defect/create`.
pub type Payload = BTreeMap<String, BTreeMap<String, PayloadValue>>;

/// A Rally ref in the short form WSAPI v2.0 accepts in payloads: `/project/123`.
/// Full URLs of any WSAPI version (`https://rally1.rallydev.com/slm/webservice/1.43/project/123.js`)
/// are shortened; anything else is kept as written.
pub fn short_ref(reference: &str) -> String {
    let r = reference.trim();
    let r = r.split(['?', '#']).next().unwrap_or(r);
    let r = r.strip_suffix(".js").unwrap_or(r);
    if let Some(at) = r.find("/webservice/") {
        let after = &r[at + "/webservice/".len()..];
        if let Some(slash) = after.find('/') {
            return after[slash..].to_string();
        }
    }
    r.to_string()
}

/// Whether a value is written as a Rally ref (`/type/123` or a WSAPI URL).
pub fn looks_like_ref(value: &str) -> bool {
    let v = value.trim();
    let short = short_ref(v);
    let mut parts = short.trim_start_matches('/').split('/');
    let kind = parts.next().unwrap_or("");
    let id = parts.next().unwrap_or("");
    (v.starts_with('/') || v.contains("/webservice/"))
        && !kind.is_empty()
        && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !id.is_empty()
}

/// The payload value of a field's final form value (already checked).
pub(crate) fn payload_value(
    kind: FieldKind,
    value: &str,
    reference: Option<&str>,
    label: &str,
) -> PayloadValue {
    match kind {
        FieldKind::Object => PayloadValue::Text(short_ref(reference.unwrap_or(value))),
        FieldKind::Boolean => PayloadValue::Bool(value == "true"),
        FieldKind::Integer => match value.parse::<i64>() {
            Ok(n) => PayloadValue::Integer(n),
            Err(_) => PayloadValue::Text(value.to_string()),
        },
        FieldKind::WebLink => PayloadValue::WebLink {
            link_id: value.to_string(),
            display_string: label.to_string(),
        },
        _ => PayloadValue::Text(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ref_of_every_wsapi_form() {
        assert_eq!(
            short_ref("https://rally1.rallydev.com/slm/webservice/1.43/project/3999367809.js"),
            "/project/3999367809"
        );
        assert_eq!(
            short_ref(
                "https://rally1.rallydev.com/slm/webservice/v2.0/hierarchicalrequirement/12?fetch=true"
            ),
            "/hierarchicalrequirement/12"
        );
        assert_eq!(short_ref(" /testcase/5 "), "/testcase/5");
        assert_eq!(short_ref("US123"), "US123");
    }

    #[test]
    fn refs_are_recognised() {
        assert!(looks_like_ref("/testcase/5"));
        assert!(looks_like_ref(
            "https://rally1.rallydev.com/slm/webservice/v2.0/testcase/5"
        ));
        assert!(!looks_like_ref("TC5"));
        assert!(!looks_like_ref("/"));
        assert!(!looks_like_ref("/testcase"));
    }

    #[test]
    fn values_serialise_bare() {
        let mut attrs = BTreeMap::new();
        attrs.insert(
            "Blocked".to_string(),
            payload_value(FieldKind::Boolean, "true", None, "Blocked"),
        );
        attrs.insert(
            "Rank".to_string(),
            payload_value(FieldKind::Integer, "12", None, "Rank"),
        );
        attrs.insert(
            "Project".to_string(),
            payload_value(
                FieldKind::Object,
                "A-Team",
                Some("https://r/slm/webservice/1.43/project/1.js"),
                "Project",
            ),
        );
        attrs.insert(
            "c_Link".to_string(),
            payload_value(FieldKind::WebLink, "https://ci/1", None, "Build 1"),
        );
        let mut payload: Payload = BTreeMap::new();
        payload.insert("Defect".to_string(), attrs);
        assert_eq!(
            serde_json::to_string(&payload).unwrap(),
            r#"{"Defect":{"Blocked":true,"Project":"/project/1","Rank":12,"c_Link":{"LinkID":"https://ci/1","DisplayString":"Build 1"}}}"#
        );
    }
}
