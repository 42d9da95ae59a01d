//! The streaming JUnit XML reader.
//!
//! [`Reader`] reads any `BufRead` and yields owned [`Event`]s (report start, suite
//! start, test case, suite end, report end) in constant memory: only the element being
//! read and the stack of open suites are held. [`parse`] builds a whole [`Report`] on
//! top of it.
//!
//! Dialects: `<testsuites>`, a bare `<testsuite>` and `<testrun>` roots; suites nested
//! to any depth; several `failure`/`error`/`skipped` children (status = most severe);
//! Surefire and nextest reruns (`flakyFailure`, `flakyError`, `rerunFailure`,
//! `rerunError`); `status`/`result` attributes (`disabled`, `notrun`, `skipped`, ...);
//! properties with `value` or text; `[[PROPERTY|k=v]]` and `[[ATTACHMENT|path]]` lines.
//!
//! The same reader reads NUnit 3 and 2, xUnit.net v2, TRX, Robot Framework and
//! Cucumber JSON reports, recognised from their content: see [`formats`].
//!
//! Security: DTDs are never read, entities other than the five predefined ones and
//! character references are never expanded, nothing is ever fetched.

mod build;
mod capture;
mod charset;
mod detect;
mod duration;
mod encoding;
mod events;
pub mod formats;
mod reader;
mod source;

pub use build::{MAX_MAPPED_CASES, cases_for_mapping, parse, parse_with};
pub(crate) use capture::{Capture, first_line, floor_char_boundary};
pub use duration::parse_seconds;
pub use events::{Event, ReportEnd, ReportStart, SuiteEnd};
pub(crate) use reader::Attrs;
pub use reader::Reader;

use serde::{Deserialize, Serialize};

/// Limits and switches of the reader. The defaults suit CI reports of any size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "JunitOptions")
)]
pub struct Options {
    /// Longest system-out, system-err or failure text kept per element, in bytes.
    /// Longer text is cut and flagged, with its original length.
    pub max_captured_bytes: u64,
    /// Deepest element nesting accepted.
    pub max_depth: u64,
    /// Largest single tag (with its attributes), comment or declaration, in bytes.
    pub max_markup_bytes: u64,
    /// Largest single run of text or CDATA, in bytes.
    pub max_text_bytes: u64,
    /// Warnings kept; more are counted but not kept.
    pub max_warnings: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_captured_bytes: 64 * 1024,
            max_depth: 256,
            max_markup_bytes: 1024 * 1024,
            max_text_bytes: 256 * 1024 * 1024,
            max_warnings: 1000,
        }
    }
}
