//! The background worker: takes stored pipeline events one at a time, downloads the
//! JUnit reports of their test jobs through the GitLab API, publishes them, and
//! records the outcome. Failures that may pass (GitLab or the target down) are
//! retried with exponential backoff; the others fail the event with the reason.

use super::gitlab_api::{ApiError, GitlabApi, JobInfo};
use super::store::{EventStore, StoredEvent};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;
use tmbridge_core::gitlab::{GitlabConfig, decide, parse_pipeline_event};
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
    pub reports: Vec<PathBuf>,
    pub run: RunValues,
}

/// Why something failed, and whether another try may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Transient(String),
    Permanent(String),
}

impl Failure {
    /// The same failure with every secret in its message masked.
    fn masked(self) -> Failure {
        match self {
            Failure::Transient(m) => Failure::Transient(mask_text(&m)),
            Failure::Permanent(m) => Failure::Permanent(mask_text(&m)),
        }
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Transient(m) => Failure::Transient(m),
            ApiError::Permanent(m) => Failure::Permanent(m),
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
    /// Files to fetch from each test job's artifacts.
    pub artifact_paths: Vec<String>,
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
    store_path: &Path,
    settings: &WorkerSettings,
    publisher: &dyn Publisher,
    stop: Arc<AtomicBool>,
    current: Arc<AtomicI64>,
) -> anyhow::Result<()> {
    let store = EventStore::open(store_path)
        .map_err(|e| anyhow::anyhow!("the worker cannot open {}: {e}", store_path.display()))?;
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

/// Downloads the event's reports and publishes them.
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
    // The event's own URLs (project.web_url...) are never where the token goes.
    let api = GitlabApi::new(&settings.gitlab_url, &settings.gitlab_token)?;
    let project = event.project_id as u64;
    let jobs: Vec<JobInfo> = api.pipeline_jobs(project, pipeline.pipeline_id)?;
    let dir = settings.work_dir.join(format!("event-{}", event.id));
    let mut reports = Vec::new();
    let mut from_jobs = Vec::new();
    for job_id in &decision.jobs {
        let info = jobs.iter().find(|j| j.id == *job_id);
        for path in &settings.artifact_paths {
            let Some(bytes) = api.artifact(project, *job_id, path)? else {
                continue;
            };
            let file = dir.join(format!("job-{job_id}")).join(safe_relative(path));
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    Failure::Transient(format!("cannot create {}: {e}", parent.display()))
                })?;
            }
            std::fs::write(&file, &bytes)
                .map_err(|e| Failure::Transient(format!("cannot write {}: {e}", file.display())))?;
            fetch_attachments(&api, project, *job_id, path, &bytes, &file)?;
            reports.push(file);
            if !from_jobs.iter().any(|(id, _)| id == job_id) {
                from_jobs.push((*job_id, info.cloned()));
            }
        }
    }
    if reports.is_empty() {
        return Ok(serde_json::json!({
            "skipped": format!(
                "no job of pipeline {} has {} in its artifacts",
                pipeline.pipeline_id,
                settings.artifact_paths.join(" or ")
            )
        })
        .to_string());
    }
    let mut run = RunValues {
        pipeline_id: pipeline.pipeline_id.to_string(),
        pipeline_url: pipeline.url.clone(),
        ref_name: pipeline.ref_name.clone(),
        sha: pipeline.sha.clone(),
        project_url: pipeline.project.as_ref().and_then(|p| p.web_url.clone()),
        ..RunValues::default()
    };
    if let [(id, info)] = from_jobs.as_slice() {
        run.job_id = Some(id.to_string());
        run.job_name = info.as_ref().map(|j| j.name.clone());
        run.job_url = info.as_ref().and_then(|j| j.web_url.clone());
    }
    publisher.publish(&PublishJob {
        event_id: event.id,
        reports,
        run,
    })
}

/// Downloads the files a report attaches (`[[ATTACHMENT|path]]`, attachment properties)
/// from the same job's artifacts and puts them next to the stored report, where
/// `publish` looks for them. Paths are taken relative to the report's folder in the
/// artifacts. Absolute paths (of the CI runner's disk) and paths that climb out with
/// `..` are not fetched: they name no file of the artifacts, and `publish` refuses to
/// read them from this host's disk, listing them as failed with the reason.
fn fetch_attachments(
    api: &GitlabApi,
    project: u64,
    job_id: u64,
    report_path: &str,
    report: &[u8],
    report_file: &Path,
) -> Result<(), Failure> {
    // An unreadable report is published (and refused) as it is; it attaches nothing.
    let Ok(parsed) = tmbridge_core::junit::parse(report) else {
        return Ok(());
    };
    let report_dir: Vec<&str> = report_path
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let report_dir = &report_dir[..report_dir.len().saturating_sub(1)];
    let Some(local_dir) = report_file.parent() else {
        return Ok(());
    };
    let mut seen: Vec<&str> = Vec::new();
    for case in parsed.cases() {
        for attachment in &case.attachments {
            let relative = attachment.trim();
            let climbs = relative.split(['/', '\\']).any(|s| s == "..");
            if relative.starts_with(['/', '\\']) || climbs || seen.contains(&relative) {
                continue;
            }
            seen.push(relative);
            let in_job = report_dir
                .iter()
                .copied()
                .chain(relative.split('/').filter(|s| !s.is_empty() && *s != "."))
                .collect::<Vec<_>>()
                .join("/");
            let Some(bytes) = api.artifact(project, job_id, &in_job)? else {
                continue;
            };
            let local = local_dir.join(safe_relative(relative));
            if let Some(parent) = local.parent() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    Failure::Transient(format!("cannot create {}: {e}", parent.display()))
                })?;
            }
            std::fs::write(&local, &bytes).map_err(|e| {
                Failure::Transient(format!("cannot write {}: {e}", local.display()))
            })?;
        }
    }
    Ok(())
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
        assert_eq!(calls[0].0, vec!["<a/>", "<b/>"]);
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
            "absolute paths are not mapped"
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
        sim.faults().fail_next(1, 503);
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
            answered.contains(&"/api/v4/projects/42/jobs/6/artifacts/junit.xml".to_string()),
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
