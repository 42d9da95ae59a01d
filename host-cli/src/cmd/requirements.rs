//! `tmbridge requirements import`: user stories from Rally by a query (normalised
//! first), once or watched: `--watch` polls from a persisted cursor and appends each
//! change to the output exactly once, even when the process is killed.

use super::rally_session::{self, Common, Format, TargetArg};
use crate::table::Table;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tmbridge_core::sync::rally::{Details, Requirement};

/// Import user stories from Rally.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    Import(ImportArgs),
}

/// Import user stories by a Rally query, once or as a watch of changes.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  tmbridge requirements import --target rally --config tmbridge.toml \\
      --query '(Iteration.Name = \"Sprint 14\")' --fields ScheduleState,PlanEstimate
  tmbridge requirements import --target rally --config tmbridge.toml --format ndjson \\
      --query '(LastUpdateDate >= 2024-05-01)' --tz Europe/Berlin
  tmbridge requirements import --target rally --config tmbridge.toml --watch --interval 2m \\
      --state .tmbridge/stories.json --out stories.ndjson

The query is checked and normalised before it is sent (UTC timestamps, names to the
fields Rally knows, correct nesting); a query Rally would refuse fails here with the
reason and its position. Only FormattedID, Name, Project, LastUpdateDate and the
fields given with --fields are fetched.

--watch polls Rally every --interval for stories changed since the last poll. The
cursor and the length of --out are stored in --state after each poll; a watch killed
at any moment and started again with the same --state and --out neither misses nor
repeats a change (lines written after the last stored cursor are cut and fetched
again).

Exit codes: 0 imported; 1 Rally failed or refused the query; 2 bad command line,
configuration or credentials.")]
pub struct ImportArgs {
    /// The test-management system.
    #[arg(long, value_enum)]
    pub target: TargetArg,
    #[command(flatten)]
    pub common: Common,
    /// A Rally query, as people write it: it is normalised before it is sent.
    #[arg(long, value_name = "QUERY")]
    pub query: Option<String>,
    /// A project ref (repeatable); the configured project when none is given.
    #[arg(long = "project", value_name = "REF")]
    pub projects: Vec<String>,
    /// More fields to fetch, comma-separated (the active fields of the form).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub fields: Vec<String>,
    /// Only stories changed after this time (RFC 3339, or a date in --tz).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// IANA zone of dates written without one, in --query and --since.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Keep polling for changes.
    #[arg(long)]
    pub watch: bool,
    /// Time between two polls of --watch: 90s, 2m, 1h.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_interval)]
    pub interval: Duration,
    /// Where --watch keeps its cursor.
    #[arg(
        long,
        value_name = "FILE",
        default_value = ".tmbridge/requirements-watch.json"
    )]
    pub state: PathBuf,
    /// Append the stories (NDJSON) to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Stop --watch after this many polls (for scripts and tests).
    #[arg(long, value_name = "N", hide = true)]
    pub polls: Option<u64>,
}

/// `90s`, `2m`, `1h 30m`, `500ms`: any duration humantime reads, at least 100 ms.
pub(crate) fn parse_interval(text: &str) -> std::result::Result<Duration, String> {
    let interval = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration like 90s, 2m or 1h: {e}"))?;
    if interval < Duration::from_millis(100) {
        return Err("the interval must be at least 100ms".into());
    }
    Ok(interval)
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.command {
        Command::Import(args) => import(args),
    }
}

/// What --watch keeps between polls.
#[derive(Debug, Default, Serialize, Deserialize)]
struct WatchState {
    /// `since` of the next poll.
    next_since: Option<String>,
    /// Bytes of --out that hold only stories of finished polls.
    out_len: u64,
}

