//! The schema service pyral reads once at connect: `GET /slm/schema/v2.0/workspace/<oid>`
//! (or `/project/<oid>`, optionally followed by a cache hash segment) answers a
//! `QueryResult` whose `Results` are every TypeDefinition of the workspace, each with
//! its `Attributes` inline (full AttributeDefinitions) and each attribute's
//! `AllowedValues` inline too (`StringValue`, `LocalizedStringValue`; an empty list for
//! an unconstrained attribute), which is what pyral's `getAllowedValues` reads. The
//! WSAPI's own `AttributeDefinition` shows `AllowedValues` as a collection reference.

use super::render::{Fetch, Render, envelope};
use super::store::{Account, Store};
use serde_json::{Map, Value, json};

pub fn answer(store: &Store, base: &str, account: &Account, rest: &str) -> crate::server::Reply {
    let not_found = |msg: String| {
        crate::server::Reply::json(404, &envelope("QueryResult", &[msg], &[], Map::new()))
    };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let (kind, oid) = match segments.as_slice() {
        [kind, oid] | [kind, oid, _] => (kind.to_ascii_lowercase(), oid.parse::<u64>().ok()),
        _ => return not_found(format!("Not Found: schema {rest}")),
    };
    let Some(scope) = oid.and_then(|o| store.get(o)).filter(|o| o.ty.key == kind) else {
        return not_found(format!("Not Found: schema {rest}"));
    };
    if !store.visible(account, scope) {
        return crate::server::Reply::json(
            403,
            &envelope(
                "QueryResult",
                &[format!("Not authorized to access {}", scope.reference())],
                &[],
                Map::new(),
            ),
        );
    }
    let workspace = match kind.as_str() {
        "workspace" => scope.reference(),
        _ => scope.text("Workspace").unwrap_or_default().to_string(),
    };
    let render = Render { store, base };
    let results: Vec<Value> = store
        .objects
        .values()
        .filter(|o| o.ty.key == "typedefinition" && o.text("Workspace") == Some(&workspace))
        .map(|td| {
            let mut v = render.object(td, &Fetch::All);
            let attributes: Vec<Value> = store
                .collection(td, "Attributes")
                .into_iter()
                .filter_map(|a| store.get(a))
                .map(|a| {
                    let mut av = render.object(a, &Fetch::All);
                    let values: Vec<Value> = store
                        .collection(a, "AllowedValues")
                        .into_iter()
                        .filter_map(|v| store.get(v))
                        .map(|v| render.object(v, &Fetch::All))
                        .collect();
                    av["AllowedValues"] = Value::Array(values);
                    av
                })
                .collect();
            v["Attributes"] = Value::Array(attributes);
            v
        })
        .collect();
    let mut extra = Map::new();
    extra.insert("TotalResultCount".into(), json!(results.len()));
    extra.insert("StartIndex".into(), json!(1));
    extra.insert("PageSize".into(), json!(results.len()));
    extra.insert("Results".into(), Value::Array(results));
    crate::server::Reply::json(200, &envelope("QueryResult", &[], &[], extra))
}
