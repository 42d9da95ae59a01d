//! GitLab's pipeline test report (`GET /projects/:id/pipelines/:pid/test_report`) as
//! test cases: what GitLab kept of the jobs' JUnit reports when no artifact is left.

use crate::error::Location;
use crate::error::{Error, Result};
use crate::model::{CapturedText, Outcome, OutcomeKind, Status, TestCase};
use serde_json::Value;

pub fn cases(body: &[u8]) -> Result<Vec<TestCase>> {
    let root: Value = crate::json::from_slice(body).map_err(|e| {
        Error::new(
            "gitlab.bad_answer",
            format!("GitLab's pipeline test report is not JSON: {e}"),
        )
    })?;
    let suites = root
        .get("test_suites")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Error::new(
                "gitlab.bad_answer",
                "GitLab's pipeline test report has no test_suites list",
            )
        })?;
    let mut out = Vec::new();
    for suite in suites {
        let suite_name = text(suite.get("name")).unwrap_or_default();
        for case in suite
            .get("test_cases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.push(test_case(&suite_name, case));
        }
    }
    Ok(out)
}

fn test_case(suite: &str, case: &Value) -> TestCase {
    let status = match case.get("status").and_then(Value::as_str).unwrap_or("") {
        "success" => Status::Passed,
        "failed" => Status::Failed,
        "skipped" => Status::Skipped,
        "error" => Status::Error,
        _ => Status::Error,
    };
    let output = output_text(case.get("system_output"));
    let trace = text(case.get("stack_trace"));
    let message = match status {
        Status::Passed => None,
        _ => output
            .as_deref()
            .and_then(|o| o.lines().next())
            .map(str::to_string),
    };
    let mut outcomes = Vec::new();
    let kind = match status {
        Status::Failed => Some(OutcomeKind::Failure),
        Status::Error => Some(OutcomeKind::Error),
        Status::Skipped => Some(OutcomeKind::Skipped),
        _ => None,
    };
    if let Some(kind) = kind {
        outcomes.push(Outcome {
            kind,
            message: message.clone(),
            kind_name: None,
            details: trace.map(captured),
        });
    }
    let seconds = case.get("execution_time").and_then(Value::as_f64);
    TestCase {
        suite: if suite.is_empty() {
            Vec::new()
        } else {
            vec![suite.to_string()]
        },
        classname: text(case.get("classname")),
        name: text(case.get("name")).unwrap_or_default(),
        file: text(case.get("file")),
        line: None,
        status,
        duration_us: seconds
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| (s * 1_000_000.0).round() as u64),
        time_text: seconds.map(|s| s.to_string()),
        timestamp: None,
        message,
        outcomes,
        reruns: Vec::new(),
        system_out: output.map(captured),
        system_err: None,
        properties: Vec::new(),
        attachments: Vec::new(),
        steps: Vec::new(),
        location: Location {
            offset: 0,
            line: 0,
            column: 0,
        },
    }
}

/// `system_output` is a string, a list of strings or `{message, type}`.
fn output_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let lines: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            (!lines.is_empty()).then(|| lines.join("\n"))
        }
        Value::Object(o) => text(o.get("message")),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

fn captured(text: String) -> CapturedText {
    CapturedText {
        original_bytes: text.len() as u64,
        text,
        truncated: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_gitlab_report_gives_its_cases_and_statuses() {
        let body =
            include_bytes!("../../../../tests/fixtures/gitlab/pipeline-test-report-go-gitlab.json");
        let cases = cases(body).unwrap();
        // The recorded sample lists fewer cases than its totals count: compare with
        // the cases it lists.
        let root: Value = crate::json::from_slice(body).unwrap();
        let listed: Vec<&Value> = root["test_suites"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["test_cases"].as_array().unwrap())
            .collect();
        assert_eq!(cases.len(), listed.len());
        for (case, raw) in cases.iter().zip(&listed) {
            let expected = match raw["status"].as_str().unwrap() {
                "success" => Status::Passed,
                "error" => Status::Error,
                other => panic!("{other}"),
            };
            assert_eq!(case.status, expected, "{}", case.name);
        }
        let first = &cases[0];
        assert_eq!(first.classname.as_deref(), Some("MyClassOne"));
        assert_eq!(first.message.as_deref(), Some("Failed test"));
        assert_eq!(first.duration_us, Some(19_987_000));
        let listed = cases.iter().find(|c| c.name == "Error testcase 3").unwrap();
        assert_eq!(
            listed.system_out.as_ref().map(|o| o.text.as_str()),
            Some("Failed test a\nFailed test b")
        );
    }

    #[test]
    fn an_answer_that_is_not_a_report_is_a_typed_error() {
        assert_eq!(cases(b"<html>").unwrap_err().code, "gitlab.bad_answer");
        assert_eq!(cases(b"{}").unwrap_err().code, "gitlab.bad_answer");
    }
}
