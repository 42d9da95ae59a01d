//! What the qTest simulator keeps: the project, its automation settings, the Test
//! Design tree (modules, test cases with versions and steps), the Test Execution tree
//! (test cycles, test suites, test runs) and the test logs, plus the ledger of
//! everything clients created.
//!
//! Field names follow qTest Manager API v3 as its swagger-generated client documents
//! the resources (`ModuleResource`, `TestCaseWithCustomFieldResource`,
//! `TestCycleResource`, `TestSuiteWithCustomFieldResource`,
//! `TestRunWithCustomFieldResource`, `TestLogResource`, `AutomationTestLogResource`)
//! and as the recorded answers of a real site show them (`id`, `pid`, `name`,
//! `parent_id`, `links`, `properties`, `test_steps` with `description`/`expected`).

use serde_json::{Value, json};

/// A Test Run Result status of the project (`GET .../test-runs/execution-statuses`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStatus {
    pub id: u64,
    pub name: String,
}

/// One automation status value and the Test Run Result it maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub value: String,
    pub status: RunStatus,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    pub id: u64,
    pub pid: String,
    pub name: String,
    pub parent_id: u64,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    pub id: u64,
    pub pid: String,
    pub name: String,
    pub parent_id: u64,
    pub description: String,
    /// (description, expected) in order.
    pub steps: Vec<(String, String)>,
    pub properties: Vec<Value>,
    /// `major.minor`: a create gives 0.1 as qTest does, an update a new minor version,
    /// an approval the next major version.
    pub version: (u32, u32),
    pub version_id: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub id: u64,
    pub pid: String,
    pub name: String,
    pub description: String,
    pub parent_id: u64,
    pub parent_type: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestRun {
    pub id: u64,
    pub pid: String,
    pub name: String,
    pub parent_id: u64,
    pub parent_type: String,
    pub test_case_id: u64,
    pub properties: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestLog {
    pub id: u64,
    pub run_id: u64,
    pub status: RunStatus,
    /// The automation value the client sent (`PASS`).
    pub automation_status: String,
    pub exe_start_date: String,
    pub exe_end_date: String,
    pub note: Option<String>,
    pub name: String,
    pub automation_content: Option<String>,
    pub step_logs: Vec<Value>,
    /// (name, content type, decoded size).
    pub attachments: Vec<(String, String, u64)>,
}

/// One record a client created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub seq: u64,
    /// `module`, `test-case`, `test-case-version`, `test-cycle`, `test-suite`,
    /// `test-run`, `test-log`.
    pub kind: String,
    pub id: u64,
    pub pid: String,
    pub name: String,
    /// The parent's id (run of a log, module of a case, cycle of a suite).
    pub parent_id: u64,
}

pub struct Store {
    pub project_id: u64,
    pub project_name: String,
    /// A project the token's user is not a member of (403).
    pub restricted_project_id: u64,
    pub token: String,
    pub expired_token: String,
    pub automation_enabled: bool,
    pub statuses: Vec<RunStatus>,
    pub mappings: Vec<Mapping>,
    pub max_page_size: usize,
    pub modules: Vec<Module>,
    pub cases: Vec<TestCase>,
    pub cycles: Vec<Container>,
    pub suites: Vec<Container>,
    pub runs: Vec<TestRun>,
    pub logs: Vec<TestLog>,
    pub ledger: Vec<LedgerEntry>,
    /// Requirements, their fields and links (`requirements.rs`).
    pub reqs: super::requirement_store::Requirements,
    /// Files of test logs and comments of test runs (`failed_runs`).
    pub defect_links: super::log_files::State,
    next_id: u64,
}

