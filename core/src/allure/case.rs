//! One Allure test result as a [`TestCase`]: suite path and classname from the
//! labels, the other labels, links and parameters as properties, status details as
//! the outcome, steps (with the fixtures around them) flattened with their depth,
//! attachments by their source file.

use super::fixtures::Fixtures;
use super::json::{Link, StepResult, TestResult};
use crate::error::Location;
use crate::junit::{Capture, floor_char_boundary};
use crate::model::{Outcome, OutcomeKind, Property, Status, Step, TestCase};

/// Longest message kept (as for the other formats).
const MAX_MESSAGE_BYTES: usize = 4096;
/// Steps kept per test case; more are counted in a warning, not kept.
pub(crate) const MAX_STEPS: usize = 10_000;
/// Properties kept per test case.
const MAX_PROPERTIES: usize = 10_000;

/// A suite for results without suite or package labels.
pub(crate) const NO_SUITE: &str = "(no suite)";

/// Labels that give the structure (suite path, classname) or describe the machine
/// (host, thread) rather than the test: not repeated as properties.
const STRUCTURE_LABELS: [&str; 10] = [
    "parentSuite",
    "suite",
    "subSuite",
    "package",
    "testClass",
    "testMethod",
    "host",
    "thread",
    "framework",
    "language",
];

/// How an Allure status reads in the model: `broken` (the test could not run to its
/// check: an unexpected exception, a broken fixture) is an error; `unknown` (the
/// adapter never learnt the outcome, e.g. the run was interrupted) is not claimed to
/// pass nor to fail, so it reads as skipped, with the original kept in `allure_status`.
pub(crate) fn status_of(status: Option<&str>) -> Option<Status> {
    match status? {
        "passed" => Some(Status::Passed),
        "failed" => Some(Status::Failed),
        "broken" => Some(Status::Error),
        "skipped" => Some(Status::Skipped),
        _ => None,
    }
}

/// What reading a result noticed that the report should say.
#[derive(Default)]
pub(crate) struct Notes {
    pub steps_dropped: u64,
    pub unknown_status: Option<String>,
}

