//! The state machine that turns quick-xml events into JUnit events.

use super::Options;
use super::capture::{Capture, first_line, floor_char_boundary};
use super::charset::Charset;
use super::detect::{JunitRoot, foreign_format, junit_root};
use super::duration::{TimeProblem, parse_seconds};
use super::encoding::Decode;
use super::events::{Event, ReportEnd, ReportStart, SuiteEnd};
use super::formats::{self, Element, Sink, XmlFormat};
use super::source::{EventClass, Source};
use crate::error::{Error, Location, Result, Warning};
use crate::model::{
    CapturedText, Counts, DeclaredCounts, Outcome, OutcomeKind, Property, Rerun, RerunKind,
    RootKind, Status, SuiteInfo, TestCase,
};
use quick_xml::events::{BytesDecl, BytesStart, Event as XmlEvent};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::BufRead;

/// Longest message taken from the first line of a failure body.
const MAX_MESSAGE_BYTES: usize = 4096;
/// Properties kept per suite or test case.
const MAX_PROPERTIES: usize = 10_000;
/// Longest attribute value kept (names, classnames, messages, property values), in
/// bytes; longer ones are cut on a character boundary, with a warning. Every case
/// holds several: the bound keeps a case small whatever the report holds.
pub const MAX_ATTRIBUTE_BYTES: usize = 64 * 1024;

/// Streaming JUnit reader over any `BufRead`. Iterate it for [`Event`]s; after an
/// error it yields nothing more.
pub struct Reader<R: BufRead> {
    xml: quick_xml::Reader<Source<Decode<R>>>,
    buf: Vec<u8>,
    opts: Options,
    stack: Vec<Frame>,
    queue: VecDeque<Event>,
    phase: Phase,
    warnings: Vec<Warning>,
    warnings_dropped: u64,
    totals: Counts,
    /// Counts of the current document's top-level suites (a file may hold several).
    document_totals: Counts,
    /// XML documents started so far.
    documents: u64,
    suites: u64,
    doctype_declares_entities: bool,
    event_start: u64,
    /// The reader of a non-JUnit XML format, once its root was recognised.
    foreign: Option<Box<dyn XmlFormat>>,
    /// Elements open in a non-JUnit document (the root included).
    foreign_depth: u64,
    /// Blanks before the first character, kept for a JSON document's positions.
    json_prefix: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    BeforeRoot,
    InRoot,
    AfterRoot,
    Done,
}

struct RootFrame {
    kind: RootKind,
    name: Option<String>,
    declared: DeclaredCounts,
    location: Location,
    /// Suite for test cases placed directly under the root.
    implicit: Option<SuiteFrame>,
}

struct SuiteFrame {
    info: SuiteInfo,
    started: bool,
    system_out: Option<CapturedText>,
    system_err: Option<CapturedText>,
    late_properties: Vec<Property>,
    counts: Counts,
}

struct CaseFrame {
    /// Boxed once here and handed on in the event as it is.
    case: Box<TestCase>,
    status_attr: Option<String>,
}

#[derive(Clone, Copy)]
enum TextTarget {
    SuiteOut,
    SuiteErr,
    CaseOut,
    CaseErr,
    RerunDetails,
    RerunOut,
    RerunErr,
}

enum Frame {
    // Boxed: suites and roots are few, and a small frame is cheap to push and pop for
    // every element.
    Root(Box<RootFrame>),
    Suite(Box<SuiteFrame>),
    Case(CaseFrame),
    Outcome {
        kind: OutcomeKind,
        message: Option<String>,
        kind_name: Option<String>,
        capture: Capture,
    },
    Rerun {
        rerun: Box<Rerun>,
        capture: Capture,
    },
    Text {
        target: TextTarget,
        capture: Capture,
    },
    Properties,
    Property {
        name: Option<String>,
        value: Option<String>,
        capture: Capture,
    },
    Skip,
}

/// What kind of element encloses a new one.
#[derive(Clone, Copy)]
enum Parent {
    Root,
    Suite,
    Case,
    Properties,
    Rerun,
    Other,
}

impl Parent {
    fn of(frame: &Frame) -> Parent {
        match frame {
            Frame::Root(_) => Parent::Root,
            Frame::Suite(_) => Parent::Suite,
            Frame::Case(_) => Parent::Case,
            Frame::Properties => Parent::Properties,
            Frame::Rerun { .. } => Parent::Rerun,
            _ => Parent::Other,
        }
    }
}

/// Unescapes text already known to be UTF-8, borrowing it when it has no references.
fn unescape_text(
    raw: Cow<'_, str>,
) -> std::result::Result<Cow<'_, str>, quick_xml::escape::EscapeError> {
    match raw {
        Cow::Borrowed(text) => quick_xml::escape::unescape(text),
        Cow::Owned(text) => match quick_xml::escape::unescape(&text)? {
            Cow::Borrowed(_) => Ok(Cow::Owned(text)),
            Cow::Owned(unescaped) => Ok(Cow::Owned(unescaped)),
        },
    }
}

/// Attributes of one start tag, unescaped, in document order; keys are local names.
pub(crate) struct Attrs<'a>(Vec<(&'a [u8], Cow<'a, str>)>);

