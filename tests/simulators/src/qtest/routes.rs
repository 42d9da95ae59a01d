//! The qTest Manager API v3 endpoints the simulator serves, under `/api/v3`.
//!
//! Grounded in the swagger-generated client of qTest's own API description
//! (`TestrunApi`, `TestlogApi`, `ModuleApi`, `TestcaseApi`, `TestcycleApi`,
//! `TestsuiteApi`: paths, `parentId`/`parentType`, `page`/`pageSize` for runs and
//! logs, `page`/`size` for test cases, `TestRunListResource` and `TestLogListResource`
//! as `{links, page, page_size, total, items}`), in recorded answers of real sites
//! (test case create with steps, test runs), and in qTest's test log API page
//! (`POST /test-runs/{id}/auto-test-logs`: `status` is an automation value mapped in
//! the project's automation settings). Errors: OAuth2's `{"error",
//! "error_description"}` for tokens (as qTest's `/oauth/token` answers), else qTest's
//! `Message` resource, `{"message": ...}`.
//!
//! Not found in any public source, so the simulator's own choice: the path of the
//! automation settings (`GET /api/v3/projects/{id}/settings/automation`, answering
//! `{"enabled", "mappings": [{"value", "status": {"id", "name"}}]}`).

use super::store::{
    Container, Module, Store, TestCase, TestLog, TestRun, case_json, container_json, log_json,
    module_json, run_json,
};
use crate::server::{HttpRequest, Reply};
use base64::Engine;
use serde_json::{Value, json};

pub fn message(status: u16, text: &str) -> Reply {
    Reply::json(status, &json!({"message": text}))
}

fn unauthorized(description: &str) -> Reply {
    Reply::json(
        401,
        &json!({"error": "invalid_token", "error_description": description}),
    )
}

/// Checks the bearer token; `None` when it is good.
pub fn authenticate(store: &Store, req: &HttpRequest) -> Option<Reply> {
    let Some(header) = req.header("authorization") else {
        return Some(Reply::json(
            401,
            &json!({"error": "unauthorized", "error_description": "Full authentication is required to access this resource"}),
        ));
    };
    let token = match header.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
        _ => return Some(unauthorized("Invalid access token")),
    };
    if token == store.expired_token {
        return Some(unauthorized("Access token expired"));
    }
    (token != store.token).then(|| unauthorized("Invalid access token"))
}

fn body(req: &HttpRequest) -> Result<Value, Reply> {
    serde_json::from_slice(&req.body).map_err(|e| message(400, &format!("Invalid JSON: {e}")))
}

fn num_param(req: &HttpRequest, name: &str) -> Option<u64> {
    req.param(name).and_then(|v| v.trim().parse().ok())
}

