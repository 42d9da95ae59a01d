//! The test-management systems and how their case ids are written (`C123`, `TC12`,
//! `S29`): the vocabulary every other module shares, depending on nothing but errors.

pub mod case_ids;
pub mod testrail_ids;

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The test-management system results go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Target {
    Rally,
    Qtest,
    Testrail,
}

impl Target {
    pub const ALL: [Target; 3] = [Target::Rally, Target::Qtest, Target::Testrail];

    pub fn as_str(self) -> &'static str {
        match self {
            Target::Rally => "rally",
            Target::Qtest => "qtest",
            Target::Testrail => "testrail",
        }
    }

    pub fn parse(text: &str) -> Result<Target> {
        Target::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                Error::new("config.unknown_target", format!("{text:?} is not a target"))
                    .with_hint("allowed: rally, qtest, testrail")
            })
    }
}
