//! `tmbridge defect schema`: load the Defect form's metadata from Rally and save it.
//! `tmbridge defect submit`: fill the Rally defect form from a failed run, refuse it
//! while a required field is empty, then file it and link it.

use super::EXIT_USAGE;
use super::defect_form::{FormFiles, Links, detail_url, fill, form};
use super::rally_session::{self, Common, TargetArg};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use tmbridge_core::autofill::RunContext;
use tmbridge_core::sync::rally::Details;

/// Rally defects from failed test runs.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    Schema(SchemaArgs),
    Submit(SubmitArgs),
}

/// Load the Defect form's metadata (fields, required marks, allowed values) from Rally.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  tmbridge defect schema --target rally --config tmbridge.toml --out defect-schema.json
  tmbridge defect schema --target rally --config tmbridge.toml --type TestCase --format json
  tmbridge defect submit --target rally --config tmbridge.toml --schema defect-schema.json \\
      --run failed-run.json

It reads the type definition of the workspace in rally.workspace, pages through its
Attributes and through the AllowedValues of every drop-down field (WSAPI v2.0 gives
both as separate collections), and writes the form schema that `defect submit` and
`tmbridge autofill` read. Without --out the schema is printed as a table of fields.

Exit codes: 0 loaded; 1 Rally could not be reached or answered oddly (try again
later); 2 bad command line, configuration or credentials.")]
pub struct SchemaArgs {
    /// The test-management system.
    #[arg(long, value_enum)]
    pub target: TargetArg,
    #[command(flatten)]
    pub common: Common,
    /// The Rally type's ElementName.
    #[arg(long = "type", value_name = "NAME", default_value = "Defect")]
    pub type_name: String,
    /// Write the schema here (JSON), replacing the file only once it is complete.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Auto-fill a defect from a failed run and file it in Rally.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  tmbridge defect submit --target rally --config tmbridge.toml --schema defect-typedef.json \\
      --settings form.json --run failed-run.json --test-case TC12 --story US5
  tmbridge defect submit --target rally --config tmbridge.toml --schema defect-typedef.json \\
      --run failed-run.json --dry-run
  TMBRIDGE_QTEST_TOKEN=... tmbridge defect submit --target rally --config tmbridge.toml \\
      --schema defect-typedef.json --settings form.json --qtest-run 88213

The form is filled exactly as `tmbridge autofill` fills it; while a required field is
empty or a value is not allowed nothing is sent and the problems are listed. The defect
is linked to --test-case, --story and --result when given (FormattedIDs or refs).

With --qtest-run the failed run is read from qTest (the [qtest] section: url,
project_id, token_env): the run, its test case and its latest test log with step logs
and files. The defect's Description links to the run; it is linked to the Rally test
case whose Description holds the qTest test case's address, and to that test case's
user story (or filed without them, which the output says); the log's files are
attached; and a comment on the qTest run links the defect back. qTest is only read
under --dry-run.

Exit codes: 0 filed; 1 the form has errors or Rally refused the defect; 2 bad command
line, configuration, unreadable file or credentials.")]
pub struct SubmitArgs {
    /// The test-management system.
    #[arg(long, value_enum)]
    pub target: TargetArg,
    #[command(flatten)]
    pub common: Common,
    /// Rally type metadata of Defect (TypeDefinition with Attributes), or a saved schema.
    #[arg(long, value_name = "FILE")]
    pub schema: PathBuf,
    /// Form settings as JSON (or TOML when the name ends in .toml).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// The failed run as JSON: test_run, test_case, test_log.
    #[arg(long, value_name = "FILE", required_unless_present = "qtest_run")]
    pub run: Option<PathBuf>,
    /// Read the failed run from qTest instead: the test run's id (after id= in its
    /// address).
    #[arg(long, value_name = "ID", conflicts_with = "run")]
    pub qtest_run: Option<u64>,
    /// The test case to link: FormattedID (TC12) or ref.
    #[arg(long, value_name = "TC")]
    pub test_case: Option<String>,
    /// The user story to link: FormattedID (US5) or ref.
    #[arg(long, value_name = "US")]
    pub story: Option<String>,
    /// The TestCaseResult of the run: ref.
    #[arg(long, value_name = "REF")]
    pub result: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Schema(args) => schema(args),
        Command::Submit(args) => submit(args),
    }
}

