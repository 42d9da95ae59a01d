//! The background worker: takes stored pipeline events one at a time, downloads the
//! JUnit reports of their test jobs through the GitLab API, publishes them, and
//! records the outcome. Failures that may pass (GitLab or the target down) are
//! retried with exponential backoff; the others fail the event with the reason.

use super::store::{EventStore, StoredEvent};
use crate::host::{self, Hooks};
use base64::Engine;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;
use tmbridge_core::gitlab::{GitlabConfig, PipelineEvent, decide, parse_pipeline_event};
use tmbridge_core::model::TestCase;
use tmbridge_core::session::{Secrets, StartOptions};
use tmbridge_core::sync::RetryPolicy;
use tmbridge_core::sync::details::Details;
use tmbridge_core::sync::details::gitlab::{ArchiveFile, ReportSource, ReportsOutput};
use tmbridge_core::sync::mask::mask_text;

/// What a publish needs to know about the run, from the pipeline event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunValues {
    pub pipeline_id: String,
    pub pipeline_url: Option<String>,
    pub ref_name: String,
    pub sha: String,
    pub project_url: Option<String>,
    /// Set when the reports come from one job.
    pub job_id: Option<String>,
    pub job_name: Option<String>,
    pub job_url: Option<String>,
}

/// One publish the worker asks for.
#[derive(Debug, Clone)]
pub struct PublishJob {
    pub event_id: i64,
    /// Report files, downloaded into the event's work folder.
    pub reports: Vec<PathBuf>,
    /// Tests from GitLab's pipeline test report, when no archive held a report.
    pub cases: Vec<TestCase>,
    /// The jobs' folders in the work folder: attachments may come from there.
    pub attachment_dirs: Vec<PathBuf>,
    /// Attachments named by the runner's absolute paths, and where they were put.
    pub fetched: BTreeMap<String, PathBuf>,
    pub run: RunValues,
}

/// How long one GitLab download may take.
const DOWNLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// Why something failed, and whether another try may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Transient(String),
    Permanent(String),
}

impl Failure {
    /// The same failure with every secret in its message masked.
    pub(crate) fn masked(self) -> Failure {
        match self {
            Failure::Transient(m) => Failure::Transient(mask_text(&m)),
            Failure::Permanent(m) => Failure::Permanent(mask_text(&m)),
        }
    }
}

/// Sends reports to the target; returns a report (JSON) of what it did.
pub trait Publisher: Send {
    fn publish(&self, job: &PublishJob) -> Result<String, Failure>;
}

