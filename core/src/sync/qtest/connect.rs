//! `qtest.connect`: the site answers as qTest Manager does, the token is good, the
//! project opens, and its automation settings are on and map PASS, FAIL and SKIP.
//! Each failure gets its own answer: a wrong site, a bad or an expired token, no
//! access to the project, automation switched off (with how to switch it on).

use super::api;
use super::link::{Call, Link, Outcome};
use super::session::QtestStart;
use super::session::{Action, Logic, QtestSession};
use super::settings;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::sync::details::Details;
use crate::sync::details::qtest::QtestConnection;
use crate::sync::kind::StartOptions;
use crate::sync::report::{Ledger, Report};
use crate::sync::retry::RetryPolicy;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectInput {
    pub site: String,
    pub project_id: u64,
}

#[derive(Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "QtestConnectInput")
)]
#[serde(deny_unknown_fields)]
pub struct ConnectStart {
    config: Config,
}

impl QtestStart for ConnectStart {
    type Logic = Connect;
    fn build(self, token: Option<String>, o: StartOptions) -> Result<QtestSession<Connect>> {
        let q = &self.config.qtest;
        let input = ConnectInput {
            site: api::site(q.url.as_deref())?,
            project_id: api::project_id(q.project_id.as_ref().map(|s| s.0.as_str()))?,
        };
        // A wrong site should not take a minute of retries to report.
        let policy = RetryPolicy {
            max_attempts: o.retry.max_attempts.min(2),
            ..o.retry
        };
        let link = Link::new(input.site.clone(), token, policy, o.seed);
        Ok(QtestSession::build(input, Connect::default(), link))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Check {
    #[default]
    Site,
    Project,
    Settings,
    Done,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Connect {
    check: Check,
    info: Option<QtestConnection>,
    error: Option<Error>,
    retryable: bool,
}

impl Logic for Connect {
    type Input = ConnectInput;

    fn advance(&mut self, input: &ConnectInput) -> Action {
        if self.error.is_some() {
            return Action::Finish;
        }
        let pid = input.project_id;
        Action::Call(match self.check {
            Check::Site => Call::get("/api/v3/projects".into(), "list the projects"),
            Check::Project => Call::get(
                format!("/api/v3/projects/{pid}"),
                format!("open project {pid}"),
            ),
            Check::Settings => Call::get(
                settings::path(pid),
                "read the project's automation settings",
            ),
            Check::Done => return Action::Finish,
        })
    }

    fn on_outcome(&mut self, input: &ConnectInput, outcome: Outcome) {
        let value = match outcome {
            Outcome::Ok(v) => v,
            Outcome::Refused(e) | Outcome::Unknown(e) => return self.explain(input, e, false),
            Outcome::GaveUp(e) => return self.explain(input, e, true),
        };
        let info = self.info.get_or_insert_with(|| QtestConnection {
            site: input.site.clone(),
            project_id: input.project_id,
            project_name: None,
            automation_enabled: None,
            mappings: Vec::new(),
            ok: false,
        });
        match self.check {
            Check::Site => self.check = Check::Project,
            Check::Project => {
                info.project_name = api::name_of(&value).map(str::to_string);
                self.check = Check::Settings;
            }
            Check::Settings => {
                let Some(found) = settings::read(&value) else {
                    return self.stop(settings::unreadable(&value), false);
                };
                info.automation_enabled = Some(found.enabled);
                info.mappings = found.mappings.clone();
                if let Some(e) = settings::check(&found, input.project_id, &[]) {
                    return self.stop(e, false);
                }
                self.check = Check::Done;
            }
            Check::Done => {}
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

    fn finish(&mut self, input: &ConnectInput, link: &Link) -> Report {
        let mut info = self.info.clone().unwrap_or(QtestConnection {
            site: input.site.clone(),
            project_id: input.project_id,
            project_name: None,
            automation_enabled: None,
            mappings: Vec::new(),
            ok: false,
        });
        info.ok = self.error.is_none() && self.check == Check::Done;
        Ledger::default().into_report(
            self.error.clone(),
            self.retryable,
            link.stats(),
            Details::QtestConnection(info),
        )
    }
}

impl Connect {
    /// Turns a failure into the answer a person needs for the check that failed.
    fn explain(&mut self, input: &ConnectInput, e: Error, retryable: bool) {
        let pid = input.project_id;
        let e = match (self.check, e.code.as_str()) {
            (Check::Site, "qtest.not_found" | "qtest.not_api") => Error::new(
                "qtest.wrong_site",
                format!("{} is not a qTest Manager site: {}", input.site, e.message),
            )
            .with_hint("set qtest.url to the site, like https://example.qtestnet.com"),
            (Check::Project, "qtest.not_found" | "qtest.forbidden") => Error::new(
                "qtest.no_project_access",
                format!("project {pid} does not exist or the token's user is not a member: {}", e.message),
            )
            .with_hint("check qtest.project_id (the number after /p/ in the project's URL) and the user's project membership"),
            _ => e,
        };
        self.stop(e, retryable);
    }
}
