//! Auto-fill templates must never panic, whatever the template text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tmbridge_core::autofill::{RunContext, TextFormat, render_template};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let context = RunContext::default();
    let _ = render_template(text, &context, TextFormat::Plain);
    let _ = render_template(text, &context, TextFormat::Html);
});
