//! `NativeSession` for JavaScript: a live session of the core, every call answered
//! with the core's envelope (a JSON string). `api.js` wraps it as `Session` (and
//! frees it); nothing is decided here.

use crate::js_source;
use tmbridge_core::ops::SessionEnvelopes;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(js_name = NativeSession)]
pub struct NativeSession {
    session: SessionEnvelopes,
}

/// A string or a `Uint8Array`, or a TypeError naming the argument.
fn bytes_arg(value: &JsValue, what: &str) -> Result<Vec<u8>, JsValue> {
    js_source::bytes_of(value).ok_or_else(|| {
        js_sys::TypeError::new(&format!("{what} must be a string or a Uint8Array")).into()
    })
}

/// Request ids are JSON numbers: JS hands them over as doubles (`api.js` checks that
/// they are safe integers). A `u64` parameter would make them BigInts.
fn request_id(id: f64) -> u64 {
    id as u64
}

#[wasm_bindgen(js_class = NativeSession)]
impl NativeSession {
    /// Starts from a start request (`{"kind", "input", "options"}`) and the secrets,
    /// both JSON. A refused start is still a session: `opened()` says why.
    pub fn start(request_json: JsValue, secrets_json: JsValue) -> Result<NativeSession, JsValue> {
        let request = bytes_arg(&request_json, "the start request")?;
        let secrets = bytes_arg(&secrets_json, "the secrets")?;
        Ok(NativeSession {
            session: SessionEnvelopes::start(&request, &secrets),
        })
    }

    /// Goes on from what `save()` gave, in this or any other runtime.
    pub fn resume(saved_json: JsValue, secrets_json: JsValue) -> Result<NativeSession, JsValue> {
        let saved = bytes_arg(&saved_json, "the saved session")?;
        let secrets = bytes_arg(&secrets_json, "the secrets")?;
        Ok(NativeSession {
            session: SessionEnvelopes::resume(&saved, &secrets),
        })
    }

    /// `{"kind": ...}`, or why the session could not start.
    pub fn opened(&self) -> String {
        crate::js::text(self.session.opened())
    }

    /// The next step.
    #[wasm_bindgen(js_name = nextEnvelope)]
    pub fn next_envelope(&mut self) -> String {
        crate::js::text(self.session.next_envelope())
    }

    /// The answer to request `id`, as `HttpResponse` JSON.
    pub fn receive(&mut self, id: f64, response_json: JsValue) -> Result<String, JsValue> {
        let response = bytes_arg(&response_json, "the response")?;
        Ok(crate::js::text(
            self.session.receive(request_id(id), &response),
        ))
    }

    /// The bytes of the file `id` asked for (a string is taken as UTF-8), or why it
    /// could not be read: exactly one of `data` and `error`.
    #[wasm_bindgen(js_name = provideFile)]
    pub fn provide_file(
        &mut self,
        id: f64,
        data: JsValue,
        error: Option<String>,
    ) -> Result<String, JsValue> {
        let has_data = !(data.is_null() || data.is_undefined());
        let file = match (has_data, error) {
            (true, None) => Ok(bytes_arg(&data, "the file's data")?),
            (false, Some(reason)) => Err(reason),
            _ => {
                return Err(js_sys::TypeError::new(
                    "give either data (the file's bytes) or error (why it could not be read)",
                )
                .into());
            }
        };
        Ok(crate::js::text(
            self.session.provide_file(request_id(id), file),
        ))
    }

    /// The saved progress, as a JSON string inside the envelope.
    pub fn save(&self) -> String {
        crate::js::text(self.session.save())
    }

    /// `{"done", "total"}` units of work, for progress displays.
    pub fn units(&self) -> String {
        crate::js::text(self.session.units())
    }
}
