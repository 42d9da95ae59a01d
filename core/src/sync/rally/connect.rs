//! Test the connection: sign in (API key, or user and password with the security
//! token), read the current user, the workspace and the project, and say plainly
//! what is wrong: the URL, the key, or access to the workspace or project.

use super::driver::{Action, Logic, RallySession, SessionOptions};
use super::link::{AuthMode, Call, Credentials, Link, Outcome};
use super::session_end;
use super::wsapi::{self, ref_of, text_of};
use crate::autofill::short_ref;
use crate::error::{Error, Result};
use crate::rally::payload::RallyConfig;
use crate::sync::details::Details;
use crate::sync::details::rally::{ConnectionInfo, NamedRef};
use crate::sync::report::{Ledger, Report};
use crate::sync::retry::RetryPolicy;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectInput {
    pub base_url: String,
    pub workspace: Option<String>,
    pub project: Option<String>,
}

pub type TestConnection = RallySession<Connect>;

impl RallySession<Connect> {
    /// A connection test for the `[rally]` section. A wrong host should not take a
    /// minute of retries to report: at most two tries per request.
    pub fn new(
        rally: &RallyConfig,
        credentials: Credentials,
        options: SessionOptions,
    ) -> Result<TestConnection> {
        let base = wsapi::base_url(rally.url.as_deref())?;
        let input = ConnectInput {
            base_url: base.clone(),
            workspace: rally.workspace.as_deref().map(short_ref),
            project: rally.project.as_deref().map(short_ref),
        };
        let policy = RetryPolicy {
            max_attempts: options.retry.max_attempts.min(2),
            ..options.retry
        };
        let link = Link::new(base, credentials.clone(), policy, options.seed);
        let logic = Connect {
            auth: credentials.mode(),
            ..Connect::default()
        };
        Ok(RallySession::build(input, logic, link))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Check {
    #[default]
    Token,
    User,
    Workspace,
    Project,
    Done,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Connect {
    check: Check,
    awaiting: bool,
    auth: AuthMode,
    user: Option<String>,
    workspace: Option<NamedRef>,
    project: Option<NamedRef>,
    error: Option<Error>,
    retryable: bool,
}

impl Default for Connect {
    fn default() -> Self {
        Connect {
            check: Check::Token,
            awaiting: false,
            auth: AuthMode::ApiKey,
            user: None,
            workspace: None,
            project: None,
            error: None,
            retryable: false,
        }
    }
}

impl Logic for Connect {
    type Input = ConnectInput;

    fn advance(&mut self, input: &ConnectInput) -> Action {
        if self.error.is_some() {
            return Action::Finish;
        }
        loop {
            let call = match self.check {
                Check::Token if self.auth == AuthMode::Basic => {
                    Call::get("/security/authorize".into(), "get a security token")
                }
                Check::Token => {
                    self.check = Check::User;
                    continue;
                }
                Check::User => Call::get(
                    "/user?fetch=UserName,DisplayName,EmailAddress".into(),
                    "read the signed-in user",
                ),
                Check::Workspace => match &input.workspace {
                    Some(w) => Call::get(format!("{w}?fetch=Name,ObjectID"), "read the workspace"),
                    None => {
                        self.check = Check::Project;
                        continue;
                    }
                },
                Check::Project => match &input.project {
                    Some(p) => Call::get(
                        format!("{p}?fetch=Name,ObjectID,Workspace"),
                        "read the project",
                    ),
                    None => {
                        self.check = Check::Done;
                        continue;
                    }
                },
                Check::Done => return Action::Finish,
            };
            self.awaiting = true;
            return Action::Call(call);
        }
    }

    fn on_outcome(&mut self, input: &ConnectInput, outcome: Outcome) {
        self.awaiting = false;
        let value = match outcome {
            Outcome::Ok(v) => v,
            Outcome::Refused(e) | Outcome::Unknown(e) => return self.explain(input, e, false),
            Outcome::GaveUp(e) => return self.explain(input, e, true),
        };
        match self.check {
            Check::Token => {
                if value
                    .get("SecurityToken")
                    .and_then(|t| t.as_str())
                    .is_none()
                {
                    return self.stop(
                        Error::new("rally.no_security_token", "Rally gave no security token")
                            .with_hint("is rally.url a Rally WSAPI v2.0 server?"),
                        false,
                    );
                }
                self.check = Check::User;
            }
            Check::User => {
                self.user = text_of(&value, "DisplayName")
                    .filter(|n| !n.is_empty())
                    .or_else(|| text_of(&value, "UserName"));
                self.check = Check::Workspace;
            }
            Check::Workspace => {
                self.workspace = Some(NamedRef {
                    reference: ref_of(&value)
                        .or(input.workspace.clone())
                        .unwrap_or_default(),
                    name: text_of(&value, "Name"),
                });
                self.check = Check::Project;
            }
            Check::Project => {
                let owner = text_of(&value, "Workspace").map(|w| short_ref(&w));
                self.project = Some(NamedRef {
                    reference: ref_of(&value).or(input.project.clone()).unwrap_or_default(),
                    name: text_of(&value, "Name"),
                });
                if let (Some(owner), Some(ws)) = (owner, &input.workspace)
                    && owner != *ws
                {
                    return self.stop(
                        Error::new(
                            "rally.project_not_in_workspace",
                            format!(
                                "project {} belongs to workspace {owner}, not to {ws}",
                                input.project.clone().unwrap_or_default()
                            ),
                        )
                        .with_hint("set rally.workspace to the project's workspace"),
                        false,
                    );
                }
                self.check = Check::Done;
            }
            Check::Done => {}
        }
    }

    fn restart(&mut self) {
        self.awaiting = false;
        self.error = None;
        self.retryable = false;
    }

    fn stop(&mut self, error: Error, retryable: bool) {
        session_end::stop_once(&mut self.error, &mut self.retryable, error, retryable);
    }

    fn finish(&mut self, input: &ConnectInput, link: &Link) -> Report {
        let info = ConnectionInfo {
            base_url: input.base_url.clone(),
            auth: self.auth,
            user: self.user.clone(),
            workspace: self.workspace.clone(),
            project: self.project.clone(),
            ok: self.error.is_none() && self.check == Check::Done,
        };
        session_end::report(
            Ledger::default(),
            link,
            self.error.clone(),
            self.retryable,
            Details::Connection(info),
        )
    }
}

impl Connect {
    /// Turns a failure into the answer a person needs for the check that failed.
    fn explain(&mut self, input: &ConnectInput, e: Error, retryable: bool) {
        let not_there = matches!(
            e.code.as_str(),
            "rally.not_found" | "rally.forbidden" | "rally.refused"
        );
        let e = match self.check {
            Check::Workspace if not_there => Error::new(
                "rally.no_workspace_access",
                format!(
                    "workspace {} does not exist or the user has no access to it: {}",
                    input.workspace.clone().unwrap_or_default(),
                    e.message
                ),
            )
            .with_hint("check rally.workspace (a ref like /workspace/12345) and the user's workspace permissions"),
            Check::Project if not_there => Error::new(
                "rally.no_project_access",
                format!(
                    "project {} does not exist or the user has no access to it: {}",
                    input.project.clone().unwrap_or_default(),
                    e.message
                ),
            )
            .with_hint("check rally.project (a ref like /project/12345) and the user's project permissions"),
            Check::Token | Check::User if e.code == "rally.not_found" => Error::new(
                "rally.wrong_url",
                format!("{} is not a Rally WSAPI v2.0 server: {}", input.base_url, e.message),
            )
            .with_hint("set rally.url to the Rally server, like https://rally1.rallydev.com"),
            _ => e,
        };
        self.stop(e, retryable);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::protocol::Method;
    use crate::sync::rally::testkit::{BASE, FakeRally, Fault, Run, drive};
    use serde_json::json;
    use std::collections::BTreeMap;

    fn config(url: &str) -> RallyConfig {
        RallyConfig {
            url: Some(url.into()),
            workspace: Some("/workspace/1000".into()),
            project: Some("/project/1001".into()),
            ..RallyConfig::default()
        }
    }

    fn rally() -> FakeRally {
        let mut r = FakeRally::new();
        let ws = r.add("workspace", json!({"Name": "Shop"}));
        r.add("project", json!({"Name": "Checkout", "Workspace": ws}));
        r
    }

    fn test(r: &mut FakeRally, url: &str, creds: Credentials) -> Report {
        let mut s = TestConnection::new(&config(url), creds, SessionOptions::default()).unwrap();
        drive(&mut s, r, &BTreeMap::new(), &mut Run::default())
    }

    fn code(report: &Report) -> String {
        report
            .error
            .as_ref()
            .map(|e| e.code.clone())
            .unwrap_or_default()
    }

    #[test]
    fn a_good_connection_names_user_workspace_and_project() {
        let report = test(&mut rally(), BASE, Credentials::ApiKey("good-key".into()));
        let Details::Connection(c) = &report.details else {
            panic!()
        };
        assert!(c.ok, "{report:?}");
        assert_eq!(c.user.as_deref(), Some("CI Bot"));
        assert_eq!(
            c.workspace.as_ref().and_then(|w| w.name.as_deref()),
            Some("Shop")
        );
        assert_eq!(
            c.project.as_ref().and_then(|p| p.name.as_deref()),
            Some("Checkout")
        );
    }

    #[test]
    fn basic_auth_gets_a_token_first() {
        let mut r = rally();
        r.api_key = None;
        r.basic = Some("ci:pw".into());
        let creds = Credentials::Basic {
            username: "ci".into(),
            password: "pw".into(),
        };
        let report = test(&mut r, BASE, creds);
        assert_eq!(report.error, None);
        assert_eq!(
            r.log.first().map(|l| l.1.as_str()),
            Some("/security/authorize")
        );
        let bad = Credentials::Basic {
            username: "ci".into(),
            password: "nope".into(),
        };
        let report = test(&mut r, BASE, bad);
        assert_eq!(code(&report), "rally.unauthorized");
        assert!(
            report
                .error
                .unwrap()
                .message
                .contains("user name or password")
        );
    }

    #[test]
    fn each_failure_gets_its_own_answer() {
        let report = test(&mut rally(), BASE, Credentials::ApiKey("bad".into()));
        assert_eq!(code(&report), "rally.unauthorized");
        let report = test(
            &mut rally(),
            "https://rally.test/other",
            Credentials::ApiKey("good-key".into()),
        );
        assert_eq!(code(&report), "rally.wrong_url");
        let mut r = rally();
        r.store.remove("project");
        let report = test(&mut r, BASE, Credentials::ApiKey("good-key".into()));
        assert_eq!(code(&report), "rally.no_project_access");
        let mut r = rally();
        r.store.remove("workspace");
        assert_eq!(
            code(&test(&mut r, BASE, Credentials::ApiKey("good-key".into()))),
            "rally.no_workspace_access"
        );
        let mut r = rally();
        r.fault(Method::Get, "/user", Fault::Refuse);
        r.fault(Method::Get, "/user", Fault::Refuse);
        let report = test(&mut r, BASE, Credentials::ApiKey("good-key".into()));
        assert_eq!(code(&report), "rally.unreachable");
        assert!(report.retryable);
    }
}
