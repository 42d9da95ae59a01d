//! The `[gitlab]` section.

use super::invalid;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// The statuses of a pipeline that will not change any more.
pub const FINISHED_STATUSES: &[&str] = &["success", "failed", "canceled", "skipped"];

/// The `[gitlab]` section: which pipelines are worth processing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GitlabConfig {
    /// The environment variable holding the webhook secret token.
    pub token_env: String,
    /// Finished statuses to process.
    pub statuses: Vec<String>,
    /// Refs to process: exact names or `*` patterns (`release/*`); empty for all.
    pub refs: Vec<String>,
    pub include_tags: bool,
    /// Pipeline sources to process (`push`, `merge_request_event`, `schedule`, ...);
    /// empty for all.
    pub sources: Vec<String>,
    /// Stages whose jobs produce test reports; empty for all.
    pub test_stages: Vec<String>,
}

impl Default for GitlabConfig {
    fn default() -> Self {
        GitlabConfig {
            token_env: "TMBRIDGE_GITLAB_TOKEN".into(),
            statuses: vec!["success".into(), "failed".into()],
            refs: Vec::new(),
            include_tags: true,
            sources: Vec::new(),
            test_stages: Vec::new(),
        }
    }
}

impl GitlabConfig {
    pub fn validate(&self) -> Result<()> {
        if self.token_env.trim().is_empty() {
            return Err(invalid(
                "gitlab.token_env",
                "name the environment variable that holds the webhook token",
            ));
        }
        if self.statuses.is_empty() {
            return Err(invalid(
                "gitlab.statuses",
                "lists no status, so no pipeline would be processed; allowed: success, failed, canceled, skipped",
            ));
        }
        for s in &self.statuses {
            if !FINISHED_STATUSES.contains(&s.as_str()) {
                return Err(invalid(
                    "gitlab.statuses",
                    format!(
                        "{s:?} is not a finished pipeline status; allowed: success, failed, canceled, skipped"
                    ),
                ));
            }
        }
        for (key, list) in [
            ("refs", &self.refs),
            ("sources", &self.sources),
            ("test_stages", &self.test_stages),
        ] {
            if list.iter().any(|r| r.trim().is_empty()) {
                return Err(invalid(&format!("gitlab.{key}"), "holds an empty entry"));
            }
        }
        Ok(())
    }
}