fn text(v: &Value, field: &str) -> String {
    v.get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A page of `items` as qTest's list resources give it.
fn list_resource(req: &HttpRequest, store: &Store, items: Vec<Value>, size_param: &str) -> Value {
    let (page, size, slice) = page_of(req, store, items.clone(), size_param);
    json!({"links": [], "page": page, "page_size": size, "total": items.len(), "items": slice})
}

/// `page` from 1 and the page size (capped), then the items of that page.
fn page_of(
    req: &HttpRequest,
    store: &Store,
    items: Vec<Value>,
    size_param: &str,
) -> (usize, usize, Vec<Value>) {
    let page = num_param(req, "page").unwrap_or(1).max(1) as usize;
    let size = num_param(req, size_param)
        .map(|s| s as usize)
        .unwrap_or(store.max_page_size)
        .clamp(1, store.max_page_size);
    let slice = items
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    (page, size, slice)
}

/// Routes a request whose token was accepted. `base` is the site's URL.
pub fn route(store: &mut Store, base: &str, req: &HttpRequest) -> Reply {
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let method = req.method.as_str();
    if parts.len() < 2 || parts[0] != "api" || parts[1] != "v3" {
        return Reply::bytes(
            404,
            "text/html",
            b"<html><body>Not Found</body></html>".to_vec(),
        );
    }
    let rest = &parts[2..];
    if rest == ["projects"] && method == "GET" {
        return Reply::json(
            200,
            &json!([{"id": store.project_id, "name": store.project_name}]),
        );
    }
    let (Some(&"projects"), Some(pid)) = (rest.first(), rest.get(1)) else {
        return message(404, "Not Found");
    };
    let Ok(pid) = pid.parse::<u64>() else {
        return message(400, &format!("Invalid project id: {pid}"));
    };
    if pid == store.restricted_project_id {
        return message(403, "You do not have permission to access this project.");
    }
    if pid != store.project_id {
        return message(404, &format!("Project {pid} does not exist."));
    }
    let tail = &rest[2..];
    match (method, tail) {
        ("GET", []) => Reply::json(
            200,
            &json!({"id": pid, "name": store.project_name, "automation": store.automation_enabled}),
        ),
        ("GET", ["settings", "automation"]) => {
            let mappings: Vec<Value> = store
                .mappings
                .iter()
                .map(|m| json!({"value": m.value, "status": {"id": m.status.id, "name": m.status.name}}))
                .collect();
            Reply::json(
                200,
                &json!({"enabled": store.automation_enabled, "mappings": mappings}),
            )
        }
        ("GET", ["test-runs", "execution-statuses"]) => {
            let list: Vec<Value> = store
                .statuses
                .iter()
                .map(|s| json!({"id": s.id, "name": s.name, "is_default": s.id == 605, "active": true}))
                .collect();
            Reply::json(200, &json!(list))
        }
        ("GET", ["modules"]) => {
            let parent = num_param(req, "parentId").unwrap_or(0);
            let list: Vec<Value> = store
                .modules
                .iter()
                .filter(|m| m.parent_id == parent)
                .map(|m| module_json(base, pid, m))
                .collect();
            Reply::json(200, &json!(list))
        }
        ("POST", ["modules"]) => create_module(store, base, pid, req),
        ("GET", ["test-cases"]) => {
            let Some(parent) = num_param(req, "parentId") else {
                return message(400, "parentId is required");
            };
            let list: Vec<Value> = store
                .cases
                .iter()
                .filter(|c| c.parent_id == parent)
                .map(|c| case_json(base, pid, c))
                .collect();
            let (_, _, slice) = page_of(req, store, list, "size");
            Reply::json(200, &json!(slice))
        }
        ("POST", ["test-cases"]) => create_case(store, base, pid, req),
        ("PUT", ["test-cases", id]) => update_case(store, base, pid, id, req),
        ("PUT", ["test-cases", id, "approve"]) => approve_case(store, base, pid, id),
        ("GET", [what @ ("test-cycles" | "test-suites")]) => {
            let parent = num_param(req, "parentId").unwrap_or(0);
            let parent_type = req.param("parentType").unwrap_or("root").to_string();
            let items = if *what == "test-cycles" {
                &store.cycles
            } else {
                &store.suites
            };
            let list: Vec<Value> = items
                .iter()
                .filter(|c| c.parent_id == parent && c.parent_type == parent_type)
                .map(|c| container_json(base, pid, what, c))
                .collect();
            Reply::json(200, &json!(list))
        }
        ("POST", [what @ ("test-cycles" | "test-suites")]) => {
            create_container(store, base, pid, what, req)
        }
        ("GET", ["test-runs"]) => {
            let parent = num_param(req, "parentId").unwrap_or(0);
            let parent_type = req.param("parentType").unwrap_or("root").to_string();
            let list: Vec<Value> = store
                .runs
                .iter()
                .filter(|r| r.parent_id == parent && r.parent_type == parent_type)
                .map(|r| run_json(base, pid, r))
                .collect();
            Reply::json(200, &list_resource(req, store, list, "pageSize"))
        }
        ("POST", ["test-runs"]) => create_run(store, base, pid, req),
        ("GET", ["test-runs", id, "test-logs"]) => {
            let Some(run) = id
                .parse::<u64>()
                .ok()
                .filter(|r| store.runs.iter().any(|x| x.id == *r))
            else {
                return message(404, &format!("Test Run {id} does not exist."));
            };
            let list: Vec<Value> = store
                .logs
                .iter()
                .filter(|l| l.run_id == run)
                .map(|l| log_json(base, pid, l))
                .collect();
            Reply::json(200, &list_resource(req, store, list, "pageSize"))
        }
        ("POST", ["test-runs", id, "auto-test-logs"]) => create_log(store, base, pid, id, req),
        _ => super::requirements::route(store, base, pid, req, tail)
            .unwrap_or_else(|| message(404, &format!("No endpoint {method} {}", req.path))),
    }
}

fn create_module(store: &mut Store, base: &str, pid: u64, req: &HttpRequest) -> Reply {
    let v = match body(req) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let parent = num_param(req, "parentId").unwrap_or(0);
    if parent != 0 && !store.modules.iter().any(|m| m.id == parent) {
        return message(404, &format!("Module {parent} does not exist."));
    }
    let name = text(&v, "name");
    if name.trim().is_empty() {
        return message(400, "Module name is required.");
    }
    let id = store.next_id();
    let m = Module {
        id,
        pid: format!("MD-{}", store.modules.len() + 1),
        name: name.clone(),
        parent_id: parent,
        description: text(&v, "description"),
    };
    store.record("module", id, &m.pid, &name, parent);
    let out = module_json(base, pid, &m);
    store.modules.push(m);
    Reply::json(200, &out)
}

fn steps_of(v: &Value) -> Vec<(String, String)> {
    v.get("test_steps")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| (text(s, "description"), text(s, "expected")))
                .collect()
        })
        .unwrap_or_default()
}

