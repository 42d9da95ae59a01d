//! How objects look on the wire in WSAPI v2.0: full `_ref` URLs, reference stubs,
//! collections as `{_ref, _type, Count}` summaries, envelopes with `Errors` and
//! `Warnings`, and `fetch` selecting attributes.

use super::store::{Obj, Store};
use super::types::{Kind, type_def};
use serde_json::{Map, Value, json};

/// Which attributes to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    /// Only the reference (a query without `fetch`, or `fetch=false`).
    RefOnly,
    /// Every attribute (`fetch=true`, or a read by ref without `fetch`).
    All,
    /// These attributes (matched case-insensitively).
    Fields(Vec<String>),
}

impl Fetch {
    pub fn parse(param: Option<&str>, default: Fetch) -> Fetch {
        match param.map(str::trim) {
            None | Some("") => default,
            Some(p) if p.eq_ignore_ascii_case("true") => Fetch::All,
            Some(p) if p.eq_ignore_ascii_case("false") => Fetch::RefOnly,
            Some(p) => Fetch::Fields(
                // pyral sends `fetch="ObjectID,Name"`: quotes are not part of the names.
                p.trim_matches('"')
                    .split(',')
                    .map(|f| {
                        f.trim()
                            .trim_matches('"')
                            .split(':')
                            .next()
                            .unwrap_or("")
                            .to_string()
                    })
                    .filter(|f| !f.is_empty())
                    .collect(),
            ),
        }
    }

    fn wants(&self, field: &str) -> bool {
        match self {
            Fetch::RefOnly => false,
            Fetch::All => true,
            Fetch::Fields(list) => list.iter().any(|f| f.eq_ignore_ascii_case(field)),
        }
    }
}

pub struct Render<'a> {
    pub store: &'a Store,
    /// `http://127.0.0.1:PORT/slm/webservice/v2.0`
    pub base: &'a str,
}

fn version(map: &mut Map<String, Value>) {
    map.insert("_rallyAPIMajor".into(), json!("2"));
    map.insert("_rallyAPIMinor".into(), json!("0"));
}

impl Render<'_> {
    pub fn full_ref(&self, reference: &str) -> String {
        format!("{}{}", self.base, reference)
    }

    /// `{_ref, _refObjectUUID, _refObjectName, _type}` of an object.
    pub fn stub(&self, obj: &Obj) -> Value {
        let mut m = Map::new();
        version(&mut m);
        m.insert("_ref".into(), json!(self.full_ref(&obj.reference())));
        m.insert(
            "_refObjectUUID".into(),
            obj.fields.get("ObjectUUID").cloned().unwrap_or(Value::Null),
        );
        m.insert(
            "_objectVersion".into(),
            obj.fields.get("VersionId").cloned().unwrap_or(json!("1")),
        );
        m.insert("_refObjectName".into(), json!(obj.display_name()));
        // Rally always shows an allowed value's text, even without `fetch`; pyral's
        // hydrator reads it from every AllowedValues item.
        if obj.ty.key == "allowedattributevalue" {
            m.insert(
                "StringValue".into(),
                obj.fields
                    .get("StringValue")
                    .cloned()
                    .unwrap_or(Value::Null),
            );
        }
        m.insert("_type".into(), json!(obj.ty.name));
        Value::Object(m)
    }

    pub fn object(&self, obj: &Obj, fetch: &Fetch) -> Value {
        let Value::Object(mut m) = self.stub(obj) else {
            return Value::Null;
        };
        let ty = m.remove("_type");
        for (name, kind) in obj.ty.all_fields() {
            if !fetch.wants(name) {
                continue;
            }
            let value = match kind {
                Kind::Ref(_) => match obj.fields.get(*name).and_then(|v| self.store.deref(v)) {
                    Some(target) => self.stub(target),
                    None => Value::Null,
                },
                Kind::Collection { member, .. } => {
                    let count = self.store.collection(obj, name).len();
                    let member_name = type_def(member).map(|t| t.name).unwrap_or(member);
                    let mut c = Map::new();
                    version(&mut c);
                    c.insert(
                        "_ref".into(),
                        json!(format!("{}/{name}", self.full_ref(&obj.reference()))),
                    );
                    c.insert("_type".into(), json!(member_name));
                    c.insert("Count".into(), json!(count));
                    Value::Object(c)
                }
                _ => obj.fields.get(*name).cloned().unwrap_or(Value::Null),
            };
            m.insert(name.to_string(), value);
        }
        if let Some(t) = ty {
            m.insert("_type".into(), t);
        }
        Value::Object(m)
    }
}

/// `{"<Kind>": {_rallyAPIMajor, _rallyAPIMinor, Errors, Warnings, ...extra}}`
pub fn envelope(
    kind: &str,
    errors: &[String],
    warnings: &[String],
    extra: Map<String, Value>,
) -> Value {
    let mut m = Map::new();
    version(&mut m);
    m.insert("Errors".into(), json!(errors));
    m.insert("Warnings".into(), json!(warnings));
    m.extend(extra);
    let mut outer = Map::new();
    outer.insert(kind.into(), Value::Object(m));
    Value::Object(outer)
}
