//! A qTest Manager API v3 simulator: bearer tokens (a good one, an expired one),
//! one project (and one the user may not open), the project's automation settings
//! with their status mappings and a switch to turn automation off, the Test Design
//! tree (modules, test cases with steps and versions), the Test Execution tree (test
//! cycles, test suites, test runs), test logs with step logs and attachments,
//! requirements with their fields and links to test cases (`requirements.rs` says
//! what they follow and how sure that is), paging as qTest pages (`page` from 1 with `pageSize` or `size`), qTest's error bodies and
//! the fault switches of [`crate::faults`]. Everything a client creates is in the
//! ledger (`ledger()`, or `GET /__sim/ledger`).
//!
//! ```no_run
//! use tmbridge_simulators::qtest::QtestSim;
//! let qtest = QtestSim::start();
//! qtest.faults().fail_next(2, 503);
//! println!("site {} project {} token {}", qtest.url(), qtest.project_id(), qtest.token());
//! ```

mod control;
mod failed_runs;
mod log_files;
mod requirement_store;
mod requirements;
mod routes;
mod store;

pub use log_files::Comment;
pub use requirement_store::Requirement;
pub use store::{LedgerEntry, Mapping, RunStatus};

use crate::faults::{FaultKind, Faults, lock};
use crate::server::{HttpRequest, HttpServer, Outcome, Reply};
use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use store::Store;

/// One request the simulator answered (status 0: dropped).
#[derive(Debug, Clone)]
pub struct RequestLog {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub status: u16,
    pub fault: Option<FaultKind>,
}

pub(crate) struct Shared {
    store: Mutex<Store>,
    faults: Faults,
    requests: Mutex<Vec<RequestLog>>,
    base: OnceLock<String>,
}

/// A test log as stored: what a test checks.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    pub id: u64,
    pub run_id: u64,
    /// The Test Run status it was mapped to (`Passed`).
    pub status: String,
    /// The automation value sent (`PASS`).
    pub automation_status: String,
    pub exe_start_date: String,
    pub exe_end_date: String,
    pub note: Option<String>,
    pub step_logs: usize,
    /// (name, content type, size).
    pub attachments: Vec<(String, String, u64)>,
}

/// A running qTest simulator. It stops when dropped.
pub struct QtestSim {
    shared: Arc<Shared>,
    server: HttpServer,
}

impl QtestSim {
    /// Starts on 127.0.0.1 at a free port.
    pub fn start() -> QtestSim {
        QtestSim::bind("127.0.0.1:0").expect("start the qTest simulator on 127.0.0.1")
    }

