//! Publishing to TestRail: the same host loop, outbox, journal and attachment rules
//! as Rally, driving the core's `testrail.publish` session; and the export's
//! switch-off when TestRail refuses the credentials or the rights (401/403): the
//! outbox records why and when, every later run says how to re-enable it and sends
//! nothing until `tmbridge connect --target testrail` passes and a publish runs with
//! `--reenable`.

use super::attachments::{Attachments, Policy};
use super::journal::Journaled;
use super::{
    DEFAULT_OUTBOX, PublishOptions, PublishReport, ReportSource, UsageError, inputs, outbox,
};
use crate::host::{self, Hooks, mask};
use anyhow::{Context, Result};
use rusqlite::{Connection, params};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tmbridge_core::config::Config;
use tmbridge_core::session::{Secrets, StartOptions};
use tmbridge_core::sync::details::Details;
use tmbridge_core::sync::rally::PublishInput;
use tmbridge_core::sync::{HttpRequest, HttpResponse};

const KIND: &str = "testrail.publish";
const TARGET: &str = "testrail";
/// Without a user variable's value, the password (instead of an API key) comes from here.
pub const PASSWORD_ENV: &str = "TESTRAIL_PASSWORD";

/// Why and since when the export is off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disabled {
    pub since: String,
    pub code: String,
    pub reason: String,
}

/// How to turn the export back on, said on every run while it is off.
pub fn reenable_hint(config_path: &str) -> String {
    let config = if config_path.is_empty() {
        "--config FILE".to_string()
    } else {
        format!("--config {config_path}")
    };
    format!(
        "check the credentials with `tmbridge connect --target testrail {config}`, then publish again with --reenable"
    )
}

/// The export switch of the outbox (a table of its own in the same file).
pub struct Switch {
    conn: Connection,
}

impl Switch {
    pub fn open(outbox: &Path) -> Result<Switch> {
        if let Some(dir) = outbox.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the outbox folder {}", dir.display()))?;
        }
        let conn = Connection::open(outbox)
            .with_context(|| format!("cannot open the outbox {}", outbox.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS export_switch (
                target TEXT PRIMARY KEY,
                disabled_at TEXT NOT NULL,
                code TEXT NOT NULL,
                reason TEXT NOT NULL
            );",
        )?;
        Ok(Switch { conn })
    }

    pub fn disabled(&self, target: &str) -> Result<Option<Disabled>> {
        let mut stmt = self
            .conn
            .prepare("SELECT disabled_at, code, reason FROM export_switch WHERE target = ?1")?;
        let mut rows = stmt.query(params![target])?;
        Ok(match rows.next()? {
            Some(r) => Some(Disabled {
                since: r.get(0)?,
                code: r.get(1)?,
                reason: r.get(2)?,
            }),
            None => None,
        })
    }

    pub fn disable(&self, target: &str, since: &str, code: &str, reason: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO export_switch (target, disabled_at, code, reason) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(target) DO UPDATE SET disabled_at = ?2, code = ?3, reason = ?4",
            params![target, since, code, mask::mask_text(reason)],
        )?;
        Ok(())
    }

    pub fn enable(&self, target: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM export_switch WHERE target = ?1",
            params![target],
        )?;
        Ok(())
    }
}

/// TestRail's secrets from the environment: the user from the variable
/// `testrail.user_env` names, the API key from `testrail.api_key_env` (else the
/// password from TESTRAIL_PASSWORD).
pub fn secrets_from_env(config: &Config) -> Result<Secrets> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let tr = &config.testrail;
    let username = env(&tr.user_env);
    let api_key = env(&tr.api_key_env);
    let password = env(PASSWORD_ENV);
    if username.is_none() || (api_key.is_none() && password.is_none()) {
        return Err(UsageError(format!(
            "no TestRail credentials: set {} to the user's email and {} to an API key (or {PASSWORD_ENV} to the password); testrail.user_env and testrail.api_key_env name the variables",
            tr.user_env, tr.api_key_env
        ))
        .into());
    }
    Ok(Secrets {
        api_key,
        username: username.map(|u| u.trim().to_string()),
        password,
    })
}

