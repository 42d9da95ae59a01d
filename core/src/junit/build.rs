//! A whole [`Report`] from the event stream.

use super::{Event, Options, Reader};
use crate::error::{Error, Result, Warning};
use crate::model::{Counts, DeclaredCounts, Report, RootKind, Suite, TestCase};
use std::io::BufRead;

/// Reads a whole report with the default options.
pub fn parse(bytes: &[u8]) -> Result<Report> {
    parse_with(bytes, &Options::default())
}

/// Reads a whole report. The suite tree is kept in memory; use [`Reader`] to stream.
pub fn parse_with(bytes: &[u8], opts: &Options) -> Result<Report> {
    let mut report = Report {
        root: RootKind::Testsuites,
        name: None,
        declared: DeclaredCounts::default(),
        duration_us: None,
        timestamp: None,
        counts: Counts::default(),
        suites: Vec::new(),
        warnings: Vec::new(),
    };
    let mut open: Vec<Suite> = Vec::new();
    for event in Reader::with_options(bytes, opts.clone()) {
        match event? {
            Event::ReportStart(start) => {
                report.root = start.root;
                report.name = start.name;
                report.declared = start.declared;
                report.duration_us = start.duration_us;
                report.timestamp = start.timestamp;
            }
            Event::SuiteStart(info) => open.push(Suite {
                info: *info,
                system_out: None,
                system_err: None,
                counts: Counts::default(),
                cases: Vec::new(),
                suites: Vec::new(),
            }),
            Event::Case(case) => match open.last_mut() {
                Some(suite) => suite.cases.push(*case),
                None => return Err(internal("a test case outside any suite")),
            },
            Event::SuiteEnd(end) => {
                let Some(mut suite) = open.pop() else {
                    return Err(internal("a suite end without a start"));
                };
                suite.system_out = end.system_out;
                suite.system_err = end.system_err;
                suite.info.properties.extend(end.late_properties);
                suite.counts = end.counts;
                match open.last_mut() {
                    Some(parent) => parent.suites.push(suite),
                    None => report.suites.push(suite),
                }
            }
            Event::ReportEnd(end) => {
                report.counts = end.counts;
                report.warnings = end.warnings;
                if end.warnings_dropped > 0 {
                    report.warnings.push(dropped_warnings(end.warnings_dropped));
                }
            }
        }
    }
    Ok(report)
}

/// Most test cases [`cases_for_mapping`] keeps by default: a plan holds every case
/// of a run at once (about 2 KB each), so a run past this is refused rather than
/// allowed to take gigabytes.
pub const MAX_MAPPED_CASES: usize = 500_000;

/// The test cases of a report, in document order, as mapping needs them: streamed
/// without building the suite tree, each without its captured output
/// ([`TestCase::drop_output`]). Returns the reader's warnings too. More than `limit`
/// cases is an error (`junit.too_many_cases`) at the first case past it.
pub fn cases_for_mapping<R: BufRead>(
    input: R,
    limit: usize,
) -> Result<(Vec<TestCase>, Vec<Warning>)> {
    let mut cases = Vec::new();
    let mut warnings = Vec::new();
    for event in Reader::new(input) {
        match event? {
            Event::Case(mut case) => {
                if cases.len() >= limit {
                    return Err(Error::new(
                        "junit.too_many_cases",
                        format!(
                            "more than {limit} test cases: mapping keeps every case of a run in memory"
                        ),
                    )
                    .with_hint("map the reports in parts (a few files at a time)"));
                }
                case.drop_output();
                cases.push(*case);
            }
            Event::ReportEnd(end) => {
                warnings = end.warnings;
                if end.warnings_dropped > 0 {
                    warnings.push(dropped_warnings(end.warnings_dropped));
                }
            }
            _ => {}
        }
    }
    Ok((cases, warnings))
}

fn dropped_warnings(count: u64) -> Warning {
    Warning::new(
        "junit.warnings_dropped",
        format!("{count} more warnings were not kept"),
        None,
    )
}

fn internal(what: &str) -> Error {
    Error::new(
        "junit.internal",
        format!("reader produced {what}; please report this bug"),
    )
}
