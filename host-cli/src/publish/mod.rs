//! Publishing over real HTTP: the host loop around the core's sans-IO sessions,
//! with the durable outbox. `tmbridge publish` and `tmbridge serve` both call [`run`].

pub mod attachments;
mod http;
mod inputs;
pub mod mask;
pub mod outbox;

use anyhow::{Context, Result, bail};
use attachments::{AttachmentRules, Attachments, Policy};
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tmbridge_core::config::{Config, RunContext, Target};
use tmbridge_core::sync::rally::{Credentials, Publish, PublishInput, SessionOptions};
use tmbridge_core::sync::{HttpRequest, Report, ResponseKind, RetryPolicy, Session, Step};

/// Where secrets come from when [`PublishOptions::credentials`] is not given:
/// the variable named by `rally.api_key_env` (an API key), else these two.
pub const USERNAME_ENV: &str = "RALLY_USERNAME";
pub const PASSWORD_ENV: &str = "RALLY_PASSWORD";

/// The default outbox, relative to the working directory.
pub const DEFAULT_OUTBOX: &str = ".tmbridge/outbox.sqlite3";

/// How to publish.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub target: Target,
    /// The SQLite outbox; [`DEFAULT_OUTBOX`] when `None`.
    pub outbox: Option<PathBuf>,
    /// Send nothing: answer every request with a made-up reply and list them.
    pub dry_run: bool,
    /// Run values (pipeline, job, sprint...). An empty `now` means the clock.
    pub context: RunContext,
    /// Secrets; read from the environment when `None`.
    pub credentials: Option<Credentials>,
    pub retry: RetryPolicy,
    /// Seed of the retry jitter; from the clock when `None`.
    pub seed: Option<u64>,
    /// Timeout of one request, answer included.
    pub timeout: Duration,
    /// Progress lines on stderr for long work.
    pub progress: bool,
    /// Which files reports may attach: each report's folder tree, these folders, never
    /// these files (the outbox is always protected).
    pub attachments: AttachmentRules,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            target: Target::Rally,
            outbox: None,
            dry_run: false,
            context: RunContext::default(),
            credentials: None,
            retry: RetryPolicy::default(),
            seed: None,
            timeout: Duration::from_secs(60),
            progress: false,
            attachments: AttachmentRules::default(),
        }
    }
}

/// The configuration or the run values are wrong (not the target, not the network):
/// `tmbridge publish` exits with 2 for it.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A core error at the start of a session: bad configuration or run values are
/// usage errors, the rest plain errors.
fn start_error(e: tmbridge_core::Error) -> anyhow::Error {
    if ["config.", "template.", "context."]
        .iter()
        .any(|p| e.code.starts_with(p))
    {
        UsageError(e.to_string()).into()
    } else {
        anyhow::anyhow!("{e}")
    }
}

/// What a publish did.
#[derive(Debug, Clone, Serialize)]
pub struct PublishReport {
    /// The run's id in the outbox (none for a dry run).
    pub run_id: Option<i64>,
    /// The same work had been started before (a crash, a retry): it was resumed.
    pub resumed: bool,
    /// The work is finished: nothing is left to send for it.
    pub complete: bool,
    pub report: Report,
    /// Dry run: every request that would be sent, secrets masked.
    pub requests: Vec<HttpRequest>,
}