impl Attrs<'_> {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| *k == name.as_bytes())
            .map(|(_, v)| v.as_ref())
    }

    pub(crate) fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }

    fn count(&self, names: &[&str]) -> Option<u64> {
        names
            .iter()
            .find_map(|n| self.get(n))
            .and_then(|v| v.trim().parse::<u64>().ok())
    }

    fn declared(&self) -> DeclaredCounts {
        DeclaredCounts {
            tests: self.count(&["tests"]),
            failures: self.count(&["failures"]),
            errors: self.count(&["errors"]),
            skipped: self.count(&["skipped", "skips", "skip"]),
        }
    }
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R) -> Reader<R> {
        Reader::with_options(input, Options::default())
    }

    pub fn with_options(input: R, opts: Options) -> Reader<R> {
        let source = Source::new(
            Decode::new(input),
            opts.max_markup_bytes,
            opts.max_text_bytes,
        );
        let mut xml = quick_xml::Reader::from_reader(source);
        let config = xml.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
        Reader {
            xml,
            buf: Vec::new(),
            opts,
            stack: Vec::new(),
            queue: VecDeque::new(),
            phase: Phase::BeforeRoot,
            warnings: Vec::new(),
            warnings_dropped: 0,
            totals: Counts::default(),
            document_totals: Counts::default(),
            documents: 0,
            suites: 0,
            doctype_declares_entities: false,
            event_start: 0,
            foreign: None,
            foreign_depth: 0,
            json_prefix: Vec::new(),
        }
    }

    /// The next event, `Ok(None)` after the report end, or the first error.
    pub fn next_event(&mut self) -> Result<Option<Event>> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Ok(Some(event));
            }
            if self.phase == Phase::Done {
                return Ok(None);
            }
            if let Err(err) = self.step() {
                self.phase = Phase::Done;
                self.queue.clear();
                return Err(err);
            }
        }
    }

    fn loc(&self, offset: u64) -> Location {
        self.xml.get_ref().location(offset)
    }

    fn here(&self) -> Location {
        self.loc(self.event_start)
    }

    fn warn(&mut self, code: &str, message: String, location: Option<Location>) {
        if (self.warnings.len() as u64) < self.opts.max_warnings {
            self.warnings.push(Warning::new(code, message, location));
        } else {
            self.warnings_dropped += 1;
        }
    }

    fn malformed(&self, message: impl Into<String>, location: Location) -> Error {
        Error::new("junit.malformed_xml", message)
            .at(location)
            .with_hint(
                "the report is not well-formed XML; check that the test run finished writing it",
            )
    }

    /// Reads one quick-xml event and handles it.
    fn step(&mut self) -> Result<()> {
        if self.phase == Phase::BeforeRoot && self.xml.get_ref().consumed() == 0 {
            self.detect_encoding()?;
            if self.starts_with_json()? {
                return self.read_json();
            }
        }
        self.xml.get_mut().begin_event();
        self.event_start = self.xml.get_ref().consumed();
        // The event borrows a buffer taken out of `self`, so handling it can use `&mut self`
        // without copying the event.
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let outcome = match self.xml.read_event_into(&mut buf) {
            Ok(event) => self.handle(event),
            Err(err) => Err(self.xml_error(err)),
        };
        self.buf = buf;
        outcome
    }

    fn handle(&mut self, event: XmlEvent<'_>) -> Result<()> {
        if matches!(
            event,
            XmlEvent::Start(_) | XmlEvent::Empty(_) | XmlEvent::End(_)
        ) && self.xml.get_ref().byte_at(self.event_start) != Some(b'<')
            && self
                .xml
                .get_ref()
                .byte_at(self.event_start.saturating_sub(1))
                == Some(b'<')
        {
            self.event_start -= 1;
        }
        match event {
            XmlEvent::Start(start) => self.start(&start, false),
            XmlEvent::Empty(start) => self.start(&start, true),
            XmlEvent::End(_) => self.end(),
            XmlEvent::Text(text) => {
                let raw: &[u8] = &text;
                if !raw.is_ascii()
                    && let Err(e) = std::str::from_utf8(raw)
                {
                    return Err(self.invalid_utf8(self.event_start + e.valid_up_to() as u64));
                }
                if self.wants_text() {
                    let unescaped = text.unescape().map_err(|e| self.xml_error(e))?;
                    self.text(&unescaped);
                    Ok(())
                } else {
                    self.stray_text(raw)
                }
            }
            XmlEvent::CData(cdata) => {
                let raw: &[u8] = &cdata;
                if self.wants_text() {
                    let text = std::str::from_utf8(raw).map_err(|e| {
                        self.invalid_utf8(self.event_start + 9 + e.valid_up_to() as u64)
                    })?;
                    self.text(text);
                    Ok(())
                } else if self.stack.is_empty() && self.foreign_depth == 0 {
                    Err(self.malformed("CDATA outside the root element", self.here()))
                } else {
                    Ok(())
                }
            }
            XmlEvent::DocType(doctype) => {
                if contains(&doctype, b"<!ENTITY") {
                    self.doctype_declares_entities = true;
                }
                Ok(())
            }
            XmlEvent::Decl(decl) => self.declaration(&decl),
            XmlEvent::PI(_) | XmlEvent::Comment(_) => Ok(()),
            XmlEvent::Eof => self.eof(),
        }
    }

    /// The declaration of a later document in the same file must not switch encodings:
    /// the file is decoded in the encoding found at its start.
    fn declaration(&self, decl: &BytesDecl) -> Result<()> {
        if self.phase == Phase::BeforeRoot {
            return Ok(());
        }
        let Some(Ok(label)) = decl.encoding() else {
            return Ok(());
        };
        let label = String::from_utf8_lossy(&label);
        let active = self.xml.get_ref().inner().charset();
        match Charset::for_label(&label) {
            // A UTF-16 label on bytes that are not UTF-16 was already overlooked once.
            Some(c) if c == active || c.is_utf16() => Ok(()),
            _ => Err(Error::new(
                "junit.unsupported_encoding",
                format!(
                    "a later XML document in the file declares encoding=\"{label}\", but the file is read as {} from its start; one file holds one encoding",
                    active.name()
                ),
            )
            .at(self.here())
            .with_hint("convert each report to UTF-8 before putting them in one file, or keep them in separate files")),
        }
    }

    /// Decides the report's encoding from its first bytes (see `encoding.rs`).
    fn detect_encoding(&mut self) -> Result<()> {
        let detected = self.xml.get_mut().inner_mut().detect()?;
        if let Some(label) = detected.ignored_label {
            let at = Location {
                offset: 0,
                line: 1,
                column: 1,
            };
            self.warn(
                "junit.declared_encoding_ignored",
                format!(
                    "the report declares encoding=\"{label}\" but its bytes are {}; read as {}",
                    detected.charset.name(),
                    detected.charset.name()
                ),
                Some(at),
            );
        }
        Ok(())
    }

    fn invalid_utf8(&self, offset: u64) -> Error {
        Error::new("junit.invalid_utf8", "the report is not valid UTF-8")
            .at(self.loc(offset))
            .with_hint("re-encode the file as UTF-8, e.g. iconv -f ISO-8859-1 -t UTF-8")
    }

    fn xml_error(&self, err: quick_xml::Error) -> Error {
        use quick_xml::Error as X;
        let mut position = self.xml.error_position().max(self.event_start);
        // quick-xml reports tag errors after the '<' it has already consumed.
        if position > 0 && self.xml.get_ref().byte_at(position - 1) == Some(b'<') {
            position -= 1;
        }
        // An oversized event is reported where it crossed the limit: its start may be
        // older than the bytes kept for positions.
        let crossed = self.loc(self.xml.get_ref().consumed());
        match err {
            X::Io(_) => match self.xml.get_ref().oversized {
                Some(EventClass::Text) => Error::new(
                    "junit.text_too_large",
                    format!(
                        "a single run of text is larger than the limit of {} bytes",
                        self.opts.max_text_bytes
                    ),
                )
                .at(crossed)
                .with_hint("raise max_text_bytes if the report really holds such output"),
                Some(_) => Error::new(
                    "junit.element_too_large",
                    format!(
                        "a single tag (with its attributes) is larger than the limit of {} bytes",
                        self.opts.max_markup_bytes
                    ),
                )
                .at(crossed)
                .with_hint("an attribute this large is not a real test report; raise max_markup_bytes if it is"),
                None => match &self.xml.get_ref().inner().undecodable {
                    Some(bad) => Error::new(
                        "junit.invalid_encoding",
                        format!(
                            "the report holds bytes ({}) that are not valid {}, the encoding it is read in",
                            bad.bytes,
                            bad.charset.name()
                        ),
                    )
                    .at(crossed)
                    .with_hint("the report is not in the encoding it declares (or its byte order mark says); re-encode it, e.g. with iconv, or fix its XML declaration"),
                    None => Error::new("junit.io", format!("could not read the report: {err}")),
                },
            },
            X::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(range, name)) => {
                self.entity_error(&name, self.event_start + entity_start(&range))
            }
            X::Encoding(_) => self.invalid_utf8(position),
            X::Syntax(syntax) => self.malformed(syntax.to_string(), self.loc(position)),
            other => self.malformed(other.to_string(), self.loc(position)),
        }
    }

    fn entity_error(&self, name: &str, offset: u64) -> Error {
        let location = self.loc(offset);
        if self.doctype_declares_entities {
            Error::new(
                "junit.entity_not_allowed",
                format!(
                    "the report uses the entity `&{name};` declared in its DOCTYPE; tmbridge never expands DTD entities (they can read files, fetch URLs or expand without bound)"
                ),
            )
            .at(location)
            .with_hint("remove the DOCTYPE and the entity references from the report")
        } else {
            Error::new(
                "junit.unknown_entity",
                format!(
                    "unknown entity `&{name};`; XML predefines only &lt; &gt; &amp; &quot; &apos;"
                ),
            )
            .at(location)
            .with_hint("escape a literal '&' as &amp;")
        }
    }

    fn wants_text(&self) -> bool {
        if let Some(format) = &self.foreign {
            return self.phase == Phase::InRoot && format.wants_text();
        }
        matches!(
            self.stack.last(),
            Some(
                Frame::Outcome { .. }
                    | Frame::Rerun { .. }
                    | Frame::Text { .. }
                    | Frame::Property { .. }
            )
        )
    }

    fn stray_text(&self, raw: &[u8]) -> Result<()> {
        if self.stack.is_empty()
            && self.foreign_depth == 0
            && let Some(at) = first_non_blank(raw)
        {
            let location = self.loc(self.event_start + at as u64);
            return Err(match self.phase {
                Phase::BeforeRoot => Error::new(
                    "junit.not_xml",
                    "the input is not XML: it does not start with an element",
                )
                .at(location)
                .with_hint("pass the JUnit XML report, not a log or an HTML page"),
                _ => self.malformed("text after the end of the root element", location),
            });
        }
        Ok(())
    }

    fn text(&mut self, text: &str) {
        if let Some(format) = &mut self.foreign {
            format.text(text);
            return;
        }
        if let Some(
            Frame::Outcome { capture, .. }
            | Frame::Rerun { capture, .. }
            | Frame::Text { capture, .. }
            | Frame::Property { capture, .. },
        ) = self.stack.last_mut()
        {
            capture.push(text)
        }
    }

    fn attrs<'a>(&self, start: &'a BytesStart<'a>) -> Result<(Attrs<'a>, Vec<String>)> {
        // Room for a typical test case's attributes: one allocation, no regrowth.
        let mut out = Vec::with_capacity(8);
        let mut namespaces = Vec::new();
        for attr in start.attributes().with_checks(true) {
            let attr =
                attr.map_err(|e| self.malformed(format!("bad attribute: {e}"), self.here()))?;
            let key = attr.key.local_name().into_inner();
            let key_text = || String::from_utf8_lossy(key).into_owned();
            // One pass tells whether the value needs the checks and unescaping below:
            // most values are plain ASCII.
            let special = attr.value.iter().fold(false, |seen, &b| {
                seen | (b == b'<') | (b == b'&') | !b.is_ascii()
            });
            if special && let Some(at) = memchr::memchr(b'<', &attr.value) {
                let offset = self
                    .offset_in_tag(start, &attr.value)
                    .map(|o| o + at as u64);
                return Err(self.malformed(
                    format!(
                        "'<' is not allowed in the value of attribute `{}`",
                        key_text()
                    ),
                    offset.map_or(self.here(), |o| self.loc(o)),
                ));
            }
            // Validated once here; the value is then unescaped as text, not decoded again.
            let value_at = self.offset_in_tag(start, &attr.value);
            let raw = match attr.value {
                Cow::Borrowed(bytes) => std::str::from_utf8(bytes).map(Cow::Borrowed),
                Cow::Owned(bytes) => String::from_utf8(bytes)
                    .map(Cow::Owned)
                    .map_err(|e| e.utf8_error()),
            };
            let raw = match raw {
                Ok(raw) => raw,
                Err(e) => {
                    return Err(self.invalid_utf8(
                        value_at.map_or(self.event_start, |o| o + e.valid_up_to() as u64),
                    ));
                }
            };
            let value = match if special { unescape_text(raw) } else { Ok(raw) } {
                Ok(v) => v,
                Err(quick_xml::escape::EscapeError::UnrecognizedEntity(range, name)) => {
                    return Err(self.entity_error(
                        &name,
                        value_at.map_or(self.event_start, |o| o + entity_start(&range)),
                    ));
                }
                Err(e) => return Err(self.xml_error(quick_xml::Error::Escape(e))),
            };
            let is_namespace = attr.key.as_ref() == b"xmlns"
                || attr.key.prefix().is_some_and(|p| p.as_ref() == b"xmlns");
            if is_namespace {
                namespaces.push(value.into_owned());
                continue;
            }
            out.push((key, value));
        }
        Ok((Attrs(out), namespaces))
    }

    /// Cuts attribute values longer than [`MAX_ATTRIBUTE_BYTES`], with a warning each.
    fn bound_attributes(&mut self, attrs: &mut Attrs, element: &str) {
        let mut cut = Vec::new();
        for (key, value) in attrs.0.iter_mut() {
            if value.len() > MAX_ATTRIBUTE_BYTES {
                let original = value.len();
                let mut text = std::mem::take(value).into_owned();
                text.truncate(floor_char_boundary(&text, MAX_ATTRIBUTE_BYTES));
                *value = Cow::Owned(text);
                cut.push((String::from_utf8_lossy(key).into_owned(), original));
            }
        }
        for (key, original) in cut {
            let at = self.here();
            self.warn(
                "junit.value_truncated",
                format!(
                    "the {key} attribute of <{element}> has {original} bytes; only the first {} KiB are kept",
                    MAX_ATTRIBUTE_BYTES / 1024
                ),
                Some(at),
            );
        }
    }

    /// Absolute offset of a slice of the tag's bytes (attribute values borrow them).
    fn offset_in_tag(&self, start: &BytesStart, part: &[u8]) -> Option<u64> {
        let whole: &[u8] = start;
        let begin = whole.as_ptr() as usize;
        let at = (part.as_ptr() as usize).checked_sub(begin)?;
        (at <= whole.len()).then_some(self.event_start + 1 + at as u64)
    }

    fn start(&mut self, start: &BytesStart, empty: bool) -> Result<()> {
        let local = start.local_name();
        let name = std::str::from_utf8(local.into_inner())
            .map_err(|_| self.invalid_utf8(self.event_start))?;
        if self.stack.len() as u64 + self.foreign_depth >= self.opts.max_depth {
            return Err(Error::new(
                "junit.nesting_too_deep",
                format!(
                    "elements are nested deeper than {} levels",
                    self.opts.max_depth
                ),
            )
            .at(self.here())
            .with_hint("no real test report nests this deep; the file may be generated wrongly"));
        }
        // Inside elements whose children tmbridge ignores, attributes are not read.
        if matches!(
            self.stack.last(),
            Some(Frame::Skip | Frame::Outcome { .. } | Frame::Text { .. } | Frame::Property { .. })
        ) {
            self.stack.push(Frame::Skip);
            return if empty { self.end() } else { Ok(()) };
        }
        let (mut attrs, namespaces) = self.attrs(start)?;
        self.bound_attributes(&mut attrs, name);
        if self.phase == Phase::InRoot && self.foreign.is_some() {
            return self.foreign_start(name, &attrs, empty);
        }
        if self.phase == Phase::BeforeRoot
            && junit_root(name).is_none()
            && let Some(format) = formats::xml_format(name, &namespaces)
        {
            self.foreign = Some(formats::xml_reader(format));
            self.phase = Phase::InRoot;
            self.documents += 1;
            return self.foreign_start(name, &attrs, empty);
        }
        if self.foreign.is_some() {
            return Err(self.malformed(
                format!("a second root element <{name}> after the end of the report"),
                self.here(),
            ));
        }
        let frame = match self.phase {
            Phase::BeforeRoot => self.root_frame(name, &attrs, &namespaces)?,
            Phase::AfterRoot | Phase::Done if junit_root(name).is_some() => {
                self.root_frame(name, &attrs, &namespaces)?
            }
            Phase::AfterRoot | Phase::Done => {
                return Err(self.malformed(
                    format!(
                        "a second root element <{name}> after the end of the report; only another JUnit report (<testsuites>, <testsuite>, <testrun>) may follow one"
                    ),
                    self.here(),
                ));
            }
            Phase::InRoot => self.child_frame(name, &attrs)?,
        };
        self.stack.push(frame);
        if empty { self.end() } else { Ok(()) }
    }

    fn root_frame(&mut self, name: &str, attrs: &Attrs, namespaces: &[String]) -> Result<Frame> {
        let location = self.here();
        let Some(root) = junit_root(name) else {
            let (what, hint) = foreign_format(name, namespaces);
            return Err(Error::new(
                "junit.not_junit",
                format!("this is not a JUnit report: the root element <{name}> looks like {what}"),
            )
            .at(location)
            .with_hint(hint));
        };
        self.phase = Phase::InRoot;
        self.documents += 1;
        self.document_totals = Counts::default();
        let kind = match root {
            JunitRoot::Testsuites => RootKind::Testsuites,
            JunitRoot::Testsuite => RootKind::Testsuite,
            JunitRoot::Testrun => RootKind::Testrun,
        };
        let duration_us = self.duration(attrs, location);
        if self.documents == 1 {
            self.queue.push_back(Event::ReportStart(ReportStart {
                root: kind,
                name: attrs.owned("name"),
                declared: attrs.declared(),
                duration_us,
                timestamp: attrs.owned("timestamp"),
                location,
            }));
        } else {
            // Runners that write one report per test binary into one file: every
            // document's suites are read into the one report, nothing is refused.
            self.warn(
                "junit.concatenated_documents",
                format!(
                    "XML document {} starts here: the file holds several JUnit reports one after another; their suites are read into one report (its name, time and declared counts are the first document's)",
                    self.documents
                ),
                Some(location),
            );
        }
        if root == JunitRoot::Testsuite {
            return Ok(Frame::Suite(Box::new(self.suite_frame(
                Vec::new(),
                attrs,
                location,
            ))));
        }
        Ok(Frame::Root(Box::new(RootFrame {
            kind,
            name: attrs.owned("name"),
            declared: attrs.declared(),
            location,
            implicit: None,
        })))
    }

    fn duration(&mut self, attrs: &Attrs, location: Location) -> Option<u64> {
        let text = attrs.get("time")?;
        match parse_seconds(text) {
            Ok(v) => v,
            Err(TimeProblem::Negative) => {
                self.warn(
                    "junit.negative_time",
                    format!("negative time `{text}` ignored"),
                    Some(location),
                );
                None
            }
            Err(TimeProblem::Unreadable) => {
                self.warn(
                    "junit.unreadable_time",
                    format!("time `{text}` is not a number of seconds; ignored"),
                    Some(location),
                );
                None
            }
        }
    }

    fn suite_frame(
        &mut self,
        parent: Vec<String>,
        attrs: &Attrs,
        location: Location,
    ) -> SuiteFrame {
        let name = attrs.owned("name").unwrap_or_default();
        let mut path = parent;
        path.push(name.clone());
        let duration_us = self.duration(attrs, location);
        SuiteFrame {
            info: SuiteInfo {
                path,
                name,
                id: attrs.owned("id"),
                package: attrs.owned("package"),
                file: attrs.owned("file").or_else(|| attrs.owned("filepath")),
                hostname: attrs.owned("hostname"),
                timestamp: attrs.owned("timestamp"),
                duration_us,
                time_text: attrs.owned("time"),
                declared: attrs.declared(),
                properties: Vec::new(),
                location,
            },
            started: false,
            system_out: None,
            system_err: None,
            late_properties: Vec::new(),
            counts: Counts::default(),
        }
    }

    /// The suite that directly holds what is being read (opening an implicit one
    /// under the root when a test case sits there).
    fn current_suite(&mut self) -> Option<&mut SuiteFrame> {
        for frame in self.stack.iter_mut().rev() {
            match frame {
                Frame::Suite(s) => return Some(s),
                Frame::Root(r) => return r.implicit.as_mut(),
                _ => {}
            }
        }
        None
    }

    /// Emits the suite-start events of every open suite that has not announced itself.
    fn start_open_suites(&mut self) {
        for frame in self.stack.iter_mut() {
            let suite = match frame {
                Frame::Suite(s) => s,
                Frame::Root(root) => match &mut root.implicit {
                    Some(s) => s,
                    None => continue,
                },
                _ => continue,
            };
            if !suite.started {
                suite.started = true;
                self.suites += 1;
                self.queue
                    .push_back(Event::SuiteStart(Box::new(suite.info.clone())));
            }
        }
    }

    fn child_frame(&mut self, name: &str, attrs: &Attrs) -> Result<Frame> {
        let location = self.here();
        let limit = usize::try_from(self.opts.max_captured_bytes).unwrap_or(usize::MAX);
        let parent = self.stack.last().map(Parent::of);
        let frame = match (parent, name) {
            (Some(Parent::Root | Parent::Suite), "testsuite") => {
                self.close_implicit_suite();
                self.start_open_suites();
                let parent_path = match self.stack.last() {
                    Some(Frame::Suite(s)) => s.info.path.clone(),
                    _ => Vec::new(),
                };
                Frame::Suite(Box::new(self.suite_frame(parent_path, attrs, location)))
            }
            (Some(Parent::Root), "testcase") => {
                if let Some(Frame::Root(root)) = self.stack.last_mut()
                    && root.implicit.is_none()
                {
                    let mut implicit_attrs = Vec::new();
                    let root_name = root.name.clone();
                    if let Some(n) = &root_name {
                        implicit_attrs.push((&b"name"[..], Cow::Borrowed(n.as_str())));
                    }
                    let at = root.location;
                    let frame = self.suite_frame(Vec::new(), &Attrs(implicit_attrs), at);
                    if let Some(Frame::Root(root)) = self.stack.last_mut() {
                        root.implicit = Some(frame);
                    }
                }
                self.case_frame(attrs, location)
            }
            (Some(Parent::Suite), "testcase") => self.case_frame(attrs, location),
            (Some(Parent::Suite | Parent::Case), "properties") => Frame::Properties,
            (Some(Parent::Suite | Parent::Case | Parent::Properties), "property") => {
                Frame::Property {
                    name: attrs.owned("name"),
                    value: attrs.owned("value"),
                    capture: Capture::new(limit, false),
                }
            }
            (Some(Parent::Suite), "system-out") => Frame::Text {
                target: TextTarget::SuiteOut,
                capture: Capture::new(limit, false),
            },
            (Some(Parent::Suite), "system-err") => Frame::Text {
                target: TextTarget::SuiteErr,
                capture: Capture::new(limit, false),
            },
            (Some(Parent::Case), "system-out") => Frame::Text {
                target: TextTarget::CaseOut,
                capture: Capture::new(limit, true),
            },
            (Some(Parent::Case), "system-err") => Frame::Text {
                target: TextTarget::CaseErr,
                capture: Capture::new(limit, true),
            },
            (Some(Parent::Case), "failure" | "error" | "skipped" | "skip") => {
                let kind = match name {
                    "failure" => OutcomeKind::Failure,
                    "error" => OutcomeKind::Error,
                    _ => OutcomeKind::Skipped,
                };
                Frame::Outcome {
                    kind,
                    message: attrs.owned("message"),
                    kind_name: attrs.owned("type"),
                    capture: Capture::new(limit, false),
                }
            }
            (Some(Parent::Case), "flakyFailure" | "flakyError" | "rerunFailure" | "rerunError") => {
                let kind = match name {
                    "flakyFailure" => RerunKind::FlakyFailure,
                    "flakyError" => RerunKind::FlakyError,
                    "rerunFailure" => RerunKind::RerunFailure,
                    _ => RerunKind::RerunError,
                };
                let duration_us = self.duration(attrs, location);
                Frame::Rerun {
                    rerun: Box::new(Rerun {
                        kind,
                        message: attrs.owned("message"),
                        kind_name: attrs.owned("type"),
                        duration_us,
                        timestamp: attrs.owned("timestamp"),
                        details: None,
                        system_out: None,
                        system_err: None,
                    }),
                    capture: Capture::new(limit, false),
                }
            }
            (Some(Parent::Rerun), "stackTrace" | "system-out" | "system-err") => {
                let target = match name {
                    "stackTrace" => TextTarget::RerunDetails,
                    "system-out" => TextTarget::RerunOut,
                    _ => TextTarget::RerunErr,
                };
                Frame::Text {
                    target,
                    capture: Capture::new(limit, false),
                }
            }
            _ => Frame::Skip,
        };
        Ok(frame)
    }

    /// An implicit root-level suite ends when a real suite starts after it.
    fn close_implicit_suite(&mut self) {
        let implicit = match self.stack.last_mut() {
            Some(Frame::Root(root)) => root.implicit.take(),
            _ => None,
        };
        if let Some(suite) = implicit {
            self.finish_suite(suite);
        }
    }

    fn case_frame(&mut self, attrs: &Attrs, location: Location) -> Frame {
        self.start_open_suites();
        let suite = self
            .current_suite()
            .map(|s| s.info.path.clone())
            .unwrap_or_default();
        let name = match attrs.owned("name") {
            Some(n) => n,
            None => {
                self.warn(
                    "junit.missing_name",
                    "a test case has no name attribute".to_string(),
                    Some(location),
                );
                String::new()
            }
        };
        let duration_us = self.duration(attrs, location);
        // googletest writes both (`status="run" result="skipped"`): the graver one counts.
        let status_attr = [attrs.get("status"), attrs.get("result")]
            .into_iter()
            .flatten()
            .map(|s| s.trim().to_ascii_lowercase())
            .max_by_key(|s| status_from_attribute(Some(s)));
        Frame::Case(CaseFrame {
            case: Box::new(TestCase {
                suite,
                classname: attrs.owned("classname").or_else(|| attrs.owned("class")),
                name,
                file: attrs.owned("file").or_else(|| attrs.owned("filepath")),
                // minitest writes `lineno`, most others `line`.
                line: attrs
                    .get("line")
                    .or_else(|| attrs.get("lineno"))
                    .and_then(|l| l.trim().parse().ok()),
                status: Status::Passed,
                duration_us,
                time_text: attrs.owned("time"),
                timestamp: attrs.owned("timestamp"),
                message: None,
                outcomes: Vec::new(),
                reruns: Vec::new(),
                system_out: None,
                system_err: None,
                properties: Vec::new(),
                attachments: Vec::new(),
                steps: Vec::new(),
                location,
            }),
            status_attr,
        })
    }

    fn end(&mut self) -> Result<()> {
        if self.foreign.is_some() && self.foreign_depth > 0 {
            return self.foreign_end();
        }
        let Some(frame) = self.stack.pop() else {
            return Err(self.malformed("an end tag without a start tag", self.here()));
        };
        match frame {
            Frame::Root(mut root) => {
                if let Some(suite) = root.implicit.take() {
                    self.finish_suite(suite);
                }
                let totals = self.document_totals;
                let label = root
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("<{}>", root_tag(root.kind)));
                self.check_declared(&label, &root.declared, &totals, root.location);
                self.phase = Phase::AfterRoot;
            }
            Frame::Suite(suite) => {
                let is_root = self.stack.is_empty();
                self.finish_suite(*suite);
                if is_root {
                    self.phase = Phase::AfterRoot;
                }
            }
            Frame::Case(case) => self.finish_case(case),
            Frame::Outcome {
                kind,
                message,
                kind_name,
                capture,
            } => {
                let (details, _, _) = capture.finish();
                if let Some(Frame::Case(case)) = self.stack.last_mut() {
                    case.case.outcomes.push(Outcome {
                        kind,
                        message: message.filter(|m| !m.trim().is_empty()),
                        kind_name,
                        details,
                    });
                }
            }
            Frame::Rerun { mut rerun, capture } => {
                let (details, _, _) = capture.finish();
                if rerun.details.is_none() {
                    rerun.details = details;
                }
                if let Some(Frame::Case(case)) = self.stack.last_mut() {
                    case.case.reruns.push(*rerun);
                }
            }
            Frame::Text { target, capture } => self.finish_text(target, capture),
            Frame::Property {
                name,
                value,
                capture,
            } => self.finish_property(name, value, capture),
            Frame::Properties | Frame::Skip => {}
        }
        Ok(())
    }

    fn finish_text(&mut self, target: TextTarget, capture: Capture) {
        let (text, properties, attachments) = capture.finish();
        match (target, self.stack.last_mut()) {
            (TextTarget::SuiteOut, Some(Frame::Suite(s))) => s.system_out = text,
            (TextTarget::SuiteErr, Some(Frame::Suite(s))) => s.system_err = text,
            (TextTarget::CaseOut | TextTarget::CaseErr, Some(Frame::Case(c))) => {
                if matches!(target, TextTarget::CaseOut) {
                    c.case.system_out = text;
                } else {
                    c.case.system_err = text;
                }
                let room = MAX_PROPERTIES.saturating_sub(c.case.properties.len());
                c.case.properties.extend(properties.into_iter().take(room));
                c.case.attachments.extend(attachments);
            }
            (TextTarget::RerunDetails, Some(Frame::Rerun { rerun, .. })) => rerun.details = text,
            (TextTarget::RerunOut, Some(Frame::Rerun { rerun, .. })) => rerun.system_out = text,
            (TextTarget::RerunErr, Some(Frame::Rerun { rerun, .. })) => rerun.system_err = text,
            _ => {}
        }
    }

    fn finish_property(&mut self, name: Option<String>, value: Option<String>, capture: Capture) {
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            let at = self.here();
            self.warn(
                "junit.property_without_name",
                "a property has no name; ignored".to_string(),
                Some(at),
            );
            return;
        };
        let value = match value {
            Some(v) => v,
            None => {
                let (text, _, _) = capture.finish();
                if let Some(t) = text.as_ref().filter(|t| t.truncated) {
                    let at = self.here();
                    self.warn(
                        "junit.value_truncated",
                        format!(
                            "property `{name}` has {} bytes of text; only the first {} are kept",
                            t.original_bytes, self.opts.max_captured_bytes
                        ),
                        Some(at),
                    );
                }
                text.map(|t| t.text.trim().to_string()).unwrap_or_default()
            }
        };
        let property = Property { name, value };
        let owner = self
            .stack
            .iter_mut()
            .rev()
            .find(|f| matches!(f, Frame::Suite(_) | Frame::Case(_)));
        match owner {
            Some(Frame::Case(case)) => {
                if is_attachment_property(&property.name) && !property.value.is_empty() {
                    case.case.attachments.push(property.value.clone());
                }
                if case.case.properties.len() < MAX_PROPERTIES {
                    case.case.properties.push(property);
                }
            }
            Some(Frame::Suite(suite)) => {
                let list = if suite.started {
                    &mut suite.late_properties
                } else {
                    &mut suite.info.properties
                };
                if list.len() < MAX_PROPERTIES {
                    list.push(property);
                }
            }
            _ => {}
        }
    }

    fn finish_case(&mut self, frame: CaseFrame) {
        let CaseFrame {
            mut case,
            status_attr,
        } = frame;
        let worst = case
            .outcomes
            .iter()
            .map(|o| o.kind)
            .max_by_key(|k| match k {
                OutcomeKind::Skipped => 0,
                OutcomeKind::Failure => 1,
                OutcomeKind::Error => 2,
            });
        case.status = match worst {
            Some(OutcomeKind::Error) => Status::Error,
            Some(OutcomeKind::Failure) => Status::Failed,
            Some(OutcomeKind::Skipped) => Status::Skipped,
            None if !case.reruns.is_empty() => Status::Flaky,
            None => status_from_attribute(status_attr.as_deref()),
        };
        case.message = match worst {
            Some(kind) => case
                .outcomes
                .iter()
                .filter(|o| o.kind == kind)
                .find_map(outcome_message),
            None => case.reruns.iter().rev().find_map(|r| {
                r.message
                    .clone()
                    .filter(|m| !m.trim().is_empty())
                    .or_else(|| {
                        r.details
                            .as_ref()
                            .and_then(|d| first_line(&d.text, MAX_MESSAGE_BYTES))
                    })
            }),
        };
        if let Some(suite) = self.current_suite() {
            suite.counts.add_status(case.status);
        }
        self.queue.push_back(Event::Case(case));
    }

    fn finish_suite(&mut self, mut suite: SuiteFrame) {
        if !suite.started {
            suite.started = true;
            self.suites += 1;
            self.queue
                .push_back(Event::SuiteStart(Box::new(suite.info.clone())));
        }
        let label = if suite.info.name.is_empty() {
            "(unnamed)".to_string()
        } else {
            suite.info.name.clone()
        };
        self.check_declared(
            &label,
            &suite.info.declared,
            &suite.counts,
            suite.info.location,
        );
        let counts = suite.counts;
        match self.current_suite() {
            Some(parent) => parent.counts.add(&counts),
            None => {
                self.totals.add(&counts);
                self.document_totals.add(&counts);
            }
        }
        self.queue.push_back(Event::SuiteEnd(SuiteEnd {
            path: suite.info.path,
            system_out: suite.system_out,
            system_err: suite.system_err,
            late_properties: suite.late_properties,
            counts,
        }));
    }

    fn check_declared(
        &mut self,
        label: &str,
        declared: &DeclaredCounts,
        actual: &Counts,
        at: Location,
    ) {
        let pairs = [
            ("tests", declared.tests, actual.tests),
            ("failures", declared.failures, actual.failed),
            ("errors", declared.errors, actual.errors),
            ("skipped", declared.skipped, actual.skipped),
        ];
        for (what, want, have) in pairs {
            if let Some(want) = want
                && want != have
            {
                self.warn(
                    "junit.count_mismatch",
                    format!("suite `{label}` declares {what}=\"{want}\" but holds {have}"),
                    Some(at),
                );
            }
        }
    }

    /// The report ends with the input: another document may follow a root's end.
    fn finish_report(&mut self) {
        self.phase = Phase::Done;
        self.queue.push_back(Event::ReportEnd(ReportEnd {
            counts: self.totals,
            suites: self.suites,
            warnings: std::mem::take(&mut self.warnings),
            warnings_dropped: self.warnings_dropped,
        }));
    }

    fn eof(&mut self) -> Result<()> {
        let end = self.loc(self.xml.get_ref().consumed());
        match self.phase {
            Phase::AfterRoot => {
                self.finish_report();
                Ok(())
            }
            Phase::Done => Ok(()),
            Phase::BeforeRoot if end.offset == 0 => {
                Err(Error::new("junit.empty_input", "the report is empty")
                    .at(end)
                    .with_hint("the test run may have crashed before writing its report"))
            }
            Phase::BeforeRoot => Err(Error::new(
                "junit.no_root_element",
                "the input holds no XML element, only a declaration, comments or whitespace",
            )
            .at(end)
            .with_hint("the test run may have crashed before writing its report")),
            Phase::InRoot => {
                let mut open: Vec<String> = self.stack.iter().filter_map(frame_tag).collect();
                if self.foreign_depth > 0 {
                    open.push(format!("{} elements", self.foreign_depth));
                }
                Err(Error::new(
                    "junit.truncated",
                    format!(
                        "the report ends before its elements are closed (still open: {})",
                        open.join(" > ")
                    ),
                )
                .at(end)
                .with_hint("the file was cut off; the test cases before this point were read"))
            }
        }
    }
}

