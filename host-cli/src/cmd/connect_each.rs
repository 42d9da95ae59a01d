//! `tmbridge connect --target rally` with several Rally connections: each is checked
//! with its own URL and key (the variable its `api_key_env` names), and the active
//! one is marked. Also what `connect` prints of one Rally connection.

use super::rally_session::{self, Common, Format};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use serde::Serialize;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use tmbridge_core::sync::rally::Details;

#[derive(Serialize)]
struct Checked {
    connection: String,
    active: bool,
    #[serde(flatten)]
    outcome: rally_session::Outcome,
}

/// `None` when the configuration has no connections (the one `[rally]` is checked
/// as before); else the exit code: the worst of the connections'.
pub fn run(common: &Common) -> anyhow::Result<Option<ExitCode>> {
    let command = "connect";
    let raw = match crate::run_context::load_config_raw(&common.config) {
        Ok(c) => c,
        Err(m) => return Ok(Some(rally_session::usage(command, m))),
    };
    if raw.rally.connections.is_empty() {
        return Ok(None);
    }
    let active = raw.rally.resolved().ok().and_then(|r| r.active);
    let mut worst = EXIT_OK;
    let mut checked = Vec::new();
    for name in raw.rally.connection_names() {
        let mut config = raw.clone();
        config.rally = match raw.rally.with_connection(&name) {
            Ok(r) => r,
            Err(e) => return Ok(Some(rally_session::usage(command, e))),
        };
        if let Err(e) = config.validate(Some(tmbridge_core::config::Target::Rally)) {
            return Ok(Some(rally_session::usage(
                command,
                format!("{}: {e}", common.config.display()),
            )));
        }
        let is_active = active.as_deref() == Some(name.as_str());
        let label = format!(
            "connection {name}{}",
            if is_active { " (active)" } else { "" }
        );
        // A connection without its key is reported, and the others still checked.
        let secrets =
            match rally_session::secrets(&format!("{command}: {label}"), &config, common.dry_run) {
                Ok(s) => s,
                Err(_) => {
                    worst = worst.max(EXIT_USAGE);
                    continue;
                }
            };
        let input = serde_json::json!({ "config": config });
        let outcome = match rally_session::run(command, "rally.connect", &input, &secrets, common)?
        {
            Ok(o) => o,
            Err(_) => {
                worst = worst.max(EXIT_FAILED);
                continue;
            }
        };
        let code = match rally_session::exit_code(&outcome.report) {
            c if c == ExitCode::from(EXIT_USAGE) => EXIT_USAGE,
            c if c == ExitCode::from(EXIT_OK) => EXIT_OK,
            _ => EXIT_FAILED,
        };
        worst = worst.max(code);
        if common.format == Format::Table {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            writeln!(out, "{label}")?;
            write_rally(&mut out, common, &outcome)?;
            writeln!(out)?;
        }
        checked.push(Checked {
            connection: name,
            active: is_active,
            outcome,
        });
    }
    if common.format != Format::Table {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "connections": checked }))?;
        writeln!(out)?;
    }
    Ok(Some(ExitCode::from(worst)))
}

/// What `connect` says of one Rally connection.
pub fn write_rally<W: Write>(
    out: &mut W,
    common: &Common,
    outcome: &rally_session::Outcome,
) -> anyhow::Result<()> {
    rally_session::write_outcome(out, common, outcome, |out| {
        if let Details::Connection(c) = &outcome.report.details {
            let name = |r: &Option<tmbridge_core::sync::rally::NamedRef>| {
                r.as_ref().map_or("-".to_string(), |r| {
                    format!("{} ({})", r.name.as_deref().unwrap_or("?"), r.reference)
                })
            };
            writeln!(out, "Rally      {}", c.base_url)?;
            writeln!(
                out,
                "signed in  {} ({})",
                c.user.as_deref().unwrap_or("-"),
                match c.auth {
                    tmbridge_core::sync::rally::AuthMode::ApiKey => "API key",
                    tmbridge_core::sync::rally::AuthMode::Basic => "user name and password",
                }
            )?;
            writeln!(out, "workspace  {}", name(&c.workspace))?;
            writeln!(out, "project    {}", name(&c.project))?;
            writeln!(
                out,
                "{}",
                if c.ok {
                    "OK: every check passed"
                } else {
                    "NOT OK"
                }
            )?;
        }
        Ok(())
    })
}
