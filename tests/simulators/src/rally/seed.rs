//! The data every simulator starts with: a subscription, two workspaces (one the
//! user may not use), three projects (one restricted), a user with an API key and a
//! password, the previous and the current sprint, and the type definitions.

use super::Seeded;
use super::store::{Account, Store, format_date};
use super::types::{Kind, TYPES, allowed_values, max_length};
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
    let subscription = store.insert(
        "subscription",
        fields(json!({"Name": "Simulated Subscription", "SubscriptionID": 100, "State": "Open"})),
    );
    let sub_ref = format!("/subscription/{subscription}");
    let ws = store.insert(
        "workspace",
        fields(json!({"Name": "Acme Workspace", "State": "Open", "Subscription": sub_ref})),
    );
    let other_ws = store.insert(
        "workspace",
        fields(json!({"Name": "Other Workspace", "State": "Open", "Subscription": sub_ref})),
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
    let profile = store.insert(
        "userprofile",
        fields(json!({
            "DefaultWorkspace": ws_ref,
            "DefaultProject": project_ref,
            "TimeZone": "UTC",
            "DateFormat": "yyyy-MM-dd",
            "DateTimeFormat": "yyyy-MM-dd HH:mm:ss",
            "EmailNotificationEnabled": false,
            "SessionTimeoutSeconds": 3600,
        })),
    );
    let user = store.insert(
        "user",
        fields(json!({
            "UserProfile": format!("/userprofile/{profile}"),
            "Disabled": false,
            "SubscriptionAdmin": false,
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
fn attribute_type(type_key: &str, name: &str, kind: Kind) -> &'static str {
    match kind {
        Kind::Text => match name {
            "State" | "ScheduleState" if allowed_values(type_key, name).is_some() => "STATE",
            "Priority" | "Severity" if allowed_values(type_key, name).is_some() => "RATING",
            _ if max_length(type_key, name, kind) == Some(32_768) => "TEXT",
            _ => "STRING",
        },
        Kind::Int => "INTEGER",
        Kind::Decimal => "DECIMAL",
        Kind::Bool => "BOOLEAN",
        Kind::Date => "DATE",
        Kind::Ref(_) => "OBJECT",
        Kind::Collection { .. } => "COLLECTION",
    }
}

/// `SchemaType`: the XML schema type of a scalar, the type name of a reference.
fn schema_type(kind: Kind) -> String {
    match kind {
        Kind::Text => "xsd:string".into(),
        Kind::Int => "xsd:long".into(),
        Kind::Decimal => "xsd:double".into(),
        Kind::Bool => "xsd:boolean".into(),
        Kind::Date => "xsd:dateTime".into(),
        Kind::Ref(targets) => type_name(targets.first().copied().unwrap_or("")),
        Kind::Collection { member, .. } => format!("{}Collection", type_name(member)),
    }
}

fn type_name(key: &str) -> String {
    super::types::type_def(key)
        .map(|t| t.name.to_string())
        .unwrap_or_default()
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

/// The abstract types the concrete ones derive from, parents first.
const ABSTRACT_TYPES: &[(&str, Option<&str>)] = &[
    ("DomainObject", None),
    ("WorkspaceDomainObject", Some("DomainObject")),
    ("Artifact", Some("WorkspaceDomainObject")),
];

fn seed_type_definitions(store: &mut Store, ws_ref: &str) {
    let mut typedef_refs: BTreeMap<String, String> = BTreeMap::new();
    let typedef = |store: &mut Store,
                   name: &str,
                   parent: Option<&str>,
                   extra: Value,
                   refs: &mut BTreeMap<String, String>| {
        let mut f = fields(json!({
            "Name": display_name(name),
            "ElementName": name,
            "DisplayName": display_name(name),
            "TypePath": name,
            "Ordinal": -1,
            "Parent": parent.and_then(|p| refs.get(p)).cloned(),
            "RevisionHistory": null,
            "Workspace": ws_ref,
        }));
        if let Value::Object(m) = extra {
            f.extend(m);
        }
        f.retain(|_, v| !v.is_null());
        let oid = store.insert("typedefinition", f);
        refs.insert(name.to_string(), format!("/typedefinition/{oid}"));
        oid
    };
    for (name, parent) in ABSTRACT_TYPES {
        typedef(
            store,
            name,
            *parent,
            json!({"IDPrefix": "", "Abstract": true, "Creatable": false, "Queryable": false,
                   "ReadOnly": true, "Deletable": false, "Restorable": false}),
            &mut typedef_refs,
        );
    }
    let mut concrete = Vec::new();
    for ty in TYPES {
        let oid = typedef(
            store,
            ty.name,
            Some(ty.parent),
            json!({
                "IDPrefix": ty.prefix.unwrap_or(""),
                "Abstract": false,
                "Creatable": ty.creatable,
                "Queryable": true,
                "ReadOnly": !ty.creatable,
                "Deletable": ty.creatable,
                "Restorable": ty.prefix.is_some(),
            }),
            &mut typedef_refs,
        );
        concrete.push((ty, oid));
    }
    for (ty, td) in concrete {
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
            let allowed = allowed_values(ty.key, name);
            let value_type = match kind {
                Kind::Ref(targets) => targets
                    .first()
                    .and_then(|t| typedef_refs.get(&type_name(t)))
                    .cloned(),
                Kind::Collection { member, .. } => typedef_refs.get(&type_name(member)).cloned(),
                _ if allowed.is_some() => typedef_refs.get("AllowedAttributeValue").cloned(),
                _ => None,
            };
            let ad = store.insert(
                "attributedefinition",
                fields(json!({
                    "Name": display_name(name),
                    "ElementName": name,
                    "AttributeType": attribute_type(ty.key, name, *kind),
                    "RealAttributeType": attribute_type(ty.key, name, *kind),
                    "SchemaType": schema_type(*kind),
                    "Custom": false,
                    "Required": ty.required.contains(name),
                    "SystemRequired": ty.required.contains(name),
                    "ReadOnly": read_only,
                    "Hidden": false,
                    "VisibleOnlyToAdmins": false,
                    "Filterable": true,
                    "Sortable": !matches!(kind, Kind::Collection { .. }),
                    "Constrained": allowed.is_some(),
                    "AllowedValueType": value_type,
                    "MaxLength": max_length(ty.key, name, *kind).map_or(-1, |n| n as i64),
                    "MaxFractionalDigits": if *kind == Kind::Decimal { 2 } else { -1 },
                    "Note": "",
                    "TypeDefinition": format!("/typedefinition/{td}"),
                    "Workspace": ws_ref,
                })),
            );
            for (i, v) in allowed.unwrap_or_default().iter().enumerate() {
                store.insert(
                    "allowedattributevalue",
                    fields(json!({
                        "StringValue": v,
                        "LocalizedStringValue": v,
                        "ValueIndex": i,
                        "AttributeDefinition": format!("/attributedefinition/{ad}"),
                    })),
                );
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
