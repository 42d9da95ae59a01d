//! `tmbridge connect`: checks the URL, the credentials, the workspace and the project,
//! and says exactly what is wrong.

use super::rally_session::{self, Common};
use std::io::BufWriter;
use std::process::ExitCode;

/// The systems `connect` checks.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConnectTarget {
    Rally,
    Qtest,
    Testrail,
}

/// Check that tmbridge can reach Rally, qTest or TestRail with this configuration and these credentials.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  RALLY_API_KEY=... tmbridge connect --target rally --config tmbridge.toml
  tmbridge connect --target rally --config tmbridge.toml --format json
  tmbridge connect --target rally --config tmbridge.toml --dry-run
  TESTRAIL_USER=ci@example.com TESTRAIL_API_KEY=... tmbridge connect --target testrail --config tmbridge.toml
  TMBRIDGE_QTEST_TOKEN=... tmbridge connect --target qtest --config tmbridge.toml

It signs in (with the API key that rally.api_key_env names, or RALLY_USERNAME and
RALLY_PASSWORD), reads the user, then the configured workspace and project, and stops
at the first problem with what to do about it: a wrong URL, a bad or expired key, no
access to the workspace or the project, a project of another workspace, a proxy or
TLS problem. With --target testrail it checks the [testrail] section: the URL, the user and
API key (or TESTRAIL_PASSWORD), the project, the suite (needed when the project has several),
the section, the status table against the instance's statuses (custom ones included) and the
custom fields the configuration maps.
For qTest (token from the variable qtest.token_env names, else
TMBRIDGE_QTEST_TOKEN) it reads the projects, the configured project and its automation
settings: a wrong site, a bad or expired token, no access to the project, automation
switched off or PASS, FAIL or SKIP not mapped (with how to fix each).

With several Rally connections ([rally.connections.NAME], rally.active names the one
every command uses), it checks each of them with its own key, and marks the active one.

Exit codes: 0 everything works; 1 Rally could not be reached or answered oddly (try
again later); 2 bad command line, configuration or credentials.")]
pub struct Args {
    /// The test-management system.
    #[arg(long, value_enum)]
    pub target: ConnectTarget,
    #[command(flatten)]
    pub common: Common,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.target == ConnectTarget::Testrail {
        return super::testrail::connect(&args.common);
    }
    if args.target == ConnectTarget::Qtest {
        return super::qtest_connect::run(&args.common);
    }
    let command = "connect";
    if let Some(code) = super::connect_each::run(&args.common)? {
        return Ok(code);
    }
    let (config, secrets) = match rally_session::prepare(command, &args.common) {
        Ok(prepared) => prepared,
        Err(code) => return Ok(code),
    };
    let input = serde_json::json!({ "config": config });
    let outcome =
        match rally_session::run(command, "rally.connect", &input, &secrets, &args.common)? {
            Ok(o) => o,
            Err(code) => return Ok(code),
        };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    super::connect_each::write_rally(&mut out, &args.common, &outcome)?;
    Ok(rally_session::exit_code(&outcome.report))
}
