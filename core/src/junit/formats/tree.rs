//! The open suites of a format reader, and the suite and case events they yield.
//!
//! A suite announces itself (`SuiteStart`) when its first case or child suite comes,
//! or at its end when it held nothing, exactly as the JUnit reader does; its counts
//! are the cases in it and below.

use super::Sink;
use crate::error::Location;
use crate::junit::{Event, SuiteEnd};
use crate::model::{CapturedText, Counts, DeclaredCounts, Property, Status, SuiteInfo, TestCase};

/// Steps kept per test case; more are counted in a warning, not kept.
pub(crate) const MAX_STEPS: usize = 10_000;
/// Properties kept per suite or test case.
pub(crate) const MAX_PROPERTIES: usize = 10_000;

pub(crate) struct OpenSuite {
    pub info: SuiteInfo,
    started: bool,
    pub system_out: Option<CapturedText>,
    pub system_err: Option<CapturedText>,
    pub late_properties: Vec<Property>,
    counts: Counts,
}

impl OpenSuite {
    /// Adds a property: to the suite's start while it has not started, else to its end.
    pub fn add_property(&mut self, property: Property) {
        let list = if self.started {
            &mut self.late_properties
        } else {
            &mut self.info.properties
        };
        if list.len() < MAX_PROPERTIES {
            list.push(property);
        }
    }
}

#[derive(Default)]
pub(crate) struct Tree {
    open: Vec<OpenSuite>,
}

impl Tree {
    /// Opens a suite below the current one.
    pub fn open(&mut self, name: String, location: Location) -> &mut OpenSuite {
        let mut path = self.path();
        path.push(name.clone());
        self.open.push(OpenSuite {
            info: SuiteInfo {
                path,
                name,
                id: None,
                package: None,
                file: None,
                hostname: None,
                timestamp: None,
                duration_us: None,
                time_text: None,
                declared: DeclaredCounts::default(),
                properties: Vec::new(),
                location,
            },
            started: false,
            system_out: None,
            system_err: None,
            late_properties: Vec::new(),
            counts: Counts::default(),
        });
        let last = self.open.len() - 1;
        &mut self.open[last]
    }

    /// The path of the innermost open suite.
    pub fn path(&self) -> Vec<String> {
        self.open
            .last()
            .map(|s| s.info.path.clone())
            .unwrap_or_default()
    }

    pub fn depth(&self) -> usize {
        self.open.len()
    }

    pub fn current(&mut self) -> Option<&mut OpenSuite> {
        self.open.last_mut()
    }

    /// Yields a case into the innermost open suite (opening an unnamed one if none is
    /// open, so a case always has a suite).
    pub fn case(&mut self, sink: &mut Sink, case: TestCase) {
        if self.open.is_empty() {
            self.open(String::new(), case.location);
        }
        self.announce(sink);
        if let Some(suite) = self.open.last_mut() {
            suite.counts.add_status(case.status);
        }
        sink.queue.push_back(Event::Case(Box::new(case)));
    }

    /// Announces every open suite that has not started yet (before a child suite or case).
    pub fn announce(&mut self, sink: &mut Sink) {
        for suite in self.open.iter_mut().filter(|s| !s.started) {
            suite.started = true;
            *sink.suites += 1;
            sink.queue
                .push_back(Event::SuiteStart(Box::new(suite.info.clone())));
        }
    }

    /// Closes the innermost suite.
    pub fn close(&mut self, sink: &mut Sink) {
        self.announce(sink);
        let Some(suite) = self.open.pop() else {
            return;
        };
        match self.open.last_mut() {
            Some(parent) => parent.counts.add(&suite.counts),
            None => sink.totals.add(&suite.counts),
        }
        sink.queue.push_back(Event::SuiteEnd(SuiteEnd {
            path: suite.info.path,
            system_out: suite.system_out,
            system_err: suite.system_err,
            late_properties: suite.late_properties,
            counts: suite.counts,
        }));
    }

    /// Moves one case of `case_suite` from `old` to `new` in the counts of the open
    /// suite that holds it: the deepest one above it (a closed suite's counts were
    /// added to its parent's when it closed; an open one adds its own when it closes).
    pub fn retally(&mut self, case_suite: &[String], old: Status, new: Status) {
        if let Some(suite) = self
            .open
            .iter_mut()
            .rev()
            .find(|s| case_suite.starts_with(&s.info.path))
        {
            suite.counts.retally(old, new);
        }
    }

    pub fn close_all(&mut self, sink: &mut Sink) {
        while !self.open.is_empty() {
            self.close(sink);
        }
    }
}

/// A test case with only what every format knows; readers fill in the rest.
pub(crate) fn new_case(suite: Vec<String>, name: String, location: Location) -> TestCase {
    TestCase {
        suite,
        classname: None,
        name,
        file: None,
        line: None,
        status: Status::Passed,
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
        location,
    }
}

/// Adds a property to a case, within the bound.
pub(crate) fn push_property(case: &mut TestCase, name: &str, value: String) {
    if case.properties.len() < MAX_PROPERTIES {
        case.properties.push(Property {
            name: name.to_string(),
            value,
        });
    }
}
