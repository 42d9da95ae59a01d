//! A Python file object as a `Read`: `read(size)` is called as the reader needs bytes.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

/// The exception `read` raised, kept so Python can chain it (`raise ... from`).
pub type Thrown = Arc<Mutex<Option<PyErr>>>;

pub const CHUNK: usize = 64 * 1024;

pub struct PyFile {
    file: Py<PyAny>,
    pending: Vec<u8>,
    at: usize,
    thrown: Thrown,
}

impl PyFile {
    pub fn new(file: Py<PyAny>, thrown: Thrown) -> PyFile {
        PyFile {
            file,
            pending: Vec::new(),
            at: 0,
            thrown,
        }
    }

    /// Reads the next chunk; `false` at the end (an empty result).
    fn fetch(&mut self, max: usize) -> io::Result<bool> {
        let result = Python::attach(|py| -> PyResult<Vec<u8>> {
            let chunk = self.file.call_method1(py, "read", (max,))?;
            let chunk = chunk.bind(py);
            if let Ok(bytes) = chunk.cast::<PyBytes>() {
                return Ok(bytes.as_bytes().to_vec());
            }
            if let Ok(text) = chunk.cast::<PyString>() {
                return Ok(text.to_cow()?.as_bytes().to_vec());
            }
            if chunk.is_none() {
                return Ok(Vec::new());
            }
            chunk.extract::<Vec<u8>>()
        });
        match result {
            Ok(chunk) => {
                self.pending = chunk;
                self.at = 0;
                Ok(!self.pending.is_empty())
            }
            Err(err) => {
                let message = format!("the file's read() raised {err}");
                if let Ok(mut slot) = self.thrown.lock() {
                    *slot = Some(err);
                }
                Err(io::Error::other(message))
            }
        }
    }
}

impl Read for PyFile {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at >= self.pending.len() && !self.fetch(out.len())? {
            return Ok(0);
        }
        let rest = self.pending.get(self.at..).unwrap_or_default();
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}
