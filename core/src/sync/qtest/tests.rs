//! The qTest sessions against an in-memory fake qTest Manager: what reaches qTest,
//! look-before-create under lost answers and crashes, paging, the automation
//! settings checks and the connection test's answers.

use crate::session::{Secrets, SessionHandle};
use crate::sync::details::Details;
use crate::sync::protocol::{HttpRequest, HttpResponse, Method, ResponseKind, Step};
use crate::sync::report::Report;
use serde_json::{Value, json};

mod defects;
mod requirements;

pub(crate) use defects::{failed_run_start, link_defect_start};
pub(crate) use requirements::{
    transcript_fake as requirements_fake, transcript_start as requirements_start,
};

pub(crate) const SITE: &str = "https://shop.qtestnet.test";
pub(crate) const TOKEN: &str = "qtest-secret-token";
pub(crate) const PROJECT: u64 = 12345;

/// What a fault does to the next matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// 503 from a proxy, not applied.
    Unavailable,
    /// 429 with `Retry-After: 2`, not applied.
    Throttle,
    /// Applied, then the connection breaks.
    DropAfterApply,
}

#[derive(Debug, Clone)]
pub(crate) struct Obj {
    pub id: u64,
    pub kind: &'static str,
    pub name: String,
    pub parent: u64,
    pub body: Value,
}

/// A qTest site with one project, as the qTest simulator behaves, in memory.
pub(crate) struct FakeQtest {
    pub objects: Vec<Obj>,
    pub automation: bool,
    pub mappings: Vec<&'static str>,
    pub max_page: usize,
    pub faults: Vec<(Method, &'static str, Fault)>,
    pub log: Vec<HttpRequest>,
    next: u64,
}

impl FakeQtest {
    pub(crate) fn new() -> FakeQtest {
        FakeQtest {
            objects: Vec::new(),
            automation: true,
            mappings: vec!["PASS", "FAIL", "SKIP"],
            max_page: 100,
            faults: Vec::new(),
            log: Vec::new(),
            next: 100,
        }
    }

    pub(crate) fn fault(&mut self, method: Method, path: &'static str, fault: Fault) {
        self.faults.push((method, path, fault));
    }

    pub(crate) fn count(&self, kind: &str) -> usize {
        self.objects.iter().filter(|o| o.kind == kind).count()
    }

    fn add(&mut self, kind: &'static str, name: &str, parent: u64, body: Value) -> Value {
        self.next += 1;
        let mut out = body.clone();
        out["id"] = json!(self.next);
        out["name"] = json!(name);
        self.objects.push(Obj {
            id: self.next,
            kind,
            name: name.to_string(),
            parent,
            body: out.clone(),
        });
        out
    }