fn import(args: ImportArgs) -> Result<ExitCode> {
    let command = "requirements import";
    let (config, secrets) = match rally_session::prepare(command, &args.common) {
        Ok(prepared) => prepared,
        Err(code) => return Ok(code),
    };
    let request = |since: Option<String>| {
        serde_json::json!({
            "config": config,
            "request": {
                "projects": args.projects,
                "query": args.query,
                "fields": args.fields,
                "since": since,
                "time_zone": args.tz,
            }
        })
    };
    if !args.watch {
        let outcome = match rally_session::run(
            command,
            "rally.requirements",
            &request(args.since.clone()),
            &secrets,
            &args.common,
        )? {
            Ok(o) => o,
            Err(code) => return Ok(code),
        };
        print_once(&args, &outcome)?;
        return Ok(rally_session::exit_code(&outcome.report));
    }
    if args.common.dry_run {
        return Ok(rally_session::usage(
            command,
            "--watch cannot be a dry run: run once with --dry-run to see the requests",
        ));
    }
    let mut state = load_state(&args.state)?;
    if state.next_since.is_none() {
        state.next_since = args.since.clone();
    }
    let mut polls = 0u64;
    loop {
        if let Some(out) = &args.out {
            cut_to(out, state.out_len)?;
        }
        let outcome = match rally_session::run(
            command,
            "rally.requirements",
            &request(state.next_since.clone()),
            &secrets,
            &args.common,
        )? {
            Ok(o) => o,
            Err(code) => return Ok(code),
        };
        if let Some(e) = &outcome.report.error {
            eprintln!("tmbridge {command}: {e}");
            if !outcome.report.retryable {
                return Ok(rally_session::exit_code(&outcome.report));
            }
        } else if let Details::Requirements(found) = &outcome.report.details {
            let out_len = append(args.out.as_deref(), &found.requirements)?;
            state.out_len = out_len.unwrap_or(state.out_len);
            state.next_since = found.next_since.clone().or(state.next_since.take());
            save_state(&args.state, &state)?;
            if !args.common.quiet && !found.requirements.is_empty() {
                eprintln!(
                    "tmbridge: {} changed stor{} since {}",
                    found.requirements.len(),
                    if found.requirements.len() == 1 {
                        "y"
                    } else {
                        "ies"
                    },
                    state.next_since.as_deref().unwrap_or("the start")
                );
            }
        }
        polls += 1;
        if args.polls.is_some_and(|n| polls >= n) {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(args.interval);
    }
}

fn print_once(args: &ImportArgs, outcome: &rally_session::Outcome) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let found = match &outcome.report.details {
        Details::Requirements(found) => Some(found),
        _ => None,
    };
    if args.common.format == Format::Ndjson {
        if let Some(found) = found {
            match &args.out {
                Some(path) => {
                    append(Some(path), &found.requirements)?;
                }
                None => {
                    for story in &found.requirements {
                        serde_json::to_writer(&mut out, story)?;
                        writeln!(out)?;
                    }
                }
            }
        }
        out.flush()?;
        if outcome.report.error.is_some() {
            rally_session::write_error(&mut std::io::stderr(), &outcome.report)?;
        }
        return Ok(());
    }
    match args.common.format {
        Format::Json | Format::Ndjson => rally_session::write_json(&mut out, outcome)?,
        Format::Table => {
            if args.common.dry_run {
                rally_session::write_requests(&mut out, &outcome.requests)?;
            }
            if let Some(found) = found {
                if let Some(q) = &found.query {
                    writeln!(out, "query: {q}")?;
                }
                let mut extra: Vec<&String> = found
                    .requirements
                    .iter()
                    .flat_map(|r| r.fields.keys())
                    .collect();
                extra.sort();
                extra.dedup();
                let mut header = vec!["FormattedID", "Name", "LastUpdateDate"];
                header.extend(extra.iter().map(|s| s.as_str()));
                let mut table = Table::new(&header);
                for r in &found.requirements {
                    let mut row = vec![
                        r.formatted_id.clone().unwrap_or_default(),
                        r.name.clone().unwrap_or_default(),
                        r.last_update_date.clone().unwrap_or_default(),
                    ];
                    row.extend(
                        extra
                            .iter()
                            .map(|f| r.fields.get(*f).cloned().unwrap_or_default()),
                    );
                    table.row(row);
                }
                table.write(&mut out)?;
                writeln!(
                    out,
                    "{} stor{}",
                    found.requirements.len(),
                    if found.requirements.len() == 1 {
                        "y"
                    } else {
                        "ies"
                    }
                )?;
            }
            rally_session::write_error(&mut out, &outcome.report)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Appends one line per story; returns the file's new length (None for stdout).
fn append(path: Option<&Path>, stories: &[Requirement]) -> Result<Option<u64>> {
    let mut text = Vec::new();
    for story in stories {
        serde_json::to_writer(&mut text, story)?;
        text.push(b'\n');
    }
    let Some(path) = path else {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        out.write_all(&text)?;
        out.flush()?;
        return Ok(None);
    };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.write_all(&text)?;
    // On disk before the cursor moves past these stories.
    file.sync_data()?;
    Ok(Some(file.metadata()?.len()))
}

/// Cuts what a killed poll appended after the last stored cursor.
fn cut_to(path: &Path, len: u64) -> Result<()> {
    let Ok(file) = OpenOptions::new().write(true).open(path) else {
        return Ok(());
    };
    if file.metadata()?.len() > len {
        file.set_len(len)?;
        file.sync_data()?;
    }
    Ok(())
}

fn load_state(path: &Path) -> Result<WatchState> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{} is not a requirements watch state; delete it to start from --since",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(WatchState::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// A kill leaves the old or the new state.
fn save_state(path: &Path, state: &WatchState) -> Result<()> {
    crate::atomic_file::write(path, serde_json::to_string(state)?.as_bytes())
}
