//! `index.php?/api/v2/<method>/<ids>&<params>`: authentication, faults, then one
//! handler per API method. Errors are `{"error": "..."}` with TestRail's codes: 400
//! for a bad entity or body, 401 for credentials, 403 for permissions, 404 for an
//! unknown method, 429 with `Retry-After`.

use super::fields::{self, Checked};
use super::multipart;
use super::store::{Account, Record, Store, num, obj};
use super::{RequestLog, Shared};
use crate::faults::{FaultKind, lock};
use crate::server::{HttpRequest, Outcome, Reply};
use base64::Engine;
use serde_json::{Value, json};

const AUTH_FAILED: &str =
    include_str!("../../contracts/testrail/error-401-authentication-failed.json");

type Answer = Result<Reply, Reply>;

fn error(status: u16, message: &str) -> Reply {
    Reply::json(status, &json!({ "error": message }))
}

fn ok(v: Value) -> Answer {
    Ok(Reply::json(200, &v))
}

/// Entry point for every request.
pub fn handle(shared: &Shared, req: HttpRequest) -> Outcome {
    if req.path.starts_with("/__sim/") {
        return Outcome::Reply(super::control::handle(shared, &req));
    }
    let fault = shared.faults.take(&fault_probe(&req));
    let (outcome, status) = match fault {
        Some(FaultKind::ServerError(code)) => (
            Outcome::Reply(Reply::bytes(
                code,
                "text/html",
                format!("<html><body><h1>{code}</h1>Service unavailable.</body></html>")
                    .into_bytes(),
            )),
            code,
        ),
        Some(FaultKind::Throttle { retry_after_secs }) => (
            Outcome::Reply(
                error(429, "API Rate Limit Exceeded")
                    .with_header("Retry-After", &retry_after_secs.to_string()),
            ),
            429,
        ),
        Some(FaultKind::Drop) => (Outcome::Drop, 0),
        Some(FaultKind::Slow(d)) => {
            let reply = route(shared, &req);
            let s = reply.status;
            (Outcome::Delayed(d, reply), s)
        }
        Some(FaultKind::DropAfterApply) => {
            let _ = route(shared, &req);
            (Outcome::Drop, 0)
        }
        Some(FaultKind::ErrorAfterApply(code)) => {
            let _ = route(shared, &req);
            (
                Outcome::Reply(Reply::bytes(
                    code,
                    "text/html",
                    b"<html>Bad Gateway</html>".to_vec(),
                )),
                code,
            )
        }
        None => {
            let reply = route(shared, &req);
            let s = reply.status;
            (Outcome::Reply(reply), s)
        }
    };
    lock(&shared.requests).push(RequestLog {
        method: req.method.clone(),
        target: req.target.clone(),
        status,
        fault,
    });
    outcome
}

/// Faults match on the API path (`/api/v2/add_results_for_cases/3`), which TestRail
/// carries in the query string.
fn fault_probe(req: &HttpRequest) -> HttpRequest {
    let api_path = req
        .query
        .first()
        .filter(|(k, _)| k.starts_with("/api/"))
        .map(|(k, _)| k.clone())
        .unwrap_or_else(|| req.path.clone());
    HttpRequest {
        method: req.method.clone(),
        path: api_path,
        target: req.target.clone(),
        query: Vec::new(),
        headers: Vec::new(),
        body: Vec::new(),
    }
}

/// A parsed API call.
struct Call<'a> {
    /// `get_cases`
    method: String,
    /// The ids after the method (`add_results_for_cases/3` → `["3"]`).
    ids: Vec<String>,
    /// Query parameters after the method path (`&suite_id=2&limit=10`).
    params: Vec<(String, String)>,
    req: &'a HttpRequest,
}

impl Call<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn id(&self, i: usize, name: &str) -> Result<u64, Reply> {
        self.ids
            .get(i)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| error(400, &format!("Field :{name} is not a valid ID.")))
    }

    fn body(&self) -> Result<Record, Reply> {
        if self.req.body.is_empty() {
            return Ok(Record::new());
        }
        match serde_json::from_slice::<Value>(&self.req.body) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(error(400, "Invalid JSON body: an object is expected.")),
        }
    }

    fn param_id(&self, name: &str) -> Result<Option<u64>, Reply> {
        match self.param(name) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| error(400, &format!("Field :{name} is not a valid ID."))),
        }
    }
}

fn parse_call(req: &HttpRequest) -> Option<Call<'_>> {
    if req.path != "/index.php" {
        return None;
    }
    let (first, _) = req.query.first()?;
    let rest = first.strip_prefix("/api/v2/")?;
    let mut segments = rest.split('/').filter(|s| !s.is_empty());
    let method = segments.next()?.to_string();
    Some(Call {
        method,
        ids: segments.map(str::to_string).collect(),
        params: req.query[1..].to_vec(),
        req,
    })
}

fn authenticate(store: &Store, req: &HttpRequest) -> Option<Account> {
    let basic = req.header("authorization")?.trim().strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, secret) = text.split_once(':')?;
    store
        .accounts
        .iter()
        .find(|a| {
            a.email.eq_ignore_ascii_case(user)
                && (a.password == secret || a.api_key == secret)
                && !a.revoked
        })
        .cloned()
}