pub(crate) fn to_case(
    result: &TestResult,
    fixtures: &Fixtures,
    capture_limit: usize,
    notes: &mut Notes,
) -> TestCase {
    let suite = suite_path(result);
    let name = [&result.name, &result.full_name, &result.uuid]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .unwrap_or("(unnamed)")
        .to_string();
    let classname = classname_of(result);
    let status_text = result.status.as_deref();
    let mut status = match status_of(status_text) {
        Some(s) => s,
        None => {
            notes.unknown_status = Some(status_text.unwrap_or("").to_string());
            Status::Skipped
        }
    };
    let details = &result.status_details;
    let message = details.message.as_deref().and_then(message_of);
    let trace = details.trace.as_deref().and_then(|t| {
        let mut capture = Capture::new(capture_limit, false);
        capture.push(t);
        capture.finish().0
    });
    let mut outcomes = Vec::new();
    let kind = match status {
        Status::Failed => Some(OutcomeKind::Failure),
        Status::Error => Some(OutcomeKind::Error),
        Status::Skipped => Some(OutcomeKind::Skipped),
        Status::Passed | Status::Flaky => None,
    };
    if let Some(kind) = kind {
        outcomes.push(Outcome {
            kind,
            message: message.clone().or_else(|| {
                (status_of(status_text).is_none()).then(|| {
                    "Allure did not learn the outcome of this test (status unknown)".into()
                })
            }),
            kind_name: None,
            details: trace,
        });
    }
    let mut case = TestCase {
        suite,
        classname,
        name,
        file: None,
        line: None,
        status,
        duration_us: duration_us(result.start, result.stop),
        time_text: None,
        timestamp: result.start.and_then(timestamp_of),
        message,
        outcomes,
        reruns: Vec::new(),
        system_out: None,
        system_err: None,
        properties: Vec::new(),
        attachments: Vec::new(),
        steps: Vec::new(),
        location: Location {
            offset: 0,
            line: 1,
            column: 1,
        },
    };
    if status_of(status_text).is_none() {
        push(&mut case, "allure_status", status_text.unwrap_or("unknown"));
    }
    for l in &result.labels {
        let (Some(name), Some(value)) = (l.name.as_deref(), l.value.as_deref()) else {
            continue;
        };
        if STRUCTURE_LABELS.contains(&name) || value.trim().is_empty() {
            continue;
        }
        // `AS_ID` is the older name of Allure TestOps' test case id.
        let name = if name == "AS_ID" { "allure_id" } else { name };
        push(&mut case, name, value.trim());
    }
    for link in &result.links {
        add_link(&mut case, link);
    }
    // As Robot's documentation: for case fields (a TestRail description, say).
    if let Some(text) = result
        .description
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let cut = floor_char_boundary(text, capture_limit);
        push(&mut case, "description", &text[..cut]);
    }
    for p in &result.parameters {
        let Some(name) = p.name.as_deref() else {
            continue;
        };
        // A masked value is a secret the test asked Allure not to show.
        let value = match p.mode.as_deref() {
            Some("hidden") => continue,
            Some("masked") => "******",
            _ => p.value.as_deref().unwrap_or(""),
        };
        push(&mut case, &format!("parameter:{name}"), value);
    }
    for (flag, name) in [
        (details.flaky, "flaky"),
        (details.known, "known"),
        (details.muted, "muted"),
    ] {
        if flag {
            push(&mut case, name, "true");
        }
    }

    // Set-up fixtures, the test's own steps, then tear-down fixtures.
    let mut steps = Vec::new();
    let mut attachments = Vec::new();
    for fixture in &fixtures.befores {
        add_step(
            &mut steps,
            &mut attachments,
            fixture,
            Some("SETUP"),
            0,
            notes,
        );
    }
    collect_attachments(&result.attachments, &mut attachments);
    for step in &result.steps {
        add_step(&mut steps, &mut attachments, step, None, 0, notes);
    }
    for fixture in &fixtures.afters {
        add_step(
            &mut steps,
            &mut attachments,
            fixture,
            Some("TEARDOWN"),
            0,
            notes,
        );
    }
    case.steps = steps;
    case.attachments = attachments;

    // A set-up fixture that failed broke the test, whatever the adapter wrote for it.
    if let Some(failed) = fixtures
        .befores
        .iter()
        .find(|f| matches!(f.status.as_deref(), Some("failed" | "broken")))
        && status < Status::Failed
    {
        let why = format!(
            "set-up fixture {} failed{}",
            failed.name.as_deref().unwrap_or("(unnamed)"),
            failed
                .status_details
                .message
                .as_deref()
                .and_then(message_of)
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
        status = Status::Error;
        case.status = status;
        case.message = Some(message_of(&why).unwrap_or(why));
        case.outcomes.push(Outcome {
            kind: OutcomeKind::Error,
            message: case.message.clone(),
            kind_name: None,
            details: None,
        });
    }
    case
}

/// The `testClass` label (after the package when it is a bare name); else the part
/// of `fullName` before `#` when it refines the package (allure-pytest writes
/// `pkg.module.Class#test` and no `testClass`: the same classname as pytest's JUnit
/// XML); else the package.
fn classname_of(result: &TestResult) -> Option<String> {
    let package = first_label(result, "package");
    if let Some(class) = first_label(result, "testClass") {
        return Some(match package {
            Some(package) if !class.contains('.') => format!("{package}.{class}"),
            _ => class.to_string(),
        });
    }
    let package = package?;
    let refined = result
        .full_name
        .as_deref()
        .and_then(|f| f.split_once('#'))
        .map(|(before, _)| before.trim())
        .filter(|before| {
            before
                .strip_prefix(package)
                .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1)
        });
    Some(refined.unwrap_or(package).to_string())
}

