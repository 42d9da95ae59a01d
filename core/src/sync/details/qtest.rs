//! What each qTest session found out, carried in the report's `details`.

use crate::matching::{ResultLine, ReviewItem};
use serde::{Deserialize, Serialize};

/// One automation status value and the Test Run status the project maps it to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QtestStatusMapping {
    /// `PASS`
    pub value: String,
    /// `Passed`
    pub run_status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QtestConnection {
    /// The site, as configured (`https://example.qtestnet.com`).
    pub site: String,
    pub project_id: u64,
    pub project_name: Option<String>,
    /// The project's automation integration is on.
    pub automation_enabled: Option<bool>,
    pub mappings: Vec<QtestStatusMapping>,
    /// Every check passed.
    pub ok: bool,
}

/// A qTest object, by id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QtestObject {
    pub id: u64,
    pub name: String,
}

/// One execution as it reached qTest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QtestExecution {
    /// The automation content (`classname.name`).
    pub key: String,
    /// The test suite (browser or device).
    pub suite: String,
    pub test_case: Option<u64>,
    pub test_run: Option<u64>,
    pub test_log: Option<u64>,
    /// The automation status sent (`PASS`).
    pub status: String,
    /// The log was there already (a rerun of the same work): nothing was sent.
    pub existed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QtestPublishDetails {
    pub project_id: u64,
    pub test_cycle: Option<QtestObject>,
    pub test_suites: Vec<QtestObject>,
    pub mappings: Vec<QtestStatusMapping>,
    pub executions: Vec<QtestExecution>,
    /// One line per published result.
    pub summary: Vec<ResultLine>,
    /// Tests not published, and why.
    pub review: Vec<ReviewItem>,
}

/// A failed qTest test run read for a defect (`qtest.failed_run`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QtestFailedRun {
    pub test_run_id: u64,
    pub test_log_id: Option<u64>,
    /// The run, its test case and its latest log as the auto-fill reads them
    /// (`autofill.fill`'s `run`).
    pub run: crate::autofill::RunContext,
    /// The run's page in qTest: the defect's Description links to it.
    pub run_url: Option<String>,
    /// The test case's page in qTest: the Rally test case made from it holds it in
    /// its Description (`rally.defect`'s `test_case_link`).
    pub test_case_url: Option<String>,
    /// The latest log's files (`rally.defect`'s `attachments`).
    pub attachments: Vec<super::rally::DefectAttachment>,
}

/// A Rally defect linked back to a qTest test run (`qtest.link_defect`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QtestDefectLink {
    pub test_run_id: u64,
    /// The comment on the run that links the defect.
    pub comment_id: Option<u64>,
    /// The run had the link already (a rerun): nothing was added.
    pub existed: bool,
}
