//! Allure 2 results (`allure-results` folders) read into the same [`Report`] as JUnit.
//!
//! The host lists the folder and hands over the files tmbridge reads
//! (`*-result.json`, `*-container.json`, `*-globals.json`, `environment.properties`,
//! `executor.json`, `categories.json`); attachments stay on disk and are named by their `source`.
//! The same files in any order give the same report, byte for byte.
//!
//! - Suite path from the `parentSuite`, `suite` and `subSuite` labels, else the
//!   `package` label; classname from `testClass` (after `package`) or `package`.
//! - Labels other than those and the machine's (`host`, `thread`, `framework`,
//!   `language`) become properties under their own names (`tag`, `feature`, `story`,
//!   `epic`, `owner`, `severity`, ...; `AS_ID` as `allure_id`).
//! - Links: `tms` gives `test_id` (the case id matching reads), `issue` gives
//!   `defects`, any other its URL as `link`.
//! - Status: `passed`, `failed`, `broken` (an error), `skipped`; `unknown` (and a
//!   missing or unrecognised status) reads as skipped with `allure_status` kept.
//!   `statusDetails` gives the message and trace; its `flaky`, `known` and `muted`
//!   flags become properties.
//! - The `description` (not its HTML rendering) becomes a `description` property.
//! - Parameters become `parameter:<name>` properties (masked values as stars, hidden
//!   ones left out).
//! - Steps, nested, flattened with their depth; the fixtures of the containers around
//!   a test come before (`SETUP`) and after (`TEARDOWN`) them. A set-up fixture that
//!   failed or broke makes its tests errors.
//! - Retries: results with the same `historyId` are attempts of one test; the latest
//!   (by start time) is the result, the earlier failed ones its reruns, and a test
//!   that passed after failing is flaky. `retries` says how many earlier attempts ran.
//! - `environment.properties` and `executor.json` become properties of the top-level
//!   suites; the executor's build name names the report.
//! - `*-globals.json` (allure-js 3): each error outside any test (a failed
//!   `beforeAll`) is a warning, `allure.global_error`.
//! - Categories: each test's Allure categories (from `categories.json`, else
//!   "Product defects" for failed and "Test defects" for broken tests) become
//!   `category` properties, as Allure's report assigns them (see `categories`).

mod case;
mod categories;
mod files;
mod fixtures;
mod json;
mod properties;
mod warnings;

pub use files::InputFile;

use crate::error::{Error, Location, Result};
use crate::junit::Options;
use crate::model::{
    Counts, DeclaredCounts, Property, Report, Rerun, RerunKind, RootKind, Status, Suite, SuiteInfo,
    TestCase,
};
use case::{Notes, to_case};
use files::{Kind, kind_of};
use fixtures::ContainerIndex;
use json::TestResult;
use std::collections::BTreeMap;
use warnings::Warnings;

