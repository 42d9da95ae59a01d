//! The Pipeline Hook event (`object_kind: "pipeline"`), read from the JSON GitLab
//! sends, and the decision whether to process it.
//!
//! Timestamps come as `2016-08-12 15:26:29 UTC` (GitLab's webhook form) or ISO 8601
//! (`2016-08-12T15:26:29Z`); both become RFC 3339 UTC. Durations may be integers or
//! decimals of seconds; both become integer microseconds.

use super::{FINISHED_STATUSES, GitlabConfig, PIPELINE_STATUSES, glob_match};
use crate::config::context::{format_seconds, parse_timestamp};
use crate::error::{Error, Location, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Project {
    pub id: u64,
    pub name: Option<String>,
    pub path_with_namespace: Option<String>,
    pub web_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MergeRequest {
    pub iid: u64,
    pub title: Option<String>,
    pub url: Option<String>,
}

/// A job (`builds[]`) of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Job {
    pub id: u64,
    pub name: String,
    pub stage: Option<String>,
    pub status: String,
    pub created_at: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub allow_failure: bool,
    pub manual: bool,
    pub failure_reason: Option<String>,
    /// `{project web_url}/-/jobs/{id}` when the project URL is known.
    pub url: Option<String>,
}

/// A Pipeline Hook event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "GitlabPipelineEvent")
)]
pub struct PipelineEvent {
    pub pipeline_id: u64,
    pub iid: Option<u64>,
    pub name: Option<String>,
    pub ref_name: String,
    pub tag: bool,
    pub sha: String,
    pub before_sha: Option<String>,
    /// `push`, `merge_request_event`, `schedule`, ...
    pub source: Option<String>,
    pub status: String,
    pub detailed_status: Option<String>,
    pub stages: Vec<String>,
    /// RFC 3339 UTC.
    pub created_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_us: Option<u64>,
    pub queued_duration_us: Option<u64>,
    pub url: Option<String>,
    pub project: Option<Project>,
    pub merge_request: Option<MergeRequest>,
    /// The username of who started it.
    pub user: Option<String>,
    pub jobs: Vec<Job>,
}

fn bad(message: impl Into<String>) -> Error {
    Error::new("gitlab.invalid_event", message)
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn id(v: &Value, key: &str, at: &str) -> Result<Option<u64>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => match x.as_u64() {
            Some(n) if n < (1 << 53) => Ok(Some(n)),
            _ => Err(bad(format!("`{at}.{key}` is not an id: {x}"))),
        },
    }
}

fn time(v: &Value, key: &str, at: &str) -> Result<Option<String>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_timestamp(s)
            .map(|t| Some(format_seconds(t)))
            .ok_or_else(|| bad(format!("`{at}.{key}` is not a timestamp: {s:?}"))),
        Some(x) => Err(bad(format!("`{at}.{key}` is not a timestamp: {x}"))),
    }
}