pub struct WorkerSettings {
    pub gitlab: GitlabConfig,
    /// GitLab's URL as the user configured it: the only host the API token goes to
    /// (never one an event names).
    pub gitlab_url: String,
    pub gitlab_token: String,
    /// Report files in the test jobs' artifacts archives: paths or globs.
    pub artifact_paths: Vec<String>,
    /// The runner's `CI_PROJECT_DIR`, for attachments named by absolute paths.
    pub project_dir: Option<String>,
    /// How the GitLab session retries 5xx, 429 and lost connections.
    pub retry: RetryPolicy,
    /// Where downloaded reports are kept.
    pub work_dir: PathBuf,
    pub max_attempts: i64,
    /// First retry delay; doubles on each attempt, at most an hour.
    pub backoff: Duration,
    /// How often to look for due events when idle.
    pub poll: Duration,
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Runs until `stop` is set, then returns after the event in hand is recorded.
/// `current` names that event (0 when idle), so a stop that cannot wait for its
/// end can put it back in the queue.
pub fn run(
    store: EventStore,
    settings: &WorkerSettings,
    publisher: &dyn Publisher,
    stop: Arc<AtomicBool>,
    current: Arc<AtomicI64>,
) -> anyhow::Result<()> {
    while !stop.load(Ordering::SeqCst) {
        match store.claim_due(unix_now()) {
            Ok(Some(event)) => {
                current.store(event.id, Ordering::SeqCst);
                handle(&store, settings, publisher, &event);
                current.store(0, Ordering::SeqCst);
            }
            Ok(None) => std::thread::sleep(settings.poll),
            Err(e) => {
                super::log(&format!("reading the event queue failed: {e}"));
                std::thread::sleep(settings.poll);
            }
        }
    }
    Ok(())
}

fn handle(
    store: &EventStore,
    settings: &WorkerSettings,
    publisher: &dyn Publisher,
    event: &StoredEvent,
) {
    // What is logged and stored never carries a secret, whatever an error quoted.
    let outcome = process(settings, publisher, event)
        .map(|report| mask_text(&report))
        .map_err(Failure::masked);
    let result = match &outcome {
        Ok(report) => {
            super::log(&format!(
                "event {} (pipeline {}) published",
                event.id, event.pipeline_id
            ));
            store.finish(event.id, report)
        }
        Err(Failure::Transient(msg)) if event.attempts < settings.max_attempts => {
            let factor = 1u32 << (event.attempts.clamp(1, 12) - 1);
            let delay = settings
                .backoff
                .saturating_mul(factor)
                .min(Duration::from_secs(3600));
            super::log(&format!(
                "event {} attempt {} failed, retrying in {}s: {msg}",
                event.id,
                event.attempts,
                delay.as_secs()
            ));
            store.retry_or_fail(event.id, msg, Some(unix_now() + delay.as_secs() as i64))
        }
        Err(Failure::Transient(msg)) | Err(Failure::Permanent(msg)) => {
            super::log(&format!("event {} failed: {msg}", event.id));
            store.retry_or_fail(event.id, msg, None)
        }
    };
    if let Err(e) = result {
        super::log(&format!("recording event {} failed: {e}", event.id));
    }
}

/// Finds the event's reports through the core's `gitlab.reports` session, puts them
/// (and the files they attach) in the event's work folder, and publishes them.
pub fn process(
    settings: &WorkerSettings,
    publisher: &dyn Publisher,
    event: &StoredEvent,
) -> Result<String, Failure> {
    let pipeline =
        parse_pipeline_event(&event.body).map_err(|e| Failure::Permanent(e.to_string()))?;
    let decision = decide(&pipeline, &settings.gitlab);
    if !decision.process {
        return Ok(serde_json::json!({"skipped": decision.reason}).to_string());
    }
    let found = find_reports(settings, event, &pipeline, &decision.jobs)?;
    let dir = settings.work_dir.join(format!("event-{}", event.id));
    let mut job = PublishJob {
        event_id: event.id,
        reports: Vec::new(),
        cases: Vec::new(),
        attachment_dirs: Vec::new(),
        fetched: BTreeMap::new(),
        run: RunValues {
            pipeline_id: pipeline.pipeline_id.to_string(),
            pipeline_url: pipeline.url.clone(),
            ref_name: pipeline.ref_name.clone(),
            sha: pipeline.sha.clone(),
            project_url: pipeline.project.as_ref().and_then(|p| p.web_url.clone()),
            ..RunValues::default()
        },
    };
    match found.source {
        ReportSource::Artifacts => {
            for file in &found.reports {
                job.reports.push(write_member(&dir, file)?);
            }
            for file in &found.attachments {
                let local = write_member(&dir, file)?;
                job.fetched.insert(file.named_as.clone(), local);
            }
            for j in &found.jobs {
                job.attachment_dirs.push(dir.join(format!("job-{}", j.id)));
            }
            if let [only] = found.jobs.as_slice() {
                job.run.job_id = Some(only.id.to_string());
                job.run.job_name = Some(only.name.clone());
                job.run.job_url = only.web_url.clone();
            }
        }
        ReportSource::TestReport => job.cases = found.test_report.unwrap_or_default(),
        ReportSource::None => {
            return Ok(serde_json::json!({
                "skipped": format!(
                    "no job of pipeline {} keeps a report matching {} in its artifacts, and GitLab has no test report for it",
                    pipeline.pipeline_id,
                    settings.artifact_paths.join(" or ")
                )
            })
            .to_string());
        }
    }
    publisher.publish(&job)
}

/// Runs the `gitlab.reports` session over the network, in the selected engine.
fn find_reports(
    settings: &WorkerSettings,
    event: &StoredEvent,
    pipeline: &PipelineEvent,
    jobs: &[u64],
) -> Result<ReportsOutput, Failure> {
    let input = serde_json::json!({
        "gitlab_url": settings.gitlab_url,
        "project_id": event.project_id,
        "pipeline_id": pipeline.pipeline_id,
        "jobs": jobs,
        "globs": settings.artifact_paths,
        "project_dir": settings.project_dir,
        "project_path": pipeline.project.as_ref().and_then(|p| p.path_with_namespace.clone()),
    });
    let secrets = Secrets {
        api_key: Some(settings.gitlab_token.clone()),
        ..Secrets::default()
    };
    let options = StartOptions {
        seed: crate::publish::clock_seed(),
        retry: settings.retry,
    };
    // The event's own URLs (project.web_url...) are never where the token goes: the
    // session sends it to `gitlab_url` only.
    let mut session = crate::engine::start_session("gitlab.reports", &input, &secrets, options)
        .map_err(|e| Failure::Permanent(e.to_string()))?;
    let mut network = host::Network::new(DOWNLOAD_TIMEOUT);
    let mut hooks = Hooks {
        read_file: &mut host::no_files,
        store: &mut host::no_store,
        progress: false,
        target: "GitLab",
    };
    let report = host::drive(session.as_mut(), &mut network, &mut hooks)
        .map_err(|e| Failure::Transient(format!("{e:#}")))?;
    for w in &report.warnings {
        super::log(&format!("event {}: {}", event.id, w.message));
    }
    if let Some(e) = &report.error {
        return Err(if report.retryable {
            Failure::Transient(e.to_string())
        } else {
            Failure::Permanent(e.to_string())
        });
    }
    match report.details {
        Details::GitlabReports(found) => Ok(found),
        _ => Err(Failure::Permanent(
            "the GitLab session reported something else".into(),
        )),
    }
}

/// Writes an archive member under the event's folder: `job-<id>/<member>`.
fn write_member(dir: &Path, file: &ArchiveFile) -> Result<PathBuf, Failure> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&file.content_base64)
        .map_err(|e| Failure::Permanent(format!("{}: {e}", file.member)))?;
    let local = dir
        .join(format!("job-{}", file.job_id))
        .join(safe_relative(&file.member));
    if let Some(parent) = local.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::Transient(format!("cannot create {}: {e}", parent.display())))?;
    }
    std::fs::write(&local, &bytes)
        .map_err(|e| Failure::Transient(format!("cannot write {}: {e}", local.display())))?;
    Ok(local)
}

