//! What the bridge's qTest side found out: the stories as requirements, and the qTest
//! test cases linked to them.

use serde::{Deserialize, Serialize};

/// What happened to one story in qTest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum RequirementAction {
    Created,
    Updated,
    Unchanged,
}

/// One Rally story as a qTest requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImportedRequirement {
    /// The story's FormattedID (`US12`).
    pub formatted_id: String,
    /// The requirement's id and PID (`RQ-4`) in qTest.
    pub id: u64,
    pub pid: Option<String>,
    pub action: RequirementAction,
}

/// A qTest test case linked to imported requirements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LinkedQtestCase {
    pub id: u64,
    pub pid: Option<String>,
    pub name: String,
    /// The test case's page in qTest, as qTest's API gives it.
    pub web_url: Option<String>,
    /// FormattedIDs of the imported stories it is linked to, in the order linked.
    pub stories: Vec<String>,
}

/// The details of `qtest.requirements`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QtestRequirementsOutput {
    /// The module the requirements are in.
    pub module_id: Option<u64>,
    pub requirements: Vec<ImportedRequirement>,
    /// Linked test cases not in the request's `known_cases`.
    pub linked_cases: Vec<LinkedQtestCase>,
}