fn schema(args: SchemaArgs) -> anyhow::Result<ExitCode> {
    let command = "defect schema";
    let (config, secrets) = match rally_session::prepare(command, &args.common) {
        Ok(prepared) => prepared,
        Err(code) => return Ok(code),
    };
    let input = serde_json::json!({ "config": config, "request": { "type_name": args.type_name } });
    let outcome = match rally_session::run(command, "rally.schema", &input, &secrets, &args.common)?
    {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let schema = match &outcome.report.details {
        Details::Schema(s) => s.schema.as_ref(),
        _ => None,
    };
    if let (Some(path), Some(schema)) = (&args.out, schema)
        && outcome.report.error.is_none()
    {
        let text = serde_json::to_string_pretty(schema)?;
        if let Err(e) = crate::atomic_file::write(path, text.as_bytes()) {
            return Ok(rally_session::usage(command, format!("{e:#}")));
        }
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    rally_session::write_outcome(&mut out, &args.common, &outcome, |out| {
        if let Some(schema) = schema {
            write_fields(out, schema)?;
            if let Some(path) = &args.out {
                writeln!(out, "saved to {}", path.display())?;
            }
        }
        Ok(())
    })?;
    Ok(rally_session::exit_code(&outcome.report))
}

/// The schema for people: one line per field.
fn write_fields(
    out: &mut impl Write,
    schema: &tmbridge_core::autofill::Schema,
) -> std::io::Result<()> {
    let mut table =
        crate::table::Table::new(&["field", "label", "type", "required", "allowed values"]);
    for f in &schema.fields {
        let allowed = if !f.allowed_values_loaded {
            "(picked in Rally)".to_string()
        } else if f.allowed_values.is_empty() {
            String::new()
        } else {
            let shown: Vec<&str> = f
                .allowed_values
                .iter()
                .take(6)
                .map(|v| v.value.as_str())
                .collect();
            let more = f.allowed_values.len().saturating_sub(shown.len());
            if more > 0 {
                format!("{}, ... ({more} more)", shown.join(", "))
            } else {
                shown.join(", ")
            }
        };
        table.row(vec![
            f.name.clone(),
            f.label.clone(),
            f.attribute_type.clone(),
            if f.required {
                "yes".into()
            } else {
                String::new()
            },
            allowed,
        ]);
    }
    writeln!(out, "{} ({} fields)", schema.type_name, schema.fields.len())?;
    table.write(out)?;
    for w in &schema.warnings {
        writeln!(out, "warning: {}", w.message)?;
    }
    Ok(())
}

fn submit(args: SubmitArgs) -> anyhow::Result<ExitCode> {
    if let Some(run) = args.qtest_run {
        let form = FormFiles {
            schema: &args.schema,
            settings: args.settings.as_deref(),
        };
        let links = Links {
            test_case: args.test_case.clone(),
            story: args.story.clone(),
            result: args.result.clone(),
        };
        return super::defect_qtest::submit(&args.common, form, links, run);
    }
    let command = "defect submit";
    let config = match rally_session::config(command, &args.common) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let files = FormFiles {
        schema: &args.schema,
        settings: args.settings.as_deref(),
    };
    let (schema, settings) = match form(command, files) {
        Ok(f) => f,
        Err(code) => return Ok(code),
    };
    let Some(run_path) = &args.run else {
        return Ok(rally_session::usage(
            command,
            "give --run FILE or --qtest-run ID",
        ));
    };
    let Some(run_bytes) = super::autofill::read(run_path) else {
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let run: RunContext = match serde_json::from_slice(&run_bytes) {
        Ok(r) => r,
        Err(e) => {
            return Ok(rally_session::usage(
                command,
                format!(
                    "{}: the run is not valid JSON for a run: {e}",
                    run_path.display()
                ),
            ));
        }
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let filled = match fill(command, &mut out, &schema, &settings, &run)? {
        Ok(f) => f,
        Err(code) => return Ok(code),
    };
    let secrets = match rally_session::secrets(command, &config, args.common.dry_run) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let input = serde_json::json!({
        "config": config,
        "request": {
            "payload": filled.payload,
            "test_case": args.test_case,
            "requirement": args.story,
            "test_case_result": args.result,
        }
    });
    let outcome = match rally_session::run(command, "rally.defect", &input, &secrets, &args.common)?
    {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    rally_session::write_outcome(&mut out, &args.common, &outcome, |out| {
        if let Details::Defect(d) = &outcome.report.details
            && outcome.report.error.is_none()
        {
            writeln!(
                out,
                "filed {} {:?} (state {})",
                d.formatted_id.as_deref().unwrap_or("?"),
                d.name.as_deref().unwrap_or(""),
                d.state.as_deref().unwrap_or("-")
            )?;
            if let Some(url) = detail_url(config.rally.url.as_deref(), d.reference.as_deref()) {
                writeln!(out, "{url}")?;
            }
        }
        Ok(())
    })?;
    Ok(rally_session::exit_code(&outcome.report))
}
