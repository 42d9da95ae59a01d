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
