//! The one error type of the core: a stable code, a message a person can act on,
//! and where it applies, a position in the input.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A position in an input. Byte offset from 0; line and column from 1, the column
/// counted in Unicode scalar values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Location {
    pub offset: u64,
    pub line: u64,
    pub column: u64,
}

impl Location {
    /// The location serde_json reports (line from 1, column from 1 in bytes) as the
    /// core counts it (column in Unicode scalar values).
    pub fn from_line_column(text: &[u8], line: usize, column: usize) -> Location {
        let mut offset = 0usize;
        let mut current = 1usize;
        while current < line && offset < text.len() {
            if text[offset] == b'\n' {
                current += 1;
            }
            offset += 1;
        }
        Location::in_text(text, offset.saturating_add(column.saturating_sub(1)))
    }

    /// The location of `offset` inside `text`, counted from the start of `text`.
    pub fn in_text(text: &[u8], offset: usize) -> Location {
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count() as u64;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = 1 + count_scalars(&before[line_start..]);
        Location {
            offset: offset as u64,
            line,
            column,
        }
    }
}

/// Unicode scalar values in (possibly invalid) UTF-8: every byte that is not a
/// continuation byte starts one.
pub fn count_scalars(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count() as u64
}

/// An error of the core. `code` is stable (`area.reason`, e.g. `junit.malformed_xml`)
/// and safe to match on; `message` is for people and may change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "CoreError")
)]
pub struct Error {
    pub code: String,
    pub message: String,
    pub location: Option<Location>,
    pub hint: Option<String>,
}

impl Error {
    pub fn new(code: &str, message: impl Into<String>) -> Error {
        Error {
            code: code.to_string(),
            message: message.into(),
            location: None,
            hint: None,
        }
    }

    pub fn at(mut self, location: Location) -> Error {
        self.location = Some(location);
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "line {}, column {}: ", loc.line, loc.column)?;
        }
        write!(f, "{} [{}]", self.message, self.code)?;
        if let Some(hint) = &self.hint {
            write!(f, "; hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A problem that did not stop the work, with the same shape as an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Warning {
    pub code: String,
    pub message: String,
    pub location: Option<Location>,
}

impl Warning {
    pub fn new(code: &str, message: impl Into<String>, location: Option<Location>) -> Warning {
        Warning {
            code: code.to_string(),
            message: message.into(),
            location,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_scalar_columns() {
        let text = "ab\nçd€x".as_bytes();
        let offset = text.len() - 1; // the 'x'
        let loc = Location::in_text(text, offset);
        assert_eq!((loc.line, loc.column), (2, 4));
        assert_eq!(Location::in_text(text, 0).column, 1);
        assert_eq!(Location::in_text(text, 999).offset, text.len() as u64);
    }

    #[test]
    fn display_names_position_code_and_hint() {
        let e = Error::new("junit.empty_input", "the file is empty")
            .at(Location {
                offset: 0,
                line: 1,
                column: 1,
            })
            .with_hint("check the path");
        assert_eq!(
            e.to_string(),
            "line 1, column 1: the file is empty [junit.empty_input]; hint: check the path"
        );
    }
}
