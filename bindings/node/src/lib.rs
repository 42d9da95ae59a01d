//! Node.js addon of tmbridge (napi-rs). Like the WASM module, it only passes JSON and
//! bytes to `tmbridge_core::ops` and returns the core's envelope; `api.js` (shared with
//! the WASM package) turns envelopes into values and `TmbridgeError`s.

mod session;
mod source;

use napi::bindgen_prelude::{Either, Either3, Function, Uint8Array};
use napi::{Env, Result};
use napi_derive::napi;
use source::{Pull, Thrown};
use std::io::{BufRead, BufReader, Cursor};
use tmbridge_core::ops::{self, EventStream};

pub(crate) type Bytes = Either<String, Uint8Array>;

pub(crate) fn bytes_of(value: &Bytes) -> &[u8] {
    match value {
        Either::A(text) => text.as_bytes(),
        Either::B(bytes) => bytes,
    }
}

/// The core writes JSON with serde_json, always UTF-8.
pub(crate) fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Runs an op on JSON (a string or UTF-8 bytes), with the op's document optionally
/// given beside it. Returns the envelope as a JSON string.
#[napi]
pub fn call_json(op: String, input: Bytes, document: Option<Bytes>) -> String {
    text(match &document {
        None => ops::call(&op, bytes_of(&input)),
        Some(doc) => ops::call_with_document(&op, bytes_of(&input), bytes_of(doc)),
    })
}

/// The text a person reads for an envelope's `error` (given as JSON): the core's `Display`.
#[napi]
pub fn error_text(error_json: String) -> String {
    ops::error_text(error_json.as_bytes())
}

enum State {
    /// The options were refused: this envelope comes first, then the end.
    Refused(Vec<u8>),
    Open(Box<EventStream<Box<dyn BufRead>>>),
}

/// The streaming JUnit reader: `nextEnvelope()` returns one envelope per event, then
/// `{"ok":null,"error":null}` at the end.
#[napi]
pub struct JunitReader {
    state: State,
    thrown: Thrown,
}

#[napi]
impl JunitReader {
    /// `source`: a string, a `Uint8Array`/`Buffer`, or `read(maxBytes)` returning a chunk
    /// (`Uint8Array` or string) or null at the end. `optionsJson`: `JunitOptions` as JSON.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        source: Either3<String, Uint8Array, Function<u32, Option<Bytes>>>,
        options_json: Option<String>,
    ) -> Result<Self> {
        let thrown = Thrown::default();
        let input: Box<dyn BufRead> = match source {
            Either3::A(text) => Box::new(Cursor::new(text.into_bytes())),
            Either3::B(bytes) => Box::new(Cursor::new(bytes.to_vec())),
            Either3::C(read) => Box::new(BufReader::with_capacity(
                source::CHUNK,
                Pull::new(env, read.create_ref()?, thrown.clone()),
            )),
        };
        let state = match EventStream::new(input, options_json.as_deref().map(str::as_bytes)) {
            Ok(stream) => State::Open(Box::new(stream)),
            Err(envelope) => State::Refused(envelope),
        };
        Ok(JunitReader { state, thrown })
    }

    /// The next envelope as a JSON string.
    #[napi]
    pub fn next_envelope(&mut self) -> String {
        text(match &mut self.state {
            State::Open(stream) => stream.next_envelope(),
            State::Refused(envelope) => std::mem::replace(envelope, ops::ok_envelope(&())),
        })
    }

    /// Up to `max` envelopes as one JSON array (see `EventStream::next_envelopes`):
    /// one crossing and one `JSON.parse` per batch instead of per event.
    #[napi]
    pub fn next_envelopes(&mut self, max: u32) -> String {
        text(match &mut self.state {
            State::Open(stream) => stream.next_envelopes(max as usize),
            State::Refused(envelope) => {
                ops::batch_of_one(std::mem::replace(envelope, ops::ok_envelope(&())))
            }
        })
    }

    /// The exception the `read` function threw, if any (once).
    #[napi]
    pub fn take_source_error(&mut self) -> Option<napi::Error> {
        self.thrown.borrow_mut().take()
    }
}
