//! Contract simulators for tmbridge's tests: small HTTP servers on 127.0.0.1 that
//! behave like Rally WSAPI v2.0, qTest Manager API v3 and GitLab's jobs/artifacts API, plus a GitLab
//! webhook sender. Each keeps a ledger of what it created and takes fault switches
//! (5xx bursts, 429 with Retry-After, slow answers, dropped connections), so a test
//! can prove "every result exactly once" while the network misbehaves.
//!
//! ```no_run
//! use tmbridge_simulators::rally::RallySim;
//! let rally = RallySim::start();
//! let tc = rally.add_test_case("TC1", "Login works", None);
//! rally.faults().fail_next(3, 503);
//! println!("WSAPI at {} (API key {})", rally.url(), rally.api_key());
//! # let _ = tc;
//! ```

pub mod client;
pub mod faults;
pub mod gitlab;
pub mod qtest;
pub mod rally;
pub mod server;
pub mod testrail;
pub mod url;

pub use client::{HttpResponse, request};
pub use faults::{Fault, FaultKind, Faults, Match};
pub use server::{HttpRequest, HttpServer, Outcome, Reply};
