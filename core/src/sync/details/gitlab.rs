//! What the `gitlab.reports` session found: the test jobs of a pipeline, the report
//! files in their artifact archives with the files those reports attach, or the
//! pipeline's test report when no archive holds one.

use crate::model::TestCase;
use serde::{Deserialize, Serialize};

/// Where the tests came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ReportSource {
    /// Report files in the jobs' artifact archives.
    Artifacts,
    /// GitLab's pipeline `test_report` API (no archive held a report).
    TestReport,
    /// Neither: no job kept a report and GitLab has no test report.
    None,
}

/// A job of the pipeline that was looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct JobFound {
    pub id: u64,
    pub name: String,
    pub stage: String,
    pub web_url: Option<String>,
    /// Archive members that matched the report globs.
    pub reports: Vec<String>,
}

/// A file taken from an archive, its bytes in base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ArchiveFile {
    pub job_id: u64,
    /// The member's path in the archive.
    pub member: String,
    /// For attachments: the path exactly as the report names it (a runner path
    /// like `/builds/group/project/shots/a.png`, or relative); the report's member
    /// for reports.
    pub named_as: String,
    /// The report member that names it (attachments only).
    pub report: Option<String>,
    pub content_base64: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReportsOutput {
    pub source: ReportSource,
    pub jobs: Vec<JobFound>,
    pub reports: Vec<ArchiveFile>,
    pub attachments: Vec<ArchiveFile>,
    /// The pipeline's test report as test cases, when it was the source.
    pub test_report: Option<Vec<TestCase>>,
}
