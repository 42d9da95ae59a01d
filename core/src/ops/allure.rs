//! The Allure op: the files of an `allure-results` folder into a Report.

use super::document::Document;
use super::input::no_document;
use super::op::Op;
use crate::allure::{self, InputFile};
use crate::error::Result;
use crate::junit::Options;
use crate::model::Report;
use serde::Deserialize;

/// One file of the folder: its name there and its content.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AllureFile")
)]
pub struct ResultsFile {
    name: String,
    text: Document,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AllureReadInput")
)]
pub struct ReadInput {
    files: Vec<ResultsFile>,
    #[serde(default)]
    options: Option<Options>,
}

pub struct Read;

impl Op for Read {
    const NAME: &'static str = "allure.read";
    const SUMMARY: &'static str = "Read the files of an allure-results folder (`*-result.json`, `*-container.json`, `environment.properties`, `executor.json`, `categories.json`) into a Report.";
    const INPUT: &'static str = "{ files: { name: string, text: string | { base64: string } }[], options?: JunitOptions | null }";
    const OUTPUT: &'static str = "Report";
    type Input = ReadInput;
    type Output = Report;

    fn run(input: ReadInput, document: Option<&[u8]>) -> Result<Report> {
        no_document(Self::NAME, document)?;
        let files: Vec<InputFile> = input
            .files
            .iter()
            .map(|f| InputFile {
                name: &f.name,
                bytes: f.text.bytes(),
            })
            .collect();
        allure::read(&files, &input.options.unwrap_or_default())
    }
}
