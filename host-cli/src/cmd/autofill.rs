//! `tmbridge autofill`: fill a Rally defect form from a failed test run and print
//! the form, the problems and the create payload.

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::config_text;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tmbridge_core::autofill::{self, FillOutput, FilledBy, RunContext, Settings, Severity};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The form, the problems and the payload, for people.
    Text,
    /// Everything as one JSON document (fields, problems, payload, ready).
    Json,
}

/// Fill a Rally defect form from a failed test run.
///
/// The schema is Rally's type metadata as fetched (the Defect TypeDefinition with
/// its Attributes, e.g. `typedefinition?query=(ElementName = Defect)&fetch=true`).
/// The settings hide, order and add fields, and hold the rules, defaults and value
/// maps. The run holds the test run, its test case and the test log (qTest field
/// names are accepted).
#[derive(clap::Args)]
#[command(after_help = r#"Examples:
  tmbridge autofill --schema defect-typedef.json --settings form.json --run failed-run.json
  tmbridge autofill --schema defect-typedef.json --settings form.toml --run failed-run.json --format json | jq .payload
  tmbridge autofill --list-sources

A rule in the settings (JSON):
  {"field": "Name", "template": "{test_case.name}{failing_step.actual|first_line|prefix(\": \")}"}
  {"field": "Severity", "template": "{test_run.properties.Severity}", "map": "qtest-severity"}
Templates: {source} inserts a source; {{ and }} are literal braces; filters after |:
prefix("..") suffix("..") default("..") join("..") each("..") first_line trim upper lower.

Exit codes: 0 the form is ready to submit; 1 the form has errors (a required field
is empty, a value is not allowed) or the schema or run file is not valid; 2 bad
command line, unreadable file or invalid settings."#)]
pub struct Args {
    /// Rally type metadata (TypeDefinition with Attributes), or a saved schema.
    #[arg(long, value_name = "FILE", required_unless_present = "list_sources")]
    pub schema: Option<PathBuf>,
    /// Form settings as JSON (or TOML when the name ends in .toml); none: defaults only.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// The failed run as JSON: test_run, test_case, test_log.
    #[arg(long, value_name = "FILE", required_unless_present = "list_sources")]
    pub run: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Print the sources a template can name, and exit.
    #[arg(long)]
    pub list_sources: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.list_sources {
        list_sources(&mut out, args.format)?;
        out.flush()?;
        return Ok(ExitCode::from(EXIT_OK));
    }
    let (Some(schema_path), Some(run_path)) = (args.schema.as_deref(), args.run.as_deref()) else {
        eprintln!("tmbridge autofill: --schema and --run are required");
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let Some(schema_bytes) = read(schema_path) else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let schema = match crate::engine::call::<tmbridge_core::autofill::Schema>(
        "autofill.schema",
        &serde_json::json!({}),
        Some(&schema_bytes),
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "error: {}: {}",
                config_text::shown_path(schema_path),
                config_text::shown(&e.to_string())
            );
            return Ok(ExitCode::from(EXIT_FAILED));
        }
    };
    let settings = match args.settings.as_deref() {
        None => Settings::default(),
        Some(path) => {
            let Some(bytes) = read(path) else {
                return Ok(ExitCode::from(EXIT_USAGE));
            };
            match parse_settings(path, &bytes) {
                Ok(s) => s,
                Err(message) => {
                    eprintln!("error: {message}");
                    return Ok(ExitCode::from(EXIT_USAGE));
                }
            }
        }
    };
    let Some(run_bytes) = read(run_path) else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let ctx: RunContext = match serde_json::from_slice(&run_bytes) {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "error: {}: the run is not valid JSON for a run: {}",
                config_text::shown_path(run_path),
                config_text::shown(&e.to_string())
            );
            return Ok(ExitCode::from(EXIT_FAILED));
        }
    };
    let output = match crate::engine::call::<tmbridge_core::autofill::FillOutput>(
        "autofill.fill",
        &serde_json::json!({"schema": &schema, "settings": &settings, "run": &ctx}),
        None,
    ) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {}", config_text::shown(&e.to_string()));
            return Ok(ExitCode::from(EXIT_FAILED));
        }
    };
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &output)?;
            writeln!(out)?;
        }
        Format::Text => print_text(&mut out, &output)?,
    }
    out.flush()?;
    Ok(ExitCode::from(if output.ready {
        EXIT_OK
    } else {
        EXIT_FAILED
    }))
}

