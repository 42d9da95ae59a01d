//! Rally query ops: normalise, check, parse, poll, and reading lookups.

use super::document::Document;
use super::input::{document, no_document};
use super::op::Op;
use crate::error::Result;
use crate::rally::query::{self, CheckOutput, Expr, Lookup, NormalizeOutput, Options};
use serde::Deserialize;

const QUERY_INPUT: &str = "{ query: string, options?: RallyQueryOptions | null }";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QueryInput {
    query: String,
    #[serde(default)]
    options: Option<Options>,
}

pub struct Normalize;

impl Op for Normalize {
    const NAME: &'static str = "rally_query.normalize";
    const SUMMARY: &'static str =
        "Normalise a Rally WSAPI query into the form Rally accepts (fails on the first error).";
    const INPUT: &'static str = QUERY_INPUT;
    const OUTPUT: &'static str = "RallyQueryNormalized";
    type Input = QueryInput;
    type Output = NormalizeOutput;

    fn run(input: QueryInput, beside: Option<&[u8]>) -> Result<NormalizeOutput> {
        no_document(Self::NAME, beside)?;
        query::normalize(&input.query, &input.options.unwrap_or_default())
    }
}

pub struct Check;

impl Op for Check {
    const NAME: &'static str = "rally_query.check";
    const SUMMARY: &'static str = "Check a Rally query: what Rally would refuse and why, the changes, the canonical form. Never fails on the query.";
    const INPUT: &'static str = QUERY_INPUT;
    const OUTPUT: &'static str = "RallyQueryCheck";
    type Input = QueryInput;
    type Output = CheckOutput;

    fn run(input: QueryInput, beside: Option<&[u8]>) -> Result<CheckOutput> {
        no_document(Self::NAME, beside)?;
        Ok(query::check(
            &input.query,
            &input.options.unwrap_or_default(),
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ParseInput {
    query: String,
    /// Refuse what Rally itself would refuse, instead of repairing it.
    #[serde(default)]
    strict: bool,
}

pub struct Parse;

impl Op for Parse {
    const NAME: &'static str = "rally_query.parse";
    const SUMMARY: &'static str =
        "Parse a Rally query into its syntax tree (leniently, or strictly as Rally does).";
    const INPUT: &'static str = "{ query: string, strict?: boolean }";
    const OUTPUT: &'static str = "RallyQueryExpr";
    type Input = ParseInput;
    type Output = Expr;

    fn run(input: ParseInput, beside: Option<&[u8]>) -> Result<Expr> {
        no_document(Self::NAME, beside)?;
        if input.strict {
            query::parse_strict(&input.query)
        } else {
            query::parse(&input.query)
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PollInput {
    #[serde(default)]
    query: String,
    since: String,
    #[serde(default)]
    options: Option<Options>,
}

pub struct Poll;

impl Op for Poll {
    const NAME: &'static str = "rally_query.poll";
    const SUMMARY: &'static str =
        "Normalise a query (may be empty) and add (LastUpdateDate > since) for polling.";
    const INPUT: &'static str =
        "{ query?: string, since: string, options?: RallyQueryOptions | null }";
    const OUTPUT: &'static str = "RallyQueryNormalized";
    type Input = PollInput;
    type Output = NormalizeOutput;

    fn run(input: PollInput, beside: Option<&[u8]>) -> Result<NormalizeOutput> {
        no_document(Self::NAME, beside)?;
        query::poll_query(
            &input.query,
            &input.since,
            &input.options.unwrap_or_default(),
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LookupsInput {
    #[serde(default)]
    document: Option<Document>,
}

pub struct Lookups;

impl Op for Lookups {
    const NAME: &'static str = "rally_query.lookups";
    const SUMMARY: &'static str = "Read Release/Iteration ids from what Rally returned for /release or /iteration (or tmbridge's own list).";
    const INPUT: &'static str = "{ document?: string | { base64: string } }";
    const OUTPUT: &'static str = "RallyLookup[]";
    const DOCUMENT: Option<&'static str> = Some("document");
    type Input = LookupsInput;
    type Output = Vec<Lookup>;

    fn run(input: LookupsInput, beside: Option<&[u8]>) -> Result<Vec<Lookup>> {
        query::parse_lookups(document(Self::NAME, "document", &input.document, beside)?)
    }
}
