//! qTest Manager API v3: the `auto-test-logs` body (`POST
//! /api/v3/projects/{projectId}/auto-test-logs?type=automation`), its test cycle and
//! modules, and the status table toward qTest's automation statuses.
//!
//! Layout in qTest: one test cycle per CI job (named by `cycle_name`, or
//! `Jobless Executions` when the run has no job) under the configured root cycle; each
//! test log's `module_names` is the configured parent module, then the suite or class
//! path, then the browser or device (from a property), which qTest turns into the test
//! suite of the run.

mod plan;

pub use plan::{
    AutoTestLogs, FieldProperty, QtestAttachment, QtestCycle, QtestPlan, TestCycleCreate, TestLog,
    TestStepLog, plan,
};

pub use crate::config::qtest::*;
