//! An in-memory TestRail for the sessions' tests and transcripts: enough of API v2
//! (paged bulk reads, cases, sections, runs, plans with configurations, results,
//! attachments, `{"error"}` refusals) to drive a publish, with faults that apply
//! a write and lose its answer.

use crate::sync::protocol::{HttpRequest, HttpResponse, Method, ResponseKind};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const BASE: &str = "https://tr.test";
pub const USER: &str = "ci@example.com";
pub const KEY: &str = "tr-api-key";

/// What a fault does to a matching request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer this instead, without doing anything.
    Answer(u16, Vec<(String, String)>, String),
    /// Do it, then lose the answer.
    DropAfterApply,
}

#[derive(Debug, Clone)]
pub struct FakeTestrail {
    pub suite_mode: u64,
    pub page_size: usize,
    pub legacy: bool,
    pub revoked: bool,
    /// The project has the `custom_automation_id` case field.
    pub automation_field: bool,
    pub sections: Vec<Value>,
    pub cases: BTreeMap<u64, Value>,
    pub runs: BTreeMap<u64, Value>,
    pub tests: BTreeMap<(u64, u64), u64>,
    pub results: Vec<Value>,
    pub attachments: Vec<(u64, String, Vec<u8>)>,
    pub plans: BTreeMap<u64, Value>,
    pub faults: Vec<(Method, String, Fault)>,
    pub log: Vec<HttpRequest>,
    next: u64,
}

fn ok(v: Value) -> HttpResponse {
    HttpResponse::answered(200, vec![], v.to_string())
}

fn refuse(status: u16, message: &str) -> HttpResponse {
    HttpResponse::answered(status, vec![], json!({ "error": message }).to_string())
}

impl Default for FakeTestrail {
    fn default() -> Self {
        FakeTestrail::new()
    }
}

impl FakeTestrail {
    /// Project 1 (single suite 1) with section 10 "Automated".
    pub fn new() -> FakeTestrail {
        FakeTestrail {
            suite_mode: 1,
            page_size: 250,
            legacy: false,
            revoked: false,
            automation_field: true,
            sections: vec![
                json!({"id": 10, "suite_id": 1, "name": "Automated", "parent_id": null, "depth": 0}),
            ],
            cases: BTreeMap::new(),
            runs: BTreeMap::new(),
            tests: BTreeMap::new(),
            results: Vec::new(),
            attachments: Vec::new(),
            plans: BTreeMap::new(),
            faults: Vec::new(),
            log: Vec::new(),
            next: 100,
        }
    }

    fn id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    pub fn add_plan(&mut self) -> u64 {
        let id = self.id();
        self.plans
            .insert(id, json!({"id": id, "name": "Release", "entries": []}));
        id
    }

    pub fn fault(&mut self, method: Method, piece: &str, fault: Fault) {
        self.faults.push((method, piece.to_string(), fault));
    }

    /// Requests of one API method (`add_case`).
    pub fn calls(&self, method: &str) -> usize {
        self.log
            .iter()
            .filter(|r| api(r).0.split('/').next() == Some(method))
            .count()
    }

