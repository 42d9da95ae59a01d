//! The publisher `serve` uses: the same code path as `tmbridge publish`
//! ([`crate::publish::run`]) with its durable outbox, so a pipeline whose publish was
//! interrupted resumes without sending anything twice. Attachments come only from the
//! jobs' artifacts archives unpacked in the event's work folder, never from elsewhere
//! on this host, and never `serve`'s own files.

use super::worker::{Failure, PublishJob, Publisher, RunValues};
use crate::publish::attachments::AttachmentRules;
use crate::publish::outbox::RunBusy;
use crate::publish::{PublishOptions, run};
use std::path::PathBuf;
use tmbridge_core::config::{Config, RunContext, Target};

pub struct PublishToTarget {
    /// Rally, qTest or TestRail.
    pub target: Target,
    pub config: Config,
    /// The outbox shared by every event `serve` publishes.
    pub outbox: PathBuf,
    /// Files a report must never attach: the event store, the configuration file (the
    /// outbox is protected by the publish itself).
    pub protected: Vec<PathBuf>,
    /// A rate limit shared with other workers, waited at before each request.
    pub gate: Option<crate::host::Gate>,
}

/// What a person is told when a report names a file outside the job's artifacts.
const HOW_TO_ALLOW_SERVE: &str = "serve attaches only files of the job's artifacts archive, named relative to the report or by the runner's path inside the project (--project-dir)";

fn context(run: &RunValues) -> RunContext {
    RunContext {
        pipeline_id: Some(run.pipeline_id.clone()),
        pipeline_url: run.pipeline_url.clone(),
        ref_name: Some(run.ref_name.clone()).filter(|r| !r.is_empty()),
        sha: Some(run.sha.clone()).filter(|s| !s.is_empty()),
        project_url: run.project_url.clone(),
        job_id: run.job_id.clone(),
        job_name: run.job_name.clone(),
        job_url: run.job_url.clone(),
        ..RunContext::default()
    }
}

impl Publisher for PublishToTarget {
    fn publish(&self, job: &PublishJob) -> Result<String, Failure> {
        let mut reports = Vec::new();
        for path in &job.reports {
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::Transient(format!("cannot read {}: {e}", path.display())))?;
            reports.push((path.display().to_string(), bytes));
        }
        let options = PublishOptions {
            target: self.target,
            outbox: Some(self.outbox.clone()),
            context: context(&job.run),
            // The jobs' folders in the event's work folder, where their archives were
            // unpacked; nothing else of this host.
            attachments: AttachmentRules {
                dirs: job.attachment_dirs.clone(),
                protected: self.protected.clone(),
                how_to_allow: HOW_TO_ALLOW_SERVE.into(),
                fetched: job.fetched.clone(),
                ..AttachmentRules::default()
            },
            cases: job.cases.clone(),
            gate: self.gate.clone(),
            ..PublishOptions::default()
        };
        let done = match self.target {
            Target::Testrail => {
                let extra = crate::publish::testrail::TestrailOptions::default();
                crate::publish::testrail::run(&self.config, reports, &options, &extra)
                    .map(|t| t.publish)
            }
            _ => run(&self.config, reports, &options),
        }
        .map_err(|e| {
            let message = format!("event {}: {e:#}", job.event_id);
            // Another process holds the run for now: a later try gets it.
            match e.downcast_ref::<RunBusy>() {
                Some(_) => Failure::Transient(message),
                None => Failure::Permanent(message),
            }
        })?;
        let summary = serde_json::to_string(&done)
            .map_err(|e| Failure::Permanent(format!("event {}: {e}", job.event_id)))?;
        match &done.report.error {
            None => Ok(summary),
            Some(e) if done.report.retryable => Err(Failure::Transient(e.to_string())),
            Some(e) => Err(Failure::Permanent(e.to_string())),
        }
    }
}
