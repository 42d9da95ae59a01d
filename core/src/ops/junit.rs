//! JUnit ops: the whole report, its event stream, and the stream for bindings.

use super::document::Document;
use super::envelope::{error_envelope, ok_envelope};
use super::input::{document, from_json};
use super::op::Op;
use crate::error::Result;
use crate::junit::{self, Event, Options, Reader};
use crate::model::Report;
use serde::Deserialize;
use std::io::BufRead;

const INPUT: &str = "{ xml?: string | { base64: string }, options?: JunitOptions | null }";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReportInput {
    #[serde(default)]
    xml: Option<Document>,
    #[serde(default)]
    options: Option<Options>,
}

pub struct Parse;

impl Op for Parse {
    const NAME: &'static str = "junit.parse";
    const SUMMARY: &'static str = "Read a JUnit XML report (any common dialect) into a Report.";
    const INPUT: &'static str = INPUT;
    const OUTPUT: &'static str = "Report";
    const DOCUMENT: Option<&'static str> = Some("xml");
    type Input = ReportInput;
    type Output = Report;

    fn run(input: ReportInput, beside: Option<&[u8]>) -> Result<Report> {
        let xml = document(Self::NAME, "xml", &input.xml, beside)?;
        junit::parse_with(xml, &input.options.unwrap_or_default())
    }
}

pub struct Events;

impl Op for Events {
    const NAME: &'static str = "junit.events";
    const SUMMARY: &'static str =
        "The streaming reader's events for a JUnit XML report, in document order.";
    const INPUT: &'static str = INPUT;
    const OUTPUT: &'static str = "JunitEvent[]";
    const DOCUMENT: Option<&'static str> = Some("xml");
    type Input = ReportInput;
    type Output = Vec<Event>;

    fn run(input: ReportInput, beside: Option<&[u8]>) -> Result<Vec<Event>> {
        let xml = document(Self::NAME, "xml", &input.xml, beside)?;
        Reader::with_options(xml, input.options.unwrap_or_default()).collect()
    }
}

/// The streaming reader for bindings: each step is an envelope, `{"ok": <event>}`, then
/// `{"ok": null}` at the end (and from then on), or `{"error": ...}` once.
pub struct EventStream<R: BufRead> {
    reader: Reader<R>,
}

impl<R: BufRead> EventStream<R> {
    /// Opens a stream; `options_json` is a `JunitOptions` object, `null` or absent.
    /// A bad options object is returned as an error envelope.
    pub fn new(source: R, options_json: Option<&[u8]>) -> std::result::Result<Self, Vec<u8>> {
        let options = match options_json {
            None => Options::default(),
            Some(json) => from_json::<Option<Options>>("junit.read", "JunitOptions | null", json)
                .map_err(|e| error_envelope(&e))?
                .unwrap_or_default(),
        };
        Ok(EventStream {
            reader: Reader::with_options(source, options),
        })
    }

    /// The next step as an envelope.
    pub fn next_envelope(&mut self) -> Vec<u8> {
        match self.reader.next_event() {
            Ok(Some(event)) => ok_envelope(&event),
            Ok(None) => ok_envelope(&()),
            Err(error) => error_envelope(&error),
        }
    }

    /// Up to `max_events` steps as one JSON array of the same envelopes, so that a
    /// binding crosses its boundary and parses JSON once per batch instead of once per
    /// event. The array ends early at the end envelope, at an error, or past
    /// [`BATCH_BYTES`]; it always holds at least one envelope.
    pub fn next_envelopes(&mut self, max_events: usize) -> Vec<u8> {
        let mut out = vec![b'['];
        for n in 0..max_events.max(1) {
            if n > 0 {
                out.push(b',');
            }
            let (envelope, last) = match self.reader.next_event() {
                Ok(Some(event)) => (ok_envelope(&event), false),
                Ok(None) => (ok_envelope(&()), true),
                Err(error) => (error_envelope(&error), true),
            };
            out.extend_from_slice(&envelope);
            if last || out.len() > BATCH_BYTES {
                break;
            }
        }
        out.push(b']');
        out
    }
}

/// One envelope as a batch (a binding's refused options, for example).
pub fn batch_of_one(envelope: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(envelope.len() + 2);
    out.push(b'[');
    out.extend_from_slice(&envelope);
    out.push(b']');
    out
}

/// Size past which a batch of envelopes ends, to keep each one's memory bounded.
pub const BATCH_BYTES: usize = 1 << 20;
