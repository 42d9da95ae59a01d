//! `tmbridge autofill` (not built yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`tmbridge autofill` is not built yet")
}
