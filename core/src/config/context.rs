//! What a host tells the core about one run: the clock, the CI job, the artifacts it
//! found on disk, and the ids it already looked up on the target (the ref cache).

use crate::error::{Error, Result};
use crate::model::TestCase;
use jiff::{Timestamp, tz::TimeZone};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Placeholders every run-level template may use.
pub const RUN_VARS: &[&str] = &[
    "pipeline_id",
    "pipeline_url",
    "job_id",
    "job_name",
    "job_url",
    "ref",
    "sha",
    "short_sha",
    "project_url",
    "report_url",
    "sprint",
    "N",
    "date",
];

/// Placeholders a per-test template may use on top of [`RUN_VARS`].
pub const TEST_VARS: &[&str] = &["name", "classname", "full_name", "suite", "file", "status"];

/// Prefixes: `{var.NAME}` for extra run variables, `{property.NAME}` for test properties.
pub const RUN_PREFIXES: &[&str] = &["var."];
pub const TEST_PREFIXES: &[&str] = &["var.", "property."];

/// The run being published. Every field but `now` is optional; templates that need a
/// missing value fail with an error that names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "MapContext")
)]
pub struct RunContext {
    /// The current time, RFC 3339 (`2024-05-01T10:00:00Z`). The host supplies the clock.
    pub now: String,
    pub pipeline_id: Option<String>,
    pub pipeline_url: Option<String>,
    pub job_id: Option<String>,
    pub job_name: Option<String>,
    pub job_url: Option<String>,
    /// The branch or tag (GitLab `CI_COMMIT_REF_NAME`).
    pub ref_name: Option<String>,
    pub sha: Option<String>,
    pub project_url: Option<String>,
    /// Where people can read the whole CI test report.
    pub report_url: Option<String>,
    /// The sprint (iteration) number or name, for sprint test sets.
    pub sprint: Option<String>,
    /// Extra values for `{var.NAME}` placeholders.
    pub vars: BTreeMap<String, String>,
    /// What the host knows about files named in test attachments.
    pub artifacts: Vec<ArtifactInfo>,
}

/// A file a test attached (a screenshot, a log), as the host found it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ArtifactInfo {
    /// The path exactly as the report names it.
    pub path: String,
    /// Size in bytes; `None` when the host could not read the file.
    pub size: Option<u64>,
    pub content_type: Option<String>,
    /// Where people can download it (e.g. the CI job's artifact browser).
    pub url: Option<String>,
}

/// Ids the host already resolved on the target. Builders are pure functions of it:
/// anything missing shows up as a lookup or a container to create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RefCache {
    /// Rally test case FormattedID (`TC123`) → ref (`/testcase/123456`).
    pub rally_test_cases: BTreeMap<String, String>,
    /// Rally test set name → ref.
    pub rally_test_sets: BTreeMap<String, String>,
    /// qTest test cycle name → id or PID.
    pub qtest_cycles: BTreeMap<String, String>,
    /// Automation id (`classname.name`) → case key on the target (`C123`, `TC45`).
    pub automation_ids: BTreeMap<String, String>,
}

impl RunContext {
    /// The value of a run-level placeholder.
    pub fn lookup(&self, name: &str) -> Option<String> {
        let v = match name {
            "pipeline_id" => self.pipeline_id.clone(),
            "pipeline_url" => self.pipeline_url.clone(),
            "job_id" => self.job_id.clone(),
            "job_name" => self.job_name.clone(),
            "job_url" => self.job_url.clone(),
            "ref" => self.ref_name.clone(),
            "sha" => self.sha.clone(),
            "short_sha" => self.sha.as_ref().map(|s| s.chars().take(8).collect()),
            "project_url" => self.project_url.clone(),
            "report_url" => self.report_url.clone(),
            "sprint" | "N" => self.sprint.clone(),
            "date" => self.now().ok().map(format_date),
            _ => name
                .strip_prefix("var.")
                .and_then(|v| self.vars.get(v).cloned()),
        };
        v.filter(|s| !s.is_empty())
    }

    /// The value of a per-test placeholder, falling back to run-level ones. A property
    /// the test does not have is empty text, not a missing value.
    pub fn lookup_for(&self, case: &TestCase, name: &str) -> Option<String> {
        let v = match name {
            "name" => Some(case.name.clone()),
            "classname" => case.classname.clone(),
            "full_name" => Some(case.full_name()),
            "suite" => (!case.suite.is_empty()).then(|| case.suite.join(" / ")),
            "file" => case.file.clone(),
            "status" => Some(case.status.as_str().to_string()),
            _ => match name.strip_prefix("property.") {
                // Not every test carries every property: a missing one is empty text.
                Some(p) => return Some(case.property(p).unwrap_or("").to_string()),
                None => return self.lookup(name),
            },
        };
        v.filter(|s| !s.is_empty())
    }

    /// `now`, parsed. It must carry its zone: a host's clock read without one
    /// (Python's `datetime.now().isoformat()`) is local time, and taking it as UTC
    /// would date every result hours off.
    pub fn now(&self) -> Result<Timestamp> {
        let text = self.now.trim();
        if text.parse::<Timestamp>().is_err() && text.parse::<jiff::civil::DateTime>().is_ok() {
            return Err(Error::new(
                "context.naive_now",
                format!("the run time {text:?} has no time zone, so it cannot be read as a moment"),
            )
            .with_hint("add the zone: `2024-05-01T10:00:00Z` or `+02:00`; Python: datetime.now(timezone.utc).isoformat(); JavaScript: new Date().toISOString()"));
        }
        parse_timestamp(&self.now).ok_or_else(|| {
            Error::new(
                "context.invalid_now",
                format!("the run time {:?} is not an RFC 3339 timestamp", self.now),
            )
            .with_hint("give it like 2024-05-01T10:00:00Z")
        })
    }

