//! `tmbridge worker`: publishes the pipeline events `serve --queue` put on RabbitMQ.

use super::publish::TargetArg;
use super::serve::{bad_artifact_path, check_gitlab, check_target};
use super::{EXIT_OK, EXIT_USAGE};
use crate::serve::amqp::consume::{self, ConsumeOptions};
use crate::serve::amqp::{Broker, BrokerAddress, rate};
use crate::serve::publisher::PublishToTarget;
use crate::serve::worker::WorkerSettings;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Publish the pipeline events that `tmbridge serve --queue` put on a RabbitMQ broker.
#[derive(clap::Args)]
#[command(after_help = "Examples:
  GITLAB_API_TOKEN=glpat-... RALLY_API_KEY=_abc... tmbridge worker --queue amqp://rabbitmq.internal \\
    --config tmbridge.toml --gitlab-url https://gitlab.example.com --outbox /shared/tmbridge-outbox.sqlite3
  TESTRAIL_USER=ci@example.com TESTRAIL_API_KEY=... tmbridge worker --target testrail \\
    --queue amqp://rabbitmq.internal --config tmbridge.toml --gitlab-url https://gitlab.example.com \\
    --rate-limit 2 --prefetch 2

Run as many workers as needed, on any machines. Each takes events from the queue
tmbridge.events with manual acks (--prefetch at a time), downloads the pipeline's
reports from --gitlab-url as `serve` does, publishes them to the target and acks the
event only once that is done. A worker killed or cut off from the broker mid-publish
never acks: the broker hands the event to another worker, which resumes from the
outbox (when --outbox is shared by the workers) or finds in the target what was
already created (every result carries its run's identity), so nothing is created
twice. A failure that may pass (GitLab or the target down) is retried after
--retry-delay seconds, doubling; after --max-attempts (deliveries cut short count too),
or at once for one that cannot pass (a report that cannot be read, a configuration the
target refuses), the event goes to the dead-letter queue tmbridge.events.dead with its
reason: see `tmbridge queue list` and `tmbridge queue replay`.

--rate-limit N caps the requests to the target at N per second across every worker
that uses the same broker and target (every worker must give the same N).

The broker's user and password come from TMBRIDGE_AMQP_USER and TMBRIDGE_AMQP_PASSWORD
(guest/guest when unset, which RabbitMQ allows from loopback only); the URL must not
hold them. A broker that goes away is reconnected to, with a growing pause.

SIGTERM or SIGINT: no new events; the event in hand gets --shutdown-grace to finish,
else it is left to the broker (another worker resumes it); exit 0.

Exit codes: 0 stopped by a signal; 2 bad command line or configuration.")]
pub struct Args {
    /// The broker: amqp://HOST[:PORT][/VHOST].
    #[arg(long, value_name = "URL")]
    pub queue: String,
    /// Configuration file: TOML (or JSON when it ends in .json).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Where the reports are published.
    #[arg(long, value_enum, default_value = "rally")]
    pub target: TargetArg,
    /// GitLab's address (https://gitlab.example.com; http only for loopback): the API
    /// token goes to this address only.
    #[arg(long, value_name = "URL")]
    pub gitlab_url: Option<String>,
    /// Environment variable holding the GitLab API token (read_api scope).
    #[arg(long, value_name = "NAME", default_value = "GITLAB_API_TOKEN")]
    pub gitlab_token_env: String,
    /// Report files inside the test jobs' artifacts archives: a path or a glob; repeatable.
    #[arg(
        long = "artifact-path",
        value_name = "GLOB",
        default_values_t = ["**/junit*.xml".to_string(), "**/TEST-*.xml".to_string()]
    )]
    pub artifact_paths: Vec<String>,
    /// Where the runner checked the project out (its CI_PROJECT_DIR).
    #[arg(long, value_name = "DIR")]
    pub project_dir: Option<String>,
    /// The publish outbox (SQLite); give workers on one machine or volume the same
    /// file, so one resumes exactly where a killed one stopped.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "tmbridge-worker-outbox.sqlite3"
    )]
    pub outbox: PathBuf,
    /// Where downloaded reports are kept while an event is published (default: a
    /// folder of this process in the system's temporary folder).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Events held unacknowledged at once (they wait in this worker while it publishes one).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub prefetch: u16,
    /// Attempts per event before it goes to the dead-letter queue.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub max_attempts: u64,
    /// First delay before retrying an event, in seconds; it doubles each time.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub retry_delay: u64,
    /// Requests per second to the target, shared by every worker of the broker.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// On SIGTERM/SIGINT, how long the event in hand may take to finish, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub shutdown_grace: u64,
}

fn usage(message: &str) -> anyhow::Result<ExitCode> {
    eprintln!("tmbridge worker: {message}");
    Ok(ExitCode::from(EXIT_USAGE))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    crate::serve::set_log_name("worker");
    let address = match BrokerAddress::from_env(&args.queue) {
        Ok(a) => a,
        Err(e) => return usage(&e),
    };
    let config = match crate::run_context::load_config(&args.config) {
        Ok(c) => c,
        Err(e) => return usage(&e),
    };
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
    if args.max_attempts < 1 || args.prefetch < 1 || args.rate_limit == Some(0) {
        return usage("--max-attempts, --prefetch and --rate-limit must be at least 1");
    }
    let broker = Broker::new(address)?;
    let gate = match args.rate_limit {
        None => None,
        Some(limit) => match rate::gate(&broker, target.as_str(), limit) {
            Ok(g) => Some(g),
            Err(e) => return usage(&e),
        },
    };
    let work_dir = args.work_dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("tmbridge-worker-{}", std::process::id()))
    });
    let settings = WorkerSettings {
        gitlab: config.gitlab.clone(),
        gitlab_url,
        gitlab_token,
        artifact_paths: args.artifact_paths,
        project_dir: args.project_dir,
        retry: tmbridge_core::sync::RetryPolicy {
            max_attempts: 4,
            ..tmbridge_core::sync::RetryPolicy::default()
        },
        work_dir: work_dir.clone(),
        max_attempts: args.max_attempts as i64,
        backoff: Duration::from_secs(args.retry_delay),
        poll: Duration::from_millis(250),
    };
    let publisher = PublishToTarget {
        target,
        config,
        outbox: args.outbox,
        protected: vec![args.config.clone()],
        gate,
    };
    let options = ConsumeOptions {
        prefetch: args.prefetch,
        max_attempts: args.max_attempts,
        retry_delay: Duration::from_secs(args.retry_delay),
    };
    let stop = Arc::new(AtomicBool::new(false));
    crate::serve::stop_on_signals(&stop)?;
    let consumer_stop = stop.clone();
    let consumer = std::thread::Builder::new()
        .name("worker".into())
        .spawn(move || consume::run(&broker, &settings, &publisher, &options, &consumer_stop))?;
    while !stop.load(Ordering::SeqCst) && !consumer.is_finished() {
        std::thread::sleep(Duration::from_millis(100));
    }
    let deadline = Instant::now() + Duration::from_secs(args.shutdown_grace);
    while !consumer.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if consumer.is_finished() {
        if let Ok(Err(e)) = consumer.join() {
            return Err(e);
        }
        let _ = std::fs::remove_dir_all(&work_dir);
    } else {
        crate::serve::log("stopping with an event in hand; the broker hands it to another worker");
    }
    crate::serve::log("stopped");
    Ok(ExitCode::from(EXIT_OK))
}
