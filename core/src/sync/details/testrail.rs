//! What each TestRail session found out, carried in the report's `details`.

use crate::config::RefCache;
use crate::matching::{ResultLine, ReviewItem};
use serde::{Deserialize, Serialize};

/// A TestRail record in people's terms (`P1 Web`, `S3 API`, `R7 CI 42`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "TestrailNamed")
)]
pub struct Named {
    pub id: u64,
    pub name: Option<String>,
}

/// A status TestRail knows (`get_statuses`), custom ones included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "TestrailStatus")
)]
pub struct StatusInfo {
    pub id: u64,
    /// The system name: `passed`, `custom_status2`.
    pub name: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestrailConnection {
    /// The API base (`https://example.testrail.io/index.php?/api/v2/`).
    pub base_url: String,
    pub user: String,
    pub project: Option<Named>,
    /// 1 single suite, 2 single suite with baselines, 3 multiple suites.
    pub suite_mode: Option<u64>,
    pub suite: Option<Named>,
    pub section: Option<Named>,
    pub statuses: Vec<StatusInfo>,
    /// System names of the case fields that apply to the project.
    pub case_fields: Vec<String>,
    /// System names of the result fields that apply to the project.
    pub result_fields: Vec<String>,
    /// Every check passed.
    pub ok: bool,
}

/// Why an export switched itself off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "TestrailAccessLost")
)]
pub struct AccessLost {
    /// `testrail.unauthorized` or `testrail.forbidden`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestrailPublishDetails {
    pub project: Option<Named>,
    pub suite: Option<Named>,
    /// The run the results went to (in a plan entry when `plan` is set).
    pub run: Option<Named>,
    pub plan: Option<Named>,
    /// Automation id → case key, with the cases created and found: for the host to keep.
    pub cache: RefCache,
    /// One line per result sent.
    pub summary: Vec<ResultLine>,
    /// Tests not exported, and why.
    pub review: Vec<ReviewItem>,
    /// Set when the credentials or the rights were refused: the export must stay off
    /// until someone reconnects.
    pub access_lost: Option<AccessLost>,
}
