//! The normalised test result: what every JUnit dialect is read into and what
//! matching, mapping and the payload builders consume.

use crate::error::{Location, Warning};
use serde::{Deserialize, Serialize};

/// The outcome of one test case.
///
/// Ordered by severity, least severe first: `Passed < Flaky < Skipped < Failed < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Status {
    Passed,
    /// Passed in the end, after one or more failed runs.
    Flaky,
    Skipped,
    Failed,
    Error,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Passed,
        Status::Flaky,
        Status::Skipped,
        Status::Failed,
        Status::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Flaky => "flaky",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
            Status::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Text captured from the report (system-out, stack traces), bounded in size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CapturedText {
    /// The text, cut at the configured bound (on a character boundary).
    pub text: String,
    /// True when `text` is shorter than the original.
    pub truncated: bool,
    /// Length of the original text in bytes (UTF-8).
    pub original_bytes: u64,
}

/// One `<failure>`, `<error>` or `<skipped>` child of a test case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum OutcomeKind {
    Failure,
    Error,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Outcome {
    pub kind: OutcomeKind,
    pub message: Option<String>,
    #[serde(rename = "type")]
    pub kind_name: Option<String>,
    /// The element's text: usually the stack trace or the skip reason.
    pub details: Option<CapturedText>,
}

/// A failed run before the final one: Surefire/nextest `flakyFailure`,
/// `flakyError`, `rerunFailure`, `rerunError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum RerunKind {
    FlakyFailure,
    FlakyError,
    RerunFailure,
    RerunError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Rerun {
    pub kind: RerunKind,
    pub message: Option<String>,
    #[serde(rename = "type")]
    pub kind_name: Option<String>,
    pub duration_us: Option<u64>,
    pub timestamp: Option<String>,
    /// The stack trace of this run.
    pub details: Option<CapturedText>,
    pub system_out: Option<CapturedText>,
    pub system_err: Option<CapturedText>,
}

/// A `<property>` (or a `[[PROPERTY|name=value]]` line), in document order.
/// Names may repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Property {
    pub name: String,
    pub value: String,
}

/// One test case, self-contained: it carries its suite path so it can be
/// handled (streamed, matched, mapped) on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestCase {
    /// Names of the enclosing suites, outermost first.
    pub suite: Vec<String>,
    pub classname: Option<String>,
    pub name: String,
    pub file: Option<String>,
    pub line: Option<u64>,
    pub status: Status,
    /// Duration in integer microseconds; `None` when missing, empty, negative or unreadable.
    pub duration_us: Option<u64>,
    /// The `time` attribute as written, when it was present.
    pub time_text: Option<String>,
    pub timestamp: Option<String>,
    /// The message of the most severe outcome (or of the last rerun of a flaky test).
    pub message: Option<String>,
    /// Every failure/error/skipped child, in document order.
    pub outcomes: Vec<Outcome>,
    /// Every earlier failed run, in document order.
    pub reruns: Vec<Rerun>,
    pub system_out: Option<CapturedText>,
    pub system_err: Option<CapturedText>,
    pub properties: Vec<Property>,
    /// Paths from `attachment` properties and `[[ATTACHMENT|path]]` lines, in order.
    pub attachments: Vec<String>,
    /// The steps of the case, in order (Robot Framework keywords, Cucumber steps);
    /// empty for formats without steps, such as JUnit. See [`Step`].
    ///
    /// Left out of the JSON when empty: a JUnit case serialises exactly as before
    /// steps existed, so the identity tokens computed from a case's JSON (publish
    /// runs) stay the same across this change and a re-run never duplicates results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// Where the `<testcase>` element starts.
    pub location: Location,
}

impl TestCase {
    /// `classname.name`, or just the name when there is no classname: the
    /// automation id most tools use.
    pub fn full_name(&self) -> String {
        match &self.classname {
            Some(c) if !c.is_empty() => format!("{c}.{}", self.name),
            _ => self.name.clone(),
        }
    }

    /// Drops the captured output of the case and of its reruns: what mapping to a
    /// test-management system never reads, and most of the size of a passing case.
    pub fn drop_output(&mut self) {
        self.system_out = None;
        self.system_err = None;
        for rerun in &mut self.reruns {
            rerun.system_out = None;
            rerun.system_err = None;
        }
    }

    /// The first property with this name.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_str())
    }
}

/// One step of a test case: a Robot Framework keyword (or control structure such as
/// FOR or IF) or a Cucumber step or failed hook.
///
/// Nested steps are flattened in document order; `depth` says how deep each one is
/// (0 for the steps of the case itself, 1 for the keywords a top-level keyword ran,
/// ...). Consumers that show one level (step results, step logs) take depth 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "TestStep")
)]
pub struct Step {
    /// Cucumber's keyword (`Given `, `When `, ...) or Robot's keyword type (`SETUP`,
    /// `TEARDOWN`, `FOR`, `IF`, ...); `None` for a plain Robot keyword.
    pub keyword: Option<String>,
    /// The step text, or the keyword name followed by its arguments.
    pub name: String,
    pub status: Status,
    pub duration_us: Option<u64>,
    /// Why the step failed or was skipped, when the report says.
    pub message: Option<String>,
    /// 0 for a step of the case itself; one more for each enclosing step.
    pub depth: u32,
}

