//! What a session found out, beyond what it created: the `details` of its report,
//! one variant per kind of session. Plain data: each target's sessions fill them in.

pub mod bridge;
pub mod gitlab;
pub mod qtest;
pub mod rally;
pub mod testrail;

use serde::{Deserialize, Serialize};

/// Session-specific results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "session", rename_all = "snake_case")]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "SessionDetails")
)]
pub enum Details {
    Connection(rally::ConnectionInfo),
    Publish(rally::PublishDetails),
    Requirements(rally::RequirementsOutput),
    LinkTestCase(rally::LinkedTestCase),
    Defect(rally::DefectOutput),
    Schema(rally::SchemaOutput),
    GitlabReports(gitlab::ReportsOutput),
    TestrailConnection(testrail::TestrailConnection),
    TestrailPublish(testrail::TestrailPublishDetails),
    QtestConnection(qtest::QtestConnection),
    QtestPublish(qtest::QtestPublishDetails),
    QtestRequirements(bridge::QtestRequirementsOutput),
    QtestFailedRun(Box<qtest::QtestFailedRun>),
    QtestDefectLink(qtest::QtestDefectLink),
}
