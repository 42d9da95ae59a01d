//! `serve --queue`: the webhook receiver alone. Every verified event goes to the
//! broker (answered 200 once the broker confirmed it, 503 otherwise); publishing is
//! the job of `tmbridge worker`, which can run anywhere. Receivers keep no state, so
//! any number of them can stand behind a load balancer.

use super::amqp::Broker;
use super::amqp::sink::BrokerSink;
use super::http::{Limits, Receiver};
use super::sink::EventSink;
use super::{join_until, listen, log, receive, stop_on_signals};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tmbridge_core::gitlab::GitlabConfig;

pub struct ReceiverOptions {
    pub listen: String,
    pub secret: Vec<u8>,
    pub gitlab: GitlabConfig,
    pub max_body: u64,
    pub limits: Limits,
    /// How long requests being answered get after a stop.
    pub shutdown_grace: Duration,
}

/// Serves until SIGTERM or SIGINT.
pub fn run(opts: ReceiverOptions, broker: Broker) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signals(&stop)?;
    let listener = std::net::TcpListener::bind(opts.listen.as_str())
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| opts.listen.clone());
    let receiver = Arc::new(Receiver {
        secret: opts.secret,
        max_body: opts.max_body,
        gitlab: opts.gitlab,
    });
    let sinks =
        move || -> anyhow::Result<Box<dyn EventSink>> { Ok(Box::new(BrokerSink::open(&broker))) };
    let threads = listen::start(listener, receiver, opts.limits, stop.clone(), &sinks)?;
    let mut out = std::io::stdout();
    let _ = writeln!(
        out,
        "tmbridge serve: listening on http://{addr}{}",
        receive::WEBHOOK_PATH
    );
    let _ = out.flush();
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    log("stopping");
    join_until(threads, Instant::now() + opts.shutdown_grace);
    log("stopped");
    Ok(())
}
