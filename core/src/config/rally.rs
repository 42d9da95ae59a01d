//! The `[rally]` section.

use super::context::{RUN_PREFIXES, RUN_VARS};
use super::{invalid, template};
use crate::error::{Result, Warning};
use crate::status::{RALLY_VERDICTS, ResolvedStatuses, StatusMap, TargetStatuses};
use serde::{Deserialize, Serialize};

/// The test set name built in: the sprint's number.
pub const DEFAULT_TEST_SET_TEMPLATE: &str = "Sprint-{N}-Automated-Tests";
/// The largest attachment Rally accepts.
pub const RALLY_MAX_ATTACHMENT_BYTES: u64 = 50 * 1024 * 1024;
/// Artifacts up to this size are uploaded by default; larger ones are linked.
pub const DEFAULT_INLINE_MAX_BYTES: u64 = 5 * 1024 * 1024;

/// The unit of TestCaseResult `Duration`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum DurationUnit {
    #[default]
    Seconds,
    Milliseconds,
}

/// The `[rally]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RallyConfig {
    /// `https://rally1.rallydev.com`
    pub url: Option<String>,
    /// The environment variable that holds the API key.
    pub api_key_env: String,
    /// Refs (`/workspace/123`, `/project/456`, `/user/789`).
    pub workspace: Option<String>,
    pub project: Option<String>,
    pub tester: Option<String>,
    /// `Build` of each result, a run template.
    pub build: String,
    /// Name template of the sprint test set; no test set when unset.
    pub test_set: Option<String>,
    /// The workspace's Verdict AllowedValues; the built-in ones by default.
    pub allowed_verdicts: Vec<String>,
    /// Test status → Verdict.
    pub statuses: StatusMap,
    pub duration_unit: DurationUnit,
    /// Artifacts up to this size are uploaded; larger ones are linked. At most 50 MB.
    pub inline_attachment_max_bytes: u64,
    /// Download link of an artifact: run placeholders plus `{path}` and `{name}`.
    pub artifact_url: Option<String>,
    /// Longest Notes, in characters.
    pub notes_max_chars: u64,
    /// The connection of `connections` every Rally session uses.
    pub active: Option<String>,
    /// Named connections (see `rally_connections`), ordered by name.
    pub connections: std::collections::BTreeMap<String, super::rally_connections::RallyConnection>,
}

impl Default for RallyConfig {
    fn default() -> Self {
        RallyConfig {
            url: None,
            api_key_env: "RALLY_API_KEY".into(),
            workspace: None,
            project: None,
            tester: None,
            build: "GitLab-{pipeline_id}".into(),
            test_set: Some(DEFAULT_TEST_SET_TEMPLATE.into()),
            allowed_verdicts: RALLY_VERDICTS.iter().map(|s| s.to_string()).collect(),
            statuses: StatusMap::default(),
            duration_unit: DurationUnit::Seconds,
            inline_attachment_max_bytes: DEFAULT_INLINE_MAX_BYTES,
            artifact_url: Some("{job_url}/artifacts/file/{path}".into()),
            notes_max_chars: 32_000,
            active: None,
            connections: Default::default(),
        }
    }
}

impl RallyConfig {
    /// The Verdict table, checked against the allowed verdicts.
    pub fn statuses(&self) -> Result<ResolvedStatuses> {
        self.statuses.resolve(
            "rally.statuses",
            &TargetStatuses::Rally {
                allowed: self.allowed_verdicts.clone(),
            },
        )
    }

    /// Checks the section. `selected`: Rally is the target of this run.
    pub fn validate(&self, selected: bool) -> Result<Vec<Warning>> {
        self.validate_connections()?;
        if self.allowed_verdicts.is_empty() {
            return Err(invalid(
                "rally.allowed_verdicts",
                "lists no verdict; leave it out for Pass, Fail, Error, Blocked, Inconclusive",
            ));
        }
        let mut warnings = self.statuses()?.warnings;
        if selected && self.workspace.is_none() {
            warnings.push(Warning::new(
                "config.rally_workspace_missing",
                "`rally.workspace` is not set: results go to the default workspace of the key's user; set it (like /workspace/12345) to be sure where they land",
                None,
            ));
        }
        template::check("rally.build", &self.build, RUN_VARS, RUN_PREFIXES)?;
        if self.build.trim().is_empty() {
            return Err(invalid(
                "rally.build",
                "is empty; Rally needs a Build on every result",
            ));
        }
        if let Some(t) = &self.test_set {
            template::check("rally.test_set", t, RUN_VARS, RUN_PREFIXES)?;
        }
        if let Some(t) = &self.artifact_url {
            let names: Vec<&str> = RUN_VARS.iter().copied().chain(["path", "name"]).collect();
            template::check("rally.artifact_url", t, &names, RUN_PREFIXES)?;
        }
        if self.inline_attachment_max_bytes > RALLY_MAX_ATTACHMENT_BYTES {
            return Err(invalid(
                "rally.inline_attachment_max_bytes",
                format!(
                    "{} is over Rally's attachment limit; allowed: 0 to {RALLY_MAX_ATTACHMENT_BYTES} (50 MB)",
                    self.inline_attachment_max_bytes
                ),
            ));
        }
        if self.notes_max_chars < 200 {
            return Err(invalid("rally.notes_max_chars", "must be at least 200"));
        }
        if self.api_key_env.trim().is_empty() {
            return Err(invalid(
                "rally.api_key_env",
                "name the environment variable that holds the API key",
            ));
        }
        for (key, value) in [
            ("workspace", &self.workspace),
            ("project", &self.project),
            ("tester", &self.tester),
        ] {
            if let Some(v) = value
                && !v.contains('/')
            {
                return Err(invalid(
                    &format!("rally.{key}"),
                    format!("{v:?} is not a ref; give it like /{key}/12345"),
                ));
            }
        }
        Ok(warnings)
    }
}
