//! `NativeSession`: a live session of the core, every call answered with the core's
//! envelope (JSON text). `tmbridge/session.py` turns envelopes into values and
//! exceptions; nothing is decided here.

use crate::{bytes_of, text};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use std::sync::Mutex;
use tmbridge_core::ops::SessionEnvelopes;

#[pyclass(module = "tmbridge._native")]
pub struct NativeSession {
    // A Mutex only to make the session Sync; pyo3's borrow flag already keeps calls
    // one at a time, so `get_mut` never blocks.
    session: Mutex<SessionEnvelopes>,
}

impl NativeSession {
    fn new(session: SessionEnvelopes) -> NativeSession {
        NativeSession {
            session: Mutex::new(session),
        }
    }

    fn live(&mut self) -> &mut SessionEnvelopes {
        match self.session.get_mut() {
            Ok(session) => session,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

#[pymethods]
impl NativeSession {
    /// Starts from a start request (`{"kind", "input", "options"}`) and the secrets,
    /// both JSON. A refused start is still a session: `opened()` says why.
    #[staticmethod]
    fn start(request_json: &Bound<'_, PyAny>, secrets_json: &Bound<'_, PyAny>) -> PyResult<Self> {
        let request = bytes_of(request_json, "request_json")?;
        let secrets = bytes_of(secrets_json, "secrets_json")?;
        Ok(NativeSession::new(SessionEnvelopes::start(
            &request, &secrets,
        )))
    }

    /// Goes on from what `save()` gave, in this or any other runtime.
    #[staticmethod]
    fn resume(saved_json: &Bound<'_, PyAny>, secrets_json: &Bound<'_, PyAny>) -> PyResult<Self> {
        let saved = bytes_of(saved_json, "saved_json")?;
        let secrets = bytes_of(secrets_json, "secrets_json")?;
        Ok(NativeSession::new(SessionEnvelopes::resume(
            &saved, &secrets,
        )))
    }

    /// `{"kind": ...}`, or why the session could not start.
    fn opened(&mut self) -> String {
        text(self.live().opened())
    }

    /// The next step.
    fn next_envelope(&mut self) -> String {
        text(self.live().next_envelope())
    }

    /// The answer to request `id`, as `HttpResponse` JSON.
    fn receive(&mut self, id: u64, response_json: &Bound<'_, PyAny>) -> PyResult<String> {
        let response = bytes_of(response_json, "response_json")?;
        Ok(text(self.live().receive(id, &response)))
    }

    /// The bytes of the file `id` asked for, or why it could not be read: exactly one
    /// of `data` and `error`.
    #[pyo3(signature = (id, data=None, error=None))]
    fn provide_file(
        &mut self,
        id: u64,
        data: Option<&Bound<'_, PyAny>>,
        error: Option<String>,
    ) -> PyResult<String> {
        let file = match (data, error) {
            (Some(data), None) => Ok(bytes_of(data, "data")?.into_owned()),
            (None, Some(reason)) => Err(reason),
            _ => {
                return Err(PyTypeError::new_err(
                    "give either data (the file's bytes) or error (why it could not be read)",
                ));
            }
        };
        Ok(text(self.live().provide_file(id, file)))
    }

    /// The saved progress, as a JSON string inside the envelope.
    fn save(&mut self) -> String {
        text(self.live().save())
    }

    /// `{"done", "total"}` units of work, for progress displays.
    fn units(&mut self) -> String {
        text(self.live().units())
    }
}
