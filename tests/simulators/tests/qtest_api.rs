//! The qTest simulator over real HTTP: tokens, projects, the automation settings,
//! the Test Design and Test Execution trees, test logs, paging, error bodies, faults
//! and the ledger.

use base64::Engine;
use serde_json::{Value, json};
use tmbridge_simulators::faults::{FaultKind, Match};
use tmbridge_simulators::qtest::QtestSim;
use tmbridge_simulators::{HttpResponse, request};

fn call(sim: &QtestSim, method: &str, path: &str, body: Option<&Value>) -> HttpResponse {
    let url = format!("{}{path}", sim.url());
    let bearer = format!("Bearer {}", sim.token());
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
    request(
        method,
        &url,
        &[
            ("Authorization", bearer.as_str()),
            ("Content-Type", "application/json"),
        ],
        bytes.as_deref(),
    )
    .unwrap()
}

fn project(sim: &QtestSim) -> String {
    format!("/api/v3/projects/{}", sim.project_id())
}

fn created_id(r: &HttpResponse) -> u64 {
    assert!(
        r.status == 200 || r.status == 201,
        "{} {}",
        r.status,
        r.text()
    );
    r.json().unwrap()["id"].as_u64().unwrap()
}

#[test]
fn tokens_are_checked_and_refused_as_qtest_refuses_them() {
    let sim = QtestSim::start();
    let url = format!("{}{}", sim.url(), project(&sim));
    let none = request("GET", &url, &[], None).unwrap();
    assert_eq!(none.status, 401);
    assert_eq!(none.json().unwrap()["error"], "unauthorized");
    let bad = request("GET", &url, &[("Authorization", "Bearer nope")], None).unwrap();
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json().unwrap()["error"], "invalid_token");
    let expired = format!("Bearer {}", sim.expired_token());
    let old = request("GET", &url, &[("Authorization", expired.as_str())], None).unwrap();
    assert_eq!(
        old.json().unwrap()["error_description"],
        "Access token expired"
    );
    // The scheme is case-insensitive: QASymphony's samples send "bearer".
    let lower = format!("bearer {}", sim.token());
    let ok = request("GET", &url, &[("Authorization", lower.as_str())], None).unwrap();
    assert_eq!(ok.status, 200, "{}", ok.text());
}

