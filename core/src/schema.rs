//! The binding surface as JSON Schemas: every op's input and output, every session
//! kind's input, the session protocol's values, and the error classes. The
//! bindings' TypeScript declarations and Python types are generated from this one
//! description (`tools/typegen`), so no binding keeps its own copy of the core's
//! shapes. Built only with the `schema` feature.
//!
//! Shapes are described twice, as the core reads them (inputs: fields with a
//! default may be left out) and as it writes them (outputs: every field is there,
//! `null` when absent). A type the core both reads and writes is declared in its
//! written form.

use crate::error_areas::{ERROR_CLASSES, ErrorClass};
pub use crate::ops::OpSchema;
pub use crate::session::KindSchema;
use schemars::generate::{Contract, SchemaSettings};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

/// Everything the generator needs.
#[derive(Serialize)]
pub struct Surface {
    pub ops: Vec<OpSchema>,
    pub sessions: Vec<KindSchema>,
    /// Values a host gives a session handle, by name (read form).
    pub protocol_read: Vec<(&'static str, Schema)>,
    /// Values a session handle gives the host, by name (written form).
    pub protocol_written: Vec<(&'static str, Schema)>,
    /// Named types as the core reads them.
    pub read: serde_json::Map<String, serde_json::Value>,
    /// Named types as the core writes them.
    pub written: serde_json::Map<String, serde_json::Value>,
    pub error_classes: &'static [ErrorClass],
}

fn generator(contract: Contract) -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| {
            s.meta_schema = None;
            s.contract = contract;
        })
        .into_generator()
}

/// The whole surface.
pub fn surface() -> Surface {
    let mut read = generator(Contract::Deserialize);
    let mut written = generator(Contract::Serialize);
    let ops = crate::ops::op_schemas(&mut read, &mut written);
    let sessions = crate::session::kind_input_schemas(&mut read);
    let protocol_read = vec![
        (
            "HttpResponse",
            named::<crate::sync::protocol::HttpResponse>(&mut read),
        ),
        (
            "StartOptions",
            named::<crate::session::StartOptions>(&mut read),
        ),
        (
            "SessionSecrets",
            named::<crate::sync::secrets::Secrets>(&mut read),
        ),
    ];
    let protocol_written = vec![
        ("Step", named::<crate::sync::protocol::Step>(&mut written)),
        (
            "HttpRequest",
            named::<crate::sync::protocol::HttpRequest>(&mut written),
        ),
        (
            "FileRequest",
            named::<crate::sync::protocol::FileRequest>(&mut written),
        ),
        (
            "SyncReport",
            named::<crate::sync::report::Report>(&mut written),
        ),
        (
            "SessionUnits",
            named::<crate::ops::SessionUnits>(&mut written),
        ),
    ];
    let mut read = read.take_definitions(true);
    read.insert("SessionStart".to_string(), session_start(&sessions));
    Surface {
        ops,
        sessions,
        protocol_read,
        protocol_written,
        read,
        written: written.take_definitions(true),
        error_classes: ERROR_CLASSES,
    }
}

fn named<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// `{kind, input, options}` with each kind's own input.
fn session_start(sessions: &[KindSchema]) -> serde_json::Value {
    let variants: Vec<serde_json::Value> = sessions
        .iter()
        .map(|kind| {
            serde_json::json!({
                "type": "object",
                "properties": {
                    "kind": {"const": kind.name},
                    "input": kind.input,
                    "options": {"$ref": "#/$defs/StartOptions"}
                },
                "required": ["kind", "input"],
                "additionalProperties": false
            })
        })
        .collect();
    serde_json::json!({
        "description": "A start request: the kind, its input and the options every kind takes.",
        "oneOf": variants
    })
}
