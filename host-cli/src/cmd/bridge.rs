//! `tmbridge bridge requirements`: Rally user stories into qTest as requirements, and a
//! Rally test case for each qTest test case linked to one of them, once or watched.
//! The steps and what is kept between them are the core's (`sync::bridge`); this
//! host runs each step's session, stores the state after each, and sleeps.

use super::rally_session::{self, Common, Format};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::file_lock::FileLock;
use anyhow::{Context, Result};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tmbridge_core::config::{Config, Target};
use tmbridge_core::session::Secrets;
use tmbridge_core::sync::Report;
use tmbridge_core::sync::bridge::BridgeState;
use tmbridge_core::sync::details::Details;
use tmbridge_core::sync::details::bridge::{ImportedRequirement, RequirementAction};

/// Keep Rally and qTest in step.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    Requirements(RequirementsArgs),
}

/// Rally user stories into qTest as requirements; Rally test cases for the qTest test
/// cases linked to them.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  RALLY_API_KEY=... TMBRIDGE_QTEST_TOKEN=... \\
    tmbridge bridge requirements --config tmbridge.toml --state .tmbridge/bridge.json
  tmbridge bridge requirements --config tmbridge.toml --state .tmbridge/bridge.json --watch --interval 2m
  tmbridge bridge requirements --config tmbridge.toml --state .tmbridge/bridge.json --story US12

Each pass reads the Rally stories of [bridge] (bridge.projects, or the Rally project;
all of them, or those bridge.query selects: the query is normalised first) changed
since the last pass, and brings them into qTest as requirements of the module
bridge.module (\"Imported from Rally\", made when missing) named \"US12: <name>\", with
the active Rally fields (bridge.fields: Rally field = qTest requirement field) and a
link back to the story (in bridge.link_field, Description by default). Requirements are
looked up before they are made, and updated only when a value changed.

Then it reads the qTest test cases linked to those requirements. For each one it has
not seen, it makes one Rally test case, linked to the first story the qTest case is
linked to (Rally allows one), whose Description links to the qTest test case's page;
it is found again by (Description contains \"<that page>\") and never updated from qTest.

--watch repeats the pass every --interval. --story re-reads one story whatever its date
(the cursor stays). The cursor, the stories read but not yet in qTest and the qTest
cases already handled are kept in --state, written after each step: kill the command
at any moment and start it again, and nothing is lost or done twice.

Secrets come from the environment only: the Rally API key from the variable that
rally.api_key_env (of the active connection) names, the qTest token from the one
qtest.token_env names (else TMBRIDGE_QTEST_TOKEN).

Exit codes: 0 done; 1 Rally or qTest failed (the next pass tries again); 2 bad command
line, configuration or credentials.")]
pub struct RequirementsArgs {
    #[command(flatten)]
    pub common: Common,
    /// Where the bridge keeps its cursor and what it has done.
    #[arg(long, value_name = "FILE")]
    pub state: PathBuf,
    /// Keep polling Rally and qTest.
    #[arg(long)]
    pub watch: bool,
    /// Time between two passes of --watch: 90s, 2m, 1h.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = super::requirements::parse_interval)]
    pub interval: Duration,
    /// Re-read this one story (a FormattedID like US12) whatever its date.
    #[arg(long, value_name = "ID")]
    pub story: Option<String>,
    /// Stop --watch after this many passes (for scripts and tests).
    #[arg(long, value_name = "N", hide = true)]
    pub polls: Option<u64>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.command {
        Command::Requirements(args) => requirements(args),
    }
}

const COMMAND: &str = "bridge requirements";

/// What a pass did, for people and scripts.
#[derive(Debug, Default, Serialize)]
struct PassReport {
    /// Stories read from Rally in this pass.
    stories: usize,
    requirements: Vec<ImportedRequirement>,
    test_cases: Vec<CaseLine>,
    /// qTest test cases Rally refused to make a test case for (kept in the state with
    /// the reason, not tried again).
    refused: Vec<Refused>,
    /// The cursor after the pass.
    since: Option<String>,
    error: Option<tmbridge_core::Error>,
    retryable: bool,
}

#[derive(Debug, Serialize)]
struct Refused {
    qtest_id: u64,
    error: tmbridge_core::Error,
}

#[derive(Debug, Serialize)]
struct CaseLine {
    qtest_id: u64,
    qtest_pid: Option<String>,
    name: String,
    rally: String,
    story: Option<String>,
}

struct Bridge<'a> {
    config: Config,
    rally: Secrets,
    qtest: Secrets,
    args: &'a RequirementsArgs,
}

fn prepare(args: &RequirementsArgs) -> std::result::Result<Bridge<'_>, ExitCode> {
    let usage = |m: String| rally_session::usage(COMMAND, m);
    if args.common.dry_run {
        return Err(usage(
            "--dry-run is not available here: the qTest step needs the stories Rally answers with"
                .into(),
        ));
    }
    let config = crate::run_context::load_config(&args.common.config).map_err(usage)?;
    // qTest's own keys (url, project_id) are checked by its session: publishing's
    // (test_cycle) are not needed here.
    config
        .validate(Some(Target::Rally))
        .map_err(|e| usage(format!("{}: {e}", args.common.config.display())))?;
    let rally = rally_session::secrets(COMMAND, &config, false)?;
    let token = crate::publish::qtest::token_from_env(&config).map_err(|e| usage(e.to_string()))?;
    Ok(Bridge {
        config,
        rally,
        qtest: Secrets {
            api_key: Some(token),
            ..Secrets::default()
        },
        args,
    })
}