impl Store {
    pub fn new() -> Store {
        let status = |id: u64, name: &str| RunStatus {
            id,
            name: name.into(),
        };
        // qTest's system Test Run statuses; the ids are the simulator's own.
        let statuses = vec![
            status(601, "Passed"),
            status(602, "Failed"),
            status(603, "Incomplete"),
            status(604, "Blocked"),
            status(605, "Unexecuted"),
        ];
        let mappings = [("PASS", 0), ("FAIL", 1), ("SKIP", 3)]
            .into_iter()
            .map(|(v, i)| Mapping {
                value: v.into(),
                status: statuses[i].clone(),
            })
            .collect();
        Store {
            project_id: 12345,
            project_name: "Shop Web".into(),
            restricted_project_id: 12399,
            token: "qtest-sim-token".into(),
            expired_token: "qtest-expired-token".into(),
            automation_enabled: true,
            statuses,
            mappings,
            max_page_size: 100,
            modules: Vec::new(),
            cases: Vec::new(),
            cycles: Vec::new(),
            suites: Vec::new(),
            runs: Vec::new(),
            logs: Vec::new(),
            ledger: Vec::new(),
            reqs: Default::default(),
            defect_links: Default::default(),
            next_id: 1000,
        }
    }

    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn record(&mut self, kind: &str, id: u64, pid: &str, name: &str, parent_id: u64) {
        let seq = self.ledger.len() as u64 + 1;
        self.ledger.push(LedgerEntry {
            seq,
            kind: kind.into(),
            id,
            pid: pid.into(),
            name: name.into(),
            parent_id,
        });
    }

    pub fn mapping(&self, value: &str) -> Option<&Mapping> {
        self.mappings
            .iter()
            .find(|m| m.value.eq_ignore_ascii_case(value))
    }
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

pub fn module_json(base: &str, pid: u64, m: &Module) -> Value {
    json!({
        "links": [{"rel": "self", "href": format!("{base}/api/v3/projects/{pid}/modules/{}", m.id)}],
        "id": m.id,
        "name": m.name,
        "order": m.id,
        "pid": m.pid,
        "parent_id": m.parent_id,
        "description": m.description,
    })
}

pub fn case_json(base: &str, pid: u64, c: &TestCase) -> Value {
    let steps: Vec<Value> = c
        .steps
        .iter()
        .enumerate()
        .map(|(i, (d, e))| {
            json!({"id": c.version_id * 100 + i as u64, "description": d, "expected": e, "order": i + 1, "attachments": []})
        })
        .collect();
    json!({
        "links": [{"rel": "self", "href": format!("{base}/api/v3/projects/{pid}/test-cases/{}", c.id)}],
        "id": c.id,
        "name": c.name,
        "order": c.id,
        "pid": c.pid,
        "parent_id": c.parent_id,
        "description": c.description,
        "precondition": "",
        "properties": c.properties,
        "test_steps": steps,
        "test_case_version_id": c.version_id,
        "version": format!("{}.{}", c.version.0, c.version.1),
        "web_url": format!("{base}/p/{pid}/portal/project#tab=testdesign&object=1&id={}", c.id),
    })
}

pub fn container_json(base: &str, pid: u64, what: &str, c: &Container) -> Value {
    json!({
        "links": [{"rel": "self", "href": format!("{base}/api/v3/projects/{pid}/{what}/{}", c.id)}],
        "id": c.id,
        "name": c.name,
        "order": c.id,
        "pid": c.pid,
        "description": c.description,
        "parentId": c.parent_id,
        "parentType": c.parent_type,
    })
}

pub fn run_json(base: &str, pid: u64, r: &TestRun) -> Value {
    json!({
        "parentId": r.parent_id,
        "parentType": r.parent_type,
        "automation": "Yes",
        "links": [
            {"rel": "test-case", "href": format!("{base}/api/v3/projects/{pid}/test-cases/{}", r.test_case_id)},
            {"rel": "self", "href": format!("{base}/api/v3/projects/{pid}/test-runs/{}", r.id)},
        ],
        "id": r.id,
        "name": r.name,
        "order": r.id,
        "pid": r.pid,
        "properties": r.properties,
        "test_case": {"id": r.test_case_id},
    })
}

pub fn log_json(base: &str, pid: u64, l: &TestLog) -> Value {
    let attachments: Vec<Value> = l
        .attachments
        .iter()
        .map(|(n, t, s)| json!({"name": n, "content_type": t, "size": s}))
        .collect();
    json!({
        "links": [{"rel": "self", "href": format!("{base}/api/v3/projects/{pid}/test-runs/{}/test-logs/{}", l.run_id, l.id)}],
        "id": l.id,
        "test_run_id": l.run_id,
        "status": {"id": l.status.id, "name": l.status.name},
        "exe_start_date": l.exe_start_date,
        "exe_end_date": l.exe_end_date,
        "note": l.note,
        "name": l.name,
        "automation_content": l.automation_content,
        "test_step_logs": l.step_logs,
        "attachments": attachments,
    })
}