    /// Starts on the given address (`127.0.0.1:8083`).
    pub fn bind(addr: &str) -> io::Result<QtestSim> {
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new()),
            faults: Faults::default(),
            requests: Mutex::new(Vec::new()),
            base: OnceLock::new(),
        });
        let handler_shared = shared.clone();
        let server = HttpServer::bind(addr, Arc::new(move |req| handle(&handler_shared, req)))?;
        let _ = shared.base.set(server.url());
        Ok(QtestSim { shared, server })
    }

    /// `http://127.0.0.1:PORT`: the site URL (`qtest.url`).
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The bearer token the simulator accepts.
    pub fn token(&self) -> String {
        lock(&self.shared.store).token.clone()
    }

    /// A token the simulator answers "Access token expired" to.
    pub fn expired_token(&self) -> String {
        lock(&self.shared.store).expired_token.clone()
    }

    pub fn project_id(&self) -> u64 {
        lock(&self.shared.store).project_id
    }

    /// A project the token's user may not open (403).
    pub fn restricted_project_id(&self) -> u64 {
        lock(&self.shared.store).restricted_project_id
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Every request answered so far.
    pub fn requests(&self) -> Vec<RequestLog> {
        lock(&self.shared.requests).clone()
    }

    /// Turns the project's automation integration on or off.
    pub fn set_automation(&self, on: bool) {
        lock(&self.shared.store).automation_enabled = on;
    }

    /// Removes the mapping of one automation value (`SKIP`).
    pub fn unmap(&self, value: &str) {
        lock(&self.shared.store)
            .mappings
            .retain(|m| !m.value.eq_ignore_ascii_case(value));
    }

    /// The project's mappings, automation value → Test Run status.
    pub fn mappings(&self) -> Vec<Mapping> {
        lock(&self.shared.store).mappings.clone()
    }

    /// The largest page the simulator gives (100 by default).
    pub fn set_max_page_size(&self, size: usize) {
        lock(&self.shared.store).max_page_size = size.max(1);
    }

    /// Every record clients created, in order.
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        lock(&self.shared.store).ledger.clone()
    }

    /// Ledger entries of one kind (`test-run`, `test-log`, ...).
    pub fn created(&self, kind: &str) -> Vec<LedgerEntry> {
        self.ledger()
            .into_iter()
            .filter(|e| e.kind == kind)
            .collect()
    }

    /// Every stored test log.
    pub fn logs(&self) -> Vec<LogRecord> {
        lock(&self.shared.store)
            .logs
            .iter()
            .map(|l| LogRecord {
                id: l.id,
                run_id: l.run_id,
                status: l.status.name.clone(),
                automation_status: l.automation_status.clone(),
                exe_start_date: l.exe_start_date.clone(),
                exe_end_date: l.exe_end_date.clone(),
                note: l.note.clone(),
                step_logs: l.step_logs.len(),
                attachments: l.attachments.clone(),
            })
            .collect()
    }

    /// (id, name, test case id, parent suite id) of every test run.
    pub fn runs(&self) -> Vec<(u64, String, u64, u64)> {
        lock(&self.shared.store)
            .runs
            .iter()
            .map(|r| (r.id, r.name.clone(), r.test_case_id, r.parent_id))
            .collect()
    }

    /// The comments on a test run (a linked defect is one).
    pub fn comments(&self, run_id: u64) -> Vec<Comment> {
        lock(&self.shared.store)
            .defect_links
            .comments
            .iter()
            .filter(|c| c.run_id == run_id)
            .cloned()
            .collect()
    }

    /// The properties a test run was created with.
    pub fn run_properties(&self, run_id: u64) -> Vec<serde_json::Value> {
        lock(&self.shared.store)
            .runs
            .iter()
            .find(|r| r.id == run_id)
            .map(|r| r.properties.clone())
            .unwrap_or_default()
    }

    /// (id, name, parent id) of the test suites.
    pub fn suites(&self) -> Vec<(u64, String, u64)> {
        let s = lock(&self.shared.store);
        s.suites
            .iter()
            .map(|c| (c.id, c.name.clone(), c.parent_id))
            .collect()
    }

    /// (id, name, parent id) of the test cycles.
    pub fn cycles(&self) -> Vec<(u64, String, u64)> {
        let s = lock(&self.shared.store);
        s.cycles
            .iter()
            .map(|c| (c.id, c.name.clone(), c.parent_id))
            .collect()
    }

    /// (id, name, parent id) of the modules.
    pub fn modules(&self) -> Vec<(u64, String, u64)> {
        let s = lock(&self.shared.store);
        s.modules
            .iter()
            .map(|m| (m.id, m.name.clone(), m.parent_id))
            .collect()
    }

    /// (id, name, module id, version "major.minor", step count) of the test cases.
    pub fn cases(&self) -> Vec<(u64, String, u64, String, usize)> {
        let s = lock(&self.shared.store);
        s.cases
            .iter()
            .map(|c| {
                (
                    c.id,
                    c.name.clone(),
                    c.parent_id,
                    format!("{}.{}", c.version.0, c.version.1),
                    c.steps.len(),
                )
            })
            .collect()
    }

    /// A test cycle made by hand (the root cycle a configuration names).
    pub fn add_cycle(&self, name: &str) -> u64 {
        let mut s = lock(&self.shared.store);
        let id = s.next_id();
        let pid = format!("CL-{}", s.cycles.len() + 1);
        s.cycles.push(store::Container {
            id,
            pid,
            name: name.into(),
            description: String::new(),
            parent_id: 0,
            parent_type: "root".into(),
        });
        id
    }
}

fn html(status: u16, text: &str) -> Reply {
    Reply::bytes(
        status,
        "text/html",
        format!("<html><body><h1>{status}</h1>{text}</body></html>").into_bytes(),
    )
}

/// Every request: control switches, faults, the token, then the API.
fn handle(shared: &Shared, req: HttpRequest) -> Outcome {
    if req.path.starts_with("/__sim/") {
        return Outcome::Reply(control::handle(shared, &req));
    }
    let fault = shared.faults.take(&req);
    let apply = |req: &HttpRequest| {
        let base = shared.base.get().cloned().unwrap_or_default();
        let mut store = lock(&shared.store);
        match routes::authenticate(&store, req) {
            Some(refused) if req.path.starts_with("/api/") => refused,
            _ => failed_runs::route(&mut store, &base, req)
                .unwrap_or_else(|| routes::route(&mut store, &base, req)),
        }
    };
    let (outcome, status) = match &fault {
        Some(FaultKind::ServerError(code)) => (
            Outcome::Reply(html(
                *code,
                "The server is temporarily unable to service your request.",
            )),
            *code,
        ),
        // qTest sits behind a gateway that answers 429 with Retry-After.
        Some(FaultKind::Throttle { retry_after_secs }) => (
            Outcome::Reply(
                routes::message(429, "Too Many Requests")
                    .with_header("Retry-After", &retry_after_secs.to_string()),
            ),
            429,
        ),
        Some(FaultKind::Drop) => (Outcome::Drop, 0),
        Some(FaultKind::Slow(d)) => {
            let reply = apply(&req);
            let s = reply.status;
            (Outcome::Delayed(*d, reply), s)
        }
        Some(FaultKind::DropAfterApply) => {
            let _ = apply(&req);
            (Outcome::Drop, 0)
        }
        Some(FaultKind::ErrorAfterApply(code)) => {
            let _ = apply(&req);
            (Outcome::Reply(html(*code, "Bad Gateway")), *code)
        }
        None => {
            let reply = apply(&req);
            let s = reply.status;
            (Outcome::Reply(reply), s)
        }
    };
    lock(&shared.requests).push(RequestLog {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        status,
        fault,
    });
    outcome
}