/// `parentSuite` > `suite` > `subSuite`, else the package, else [`NO_SUITE`].
fn suite_path(result: &TestResult) -> Vec<String> {
    let path: Vec<String> = ["parentSuite", "suite", "subSuite"]
        .into_iter()
        .filter_map(|n| first_label(result, n))
        .map(str::to_string)
        .collect();
    if !path.is_empty() {
        return path;
    }
    match first_label(result, "package") {
        Some(package) => vec![package.to_string()],
        None => vec![NO_SUITE.to_string()],
    }
}

fn first_label<'r>(result: &'r TestResult, name: &str) -> Option<&'r str> {
    result
        .labels
        .iter()
        .filter(|l| l.name.as_deref() == Some(name))
        .filter_map(|l| l.value.as_deref().map(str::trim))
        .find(|v| !v.is_empty())
}

/// `tms` links name a test case (`test_id`, read by matching); `issue` links a
/// defect (`defects`); other links are kept by URL.
fn add_link(case: &mut TestCase, link: &Link) {
    let url = link.url.as_deref().map(str::trim).filter(|u| !u.is_empty());
    let name = link
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let id = name.or_else(|| url.map(last_segment));
    match (link.kind.as_deref(), id) {
        (Some("tms" | "test_case"), Some(id)) => push(case, "test_id", id),
        (Some("issue"), Some(id)) => push(case, "defects", id),
        _ => {
            if let Some(url) = url {
                push(case, "link", url);
            }
        }
    }
}

/// `https://tracker/browse/BUG-1` → `BUG-1`; `.../index.php?/cases/view/123` → `123`.
fn last_segment(url: &str) -> &str {
    let trimmed = url.trim_end_matches('/');
    trimmed.rsplit(['/', '=']).next().unwrap_or(trimmed)
}

fn push(case: &mut TestCase, name: &str, value: &str) {
    if case.properties.len() < MAX_PROPERTIES {
        case.properties.push(Property {
            name: name.to_string(),
            value: value.to_string(),
        });
    }
}

fn add_step(
    steps: &mut Vec<Step>,
    attachments: &mut Vec<String>,
    step: &StepResult,
    keyword: Option<&str>,
    depth: u32,
    notes: &mut Notes,
) {
    collect_attachments(&step.attachments, attachments);
    if steps.len() >= MAX_STEPS {
        notes.steps_dropped += 1;
    } else {
        steps.push(Step {
            keyword: keyword.map(str::to_string),
            name: step.name.clone().unwrap_or_default(),
            // A step without a known status did not pass.
            status: status_of(step.status.as_deref()).unwrap_or(Status::Skipped),
            duration_us: duration_us(step.start, step.stop),
            message: step.status_details.message.as_deref().and_then(message_of),
            depth,
        });
    }
    for child in &step.steps {
        add_step(
            steps,
            attachments,
            child,
            None,
            depth.saturating_add(1),
            notes,
        );
    }
}

fn collect_attachments(from: &[super::json::Attachment], into: &mut Vec<String>) {
    for a in from {
        if let Some(source) = a.source.as_deref().map(str::trim).filter(|s| !s.is_empty())
            && !into.iter().any(|s| s == source)
        {
            into.push(source.to_string());
        }
    }
}

/// The text, trimmed, as a message: `None` when blank; cut at [`MAX_MESSAGE_BYTES`].
pub(crate) fn message_of(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(trimmed[..floor_char_boundary(trimmed, MAX_MESSAGE_BYTES)].to_string())
}

/// Milliseconds between start and stop as microseconds; none when either is missing
/// or stop is before start.
pub(crate) fn duration_us(start: Option<i64>, stop: Option<i64>) -> Option<u64> {
    let ms = stop?.checked_sub(start?)?;
    u64::try_from(ms).ok()?.checked_mul(1000)
}

pub(crate) fn timestamp_of(ms: i64) -> Option<String> {
    crate::config::context::timestamp_from_unix_millis(ms).ok()
}
