//! `tmbridge parse` end to end: the built binary on real corpus files.

use std::path::PathBuf;
use std::process::{Command, Output};

fn corpus(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/corpus/junit")
        .join(path)
        .to_string_lossy()
        .into_owned()
}

fn tmbridge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(args)
        .output()
        .expect("run tmbridge")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn summary_table_counts_a_report() {
    let out = tmbridge(&["parse", &corpus("junitparser/normal.xml")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    let header = text.lines().next().unwrap_or_default();
    for column in [
        "file", "suites", "tests", "passed", "failed", "errors", "skipped", "flaky", "time",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert_eq!(text.lines().count(), 2, "one file, no total row: {text}");
}

#[test]
fn a_bad_file_is_reported_and_the_others_still_parse() {
    let good = corpus("junitparser/normal.xml");
    let bad = corpus("publish-unit-test-result-action/junit-xml__pytest__corrupt-xml.xml");
    let out = tmbridge(&["parse", &good, &bad]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("junit.truncated") && stderr.contains("line 11"),
        "{stderr}"
    );
    let text = stdout(&out);
    assert!(text.contains("total (1 of 2 files read)"), "{text}");
}

#[test]
fn ndjson_has_one_line_per_case_with_the_contract_fields() {
    let out = tmbridge(&[
        "parse",
        "--format",
        "ndjson",
        &corpus("action-junit-report/nested__junit.xml"),
    ]);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 5);
    for line in &lines {
        for field in ["suite", "classname", "name", "status", "duration_us"] {
            assert!(line.get(field).is_some(), "{field} missing in {line}");
        }
    }
    assert_eq!(
        lines[0]["suite"],
        serde_json::json!(["All tests", "tests", "packet", "TestA"])
    );
    assert_eq!(lines[0]["status"], "failed");
    assert_eq!(lines[0]["duration_us"], 10_000_000);
}

#[test]
fn json_is_one_document_with_reports_and_errors() {
    let empty = corpus("publish-unit-test-result-action/xml__empty.xml");
    let out = tmbridge(&[
        "parse",
        "--format",
        "json",
        &corpus("junitparser/normal.xml"),
        &empty,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert!(
        doc[0]["report"]["counts"]["tests"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
    assert!(doc[0]["error"].is_null());
    assert!(doc[1]["report"].is_null());
    assert_eq!(doc[1]["error"]["code"], "junit.empty_input");
}

#[test]
fn globs_and_stdin() {
    let pattern = corpus("gotestsum/*.golden");
    let out = tmbridge(&["parse", &pattern]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("total (4 of 4 files read)"));

    let mut child = Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(["parse", "--format", "ndjson", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(br#"<testsuite name="s"><testcase name="from-stdin"/></testsuite>"#)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(stdout(&out).contains("\"name\":\"from-stdin\""));
}

#[test]
fn a_pattern_that_matches_nothing_is_a_usage_error() {
    let out = tmbridge(&["parse", &corpus("nothing-here/*.xml")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no file matches"));
}

#[test]
fn help_teaches_with_examples() {
    let out = tmbridge(&["parse", "--help"]);
    let text = stdout(&out);
    assert!(
        text.contains("Examples:") && text.contains("--format ndjson"),
        "{text}"
    );
}