/// Reads the files of one `allure-results` folder into a report.
///
/// Fails only when no test result could be read (`allure.no_results`); every file
/// that cannot be read is a warning naming it.
pub fn read(files: &[InputFile], options: &Options) -> Result<Report> {
    let mut warnings = Warnings::new(options.max_warnings);
    let loaded = files::load(files, &mut warnings);
    if loaded.results.is_empty() {
        return Err(no_results(files, &warnings));
    }
    let capture_limit = usize::try_from(options.max_captured_bytes).unwrap_or(usize::MAX);
    let index = ContainerIndex::new(&loaded.containers);

    let mut cases = Vec::new();
    for attempts in group_attempts(&loaded.results) {
        let Some((&(final_file, final_result), earlier)) = attempts.split_last() else {
            continue;
        };
        let mut notes = Notes::default();
        let fixtures = index.fixtures_of(final_result.uuid.as_deref());
        let mut case = to_case(final_result, &fixtures, capture_limit, &mut notes);
        for name in categories::of(final_result, &loaded.categories) {
            case.properties.push(Property {
                name: "category".into(),
                value: name,
            });
        }
        add_retries(&mut case, earlier, capture_limit);
        if let Some(status) = &notes.unknown_status
            && !status.is_empty()
            && status != "unknown"
        {
            warnings.push(
                "allure.unknown_status",
                format!(
                    "{final_file}: status {status:?} is not an Allure status (passed, failed, broken, skipped, unknown); read as skipped"
                ),
                None,
            );
        }
        if notes.steps_dropped > 0 {
            warnings.push(
                "allure.too_many_steps",
                format!(
                    "{final_file}: {} steps beyond the first {} were left out",
                    notes.steps_dropped,
                    case::MAX_STEPS
                ),
                None,
            );
        }
        cases.push((sort_key(final_file, final_result), case));
    }
    cases.sort_by(|a, b| a.0.cmp(&b.0));

    let (suite_properties, name) = run_properties(&loaded);
    let start = loaded.results.iter().filter_map(|(_, r)| r.start).min();
    let stop = loaded.results.iter().filter_map(|(_, r)| r.stop).max();
    let mut suites = build_suites(cases.into_iter().map(|(_, c)| c).collect());
    for suite in &mut suites {
        suite.info.properties = suite_properties.clone();
    }
    let mut counts = Counts::default();
    for suite in &suites {
        counts.add(&suite.counts);
    }
    let mut warnings_out = warnings.kept;
    if warnings.dropped > 0 {
        warnings_out.push(crate::error::Warning::new(
            "allure.warnings_dropped",
            format!(
                "{} more warnings were not kept (the limit is max_warnings)",
                warnings.dropped
            ),
            None,
        ));
    }
    Ok(Report {
        root: RootKind::Allure,
        name,
        declared: DeclaredCounts::default(),
        duration_us: case::duration_us(start, stop),
        timestamp: start.and_then(case::timestamp_of),
        counts,
        suites,
        warnings: warnings_out,
    })
}

/// What describes the whole run (environment, executor) as suite properties, and the
/// report's name (the executor's build name).
fn run_properties(loaded: &files::Loaded) -> (Vec<Property>, Option<String>) {
    let mut properties = loaded.environment.clone();
    let Some(executor) = &loaded.executor else {
        return (properties, None);
    };
    for (key, value) in [
        ("executor.name", &executor.name),
        ("executor.type", &executor.kind),
        ("executor.buildName", &executor.build_name),
        ("executor.buildOrder", &executor.build_order),
        ("executor.reportName", &executor.report_name),
    ] {
        if let Some(value) = value {
            properties.push(Property {
                name: key.into(),
                value: value.clone(),
            });
        }
    }
    let name = executor
        .build_name
        .clone()
        .or_else(|| executor.report_name.clone());
    (properties, name)
}

fn no_results(files: &[InputFile], warnings: &Warnings) -> Error {
    let result_files = files
        .iter()
        .filter(|f| kind_of(f.name) == Kind::Result)
        .count();
    if result_files == 0 {
        Error::new(
            "allure.no_results",
            format!(
                "none of the {} files given is an Allure test result (a file named `<uuid>-result.json`)",
                files.len()
            ),
        )
        .with_hint("give the allure-results folder the test run wrote (the adapter's results directory, e.g. pytest --alluredir or allure-vitest's resultsDir)")
    } else {
        let first = warnings.kept.first();
        let mut error = Error::new(
            "allure.no_results",
            format!(
                "none of the {result_files} test result files could be read{}",
                first
                    .map(|w| format!("; the first problem: {}", w.message))
                    .unwrap_or_default()
            ),
        )
        .with_hint("check that the test run finished writing its results");
        if let Some(location) = first.and_then(|w| w.location) {
            error = error.at(location);
        }
        error
    }
}

/// Results grouped by `historyId` (a result without one is its own group), each
/// group's attempts oldest first; groups in a stable order.
fn group_attempts(results: &[(String, TestResult)]) -> Vec<Vec<(&str, &TestResult)>> {
    let mut groups: BTreeMap<String, Vec<(&str, &TestResult)>> = BTreeMap::new();
    for (file, result) in results {
        let key = match result.history_id.as_deref().filter(|h| !h.is_empty()) {
            Some(history) => format!("h:{history}"),
            None => format!("f:{file}"),
        };
        groups.entry(key).or_default().push((file.as_str(), result));
    }
    groups
        .into_values()
        .map(|mut attempts| {
            attempts.sort_by(|a, b| sort_key(a.0, a.1).cmp(&sort_key(b.0, b.1)));
            attempts
        })
        .collect()
}

