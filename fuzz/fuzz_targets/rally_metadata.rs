//! The Rally metadata reader (a TypeDefinition with its Attributes, and the
//! AllowedValues collections) must never panic, and the form it yields must resolve
//! with empty and with fuzzed settings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tmbridge_core::autofill::{Settings, parse_allowed_values, resolve_form, schema_from_metadata};

fuzz_target!(|data: &[u8]| {
    let _ = parse_allowed_values(data);
    if let Ok(schema) = schema_from_metadata(data) {
        let _ = resolve_form(&schema, &Settings::default());
        for field in &schema.fields {
            let _ = field.name.len();
        }
    }
});
