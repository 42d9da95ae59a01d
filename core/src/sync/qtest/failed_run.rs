//! `qtest.failed_run`: read a failed test run for a Rally defect. The run
//! (`GET /test-runs/{id}`), its test case (`GET /test-cases/{id}`), the run's latest
//! test log with its step logs (`GET /test-runs/{id}/test-logs/last-run?expand=
//! teststeplog.teststep`, qTest's `TestlogApi.get_last_run_log`) and the log's files
//! (`GET /test-logs/{id}/attachments/{attachmentId}`, `AttachmentApi.get_attachment`).
//! The answer is the auto-fill's run, the run's and the test case's web pages, and
//! the files, ready for `autofill.fill` and `rally.defect`. It only reads.

use super::api;
use super::link::{Call, Link, Outcome};
use super::session::{Action, Logic, QtestSession, QtestStart};
use crate::autofill::{RunContext, SourceFormat};
use crate::config::Config;
use crate::error::{Error, Result, Warning};
use crate::rally::attachments::{RALLY_MAX_ATTACHMENT_BYTES, content_type_for, human_size};
use crate::sync::details::Details;
use crate::sync::details::qtest::QtestFailedRun;
use crate::sync::details::rally::DefectAttachment;
use crate::sync::kind::StartOptions;
use crate::sync::report::{Ledger, Report};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailedRunInput {
    pub site: String,
    pub project_id: u64,
    pub test_run_id: u64,
}

/// Which run to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FailedRunRequest {
    /// The test run's id (the number in its qTest URL, `...&id=88213`).
    pub test_run: u64,
}

#[derive(Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "QtestFailedRunInput")
)]
#[serde(deny_unknown_fields)]
pub struct FailedRunStart {
    config: Config,
    request: FailedRunRequest,
}

