//! What the auto-fill reports about a form: every field it could not fill well,
//! every mapping value that cannot make the round trip, every rule it refused.

use serde::{Deserialize, Serialize};

/// How bad a problem is. `Error`: Rally would refuse the defect, or the form is
/// wrong (a required field is empty, a value is not allowed). `Warning`: the
/// defect can be created, but something was lost or guessed. `Info`: worth knowing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillSeverity")
)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One problem, with a stable `code` (e.g. `autofill.required_empty`), the field
/// it is about (Rally ElementName) when there is one, and a hint when the fix is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillProblem")
)]
pub struct Problem {
    pub severity: Severity,
    pub code: String,
    pub field: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub fn new(
        severity: Severity,
        code: &str,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            severity,
            code: code.to_string(),
            field: field.map(str::to_string),
            message: message.into(),
            hint: None,
        }
    }

    pub fn error(code: &str, field: Option<&str>, message: impl Into<String>) -> Problem {
        Problem::new(Severity::Error, code, field, message)
    }

    pub fn warning(code: &str, field: Option<&str>, message: impl Into<String>) -> Problem {
        Problem::new(Severity::Warning, code, field, message)
    }

    pub fn info(code: &str, field: Option<&str>, message: impl Into<String>) -> Problem {
        Problem::new(Severity::Info, code, field, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }
}

/// The closest entry of `candidates` to `wanted` when it differs only in case or
/// surrounding/inner spaces (e.g. Rally's `"Enhancement Request "` with a trailing
/// space): the usual reason a mapped value is "not allowed".
pub(crate) fn near_match<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let key = squash(wanted);
    candidates
        .into_iter()
        .find(|c| *c != wanted && squash(c) == key)
}

fn squash(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Quote a value for a message: `"Major"`, with control characters escaped.
pub(crate) fn quoted(text: &str) -> String {
    format!("{text:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_match_ignores_case_and_spaces_but_not_identity() {
        let values = ["Code Change", "Enhancement Request ", "Duplicate"];
        assert_eq!(
            near_match("enhancement request", values),
            Some("Enhancement Request ")
        );
        assert_eq!(
            near_match("Duplicate", values),
            None,
            "an exact value is not a near match"
        );
        assert_eq!(near_match("Dup", values), None);
    }

    #[test]
    fn severity_orders_and_serialises_lowercase() {
        assert!(Severity::Error > Severity::Warning && Severity::Warning > Severity::Info);
        assert_eq!(
            serde_json::to_string(&Severity::Warning).unwrap(),
            "\"warning\""
        );
    }
}
