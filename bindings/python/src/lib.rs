//! The native half of the Python package `tmbridge` (`tmbridge._native`). Like the
//! other bindings it only passes JSON and bytes to `tmbridge_core::ops` and returns the
//! core's envelope; `tmbridge/__init__.py` turns envelopes into values and exceptions.

mod session;
mod source;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use source::{PyFile, Thrown};
use std::borrow::Cow;
use std::io::{BufRead, BufReader, Cursor};
use std::sync::Mutex;
use tmbridge_core::ops::{self, EventStream};

/// The bytes of a `str` (UTF-8) or `bytes`/`bytearray`/`memoryview` object.
pub(crate) fn bytes_of<'a>(value: &'a Bound<'_, PyAny>, what: &str) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(bytes.as_bytes()));
    }
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(Cow::Owned(text.to_cow()?.as_bytes().to_vec()));
    }
    match value.extract::<Vec<u8>>() {
        Ok(bytes) if !value.is_instance_of::<pyo3::types::PyList>() => Ok(Cow::Owned(bytes)),
        _ => Err(PyTypeError::new_err(format!(
            "{what} must be str or bytes, not {}",
            value.get_type().name()?
        ))),
    }
}

/// The core writes JSON with serde_json, always UTF-8.
pub(crate) fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Runs an op on JSON (str or UTF-8 bytes), with the op's document optionally given
/// beside it. Returns the envelope exactly as the core wrote it.
#[pyfunction]
#[pyo3(signature = (op, input, document=None))]
fn call_json(
    py: Python<'_>,
    op: &str,
    input: &Bound<'_, PyAny>,
    document: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let input = bytes_of(input, "input")?;
    let document = document.map(|d| bytes_of(d, "document")).transpose()?;
    let op = op.to_string();
    let (input, document) = (input.into_owned(), document.map(Cow::into_owned));
    // The core never calls back into Python: let other threads run meanwhile.
    let out = py.detach(move || match &document {
        None => ops::call(&op, &input),
        Some(doc) => ops::call_with_document(&op, &input, doc),
    });
    Ok(text(out))
}

/// The text a person reads for an envelope's `error` (given as JSON): the core's Display.
#[pyfunction]
fn error_text(error_json: &str) -> String {
    ops::error_text(error_json.as_bytes())
}

enum State {
    /// The options were refused: this envelope comes first, then the end.
    Refused(Vec<u8>),
    Open(Box<EventStream<Box<dyn BufRead + Send>>>),
}

/// The streaming JUnit reader: `next_envelope()` returns one envelope per event, then
/// `{"ok":null,"error":null}` at the end.
#[pyclass(module = "tmbridge._native")]
struct JunitReader {
    // A Mutex only to make the reader Sync; pyo3's borrow flag already keeps
    // calls one at a time, so `get_mut` never blocks.
    state: Mutex<State>,
    thrown: Thrown,
}

#[pymethods]
impl JunitReader {
    /// `source`: str, bytes, or a file object with `read(size)` (binary or text mode).
    #[new]
    #[pyo3(signature = (source, options_json=None))]
    fn new(source: &Bound<'_, PyAny>, options_json: Option<&str>) -> PyResult<JunitReader> {
        let thrown = Thrown::default();
        let input: Box<dyn BufRead + Send> = if source.hasattr("read")? {
            Box::new(BufReader::with_capacity(
                source::CHUNK,
                PyFile::new(source.clone().unbind(), thrown.clone()),
            ))
        } else {
            Box::new(Cursor::new(bytes_of(source, "source")?.into_owned()))
        };
        let state = match EventStream::new(input, options_json.map(str::as_bytes)) {
            Ok(stream) => State::Open(Box::new(stream)),
            Err(envelope) => State::Refused(envelope),
        };
        Ok(JunitReader {
            state: Mutex::new(state),
            thrown,
        })
    }

    /// The next envelope as a JSON string.
    fn next_envelope(&mut self) -> String {
        let state = match self.state.get_mut() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        text(match state {
            State::Open(stream) => stream.next_envelope(),
            State::Refused(envelope) => std::mem::replace(envelope, ops::ok_envelope(&())),
        })
    }

    /// Up to `max` envelopes as one JSON array (see `EventStream::next_envelopes`):
    /// one crossing and one `json.loads` per batch instead of per event.
    fn next_envelopes(&mut self, max: usize) -> String {
        let state = match self.state.get_mut() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        text(match state {
            State::Open(stream) => stream.next_envelopes(max),
            State::Refused(envelope) => {
                ops::batch_of_one(std::mem::replace(envelope, ops::ok_envelope(&())))
            }
        })
    }

    /// The exception the file object's `read` raised, if any (once).
    fn take_source_error(&mut self, py: Python<'_>) -> Option<Py<PyAny>> {
        let mut slot = match self.thrown.lock() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        slot.take().map(|err| err.into_value(py).into_any())
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(call_json, m)?)?;
    m.add_function(wrap_pyfunction!(error_text, m)?)?;
    m.add_class::<JunitReader>()?;
    m.add_class::<session::NativeSession>()?;
    Ok(())
}