fn requirements(args: RequirementsArgs) -> Result<ExitCode> {
    let ctx = match prepare(&args) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    if let Some(dir) = args.state.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let lock_path = PathBuf::from(format!("{}.lock", args.state.display()));
    let Some(_lock) = FileLock::try_acquire(&lock_path)
        .with_context(|| format!("cannot lock {}", lock_path.display()))?
    else {
        return Ok(rally_session::usage(
            COMMAND,
            format!(
                "another tmbridge bridge is using {}; stop it first",
                args.state.display()
            ),
        ));
    };
    let mut state = load_state(&args.state)?;
    let mut passes = 0u64;
    loop {
        let report = match pass(&ctx, &mut state)? {
            Ok(r) => r,
            Err(code) => return Ok(code),
        };
        show(&args, &report)?;
        passes += 1;
        let code = exit_code(&report);
        let stop = !args.watch
            || args.story.is_some()
            || args.polls.is_some_and(|n| passes >= n)
            || (report.error.is_some() && !report.retryable);
        if stop {
            return Ok(code);
        }
        std::thread::sleep(args.interval);
    }
}

/// One pass: Rally, then qTest, then a Rally test case per new linked qTest case.
/// The state is stored after each step.
fn pass(
    ctx: &Bridge<'_>,
    state: &mut BridgeState,
) -> Result<std::result::Result<PassReport, ExitCode>> {
    let args = ctx.args;
    let bridge = &ctx.config.bridge;
    let mut out = PassReport::default();
    let request = match state.rally_request(bridge, args.story.as_deref()) {
        Ok(r) => r,
        Err(e) => return Ok(Err(rally_session::usage(COMMAND, e))),
    };
    let input = serde_json::json!({"config": ctx.config, "request": request});
    let rally = match session(ctx, "rally.requirements", &input, &ctx.rally)? {
        Ok(r) => r,
        Err(code) => return Ok(Err(code)),
    };
    if failed(&mut out, &rally) {
        return Ok(Ok(out));
    }
    out.stories = state.take_rally(&rally, args.story.is_some());
    save_state(&args.state, state)?;

    let request = state.qtest_request(ctx.config.rally.url.as_deref());
    let input = serde_json::json!({"config": ctx.config, "request": request});
    let qtest = match session(ctx, "qtest.requirements", &input, &ctx.qtest)? {
        Ok(r) => r,
        Err(code) => return Ok(Err(code)),
    };
    if failed(&mut out, &qtest) {
        return Ok(Ok(out));
    }
    if let Details::QtestRequirements(q) = &qtest.details {
        out.requirements = q.requirements.clone();
    }
    state.take_qtest(&qtest);
    save_state(&args.state, state)?;
    out.since = state.since.clone();

    while let Some((case, request)) = state.next_link(bridge) {
        let input = serde_json::json!({"config": ctx.config, "request": request});
        let linked = match session(ctx, "rally.link_case", &input, &ctx.rally)? {
            Ok(r) => r,
            Err(code) => return Ok(Err(code)),
        };
        if let Some(e) = &linked.error
            && (linked.retryable || is_usage(e))
        {
            failed(&mut out, &linked);
            return Ok(Ok(out));
        }
        let taken = state.take_link(case, &linked);
        save_state(&args.state, state)?;
        if let Some(e) = &linked.error {
            // Kept in the state with the reason; the other cases go on.
            out.refused.push(Refused {
                qtest_id: case,
                error: e.clone(),
            });
            continue;
        }
        let Some(rally) = taken else {
            out.error = Some(tmbridge_core::Error::new(
                "bridge.no_test_case",
                format!("Rally gave no test case for qTest test case {case}"),
            ));
            out.retryable = true;
            return Ok(Ok(out));
        };
        save_state(&args.state, state)?;
        let c = &state.cases[&case];
        out.test_cases.push(CaseLine {
            qtest_id: case,
            qtest_pid: c.pid.clone(),
            name: c.name.clone(),
            rally,
            story: c.stories.first().cloned(),
        });
    }
    Ok(Ok(out))
}

