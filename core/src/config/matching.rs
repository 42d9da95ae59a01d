//! The `[matching]` section: where case ids come from and how several results on
//! one case become one.

use crate::error::{Error, Result};
use crate::target::{Target, case_ids as ids};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The rule that turns several results for one case into what is published.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Aggregate {
    /// One result with the most severe status (error > failed > skipped > flaky > passed).
    #[default]
    Worst,
    /// One result with the status of the last test in the report.
    Last,
    /// One result with the status of the first test in the report.
    First,
    /// One result per test.
    Each,
}

impl Aggregate {
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregate::Worst => "worst",
            Aggregate::Last => "last",
            Aggregate::First => "first",
            Aggregate::Each => "each",
        }
    }
}

/// Where a case key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Source {
    /// The `matching.mapping` table of the configuration.
    Mapping,
    /// Ids written in the test name (`C123`, `TC123`, `[TC-123]`).
    Name,
    /// Ids in a test property (`test_id`, `testrail_case_id`, `test_key`).
    Property,
    /// `classname.name`: qTest's automation content; for TestRail and Rally, resolved
    /// to a case through the host's ref cache.
    AutomationId,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::Mapping,
        Source::Name,
        Source::Property,
        Source::AutomationId,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Mapping => "mapping",
            Source::Name => "name",
            Source::Property => "property",
            Source::AutomationId => "automation_id",
        }
    }
}

/// One case id or several, as a mapping table value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum CaseIds {
    One(String),
    Many(Vec<String>),
}

impl CaseIds {
    pub fn values(&self) -> &[String] {
        match self {
            CaseIds::One(s) => std::slice::from_ref(s),
            CaseIds::Many(v) => v,
        }
    }
}

/// The `[matching]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MatchingConfig {
    /// Sources to try, in order.
    pub sources: Vec<Source>,
    /// Property names that hold case ids, tried in order.
    pub properties: Vec<String>,
    /// How several results for one case become one.
    pub aggregate: Aggregate,
    /// Test key (`classname.name` or the bare name) → case id(s).
    pub mapping: BTreeMap<String, CaseIds>,
}

impl Default for MatchingConfig {
    fn default() -> Self {
        MatchingConfig {
            sources: Source::ALL.to_vec(),
            properties: vec![
                "test_id".into(),
                "testrail_case_id".into(),
                "test_key".into(),
            ],
            aggregate: Aggregate::Worst,
            mapping: BTreeMap::new(),
        }
    }
}

impl MatchingConfig {
    /// Checks the section for a target: sources not repeated, property names given,
    /// every mapping value a valid id for the target.
    pub fn validate(&self, target: Option<Target>) -> Result<()> {
        if self.sources.is_empty() {
            return Err(Error::new(
                "config.invalid_value",
                "`matching.sources` is empty: no test could ever match",
            )
            .with_hint("allowed: mapping, name, property, automation_id"));
        }
        for (i, s) in self.sources.iter().enumerate() {
            if self.sources[..i].contains(s) {
                return Err(Error::new(
                    "config.invalid_value",
                    format!("`matching.sources` lists {} twice", s.as_str()),
                ));
            }
        }
        if let Some(p) = self.properties.iter().find(|p| p.trim().is_empty()) {
            return Err(Error::new(
                "config.invalid_value",
                format!("`matching.properties` holds an empty name ({p:?})"),
            ));
        }
        if let Some(target) = target {
            for (key, ids) in &self.mapping {
                if ids.values().is_empty() {
                    return Err(Error::new(
                        "config.invalid_value",
                        format!("`matching.mapping.{key:?}` lists no case id"),
                    ));
                }
                for v in ids.values() {
                    ids::keys_in_value(target, v).map_err(|m| {
                        Error::new(
                            "config.invalid_value",
                            format!("`matching.mapping.{key:?}`: {m}"),
                        )
                    })?;
                }
            }
        }
        Ok(())
    }
}
