//! The list of session kinds.

use crate::error::{Error, Result};
use crate::sync::gitlab;
use crate::sync::kind::Kind;
use crate::sync::qtest;
use crate::sync::rally::kinds as rally;
use crate::sync::testrail::kinds as testrail;
use serde::{Deserialize, Serialize};

/// Every kind a host can start, in the order `session.kinds` lists them.
pub const KINDS: &[Kind] = &[
    rally::CONNECT,
    rally::SCHEMA,
    rally::PUBLISH,
    rally::REQUIREMENTS,
    rally::LINK_CASE,
    rally::DEFECT,
    gitlab::REPORTS,
    testrail::CONNECT,
    testrail::PUBLISH,
    qtest::CONNECT,
    qtest::PUBLISH,
    qtest::REQUIREMENTS,
    qtest::FAILED_RUN,
    qtest::LINK_DEFECT,
];

/// Every kind's input schema, in the order of [`KINDS`]; each target's folder lists
/// its own kinds. A kind missing here is an error the generator's test reports.
#[cfg(feature = "schema")]
pub fn kind_input_schemas(g: &mut schemars::SchemaGenerator) -> Vec<KindSchema> {
    let mut listed = rally::input_schemas(g);
    listed.extend(gitlab::input_schemas(g));
    listed.extend(qtest::kinds::input_schemas(g));
    listed.extend(testrail::input_schemas(g));
    KINDS
        .iter()
        .filter_map(|kind| {
            let input = listed
                .iter()
                .find(|(name, _)| *name == kind.name)?
                .1
                .clone();
            Some(KindSchema {
                name: kind.name,
                input,
            })
        })
        .collect()
}

/// A kind's input (the `input` of its start request) as a JSON Schema, as the core
/// reads it.
#[cfg(feature = "schema")]
#[derive(Serialize)]
pub struct KindSchema {
    pub name: &'static str,
    pub input: schemars::Schema,
}

/// A kind as `session.kinds` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "SessionKind")
)]
pub struct KindInfo {
    pub name: String,
    pub summary: String,
    pub input: String,
}

pub fn kind_list() -> Vec<KindInfo> {
    KINDS
        .iter()
        .map(|k| KindInfo {
            name: k.name.to_string(),
            summary: k.summary.to_string(),
            input: k.input.to_string(),
        })
        .collect()
}

/// The kind of this name, or an error listing the kinds.
pub fn find(name: &str) -> Result<&'static Kind> {
    KINDS.iter().find(|k| k.name == name).ok_or_else(|| {
        let names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        Error::new(
            "session.unknown_kind",
            format!("there is no session kind {name:?}"),
        )
        .with_hint(format!("the kinds are: {}", names.join(", ")))
    })
}
