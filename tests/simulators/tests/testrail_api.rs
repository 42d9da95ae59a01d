//! The TestRail simulator over real HTTP, checked against the real payloads in
//! `contracts/testrail`: routing with `&`, auth, suite modes, paging, fields,
//! runs, plans, results, attachments, errors, faults and the ledger.

use base64::Engine;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tmbridge_simulators::faults::{FaultKind, Match};
use tmbridge_simulators::testrail::TestrailSim;
use tmbridge_simulators::{HttpResponse, request};

fn sample(name: &str) -> Value {
    let path = format!("{}/contracts/testrail/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Keys of a real sample that are not custom fields of that instance.
fn standard_keys(v: &Value) -> BTreeSet<String> {
    keys(v)
        .into_iter()
        .filter(|k| !k.starts_with("custom_"))
        .collect()
}

fn auth_with(user: &str, secret: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
    format!("Basic {token}")
}

fn auth(sim: &TestrailSim) -> String {
    auth_with(&sim.seeded().user, &sim.seeded().api_key)
}

fn get(sim: &TestrailSim, call: &str) -> HttpResponse {
    let url = format!("{}{call}", sim.api_url());
    request("GET", &url, &[("Authorization", &auth(sim))], None).unwrap()
}

fn post(sim: &TestrailSim, call: &str, body: &Value) -> HttpResponse {
    let url = format!("{}{call}", sim.api_url());
    let bytes = serde_json::to_vec(body).unwrap();
    request(
        "POST",
        &url,
        &[
            ("Authorization", &auth(sim)),
            ("Content-Type", "application/json"),
        ],
        Some(&bytes),
    )
    .unwrap()
}

fn error_of(r: &HttpResponse) -> String {
    r.json().unwrap()["error"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn basic_auth_takes_the_password_or_the_api_key_and_401_is_testrail_body() {
    let sim = TestrailSim::start();
    let s = sim.seeded().clone();
    let call = format!("{}get_project/{}", sim.api_url(), s.single_project);
    for secret in [&s.password, &s.api_key] {
        let r = request(
            "GET",
            &call,
            &[("Authorization", &auth_with(&s.user, secret))],
            None,
        )
        .unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json().unwrap()["suite_mode"], 1);
    }
    let bad = request(
        "GET",
        &call,
        &[("Authorization", &auth_with(&s.user, "nope"))],
        None,
    )
    .unwrap();
    assert_eq!(bad.status, 401);
    assert_eq!(
        bad.json().unwrap(),
        sample("error-401-authentication-failed.json")
    );
    let none = request("GET", &call, &[], None).unwrap();
    assert_eq!(none.status, 401);

    sim.revoke_credentials();
    assert_eq!(
        get(&sim, &format!("get_project/{}", s.single_project)).status,
        401
    );
    sim.restore_access();
    assert_eq!(
        get(&sim, &format!("get_project/{}", s.single_project)).status,
        200
    );
}

#[test]
fn errors_use_testrail_codes_and_error_bodies() {
    let sim = TestrailSim::start();
    let s = sim.seeded().clone();
    let shape = keys(&sample("error-400-field-not-valid-or-accessible.json"));

    let missing = get(&sim, "get_project/999");
    assert_eq!(missing.status, 400);
    assert_eq!(keys(&missing.json().unwrap()), shape);
    assert!(error_of(&missing).contains(":project_id"));

    let forbidden = get(&sim, &format!("get_project/{}", s.restricted_project));
    assert_eq!(forbidden.status, 403);
    assert_eq!(keys(&forbidden.json().unwrap()), shape);

    let unknown = get(&sim, "get_everything/1");
    assert_eq!(unknown.status, 404);
    assert!(error_of(&unknown).contains("get_everything"));

    let wrong_verb = get(&sim, &format!("add_case/{}", s.single_section));
    assert_eq!(wrong_verb.status, 400);
    assert!(error_of(&wrong_verb).contains("POST"));

    sim.deny_access();
    assert_eq!(
        get(&sim, &format!("get_project/{}", s.single_project)).status,
        403
    );
}

#[test]
fn multi_suite_projects_need_the_suite_and_single_suite_ones_do_not() {
    let sim = TestrailSim::start();
    let s = sim.seeded().clone();
    sim.add_case(s.single_section, "Login works", json!({}));
    sim.add_case(s.multi_section, "API answers", json!({}));

    let single = get(&sim, &format!("get_cases/{}", s.single_project));
    assert_eq!(single.status, 200, "{}", single.text());
    assert_eq!(single.json().unwrap()["cases"][0]["title"], "Login works");

    let multi = get(&sim, &format!("get_cases/{}", s.multi_project));
    assert_eq!(multi.status, 400);
    assert_eq!(error_of(&multi), "Field :suite_id is a required field.");

    let with_suite = get(
        &sim,
        &format!("get_cases/{}&suite_id={}", s.multi_project, s.multi_suite),
    );
    assert_eq!(
        with_suite.json().unwrap()["cases"][0]["title"],
        "API answers"
    );
    let other = get(
        &sim,
        &format!("get_cases/{}&suite_id={}", s.multi_project, s.other_suite),
    );
    assert_eq!(other.json().unwrap()["cases"], json!([]));

    let suites = get(&sim, &format!("get_suites/{}", s.multi_project))
        .json()
        .unwrap();
    let names: Vec<&str> = suites
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["API", "UI"]);
    assert_eq!(
        standard_keys(&suites[0]),
        standard_keys(&sample("get-suites.json")[0])
    );
}

#[test]
fn bulk_gets_page_through_links_next_and_old_servers_answer_bare_arrays() {
    let sim = TestrailSim::start();
    let s = sim.seeded().clone();
    let made: Vec<u64> = (1..=5)
        .map(|i| sim.add_case(s.single_section, &format!("Case {i}"), json!({})))
        .collect();
    sim.set_page_cap(2);

    let first = get(
        &sim,
        &format!(
            "get_cases/{}&section_id={}",
            s.single_project, s.single_section
        ),
    );
    let page = first.json().unwrap();
    let real = sample("get-cases-bulk-paged-with-custom-fields.json");
    assert_eq!(keys(&page), keys(&real), "envelope keys as TestRail 6.7+");
    assert_eq!(keys(&page["_links"]), keys(&real["_links"]));
    assert!(standard_keys(&real["cases"][0]).is_subset(&keys(&page["cases"][0])));

    let mut seen = Vec::new();
    let mut next = Some(format!(
        "/api/v2/get_cases/{}&section_id={}",
        s.single_project, s.single_section
    ));
    let mut pages = 0;
    while let Some(link) = next {
        let call = link.trim_start_matches("/api/v2/");
        let v = get(&sim, call).json().unwrap();
        assert!(v["size"].as_u64().unwrap() <= 2);
        seen.extend(
            v["cases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_u64().unwrap()),
        );
        next = v["_links"]["next"].as_str().map(str::to_string);
        if pages > 0 {
            assert!(v["_links"]["prev"].is_string());
        }
        pages += 1;
    }
    assert_eq!(seen, made);
    assert_eq!(pages, 3);

    // limit=0 means "as many as allowed", as trcli rewrites it.
    let zero = get(
        &sim,
        &format!("get_cases/{}&limit=0&offset=4", s.single_project),
    );
    assert_eq!(zero.json().unwrap()["cases"][0]["id"], made[4]);

    sim.add_run(s.single_project, s.single_suite, "Nightly");
    sim.set_legacy_bare_arrays(true);
    let legacy = get(&sim, &format!("get_cases/{}", s.single_project))
        .json()
        .unwrap();
    assert_eq!(legacy.as_array().map(Vec::len), Some(5));
    let runs = get(&sim, &format!("get_runs/{}", s.single_project))
        .json()
        .unwrap();
    let real_run = &sample("get-runs-legacy-bare-array.json")[0];
    assert!(standard_keys(real_run).is_subset(&keys(&runs[0])));
}

#[test]
fn case_fields_are_checked_as_testrail_checks_them() {
    let sim = TestrailSim::start();
    let s = sim.seeded().clone();
    let fields = get(&sim, "get_case_fields").json().unwrap();
    let steps = sample("get-case-fields-item-type10-separated-steps.json");
    assert!(fields.as_array().unwrap().contains(&steps));

    let good = post(
        &sim,
        &format!("add_case/{}", s.multi_section),
        &json!({"title": "Checkout", "refs": "JIRA-1",
                "custom_automation_id": "shop.Checkout.pays",
                "custom_level": 3, "custom_platforms": [1, 3],
                "custom_separated_steps": [{"content": "Open", "expected": "Opened"}],
                "custom_unknown": "dropped"}),
    );
    assert_eq!(good.status, 200, "{}", good.text());
    let case = good.json().unwrap();
    assert_eq!(case["custom_automation_id"], "shop.Checkout.pays");
    assert_eq!(case["custom_platforms"], json!([1, 3]));
    assert!(
        case.get("custom_unknown").is_none(),
        "unknown fields are dropped"
    );
    let real = sample("get-case-with-template-and-text-steps.json");
    assert!(standard_keys(&real).is_subset(&keys(&case)));

    let bad_option = post(
        &sim,
        &format!("add_case/{}", s.multi_section),
        &json!({"title": "X", "custom_level": 9}),
    );
    assert_eq!(bad_option.status, 400);
    assert!(error_of(&bad_option).contains(":custom_level"));
    // The multi-select belongs to the multi-suite project only: ignored elsewhere.
    let elsewhere = post(
        &sim,
        &format!("add_case/{}", s.single_section),
        &json!({"title": "Y", "custom_platforms": [1]}),
    )
    .json()
    .unwrap();
    assert!(elsewhere.get("custom_platforms").is_none());
    let no_title = post(&sim, &format!("add_case/{}", s.single_section), &json!({}));
    assert_eq!(error_of(&no_title), "Field :title is a required field.");

    let id = case["id"].as_u64().unwrap();
    let upd = post(
        &sim,
        &format!("update_case/{id}"),
        &json!({"title": "Checkout v2"}),
    );
    assert_eq!(upd.json().unwrap()["title"], "Checkout v2");
    assert_eq!(sim.ledger_of("add_case").len(), 2);
    assert_eq!(sim.ledger_of("update_case").len(), 1);
}

#[test]
fn runs_hold_every_case_or_the_chosen_ones_and_results_must_fit_them() {
    let sim = TestrailSim::start();
    let s = sim.seeded().clone();
    let a = sim.add_case(s.single_section, "A", json!({}));
    let b = sim.add_case(s.single_section, "B", json!({}));
    let run = post(
        &sim,
        &format!("add_run/{}", s.single_project),
        &json!({"name": "CI 42", "include_all": false, "case_ids": [a]}),
    );
    assert_eq!(run.status, 200, "{}", run.text());
    let run = run.json().unwrap();
    assert!(standard_keys(&sample("get-runs-bulk-paged.json")["runs"][0]).is_subset(&keys(&run)));
    let run_id = run["id"].as_u64().unwrap();
    assert_eq!(sim.cases_in_run(run_id), vec![a]);

    let outside = post(
        &sim,
        &format!("add_results_for_cases/{run_id}"),
        &json!({"results": [{"case_id": a, "status_id": 1}, {"case_id": b, "status_id": 5}]}),
    );
    assert_eq!(outside.status, 400);
    assert!(error_of(&outside).contains(&format!("C{b}")));
    assert!(sim.results().is_empty(), "all or nothing");

    let upd = post(
        &sim,
        &format!("update_run/{run_id}"),
        &json!({"case_ids": [a, b]}),
    );
    assert_eq!(upd.status, 200);
    assert_eq!(sim.cases_in_run(run_id), vec![a, b]);

    let untested = post(
        &sim,
        &format!("add_results_for_cases/{run_id}"),
        &json!({"results": [{"case_id": a, "status_id": 3}]}),
    );
    assert_eq!(untested.status, 400);
    let bad_elapsed = post(
        &sim,
        &format!("add_results_for_cases/{run_id}"),
        &json!({"results": [{"case_id": a, "status_id": 1, "elapsed": "soon"}]}),
    );
    assert!(error_of(&bad_elapsed).contains(":elapsed"));
    let unknown_status = post(
        &sim,
        &format!("add_results_for_cases/{run_id}"),
        &json!({"results": [{"case_id": a, "status_id": 6}]}),
    );
    assert_eq!(unknown_status.status, 400);

    let statuses = get(&sim, "get_statuses").json().unwrap();
    let custom: Vec<u64> = statuses
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["is_system"] == false)
        .map(|x| x["id"].as_u64().unwrap())
        .collect();
    assert_eq!(custom, [7, 8]);

    let added = post(
        &sim,
        &format!("add_results_for_cases/{run_id}"),
        &json!({"results": [
            {"case_id": b, "status_id": 7, "comment": "retried", "elapsed": "1m 5s",
             "version": "1.2.3", "defects": "BUG-1", "custom_environment": "staging",
             "custom_step_results": [{"content": "Open", "status_id": 1}]},
            {"case_id": a, "status_id": 5}
        ]}),
    );
    assert_eq!(added.status, 200, "{}", added.text());
    let added = added.json().unwrap();
    let tests = get(&sim, &format!("get_tests/{run_id}")).json().unwrap();
    let test_of = |case: u64| {
        tests["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["case_id"] == case)
            .unwrap()["id"]
            .clone()
    };
    assert_eq!(
        added[0]["test_id"],
        test_of(b),
        "answers come in request order"
    );
    assert_eq!(added[1]["test_id"], test_of(a));
    assert_eq!(added[0]["custom_environment"], "staging");
    let real_result = &sample("get-results-bulk-paged.json")["results"][0];
    assert!(standard_keys(real_result).is_subset(&keys(&added[0])));
    let real_test = &sample("get-tests-bulk-paged.json")["tests"][0];
    assert!(standard_keys(real_test).is_subset(&keys(&tests["tests"][0])));

    let counters = get(&sim, &format!("get_run/{run_id}")).json().unwrap();
    assert_eq!(counters["failed_count"], 1);
    assert_eq!(counters["custom_status2_count"], 1);
    let listed = get(&sim, &format!("get_results_for_case/{run_id}/{b}"))
        .json()
        .unwrap();
    assert_eq!(listed["results"][0]["comment"], "retried");
}

#[test]
fn plan_entries_make_one_run_per_configuration() {
    let sim = TestrailSim::start();
    let s = sim.seeded().clone();
    let a = sim.add_case(s.multi_section, "A", json!({}));
    let plan = post(
        &sim,
        &format!("add_plan/{}", s.multi_project),
        &json!({"name": "Release 7"}),
    );
    assert_eq!(plan.status, 200, "{}", plan.text());
    let plan_id = plan.json().unwrap()["id"].as_u64().unwrap();
    let entry = post(
        &sim,
        &format!("add_plan_entry/{plan_id}"),
        &json!({"suite_id": s.multi_suite, "name": "Browsers", "include_all": false,
                "case_ids": [a], "config_ids": [s.chrome, s.firefox],
                "runs": [{"config_ids": [s.chrome]}, {"config_ids": [s.firefox]}]}),
    );
    assert_eq!(entry.status, 200, "{}", entry.text());
    let entry = entry.json().unwrap();
    let real = sample("live-add-plan-entry-response-redacted.json");
    assert!(keys(&real).is_subset(&keys(&entry)));
    assert!(standard_keys(&real["runs"][0]).is_subset(&keys(&entry["runs"][0])));
    let configs: Vec<&str> = entry["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["config"].as_str().unwrap())
        .collect();
    assert_eq!(configs, ["Chrome", "Firefox"]);
    let chrome_run = entry["runs"][0]["id"].as_u64().unwrap();
    assert_eq!(entry["runs"][0]["plan_id"], plan_id);

    let direct = post(
        &sim,
        &format!("update_run/{chrome_run}"),
        &json!({"name": "x"}),
    );
    assert_eq!(direct.status, 400, "plan runs change through their entry");
    let r = post(
        &sim,
        &format!("add_results_for_cases/{chrome_run}"),
        &json!({"results": [{"case_id": a, "status_id": 1}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = get(&sim, &format!("get_plan/{plan_id}")).json().unwrap();
    assert_eq!(got["entries"][0]["runs"][0]["passed_count"], 1);
    let bad_config = post(
        &sim,
        &format!("add_plan_entry/{plan_id}"),
        &json!({"suite_id": s.multi_suite, "config_ids": [99], "runs": [{"config_ids": [99]}]}),
    );
    assert_eq!(bad_config.status, 400);
    assert!(error_of(&bad_config).contains(":config_ids"));
}

#[test]
fn attachments_go_to_results_as_multipart_form_data() {
    let sim = TestrailSim::start();
    let s = sim.seeded().clone();
    let a = sim.add_case(s.single_section, "A", json!({}));
    let run_id = sim.add_run(s.single_project, s.single_suite, "CI");
    let result = post(
        &sim,
        &format!("add_results_for_cases/{run_id}"),
        &json!({"results": [{"case_id": a, "status_id": 5}]}),
    )
    .json()
    .unwrap()[0]["id"]
        .as_u64()
        .unwrap();
    let png = b"\x89PNG\r\n\x1a\n\x00binary\r\n--not-a-boundary";
    let mut body = b"--b0undary\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"shot.png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
    body.extend_from_slice(png);
    body.extend_from_slice(b"\r\n--b0undary--\r\n");
    let url = format!("{}add_attachment_to_result/{result}", sim.api_url());
    let r = request(
        "POST",
        &url,
        &[
            ("Authorization", &auth(&sim)),
            ("Content-Type", "multipart/form-data; boundary=b0undary"),
        ],
        Some(&body),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json().unwrap()["attachment_id"].is_number());
    let stored = sim.attachments();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].bytes, png);
    assert_eq!(stored[0].name, "shot.png");

    let as_json = post(
        &sim,
        &format!("add_attachment_to_result/{result}"),
        &json!({}),
    );
    assert_eq!(as_json.status, 400);
    assert_eq!(sim.ledger_of("add_attachment").len(), 1);
}

#[test]
fn faults_match_api_methods_and_throttling_says_when_to_come_back() {
    let sim = TestrailSim::start();
    let s = sim.seeded().clone();
    let a = sim.add_case(s.single_section, "A", json!({}));
    let run_id = sim.add_run(s.single_project, s.single_suite, "CI");
    sim.faults().add(
        FaultKind::Throttle {
            retry_after_secs: 7,
        },
        Match::path("add_results_for_cases"),
        1,
    );
    assert_eq!(
        get(&sim, &format!("get_run/{run_id}")).status,
        200,
        "other calls pass"
    );
    let body = json!({"results": [{"case_id": a, "status_id": 1}]});
    let throttled = post(&sim, &format!("add_results_for_cases/{run_id}"), &body);
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.header("retry-after"), Some("7"));
    assert!(!error_of(&throttled).is_empty());
    assert!(sim.results().is_empty());

    sim.faults().add(
        FaultKind::DropAfterApply,
        Match::path("add_results_for_cases"),
        1,
    );
    let lost = request(
        "POST",
        &format!("{}add_results_for_cases/{run_id}", sim.api_url()),
        &[
            ("Authorization", &auth(&sim)),
            ("Content-Type", "application/json"),
        ],
        Some(&serde_json::to_vec(&body).unwrap()),
    );
    assert!(lost.is_err(), "the answer is lost");
    assert_eq!(sim.results().len(), 1, "but the result was stored");

    let logged: Vec<(Option<String>, u16)> = sim
        .requests()
        .iter()
        .map(|r| (r.api_method().map(str::to_string), r.status))
        .collect();
    assert!(logged.contains(&(Some("add_results_for_cases".into()), 429)));

    let ledger = request("GET", &format!("{}/__sim/ledger", sim.url()), &[], None)
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(ledger[0]["action"], "add_result");
    assert_eq!(ledger[0]["fields"]["case_id"], a);
}
