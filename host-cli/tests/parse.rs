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

/// A folder mixing formats, with names that say nothing: the content decides how each
/// file is read, and every case of every file comes out.
#[test]
fn a_mixed_folder_is_read_by_content() {
    let samples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/formats/samples");
    let seeds = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/junit_reader");
    let dir = std::env::temp_dir().join(format!("tmbridge-mixed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let files = [
        (samples.join("dorny-dotnet-nunit.xml"), "nunit3"),
        (samples.join("nunitv2-doc-files-TestResult.xml"), "nunit2"),
        (
            samples.join("enricomi-xunit-mstest-jenkinsci-testcase1.xml"),
            "xunit2",
        ),
        (samples.join("dorny-dotnet-trx.trx"), "trx"),
        (seeds.join("formats-robot7.xml"), "robot"),
        (seeds.join("formats-cucumber.json"), "cucumber"),
        (corpus("junitparser/normal.xml").into(), "testsuites"),
    ];
    let mut expected_roots = Vec::new();
    for (i, (from, root)) in files.iter().enumerate() {
        std::fs::copy(from, dir.join(format!("report-{i}"))).expect("copy");
        expected_roots.push(root.to_string());
    }
    let pattern = dir.join("report-*").to_string_lossy().into_owned();
    let out = tmbridge(&["parse", "--format", "json", &pattern]);
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut roots: Vec<String> = reports
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| r["report"]["root"].as_str().unwrap_or("?").to_string())
        .collect();
    roots.sort();
    expected_roots.sort();
    assert_eq!(roots, expected_roots);
    for r in reports.as_array().into_iter().flatten() {
        assert!(r["report"]["counts"]["tests"].as_u64() > Some(0), "{r}");
    }
}
