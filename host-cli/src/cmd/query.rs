//! `tmbridge query`: check a Rally query, normalise it into the form Rally's WSAPI
//! accepts, or build the requirement poll query.

use super::{EXIT_FAILED, EXIT_OK};
use anyhow::Context;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tmbridge_core::error::Location;
use tmbridge_core::rally::query::{
    self, Change, CheckOutput, Diagnostic, FieldList, LookupNeed, NormalizeOutput, Options,
    Severity,
};

/// Check and normalise Rally queries
#[derive(clap::Args)]
#[command(
    about = "Check and normalise Rally (WSAPI v2.0) queries",
    long_about = "Check and normalise Rally (WSAPI v2.0) queries.\n\n\
Accepts what people paste: A AND B AND C, missing parentheses, Name=\"x\", display names \
such as Creation Date, dates such as 2013-Dec-31 or 12/31/2013, the \"Sorted by\" tail of a \
custom view. Prints the nested form Rally requires, and says why Rally would refuse the rest.",
    after_help = "Examples:\n  \
tmbridge query check '(Name contains US) AND (Creation Date >= 2013-Dec-31)'\n  \
tmbridge query normalize 'Release = \"R1\"' --lookups releases.json --project Payments\n  \
tmbridge query normalize - --fields defect-attributes.json --tz Europe/Berlin < query.txt\n  \
tmbridge query check \"$(cat query.txt)\" --format json\n  \
tmbridge query poll '(ScheduleState = Defined)' --since 2024-05-01T10:00:00Z"
)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Say whether Rally accepts a query, what is wrong and where, and how tmbridge would fix it
    #[command(
        after_help = "Exit status: 0 when the query can be sent (maybe after normalising), 1 when Rally would refuse it, 2 for a bad command line or file."
    )]
    Check(QueryArgs),
    /// Print the query in the form Rally accepts (the query alone on standard output)
    #[command(
        after_help = "Exit status: 0 when done, 1 when the query is refused or a Release/Iteration id is missing (see --lookups), 2 for a bad command line or file."
    )]
    Normalize(QueryArgs),
    /// Build the requirement poll query: QUERY AND (LastUpdateDate > SINCE)
    Poll(PollArgs),
}

#[derive(clap::Args)]
struct QueryArgs {
    /// The query, or - to read it from standard input
    query: String,
    #[command(flatten)]
    inputs: Inputs,
}

#[derive(clap::Args)]
struct PollArgs {
    /// The user's query for user stories (may be empty), or - for standard input
    #[arg(default_value = "")]
    query: String,
    /// Time of the previous poll, e.g. 2024-05-01T10:00:00Z
    #[arg(long, value_name = "TIME")]
    since: String,
    #[command(flatten)]
    inputs: Inputs,
}

#[derive(clap::Args)]
struct Inputs {
    /// Attribute metadata of the queried type, as Rally returns it (JSON of
    /// /typedefinition with fetch=Attributes, or of a type's Attributes collection)
    #[arg(long, value_name = "FILE")]
    fields: Option<PathBuf>,
    /// Release and Iteration ids: Rally's QueryResult for /release or /iteration, or
    /// a JSON array of {"kind", "project", "name", "object_id"}
    #[arg(long, value_name = "FILE")]
    lookups: Option<PathBuf>,
    /// IANA time zone of dates written without one
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    tz: String,
    /// Project the Release and Iteration names belong to
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
    /// Output for people (text) or scripts (json)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::Check(a) => check(a),
        Action::Normalize(a) => normalize(a),
        Action::Poll(a) => poll(a),
    }
}

fn read_query(arg: &str) -> anyhow::Result<String> {
    if arg != "-" {
        return Ok(arg.to_string());
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the query from standard input")?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn options(c: &Inputs) -> anyhow::Result<Options> {
    let fields = match &c.fields {
        Some(path) => Some(
            FieldList::from_json_bytes(&read_file(path)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        ),
        None => None,
    };
    let lookups = match &c.lookups {
        Some(path) => query::parse_lookups(&read_file(path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => Vec::new(),
    };
    if !query::is_time_zone(&c.tz) {
        anyhow::bail!(
            "'{}' is not an IANA time zone; name one such as UTC, Europe/Berlin or America/New_York",
            c.tz
        );
    }
    Ok(Options {
        time_zone: Some(c.tz.clone()),
        fields,
        lookups,
        project: c.project.clone(),
    })
}

fn exit(code: u8) -> ExitCode {
    ExitCode::from(code)
}

fn check(a: QueryArgs) -> anyhow::Result<ExitCode> {
    let text = read_query(&a.query)?;
    let opts = options(&a.inputs)?;
    let out = check_query(&text, &opts)?;
    if a.inputs.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", check_report(&text, &out));
    }
    Ok(exit(if out.valid { EXIT_OK } else { EXIT_FAILED }))
}

fn normalize(a: QueryArgs) -> anyhow::Result<ExitCode> {
    let text = read_query(&a.query)?;
    let opts = options(&a.inputs)?;
    let result = crate::engine::call(
        "rally_query.normalize",
        &serde_json::json!({"query": &text, "options": &opts}),
        None,
    );
    if result.is_err() && a.inputs.format == Format::Text {
        return Ok(refused(&text, &check_query(&text, &opts)?));
    }
    finish(&text, result, a.inputs.format)
}

fn poll(a: PollArgs) -> anyhow::Result<ExitCode> {
    let text = read_query(&a.query)?;
    let opts = options(&a.inputs)?;
    let result = crate::engine::call(
        "rally_query.poll",
        &serde_json::json!({"query": &text, "since": &a.since, "options": &opts}),
        None,
    );
    if let (Err(e), Format::Text) = (&result, a.inputs.format) {
        if e.code == "rally_query.invalid_since" {
            anyhow::bail!("--since: {e}");
        }
        return Ok(refused(&text, &check_query(&text, &opts)?));
    }
    finish(&text, result, a.inputs.format)
}

/// Every reason Rally would refuse the query, on standard error.
fn refused(text: &str, out: &CheckOutput) -> ExitCode {
    let mut report =
        String::from("Rally would refuse this query, and tmbridge cannot repair it:\n");
    let errors: Vec<Diagnostic> = out
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    push_diagnostics(&mut report, text, &errors);
    eprint!("{report}");
    exit(EXIT_FAILED)
}

/// Prints a normalisation: the query on standard output and the account on
/// standard error (text), or everything as JSON.
fn finish(
    text: &str,
    result: tmbridge_core::Result<NormalizeOutput>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let out = match (result, format) {
        (Ok(out), _) => out,
        (Err(e), _) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "error": e }))?
            );
            return Ok(exit(EXIT_FAILED));
        }
    };
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{}", out.query);
        let mut report = String::new();
        if let Some(order) = &out.order {
            report.push_str(&format!("order: {order}\n"));
        }
        push_changes(&mut report, &out.changes);
        push_diagnostics(&mut report, text, &out.warnings);
        push_needs(&mut report, &out.needs);
        eprint!("{report}");
    }
    Ok(exit(if out.complete { EXIT_OK } else { EXIT_FAILED }))
}

