//! `tmbridge connect --target testrail` and `tmbridge publish --target testrail`:
//! the TestRail sessions on the same host loop, outbox and output as Rally's.

use super::publish::{
    Args as PublishArgs, Format as PublishFormat, read_reports, write_requests, write_summary,
};
use super::rally_session::{self, Common, Outcome};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::host::mask::mask_text;
use crate::inputs::expand_inputs;
use crate::publish::testrail::{TestrailOptions, reenable_hint, secrets_from_env};
use crate::publish::{self, PublishOptions};
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Duration;
use tmbridge_core::config::{Config, Target};
use tmbridge_core::session::Secrets;
use tmbridge_core::sync::Report;
use tmbridge_core::sync::details::Details;

fn usage(command: &str, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("tmbridge {command}: {message}");
    ExitCode::from(EXIT_USAGE)
}

fn load(command: &str, path: &std::path::Path) -> Result<Config, ExitCode> {
    let config = crate::run_context::load_config(path).map_err(|m| usage(command, m))?;
    config
        .validate(Some(Target::Testrail))
        .map_err(|e| usage(command, format!("{}: {e}", path.display())))?;
    Ok(config)
}

/// Errors the user fixes in the configuration or the credentials: exit 2.
fn is_usage(report: &Report) -> bool {
    report.error.as_ref().is_some_and(|e| {
        e.code.starts_with("config.")
            || matches!(
                e.code.as_str(),
                "testrail.unauthorized"
                    | "testrail.forbidden"
                    | "testrail.not_found"
                    | "testrail.suite_required"
                    | "testrail.wrong_project"
                    | "testrail.wrong_suite"
                    | "testrail.unknown_status"
                    | "testrail.not_api"
                    | "testrail.redirect"
                    | "testrail.certificate"
                    | "testrail.export_disabled"
            )
    })
}

fn exit_code(report: &Report) -> ExitCode {
    if is_usage(report) {
        ExitCode::from(EXIT_USAGE)
    } else if report.is_success() {
        ExitCode::from(EXIT_OK)
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

pub fn connect(common: &Common) -> anyhow::Result<ExitCode> {
    let command = "connect";
    let config = match load(command, &common.config) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let secrets = if common.dry_run {
        Secrets {
            username: Some("(dry-run)".into()),
            api_key: Some("(dry-run)".into()),
            password: None,
        }
    } else {
        match secrets_from_env(&config) {
            Ok(s) => s,
            Err(e) => return Ok(usage(command, e)),
        }
    };
    let input = serde_json::json!({ "config": config });
    let outcome = if common.dry_run {
        dry_connect(&input, &secrets)?
    } else {
        match rally_session::run(command, "testrail.connect", &input, &secrets, common)? {
            Ok(o) => o,
            Err(code) => return Ok(code),
        }
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    rally_session::write_outcome(&mut out, common, &outcome, |out| {
        if let Details::TestrailConnection(c) = &outcome.report.details {
            let named = |n: &Option<tmbridge_core::sync::details::testrail::Named>,
                         prefix: &str| {
                n.as_ref().map_or("-".to_string(), |n| {
                    format!("{prefix}{} {}", n.id, n.name.as_deref().unwrap_or(""))
                })
            };
            writeln!(out, "TestRail   {}", c.base_url)?;
            writeln!(out, "signed in  {}", c.user)?;
            writeln!(out, "project    {}", named(&c.project, "P"))?;
            writeln!(out, "suite      {}", named(&c.suite, "S"))?;
            writeln!(out, "section    {}", named(&c.section, ""))?;
            let statuses: Vec<String> = c
                .statuses
                .iter()
                .map(|s| format!("{} {}", s.id, s.label))
                .collect();
            writeln!(out, "statuses   {}", statuses.join(", "))?;
            for w in &outcome.report.warnings {
                writeln!(out, "warning    {} [{}]", w.message, w.code)?;
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

/// A connect against made-up answers: shows the requests it would send.
fn dry_connect(input: &serde_json::Value, secrets: &Secrets) -> anyhow::Result<Outcome> {
    let mut session = crate::engine::start_session(
        "testrail.connect",
        input,
        secrets,
        tmbridge_core::session::StartOptions::default(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut transport = crate::publish::testrail::DryRun::default();
    let mut hooks = crate::host::Hooks {
        read_file: &mut crate::host::no_files,
        store: &mut crate::host::no_store,
        progress: false,
        target: "TestRail",
    };
    let report = crate::host::drive(session.as_mut(), &mut transport, &mut hooks)?;
    Ok(Outcome {
        report,
        requests: transport.into_requests(),
    })
}

pub fn publish(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let command = "publish";
    let mut config = match load(command, &args.config) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    if let Some(scope) = &args.scope {
        if let Err(e) = tmbridge_core::scope::parse(scope) {
            return Ok(usage(command, format!("--scope: {e}")));
        }
        config.testrail.scope = Some(scope.clone());
    }
    let context = match crate::run_context::from_ci_and_vars(
        args.now.clone().unwrap_or_default(),
        &args.vars,
    ) {
        Ok(c) => c,
        Err(m) => return Ok(usage(command, m)),
    };
    let inputs = match expand_inputs(&args.reports) {
        Ok(i) => i,
        Err(m) => return Ok(usage(command, m)),
    };
    let reports = match read_reports(&inputs) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    let options = PublishOptions {
        target: Target::Testrail,
        outbox: Some(args.outbox.clone()),
        dry_run: args.dry_run,
        context,
        credentials: None,
        seed: args.seed,
        timeout: Duration::from_secs(args.timeout.max(1)),
        progress: !args.quiet,
        retry: tmbridge_core::sync::RetryPolicy {
            max_attempts: args.max_attempts,
            ..Default::default()
        },
        attachments: publish::attachments::AttachmentRules {
            dirs: args.attachment_dirs.clone(),
            protected: vec![args.config.clone()],
            ..Default::default()
        },
        cases: Vec::new(),
        gate: None,
    };
    let extra = TestrailOptions {
        reenable: args.reenable,
        config_path: args.config.display().to_string(),
    };
    let result = match publish::testrail::run(&config, reports, &options, &extra) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tmbridge publish: {}", mask_text(&format!("{e:#}")));
            let usage = e.downcast_ref::<publish::UsageError>().is_some();
            return Ok(ExitCode::from(if usage { EXIT_USAGE } else { EXIT_FAILED }));
        }
    };
    if let Some(path) = &args.refs_out
        && let Details::TestrailPublish(d) = &result.publish.report.details
    {
        std::fs::write(path, serde_json::to_string_pretty(&d.cache)? + "\n")?;
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.format {
        PublishFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &result)?;
            writeln!(out)?;
        }
        PublishFormat::Summary => {
            if args.dry_run {
                write_requests(&mut out, &result.publish)?;
            }
            write_summary(&mut out, &result.publish, args.dry_run, "TestRail")?;
            if let Details::TestrailPublish(d) = &result.publish.report.details
                && !d.review.is_empty()
            {
                writeln!(out)?;
                writeln!(out, "To review ({} not exported):", d.review.len())?;
                for item in &d.review {
                    writeln!(
                        out,
                        "  {} [{}]: {}",
                        item.test,
                        item.status.as_str(),
                        item.detail
                    )?;
                }
            }
        }
    }
    out.flush()?;
    if let Some(off) = &result.disabled {
        eprintln!(
            "tmbridge publish: the TestRail export is switched off since {} ({}): nothing is sent until it is re-enabled; {}",
            off.since,
            off.code,
            reenable_hint(&extra.config_path)
        );
    }
    Ok(exit_code(&result.publish.report))
}
