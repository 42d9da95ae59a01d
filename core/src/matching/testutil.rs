//! Test cases built by hand for the unit tests of matching and the payload builders.

use crate::error::Location;
use crate::model::{CapturedText, Outcome, OutcomeKind, Property, Status, TestCase};

/// A test case with a classname, a name and a status, and nothing else.
pub fn case(classname: &str, name: &str, status: Status) -> TestCase {
    TestCase {
        suite: Vec::new(),
        classname: (!classname.is_empty()).then(|| classname.to_string()),
        name: name.to_string(),
        file: None,
        line: None,
        status,
        duration_us: None,
        time_text: None,
        timestamp: None,
        message: None,
        outcomes: Vec::new(),
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
    }
}

/// Adds a property.
pub fn with_prop(mut c: TestCase, name: &str, value: &str) -> TestCase {
    c.properties.push(Property {
        name: name.into(),
        value: value.into(),
    });
    c
}

/// Adds a failure with a message and a stack trace.
pub fn failing(mut c: TestCase, message: &str, trace: &str) -> TestCase {
    c.message = Some(message.to_string());
    c.outcomes.push(Outcome {
        kind: if c.status == Status::Error {
            OutcomeKind::Error
        } else {
            OutcomeKind::Failure
        },
        message: Some(message.to_string()),
        kind_name: Some("AssertionError".into()),
        details: Some(CapturedText {
            text: trace.to_string(),
            truncated: false,
            original_bytes: trace.len() as u64,
        }),
    });
    c
}

/// Sets the duration in microseconds.
pub fn took(mut c: TestCase, us: u64) -> TestCase {
    c.duration_us = Some(us);
    c
}

/// A case with the steps a Robot Framework or Cucumber report gives it: a passing
/// `Given` step, a nested keyword (depth 1) and a failing `Then` step.
pub fn with_steps(mut c: TestCase) -> TestCase {
    use crate::model::Step;
    let step = |keyword: &str, name: &str, status, message: Option<&str>, depth| Step {
        keyword: Some(keyword.to_string()),
        name: name.to_string(),
        status,
        duration_us: Some(1000),
        message: message.map(str::to_string),
        depth,
    };
    c.steps = vec![
        step("Given ", "a basket", Status::Passed, None, 0),
        step("KW", "inner keyword", Status::Passed, None, 1),
        step("Then ", "it is paid", Status::Failed, Some("declined"), 0),
    ];
    c
}
