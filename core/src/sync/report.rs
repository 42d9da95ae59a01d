//! The final word of a session: what was created, updated, skipped or failed, and
//! why, plus what the session found out (refs, requirements, the defect).

use super::details::Details;
use crate::error::{Error, Warning};
use serde::{Deserialize, Serialize};

/// What kind of record an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum RecordKind {
    TestCaseResult,
    Attachment,
    TestSet,
    TestSetMembers,
    TestCase,
    Defect,
    /// A FormattedID looked up on the target.
    Lookup,
    /// A qTest requirement (a Rally story brought over by the bridge).
    Requirement,
    /// A qTest module.
    Module,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::TestCaseResult => "test_case_result",
            RecordKind::Attachment => "attachment",
            RecordKind::TestSet => "test_set",
            RecordKind::TestSetMembers => "test_set_members",
            RecordKind::TestCase => "test_case",
            RecordKind::Defect => "defect",
            RecordKind::Lookup => "lookup",
            RecordKind::Requirement => "requirement",
            RecordKind::Module => "module",
        }
    }
}

/// One record and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "SyncEntry")
)]
pub struct Entry {
    pub kind: RecordKind,
    /// What it is in people's terms: `TC12`, `TC12 screenshot.png`, a test set name.
    pub key: String,
    /// The record's ref on the target, when there is one.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub why: String,
    /// The tests behind it (`classname.name`).
    pub tests: Vec<String>,
}

impl Entry {
    pub fn new(kind: RecordKind, key: impl Into<String>, why: impl Into<String>) -> Entry {
        Entry {
            kind,
            key: key.into(),
            reference: None,
            why: why.into(),
            tests: Vec::new(),
        }
    }

    pub fn with_ref(mut self, reference: Option<String>) -> Entry {
        self.reference = reference;
        self
    }

    pub fn with_tests(mut self, tests: Vec<String>) -> Entry {
        self.tests = tests;
        self
    }
}

/// How the exchange went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "SyncStats")
)]
pub struct Stats {
    /// Requests handed to the host, retries included.
    pub requests: u64,
    /// Of those, tries after a failure.
    pub retries: u64,
    /// Time the session asked the host to wait, in milliseconds.
    pub waited_ms: u64,
}

/// The outcome of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "SyncReport")
)]
pub struct Report {
    pub created: Vec<Entry>,
    pub updated: Vec<Entry>,
    pub skipped: Vec<Entry>,
    pub failed: Vec<Entry>,
    pub warnings: Vec<Warning>,
    /// Why the session stopped before the end (bad key, wrong URL, target down).
    pub error: Option<Error>,
    /// The stop was caused by something passing (the target down, too many 5xx):
    /// running the same work again later may finish it.
    pub retryable: bool,
    pub stats: Stats,
    pub details: Details,
}

impl Report {
    /// Nothing failed and the session ran to its end.
    pub fn is_success(&self) -> bool {
        self.error.is_none() && self.failed.is_empty()
    }
}

/// Entries sorted into the report's four lists as a session goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub created: Vec<Entry>,
    pub updated: Vec<Entry>,
    pub skipped: Vec<Entry>,
    pub failed: Vec<Entry>,
    pub warnings: Vec<Warning>,
}

impl Ledger {
    pub fn into_report(
        self,
        error: Option<Error>,
        retryable: bool,
        stats: Stats,
        details: Details,
    ) -> Report {
        Report {
            created: self.created,
            updated: self.updated,
            skipped: self.skipped,
            failed: self.failed,
            warnings: self.warnings,
            error,
            retryable,
            stats,
            details,
        }
    }

    pub fn warn(&mut self, w: Warning) {
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }
}
