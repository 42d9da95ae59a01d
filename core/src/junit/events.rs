//! The events the streaming reader yields.

use crate::error::{Location, Warning};
use crate::model::{CapturedText, Counts, DeclaredCounts, Property, RootKind, SuiteInfo, TestCase};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "JunitEvent")
)]
pub enum Event {
    ReportStart(ReportStart),
    /// Boxed, so the queue of events stays small: suites are few, cases many.
    SuiteStart(Box<SuiteInfo>),
    Case(Box<TestCase>),
    SuiteEnd(SuiteEnd),
    ReportEnd(ReportEnd),
}

/// The root element's attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReportStart {
    pub root: RootKind,
    pub name: Option<String>,
    pub declared: DeclaredCounts,
    pub duration_us: Option<u64>,
    pub timestamp: Option<String>,
    pub location: Location,
}

/// What a suite held that is only known at its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SuiteEnd {
    pub path: Vec<String>,
    pub system_out: Option<CapturedText>,
    pub system_err: Option<CapturedText>,
    /// Properties that came after the first test case or child suite.
    pub late_properties: Vec<Property>,
    /// Counts of the test cases in this suite and below.
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReportEnd {
    pub counts: Counts,
    pub suites: u64,
    pub warnings: Vec<Warning>,
    /// Warnings beyond `Options::max_warnings`, counted but not kept.
    pub warnings_dropped: u64,
}
