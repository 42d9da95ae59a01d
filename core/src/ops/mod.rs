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

mod allure;
mod autofill;
mod document;
mod envelope;
mod gitlab;
mod input;
mod junit;
mod map;
mod op;
mod rally_query;
mod registry;
mod session;

pub use document::Document;
pub use envelope::{error_envelope, ok_envelope};
pub use junit::{EventStream, batch_of_one};
#[cfg(feature = "schema")]
pub use op::OpSchema;
pub use op::OpSpec;
pub use registry::list_ops;
#[cfg(feature = "schema")]
pub use registry::op_schemas;
pub use session::SessionEnvelopes;
pub use session::Units as SessionUnits;

use crate::error::Error;
use serde::Serializer;

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

/// The text a person reads for an error given as JSON (the `error` of an envelope):
/// the core's `Display`, so every binding shows the same words.
pub fn error_text(error_json: &[u8]) -> String {
    match crate::json::from_slice::<Error>(error_json) {
        Ok(error) => error.to_string(),
        Err(e) => format!("(unreadable error: {e})"),
    }
}

#[cfg(test)]
mod session_transcripts;
#[cfg(test)]
mod tests;
