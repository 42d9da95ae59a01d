//! The `[testrail]` section.

use super::context::{RUN_PREFIXES, RUN_VARS, TEST_PREFIXES, TEST_VARS};
use super::{Scalar, invalid, template};
use crate::error::{Error, Result, Warning};
use crate::status::{ResolvedStatuses, StatusMap, TargetStatuses};
use crate::target::testrail_ids::{IdKind, parse_id};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A custom field value: text (a template), a number, a checkbox, or a multi-select.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum FieldValue {
    Bool(bool),
    Int(i64),
    Text(String),
    List(Vec<i64>),
}

/// Case fields TestRail defines itself; every other field gets the `custom_` prefix.
const SYSTEM_CASE_FIELDS: &[&str] = &[
    "title",
    "template_id",
    "type_id",
    "priority_id",
    "estimate",
    "milestone_id",
    "refs",
];

/// The `[testrail]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestrailConfig {
    /// `https://example.testrail.io/`
    pub url: Option<String>,
    /// Environment variables holding the user name and API key.
    pub user_env: String,
    pub api_key_env: String,
    pub project_id: Option<Scalar>,
    /// `29` or `S29`: the suite new cases go to.
    pub suite_id: Option<Scalar>,
    /// The section new cases go to.
    pub section_id: Option<Scalar>,
    /// `7` or `R7`: the run results go to; without it a run is created.
    pub run_id: Option<Scalar>,
    /// Turns the whole export off.
    pub export: bool,
    /// Create a case for a test with no case id (needs `section_id`).
    pub create_cases: bool,
    /// Send results.
    pub export_results: bool,
    /// Send `elapsed` with milliseconds (TestRail instances that accept them).
    pub allow_ms: bool,
    /// `version` of each result, a run template (e.g. `{pipeline_id}`).
    pub version: Option<String>,
    /// The test property that lists defects (`defects` = `BUG-1, BUG-2`).
    pub defects_property: String,
    /// System name of the case field that holds the automation id.
    pub automation_id_field: String,
    /// Longest `comment`, in characters.
    pub comment_max_chars: u64,
    /// `custom_*` result fields: system name → value (text is a per-test template).
    pub result_fields: BTreeMap<String, FieldValue>,
    /// Fields of created cases: system name (`custom_` added unless a system field) →
    /// value (text is a per-test template, e.g. `{property.owner}`).
    pub case_fields: BTreeMap<String, FieldValue>,
    /// Test status → `status_id`.
    pub statuses: StatusMap,
    /// Name of the run created for results (a run template); reruns of the same
    /// work find it again by the identity in its description.
    pub run_name: Option<String>,
    /// `12` or `R12`... a test plan: results go to an entry of it, one run per
    /// configuration (see `configuration_property`).
    pub plan_id: Option<Scalar>,
    /// The test property naming its configuration (`browser` = `Chrome`): one
    /// run per configuration in the plan entry, one result per configuration.
    pub configuration_property: Option<String>,
    /// New cases go to a section named after their `<testsuite>`, under
    /// `section_id` (as trcli does); off: all go to `section_id`.
    pub section_per_suite: bool,
    /// Update cases tmbridge created before when their title or mapped fields changed.
    pub update_cases: bool,
    /// Results per `add_results_for_cases` request.
    pub batch_size: u64,
    /// Only tests this filter selects are exported (see `crate::scope`), e.g.
    /// `status in (failed, error) and not name ~ "flaky"`.
    pub scope: Option<String>,
}

impl Default for TestrailConfig {
    fn default() -> Self {
        TestrailConfig {
            url: None,
            user_env: "TESTRAIL_USER".into(),
            api_key_env: "TESTRAIL_API_KEY".into(),
            project_id: None,
            suite_id: None,
            section_id: None,
            run_id: None,
            export: true,
            create_cases: true,
            export_results: true,
            allow_ms: false,
            version: None,
            defects_property: "defects".into(),
            automation_id_field: "automation_id".into(),
            comment_max_chars: 20_000,
            result_fields: BTreeMap::new(),
            case_fields: BTreeMap::new(),
            statuses: StatusMap::default(),
            run_name: None,
            plan_id: None,
            configuration_property: None,
            section_per_suite: true,
            update_cases: true,
            batch_size: 50,
            scope: None,
        }
    }
}

/// Ids of the section, read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestrailIds {
    pub project_id: Option<u64>,
    pub suite_id: Option<u64>,
    pub section_id: Option<u64>,
    pub run_id: Option<u64>,
}

fn is_system_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The key a case field is sent under.
pub fn case_field_key(name: &str) -> String {
    if SYSTEM_CASE_FIELDS.contains(&name) || name.starts_with("custom_") {
        name.to_string()
    } else {
        format!("custom_{name}")
    }
}

impl TestrailConfig {
    /// Reads the ids; an id that is not one names its key.
    pub fn ids(&self) -> Result<TestrailIds> {
        let read = |key: &str, kind: IdKind, v: &Option<Scalar>| -> Result<Option<u64>> {
            match v {
                Some(s) => parse_id(kind, &s.0).map(Some).map_err(|e| Error {
                    message: format!("`testrail.{key}`: {}", e.message),
                    ..e
                }),
                None => Ok(None),
            }
        };
        Ok(TestrailIds {
            project_id: read("project_id", IdKind::Project, &self.project_id)?,
            suite_id: read("suite_id", IdKind::Suite, &self.suite_id)?,
            section_id: read("section_id", IdKind::Section, &self.section_id)?,
            run_id: read("run_id", IdKind::Run, &self.run_id)?,
        })
    }

    /// The status table, checked.
    pub fn statuses(&self) -> Result<ResolvedStatuses> {
        self.statuses
            .resolve("testrail.statuses", &TargetStatuses::Testrail)
    }

