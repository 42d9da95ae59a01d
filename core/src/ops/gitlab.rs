//! GitLab webhook ops: read a Pipeline Hook event, decide whether to process it, and
//! verify the token.

use super::document::Document;
use super::input::{document, no_document};
use super::op::Op;
use crate::error::Result;
use crate::gitlab::{self, GitlabConfig, PipelineDecision, PipelineEvent};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EventInput {
    #[serde(default)]
    body: Option<Document>,
}

pub struct ReadEvent;

impl Op for ReadEvent {
    const NAME: &'static str = "gitlab.pipeline_event";
    const SUMMARY: &'static str =
        "Read the body of a GitLab Pipeline Hook request into a typed event.";
    const INPUT: &'static str = "{ body?: string | { base64: string } }";
    const OUTPUT: &'static str = "GitlabPipelineEvent";
    const DOCUMENT: Option<&'static str> = Some("body");
    type Input = EventInput;
    type Output = PipelineEvent;

    fn run(input: EventInput, beside: Option<&[u8]>) -> Result<PipelineEvent> {
        gitlab::parse_pipeline_event(document(Self::NAME, "body", &input.body, beside)?)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DecideInput {
    event: PipelineEvent,
    #[serde(default)]
    config: GitlabConfig,
}

pub struct Decide;

impl Op for Decide {
    const NAME: &'static str = "gitlab.decide";
    const SUMMARY: &'static str =
        "Decide whether a pipeline event is a finished pipeline worth processing, and which jobs.";
    const INPUT: &'static str = "{ event: GitlabPipelineEvent, config?: GitlabConfig }";
    const OUTPUT: &'static str = "GitlabDecision";
    type Input = DecideInput;
    type Output = PipelineDecision;

    fn run(input: DecideInput, beside: Option<&[u8]>) -> Result<PipelineDecision> {
        no_document(Self::NAME, beside)?;
        input.config.validate()?;
        Ok(gitlab::decide(&input.event, &input.config))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TokenInput {
    expected: String,
    received: Option<String>,
}

pub struct VerifyToken;

impl Op for VerifyToken {
    const NAME: &'static str = "gitlab.verify_token";
    const SUMMARY: &'static str = "Compare the X-Gitlab-Token header with the secret in constant time; an empty secret never verifies.";
    const INPUT: &'static str = "{ expected: string, received: string | null }";
    const OUTPUT: &'static str = "boolean";
    type Input = TokenInput;
    type Output = bool;

    fn run(input: TokenInput, beside: Option<&[u8]>) -> Result<bool> {
        no_document(Self::NAME, beside)?;
        Ok(gitlab::verify_token(
            input.expected.as_bytes(),
            input.received.as_deref().map(str::as_bytes),
        ))
    }
}
