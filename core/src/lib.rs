//! tmbridge-core: the pure, I/O-free core of tmbridge.
//!
//! No file system, network, clock, environment or randomness: input is bytes or a
//! `BufRead`, output is values. Every failure is an [`Error`] with a stable code.

// Never a panic on any input: no unwrap, expect or panic outside tests and the test kit
// (clippy denies them, so a new one fails the lint step).
#![cfg_attr(
    not(any(test, feature = "testkit")),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod allure;
pub mod autofill;
pub mod config;
pub mod controls;
pub mod error;
pub mod error_areas;
pub mod gitlab;
mod json;
pub mod junit;
pub mod mask;
pub mod matching;
pub mod model;
pub mod ops;
pub mod qtest;
pub mod rally;
pub mod scalar;
#[cfg(feature = "schema")]
pub mod schema;
pub mod scope;
pub mod session;
pub mod status;
pub mod sync;
pub mod target;
pub mod testrail;

pub use error::{Error, Location, Result, Warning};