    /// Checks the section. `selected`: TestRail is the target of this run.
    pub fn validate(&self, selected: bool) -> Result<Vec<Warning>> {
        self.ids()?;
        // Custom statuses may be named (`Flaky`, `custom_status2`): the instance's
        // `get_statuses` resolves them when a session runs; the rest is checked here.
        let mut warnings = crate::status::testrail_placeholder(&self.statuses)
            .resolve("testrail.statuses", &TargetStatuses::Testrail)?
            .warnings;
        if let Some(v) = &self.version {
            template::check("testrail.version", v, RUN_VARS, RUN_PREFIXES)?;
        }
        for (key, env) in [
            ("user_env", &self.user_env),
            ("api_key_env", &self.api_key_env),
        ] {
            if env.trim().is_empty() {
                return Err(invalid(
                    &format!("testrail.{key}"),
                    "name the environment variable that holds the secret",
                ));
            }
        }
        if !is_system_name(&self.automation_id_field) {
            return Err(invalid(
                "testrail.automation_id_field",
                "a field system name uses lower-case letters, digits and `_` only",
            ));
        }
        if let Some(n) = &self.run_name {
            template::check("testrail.run_name", n, RUN_VARS, RUN_PREFIXES)?;
        }
        if let Some(s) = &self.scope {
            crate::scope::parse(s).map_err(|e| Error {
                message: format!("`testrail.scope`: {}", e.message),
                ..e
            })?;
        }
        if self.batch_size == 0 || self.batch_size > 250 {
            return Err(invalid("testrail.batch_size", "must be between 1 and 250"));
        }
        if let Some(p) = &self.plan_id {
            parse_id(IdKind::Run, &p.0).map_err(|e| Error {
                message: format!("`testrail.plan_id`: {}", e.message),
                ..e
            })?;
        }
        if self.comment_max_chars == 0 {
            return Err(invalid("testrail.comment_max_chars", "must be at least 1"));
        }
        for (table, fields) in [
            ("result_fields", &self.result_fields),
            ("case_fields", &self.case_fields),
        ] {
            for (name, value) in fields {
                let key = format!("testrail.{table}.{name}");
                if !is_system_name(name) {
                    return Err(invalid(
                        &key,
                        "a field system name uses lower-case letters, digits and `_` only",
                    ));
                }
                if table == "result_fields" && !name.starts_with("custom_") {
                    return Err(invalid(
                        &key,
                        "result fields are custom fields: write custom_NAME",
                    ));
                }
                check_value(&key, value)?;
            }
        }
        if selected && self.export && self.create_cases && self.section_id.is_none() {
            warnings.push(Warning::new(
                "testrail.no_section",
                "`testrail.section_id` is not set: tests without a case id stay on the review list instead of becoming new cases",
                None,
            ));
        }
        Ok(warnings)
    }
}

fn check_value(key: &str, value: &FieldValue) -> Result<()> {
    match value {
        FieldValue::Text(t) => template::check(key, t, &all_test_vars(), TEST_PREFIXES),
        FieldValue::Int(n) if n.unsigned_abs() >= (1 << 53) => {
            Err(invalid(key, "numbers must stay below 2^53"))
        }
        FieldValue::List(v) if v.iter().any(|n| n.unsigned_abs() >= (1 << 53)) => {
            Err(invalid(key, "numbers must stay below 2^53"))
        }
        _ => Ok(()),
    }
}

fn all_test_vars() -> Vec<&'static str> {
    RUN_VARS.iter().chain(TEST_VARS).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: &str) -> TestrailConfig {
        crate::json::from_str(json).unwrap()
    }

    #[test]
    fn ids_accept_both_forms_and_name_the_key() {
        let c = cfg(r#"{"suite_id": "S29", "run_id": 7, "section_id": "12"}"#);
        let ids = c.ids().unwrap();
        assert_eq!(
            (ids.suite_id, ids.run_id, ids.section_id),
            (Some(29), Some(7), Some(12))
        );
        let e = cfg(r#"{"suite_id": "C29"}"#).validate(true).unwrap_err();
        assert_eq!(e.code, "testrail.invalid_id");
        assert!(
            e.message.starts_with("`testrail.suite_id`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn fields_and_templates_are_checked() {
        let e = cfg(r#"{"result_fields": {"environment": "x"}}"#)
            .validate(true)
            .unwrap_err();
        assert!(e.message.contains("custom_NAME"), "{}", e.message);
        let e = cfg(r#"{"result_fields": {"custom_env": "{branch}"}}"#)
            .validate(true)
            .unwrap_err();
        assert_eq!(e.code, "config.invalid_template");
        assert!(
            cfg(r#"{"result_fields": {"custom_env": "{ref}", "custom_n": 3, "custom_ok": true}}"#)
                .validate(true)
                .is_ok()
        );
        let e = cfg(r#"{"case_fields": {"Owner": "x"}}"#)
            .validate(true)
            .unwrap_err();
        assert!(e.message.contains("testrail.case_fields.Owner"));
        let e = cfg(r#"{"version": "{nope}"}"#).validate(false).unwrap_err();
        assert!(e.message.contains("testrail.version"));
    }

    #[test]
    fn missing_section_is_a_warning_only_for_the_target() {
        let c = TestrailConfig::default();
        assert!(c.validate(false).unwrap().is_empty());
        let w = c.validate(true).unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].code, "testrail.no_section");
    }

    #[test]
    fn case_field_keys() {
        assert_eq!(case_field_key("owner"), "custom_owner");
        assert_eq!(case_field_key("custom_owner"), "custom_owner");
        assert_eq!(case_field_key("priority_id"), "priority_id");
    }
}
