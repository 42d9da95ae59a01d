//! The list of session kinds.

use crate::error::{Error, Result};
use crate::sync::gitlab;
use crate::sync::kind::Kind;
use crate::sync::qtest;
use crate::sync::rally::kinds as rally;
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
    qtest::CONNECT,
    qtest::PUBLISH,
];

/// A kind as `session.kinds` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
