//! `tmbridge`: the reference host of tmbridge-core.

mod allure_results;
mod atomic_file;
mod cmd;
mod config_text;
mod engine;
mod file_lock;
mod host;
mod inputs;
mod publish;
mod run_context;
mod serve;
mod table;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Move test results from CI into Rally, qTest and TestRail.
#[derive(Parser)]
#[command(name = "tmbridge", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Which build of the core does the work: `native` (built in) or `wasm` (the
    /// WebAssembly core run in wasmtime; same output, byte for byte).
    #[arg(long, global = true, value_enum, default_value = "native")]
    engine: engine::EngineKind,
    /// The raw WebAssembly core for `--engine wasm` (default: $TMBRIDGE_WASM, then
    /// pkg/raw/tmbridge_raw.wasm).
    #[arg(long, global = true, value_name = "FILE")]
    wasm: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    Parse(cmd::parse::Args),
    Map(cmd::map::Args),
    Query(cmd::query::Args),
    Autofill(cmd::autofill::Args),
    Publish(cmd::publish::Args),
    Connect(cmd::connect::Args),
    Requirements(cmd::requirements::Args),
    Link(cmd::link::Args),
    Bridge(cmd::bridge::Args),
    Defect(cmd::defect::Args),
    Serve(cmd::serve::Args),
    Worker(cmd::worker::Args),
    Queue(cmd::queue::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(err) = engine::select(cli.engine, cli.wasm.as_deref()) {
        eprintln!("tmbridge: {err:#}");
        return ExitCode::from(cmd::EXIT_USAGE);
    }
    let result = match cli.command {
        Command::Parse(args) => cmd::parse::run(args),
        Command::Map(args) => cmd::map::run(args),
        Command::Query(args) => cmd::query::run(args),
        Command::Autofill(args) => cmd::autofill::run(args),
        // TestRail has its own export switch around the shared publish loop.
        Command::Publish(args) if args.target == cmd::publish::TargetArg::Testrail => {
            cmd::testrail::publish(args)
        }
        Command::Publish(args) => cmd::publish::run(args),
        Command::Connect(args) => cmd::connect::run(args),
        Command::Requirements(args) => cmd::requirements::run(args),
        Command::Link(args) => cmd::link::run(args),
        Command::Bridge(args) => cmd::bridge::run(args),
        Command::Defect(args) => cmd::defect::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Worker(args) => cmd::worker::run(args),
        Command::Queue(args) => cmd::queue::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // An error may quote a URL: never with its secrets.
            let text = tmbridge_core::sync::mask::mask_text(&format!("{err:#}"));
            eprintln!("tmbridge: {text}");
            ExitCode::from(cmd::EXIT_USAGE)
        }
    }
}
