//! The two GitLab API calls the worker makes: the jobs of a pipeline (paged) and a
//! file from a job's artifacts. Authenticated with `PRIVATE-TOKEN`, which goes to
//! the GitLab address the user configured and nowhere else: not to a host a webhook
//! names, not along a redirect to another host (GitLab sends artifact downloads to
//! object storage that way; those are followed without the token).

use std::net::IpAddr;
use std::time::Duration;
use tmbridge_core::sync::mask::{credentials_in_url, mask_url};
use ureq::http::Uri;

/// Artifacts larger than this are not downloaded.
const MAX_ARTIFACT: u64 = 256 * 1024 * 1024;

/// Redirects followed for one request.
const MAX_REDIRECTS: usize = 5;

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
    /// Scheme, host and port of `api`: the only place the token goes.
    origin: Origin,
    token: String,
}

/// Scheme, host and port, compared to decide where the token may go.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn of(url: &str) -> Option<Origin> {
        let uri: Uri = url.parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        Some(Origin {
            host: uri.host()?.to_ascii_lowercase(),
            port: uri.port_u16().unwrap_or(default_port),
            scheme,
        })
    }

    fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

/// Checks the GitLab address the user gave: an http(s) URL without credentials or
/// query, https unless it is a loopback address (plain http would carry the token in
/// clear text). Returns it without a trailing `/`.
pub fn check_base_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let shown = tmbridge_core::controls::printable(&mask_url(url), 200);
    if let Some(found) = credentials_in_url(url) {
        return Err(format!(
            "--gitlab-url holds {found}; give the address only (https://gitlab.example.com) and the API token in the variable named by --gitlab-token-env"
        ));
    }
    let origin = Origin::of(url).ok_or_else(|| {
        format!("--gitlab-url {shown:?} is not an http(s) address like https://gitlab.example.com")
    })?;
    if url.contains(['?', '#']) {
        return Err(format!(
            "--gitlab-url {shown:?} has a query or fragment; give the address only, like https://gitlab.example.com"
        ));
    }
    if origin.scheme == "http" && !origin.is_loopback() {
        return Err(format!(
            "--gitlab-url {shown:?} uses plain http, which would send the GitLab API token in clear text; use https:// (http is accepted only for loopback addresses)"
        ));
    }
    Ok(url.to_string())
}

