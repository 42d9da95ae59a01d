//! A TestRail API v2 simulator: `index.php?/api/v2/<method>/<ids>&<params>`, basic
//! auth with user and password or API key, single-suite and multi-suite projects,
//! suites, sections, cases (bulk answers paged through `_links.next`, or bare arrays
//! as servers before 6.7 answer), case and result fields, statuses with custom ones,
//! runs, plans and plan entries with configurations, `add_results_for_cases` checked
//! as TestRail checks it, multipart attachments, `{"error": "..."}` bodies, 429 with
//! `Retry-After` and the fault switches of [`crate::faults`]. Every write is in the
//! ledger.

mod control;
mod fields;
mod multipart;
mod routes;
mod seed;
mod store;

pub use seed::Seeded;
pub use store::{Attachment, LedgerEntry};

use crate::faults::{FaultKind, Faults, lock};
use crate::server::HttpServer;
use serde_json::{Value, json};
use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use store::{Store, num, obj};

/// One request the simulator answered (or dropped: status 0).
#[derive(Debug, Clone)]
pub struct RequestLog {
    pub method: String,
    /// Path and query as sent (`/index.php?/api/v2/get_cases/1&suite_id=1`).
    pub target: String,
    pub status: u16,
    pub fault: Option<FaultKind>,
}

impl RequestLog {
    /// The API method (`get_cases`), if the target is an API call.
    pub fn api_method(&self) -> Option<&str> {
        let rest = self.target.split_once("/api/v2/")?.1;
        rest.split(['/', '&']).next()
    }
}

pub(crate) struct Shared {
    store: Mutex<Store>,
    faults: Faults,
    requests: Mutex<Vec<RequestLog>>,
    base: OnceLock<String>,
}

impl Shared {
    fn base(&self) -> String {
        self.base.get().cloned().unwrap_or_default()
    }
}

/// A stored result with its run and case.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRecord {
    pub id: u64,
    pub run_id: u64,
    pub case_id: u64,
    pub test_id: u64,
    /// The whole record as `get_results` shows it.
    pub fields: Value,
}

/// A running TestRail simulator. It stops when dropped.
pub struct TestrailSim {
    shared: Arc<Shared>,
    server: HttpServer,
    seeded: Seeded,
}

impl TestrailSim {
    /// Starts on 127.0.0.1 at a free port, with the default seed.
    pub fn start() -> TestrailSim {
        TestrailSim::bind("127.0.0.1:0").expect("start the TestRail simulator on 127.0.0.1")
    }