fn route(shared: &Shared, req: &HttpRequest) -> Reply {
    let Some(call) = parse_call(req) else {
        return error(
            404,
            "Unknown API path: TestRail serves index.php?/api/v2/<method>.",
        );
    };
    let mut store = lock(&shared.store);
    let Some(account) = authenticate(&store, req) else {
        return Reply::bytes(401, "application/json", AUTH_FAILED.as_bytes().to_vec());
    };
    let writes = call.method.starts_with("add_")
        || call.method.starts_with("update_")
        || call.method.starts_with("close_");
    if writes && req.method != "POST" {
        return error(400, "This method requires a POST request.");
    }
    if !writes && req.method != "GET" {
        return error(400, "This method requires a GET request.");
    }
    let mut api = Api {
        store: &mut store,
        account: &account,
        base: shared.base(),
    };
    match api.dispatch(&call) {
        Ok(r) | Err(r) => r,
    }
}

struct Api<'a> {
    store: &'a mut Store,
    account: &'a Account,
    base: String,
}

impl Api<'_> {
    fn dispatch(&mut self, c: &Call) -> Answer {
        match c.method.as_str() {
            "get_current_user" => ok(self.user_json()),
            "get_project" => {
                let p = self.project(c.id(0, "project_id")?)?;
                ok(Value::Object(p))
            }
            "get_projects" => {
                let items: Vec<Value> = self
                    .store
                    .table("projects")
                    .iter()
                    .filter(|(id, _)| self.account.project_ids.contains(id))
                    .map(|(id, p)| self.render_project(*id, p))
                    .collect();
                self.page(c, "projects", items)
            }
            "get_suites" => {
                let project = c.id(0, "project_id")?;
                self.project(project)?;
                let items = self
                    .store
                    .suites_of(project)
                    .into_iter()
                    .filter_map(|id| self.render("suites", id))
                    .collect();
                ok(Value::Array(items))
            }
            "get_suite" => {
                let id = c.id(0, "suite_id")?;
                self.suite(id)?;
                ok(self.render("suites", id).unwrap_or_default())
            }
            "get_sections" => {
                let project = c.id(0, "project_id")?;
                let suite = self.suite_for(project, c.param_id("suite_id")?)?;
                let items = self
                    .store
                    .table("sections")
                    .iter()
                    .filter(|(_, s)| num(s, "suite_id") == Some(suite))
                    .map(|(_, s)| Value::Object(s.clone()))
                    .collect();
                self.page(c, "sections", items)
            }
            "get_section" => {
                let id = c.id(0, "section_id")?;
                self.section(id)?;
                ok(self.render("sections", id).unwrap_or_default())
            }
            "add_section" => self.add_section(c),
            "get_cases" => self.get_cases(c),
            "get_case" => {
                let id = c.id(0, "case_id")?;
                self.case(id)?;
                ok(self.render("cases", id).unwrap_or_default())
            }
            "add_case" => self.add_case(c),
            "update_case" => self.update_case(c),
            "get_case_fields" => ok(Value::Array(self.store.case_fields.clone())),
            "get_result_fields" => ok(Value::Array(self.store.result_fields.clone())),
            "get_statuses" => ok(Value::Array(self.store.statuses.clone())),
            "get_case_types" => ok(Value::Array(self.store.case_types.clone())),
            "get_priorities" => ok(Value::Array(self.store.priorities.clone())),
            "get_templates" => {
                self.project(c.id(0, "project_id")?)?;
                ok(Value::Array(self.store.templates.clone()))
            }
            "get_configs" => {
                let project = c.id(0, "project_id")?;
                self.project(project)?;
                ok(Value::Array(
                    self.store
                        .configs
                        .get(&project)
                        .cloned()
                        .unwrap_or_default(),
                ))
            }
            "get_run" => {
                let id = c.id(0, "run_id")?;
                self.run(id)?;
                ok(self.render_run(id))
            }
            "get_runs" => {
                let project = c.id(0, "project_id")?;
                self.project(project)?;
                let completed = c.param("is_completed").map(|v| v == "1");
                let ids: Vec<u64> = self
                    .store
                    .table("runs")
                    .iter()
                    .filter(|(_, r)| num(r, "project_id") == Some(project))
                    .filter(|(_, r)| r["plan_id"].is_null())
                    .filter(|(_, r)| {
                        completed.is_none_or(|c| r["is_completed"].as_bool() == Some(c))
                    })
                    .map(|(id, _)| *id)
                    .collect();
                let items = ids.into_iter().map(|id| self.render_run(id)).collect();
                self.page(c, "runs", items)
            }
            "add_run" => self.add_run(c),
            "update_run" => self.update_run(c, false),
            "update_run_in_plan_entry" => self.update_run(c, true),
            "close_run" => {
                let id = c.id(0, "run_id")?;
                self.run(id)?;
                let now = self.store.tick();
                if let Some(r) = self.store.get_mut("runs", id) {
                    r.insert("is_completed".into(), json!(true));
                    r.insert("completed_on".into(), json!(now));
                }
                self.store.record("close_run", id, json!({}));
                ok(self.render_run(id))
            }
            "get_tests" => {
                let run = c.id(0, "run_id")?;
                self.run(run)?;
                let items = self.tests_of(run);
                self.page(c, "tests", items)
            }
            "add_plan" => self.add_plan(c),
            "get_plan" => {
                let id = c.id(0, "plan_id")?;
                self.plan(id)?;
                ok(self.render_plan(id))
            }
            "get_plans" => {
                let project = c.id(0, "project_id")?;
                self.project(project)?;
                let ids: Vec<u64> = self
                    .store
                    .table("plans")
                    .iter()
                    .filter(|(_, p)| num(p, "project_id") == Some(project))
                    .map(|(id, _)| *id)
                    .collect();
                let items = ids
                    .into_iter()
                    .map(|id| {
                        let mut p = self.render_plan(id);
                        if let Some(m) = p.as_object_mut() {
                            m.remove("entries");
                        }
                        p
                    })
                    .collect();
                self.page(c, "plans", items)
            }
            "add_plan_entry" => self.add_plan_entry(c),
            "update_plan_entry" => self.update_plan_entry(c),
            "add_results_for_cases" => self.add_results_for_cases(c),
            "add_result_for_case" => self.add_result_for_case(c),
            "get_results_for_run" => {
                let run = c.id(0, "run_id")?;
                self.run(run)?;
                let items = self.results_where(|r| num(r, "_run_id") == Some(run));
                self.page(c, "results", items)
            }
            "get_results_for_case" => {
                let run = c.id(0, "run_id")?;
                let case = c.id(1, "case_id")?;
                self.run(run)?;
                let items = self.results_where(|r| {
                    num(r, "_run_id") == Some(run) && num(r, "_case_id") == Some(case)
                });
                self.page(c, "results", items)
            }
            "add_attachment_to_result" => self.add_attachment(c),
            "get_attachments_for_test" => {
                let test = c.id(0, "test_id")?;
                let results: Vec<u64> = self
                    .store
                    .table("results")
                    .iter()
                    .filter(|(_, r)| num(r, "test_id") == Some(test))
                    .map(|(id, _)| *id)
                    .collect();
                let items = self
                    .store
                    .attachments
                    .iter()
                    .filter(|a| results.contains(&a.result_id))
                    .map(|a| {
                        json!({"id": a.id, "name": a.name, "size": a.bytes.len(),
                               "entity_type": "test", "result_id": a.result_id})
                    })
                    .collect();
                ok(Value::Array(items))
            }
            other => Err(error(404, &format!("Unknown method '{other}'"))),
        }
    }

    fn user_json(&self) -> Value {
        json!({"id": self.account.id, "name": "CI", "email": self.account.email,
               "is_active": true, "role_id": 3, "is_admin": false})
    }

    // ---- lookups: 400 when missing, 403 when the account may not use the project

    fn check_project(&self, project: u64) -> Result<(), Reply> {
        if !self.account.project_ids.contains(&project) {
            return Err(error(
                403,
                "The user does not have the permissions to access this project.",
            ));
        }
        Ok(())
    }

    fn project(&self, id: u64) -> Result<Record, Reply> {
        let p = self.store.get("projects", id).ok_or_else(|| {
            error(
                400,
                "Field :project_id is not a valid or accessible project.",
            )
        })?;
        self.check_project(id)?;
        Ok(obj(self.render_project(id, p)))
    }

    fn render_project(&self, id: u64, p: &Record) -> Value {
        let mut p = p.clone();
        p.insert(
            "url".into(),
            json!(format!("{}/index.php?/projects/overview/{id}", self.base)),
        );
        Value::Object(p)
    }

    fn suite(&self, id: u64) -> Result<u64, Reply> {
        let project = self
            .store
            .project_of_suite(id)
            .ok_or_else(|| error(400, "Field :suite_id is not a valid test suite."))?;
        self.check_project(project)?;
        Ok(project)
    }

    /// The suite a project-level call works on: required in multi-suite mode, the
    /// only suite otherwise.
    fn suite_for(&self, project: u64, given: Option<u64>) -> Result<u64, Reply> {
        self.project(project)?;
        match given {
            Some(suite) => {
                if self.store.project_of_suite(suite) != Some(project) {
                    return Err(error(400, "Field :suite_id is not a valid test suite."));
                }
                Ok(suite)
            }
            None if self.store.suite_mode(project) == 3 => {
                Err(error(400, "Field :suite_id is a required field."))
            }
            None => self
                .store
                .suites_of(project)
                .first()
                .copied()
                .ok_or_else(|| error(400, "Field :suite_id is not a valid test suite.")),
        }
    }

    fn section(&self, id: u64) -> Result<(u64, u64), Reply> {
        let suite = self
            .store
            .get("sections", id)
            .and_then(|s| num(s, "suite_id"))
            .ok_or_else(|| error(400, "Field :section_id is not a valid section."))?;
        Ok((suite, self.suite(suite)?))
    }

    fn case(&self, id: u64) -> Result<(u64, u64), Reply> {
        let suite = self
            .store
            .get("cases", id)
            .and_then(|c| num(c, "suite_id"))
            .ok_or_else(|| error(400, "Field :case_id is not a valid test case."))?;
        Ok((suite, self.suite(suite)?))
    }

    fn run(&self, id: u64) -> Result<Record, Reply> {
        let r = self
            .store
            .get("runs", id)
            .cloned()
            .ok_or_else(|| error(400, "Field :run_id is not a valid test run."))?;
        self.check_project(num(&r, "project_id").unwrap_or(0))?;
        Ok(r)
    }

    fn plan(&self, id: u64) -> Result<Record, Reply> {
        let p = self
            .store
            .get("plans", id)
            .cloned()
            .ok_or_else(|| error(400, "Field :plan_id is not a valid test plan."))?;
        self.check_project(num(&p, "project_id").unwrap_or(0))?;
        Ok(p)
    }

    fn render(&self, table: &'static str, id: u64) -> Option<Value> {
        let mut r = self.store.get(table, id)?.clone();
        r.retain(|k, _| !k.starts_with('_'));
        Some(Value::Object(r))
    }

    // ---- paging

    /// A bulk answer: `{offset, limit, size, _links, <key>: [...]}` paged by
    /// `limit` (at most the page cap) and `offset`, or the bare array of old servers.
    fn page(&self, c: &Call, key: &str, items: Vec<Value>) -> Answer {
        if self.store.legacy_bare_arrays {
            return ok(Value::Array(items));
        }
        let cap = self.store.page_cap.max(1);
        let limit = match c.param("limit").map(str::parse::<usize>) {
            None | Some(Ok(0)) => cap,
            Some(Ok(n)) => n.min(cap),
            Some(Err(_)) => return Err(error(400, "Field :limit is not a valid integer.")),
        };
        let offset = match c.param("offset").map(str::parse::<usize>) {
            None => 0,
            Some(Ok(n)) => n,
            Some(Err(_)) => return Err(error(400, "Field :offset is not a valid integer.")),
        };
        let total = items.len();
        let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
        let link = |at: usize| {
            let mut path = format!("/api/v2/{}", c.method);
            for id in &c.ids {
                path.push('/');
                path.push_str(id);
            }
            for (k, v) in &c.params {
                if k != "limit" && k != "offset" {
                    path.push_str(&format!("&{k}={}", crate::url::encode_component(v)));
                }
            }
            json!(format!("{path}&limit={limit}&offset={at}"))
        };
        let next = if offset + limit < total {
            link(offset + limit)
        } else {
            Value::Null
        };
        let prev = if offset > 0 {
            link(offset.saturating_sub(limit))
        } else {
            Value::Null
        };
        ok(json!({
            "offset": offset, "limit": limit, "size": page.len(),
            "_links": {"next": next, "prev": prev},
            key: page,
        }))
    }

    // ---- sections and cases

    fn add_section(&mut self, c: &Call) -> Answer {
        let project = c.id(0, "project_id")?;
        let body = c.body()?;
        let name = required_text(&body, "name")?;
        let suite = self.suite_for(project, body.get("suite_id").and_then(Value::as_u64))?;
        let (parent, depth) = match body.get("parent_id").and_then(Value::as_u64) {
            Some(p) => match self.store.get("sections", p) {
                Some(s) if num(s, "suite_id") == Some(suite) => {
                    (json!(p), num(s, "depth").unwrap_or(0) + 1)
                }
                _ => return Err(error(400, "Field :parent_id is not a valid section.")),
            },
            None => (Value::Null, 0),
        };
        let order = self.store.table("sections").len() as u64 + 1;
        let rec = obj(json!({
            "suite_id": suite, "name": name,
            "description": body.get("description").cloned().unwrap_or(Value::Null),
            "parent_id": parent, "display_order": order, "depth": depth
        }));
        let id = self.store.insert("sections", 1, rec);
        let v = self.render("sections", id).unwrap_or_default();
        self.store.record("add_section", id, v.clone());
        ok(v)
    }

    fn get_cases(&self, c: &Call) -> Answer {
        let project = c.id(0, "project_id")?;
        let suite = self.suite_for(project, c.param_id("suite_id")?)?;
        let section = c.param_id("section_id")?;
        let title_filter = c.param("filter").map(str::to_lowercase);
        let refs = c.param("refs").map(str::to_string);
        let items = self
            .store
            .cases_of_suite(suite)
            .into_iter()
            .filter_map(|id| self.store.get("cases", id).map(|r| (id, r)))
            .filter(|(_, r)| section.is_none_or(|s| num(r, "section_id") == Some(s)))
            .filter(|(_, r)| {
                title_filter.as_ref().is_none_or(|f| {
                    r["title"]
                        .as_str()
                        .is_some_and(|t| t.to_lowercase().contains(f))
                })
            })
            .filter(|(_, r)| {
                refs.as_ref()
                    .is_none_or(|f| r["refs"].as_str().is_some_and(|t| t.contains(f.as_str())))
            })
            .filter_map(|(id, _)| self.render("cases", id))
            .collect();
        self.page(c, "cases", items)
    }

    /// Applies `title`, `refs`, ids and `custom_*` of a body to a case record;
    /// a bad value fails the whole request.
    fn apply_case_fields(
        &self,
        project: u64,
        body: &Record,
        rec: &mut Record,
    ) -> Result<(), Reply> {
        for (k, v) in body {
            match k.as_str() {
                "title" => {
                    let t = v.as_str().unwrap_or("");
                    if t.trim().is_empty() {
                        return Err(error(400, "Field :title is a required field."));
                    }
                    if t.chars().count() > 250 {
                        return Err(error(
                            400,
                            "Field :title is too long (250 characters at most).",
                        ));
                    }
                    rec.insert(k.clone(), v.clone());
                }
                "refs" => {
                    if !(v.is_string() || v.is_null()) {
                        return Err(error(400, "Field :refs is not a valid string."));
                    }
                    rec.insert(k.clone(), v.clone());
                }
                "estimate" => {
                    if let Some(s) = v.as_str()
                        && !fields::valid_timespan(s)
                    {
                        return Err(error(
                            400,
                            "Field :estimate is not in a valid time span format.",
                        ));
                    }
                    rec.insert(k.clone(), v.clone());
                }
                "type_id" | "priority_id" | "template_id" | "milestone_id" => {
                    if !(v.is_u64() || v.is_null()) {
                        return Err(error(400, &format!("Field :{k} is not a valid ID.")));
                    }
                    rec.insert(k.clone(), v.clone());
                }
                key if key.starts_with("custom_") => {
                    let statuses = self.status_ids();
                    match fields::check(&self.store.case_fields, project, key, v, &statuses) {
                        Ok(Checked::Keep) => {
                            rec.insert(k.clone(), v.clone());
                        }
                        Ok(Checked::Ignore) => {}
                        Err(message) => return Err(error(400, &message)),
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn add_case(&mut self, c: &Call) -> Answer {
        let section = c.id(0, "section_id")?;
        let (suite, project) = self.section(section)?;
        let body = c.body()?;
        required_text(&body, "title")?;
        if let Some(m) = fields::missing_required(&self.store.case_fields, project, |k| {
            body.get(k).is_some_and(|v| !v.is_null())
        }) {
            return Err(error(400, &m));
        }
        let now = self.store.tick();
        let mut rec = obj(json!({
            "title": "", "section_id": section, "template_id": 1, "type_id": 7,
            "priority_id": 2, "milestone_id": null, "refs": null,
            "created_by": self.account.id, "created_on": now, "updated_by": self.account.id,
            "updated_on": now, "estimate": null, "estimate_forecast": null, "suite_id": suite,
        }));
        self.apply_case_fields(project, &body, &mut rec)?;
        let id = self.store.insert("cases", 1, rec);
        let v = self.render("cases", id).unwrap_or_default();
        self.store.record("add_case", id, v.clone());
        ok(v)
    }

    fn update_case(&mut self, c: &Call) -> Answer {
        let id = c.id(0, "case_id")?;
        let (_, project) = self.case(id)?;
        let body = c.body()?;
        let mut rec = self.store.get("cases", id).cloned().unwrap_or_default();
        self.apply_case_fields(project, &body, &mut rec)?;
        if let Some(section) = body.get("section_id").and_then(Value::as_u64) {
            let (suite, _) = self.section(section)?;
            if Some(suite) != num(&rec, "suite_id") {
                return Err(error(400, "Field :section_id is not in the case's suite."));
            }
            rec.insert("section_id".into(), json!(section));
        }
        let now = self.store.tick();
        rec.insert("updated_on".into(), json!(now));
        rec.insert("updated_by".into(), json!(self.account.id));
        if let Some(slot) = self.store.get_mut("cases", id) {
            *slot = rec;
        }
        let v = self.render("cases", id).unwrap_or_default();
        self.store.record("update_case", id, Value::Object(body));
        ok(v)
    }

    fn status_ids(&self) -> Vec<u64> {
        self.store
            .statuses
            .iter()
            .filter_map(|s| s["id"].as_u64())
            .collect()
    }

    // ---- runs, tests, plans

    /// Case ids of a body, each in the suite.
    fn case_ids(&self, body: &Record, suite: u64) -> Result<Option<Vec<u64>>, Reply> {
        let Some(v) = body.get("case_ids") else {
            return Ok(None);
        };
        let ids = v
            .as_array()
            .ok_or_else(|| error(400, "Field :case_ids is not a valid array."))?;
        let in_suite = self.store.cases_of_suite(suite);
        let mut out = Vec::new();
        for id in ids {
            match id.as_u64() {
                Some(i) if in_suite.contains(&i) => out.push(i),
                _ => {
                    return Err(error(
                        400,
                        &format!(
                            "Field :case_ids contains an invalid case: {id} is not in the test suite."
                        ),
                    ));
                }
            }
        }
        Ok(Some(out))
    }

    fn config_name(&self, project: u64, ids: &[u64]) -> Result<Value, Reply> {
        if ids.is_empty() {
            return Ok(Value::Null);
        }
        let groups = self
            .store
            .configs
            .get(&project)
            .cloned()
            .unwrap_or_default();
        let mut names = Vec::new();
        for id in ids {
            let name = groups
                .iter()
                .flat_map(|g| g["configs"].as_array().cloned().unwrap_or_default())
                .find(|c| c["id"].as_u64() == Some(*id))
                .and_then(|c| c["name"].as_str().map(str::to_string))
                .ok_or_else(|| {
                    error(400, "Field :config_ids contains an invalid configuration.")
                })?;
            names.push(name);
        }
        Ok(json!(names.join(", ")))
    }

    /// A run record (not stored) from a body.
    fn new_run(
        &self,
        project: u64,
        suite: u64,
        body: &Record,
        name: &str,
    ) -> Result<Record, Reply> {
        let include_all = body
            .get("include_all")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let case_ids = self.case_ids(body, suite)?.unwrap_or_default();
        let config_ids: Vec<u64> = body
            .get("config_ids")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        let config = self.config_name(project, &config_ids)?;
        Ok(obj(json!({
            "suite_id": suite, "name": name,
            "description": body.get("description").cloned().unwrap_or(Value::Null),
            "milestone_id": body.get("milestone_id").cloned().unwrap_or(Value::Null),
            "assignedto_id": body.get("assignedto_id").cloned().unwrap_or(Value::Null),
            "include_all": include_all, "case_ids": case_ids,
            "is_completed": false, "completed_on": null, "config": config,
            "config_ids": config_ids, "project_id": project, "plan_id": null,
            "entry_index": null, "entry_id": null,
            "refs": body.get("refs").cloned().unwrap_or(Value::Null),
            "created_by": self.account.id, "created_on": self.store.clock,
            "is_archived": false, "archived_on": null,
            "start_on": body.get("start_on").cloned().unwrap_or(Value::Null),
            "due_on": body.get("due_on").cloned().unwrap_or(Value::Null),
            "dynamic_filters": null,
        })))
    }

    fn render_run(&self, id: u64) -> Value {
        let Some(r) = self.store.get("runs", id) else {
            return Value::Null;
        };
        let mut r = r.clone();
        // The stored selection is internal; TestRail does not echo case_ids.
        r.remove("case_ids");
        r.extend(self.store.run_counters(id));
        r.insert(
            "url".into(),
            json!(format!("{}/index.php?/runs/view/{id}", self.base)),
        );
        Value::Object(r)
    }

    fn add_run(&mut self, c: &Call) -> Answer {
        let project = c.id(0, "project_id")?;
        let body = c.body()?;
        let suite = self.suite_for(project, body.get("suite_id").and_then(Value::as_u64))?;
        let name = required_text(&body, "name")?;
        self.store.tick();
        let rec = self.new_run(project, suite, &body, &name)?;
        let id = self.store.insert("runs", 1, rec);
        self.store.record("add_run", id, Value::Object(body));
        ok(self.render_run(id))
    }

    fn update_run(&mut self, c: &Call, in_plan: bool) -> Answer {
        let id = c.id(0, "run_id")?;
        let run = self.run(id)?;
        if run["plan_id"].is_null() == in_plan {
            let hint = if in_plan {
                "Field :run_id is not part of a test plan: use update_run."
            } else {
                "Field :run_id is part of a test plan: use update_plan_entry or update_run_in_plan_entry."
            };
            return Err(error(400, hint));
        }
        if run["is_completed"].as_bool() == Some(true) {
            return Err(error(
                400,
                "Field :run_id refers to a completed test run (read-only).",
            ));
        }
        let body = c.body()?;
        let suite = num(&run, "suite_id").unwrap_or(0);
        let case_ids = self.case_ids(&body, suite)?;
        let rec = self
            .store
            .get_mut("runs", id)
            .ok_or_else(|| error(400, "gone"))?;
        for key in [
            "name",
            "description",
            "milestone_id",
            "assignedto_id",
            "include_all",
            "refs",
        ] {
            if let Some(v) = body.get(key) {
                rec.insert(key.into(), v.clone());
            }
        }
        if let Some(ids) = case_ids {
            rec.insert("case_ids".into(), json!(ids));
        }
        self.store.record("update_run", id, Value::Object(body));
        ok(self.render_run(id))
    }

    fn tests_of(&mut self, run: u64) -> Vec<Value> {
        let cases = self.store.cases_in_run(run);
        cases
            .into_iter()
            .map(|case| {
                let test = self.store.test_id(run, case);
                let mut t = self.store.get("cases", case).cloned().unwrap_or_default();
                t.retain(|k, _| {
                    k == "title"
                        || k == "type_id"
                        || k == "priority_id"
                        || k == "estimate"
                        || k == "estimate_forecast"
                        || k == "refs"
                        || k.starts_with("custom_")
                });
                t.insert("id".into(), json!(test));
                t.insert("case_id".into(), json!(case));
                t.insert("run_id".into(), json!(run));
                t.insert("status_id".into(), json!(self.store.test_status(test)));
                t.insert("assignedto_id".into(), Value::Null);
                Value::Object(t)
            })
            .collect()
    }

    fn render_plan(&self, id: u64) -> Value {
        let Some(p) = self.store.get("plans", id) else {
            return Value::Null;
        };
        let mut p = p.clone();
        let entries: Vec<Value> = p
            .remove("_entries")
            .and_then(|e| e.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .map(|mut e| {
                let runs: Vec<Value> = e["runs"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Value::as_u64)
                    .map(|r| self.render_run(r))
                    .collect();
                e["runs"] = Value::Array(runs);
                e
            })
            .collect();
        p.insert("entries".into(), Value::Array(entries));
        p.insert(
            "url".into(),
            json!(format!("{}/index.php?/plans/view/{id}", self.base)),
        );
        Value::Object(p)
    }

    fn add_plan(&mut self, c: &Call) -> Answer {
        let project = c.id(0, "project_id")?;
        self.project(project)?;
        let body = c.body()?;
        let name = required_text(&body, "name")?;
        let now = self.store.tick();
        let rec = obj(json!({
            "name": name,
            "description": body.get("description").cloned().unwrap_or(Value::Null),
            "milestone_id": body.get("milestone_id").cloned().unwrap_or(Value::Null),
            "assignedto_id": null, "is_completed": false, "completed_on": null,
            "project_id": project, "created_on": now, "created_by": self.account.id,
            "_entries": [],
        }));
        let id = self.store.insert("plans", 1, rec);
        self.store
            .record("add_plan", id, Value::Object(body.clone()));
        for entry in body
            .get("entries")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            self.create_entry(id, project, &obj(entry))?;
        }
        ok(self.render_plan(id))
    }

    /// Adds an entry (one run per `runs[]` item, or one run) to a plan.
    fn create_entry(&mut self, plan: u64, project: u64, body: &Record) -> Result<Value, Reply> {
        let suite = self.suite_for(project, body.get("suite_id").and_then(Value::as_u64))?;
        let suite_name = self
            .store
            .get("suites", suite)
            .and_then(|s| s["name"].as_str().map(str::to_string))
            .unwrap_or_default();
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or(suite_name);
        let entry_id = format!(
            "{:08x}-0000-4000-8000-{:012x}",
            plan,
            self.store.ledger.len() + 1
        );
        let index = self
            .store
            .get("plans", plan)
            .and_then(|p| p["_entries"].as_array().map(Vec::len))
            .unwrap_or(0)
            + 1;
        let run_bodies: Vec<Record> = match body.get("runs").and_then(Value::as_array) {
            Some(runs) if !runs.is_empty() => runs
                .iter()
                .map(|r| {
                    let mut merged = body.clone();
                    merged.remove("runs");
                    merged.extend(obj(r.clone()));
                    merged
                })
                .collect(),
            _ => vec![body.clone()],
        };
        // Check every run before storing any.
        let mut records = Vec::new();
        for rb in &run_bodies {
            let mut rec = self.new_run(project, suite, rb, &name)?;
            rec.insert("plan_id".into(), json!(plan));
            rec.insert("entry_id".into(), json!(entry_id));
            rec.insert("entry_index".into(), json!(index));
            records.push(rec);
        }
        let run_ids: Vec<u64> = records
            .into_iter()
            .map(|r| self.store.insert("runs", 1, r))
            .collect();
        let entry = json!({
            "id": entry_id, "suite_id": suite, "name": name,
            "description": body.get("description").cloned().unwrap_or(Value::Null),
            "include_all": body.get("include_all").and_then(Value::as_bool).unwrap_or(true),
            "dynamic_filters": null, "runs": run_ids,
        });
        if let Some(p) = self.store.get_mut("plans", plan)
            && let Some(entries) = p.get_mut("_entries").and_then(Value::as_array_mut)
        {
            entries.push(entry.clone());
        }
        self.store
            .record("add_plan_entry", &entry_id, Value::Object(body.clone()));
        let mut rendered = entry;
        rendered["runs"] = Value::Array(run_ids.iter().map(|r| self.render_run(*r)).collect());
        Ok(rendered)
    }

    fn add_plan_entry(&mut self, c: &Call) -> Answer {
        let plan = c.id(0, "plan_id")?;
        let p = self.plan(plan)?;
        if p["is_completed"].as_bool() == Some(true) {
            return Err(error(
                400,
                "Field :plan_id refers to a completed test plan (read-only).",
            ));
        }
        let body = c.body()?;
        let entry = self.create_entry(plan, num(&p, "project_id").unwrap_or(0), &body)?;
        ok(entry)
    }

    fn update_plan_entry(&mut self, c: &Call) -> Answer {
        let plan = c.id(0, "plan_id")?;
        let entry_id = c
            .ids
            .get(1)
            .cloned()
            .ok_or_else(|| error(400, "Field :entry_id is a required field."))?;
        let p = self.plan(plan)?;
        let entry = p["_entries"]
            .as_array()
            .and_then(|es| {
                es.iter()
                    .find(|e| e["id"].as_str() == Some(entry_id.as_str()))
                    .cloned()
            })
            .ok_or_else(|| error(400, "Field :entry_id is not a valid test plan entry."))?;
        let body = c.body()?;
        let suite = entry["suite_id"].as_u64().unwrap_or(0);
        let case_ids = self.case_ids(&body, suite)?;
        for run in entry["runs"].as_array().cloned().unwrap_or_default() {
            let Some(run) = run.as_u64() else { continue };
            if let Some(rec) = self.store.get_mut("runs", run) {
                for key in ["name", "description", "include_all", "assignedto_id"] {
                    if let Some(v) = body.get(key) {
                        rec.insert(key.into(), v.clone());
                    }
                }
                if let Some(ids) = &case_ids {
                    rec.insert("case_ids".into(), json!(ids));
                }
            }
        }
        self.store
            .record("update_plan_entry", &entry_id, Value::Object(body));
        let mut rendered = entry;
        rendered["runs"] = Value::Array(
            rendered["runs"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_u64)
                .map(|r| self.render_run(r))
                .collect(),
        );
        ok(rendered)
    }

    // ---- results and attachments

    fn results_where(&self, keep: impl Fn(&Record) -> bool) -> Vec<Value> {
        let mut out: Vec<Value> = self
            .store
            .table("results")
            .iter()
            .filter(|(_, r)| keep(r))
            .filter_map(|(id, _)| self.render("results", *id))
            .collect();
        // Newest first, as TestRail lists results.
        out.reverse();
        out
    }

    /// Checks one result body for a case of a run; returns the record to store.
    fn check_result(&self, run: &Record, index: usize, body: &Record) -> Result<Record, Reply> {
        let project = num(run, "project_id").unwrap_or(0);
        let at = |msg: String| error(400, &format!("{msg} (results[{index}])"));
        let mut rec = Record::new();
        if let Some(s) = body.get("status_id") {
            let id = s
                .as_u64()
                .ok_or_else(|| at("Field :status_id is not a valid status.".into()))?;
            let status = self
                .store
                .statuses
                .iter()
                .find(|st| st["id"].as_u64() == Some(id))
                .ok_or_else(|| at(format!("Field :status_id uses an unknown status ({id}).")))?;
            if status["is_untested"].as_bool() == Some(true) {
                return Err(at(
                    "Field :status_id cannot be Untested when adding a result.".into(),
                ));
            }
            rec.insert("status_id".into(), json!(id));
        } else {
            rec.insert("status_id".into(), Value::Null);
        }
        for key in ["comment", "version", "defects"] {
            match body.get(key) {
                None | Some(Value::Null) => {
                    rec.insert(key.into(), Value::Null);
                }
                Some(Value::String(s)) => {
                    rec.insert(key.into(), json!(s));
                }
                Some(_) => return Err(at(format!("Field :{key} is not a valid string."))),
            }
        }
        match body.get("elapsed") {
            None | Some(Value::Null) => {
                rec.insert("elapsed".into(), Value::Null);
            }
            Some(Value::String(s)) if fields::valid_timespan(s) => {
                rec.insert("elapsed".into(), json!(s));
            }
            Some(_) => {
                return Err(at(
                    "Field :elapsed is not in a valid time span format.".into()
                ));
            }
        }
        rec.insert(
            "assignedto_id".into(),
            body.get("assignedto_id").cloned().unwrap_or(Value::Null),
        );
        let statuses = self.status_ids();
        for (k, v) in body {
            if k.starts_with("custom_") {
                match fields::check(&self.store.result_fields, project, k, v, &statuses) {
                    Ok(Checked::Keep) => {
                        rec.insert(k.clone(), v.clone());
                    }
                    Ok(Checked::Ignore) => {}
                    Err(m) => return Err(at(m)),
                }
            }
        }
        Ok(rec)
    }

    fn store_result(&mut self, run_id: u64, case_id: u64, mut rec: Record) -> Value {
        let test = self.store.test_id(run_id, case_id);
        let now = self.store.tick();
        rec.insert("test_id".into(), json!(test));
        rec.insert("created_by".into(), json!(self.account.id));
        rec.insert("created_on".into(), json!(now));
        rec.insert("attachment_ids".into(), json!([]));
        rec.insert("_run_id".into(), json!(run_id));
        rec.insert("_case_id".into(), json!(case_id));
        let id = self.store.insert("results", 1, rec);
        let v = self.render("results", id).unwrap_or_default();
        let mut ledger = v.clone();
        ledger["run_id"] = json!(run_id);
        ledger["case_id"] = json!(case_id);
        self.store.record("add_result", id, ledger);
        v
    }

    fn writable_run(&self, id: u64) -> Result<Record, Reply> {
        let run = self.run(id)?;
        if run["is_completed"].as_bool() == Some(true) {
            return Err(error(
                400,
                "Field :run_id refers to a completed test run (read-only).",
            ));
        }
        Ok(run)
    }

    fn add_results_for_cases(&mut self, c: &Call) -> Answer {
        let run_id = c.id(0, "run_id")?;
        let run = self.writable_run(run_id)?;
        let body = c.body()?;
        let items = body
            .get("results")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .cloned()
            .ok_or_else(|| error(400, "Field :results cannot be empty."))?;
        let in_run = self.store.cases_in_run(run_id);
        // All or nothing: check every entry before storing one.
        let mut checked = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item = item.as_object().cloned().unwrap_or_default();
            let case = item.get("case_id").and_then(Value::as_u64).ok_or_else(|| {
                error(
                    400,
                    &format!("Field :results[{i}].case_id is a required field."),
                )
            })?;
            if !in_run.contains(&case) {
                return Err(error(
                    400,
                    &format!(
                        "Field :results[{i}].case_id: case C{case} unknown or not part of the test run R{run_id}."
                    ),
                ));
            }
            checked.push((case, self.check_result(&run, i, &item)?));
        }
        let out: Vec<Value> = checked
            .into_iter()
            .map(|(case, rec)| self.store_result(run_id, case, rec))
            .collect();
        ok(Value::Array(out))
    }

    fn add_result_for_case(&mut self, c: &Call) -> Answer {
        let run_id = c.id(0, "run_id")?;
        let case = c.id(1, "case_id")?;
        let run = self.writable_run(run_id)?;
        if !self.store.cases_in_run(run_id).contains(&case) {
            return Err(error(
                400,
                &format!(
                    "Field :case_id: case C{case} unknown or not part of the test run R{run_id}."
                ),
            ));
        }
        let body = c.body()?;
        let rec = self.check_result(&run, 0, &body)?;
        ok(self.store_result(run_id, case, rec))
    }

    fn add_attachment(&mut self, c: &Call) -> Answer {
        let result = c.id(0, "result_id")?;
        let project = self
            .store
            .get("results", result)
            .and_then(|r| num(r, "_run_id"))
            .and_then(|run| self.store.get("runs", run))
            .and_then(|r| num(r, "project_id"))
            .ok_or_else(|| error(400, "Field :result_id is not a valid result."))?;
        self.check_project(project)?;
        let boundary = c
            .req
            .header("content-type")
            .and_then(multipart::boundary)
            .ok_or_else(|| error(400, "The request must be multipart/form-data."))?;
        let parts = multipart::parse(&c.req.body, &boundary)
            .ok_or_else(|| error(400, "The multipart/form-data body is malformed."))?;
        let part = parts
            .into_iter()
            .find(|p| p.name == "attachment" && p.filename.is_some())
            .ok_or_else(|| error(400, "Field :attachment is a required field."))?;
        let id = self.store.attachments.len() as u64 + 1;
        let name = part.filename.unwrap_or_default();
        self.store.attachments.push(super::store::Attachment {
            id,
            result_id: result,
            name: name.clone(),
            content_type: part
                .content_type
                .unwrap_or_else(|| "application/octet-stream".into()),
            bytes: part.bytes.clone(),
        });
        if let Some(r) = self.store.get_mut("results", result)
            && let Some(ids) = r.get_mut("attachment_ids").and_then(Value::as_array_mut)
        {
            ids.push(json!(id));
        }
        self.store.record(
            "add_attachment",
            id,
            json!({"result_id": result, "name": name, "size": part.bytes.len()}),
        );
        ok(json!({ "attachment_id": id }))
    }
}

fn required_text(body: &Record, key: &str) -> Result<String, Reply> {
    match body.get(key).and_then(Value::as_str) {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        _ => Err(error(400, &format!("Field :{key} is a required field."))),
    }
}
