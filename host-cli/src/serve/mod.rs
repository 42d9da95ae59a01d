//! `tmbridge serve`: receives GitLab Pipeline Hook webhooks, verifies their token,
//! stores each finished pipeline durably in SQLite and answers 200 at once; a
//! worker thread fetches the pipeline's JUnit reports through the GitLab API and
//! publishes them with retries. A restart picks up whatever was not finished.

mod front;
pub mod gitlab_api;
pub mod http;
pub mod publisher;
pub mod receive;
pub mod store;
mod wire;
pub mod worker;

use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tmbridge_core::gitlab::GitlabConfig;

/// Everything `serve` needs, already checked.
pub struct ServeOptions {
    pub listen: String,
    /// The SQLite file of the event queue.
    pub state: PathBuf,
    pub secret: Vec<u8>,
    pub gitlab: GitlabConfig,
    pub gitlab_url: Option<String>,
    pub gitlab_token: String,
    pub artifact_paths: Vec<String>,
    pub max_body: u64,
    pub max_attempts: i64,
    pub retry_delay: Duration,
    pub limits: http::Limits,
}

/// A line on stderr; a closed stderr is ignored rather than fatal.
pub fn log(message: &str) {
    let _ = writeln!(std::io::stderr(), "tmbridge serve: {message}");
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

/// Serves until the process is stopped. Stopping at any moment is safe: events are
/// committed before they are answered, and unfinished ones are taken up again.
pub fn run(opts: ServeOptions, publisher: Box<dyn worker::Publisher>) -> anyhow::Result<()> {
    if let Some(dir) = opts.state.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let store = store::EventStore::open(&opts.state)
        .with_context(|| format!("cannot open the event store {}", opts.state.display()))?;
    let resumed = store.requeue_interrupted()?;
    drop(store);
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
    if resumed > 0 {
        log(&format!(
            "resuming {resumed} event(s) interrupted by the last stop"
        ));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let receiver = Arc::new(http::Receiver {
        secret: opts.secret.clone(),
        max_body: opts.max_body,
        gitlab: opts.gitlab.clone(),
        store_path: opts.state.clone(),
    });
    let threads = http::start(listener, receiver, opts.limits, stop.clone())?;
    let settings = worker::WorkerSettings {
        gitlab: opts.gitlab,
        gitlab_url: opts.gitlab_url,
        gitlab_token: opts.gitlab_token,
        artifact_paths: opts.artifact_paths,
        work_dir: work_dir(&opts.state),
        max_attempts: opts.max_attempts,
        backoff: opts.retry_delay,
        poll: Duration::from_millis(250),
    };
    let state = opts.state.clone();
    let worker_stop = stop.clone();
    let worker = std::thread::Builder::new()
        .name("serve-worker".into())
        .spawn(move || worker::run(&state, &settings, publisher.as_ref(), worker_stop))?;
    let _ = worker.join();
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}
