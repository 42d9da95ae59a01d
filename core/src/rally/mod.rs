//! Rally WSAPI v2.0: the query language and the payloads tmbridge sends.

pub mod attachments;
pub mod payload;
pub mod query;
pub mod test_set;
