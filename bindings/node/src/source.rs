//! A `read(maxBytes)` JavaScript function as a `Read`, called while the reader's
//! `next()` runs on the JS thread.

use napi::bindgen_prelude::{Either, FunctionRef, Uint8Array};
use napi::{Env, sys};
use std::cell::RefCell;
use std::io::{self, Read};
use std::rc::Rc;

/// The exception a `read` function threw, kept so the JS side can attach it as `cause`.
pub type Thrown = Rc<RefCell<Option<napi::Error>>>;

pub const CHUNK: usize = 64 * 1024;

type Chunk = Option<Either<String, Uint8Array>>;

pub struct Pull {
    /// The env of the thread that created the reader: the only one that calls it.
    env: sys::napi_env,
    read: FunctionRef<u32, Chunk>,
    pending: Vec<u8>,
    at: usize,
    thrown: Thrown,
}

impl Pull {
    pub fn new(env: Env, read: FunctionRef<u32, Chunk>, thrown: Thrown) -> Pull {
        Pull {
            env: env.raw(),
            read,
            pending: Vec::new(),
            at: 0,
            thrown,
        }
    }

    fn fetch(&mut self, max: usize) -> io::Result<bool> {
        let env = Env::from_raw(self.env);
        let asked = u32::try_from(max).unwrap_or(u32::MAX);
        let result = self
            .read
            .borrow_back(&env)
            .and_then(|read| read.call(asked));
        let chunk = match result {
            Ok(chunk) => chunk,
            Err(error) => {
                let message = format!("the read function threw: {}", error.reason);
                *self.thrown.borrow_mut() = Some(error);
                return Err(io::Error::other(message));
            }
        };
        self.pending = match chunk {
            None => return Ok(false),
            Some(Either::A(text)) => text.into_bytes(),
            Some(Either::B(bytes)) => bytes.to_vec(),
        };
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
