//! `qtest.publish`: results become qTest objects through the per-object API.
//!
//! 1. The project opens and its automation settings are on and map every status
//!    the logs send (PASS, FAIL and SKIP at least); otherwise nothing is sent.
//! 2. The job's test cycle (under `qtest.test_cycle`, or the project root), the
//!    modules (parent module, then the suite or class path) and a test suite per
//!    browser or device in the cycle are looked up by name, and created when missing.
//! 3. Per execution: its test case is found in its module by name (or created with
//!    its steps), its test run in the suite by test case (or created), then its test
//!    log is added (`POST /test-runs/{id}/auto-test-logs`, with step logs and
//!    attachments). A later execution of the same test adds only a log to that run.
//!
//! Every create is preceded by a look-up, and a create whose answer is lost is looked
//! up again before it is sent again, so neither a retry, a crash nor a second run of
//! the same pipeline duplicates a case, a cycle, a suite or a run; a log is looked up
//! (same start and end) whenever it may have been sent before.

mod plan;

pub use plan::{DEFAULT_PARENT_MODULE, Execution, Plan};

use super::api::{self, PAGE_SIZE, encode, id_of, name_of};
use super::link::{Call, Link, Outcome};
use super::session::{Action, Logic, QtestSession, QtestStart};
use super::settings;
use crate::config::{Config, RefCache, RunContext};
use crate::error::{Error, Result};
use crate::model::TestCase;
use crate::sync::details::Details;
use crate::sync::details::qtest::{
    QtestExecution, QtestObject, QtestPublishDetails, QtestStatusMapping,
};
use crate::sync::kind::StartOptions;
use crate::sync::protocol::Method;
use crate::sync::report::{Entry, Ledger, RecordKind, Report};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "QtestPublishInput")
)]
#[serde(deny_unknown_fields)]
pub struct PublishInput {
    pub config: Config,
    pub cases: Vec<TestCase>,
    pub context: RunContext,
    #[serde(default)]
    pub cache: RefCache,
}

pub type Publish = QtestSession<PublishLogic>;

