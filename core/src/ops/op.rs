//! What an op is: a name, its shapes, and a function from typed input to typed
//! output. Every op file implements this; the registry lists them.

use crate::error::Result;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What an op does and the shapes it reads and writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

/// One op: its description and what it does. Adding an op = one impl + one line in
/// the registry's `for_each_op!`.
pub trait Op {
    const NAME: &'static str;
    const SUMMARY: &'static str;
    /// The input's shape, in TypeScript notation (the types live in the bindings' `.d.ts`).
    const INPUT: &'static str;
    const OUTPUT: &'static str;
    /// The input field that may instead be passed as a separate document, if any.
    const DOCUMENT: Option<&'static str> = None;
    type Input: DeserializeOwned;
    type Output: Serialize;
    fn run(input: Self::Input, document: Option<&[u8]>) -> Result<Self::Output>;

    fn spec() -> OpSpec {
        OpSpec {
            name: Self::NAME.to_string(),
            summary: Self::SUMMARY.to_string(),
            input: Self::INPUT.to_string(),
            output: Self::OUTPUT.to_string(),
            document: Self::DOCUMENT.map(str::to_string),
        }
    }
}

/// An op's shapes as JSON Schemas, for the generated binding types.
#[cfg(feature = "schema")]
#[derive(Serialize)]
pub struct OpSchema {
    pub name: &'static str,
    pub summary: &'static str,
    /// As the core reads it.
    pub input: schemars::Schema,
    /// As the core writes it.
    pub output: schemars::Schema,
    /// The input field that may be passed as a separate document.
    pub document: Option<&'static str>,
}
