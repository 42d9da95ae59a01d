//! What each Rally session found out, carried in the report's `details`.

use crate::config::RefCache;
use crate::matching::{ResultLine, ReviewItem};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a Rally session signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum AuthMode {
    ApiKey,
    Basic,
}

/// A record in people's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NamedRef {
    #[serde(rename = "ref")]
    pub reference: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConnectionInfo {
    pub base_url: String,
    pub auth: AuthMode,
    /// The signed-in user's name.
    pub user: Option<String>,
    pub workspace: Option<NamedRef>,
    pub project: Option<NamedRef>,
    /// Every check passed.
    pub ok: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PublishDetails {
    /// The ref cache with everything looked up, for the host to keep.
    pub cache: RefCache,
    pub iteration: Option<NamedRef>,
    /// The sprint number or name the test set is named after.
    pub sprint: Option<String>,
    pub test_set: Option<NamedRef>,
    /// One line per published result.
    pub summary: Vec<ResultLine>,
    /// Tests not published, and why.
    pub review: Vec<ReviewItem>,
    /// FormattedIDs with no test case in Rally.
    pub missing: Vec<String>,
}

/// A user story as imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Requirement {
    #[serde(rename = "ref")]
    pub reference: String,
    pub formatted_id: Option<String>,
    pub name: Option<String>,
    pub project: Option<String>,
    pub last_update_date: Option<String>,
    /// The requested fields as text (references as refs, empty for null).
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RequirementsOutput {
    pub requirements: Vec<Requirement>,
    /// The query sent (normalised), when there was one.
    pub query: Option<String>,
    /// Give this as `since` to the next poll: the latest LastUpdateDate seen, or the
    /// previous `since` when nothing changed.
    pub next_since: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LinkedTestCase {
    pub formatted_id: Option<String>,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub name: String,
    /// The user story it is linked to.
    pub work_product: Option<String>,
    /// False when an existing test case was found and reused.
    pub created: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DefectOutput {
    pub formatted_id: Option<String>,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// The defect's Name (its summary).
    pub name: Option<String>,
    pub state: Option<String>,
    /// The test case and the user story it is linked to (refs), when there are.
    #[serde(default)]
    pub test_case: Option<String>,
    #[serde(default)]
    pub requirement: Option<String>,
    /// Files attached to the defect, by name.
    #[serde(default)]
    pub attachments: Vec<String>,
}

/// A file to attach to a defect: its bytes travel as base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DefectAttachment {
    pub name: String,
    pub content_type: String,
    pub content_base64: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SchemaOutput {
    /// The type's form schema; `None` when the session stopped before it was read.
    pub schema: Option<crate::autofill::Schema>,
}
