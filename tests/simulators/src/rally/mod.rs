//! A Rally WSAPI v2.0 simulator: `QueryResult` / `CreateResult` / `OperationResult`
//! envelopes with `Errors` and `Warnings`, paging (`start` from 1, `pagesize` up to
//! 2000), queries parsed by the core's own Rally query parser, `ZSESSIONID` API keys
//! and basic auth with `security/authorize` tokens, 401 / 403, and the fault
//! switches of [`crate::faults`]. Every record a client creates is in the ledger.

mod control;
mod filter;
mod render;
mod routes;
mod schema;
mod seed;
mod store;
mod types;

pub use routes::PREFIX;
pub use store::LedgerEntry;
pub use types::VERDICTS;

use crate::faults::{FaultKind, Faults, lock};
use crate::server::HttpServer;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use store::{Store, parse_ref};

/// One request the simulator answered (or dropped: status 0).
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

impl Shared {
    fn base(&self) -> String {
        self.base.get().cloned().unwrap_or_default()
    }
}

/// The refs and credentials of the seeded data.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub api_key: String,
    pub username: String,
    pub password: String,
    pub user: String,
    pub workspace: String,
    /// A workspace the user may not use (403).
    pub other_workspace: String,
    pub project: String,
    /// A project of the user's workspace the user may not use (403).
    pub restricted_project: String,
    /// The iteration running now (`Sprint 14`) and the one before (`Sprint 13`).
    pub current_iteration: String,
    pub previous_iteration: String,
}

/// A running Rally simulator. It stops when dropped.
pub struct RallySim {
    shared: Arc<Shared>,
    server: HttpServer,
    seeded: Seeded,
}

/// A created TestCaseResult, with its test case's FormattedID and its attachments.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRecord {
    pub reference: String,
    pub test_case: String,
    pub build: String,
    pub verdict: String,
    pub date: String,
    pub duration: Option<Value>,
    pub notes: Option<String>,
    /// Name of the test set the result is in.
    pub test_set: Option<String>,
    /// (name, size in bytes, content type) of each attachment.
    pub attachments: Vec<(String, u64, String)>,
}

impl RallySim {
    /// Starts on 127.0.0.1 at a free port, with the default seed.
    pub fn start() -> RallySim {
        RallySim::bind("127.0.0.1:0").expect("start the Rally simulator on 127.0.0.1")
    }

    /// Starts on the given address (`127.0.0.1:8081`).
    pub fn bind(addr: &str) -> io::Result<RallySim> {
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
        let _ = shared.base.set(format!("{}{}", server.url(), PREFIX));
        Ok(RallySim {
            shared,
            server,
            seeded,
        })
    }

    /// `http://127.0.0.1:PORT`: what goes in `rally.url`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// `http://127.0.0.1:PORT/slm/webservice/v2.0`
    pub fn wsapi_url(&self) -> String {
        self.shared.base()
    }

    pub fn seeded(&self) -> &Seeded {
        &self.seeded
    }

    pub fn api_key(&self) -> &str {
        &self.seeded.api_key
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Every request answered so far.
    pub fn requests(&self) -> Vec<RequestLog> {
        lock(&self.shared.requests).clone()
    }

    /// Refuse TestCaseResults whose TestCase is not in their TestSet, as Rally does (on
    /// by default; off only to reproduce a lenient server).
    pub fn set_strict_test_set_membership(&self, on: bool) {
        lock(&self.shared.store).strict_test_set_membership = on;
    }

    /// Adds an object without validation (seeding). `fields` is a JSON object whose
    /// references are refs (`/project/1`). Returns the new ref.
    pub fn insert(&self, type_key: &str, fields: Value) -> String {
        let map: BTreeMap<String, Value> = match fields {
            Value::Object(m) => m.into_iter().collect(),
            _ => BTreeMap::new(),
        };
        let mut store = lock(&self.shared.store);
        let oid = store.insert(type_key, map);
        store.objects[&oid].reference()
    }

    /// A test case in the seeded project, optionally linked to a user story.
    pub fn add_test_case(
        &self,
        formatted_id: &str,
        name: &str,
        work_product: Option<&str>,
    ) -> String {
        let mut f = serde_json::json!({
            "FormattedID": formatted_id,
            "Name": name,
            "Project": self.seeded.project,
            "Workspace": self.seeded.workspace,
            "Type": "Functional",
            "Method": "Automated",
        });
        if let Some(wp) = work_product {
            f["WorkProduct"] = Value::from(wp);
        }
        self.insert("testcase", f)
    }

    /// A user story in the seeded project, optionally scheduled in an iteration.
    pub fn add_user_story(
        &self,
        formatted_id: &str,
        name: &str,
        iteration: Option<&str>,
    ) -> String {
        let mut f = serde_json::json!({
            "FormattedID": formatted_id,
            "Name": name,
            "Project": self.seeded.project,
            "Workspace": self.seeded.workspace,
            "ScheduleState": "In-Progress",
        });
        if let Some(it) = iteration {
            f["Iteration"] = Value::from(it);
        }
        self.insert("hierarchicalrequirement", f)
    }

    /// An iteration of the seeded project. Dates are `YYYY-MM-DD` or RFC 3339.
    pub fn add_iteration(&self, name: &str, start: &str, end: &str) -> String {
        let date = |d: &str| {
            store::parse_date(d)
                .map(store::format_date)
                .unwrap_or_default()
        };
        self.insert(
            "iteration",
            serde_json::json!({
                "Name": name,
                "StartDate": date(start),
                "EndDate": date(end),
                "State": "Committed",
                "Project": self.seeded.project,
                "Workspace": self.seeded.workspace,
            }),
        )
    }

    /// Every record clients created, in order.
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        lock(&self.shared.store).ledger.clone()
    }