/// Runs one session to its end.
fn session(
    ctx: &Bridge<'_>,
    kind: &str,
    input: &serde_json::Value,
    secrets: &Secrets,
) -> Result<std::result::Result<Report, ExitCode>> {
    let mut common = ctx.args.common.clone();
    // Progress lines of every step would drown the pass's own.
    common.quiet = true;
    Ok(rally_session::run(COMMAND, kind, input, secrets, &common)?.map(|o| o.report))
}

/// Notes a step's failure in the pass report; true when the pass stops here.
fn failed(out: &mut PassReport, report: &Report) -> bool {
    match &report.error {
        Some(e) => {
            out.error = Some(e.clone());
            out.retryable = report.retryable;
            true
        }
        None => false,
    }
}

/// Errors the user fixes in the configuration, the credentials or qTest's fields.
fn is_usage(e: &tmbridge_core::Error) -> bool {
    e.code.starts_with("config.")
        || matches!(
            e.code.as_str(),
            "bridge.no_such_field"
                | "rally.unauthorized"
                | "rally.invalid_key"
                | "rally.forbidden"
                | "rally.no_project_access"
                | "rally.no_workspace_access"
                | "rally.wrong_url"
                | "qtest.unauthorized"
                | "qtest.token_expired"
                | "qtest.forbidden"
                | "qtest.wrong_site"
                | "qtest.no_project_access"
        )
}

fn exit_code(report: &PassReport) -> ExitCode {
    match &report.error {
        None if report.refused.is_empty() => ExitCode::from(EXIT_OK),
        Some(e) if is_usage(e) => ExitCode::from(EXIT_USAGE),
        _ => ExitCode::from(EXIT_FAILED),
    }
}

fn show(args: &RequirementsArgs, report: &PassReport) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.common.format != Format::Table {
        serde_json::to_writer(&mut out, report)?;
        writeln!(out)?;
        return Ok(out.flush()?);
    }
    let count = |a: RequirementAction| report.requirements.iter().filter(|r| r.action == a).count();
    writeln!(
        out,
        "{} stor{} from Rally; in qTest: {} created, {} updated, {} unchanged",
        report.stories,
        if report.stories == 1 { "y" } else { "ies" },
        count(RequirementAction::Created),
        count(RequirementAction::Updated),
        count(RequirementAction::Unchanged),
    )?;
    for r in &report.requirements {
        if r.action != RequirementAction::Unchanged {
            let action = if r.action == RequirementAction::Created {
                "created"
            } else {
                "updated"
            };
            writeln!(
                out,
                "  {} {action} ({})",
                r.formatted_id,
                r.pid.as_deref().unwrap_or("?")
            )?;
        }
    }
    for c in &report.test_cases {
        writeln!(
            out,
            "  Rally test case {} on {} for qTest {} {:?}",
            c.rally,
            c.story.as_deref().unwrap_or("?"),
            c.qtest_pid.as_deref().unwrap_or("?"),
            c.name
        )?;
    }
    for r in &report.refused {
        writeln!(
            out,
            "  refused for qTest test case {}: {}",
            r.qtest_id, r.error
        )?;
    }
    if let Some(e) = &report.error {
        writeln!(out, "error: {e}")?;
        if report.retryable {
            writeln!(out, "(the next pass tries again; nothing is done twice)")?;
        }
    }
    Ok(out.flush()?)
}

fn load_state(path: &Path) -> Result<BridgeState> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{} is not a bridge state; give another --state (delete it only to start over: stories would be read again)",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BridgeState::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// A kill leaves the old or the new state.
fn save_state(path: &Path, state: &BridgeState) -> Result<()> {
    crate::atomic_file::write(path, serde_json::to_string_pretty(state)?.as_bytes())
}
