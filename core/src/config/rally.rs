//! The `[rally]` section.

use super::context::{RUN_PREFIXES, RUN_VARS};
use super::{invalid, template};
use crate::error::{Error, Result, Warning};
use crate::status::{RALLY_VERDICTS, ResolvedStatuses, StatusMap, TargetStatuses};
use serde::{Deserialize, Serialize};

/// The test set name built in: the sprint's number.
pub const DEFAULT_TEST_SET_TEMPLATE: &str = "Sprint-{N}-Automated-Tests";
/// The largest attachment Rally accepts.
pub const RALLY_MAX_ATTACHMENT_BYTES: u64 = 50 * 1024 * 1024;
/// Artifacts up to this size are uploaded by default; larger ones are linked.
pub const DEFAULT_INLINE_MAX_BYTES: u64 = 5 * 1024 * 1024;
/// TestCaseResults created per `POST /batch` request by default.
pub const DEFAULT_BATCH_SIZE: u64 = 25;
/// The most entries tmbridge puts in one `/batch` request.
pub const MAX_BATCH_SIZE: u64 = 100;

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
    /// TestCaseResults created per WSAPI `/batch` request (at most 100); 0 or 1:
    /// one `/testcaseresult/create` per result.
    pub batch_size: u64,
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
            batch_size: DEFAULT_BATCH_SIZE,
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
        if self.batch_size > MAX_BATCH_SIZE {
            return Err(invalid(
                "rally.batch_size",
                format!(
                    "{} is too many results for one batch request; allowed: 0 or 1 (one request per result) to {MAX_BATCH_SIZE}",
                    self.batch_size
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

// Several connections, one active (see `rally_connections`).
impl RallyConfig {
    /// The names of the configured connections, in order.
    pub fn connection_names(&self) -> Vec<String> {
        self.connections.keys().cloned().collect()
    }

    /// `[rally]` as the named connection sees it; `active` then names it.
    pub fn with_connection(&self, name: &str) -> Result<RallyConfig> {
        let Some(c) = self.connections.get(name) else {
            let known = self.connection_names();
            return Err(Error::new(
                "config.unknown_connection",
                format!("there is no Rally connection named {name:?}"),
            )
            .with_hint(if known.is_empty() {
                "add one as [rally.connections.NAME] with url, api_key_env, workspace and project"
                    .to_string()
            } else {
                format!("the configured ones: {}", known.join(", "))
            }));
        };
        let mut out = self.clone();
        if let Some(v) = &c.url {
            out.url = Some(v.clone());
        }
        if let Some(v) = &c.api_key_env {
            out.api_key_env = v.clone();
        }
        if let Some(v) = &c.workspace {
            out.workspace = Some(v.clone());
        }
        if let Some(v) = &c.project {
            out.project = Some(v.clone());
        }
        out.active = Some(name.to_string());
        Ok(out)
    }

    /// `[rally]` with the active connection applied; unchanged without connections.
    pub fn resolved(&self) -> Result<RallyConfig> {
        match (&self.active, self.connections.len()) {
            (Some(name), _) => self.with_connection(name),
            (None, 0) => Ok(self.clone()),
            (None, 1) => {
                let name = self.connections.keys().next().cloned().unwrap_or_default();
                self.with_connection(&name)
            }
            (None, _) => Err(invalid(
                "rally.active",
                format!(
                    "is not set, and there are several connections ({}); name the one to use",
                    self.connection_names().join(", ")
                ),
            )),
        }
    }

    /// Checks the connections and that the active one is there.
    fn validate_connections(&self) -> Result<()> {
        for (name, c) in &self.connections {
            c.validate(name)?;
        }
        self.resolved().map(|_| ())
    }
}
