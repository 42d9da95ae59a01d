//! `tmbridge serve`: the GitLab Pipeline Hook receiver.

use super::{EXIT_OK, EXIT_USAGE};
use crate::serve::gitlab_api::check_base_url;
use crate::serve::{ServeOptions, http::Limits, publisher::PublishToTarget};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tmbridge_core::config::Target;

/// Receive GitLab pipeline webhooks and publish their JUnit reports in the background.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  TMBRIDGE_GITLAB_TOKEN=s3cret GITLAB_API_TOKEN=glpat-... RALLY_API_KEY=_abc... \\
    tmbridge serve --config tmbridge.toml --gitlab-url https://gitlab.example.com \\
    --listen 0.0.0.0:8080 --state /var/lib/tmbridge/serve.sqlite
  tmbridge serve --config tmbridge.toml --gitlab-url https://gitlab.example.com \\
    --artifact-path 'build/test-results/**/*.xml' --artifact-path reports/e2e.xml
  TESTRAIL_USER=ci@example.com TESTRAIL_API_KEY=... tmbridge serve --target testrail \\
    --config tmbridge.toml --gitlab-url https://gitlab.example.com
  TMBRIDGE_QTEST_TOKEN=... tmbridge serve --target qtest --config tmbridge.toml \\
    --gitlab-url https://gitlab.example.com

