//! The `[qtest]` section.

use super::context::{RUN_PREFIXES, RUN_VARS, TEST_PREFIXES, TEST_VARS};
use super::{Scalar, invalid, template};
use crate::error::{Result, Warning};
use crate::status::{QTEST_STATUSES, ResolvedStatuses, StatusMap, TargetStatuses};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The built-in name of a job's test cycle.
pub const DEFAULT_CYCLE_NAME: &str = "{job_name} #{job_id}";

/// Which part of a test becomes its module path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ModulePath {
    /// The enclosing suite names, outermost first.
    #[default]
    Suite,
    /// The classname, split at dots (`com.acme.LoginTest` → com, acme, LoginTest).
    Classname,
    /// The suites, then the classname parts.
    SuiteAndClassname,
    /// Only the parent module (and the browser level).
    None,
}

/// The `[qtest]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QtestConfig {
    /// `https://example.qtestnet.com`
    pub url: Option<String>,
    /// The environment variable that holds the bearer token.
    pub token_env: String,
    pub project_id: Option<Scalar>,
    /// PID or id of the test cycle the job cycles go under (`CL-12` or `3295940`).
    pub test_cycle: Option<Scalar>,
    /// The first module name of every test log.
    pub parent_module: Option<String>,
    pub module_path: ModulePath,
    /// Name of the job's cycle, a run template.
    pub cycle_name: String,
    /// The cycle of results that come from no CI job.
    pub jobless_cycle: String,
    /// Properties naming the browser or device; the first one found makes the suite.
    pub suite_properties: Vec<String>,
    /// Browser or device names looked for in a test's suite names (case-insensitive)
    /// when it has none of `suite_properties`: the first one found makes the suite
    /// (`["Chrome", "Firefox"]` for suites named `Chrome - login.cy.js`).
    pub suite_names: Vec<String>,
    /// The project's automation statuses: PASS, FAIL, SKIP and its own.
    pub allowed_statuses: Vec<String>,
    pub statuses: StatusMap,
    /// Attach the failure text as a `.txt` file to failed logs.
    pub attach_failure_details: bool,
    /// Test run fields set by each log: field id → value (a per-test template).
    pub run_fields: BTreeMap<String, String>,
    /// The test run field that gets the link to the CI report (e.g. Description).
    pub description_field_id: Option<Scalar>,
    /// Longest `note`, in characters.
    pub note_max_chars: u64,
}

impl Default for QtestConfig {
    fn default() -> Self {
        QtestConfig {
            url: None,
            token_env: "QTEST_TOKEN".into(),
            project_id: None,
            test_cycle: None,
            parent_module: None,
            module_path: ModulePath::Suite,
            cycle_name: DEFAULT_CYCLE_NAME.into(),
            jobless_cycle: "Jobless Executions".into(),
            suite_properties: vec!["browser".into(), "device".into(), "platform".into()],
            suite_names: Vec::new(),
            allowed_statuses: QTEST_STATUSES.iter().map(|s| s.to_string()).collect(),
            statuses: StatusMap::default(),
            attach_failure_details: true,
            run_fields: BTreeMap::new(),
            description_field_id: None,
            note_max_chars: 20_000,
        }
    }
}

fn field_id(key: &str, text: &str) -> Result<u64> {
    match text.trim().parse::<u64>() {
        Ok(n) if n > 0 && n < (1 << 53) => Ok(n),
        _ => Err(invalid(
            key,
            format!("{text:?} is not a qTest field id (a number)"),
        )),
    }
}

impl QtestConfig {
    pub fn statuses(&self) -> Result<ResolvedStatuses> {
        self.statuses.resolve(
            "qtest.statuses",
            &TargetStatuses::Qtest {
                allowed: self.allowed_statuses.clone(),
            },
        )
    }

    /// The root cycle, required when qTest is the target.
    pub fn root_cycle(&self) -> Result<String> {
        match &self.test_cycle {
            Some(s) if !s.0.trim().is_empty() => Ok(s.0.trim().to_string()),
            _ => Err(invalid(
                "qtest.test_cycle",
                "is required: the PID or id of the test cycle results go under (like \"CL-12\")",
            )),
        }
    }

    /// Test run fields as (id, template), ids checked.
    pub fn run_field_ids(&self) -> Result<Vec<(u64, &str)>> {
        self.run_fields
            .iter()
            .map(|(k, v)| Ok((field_id(&format!("qtest.run_fields.{k}"), k)?, v.as_str())))
            .collect()
    }

    /// Checks the section. `selected`: qTest is the target of this run.
    pub fn validate(&self, selected: bool) -> Result<Vec<Warning>> {
        if self.allowed_statuses.is_empty() {
            return Err(invalid(
                "qtest.allowed_statuses",
                "lists no status; leave it out for PASS, FAIL, SKIP",
            ));
        }
        let warnings = self.statuses()?.warnings;
        if selected {
            self.root_cycle()?;
        }
        template::check("qtest.cycle_name", &self.cycle_name, RUN_VARS, RUN_PREFIXES)?;
        if self.jobless_cycle.trim().is_empty() {
            return Err(invalid("qtest.jobless_cycle", "is empty"));
        }
        if self.token_env.trim().is_empty() {
            return Err(invalid(
                "qtest.token_env",
                "name the environment variable that holds the token",
            ));
        }
        let names: Vec<&str> = RUN_VARS.iter().chain(TEST_VARS).copied().collect();
        for (id, value) in self.run_field_ids()? {
            template::check(
                &format!("qtest.run_fields.{id}"),
                value,
                &names,
                TEST_PREFIXES,
            )?;
        }
        if let Some(d) = &self.description_field_id {
            field_id("qtest.description_field_id", &d.0)?;
        }
        if let Some(m) = &self.parent_module
            && m.trim().is_empty()
        {
            return Err(invalid(
                "qtest.parent_module",
                "is empty; leave it out for none",
            ));
        }
        if self.note_max_chars == 0 {
            return Err(invalid("qtest.note_max_chars", "must be at least 1"));
        }
        Ok(warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: &str) -> QtestConfig {
        crate::json::from_str(json).unwrap()
    }

    #[test]
    fn root_cycle_is_required_only_for_the_target() {
        let c = QtestConfig::default();
        assert!(c.validate(false).is_ok());
        let e = c.validate(true).unwrap_err();
        assert!(e.message.starts_with("`qtest.test_cycle`"), "{}", e.message);
        assert!(cfg(r#"{"test_cycle": 3295940}"#).validate(true).is_ok());
    }

    #[test]
    fn project_statuses_extend_the_vocabulary() {
        let c = cfg(r#"{"statuses": {"skipped": "BLOCKED"}}"#);
        assert!(c.validate(false).is_err());
        let c = cfg(
            r#"{"allowed_statuses": ["PASS","FAIL","SKIP","BLOCKED"], "statuses": {"skipped": "BLOCKED"}}"#,
        );
        let w = c.validate(false).unwrap();
        assert_eq!(w.len(), 1, "SKIP is lost: {w:?}");
    }

    #[test]
    fn run_fields_need_numeric_ids() {
        let e = cfg(r#"{"run_fields": {"Browser": "{property.browser}"}}"#)
            .validate(false)
            .unwrap_err();
        assert!(
            e.message.contains("qtest.run_fields.Browser"),
            "{}",
            e.message
        );
        assert!(
            cfg(r#"{"run_fields": {"1234": "{property.browser}"}}"#)
                .validate(false)
                .is_ok()
        );
    }
}
