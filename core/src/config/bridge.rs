//! The `[bridge]` section: Rally user stories as qTest requirements, and a Rally test
//! case for each qTest test case linked to one of them.
//!
//! ```toml
//! [bridge]
//! module = "Imported from Rally"
//! query = '(Iteration.Name = "Sprint 14")'
//! [bridge.fields]            # the active Rally fields → qTest requirement fields
//! ScheduleState = "Schedule State"
//! PlanEstimate = "Plan Estimate"
//! ```

use super::invalid;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const DEFAULT_MODULE: &str = "Imported from Rally";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BridgeConfig {
    /// The qTest module (at the root of the project) the requirements go in.
    pub module: String,
    /// Rally projects (refs) to import from; the Rally project when empty.
    pub projects: Vec<String>,
    /// A Rally query selecting the stories, as people write it (normalised first).
    pub query: Option<String>,
    /// IANA zone of dates in `query` written without one.
    pub time_zone: Option<String>,
    /// The active Rally fields: Rally field name → label of the qTest requirement
    /// field that shows it.
    pub fields: BTreeMap<String, String>,
    /// The qTest requirement field that gets the link back to the Rally story
    /// (`Description`, a system field); none: no link.
    pub link_field: Option<String>,
    /// `Method` of the Rally test cases made for linked qTest test cases.
    pub test_case_method: String,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        BridgeConfig {
            module: DEFAULT_MODULE.into(),
            projects: Vec::new(),
            query: None,
            time_zone: None,
            fields: BTreeMap::new(),
            link_field: Some("Description".into()),
            test_case_method: "Manual".into(),
        }
    }
}

impl BridgeConfig {
    pub fn validate(&self) -> Result<()> {
        if self.module.trim().is_empty() {
            return Err(invalid(
                "bridge.module",
                format!("is empty; leave it out for {DEFAULT_MODULE:?}"),
            ));
        }
        for (rally, label) in &self.fields {
            if rally.trim().is_empty() || rally.contains([',', '?', '&', ' ']) {
                return Err(invalid(
                    &format!("bridge.fields.{rally}"),
                    "is not a Rally field name (like ScheduleState or c_Team)",
                ));
            }
            if label.trim().is_empty() {
                return Err(invalid(
                    &format!("bridge.fields.{rally}"),
                    "names no qTest requirement field",
                ));
            }
        }
        if !["Manual", "Automated"].contains(&self.test_case_method.as_str()) {
            return Err(invalid(
                "bridge.test_case_method",
                format!(
                    "{:?} is not a Rally test case Method; allowed: Manual, Automated",
                    self.test_case_method
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn defaults_and_checks() {
        let c = Config::default();
        assert_eq!(c.bridge.module, "Imported from Rally");
        c.validate(None).unwrap();
        let c = Config::from_json(br#"{"bridge": {"fields": {"Schedule State": "x"}}}"#).unwrap();
        let e = c.validate(None).unwrap_err();
        assert!(e.message.contains("bridge.fields"), "{}", e.message);
        let c = Config::from_json(br#"{"bridge": {"test_case_method": "Robot"}}"#).unwrap();
        assert!(c.validate(None).is_err());
    }
}
