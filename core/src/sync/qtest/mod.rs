//! qTest Manager API v3 sessions: test the connection (`qtest.connect`) and publish
//! results as modules, test cases, the job's test cycle, a test suite per browser,
//! test runs and test logs (`qtest.publish`).

pub mod api;
pub mod connect;
pub mod dry_run;
pub mod kinds;
pub mod link;
pub mod publish;
pub mod requirements;
pub mod session;
mod settings;

pub use kinds::{CONNECT, PUBLISH, REQUIREMENTS};
pub use publish::{Publish, PublishInput};

#[cfg(test)]
pub(crate) mod tests;
