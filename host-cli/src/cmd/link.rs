//! `tmbridge link`: a Rally test case for a test of another tool, created once and
//! linked to its first user story, with a link back to the source in its Description.

use super::rally_session::{self, Common, TargetArg};
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use tmbridge_core::sync::rally::Details;

/// Create (once) a Rally test case and link it to a user story.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  tmbridge link --target rally --config tmbridge.toml --test-case 'Checkout pays by card' \\
      --story US12 --source-url https://qtest.example.com/p/1/portal/project#tab=testdesign&object=1&id=77
  tmbridge link --target rally --config tmbridge.toml --test-case 'Login' --story US3 --story US9 --format json

Rally links a test case to one work product: with several --story the first one is
linked and the others are reported. A test case of the same name already linked to
the story is reused, never created twice; it is not updated afterwards.

Exit codes: 0 linked; 1 Rally failed or the story does not exist; 2 bad command line,
configuration or credentials.")]
pub struct Args {
    /// The test-management system.
    #[arg(long, value_enum)]
    pub target: TargetArg,
    #[command(flatten)]
    pub common: Common,
    /// The test case's name.
    #[arg(long, value_name = "NAME")]
    pub test_case: String,
    /// A user story: FormattedID (US12) or ref (repeatable; the first is linked).
    #[arg(long = "story", value_name = "US", required = true)]
    pub stories: Vec<String>,
    /// Where the test lives in the other tool or in git; linked from the Description.
    #[arg(long, value_name = "URL")]
    pub source_url: Option<String>,
    /// The text of that link.
    #[arg(long, value_name = "TEXT")]
    pub source_label: Option<String>,
    /// More text for the Description.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// The test case's Method (Automated unless given).
    #[arg(long, value_name = "METHOD")]
    pub method: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let command = "link";
    let (config, secrets) = match rally_session::prepare(command, &args.common) {
        Ok(prepared) => prepared,
        Err(code) => return Ok(code),
    };
    let input = serde_json::json!({
        "config": config,
        "request": {
            "name": args.test_case,
            "stories": args.stories,
            "source_url": args.source_url,
            "source_label": args.source_label,
            "description": args.description,
            "method": args.method,
        }
    });
    let outcome =
        match rally_session::run(command, "rally.link_case", &input, &secrets, &args.common)? {
            Ok(o) => o,
            Err(code) => return Ok(code),
        };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    rally_session::write_outcome(&mut out, &args.common, &outcome, |out| {
        if let Details::LinkTestCase(linked) = &outcome.report.details
            && outcome.report.error.is_none()
        {
            writeln!(
                out,
                "{} test case {} {:?}, linked to {}",
                if linked.created { "created" } else { "reused" },
                linked.formatted_id.as_deref().unwrap_or("?"),
                linked.name,
                linked.work_product.as_deref().unwrap_or("-")
            )?;
        }
        for w in &outcome.report.warnings {
            writeln!(out, "warning: {}", w.message)?;
        }
        Ok(())
    })?;
    Ok(rally_session::exit_code(&outcome.report))
}
