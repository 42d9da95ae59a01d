//! `tmbridge serve`: receives GitLab Pipeline Hook webhooks, verifies their token,
//! stores each finished pipeline durably in SQLite and answers 200 at once; a
//! worker thread fetches the pipeline's JUnit reports through the GitLab API and
//! publishes them with retries. A restart picks up whatever was not finished.
//!
//! SIGTERM or SIGINT (also as PID 1, which gets no default handlers) stops it
//! cleanly: no new webhook is taken, the worker finishes the event in hand, or after
//! `shutdown_grace` puts it back in the queue to resume from its outbox checkpoint,
//! and the process exits 0. A second signal exits at once (as safe as a kill).

pub mod amqp;
mod front;
pub mod gitlab_api;
pub mod http;
mod listen;
pub mod publisher;
pub mod receive;
pub mod receiver_only;
pub mod sink;
pub mod store;
mod wire;
pub mod worker;

use crate::file_lock::FileLock;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tmbridge_core::gitlab::GitlabConfig;

/// Everything `serve` needs, already checked.
pub struct ServeOptions {
    pub listen: String,
    /// The SQLite file of the event queue.
    pub state: PathBuf,
    pub secret: Vec<u8>,
    pub gitlab: GitlabConfig,
    /// Checked: the only address the GitLab API token goes to.
    pub gitlab_url: String,
    pub gitlab_token: String,
    pub artifact_paths: Vec<String>,
    /// The runner's `CI_PROJECT_DIR`, for attachments named by absolute paths.
    pub project_dir: Option<String>,
    pub max_body: u64,
    pub max_attempts: i64,
    pub retry_delay: Duration,
    pub limits: http::Limits,
    /// How long a stop waits for the event being published before putting it back.
    pub shutdown_grace: Duration,
}

/// The command that writes log lines: `serve`, or `worker` when it says so.
static LOG_NAME: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Names the command in log lines (once, at start).
pub fn set_log_name(name: &'static str) {
    let _ = LOG_NAME.set(name);
}

/// A line on stderr; a closed stderr is ignored rather than fatal.
pub fn log(message: &str) {
    let name = LOG_NAME.get().copied().unwrap_or("serve");
    let _ = writeln!(std::io::stderr(), "tmbridge {name}: {message}");
}

/// Where downloaded reports go: next to the state file.
pub fn work_dir(state: &std::path::Path) -> PathBuf {
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push("-artifacts");
    state.with_file_name(name)
}

/// The publish outbox of `serve`: next to the state file.
pub fn outbox_path(state: &std::path::Path) -> PathBuf {
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push("-outbox.sqlite3");
    state.with_file_name(name)
}

/// The lock that makes one `serve` at a time work on a state file: next to it.
pub fn state_lock_path(state: &Path) -> PathBuf {
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    state.with_file_name(name)
}

/// Takes the state file for this process, or says who has it and what to do.
fn lock_state(state: &Path) -> anyhow::Result<FileLock> {
    let path = state_lock_path(state);
    FileLock::try_acquire(&path)
        .with_context(|| format!("cannot lock {}", path.display()))?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "serve.state_busy: another running tmbridge serve uses the state file {} (it holds {}); stop it first, or give this one its own --state",
                state.display(),
                path.display()
            )
        })
}

/// Sets `stop` on SIGTERM and SIGINT; a second one ends the process at once.
pub(crate) fn stop_on_signals(stop: &Arc<AtomicBool>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    for signal in [SIGTERM, SIGINT] {
        // Registered first, so it sees the flag before the second handler sets it.
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, stop.clone())
            .context("cannot install a signal handler")?;
        signal_hook::flag::register(signal, stop.clone())
            .context("cannot install a signal handler")?;
    }
    Ok(())
}

