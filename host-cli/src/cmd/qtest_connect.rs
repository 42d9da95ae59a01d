//! `tmbridge connect --target qtest`: the site, the token, the project and its
//! automation settings, through the core's `qtest.connect` session.

use super::rally_session::{self, Common};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use tmbridge_core::Error;
use tmbridge_core::session::Secrets;
use tmbridge_core::sync::Report;
use tmbridge_core::sync::details::Details;

/// Errors the user fixes in the configuration, the token or the project's settings.
const USAGE_CODES: [&str; 8] = [
    "qtest.unauthorized",
    "qtest.token_expired",
    "qtest.forbidden",
    "qtest.wrong_site",
    "qtest.not_api",
    "qtest.no_project_access",
    "qtest.automation_off",
    "qtest.unmapped_status",
];

fn exit_code(report: &Report) -> ExitCode {
    match &report.error {
        Some(Error { code, .. }) if USAGE_CODES.contains(&code.as_str()) => {
            ExitCode::from(EXIT_USAGE)
        }
        Some(_) => ExitCode::from(EXIT_FAILED),
        None => ExitCode::from(EXIT_OK),
    }
}

pub fn run(common: &Common) -> anyhow::Result<ExitCode> {
    let command = "connect";
    let config = match crate::run_context::load_config(&common.config) {
        Ok(c) => c,
        Err(m) => return Ok(rally_session::usage(command, m)),
    };
    let secrets = if common.dry_run {
        crate::publish::qtest::dry_run_secrets()
    } else {
        match crate::publish::qtest::token_from_env(&config) {
            Ok(token) => Secrets {
                api_key: Some(token),
                ..Secrets::default()
            },
            Err(e) => return Ok(rally_session::usage(command, e)),
        }
    };
    let input = serde_json::json!({ "config": config });
    let outcome = match rally_session::run(command, "qtest.connect", &input, &secrets, common)? {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    rally_session::write_outcome(&mut out, common, &outcome, |out| {
        if let Details::QtestConnection(c) = &outcome.report.details {
            writeln!(out, "qTest       {}", c.site)?;
            writeln!(
                out,
                "project     {} ({})",
                c.project_name.as_deref().unwrap_or("?"),
                c.project_id
            )?;
            let automation = match c.automation_enabled {
                Some(true) => "on",
                Some(false) => "OFF",
                None => "-",
            };
            writeln!(out, "automation  {automation}")?;
            for m in &c.mappings {
                writeln!(out, "  {} -> {}", m.value, m.run_status)?;
            }
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
    })?;
    Ok(exit_code(&outcome.report))
}
