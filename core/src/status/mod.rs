//! Status vocabularies (JUnit, Allure, Rally Verdict, qTest, TestRail `status_id`)
//! and mapping tables with a default and a completeness check.

mod map;

pub use map::{ResolvedStatuses, StatusMap, StatusValue, TargetStatuses};

use crate::error::{Error, Result};
use crate::model::Status;
use serde::{Deserialize, Serialize};

/// The vocabulary a mapping table's keys are written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum SourceVocabulary {
    /// `passed`, `failed`, `error`, `skipped`, `flaky`: the statuses tmbridge reads.
    #[default]
    Junit,
    /// `passed`, `failed`, `broken`, `skipped`, `unknown`: Allure's, as Allure TestOps maps them.
    Allure,
}

pub const JUNIT_STATUSES: [&str; 5] = ["passed", "failed", "error", "skipped", "flaky"];
pub const ALLURE_STATUSES: [&str; 5] = ["passed", "failed", "broken", "skipped", "unknown"];
/// Rally's built-in TestCaseResult Verdict values; a workspace may define its own.
pub const RALLY_VERDICTS: [&str; 5] = ["Pass", "Fail", "Error", "Blocked", "Inconclusive"];
/// qTest's default automation statuses; a project may add its own.
pub const QTEST_STATUSES: [&str; 3] = ["PASS", "FAIL", "SKIP"];

/// TestRail's system statuses. 6 and up are custom statuses.
pub mod testrail_ids {
    pub const PASSED: u64 = 1;
    pub const BLOCKED: u64 = 2;
    pub const UNTESTED: u64 = 3;
    pub const RETEST: u64 = 4;
    pub const FAILED: u64 = 5;
}

impl SourceVocabulary {
    pub fn values(self) -> &'static [&'static str] {
        match self {
            SourceVocabulary::Junit => &JUNIT_STATUSES,
            SourceVocabulary::Allure => &ALLURE_STATUSES,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SourceVocabulary::Junit => "junit",
            SourceVocabulary::Allure => "allure",
        }
    }

    /// The name of a test status in this vocabulary.
    pub fn name_of(self, status: Status) -> &'static str {
        match self {
            SourceVocabulary::Junit => status.as_str(),
            SourceVocabulary::Allure => allure_status(status),
        }
    }
}

/// The Allure status of a JUnit result: errors are `broken`, flaky tests `passed`
/// (Allure marks flakiness separately). `unknown` never comes out of a JUnit report.
pub fn allure_status(status: Status) -> &'static str {
    match status {
        Status::Passed | Status::Flaky => "passed",
        Status::Failed => "failed",
        Status::Error => "broken",
        Status::Skipped => "skipped",
    }
}

/// Reads a TestRail status for a result: `1`..`5`, `6`+ (custom), or the system names
/// `passed`, `blocked`, `retest`, `failed`. `3`/`untested` is refused: TestRail does not
/// accept it for a result.
pub fn testrail_status_id(text: &str) -> Result<u64> {
    let t = text.trim();
    let id = match t.to_ascii_lowercase().as_str() {
        "passed" => testrail_ids::PASSED,
        "blocked" => testrail_ids::BLOCKED,
        "untested" => testrail_ids::UNTESTED,
        "retest" => testrail_ids::RETEST,
        "failed" => testrail_ids::FAILED,
        _ => match t.parse::<u64>() {
            Ok(n) if n > 0 && n < (1 << 53) => n,
            _ => {
                return Err(Error::new(
                    "status.invalid_testrail_status",
                    format!("{t:?} is not a TestRail status"),
                )
                .with_hint(
                    "use 1 (Passed), 2 (Blocked), 4 (Retest), 5 (Failed), a custom status id \
                     from 6 up, or one of passed, blocked, retest, failed",
                ));
            }
        },
    };
    if id == testrail_ids::UNTESTED {
        return Err(Error::new(
            "status.untested_refused",
            "status 3 (Untested) cannot be used for a result: TestRail refuses it",
        )
        .with_hint("map to 4 (Retest) or 2 (Blocked) instead"));
    }
    Ok(id)
}

/// A value the core reads without the instance (`5`, `failed`).
fn is_testrail_builtin(value: &str) -> bool {
    testrail_status_id(value).is_ok()
}

/// The table with every value it cannot read alone replaced by `1`: to check the
/// rest of the configuration before the instance's statuses are known.
pub fn testrail_placeholder(map: &StatusMap) -> StatusMap {
    let mut out = map.clone();
    for v in out.entries.values_mut().chain(out.default.iter_mut()) {
        if !is_testrail_builtin(&v.0)
            && !v.0.trim().eq_ignore_ascii_case("untested")
            && v.0.trim() != "3"
        {
            *v = StatusValue("1".into());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allure_names_cover_every_junit_status() {
        let names: Vec<_> = Status::ALL.iter().map(|s| allure_status(*s)).collect();
        assert_eq!(names, ["passed", "passed", "skipped", "failed", "broken"]);
        for n in names {
            assert!(ALLURE_STATUSES.contains(&n));
        }
        assert_eq!(SourceVocabulary::Junit.name_of(Status::Error), "error");
    }

    #[test]
    fn testrail_status_ids() {
        assert_eq!(testrail_status_id("1").unwrap(), 1);
        assert_eq!(testrail_status_id(" Failed ").unwrap(), 5);
        assert_eq!(testrail_status_id("retest").unwrap(), 4);
        assert_eq!(testrail_status_id("12").unwrap(), 12);
        assert_eq!(
            testrail_status_id("3").unwrap_err().code,
            "status.untested_refused"
        );
        assert_eq!(
            testrail_status_id("untested").unwrap_err().code,
            "status.untested_refused"
        );
        for bad in ["0", "-1", "x", "", "1.5", "99999999999999999999"] {
            assert_eq!(
                testrail_status_id(bad).unwrap_err().code,
                "status.invalid_testrail_status",
                "{bad}"
            );
        }
    }
}
