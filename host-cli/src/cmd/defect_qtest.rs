//! `tmbridge defect submit --qtest-run ID`: three core sessions on the one host loop
//! and the auto-fill between them: `qtest.failed_run` reads the run, `autofill.fill`
//! fills the form, `rally.defect` files it (with the Rally test case and story found
//! from the qTest test case, and the log's files), `qtest.link_defect` links it back.

use super::defect_form::{FormFiles, Links, detail_url, fill, form};
use super::rally_session::{self, Common, Format, Outcome};
use super::{EXIT_FAILED, EXIT_USAGE};
use serde::Serialize;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use tmbridge_core::config::Config;
use tmbridge_core::session::Secrets;
use tmbridge_core::sync::Report;
use tmbridge_core::sync::details::Details;

const COMMAND: &str = "defect submit";

/// What `--format json` prints: each session's report (and dry-run requests).
#[derive(Serialize)]
struct Combined<'a> {
    qtest_run: &'a Outcome,
    defect: Option<&'a Outcome>,
    link_back: Option<&'a Outcome>,
}

/// qTest errors the user fixes in the configuration or the token.
const QTEST_USAGE: [&str; 7] = [
    "qtest.unauthorized",
    "qtest.token_expired",
    "qtest.forbidden",
    "qtest.wrong_site",
    "qtest.not_api",
    "qtest.no_test_run",
    "qtest.bad_id",
];

fn qtest_exit(report: &Report) -> ExitCode {
    match &report.error {
        Some(e) if QTEST_USAGE.contains(&e.code.as_str()) => ExitCode::from(EXIT_USAGE),
        Some(_) => ExitCode::from(EXIT_FAILED),
        None => rally_session::exit_code(report),
    }
}

fn qtest_secrets(config: &Config) -> Result<Secrets, ExitCode> {
    match crate::publish::qtest::token_from_env(config) {
        Ok(token) => Ok(Secrets {
            api_key: Some(token),
            ..Secrets::default()
        }),
        Err(e) => Err(rally_session::usage(COMMAND, e)),
    }
}

fn warnings(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    for w in &report.warnings {
        writeln!(out, "note: {}", w.message)?;
    }
    for f in &report.failed {
        writeln!(out, "failed: {}: {}", f.key, f.why)?;
    }
    Ok(())
}

pub fn submit(
    common: &Common,
    files: FormFiles,
    links: Links,
    run_id: u64,
) -> anyhow::Result<ExitCode> {
    let config = match rally_session::config(COMMAND, common) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let (schema, settings) = match form(COMMAND, files) {
        Ok(f) => f,
        Err(code) => return Ok(code),
    };
    let qtest = match qtest_secrets(&config) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let rally = match rally_session::secrets(COMMAND, &config, common.dry_run) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let json = common.format != Format::Table;

    // Reading qTest changes nothing: it is done for real under --dry-run too.
    let read = Common {
        dry_run: false,
        ..common.clone()
    };
    let input = serde_json::json!({"config": config, "request": {"test_run": run_id}});
    let failed = match rally_session::run(COMMAND, "qtest.failed_run", &input, &qtest, &read)? {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let Details::QtestFailedRun(found) = &failed.report.details else {
        anyhow::bail!("qtest.failed_run gave no run");
    };
    let done = |out: &mut BufWriter<_>, defect, link_back| -> anyhow::Result<()> {
        if json {
            let all = Combined {
                qtest_run: &failed,
                defect,
                link_back,
            };
            serde_json::to_writer_pretty(&mut *out, &all)?;
            writeln!(out)?;
        }
        out.flush()?;
        Ok(())
    };
    if failed.report.error.is_some() {
        if !json {
            rally_session::write_error(&mut out, &failed.report)?;
        }
        done(&mut out, None, None)?;
        return Ok(qtest_exit(&failed.report));
    }
    if !json {
        let run = &found.run.test_run;
        writeln!(
            out,
            "read qTest test run {} {} (latest log {}, {} file(s))",
            run.pid.as_deref().unwrap_or("?"),
            run.name.as_deref().unwrap_or(""),
            found
                .test_log_id
                .map(|l| l.to_string())
                .unwrap_or_else(|| "-".into()),
            found.attachments.len()
        )?;
        warnings(&mut out, &failed.report)?;
    }
    let filled = match fill(COMMAND, &mut out, &schema, &settings, &found.run)? {
        Ok(f) => f,
        Err(code) => return Ok(code),
    };
    let input = serde_json::json!({
        "config": config,
        "request": {
            "payload": filled.payload,
            "test_case": links.test_case,
            "requirement": links.story,
            "test_case_result": links.result,
            "test_case_link": found.test_case_url,
            "attachments": found.attachments,
        }
    });
    let defect = match rally_session::run(COMMAND, "rally.defect", &input, &rally, common)? {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let filed = match &defect.report.details {
        Details::Defect(d) if defect.report.error.is_none() => d.clone(),
        _ => {
            if !json {
                if common.dry_run {
                    rally_session::write_requests(&mut out, &defect.requests)?;
                }
                rally_session::write_error(&mut out, &defect.report)?;
            }
            done(&mut out, Some(&defect), None)?;
            return Ok(rally_session::exit_code(&defect.report));
        }
    };
    let url = detail_url(config.rally.url.as_deref(), filed.reference.as_deref());
    if !json {
        if common.dry_run {
            rally_session::write_requests(&mut out, &defect.requests)?;
        }
        writeln!(
            out,
            "filed {} {:?} (state {})",
            filed.formatted_id.as_deref().unwrap_or("?"),
            filed.name.as_deref().unwrap_or(""),
            filed.state.as_deref().unwrap_or("-")
        )?;
        if let Some(url) = &url {
            writeln!(out, "{url}")?;
        }
        let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        writeln!(
            out,
            "test case {}, user story {}",
            or_none(&filed.test_case),
            or_none(&filed.requirement)
        )?;
        if !filed.attachments.is_empty() {
            writeln!(out, "attached {}", filed.attachments.join(", "))?;
        }
        warnings(&mut out, &defect.report)?;
    }
    let Some(formatted_id) = filed.formatted_id.clone() else {
        done(&mut out, Some(&defect), None)?;
        return Ok(rally_session::exit_code(&defect.report));
    };
    let input = serde_json::json!({
        "config": config,
        "request": {
            "test_run": run_id,
            "test_log": found.test_log_id,
            "defect": {"formatted_id": formatted_id, "url": url, "name": filed.name},
        }
    });
    let link = match rally_session::run(COMMAND, "qtest.link_defect", &input, &qtest, common)? {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    if !json {
        if common.dry_run {
            rally_session::write_requests(&mut out, &link.requests)?;
        }
        match &link.report.details {
            Details::QtestDefectLink(l) if link.report.error.is_none() => writeln!(
                out,
                "linked back to qTest test run {}{}",
                l.test_run_id,
                if l.existed { " (already there)" } else { "" }
            )?,
            _ => rally_session::write_error(&mut out, &link.report)?,
        }
    }
    done(&mut out, Some(&defect), Some(&link))?;
    let code = rally_session::exit_code(&defect.report);
    if code != ExitCode::from(super::EXIT_OK) {
        return Ok(code);
    }
    Ok(qtest_exit(&link.report))
}
