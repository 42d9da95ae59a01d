//! Where a streaming reader's bytes come from in JavaScript: a whole string or
//! `Uint8Array`, or a `read(maxBytes)` function called as the reader needs more.

use js_sys::{Function, Uint8Array};
use std::cell::RefCell;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

/// The exception a `read` function threw, kept so the JS side can attach it as `cause`.
pub type Thrown = Rc<RefCell<Option<JsValue>>>;

const CHUNK: usize = 64 * 1024;

/// A `BufRead` over the source; `Err(TypeError)` when it is none of the accepted kinds.
pub fn open(source: &JsValue, thrown: &Thrown) -> Result<Box<dyn BufRead>, JsValue> {
    if let Some(bytes) = bytes_of(source) {
        return Ok(Box::new(Cursor::new(bytes)));
    }
    match source.dyn_ref::<Function>() {
        Some(read) => Ok(Box::new(BufReader::with_capacity(
            CHUNK,
            Pull {
                read: read.clone(),
                pending: Vec::new(),
                at: 0,
                thrown: thrown.clone(),
            },
        ))),
        None => Err(js_sys::TypeError::new(
            "the source must be a string, a Uint8Array or a read(maxBytes) function",
        )
        .into()),
    }
}

/// The UTF-8 bytes of a string, or a copy of a `Uint8Array` (Node `Buffer` included).
pub fn bytes_of(value: &JsValue) -> Option<Vec<u8>> {
    if let Some(text) = value.as_string() {
        return Some(text.into_bytes());
    }
    value.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec)
}

struct Pull {
    read: Function,
    pending: Vec<u8>,
    at: usize,
    thrown: Thrown,
}

impl Pull {
    /// Asks for the next chunk; `false` at the end (null or undefined).
    fn fetch(&mut self, max: usize) -> io::Result<bool> {
        let asked = JsValue::from_f64(max as f64);
        let chunk = match self.read.call1(&JsValue::UNDEFINED, &asked) {
            Ok(chunk) => chunk,
            Err(exception) => {
                let message = describe(&exception);
                *self.thrown.borrow_mut() = Some(exception);
                return Err(io::Error::other(format!(
                    "the read function threw: {message}"
                )));
            }
        };
        if chunk.is_null() || chunk.is_undefined() {
            return Ok(false);
        }
        self.pending = bytes_of(&chunk).ok_or_else(|| {
            io::Error::other("the read function must return a Uint8Array, a string or null")
        })?;
        self.at = 0;
        Ok(true)
    }
}

impl Read for Pull {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // An empty chunk is not the end: only null/undefined is.
        while self.at >= self.pending.len() {
            if !self.fetch(out.len())? {
                return Ok(0);
            }
        }
        let rest = self.pending.get(self.at..).unwrap_or_default();
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

fn describe(exception: &JsValue) -> String {
    if let Some(error) = exception.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    exception
        .as_string()
        .unwrap_or_else(|| "a value that is not an Error".to_string())
}
