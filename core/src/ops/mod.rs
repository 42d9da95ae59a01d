//! One JSON entry point for every capability of the core.
//!
//! [`call`] takes an op name and its input as JSON bytes and always answers with a JSON
//! envelope, `{"ok": <output>, "error": null}` or `{"ok": null, "error": {code, message,
//! location, hint}}`. The bindings (Python, Node, WASM, the raw WASM ABI) and the
//! conformance vectors all go through here, so every runtime prints the same bytes.
//! [`list_ops`] describes each op's input and output.
//!
//! Ops that read a document (a JUnit report, Rally metadata) take it in a field of the
//! input as a string or `{"base64": "..."}`, or, through [`call_with_document`], as raw
//! bytes beside the JSON (bindings use this for `bytes`/`Uint8Array` without copying
//! through base64).

mod autofill;
mod catalog;
mod document;
mod gitlab;
mod input;
mod junit;
mod map;
mod meta;
mod rally_query;
mod registry;
mod session;

pub use catalog::{OpSpec, list_ops};
pub use document::Document;
pub use junit::EventStream;
pub use session::SessionEnvelopes;

use crate::error::Error;
use serde::{Serialize, Serializer};

/// Runs `op` on `input_json`, answering with the envelope as JSON bytes. Never panics,
/// never fails: every problem is an `error` envelope.
pub fn call(op: &str, input_json: &[u8]) -> Vec<u8> {
    registry::call_json(op, input_json, None)
}

/// Like [`call`], with the op's document given as bytes instead of inside the JSON.
pub fn call_with_document(op: &str, input_json: &[u8], document: &[u8]) -> Vec<u8> {
    registry::call_json(op, input_json, Some(document))
}

/// Like [`call_with_document`] (the document is optional), writing the envelope with
/// any serde serializer instead of JSON bytes, e.g. serde-wasm-bindgen to build JS
/// values directly. The input is still JSON, read exactly as [`call`] reads it.
pub fn call_into<S: Serializer>(
    op: &str,
    input_json: &[u8],
    document: Option<&[u8]>,
    output: S,
) -> Result<S::Ok, S::Error> {
    registry::call_into(op, input_json, document, output)
}

/// The envelope of a value, as JSON bytes.
pub fn ok_envelope<T: Serialize>(value: &T) -> Vec<u8> {
    match serde_json::to_vec(&Envelope {
        ok: Some(value),
        error: None,
    }) {
        Ok(bytes) => bytes,
        Err(e) => error_envelope(&Error::new(
            "ops.internal",
            format!("could not write the output as JSON: {e}"),
        )),
    }
}

/// The envelope of an error, as JSON bytes.
pub fn error_envelope(error: &Error) -> Vec<u8> {
    let envelope: Envelope<'_, ()> = Envelope {
        ok: None,
        error: Some(error),
    };
    // An Error holds only strings and integers: writing it cannot fail.
    serde_json::to_vec(&envelope).unwrap_or_default()
}

/// The text a person reads for an error given as JSON (the `error` of an envelope):
/// the core's `Display`, so every binding shows the same words.
pub fn error_text(error_json: &[u8]) -> String {
    match serde_json::from_slice::<Error>(error_json) {
        Ok(error) => error.to_string(),
        Err(e) => format!("(unreadable error: {e})"),
    }
}

/// `{"ok": ..., "error": ...}`: exactly one of the two is not null.
#[derive(Serialize)]
pub(crate) struct Envelope<'a, T: Serialize> {
    pub ok: Option<&'a T>,
    pub error: Option<&'a Error>,
}

#[cfg(test)]
mod session_transcripts;
#[cfg(test)]
mod tests;
