//! The two GitLab API calls the worker makes: the jobs of a pipeline (paged) and a
//! file from a job's artifacts. Authenticated with `PRIVATE-TOKEN`.

use std::time::Duration;

/// Artifacts larger than this are not downloaded.
const MAX_ARTIFACT: u64 = 256 * 1024 * 1024;

/// What the worker needs to know about a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobInfo {
    pub id: u64,
    pub name: String,
    pub stage: String,
    pub status: String,
    pub web_url: Option<String>,
    pub has_artifacts: bool,
}

/// Whether a failure is worth another try later.
#[derive(Debug)]
pub enum ApiError {
    /// 5xx, 429, time-outs, refused connections: try again later.
    Transient(String),
    /// 401, 403, 404 on the pipeline, unreadable answers: retrying will not help.
    Permanent(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Transient(m) | ApiError::Permanent(m) => f.write_str(m),
        }
    }
}

pub struct GitlabApi {
    agent: ureq::Agent,
    /// `https://gitlab.example.com/api/v4`
    api: String,
    token: String,
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl GitlabApi {
    /// `base` is the GitLab URL (`https://gitlab.example.com`), without `/api/v4`.
    pub fn new(base: &str, token: &str) -> GitlabApi {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build();
        GitlabApi {
            agent: ureq::Agent::new_with_config(config),
            api: format!("{}/api/v4", base.trim_end_matches('/')),
            token: token.to_string(),
        }
    }

    fn get(&self, url: &str) -> Result<ureq::http::Response<ureq::Body>, ApiError> {
        let resp = self
            .agent
            .get(url)
            .header("PRIVATE-TOKEN", &self.token)
            .call()
            .map_err(|e| ApiError::Transient(format!("GET {url}: {e}")))?;
        let status = resp.status().as_u16();
        match status {
            200..=299 => Ok(resp),
            429 | 500..=599 => Err(ApiError::Transient(format!("GET {url}: HTTP {status}"))),
            _ => Err(ApiError::Permanent(format!(
                "GET {url}: HTTP {status}{}",
                match status {
                    401 => " (check the GitLab API token)",
                    403 => " (the token may not read this project's jobs)",
                    _ => "",
                }
            ))),
        }
    }

    /// Every job of a pipeline.
    pub fn pipeline_jobs(&self, project: u64, pipeline: u64) -> Result<Vec<JobInfo>, ApiError> {
        let mut jobs = Vec::new();
        let mut page = 1u32;
        loop {
            let url = format!(
                "{}/projects/{project}/pipelines/{pipeline}/jobs?per_page=100&page={page}",
                self.api
            );
            let mut resp = self.get(&url)?;
            let next = resp
                .headers()
                .get("x-next-page")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u32>().ok());
            let bytes = resp
                .body_mut()
                .read_to_vec()
                .map_err(|e| ApiError::Transient(format!("GET {url}: {e}")))?;
            let body: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::Permanent(format!("GET {url}: not a job list: {e}")))?;
            let list = body
                .as_array()
                .ok_or_else(|| ApiError::Permanent(format!("GET {url}: not a job list")))?;
            for j in list {
                let text = |k: &str| j.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                let Some(id) = j.get("id").and_then(|v| v.as_u64()) else {
                    continue;
                };
                jobs.push(JobInfo {
                    id,
                    name: text("name"),
                    stage: text("stage"),
                    status: text("status"),
                    web_url: j
                        .get("web_url")
                        .and_then(|v| v.as_str())
                        .map(str::to_string),
                    has_artifacts: j
                        .get("artifacts")
                        .and_then(|a| a.as_array())
                        .is_some_and(|a| !a.is_empty())
                        || j.get("artifacts_file").is_some_and(|f| f.is_object()),
                });
            }
            match next {
                Some(n) if n > page && n < 1000 => page = n,
                _ => break,
            }
        }
        Ok(jobs)
    }

    /// A file from a job's artifacts; `None` when the job has no such file.
    pub fn artifact(
        &self,
        project: u64,
        job: u64,
        path: &str,
    ) -> Result<Option<Vec<u8>>, ApiError> {
        let encoded: Vec<String> = path.split('/').map(encode).collect();
        let url = format!(
            "{}/projects/{project}/jobs/{job}/artifacts/{}",
            self.api,
            encoded.join("/")
        );
        match self.get(&url) {
            Ok(mut resp) => resp
                .body_mut()
                .with_config()
                .limit(MAX_ARTIFACT)
                .read_to_vec()
                .map(Some)
                .map_err(|e| ApiError::Transient(format!("GET {url}: {e}"))),
            Err(ApiError::Permanent(m)) if m.contains("HTTP 404") => Ok(None),
            Err(e) => Err(e),
        }
    }
}
