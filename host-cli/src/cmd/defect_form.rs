//! What both ways of `defect submit` share: the form's schema and settings, filling
//! it from the failed run (nothing is sent while it has errors), the defect's page.

use super::rally_session;
use super::{EXIT_FAILED, EXIT_USAGE};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use tmbridge_core::autofill::{FillOutput, RunContext, Schema, Settings};

/// The files that describe the form.
#[derive(Clone, Copy)]
pub struct FormFiles<'a> {
    pub schema: &'a Path,
    pub settings: Option<&'a Path>,
}

/// Records the defect is linked to, as given on the command line.
pub struct Links {
    pub test_case: Option<String>,
    pub story: Option<String>,
    pub result: Option<String>,
}

/// The form's schema and settings of `defect submit`.
pub fn form(command: &str, files: FormFiles) -> Result<(Schema, Settings), ExitCode> {
    let Some(schema_bytes) = super::autofill::read(files.schema) else {
        return Err(ExitCode::from(EXIT_USAGE));
    };
    let schema = crate::engine::call::<Schema>(
        "autofill.schema",
        &serde_json::json!({}),
        Some(&schema_bytes),
    )
    .map_err(|e| rally_session::usage(command, format!("{}: {e}", files.schema.display())))?;
    let settings = match files.settings {
        None => Settings::default(),
        Some(path) => {
            let Some(bytes) = super::autofill::read(path) else {
                return Err(ExitCode::from(EXIT_USAGE));
            };
            super::autofill::parse_settings(path, &bytes)
                .map_err(|m| rally_session::usage(command, format!("{}: {m}", path.display())))?
        }
    };
    Ok((schema, settings))
}

/// Fills the form from the run; `None` (after listing the problems) when it is not
/// ready to send.
pub fn fill(
    command: &str,
    out: &mut impl Write,
    schema: &Schema,
    settings: &Settings,
    run: &RunContext,
) -> anyhow::Result<Result<FillOutput, ExitCode>> {
    let filled = match crate::engine::call::<FillOutput>(
        "autofill.fill",
        &serde_json::json!({"schema": schema, "settings": settings, "run": run}),
        None,
    ) {
        Ok(f) => f,
        Err(e) => return Ok(Err(rally_session::usage(command, e))),
    };
    if !filled.ready {
        writeln!(out, "The form is not ready: nothing was sent.")?;
        super::autofill::print_text(out, &filled)?;
        out.flush()?;
        return Ok(Err(ExitCode::from(EXIT_FAILED)));
    }
    Ok(Ok(filled))
}

/// The defect's page in Rally's web app: `{url}/#/detail/defect/{ObjectID}`.
pub fn detail_url(base: Option<&str>, reference: Option<&str>) -> Option<String> {
    let oid = reference?.rsplit('/').next()?;
    if oid.is_empty() || !oid.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(format!(
        "{}/#/detail/defect/{oid}",
        base?.trim_end_matches('/')
    ))
}
