//! `tmbridge publish`: send the results of JUnit reports to Rally, with retries and
//! a durable outbox, and print what was created, skipped or failed.

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::host::mask::mask_text;
use crate::inputs::{Input, expand_inputs};
use crate::publish::{self, PublishOptions, PublishReport, ReportSource};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tmbridge_core::config::Target;
use tmbridge_core::sync::{Entry, Report};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetArg {
    Rally,
    Testrail,
    Qtest,
}

impl TargetArg {
    pub fn target(self) -> Target {
        match self {
            TargetArg::Rally => Target::Rally,
            TargetArg::Qtest => Target::Qtest,
            TargetArg::Testrail => Target::Testrail,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// What was created, skipped and failed, for people.
    Summary,
    /// The whole report (and, with --dry-run, every request).
    Json,
}

/// Publish test results to Rally (TestCaseResults, attachments, the sprint's test set),
/// qTest (test cases, the job's test cycle, a suite per browser, runs and logs) or
/// TestRail (cases, a run or plan entry, results, attachments).
#[derive(clap::Args)]
#[command(after_help = "Examples:
  RALLY_API_KEY=... tmbridge publish --target rally --config rally.toml build/test-results/*.xml
  tmbridge publish --target rally --config rally.toml --dry-run report.xml
  tmbridge publish --target rally --config rally.toml --var sprint=14 --format json report.xml
  tmbridge publish --target rally --config rally.toml --dry-run allure-results/
  TESTRAIL_USER=ci@example.com TESTRAIL_API_KEY=... tmbridge publish --target testrail --config tmbridge.toml results/*.xml
  tmbridge publish --target testrail --config tmbridge.toml --scope 'status in (failed, error)' --dry-run report.xml
  tmbridge publish --target testrail --config tmbridge.toml --reenable report.xml
  TMBRIDGE_QTEST_TOKEN=... tmbridge publish --target qtest --config qtest.toml results/*.xml
  tmbridge publish --target qtest --config qtest.toml --dry-run --format json report.xml

Secrets come from the environment: the variable named by rally.api_key_env (RALLY_API_KEY
by default) holds an API key; without it, RALLY_USERNAME and RALLY_PASSWORD are used with
Rally's security token. qTest's bearer token comes from the variable qtest.token_env
names, else TMBRIDGE_QTEST_TOKEN. They are never printed: --dry-run masks ZSESSIONID,
Authorization, cookies and key=.

qTest: each test case goes under the parent module (qtest.parent_module, `tmbridge` by
default) and its suite or class path; each CI job gets one test cycle (qtest.cycle_name,
`Jobless Executions` without a job) with a test suite per browser or device (the first
of qtest.suite_properties a test has, else the first of qtest.suite_names its suite
names contain, else its suite's name). The first execution of a
test creates its test run; every execution adds one test log. Nothing is sent when the
project's automation settings are off or do not map PASS, FAIL and SKIP.

Every run is kept in the outbox (an SQLite file, .tmbridge/outbox.sqlite3 by default)
until Rally confirmed it. If the process dies or Rally stays down, run the same command
again: it resumes, and looks before it creates, so every result reaches Rally once.

Attachments ([[ATTACHMENT|path]] and attachment properties) are read only from the
report's own folder and its subfolders, plus the folders given with --attachment-dir;
symbolic links are followed only if they stay inside them. Special files, files over
50 MB, the outbox and the configuration file are never read. A refused file is listed
under Failed with the reason and exits with 1.

Run values come from GitLab CI's variables (CI_PIPELINE_ID, CI_PIPELINE_URL, CI_JOB_ID,
CI_JOB_NAME, CI_JOB_URL, CI_COMMIT_REF_NAME, CI_COMMIT_SHA, CI_PROJECT_URL); --var
overrides them and adds {var.NAME} values. Without --var sprint=N the sprint is the Rally
iteration of today.

TestRail: the user comes from the variable testrail.user_env names (TESTRAIL_USER), the API
key from testrail.api_key_env (TESTRAIL_API_KEY), or the password from TESTRAIL_PASSWORD.
When TestRail refuses them (401 or 403) the export switches itself off: the outbox records
why and when, every later run says so and sends nothing until `tmbridge connect --target
testrail` passes and a publish runs with --reenable.

Exit codes: 0 everything was published; 1 something failed or is left for a later run
(the report says what and why); 2 bad command line (a report file that does not exist or
a pattern that matches nothing included), configuration, or credentials (Rally answered
401 or 403).")]
pub struct Args {
    /// The test-management system.
    #[arg(long, value_enum)]
    pub target: TargetArg,
    /// Configuration file: TOML (or JSON when it ends in .json).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Test reports (JUnit, NUnit, xUnit.net, TRX, Robot Framework, Cucumber JSON): files,
    /// allure-results folders or glob patterns.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<String>,
    /// Send nothing; print every request that would be sent (secrets masked).
    #[arg(long)]
    pub dry_run: bool,
    /// The outbox file.
    #[arg(long, value_name = "PATH", default_value = publish::DEFAULT_OUTBOX)]
    pub outbox: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "summary")]
    pub format: Format,
    /// A run value, KEY=VALUE (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub vars: Vec<String>,
    /// The run time (RFC 3339) instead of the clock.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Write the refs looked up (FormattedID → ref) to this JSON file.
    #[arg(long, value_name = "FILE")]
    pub refs_out: Option<PathBuf>,
    /// Seconds to wait for one answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
    /// Tries of one request before giving up (the run then waits in the outbox).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Seed of the retry jitter (for reproducible runs).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// A folder attachments may also come from, besides each report's own folder
    /// tree (repeatable); relative attachment paths are looked up in it too.
    #[arg(long = "attachment-dir", value_name = "DIR")]
    pub attachment_dirs: Vec<PathBuf>,
    /// No progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// TestRail: only the tests this filter selects, e.g. 'status in (failed, error) and
    /// not name ~ "flaky"' (overrides testrail.scope).
    #[arg(long, value_name = "EXPR")]
    pub scope: Option<String>,
    /// TestRail: turn the export back on after it switched itself off (401/403).
    #[arg(long)]
    pub reenable: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.scope.is_some() || args.reenable {
        eprintln!("tmbridge publish: --scope and --reenable apply to --target testrail");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let usage = |message: String| {
        eprintln!("tmbridge publish: {message}");
        Ok(ExitCode::from(EXIT_USAGE))
    };
    let config = match crate::run_context::load_config(&args.config) {
        Ok(c) => c,
        Err(m) => return usage(m),
    };
    let target = args.target.target();
    // qTest's session checks its section itself when it starts.
    if target == Target::Rally
        && let Err(e) = config.validate(Some(Target::Rally))
    {
        return usage(format!("{}: {e}", args.config.display()));
    }
    let now = args.now.clone().unwrap_or_default();
    let context = match crate::run_context::from_ci_and_vars(now, &args.vars) {
        Ok(c) => c,
        Err(m) => return usage(m),
    };
    let credentials = if args.dry_run || target != Target::Rally {
        None
    } else {
        match publish::credentials_from_env(&config) {
            Ok(c) => Some(c),
            Err(e) => return usage(e.to_string()),
        }
    };
    let inputs = match expand_inputs(&args.reports) {
        Ok(i) => i,
        Err(m) => return usage(m),
    };
    let reports = match read_reports(&inputs) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    let options = PublishOptions {
        target,
        outbox: Some(args.outbox.clone()),
        dry_run: args.dry_run,
        context,
        credentials,
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
    let result = match publish::run(&config, reports, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tmbridge publish: {}", mask_text(&format!("{e:#}")));
            let usage = e.downcast_ref::<publish::UsageError>().is_some();
            return Ok(ExitCode::from(if usage { EXIT_USAGE } else { EXIT_FAILED }));
        }
    };
    if let Some(path) = &args.refs_out
        && let tmbridge_core::sync::rally::Details::Publish(d) = &result.report.details
    {
        std::fs::write(path, serde_json::to_string_pretty(&d.cache)? + "\n")?;
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &result)?;
            writeln!(out)?;
        }
        Format::Summary => {
            if args.dry_run {
                write_requests(&mut out, &result)?;
            }
            write_summary(
                &mut out,
                &result,
                args.dry_run,
                publish::target_label(target),
            )?;
        }
    }
    out.flush()?;
    if let Some(e) = result
        .report
        .error
        .as_ref()
        .filter(|e| refused_credentials(e))
    {
        eprintln!(
            "tmbridge publish: {} refused the credentials: {e}",
            publish::target_label(target)
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    Ok(ExitCode::from(if result.report.is_success() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }))
}

/// The reports to publish: files read whole, allure-results folders as folders (their
/// files are read by the publisher, inside the folder only).
pub(super) fn read_reports(inputs: &[Input]) -> Result<Vec<ReportSource>, ExitCode> {
    let mut reports = Vec::new();
    for input in inputs {
        if let Input::AllureResults(dir) = input {
            reports.push(ReportSource::AllureResults(dir.clone()));
            continue;
        }
        match input.read_all() {
            Ok(bytes) => reports.push((input.display().to_string(), bytes).into()),
            Err(e) => {
                eprintln!("error: {}: cannot read: {e}", input.display());
                return Err(ExitCode::from(EXIT_FAILED));
            }
        }
    }
    Ok(reports)
}

/// A 401 or 403 from the target: the key, the user or its rights are wrong, which
/// exits like a bad configuration (2), not like a failed run (1).
fn refused_credentials(e: &tmbridge_core::Error) -> bool {
    matches!(
        e.code.as_str(),
        "rally.unauthorized"
            | "rally.forbidden"
            | "qtest.unauthorized"
            | "qtest.token_expired"
            | "qtest.forbidden"
    )
}

/// Bodies longer than this are cut when printed (base64 attachments).
const BODY_SHOWN: usize = 2000;

pub(super) fn write_requests(out: &mut impl Write, result: &PublishReport) -> std::io::Result<()> {
    writeln!(
        out,
        "Dry run: {} request(s) would be sent (refs in parentheses stand for records not looked up or not created):",
        result.requests.len()
    )?;
    for req in &result.requests {
        writeln!(out)?;
        writeln!(out, "{} {}", req.method.as_str(), req.url)?;
        for (name, value) in &req.headers {
            writeln!(out, "  {name}: {value}")?;
        }
        if let Some(body) = &req.body {
            if body.len() > BODY_SHOWN {
                let mut cut = BODY_SHOWN;
                while !body.is_char_boundary(cut) {
                    cut -= 1;
                }
                writeln!(out, "  {}… ({} more bytes)", &body[..cut], body.len() - cut)?;
            } else {
                writeln!(out, "  {body}")?;
            }
        } else if let Some(bytes) = &req.body_base64 {
            writeln!(
                out,
                "  (a binary body: {} characters of base64)",
                bytes.len()
            )?;
        }
    }
    writeln!(out)
}

pub(super) fn write_summary(
    out: &mut impl Write,
    result: &PublishReport,
    dry_run: bool,
    target: &str,
) -> std::io::Result<()> {
    let r: &Report = &result.report;
    let mut title = format!(
        "{target}{}: {} created, {} updated, {} skipped, {} failed",
        if dry_run { " (dry run)" } else { "" },
        r.created.len(),
        r.updated.len(),
        r.skipped.len(),
        r.failed.len()
    );
    if let Some(id) = result.run_id {
        title.push_str(&format!(
            " (run {id}{})",
            if result.resumed { ", resumed" } else { "" }
        ));
    }
    writeln!(out, "{title}")?;
    for (label, entries) in [
        ("Created", &r.created),
        ("Updated", &r.updated),
        ("Skipped", &r.skipped),
        ("Failed", &r.failed),
    ] {
        if entries.is_empty() {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{label}:")?;
        write_entries(out, entries)?;
    }
    let review = match &r.details {
        tmbridge_core::sync::rally::Details::Publish(d) => d.review.as_slice(),
        tmbridge_core::sync::rally::Details::QtestPublish(d) => d.review.as_slice(),
        _ => &[],
    };
    if !review.is_empty() {
        writeln!(out)?;
        writeln!(out, "To review ({} not published):", review.len())?;
        for item in review {
            writeln!(
                out,
                "  {} [{}]: {}",
                item.test,
                item.status.as_str(),
                item.detail
            )?;
        }
    }
    if !r.warnings.is_empty() {
        writeln!(out)?;
        writeln!(out, "Warnings:")?;
        for w in &r.warnings {
            writeln!(out, "  {} [{}]", w.message, w.code)?;
        }
    }
    if let Some(e) = &r.error {
        writeln!(out)?;
        writeln!(out, "Stopped: {e}")?;
        if r.retryable && !dry_run {
            writeln!(
                out,
                "Run the same command again later: it resumes where this one stopped."
            )?;
        }
    }
    let s = r.stats;
    writeln!(out)?;
    writeln!(
        out,
        "{} request(s), {} retried, {} ms waited",
        s.requests, s.retries, s.waited_ms
    )
}

fn write_entries(out: &mut impl Write, entries: &[Entry]) -> std::io::Result<()> {
    let rows: Vec<[String; 4]> = entries
        .iter()
        .map(|e| {
            [
                e.kind.as_str().to_string(),
                e.key.clone(),
                e.reference.clone().unwrap_or_default(),
                e.why.clone(),
            ]
        })
        .collect();
    let mut widths = [0usize; 3];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in &rows {
        let mut line = String::from("  ");
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if let Some(w) = widths.get(i) {
                line.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
