//! `tmbridge parse` (not built yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`tmbridge parse` is not built yet")
}