    fn children(&self, kind: &str, parent: u64) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|o| o.kind == kind && o.parent == parent)
            .map(|o| o.body.clone())
            .collect()
    }

    fn page(&self, url: &str, list: Vec<Value>, size_param: &str) -> (Vec<Value>, usize) {
        let param = |name: &str| {
            url.split(['?', '&'])
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.parse::<usize>().ok())
        };
        let page = param("page").unwrap_or(1).max(1);
        let size = param(size_param)
            .unwrap_or(self.max_page)
            .clamp(1, self.max_page);
        (
            list.into_iter()
                .skip((page - 1) * size)
                .take(size)
                .collect(),
            size,
        )
    }

    pub(crate) fn handle(&mut self, req: &HttpRequest) -> HttpResponse {
        self.log.push(req.clone());
        let path = req.url.strip_prefix(SITE).unwrap_or("");
        let fault = self
            .faults
            .iter()
            .position(|(m, p, _)| *m == req.method && path.contains(p))
            .map(|i| self.faults.remove(i).2);
        match fault {
            Some(Fault::Unavailable) => {
                return HttpResponse::answered(503, vec![], "<html>Service Unavailable</html>");
            }
            Some(Fault::Throttle) => {
                return HttpResponse::answered(
                    429,
                    vec![("Retry-After".into(), "2".into())],
                    r#"{"message":"Too Many Requests"}"#,
                );
            }
            Some(Fault::DropAfterApply) => {
                let _ = self.route(req, path);
                return HttpResponse::failed(ResponseKind::Dropped, "connection reset by peer");
            }
            None => {}
        }
        self.route(req, path)
    }

    fn route(&mut self, req: &HttpRequest, path: &str) -> HttpResponse {
        if !path.starts_with("/api/v3") {
            return HttpResponse::answered(404, vec![], "<html>Not Found</html>");
        }
        match req.header("Authorization") {
            Some(a) if a == format!("Bearer {TOKEN}") => {}
            Some("Bearer expired") => {
                return HttpResponse::answered(
                    401,
                    vec![],
                    r#"{"error":"invalid_token","error_description":"Access token expired"}"#,
                );
            }
            _ => {
                return HttpResponse::answered(
                    401,
                    vec![],
                    r#"{"error":"invalid_token","error_description":"Invalid access token"}"#,
                );
            }
        }
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let num = |name: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let body: Value = req
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        let ok = |v: Value| HttpResponse::answered(200, vec![], v.to_string());
        let project = format!("/api/v3/projects/{PROJECT}");
        if route == "/api/v3/projects" {
            return ok(json!([{"id": PROJECT, "name": "Shop Web"}]));
        }
        let Some(tail) = route.strip_prefix(&project) else {
            return HttpResponse::answered(404, vec![], r#"{"message":"Project does not exist."}"#);
        };
        let parts: Vec<&str> = tail.split('/').filter(|s| !s.is_empty()).collect();
        let text = |v: &Value, f: &str| {
            v.get(f)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        match (req.method, parts.as_slice()) {
            (Method::Get, []) => ok(json!({"id": PROJECT, "name": "Shop Web"})),
            (Method::Get, ["settings", "automation"]) => {
                let names = [
                    ("PASS", "Passed"),
                    ("FAIL", "Failed"),
                    ("SKIP", "Incomplete"),
                ];
                let m: Vec<Value> = names
                    .iter()
                    .filter(|(v, _)| self.mappings.contains(v))
                    .map(|(v, n)| json!({"value": v, "status": {"id": 601, "name": n}}))
                    .collect();
                ok(json!({"enabled": self.automation, "mappings": m}))
            }
            (Method::Get, ["modules"]) => ok(json!(self.children("module", num("parentId")))),
            (Method::Post, ["modules"]) => {
                let name = text(&body, "name");
                ok(self.add(
                    "module",
                    &name,
                    num("parentId"),
                    json!({"parent_id": num("parentId")}),
                ))
            }
            (Method::Get, ["test-cases"]) => {
                let (items, _) =
                    self.page(query, self.children("test-case", num("parentId")), "size");
                ok(json!(items))
            }
            (Method::Post, ["test-cases"]) => {
                let parent = body.get("parent_id").and_then(Value::as_u64).unwrap_or(0);
                let name = text(&body, "name");
                let mut body = body;
                body["version"] = json!("0.1");
                ok(self.add("test-case", &name, parent, body))
            }
            (Method::Put, ["test-cases", id]) => {
                let id: u64 = id.parse().unwrap_or(0);
                let Some(o) = self.objects.iter_mut().find(|o| o.id == id) else {
                    return HttpResponse::answered(
                        404,
                        vec![],
                        r#"{"message":"Test Case does not exist."}"#,
                    );
                };
                o.body["test_steps"] = body["test_steps"].clone();
                o.body["versions"] = json!(o.body["versions"].as_u64().unwrap_or(0) + 1);
                let (major, minor) = version_of(&o.body);
                o.body["version"] = json!(format!("{major}.{}", minor + 1));
                ok(o.body.clone())
            }
            (Method::Put, ["test-cases", id, "approve"]) => {
                let id: u64 = id.parse().unwrap_or(0);
                let Some(o) = self.objects.iter_mut().find(|o| o.id == id) else {
                    return HttpResponse::answered(
                        404,
                        vec![],
                        r#"{"message":"Test Case does not exist."}"#,
                    );
                };
                o.body["approved"] = json!(o.body["approved"].as_u64().unwrap_or(0) + 1);
                let (major, _) = version_of(&o.body);
                o.body["version"] = json!(format!("{}.0", major + 1));
                ok(o.body.clone())
            }
            (Method::Get, [kind @ ("test-cycles" | "test-suites")]) => {
                let k = if *kind == "test-cycles" {
                    "test-cycle"
                } else {
                    "test-suite"
                };
                ok(json!(self.children(k, num("parentId"))))
            }
            (Method::Post, [kind @ ("test-cycles" | "test-suites")]) => {
                let k = if *kind == "test-cycles" {
                    "test-cycle"
                } else {
                    "test-suite"
                };
                let name = text(&body, "name");
                ok(self.add(k, &name, num("parentId"), body))
            }
            (Method::Get, ["test-runs"]) => {
                let all = self.children("test-run", num("parentId"));
                let total = all.len();
                let (items, size) = self.page(query, all, "pageSize");
                ok(
                    json!({"links": [], "page": num("page").max(1), "page_size": size, "total": total, "items": items}),
                )
            }
            (Method::Post, ["test-runs"]) => {
                let name = text(&body, "name");
                ok(self.add("test-run", &name, num("parentId"), body))
            }
            (Method::Get, ["test-runs", run, "test-logs"]) => {
                let run = run.parse().unwrap_or(0);
                let all = self.children("test-log", run);
                let total = all.len();
                let (items, size) = self.page(query, all, "pageSize");
                ok(
                    json!({"links": [], "page": num("page").max(1), "page_size": size, "total": total, "items": items}),
                )
            }
            (Method::Post, ["test-runs", run, "auto-test-logs"]) => {
                if !self.automation {
                    return HttpResponse::answered(
                        400,
                        vec![],
                        r#"{"message":"Automation integration is not activated."}"#,
                    );
                }
                let status = text(&body, "status");
                if !self.mappings.contains(&status.as_str()) {
                    return HttpResponse::answered(
                        400,
                        vec![],
                        json!({"message": format!("The status '{status}' is not mapped.")})
                            .to_string(),
                    );
                }
                let run = run.parse().unwrap_or(0);
                let name = text(&body, "name");
                let out = self.add("test-log", &name, run, body);
                HttpResponse::answered(201, vec![], out.to_string())
            }
            (method, parts) => self.requirement_route(method, parts, path, &body),
        }
    }
}

/// `major.minor` of a test case, as qTest numbers versions (0.1 at create).
fn version_of(case: &Value) -> (u64, u64) {
    let text = case["version"].as_str().unwrap_or("0.1");
    let (major, minor) = text.split_once('.').unwrap_or(("0", "1"));
    (major.parse().unwrap_or(0), minor.parse().unwrap_or(0))
}

/// Two tests, each run in two browsers (a property on one, the suite name on the
/// other), one failing with a step, one skipped.
pub(crate) const REPORT: &str = r#"<testsuites>
<testsuite name="chromium" timestamp="2024-05-01T09:58:00">
  <testcase classname="shop.Login" name="signs in" time="1.25"/>
  <testcase classname="shop.Checkout" name="pays by card" time="2.5">
    <failure message="expected total 42.00, was 0.00">at checkout.pay(checkout.py:88)</failure>
    <system-out>[[ATTACHMENT|logs/pay.log]]</system-out>
  </testcase>
</testsuite>
<testsuite name="firefox" timestamp="2024-05-01T09:59:00">
  <testcase classname="shop.Login" name="signs in" time="1.5"/>
  <testcase classname="shop.Checkout" name="pays by card" time="2.0"><skipped/></testcase>
</testsuite>
</testsuites>"#;

/// The file the failing test attaches.
pub(crate) const PAY_LOG: &str = "POST /api/pay -> 502 Bad Gateway\n";

pub(crate) fn publish_start(now: &str, report: &str) -> Value {
    let cases: Vec<_> = crate::junit::parse(report.as_bytes())
        .map(|r| r.cases().into_iter().cloned().collect())
        .unwrap_or_default();
    json!({
        "kind": "qtest.publish",
        "input": {
            "config": {"qtest": {"url": SITE, "project_id": PROJECT, "module_path": "classname"}},
            "cases": cases,
            "context": {
                "now": now,
                "pipeline_id": "981",
                "job_id": "4411",
                "job_name": "e2e",
                "job_url": "https://gitlab.example.com/shop/web/-/jobs/4411",
            },
        },
        "options": {"seed": 9}
    })
}

pub(crate) fn secrets(token: &str) -> Secrets {
    Secrets {
        api_key: Some(token.into()),
        ..Secrets::default()
    }
}

/// Drives to the end. With `crash_every`, the host saves at every save point and
/// "crashes" after every such request: it resumes from the save and goes on.
fn run(q: &mut FakeQtest, start: &Value, token: &str, crash_every: bool) -> (Report, Vec<u64>) {
    let mut s = SessionHandle::start(start.to_string().as_bytes(), &secrets(token)).unwrap();
    let mut saved = s.save().unwrap();
    let mut waits = Vec::new();
    for _ in 0..20_000 {
        match s.next() {
            Step::Send(req) => {
                let answer = q.handle(&req);
                if crash_every && req.method != Method::Get {
                    // The request acted; its answer is lost with the process.
                    assert!(!saved.contains(token), "the token is never saved");
                    s = SessionHandle::resume(saved.as_bytes(), &secrets(token)).unwrap();
                    continue;
                }
                s.receive(req.id, answer).unwrap();
            }
            Step::Save => saved = s.save().unwrap(),
            Step::Wait { ms } => waits.push(ms),
            Step::Read(file) => {
                let bytes = match file.path.as_str() {
                    "logs/pay.log" => Ok(PAY_LOG.as_bytes().to_vec()),
                    other => Err(format!("{other}: no such file")),
                };
                s.provide_file(file.id, bytes).unwrap();
            }
            Step::Done(report) => return (report, waits),
        }
    }
    panic!("the session did not finish");
}

fn code(report: &Report) -> String {
    report
        .error
        .as_ref()
        .map(|e| e.code.clone())
        .unwrap_or_default()
}

fn publish_details(report: &Report) -> &crate::sync::details::qtest::QtestPublishDetails {
    match &report.details {
        Details::QtestPublish(d) => d,
        other => panic!("{other:?}"),
    }
}

#[test]
fn results_become_modules_cases_a_cycle_suites_runs_and_logs() {
    let mut q = FakeQtest::new();
    let (report, _) = run(
        &mut q,
        &publish_start("2024-05-01T10:00:00Z", REPORT),
        TOKEN,
        false,
    );
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(q.count("test-cycle"), 1);
    assert_eq!(q.count("test-suite"), 2);
    assert_eq!(q.count("test-case"), 2);
    assert_eq!(q.count("test-run"), 4);
    assert_eq!(q.count("test-log"), 4);
    let names = |kind: &str| -> Vec<String> {
        q.objects
            .iter()
            .filter(|o| o.kind == kind)
            .map(|o| o.name.clone())
            .collect()
    };
    // The built-in cycle name: `{job_name} #{job_id}`.
    assert_eq!(names("test-cycle"), ["e2e #4411"]);
    assert_eq!(names("test-suite"), ["chromium", "firefox"]);
    // tmbridge > shop > Login / Checkout: the class path under the parent module.
    assert_eq!(names("module"), ["tmbridge", "shop", "Login", "Checkout"]);
    let log_statuses: Vec<String> = q
        .objects
        .iter()
        .filter(|o| o.kind == "test-log")
        .map(|o| o.body["status"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(log_statuses, ["PASS", "FAIL", "PASS", "SKIP"]);
    let failed = q
        .objects
        .iter()
        .find(|o| o.kind == "test-log" && o.body["status"] == "FAIL")
        .unwrap();
    // The failure text, then the file the test attached.
    let attachments = failed.body["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2, "{attachments:?}");
    assert_eq!(attachments[0]["content_type"], "text/plain");
    assert_eq!(attachments[1]["name"], "pay.log");
    use base64::Engine;
    let data = attachments[1]["data"].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    assert_eq!(bytes, PAY_LOG.as_bytes());
    let d = publish_details(&report);
    assert_eq!(d.executions.len(), 4);
    assert_eq!(report.stats.retries, 0);
}

#[test]
fn a_second_run_of_the_pipeline_adds_only_logs_and_a_repeat_adds_nothing() {
    let mut q = FakeQtest::new();
    let start = publish_start("2024-05-01T10:00:00Z", REPORT);
    run(&mut q, &start, TOKEN, false);
    // The same report again (same dates): every log is found, nothing is sent.
    let (again, _) = run(&mut q, &start, TOKEN, false);
    assert_eq!(again.error, None);
    assert_eq!(q.count("test-log"), 4);
    assert_eq!(again.skipped.len(), 4);
    assert!(again.created.is_empty(), "{:?}", again.created);
    // The next pipeline run: new executions, new logs in the same runs.
    let next = REPORT
        .replace("09:58:00", "11:58:00")
        .replace("09:59:00", "11:59:00");
    let (second, _) = run(
        &mut q,
        &publish_start("2024-05-01T12:00:00Z", &next),
        TOKEN,
        false,
    );
    assert_eq!(second.error, None);
    for (kind, n) in [
        ("test-cycle", 1),
        ("test-suite", 2),
        ("test-case", 2),
        ("test-run", 4),
        ("test-log", 8),
        ("module", 4),
    ] {
        assert_eq!(q.count(kind), n, "{kind}");
    }
}

#[test]
fn lost_answers_and_crashes_after_every_create_duplicate_nothing() {
    let mut q = FakeQtest::new();
    for path in [
        "/test-cycles",
        "/modules",
        "/test-suites",
        "/test-cases",
        "/test-runs?",
        "/auto-test-logs",
    ] {
        q.fault(Method::Post, path, Fault::DropAfterApply);
    }
    q.fault(Method::Get, "/test-runs?", Fault::Unavailable);
    q.fault(Method::Post, "/auto-test-logs", Fault::Unavailable);
    let (report, waits) = run(
        &mut q,
        &publish_start("2024-05-01T10:00:00Z", REPORT),
        TOKEN,
        false,
    );
    assert_eq!(report.error, None, "{report:?}");
    assert!(!waits.is_empty());
    let (cycles, suites, cases, runs, logs) = (
        q.count("test-cycle"),
        q.count("test-suite"),
        q.count("test-case"),
        q.count("test-run"),
        q.count("test-log"),
    );
    assert_eq!((cycles, suites, cases, runs, logs), (1, 2, 2, 4, 4));

    let mut crashy = FakeQtest::new();
    let (report, _) = run(
        &mut crashy,
        &publish_start("2024-05-01T10:00:00Z", REPORT),
        TOKEN,
        true,
    );
    assert_eq!(report.error, None, "{report:?}");
    for (kind, n) in [
        ("test-cycle", 1),
        ("test-suite", 2),
        ("test-case", 2),
        ("test-run", 4),
        ("test-log", 4),
        ("module", 4),
    ] {
        assert_eq!(
            crashy.count(kind),
            n,
            "{kind} after a crash at every create"
        );
    }
}

#[test]
fn throttling_waits_as_told_and_lists_are_read_page_by_page() {
    let mut q = FakeQtest::new();
    run(
        &mut q,
        &publish_start("2024-05-01T10:00:00Z", REPORT),
        TOKEN,
        false,
    );
    q.max_page = 1;
    q.fault(Method::Get, "/settings/automation", Fault::Throttle);
    let next = REPORT
        .replace("09:58:00", "11:58:00")
        .replace("09:59:00", "11:59:00");
    let (report, waits) = run(
        &mut q,
        &publish_start("2024-05-01T12:00:00Z", &next),
        TOKEN,
        false,
    );
    assert_eq!(report.error, None, "{report:?}");
    assert!(waits.contains(&2000), "{waits:?}");
    assert_eq!(q.count("test-run"), 4, "runs on later pages were found");
    assert_eq!(q.count("test-case"), 2);
    assert!(
        q.log
            .iter()
            .any(|r| r.url.contains("/test-runs?") && r.url.contains("page=2"))
    );
}

#[test]
fn nothing_is_sent_when_a_status_has_no_mapping_or_automation_is_off() {
    let mut q = FakeQtest::new();
    q.mappings.retain(|m| *m != "SKIP");
    let (report, _) = run(
        &mut q,
        &publish_start("2024-05-01T10:00:00Z", REPORT),
        TOKEN,
        false,
    );
    assert_eq!(code(&report), "qtest.unmapped_status");
    let e = report.error.unwrap();
    assert!(e.message.contains("SKIP"), "{}", e.message);
    assert!(e.hint.unwrap().contains("Automation Settings"));
    assert!(q.log.iter().all(|r| r.method == Method::Get));

    let mut off = FakeQtest::new();
    off.automation = false;
    let (report, _) = run(
        &mut off,
        &publish_start("2024-05-01T10:00:00Z", REPORT),
        TOKEN,
        false,
    );
    assert_eq!(code(&report), "qtest.automation_off");
    assert!(
        report
            .error
            .unwrap()
            .hint
            .unwrap()
            .contains("Activate Automation Integration")
    );
    assert!(off.objects.is_empty());
}

#[test]
fn a_log_qtest_refuses_is_reported_and_the_others_go_on() {
    let mut q = FakeQtest::new();
    let start = publish_start("2024-05-01T10:00:00Z", REPORT);
    // SKIP is mapped when the session checks, then unmapped before its log.
    let mut s = SessionHandle::start(start.to_string().as_bytes(), &secrets(TOKEN)).unwrap();
    let report = loop {
        match s.next() {
            Step::Send(req) => {
                if req.url.contains("/test-suites") {
                    q.mappings.retain(|m| *m != "SKIP");
                }
                let a = q.handle(&req);
                s.receive(req.id, a).unwrap();
            }
            Step::Read(file) => s
                .provide_file(file.id, Ok(PAY_LOG.as_bytes().to_vec()))
                .unwrap(),
            Step::Done(r) => break r,
            Step::Wait { .. } | Step::Save => {}
        }
    };
    assert_eq!(report.error, None);
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].why.contains("SKIP"), "{:?}", report.failed);
    assert_eq!(q.count("test-log"), 3);
}

fn connect(q: &mut FakeQtest, url: &str, project: u64, token: &str) -> Report {
    let start = json!({"kind": "qtest.connect", "input": {"config": {"qtest": {"url": url, "project_id": project}}}});
    run(q, &start, token, false).0
}

#[test]
fn the_connection_test_names_each_failure() {
    let mut q = FakeQtest::new();
    let good = connect(&mut q, SITE, PROJECT, TOKEN);
    assert_eq!(good.error, None);
    let Details::QtestConnection(c) = &good.details else {
        panic!()
    };
    assert!(c.ok);
    assert_eq!(c.project_name.as_deref(), Some("Shop Web"));
    assert_eq!(c.mappings.len(), 3);
    assert_eq!(
        code(&connect(&mut q, "https://elsewhere.test", PROJECT, TOKEN)),
        "qtest.wrong_site"
    );
    assert_eq!(
        code(&connect(&mut q, SITE, PROJECT, "wrong")),
        "qtest.unauthorized"
    );
    assert_eq!(
        code(&connect(&mut q, SITE, PROJECT, "expired")),
        "qtest.token_expired"
    );
    assert_eq!(
        code(&connect(&mut q, SITE, 7, TOKEN)),
        "qtest.no_project_access"
    );
    q.automation = false;
    let off = connect(&mut q, SITE, PROJECT, TOKEN);
    assert_eq!(code(&off), "qtest.automation_off");
    assert!(
        off.error
            .unwrap()
            .hint
            .unwrap()
            .contains("Automation Settings")
    );
}

#[test]
fn the_token_is_masked_in_requests_shown_and_never_saved() {
    let mut s = SessionHandle::start(
        publish_start("2024-05-01T10:00:00Z", REPORT)
            .to_string()
            .as_bytes(),
        &secrets(TOKEN),
    )
    .unwrap();
    let Step::Send(req) = s.next() else { panic!() };
    assert_eq!(
        req.header("Authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let shown = crate::sync::mask::mask_request(&req);
    assert!(!format!("{shown:?}").contains(TOKEN));
    assert_eq!(shown.header("Authorization"), Some("Bearer ***"));
    assert!(!s.save().unwrap().contains(TOKEN));
    assert!(!s.input().unwrap().contains(TOKEN));
}

#[test]
fn a_bad_configuration_fails_before_any_request() {
    let mut start = publish_start("2024-05-01T10:00:00Z", REPORT);
    start["input"]["config"]["qtest"]["test_cycle"] = json!("CL-12");
    let e = SessionHandle::start(start.to_string().as_bytes(), &secrets(TOKEN))
        .err()
        .unwrap();
    assert_eq!(e.code, "config.invalid_value");
    let mut start = publish_start("2024-05-01T10:00:00Z", REPORT);
    start["input"]["config"]["qtest"]
        .as_object_mut()
        .unwrap()
        .remove("project_id");
    let e = SessionHandle::start(start.to_string().as_bytes(), &secrets(TOKEN))
        .err()
        .unwrap();
    assert_eq!(e.code, "config.missing_value");
}

#[test]
fn configured_names_pick_the_browser_out_of_suite_names() {
    let report = r#"<testsuites>
<testsuite name="Firefox - login.cy.js"><testcase classname="Login" name="signs in"/></testsuite>
<testsuite name="Chrome - login.cy.js"><testcase classname="Login" name="signs in"/></testsuite>
</testsuites>"#;
    let mut start = publish_start("2024-05-01T10:00:00Z", report);
    start["input"]["config"]["qtest"]["suite_names"] = json!(["chrome", "Firefox"]);
    let mut q = FakeQtest::new();
    let (report, _) = run(&mut q, &start, TOKEN, false);
    assert_eq!(report.error, None);
    let suites: Vec<String> = q
        .objects
        .iter()
        .filter(|o| o.kind == "test-suite")
        .map(|o| o.name.clone())
        .collect();
    assert_eq!(suites, ["Firefox", "chrome"]);
    assert_eq!(q.count("test-case"), 1, "one case for both browsers");
    assert_eq!(q.count("test-run"), 2);
}

#[test]
fn a_file_that_cannot_be_read_is_reported_and_the_log_still_goes() {
    let report = REPORT.replace("logs/pay.log", "logs/missing.log");
    let mut q = FakeQtest::new();
    let (report, _) = run(
        &mut q,
        &publish_start("2024-05-01T10:00:00Z", &report),
        TOKEN,
        false,
    );
    assert_eq!(report.error, None);
    assert_eq!(q.count("test-log"), 4);
    assert_eq!(report.failed.len(), 1);
    assert!(
        report.failed[0].why.contains("no such file"),
        "{:?}",
        report.failed
    );
}

#[test]
fn changed_steps_make_a_new_approved_version_never_a_second_case() {
    let with_steps = |now: &str, steps: &[&str]| {
        let mut start = publish_start(
            now,
            r#"<testsuite name="chromium"><testcase classname="shop.Login" name="signs in"/></testsuite>"#,
        );
        let steps: Vec<Value> = steps
            .iter()
            .map(|s| json!({"keyword": "When ", "name": s, "status": "passed", "duration_us": null, "message": null, "depth": 0}))
            .collect();
        start["input"]["cases"][0]["steps"] = json!(steps);
        start
    };
    let mut q = FakeQtest::new();
    run(
        &mut q,
        &with_steps("2024-05-01T10:00:00Z", &["I open the page", "I sign in"]),
        TOKEN,
        false,
    );
    let case = q
        .objects
        .iter()
        .find(|o| o.kind == "test-case")
        .unwrap()
        .clone();
    assert_eq!(case.body["test_steps"][1]["description"], "When I sign in");
    // Same steps: nothing changes.
    let (same, _) = run(
        &mut q,
        &with_steps("2024-05-01T11:00:00Z", &["I open the page", "I sign in"]),
        TOKEN,
        false,
    );
    assert!(same.updated.is_empty(), "{:?}", same.updated);
    // Other steps, and a crash after every change: one new version, approved.
    let (changed, _) = run(
        &mut q,
        &with_steps(
            "2024-05-01T12:00:00Z",
            &["I open the page", "I sign in with a passkey"],
        ),
        TOKEN,
        true,
    );
    assert_eq!(changed.error, None, "{changed:?}");
    assert_eq!(q.count("test-case"), 1, "never a second case");
    let case = q.objects.iter().find(|o| o.kind == "test-case").unwrap();
    assert_eq!(case.body["versions"], 1, "one new version");
    assert_eq!(case.body["approved"], 1, "approved once");
    assert_eq!(case.body["version"], "1.0");
    assert_eq!(
        case.body["test_steps"][1]["description"],
        "When I sign in with a passkey"
    );
    assert_eq!(q.count("test-log"), 3);
}
