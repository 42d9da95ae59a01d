//! Ops about the ops.

use super::catalog::{OpSpec, list_ops};
use super::input::no_document;
use super::registry::Op;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// An input with no fields: `{}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nothing {}

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
