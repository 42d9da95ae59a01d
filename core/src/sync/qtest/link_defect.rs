//! `qtest.link_defect`: link a Rally defect back to the qTest test run it was filed
//! from, as a comment on the run (`POST /test-runs/{id}/comments`, qTest's
//! `TestrunApi.add_comment`, body `CommentResource {content}`) that names the
//! defect's FormattedID, links its Rally page and names the test log.
//!
//! Why a comment: qTest Manager API v3 documents no call that links a defect of an
//! outside tracker to a test log. A log's `defects` (`LinkedDefectResource`) come from
//! qTest's own defect integrations, and the object-link API (`POST /{type}/{id}/link
//! ?type=defects`) takes ids of qTest defects. A comment is what a tester sees on
//! the run, and it is documented. The comments are read first (`GET .../comments`),
//! so a rerun or a lost answer adds nothing twice.

use super::api;
use super::link::{Call, Link, Outcome};
use super::session::{Action, Logic, QtestSession, QtestStart};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::sync::details::Details;
use crate::sync::details::qtest::QtestDefectLink;
use crate::sync::kind::StartOptions;
use crate::sync::protocol::Method;
use crate::sync::report::{Ledger, Report};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The defect to link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LinkedDefect {
    /// `DE12`
    pub formatted_id: String,
    /// The defect's page in Rally.
    #[serde(default)]
    pub url: Option<String>,
    /// Its Name (summary).
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LinkDefectRequest {
    pub test_run: u64,
    /// The test log the defect was filed from.
    #[serde(default)]
    pub test_log: Option<u64>,
    pub defect: LinkedDefect,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkDefectInput {
    pub site: String,
    pub project_id: u64,
    pub request: LinkDefectRequest,
}

#[derive(Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "QtestLinkDefectInput")
)]
#[serde(deny_unknown_fields)]
pub struct LinkDefectStart {
    config: Config,
    request: LinkDefectRequest,
}

impl QtestStart for LinkDefectStart {
    type Logic = LinkDefect;
    fn build(self, token: Option<String>, o: StartOptions) -> Result<QtestSession<LinkDefect>> {
        let q = &self.config.qtest;
        let id = self.request.defect.formatted_id.trim();
        if id.is_empty() {
            return Err(
                Error::new("qtest.bad_defect", "the defect to link has no FormattedID")
                    .with_hint("pass the FormattedID rally.defect reported, like DE12"),
            );
        }
        let input = LinkDefectInput {
            site: api::site(q.url.as_deref())?,
            project_id: api::project_id(q.project_id.as_ref().map(|s| s.0.as_str()))?,
            request: self.request,
        };
        let link = Link::new(input.site.clone(), token, o.retry, o.seed);
        Ok(QtestSession::build(input, LinkDefect::default(), link))
    }
}