/// Non-JUnit formats: the element handling goes to the format's reader.
impl<R: BufRead> Reader<R> {
    /// Runs `f` with the format reader and a sink over this reader's queue and totals.
    fn with_format(
        &mut self,
        f: impl FnOnce(&mut dyn XmlFormat, &mut Sink) -> Result<()>,
    ) -> Result<()> {
        let Some(format) = self.foreign.as_mut() else {
            return Ok(());
        };
        let mut sink = Sink {
            queue: &mut self.queue,
            warnings: &mut self.warnings,
            warnings_dropped: &mut self.warnings_dropped,
            totals: &mut self.totals,
            suites: &mut self.suites,
            opts: &self.opts,
        };
        f(format.as_mut(), &mut sink)
    }

    fn foreign_start(&mut self, name: &str, attrs: &Attrs, empty: bool) -> Result<()> {
        let location = self.here();
        self.with_format(|format, sink| {
            format.start(
                sink,
                &Element {
                    name,
                    attrs,
                    location,
                },
            )
        })?;
        self.foreign_depth += 1;
        if empty { self.end() } else { Ok(()) }
    }

    fn foreign_end(&mut self) -> Result<()> {
        let at = self.here();
        self.foreign_depth -= 1;
        self.with_format(|format, sink| format.end(sink, at))?;
        if self.foreign_depth == 0 {
            self.with_format(|format, sink| format.finish(sink, at))?;
            self.phase = Phase::AfterRoot;
        }
        Ok(())
    }

