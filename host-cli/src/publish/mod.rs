//! Publishing over real HTTP: the CLI's one host loop (`crate::host`) driving the
//! core's `rally.publish` session, with the durable outbox storing its input once and
//! its progress at every save point the session names. `tmbridge publish` and `tmbridge serve` both call [`run`].

pub mod attachments;
mod inputs;
mod journal;
pub mod outbox;
pub mod qtest;
pub mod testrail;

use crate::host::{self, Driver, Hooks, mask};
use anyhow::{Context, Result, bail};
use attachments::{AttachmentRules, Attachments, Policy};
pub use inputs::ReportSource;
use journal::Journaled;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;
use tmbridge_core::config::{Config, RunContext, Target};
use tmbridge_core::model::TestCase;
use tmbridge_core::session::{SAVED_VERSION, Secrets, StartOptions};
use tmbridge_core::sync::kind::PROGRESS_FORMAT;
use tmbridge_core::sync::rally::{Credentials, Details, PublishInput};
use tmbridge_core::sync::{HttpRequest, Report, RetryPolicy};

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
    /// Tests that come without a report file (GitLab's pipeline test report).
    pub cases: Vec<TestCase>,
    /// Waited at before each request: a rate limit shared by every worker.
    pub gate: Option<crate::host::Gate>,
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
            cases: Vec::new(),
            gate: None,
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

/// Publishes test reports (name, bytes; or allure-results folders) to the target. The
/// name is the report's path: attachments are read from its folder tree (an
/// allure-results folder: the folder) and the allowed folders only. Errors are about
/// the input or the outbox; what the target said is in the report.
pub fn run<R: Into<ReportSource>>(
    config: &Config,
    reports: Vec<R>,
    options: &PublishOptions,
) -> Result<PublishReport> {
    let reports: Vec<ReportSource> = reports.into_iter().map(Into::into).collect();
    let kind = match options.target {
        Target::Rally => KIND,
        Target::Qtest => qtest::KIND,
        other => bail!(
            "publishing to {} goes through its own module; use --target rally or qtest here",
            other.as_str()
        ),
    };
    let label = target_label(options.target);
    // qTest's session checks its own section when it starts.
    if options.target == Target::Rally {
        config
            .validate(Some(options.target))
            .map_err(|e| UsageError(format!("configuration: {e}")))?;
    }
    let outbox_path = options
        .outbox
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTBOX));
    let mut rules = options.attachments.clone();
    rules.protected.push(outbox_path.clone());
    let policy = Policy::new(&rules).map_err(UsageError)?;
    let mut loaded = inputs::load(&reports, &policy)?;
    loaded.cases.extend(options.cases.iter().cloned());
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
    let seed = options.seed.unwrap_or_else(clock_seed);
    let start_options = StartOptions {
        seed,
        retry: options.retry,
    };
    if options.dry_run {
        // Shown with the sign-in flow a real run would use: API key or basic auth.
        let credentials = options
            .credentials
            .clone()
            .or_else(|| credentials_from_env(config).ok());
        let secrets = match options.target {
            Target::Qtest => qtest::dry_run_secrets(),
            _ => dry_run_secrets(credentials.as_ref()),
        };
        return dry_run(&input, kind, label, start_options, &loaded.files, &secrets);
    }
    let secrets = match (options.target, &options.credentials) {
        (Target::Qtest, _) => qtest::secrets_from_env(config)?,
        (_, Some(c)) => secrets_of(c),
        (_, None) => secrets_of(&credentials_from_env(config)?),
    };
    let path = outbox_path;
    let outbox = outbox::Outbox::open(&path)?;
    let target = options.target.as_str();
    let key = inputs::run_key(target, &input)?;
    let mut fresh = input;
    fresh.cache = outbox.refs(target)?;
    let row = outbox.claim(&key, target, &serde_json::to_string(&fresh)?)?;
    let resumed = row.attempts > 0;
    let mut session = match &row.progress {
        Some(progress) => crate::engine::resume_session(
            kind,
            &row.input,
            &stored_progress(kind, progress),
            &secrets,
        )
        .map_err(|e| anyhow::anyhow!("the outbox holds a run that cannot be resumed: {e}"))?,
        None => start(kind, &row.input, start_options, &secrets)?,
    };
    if resumed && options.progress {
        eprintln!(
            "tmbridge: resuming run {} from the outbox ({})",
            row.id,
            path.display()
        );
    }
    let mut network = host::Network::new(options.timeout).gated(options.gate.clone());
    let mut journaled = Journaled {
        inner: &mut network,
        outbox: &outbox,
        run: row.id,
        attempt: row.attempts,
        failure: None,
    };
    // Stored at every save point: before a request that changes the target (a crash
    // from there resumes with its outcome unknown, and the session looks before
    // resending) and once its answer is in.
    let mut store = |progress: &str| outbox.save_progress(row.id, progress);
    let mut read_file = |path: &str| loaded.files.read(path);
    let mut hooks = Hooks {
        read_file: &mut read_file,
        store: &mut store,
        progress: options.progress,
        target: label,
    };
    let report = host::drive(session.as_mut(), &mut journaled, &mut hooks)?;
    if let Some(e) = journaled.failure {
        return Err(e.context("the outbox journal could not be written; the run stays pending"));
    }
    let report = mask::masked_report(report);
    let complete = report.error.is_none();
    let status = if complete { "done" } else { "pending" };
    let progress = session
        .save_progress()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    outbox.finish(row.id, status, &serde_json::to_string(&report)?, &progress)?;
    if let Details::Publish(d) = &report.details {
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

/// The session kind publish drives for Rally.
const KIND: &str = "rally.publish";

/// What the target is called in messages.
pub fn target_label(target: Target) -> &'static str {
    match target {
        Target::Qtest => "qTest",
        Target::Testrail => "TestRail",
        _ => "Rally",
    }
}