    /// Records of one type (`TestCaseResult`, `Attachment`, ...) clients created.
    pub fn created(&self, type_name: &str) -> Vec<LedgerEntry> {
        self.ledger()
            .into_iter()
            .filter(|e| e.type_name.eq_ignore_ascii_case(type_name))
            .collect()
    }

    /// The stored attributes of an object (references as `/type/oid`).
    pub fn object(&self, reference: &str) -> Option<BTreeMap<String, Value>> {
        let store = lock(&self.shared.store);
        store
            .deref(&Value::from(reference))
            .map(|o| o.fields.clone())
    }

    /// Refs of objects of a type whose attribute equals the text.
    pub fn find(&self, type_key: &str, field: &str, value: &str) -> Vec<String> {
        let store = lock(&self.shared.store);
        store
            .objects
            .values()
            .filter(|o| o.ty.key.eq_ignore_ascii_case(type_key))
            .filter(|o| o.fields.get(field).and_then(Value::as_str) == Some(value))
            .map(|o| o.reference())
            .collect()
    }

    /// FormattedIDs of the test cases in a test set.
    pub fn test_set_members(&self, test_set: &str) -> Vec<String> {
        let store = lock(&self.shared.store);
        let Some(set) = store.deref(&Value::from(test_set)) else {
            return Vec::new();
        };
        store
            .collection(set, "TestCases")
            .into_iter()
            .filter_map(|oid| store.get(oid))
            .filter_map(|o| o.text("FormattedID").map(str::to_string))
            .collect()
    }

    /// Every TestCaseResult now stored, with what a person would check.
    pub fn results(&self) -> Vec<ResultRecord> {
        let store = lock(&self.shared.store);
        let text_of = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        store
            .objects
            .values()
            .filter(|o| o.ty.key == "testcaseresult")
            .map(|r| {
                let tc = r.fields.get("TestCase").and_then(|v| store.deref(v));
                let set = r.fields.get("TestSet").and_then(|v| store.deref(v));
                let attachments = store
                    .collection(r, "Attachments")
                    .into_iter()
                    .filter_map(|a| store.get(a))
                    .map(|a| {
                        (
                            a.display_name(),
                            a.fields.get("Size").and_then(Value::as_u64).unwrap_or(0),
                            a.text("ContentType").unwrap_or("").to_string(),
                        )
                    })
                    .collect();
                ResultRecord {
                    reference: r.reference(),
                    test_case: tc
                        .and_then(|t| t.text("FormattedID"))
                        .unwrap_or("")
                        .to_string(),
                    build: r.text("Build").unwrap_or("").to_string(),
                    verdict: r.text("Verdict").unwrap_or("").to_string(),
                    date: r.text("Date").unwrap_or("").to_string(),
                    duration: r.fields.get("Duration").cloned(),
                    notes: text_of(r.fields.get("Notes")),
                    test_set: set.map(|s| s.display_name()),
                    attachments,
                }
            })
            .collect()
    }

    /// The bytes of an attachment's content.
    pub fn attachment_bytes(&self, attachment: &str) -> Option<Vec<u8>> {
        use base64::Engine;
        let store = lock(&self.shared.store);
        let a = store.deref(&Value::from(attachment))?;
        let c = store.deref(a.fields.get("Content")?)?;
        base64::engine::general_purpose::STANDARD
            .decode(c.text("Content")?)
            .ok()
    }

    /// AttachmentContents no Attachment points at: uploads left behind.
    pub fn unused_contents(&self) -> Vec<String> {
        let store = lock(&self.shared.store);
        let used: Vec<String> = store
            .objects
            .values()
            .filter(|o| o.ty.key == "attachment")
            .filter_map(|a| a.fields.get("Content").and_then(|c| store.deref(c)))
            .map(|c| c.reference())
            .collect();
        store
            .objects
            .values()
            .filter(|o| o.ty.key == "attachmentcontent")
            .map(|c| c.reference())
            .filter(|r| !used.contains(r))
            .collect()
    }

    /// Refs of every object clients deleted, in order.
    pub fn deleted(&self) -> Vec<String> {
        lock(&self.shared.store).deleted.clone()
    }

    /// Test sets by name.
    pub fn test_sets(&self, name: &str) -> Vec<String> {
        self.find("testset", "Name", name)
    }

    /// Whether a ref is well formed and points at a stored object.
    pub fn exists(&self, reference: &str) -> bool {
        parse_ref(&Value::from(reference)).is_some() && self.object(reference).is_some()
    }
}
