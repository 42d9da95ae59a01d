//! The published list of ops.

use serde::{Deserialize, Serialize};

/// What an op does and the shapes it reads and writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpSpec {
    pub name: String,
    pub summary: String,
    /// The input's shape in TypeScript notation; the named types are in the
    /// bindings' `index.d.ts` and follow the core's serde field names.
    pub input: String,
    pub output: String,
    /// The input field that may be passed as a separate document instead.
    pub document: Option<String>,
}

/// Every op, in a stable order.
pub fn list_ops() -> Vec<OpSpec> {
    super::registry::specs()
}