impl QtestStart for PublishInput {
    type Logic = PublishLogic;
    fn build(self, token: Option<String>, o: StartOptions) -> Result<Publish> {
        let plan = plan::build(&self)?;
        let link = Link::new(plan.site.clone(), token, o.retry, o.seed);
        let logic = PublishLogic {
            plan,
            ..PublishLogic::default()
        };
        Ok(QtestSession::build(self, logic, link))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    #[default]
    Project,
    Settings,
    Cycle,
    Modules,
    Suites,
    Case,
    /// A new version of a found test case whose steps changed, then its approval.
    Update,
    Approve,
    Run,
    Log,
    Done,
}

/// Looking (a list, page by page) or creating.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    #[default]
    Look,
    Create,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PublishLogic {
    plan: Plan,
    stage: Stage,
    phase: Phase,
    page: u64,
    cycle: Option<u64>,
    /// Module path (names joined by `/`) → id.
    modules: BTreeMap<String, u64>,
    module_at: usize,
    /// Suite name → id.
    suites: BTreeMap<String, u64>,
    suite_at: usize,
    exec_at: usize,
    /// `module id/case name` → test case id, for the modules listed.
    cases: BTreeMap<String, u64>,
    listed_modules: BTreeSet<u64>,
    /// Test cases whose steps differ from the report's: updated, then approved.
    outdated: BTreeSet<u64>,
    /// Test cases this session gives a new version: approved even after a crash.
    versioned: BTreeSet<u64>,
    /// `suite id/test case id` → test run id, for the suites listed.
    runs: BTreeMap<String, u64>,
    listed_suites: BTreeSet<u64>,
    /// Runs made by this session: no log of this work can be in them yet.
    new_runs: BTreeSet<u64>,
    /// The current log may have been sent already: look before sending it.
    log_maybe_sent: bool,
    /// The current execution's files read so far, sent with its log.
    attached: Vec<crate::qtest::QtestAttachment>,
    files_read: usize,
    mappings: Vec<QtestStatusMapping>,
    done: Vec<QtestExecution>,
    ledger: Ledger,
    error: Option<Error>,
    retryable: bool,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            project_id: 0,
            site: String::new(),
            cycle_name: String::new(),
            cycle_description: String::new(),
            parent: plan::Parent {
                id: 0,
                kind: "root".into(),
            },
            executions: Vec::new(),
            summary: Vec::new(),
            review: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

fn find_by_name(list: &[Value], name: &str) -> Option<u64> {
    list.iter()
        .find(|v| name_of(v).is_some_and(|n| n.trim() == name.trim()))
        .and_then(id_of)
}

/// The same instant, however qTest writes it back.
fn same_time(a: &str, b: &str) -> bool {
    match (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

impl PublishLogic {
    fn project(&self) -> String {
        format!("/api/v3/projects/{}", self.plan.project_id)
    }

    fn execution(&self) -> Option<&Execution> {
        self.plan.executions.get(self.exec_at)
    }

    fn module_id(&self, path: &[String]) -> Option<u64> {
        self.modules.get(&path.join("/")).copied()
    }

    fn current_case(&self) -> Option<(u64, String)> {
        let e = self.execution()?;
        let module = self.module_id(&e.modules)?;
        Some((module, format!("{module}/{}", e.name)))
    }

    fn current_run_key(&self) -> Option<(u64, String)> {
        let e = self.execution()?;
        let suite = *self.suites.get(&e.suite)?;
        let (_, case_key) = self.current_case()?;
        let case = *self.cases.get(&case_key)?;
        Some((suite, format!("{suite}/{case}")))
    }

    fn current_run(&self) -> Option<u64> {
        let (_, key) = self.current_run_key()?;
        self.runs.get(&key).copied()
    }

    fn to(&mut self, stage: Stage) {
        self.stage = stage;
        self.phase = Phase::Look;
        self.page = 1;
    }

    fn next_execution(&mut self) {
        self.exec_at += 1;
        self.log_maybe_sent = false;
        self.attached.clear();
        self.files_read = 0;
        self.to(if self.exec_at < self.plan.executions.len() {
            Stage::Case
        } else {
            Stage::Done
        });
    }

    fn created(
        &mut self,
        kind: RecordKind,
        key: String,
        id: Option<u64>,
        why: &str,
        tests: Vec<String>,
    ) {
        self.ledger.created.push(
            Entry::new(kind, key, why)
                .with_ref(id.map(|i| i.to_string()))
                .with_tests(tests),
        );
    }

    fn call(&mut self) -> Option<Call> {
        let p = self.project();
        let page = self.page.max(1);
        match (self.stage, self.phase) {
            (Stage::Project, _) => Some(Call::get(
                p.clone(),
                format!("open project {}", self.plan.project_id),
            )),
            (Stage::Settings, _) => Some(Call::get(
                settings::path(self.plan.project_id),
                "read the project's automation settings",
            )),
            (Stage::Cycle, phase) => {
                let parent = &self.plan.parent;
                let path = format!(
                    "{p}/test-cycles?parentId={}&parentType={}",
                    parent.id, parent.kind
                );
                Some(match phase {
                    Phase::Look => Call::get(path, "look for the job's test cycle"),
                    Phase::Create => Call::send(
                        Method::Post,
                        path,
                        &json!({"name": self.plan.cycle_name, "description": self.plan.cycle_description}),
                        format!("create test cycle {:?}", self.plan.cycle_name),
                    ),
                })
            }
            (Stage::Modules, phase) => {
                let path = self.plan.module_paths().get(self.module_at)?.clone();
                let parent = self.module_id(&path[..path.len() - 1]);
                let name = path.last()?.clone();
                let query = parent
                    .map(|id| format!("?parentId={id}"))
                    .unwrap_or_default();
                Some(match phase {
                    Phase::Look => Call::get(
                        format!("{p}/modules{query}"),
                        format!("look for module {}", path.join("/")),
                    ),
                    Phase::Create => Call::send(
                        Method::Post,
                        format!("{p}/modules{query}"),
                        &json!({"name": name, "description": "Automated tests published by tmbridge"}),
                        format!("create module {}", path.join("/")),
                    ),
                })
            }
            (Stage::Suites, phase) => {
                let name = self.plan.suites().get(self.suite_at)?.clone();
                let cycle = self.cycle?;
                let path = format!("{p}/test-suites?parentId={cycle}&parentType=test-cycle");
                Some(match phase {
                    Phase::Look => Call::get(path, format!("look for test suite {name:?}")),
                    Phase::Create => Call::send(
                        Method::Post,
                        path,
                        &json!({"name": name}),
                        format!("create test suite {name:?}"),
                    ),
                })
            }
            (Stage::Case, phase) => {
                let e = self.execution()?;
                let (module, _) = self.current_case()?;
                Some(match phase {
                    Phase::Look => Call::get(
                        format!(
                            "{p}/test-cases?parentId={module}&page={page}&size={PAGE_SIZE}&expandSteps=true"
                        ),
                        format!("list the test cases of module {module}"),
                    ),
                    Phase::Create => {
                        let steps: Vec<Value> = e
                            .steps
                            .iter()
                            .map(|(d, x)| json!({"description": d, "expected": x}))
                            .collect();
                        Call::send(
                            Method::Post,
                            format!("{p}/test-cases"),
                            &json!({"name": e.name, "description": e.description, "parent_id": module, "test_steps": steps}),
                            format!("create test case {:?}", e.name),
                        )
                    }
                })
            }
            (Stage::Update, _) => {
                let e = self.execution()?;
                let id = self.current_case_id()?;
                let steps: Vec<Value> = e
                    .steps
                    .iter()
                    .map(|(d, x)| json!({"description": d, "expected": x}))
                    .collect();
                Some(Call::send(
                    Method::Put,
                    format!("{p}/test-cases/{id}"),
                    &json!({"name": e.name, "description": e.description, "test_steps": steps}),
                    format!("update the steps of test case {:?}", e.name),
                ))
            }
            (Stage::Approve, _) => {
                let e = self.execution()?;
                let id = self.current_case_id()?;
                Some(Call::send(
                    Method::Put,
                    format!("{p}/test-cases/{id}/approve"),
                    &json!({}),
                    format!("approve the new version of test case {:?}", e.name),
                ))
            }
            (Stage::Run, phase) => {
                let e = self.execution()?;
                let (suite, _) = self.current_run_key()?;
                let case = self.cases.get(&self.current_case()?.1).copied()?;
                Some(match phase {
                    Phase::Look => Call::get(
                        format!(
                            "{p}/test-runs?parentId={suite}&parentType=test-suite&page={page}&pageSize={PAGE_SIZE}"
                        ),
                        format!("list the test runs of suite {:?}", e.suite),
                    ),
                    Phase::Create => {
                        let mut body = json!({"name": e.name, "test_case": {"id": case}});
                        if !e.run_properties.is_empty() {
                            body["properties"] = json!(e.run_properties);
                        }
                        Call::send(
                            Method::Post,
                            format!("{p}/test-runs?parentId={suite}&parentType=test-suite"),
                            &body,
                            format!("create the test run of {:?} in {:?}", e.name, e.suite),
                        )
                    }
                })
            }
            (Stage::Log, phase) => {
                let e = self.execution()?;
                let run = self.current_run()?;
                Some(match phase {
                    Phase::Look => Call::get(
                        format!("{p}/test-runs/{run}/test-logs?page={page}&pageSize={PAGE_SIZE}"),
                        format!("look for the test log of {:?} in {:?}", e.name, e.suite),
                    ),
                    Phase::Create => Call::send(
                        Method::Post,
                        format!(
                            "{p}/test-runs/{run}/auto-test-logs?encodeNote={}",
                            encode("false")
                        ),
                        &self.log_body(e),
                        format!("add the test log of {:?} in {:?}", e.name, e.suite),
                    ),
                })
            }
            (Stage::Done, _) => None,
        }
    }

    fn on_ok(&mut self, value: Value) {
        match (self.stage, self.phase) {
            (Stage::Project, _) => self.to(Stage::Settings),
            (Stage::Settings, _) => {
                let Some(found) = settings::read(&value) else {
                    return self.stop(settings::unreadable(&value), false);
                };
                self.mappings = found.mappings.clone();
                if let Some(e) =
                    settings::check(&found, self.plan.project_id, &self.plan.statuses())
                {
                    return self.stop(e, false);
                }
                self.to(if self.plan.executions.is_empty() {
                    Stage::Done
                } else {
                    Stage::Cycle
                });
            }
            (Stage::Cycle, phase) => {
                let list = value.as_array().cloned().unwrap_or_default();
                let id = match phase {
                    Phase::Look => find_by_name(&list, &self.plan.cycle_name),
                    Phase::Create => id_of(&value),
                };
                match (id, phase) {
                    (Some(id), phase) => {
                        if phase == Phase::Create {
                            let key = format!("test cycle {}", self.plan.cycle_name);
                            self.created(
                                RecordKind::TestSet,
                                key,
                                Some(id),
                                "the CI job's test cycle",
                                vec![],
                            );
                        }
                        self.cycle = Some(id);
                        self.module_at = 0;
                        self.to(Stage::Modules);
                    }
                    (None, Phase::Look) => self.phase = Phase::Create,
                    (None, Phase::Create) => self.bad_answer(&value),
                }
            }
            (Stage::Modules, phase) => {
                let Some(path) = self.plan.module_paths().get(self.module_at).cloned() else {
                    return self.to(Stage::Suites);
                };
                let name = path.last().cloned().unwrap_or_default();
                let list = value.as_array().cloned().unwrap_or_default();
                let id = match phase {
                    Phase::Look => find_by_name(&list, &name),
                    Phase::Create => id_of(&value),
                };
                match (id, phase) {
                    (Some(id), phase) => {
                        if phase == Phase::Create {
                            self.created(
                                RecordKind::TestSet,
                                format!("module {}", path.join("/")),
                                Some(id),
                                "a module of the tests' path",
                                vec![],
                            );
                        }
                        self.modules.insert(path.join("/"), id);
                        self.module_at += 1;
                        if self.module_at >= self.plan.module_paths().len() {
                            self.suite_at = 0;
                            self.to(Stage::Suites);
                        } else {
                            self.to(Stage::Modules);
                        }
                    }
                    (None, Phase::Look) => self.phase = Phase::Create,
                    (None, Phase::Create) => self.bad_answer(&value),
                }
            }
            (Stage::Suites, phase) => {
                let Some(name) = self.plan.suites().get(self.suite_at).cloned() else {
                    return self.to(Stage::Case);
                };
                let list = value.as_array().cloned().unwrap_or_default();
                let id = match phase {
                    Phase::Look => find_by_name(&list, &name),
                    Phase::Create => id_of(&value),
                };
                match (id, phase) {
                    (Some(id), phase) => {
                        if phase == Phase::Create {
                            self.created(
                                RecordKind::TestSet,
                                format!("test suite {name}"),
                                Some(id),
                                "the browser's or device's test suite in the job's cycle",
                                vec![],
                            );
                        }
                        self.suites.insert(name, id);
                        self.suite_at += 1;
                        if self.suite_at >= self.plan.suites().len() {
                            self.exec_at = 0;
                            self.to(Stage::Case);
                        } else {
                            self.to(Stage::Suites);
                        }
                    }
                    (None, Phase::Look) => self.phase = Phase::Create,
                    (None, Phase::Create) => self.bad_answer(&value),
                }
            }
            (Stage::Case, Phase::Look) => {
                let Some((module, key)) = self.current_case() else {
                    return;
                };
                let (list, more) = match api::items(&value, self.page, "list test cases") {
                    Ok(x) => x,
                    Err(e) => return self.stop(e, true),
                };
                for c in &list {
                    if let (Some(id), Some(name)) = (id_of(c), name_of(c)) {
                        self.cases
                            .entry(format!("{module}/{}", name.trim()))
                            .or_insert(id);
                        self.compare_steps(module, id, name, c);
                    }
                }
                if !more {
                    self.listed_modules.insert(module);
                } else if !self.cases.contains_key(&key) {
                    self.page += 1;
                    return;
                }
                self.after_case_look();
            }
            (Stage::Case, Phase::Create) => {
                let (Some(id), Some((_, key))) = (id_of(&value), self.current_case()) else {
                    return self.bad_answer(&value);
                };
                self.cases.insert(key, id);
                let Some(e) = self.execution().cloned() else {
                    return;
                };
                self.created(
                    RecordKind::TestCase,
                    e.name.clone(),
                    Some(id),
                    "a test case for the automated test",
                    vec![e.key.clone()],
                );
                self.to(Stage::Run);
            }
            (Stage::Update, _) => {
                if let Some(e) = self.execution().cloned() {
                    self.ledger.updated.push(
                        Entry::new(
                            RecordKind::TestCase,
                            e.name.clone(),
                            "a new version with the report's steps",
                        )
                        .with_ref(self.current_case_id().map(|i| i.to_string()))
                        .with_tests(vec![e.key.clone()]),
                    );
                }
                self.to(Stage::Approve);
            }
            (Stage::Approve, _) => {
                if let Some(id) = self.current_case_id() {
                    self.outdated.remove(&id);
                    self.versioned.remove(&id);
                }
                self.to(Stage::Run);
            }
            (Stage::Run, Phase::Look) => {
                let Some((suite, key)) = self.current_run_key() else {
                    return;
                };
                let (list, more) = match api::items(&value, self.page, "list test runs") {
                    Ok(x) => x,
                    Err(e) => return self.stop(e, true),
                };
                for r in &list {
                    let case = r
                        .get("test_case")
                        .and_then(|t| t.get("id"))
                        .and_then(Value::as_u64);
                    if let (Some(id), Some(case)) = (id_of(r), case) {
                        self.runs.entry(format!("{suite}/{case}")).or_insert(id);
                    }
                }
                if !more {
                    self.listed_suites.insert(suite);
                } else if !self.runs.contains_key(&key) {
                    self.page += 1;
                    return;
                }
                self.after_run_look();
            }
            (Stage::Run, Phase::Create) => {
                let (Some(id), Some((_, key))) = (id_of(&value), self.current_run_key()) else {
                    return self.bad_answer(&value);
                };
                self.runs.insert(key, id);
                self.new_runs.insert(id);
                let Some(e) = self.execution().cloned() else {
                    return;
                };
                self.created(
                    RecordKind::TestSetMembers,
                    format!("test run {} in {}", e.name, e.suite),
                    Some(id),
                    "the test's run in the suite",
                    vec![e.key.clone()],
                );
                // A run made just now holds no log of this work: add it at once.
                self.to(Stage::Log);
                self.phase = Phase::Create;
            }
            (Stage::Log, Phase::Look) => {
                let (list, more) = match api::items(&value, self.page, "list test logs") {
                    Ok(x) => x,
                    Err(e) => return self.stop(e, true),
                };
                let Some(e) = self.execution().cloned() else {
                    return;
                };
                let same = list.iter().find(|l| {
                    let text = |f: &str| {
                        l.get(f)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    same_time(&text("exe_start_date"), &e.log.exe_start_date)
                        && same_time(&text("exe_end_date"), &e.log.exe_end_date)
                });
                if let Some(found) = same {
                    let id = id_of(found);
                    self.ledger.skipped.push(
                        Entry::new(
                            RecordKind::TestCaseResult,
                            format!("{} [{}]", e.name, e.suite),
                            "this execution's test log is in qTest already",
                        )
                        .with_ref(id.map(|i| i.to_string()))
                        .with_tests(vec![e.key.clone()]),
                    );
                    self.record_done(&e, id, true);
                    return self.next_execution();
                }
                if more {
                    self.page += 1;
                    return;
                }
                self.phase = Phase::Create;
            }
            (Stage::Log, Phase::Create) => {
                let Some(e) = self.execution().cloned() else {
                    return;
                };
                let id = id_of(&value);
                self.created(
                    RecordKind::TestCaseResult,
                    format!("{} [{}]", e.name, e.suite),
                    id,
                    &format!("test log {}", e.log.status),
                    vec![e.key.clone()],
                );
                self.record_done(&e, id, false);
                self.next_execution();
            }
            (Stage::Done, _) => {}
        }
    }

    /// The log as sent: the planned log with the files read for it.
    fn log_body(&self, e: &Execution) -> Value {
        let mut log = e.log.clone();
        log.attachments.extend(self.attached.iter().cloned());
        serde_json::to_value(&log).unwrap_or(Value::Null)
    }

    fn record_done(&mut self, e: &Execution, log: Option<u64>, existed: bool) {
        let case = self
            .current_case()
            .and_then(|(_, k)| self.cases.get(&k).copied());
        self.done.push(QtestExecution {
            key: e.key.clone(),
            suite: e.suite.clone(),
            test_case: case,
            test_run: self.current_run(),
            test_log: log,
            status: e.log.status.clone(),
            existed,
        });
    }

    fn after_case_look(&mut self) {
        match self.current_case_id() {
            Some(id) if self.outdated.contains(&id) => {
                self.versioned.insert(id);
                self.to(Stage::Update);
            }
            Some(id) if self.versioned.contains(&id) => self.to(Stage::Approve),
            Some(_) => self.to(Stage::Run),
            None => self.phase = Phase::Create,
        }
    }

    fn current_case_id(&self) -> Option<u64> {
        let (_, key) = self.current_case()?;
        self.cases.get(&key).copied()
    }

    /// Marks a listed test case outdated when the report gives it other steps.
    fn compare_steps(&mut self, module: u64, id: u64, name: &str, listed: &Value) {
        let ours =
            self.plan.executions.iter().find(|e| {
                e.name.trim() == name.trim() && self.module_id(&e.modules) == Some(module)
            });
        let Some(ours) = ours.filter(|e| !e.steps.is_empty()) else {
            return;
        };
        let text = |v: &Value, f: &str| {
            v.get(f)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        let theirs: Vec<(String, String)> = listed
            .get("test_steps")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|s| (text(s, "description"), text(s, "expected")))
                    .collect()
            })
            .unwrap_or_default();
        let wanted: Vec<(String, String)> = ours
            .steps
            .iter()
            .map(|(d, x)| (d.trim().to_string(), x.trim().to_string()))
            .collect();
        if theirs == wanted {
            self.outdated.remove(&id);
            // qTest numbers approved versions N.0: a new version made before a crash
            // that is approved already needs nothing more.
            let version = text(listed, "version");
            if version.ends_with(".0") {
                self.versioned.remove(&id);
            }
        } else {
            self.outdated.insert(id);
        }
    }

    fn after_run_look(&mut self) {
        match self.current_run() {
            Some(run) => {
                self.log_maybe_sent |= !self.new_runs.contains(&run);
                self.to(Stage::Log);
                if !self.log_maybe_sent {
                    self.phase = Phase::Create;
                }
            }
            None => self.phase = Phase::Create,
        }
    }

    fn bad_answer(&mut self, value: &Value) {
        self.stop(
            Error::new(
                "qtest.bad_answer",
                format!(
                    "qTest's answer has no id: {}",
                    api::short(&value.to_string())
                ),
            )
            .with_hint("run the same command again; nothing is created twice"),
            true,
        );
    }

    /// A log qTest refused (a bad field value refuses the whole log): reported, and
    /// the other executions go on.
    fn log_refused(&mut self, e: Error) {
        let Some(ex) = self.execution().cloned() else {
            return;
        };
        self.ledger.failed.push(
            Entry::new(
                RecordKind::TestCaseResult,
                format!("{} [{}]", ex.name, ex.suite),
                e.message.clone(),
            )
            .with_tests(vec![ex.key.clone()]),
        );
        self.next_execution();
    }
}

impl Logic for PublishLogic {
    type Input = PublishInput;

    fn advance(&mut self, _input: &PublishInput) -> Action {
        if self.error.is_some() {
            return Action::Finish;
        }
        // Skip the look-ups already answered by a listing.
        loop {
            match (self.stage, self.phase) {
                (Stage::Case, Phase::Look) => {
                    let Some((module, key)) = self.current_case() else {
                        break;
                    };
                    if self.cases.contains_key(&key) {
                        self.after_case_look();
                        continue;
                    }
                    if self.listed_modules.contains(&module) {
                        self.phase = Phase::Create;
                    }
                }
                (Stage::Run, Phase::Look) => {
                    let Some((suite, _)) = self.current_run_key() else {
                        break;
                    };
                    if self.current_run().is_some() || self.listed_suites.contains(&suite) {
                        self.after_run_look();
                        if self.stage == Stage::Run && self.phase == Phase::Look {
                            break;
                        }
                        continue;
                    }
                }
                (Stage::Log, Phase::Create) => {
                    let next_file = self.execution().and_then(|e| e.files.get(self.files_read));
                    if let Some(path) = next_file {
                        return Action::Read(path.clone());
                    }
                    self.log_maybe_sent = true;
                }
                _ => {}
            }
            break;
        }
        match self.call() {
            Some(call) => Action::Call(call),
            None => {
                if self.stage != Stage::Done {
                    self.stop(
                        Error::new("sync.stuck", "the qTest publish lost its place")
                            .with_hint("this is a bug in tmbridge; please report it"),
                        false,
                    );
                }
                Action::Finish
            }
        }
    }

    fn on_file(&mut self, file: std::result::Result<Vec<u8>, String>) {
        use base64::Engine;
        let Some(e) = self.execution().cloned() else {
            return;
        };
        let Some(path) = e.files.get(self.files_read).cloned() else {
            return;
        };
        self.files_read += 1;
        let name = path.rsplit(['/', '\\']).next().unwrap_or(&path).to_string();
        match file {
            Ok(bytes) => self.attached.push(crate::qtest::QtestAttachment {
                content_type: crate::rally::attachments::content_type_for(&name).to_string(),
                name,
                data: base64::engine::general_purpose::STANDARD.encode(bytes),
            }),
            Err(why) => self.ledger.failed.push(
                Entry::new(
                    RecordKind::Attachment,
                    format!("{} {name}", e.name),
                    format!("not attached to the test log: {why}"),
                )
                .with_tests(vec![e.key.clone()]),
            ),
        }
    }

    fn on_outcome(&mut self, _input: &PublishInput, outcome: Outcome) {
        match outcome {
            Outcome::Ok(v) => self.on_ok(v),
            Outcome::Unknown(_) => self.restart(),
            Outcome::Refused(e) if self.stage == Stage::Log && self.phase == Phase::Create => {
                let status_related = matches!(e.code.as_str(), "qtest.refused");
                if status_related {
                    self.log_refused(e);
                } else {
                    self.stop(e, false);
                }
            }
            Outcome::Refused(e) => self.stop(e, false),
            Outcome::GaveUp(e) => self.stop(e, true),
        }
    }

    fn restart(&mut self) {
        // A new version may or may not have been made: list and compare again.
        if matches!(self.stage, Stage::Update | Stage::Approve) {
            if let Some((_, key)) = self.current_case() {
                self.cases.remove(&key);
            }
            self.stage = Stage::Case;
        }
        // What was being created may exist now: look again, lists included.
        match self.stage {
            Stage::Case => {
                if let Some((module, _)) = self.current_case() {
                    self.listed_modules.remove(&module);
                }
            }
            Stage::Run => {
                if let Some((suite, _)) = self.current_run_key() {
                    self.listed_suites.remove(&suite);
                }
            }
            Stage::Log if self.phase == Phase::Create => self.log_maybe_sent = true,
            _ => {}
        }
        self.phase = Phase::Look;
        self.page = 1;
        self.error = None;
        self.retryable = false;
    }

    fn stop(&mut self, error: Error, retryable: bool) {
        if self.error.is_none() {
            self.error = Some(error);
            self.retryable = retryable;
        }
    }

    fn finish(&mut self, _input: &PublishInput, link: &Link) -> Report {
        let mut ledger = self.ledger.clone();
        for w in &self.plan.warnings {
            ledger.warn(w.clone());
        }
        let test_suites = self
            .plan
            .suites()
            .into_iter()
            .filter_map(|n| {
                self.suites
                    .get(&n)
                    .map(|id| QtestObject { id: *id, name: n })
            })
            .collect();
        let details = QtestPublishDetails {
            project_id: self.plan.project_id,
            test_cycle: self.cycle.map(|id| QtestObject {
                id,
                name: self.plan.cycle_name.clone(),
            }),
            test_suites,
            mappings: self.mappings.clone(),
            executions: self.done.clone(),
            summary: self.plan.summary.clone(),
            review: self.plan.review.clone(),
        };
        ledger.into_report(
            self.error.clone(),
            self.retryable,
            link.stats(),
            Details::QtestPublish(details),
        )
    }

    fn units(&self) -> (u64, u64) {
        (self.exec_at as u64, self.plan.executions.len() as u64)
    }
}