In GitLab: Settings > Webhooks, URL http://HOST:8080/webhook, the secret token from the
variable named by gitlab.token_env (TMBRIDGE_GITLAB_TOKEN by default), trigger
\"Pipeline events\". Each finished pipeline that matches the [gitlab] section is stored
and answered with 200 at once; a worker lists the pipeline's test jobs, downloads each
one's artifacts archive (GET /api/v4/projects/:id/jobs/:job_id/artifacts on --gitlab-url,
with the token in GITLAB_API_TOKEN; redirects to object storage are followed without
it), takes the reports the --artifact-path globs match and the files they attach
(relative to the report, or by the runner's absolute path), falls back to GitLab's
pipeline test report when no archive holds one, and publishes them to Rally (qTest or
TestRail with --target), retrying while GitLab or the target is down.

Answers: 200 queued/duplicate/ignored, 400 malformed request or body, 401 wrong or
missing X-Gitlab-Token, 408 headers or body too slow, 413 body over --max-body, 431
headers over 16 KiB, 503 busy (with Retry-After) or the event could not be stored.
GET /healthz answers 200.

Limits: one thread reads the headers of every connection, so idle and slow clients
cost no thread, and /healthz is answered there at once, even while every handler is
busy. At most --max-connections connections are open at once; past it, the oldest one
not yet being handled (still sending its headers, or already answered) is closed to
make room. The request line and headers must arrive within --header-timeout of being
accepted, the body within --body-timeout of the headers; each is a deadline for the
whole part, not for each read. Verified webhooks are read and stored by 4 handler
threads with 16 waiting places; beyond that they are answered 503 with Retry-After,
and GitLab delivers them again. Keep the file descriptor limit (ulimit -n) above
--max-connections plus about 100; should it run out anyway, the oldest waiting
connection is closed or accepting pauses for 100 ms (logged at most once a second),
and the listener goes on.

SIGTERM or SIGINT stops it cleanly (also as PID 1 in a container): no new webhooks, the
event being published is finished or, after --shutdown-grace, put back to resume from its
checkpoint at the next start; then exit 0. A second signal exits at once, which is safe
too. Events in progress when a process was killed are retried at the next start and
count against --max-attempts.

With --queue amqp://..., serve only receives: each event is answered 200 once the
broker confirmed it (503 when the broker is down or refuses: GitLab marks the delivery
failed, to be resent from the webhook's Recent events), and any number of `tmbridge worker --queue ...` processes publish them; --state, the
GitLab token and the target's credentials are not needed here.
  TMBRIDGE_AMQP_USER=tmbridge TMBRIDGE_AMQP_PASSWORD=... tmbridge serve \\
    --config tmbridge.toml --queue amqp://rabbitmq.internal:5672 --listen 0.0.0.0:8080

Exit codes: 0 stopped by a signal; 2 bad command line or configuration, or another serve
uses the same --state; otherwise it runs until stopped.")]
pub struct Args {
    /// Configuration file: TOML (or JSON when it ends in .json).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// SQLite file that holds received events until they are published.
    #[arg(long, value_name = "PATH", default_value = "tmbridge-serve.sqlite")]
    pub state: PathBuf,
    /// GitLab's address (https://gitlab.example.com; http only for loopback). Required:
    /// the API token goes to this address only, never to one an event names.
    #[arg(long, value_name = "URL")]
    pub gitlab_url: Option<String>,
    /// Environment variable holding the GitLab API token (read_api scope).
    #[arg(long, value_name = "NAME", default_value = "GITLAB_API_TOKEN")]
    pub gitlab_token_env: String,
    /// Report files inside the test jobs' artifacts archives: a path or a glob
    /// (`build/test-results/**/*.xml`, `target/surefire-reports/TEST-*.xml`); repeatable.
    #[arg(
        long = "artifact-path",
        value_name = "GLOB",
        default_values_t = ["**/junit*.xml".to_string(), "**/TEST-*.xml".to_string()]
    )]
    pub artifact_paths: Vec<String>,
    /// Where the runner checked the project out (its CI_PROJECT_DIR), when reports
    /// name attachments by absolute paths; by default `/<group>/<project>/` in such a
    /// path is taken as the project's root.
    #[arg(long, value_name = "DIR")]
    pub project_dir: Option<String>,
    /// Largest webhook body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    pub max_body: u64,
    /// Connections open at once (sending a request or being answered).
    #[arg(long, value_name = "N", default_value_t = 512)]
    pub max_connections: usize,
    /// Seconds a client has, from connecting, to send its request line and headers (0.5 works).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub header_timeout: Duration,
    /// Seconds a client has, after its headers, to send the whole body (0.5 works).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds)]
    pub body_timeout: Duration,
    /// Attempts per event before it is marked failed.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub max_attempts: i64,
    /// First delay before retrying an event, in seconds; it doubles each time.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub retry_delay: u64,
    /// On SIGTERM/SIGINT, how long to wait for the event being published to finish
    /// before putting it back in the queue, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub shutdown_grace: u64,
    /// Where the reports are published (qTest: the [qtest] section, its token from the
    /// variable qtest.token_env names; TestRail: the [testrail] section, its user and
    /// API key from the environment; as for `tmbridge publish`).
    #[arg(long, value_enum, default_value = "rally")]
    pub target: super::publish::TargetArg,
    /// Put events on a RabbitMQ broker (amqp://HOST[:PORT][/VHOST]; user and password
    /// from TMBRIDGE_AMQP_USER and TMBRIDGE_AMQP_PASSWORD) instead of the SQLite
    /// --state: this process only receives, `tmbridge worker` publishes.
    #[arg(long, value_name = "URL")]
    pub queue: Option<String>,
}

/// Threads that read webhook bodies and store events, and webhooks that may wait for
/// one; the help text above states both numbers.
const HANDLERS: usize = 4;
const WAITING_WEBHOOKS: usize = 16;

/// A positive number of seconds; fractions are allowed (0.5).
fn seconds(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{text:?} is not a positive number of seconds"))
}

fn usage(message: &str) -> anyhow::Result<ExitCode> {
    eprintln!("tmbridge serve: {message}");
    Ok(ExitCode::from(EXIT_USAGE))
}

/// The target's section and credentials, checked before anything is received.
pub fn check_target(
    config: &tmbridge_core::config::Config,
    path: &std::path::Path,
    target: super::publish::TargetArg,
) -> Result<Target, String> {
    let target = target.target();
    // qTest's session checks its section itself; its token must be there from the start.
    if target != Target::Qtest
        && let Err(e) = config.validate(Some(target))
    {
        return Err(format!("{}: {e}", path.display()));
    }
    if target == Target::Qtest
        && let Err(e) = crate::publish::qtest::token_from_env(config)
    {
        return Err(e.to_string());
    }
    Ok(target)
}

