//! Case and result fields as `get_case_fields` / `get_result_fields` describe them:
//! which apply to the project, and whether a value fits the field's type and
//! options, checked before anything is sent (TestRail drops unknown fields
//! silently and refuses a bad value for the whole request).

use crate::config::testrail::FieldValue;
use serde_json::Value;

/// The config of a field that applies to the project, if any.
pub fn config_for(field: &Value, project: u64) -> Option<&Value> {
    field.get("configs")?.as_array()?.iter().find(|c| {
        let ctx = &c["context"];
        ctx["is_global"].as_bool() == Some(true)
            || ctx["project_ids"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|i| i.as_u64() == Some(project)))
    })
}

/// Option ids of a dropdown or multi-select (`"1, Low\n2, High"`).
fn option_ids(config: &Value) -> Vec<i64> {
    config["options"]["items"]
        .as_str()
        .unwrap_or("")
        .lines()
        .filter_map(|l| l.split(',').next()?.trim().parse().ok())
        .collect()
}

/// Why a value does not fit the field `key` of the project, if it does not.
/// `None` also when the project has no such field (see [`applies`]).
pub fn misfit(fields: &Value, project: u64, key: &str, value: &FieldValue) -> Option<String> {
    let (field, config) = fields.as_array()?.iter().find_map(|f| {
        (f["system_name"].as_str() == Some(key))
            .then(|| config_for(f, project).map(|c| (f, c)))
            .flatten()
    })?;
    let type_id = field["type_id"].as_u64().unwrap_or(0);
    let label = field["label"].as_str().unwrap_or(key);
    let ok = match (type_id, value) {
        (1, FieldValue::Text(t)) => t.chars().count() <= 250,
        (3 | 4 | 8, FieldValue::Text(_)) => true,
        (2 | 7 | 9, FieldValue::Int(_)) => true,
        (5, FieldValue::Bool(_)) => true,
        (6, FieldValue::Int(n)) => option_ids(config).contains(n),
        (12, FieldValue::List(ids)) => ids.iter().all(|i| option_ids(config).contains(i)),
        (12, FieldValue::Int(n)) => option_ids(config).contains(n),
        // Steps and other types: TestRail checks them.
        (10 | 11, _) => true,
        (t, _) if t > 12 => true,
        _ => false,
    };
    if ok {
        return None;
    }
    let expected = match type_id {
        1 => "text of at most 250 characters".to_string(),
        3 | 4 | 8 => "text".to_string(),
        2 | 7 | 9 => "a number".to_string(),
        5 => "true or false".to_string(),
        6 => format!("one option id of {:?}", option_ids(config)),
        12 => format!("a list of option ids of {:?}", option_ids(config)),
        _ => "another value".to_string(),
    };
    Some(format!("field {key} ({label}) takes {expected}"))
}

/// A text value in the type its field takes (trcli's properties are all text):
/// numbers for Integer, Dropdown, User and Milestone fields, `true`/`false` (or
/// `1`/`0`) for checkboxes, a single id for a multi-select. Anything else as given.
pub fn coerce(fields: &Value, project: u64, key: &str, value: FieldValue) -> FieldValue {
    let FieldValue::Text(text) = &value else {
        return value;
    };
    let type_id = fields.as_array().and_then(|all| {
        all.iter()
            .find(|f| f["system_name"].as_str() == Some(key) && config_for(f, project).is_some())
            .and_then(|f| f["type_id"].as_u64())
    });
    let t = text.trim();
    match type_id {
        Some(2 | 6 | 7 | 9) => t.parse().map(FieldValue::Int).unwrap_or(value),
        Some(12) => t
            .parse()
            .map(|n| FieldValue::List(vec![n]))
            .unwrap_or(value),
        Some(5) => match t {
            "true" | "1" => FieldValue::Bool(true),
            "false" | "0" => FieldValue::Bool(false),
            _ => value,
        },
        _ => value,
    }
}

/// Whether the field belongs to a case's template: a field with `template_ids`
/// lists the templates that have it (none listed: every template; an unknown
/// template: assumed to have it).
pub fn for_template(fields: &Value, key: &str, template: Option<u64>) -> bool {
    let Some(template) = template else {
        return true;
    };
    fields.as_array().is_none_or(|all| {
        all.iter()
            .filter(|f| f["system_name"].as_str() == Some(key))
            .all(|f| {
                f["template_ids"].as_array().is_none_or(|ids| {
                    ids.is_empty() || ids.iter().any(|i| i.as_u64() == Some(template))
                })
            })
    })
}

/// The system name of the project's first Steps field (type 10), like
/// `custom_steps_separated`.
pub fn steps_field(fields: &Value, project: u64) -> Option<String> {
    fields.as_array()?.iter().find_map(|f| {
        (f["type_id"].as_u64() == Some(10) && config_for(f, project).is_some())
            .then(|| f["system_name"].as_str().map(str::to_string))
            .flatten()
    })
}

/// Whether the project has the field.
pub fn applies(fields: &Value, project: u64, key: &str) -> bool {
    fields.as_array().is_some_and(|all| {
        all.iter()
            .any(|f| f["system_name"].as_str() == Some(key) && config_for(f, project).is_some())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_checked_by_type_and_options() {
        let fields = json!([
            {"system_name": "custom_level", "label": "Level", "type_id": 6,
             "configs": [{"context": {"is_global": false, "project_ids": [2]}, "options": {"items": "1, Low\n2, High"}}]},
            {"system_name": "custom_ok", "type_id": 5,
             "configs": [{"context": {"is_global": true, "project_ids": null}, "options": {}}]}
        ]);
        assert_eq!(
            misfit(&fields, 2, "custom_level", &FieldValue::Int(2)),
            None
        );
        let why = misfit(&fields, 2, "custom_level", &FieldValue::Int(3)).unwrap();
        assert!(why.contains("[1, 2]"), "{why}");
        assert!(misfit(&fields, 2, "custom_ok", &FieldValue::Text("yes".into())).is_some());
        assert!(applies(&fields, 2, "custom_level"));
        assert!(!applies(&fields, 1, "custom_level"));
        assert_eq!(
            misfit(&fields, 1, "custom_level", &FieldValue::Int(3)),
            None
        );
    }
}
