//! Checks of `custom_*` values against `get_case_fields` / `get_result_fields`, and
//! of timespans, the way TestRail answers them: a field that does not apply to the
//! project is ignored (not stored), a value of the wrong type or outside the
//! allowed options is a 400 naming the field.

use serde_json::Value;

/// The config of a field that applies to a project, if any.
pub fn config_for(field: &Value, project_id: u64) -> Option<&Value> {
    field.get("configs")?.as_array()?.iter().find(|c| {
        let ctx = &c["context"];
        ctx["is_global"].as_bool() == Some(true)
            || ctx["project_ids"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|i| i.as_u64() == Some(project_id)))
    })
}

/// Option ids of a dropdown or multi-select config (`"1, Low\n2, High"`).
pub fn option_ids(config: &Value) -> Vec<u64> {
    config["options"]["items"]
        .as_str()
        .unwrap_or("")
        .lines()
        .filter_map(|l| l.split(',').next()?.trim().parse().ok())
        .collect()
}

/// What happens to one `custom_*` value.
pub enum Checked {
    /// Store it.
    Keep,
    /// No such field for this project: TestRail drops it silently.
    Ignore,
}

/// Checks one value; `statuses` are the valid status ids (for step results).
pub fn check(
    fields: &[Value],
    project_id: u64,
    key: &str,
    value: &Value,
    statuses: &[u64],
) -> Result<Checked, String> {
    let Some((field, config)) = fields.iter().find_map(|f| {
        (f["system_name"].as_str() == Some(key))
            .then(|| config_for(f, project_id).map(|c| (f, c)))
            .flatten()
    }) else {
        return Ok(Checked::Ignore);
    };
    if value.is_null() {
        return Ok(Checked::Keep);
    }
    let bad = |what: &str| Err(format!("Field :{key} is not a valid {what}."));
    match field["type_id"].as_u64().unwrap_or(0) {
        1 => match value.as_str() {
            Some(s) if s.chars().count() <= 250 => Ok(Checked::Keep),
            Some(_) => Err(format!(
                "Field :{key} is too long (250 characters at most)."
            )),
            None => bad("string"),
        },
        3 | 4 => value
            .as_str()
            .map(|_| Checked::Keep)
            .map_or(bad("string"), Ok),
        2 | 7 | 9 => value
            .as_i64()
            .map(|_| Checked::Keep)
            .map_or(bad("integer"), Ok),
        5 => value
            .as_bool()
            .map(|_| Checked::Keep)
            .map_or(bad("boolean"), Ok),
        8 => value
            .as_str()
            .map(|_| Checked::Keep)
            .map_or(bad("date"), Ok),
        6 => match value.as_u64() {
            Some(id) if option_ids(config).contains(&id) => Ok(Checked::Keep),
            _ => bad("dropdown option id"),
        },
        12 => match value.as_array() {
            Some(ids)
                if ids
                    .iter()
                    .all(|i| i.as_u64().is_some_and(|i| option_ids(config).contains(&i))) =>
            {
                Ok(Checked::Keep)
            }
            _ => bad("array of option ids"),
        },
        10 => match value.as_array() {
            Some(steps) if steps.iter().all(|s| s["content"].is_string()) => Ok(Checked::Keep),
            _ => bad("array of steps (objects with a content string)"),
        },
        11 => match value.as_array() {
            Some(steps)
                if steps.iter().all(|s| {
                    s.is_object()
                        && s["status_id"]
                            .as_u64()
                            .is_none_or(|id| statuses.contains(&id))
                }) =>
            {
                Ok(Checked::Keep)
            }
            _ => bad("array of step results with valid status ids"),
        },
        _ => Ok(Checked::Keep),
    }
}

/// Required fields of a project missing from a new record.
pub fn missing_required(
    fields: &[Value],
    project_id: u64,
    has: impl Fn(&str) -> bool,
) -> Option<String> {
    fields.iter().find_map(|f| {
        let key = f["system_name"].as_str()?;
        let config = config_for(f, project_id)?;
        (config["options"]["is_required"].as_bool() == Some(true) && !has(key))
            .then(|| format!("Field :{key} is a required field."))
    })
}

/// A TestRail timespan: `30s`, `1m 45s`, `2h 5m`, `1w 2d`, fractional seconds
/// (`0.5s`) as recent versions take them.
pub fn valid_timespan(text: &str) -> bool {
    let parts: Vec<&str> = text.split_whitespace().collect();
    !parts.is_empty()
        && parts.iter().all(|p| {
            let (n, unit) = p.split_at(p.len().saturating_sub(1));
            matches!(unit, "s" | "m" | "h" | "d" | "w")
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && (n.parse::<u64>().is_ok() || (unit == "s" && n.parse::<f64>().is_ok()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timespans_as_testrail_reads_them() {
        for ok in ["30s", "1m 45s", "2h", "1w 2d", "0.25s"] {
            assert!(valid_timespan(ok), "{ok}");
        }
        for bad in ["", "30", "1x", "m", "1.5m", "-1s"] {
            assert!(!valid_timespan(bad), "{bad}");
        }
    }

    #[test]
    fn dropdown_values_must_be_option_ids_of_the_project() {
        let fields = vec![json!({
            "system_name": "custom_level", "type_id": 6,
            "configs": [{"context": {"is_global": false, "project_ids": [2]},
                         "options": {"items": "1, Low\n2, High", "is_required": true}}]
        })];
        assert!(matches!(
            check(&fields, 2, "custom_level", &json!(2), &[]),
            Ok(Checked::Keep)
        ));
        assert!(check(&fields, 2, "custom_level", &json!(3), &[]).is_err());
        assert!(matches!(
            check(&fields, 1, "custom_level", &json!(3), &[]),
            Ok(Checked::Ignore)
        ));
        assert_eq!(
            missing_required(&fields, 2, |_| false).as_deref(),
            Some("Field :custom_level is a required field.")
        );
        assert_eq!(missing_required(&fields, 1, |_| false), None);
    }
}