/// Comments posted whose answers were lost, before giving up.
const MAX_POSTS: u32 = 3;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    #[default]
    List,
    Post,
    Done,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LinkDefect {
    stage: Stage,
    page: u64,
    posts: u32,
    comment_id: Option<u64>,
    existed: bool,
    error: Option<Error>,
    retryable: bool,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The comment's HTML: qTest shows comments as rich text.
pub fn comment(request: &LinkDefectRequest) -> String {
    let d = &request.defect;
    let id = escape(d.formatted_id.trim());
    let shown = match &d.url {
        Some(url) => format!("<a href=\"{}\">{id}</a>", escape(url.trim())),
        None => id,
    };
    let name = d
        .name
        .as_deref()
        .map(|n| format!(": {}", escape(n.trim())))
        .unwrap_or_default();
    let log = request
        .test_log
        .map(|l| format!(" from test log {l}"))
        .unwrap_or_default();
    format!("Rally defect {shown}{name} (filed by tmbridge{log})")
}

impl LinkDefect {
    fn comments_path(input: &LinkDefectInput) -> String {
        format!(
            "/api/v3/projects/{}/test-runs/{}/comments",
            input.project_id, input.request.test_run
        )
    }

    /// The comment that links this defect already.
    fn find(input: &LinkDefectInput, items: &[Value]) -> Option<u64> {
        let id = input.request.defect.formatted_id.trim();
        items
            .iter()
            .find(|c| {
                c.get("content").and_then(Value::as_str).is_some_and(|t| {
                    t.contains(&format!(">{id}</a>")) || t.contains(&format!("defect {id}"))
                })
            })
            .map(|c| api::id_of(c).unwrap_or_default())
    }
}

impl Logic for LinkDefect {
    type Input = LinkDefectInput;

    fn advance(&mut self, input: &LinkDefectInput) -> Action {
        if self.error.is_some() {
            return Action::Finish;
        }
        let run = input.request.test_run;
        Action::Call(match self.stage {
            Stage::List => Call::get(
                format!(
                    "{}?page={}&pageSize={}",
                    Self::comments_path(input),
                    self.page.max(1),
                    api::PAGE_SIZE
                ),
                format!("read the comments of test run {run}"),
            ),
            Stage::Post => {
                if self.posts >= MAX_POSTS {
                    self.stop(
                        Error::new(
                            "qtest.answers_lost",
                            format!("the comment on test run {run} was sent {MAX_POSTS} times and no answer came back"),
                        )
                        .with_hint("run the same command again later: the run's comments are read first"),
                        true,
                    );
                    return Action::Finish;
                }
                self.posts += 1;
                Call::send(
                    Method::Post,
                    Self::comments_path(input),
                    &json!({ "content": comment(&input.request) }),
                    format!("link the defect in a comment on test run {run}"),
                )
            }
            Stage::Done => return Action::Finish,
        })
    }

    fn on_outcome(&mut self, input: &LinkDefectInput, outcome: Outcome) {
        let v = match outcome {
            Outcome::Ok(v) => v,
            Outcome::Refused(e) => {
                let e = match e.code.as_str() {
                    "qtest.not_found" => Error::new(
                        "qtest.no_test_run",
                        format!(
                            "project {} has no test run {}: {}",
                            input.project_id, input.request.test_run, e.message
                        ),
                    ),
                    _ => e,
                };
                return self.stop(e, false);
            }
            // A comment whose answer was lost may be there: read the comments again.
            Outcome::Unknown(_) => {
                self.stage = Stage::List;
                self.page = 1;
                return;
            }
            Outcome::GaveUp(e) => return self.stop(e, true),
        };
        match self.stage {
            Stage::List => {
                let page = self.page.max(1);
                let (items, more) = match api::items(&v, page, "read the run's comments") {
                    Ok(found) => found,
                    Err(e) => return self.stop(e, true),
                };
                if let Some(id) = Self::find(input, &items) {
                    self.comment_id = Some(id).filter(|i| *i > 0);
                    self.existed = self.posts == 0;
                    self.stage = Stage::Done;
                } else if more {
                    self.page = page + 1;
                } else {
                    self.page = 1;
                    self.stage = Stage::Post;
                }
            }
            Stage::Post => {
                self.comment_id = api::id_of(&v);
                self.stage = Stage::Done;
            }
            Stage::Done => {}
        }
    }

    fn restart(&mut self) {
        // What was in flight may have posted the comment: look first.
        if self.stage == Stage::Post {
            self.stage = Stage::List;
            self.page = 1;
        }
        self.error = None;
        self.retryable = false;
    }

    fn stop(&mut self, error: Error, retryable: bool) {
        if self.error.is_none() {
            self.error = Some(error);
            self.retryable = retryable;
        }
    }

    fn finish(&mut self, input: &LinkDefectInput, link: &Link) -> Report {
        Ledger::default().into_report(
            self.error.clone(),
            self.retryable,
            link.stats(),
            Details::QtestDefectLink(QtestDefectLink {
                test_run_id: input.request.test_run,
                comment_id: self.comment_id,
                existed: self.existed,
            }),
        )
    }
}
