//! Defect auto-fill ops: the schema from Rally's metadata, the form, its edits, the
//! fill itself, and the helpers a form editor needs.

use super::document::Document;
use super::input::Nothing;
use super::input::{document, no_document};
use super::op::Op;
use crate::autofill::{
    self, AllowedValue, Edited, FillOutput, Form, FormEdit, Problem, RunContext, Schema, Settings,
    SourceInfo, TextFormat,
};
use crate::error::Result;
use crate::model::TestCase;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MetadataInput {
    #[serde(default)]
    metadata: Option<Document>,
}

pub struct SchemaOp;

impl Op for SchemaOp {
    const NAME: &'static str = "autofill.schema";
    const SUMMARY: &'static str = "Read Rally's type metadata (a TypeDefinition with its Attributes, as fetched) into a defect-form schema.";
    const INPUT: &'static str = "{ metadata?: string | { base64: string } }";
    const OUTPUT: &'static str = "AutofillSchema";
    const DOCUMENT: Option<&'static str> = Some("metadata");
    type Input = MetadataInput;
    type Output = Schema;

    fn run(input: MetadataInput, beside: Option<&[u8]>) -> Result<Schema> {
        autofill::schema_from_metadata(document(Self::NAME, "metadata", &input.metadata, beside)?)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AllowedValuesInput {
    #[serde(default)]
    document: Option<Document>,
}

pub struct AllowedValues;

impl Op for AllowedValues {
    const NAME: &'static str = "autofill.allowed_values";
    const SUMMARY: &'static str =
        "Read one attribute's AllowedValues collection, as Rally returned it.";
    const INPUT: &'static str = "{ document?: string | { base64: string } }";
    const OUTPUT: &'static str = "AutofillAllowedValue[]";
    const DOCUMENT: Option<&'static str> = Some("document");
    type Input = AllowedValuesInput;
    type Output = Vec<AllowedValue>;

    fn run(input: AllowedValuesInput, beside: Option<&[u8]>) -> Result<Vec<AllowedValue>> {
        autofill::parse_allowed_values(document(Self::NAME, "document", &input.document, beside)?)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FillInput {
    schema: Schema,
    #[serde(default)]
    settings: Settings,
    run: RunContext,
}

pub struct Fill;

impl Op for Fill {
    const NAME: &'static str = "autofill.fill";
    const SUMMARY: &'static str = "Fill the defect form for a failed run: each field's value and why, the problems, and the Rally create payload.";
    const INPUT: &'static str =
        "{ schema: AutofillSchema, settings?: AutofillSettings, run: AutofillRun }";
    const OUTPUT: &'static str = "AutofillOutput";
    type Input = FillInput;
    type Output = FillOutput;

    fn run(input: FillInput, beside: Option<&[u8]>) -> Result<FillOutput> {
        no_document(Self::NAME, beside)?;
        autofill::fill(&input.schema, &input.settings, &input.run)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct JunitCaseInput {
    case: TestCase,
}

pub struct RunFromJunit;

impl Op for RunFromJunit {
    const NAME: &'static str = "autofill.run_from_junit";
    const SUMMARY: &'static str =
        "The auto-fill run context of one JUnit test case (from a parsed report).";
    const INPUT: &'static str = "{ case: TestCase }";
    const OUTPUT: &'static str = "AutofillRun";
    type Input = JunitCaseInput;
    type Output = RunContext;

    fn run(input: JunitCaseInput, beside: Option<&[u8]>) -> Result<RunContext> {
        no_document(Self::NAME, beside)?;
        Ok(RunContext::from_junit_case(&input.case))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FormInput {
    schema: Schema,
    #[serde(default)]
    settings: Settings,
}

pub struct FormOp;

impl Op for FormOp {
    const NAME: &'static str = "autofill.form";
    const SUMMARY: &'static str =
        "The form the user sees: the schema's fields after the settings (hidden, ordered, added).";
    const INPUT: &'static str = "{ schema: AutofillSchema, settings?: AutofillSettings }";
    const OUTPUT: &'static str = "AutofillForm";
    type Input = FormInput;
    type Output = Form;

    fn run(input: FormInput, beside: Option<&[u8]>) -> Result<Form> {
        no_document(Self::NAME, beside)?;
        Ok(autofill::resolve_form(&input.schema, &input.settings))
    }
}

pub struct CheckMappings;

impl Op for CheckMappings {
    const NAME: &'static str = "autofill.check_mappings";
    const SUMMARY: &'static str =
        "Check the settings' value maps against the schema (unknown values, asymmetric pairs).";
    const INPUT: &'static str = "{ schema: AutofillSchema, settings?: AutofillSettings }";
    const OUTPUT: &'static str = "AutofillProblem[]";
    type Input = FormInput;
    type Output = Vec<Problem>;

    fn run(input: FormInput, beside: Option<&[u8]>) -> Result<Vec<Problem>> {
        no_document(Self::NAME, beside)?;
        Ok(autofill::check_mappings(&input.schema, &input.settings))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EditInput {
    schema: Schema,
    #[serde(default)]
    settings: Settings,
    edit: FormEdit,
}

pub struct EditForm;

impl Op for EditForm {
    const NAME: &'static str = "autofill.edit_form";
    const SUMMARY: &'static str = "Apply one edit of the form (hide, show, move, add, remove, reload values, reset) to the settings.";
    const INPUT: &'static str =
        "{ schema: AutofillSchema, settings?: AutofillSettings, edit: AutofillFormEdit }";
    const OUTPUT: &'static str = "{ settings: AutofillSettings, note: string }";
    type Input = EditInput;
    type Output = Edited;

    fn run(input: EditInput, beside: Option<&[u8]>) -> Result<Edited> {
        no_document(Self::NAME, beside)?;
        autofill::edit_form(&input.schema, &input.settings, &input.edit)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RenderInput {
    template: String,
    #[serde(default)]
    run: RunContext,
    #[serde(default)]
    format: TextFormat,
}

pub struct Render;

impl Op for Render {
    const NAME: &'static str = "autofill.render";
    const SUMMARY: &'static str =
        "Render one auto-fill template against a run (plain text or HTML), e.g. for a preview.";
    const INPUT: &'static str =
        "{ template: string, run?: AutofillRun, format?: 'plain' | 'single_line' | 'html' }";
    const OUTPUT: &'static str = "string";
    type Input = RenderInput;
    type Output = String;

    fn run(input: RenderInput, beside: Option<&[u8]>) -> Result<String> {
        no_document(Self::NAME, beside)?;
        autofill::render_template(&input.template, &input.run, input.format)
    }
}

pub struct Sources;

impl Op for Sources {
    const NAME: &'static str = "autofill.sources";
    const SUMMARY: &'static str = "Every value a template can use, with its kind and meaning.";
    const INPUT: &'static str = "{}";
    const OUTPUT: &'static str = "AutofillSource[]";
    type Input = Nothing;
    type Output = Vec<SourceInfo>;

    fn run(_: Nothing, beside: Option<&[u8]>) -> Result<Vec<SourceInfo>> {
        no_document(Self::NAME, beside)?;
        Ok(autofill::source_catalog())
    }
}