    /// True when the first character (after a byte order mark and blanks) opens JSON.
    /// The blanks are consumed here, however small the input's buffer (and kept, so
    /// JSON positions still count from the start of the file); XML ignores them.
    fn starts_with_json(&mut self) -> Result<bool> {
        let mut blank = Vec::new();
        let first = loop {
            let buf = match self.xml.get_mut().fill_buf() {
                Ok(buf) => buf,
                Err(e) => return Err(self.xml_error(quick_xml::Error::Io(e.into()))),
            };
            let skip = if blank.is_empty() && buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
                3
            } else {
                buf.iter().take_while(|b| b.is_ascii_whitespace()).count()
            };
            match (skip, buf.first()) {
                (_, None) => break None,
                (0, Some(&b)) => break Some(b),
                _ => {
                    blank.extend_from_slice(&buf[..skip]);
                    self.xml.get_mut().consume(skip);
                }
            }
        };
        self.json_prefix = blank;
        Ok(first.is_some_and(formats::detect::starts_json))
    }

    /// Reads a whole JSON document (Cucumber JSON), bounded by `max_text_bytes`.
    fn read_json(&mut self) -> Result<()> {
        use std::io::Read;
        let mut bytes = std::mem::take(&mut self.json_prefix);
        if let Err(e) = self.xml.get_mut().read_to_end(&mut bytes) {
            return Err(self.xml_error(quick_xml::Error::Io(e.into())));
        }
        self.phase = Phase::InRoot;
        self.documents += 1;
        let mut sink = Sink {
            queue: &mut self.queue,
            warnings: &mut self.warnings,
            warnings_dropped: &mut self.warnings_dropped,
            totals: &mut self.totals,
            suites: &mut self.suites,
            opts: &self.opts,
        };
        formats::cucumber::read(&bytes, &mut sink)?;
        self.phase = Phase::AfterRoot;
        Ok(())
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        self.next_event().transpose()
    }
}