/// Seconds (integer or decimal) → microseconds; negative or absurd values are dropped.
fn micros(v: &Value, key: &str) -> Option<u64> {
    let x = v.get(key)?;
    if let Some(n) = x.as_u64() {
        return n.checked_mul(1_000_000).filter(|us| *us < (1 << 53));
    }
    let f = x.as_f64()?;
    let us = (f * 1_000_000.0).round();
    (0.0..9.0e15).contains(&us).then_some(us as u64)
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// Reads a Pipeline Hook body. Any other event kind, or a body that is not JSON, is an
/// error that says so.
pub fn parse_pipeline_event(bytes: &[u8]) -> Result<PipelineEvent> {
    let root: Value = crate::json::from_slice(bytes).map_err(|e| {
        let mut err = Error::new(
            "gitlab.malformed_json",
            format!("the webhook body is not JSON: {e}"),
        );
        if e.line() > 0 {
            let line_start: usize = bytes
                .split(|b| *b == b'\n')
                .take(e.line() - 1)
                .map(|l| l.len() + 1)
                .sum();
            err = err.at(Location::in_text(
                bytes,
                line_start + e.column().saturating_sub(1),
            ));
        }
        err
    })?;
    let kind = root
        .get("object_kind")
        .and_then(Value::as_str)
        .unwrap_or("");
    if kind != "pipeline" {
        let what = if kind.is_empty() {
            "no object_kind".to_string()
        } else {
            format!("object_kind {kind:?}")
        };
        return Err(Error::new(
            "gitlab.not_a_pipeline_event",
            format!("this webhook body has {what}; tmbridge reads Pipeline Hook events (object_kind \"pipeline\")"),
        )
        .with_hint("in GitLab's webhook settings, enable \"Pipeline events\""));
    }
    let attrs = root
        .get("object_attributes")
        .filter(|v| v.is_object())
        .ok_or_else(|| bad("the event has no `object_attributes`"))?;
    let at = "object_attributes";
    let pipeline_id =
        id(attrs, "id", at)?.ok_or_else(|| bad("`object_attributes.id` is missing"))?;
    let status =
        text(attrs, "status").ok_or_else(|| bad("`object_attributes.status` is missing"))?;
    let project = match root.get("project").filter(|p| p.is_object()) {
        Some(p) => id(p, "id", "project")?.map(|pid| Project {
            id: pid,
            name: text(p, "name"),
            path_with_namespace: text(p, "path_with_namespace"),
            web_url: text(p, "web_url"),
        }),
        None => None,
    };
    let web = project.as_ref().and_then(|p| p.web_url.clone());
    let merge_request = match root.get("merge_request").filter(|m| m.is_object()) {
        Some(m) => id(m, "iid", "merge_request")?.map(|iid| MergeRequest {
            iid,
            title: text(m, "title"),
            url: text(m, "url"),
        }),
        None => None,
    };
    let mut jobs = Vec::new();
    if let Some(builds) = root.get("builds").and_then(Value::as_array) {
        for (i, b) in builds.iter().enumerate() {
            let at = format!("builds[{i}]");
            let Some(job_id) = id(b, "id", &at)? else {
                return Err(bad(format!("`{at}.id` is missing")));
            };
            jobs.push(Job {
                id: job_id,
                name: text(b, "name").unwrap_or_default(),
                stage: text(b, "stage"),
                status: text(b, "status").unwrap_or_default(),
                created_at: time(b, "created_at", &at)?,
                started_at: time(b, "started_at", &at)?,
                finished_at: time(b, "finished_at", &at)?,
                allow_failure: flag(b, "allow_failure"),
                manual: flag(b, "manual"),
                failure_reason: text(b, "failure_reason"),
                url: web
                    .as_ref()
                    .map(|w| format!("{}/-/jobs/{job_id}", w.trim_end_matches('/'))),
            });
        }
    }
    // GitLab lists builds newest first; keep a stable, readable order.
    jobs.sort_by_key(|j| j.id);
    Ok(PipelineEvent {
        pipeline_id,
        iid: id(attrs, "iid", at)?,
        name: text(attrs, "name"),
        ref_name: text(attrs, "ref").unwrap_or_default(),
        tag: flag(attrs, "tag"),
        sha: text(attrs, "sha").unwrap_or_default(),
        before_sha: text(attrs, "before_sha"),
        source: text(attrs, "source"),
        detailed_status: text(attrs, "detailed_status"),
        stages: attrs
            .get("stages")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        created_at: time(attrs, "created_at", at)?,
        finished_at: time(attrs, "finished_at", at)?,
        duration_us: micros(attrs, "duration"),
        queued_duration_us: micros(attrs, "queued_duration"),
        url: text(attrs, "url").or_else(|| {
            web.as_ref()
                .map(|w| format!("{}/-/pipelines/{pipeline_id}", w.trim_end_matches('/')))
        }),
        user: root.get("user").and_then(|u| text(u, "username")),
        project,
        merge_request,
        jobs,
        status,
    })
}

/// Whether to process a pipeline, why, and which jobs hold test reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "GitlabDecision")
)]
pub struct PipelineDecision {
    pub process: bool,
    pub reason: String,
    /// Finished jobs (success or failed) in the configured test stages, by id.
    pub jobs: Vec<u64>,
}

impl PipelineDecision {
    fn ignore(reason: String) -> PipelineDecision {
        PipelineDecision {
            process: false,
            reason,
            jobs: Vec::new(),
        }
    }
}

/// Decides whether a pipeline is finished and matches the configuration.
pub fn decide(event: &PipelineEvent, config: &GitlabConfig) -> PipelineDecision {
    let status = event.status.as_str();
    if !PIPELINE_STATUSES.contains(&status) {
        return PipelineDecision::ignore(format!("unknown pipeline status {status:?}"));
    }
    if !FINISHED_STATUSES.contains(&status) {
        return PipelineDecision::ignore(format!("the pipeline is not finished (status {status})"));
    }
    if !config.statuses.iter().any(|s| s == status) {
        return PipelineDecision::ignore(format!(
            "status {status} is not processed (gitlab.statuses: {})",
            config.statuses.join(", ")
        ));
    }
    if event.tag && !config.include_tags {
        return PipelineDecision::ignore(format!(
            "{} is a tag and gitlab.include_tags is false",
            event.ref_name
        ));
    }
    if !config.refs.is_empty() && !config.refs.iter().any(|p| glob_match(p, &event.ref_name)) {
        return PipelineDecision::ignore(format!(
            "ref {} matches none of gitlab.refs ({})",
            event.ref_name,
            config.refs.join(", ")
        ));
    }
    if !config.sources.is_empty() {
        let source = event.source.as_deref().unwrap_or("");
        if !config.sources.iter().any(|s| s == source) {
            return PipelineDecision::ignore(format!(
                "source {source:?} is not in gitlab.sources ({})",
                config.sources.join(", ")
            ));
        }
    }
    let jobs: Vec<u64> = event
        .jobs
        .iter()
        .filter(|j| matches!(j.status.as_str(), "success" | "failed"))
        .filter(|j| {
            config.test_stages.is_empty()
                || j.stage
                    .as_ref()
                    .is_some_and(|s| config.test_stages.contains(s))
        })
        .map(|j| j.id)
        .collect();
    if jobs.is_empty() {
        return PipelineDecision::ignore("no job of the pipeline finished in a test stage".into());
    }
    PipelineDecision {
        process: true,
        reason: format!(
            "pipeline {} on {} finished: {status}",
            event.pipeline_id, event.ref_name
        ),
        jobs,
    }
}

#[cfg(test)]
mod tests;