pub(super) fn read(path: &Path) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(b) => Some(b),
        Err(e) => {
            eprintln!("tmbridge autofill: cannot read {}: {e}", path.display());
            None
        }
    }
}

/// The error is safe to print: it never quotes raw bytes of the file.
pub(super) fn parse_settings(path: &Path, bytes: &[u8]) -> Result<Settings, String> {
    let text = config_text::text_of(path, bytes)?;
    let is_toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    if is_toml {
        toml::from_str(text).map_err(|e| {
            format!(
                "invalid settings: {}",
                config_text::toml_error(path, text, &e)
            )
        })
    } else {
        serde_json::from_str(text).map_err(|e| {
            format!(
                "{}: invalid settings: {}",
                config_text::shown_path(path),
                config_text::shown(&e.to_string())
            )
        })
    }
}

fn list_sources(out: &mut impl Write, format: Format) -> std::io::Result<()> {
    let catalog = autofill::source_catalog();
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, &catalog)?;
        return writeln!(out);
    }
    let width = catalog.iter().map(|s| s.path.len()).max().unwrap_or(0);
    for s in &catalog {
        writeln!(out, "{:width$}  {:4}  {}", s.path, s.kind, s.about)?;
    }
    writeln!(
        out,
        "\nA property by name: test_run.properties.NAME, test_case.properties.NAME"
    )
}

pub(super) fn print_text(out: &mut impl Write, o: &FillOutput) -> std::io::Result<()> {
    let errors = count(o, Severity::Error);
    if o.ready {
        writeln!(
            out,
            "{} form: {} fields, ready to submit",
            o.type_name,
            o.fields.len()
        )?;
    } else {
        writeln!(
            out,
            "{} form: {} fields, NOT ready: {errors} error(s)",
            o.type_name,
            o.fields.len()
        )?;
    }
    writeln!(out)?;
    let width = o
        .fields
        .iter()
        .map(|f| f.field.chars().count() + usize::from(f.required) * 2)
        .max()
        .unwrap_or(0);
    for f in &o.fields {
        let name = if f.required {
            format!("{} *", f.field)
        } else {
            f.field.clone()
        };
        let value = match (&f.reference, f.value.is_empty()) {
            (_, true) => "(empty)".to_string(),
            (Some(r), false) if r != &f.value => format!("{} ({r})", f.value),
            _ => f.value.clone(),
        };
        writeln!(out, "  {name:width$}  {value}")?;
        let by = match f.filled_by {
            FilledBy::Rule => "rule",
            FilledBy::ValueMap => "value map",
            FilledBy::Default => "default",
            FilledBy::Automatic => "automatic",
            FilledBy::None => "not filled",
        };
        writeln!(out, "  {:width$}  <- {by}: {}", "", f.explanation)?;
    }
    writeln!(out)?;
    if o.problems.is_empty() {
        writeln!(out, "No problems.")?;
    } else {
        writeln!(
            out,
            "Problems: {errors} error(s), {} warning(s), {} note(s)",
            count(o, Severity::Warning),
            count(o, Severity::Info)
        )?;
        for p in &o.problems {
            let field = p
                .field
                .as_deref()
                .map(|f| format!("{f}: "))
                .unwrap_or_default();
            writeln!(
                out,
                "  {:7}  {field}{} [{}]",
                p.severity.as_str(),
                p.message,
                p.code
            )?;
            if let Some(h) = &p.hint {
                writeln!(out, "  {:7}  hint: {h}", "")?;
            }
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "Payload (POST /slm/webservice/v2.0/{}/create):",
        o.type_name.to_ascii_lowercase()
    )?;
    serde_json::to_writer_pretty(&mut *out, &o.payload)?;
    writeln!(out)
}

fn count(o: &FillOutput, severity: Severity) -> usize {
    o.problems.iter().filter(|p| p.severity == severity).count()
}