/// Starts the publish session from its input as JSON.
fn start(
    kind: &str,
    input_json: &str,
    options: StartOptions,
    secrets: &Secrets,
) -> Result<Box<dyn Driver>> {
    let input: serde_json::Value =
        serde_json::from_str(input_json).context("the outbox holds an unreadable run")?;
    crate::engine::start_session(kind, &input, secrets, options).map_err(start_error)
}

/// Progress as stored: outboxes written before progress was saved in its own format
/// hold the bare progress, which is wrapped so they resume too.
fn stored_progress<'a>(kind: &str, text: &'a str) -> std::borrow::Cow<'a, str> {
    if text.contains(&format!("\"format\":\"{PROGRESS_FORMAT}\"")) {
        return text.into();
    }
    format!(
        "{{\"format\":\"{PROGRESS_FORMAT}\",\"version\":{SAVED_VERSION},\"kind\":\"{kind}\",\"progress\":{text}}}"
    )
    .into()
}

/// The session API's secrets for these credentials.
fn secrets_of(credentials: &Credentials) -> Secrets {
    match credentials {
        Credentials::ApiKey(key) => Secrets {
            api_key: Some(key.clone()),
            ..Secrets::default()
        },
        Credentials::Basic { username, password } => Secrets {
            username: Some(username.clone()),
            password: Some(password.clone()),
            ..Secrets::default()
        },
    }
}

/// Placeholders of the same kind as the real secrets: the requests show the real
/// flow (basic auth asks for a security token first), never a real secret.
fn dry_run_secrets(credentials: Option<&Credentials>) -> Secrets {
    let placeholder = "(dry-run)".to_string();
    let creds = match credentials {
        Some(Credentials::Basic { .. }) => Credentials::Basic {
            username: placeholder.clone(),
            password: placeholder,
        },
        _ => Credentials::ApiKey(placeholder),
    };
    secrets_of(&creds)
}

fn dry_run(
    input: &PublishInput,
    kind: &str,
    label: &'static str,
    options: StartOptions,
    files: &Attachments,
    secrets: &Secrets,
) -> Result<PublishReport> {
    let mut session = start(kind, &serde_json::to_string(input)?, options, secrets)?;
    let mut transport = host::DryRun::default();
    let mut read_file = |path: &str| files.read(path);
    let mut hooks = Hooks {
        read_file: &mut read_file,
        store: &mut host::no_store,
        progress: false,
        target: label,
    };
    let report = mask::masked_report(host::drive(session.as_mut(), &mut transport, &mut hooks)?);
    Ok(PublishReport {
        run_id: None,
        resumed: false,
        complete: report.error.is_none(),
        report,
        requests: transport.requests().to_vec(),
    })
}

/// A seed for the retry jitter, from the clock.
pub fn clock_seed() -> u64 {
    inputs::clock_seed()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_stored_by_an_older_tmbridge_resumes() {
        let input = serde_json::json!({
            "config": {"rally": {"url": "https://rally.test", "workspace": "/workspace/1", "project": "/project/2"}},
            "cases": [],
            "context": {"now": "2024-05-01T10:00:00Z", "pipeline_id": "7"},
        });
        let secrets = secrets_of(&Credentials::ApiKey("k".into()));
        let mut session =
            start(KIND, &input.to_string(), StartOptions::default(), &secrets).unwrap();
        let saved: serde_json::Value =
            serde_json::from_str(&session.save_progress().unwrap()).unwrap();
        // What older versions stored: the progress object itself.
        let bare = saved["progress"].to_string();
        let input_json = input.to_string();
        for stored in [bare.clone(), saved.to_string()] {
            let progress = stored_progress(KIND, &stored);
            let resumed = tmbridge_core::session::SessionHandle::resume_parts(
                KIND,
                input_json.as_bytes(),
                progress.as_bytes(),
                &secrets,
            );
            assert!(resumed.is_ok(), "{stored}: {:?}", resumed.err());
        }
    }
}