    fn cases_in_run(&self, run: &Value) -> Vec<u64> {
        if run["include_all"] == true {
            return self.cases.keys().copied().collect();
        }
        run["case_ids"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default()
    }

    fn test_id(&mut self, run: u64, case: u64) -> u64 {
        if let Some(t) = self.tests.get(&(run, case)) {
            return *t;
        }
        let t = 5000 + self.tests.len() as u64;
        self.tests.insert((run, case), t);
        t
    }

    fn page(
        &self,
        path: &str,
        params: &BTreeMap<String, String>,
        key: &str,
        items: Vec<Value>,
    ) -> HttpResponse {
        if self.legacy {
            return ok(Value::Array(items));
        }
        let offset: usize = params
            .get("offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let limit = self.page_size;
        let page: Vec<Value> = items.iter().skip(offset).take(limit).cloned().collect();
        let mut others: Vec<String> = params
            .iter()
            .filter(|(k, _)| *k != "offset" && *k != "limit")
            .map(|(k, v)| format!("&{k}={v}"))
            .collect();
        others.sort();
        let next = (offset + limit < items.len()).then(|| {
            format!(
                "/api/v2/{path}{}&limit={limit}&offset={}",
                others.join(""),
                offset + limit
            )
        });
        ok(
            json!({"offset": offset, "limit": limit, "size": page.len(), "_links": {"next": next, "prev": null}, key: page}),
        )
    }

    pub fn handle(&mut self, req: &HttpRequest) -> HttpResponse {
        self.log.push(req.clone());
        let (path, params) = api(req);
        if let Some(i) = self
            .faults
            .iter()
            .position(|(m, p, _)| *m == req.method && path.starts_with(p.as_str()))
        {
            let (_, _, fault) = self.faults.remove(i);
            match fault {
                Fault::Answer(status, headers, body) => {
                    return HttpResponse::answered(status, headers, body);
                }
                Fault::DropAfterApply => {
                    self.apply(req, &path, &params);
                    return HttpResponse::failed(ResponseKind::Dropped, "connection reset");
                }
            }
        }
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{KEY}"))
        );
        if self.revoked || req.header("Authorization") != Some(expected.as_str()) {
            return refuse(
                401,
                "Authentication failed: invalid or missing user/password or session cookie.",
            );
        }
        self.apply(req, &path, &params)
    }

    fn apply(
        &mut self,
        req: &HttpRequest,
        path: &str,
        params: &BTreeMap<String, String>,
    ) -> HttpResponse {
        let body: Value = req
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        let parts: Vec<&str> = path.split('/').collect();
        let n = |i: usize| {
            parts
                .get(i)
                .and_then(|p| p.parse::<u64>().ok())
                .unwrap_or(0)
        };
        match (req.method, parts[0]) {
            (Method::Get, "get_project") if n(1) == 1 => {
                ok(json!({"id": 1, "name": "Web", "suite_mode": self.suite_mode}))
            }
            (Method::Get, "get_project") => refuse(
                400,
                "Field :project_id is not a valid or accessible project.",
            ),
            (Method::Get, "get_suites") => {
                ok(json!([{"id": 1, "name": "Master", "project_id": 1}]))
            }
            (Method::Get, "get_suite") if n(1) == 1 => {
                ok(json!({"id": 1, "name": "Master", "project_id": 1}))
            }
            (Method::Get, "get_suite") => refuse(400, "Field :suite_id is not a valid test suite."),
            (Method::Get, "get_section") => match self.sections.iter().find(|s| s["id"] == n(1)) {
                Some(s) => ok(s.clone()),
                None => refuse(400, "Field :section_id is not a valid section."),
            },
            (Method::Get, "get_statuses") => ok(json!([
                {"id": 1, "name": "passed", "label": "Passed"}, {"id": 2, "name": "blocked", "label": "Blocked"},
                {"id": 3, "name": "untested", "label": "Untested"}, {"id": 4, "name": "retest", "label": "Retest"},
                {"id": 5, "name": "failed", "label": "Failed"}, {"id": 7, "name": "custom_status2", "label": "Flaky"}])),
            (Method::Get, "get_case_fields") => {
                let mut fields = vec![
                    json!({"system_name": "custom_level", "label": "Level", "type_id": 6,
                 "configs": [{"context": {"is_global": false, "project_ids": [1]}, "options": {"items": "1, Low\n2, High"}}]}),
                    json!({"system_name": "custom_steps_separated", "label": "Steps", "type_id": 10,
                     "configs": [{"context": {"is_global": true, "project_ids": null}, "options": {}}]}),
                ];
                if self.automation_field {
                    fields.push(json!({"system_name": "custom_automation_id", "label": "Automation ID", "type_id": 1,
                     "configs": [{"context": {"is_global": true, "project_ids": null}, "options": {}}]}));
                }
                ok(Value::Array(fields))
            }
            (Method::Get, "get_result_fields") => ok(json!([
                {"system_name": "custom_step_results", "type_id": 11, "template_ids": [2],
                 "configs": [{"context": {"is_global": true, "project_ids": null}, "options": {}}]},
                {"system_name": "custom_environment", "type_id": 1,
                 "configs": [{"context": {"is_global": true, "project_ids": null}, "options": {}}]}])),
            (Method::Get, "get_configs") => ok(json!([{"id": 1, "name": "Browsers", "configs": [
                {"id": 1, "name": "Chrome"}, {"id": 2, "name": "Firefox"}]}])),
            (Method::Get, "get_cases") => {
                let items = self.cases.values().cloned().collect();
                self.page(&format!("get_cases/{}", n(1)), params, "cases", items)
            }
            (Method::Get, "get_sections") => {
                let items = self.sections.clone();
                self.page(&format!("get_sections/{}", n(1)), params, "sections", items)
            }
            (Method::Post, "add_section") => {
                let id = self.id();
                let s = json!({"id": id, "suite_id": 1, "name": body["name"], "parent_id": body["parent_id"]});
                self.sections.push(s.clone());
                ok(s)
            }
            (Method::Post, "add_case") => {
                if body["custom_level"].as_u64().is_some_and(|l| l > 2) {
                    return refuse(
                        400,
                        "Field :custom_level is not a valid dropdown option id.",
                    );
                }
                let id = self.id();
                let mut c = body.clone();
                if !self.automation_field
                    && let Some(m) = c.as_object_mut()
                {
                    m.remove("custom_automation_id");
                }
                c["id"] = json!(id);
                c["section_id"] = json!(n(1));
                c["suite_id"] = json!(1);
                self.cases.insert(id, c.clone());
                ok(c)
            }
            (Method::Post, "update_case") => match self.cases.get_mut(&n(1)) {
                Some(c) => {
                    for (k, v) in body.as_object().cloned().unwrap_or_default() {
                        c[k.as_str()] = v;
                    }
                    ok(c.clone())
                }
                None => refuse(400, "Field :case_id is not a valid test case."),
            },
            (Method::Get, "get_runs") => {
                let items = self
                    .runs
                    .values()
                    .filter(|r| r["plan_id"].is_null())
                    .cloned()
                    .collect();
                self.page(&format!("get_runs/{}", n(1)), params, "runs", items)
            }
            (Method::Get, "get_run") => match self.runs.get(&n(1)) {
                Some(r) => ok(r.clone()),
                None => refuse(400, "Field :run_id is not a valid test run."),
            },
            (Method::Post, "add_run") => {
                let id = self.id();
                let mut r = body.clone();
                r["id"] = json!(id);
                r["plan_id"] = Value::Null;
                r["is_completed"] = json!(false);
                self.runs.insert(id, r.clone());
                ok(r)
            }
            (Method::Post, "update_run" | "update_run_in_plan_entry") => {
                match self.runs.get_mut(&n(1)) {
                    Some(r) => {
                        r["case_ids"] = body["case_ids"].clone();
                        ok(r.clone())
                    }
                    None => refuse(400, "Field :run_id is not a valid test run."),
                }
            }
            (Method::Get, "get_tests") => {
                let run = self.runs.get(&n(1)).cloned().unwrap_or(Value::Null);
                let cases = self.cases_in_run(&run);
                let items = cases
                    .into_iter()
                    .map(|c| json!({"id": self.test_id(n(1), c), "case_id": c, "run_id": n(1)}))
                    .collect();
                self.page(&format!("get_tests/{}", n(1)), params, "tests", items)
            }
            (Method::Get, "get_plan") => match self.plans.get(&n(1)) {
                Some(p) => {
                    let mut p = p.clone();
                    for e in p["entries"].as_array_mut().into_iter().flatten() {
                        let runs: Vec<Value> = e["runs"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                            .iter()
                            .filter_map(|r| self.runs.get(&r.as_u64().unwrap_or(0)).cloned())
                            .collect();
                        e["runs"] = Value::Array(runs);
                    }
                    ok(p)
                }
                None => refuse(400, "Field :plan_id is not a valid test plan."),
            },
            (Method::Post, "add_plan_entry") => {
                let plan = n(1);
                let entry_id = format!("entry-{}", self.id());
                let mut runs = Vec::new();
                for r in body["runs"].as_array().cloned().unwrap_or_default() {
                    let id = self.id();
                    let config = r["config_ids"]
                        .as_array()
                        .and_then(|c| c.first())
                        .and_then(Value::as_u64)
                        .map(|c| if c == 1 { "Chrome" } else { "Firefox" });
                    let run = json!({"id": id, "suite_id": 1, "name": body["name"], "include_all": false,
                        "case_ids": r["case_ids"], "plan_id": plan, "entry_id": entry_id, "config": config, "is_completed": false});
                    self.runs.insert(id, run.clone());
                    runs.push(run);
                }
                let entry = json!({"id": entry_id, "name": body["name"], "description": body["description"], "runs": runs});
                if let Some(p) = self.plans.get_mut(&plan) {
                    let ids: Vec<Value> = runs.iter().map(|r| r["id"].clone()).collect();
                    let mut stored = entry.clone();
                    stored["runs"] = json!(ids);
                    if let Some(e) = p["entries"].as_array_mut() {
                        e.push(stored);
                    }
                }
                ok(entry)
            }
            (Method::Get, "get_results_for_run") => {
                let items: Vec<Value> = self
                    .results
                    .iter()
                    .rev()
                    .filter(|r| r["run_id"] == n(1))
                    .cloned()
                    .collect();
                self.page(
                    &format!("get_results_for_run/{}", n(1)),
                    params,
                    "results",
                    items,
                )
            }
            (Method::Post, "add_results_for_cases") => {
                let run_id = n(1);
                let Some(run) = self.runs.get(&run_id).cloned() else {
                    return refuse(400, "Field :run_id is not a valid test run.");
                };
                let members = self.cases_in_run(&run);
                let items = body["results"].as_array().cloned().unwrap_or_default();
                for (i, r) in items.iter().enumerate() {
                    if !members.contains(&r["case_id"].as_u64().unwrap_or(0)) {
                        return refuse(
                            400,
                            &format!("Field :results[{i}].case_id is not part of the test run."),
                        );
                    }
                }
                let mut out = Vec::new();
                for r in items {
                    let id = self.id();
                    let case = r["case_id"].as_u64().unwrap_or(0);
                    let mut stored = r.clone();
                    stored["id"] = json!(id);
                    stored["test_id"] = json!(self.test_id(run_id, case));
                    stored["run_id"] = json!(run_id);
                    self.results.push(stored.clone());
                    out.push(stored);
                }
                ok(Value::Array(out))
            }
            (Method::Get, "get_attachments_for_test") => ok(Value::Array(
                self.attachments
                    .iter()
                    .filter(|(t, _, _)| *t == n(1))
                    .map(|(_, name, _)| json!({"name": name}))
                    .collect(),
            )),
            (Method::Post, "add_attachment_to_result") => {
                let Some(result) = self.results.iter().find(|r| r["id"] == n(1)).cloned() else {
                    return refuse(400, "Field :result_id is not a valid result.");
                };
                let bytes = req
                    .body_base64
                    .as_deref()
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                    .unwrap_or_default();
                let text = String::from_utf8_lossy(&bytes).to_string();
                let name = text
                    .split("filename=\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .unwrap_or("")
                    .to_string();
                let find = |needle: &[u8], from: usize| {
                    bytes[from..]
                        .windows(needle.len())
                        .position(|w| w == needle)
                        .map(|i| i + from)
                };
                let start = find(b"\r\n\r\n", 0).map_or(0, |i| i + 4);
                let end = (start..bytes.len())
                    .rev()
                    .find(|&i| bytes[i..].starts_with(b"\r\n--"))
                    .unwrap_or(bytes.len());
                let content = bytes[start..end].to_vec();
                self.attachments
                    .push((result["test_id"].as_u64().unwrap_or(0), name, content));
                ok(json!({"attachment_id": self.attachments.len()}))
            }
            _ => refuse(404, &format!("Unknown method '{}'", parts[0])),
        }
    }
}

/// The API path (`get_cases/1`) and the parameters of a request.
pub fn api(req: &HttpRequest) -> (String, BTreeMap<String, String>) {
    let rest = req.url.split_once("/api/v2/").map_or("", |(_, r)| r);
    let mut parts = rest.split('&');
    let path = parts.next().unwrap_or("").to_string();
    let params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (path, params)
}
