//! Sans-IO sync sessions. The core never sends a request: a session yields what to
//! do and the host does it.
//!
//! ```text
//! let mut s = Publish::new(input, credentials, options)?;
//! loop {
//!     match s.next() {
//!         Step::Send(req) => s.receive(req.id, host_http(&req))?,
//!         Step::Wait { ms } => host_sleep(ms),
//!         Step::Read(file) => s.provide_file(file.id, host_read(&file.path))?,
//!         Step::Save => {} // only `crate::session` handles ask for saves
//!         Step::Done(report) => break report,
//!     }
//! }
//! ```
//!
//! A session owns paging, ref resolution, batching, retries (5xx, 429 with
//! `Retry-After`, timeouts; exponential backoff with jitter from the host's seed) and
//! idempotency: before it creates anything it looks for it, so a retried or resumed
//! run never duplicates a record. Its progress serialises (`progress()`), so a host
//! can persist it before each request and `resume` after a crash.

pub mod bridge;
pub mod details;
pub(crate) mod digest;
pub mod dry_run;
pub mod gitlab;
pub mod kind;
pub mod mask;
pub mod protocol;
pub mod qtest;
pub mod rally;
pub mod report;
pub mod retry;
pub mod secrets;
pub mod testrail;

pub use protocol::{FileRequest, HttpRequest, HttpResponse, Method, ResponseKind, Session, Step};
pub use report::{Entry, Ledger, RecordKind, Report, Stats};
pub use retry::{Prng, RetryPolicy};
