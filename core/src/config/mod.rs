//! The one configuration structure: TOML in the CLI, the same structure as JSON in
//! every binding.
//!
//! ```toml
//! [matching]
//! sources = ["mapping", "name", "property", "automation_id"]
//! aggregate = "worst"
//! [matching.mapping]
//! "com.acme.LoginTest.logsIn" = "C123"
//!
//! [testrail]
//! suite_id = "S2"
//! run_id = "R7"
//! [testrail.statuses]
//! skipped = 2
//! ```
//!
//! Every section has defaults. Secrets are never required here: the sections name
//! the environment variables a host reads them from, and a URL that carries
//! credentials is refused (see [`urls`]).

pub mod bridge;
pub mod context;
pub mod gitlab;
pub mod matching;
pub mod qtest;
pub mod rally;
pub mod rally_connections;
pub mod template;
pub mod testrail;
pub mod urls;

pub use crate::scalar::Scalar;
pub use crate::target::Target;
pub use context::{ArtifactInfo, RefCache, RunContext};

use crate::error::{Error, Location, Result, Warning};
use bridge::BridgeConfig;
use gitlab::GitlabConfig;
use matching::MatchingConfig;
use qtest::QtestConfig;
use rally::RallyConfig;
use serde::{Deserialize, Serialize};
use testrail::TestrailConfig;

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Config {
    pub matching: MatchingConfig,
    pub rally: RallyConfig,
    pub qtest: QtestConfig,
    pub testrail: TestrailConfig,
    pub gitlab: GitlabConfig,
    pub bridge: BridgeConfig,
}

impl Config {
    /// Reads the JSON form. Unknown keys and wrong types are errors that name the key,
    /// say what is allowed, and point at the line and column.
    pub fn from_json(bytes: &[u8]) -> Result<Config> {
        crate::json::from_slice(bytes).map_err(|e| {
            // serde quotes unknown keys as written: escape what a terminal would obey.
            let text = crate::controls::printable(&e.to_string(), 400);
            let mut err = Error::new("config.invalid", format!("configuration: {text}"));
            if e.line() > 0 {
                err = err.at(location_at(bytes, e.line(), e.column()));
            }
            err
        })
    }

    /// Checks the values serde cannot: ids, templates, status tables, limits. With a
    /// target, that target's required keys are enforced too. Returns the warnings.
    pub fn validate(&self, target: Option<Target>) -> Result<Vec<Warning>> {
        urls::check(self)?;
        self.matching.validate(target)?;
        self.gitlab.validate()?;
        self.bridge.validate()?;
        let mut warnings = Vec::new();
        warnings.extend(self.rally.validate(target == Some(Target::Rally))?);
        warnings.extend(self.qtest.validate(target == Some(Target::Qtest))?);
        warnings.extend(self.testrail.validate(target == Some(Target::Testrail))?);
        Ok(warnings)
    }
}

/// serde_json counts lines from 1 and columns from 1 in bytes; the core's locations
/// count columns in characters.
fn location_at(bytes: &[u8], line: usize, column: usize) -> Location {
    let mut offset = 0usize;
    let mut current = 1usize;
    while current < line && offset < bytes.len() {
        if bytes[offset] == b'\n' {
            current += 1;
        }
        offset += 1;
    }
    Location::in_text(bytes, offset.saturating_add(column.saturating_sub(1)))
}

/// A configuration error: the key, what is wrong, and what is allowed.
pub(crate) fn invalid(key: &str, message: impl std::fmt::Display) -> Error {
    Error::new("config.invalid_value", format!("`{key}`: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_valid_without_a_target() {
        let c = Config::from_json(b"{}").unwrap();
        assert_eq!(c, Config::default());
        assert!(c.validate(None).unwrap().is_empty());
    }

    #[test]
    fn unknown_keys_are_named_with_the_allowed_ones() {
        let e = Config::from_json(b"{\n  \"matching\": {\"agregate\": \"worst\"}\n}").unwrap_err();
        assert_eq!(e.code, "config.invalid");
        assert!(e.message.contains("agregate"), "{}", e.message);
        assert!(e.message.contains("aggregate"), "{}", e.message);
        assert_eq!(e.location.map(|l| l.line), Some(2));
    }

    #[test]
    fn enum_values_list_what_is_allowed() {
        let e = Config::from_json(br#"{"matching": {"aggregate": "best"}}"#).unwrap_err();
        assert!(
            e.message.contains("worst") && e.message.contains("each"),
            "{}",
            e.message
        );
        let e = Config::from_json(br#"{"matching": {"sources": ["names"]}}"#).unwrap_err();
        assert!(e.message.contains("automation_id"), "{}", e.message);
    }

    #[test]
    fn json_round_trips() {
        let c = Config::default();
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(Config::from_json(text.as_bytes()).unwrap(), c);
    }

    #[test]
    fn targets_parse_case_insensitively() {
        assert_eq!(Target::parse("TestRail").unwrap(), Target::Testrail);
        let e = Target::parse("jira").unwrap_err();
        assert_eq!(e.code, "config.unknown_target");
    }

    #[test]
    fn mapping_values_are_checked_for_the_target() {
        let c = Config::from_json(br#"{"matching": {"mapping": {"a.b": ["C1", "x"]}}}"#).unwrap();
        assert!(c.validate(None).is_ok());
        let e = c.validate(Some(Target::Testrail)).unwrap_err();
        assert!(
            e.message.contains("`matching.mapping.\"a.b\"`"),
            "{}",
            e.message
        );
    }
}