impl QtestStart for FailedRunStart {
    type Logic = FailedRun;
    fn build(self, token: Option<String>, o: StartOptions) -> Result<QtestSession<FailedRun>> {
        let q = &self.config.qtest;
        if self.request.test_run == 0 || self.request.test_run >= 1 << 53 {
            return Err(Error::new(
                "qtest.bad_id",
                format!("{} is not a qTest test run id", self.request.test_run),
            )
            .with_hint("the number after id= in the test run's qTest address"));
        }
        let input = FailedRunInput {
            site: api::site(q.url.as_deref())?,
            project_id: api::project_id(q.project_id.as_ref().map(|s| s.0.as_str()))?,
            test_run_id: self.request.test_run,
        };
        let link = Link::new(input.site.clone(), token, o.retry, o.seed);
        Ok(QtestSession::build(input, FailedRun::default(), link))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    #[default]
    Run,
    Case,
    Log,
    Files,
    Done,
}

/// A file of the log still to download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Pending {
    id: u64,
    name: String,
    content_type: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FailedRun {
    stage: Stage,
    run: RunContext,
    test_case_id: Option<u64>,
    test_log_id: Option<u64>,
    run_url: Option<String>,
    pending: Vec<Pending>,
    files: Vec<DefectAttachment>,
    ledger: Ledger,
    error: Option<Error>,
    retryable: bool,
}

/// A typed part of the run read from qTest's JSON (unknown fields are left out).
fn part<T: serde::de::DeserializeOwned + Default>(value: &Value) -> T {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

fn text(value: &Value, field: &str) -> Option<String> {
    value
        .get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The run's test case: `test_case.id`, `testCaseId`, or its `test-case` link.
fn case_id(run: &Value) -> Option<u64> {
    if let Some(id) = run.get("test_case").and_then(api::id_of) {
        return Some(id);
    }
    if let Some(id) = run.get("testCaseId").and_then(Value::as_u64) {
        return Some(id);
    }
    let links = run.get("links").and_then(Value::as_array)?;
    let href = links
        .iter()
        .find(|l| l.get("rel").and_then(Value::as_str) == Some("test-case"))
        .and_then(|l| l.get("href"))
        .and_then(Value::as_str)?;
    let tail = href.split("/test-cases/").nth(1)?;
    tail.split(['?', '/']).next()?.parse().ok()
}

impl FailedRun {
    fn path(input: &FailedRunInput, tail: &str) -> String {
        format!("/api/v3/projects/{}/{tail}", input.project_id)
    }

    fn read_run(&mut self, input: &FailedRunInput, v: &Value) {
        self.run.test_run = part(v);
        self.run.source_format = SourceFormat::Html;
        // A run without a web_url: qTest's Test Execution page of the run.
        self.run_url = text(v, "web_url").or_else(|| {
            Some(format!(
                "{}/p/{}/portal/project#tab=testexecution&object=3&id={}",
                input.site, input.project_id, input.test_run_id
            ))
        });
        self.run.test_run.link = self.run_url.clone();
        self.test_case_id = case_id(v);
        self.stage = if self.test_case_id.is_some() {
            Stage::Case
        } else {
            self.ledger.warn(Warning::new(
                "qtest.no_test_case",
                format!(
                    "test run {} names no test case: the defect is filled without one",
                    input.test_run_id
                ),
                None,
            ));
            Stage::Log
        };
    }

    fn read_log(&mut self, input: &FailedRunInput, v: &Value) {
        self.run.test_log = part(v);
        self.test_log_id = api::id_of(v);
        let status = v
            .get("status")
            .and_then(|s| s.get("name").or(Some(s)))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if status.eq_ignore_ascii_case("passed") {
            return self.stop(
                Error::new(
                    "qtest.run_passed",
                    format!(
                        "the latest test log of test run {} passed: there is no failure to file",
                        input.test_run_id
                    ),
                )
                .with_hint("pick a run whose latest execution failed"),
                false,
            );
        }
        if self.run.test_run.status.is_none() && !status.is_empty() {
            self.run.test_run.status = Some(status);
        }
        for a in v
            .get("attachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = text(a, "name").unwrap_or_else(|| "attachment".into());
            let size = a.get("size").and_then(Value::as_u64).unwrap_or(0);
            match api::id_of(a) {
                _ if size > RALLY_MAX_ATTACHMENT_BYTES => self.skip(
                    &name,
                    format!("{} is over Rally's 50 MB limit", human_size(size)),
                ),
                Some(id) => self.pending.push(Pending {
                    id,
                    content_type: text(a, "content_type")
                        .unwrap_or_else(|| content_type_for(&name).to_string()),
                    name,
                }),
                None => self.skip(&name, "qTest gave no id to download it by".into()),
            }
        }
        self.stage = Stage::Files;
    }

    fn skip(&mut self, name: &str, why: String) {
        self.ledger.warn(Warning::new(
            "qtest.attachment_skipped",
            format!("{name} is not attached to the defect: {why}"),
            None,
        ));
    }
}

impl Logic for FailedRun {
    type Input = FailedRunInput;

    fn advance(&mut self, input: &FailedRunInput) -> Action {
        if self.error.is_some() {
            return Action::Finish;
        }
        let run = input.test_run_id;
        Action::Call(match self.stage {
            Stage::Run => Call::get(
                Self::path(input, &format!("test-runs/{run}")),
                format!("read test run {run}"),
            ),
            Stage::Case => {
                let case = self.test_case_id.unwrap_or_default();
                Call::get(
                    Self::path(input, &format!("test-cases/{case}")),
                    format!("read test case {case}"),
                )
            }
            Stage::Log => Call::get(
                Self::path(
                    input,
                    &format!("test-runs/{run}/test-logs/last-run?expand=teststeplog.teststep"),
                ),
                format!("read the latest test log of test run {run}"),
            ),
            Stage::Files => {
                let (Some(p), Some(log)) = (self.pending.first(), self.test_log_id) else {
                    self.stage = Stage::Done;
                    return Action::Finish;
                };
                Call::download(
                    Self::path(input, &format!("test-logs/{log}/attachments/{}", p.id)),
                    format!("download {}", p.name),
                )
            }
            Stage::Done => return Action::Finish,
        })
    }

    fn on_outcome(&mut self, input: &FailedRunInput, outcome: Outcome) {
        let v = match outcome {
            Outcome::Ok(v) => v,
            Outcome::Refused(e) if self.stage == Stage::Files => {
                let p = self.pending.remove(0);
                return self.skip(&p.name, e.message);
            }
            Outcome::Refused(e) => {
                let e = match (self.stage, e.code.as_str()) {
                    (Stage::Run, "qtest.not_found") => Error::new(
                        "qtest.no_test_run",
                        format!(
                            "project {} has no test run {}: {}",
                            input.project_id, input.test_run_id, e.message
                        ),
                    )
                    .with_hint(
                        "check the run's id (after id= in its qTest address) and qtest.project_id",
                    ),
                    (Stage::Log, "qtest.not_found") => Error::new(
                        "qtest.no_test_log",
                        format!(
                            "test run {} has no test log yet: it was never executed",
                            input.test_run_id
                        ),
                    )
                    .with_hint("a defect is filed from a run's latest failed execution"),
                    _ => e,
                };
                return self.stop(e, false);
            }
            Outcome::Unknown(e) | Outcome::GaveUp(e) => return self.stop(e, true),
        };
        match self.stage {
            Stage::Run => self.read_run(input, &v),
            Stage::Case => {
                self.run.test_case = part(&v);
                self.stage = Stage::Log;
            }
            Stage::Log => self.read_log(input, &v),
            Stage::Files => {
                let p = self.pending.remove(0);
                match v.get("base64").and_then(Value::as_str) {
                    Some(data) => self.files.push(DefectAttachment {
                        name: p.name,
                        content_type: p.content_type,
                        content_base64: data.to_string(),
                    }),
                    None => self.skip(&p.name, "the download was empty".into()),
                }
            }
            Stage::Done => {}
        }
    }

    fn restart(&mut self) {
        self.error = None;
        self.retryable = false;
    }

    fn stop(&mut self, error: Error, retryable: bool) {
        if self.error.is_none() {
            self.error = Some(error);
            self.retryable = retryable;
        }
    }

    fn finish(&mut self, input: &FailedRunInput, link: &Link) -> Report {
        let details = QtestFailedRun {
            test_run_id: input.test_run_id,
            test_log_id: self.test_log_id,
            run: self.run.clone(),
            run_url: self.run_url.clone(),
            test_case_url: self.run.test_case.link.clone(),
            attachments: self.files.clone(),
        };
        self.ledger.clone().into_report(
            self.error.clone(),
            self.retryable,
            link.stats(),
            Details::QtestFailedRun(Box::new(details)),
        )
    }

    fn units(&self) -> (u64, u64) {
        let done = self.files.len() as u64;
        (done, done + self.pending.len() as u64)
    }
}