fn outcome_message(outcome: &Outcome) -> Option<String> {
    outcome.message.clone().or_else(|| {
        outcome
            .details
            .as_ref()
            .and_then(|d| first_line(&d.text, MAX_MESSAGE_BYTES))
    })
}

/// `status`/`result` attributes of googletest, tst, CTest conversions and others.
fn status_from_attribute(value: Option<&str>) -> Status {
    match value {
        Some(
            "disabled" | "notrun" | "not run" | "not_run" | "skipped" | "skip" | "ignored"
            | "pending" | "suppressed" | "excluded" | "notexecuted" | "not_executed" | "untested"
            | "blocked",
        ) => Status::Skipped,
        Some("failed" | "failure" | "fail") => Status::Failed,
        Some("error" | "errored" | "broken") => Status::Error,
        _ => Status::Passed,
    }
}

fn is_attachment_property(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "attachment" || name == "attachments" || name.ends_with("_attachment")
}

fn root_tag(kind: RootKind) -> &'static str {
    match kind {
        RootKind::Testsuites => "testsuites",
        RootKind::Testsuite => "testsuite",
        RootKind::Testrun => "testrun",
        // Only JUnit roots have root frames; the other formats keep their own stacks.
        RootKind::Nunit3 => "test-run",
        RootKind::Nunit2 => "test-results",
        RootKind::Xunit2 => "assemblies",
        RootKind::Trx => "TestRun",
        RootKind::Robot => "robot",
        RootKind::Cucumber => "[",
        // Never a root of the streaming reader: Allure results are read by `allure`.
        RootKind::Allure => "allure-results",
    }
}

