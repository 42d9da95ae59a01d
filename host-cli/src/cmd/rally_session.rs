//! What every command that runs one Rally session shares: the options, the
//! configuration and secrets, running the session (or a dry run), and the exit code.

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::host::{self, DryRun, Hooks, Network, Transport};
use crate::publish::{PASSWORD_ENV, USERNAME_ENV};
use anyhow::Result;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tmbridge_core::config::{Config, Target};
use tmbridge_core::session::{Secrets, StartOptions};
use tmbridge_core::sync::{HttpRequest, Report};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetArg {
    Rally,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people.
    Table,
    /// The whole report (and, with --dry-run, every request), for scripts.
    Json,
    /// One JSON object per line, for pipes (the records a command lists; the report
    /// elsewhere).
    Ndjson,
}

/// Options every Rally session command takes.
#[derive(clap::Args, Clone)]
pub struct Common {
    /// Configuration file: TOML (or JSON when it ends in .json); its [rally] section.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Send nothing; print every request that would be sent (secrets masked).
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Seconds to wait for one answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
    /// No progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// A command's failure before any request: bad configuration or credentials.
pub fn usage(command: &str, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("tmbridge {command}: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// The configuration, checked for Rally.
pub fn config(command: &str, common: &Common) -> std::result::Result<Config, ExitCode> {
    let config = crate::run_context::load_config(&common.config).map_err(|m| usage(command, m))?;
    config
        .validate(Some(Target::Rally))
        .map_err(|e| usage(command, format!("{}: {e}", common.config.display())))?;
    Ok(config)
}

/// Rally's secrets from the environment: the variable `rally.api_key_env` names,
/// else user name and password. A dry run needs none.
pub fn secrets(
    command: &str,
    config: &Config,
    dry_run: bool,
) -> std::result::Result<Secrets, ExitCode> {
    if dry_run {
        return Ok(Secrets {
            api_key: Some("(dry-run)".into()),
            ..Secrets::default()
        });
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let key_env = &config.rally.api_key_env;
    let secrets = Secrets {
        api_key: env(key_env),
        username: env(USERNAME_ENV),
        password: env(PASSWORD_ENV),
    };
    if secrets.api_key.is_none() && (secrets.username.is_none() || secrets.password.is_none()) {
        return Err(usage(
            command,
            format!(
                "no Rally credentials: set {key_env} to an API key (rally.api_key_env names the variable), or {USERNAME_ENV} and {PASSWORD_ENV}"
            ),
        ));
    }
    Ok(secrets)
}

/// The configuration and the secrets of a command that runs a Rally session; the
/// exit code of what is wrong with them otherwise.
pub fn prepare(command: &str, common: &Common) -> std::result::Result<(Config, Secrets), ExitCode> {
    let config = config(command, common)?;
    let secrets = secrets(command, &config, common.dry_run)?;
    Ok((config, secrets))
}

/// What a session command prints with `--format json`.
#[derive(Serialize)]
pub struct Outcome {
    pub report: Report,
    /// Dry run: every request that would be sent, secrets masked.
    pub requests: Vec<HttpRequest>,
}

/// Runs one session of `kind` to its end over the network (or a dry run). A session
/// that refuses to start (a bad query, a payload without a name) is reported here
/// and its exit code returned instead.
pub fn run(
    command: &str,
    kind: &str,
    input: &serde_json::Value,
    secrets: &Secrets,
    common: &Common,
) -> Result<std::result::Result<Outcome, ExitCode>> {
    let seed = crate::publish::clock_seed();
    let options = StartOptions {
        seed,
        ..StartOptions::default()
    };
    let mut session = match crate::engine::start_session(kind, input, secrets, options) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tmbridge {command}: {e}");
            let usage = e.code.starts_with("config.") || e.code.starts_with("session.");
            return Ok(Err(ExitCode::from(if usage {
                EXIT_USAGE
            } else {
                EXIT_FAILED
            })));
        }
    };
    let mut dry = DryRun::default();
    let mut network = Network::new(Duration::from_secs(common.timeout.max(1)));
    let transport: &mut dyn Transport = if common.dry_run {
        &mut dry
    } else {
        &mut network
    };
    let mut hooks = Hooks {
        read_file: &mut host::no_files,
        store: &mut host::no_store,
        progress: !common.quiet,
        target: "Rally",
    };
    let report = host::drive(session.as_mut(), transport, &mut hooks)?;
    Ok(Ok(Outcome {
        report,
        requests: dry.requests().to_vec(),
    }))
}

/// Codes of errors the user fixes in the configuration or the credentials.
const USAGE_CODES: [&str; 8] = [
    "rally.unauthorized",
    "rally.invalid_key",
    "rally.forbidden",
    "rally.no_security_token",
    "rally.no_workspace_access",
    "rally.no_project_access",
    "rally.project_not_in_workspace",
    "rally.wrong_url",
];

/// 0 when the session did all its work, 2 when credentials or configuration are
/// wrong, 1 for anything else that failed.
pub fn exit_code(report: &Report) -> ExitCode {
    match &report.error {
        Some(e) if USAGE_CODES.contains(&e.code.as_str()) => ExitCode::from(EXIT_USAGE),
        Some(_) => ExitCode::from(EXIT_FAILED),
        None if report.failed.is_empty() => ExitCode::from(EXIT_OK),
        None => ExitCode::from(EXIT_FAILED),
    }
}

/// A session command's output: the whole outcome as JSON for scripts; for people, the
/// requests of a dry run, what `details` writes, then the error.
pub fn write_outcome<W: Write>(
    out: &mut W,
    common: &Common,
    outcome: &Outcome,
    details: impl FnOnce(&mut W) -> std::io::Result<()>,
) -> Result<()> {
    match common.format {
        Format::Json | Format::Ndjson => write_json(out, outcome)?,
        Format::Table => {
            if common.dry_run {
                write_requests(out, &outcome.requests)?;
            }
            details(out)?;
            write_error(out, &outcome.report)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The JSON output.
pub fn write_json(out: &mut impl Write, outcome: &Outcome) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, outcome)?;
    writeln!(out)?;
    Ok(())
}

/// The requests of a dry run, for people.
pub fn write_requests(out: &mut impl Write, requests: &[HttpRequest]) -> std::io::Result<()> {
    writeln!(out, "Dry run: {} request(s) would be sent:", requests.len())?;
    for req in requests {
        writeln!(out, "  {} {}", req.method.as_str(), req.url)?;
        if let Some(body) = &req.body {
            writeln!(out, "    {body}")?;
        }
    }
    writeln!(out)
}

/// The error of a report, for people: the core's own text.
pub fn write_error(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    if let Some(e) = &report.error {
        writeln!(out, "error: {e}")?;
        if report.retryable {
            writeln!(out, "(this may pass: run the same command again later)")?;
        }
    }
    for entry in &report.failed {
        writeln!(out, "failed: {}: {}", entry.key, entry.why)?;
    }
    Ok(())
}
