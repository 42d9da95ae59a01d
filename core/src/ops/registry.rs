//! The table of ops and how one runs: JSON in, the envelope out through any
//! serializer. The two ops that describe the table (`ops.list`, `ops.version`) live
//! here with it.

use super::envelope::{Envelope, error_envelope};
use super::input::{Nothing, from_json, no_document};
use super::op::{Op, OpSpec};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize, Serializer};

/// Calls `$m!` with every op type, in the order `list_ops` shows them.
macro_rules! for_each_op {
    ($m:ident) => {
        $m! {
            ListOps,
            Version,
            super::junit::Parse,
            super::junit::Events,
            super::allure::Read,
            super::map::Map,
            super::map::ValidateConfig,
            super::rally_query::Normalize,
            super::rally_query::Check,
            super::rally_query::Parse,
            super::rally_query::Poll,
            super::rally_query::Lookups,
            super::autofill::SchemaOp,
            super::autofill::AllowedValues,
            super::autofill::FormOp,
            super::autofill::EditForm,
            super::autofill::CheckMappings,
            super::autofill::RunFromJunit,
            super::autofill::Fill,
            super::autofill::Render,
            super::autofill::Sources,
            super::gitlab::ReadEvent,
            super::gitlab::Decide,
            super::gitlab::VerifyToken,
            super::session::Kinds,
            super::session::Replay,
            super::session::DryRunAnswer,
            super::session::WorkKey,
            super::session::MaskReport,
        }
    };
}

macro_rules! specs {
    ($($op:ty),* $(,)?) => {
        vec![$(<$op as Op>::spec()),*]
    };
}

/// Every op's input and output schemas, in the order `list_ops` shows them.
#[cfg(feature = "schema")]
pub fn op_schemas(
    read: &mut schemars::SchemaGenerator,
    written: &mut schemars::SchemaGenerator,
) -> Vec<super::op::OpSchema> {
    macro_rules! schemas {
        ($($op:ty),* $(,)?) => {
            vec![$(super::op::OpSchema {
                name: <$op as Op>::NAME,
                summary: <$op as Op>::SUMMARY,
                input: read.subschema_for::<<$op as Op>::Input>(),
                output: written.subschema_for::<<$op as Op>::Output>(),
                document: <$op as Op>::DOCUMENT,
            }),*]
        };
    }
    for_each_op!(schemas)
}

/// Every op, in a stable order.
pub fn list_ops() -> Vec<OpSpec> {
    for_each_op!(specs)
}

pub fn call_json(op: &str, json: &[u8], document: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    match call_into(
        op,
        json,
        document,
        &mut serde_json::Serializer::new(&mut out),
    ) {
        Ok(()) => out,
        Err(e) => error_envelope(&Error::new(
            "ops.internal",
            format!("could not write the output of `{op}` as JSON: {e}"),
        )),
    }
}

pub fn call_into<S: Serializer>(
    op: &str,
    json: &[u8],
    document: Option<&[u8]>,
    output: S,
) -> Result<S::Ok, S::Error> {
    macro_rules! dispatch {
        ($($op:ty),* $(,)?) => {
            $(if op == <$op as Op>::NAME { return run::<$op, S>(json, document, output); })*
        };
    }
    for_each_op!(dispatch);
    let envelope: Envelope<'_, ()> = Envelope {
        ok: None,
        error: Some(&unknown_op(op)),
    };
    envelope.serialize(output)
}

fn run<O: Op, S: Serializer>(
    json: &[u8],
    document: Option<&[u8]>,
    output: S,
) -> Result<S::Ok, S::Error> {
    let result = from_json::<O::Input>(O::NAME, O::INPUT, json).and_then(|i| O::run(i, document));
    match &result {
        Ok(value) => Envelope {
            ok: Some(value),
            error: None,
        }
        .serialize(output),
        Err(error) => Envelope::<'_, O::Output> {
            ok: None,
            error: Some(error),
        }
        .serialize(output),
    }
}

fn unknown_op(op: &str) -> Error {
    let names: Vec<String> = list_ops().into_iter().map(|s| s.name).collect();
    let near: Vec<&String> = names
        .iter()
        .filter(|n| n.contains(op) || (!n.is_empty() && op.contains(n.as_str())))
        .collect();
    let hint = match near.as_slice() {
        [] => format!("the ops are: {}", names.join(", ")),
        near => format!(
            "did you mean {}?",
            near.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    };
    let shown: String = op.chars().take(80).collect();
    Error::new("ops.unknown_op", format!("there is no op named `{shown}`")).with_hint(hint)
}

pub struct ListOps;

impl Op for ListOps {
    const NAME: &'static str = "ops.list";
    const SUMMARY: &'static str = "Every op with its input and output shapes.";
    const INPUT: &'static str = "{}";
    const OUTPUT: &'static str = "OpSpec[]";
    type Input = Nothing;
    type Output = Vec<OpSpec>;

    fn run(_: Nothing, document: Option<&[u8]>) -> Result<Vec<OpSpec>> {
        no_document(Self::NAME, document)?;
        Ok(list_ops())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VersionInfo {
    /// Version of the tmbridge core.
    pub core: String,
    /// Number of ops this core offers.
    pub ops: u64,
}

pub struct Version;

impl Op for Version {
    const NAME: &'static str = "ops.version";
    const SUMMARY: &'static str = "The core's version and how many ops it offers.";
    const INPUT: &'static str = "{}";
    const OUTPUT: &'static str = "{ core: string, ops: number }";
    type Input = Nothing;
    type Output = VersionInfo;

    fn run(_: Nothing, document: Option<&[u8]>) -> Result<VersionInfo> {
        no_document(Self::NAME, document)?;
        Ok(VersionInfo {
            core: env!("CARGO_PKG_VERSION").to_string(),
            ops: list_ops().len() as u64,
        })
    }
}
