//! `tmbridge map`: show the exact payloads a sync would send to Rally, qTest or
//! TestRail for some JUnit reports, and the tests that would not be published.

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::inputs::{Input, expand_inputs};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tmbridge_core::config::context::timestamp_from_unix_millis;
use tmbridge_core::config::{ArtifactInfo, Config, RefCache, RunContext, Target};
use tmbridge_core::matching::{ResultLine, ReviewItem};
use tmbridge_core::model::TestCase;
use tmbridge_core::{Error, Warning, junit, qtest, rally, testrail};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetArg {
    Rally,
    Qtest,
    Testrail,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table of results, the review list and warnings (for people).
    Summary,
    /// The whole plan: exact request bodies, review list, warnings.
    Json,
}

/// Match test results to test cases and print the payloads for a target.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  tmbridge map --target testrail --config tmbridge.toml build/test-results/*.xml
  tmbridge map --target rally --config rally.toml --var sprint=14 report.xml --format json
  tmbridge map --target qtest --config qtest.toml --refs refs.json --now 2024-05-01T10:00:00Z report.xml
  tmbridge map --target testrail --config tmbridge.toml allure-results/

Run values (pipeline, job, ref, sha) come from GitLab CI's variables (CI_PIPELINE_ID,
CI_JOB_ID, CI_JOB_NAME, CI_JOB_URL, CI_PIPELINE_URL, CI_COMMIT_REF_NAME, CI_COMMIT_SHA,
CI_PROJECT_URL); --var overrides them (pipeline_id, job_id, job_name, job_url,
pipeline_url, ref, sha, project_url, report_url, sprint) and adds {var.NAME} values.
The ref cache (--refs) is JSON: {\"rally_test_cases\": {\"TC1\": \"/testcase/1\"},
\"rally_test_sets\": {}, \"qtest_cycles\": {}, \"automation_ids\": {}}.

Exit codes: 0 the plan was printed; 1 a report could not be read (or, with --strict,
a test is on the review list); 2 bad command line (a named file does not exist, a
pattern matches nothing) or configuration.")]
pub struct Args {
    /// The test-management system.
    #[arg(long, value_enum)]
    pub target: TargetArg,
    /// Configuration file: TOML (or JSON when it ends in .json).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Test reports (JUnit, NUnit, xUnit.net, TRX, Robot Framework, Cucumber JSON): files,
    /// allure-results folders, glob patterns, or `-` for stdin.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "summary")]
    pub format: Format,
    /// A run value, KEY=VALUE (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub vars: Vec<String>,
    /// Ids already looked up on the target (JSON ref cache).
    #[arg(long, value_name = "FILE")]
    pub refs: Option<PathBuf>,
    /// The run time (RFC 3339) instead of the clock.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Exit with 1 when a test is on the review list.
    #[arg(long)]
    pub strict: bool,
    /// Most test cases of all reports together: the plan holds them all in memory
    /// (about 2 KB each); past it `map` stops with an error.
    #[arg(long, value_name = "N", default_value_t = tmbridge_core::junit::MAX_MAPPED_CASES)]
    pub max_cases: usize,
}

impl TargetArg {
    fn target(self) -> Target {
        match self {
            TargetArg::Rally => Target::Rally,
            TargetArg::Qtest => Target::Qtest,
            TargetArg::Testrail => Target::Testrail,
        }
    }
}

/// What every target's plan has, for the summary.
struct Overview<'a> {
    title: String,
    details: Vec<String>,
    summary: &'a [ResultLine],
    review: &'a [ReviewItem],
    warnings: &'a [Warning],
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let target = args.target.target();
    let config = match crate::run_context::load_config(&args.config) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("tmbridge map: {message}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    if let Err(e) = config.validate(Some(target)) {
        eprintln!("tmbridge map: {}: {e}", args.config.display());
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let cache = match &args.refs {
        Some(path) => match load_refs(path) {
            Ok(c) => c,
            Err(message) => {
                eprintln!("tmbridge map: {message}");
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        },
        None => RefCache::default(),
    };
    let inputs = match expand_inputs(&args.reports) {
        Ok(i) => i,
        Err(message) => {
            eprintln!("tmbridge map: {message}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let mut cases: Vec<TestCase> = Vec::new();
    let mut artifacts: Vec<ArtifactInfo> = Vec::new();
    for input in &inputs {
        let (read, warnings) = match read_cases(input, args.max_cases - cases.len()) {
            Ok(r) => r,
            Err(e) if e.code == "junit.too_many_cases" => {
                eprintln!(
                    "error: {}: the reports hold more than {} test cases, the most `map` keeps in memory [junit.too_many_cases]\n  hint: map them in parts, or raise --max-cases",
                    input.display(),
                    args.max_cases
                );
                return Ok(ExitCode::from(EXIT_FAILED));
            }
            Err(e) => {
                eprintln!("error: {}: {e}", input.display());
                return Ok(ExitCode::from(EXIT_FAILED));
            }
        };
        for w in &warnings {
            eprintln!("warning: {}: {} [{}]", input.display(), w.message, w.code);
        }
        let base = match input {
            Input::File(p) => p.parent().map(Path::to_path_buf),
            // Allure attachments are files of the results folder.
            Input::AllureResults(dir) => Some(dir.clone()),
            Input::Stdin => None,
        };
        for case in &read {
            for path in &case.attachments {
                if !artifacts.iter().any(|a| &a.path == path) {
                    artifacts.push(artifact(path, base.as_deref()));
                }
            }
        }
        cases.extend(read);
    }
    let ctx = match run_context(&args, artifacts) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("tmbridge map: {message}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = match target {
        Target::Rally => plan(target, &config, &cases, &ctx, &cache, rally::payload::plan)
            .map(|p| print(&mut out, args.format, &p, rally_overview(&p))),
        Target::Qtest => plan(target, &config, &cases, &ctx, &cache, qtest::plan)
            .map(|p| print(&mut out, args.format, &p, qtest_overview(&p))),
        Target::Testrail => plan(target, &config, &cases, &ctx, &cache, testrail::plan)
            .map(|p| print(&mut out, args.format, &p, testrail_overview(&p))),
    };
    let review_count = match result {
        Ok(printed) => printed?,
        Err(e) => {
            eprintln!("tmbridge map: {e}");
            let usage = ["config.", "template.", "context."]
                .iter()
                .any(|p| e.code.starts_with(p));
            return Ok(ExitCode::from(if usage { EXIT_USAGE } else { EXIT_FAILED }));
        }
    };
    out.flush()?;
    Ok(ExitCode::from(if args.strict && review_count > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }))
}

/// The cases of one report. The native core streams them from the file, keeping only
/// what mapping reads (memory grows with the cases, not with the report's size or
/// its captured output); the WebAssembly core reads the whole report, and an
/// allure-results folder is read whole by either.
fn read_cases(input: &Input, limit: usize) -> Result<(Vec<TestCase>, Vec<Warning>), Error> {
    let io_error = |e: std::io::Error| Error::new("io.read_failed", format!("cannot read: {e}"));
    let allure = match input {
        Input::AllureResults(dir) => Some(dir),
        _ => None,
    };
    if crate::engine::is_wasm() || allure.is_some() {
        let report = match allure {
            Some(dir) => crate::allure_results::read_report(dir, &Default::default())?,
            None => {
                let bytes = input.read_all().map_err(io_error)?;
                crate::cmd::parse::parse_report(&bytes, &Default::default())?
            }
        };
        let cases: Vec<TestCase> = report.cases().into_iter().cloned().collect();
        if cases.len() > limit {
            return Err(Error::new(
                "junit.too_many_cases",
                format!(
                    "more than {limit} test cases: mapping keeps every case of a run in memory"
                ),
            )
            .with_hint("map the reports in parts (a few files at a time), or raise --max-cases"));
        }
        return Ok((cases, report.warnings));
    }
    junit::cases_for_mapping(input.open().map_err(io_error)?, limit)
}

fn load_refs(path: &Path) -> Result<RefCache, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: not a ref cache: {e}", path.display()))
}

/// Size of an attachment, looked up next to its report first, then from the
/// working directory.
fn artifact(path: &str, base: Option<&Path>) -> ArtifactInfo {
    let p = Path::new(path);
    let candidates: Vec<PathBuf> = if p.is_absolute() {
        vec![p.to_path_buf()]
    } else {
        base.map(|b| b.join(p))
            .into_iter()
            .chain([p.to_path_buf()])
            .collect()
    };
    let size = candidates.iter().find_map(|c| {
        std::fs::metadata(c)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    });
    ArtifactInfo {
        path: path.to_string(),
        size,
        content_type: None,
        url: None,
    }
}

fn run_context(args: &Args, artifacts: Vec<ArtifactInfo>) -> Result<RunContext, String> {
    let now = match &args.now {
        Some(t) => t.clone(),
        None => {
            let ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|e| format!("the clock is before 1970: {e}"))?
                .as_millis();
            timestamp_from_unix_millis(i64::try_from(ms).unwrap_or(i64::MAX))
                .map_err(|e| e.to_string())?
        }
    };
    let mut ctx = crate::run_context::from_ci_and_vars(now, &args.vars)?;
    ctx.artifacts = artifacts;
    Ok(ctx)
}

/// Prints the plan; returns how many tests are on the review list.
fn print<T: serde::Serialize>(
    out: &mut impl Write,
    format: Format,
    plan: &T,
    overview: Overview<'_>,
) -> anyhow::Result<usize> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, plan)?;
            writeln!(out)?;
            for w in overview.warnings {
                eprintln!("warning: {} [{}]", w.message, w.code);
            }
        }
        Format::Summary => write_summary(out, &overview)?,
    }
    Ok(overview.review.len())
}