type SortKey<'a> = (
    Option<i64>,
    Option<i64>,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
);

/// Run order: start, stop, then names that make the order total.
fn sort_key<'a>(file: &'a str, r: &'a TestResult) -> SortKey<'a> {
    (
        r.start,
        r.stop,
        r.full_name.as_deref(),
        r.uuid.as_deref(),
        file,
    )
}

/// Earlier attempts: the failed ones as reruns; passing after them makes the test flaky.
fn add_retries(case: &mut TestCase, earlier: &[(&str, &TestResult)], capture_limit: usize) {
    if earlier.is_empty() {
        return;
    }
    let passed_last = case.status == Status::Passed;
    for (_, attempt) in earlier {
        let failure = match case::status_of(attempt.status.as_deref()) {
            Some(Status::Failed) => true,
            Some(Status::Error) => false,
            _ => continue,
        };
        let kind = match (passed_last, failure) {
            (true, true) => RerunKind::FlakyFailure,
            (true, false) => RerunKind::FlakyError,
            (false, true) => RerunKind::RerunFailure,
            (false, false) => RerunKind::RerunError,
        };
        let details = attempt.status_details.trace.as_deref().and_then(|t| {
            let mut capture = crate::junit::Capture::new(capture_limit, false);
            capture.push(t);
            capture.finish().0
        });
        case.reruns.push(Rerun {
            kind,
            message: attempt
                .status_details
                .message
                .as_deref()
                .and_then(case::message_of),
            kind_name: None,
            duration_us: case::duration_us(attempt.start, attempt.stop),
            timestamp: attempt.start.and_then(case::timestamp_of),
            details,
            system_out: None,
            system_err: None,
        });
    }
    if passed_last && !case.reruns.is_empty() {
        case.status = Status::Flaky;
        // As for JUnit: a flaky test's message is its last failed run's.
        case.message = case.reruns.iter().rev().find_map(|r| r.message.clone());
    }
    case.properties.push(Property {
        name: "retries".into(),
        value: earlier.len().to_string(),
    });
}

/// A suite being built: its own cases and its child suites, in first-seen order.
struct Node {
    name: String,
    cases: Vec<TestCase>,
    children: Vec<Node>,
}

fn build_suites(cases: Vec<TestCase>) -> Vec<Suite> {
    let mut roots: Vec<Node> = Vec::new();
    for case in cases {
        let path = case.suite.clone();
        insert(&mut roots, &path, case);
    }
    roots.into_iter().map(|n| finish(n, &[])).collect()
}

/// Puts a case into the suite at `path` (never empty: every case has a suite).
fn insert(level: &mut Vec<Node>, path: &[String], case: TestCase) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let i = match level.iter().position(|n| &n.name == first) {
        Some(i) => i,
        None => {
            level.push(Node {
                name: first.clone(),
                cases: Vec::new(),
                children: Vec::new(),
            });
            level.len() - 1
        }
    };
    let node = &mut level[i];
    if rest.is_empty() {
        node.cases.push(case);
    } else {
        insert(&mut node.children, rest, case);
    }
}

fn finish(node: Node, parent: &[String]) -> Suite {
    let mut path = parent.to_vec();
    path.push(node.name.clone());
    let suites: Vec<Suite> = node
        .children
        .into_iter()
        .map(|c| finish(c, &path))
        .collect();
    let mut counts = Counts::default();
    for case in &node.cases {
        counts.add_status(case.status);
    }
    for child in &suites {
        counts.add(&child.counts);
    }
    Suite {
        info: SuiteInfo {
            path,
            name: node.name,
            id: None,
            package: None,
            file: None,
            hostname: None,
            timestamp: None,
            duration_us: None,
            time_text: None,
            declared: DeclaredCounts::default(),
            properties: Vec::new(),
            location: Location {
                offset: 0,
                line: 1,
                column: 1,
            },
        },
        system_out: None,
        system_err: None,
        counts,
        cases: node.cases,
        suites,
    }
}

#[cfg(test)]
mod tests;