/// GitLab's address, checked, and the API token from `token_env`.
pub fn check_gitlab(url: Option<&str>, token_env: &str) -> Result<(String, String), String> {
    let gitlab_url = match url.map(check_base_url) {
        Some(Ok(url)) => url,
        Some(Err(e)) => return Err(e),
        None => {
            return Err(
                "give GitLab's address with --gitlab-url https://gitlab.example.com: the GitLab API token is sent there and nowhere else".into(),
            );
        }
    };
    let Some(token) = std::env::var(token_env)
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        return Err(format!(
            "the GitLab API token is not set: put a token with read_api scope in {token_env}"
        ));
    };
    Ok((gitlab_url, token))
}

/// The first `--artifact-path` that is not a path or glob.
pub fn bad_artifact_path(paths: &[String]) -> Option<String> {
    paths
        .iter()
        .find(|p| p.trim().is_empty() || glob::Pattern::new(p).is_err())
        .map(|bad| {
            format!(
                "--artifact-path {bad:?} is not a path or glob like build/test-results/**/*.xml"
            )
        })
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = match crate::run_context::load_config(&args.config) {
        Ok(c) => c,
        Err(e) => return usage(&e),
    };
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let Some(secret) = env(&config.gitlab.token_env) else {
        return usage(&format!(
            "the webhook secret is not set: put it in the environment variable {} (gitlab.token_env)",
            config.gitlab.token_env
        ));
    };
    if args.max_connections < 1 {
        return usage("--max-connections must be at least 1");
    }
    let limits = Limits {
        max_connections: args.max_connections,
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
        handlers: HANDLERS,
        queue: WAITING_WEBHOOKS,
    };
    if let Some(url) = &args.queue {
        let address = match crate::serve::amqp::BrokerAddress::from_env(url) {
            Ok(a) => a,
            Err(e) => return usage(&e),
        };
        let options = crate::serve::receiver_only::ReceiverOptions {
            listen: args.listen,
            secret: secret.into_bytes(),
            gitlab: config.gitlab.clone(),
            max_body: args.max_body,
            limits,
            shutdown_grace: Duration::from_secs(args.shutdown_grace),
        };
        let broker = crate::serve::amqp::Broker::new(address)?;
        crate::serve::receiver_only::run(options, broker)?;
        return Ok(ExitCode::from(EXIT_OK));
    }
    let target = match check_target(&config, &args.config, args.target) {
        Ok(t) => t,
        Err(e) => return usage(&e),
    };
    let (gitlab_url, gitlab_token) =
        match check_gitlab(args.gitlab_url.as_deref(), &args.gitlab_token_env) {
            Ok(g) => g,
            Err(e) => return usage(&e),
        };
    if let Some(e) = bad_artifact_path(&args.artifact_paths) {
        return usage(&e);
    }
    if args.max_attempts < 1 {
        return usage("--max-attempts must be at least 1");
    }
    let options = ServeOptions {
        listen: args.listen,
        state: args.state,
        secret: secret.into_bytes(),
        gitlab: config.gitlab.clone(),
        gitlab_url,
        gitlab_token,
        artifact_paths: args.artifact_paths,
        project_dir: args.project_dir,
        max_body: args.max_body,
        max_attempts: args.max_attempts,
        retry_delay: Duration::from_secs(args.retry_delay),
        limits,
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
    };
    let publisher = PublishToTarget {
        target,
        config,
        outbox: crate::serve::outbox_path(&options.state),
        protected: vec![options.state.clone(), args.config.clone()],
        gate: None,
    };
    crate::serve::run(options, Box::new(publisher))?;
    Ok(ExitCode::from(EXIT_OK))
}