fn create_case(store: &mut Store, base: &str, pid: u64, req: &HttpRequest) -> Reply {
    let v = match body(req) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let parent = v.get("parent_id").and_then(Value::as_u64).unwrap_or(0);
    if parent != 0 && !store.modules.iter().any(|m| m.id == parent) {
        return message(404, &format!("Module {parent} does not exist."));
    }
    let name = text(&v, "name");
    if name.trim().is_empty() {
        return message(400, "Test Case name is required.");
    }
    let id = store.next_id();
    let version_id = store.next_id();
    let c = TestCase {
        id,
        pid: format!("TC-{}", store.cases.len() + 1),
        name: name.clone(),
        parent_id: parent,
        description: text(&v, "description"),
        steps: steps_of(&v),
        properties: v
            .get("properties")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        version: (0, 1),
        version_id,
    };
    store.record("test-case", id, &c.pid, &name, parent);
    let out = case_json(base, pid, &c);
    store.cases.push(c);
    Reply::json(200, &out)
}

fn update_case(store: &mut Store, base: &str, pid: u64, id: &str, req: &HttpRequest) -> Reply {
    let v = match body(req) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let version_id = store.next_id();
    let Some(c) = store.cases.iter_mut().find(|c| c.id.to_string() == *id) else {
        return message(404, &format!("Test Case {id} does not exist."));
    };
    if let Some(d) = v.get("description").and_then(Value::as_str) {
        c.description = d.to_string();
    }
    if v.get("test_steps").is_some() {
        c.steps = steps_of(&v);
    }
    c.version.1 += 1;
    c.version_id = version_id;
    let (cid, cpid, name, parent) = (c.id, c.pid.clone(), c.name.clone(), c.parent_id);
    let out = case_json(base, pid, c);
    store.record("test-case-version", cid, &cpid, &name, parent);
    Reply::json(200, &out)
}

fn approve_case(store: &mut Store, base: &str, pid: u64, id: &str) -> Reply {
    let Some(c) = store.cases.iter_mut().find(|c| c.id.to_string() == *id) else {
        return message(404, &format!("Test Case {id} does not exist."));
    };
    c.version = (c.version.0 + 1, 0);
    Reply::json(200, &case_json(base, pid, c))
}

fn create_container(
    store: &mut Store,
    base: &str,
    pid: u64,
    what: &str,
    req: &HttpRequest,
) -> Reply {
    let v = match body(req) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let parent = num_param(req, "parentId").unwrap_or(0);
    let parent_type = req.param("parentType").unwrap_or("root").to_string();
    let parent_ok = match parent_type.as_str() {
        "root" => parent == 0,
        "test-cycle" => store.cycles.iter().any(|c| c.id == parent),
        "release" => false,
        _ => false,
    };
    if !parent_ok {
        return message(
            404,
            &format!("The parent {parent_type} {parent} does not exist."),
        );
    }
    let name = text(&v, "name");
    if name.trim().is_empty() {
        return message(400, "Name is required.");
    }
    let id = store.next_id();
    let (prefix, kind, count) = if what == "test-cycles" {
        ("CL", "test-cycle", store.cycles.len())
    } else {
        ("TS", "test-suite", store.suites.len())
    };
    let c = Container {
        id,
        pid: format!("{prefix}-{}", count + 1),
        name: name.clone(),
        description: text(&v, "description"),
        parent_id: parent,
        parent_type,
    };
    store.record(kind, id, &c.pid, &name, parent);
    let out = container_json(base, pid, what, &c);
    if what == "test-cycles" {
        store.cycles.push(c);
    } else {
        store.suites.push(c);
    }
    Reply::json(200, &out)
}

