//! qTest Manager API v3 sessions: test the connection (`qtest.connect`) and publish
//! results as modules, test cases, the job's test cycle, a test suite per browser,
//! test runs and test logs (`qtest.publish`); read a failed run for a Rally defect
//! (`qtest.failed_run`) and link the defect back to it (`qtest.link_defect`).

pub mod api;
pub mod connect;
pub mod dry_run;
pub mod failed_run;
pub mod kinds;
pub mod link;
pub mod link_defect;
pub mod publish;
pub mod requirements;
pub mod session;
mod settings;

pub use kinds::{CONNECT, FAILED_RUN, LINK_DEFECT, PUBLISH, REQUIREMENTS};
pub use publish::{Publish, PublishInput};

#[cfg(test)]
pub(crate) mod tests;