/// Counts as a report declares them in its attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DeclaredCounts {
    pub tests: Option<u64>,
    pub failures: Option<u64>,
    pub errors: Option<u64>,
    pub skipped: Option<u64>,
}

/// Counts of the test cases actually present.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Counts {
    pub tests: u64,
    pub passed: u64,
    pub failed: u64,
    pub errors: u64,
    pub skipped: u64,
    pub flaky: u64,
}

impl Counts {
    pub fn add_status(&mut self, status: Status) {
        self.tests += 1;
        match status {
            Status::Passed => self.passed += 1,
            Status::Flaky => self.flaky += 1,
            Status::Skipped => self.skipped += 1,
            Status::Failed => self.failed += 1,
            Status::Error => self.errors += 1,
        }
    }

    /// Moves one case from `old` to `new` (a suite teardown that fails its tests).
    pub fn retally(&mut self, old: Status, new: Status) {
        let from = self.count_of(old);
        *from = from.saturating_sub(1);
        *self.count_of(new) += 1;
    }

    fn count_of(&mut self, status: Status) -> &mut u64 {
        match status {
            Status::Passed => &mut self.passed,
            Status::Flaky => &mut self.flaky,
            Status::Skipped => &mut self.skipped,
            Status::Failed => &mut self.failed,
            Status::Error => &mut self.errors,
        }
    }

    pub fn add(&mut self, other: &Counts) {
        self.tests += other.tests;
        self.passed += other.passed;
        self.failed += other.failed;
        self.errors += other.errors;
        self.skipped += other.skipped;
        self.flaky += other.flaky;
    }
}

/// The attributes of a `<testsuite>` (or of the report root), known when its first
/// test case or child suite starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SuiteInfo {
    /// Names of the enclosing suites and this one, outermost first.
    pub path: Vec<String>,
    pub name: String,
    pub id: Option<String>,
    pub package: Option<String>,
    pub file: Option<String>,
    pub hostname: Option<String>,
    pub timestamp: Option<String>,
    pub duration_us: Option<u64>,
    pub time_text: Option<String>,
    pub declared: DeclaredCounts,
    /// Properties that came before the first test case or child suite.
    pub properties: Vec<Property>,
    pub location: Location,
}

/// A suite with everything it contained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Suite {
    #[serde(flatten)]
    pub info: SuiteInfo,
    pub system_out: Option<CapturedText>,
    pub system_err: Option<CapturedText>,
    /// Counts of the test cases in this suite and all suites below it.
    pub counts: Counts,
    pub cases: Vec<TestCase>,
    pub suites: Vec<Suite>,
}

/// The root element a report used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum RootKind {
    /// `<testsuites>`
    Testsuites,
    /// A bare `<testsuite>`.
    Testsuite,
    /// `<testrun>` (Eclipse/junit2html style).
    Testrun,
    /// NUnit 3 `<test-run>`.
    Nunit3,
    /// NUnit 2 `<test-results>`.
    Nunit2,
    /// xUnit.net v2 `<assemblies>` (or a bare `<assembly>`).
    Xunit2,
    /// Visual Studio / `dotnet test` TRX `<TestRun>`.
    Trx,
    /// Robot Framework `output.xml` (`<robot>`).
    Robot,
    /// Cucumber JSON (cucumber-js, cucumber-jvm, behave).
    Cucumber,
    /// An Allure 2 `allure-results` folder.
    Allure,
}

/// A whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Report {
    pub root: RootKind,
    pub name: Option<String>,
    pub declared: DeclaredCounts,
    pub duration_us: Option<u64>,
    pub timestamp: Option<String>,
    pub counts: Counts,
    pub suites: Vec<Suite>,
    pub warnings: Vec<Warning>,
}

impl Report {
    /// Every test case, in document order.
    pub fn cases(&self) -> Vec<&TestCase> {
        fn walk<'a>(suite: &'a Suite, out: &mut Vec<&'a TestCase>) {
            out.extend(suite.cases.iter());
            for child in &suite.suites {
                walk(child, out);
            }
        }
        let mut out = Vec::new();
        for s in &self.suites {
            walk(s, &mut out);
        }
        // A suite keeps its own cases apart from its child suites; restore document order.
        out.sort_by_key(|c| c.location.offset);
        out
    }

    /// Number of suites at any depth.
    pub fn suite_count(&self) -> u64 {
        fn count(s: &Suite) -> u64 {
            1 + s.suites.iter().map(count).sum::<u64>()
        }
        self.suites.iter().map(count).sum()
    }
}
