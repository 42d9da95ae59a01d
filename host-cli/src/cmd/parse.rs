//! `tmbridge parse`: read test reports (JUnit and the other formats, allure-results
//! folders) and show what is in them.

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::inputs::{Input, expand_inputs};
use crate::table::Table;
use serde::Serialize;
use std::io::{BufRead, BufWriter, Read, Write};
use std::process::ExitCode;
use tmbridge_core::junit::{self, Event, Options};
use tmbridge_core::model::{Counts, Report, TestCase};
use tmbridge_core::{Error, Warning};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table: one row per file and a total (for people).
    Summary,
    /// Every report in full, as one JSON document.
    Json,
    /// One JSON object per test case, written as the report is read.
    Ndjson,
}

/// Read test reports (JUnit XML, NUnit 2/3, xUnit.net, TRX, Robot Framework output.xml,
/// Cucumber JSON; recognised by content; and allure-results folders) and print their
/// test cases.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  tmbridge parse target/surefire-reports/TEST-*.xml
  tmbridge parse 'build/test-results/**/*.xml' --format json > results.json
  tmbridge parse --format ndjson report.xml | jq -c 'select(.status == \"failed\")'
  tmbridge parse output.xml TestResults/*.trx cucumber.json
  tmbridge parse allure-results/
  cat report.xml | tmbridge parse -

Exit codes: 0 every file was read; 1 a file could not be read or is not a
test report of a format tmbridge reads (the others are still read); 2 bad command line: a named file does not
exist or a pattern matches nothing.")]
pub struct Args {
    /// Report files, allure-results folders, glob patterns (quote them to let tmbridge
    /// expand `**`), or `-` for stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "summary")]
    pub format: Format,
    /// Longest system-out/system-err/failure text kept per element, in bytes.
    #[arg(long, default_value_t = 64 * 1024, value_name = "BYTES")]
    pub max_output_bytes: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let inputs = match expand_inputs(&args.files) {
        Ok(inputs) => inputs,
        Err(message) => {
            eprintln!("tmbridge parse: {message}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let options = Options {
        max_captured_bytes: args.max_output_bytes,
        ..Options::default()
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let failed = match args.format {
        Format::Summary => summary(&inputs, &options, &mut out)?,
        Format::Json => json(&inputs, &options, &mut out)?,
        Format::Ndjson => ndjson(&inputs, &options, &mut out)?,
    };
    out.flush()?;
    Ok(ExitCode::from(if failed { EXIT_FAILED } else { EXIT_OK }))
}

fn report_error(input: &Input, err: &Error) {
    eprintln!("error: {}: {err}", input.display());
}

fn report_warnings(input: &Input, warnings: &[Warning]) {
    for w in warnings {
        // An allure-results warning names its file and position in its message.
        let location = match input {
            Input::AllureResults(_) => None,
            _ => w.location.as_ref(),
        };
        match location {
            Some(l) => eprintln!(
                "warning: {}:{}:{}: {} [{}]",
                input.display(),
                l.line,
                l.column,
                w.message,
                w.code
            ),
            None => eprintln!("warning: {}: {} [{}]", input.display(), w.message, w.code),
        }
    }
}

struct FileSummary {
    suites: u64,
    counts: Counts,
    time_us: u64,
}

/// Streams one file, calling `on_case` for each test case; returns the totals.
fn stream(
    input: &Input,
    options: &Options,
    mut on_case: impl FnMut(&TestCase) -> anyhow::Result<()>,
) -> anyhow::Result<Result<FileSummary, Error>> {
    if let Input::AllureResults(dir) = input {
        let report = crate::allure_results::read_report(dir, options);
        return whole_report(input, report, on_case);
    }
    let reader: Box<dyn BufRead> = match input.open() {
        Ok(r) => r,
        Err(err) => {
            return Ok(Err(Error::new(
                "io.read_failed",
                format!("cannot read: {err}"),
            )));
        }
    };
    if crate::engine::is_wasm() {
        let report = read_whole(reader).and_then(|bytes| parse_report(&bytes, options));
        return whole_report(input, report, on_case);
    }
    let mut time_us = 0u64;
    let mut summary = None;
    // Read to the end of the input, past the report end, so trailing junk is an error.
    for event in junit::Reader::with_options(reader, options.clone()) {
        match event {
            Ok(Event::Case(case)) => {
                time_us = time_us.saturating_add(case.duration_us.unwrap_or(0));
                on_case(&case)?;
            }
            Ok(Event::ReportEnd(end)) => {
                report_warnings(input, &end.warnings);
                summary = Some(FileSummary {
                    suites: end.suites,
                    counts: end.counts,
                    time_us,
                });
            }
            Ok(_) => {}
            Err(err) => return Ok(Err(err)),
        }
    }
    Ok(summary
        .ok_or_else(|| Error::new("junit.internal", "the reader stopped without a report end")))
}

fn read_whole(mut reader: Box<dyn BufRead>) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|err| Error::new("io.read_failed", format!("cannot read: {err}")))?;
    Ok(bytes)
}

/// The same totals from a whole report, for engines that do not stream and for
/// allure-results folders.
fn whole_report(
    input: &Input,
    report: Result<Report, Error>,
    mut on_case: impl FnMut(&TestCase) -> anyhow::Result<()>,
) -> anyhow::Result<Result<FileSummary, Error>> {
    let report = match report {
        Ok(report) => report,
        Err(err) => return Ok(Err(err)),
    };
    let mut time_us = 0u64;
    for case in report.cases() {
        time_us = time_us.saturating_add(case.duration_us.unwrap_or(0));
        on_case(case)?;
    }
    report_warnings(input, &report.warnings);
    Ok(Ok(FileSummary {
        suites: report.suite_count(),
        counts: report.counts,
        time_us,
    }))
}

fn summary(inputs: &[Input], options: &Options, out: &mut impl Write) -> anyhow::Result<bool> {
    let mut table = Table::new(&[
        "file", "suites", "tests", "passed", "failed", "errors", "skipped", "flaky", "time",
    ]);
    let mut total = Counts::default();
    let (mut total_suites, mut total_time, mut read, mut failed) = (0u64, 0u64, 0u64, false);
    for input in inputs {
        match stream(input, options, |_| Ok(()))? {
            Ok(s) => {
                read += 1;
                total.add(&s.counts);
                total_suites += s.suites;
                total_time = total_time.saturating_add(s.time_us);
                table.row(counts_row(input.display(), s.suites, &s.counts, s.time_us));
            }
            Err(err) => {
                failed = true;
                report_error(input, &err);
                table.row(vec![
                    input.display().to_string(),
                    format!("error: {}", err.code),
                ]);
            }
        }
    }
    if inputs.len() > 1 {
        let label = format!("total ({read} of {} files read)", inputs.len());
        table.row(counts_row(&label, total_suites, &total, total_time));
    }
    table.write(out)?;
    Ok(failed)
}

fn counts_row(label: &str, suites: u64, c: &Counts, time_us: u64) -> Vec<String> {
    vec![
        label.to_string(),
        suites.to_string(),
        c.tests.to_string(),
        c.passed.to_string(),
        c.failed.to_string(),
        c.errors.to_string(),
        c.skipped.to_string(),
        c.flaky.to_string(),
        format_duration(time_us),
    ]
}

/// `1.234s`, `2m 03.5s`, `1h 02m 03s`: exact, from integer microseconds.
pub fn format_duration(us: u64) -> String {
    let ms = us / 1000;
    let (h, m, s, frac) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{m}m {s:02}.{frac:03}s")
    } else {
        format!("{s}.{frac:03}s")
    }
}

#[derive(Serialize)]
struct FileResult<'a> {
    path: String,
    report: Option<&'a Report>,
    error: Option<&'a Error>,
}

fn json(inputs: &[Input], options: &Options, out: &mut impl Write) -> anyhow::Result<bool> {
    let mut failed = false;
    out.write_all(b"[")?;
    for (i, input) in inputs.iter().enumerate() {
        let parsed = match input {
            Input::AllureResults(dir) => crate::allure_results::read_report(dir, options),
            _ => input
                .read_all()
                .map_err(|e| Error::new("io.read_failed", format!("cannot read: {e}")))
                .and_then(|bytes| parse_report(&bytes, options)),
        };
        if i > 0 {
            out.write_all(b",")?;
        }
        let (report, error) = match &parsed {
            Ok(report) => {
                report_warnings(input, &report.warnings);
                (Some(report), None)
            }
            Err(err) => {
                failed = true;
                report_error(input, err);
                (None, Some(err))
            }
        };
        let result = FileResult {
            path: input.display().to_string(),
            report,
            error,
        };
        serde_json::to_writer(&mut *out, &result)?;
    }
    out.write_all(b"]\n")?;
    Ok(failed)
}

#[derive(Serialize)]
struct CaseLine<'a> {
    report: &'a str,
    #[serde(flatten)]
    case: &'a TestCase,
}

fn ndjson(inputs: &[Input], options: &Options, out: &mut impl Write) -> anyhow::Result<bool> {
    let mut failed = false;
    for input in inputs {
        let name = input.display().to_string();
        let result = stream(input, options, |case| {
            serde_json::to_writer(
                &mut *out,
                &CaseLine {
                    report: &name,
                    case,
                },
            )?;
            out.write_all(b"\n")?;
            Ok(())
        })?;
        if let Err(err) = result {
            failed = true;
            report_error(input, &err);
        }
    }
    Ok(failed)
}

/// A whole report (the `junit.parse` op), in the selected engine.
pub fn parse_report(xml: &[u8], options: &Options) -> tmbridge_core::Result<Report> {
    crate::engine::call(
        "junit.parse",
        &serde_json::json!({ "options": options }),
        Some(xml),
    )
}

#[cfg(test)]
mod tests {
    use super::format_duration;

    #[test]
    fn durations_read_well() {
        assert_eq!(format_duration(0), "0.000s");
        assert_eq!(format_duration(1_234_567), "1.234s");
        assert_eq!(format_duration(123_500_000), "2m 03.500s");
        assert_eq!(format_duration(3_723_000_000), "1h 02m 03s");
    }
}
