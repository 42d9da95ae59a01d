//! The TestRail data: every entity is a JSON object in a table keyed by its id,
//! shaped like the real answers in `contracts/testrail`. A test is the pair (run,
//! case); its id is given the first time the pair is seen.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub type Record = Map<String, Value>;

/// Who may call the API.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: u64,
    pub email: String,
    pub password: String,
    pub api_key: String,
    /// Projects the account may use; others answer 403.
    pub project_ids: Vec<u64>,
    /// Credentials revoked: every request answers 401.
    pub revoked: bool,
}

/// One record a client created or changed.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub seq: u64,
    /// `add_case`, `update_case`, `add_run`, `add_result`, `add_attachment`, ...
    pub action: String,
    /// The id of the record (a string for plan entries and attachments).
    pub id: String,
    pub fields: Value,
}

/// One uploaded attachment.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub id: u64,
    pub result_id: u64,
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct Store {
    pub tables: BTreeMap<&'static str, BTreeMap<u64, Record>>,
    next_ids: BTreeMap<&'static str, u64>,
    /// (run id, case id) → test id.
    pub tests: BTreeMap<(u64, u64), u64>,
    pub accounts: Vec<Account>,
    pub case_fields: Vec<Value>,
    pub result_fields: Vec<Value>,
    pub statuses: Vec<Value>,
    pub templates: Vec<Value>,
    pub case_types: Vec<Value>,
    pub priorities: Vec<Value>,
    /// Config groups by project.
    pub configs: BTreeMap<u64, Vec<Value>>,
    pub attachments: Vec<Attachment>,
    pub ledger: Vec<LedgerEntry>,
    /// Bulk GETs answer bare arrays, as servers before 6.7 do.
    pub legacy_bare_arrays: bool,
    /// Largest page a bulk GET returns (250, as TestRail; lower in tests).
    pub page_cap: usize,
    /// Seconds since the epoch, advanced by every write.
    pub clock: i64,
}

impl Store {
    pub fn new() -> Store {
        Store {
            page_cap: 250,
            clock: 1_764_720_000,
            ..Store::default()
        }
    }

    pub fn table(&self, name: &'static str) -> &BTreeMap<u64, Record> {
        static EMPTY: BTreeMap<u64, Record> = BTreeMap::new();
        self.tables.get(name).unwrap_or(&EMPTY)
    }

    pub fn get(&self, table: &'static str, id: u64) -> Option<&Record> {
        self.table(table).get(&id)
    }

    pub fn get_mut(&mut self, table: &'static str, id: u64) -> Option<&mut Record> {
        self.tables.get_mut(table)?.get_mut(&id)
    }

    /// Stores a record with the next id of its table (ids start at `first`).
    pub fn insert(&mut self, table: &'static str, first: u64, mut record: Record) -> u64 {
        let next = self.next_ids.entry(table).or_insert(first);
        let id = *next;
        *next += 1;
        record.insert("id".into(), json!(id));
        self.tables.entry(table).or_default().insert(id, record);
        id
    }

    pub fn tick(&mut self) -> i64 {
        self.clock += 1;
        self.clock
    }

    pub fn record(&mut self, action: &str, id: impl ToString, fields: Value) {
        let seq = self.ledger.len() as u64 + 1;
        self.ledger.push(LedgerEntry {
            seq,
            action: action.into(),
            id: id.to_string(),
            fields,
        });
    }

    /// The suite mode of a project: 1 single suite, 2 single suite with baselines,
    /// 3 multiple suites.
    pub fn suite_mode(&self, project_id: u64) -> u64 {
        self.get("projects", project_id)
            .and_then(|p| p.get("suite_mode"))
            .and_then(Value::as_u64)
            .unwrap_or(1)
    }

    /// Suites of a project, in id order.
    pub fn suites_of(&self, project_id: u64) -> Vec<u64> {
        self.table("suites")
            .iter()
            .filter(|(_, s)| num(s, "project_id") == Some(project_id))
            .map(|(id, _)| *id)
            .collect()
    }

    /// The project a suite belongs to.
    pub fn project_of_suite(&self, suite_id: u64) -> Option<u64> {
        self.get("suites", suite_id)
            .and_then(|s| num(s, "project_id"))
    }

    /// Cases of a suite, in id order.
    pub fn cases_of_suite(&self, suite_id: u64) -> Vec<u64> {
        self.table("cases")
            .iter()
            .filter(|(_, c)| num(c, "suite_id") == Some(suite_id))
            .map(|(id, _)| *id)
            .collect()
    }

    /// The cases a run holds: every case of its suite with `include_all`, else its
    /// `case_ids`.
    pub fn cases_in_run(&self, run_id: u64) -> Vec<u64> {
        let Some(run) = self.get("runs", run_id) else {
            return Vec::new();
        };
        let suite = num(run, "suite_id").unwrap_or(0);
        if run.get("include_all").and_then(Value::as_bool) == Some(true) {
            return self.cases_of_suite(suite);
        }
        let chosen: Vec<u64> = run
            .get("case_ids")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        self.cases_of_suite(suite)
            .into_iter()
            .filter(|c| chosen.contains(c))
            .collect()
    }

    /// The test id of a case in a run, given on first sight.
    pub fn test_id(&mut self, run_id: u64, case_id: u64) -> u64 {
        if let Some(id) = self.tests.get(&(run_id, case_id)) {
            return *id;
        }
        let id = 1000 + self.tests.len() as u64 + 1;
        self.tests.insert((run_id, case_id), id);
        id
    }

    /// The latest status of a test (3, Untested, without results).
    pub fn test_status(&self, test_id: u64) -> u64 {
        self.table("results")
            .values()
            .rev()
            .find(|r| num(r, "test_id") == Some(test_id))
            .and_then(|r| num(r, "status_id"))
            .unwrap_or(3)
    }

    /// Run counters (`passed_count`, ... `custom_status7_count`).
    pub fn run_counters(&self, run_id: u64) -> Record {
        let mut counts: BTreeMap<u64, u64> = BTreeMap::new();
        for case in self.cases_in_run(run_id) {
            let status = self
                .tests
                .get(&(run_id, case))
                .map(|t| self.test_status(*t))
                .unwrap_or(3);
            *counts.entry(status).or_default() += 1;
        }
        let mut out = Record::new();
        for (id, name) in [
            (1, "passed"),
            (2, "blocked"),
            (3, "untested"),
            (4, "retest"),
            (5, "failed"),
        ] {
            out.insert(
                format!("{name}_count"),
                json!(counts.get(&id).copied().unwrap_or(0)),
            );
        }
        for n in 1..=7u64 {
            out.insert(
                format!("custom_status{n}_count"),
                json!(counts.get(&(n + 5)).copied().unwrap_or(0)),
            );
        }
        out
    }
}

pub fn num(r: &Record, key: &str) -> Option<u64> {
    r.get(key).and_then(Value::as_u64)
}

pub fn obj(v: Value) -> Record {
    match v {
        Value::Object(m) => m,
        _ => Record::new(),
    }
}
