//! GitLab webhooks: verify `X-Gitlab-Token` in constant time, read a Pipeline Hook
//! event into a typed value, and decide whether it is a finished pipeline worth
//! processing.

mod pipeline;

pub use pipeline::{
    Job, MergeRequest, PipelineDecision, PipelineEvent, Project, decide, parse_pipeline_event,
};

use crate::config::invalid;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// The `X-Gitlab-Event` value of pipeline events.
pub const PIPELINE_HOOK: &str = "Pipeline Hook";

/// Every pipeline status GitLab sends.
pub const PIPELINE_STATUSES: &[&str] = &[
    "created",
    "waiting_for_resource",
    "preparing",
    "pending",
    "running",
    "success",
    "failed",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
];

/// The statuses of a pipeline that will not change any more.
pub const FINISHED_STATUSES: &[&str] = &["success", "failed", "canceled", "skipped"];

/// The `[gitlab]` section: which pipelines are worth processing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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

/// Compares the `X-Gitlab-Token` header with the configured secret in time that does
/// not depend on where they differ. An empty secret never verifies.
pub fn verify_token(expected: &[u8], received: Option<&[u8]>) -> bool {
    let Some(received) = received else {
        return false;
    };
    if expected.is_empty() {
        return false;
    }
    let mut diff = (expected.len() ^ received.len()) as u64;
    for (i, e) in expected.iter().enumerate() {
        let r = received.get(i).copied().unwrap_or(0);
        diff |= u64::from(e ^ r);
    }
    std::hint::black_box(diff) == 0
}

/// True for the `X-Gitlab-Event` header of pipeline events.
pub fn is_pipeline_hook(event_header: Option<&str>) -> bool {
    event_header.is_some_and(|h| h.trim() == PIPELINE_HOOK)
}

/// `*` matches any run of characters; everything else matches itself.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(p) => rest = &rest[p + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_verification() {
        assert!(verify_token(b"s3cret", Some(b"s3cret")));
        assert!(!verify_token(b"s3cret", Some(b"s3cres")));
        assert!(!verify_token(b"s3cret", Some(b"s3cret ")));
        assert!(!verify_token(b"s3cret", Some(b"s3cre")));
        assert!(!verify_token(b"s3cret", Some(b"")));
        assert!(!verify_token(b"s3cret", None));
        assert!(!verify_token(b"", Some(b"")));
    }

    #[test]
    fn pipeline_hook_header() {
        assert!(is_pipeline_hook(Some("Pipeline Hook")));
        assert!(!is_pipeline_hook(Some("Job Hook")));
        assert!(!is_pipeline_hook(None));
    }

    #[test]
    fn globs() {
        assert!(glob_match("main", "main"));
        assert!(!glob_match("main", "main2"));
        assert!(glob_match("release/*", "release/1.2"));
        assert!(!glob_match("release/*", "hotfix/1"));
        assert!(glob_match("*-stable", "2-0-stable"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxcyyb"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn config_checks_statuses() {
        let c = GitlabConfig {
            statuses: vec!["running".into()],
            ..GitlabConfig::default()
        };
        let e = c.validate().unwrap_err();
        assert!(e.message.contains("`gitlab.statuses`") && e.message.contains("canceled"));
        assert!(GitlabConfig::default().validate().is_ok());
    }
}
