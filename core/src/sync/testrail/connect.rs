//! `testrail.connect`: checks the URL, the credentials, the project, the suite and
//! the section, reads the statuses and fields, and says what is wrong in terms of
//! the configuration (`testrail.suite_id`, ...).

use super::driver::{Action, Logic, TestrailSession};
use super::link::{Call, Credentials, Link, Outcome, base_url};
use crate::config::Config;
use crate::config::testrail::TestrailIds;
use crate::error::{Error, Result, Warning};
use crate::sync::details::Details;
use crate::sync::details::testrail::{Named, StatusInfo, TestrailConnection};
use crate::sync::report::{Ledger, Report};
use crate::sync::retry::RetryPolicy;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "TestrailConnectInput")
)]
#[serde(deny_unknown_fields)]
pub struct ConnectInput {
    pub config: Config,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    #[default]
    Project,
    Suite,
    Section,
    Statuses,
    CaseFields,
    ResultFields,
    Done,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Connect {
    stage: Stage,
    ids: TestrailIds,
    info: TestrailConnection,
    ledger: Ledger,
    error: Option<Error>,
    retryable: bool,
}

/// The ids of the configuration, or why they are wrong.
pub fn ids(config: &Config) -> Result<TestrailIds> {
    let ids = config.testrail.ids()?;
    if ids.project_id.is_none() {
        return Err(
            Error::new("config.missing_value", "`testrail.project_id` is not set").with_hint(
                "set it to the project's id, like 1 or P1 (the number in the project's URL)",
            ),
        );
    }
    Ok(ids)
}

impl TestrailSession<Connect> {
    pub fn new(
        input: ConnectInput,
        credentials: Credentials,
        seed: u64,
        retry: RetryPolicy,
    ) -> Result<Self> {
        let base = base_url(input.config.testrail.url.as_deref())?;
        let ids = ids(&input.config)?;
        let info = TestrailConnection {
            base_url: crate::mask::mask_url(&base),
            user: credentials.user.clone(),
            project: None,
            suite_mode: None,
            suite: None,
            section: None,
            statuses: Vec::new(),
            case_fields: Vec::new(),
            result_fields: Vec::new(),
            ok: false,
        };
        let logic = Connect {
            stage: Stage::Project,
            ids,
            info,
            ledger: Ledger::default(),
            error: None,
            retryable: false,
        };
        Ok(TestrailSession::build(
            input,
            logic,
            Link::new(base, credentials, retry, seed),
        ))
    }
}

/// The suite a project without `suite_id` works in: its master suite (a project
/// with baselines lists them too), else the first.
pub fn master_suite(suites: &[Value]) -> Option<&Value> {
    suites
        .iter()
        .find(|s| s.get("is_master").and_then(Value::as_bool) == Some(true))
        .or_else(|| suites.first())
}

/// The name of a record.
fn name(v: &Value) -> Option<String> {
    v.get("name").and_then(Value::as_str).map(str::to_string)
}

/// System names of the fields (case or result) that apply to the project.
pub fn fields_for_project(fields: &Value, project: u64) -> Vec<String> {
    fields
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|f| f.get("is_active").and_then(Value::as_bool) != Some(false))
                .filter(|f| super::fields::config_for(f, project).is_some())
                .filter_map(|f| {
                    f.get("system_name")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Connect {
    fn project(&self) -> u64 {
        self.ids.project_id.unwrap_or(0)
    }

    /// What a refusal means at this stage, in the configuration's terms.
    fn explain(&self, e: Error) -> Error {
        if e.code != "testrail.refused" {
            return e;
        }
        let (key, id) = match self.stage {
            Stage::Project => ("project_id", format!("P{}", self.project())),
            Stage::Suite => ("suite_id", format!("S{}", self.ids.suite_id.unwrap_or(0))),
            Stage::Section => ("section_id", self.ids.section_id.unwrap_or(0).to_string()),
            _ => return e,
        };
        Error::new(
            "testrail.not_found",
            format!(
                "`testrail.{key}`: {id} does not exist or the user may not see it ({})",
                e.message
            ),
        )
        .with_hint(format!(
            "check `testrail.{key}` against the id in TestRail's address bar"
        ))
    }
}

impl Logic for Connect {
    type Input = ConnectInput;

    fn advance(&mut self, _input: &ConnectInput) -> Action {
        if self.error.is_some() {
            return Action::Finish;
        }
        let project = self.project();
        match self.stage {
            Stage::Project => Action::Call(Call::get(
                format!("get_project/{project}"),
                format!("read project P{project}"),
            )),
            Stage::Suite => match self.ids.suite_id {
                Some(s) => Action::Call(Call::get(
                    format!("get_suite/{s}"),
                    format!("read suite S{s}"),
                )),
                None => Action::Call(Call::get(
                    format!("get_suites/{project}"),
                    "list the suites",
                )),
            },
            Stage::Section => match self.ids.section_id {
                Some(s) => Action::Call(Call::get(
                    format!("get_section/{s}"),
                    format!("read section {s}"),
                )),
                None => {
                    self.stage = Stage::Statuses;
                    self.advance(_input)
                }
            },
            Stage::Statuses => Action::Call(Call::get("get_statuses".into(), "read the statuses")),
            Stage::CaseFields => {
                Action::Call(Call::get("get_case_fields".into(), "read the case fields"))
            }
            Stage::ResultFields => Action::Call(Call::get(
                "get_result_fields".into(),
                "read the result fields",
            )),
            Stage::Done => Action::Finish,
        }
    }

    fn on_outcome(&mut self, input: &ConnectInput, outcome: Outcome) {
        let v = match outcome {
            Outcome::Ok(v) => v,
            Outcome::Refused(e) => return self.stop(self.explain(e), false),
            Outcome::Unknown(e) | Outcome::GaveUp(e) => return self.stop(e, true),
        };
        let project = self.project();
        match self.stage {
            Stage::Project => {
                let mode = v.get("suite_mode").and_then(Value::as_u64).unwrap_or(1);
                self.info.project = Some(Named {
                    id: project,
                    name: name(&v),
                });
                self.info.suite_mode = Some(mode);
                if mode == 3 && self.ids.suite_id.is_none() {
                    return self.stop(
                        Error::new(
                            "testrail.suite_required",
                            format!("project P{project} has several suites: `testrail.suite_id` must say which one"),
                        )
                        .with_hint("set testrail.suite_id to the suite's id, like S29 (see the suite's address in TestRail)"),
                        false,
                    );
                }
                if v.get("is_completed").and_then(Value::as_bool) == Some(true) {
                    self.ledger.warn(Warning::new(
                        "testrail.project_completed",
                        format!("project P{project} is completed: TestRail may refuse new runs"),
                        None,
                    ));
                }
                self.stage = Stage::Suite;
            }
            Stage::Suite => {
                let suite = match &v {
                    Value::Array(all) => master_suite(all).cloned(),
                    Value::Object(_) => Some(v.clone()),
                    _ => None,
                };
                let Some(suite) = suite else {
                    return self.stop(
                        Error::new(
                            "testrail.no_suite",
                            format!("project P{project} has no suite"),
                        ),
                        false,
                    );
                };
                if suite
                    .get("project_id")
                    .and_then(Value::as_u64)
                    .is_some_and(|p| p != project)
                {
                    let s = suite.get("id").and_then(Value::as_u64).unwrap_or(0);
                    return self.stop(
                        Error::new(
                            "testrail.wrong_project",
                            format!("`testrail.suite_id`: suite S{s} belongs to another project than P{project}"),
                        )
                        .with_hint("use a suite of the project, or the project the suite belongs to"),
                        false,
                    );
                }
                self.info.suite = Some(Named {
                    id: suite.get("id").and_then(Value::as_u64).unwrap_or(0),
                    name: name(&suite),
                });
                self.stage = Stage::Section;
            }
            Stage::Section => {
                let suite = self.info.suite.as_ref().map(|s| s.id);
                let section_suite = v.get("suite_id").and_then(Value::as_u64);
                if suite.is_some() && section_suite.is_some() && suite != section_suite {
                    return self.stop(
                        Error::new(
                            "testrail.wrong_suite",
                            format!(
                                "`testrail.section_id`: section {} is in suite S{}, not in S{}",
                                self.ids.section_id.unwrap_or(0),
                                section_suite.unwrap_or(0),
                                suite.unwrap_or(0)
                            ),
                        )
                        .with_hint("use a section of the suite, or set testrail.suite_id to the section's suite"),
                        false,
                    );
                }
                self.info.section = Some(Named {
                    id: self.ids.section_id.unwrap_or(0),
                    name: name(&v),
                });
                self.stage = Stage::Statuses;
            }
            Stage::Statuses => {
                self.info.statuses = v
                    .as_array()
                    .map(|all| {
                        all.iter()
                            .map(|s| StatusInfo {
                                id: s.get("id").and_then(Value::as_u64).unwrap_or(0),
                                name: name(s).unwrap_or_default(),
                                label: s
                                    .get("label")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                                    .to_string(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                match super::statuses::check_table(&input.config, &self.info.statuses) {
                    Ok(()) => self.stage = Stage::CaseFields,
                    Err(e) => self.stop(e, false),
                }
            }
            Stage::CaseFields => {
                self.info.case_fields = fields_for_project(&v, project);
                let automation = crate::config::testrail::case_field_key(
                    &input.config.testrail.automation_id_field,
                );
                if !self.info.case_fields.contains(&automation) {
                    self.ledger.warn(Warning::new(
                        "testrail.no_automation_field",
                        format!("the project has no case field {automation}: cases are matched by case id only, and new cases cannot carry their automation id"),
                        None,
                    ));
                }
                for name in input.config.testrail.case_fields.keys() {
                    let key = crate::config::testrail::case_field_key(name);
                    if key.starts_with("custom_") && !self.info.case_fields.contains(&key) {
                        self.ledger.warn(Warning::new(
                            "testrail.unknown_field",
                            format!("`testrail.case_fields.{name}`: the project has no case field {key}; TestRail would drop it"),
                            None,
                        ));
                    }
                }
                self.stage = Stage::ResultFields;
            }
            Stage::ResultFields => {
                self.info.result_fields = fields_for_project(&v, project);
                for name in input.config.testrail.result_fields.keys() {
                    if !self.info.result_fields.contains(name) {
                        self.ledger.warn(Warning::new(
                            "testrail.unknown_field",
                            format!("`testrail.result_fields.{name}`: the project has no result field {name}; TestRail would drop it"),
                            None,
                        ));
                    }
                }
                self.info.ok = true;
                self.stage = Stage::Done;
            }
            Stage::Done => {}
        }
    }

    fn restart(&mut self) {
        // Checks only read: start them again.
        self.error = None;
        self.retryable = false;
        self.stage = Stage::Project;
    }

    fn stop(&mut self, error: Error, retryable: bool) {
        if self.error.is_none() {
            self.error = Some(error);
            self.retryable = retryable;
        }
    }

    fn finish(&mut self, _input: &ConnectInput, link: &Link) -> Report {
        self.ledger.clone().into_report(
            self.error.clone(),
            self.retryable,
            link.stats(),
            Details::TestrailConnection(self.info.clone()),
        )
    }

    fn progress(&self) -> (u64, u64) {
        (self.stage as u64, Stage::Done as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::super::publish::tests::secrets;
    use super::super::testkit::{BASE, FakeTestrail};
    use crate::session::SessionHandle;
    use crate::sync::details::Details;
    use crate::sync::protocol::Step;
    use crate::sync::report::Report;
    use serde_json::{Value, json};

    fn connect(tr: &mut FakeTestrail, testrail: Value) -> Report {
        let mut config = json!({"url": BASE, "project_id": "P1"});
        for (k, v) in testrail.as_object().cloned().unwrap_or_default() {
            config[k.as_str()] = v;
        }
        let start = json!({"kind": "testrail.connect", "input": {"config": {"testrail": config}}});
        let mut s = SessionHandle::start(start.to_string().as_bytes(), &secrets()).unwrap();
        loop {
            match s.next() {
                Step::Send(req) => s.receive(req.id, tr.handle(&req)).unwrap(),
                Step::Done(r) => return r,
                _ => {}
            }
        }
    }

    #[test]
    fn the_master_suite_is_chosen_over_baselines() {
        let suites = [
            json!({"id": 4, "name": "Baseline 1", "is_master": false}),
            json!({"id": 2, "name": "Master", "is_master": true}),
        ];
        assert_eq!(super::master_suite(&suites).unwrap()["id"], 2);
        assert_eq!(super::master_suite(&suites[..1]).unwrap()["id"], 4);
        assert!(super::master_suite(&[]).is_none());
    }

    #[test]
    fn a_good_configuration_is_described() {
        let report = connect(
            &mut FakeTestrail::new(),
            json!({"suite_id": "S1", "section_id": 10}),
        );
        assert_eq!(report.error, None);
        let Details::TestrailConnection(info) = &report.details else {
            panic!()
        };
        assert!(info.ok);
        assert_eq!(info.suite.as_ref().map(|s| s.id), Some(1));
        assert_eq!(
            info.section.as_ref().and_then(|s| s.name.as_deref()),
            Some("Automated")
        );
        assert!(info.statuses.iter().any(|s| s.label == "Flaky"));
        assert!(
            info.case_fields
                .contains(&"custom_automation_id".to_string())
        );
    }

    #[test]
    fn what_is_wrong_is_said_in_the_configuration_terms() {
        let mut multi = FakeTestrail::new();
        multi.suite_mode = 3;
        let e = connect(&mut multi, json!({})).error.unwrap();
        assert_eq!(e.code, "testrail.suite_required");
        let e = connect(&mut FakeTestrail::new(), json!({"suite_id": "S9"}))
            .error
            .unwrap();
        assert_eq!(e.code, "testrail.not_found");
        assert!(
            e.message.starts_with("`testrail.suite_id`: S9"),
            "{}",
            e.message
        );
        let e = connect(&mut FakeTestrail::new(), json!({"section_id": 77}))
            .error
            .unwrap();
        assert!(e.message.contains("`testrail.section_id`"), "{}", e.message);
        let e = connect(
            &mut FakeTestrail::new(),
            json!({"statuses": {"skipped": "Wobbly"}}),
        )
        .error
        .unwrap();
        assert_eq!(e.code, "testrail.unknown_status");
        let mut revoked = FakeTestrail::new();
        revoked.revoked = true;
        assert_eq!(
            connect(&mut revoked, json!({})).error.unwrap().code,
            "testrail.unauthorized"
        );
        let e = SessionHandle::start(
            json!({"kind": "testrail.connect", "input": {"config": {"testrail": {"url": BASE}}}})
                .to_string()
                .as_bytes(),
            &secrets(),
        )
        .err()
        .unwrap();
        assert!(e.message.contains("project_id"), "{}", e.message);
    }
}