/// Publishes JUnit reports (name, bytes) to the target. The name is the report's
/// path: attachments are read from its folder tree and the allowed folders only. Errors are about the input or the
/// outbox; what the target said is in the report.
pub fn run(
    config: &Config,
    reports: Vec<(String, Vec<u8>)>,
    options: &PublishOptions,
) -> Result<PublishReport> {
    if options.target != Target::Rally {
        bail!(
            "publishing to {} is not supported yet; use --target rally",
            options.target.as_str()
        );
    }
    config
        .validate(Some(options.target))
        .map_err(|e| UsageError(format!("configuration: {e}")))?;
    let outbox_path = options
        .outbox
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTBOX));
    let mut rules = options.attachments.clone();
    rules.protected.push(outbox_path.clone());
    let policy = Policy::new(&rules).map_err(UsageError)?;
    let loaded = inputs::load(&reports, &policy)?;
    let mut context = options.context.clone();
    context.artifacts.extend(loaded.artifacts.clone());
    if context.now.trim().is_empty() {
        context.now = inputs::clock()?;
    }
    let input = PublishInput {
        config: config.clone(),
        cases: loaded.cases,
        context,
        cache: Default::default(),
    };
    let seed = options.seed.unwrap_or_else(inputs::clock_seed);
    let session_options = SessionOptions {
        seed,
        retry: options.retry,
    };
    if options.dry_run {
        // Shown with the sign-in flow a real run would use: API key or basic auth.
        let credentials = options
            .credentials
            .clone()
            .or_else(|| credentials_from_env(config).ok());
        return dry_run(input, session_options, &loaded.files, credentials.as_ref());
    }
    let credentials = match &options.credentials {
        Some(c) => c.clone(),
        None => credentials_from_env(config)?,
    };
    let path = outbox_path;
    let outbox = outbox::Outbox::open(&path)?;
    let target = options.target.as_str();
    let key = inputs::run_key(target, &input)?;
    let mut fresh = input;
    fresh.cache = outbox.refs(target)?;
    let row = outbox.claim(&key, target, &serde_json::to_string(&fresh)?)?;
    let input: PublishInput =
        serde_json::from_str(&row.input).context("the outbox holds an unreadable run")?;
    let resumed = row.attempts > 0;
    let mut session = match &row.progress {
        Some(p) => {
            let progress =
                serde_json::from_str(p).context("the outbox holds unreadable progress")?;
            Publish::resume(input, progress, credentials)
        }
        None => Publish::new(input, credentials, session_options).map_err(start_error)?,
    };
    if resumed && options.progress {
        eprintln!(
            "tmbridge: resuming run {} from the outbox ({})",
            row.id,
            path.display()
        );
    }
    let http = http::Http::new(options.timeout);
    let mut shown = Progress::new(options.progress);
    let report = loop {
        match session.next() {
            Step::Send(req) => {
                let mutating = req.method != tmbridge_core::sync::Method::Get;
                if mutating {
                    // Stored before it goes out: a crash from here on resumes with this
                    // request's outcome unknown, and the session looks before resending.
                    outbox.save_progress(row.id, &serde_json::to_string(session.progress())?)?;
                    let url = mask::masked_url(&req.url);
                    outbox.journal_sent(row.id, row.attempts, req.id, req.method.as_str(), &url)?;
                }
                let response = http.send(&req);
                if mutating {
                    let state = match (response.kind, response.status) {
                        (ResponseKind::Answered, 200..=299) => "confirmed",
                        (ResponseKind::Answered, 400..=499) => "refused",
                        _ => "lost",
                    };
                    outbox.journal_answer(row.id, row.attempts, req.id, state, response.status)?;
                }
                session
                    .receive(req.id, response)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                if mutating {
                    outbox.save_progress(row.id, &serde_json::to_string(session.progress())?)?;
                }
                shown.update(session.units());
            }
            Step::Wait { ms } => {
                shown.waiting(ms);
                std::thread::sleep(Duration::from_millis(ms));
            }
            Step::Read(file) => {
                let bytes = loaded.files.read(&file.path);
                session
                    .provide_file(file.id, bytes)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            Step::Done(report) => break report,
        }
    };
    shown.done();
    let report = mask::masked_report(report);
    let complete = report.error.is_none();
    let status = if complete { "done" } else { "pending" };
    outbox.finish(
        row.id,
        status,
        &serde_json::to_string(&report)?,
        &serde_json::to_string(session.progress())?,
    )?;
    if let tmbridge_core::sync::rally::Details::Publish(d) = &report.details {
        outbox.store_refs(target, &d.cache)?;
    }
    Ok(PublishReport {
        run_id: Some(row.id),
        resumed,
        complete,
        report,
        requests: Vec::new(),
    })
}

fn dry_run(
    input: PublishInput,
    options: SessionOptions,
    files: &Attachments,
    credentials: Option<&Credentials>,
) -> Result<PublishReport> {
    // Placeholders of the same kind as the real secrets: the requests show the real
    // flow (basic auth asks for a security token first), never a real secret.
    let placeholder = "(dry-run)".to_string();
    let creds = match credentials {
        Some(Credentials::Basic { .. }) => Credentials::Basic {
            username: placeholder.clone(),
            password: placeholder,
        },
        _ => Credentials::ApiKey(placeholder),
    };
    let mut session = Publish::new(input, creds, options).map_err(start_error)?;
    let mut counter = 0;
    let mut requests = Vec::new();
    let report = loop {
        match session.next() {
            Step::Send(req) => {
                let answer = tmbridge_core::sync::dry_run::answer(&req, &mut counter);
                requests.push(mask::masked(&req));
                session
                    .receive(req.id, answer)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            Step::Wait { .. } => {}
            Step::Read(file) => {
                let bytes = files.read(&file.path);
                session
                    .provide_file(file.id, bytes)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            Step::Done(report) => break mask::masked_report(report),
        }
    };
    Ok(PublishReport {
        run_id: None,
        resumed: false,
        complete: report.error.is_none(),
        report,
        requests,
    })
}

/// Secrets from the environment: the API key first, else user and password.
pub fn credentials_from_env(config: &Config) -> Result<Credentials> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let key_env = &config.rally.api_key_env;
    if let Some(key) = env(key_env) {
        return Ok(Credentials::ApiKey(key.trim().to_string()));
    }
    if let (Some(username), Some(password)) = (env(USERNAME_ENV), env(PASSWORD_ENV)) {
        return Ok(Credentials::Basic { username, password });
    }
    Err(UsageError(format!(
        "no Rally credentials: set {key_env} to an API key (rally.api_key_env names the variable), or {USERNAME_ENV} and {PASSWORD_ENV}"
    ))
    .into())
}

/// Progress on stderr: at most one line a second, and only for long work.
struct Progress {
    on: bool,
    started: Instant,
    last: Option<Instant>,
    seen: (u64, u64),
}

impl Progress {
    fn new(on: bool) -> Progress {
        Progress {
            on,
            started: Instant::now(),
            last: None,
            seen: (0, 0),
        }
    }

    fn update(&mut self, units: (u64, u64)) {
        if !self.on || units == self.seen || units.1 == 0 {
            return;
        }
        self.seen = units;
        let quiet = self.started.elapsed() < Duration::from_secs(2)
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_secs(1));
        if quiet && units.0 < units.1 {
            return;
        }
        self.last = Some(Instant::now());
        eprintln!("tmbridge: {}/{} results sent", units.0, units.1);
    }

    fn waiting(&mut self, ms: u64) {
        if self.on && ms >= 1000 {
            eprintln!(
                "tmbridge: Rally asked to wait; retrying in {:.1} s",
                ms as f64 / 1000.0
            );
        }
    }

    fn done(&self) {
        if self.on && self.last.is_some() {
            eprintln!(
                "tmbridge: done in {:.1} s",
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}
