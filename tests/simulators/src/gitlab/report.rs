//! `GET /projects/:id/pipelines/:pipeline_id/test_report`: what GitLab builds from the
//! JUnit reports (`artifacts:reports:junit`) of a pipeline's jobs. Here every `.xml`
//! artifact of a job is read with the core's JUnit reader; one test suite per job
//! name, as GitLab groups them.

use super::PipelineSpec;
use serde_json::{Value, json};
use tmbridge_core::model::Status;

#[derive(Default)]
struct Totals {
    time: f64,
    count: u64,
    success: u64,
    failed: u64,
    skipped: u64,
    error: u64,
}

impl Totals {
    fn add(&mut self, status: &str, seconds: f64) {
        self.time += seconds;
        self.count += 1;
        match status {
            "success" => self.success += 1,
            "failed" => self.failed += 1,
            "skipped" => self.skipped += 1,
            _ => self.error += 1,
        }
    }

    fn fill(&self, into: &mut Value) {
        into["total_time"] = json!((self.time * 1000.0).round() / 1000.0);
        into["total_count"] = json!(self.count);
        into["success_count"] = json!(self.success);
        into["failed_count"] = json!(self.failed);
        into["skipped_count"] = json!(self.skipped);
        into["error_count"] = json!(self.error);
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Passed | Status::Flaky => "success",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
        Status::Error => "error",
    }
}

pub fn test_report(pipeline: &PipelineSpec) -> Value {
    let mut all = Totals::default();
    let mut suites = Vec::new();
    for job in &pipeline.jobs {
        let reports: Vec<_> = job
            .artifacts
            .iter()
            .filter(|(path, _)| path.ends_with(".xml"))
            .collect();
        if reports.is_empty() {
            continue;
        }
        let mut totals = Totals::default();
        let mut cases = Vec::new();
        let mut suite_error = Value::Null;
        for (path, bytes) in reports {
            let report = match tmbridge_core::junit::parse(bytes) {
                Ok(r) => r,
                Err(e) => {
                    suite_error = json!(format!("JUnit XML parsing failed: {path}: {}", e.message));
                    continue;
                }
            };
            for case in report.cases() {
                let status = status_name(case.status);
                let seconds = case.duration_us.unwrap_or(0) as f64 / 1_000_000.0;
                totals.add(status, seconds);
                all.add(status, seconds);
                cases.push(json!({
                    "status": status,
                    "name": case.name,
                    "classname": case.classname,
                    "file": case.file,
                    "execution_time": seconds,
                    "system_output": case.message,
                    "stack_trace": null,
                    "attachment_url": null,
                    "recent_failures": null,
                }));
            }
        }
        let mut suite = json!({
            "name": job.name,
            "suite_error": suite_error,
            "test_cases": cases,
        });
        totals.fill(&mut suite);
        suites.push(suite);
    }
    let mut out = json!({ "test_suites": suites });
    all.fill(&mut out);
    out
}