/// Waits until every thread ended or the deadline passed; the rest end with the process.
pub(crate) fn join_until(threads: Vec<JoinHandle<()>>, deadline: Instant) {
    while threads.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Serves until SIGTERM or SIGINT. Stopping at any moment, even with a kill, is
/// safe: events are committed before they are answered, unfinished ones are taken
/// up again, and their publish resumes from the outbox.
pub fn run(opts: ServeOptions, publisher: Box<dyn worker::Publisher>) -> anyhow::Result<()> {
    if let Some(dir) = opts.state.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Held until the process ends: whatever is marked in progress in the state file
    // belongs to a process that is gone.
    let state_lock = lock_state(&opts.state)?;
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signals(&stop)?;
    let store = store::EventStore::open(&opts.state)
        .with_context(|| format!("cannot open the event store {}", opts.state.display()))?;
    let interrupted = store.requeue_interrupted(opts.max_attempts)?;
    // The worker keeps this connection: opened before the port is announced, so a flood
    // of connections that uses up every descriptor cannot keep the worker from starting.
    let worker_store = store;
    let listener = std::net::TcpListener::bind(opts.listen.as_str())
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| opts.listen.clone());
    // Written without println!: a closed stdout must not stop the server.
    let mut out = std::io::stdout();
    let _ = writeln!(
        out,
        "tmbridge serve: listening on http://{addr}{}",
        receive::WEBHOOK_PATH
    );
    let _ = out.flush();
    if interrupted.requeued > 0 {
        log(&format!(
            "resuming {} event(s) interrupted by the last stop",
            interrupted.requeued
        ));
    }
    if interrupted.failed > 0 {
        log(&format!(
            "{} interrupted event(s) had no attempt left (--max-attempts) and are marked failed",
            interrupted.failed
        ));
    }
    let receiver = Arc::new(http::Receiver {
        secret: opts.secret.clone(),
        max_body: opts.max_body,
        gitlab: opts.gitlab.clone(),
    });
    let state_path = opts.state.clone();
    let sinks = move || -> anyhow::Result<Box<dyn sink::EventSink>> {
        let store = store::EventStore::open(&state_path)
            .with_context(|| format!("cannot open {}", state_path.display()))?;
        Ok(Box::new(store))
    };
    let threads = listen::start(listener, receiver, opts.limits, stop.clone(), &sinks)?;
    let settings = worker::WorkerSettings {
        gitlab: opts.gitlab,
        gitlab_url: opts.gitlab_url,
        gitlab_token: opts.gitlab_token,
        artifact_paths: opts.artifact_paths,
        project_dir: opts.project_dir,
        // A GitLab that stays down fails the event, which is tried again later.
        retry: tmbridge_core::sync::RetryPolicy {
            max_attempts: 4,
            ..tmbridge_core::sync::RetryPolicy::default()
        },
        work_dir: work_dir(&opts.state),
        max_attempts: opts.max_attempts,
        backoff: opts.retry_delay,
        poll: Duration::from_millis(250),
    };
    let (worker_stop, current) = (stop.clone(), Arc::new(AtomicI64::new(0)));
    let in_hand = current.clone();
    let worker = std::thread::Builder::new()
        .name("serve-worker".into())
        .spawn(move || {
            worker::run(
                worker_store,
                &settings,
                publisher.as_ref(),
                worker_stop,
                in_hand,
            )
        })?;
    while !stop.load(Ordering::SeqCst) {
        if worker.is_finished() {
            stop.store(true, Ordering::SeqCst);
            return match worker.join() {
                Ok(Err(e)) => Err(e),
                _ => Err(anyhow::anyhow!("the worker stopped unexpectedly")),
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let event = current.load(Ordering::SeqCst);
    if event > 0 {
        log(&format!(
            "stopping: no new webhooks; waiting up to {}s for event {event} to be published",
            opts.shutdown_grace.as_secs()
        ));
    } else {
        log("stopping");
    }
    let deadline = Instant::now() + opts.shutdown_grace;
    while !worker.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if worker.is_finished() {
        if let Ok(Err(e)) = worker.join() {
            log(&format!("{e:#}"));
        }
    } else {
        put_back(&opts.state, current.load(Ordering::SeqCst));
        // The worker lives on until the process exits: the state stays ours till then.
        std::mem::forget(state_lock);
    }
    // Requests being answered get what is left of the grace time; a webhook left
    // unanswered is delivered again by GitLab and found stored or not.
    join_until(
        threads,
        deadline.max(Instant::now() + Duration::from_millis(500)),
    );
    log("stopped");
    Ok(())
}

/// The event the worker is still publishing goes back to the queue; its publish
/// resumes from the outbox at the next start.
fn put_back(state: &Path, event: i64) {
    if event <= 0 {
        return;
    }
    let released = store::EventStore::open(state).and_then(|s| s.release(event));
    match released {
        Ok(true) => log(&format!(
            "event {event} is not finished; it resumes from its checkpoint at the next start"
        )),
        Ok(false) => {}
        Err(e) => log(&format!(
            "event {event} is not finished and stays marked in progress ({e}); it is taken up again at the next start"
        )),
    }
}
