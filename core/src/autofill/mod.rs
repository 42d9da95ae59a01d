//! Defect-form auto-fill: fills a Rally defect form from a failed test run, the
//! same way in every host (browser extension, Python, Node, the CLI).
//!
//! 1. [`schema_from_metadata`] reads Rally's type metadata (a TypeDefinition with its
//!    AttributeDefinitions, as the host fetched it) into a [`Schema`].
//! 2. [`Settings`] are the user's layer: fields hidden from the form, their order,
//!    fields added by hand, reloaded allowed values ([`edit_form`] applies one
//!    [`FormEdit`]), and the [`Rule`]s, defaults and [`ValueMap`]s that fill it.
//! 3. [`fill`] takes the [`RunContext`] (test run, test case, test log; the failing
//!    step is derived) and returns a [`FillOutput`]: each field's value in form
//!    order with what filled it, every problem, and the Rally create payload
//!    (`{"Defect": {...}}`) with the link to the run in Description and the refs
//!    of the test case and its first user story.
//!
//! Rules: only free-text fields (STRING/TEXT without allowed values) are filled from
//! templates; dropdowns, references, numbers, dates and booleans take a default or
//! go through a value map, whose symmetry [`check_mappings`] checks. Rich-text
//! fields (TEXT: Description, Notes) get escaped HTML with links; STRING fields get
//! one plain line; text longer than the field is cut with a visible marker and
//! reported. NUL, other control characters and text-direction controls (U+202E...)
//! are removed from every value with an `autofill.control_character` warning (see
//! [`crate::controls`]). The template syntax is documented in [`template`].

mod context;
mod fill;
mod mapping;
mod payload;
mod problem;
mod schema;
mod settings;
mod sources;
pub mod template;
mod text;
mod validate;

pub use context::{
    AttachmentInfo, RequirementInfo, RunContext, SourceFormat, SourceProperty, StepInfo,
    StepLogInfo, TestCaseInfo, TestLogInfo, TestRunInfo,
};
pub use fill::{FillOutput, FilledBy, FilledField, fill};
pub use mapping::check_mappings;
pub use payload::{Payload, PayloadValue, looks_like_ref, short_ref};
pub use problem::{Problem, Severity};
pub use schema::{
    AllowedValue, FieldDef, FieldKind, FieldOrigin, Schema, parse_allowed_values,
    schema_from_metadata,
};
pub use settings::{
    Edited, Form, FormEdit, ManualField, Rule, Settings, ValueMap, ValuePair, edit_form,
    resolve_form,
};
pub use sources::{SourceInfo, source_catalog};
pub use template::{Template, parse_template, render_template};
pub use text::TextFormat;

#[cfg(test)]
mod tests;
