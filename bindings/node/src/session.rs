//! `NativeSession`: a live session of the core, every call answered with the core's
//! envelope (a JSON string). `api.js` wraps it as `Session`; nothing is decided here.

use crate::{Bytes, bytes_of, text};
use napi::{Error, Result, Status};
use napi_derive::napi;
use tmbridge_core::ops::SessionEnvelopes;

#[napi]
pub struct NativeSession {
    session: SessionEnvelopes,
}

/// Request ids are JSON numbers: JS hands them over as doubles (`api.js` checks that
/// they are safe integers).
fn request_id(id: f64) -> u64 {
    id as u64
}

#[napi]
impl NativeSession {
    /// Starts from a start request (`{"kind", "input", "options"}`) and the secrets,
    /// both JSON. A refused start is still a session: `opened()` says why.
    #[napi(factory)]
    pub fn start(request_json: Bytes, secrets_json: Bytes) -> Self {
        NativeSession {
            session: SessionEnvelopes::start(bytes_of(&request_json), bytes_of(&secrets_json)),
        }
    }

    /// Goes on from what `save()` gave, in this or any other runtime.
    #[napi(factory)]
    pub fn resume(saved_json: Bytes, secrets_json: Bytes) -> Self {
        NativeSession {
            session: SessionEnvelopes::resume(bytes_of(&saved_json), bytes_of(&secrets_json)),
        }
    }

    /// `{"kind": ...}`, or why the session could not start.
    #[napi]
    pub fn opened(&self) -> String {
        text(self.session.opened())
    }

    /// The next step.
    #[napi]
    pub fn next_envelope(&mut self) -> String {
        text(self.session.next_envelope())
    }

    /// The answer to request `id`, as `HttpResponse` JSON.
    #[napi]
    pub fn receive(&mut self, id: f64, response_json: Bytes) -> String {
        text(
            self.session
                .receive(request_id(id), bytes_of(&response_json)),
        )
    }

    /// The bytes of the file `id` asked for (a string is taken as UTF-8), or why it
    /// could not be read: exactly one of `data` and `error`.
    #[napi]
    pub fn provide_file(
        &mut self,
        id: f64,
        data: Option<Bytes>,
        error: Option<String>,
    ) -> Result<String> {
        let file = match (data, error) {
            (Some(data), None) => Ok(bytes_of(&data).to_vec()),
            (None, Some(reason)) => Err(reason),
            _ => {
                return Err(Error::new(
                    Status::InvalidArg,
                    "give either data (the file's bytes) or error (why it could not be read)",
                ));
            }
        };
        Ok(text(self.session.provide_file(request_id(id), file)))
    }

    /// The saved progress, as a JSON string inside the envelope.
    #[napi]
    pub fn save(&self) -> String {
        text(self.session.save())
    }

    /// `{"done", "total"}` units of work, for progress displays.
    #[napi]
    pub fn units(&self) -> String {
        text(self.session.units())
    }
}