fn check_report(text: &str, out: &CheckOutput) -> String {
    let mut s = String::new();
    let errors: Vec<Diagnostic> = out
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    let warnings: Vec<Diagnostic> = out
        .diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .cloned()
        .collect();
    match (&out.canonical, out.unchanged) {
        (None, _) => {
            let n = errors.len();
            s.push_str(&format!(
                "refused: Rally would not accept this query ({n} {})\n",
                if n == 1 { "problem" } else { "problems" }
            ));
        }
        (Some(_), true) => s.push_str("ok: Rally accepts this query as written\n"),
        (Some(canonical), false) => {
            s.push_str("fixable: Rally would refuse this query as written; `tmbridge query normalize` gives\n");
            s.push_str(&format!("  {canonical}\n"));
        }
    }
    if let Some(order) = &out.order {
        s.push_str(&format!("order: {order}\n"));
    }
    if !errors.is_empty() {
        push_diagnostics(&mut s, text, &errors);
    }
    if !out.changes.is_empty() {
        push_changes(&mut s, &out.changes);
    }
    push_diagnostics(&mut s, text, &warnings);
    push_needs(&mut s, &out.needs);
    s
}

fn position(loc: Option<Location>) -> String {
    loc.map(|l| format!("line {}, column {}", l.line, l.column))
        .unwrap_or_else(|| "query".to_string())
}

fn push_changes(s: &mut String, changes: &[Change]) {
    if changes.is_empty() {
        return;
    }
    s.push_str("changes:\n");
    for c in changes {
        s.push_str(&format!("  {}: {}\n", position(c.location), c.message));
        // Long rewrites (a whole query) are clear from the output; keep the list short.
        if c.before.chars().count() <= 70 {
            let after = if c.after.is_empty() {
                "(removed)"
            } else {
                c.after.as_str()
            };
            s.push_str(&format!("    {}  ->  {after}\n", c.before));
        }
    }
}

fn push_diagnostics(s: &mut String, text: &str, diags: &[Diagnostic]) {
    for d in diags {
        push_diagnostic(s, text, d);
    }
}

/// `error: <core Display>`, then the line of the query with the spot underlined.
fn push_diagnostic(s: &mut String, text: &str, d: &Diagnostic) {
    let label = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    s.push_str(&format!("{label}: {}\n", d.to_error()));
    let Some(loc) = d.location else {
        return;
    };
    let Some(line) = text
        .lines()
        .nth(usize::try_from(loc.line.saturating_sub(1)).unwrap_or(0))
    else {
        return;
    };
    let col = usize::try_from(loc.column.saturating_sub(1)).unwrap_or(0);
    let width = match d.end {
        Some(end) if end.line == loc.line && end.column > loc.column => {
            usize::try_from(end.column - loc.column).unwrap_or(1)
        }
        _ => 1,
    };
    // Shown without the characters a terminal would obey or hide: one visible
    // character each, so the underline stays under the right spot.
    let line: String = line
        .chars()
        .map(|c| match c {
            '\t' => ' ',
            c if tmbridge_core::controls::is_forbidden(c) => '\u{FFFD}',
            c => c,
        })
        .collect();
    s.push_str(&format!(
        "    {line}\n    {}{}\n",
        " ".repeat(col),
        "^".repeat(width)
    ));
}

fn push_needs(s: &mut String, needs: &[LookupNeed]) {
    if needs.is_empty() {
        return;
    }
    s.push_str(
        "needs: ObjectIDs tmbridge does not know yet (fetch them and pass --lookups FILE):\n",
    );
    for n in needs {
        let kind = match n.kind {
            query::LookupKind::Release => "release",
            query::LookupKind::Iteration => "iteration",
        };
        let project = n
            .project
            .as_deref()
            .map(|p| format!(" in project {p}"))
            .unwrap_or_default();
        s.push_str(&format!(
            "  {kind} \"{}\"{project}: GET /{kind}?query=(Name = \"{}\")&fetch=Name,ObjectID,Project\n",
            n.name,
            n.name.replace('"', "\\\"")
        ));
    }
}

/// Why a query is refused, position by position (`rally_query.check`).
fn check_query(text: &str, options: &query::Options) -> tmbridge_core::Result<CheckOutput> {
    crate::engine::call(
        "rally_query.check",
        &serde_json::json!({"query": text, "options": options}),
        None,
    )
}