fn write_summary(out: &mut impl Write, o: &Overview<'_>) -> anyhow::Result<()> {
    writeln!(out, "{}", o.title)?;
    for d in &o.details {
        writeln!(out, "  {d}")?;
    }
    writeln!(out)?;
    if o.summary.is_empty() {
        writeln!(out, "No test matched a test case.")?;
    } else {
        let mut rows = vec![[
            "case".to_string(),
            "status".into(),
            "sent as".into(),
            "tests".into(),
        ]];
        for line in o.summary {
            let tests = match line.tests.as_slice() {
                [one] if *one == line.key => "(same)".to_string(),
                [one] => one.clone(),
                [first, rest @ ..] => format!("{first} (+{} more)", rest.len()),
                [] => String::new(),
            };
            rows.push([
                line.key.clone(),
                line.status.as_str().to_string(),
                line.target_status.clone(),
                tests,
            ]);
        }
        write_rows(out, &rows)?;
    }
    if !o.review.is_empty() {
        writeln!(out)?;
        writeln!(out, "To review ({} not published):", o.review.len())?;
        for r in o.review {
            let reason = serde_json::to_value(r.reason)?;
            writeln!(
                out,
                "  {} [{}] {}: {}",
                r.test,
                r.status.as_str(),
                reason.as_str().unwrap_or("?"),
                r.detail
            )?;
        }
    }
    if !o.warnings.is_empty() {
        writeln!(out)?;
        writeln!(out, "Warnings:")?;
        for w in o.warnings {
            writeln!(out, "  {} [{}]", w.message, w.code)?;
        }
    }
    Ok(())
}

