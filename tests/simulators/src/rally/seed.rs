//! The data every simulator starts with: a subscription, two workspaces (one the
//! user may not use), three projects (one restricted), a user with an API key and a
//! password, the previous and the current sprint, and the type definitions.

use super::Seeded;
use super::store::{Account, Store, format_date};
use super::types::{Kind, TYPES, VERDICTS};
use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn fields(v: Value) -> BTreeMap<String, Value> {
    match v {
        Value::Object(m) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

fn day(offset: i64) -> String {
    let today = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH);
    format_date(today.checked_add((offset * 24).hours()).unwrap_or(today))
}

pub fn seed(store: &mut Store) -> Seeded {
    store.insert(
        "subscription",
        fields(json!({"Name": "Simulated Subscription"})),
    );
    let ws = store.insert(
        "workspace",
        fields(json!({"Name": "Acme Workspace", "State": "Open"})),
    );
    let other_ws = store.insert(
        "workspace",
        fields(json!({"Name": "Other Workspace", "State": "Open"})),
    );
    let ws_ref = format!("/workspace/{ws}");
    let project = store.insert(
        "project",
        fields(json!({"Name": "Web Team", "State": "Open", "Workspace": ws_ref})),
    );
    let project_ref = format!("/project/{project}");
    let child = store.insert(
        "project",
        fields(json!({"Name": "Web Team / Checkout", "State": "Open", "Workspace": ws_ref, "Parent": project_ref})),
    );
    let restricted = store.insert(
        "project",
        fields(json!({"Name": "Finance", "State": "Open", "Workspace": ws_ref})),
    );
    store.insert(
        "project",
        fields(json!({"Name": "Elsewhere", "State": "Open", "Workspace": format!("/workspace/{other_ws}")})),
    );
    let user = store.insert(
        "user",
        fields(json!({
            "UserName": "tester@example.com",
            "EmailAddress": "tester@example.com",
            "DisplayName": "Test Automation",
            "FirstName": "Test",
            "LastName": "Automation",
            "Workspace": ws_ref,
        })),
    );
    let account = Account {
        user_oid: user,
        api_key: "_sim0000000000000000000000000000000000000000".into(),
        username: "tester@example.com".into(),
        password: "s3cret".into(),
        workspaces: vec![ws],
        projects: vec![project, child],
    };
    store.accounts.push(account.clone());
    let previous = store.insert(
        "iteration",
        fields(json!({
            "Name": "Sprint 13", "StartDate": day(-21), "EndDate": day(-7),
            "State": "Accepted", "Project": project_ref, "Workspace": ws_ref,
        })),
    );
    let current = store.insert(
        "iteration",
        fields(json!({
            "Name": "Sprint 14", "StartDate": day(-7), "EndDate": day(7),
            "State": "Committed", "Project": project_ref, "Workspace": ws_ref,
        })),
    );
    seed_type_definitions(store, &ws_ref);
    Seeded {
        api_key: account.api_key,
        username: account.username,
        password: account.password,
        user: format!("/user/{user}"),
        workspace: ws_ref,
        other_workspace: format!("/workspace/{other_ws}"),
        project: project_ref,
        restricted_project: format!("/project/{restricted}"),
        current_iteration: format!("/iteration/{current}"),
        previous_iteration: format!("/iteration/{previous}"),
    }
}

/// Rally's attribute types, as AttributeDefinition.AttributeType says them.
fn attribute_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "STRING",
        Kind::Int => "INTEGER",
        Kind::Decimal => "DECIMAL",
        Kind::Bool => "BOOLEAN",
        Kind::Date => "DATE",
        Kind::Ref(_) => "OBJECT",
        Kind::Collection { .. } => "COLLECTION",
    }
}

/// Splits `LastUpdateDate` into the display name `Last Update Date`.
fn display_name(element: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = element.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let prev_lower = i > 0 && chars[i - 1].is_lowercase();
        if c.is_uppercase() && prev_lower {
            out.push(' ');
        }
        out.push(*c);
    }
    out
}

fn seed_type_definitions(store: &mut Store, ws_ref: &str) {
    for ty in TYPES {
        let td = store.insert(
            "typedefinition",
            fields(json!({
                "Name": display_name(ty.name),
                "ElementName": ty.name,
                "DisplayName": display_name(ty.name),
                "TypePath": ty.name,
                "Creatable": ty.creatable,
                "Queryable": true,
                "Workspace": ws_ref,
            })),
        );
        for (name, kind) in ty.all_fields() {
            let read_only = matches!(
                *name,
                "ObjectID"
                    | "ObjectUUID"
                    | "CreationDate"
                    | "LastUpdateDate"
                    | "VersionId"
                    | "FormattedID"
                    | "LastVerdict"
                    | "LastBuild"
                    | "LastRun"
            ) || matches!(kind, Kind::Collection { .. });
            let ad = store.insert(
                "attributedefinition",
                fields(json!({
                    "Name": display_name(name),
                    "ElementName": name,
                    "AttributeType": attribute_type(*kind),
                    "Custom": false,
                    "Required": ty.required.contains(name),
                    "ReadOnly": read_only,
                    "Hidden": false,
                    "Filterable": true,
                    "Sortable": !matches!(kind, Kind::Collection { .. }),
                    "TypeDefinition": format!("/typedefinition/{td}"),
                    "Workspace": ws_ref,
                })),
            );
            if ty.key == "testcaseresult" && *name == "Verdict" {
                for (i, v) in VERDICTS.iter().enumerate() {
                    store.insert(
                        "allowedattributevalue",
                        fields(json!({
                            "StringValue": v,
                            "ValueIndex": i,
                            "AttributeDefinition": format!("/attributedefinition/{ad}"),
                        })),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_split_words() {
        assert_eq!(display_name("LastUpdateDate"), "Last Update Date");
        assert_eq!(display_name("ObjectID"), "Object ID");
        assert_eq!(display_name("TestCaseResult"), "Test Case Result");
    }
}
