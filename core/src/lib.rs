//! tmbridge-core: the pure, I/O-free core of tmbridge.
//!
//! No file system, network, clock, environment or randomness: input is bytes or a
//! `BufRead`, output is values. Every failure is an [`Error`] with a stable code.

pub mod error;
pub mod junit;
pub mod model;

pub use error::{Error, Location, Result, Warning};