fn create_run(store: &mut Store, base: &str, pid: u64, req: &HttpRequest) -> Reply {
    let v = match body(req) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let parent = num_param(req, "parentId").unwrap_or(0);
    let parent_type = req.param("parentType").unwrap_or("root").to_string();
    let parent_ok = match parent_type.as_str() {
        "root" => parent == 0,
        "test-cycle" => store.cycles.iter().any(|c| c.id == parent),
        "test-suite" => store.suites.iter().any(|c| c.id == parent),
        _ => false,
    };
    if !parent_ok {
        return message(
            404,
            &format!("The parent {parent_type} {parent} does not exist."),
        );
    }
    let case_id = v
        .get("test_case")
        .and_then(|t| t.get("id"))
        .and_then(Value::as_u64);
    let Some(case_id) = case_id.filter(|id| store.cases.iter().any(|c| c.id == *id)) else {
        return message(400, "The associated Test Case does not exist.");
    };
    let name = text(&v, "name");
    let id = store.next_id();
    let r = TestRun {
        id,
        pid: format!("TR-{}", store.runs.len() + 1),
        name: name.clone(),
        parent_id: parent,
        parent_type,
        test_case_id: case_id,
        properties: v
            .get("properties")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    };
    store.record("test-run", id, &r.pid, &name, parent);
    let out = run_json(base, pid, &r);
    store.runs.push(r);
    Reply::json(200, &out)
}

pub(super) fn create_log(
    store: &mut Store,
    base: &str,
    pid: u64,
    id: &str,
    req: &HttpRequest,
) -> Reply {
    let v = match body(req) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(run_id) = id
        .parse::<u64>()
        .ok()
        .filter(|r| store.runs.iter().any(|x| x.id == *r))
    else {
        return message(404, &format!("Test Run {id} does not exist."));
    };
    if !store.automation_enabled {
        return message(
            400,
            "Automation integration is not activated for this project.",
        );
    }
    for field in ["status", "exe_start_date", "exe_end_date"] {
        if text(&v, field).trim().is_empty() {
            return message(400, &format!("{field} is required."));
        }
    }
    for field in ["exe_start_date", "exe_end_date"] {
        if text(&v, field).parse::<jiff::Timestamp>().is_err() {
            return message(
                400,
                &format!("{field} is not a valid date: {}", text(&v, field)),
            );
        }
    }
    let value = text(&v, "status");
    let Some(status) = store.mapping(&value).map(|m| m.status.clone()) else {
        return message(
            400,
            &format!(
                "The status '{value}' is not mapped to a Test Run status in the automation settings."
            ),
        );
    };
    let step_logs: Vec<Value> = v
        .get("test_step_logs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for step in &step_logs {
        let value = text(step, "status");
        if store.mapping(&value).is_none() {
            return message(
                400,
                &format!(
                    "The step status '{value}' is not mapped to a Test Run status in the automation settings."
                ),
            );
        }
    }
    let mut attachments = Vec::new();
    for a in v
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let data = base64::engine::general_purpose::STANDARD.decode(text(a, "data"));
        let Ok(data) = data else {
            return message(
                400,
                &format!("The attachment '{}' is not base64.", text(a, "name")),
            );
        };
        attachments.push((text(a, "name"), text(a, "content_type"), data.len() as u64));
    }
    let log_id = store.next_id();
    let log = TestLog {
        id: log_id,
        run_id,
        status,
        automation_status: value,
        exe_start_date: text(&v, "exe_start_date"),
        exe_end_date: text(&v, "exe_end_date"),
        note: v.get("note").and_then(Value::as_str).map(str::to_string),
        name: text(&v, "name"),
        automation_content: v
            .get("automation_content")
            .and_then(Value::as_str)
            .map(str::to_string),
        step_logs,
        attachments,
    };
    store.record("test-log", log_id, "", &log.name, run_id);
    let out = log_json(base, pid, &log);
    store.logs.push(log);
    Reply::json(201, &out)
}
