//! `tmbridge`: the reference host of tmbridge-core.

mod cmd;
mod inputs;
mod table;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Move test results from CI into Rally, qTest and TestRail.
#[derive(Parser)]
#[command(name = "tmbridge", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Parse(cmd::parse::Args),
    Map(cmd::map::Args),
    Query(cmd::query::Args),
    Autofill(cmd::autofill::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse(args) => cmd::parse::run(args),
        Command::Map(args) => cmd::map::run(args),
        Command::Query(args) => cmd::query::run(args),
        Command::Autofill(args) => cmd::autofill::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("tmbridge: {err:#}");
            ExitCode::from(cmd::EXIT_USAGE)
        }
    }
}
