//! The JUnit corpus (`tests/corpus/junit`, real reports from 17 projects): every file
//! parses or fails with a clear error, streaming agrees with whole-file parsing, and
//! where a project ships expected results beside a report, the counts and statuses agree.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use tmbridge_core::junit;
use tmbridge_core::model::{Counts, Report, Status, TestCase};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/junit")
}

struct IndexRow {
    path: String,
    well_formed: String,
    testcase_count: Option<u64>,
    note: String,
}

fn index() -> Vec<IndexRow> {
    let text = std::fs::read_to_string(corpus().join("INDEX.tsv")).expect("INDEX.tsv");
    text.lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            IndexRow {
                path: cols[0].to_string(),
                well_formed: cols[4].to_string(),
                testcase_count: cols[5].parse().ok(),
                note: cols.get(6).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(corpus().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(path: &str) -> Result<Report, tmbridge_core::Error> {
    junit::parse(&read(path))
}

/// The root element named in the index note, when it is not a JUnit root.
fn foreign_root(note: &str) -> Option<String> {
    let start = note.find("root element <")? + "root element <".len();
    let name = &note[start..start + note[start..].find('>')?];
    (name != "testrun").then(|| name.to_string())
}

#[test]
fn every_report_parses_or_fails_clearly() {
    let rows: Vec<IndexRow> = index()
        .into_iter()
        .filter(|r| r.well_formed != "n/a")
        .collect();
    assert!(
        rows.len() > 250,
        "corpus is incomplete: {} reports",
        rows.len()
    );
    let (mut parsed, mut refused) = (0, 0);
    for row in &rows {
        let result = parse(&row.path);
        match (row.well_formed.as_str(), foreign_root(&row.note), result) {
            ("yes", None, Ok(report)) => {
                parsed += 1;
                assert_eq!(
                    Some(report.counts.tests),
                    row.testcase_count,
                    "{}: test cases read vs <testcase> elements present",
                    row.path
                );
                assert_eq!(
                    report.cases().len() as u64,
                    report.counts.tests,
                    "{}",
                    row.path
                );
            }
            // NUnit, xUnit.net, TRX and Robot Framework files are read (see formats).
            ("yes", Some(root), Ok(report)) if READ_FOREIGN_ROOTS.contains(&root.as_str()) => {
                parsed += 1;
                assert_eq!(
                    report.cases().len() as u64,
                    report.counts.tests,
                    "{}",
                    row.path
                );
            }
            ("yes", Some(root), Err(err)) if !READ_FOREIGN_ROOTS.contains(&root.as_str()) => {
                refused += 1;
                assert_eq!(err.code, "junit.not_junit", "{}: <{root}>: {err}", row.path);
            }
            ("no", _, Err(err)) => {
                refused += 1;
                let clear = [
                    "junit.malformed_xml",
                    "junit.truncated",
                    "junit.empty_input",
                    "junit.not_xml",
                    "junit.not_junit", // the XXE probe fails on its <r> root first
                ];
                assert!(clear.contains(&err.code.as_str()), "{}: {err}", row.path);
                assert!(err.location.is_some(), "{}: no position: {err}", row.path);
            }
            (wf, root, result) => panic!(
                "{}: well_formed={wf} foreign_root={root:?} but got {:?}",
                row.path,
                result.map(|r| r.counts)
            ),
        }
    }
    assert!(
        parsed > 230 && refused > 15,
        "parsed {parsed}, refused {refused}"
    );
}

#[test]
fn streaming_in_tiny_chunks_agrees_with_whole_file_parsing() {
    for row in index().into_iter().filter(|r| r.well_formed != "n/a") {
        let bytes = read(&row.path);
        let whole = junit::parse(&bytes);
        // A 7-byte buffer puts chunk boundaries inside tags, entities and CDATA.
        let mut streamed: Vec<TestCase> = Vec::new();
        let mut stream_error = None;
        let capacity = if bytes.len() < 100_000 { 7 } else { 4096 };
        for event in junit::Reader::new(BufReader::with_capacity(capacity, &bytes[..])) {
            match event {
                Ok(junit::Event::Case(case)) => streamed.push(*case),
                Ok(_) => {}
                Err(err) => stream_error = Some(err),
            }
        }
        match whole {
            Ok(report) => {
                let cases: Vec<TestCase> = report.cases().into_iter().cloned().collect();
                assert!(stream_error.is_none(), "{}", row.path);
                assert_eq!(cases, streamed, "{}", row.path);
            }
            Err(err) => assert_eq!(Some(err), stream_error, "{}", row.path),
        }
    }
}

/// Files beside which EnricoMi/publish-unit-test-result-action keeps `.results.json`.
#[test]
fn agrees_with_publish_unit_test_result_action() {
    // Where we differ on purpose, and why.
    let differs: BTreeMap<&str, &str> = BTreeMap::from([(
        "junit-xml__no-cases-but-tests",
        "the suite declares tests=6 but holds no <testcase>: we count what is present and warn",
    )]);
    let dir = corpus().join("publish-unit-test-result-action");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(stem) = name.strip_suffix(".results.json") else {
            continue;
        };
        let expected: Value =
            serde_json::from_slice(&std::fs::read(entry.path()).expect("json")).expect("json");
        let stats = &expected["stats"];
        let path = format!("publish-unit-test-result-action/{stem}.xml");
        let result = parse(&path);
        if !stats["errors"].as_array().is_some_and(|e| e.is_empty()) {
            assert!(result.is_err(), "{path}: they refuse it, so must we");
            checked += 1;
            continue;
        }
        let report = result.unwrap_or_else(|e| panic!("{path}: {e}"));
        let c = report.counts;
        let ours = [c.tests, c.passed + c.flaky, c.failed, c.errors, c.skipped];
        let theirs = |prefix: &str| -> [u64; 5] {
            let get = |k: &str| stats[format!("{prefix}{k}")].as_i64().unwrap_or(-1) as u64;
            [
                get(""),
                get("_succ"),
                get("_fail"),
                get("_error"),
                get("_skip"),
            ]
        };
        // `tests_*` counts each test once (their status = most severe result), `runs_*`
        // counts every <testcase>; use whichever counts the same cases we do.
        let expected = if theirs("tests")[0] == c.tests {
            theirs("tests")
        } else {
            theirs("runs")
        };
        if let Some(reason) = differs.get(stem) {
            assert_ne!(
                ours, expected,
                "{path} now agrees; drop the exception ({reason})"
            );
            assert!(
                report
                    .warnings
                    .iter()
                    .any(|w| w.code == "junit.count_mismatch"),
                "{path}: the disagreement must be reported as a warning"
            );
        } else {
            assert_eq!(
                ours, expected,
                "{path}: [tests, passed, failed, errors, skipped]"
            );
            assert_eq!(
                report.suite_count(),
                stats["suites"].as_u64().unwrap_or(0),
                "{path}: suites"
            );
        }
        checked += 1;
    }
    for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(stem) = name.strip_suffix(".exception") {
            assert!(
                parse(&format!("publish-unit-test-result-action/{stem}.xml")).is_err(),
                "{stem}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 25, "checked only {checked}");
}

/// Roots of the non-JUnit formats tmbridge reads.
const READ_FOREIGN_ROOTS: [&str; 7] = [
    "test-run",
    "test-results",
    "test-suite",
    "assemblies",
    "assembly",
    "TestRun",
    "robot",
];

fn launchable_status(code: i64) -> &'static [Status] {
    match code {
        1 => &[Status::Passed, Status::Flaky],
        0 => &[Status::Failed, Status::Error],
        _ => &[Status::Skipped],
    }
}

/// launchableinc/cli keeps `record_test_result.json` (the records it uploads) per framework.
#[test]
fn agrees_with_launchable_records() {
    // Launchable reads CTest's native format, which tmbridge does not read (Robot
    // Framework's output.xml it reads, so its records are compared too).
    let not_junit = ["ctest"];
    let dir = corpus().join("launchableinc-cli");
    let mut matched = 0;
    for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(framework) = name.strip_suffix("__record_test_result.json") else {
            continue;
        };
        let expected: Value =
            serde_json::from_slice(&std::fs::read(entry.path()).expect("json")).expect("json");
        let mut by_name: BTreeMap<String, i64> = BTreeMap::new();
        for event in expected["events"].as_array().into_iter().flatten() {
            let leaf = event["testPath"]
                .as_array()
                .and_then(|p| p.last())
                .and_then(|l| l["name"].as_str());
            if let (Some(leaf), Some(status)) = (leaf, event["status"].as_i64()) {
                by_name.insert(leaf.to_string(), status);
            }
        }
        let reports: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                name_of(p).starts_with(&format!("{framework}__")) && name_of(p).ends_with(".xml")
            })
            .collect();
        let mut framework_matched = 0;
        for report in &reports {
            let bytes = std::fs::read(report).expect("report");
            let parsed = junit::parse(&bytes);
            if not_junit.contains(&framework) {
                assert_eq!(
                    parsed.map(|_| ()).map_err(|e| e.code),
                    Err("junit.not_junit".into())
                );
                continue;
            }
            let parsed = parsed.unwrap_or_else(|e| panic!("{}: {e}", report.display()));
            for case in parsed.cases() {
                if let Some(&status) = by_name.get(&case.name) {
                    assert!(
                        launchable_status(status).contains(&case.status),
                        "{}: {} is {:?}, Launchable says {status}",
                        report.display(),
                        case.name,
                        case.status
                    );
                    framework_matched += 1;
                }
            }
        }
        assert!(
            not_junit.contains(&framework) || framework_matched > 0,
            "{framework}: no test case matched the expected records"
        );
        matched += framework_matched;
    }
    assert!(matched > 100, "matched {matched}");
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// jenkinsci/xunit-plugin keeps `result.xml`, the JUnit it makes from `input.xml`.
#[test]
fn agrees_with_xunit_plugin_conversions() {
    let dir = corpus().join("xunit-plugin");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
        let name = name_of(&entry.path());
        let Some(stem) = name.strip_suffix("__input.xml") else {
            continue;
        };
        let result_path = format!("xunit-plugin/{stem}__result.xml");
        if !corpus().join(&result_path).exists() {
            continue;
        }
        let input = parse(&format!("xunit-plugin/{name}"));
        let expected = parse(&result_path).expect("result.xml is JUnit");
        match input {
            // CTest's native Test.xml is not JUnit; the plugin converts it with XSLT.
            Err(err) => assert!(
                stem.contains("ctest") && err.code == "junit.not_junit",
                "{stem}: {err}"
            ),
            Ok(input) => {
                assert_eq!(input.counts, expected.counts, "{stem}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "checked {checked}");
}

#[test]
fn corpus_totals_are_plausible() {
    let mut total = Counts::default();
    for row in index().into_iter().filter(|r| r.well_formed == "yes") {
        if let Ok(report) = parse(&row.path) {
            total.add(&report.counts);
        }
    }
    assert_eq!(
        total.tests,
        total.passed + total.failed + total.errors + total.skipped + total.flaky
    );
    assert!(total.flaky > 0 && total.skipped > 0 && total.failed > 0 && total.errors > 0);
}
