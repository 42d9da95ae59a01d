//! wasm-bindgen exports. Each passes bytes or JS values straight to
//! `tmbridge_core::ops` and hands back its envelope; `api.js` turns envelopes into
//! values and errors, the same way for this module and the Node addon.

use crate::js_source::{self, Thrown};
use std::io::BufRead;
use tmbridge_core::ops::{self, EventStream};
use wasm_bindgen::prelude::*;

/// Runs an op on JSON (a string or UTF-8 bytes), with the op's document optionally
/// given beside it (a string or bytes). Returns the envelope as a JSON string.
#[wasm_bindgen(js_name = callJson)]
pub fn call_json(op: &str, input: JsValue, document: JsValue) -> Result<String, JsValue> {
    let input = js_source::bytes_of(&input).ok_or_else(|| {
        js_sys::TypeError::new("the input must be a JSON string or its UTF-8 bytes")
    })?;
    let out = if document.is_null() || document.is_undefined() {
        ops::call(op, &input)
    } else {
        let document = js_source::bytes_of(&document).ok_or_else(|| {
            js_sys::TypeError::new("the document must be a string or a Uint8Array")
        })?;
        ops::call_with_document(op, &input, &document)
    };
    Ok(text(out))
}

/// Like [`call_json`], but returns the envelope as a JS value, built by serde-wasm-bindgen
/// in JSON-compatible mode (no `JSON.parse` of large outputs). The input stays JSON so
/// it is read exactly as in every other runtime (unknown fields refused, positions).
#[wasm_bindgen(js_name = callToValue)]
pub fn call_to_value(op: &str, input: JsValue, document: JsValue) -> Result<JsValue, JsValue> {
    let input = js_source::bytes_of(&input).ok_or_else(|| {
        js_sys::TypeError::new("the input must be a JSON string or its UTF-8 bytes")
    })?;
    let document = if document.is_null() || document.is_undefined() {
        None
    } else {
        Some(js_source::bytes_of(&document).ok_or_else(|| {
            js_sys::TypeError::new("the document must be a string or a Uint8Array")
        })?)
    };
    let output = serde_wasm_bindgen::Serializer::json_compatible();
    ops::call_into(op, &input, document.as_deref(), &output).map_err(JsValue::from)
}

/// The text a person reads for an envelope's `error` (given as JSON): the core's `Display`.
#[wasm_bindgen(js_name = errorText)]
pub fn error_text(error_json: &str) -> String {
    ops::error_text(error_json.as_bytes())
}

enum State {
    /// The options were refused: this envelope comes first, then the end.
    Refused(Vec<u8>),
    Open(Box<EventStream<Box<dyn BufRead>>>),
}

/// The streaming JUnit reader: `nextEnvelope()` returns one envelope per event, then
/// `{"ok":null,"error":null}` at the end.
#[wasm_bindgen(js_name = JunitReader)]
pub struct JunitReader {
    state: State,
    thrown: Thrown,
}

#[wasm_bindgen(js_class = JunitReader)]
impl JunitReader {
    /// `source`: a string, a `Uint8Array`, or `read(maxBytes)` returning a chunk or null.
    /// `options_json`: `JunitOptions` as JSON, or nothing.
    #[wasm_bindgen(constructor)]
    pub fn new(source: JsValue, options_json: Option<String>) -> Result<JunitReader, JsValue> {
        let thrown = Thrown::default();
        let input = js_source::open(&source, &thrown)?;
        let state = match EventStream::new(input, options_json.as_deref().map(str::as_bytes)) {
            Ok(stream) => State::Open(Box::new(stream)),
            Err(envelope) => State::Refused(envelope),
        };
        Ok(JunitReader { state, thrown })
    }

    /// The next envelope as a JSON string.
    #[wasm_bindgen(js_name = nextEnvelope)]
    pub fn next_envelope(&mut self) -> String {
        match &mut self.state {
            State::Open(stream) => text(stream.next_envelope()),
            State::Refused(envelope) => {
                let first = std::mem::replace(envelope, ops::ok_envelope(&()));
                text(first)
            }
        }
    }

    /// Up to `max` envelopes as one JSON array (see `EventStream::next_envelopes`):
    /// one crossing and one `JSON.parse` per batch instead of per event.
    #[wasm_bindgen(js_name = nextEnvelopes)]
    pub fn next_envelopes(&mut self, max: u32) -> String {
        text(match &mut self.state {
            State::Open(stream) => stream.next_envelopes(max as usize),
            State::Refused(envelope) => {
                ops::batch_of_one(std::mem::replace(envelope, ops::ok_envelope(&())))
            }
        })
    }

    /// The exception the `read` function threw, if any (once).
    #[wasm_bindgen(js_name = takeSourceError)]
    pub fn take_source_error(&mut self) -> JsValue {
        self.thrown
            .borrow_mut()
            .take()
            .unwrap_or(JsValue::UNDEFINED)
    }
}

/// The core writes JSON with serde_json, always UTF-8.
pub(crate) fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
