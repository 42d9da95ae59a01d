//! A GitLab simulator: the part of the REST API v4 that a webhook worker needs
//! (a pipeline, its jobs, a job's artifact files) with `PRIVATE-TOKEN` auth, and a
//! sender of Pipeline Hook events shaped like the examples GitLab's docs give
//! (see the `pipeline-hook-*` samples the project's contracts come from).

mod api;
mod hook;
mod report;

pub use hook::{pipeline_hook, send_webhook};

use crate::faults::{Faults, lock};
use crate::server::HttpServer;
use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};

/// A CI job of a simulated pipeline.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub id: u64,
    pub name: String,
    pub stage: String,
    /// `success`, `failed`, `skipped`, ...
    pub status: String,
    /// Artifact files by path inside the archive (`reports/junit.xml`).
    pub artifacts: BTreeMap<String, Vec<u8>>,
    /// The archive expired: it is not listed or served any more, while the pipeline's
    /// test report (built from the JUnit files) is kept, as GitLab does.
    pub archive_expired: bool,
}

impl JobSpec {
    pub fn new(id: u64, name: &str, stage: &str, status: &str) -> JobSpec {
        JobSpec {
            id,
            name: name.into(),
            stage: stage.into(),
            status: status.into(),
            artifacts: BTreeMap::new(),
            archive_expired: false,
        }
    }

    /// The archive expired; the test report stays.
    pub fn archive_expired(mut self) -> JobSpec {
        self.archive_expired = true;
        self
    }

    pub fn artifact(mut self, path: &str, bytes: impl Into<Vec<u8>>) -> JobSpec {
        self.artifacts.insert(path.into(), bytes.into());
        self
    }
}

/// A pipeline of the simulated project.
#[derive(Debug, Clone)]
pub struct PipelineSpec {
    pub id: u64,
    pub iid: u64,
    pub ref_name: String,
    pub sha: String,
    /// `success`, `failed`, `running`, ...
    pub status: String,
    pub source: String,
    pub jobs: Vec<JobSpec>,
}

impl PipelineSpec {
    pub fn new(id: u64, ref_name: &str, status: &str) -> PipelineSpec {
        PipelineSpec {
            id,
            iid: id,
            ref_name: ref_name.into(),
            sha: format!("{:0>40}", format!("{id:x}")),
            status: status.into(),
            source: "push".into(),
            jobs: Vec::new(),
        }
    }

    pub fn job(mut self, job: JobSpec) -> PipelineSpec {
        self.jobs.push(job);
        self
    }
}

/// One API request the simulator answered.
#[derive(Debug, Clone)]
pub struct ApiLog {
    pub method: String,
    pub path: String,
    pub status: u16,
}

pub(crate) struct Shared {
    token: String,
    project_id: u64,
    project_path: String,
    pipelines: Mutex<Vec<PipelineSpec>>,
    faults: Faults,
    requests: Mutex<Vec<ApiLog>>,
    url: std::sync::OnceLock<String>,
}

/// A running GitLab simulator holding one project. It stops when dropped.
pub struct GitlabSim {
    shared: Arc<Shared>,
    server: HttpServer,
}

impl GitlabSim {
    /// Starts on 127.0.0.1 at a free port. `private_token` is what the API accepts
    /// in `PRIVATE-TOKEN` (or `Authorization: Bearer`).
    pub fn start(private_token: &str) -> GitlabSim {
        GitlabSim::bind("127.0.0.1:0", private_token).expect("start the GitLab simulator")
    }

    pub fn bind(addr: &str, private_token: &str) -> io::Result<GitlabSim> {
        let shared = Arc::new(Shared {
            token: private_token.into(),
            project_id: 42,
            project_path: "acme/web-shop".into(),
            pipelines: Mutex::new(Vec::new()),
            faults: Faults::default(),
            requests: Mutex::new(Vec::new()),
            url: std::sync::OnceLock::new(),
        });
        let handler_shared = shared.clone();
        let server =
            HttpServer::bind(addr, Arc::new(move |req| api::handle(&handler_shared, req)))?;
        let _ = shared.url.set(server.url());
        Ok(GitlabSim { shared, server })
    }

    /// `http://127.0.0.1:PORT`; the API is under `/api/v4`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn project_id(&self) -> u64 {
        self.shared.project_id
    }

    /// `acme/web-shop`
    pub fn project_path(&self) -> &str {
        &self.shared.project_path
    }

    /// The project's page: `http://127.0.0.1:PORT/acme/web-shop`.
    pub fn project_web_url(&self) -> String {
        format!("{}/{}", self.url(), self.shared.project_path)
    }

    pub fn add_pipeline(&self, pipeline: PipelineSpec) {
        let mut p = lock(&self.shared.pipelines);
        p.retain(|x| x.id != pipeline.id);
        p.push(pipeline);
    }

    /// The Pipeline Hook body for a stored pipeline.
    pub fn pipeline_hook_body(&self, pipeline_id: u64) -> Option<Vec<u8>> {
        let pipelines = lock(&self.shared.pipelines);
        let p = pipelines.iter().find(|p| p.id == pipeline_id)?;
        Some(pipeline_hook(
            p,
            self.shared.project_id,
            &self.shared.project_path,
            &self.url(),
        ))
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    pub fn requests(&self) -> Vec<ApiLog> {
        lock(&self.shared.requests).clone()
    }
}
