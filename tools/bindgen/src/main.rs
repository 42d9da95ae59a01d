//! `tmbridge-bindgen --target web|nodejs --out-dir DIR --out-name NAME MODULE.wasm`
//!
//! The part of the `wasm-bindgen` CLI the package build uses, on wasm-bindgen's own
//! library at the exact version of the crate. Built with the workspace, it shares the
//! cargo cache instead of a separate `cargo install` of the whole CLI and its test runner.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use wasm_bindgen_cli_support::Bindgen;

struct Args {
    target: String,
    out_dir: PathBuf,
    out_name: String,
    module: PathBuf,
}

const USAGE: &str =
    "usage: tmbridge-bindgen --target web|nodejs --out-dir DIR --out-name NAME MODULE.wasm";

fn parse_args() -> Result<Args> {
    let mut target = None;
    let mut out_dir = None;
    let mut out_name = None;
    let mut module = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--target" => target = Some(value("--target")?),
            "--out-dir" => out_dir = Some(PathBuf::from(value("--out-dir")?)),
            "--out-name" => out_name = Some(value("--out-name")?),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            flag if flag.starts_with('-') => bail!("unknown option {flag}\n{USAGE}"),
            path => module = Some(PathBuf::from(path)),
        }
    }
    Ok(Args {
        target: target.with_context(|| format!("--target is missing\n{USAGE}"))?,
        out_dir: out_dir.with_context(|| format!("--out-dir is missing\n{USAGE}"))?,
        out_name: out_name.with_context(|| format!("--out-name is missing\n{USAGE}"))?,
        module: module.with_context(|| format!("the .wasm module is missing\n{USAGE}"))?,
    })
}

fn main() {
    if let Err(error) = run() {
        eprintln!("tmbridge-bindgen: {error:#}");
        std::process::exit(2);
    }
}

fn run() -> Result<()> {
    let args = parse_args()?;
    let mut bindgen = Bindgen::new();
    // As the CLI does: the web glue finds its .wasm beside itself when init gets no path.
    bindgen
        .input_path(&args.module)
        .out_name(&args.out_name)
        .typescript(true)
        .omit_default_module_path(false);
    match args.target.as_str() {
        "web" => bindgen.web(true)?,
        "nodejs" => bindgen.nodejs(true)?,
        other => bail!("--target {other}: expected web or nodejs\n{USAGE}"),
    };
    bindgen.generate(&args.out_dir).with_context(|| {
        format!(
            "generating the {} glue of {}",
            args.target,
            args.module.display()
        )
    })
}