/// Where a `Location` header points, from the URL that answered with it.
fn resolve(current: &str, location: &str) -> Option<String> {
    let location = location.trim();
    if location.contains("://") {
        return Some(location.to_string());
    }
    let uri: Uri = current.parse().ok()?;
    let scheme = uri.scheme_str()?;
    let authority = uri.authority()?.as_str();
    if let Some(rest) = location.strip_prefix("//") {
        return Some(format!("{scheme}://{rest}"));
    }
    if location.starts_with('/') {
        return Some(format!("{scheme}://{authority}{location}"));
    }
    let path = uri.path();
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    Some(format!("{scheme}://{authority}{dir}{location}"))
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
    /// `base` is the GitLab URL the user configured (`https://gitlab.example.com`,
    /// checked by [`check_base_url`]), without `/api/v4`.
    pub fn new(base: &str, token: &str) -> Result<GitlabApi, ApiError> {
        let base = check_base_url(base).map_err(ApiError::Permanent)?;
        let origin = Origin::of(&base)
            .ok_or_else(|| ApiError::Permanent(format!("{base} is not an http(s) address")))?;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Redirects are followed by `get`, which decides who sees the token.
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(120)))
            .build();
        Ok(GitlabApi {
            agent: ureq::Agent::new_with_config(config),
            api: format!("{base}/api/v4"),
            origin,
            token: token.to_string(),
        })
    }

    fn get(&self, url: &str) -> Result<ureq::http::Response<ureq::Body>, ApiError> {
        let mut current = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let shown = mask_url(&current);
            let origin = Origin::of(&current);
            let mut request = self.agent.get(&current);
            if origin.as_ref() == Some(&self.origin) {
                request = request.header("PRIVATE-TOKEN", &self.token);
            }
            let resp = request
                .call()
                .map_err(|e| ApiError::Transient(mask_url(&format!("GET {shown}: {e}"))))?;
            let status = resp.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let next = resp
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| resolve(&current, l))
                    .filter(|next| Origin::of(next).is_some())
                    .ok_or_else(|| {
                        ApiError::Permanent(format!(
                            "GET {shown}: HTTP {status} without a usable Location"
                        ))
                    })?;
                // Never from https down to plain http, unless on this machine.
                let downgrade = origin.as_ref().is_some_and(|o| o.scheme == "https")
                    && Origin::of(&next).is_some_and(|o| o.scheme == "http" && !o.is_loopback());
                if downgrade {
                    return Err(ApiError::Permanent(format!(
                        "GET {shown}: redirected from https to plain http ({}); not followed",
                        mask_url(&next)
                    )));
                }
                current = next;
                continue;
            }
            return match status {
                200..=299 => Ok(resp),
                429 | 500..=599 => Err(ApiError::Transient(format!("GET {shown}: HTTP {status}"))),
                _ => Err(ApiError::Permanent(format!(
                    "GET {shown}: HTTP {status}{}",
                    match status {
                        401 => " (check the GitLab API token)",
                        403 => " (the token may not read this project's jobs)",
                        _ => "",
                    }
                ))),
            };
        }
        Err(ApiError::Permanent(format!(
            "GET {}: more than {MAX_REDIRECTS} redirects",
            mask_url(url)
        )))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tmbridge_simulators::{HttpRequest, HttpServer, Outcome, Reply};

    const TOKEN: &str = "glpat-only-for-gitlab";

    type Seen = Arc<Mutex<Vec<HttpRequest>>>;

    /// A server that records every request and answers with `answer`.
    fn recording(
        answer: impl Fn(&HttpRequest) -> Reply + Send + Sync + 'static,
    ) -> (HttpServer, Seen) {
        let seen: Seen = Arc::default();
        let log = seen.clone();
        let server = HttpServer::start(Arc::new(move |req: HttpRequest| {
            let reply = answer(&req);
            log.lock().unwrap().push(req);
            Outcome::Reply(reply)
        }))
        .unwrap();
        (server, seen)
    }

    #[test]
    fn a_redirect_to_another_host_is_followed_without_the_token() {
        let (storage, storage_seen) =
            recording(|_| Reply::bytes(200, "application/octet-stream", b"ARTIFACT".to_vec()));
        let bucket = format!("{}/bucket/junit.xml?X-Amz-Signature=s1gn", storage.url());
        let (gitlab, gitlab_seen) = recording(move |req| {
            if req.header("PRIVATE-TOKEN") != Some(TOKEN) {
                return Reply::json(401, &serde_json::json!({"message": "401 Unauthorized"}));
            }
            if req.path.ends_with("/artifacts/junit.xml") {
                // First within GitLab (relative), then out to object storage.
                Reply::json(302, &serde_json::json!({})).with_header("Location", "/moved/junit.xml")
            } else {
                Reply::json(302, &serde_json::json!({})).with_header("Location", &bucket)
            }
        });
        let api = GitlabApi::new(&gitlab.url(), TOKEN).unwrap();
        let bytes = api.artifact(1, 2, "junit.xml").unwrap();
        assert_eq!(bytes.as_deref(), Some(&b"ARTIFACT"[..]));

        let gitlab_seen = gitlab_seen.lock().unwrap();
        assert_eq!(
            gitlab_seen.len(),
            2,
            "the same-host redirect keeps the token"
        );
        assert!(
            gitlab_seen
                .iter()
                .all(|r| r.header("PRIVATE-TOKEN") == Some(TOKEN))
        );
        let storage_seen = storage_seen.lock().unwrap();
        assert_eq!(storage_seen.len(), 1);
        for (name, value) in &storage_seen[0].headers {
            assert!(
                !value.contains(TOKEN),
                "{name} carried the token to another host"
            );
        }
    }

    #[test]
    fn only_a_safe_gitlab_address_is_accepted() {
        for ok in [
            "https://gitlab.example.com/",
            "https://gitlab.example.com:8443/sub",
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:9000",
        ] {
            assert!(check_base_url(ok).is_ok(), "{ok}: {:?}", check_base_url(ok));
        }
        for (bad, why) in [
            ("http://gitlab.example.com", "clear text"),
            (
                "https://me:Pa55word@gitlab.example.com",
                "user name or password",
            ),
            (
                "https://gitlab.example.com/?private_token=Pa55word",
                "private_token",
            ),
            ("gitlab.example.com", "not an http(s) address"),
            ("ftp://gitlab.example.com", "not an http(s) address"),
            ("https://gitlab.example.com/#x", "query or fragment"),
        ] {
            let e = check_base_url(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
            assert!(!e.contains("Pa55word"), "{e}");
        }
        assert_eq!(
            check_base_url("https://gitlab.example.com/").unwrap(),
            "https://gitlab.example.com"
        );
    }

    #[test]
    fn relative_and_absolute_locations_resolve() {
        let from = "https://g.example.com/api/v4/projects/1/jobs/2/artifacts/a/b.xml";
        assert_eq!(
            resolve(from, "/x").as_deref(),
            Some("https://g.example.com/x")
        );
        assert_eq!(
            resolve(from, "c.xml").as_deref(),
            Some("https://g.example.com/api/v4/projects/1/jobs/2/artifacts/a/c.xml")
        );
        assert_eq!(
            resolve(from, "//s3.example.com/b").as_deref(),
            Some("https://s3.example.com/b")
        );
        assert_eq!(
            resolve(from, "https://s3.example.com/b?sig=1").as_deref(),
            Some("https://s3.example.com/b?sig=1")
        );
    }
}