/// What `tmbridge publish --target testrail` adds to the common options.
#[derive(Debug, Clone, Default)]
pub struct TestrailOptions {
    /// Turn an export switched off by a 401/403 back on.
    pub reenable: bool,
    /// The configuration file, for messages.
    pub config_path: String,
}

/// A publish and, when the export is off, why.
#[derive(Debug, Clone, Serialize)]
pub struct TestrailPublish {
    #[serde(flatten)]
    pub publish: PublishReport,
    /// Set when nothing was sent because the export is off (or just went off).
    pub disabled: Option<Disabled>,
}

/// Publishes test reports (name, bytes; or allure-results folders) to TestRail.
pub fn run<R: Into<ReportSource>>(
    config: &Config,
    reports: Vec<R>,
    options: &PublishOptions,
    extra: &TestrailOptions,
) -> Result<TestrailPublish> {
    config
        .validate(Some(tmbridge_core::config::Target::Testrail))
        .map_err(|e| UsageError(format!("configuration: {e}")))?;
    let outbox_path = options
        .outbox
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTBOX));
    let mut rules = options.attachments.clone();
    rules.protected.push(outbox_path.clone());
    let policy = Policy::new(&rules).map_err(UsageError)?;
    let reports: Vec<ReportSource> = reports.into_iter().map(Into::into).collect();
    let mut loaded = inputs::load(&reports, &policy)?;
    loaded.cases.extend(options.cases.iter().cloned());
    let mut context = options.context.clone();
    context.artifacts.extend(loaded.artifacts.clone());
    if context.now.trim().is_empty() {
        context.now = inputs::clock()?;
    }
    // The TestRail input has the same shape as Rally's.
    let input = PublishInput {
        config: config.clone(),
        cases: loaded.cases,
        context,
        cache: Default::default(),
    };
    let start_options = StartOptions {
        seed: options.seed.unwrap_or_else(inputs::clock_seed),
        retry: options.retry,
    };
    if options.dry_run {
        return dry_run(&input, start_options, &loaded.files);
    }
    let switch = Switch::open(&outbox_path)?;
    if extra.reenable {
        switch.enable(TARGET)?;
    }
    if let Some(off) = switch.disabled(TARGET)? {
        return Ok(TestrailPublish {
            publish: PublishReport {
                run_id: None,
                resumed: false,
                complete: false,
                report: off_report(&off, &extra.config_path),
                requests: Vec::new(),
            },
            disabled: Some(off),
        });
    }
    let secrets = secrets_from_env(config)?;
    let outbox = outbox::Outbox::open(&outbox_path)?;
    let key = inputs::run_key(TARGET, &input)?;
    let mut fresh = input;
    fresh.cache = outbox.refs(TARGET)?;
    let row = outbox.claim(&key, TARGET, &serde_json::to_string(&fresh)?)?;
    let resumed = row.attempts > 0;
    let mut session = match &row.progress {
        Some(progress) => crate::engine::resume_session(KIND, &row.input, progress, &secrets)
            .map_err(|e| anyhow::anyhow!("the outbox holds a run that cannot be resumed: {e}"))?,
        None => start(&row.input, start_options, &secrets)?,
    };
    if resumed && options.progress {
        eprintln!(
            "tmbridge: resuming run {} from the outbox ({})",
            row.id,
            outbox_path.display()
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
    let mut store = |progress: &str| outbox.save_progress(row.id, progress);
    let mut read_file = |path: &str| loaded.files.read(path);
    let mut hooks = Hooks {
        read_file: &mut read_file,
        store: &mut store,
        progress: options.progress,
        target: "TestRail",
    };
    let report = host::drive(session.as_mut(), &mut journaled, &mut hooks)?;
    if let Some(e) = journaled.failure {
        return Err(e.context("the outbox journal could not be written; the run stays pending"));
    }
    let report = mask::masked_report(report);
    let complete = report.error.is_none();
    let progress = session
        .save_progress()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    outbox.finish(
        row.id,
        if complete { "done" } else { "pending" },
        &serde_json::to_string(&report)?,
        &progress,
    )?;
    let mut disabled = None;
    if let Details::TestrailPublish(d) = &report.details {
        outbox.store_refs(TARGET, &d.cache)?;
        if let Some(lost) = &d.access_lost {
            let since = inputs::clock()?;
            switch.disable(TARGET, &since, &lost.code, &lost.message)?;
            disabled = switch.disabled(TARGET)?;
        }
    }
    Ok(TestrailPublish {
        publish: PublishReport {
            run_id: Some(row.id),
            resumed,
            complete,
            report,
            requests: Vec::new(),
        },
        disabled,
    })
}

/// The report of a run that sent nothing because the export is off.
fn off_report(off: &Disabled, config_path: &str) -> tmbridge_core::sync::Report {
    let error = tmbridge_core::Error::new(
        "testrail.export_disabled",
        format!(
            "the TestRail export is switched off since {} because TestRail refused access ({}: {}); nothing was sent",
            off.since, off.code, off.reason
        ),
    )
    .with_hint(reenable_hint(config_path));
    tmbridge_core::sync::Ledger::default().into_report(
        Some(error),
        false,
        tmbridge_core::sync::Stats::default(),
        Details::TestrailPublish(
            tmbridge_core::sync::details::testrail::TestrailPublishDetails {
                project: None,
                suite: None,
                run: None,
                plan: None,
                cache: Default::default(),
                summary: Vec::new(),
                review: Vec::new(),
                access_lost: None,
            },
        ),
    )
}

fn start(
    input_json: &str,
    options: StartOptions,
    secrets: &Secrets,
) -> Result<Box<dyn host::Driver>> {
    let input: serde_json::Value =
        serde_json::from_str(input_json).context("the outbox holds an unreadable run")?;
    crate::engine::start_session(KIND, &input, secrets, options).map_err(super::start_error)
}

/// Sends nothing: answers like an empty TestRail and lists every request, masked.
#[derive(Default)]
pub struct DryRun {
    counter: u64,
    requests: Vec<HttpRequest>,
}

impl DryRun {
    pub fn into_requests(self) -> Vec<HttpRequest> {
        self.requests
    }
}

impl host::Transport for DryRun {
    fn send(&mut self, request: &HttpRequest) -> HttpResponse {
        self.requests.push(mask::masked(request));
        tmbridge_core::sync::testrail::dry_run::answer(request, &mut self.counter)
    }

    fn wait(&mut self, _ms: u64) {}
}

fn dry_run(
    input: &PublishInput,
    options: StartOptions,
    files: &Attachments,
) -> Result<TestrailPublish> {
    let placeholder = Secrets {
        username: Some("(dry-run)".into()),
        api_key: Some("(dry-run)".into()),
        password: None,
    };
    // Custom statuses named in the table are resolved by the instance; a dry run has
    // none, so they stand as status 1 in the requests shown.
    let mut input = input.clone();
    input.config.testrail.statuses =
        tmbridge_core::sync::testrail::statuses::placeholder(&input.config.testrail.statuses);
    let mut session = start(&serde_json::to_string(&input)?, options, &placeholder)?;
    let mut transport = DryRun::default();
    let mut read_file = |path: &str| files.read(path);
    let mut hooks = Hooks {
        read_file: &mut read_file,
        store: &mut host::no_store,
        progress: false,
        target: "TestRail",
    };
    let report = mask::masked_report(host::drive(session.as_mut(), &mut transport, &mut hooks)?);
    Ok(TestrailPublish {
        publish: PublishReport {
            run_id: None,
            resumed: false,
            complete: report.error.is_none(),
            report,
            requests: transport.requests,
        },
        disabled: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_remembers_why_until_reenabled() {
        let dir = std::env::temp_dir().join(format!("tmbridge-switch-{}", std::process::id()));
        let path = dir.join("outbox.sqlite3");
        let switch = Switch::open(&path).unwrap();
        assert_eq!(switch.disabled(TARGET).unwrap(), None);
        switch
            .disable(
                TARGET,
                "2026-12-03T10:00:00Z",
                "testrail.unauthorized",
                "refused",
            )
            .unwrap();
        let again = Switch::open(&path).unwrap();
        let off = again.disabled(TARGET).unwrap().unwrap();
        assert_eq!(
            (off.code.as_str(), off.since.as_str()),
            ("testrail.unauthorized", "2026-12-03T10:00:00Z")
        );
        again.enable(TARGET).unwrap();
        assert_eq!(again.disabled(TARGET).unwrap(), None);
        let _ = std::fs::remove_dir_all(dir);
    }
}
