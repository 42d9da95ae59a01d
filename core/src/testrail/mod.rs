//! TestRail API v2: `add_results_for_cases` bodies, ids (`C123`, `S29`, `R7`), the
//! `elapsed` timespan, and the case export of Allure TestOps' TestRail sync (new cases
//! into one suite and section, source fields mapped to `custom_<system_name>` fields,
//! toggles for case creation, result export, or the whole export).

mod elapsed;
mod plan;

pub use crate::target::testrail_ids::{IdKind, parse_id};
pub use elapsed::elapsed;
pub(crate) use plan::new_case;
pub use plan::{
    AddCaseBody, AddResultsForCases, NewCase, ResultEntry, StepResult, TestrailPlan, plan,
};

pub use crate::config::testrail::*;
