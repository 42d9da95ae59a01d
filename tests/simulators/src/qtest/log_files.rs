//! The files of test logs (with their bytes) and the comments of test runs, as the
//! qTest simulator keeps them for `failed_runs`.

use std::collections::BTreeMap;

/// A file of a test log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogFile {
    pub id: u64,
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A comment on a test run.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: u64,
    pub run_id: u64,
    pub content: String,
}

/// The files of the logs and the comments of the runs.
#[derive(Debug, Default)]
pub struct State {
    pub files: BTreeMap<u64, Vec<LogFile>>,
    pub comments: Vec<Comment>,
}
