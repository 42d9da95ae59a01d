//! Mapping ops: test results (a JUnit report or parsed test cases) into everything a
//! sync to Rally, qTest or TestRail would send, and the configuration check.

use super::document::Document;
use super::input::{document, no_document};
use super::op::Op;
use crate::config::{Config, RefCache, RunContext, Target};
use crate::error::{Error, Result, Warning};
use crate::model::TestCase;
use crate::qtest::QtestPlan;
use crate::rally::payload::RallyPlan;
use crate::testrail::TestrailPlan;
use crate::{junit, qtest, rally, testrail};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MapInput {
    target: Target,
    #[serde(default)]
    config: Config,
    /// A JUnit report; or `cases`.
    #[serde(default)]
    xml: Option<Document>,
    #[serde(default)]
    cases: Option<Vec<TestCase>>,
    context: RunContext,
    #[serde(default)]
    refs: RefCache,
}

/// The plan of the chosen target, as its own shape.
#[derive(Debug, Serialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Plan {
    Rally(Box<RallyPlan>),
    Qtest(Box<QtestPlan>),
    Testrail(Box<TestrailPlan>),
}

pub struct Map;

impl Op for Map {
    const NAME: &'static str = "map";
    const SUMMARY: &'static str = "Map test results to what a sync to Rally, qTest or TestRail would send: payloads, the summary, the review list.";
    const INPUT: &'static str = "{ target: 'rally' | 'qtest' | 'testrail', config?: Config, xml?: string | { base64: string }, cases?: TestCase[], context: MapContext, refs?: RefCache }";
    const OUTPUT: &'static str = "RallyPlan | QtestPlan | TestrailPlan";
    const DOCUMENT: Option<&'static str> = Some("xml");
    type Input = MapInput;
    type Output = Plan;

    fn run(input: MapInput, beside: Option<&[u8]>) -> Result<Plan> {
        let cases = match (&input.cases, input.xml.is_some() || beside.is_some()) {
            (Some(cases), false) => cases.clone(),
            (None, true) => {
                let xml = document(Self::NAME, "xml", &input.xml, beside)?;
                junit::cases_for_mapping(xml, junit::MAX_MAPPED_CASES)?.0
            }
            (Some(_), true) => {
                return Err(Error::new(
                    "ops.invalid_input",
                    "`map` takes either `xml` or `cases`, not both",
                ));
            }
            (None, false) => {
                return Err(
                    Error::new("ops.missing_document", "`map` needs `xml` or `cases`").with_hint(
                        "give the JUnit report as `xml`, or parsed test cases as `cases`",
                    ),
                );
            }
        };
        let (config, ctx, refs) = (&input.config, &input.context, &input.refs);
        config.validate(Some(input.target))?;
        Ok(match input.target {
            Target::Rally => {
                Plan::Rally(Box::new(rally::payload::plan(config, &cases, ctx, refs)?))
            }
            Target::Qtest => Plan::Qtest(Box::new(qtest::plan(config, &cases, ctx, refs)?)),
            Target::Testrail => {
                Plan::Testrail(Box::new(testrail::plan(config, &cases, ctx, refs)?))
            }
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ValidateInput {
    config: Config,
    #[serde(default)]
    target: Option<Target>,
}

pub struct ValidateConfig;

impl Op for ValidateConfig {
    const NAME: &'static str = "config.validate";
    const SUMMARY: &'static str = "Check a configuration (ids, templates, status tables, limits; with a target, its required keys). Returns the warnings.";
    const INPUT: &'static str =
        "{ config: Config, target?: 'rally' | 'qtest' | 'testrail' | null }";
    const OUTPUT: &'static str = "Warning[]";
    type Input = ValidateInput;
    type Output = Vec<Warning>;

    fn run(input: ValidateInput, beside: Option<&[u8]>) -> Result<Vec<Warning>> {
        no_document(Self::NAME, beside)?;
        input.config.validate(input.target)
    }
}
