//! GitLab webhooks: verify `X-Gitlab-Token` in constant time, read a Pipeline Hook
//! event into a typed value, and decide whether it is a finished pipeline worth
//! processing.

mod pipeline;

pub use pipeline::{
    Job, MergeRequest, PipelineDecision, PipelineEvent, Project, decide, parse_pipeline_event,
};

pub use crate::config::gitlab::{FINISHED_STATUSES, GitlabConfig};

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