    /// What the host found for an attachment path.
    pub fn artifact(&self, path: &str) -> Option<&ArtifactInfo> {
        self.artifacts.iter().find(|a| a.path == path)
    }
}

/// Reads a timestamp as tools write them: RFC 3339 with `Z` or an offset, a naive
/// `2024-05-01T10:00:00` (taken as UTC, as JUnit writers mean it), or GitLab's
/// `2016-08-12 15:26:29 UTC`.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let t = match t.strip_suffix(" UTC") {
        Some(head) => format!("{head}Z"),
        None => t.to_string(),
    };
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Some(ts);
    }
    let dt = t.parse::<jiff::civil::DateTime>().ok()?;
    dt.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
}

/// `2016-08-12T15:26:29.000Z`: UTC with milliseconds, the form Rally itself writes.
pub fn format_millis(ts: Timestamp) -> String {
    let dt = ts.to_zoned(TimeZone::UTC).datetime();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.subsec_nanosecond() / 1_000_000
    )
}

/// `2016-08-12T15:26:29Z`: UTC, whole seconds.
pub fn format_seconds(ts: Timestamp) -> String {
    let dt = ts.to_zoned(TimeZone::UTC).datetime();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

fn format_date(ts: Timestamp) -> String {
    let d = ts.to_zoned(TimeZone::UTC).date();
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// Adds a duration in microseconds, saturating at the end of jiff's range.
pub fn add_micros(ts: Timestamp, micros: u64) -> Timestamp {
    let us = i64::try_from(micros).unwrap_or(i64::MAX);
    ts.checked_add(jiff::SignedDuration::from_micros(us))
        .unwrap_or(Timestamp::MAX)
}

/// Subtracts a duration in microseconds, saturating at the start of jiff's range.
pub fn sub_micros(ts: Timestamp, micros: u64) -> Timestamp {
    let us = i64::try_from(micros).unwrap_or(i64::MAX);
    ts.checked_sub(jiff::SignedDuration::from_micros(us))
        .unwrap_or(Timestamp::MIN)
}

/// The RFC 3339 form of a Unix time in milliseconds: how a host turns its clock into
/// [`RunContext::now`] without a date library of its own.
pub fn timestamp_from_unix_millis(ms: i64) -> Result<String> {
    Timestamp::from_millisecond(ms)
        .map(format_millis)
        .map_err(|e| {
            Error::new(
                "context.invalid_now",
                format!("{ms} ms is out of range: {e}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_time_without_a_zone_is_refused_with_the_fix() {
        let context = |now: &str| RunContext {
            now: now.to_string(),
            ..RunContext::default()
        };
        let error = context("2024-05-01T10:00:00").now().unwrap_err();
        assert_eq!(error.code, "context.naive_now");
        assert!(error.hint.unwrap_or_default().contains("timezone.utc"));
        assert!(context("2024-05-01T10:00:00+02:00").now().is_ok());
        assert_eq!(
            context("soon").now().unwrap_err().code,
            "context.invalid_now"
        );
    }

    #[test]
    fn reads_the_timestamp_forms_tools_write() {
        let want = "2016-08-12T15:26:29.000Z";
        for t in [
            "2016-08-12 15:26:29 UTC",
            "2016-08-12T15:26:29Z",
            "2016-08-12T17:26:29+02:00",
            "2016-08-12T15:26:29",
        ] {
            let ts = parse_timestamp(t).unwrap_or_else(|| panic!("{t}"));
            assert_eq!(format_millis(ts), want, "{t}");
        }
        assert!(parse_timestamp("yesterday").is_none());
        assert!(parse_timestamp("").is_none());
    }

    #[test]
    fn formats_milliseconds_and_seconds() {
        let ts = parse_timestamp("2024-02-29T23:59:59.1234Z").unwrap();
        assert_eq!(format_millis(ts), "2024-02-29T23:59:59.123Z");
        assert_eq!(format_seconds(ts), "2024-02-29T23:59:59Z");
        assert_eq!(
            timestamp_from_unix_millis(1_000).unwrap(),
            "1970-01-01T00:00:01.000Z"
        );
    }

    #[test]
    fn lookup_covers_run_vars_and_ignores_empty_values() {
        let mut ctx = RunContext {
            now: "2024-05-01T10:00:00Z".into(),
            sha: Some("0123456789abcdef".into()),
            sprint: Some("12".into()),
            job_name: Some(String::new()),
            ..RunContext::default()
        };
        ctx.vars.insert("env".into(), "staging".into());
        assert_eq!(ctx.lookup("short_sha").as_deref(), Some("01234567"));
        assert_eq!(ctx.lookup("N").as_deref(), Some("12"));
        assert_eq!(ctx.lookup("date").as_deref(), Some("2024-05-01"));
        assert_eq!(ctx.lookup("var.env").as_deref(), Some("staging"));
        assert_eq!(ctx.lookup("job_name"), None);
        assert_eq!(ctx.lookup("var.none"), None);
        for name in RUN_VARS {
            // Every advertised name is answered (maybe with None), never panics.
            let _ = ctx.lookup(name);
        }
    }

    #[test]
    fn bad_now_is_an_error_with_a_hint() {
        let ctx = RunContext {
            now: "soon".into(),
            ..RunContext::default()
        };
        let e = ctx.now().unwrap_err();
        assert_eq!(e.code, "context.invalid_now");
        assert!(e.hint.is_some());
    }
}
