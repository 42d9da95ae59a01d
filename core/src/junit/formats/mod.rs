//! Readers for the result formats other than JUnit XML: NUnit 3 and 2, xUnit.net v2,
//! TRX, Robot Framework `output.xml` and Cucumber JSON.
//!
//! They are not separate entry points: the one streaming [`crate::junit::Reader`]
//! recognises the format from the content (the root element and its namespace for
//! XML, the first character for JSON, never the file name) and hands the elements to
//! the matching reader here, which yields the same [`Event`]s as for JUnit. Every
//! consumer (the `junit.*` ops, the CLI, the bindings) therefore reads every format.
//!
//! The XML lexing, encodings, size limits, positions and XML errors stay in the JUnit
//! reader; a format reader only gives meaning to elements (see [`XmlFormat`]).

pub(crate) mod cucumber;
pub(crate) mod detect;
mod nunit;
mod robot;
mod text;
mod tree;
mod trx;
mod xunit;

use crate::error::{Location, Result, Warning};
use crate::junit::{Attrs, Event, Options};
use crate::model::Counts;
use std::collections::VecDeque;

pub(crate) use detect::{Format, xml_format};

/// Where a format reader puts what it read: the reader's event queue, warnings and
/// totals, shared with the JUnit path.
pub(crate) struct Sink<'a> {
    pub queue: &'a mut VecDeque<Event>,
    pub warnings: &'a mut Vec<Warning>,
    pub warnings_dropped: &'a mut u64,
    /// Counts of every top-level suite closed so far.
    pub totals: &'a mut Counts,
    /// Suites started so far, at any depth.
    pub suites: &'a mut u64,
    pub opts: &'a Options,
}

impl Sink<'_> {
    pub fn warn(&mut self, code: &str, message: String, location: Option<Location>) {
        if (self.warnings.len() as u64) < self.opts.max_warnings {
            self.warnings.push(Warning::new(code, message, location));
        } else {
            *self.warnings_dropped += 1;
        }
    }

    /// Longest captured text kept per element, as `Capture` wants it.
    pub fn capture_limit(&self) -> usize {
        usize::try_from(self.opts.max_captured_bytes).unwrap_or(usize::MAX)
    }
}

/// One start tag handed to a format reader: its local name, attributes (local names,
/// unescaped, bounded) and where it starts.
pub(crate) struct Element<'a, 'b> {
    pub name: &'a str,
    pub attrs: &'a Attrs<'b>,
    pub location: Location,
}

/// A reader of one XML result format. The JUnit reader calls `start` for the root and
/// every element below it, `text` for text and CDATA inside an element that
/// `wants_text`, and `end` for every end tag (also of empty elements), then `finish`
/// after the root's end tag.
pub(crate) trait XmlFormat: Send {
    fn start(&mut self, sink: &mut Sink, element: &Element) -> Result<()>;
    fn wants_text(&self) -> bool;
    fn text(&mut self, text: &str);
    fn end(&mut self, sink: &mut Sink, at: Location) -> Result<()>;
    fn finish(&mut self, sink: &mut Sink, at: Location) -> Result<()>;
}

/// The reader for a detected XML format.
pub(crate) fn xml_reader(format: Format) -> Box<dyn XmlFormat> {
    match format {
        Format::Nunit3 | Format::Nunit2 => Box::new(nunit::Nunit::new(format)),
        Format::Xunit2 => Box::new(xunit::Xunit::new()),
        Format::Trx => Box::new(trx::Trx::new()),
        Format::Robot => Box::new(robot::Robot::new()),
    }
}

#[cfg(test)]
mod tests;
