//! The `gitlab.reports` session: the test reports of a pipeline. It lists the
//! pipeline's jobs (paged), downloads each test job's artifacts archive (following
//! GitLab's redirect to object storage without the token), reads the report files
//! the globs name and the files they attach, and falls back to GitLab's pipeline
//! `test_report` when no archive holds a report. Retries and waits are the
//! session's own (5xx, 429 with Retry-After, lost connections).

use super::archive::{self, RunnerPaths};
use super::test_report;
use crate::error::{Error, Result, Warning};
use crate::sync::details::Details;
use crate::sync::details::gitlab::{JobFound, ReportSource, ReportsOutput};
use crate::sync::protocol::{HttpRequest, HttpResponse, Method, ResponseKind, Session, Step};
use crate::sync::report::{Ledger, Report, Stats};
use crate::sync::retry::{Prng, RetryPolicy};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What to look for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReportsRequest {
    /// GitLab's address, as the user configured it (`https://gitlab.example.com`):
    /// the only host the token goes to.
    pub gitlab_url: String,
    pub project_id: u64,
    pub pipeline_id: u64,
    /// Only these jobs (what `gitlab.decide` chose); every job when absent.
    #[serde(default)]
    pub jobs: Option<Vec<u64>>,
    /// Report files in the archives: `build/test-results/**/*.xml`.
    pub globs: Vec<String>,
    /// The runner's `CI_PROJECT_DIR`, the prefix of absolute paths in reports.
    #[serde(default)]
    pub project_dir: Option<String>,
    /// `group/project`: runners check out to `<builds_dir>/group/project`.
    #[serde(default)]
    pub project_path: Option<String>,
    /// Archives larger than this are not downloaded.
    #[serde(default = "default_max_archive")]
    pub max_archive_bytes: u64,
}

fn default_max_archive() -> u64 {
    256 * 1024 * 1024
}

/// Redirects followed for one download.
const MAX_REDIRECTS: u32 = 5;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    #[default]
    Jobs,
    Archives,
    TestReport,
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
struct Job {
    id: u64,
    name: String,
    stage: String,
    web_url: Option<String>,
    has_archive: bool,
}

/// Everything the session knows; it serialises (secrets apart).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportsProgress {
    stage: Stage,
    page: u64,
    jobs: Vec<Job>,
    /// Index into the jobs whose archive is fetched next.
    job: usize,
    /// Where the current download was redirected, and how often.
    redirect: Option<String>,
    hops: u32,
    attempt: u32,
    rng: Prng,
    next_id: u64,
    outstanding: Option<u64>,
    wait: Option<u64>,
    policy: RetryPolicy,
    output: ReportsOutput,
    warnings: Vec<Warning>,
    error: Option<Error>,
    retryable: bool,
    stats: Stats,
    finished: bool,
}

pub struct GitlabReports {
    input: ReportsRequest,
    progress: ReportsProgress,
    token: Option<String>,
    globs: Vec<glob::Pattern>,
}

fn bad_request(message: String) -> Error {
    Error::new("gitlab.bad_request", message)
}

impl GitlabReports {
    /// Checks the request (an address with credentials or a bad glob fails here).
    pub fn new(
        input: ReportsRequest,
        token: Option<String>,
        seed: u64,
        policy: RetryPolicy,
    ) -> Result<GitlabReports> {
        let progress = ReportsProgress {
            stage: Stage::Jobs,
            page: 1,
            jobs: Vec::new(),
            job: 0,
            redirect: None,
            hops: 0,
            attempt: 0,
            rng: Prng::new(seed),
            next_id: 1,
            outstanding: None,
            wait: None,
            policy,
            output: ReportsOutput {
                source: ReportSource::None,
                jobs: Vec::new(),
                reports: Vec::new(),
                attachments: Vec::new(),
                test_report: None,
            },
            warnings: Vec::new(),
            error: None,
            retryable: false,
            stats: Stats::default(),
            finished: false,
        };
        GitlabReports::resume(input, progress, token)
    }