fn frame_tag(frame: &Frame) -> Option<String> {
    Some(match frame {
        Frame::Root(r) => format!("<{}>", root_tag(r.kind)),
        Frame::Suite(s) => format!("<testsuite name=\"{}\">", s.info.name),
        Frame::Case(c) => format!("<testcase name=\"{}\">", c.case.name),
        Frame::Outcome { kind, .. } => match kind {
            OutcomeKind::Failure => "<failure>".to_string(),
            OutcomeKind::Error => "<error>".to_string(),
            OutcomeKind::Skipped => "<skipped>".to_string(),
        },
        Frame::Rerun { .. } => "<rerun>".to_string(),
        Frame::Text { .. } => "<system-out/err>".to_string(),
        Frame::Properties => "<properties>".to_string(),
        Frame::Property { .. } => "<property>".to_string(),
        Frame::Skip => return None,
    })
}

/// quick-xml gives the range of the entity's name; the reference starts at the '&' before it.
fn entity_start(name: &std::ops::Range<usize>) -> u64 {
    name.start.saturating_sub(1) as u64
}

/// Where text outside the root holds more than whitespace; byte order marks count as
/// blank (files concatenated with `cat` keep the mark of each).
fn first_non_blank(raw: &[u8]) -> Option<usize> {
    let mut at = 0;
    while at < raw.len() {
        if raw[at..].starts_with(&[0xEF, 0xBB, 0xBF]) {
            at += 3;
        } else if raw[at].is_ascii_whitespace() {
            at += 1;
        } else {
            return Some(at);
        }
    }
    None
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