/// A path from the configuration, kept inside the work directory.
fn safe_relative(path: &str) -> PathBuf {
    path.split('/')
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tmbridge_simulators::gitlab::{GitlabSim, JobSpec, PipelineSpec};
    use tmbridge_simulators::{HttpRequest, HttpServer, Outcome, Reply};

    struct Recorder(
        Mutex<Vec<(Vec<String>, RunValues)>>,
        Result<String, Failure>,
    );

    impl Publisher for Recorder {
        fn publish(&self, job: &PublishJob) -> Result<String, Failure> {
            let texts = job
                .reports
                .iter()
                .map(|p| std::fs::read_to_string(p).unwrap())
                .collect();
            self.0.lock().unwrap().push((texts, job.run.clone()));
            self.1.clone()
        }
    }

    fn settings(dir: &Path, sim: &GitlabSim) -> WorkerSettings {
        WorkerSettings {
            gitlab: GitlabConfig::default(),
            gitlab_url: sim.url(),
            gitlab_token: "glpat-w".into(),
            artifact_paths: vec!["junit.xml".into(), "reports/more.xml".into()],
            project_dir: None,
            retry: RetryPolicy {
                max_attempts: 3,
                base_delay_ms: 1,
                max_delay_ms: 5,
                ..RetryPolicy::default()
            },
            work_dir: dir.to_path_buf(),
            max_attempts: 3,
            backoff: Duration::from_secs(1),
            poll: Duration::from_millis(10),
        }
    }

    fn event(sim: &GitlabSim, id: u64) -> StoredEvent {
        StoredEvent {
            id: 1,
            project_id: sim.project_id() as i64,
            pipeline_id: id as i64,
            status: "failed".into(),
            body: sim.pipeline_hook_body(id).unwrap(),
            attempts: 1,
            state: "processing".into(),
            last_error: None,
            report: None,
        }
    }

    #[test]
    fn downloads_the_test_jobs_reports_and_publishes_them() {
        let dir = std::env::temp_dir().join(format!("tmbridge-worker-{}", std::process::id()));
        let sim = GitlabSim::start("glpat-w");
        sim.add_pipeline(
            PipelineSpec::new(77, "main", "failed")
                .job(JobSpec::new(1, "build", "build", "success"))
                .job(JobSpec::new(2, "unit", "test", "failed").artifact("junit.xml", "<a/>"))
                .job(JobSpec::new(3, "e2e", "test", "success").artifact("reports/more.xml", "<b/>"))
                .job(JobSpec::new(4, "lint", "test", "skipped").artifact("junit.xml", "<c/>")),
        );
        let rec = Recorder(Mutex::default(), Ok("{}".into()));
        let out = process(&settings(&dir, &sim), &rec, &event(&sim, 77)).unwrap();
        assert_eq!(out, "{}");
        let calls = rec.0.lock().unwrap();
        assert_eq!(calls.len(), 1);
        // The build job has no report; the skipped lint job is not a finished test job.
        let mut reports = calls[0].0.clone();
        reports.sort();
        assert_eq!(reports, vec!["<a/>", "<b/>"]);
        assert_eq!(calls[0].1.pipeline_id, "77");
        assert_eq!(calls[0].1.ref_name, "main");
        assert_eq!(calls[0].1.job_id, None, "two jobs gave reports");
        assert!(
            calls[0]
                .1
                .pipeline_url
                .as_deref()
                .unwrap()
                .ends_with("/acme/web-shop/-/pipelines/77")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn attached_files_come_along_next_to_their_report() {
        let dir = std::env::temp_dir().join(format!("tmbridge-worker-a-{}", std::process::id()));
        let report = r#"<testsuite name="e2e"><testcase name="pays [TC1]">
            <failure message="boom"/>
            <system-out>[[ATTACHMENT|screenshots/pays.png]]
[[ATTACHMENT|/builds/acme/web-shop/other.png]]
[[ATTACHMENT|missing.png]]</system-out></testcase></testsuite>"#;
        let sim = GitlabSim::start("glpat-w");
        sim.add_pipeline(
            PipelineSpec::new(78, "main", "failed").job(
                JobSpec::new(5, "e2e", "test", "failed")
                    .artifact("reports/more.xml", report)
                    .artifact("reports/screenshots/pays.png", "PNG-BYTES"),
            ),
        );
        let rec = Recorder(Mutex::default(), Ok("{}".into()));
        process(&settings(&dir, &sim), &rec, &event(&sim, 78)).unwrap();
        let stored = dir.join("event-1/job-5/reports");
        assert_eq!(
            std::fs::read_to_string(stored.join("screenshots/pays.png")).unwrap(),
            "PNG-BYTES"
        );
        assert!(!stored.join("missing.png").exists(), "not in the artifacts");
        assert!(
            !stored.join("other.png").exists(),
            "absolute paths are mapped only to members of the archive"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn gitlab_failures_are_transient_or_permanent() {
        let dir = std::env::temp_dir().join(format!("tmbridge-worker-f-{}", std::process::id()));
        let sim = GitlabSim::start("glpat-w");
        sim.add_pipeline(
            PipelineSpec::new(78, "main", "success")
                .job(JobSpec::new(5, "unit", "test", "success").artifact("junit.xml", "<a/>")),
        );
        let rec = Recorder(Mutex::default(), Ok("{}".into()));
        // Once is retried by the session; always is a failure for the event to retry.
        sim.faults().fail_next(1, 503);
        process(&settings(&dir, &sim), &rec, &event(&sim, 78)).unwrap();
        rec.0.lock().unwrap().clear();
        sim.faults().fail_next(3, 503);
        let e = process(&settings(&dir, &sim), &rec, &event(&sim, 78)).unwrap_err();
        assert!(
            matches!(e, Failure::Transient(ref m) if m.contains("503")),
            "{e:?}"
        );
        let mut bad_token = settings(&dir, &sim);
        bad_token.gitlab_token = "wrong".into();
        let e = process(&bad_token, &rec, &event(&sim, 78)).unwrap_err();
        assert!(
            matches!(e, Failure::Permanent(ref m) if m.contains("401")),
            "{e:?}"
        );
        assert!(rec.0.lock().unwrap().is_empty());
        // The same event then goes through.
        process(&settings(&dir, &sim), &rec, &event(&sim, 78)).unwrap();
        assert_eq!(rec.0.lock().unwrap()[0].1.job_id.as_deref(), Some("5"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_token_goes_to_the_configured_gitlab_only_never_to_a_host_the_event_names() {
        let dir = std::env::temp_dir().join(format!("tmbridge-worker-t-{}", std::process::id()));
        let sim = GitlabSim::start("glpat-w");
        sim.add_pipeline(
            PipelineSpec::new(79, "main", "success")
                .job(JobSpec::new(6, "unit", "test", "success").artifact("junit.xml", "<a/>")),
        );
        // Another host, over plain http, that records whatever reaches it.
        let seen: Arc<std::sync::Mutex<Vec<HttpRequest>>> = Arc::default();
        let log = seen.clone();
        let other = HttpServer::start(Arc::new(move |req: HttpRequest| {
            log.lock().unwrap().push(req);
            Outcome::Reply(Reply::json(200, &serde_json::json!([])))
        }))
        .unwrap();
        let mut stored = event(&sim, 79);
        let mut body: serde_json::Value = serde_json::from_slice(&stored.body).unwrap();
        let elsewhere = format!("{}/acme/web-shop", other.url());
        body["project"]["web_url"] = elsewhere.clone().into();
        body["object_attributes"]["url"] = format!("{elsewhere}/-/pipelines/79").into();
        stored.body = serde_json::to_vec(&body).unwrap();

        let rec = Recorder(Mutex::default(), Ok("{}".into()));
        process(&settings(&dir, &sim), &rec, &stored).unwrap();
        assert!(seen.lock().unwrap().is_empty(), "the other host was asked");
        assert_eq!(rec.0.lock().unwrap()[0].0, vec!["<a/>"]);
        let answered: Vec<String> = sim
            .requests()
            .into_iter()
            .filter(|r| r.status == 200)
            .map(|r| r.path)
            .collect();
        assert!(
            answered.contains(&"/api/v4/projects/42/jobs/6/artifacts".to_string()),
            "the configured GitLab took the token: {answered:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn stored_failures_carry_no_secret() {
        let failure =
            Failure::Transient("could not reach https://u:pw@h/x?key=abc&b=1: refused".into())
                .masked();
        assert_eq!(
            failure,
            Failure::Transient("could not reach https://***@h/x?key=***&b=1: refused".into())
        );
        assert_eq!(
            safe_relative("../../etc/passwd"),
            PathBuf::from("etc/passwd")
        );
    }
}