    pub fn resume(
        input: ReportsRequest,
        mut progress: ReportsProgress,
        token: Option<String>,
    ) -> Result<GitlabReports> {
        let url = input.gitlab_url.trim();
        if let Some(found) = crate::mask::credentials_in_url(url) {
            return Err(bad_request(format!(
                "the GitLab address holds {found}; give the address only and the token as a secret"
            )));
        }
        if origin(url).is_none() {
            return Err(bad_request(format!(
                "{:?} is not an http(s) address like https://gitlab.example.com",
                crate::mask::mask_url(url)
            )));
        }
        if input.globs.is_empty() {
            return Err(bad_request(
                "no report globs: give the report paths in the archives, like build/test-results/**/*.xml"
                    .into(),
            ));
        }
        let globs = input
            .globs
            .iter()
            .map(|g| {
                glob::Pattern::new(g.trim_start_matches("./"))
                    .map_err(|e| bad_request(format!("the report glob {g:?} is not valid: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        // Whatever was in flight is asked again: every request here only reads.
        progress.outstanding = None;
        progress.finished = false;
        progress.error = None;
        Ok(GitlabReports {
            input,
            progress,
            token,
            globs,
        })
    }

    pub fn input(&self) -> &ReportsRequest {
        &self.input
    }

    pub fn progress(&self) -> &ReportsProgress {
        &self.progress
    }

    pub fn units(&self) -> (u64, u64) {
        let archives = self.progress.jobs.iter().filter(|j| j.has_archive).count();
        (self.progress.job as u64, archives as u64)
    }

    pub fn is_finished(&self) -> bool {
        self.progress.finished
    }

    fn api(&self, path: &str) -> String {
        format!(
            "{}/api/v4/projects/{}{path}",
            self.input.gitlab_url.trim().trim_end_matches('/'),
            self.input.project_id
        )
    }

    /// The URL of the current request.
    fn url(&self) -> Option<String> {
        let p = &self.progress;
        match p.stage {
            Stage::Jobs => Some(self.api(&format!(
                "/pipelines/{}/jobs?per_page=100&page={}",
                self.input.pipeline_id, p.page
            ))),
            Stage::Archives => {
                let job = self.selected().get(p.job).map(|j| j.id)?;
                Some(
                    p.redirect
                        .clone()
                        .unwrap_or_else(|| self.api(&format!("/jobs/{job}/artifacts"))),
                )
            }
            Stage::TestReport => Some(self.api(&format!(
                "/pipelines/{}/test_report",
                self.input.pipeline_id
            ))),
            Stage::Done => None,
        }
    }

    /// The jobs whose archives are read, in the order GitLab listed them.
    fn selected(&self) -> Vec<&Job> {
        self.progress
            .jobs
            .iter()
            .filter(|j| j.has_archive)
            .filter(|j| {
                self.input
                    .jobs
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&j.id))
            })
            .collect()
    }

    fn request(&mut self, url: String) -> Step {
        let p = &mut self.progress;
        let id = p.next_id;
        p.next_id += 1;
        p.outstanding = Some(id);
        let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
        // The token goes to the configured GitLab only, never along a redirect to
        // object storage or anywhere else.
        if origin(&url) == origin(&self.input.gitlab_url)
            && let Some(token) = &self.token
        {
            headers.push(("PRIVATE-TOKEN".to_string(), token.clone()));
        }
        Step::Send(HttpRequest {
            id,
            method: Method::Get,
            url,
            headers,
            body: None,
            body_base64: None,
        })
    }

    fn stop(&mut self, error: Error, retryable: bool) {
        if self.progress.error.is_none() {
            self.progress.error = Some(error);
            self.progress.retryable = retryable;
        }
    }

    fn report(&self) -> Report {
        let mut ledger = Ledger::default();
        for w in &self.progress.warnings {
            ledger.warn(w.clone());
        }
        ledger.into_report(
            self.progress.error.clone(),
            self.progress.retryable,
            self.progress.stats,
            Details::GitlabReports(self.progress.output.clone()),
        )
    }

    /// A failure worth another try: wait, then send the same request again.
    fn retry(&mut self, why: String, retry_after: Option<&str>) {
        self.progress.attempt += 1;
        let attempt = self.progress.attempt;
        if attempt >= self.progress.policy.max_attempts.max(1) {
            let what = match self.progress.stage {
                Stage::Jobs => "list the pipeline's jobs",
                Stage::Archives => "download a job's artifacts",
                _ => "read the pipeline's test report",
            };
            return self.stop(
                Error::new(
                    "gitlab.unreachable",
                    format!("GitLab failed {attempt} times to {what}: {why}"),
                )
                .with_hint("run again later; the work starts over where it stopped"),
                true,
            );
        }
        let p = &mut self.progress;
        let ms = p
            .policy
            .retry_after(retry_after)
            .unwrap_or_else(|| p.policy.backoff(p.attempt, &mut p.rng));
        p.stats.retries += 1;
        p.stats.waited_ms += ms;
        p.wait = Some(ms);
    }

    fn answered(&mut self, response: &HttpResponse) {
        let status = response.status;
        let what = crate::mask::mask_text(&short(&response.body));
        match status {
            200..=299 => {
                self.progress.attempt = 0;
                self.on_ok(response);
            }
            301 | 302 | 303 | 307 | 308 if self.progress.stage == Stage::Archives => {
                let here = self.url().unwrap_or_default();
                match response.header("Location").and_then(|l| resolve(&here, l)) {
                    Some(next) if self.progress.hops < MAX_REDIRECTS => {
                        self.progress.hops += 1;
                        self.progress.redirect = Some(next);
                    }
                    _ => self.stop(
                        Error::new(
                            "gitlab.bad_redirect",
                            format!("the artifacts download was redirected too often or nowhere ({status})"),
                        ),
                        true,
                    ),
                }
            }
            404 if self.progress.stage == Stage::Archives => {
                // Expired or never kept: the job has no archive.
                let job = self.selected().get(self.progress.job).map(|j| j.id);
                self.progress.warnings.push(Warning::new(
                    "gitlab.no_archive",
                    format!("job {} has no artifacts archive (expired or not kept)", job.unwrap_or(0)),
                    None,
                ));
                self.next_job();
            }
            404 if self.progress.stage == Stage::TestReport => self.finish(ReportSource::None),
            401 => self.stop(
                Error::new("gitlab.unauthorized", "GitLab refused the API token (401)")
                    .with_hint("give a token with the read_api scope; it may have expired"),
                false,
            ),
            403 | 404 => self.stop(
                Error::new(
                    "gitlab.no_access",
                    format!(
                        "GitLab answered {status}: project {} or pipeline {} does not exist or the token cannot read it",
                        self.input.project_id, self.input.pipeline_id
                    ),
                )
                .with_hint("check the project id and that the token's user can read the project"),
                false,
            ),
            429 | 500..=599 => {
                let after = response.header("Retry-After").map(str::to_string);
                self.retry(format!("HTTP {status}: {what}"), after.as_deref());
            }
            _ => self.stop(
                Error::new(
                    "gitlab.refused",
                    format!("GitLab answered {status}: {what}"),
                ),
                false,
            ),
        }
    }

    fn on_ok(&mut self, response: &HttpResponse) {
        match self.progress.stage {
            Stage::Jobs => self.on_jobs(response),
            Stage::Archives => self.on_archive(response),
            Stage::TestReport => match test_report::cases(response.body.as_bytes()) {
                Ok(cases) if cases.is_empty() => self.finish(ReportSource::None),
                Ok(cases) => {
                    self.progress.output.test_report = Some(cases);
                    self.finish(ReportSource::TestReport);
                }
                Err(e) => self.stop(e, true),
            },
            Stage::Done => {}
        }
    }

    fn on_jobs(&mut self, response: &HttpResponse) {
        let Ok(Value::Array(jobs)) = crate::json::from_str::<Value>(&response.body) else {
            return self.stop(
                Error::new(
                    "gitlab.bad_answer",
                    format!(
                        "GitLab's list of the pipeline's jobs is not a JSON list: {}",
                        short(&response.body)
                    ),
                ),
                true,
            );
        };
        for job in &jobs {
            let Some(id) = job.get("id").and_then(Value::as_u64) else {
                continue;
            };
            if self.progress.jobs.iter().any(|j| j.id == id) {
                continue;
            }
            let archive_listed = job
                .get("artifacts")
                .and_then(Value::as_array)
                .is_some_and(|a| {
                    a.iter()
                        .any(|f| f.get("file_type").and_then(Value::as_str) == Some("archive"))
                });
            let has_archive =
                archive_listed || job.get("artifacts_file").is_some_and(|f| !f.is_null());
            self.progress.jobs.push(Job {
                id,
                name: text(job, "name"),
                stage: text(job, "stage"),
                web_url: job
                    .get("web_url")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                has_archive,
            });
        }
        let next = response
            .header("X-Next-Page")
            .and_then(|n| n.trim().parse::<u64>().ok())
            .filter(|n| *n > self.progress.page && !jobs.is_empty());
        match next {
            Some(page) => self.progress.page = page,
            None => {
                self.progress.stage = Stage::Archives;
                self.progress.job = 0;
                self.skip_to_job();
            }
        }
    }

    fn on_archive(&mut self, response: &HttpResponse) {
        let Some(job) = self.selected().get(self.progress.job).map(|j| (*j).clone()) else {
            return self.next_job();
        };
        let Some(bytes) = response.body_bytes() else {
            return self.stop(
                Error::new(
                    "gitlab.bad_answer",
                    format!("the artifacts of job {} came as bad base64", job.id),
                ),
                false,
            );
        };
        if bytes.len() as u64 > self.input.max_archive_bytes {
            self.progress.warnings.push(Warning::new(
                "gitlab.archive_too_large",
                format!(
                    "the artifacts archive of job {} has {} bytes, more than the {} read",
                    job.id,
                    bytes.len(),
                    self.input.max_archive_bytes
                ),
                None,
            ));
            return self.next_job();
        }
        let runner = RunnerPaths {
            project_dir: self.input.project_dir.clone(),
            project_path: self.input.project_path.clone(),
        };
        match archive::read(job.id, &bytes, &self.globs, &runner) {
            Ok(found) => {
                let out = &mut self.progress.output;
                out.jobs.push(JobFound {
                    id: job.id,
                    name: job.name.clone(),
                    stage: job.stage.clone(),
                    web_url: job.web_url.clone(),
                    reports: found.reports.iter().map(|r| r.member.clone()).collect(),
                });
                out.reports.extend(found.reports);
                out.attachments.extend(found.attachments);
                self.progress.warnings.extend(found.warnings);
            }
            Err(e) => self
                .progress
                .warnings
                .push(Warning::new(&e.code, e.message, None)),
        }
        self.next_job();
    }

    fn next_job(&mut self) {
        self.progress.job += 1;
        self.skip_to_job();
    }

    /// Resets the download state for the job at `job`, or moves on when none is left.
    fn skip_to_job(&mut self) {
        self.progress.redirect = None;
        self.progress.hops = 0;
        self.progress.attempt = 0;
        if self.progress.job >= self.selected().len() {
            if self.progress.output.reports.is_empty() {
                self.progress.stage = Stage::TestReport;
            } else {
                self.finish(ReportSource::Artifacts);
            }
        }
    }

    fn finish(&mut self, source: ReportSource) {
        self.progress.output.source = source;
        self.progress.stage = Stage::Done;
    }
}

impl Session for GitlabReports {
    fn next(&mut self) -> Step {
        if let Some(ms) = self.progress.wait.take() {
            return Step::Wait { ms };
        }
        // Asked again before an answer: the request is simply sent again (reads only).
        self.progress.outstanding = None;
        if self.progress.error.is_some() || self.progress.stage == Stage::Done {
            self.progress.finished = true;
            return Step::Done(self.report());
        }
        match self.url() {
            Some(url) => self.request(url),
            None => {
                self.progress.finished = true;
                Step::Done(self.report())
            }
        }
    }

    fn receive(&mut self, id: u64, response: HttpResponse) -> Result<()> {
        if self.progress.outstanding != Some(id) {
            return Err(Error::new(
                "sync.unexpected_answer",
                format!("no request {id} is waiting for an answer"),
            )
            .with_hint("answer the request the last Step::Send named, once"));
        }
        self.progress.outstanding = None;
        self.progress.stats.requests += 1;
        match response.kind {
            ResponseKind::Answered => self.answered(&response),
            _ => {
                let why = crate::mask::mask_text(&response.body);
                self.retry(why, None);
            }
        }
        Ok(())
    }

    fn provide_file(&mut self, id: u64, _file: std::result::Result<Vec<u8>, String>) -> Result<()> {
        Err(Error::new(
            "sync.unexpected_file",
            format!("no file request {id} is waiting"),
        )
        .with_hint("this session reads no files"))
    }
}

/// Scheme, host and port of a URL, lowercased, for deciding where the token goes.
fn origin(url: &str) -> Option<(String, String, u16)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => match p.parse() {
            Ok(port) => (h, port),
            Err(_) => (authority, default_port),
        },
        _ => (authority, default_port),
    };
    Some((scheme, host.to_ascii_lowercase(), port))
}

/// Where a `Location` header points, from the URL that answered with it.
fn resolve(current: &str, location: &str) -> Option<String> {
    let location = location.trim();
    if location.contains("://") {
        return origin(location).map(|_| location.to_string());
    }
    let (scheme, rest) = current.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if let Some(path) = location.strip_prefix('/') {
        return Some(format!("{scheme}://{authority}/{path}"));
    }
    let base = current.split(['?', '#']).next()?;
    let dir = base.rsplit_once('/').map(|(d, _)| d)?;
    Some(format!("{dir}/{location}"))
}

fn text(job: &Value, field: &str) -> String {
    job.get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn short(body: &str) -> String {
    let line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(200).collect()
}
