//! TestRail API v2 sessions: `testrail.connect` checks the configuration against
//! the instance; `testrail.publish` exports cases, runs, results and attachments.

pub mod connect;
pub mod driver;
pub mod dry_run;
pub mod fields;
pub mod identity;
pub mod kinds;
pub mod link;
pub mod publish;
pub mod statuses;
#[cfg(test)]
pub(crate) mod testkit;
pub mod trcli;

pub use connect::{Connect, ConnectInput};
pub use link::Credentials;
pub use publish::{Publish, PublishInput, PublishLogic};
