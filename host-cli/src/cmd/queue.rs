//! `tmbridge queue list|replay`: the dead-letter queue of `serve --queue`/`worker`.

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::serve::amqp::dead::{self, DeadEvent, Selection};
use crate::serve::amqp::{Broker, BrokerAddress};
use std::io::Write;
use std::process::ExitCode;

/// Look at and replay the events that workers gave up on (the dead-letter queue).
#[derive(clap::Args)]
#[command(after_help = "Examples:
  tmbridge queue list --queue amqp://rabbitmq.internal
  tmbridge queue list --queue amqp://rabbitmq.internal --format json | jq '.dead[].reason'
  tmbridge queue replay --queue amqp://rabbitmq.internal --event 42/1234/failed
  tmbridge queue replay --queue amqp://rabbitmq.internal --all

`list` shows how many events wait for a worker or for their next attempt, and each
dead-lettered event (project/pipeline/status) with its attempts and the reason it was
given up; nothing changes. `replay` puts the chosen events back in tmbridge.events with
fresh attempts (after fixing what their reason says: a configuration, a credential),
each removed from the dead-letter queue only once the broker confirmed its copy;
replaying a published event adds nothing to the target (look-before-create).
The broker's user and password come from TMBRIDGE_AMQP_USER and TMBRIDGE_AMQP_PASSWORD.

Exit codes: 0 done; 1 an --event named is not in the dead-letter queue; 2 bad command
line or the broker cannot be reached.")]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// The queues' depths and every dead-lettered event with its reason.
    List(Common),
    /// Put dead-lettered events back in the events queue.
    Replay {
        #[command(flatten)]
        common: Common,
        /// An event to replay: project/pipeline/status, or project/pipeline for all of
        /// its statuses; repeatable.
        #[arg(long = "event", value_name = "KEY", required_unless_present = "all")]
        events: Vec<String>,
        /// Every dead-lettered event.
        #[arg(long, conflicts_with = "events")]
        all: bool,
    },
}

#[derive(clap::Args)]
pub struct Common {
    /// The broker: amqp://HOST[:PORT][/VHOST].
    #[arg(long, value_name = "URL")]
    pub queue: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people.
    Table,
    /// One JSON document, for scripts.
    Json,
}

fn broker(common: &Common) -> Result<Broker, String> {
    let address = BrokerAddress::from_env(&common.queue)?;
    Broker::new(address).map_err(|e| e.to_string())
}

fn fail(message: &str) -> anyhow::Result<ExitCode> {
    eprintln!("tmbridge queue: {message}");
    Ok(ExitCode::from(EXIT_USAGE))
}

fn rows(events: &[DeadEvent]) -> String {
    let mut out = String::new();
    for e in events {
        out.push_str(&format!(
            "  {}  attempts {}  {}\n",
            e.event, e.attempts, e.reason
        ));
    }
    out
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout();
    match args.action {
        Action::List(common) => {
            let listing = match broker(&common).and_then(|b| dead::list(&b)) {
                Ok(l) => l,
                Err(e) => return fail(&e),
            };
            let text = match common.format {
                Format::Json => format!("{}\n", serde_json::to_string_pretty(&listing)?),
                Format::Table => format!(
                    "{}: {} waiting, {} waiting to be retried, {} dead-lettered\n{}",
                    listing.broker,
                    listing.pending,
                    listing.retrying,
                    listing.dead.len(),
                    rows(&listing.dead)
                ),
            };
            out.write_all(text.as_bytes())?;
            Ok(ExitCode::from(EXIT_OK))
        }
        Action::Replay {
            common,
            events,
            all,
        } => {
            let selection = if all {
                Selection::All
            } else {
                Selection::Keys(events.clone())
            };
            let replayed = match broker(&common).and_then(|b| dead::replay(&b, &selection)) {
                Ok(r) => r,
                Err(e) => return fail(&e),
            };
            let missing: Vec<&String> = events
                .iter()
                .filter(|k| {
                    !replayed.iter().any(|e| {
                        e.event == **k
                            || e.event
                                .strip_prefix(k.as_str())
                                .is_some_and(|r| r.starts_with('/'))
                    })
                })
                .collect();
            let text = match common.format {
                Format::Json => format!(
                    "{}\n",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "replayed": replayed,
                        "not_found": missing,
                    }))?
                ),
                Format::Table => {
                    format!("replayed {} event(s)\n{}", replayed.len(), rows(&replayed))
                }
            };
            out.write_all(text.as_bytes())?;
            if missing.is_empty() {
                Ok(ExitCode::from(EXIT_OK))
            } else {
                for k in &missing {
                    eprintln!(
                        "tmbridge queue: {k} is not in the dead-letter queue (see tmbridge queue list)"
                    );
                }
                Ok(ExitCode::from(EXIT_FAILED))
            }
        }
    }
}