/// Left-aligned columns: the cells are names, not numbers.
fn write_rows(out: &mut impl Write, rows: &[[String; 4]]) -> std::io::Result<()> {
    let mut widths = [0usize; 4];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn rally_overview(p: &rally::payload::RallyPlan) -> Overview<'_> {
    let uploads: usize = p.results.iter().map(|r| r.attachments.uploads.len()).sum();
    let links: usize = p.results.iter().map(|r| r.attachments.links.len()).sum();
    let mut details = vec![format!(
        "{}, {} to upload, {} linked from Notes",
        count(
            p.results.len(),
            "TestCaseResult ready",
            "TestCaseResults ready"
        ),
        count(uploads, "attachment", "attachments"),
        count(links, "artifact", "artifacts"),
    )];
    if let Some(set) = &p.test_set {
        details.push(match &set.reference {
            Some(r) => format!("test set {} ({r})", set.name),
            None => format!("test set {} (to be created)", set.name),
        });
    }
    if !p.lookups.is_empty() {
        details.push(format!(
            "waiting for a ref lookup: {}",
            p.lookups.join(", ")
        ));
    }
    Overview {
        title: "Rally".into(),
        details,
        summary: &p.summary,
        review: &p.review,
        warnings: &p.warnings,
    }
}

fn qtest_overview(p: &qtest::QtestPlan) -> Overview<'_> {
    let cycle = match &p.cycle.id {
        Some(id) => format!(
            "test cycle {} ({id}) under {}",
            p.cycle.name, p.cycle.parent
        ),
        None => format!(
            "test cycle {} (to be created under {})",
            p.cycle.name, p.cycle.parent
        ),
    };
    Overview {
        title: "qTest".into(),
        details: vec![
            count(p.body.test_logs.len(), "test log", "test logs"),
            cycle,
        ],
        summary: &p.summary,
        review: &p.review,
        warnings: &p.warnings,
    }
}

fn testrail_overview(p: &testrail::TestrailPlan) -> Overview<'_> {
    let results = p
        .add_results_for_cases
        .as_ref()
        .map_or(0, |a| a.results.len());
    let run = match p.run_id {
        Some(r) => format!("run R{r}"),
        None => "a new run".into(),
    };
    let mut details = vec![format!("{} for {run}", count(results, "result", "results"))];
    if !p.add_cases.is_empty() {
        let section = p
            .section_id
            .map(|s| format!(" in section {s}"))
            .unwrap_or_default();
        details.push(format!(
            "{} to create{section}:",
            count(p.add_cases.len(), "case", "cases")
        ));
        for c in &p.add_cases {
            details.push(format!("  {}", c.automation_id));
        }
    }
    if !p.enabled {
        details.push("export disabled: nothing is sent".into());
    }
    Overview {
        title: "TestRail".into(),
        details,
        summary: &p.summary,
        review: &p.review,
        warnings: &p.warnings,
    }
}

/// The payloads for one target: the `map` op in the WebAssembly engine; natively the
/// planner itself, because the op's JSON round trip would hold every case twice more
/// (a large report must map in memory that grows with its cases only).
fn plan<P: serde::de::DeserializeOwned>(
    target: Target,
    config: &Config,
    cases: &[TestCase],
    context: &RunContext,
    refs: &RefCache,
    native: fn(&Config, &[TestCase], &RunContext, &RefCache) -> tmbridge_core::Result<P>,
) -> tmbridge_core::Result<P> {
    if !crate::engine::is_wasm() {
        return native(config, cases, context, refs);
    }
    #[derive(serde::Serialize)]
    struct MapInput<'a> {
        target: Target,
        config: &'a Config,
        cases: &'a [TestCase],
        context: &'a RunContext,
        refs: &'a RefCache,
    }
    let input = MapInput {
        target,
        config,
        cases,
        context,
        refs,
    };
    crate::engine::call("map", &input, None)
}