#[test]
fn a_wrong_site_a_foreign_project_and_a_missing_one_answer_differently() {
    let sim = QtestSim::start();
    let html = call(&sim, "GET", "/login", None);
    assert_eq!(html.status, 404);
    assert!(html.header("content-type").unwrap().contains("html"));
    let forbidden = call(
        &sim,
        "GET",
        &format!("/api/v3/projects/{}", sim.restricted_project_id()),
        None,
    );
    assert_eq!(forbidden.status, 403);
    assert!(forbidden.json().unwrap()["message"].is_string());
    let missing = call(&sim, "GET", "/api/v3/projects/1", None);
    assert_eq!(missing.status, 404);
    assert!(
        missing.json().unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
}

#[test]
fn automation_settings_map_statuses_and_can_be_switched_off() {
    let sim = QtestSim::start();
    let path = format!("{}/settings/automation", project(&sim));
    let on = call(&sim, "GET", &path, None).json().unwrap();
    assert_eq!(on["enabled"], true);
    let values: Vec<&str> = on["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["PASS", "FAIL", "SKIP"]);
    sim.set_automation(false);
    sim.unmap("SKIP");
    let off = call(&sim, "GET", &path, None).json().unwrap();
    assert_eq!(off["enabled"], false);
    assert_eq!(off["mappings"].as_array().unwrap().len(), 2);
    let statuses = call(
        &sim,
        "GET",
        &format!("{}/test-runs/execution-statuses", project(&sim)),
        None,
    );
    assert!(statuses.json().unwrap().as_array().unwrap().len() >= 3);
}

#[test]
fn modules_nest_and_test_cases_keep_steps_and_versions() {
    let sim = QtestSim::start();
    let p = project(&sim);
    let root = created_id(&call(
        &sim,
        "POST",
        &format!("{p}/modules"),
        Some(&json!({"name": "tmbridge"})),
    ));
    let child = created_id(&call(
        &sim,
        "POST",
        &format!("{p}/modules?parentId={root}"),
        Some(&json!({"name": "checkout", "description": "Checkout tests"})),
    ));
    let top = call(&sim, "GET", &format!("{p}/modules"), None)
        .json()
        .unwrap();
    assert_eq!(top.as_array().unwrap().len(), 1);
    let under = call(&sim, "GET", &format!("{p}/modules?parentId={root}"), None)
        .json()
        .unwrap();
    assert_eq!(under[0]["name"], "checkout");
    assert_eq!(under[0]["parent_id"], root);
    let missing_parent = call(
        &sim,
        "POST",
        &format!("{p}/modules?parentId=999999"),
        Some(&json!({"name": "x"})),
    );
    assert_eq!(missing_parent.status, 404);

    // The body of a real create with steps (recorded from a qTest site).
    let create = json!({"name": "pays by card", "description": "d", "parent_id": child,
        "test_steps": [{"description": "open", "expected": "opens", "attachments": []},
                       {"description": "pay", "expected": "paid", "attachments": []}]});
    let case = call(&sim, "POST", &format!("{p}/test-cases"), Some(&create));
    let case_json = case.json().unwrap();
    assert_eq!(case_json["version"], "0.1");
    assert_eq!(case_json["test_steps"][1]["expected"], "paid");
    assert!(case_json["pid"].as_str().unwrap().starts_with("TC-"));
    let id = case_json["id"].as_u64().unwrap();
    let updated = call(
        &sim,
        "PUT",
        &format!("{p}/test-cases/{id}"),
        Some(&json!({"test_steps": [{"description": "pay", "expected": "paid"}]})),
    )
    .json()
    .unwrap();
    assert_eq!(updated["version"], "0.2");
    let approved = call(&sim, "PUT", &format!("{p}/test-cases/{id}/approve"), None)
        .json()
        .unwrap();
    assert_eq!(approved["version"], "1.0");
    let listed = call(
        &sim,
        "GET",
        &format!("{p}/test-cases?parentId={child}"),
        None,
    )
    .json()
    .unwrap();
    assert_eq!(listed[0]["test_steps"].as_array().unwrap().len(), 1);
    let kinds: Vec<String> = sim.ledger().into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        ["module", "module", "test-case", "test-case-version"]
    );
}

/// A cycle, a suite under it, a case, and a run of the case in the suite.
fn run_in_suite(sim: &QtestSim) -> (u64, u64) {
    let p = project(sim);
    let cycle = created_id(&call(
        sim,
        "POST",
        &format!("{p}/test-cycles?parentId=0&parentType=root"),
        Some(&json!({"name": "e2e #7"})),
    ));
    let suite = created_id(&call(
        sim,
        "POST",
        &format!("{p}/test-suites?parentId={cycle}&parentType=test-cycle"),
        Some(&json!({"name": "chromium"})),
    ));
    let module = created_id(&call(
        sim,
        "POST",
        &format!("{p}/modules"),
        Some(&json!({"name": "tmbridge"})),
    ));
    let case = created_id(&call(
        sim,
        "POST",
        &format!("{p}/test-cases"),
        Some(&json!({"name": "logs in", "parent_id": module})),
    ));
    let run = created_id(&call(
        sim,
        "POST",
        &format!("{p}/test-runs?parentId={suite}&parentType=test-suite"),
        Some(&json!({"name": "logs in", "test_case": {"id": case}})),
    ));
    (suite, run)
}

#[test]
fn cycles_suites_and_runs_nest_and_runs_page() {
    let sim = QtestSim::start();
    let p = project(&sim);
    let (suite, _) = run_in_suite(&sim);
    let cycles = call(
        &sim,
        "GET",
        &format!("{p}/test-cycles?parentId=0&parentType=root"),
        None,
    )
    .json()
    .unwrap();
    assert_eq!(cycles[0]["name"], "e2e #7");
    let cycle = cycles[0]["id"].as_u64().unwrap();
    let suites = call(
        &sim,
        "GET",
        &format!("{p}/test-suites?parentId={cycle}&parentType=test-cycle"),
        None,
    )
    .json()
    .unwrap();
    assert_eq!(suites[0]["id"], suite);
    // A run needs an existing case and parent.
    let orphan = call(
        &sim,
        "POST",
        &format!("{p}/test-runs?parentId={suite}&parentType=test-suite"),
        Some(&json!({"name": "x", "test_case": {"id": 1}})),
    );
    assert_eq!(orphan.status, 400);
    let case = sim.cases()[0].0;
    for name in ["b", "c"] {
        created_id(&call(
            &sim,
            "POST",
            &format!("{p}/test-runs?parentId={suite}&parentType=test-suite"),
            Some(&json!({"name": name, "test_case": {"id": case}})),
        ));
    }
    sim.set_max_page_size(2);
    let page = |n: u64| {
        call(
            &sim,
            "GET",
            &format!("{p}/test-runs?parentId={suite}&parentType=test-suite&page={n}&pageSize=50"),
            None,
        )
        .json()
        .unwrap()
    };
    let first = page(1);
    assert_eq!(first["total"], 3);
    assert_eq!(first["page_size"], 2);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(page(2)["items"][0]["name"], "c");
    assert_eq!(page(2)["items"][0]["test_case"]["id"], case);
}

#[test]
fn automation_logs_are_mapped_and_refused_whole_for_one_bad_value() {
    let sim = QtestSim::start();
    let p = project(&sim);
    let (_, run) = run_in_suite(&sim);
    let data = base64::engine::general_purpose::STANDARD.encode(b"trace");
    let log = json!({"name": "logs in", "status": "FAIL", "automation_content": "shop.Login#logs in",
        "exe_start_date": "2024-05-01T09:58:00.000Z", "exe_end_date": "2024-05-01T09:58:01.250Z",
        "note": "expected 200", "attachments": [{"name": "trace.txt", "content_type": "text/plain", "data": data}],
        "test_step_logs": [{"description": "open", "expected_result": "opens", "actual_result": "opened", "status": "PASS", "order": 0}]});
    let path = format!("{p}/test-runs/{run}/auto-test-logs");
    let made = call(&sim, "POST", &path, Some(&log));
    assert_eq!(made.status, 201, "{}", made.text());
    assert_eq!(made.json().unwrap()["status"]["name"], "Failed");
    let stored = &sim.logs()[0];
    assert_eq!(
        stored.attachments,
        [("trace.txt".to_string(), "text/plain".to_string(), 5)]
    );
    assert_eq!(stored.step_logs, 1);

    let mut unmapped = log.clone();
    unmapped["status"] = json!("BLOCKED");
    let refused = call(&sim, "POST", &path, Some(&unmapped));
    assert_eq!(refused.status, 400);
    assert!(
        refused.json().unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("BLOCKED")
    );
    let mut bad_step = log.clone();
    bad_step["test_step_logs"][0]["status"] = json!("MAYBE");
    assert_eq!(call(&sim, "POST", &path, Some(&bad_step)).status, 400);
    let mut bad_date = log.clone();
    bad_date["exe_end_date"] = json!("yesterday");
    assert_eq!(call(&sim, "POST", &path, Some(&bad_date)).status, 400);
    sim.set_automation(false);
    assert_eq!(call(&sim, "POST", &path, Some(&log)).status, 400);
    assert_eq!(sim.logs().len(), 1, "refused logs are not kept");

    let listed = call(
        &sim,
        "GET",
        &format!("{p}/test-runs/{run}/test-logs?page=1&pageSize=10"),
        None,
    )
    .json()
    .unwrap();
    assert_eq!(listed["total"], 1);
    assert_eq!(
        listed["items"][0]["exe_start_date"],
        "2024-05-01T09:58:00.000Z"
    );
    assert_eq!(
        call(&sim, "GET", &format!("{p}/test-runs/1/test-logs"), None).status,
        404
    );
}

#[test]
fn faults_answer_5xx_429_and_drop_and_the_ledger_lists_everything() {
    let sim = QtestSim::start();
    let p = project(&sim);
    sim.faults().fail_next(1, 503);
    let r = call(&sim, "GET", &p, None);
    assert_eq!(r.status, 503);
    sim.faults().throttle_next(1, 2);
    let r = call(&sim, "GET", &p, None);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("2"));
    sim.faults().add(
        FaultKind::DropAfterApply,
        Match::method_and_path("POST", "/test-cycles"),
        1,
    );
    let url = format!("{}{p}/test-cycles?parentId=0&parentType=root", sim.url());
    let bearer = format!("Bearer {}", sim.token());
    let dropped = request(
        "POST",
        &url,
        &[("Authorization", bearer.as_str())],
        Some(br#"{"name": "kept"}"#),
    );
    assert!(dropped.is_err(), "no answer");
    assert_eq!(sim.cycles().len(), 1, "applied before the drop");
    let ledger: Value = request("GET", &format!("{}/__sim/ledger", sim.url()), &[], None)
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(ledger[0]["kind"], "test-cycle");
    assert_eq!(ledger[0]["name"], "kept");
    let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 429, 0]);
}
