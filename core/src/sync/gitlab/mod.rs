//! GitLab sessions: the test reports of a pipeline, from its jobs' artifacts
//! archives or its test report.

mod archive;
mod kinds;
pub mod reports;
mod test_report;

pub use kinds::REPORTS;
#[cfg(feature = "schema")]
pub use kinds::input_schemas;
pub use reports::{GitlabReports, ReportsProgress, ReportsRequest};

#[cfg(test)]
pub(crate) mod tests;