    /// Starts on the given address (`127.0.0.1:8083`).
    pub fn bind(addr: &str) -> io::Result<TestrailSim> {
        let mut store = Store::new();
        let seeded = seed::seed(&mut store);
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            faults: Faults::default(),
            requests: Mutex::new(Vec::new()),
            base: OnceLock::new(),
        });
        let handler_shared = shared.clone();
        let server = HttpServer::bind(
            addr,
            Arc::new(move |req| routes::handle(&handler_shared, req)),
        )?;
        let _ = shared.base.set(server.url());
        Ok(TestrailSim {
            shared,
            server,
            seeded,
        })
    }

    /// Starts on the given address and prints the URL, credentials and seeded ids
    /// (for the standalone binary); prints why when it cannot start.
    pub fn bind_announced(addr: &str) -> Option<TestrailSim> {
        match TestrailSim::bind(addr) {
            Ok(sim) => {
                let s = &sim.seeded;
                println!("testrail url = {}", sim.url());
                println!(
                    "testrail user / password / api key = {} / {} / {}",
                    s.user, s.password, s.api_key
                );
                println!(
                    "testrail single-suite project = P{} (suite S{}, section {}); multi-suite project = P{} (suites S{}, S{}; section {})",
                    s.single_project,
                    s.single_suite,
                    s.single_section,
                    s.multi_project,
                    s.multi_suite,
                    s.other_suite,
                    s.multi_section
                );
                Some(sim)
            }
            Err(e) => {
                eprintln!("cannot start the TestRail simulator on {addr}: {e}");
                None
            }
        }
    }

    /// `http://127.0.0.1:PORT`: the instance URL a client is given.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// `http://127.0.0.1:PORT/index.php?/api/v2/`
    pub fn api_url(&self) -> String {
        format!("{}/index.php?/api/v2/", self.server.url())
    }

    pub fn seeded(&self) -> &Seeded {
        &self.seeded
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Every request answered so far.
    pub fn requests(&self) -> Vec<RequestLog> {
        lock(&self.shared.requests).clone()
    }

    /// Bulk GETs answer bare arrays (servers before TestRail 6.7).
    pub fn set_legacy_bare_arrays(&self, on: bool) {
        lock(&self.shared.store).legacy_bare_arrays = on;
    }

    /// The largest page a bulk GET returns (TestRail: 250).
    pub fn set_page_cap(&self, size: usize) {
        lock(&self.shared.store).page_cap = size.max(1);
    }

    /// The credentials stop working: every call answers 401.
    pub fn revoke_credentials(&self) {
        for a in &mut lock(&self.shared.store).accounts {
            a.revoked = true;
        }
    }

    /// The account loses access to every project: 403.
    pub fn deny_access(&self) {
        for a in &mut lock(&self.shared.store).accounts {
            a.project_ids.clear();
        }
    }

    /// Undoes [`Self::revoke_credentials`] and [`Self::deny_access`].
    pub fn restore_access(&self) {
        let (single, multi) = (self.seeded.single_project, self.seeded.multi_project);
        for a in &mut lock(&self.shared.store).accounts {
            a.revoked = false;
            a.project_ids = vec![single, multi];
        }
    }

    /// Adds a case without the API (seeding). `fields` may hold `refs` and `custom_*`.
    pub fn add_case(&self, section_id: u64, title: &str, fields: Value) -> u64 {
        let mut store = lock(&self.shared.store);
        let suite = store
            .get("sections", section_id)
            .and_then(|s| num(s, "suite_id"))
            .unwrap_or(0);
        let mut rec = obj(json!({
            "title": title, "section_id": section_id, "template_id": 1, "type_id": 7,
            "priority_id": 2, "milestone_id": null, "refs": null, "created_by": 1,
            "created_on": store.clock, "updated_by": 1, "updated_on": store.clock,
            "estimate": null, "estimate_forecast": null, "suite_id": suite,
        }));
        rec.extend(obj(fields));
        store.insert("cases", 1, rec)
    }

    /// Adds a run without the API (seeding), with every case of the suite.
    pub fn add_run(&self, project_id: u64, suite_id: u64, name: &str) -> u64 {
        let mut store = lock(&self.shared.store);
        let rec = obj(json!({
            "suite_id": suite_id, "name": name, "description": null, "milestone_id": null,
            "assignedto_id": null, "include_all": true, "case_ids": [], "is_completed": false,
            "completed_on": null, "config": null, "config_ids": [], "project_id": project_id,
            "plan_id": null, "entry_index": null, "entry_id": null, "refs": null,
            "created_by": 1, "created_on": store.clock, "is_archived": false,
            "archived_on": null, "start_on": null, "due_on": null, "dynamic_filters": null,
        }));
        store.insert("runs", 1, rec)
    }

    /// A stored record (`cases`, `sections`, `runs`, `plans`) as TestRail shows it.
    pub fn record(&self, table: &'static str, id: u64) -> Option<Value> {
        let store = lock(&self.shared.store);
        let mut r = store.get(table, id)?.clone();
        r.retain(|k, _| !k.starts_with('_'));
        Some(Value::Object(r))
    }

    /// Ids of the stored records of a table.
    pub fn ids(&self, table: &'static str) -> Vec<u64> {
        lock(&self.shared.store)
            .table(table)
            .keys()
            .copied()
            .collect()
    }

    /// The case ids a run holds now.
    pub fn cases_in_run(&self, run_id: u64) -> Vec<u64> {
        lock(&self.shared.store).cases_in_run(run_id)
    }

    /// Every stored result, oldest first.
    pub fn results(&self) -> Vec<ResultRecord> {
        let store = lock(&self.shared.store);
        store
            .table("results")
            .iter()
            .map(|(id, r)| {
                let mut shown = r.clone();
                shown.retain(|k, _| !k.starts_with('_'));
                ResultRecord {
                    id: *id,
                    run_id: num(r, "_run_id").unwrap_or(0),
                    case_id: num(r, "_case_id").unwrap_or(0),
                    test_id: num(r, "test_id").unwrap_or(0),
                    fields: Value::Object(shown),
                }
            })
            .collect()
    }

    /// Every uploaded attachment.
    pub fn attachments(&self) -> Vec<Attachment> {
        lock(&self.shared.store).attachments.clone()
    }

    /// Every write, in order.
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        lock(&self.shared.store).ledger.clone()
    }

    /// Ledger entries of one action (`add_case`, `add_result`, ...).
    pub fn ledger_of(&self, action: &str) -> Vec<LedgerEntry> {
        self.ledger()
            .into_iter()
            .filter(|e| e.action == action)
            .collect()
    }
}
