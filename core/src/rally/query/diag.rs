//! What the checker and the normaliser report: problems (errors and warnings, each
//! with a stable code, a position and a hint) and the changes made to the query.

use super::ast::Span;
use crate::error::{Error, Location};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyQuerySeverity")
)]
pub enum Severity {
    /// Rally refuses the query, and tmbridge cannot repair it.
    Error,
    /// Rally accepts the query, but it probably does not do what was meant.
    Warning,
}

/// One problem found in a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyQueryDiagnostic")
)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable, e.g. `rally_query.unknown_field`.
    pub code: String,
    pub message: String,
    /// Where the problem starts.
    pub location: Option<Location>,
    /// Where it ends (exclusive), so a host can underline it.
    pub end: Option<Location>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Error, code, message)
    }

    pub fn warning(code: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Warning, code, message)
    }

    fn new(severity: Severity, code: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity,
            code: code.to_string(),
            message: message.into(),
            location: None,
            end: None,
            hint: None,
        }
    }

    /// Places the diagnostic on `span` of `text`. A default (empty) span is no position.
    pub fn at(mut self, text: &str, span: Span) -> Diagnostic {
        if span != Span::default() {
            self.location = Some(Location::in_text(text.as_bytes(), span.start()));
            self.end = Some(Location::in_text(text.as_bytes(), span.end()));
        }
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The same problem as the core's error type.
    pub fn to_error(&self) -> Error {
        let mut err = Error::new(&self.code, self.message.clone());
        if let Some(loc) = self.location {
            err = err.at(loc);
        }
        if let Some(hint) = &self.hint {
            err = err.with_hint(hint.clone());
        }
        err
    }
}

/// What kind of rewrite a [`Change`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ChangeKind {
    /// A condition written without its own parentheses was put in them.
    Parenthesized,
    /// More than two operands at one AND/OR level were nested two by two.
    Nested,
    /// AND and OR were mixed without parentheses; AND was grouped first.
    Grouped,
    /// An operator or keyword was respelled (`==` → `=`, `and` → `AND`).
    Spelling,
    /// A value was put in double quotes (several words, single or curly quotes).
    Quoted,
    /// The `Sorted by ...` tail of a custom view was taken out (see `order`).
    SortRemoved,
    /// A display name or misspelt field became Rally's system name.
    FieldName,
    /// A date became UTC `yyyy-mm-ddThh:mm:ssZ`.
    Date,
    /// A full URL became a ref (`/user/123`).
    Ref,
    /// A Release or Iteration given by name became `Release.ObjectID = <id>`, or
    /// `Release.Name` while the id is not known yet.
    ObjectId,
}

/// One rewrite, with the text before and after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyQueryChange")
)]
pub struct Change {
    pub kind: ChangeKind,
    pub message: String,
    pub before: String,
    pub after: String,
    pub location: Option<Location>,
}

impl Change {
    pub fn new(
        kind: ChangeKind,
        text: &str,
        span: Span,
        before: impl Into<String>,
        after: impl Into<String>,
        message: impl Into<String>,
    ) -> Change {
        let location = if span == Span::default() {
            None
        } else {
            Some(Location::in_text(text.as_bytes(), span.start()))
        };
        Change {
            kind,
            message: message.into(),
            before: before.into(),
            after: after.into(),
            location,
        }
    }
}
