//! Rally WSAPI v2.0 sessions: test the connection, publish results, import
//! requirements, link a test case to a user story, submit a defect.

pub mod connect;
pub mod defect;
pub mod driver;
pub mod kinds;
pub mod link;
pub mod link_case;
/// The data every Rally session reports, kept with the other targets' in `sync::details`.
pub use super::details::rally as outputs;
mod lookup;
pub mod publish;
pub mod requirements;
pub mod schema;
mod session_end;
pub mod wsapi;

pub use super::details::Details;
pub use connect::{ConnectInput, TestConnection};
pub use defect::{DefectInput, DefectRequest, SubmitDefect};
pub use driver::{Progress, RallySession, SessionOptions};
pub use link::{AuthMode, Credentials};
pub use link_case::{LinkInput, LinkRequest, LinkTestCase};
pub use outputs::{
    ConnectionInfo, DefectOutput, LinkedTestCase, NamedRef, PublishDetails, Requirement,
    RequirementsOutput, SchemaOutput,
};
pub use publish::{Publish, PublishInput, PublishLogic};
pub use requirements::{ImportRequirements, RequirementsInput, RequirementsRequest};
pub use schema::{LoadSchema, SchemaInput, SchemaLogic, SchemaRequest};

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
