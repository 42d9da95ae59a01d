//! The Rally simulator over real HTTP: envelopes, paging, queries, auth, 403,
//! collections, attachments, faults and the ledger.

use base64::Engine;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tmbridge_simulators::faults::{FaultKind, Match};
use tmbridge_simulators::rally::RallySim;
use tmbridge_simulators::url::encode_component;
use tmbridge_simulators::{HttpResponse, request};

fn get(sim: &RallySim, path_and_query: &str) -> HttpResponse {
    let url = format!("{}{path_and_query}", sim.wsapi_url());
    request("GET", &url, &[("ZSESSIONID", sim.api_key())], None).unwrap()
}

fn post(sim: &RallySim, path_and_query: &str, body: &Value) -> HttpResponse {
    let url = format!("{}{path_and_query}", sim.wsapi_url());
    let bytes = serde_json::to_vec(body).unwrap();
    request(
        "POST",
        &url,
        &[
            ("ZSESSIONID", sim.api_key()),
            ("Content-Type", "application/json"),
        ],
        Some(&bytes),
    )
    .unwrap()
}

fn q(text: &str) -> String {
    encode_component(text)
}

#[test]
fn queries_page_from_one_and_filter_with_dotted_paths() {
    let sim = RallySim::start();
    let s = sim.seeded().clone();
    let story = sim.add_user_story("US7", "Checkout", Some(&s.current_iteration));
    for i in 1..=25 {
        let wp = (i % 2 == 0).then_some(story.as_str());
        sim.add_test_case(&format!("TC{i}"), &format!("Case {i}"), wp);
    }
    let r = get(
        &sim,
        "/testcase?pagesize=10&start=11&order=ObjectID&fetch=FormattedID,Name",
    );
    assert_eq!(r.status, 200);
    let v = r.json().unwrap();
    let qr = &v["QueryResult"];
    assert_eq!(qr["TotalResultCount"], 25);
    assert_eq!(qr["StartIndex"], 11);
    assert_eq!(qr["PageSize"], 10);
    assert_eq!(qr["Errors"], json!([]));
    let results = qr["Results"].as_array().unwrap();
    assert_eq!(results.len(), 10);
    assert_eq!(results[0]["FormattedID"], "TC11");
    assert!(
        results[0]["_ref"]
            .as_str()
            .unwrap()
            .starts_with(&sim.wsapi_url())
    );
    assert_eq!(results[0]["_type"], "TestCase");
    // Without fetch a query gives reference stubs only.
    let stub = get(
        &sim,
        &format!("/testcase?query={}", q("(FormattedID = TC3)")),
    )
    .json()
    .unwrap();
    let stub = &stub["QueryResult"]["Results"][0];
    assert_eq!(stub["_refObjectName"], "Case 3");
    assert!(stub.get("FormattedID").is_none());
    // A dotted path through a reference.
    let by_iteration = get(
        &sim,
        &format!(
            "/testcase?fetch=FormattedID&pagesize=2000&query={}",
            q("(WorkProduct.Iteration.Name = \"Sprint 14\")")
        ),
    )
    .json()
    .unwrap();
    assert_eq!(by_iteration["QueryResult"]["TotalResultCount"], 12);
    // AND / OR and contains.
    let both = get(
        &sim,
        &format!(
            "/testcase?fetch=FormattedID&query={}",
            q("((Name contains \"case 1\") AND ((FormattedID = TC10) OR (FormattedID = TC12)))")
        ),
    )
    .json()
    .unwrap();
    let ids: Vec<&str> = both["QueryResult"]["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["FormattedID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["TC10", "TC12"]);
    // pagesize above 2000 is capped with a warning.
    let capped = get(&sim, "/testcase?pagesize=5000").json().unwrap();
    assert_eq!(capped["QueryResult"]["PageSize"], 2000);
    assert_eq!(
        capped["QueryResult"]["Warnings"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn current_iteration_is_found_by_dates_and_bad_queries_are_errors() {
    let sim = RallySim::start();
    let now = jiff::Timestamp::now().to_string();
    let query = format!("((StartDate <= \"{now}\") AND (EndDate >= \"{now}\"))");
    let v = get(&sim, &format!("/iteration?fetch=Name&query={}", q(&query)))
        .json()
        .unwrap();
    assert_eq!(v["QueryResult"]["TotalResultCount"], 1);
    assert_eq!(v["QueryResult"]["Results"][0]["Name"], "Sprint 14");
    let today = get(
        &sim,
        &format!("/iteration?fetch=Name&query={}", q("(EndDate < today)")),
    )
    .json()
    .unwrap();
    assert_eq!(today["QueryResult"]["Results"][0]["Name"], "Sprint 13");
    // Rally refuses three operands to one AND; the core's strict parser says so.
    let bad = get(
        &sim,
        &format!("/testcase?query={}", q("(A = 1) AND (B = 2) AND (C = 3)")),
    );
    assert_eq!(bad.status, 200);
    let errs = bad.json().unwrap()["QueryResult"]["Errors"].clone();
    assert!(
        errs[0].as_str().unwrap().starts_with("Could not parse"),
        "{errs}"
    );
    let unknown = get(&sim, &format!("/testcase?query={}", q("(Nmae = x)")))
        .json()
        .unwrap();
    assert!(
        unknown["QueryResult"]["Errors"][0]
            .as_str()
            .unwrap()
            .contains("Nmae")
    );
}

#[test]
fn api_key_basic_auth_and_security_token() {
    let sim = RallySim::start();
    let s = sim.seeded().clone();
    let url = format!("{}/testcase", sim.wsapi_url());
    assert_eq!(request("GET", &url, &[], None).unwrap().status, 401);
    assert_eq!(
        request("GET", &url, &[("ZSESSIONID", "wrong")], None)
            .unwrap()
            .status,
        401
    );
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.username, s.password))
    );
    assert_eq!(
        request("GET", &url, &[("Authorization", &basic)], None)
            .unwrap()
            .status,
        200
    );
    // A write with basic auth and no key is refused in the envelope.
    let tc = sim.add_test_case("TC1", "One", None);
    let body = serde_json::to_vec(&json!({"TestCaseResult": {
        "TestCase": tc, "Build": "1", "Date": "2024-05-01T10:00:00Z", "Verdict": "Pass"}}))
    .unwrap();
    let create = format!("{}/testcaseresult/create", sim.wsapi_url());
    let r = request("POST", &create, &[("Authorization", &basic)], Some(&body)).unwrap();
    assert_eq!(
        r.json().unwrap()["CreateResult"]["Errors"][0],
        "Not authorized to perform action: Invalid key"
    );
    let auth = request(
        "GET",
        &format!("{}/security/authorize", sim.wsapi_url()),
        &[("Authorization", &basic)],
        None,
    )
    .unwrap()
    .json()
    .unwrap();
    let token = auth["OperationResult"]["SecurityToken"]
        .as_str()
        .unwrap()
        .to_string();
    let r = request(
        "POST",
        &format!("{create}?key={token}"),
        &[("Authorization", &basic)],
        Some(&body),
    )
    .unwrap();
    let v = r.json().unwrap();
    assert_eq!(v["CreateResult"]["Errors"], json!([]), "{v}");
    assert_eq!(v["CreateResult"]["Object"]["Verdict"], "Pass");
    assert_eq!(sim.created("TestCaseResult").len(), 1);
    // The current user.
    let me = get(&sim, "/user").json().unwrap();
    assert_eq!(me["User"]["UserName"], "tester@example.com");
}

#[test]
fn no_access_to_a_workspace_or_project_is_403() {
    let sim = RallySim::start();
    let s = sim.seeded().clone();
    assert_eq!(
        get(&sim, &format!("/testcase?workspace={}", s.other_workspace)).status,
        403
    );
    assert_eq!(
        get(&sim, &format!("/testcase?project={}", s.restricted_project)).status,
        403
    );
    assert_eq!(
        get(&sim, &format!("/testcase?project={}", s.project)).status,
        200
    );
    let r = post(
        &sim,
        "/testset/create",
        &json!({"TestSet": {"Name": "X", "Project": s.restricted_project}}),
    );
    assert_eq!(r.status, 403);
    assert!(sim.created("TestSet").is_empty());
}

#[test]
fn creates_validate_and_fill_the_ledger() {
    let sim = RallySim::start();
    let tc = sim.add_test_case("TC5", "Five", None);
    let missing = post(
        &sim,
        "/testcaseresult/create",
        &json!({"TestCaseResult": {"TestCase": tc, "Verdict": "Pass"}}),
    );
    let errs = missing.json().unwrap()["CreateResult"]["Errors"].clone();
    assert!(
        errs.as_array()
            .unwrap()
            .iter()
            .any(|e| e == "Validation error: TestCaseResult.Build should not be null"),
        "{errs}"
    );
    let bad_verdict = post(
        &sim,
        "/testcaseresult/create",
        &json!({"TestCaseResult": {
        "TestCase": tc, "Build": "b", "Date": "2024-05-01T10:00:00.000Z", "Verdict": "Passed"}}),
    );
    assert!(
        bad_verdict.json().unwrap()["CreateResult"]["Errors"][0]
            .as_str()
            .unwrap()
            .contains("Verdict")
    );
    let unknown = post(
        &sim,
        "/testcaseresult/create",
        &json!({"TestCaseResult": {
        "TestCase": tc, "Build": "b", "Date": "2024-05-01", "Verdict": "Pass", "Colour": "red"}}),
    );
    assert!(
        unknown.json().unwrap()["CreateResult"]["Errors"][0]
            .as_str()
            .unwrap()
            .contains("Colour")
    );
    assert!(sim.ledger().is_empty());
    // A test set, its test cases, a result in it with an attachment.
    let set = post(
        &sim,
        "/testset/create",
        &json!({"TestSet": {"Name": "Sprint-14-Automated-Tests", "Workspace": null}}),
    );
    let set_ref = set.json().unwrap()["CreateResult"]["Object"]["_ref"]
        .as_str()
        .unwrap()
        .to_string();
    let set_short = format!("/testset/{}", set_ref.rsplit('/').next().unwrap());
    let add = post(
        &sim,
        &format!("{set_short}/TestCases/add"),
        &json!({"CollectionItems": [{"_ref": tc}]}),
    );
    let add = add.json().unwrap();
    assert_eq!(add["OperationResult"]["Errors"], json!([]));
    assert_eq!(add["OperationResult"]["Results"][0]["FormattedID"], "TC5");
    assert_eq!(sim.test_set_members(&set_short), vec!["TC5"]);
    let members = get(&sim, &format!("{set_short}/TestCases?fetch=FormattedID"))
        .json()
        .unwrap();
    assert_eq!(members["QueryResult"]["TotalResultCount"], 1);
    let r = post(
        &sim,
        "/testcaseresult/create",
        &json!({"TestCaseResult": {
        "TestCase": tc, "Build": "GitLab-501", "Date": "2024-05-01T10:00:00Z",
        "Verdict": "Fail", "Duration": "1.25", "TestSet": set_ref}}),
    );
    let result_ref = r.json().unwrap()["CreateResult"]["Object"]["_ref"]
        .as_str()
        .unwrap()
        .to_string();
    let bytes = b"screenshot bytes".to_vec();
    let content = post(
        &sim,
        "/attachmentcontent/create",
        &json!({"AttachmentContent": {
        "Content": base64::engine::general_purpose::STANDARD.encode(&bytes)}}),
    );
    let content_ref = content.json().unwrap()["CreateResult"]["Object"]["_ref"]
        .as_str()
        .unwrap()
        .to_string();
    let wrong_size = post(
        &sim,
        "/attachment/create",
        &json!({"Attachment": {
        "Name": "shot.png", "Content": content_ref, "ContentType": "image/png", "Size": 3, "TestCaseResult": result_ref}}),
    );
    assert!(
        wrong_size.json().unwrap()["CreateResult"]["Errors"][0]
            .as_str()
            .unwrap()
            .contains("Size")
    );
    let att = post(
        &sim,
        "/attachment/create",
        &json!({"Attachment": {
        "Name": "shot.png", "Content": content_ref, "ContentType": "image/png", "Size": bytes.len(), "TestCaseResult": result_ref}}),
    );
    assert_eq!(att.json().unwrap()["CreateResult"]["Errors"], json!([]));
    let results = sim.results();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].test_case, "TC5");
    assert_eq!(results[0].verdict, "Fail");
    assert_eq!(
        results[0].test_set.as_deref(),
        Some("Sprint-14-Automated-Tests")
    );
    assert_eq!(
        results[0].attachments,
        vec![("shot.png".to_string(), 16, "image/png".to_string())]
    );
    assert_eq!(results[0].duration, Some(json!(1.25)));
    let types: Vec<String> = sim.ledger().iter().map(|e| e.type_name.clone()).collect();
    assert_eq!(
        types,
        vec![
            "TestSet",
            "TestCaseResult",
            "AttachmentContent",
            "Attachment"
        ]
    );
    // Rally keeps the last verdict on the test case.
    let tc_now = get(&sim, &format!("{tc}?fetch=LastVerdict,Results"))
        .json()
        .unwrap();
    assert_eq!(tc_now["TestCase"]["LastVerdict"], "Fail");
    assert_eq!(tc_now["TestCase"]["Results"]["Count"], 1);
    // A missing object.
    let gone = get(&sim, "/testcase/999999").json().unwrap();
    assert_eq!(
        gone["OperationResult"]["Errors"][0],
        "Cannot find object to read"
    );
}

#[test]
fn faults_bursts_throttles_drops_and_lost_answers() {
    let sim = RallySim::start();
    sim.faults().fail_next(2, 503);
    assert_eq!(get(&sim, "/testcase").status, 503);
    assert_eq!(get(&sim, "/testcase").status, 503);
    assert_eq!(get(&sim, "/testcase").status, 200);
    sim.faults().throttle_next(1, 7);
    let r = get(&sim, "/testcase");
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("7"));
    sim.faults().drop_next(1);
    let url = format!("{}/testcase", sim.wsapi_url());
    assert!(request("GET", &url, &[("ZSESSIONID", sim.api_key())], None).is_err());
    sim.faults().slow_next(1, Duration::from_millis(300));
    let t = Instant::now();
    assert_eq!(get(&sim, "/testcase").status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    // The create happens but the answer is lost: the ledger has it.
    let tc = sim.add_test_case("TC9", "Nine", None);
    sim.faults().add(
        FaultKind::DropAfterApply,
        Match::path("testcaseresult/create"),
        1,
    );
    let body = serde_json::to_vec(&json!({"TestCaseResult": {
        "TestCase": tc, "Build": "1", "Date": "2024-05-01T10:00:00Z", "Verdict": "Pass"}}))
    .unwrap();
    let create = format!("{}/testcaseresult/create", sim.wsapi_url());
    assert!(
        request(
            "POST",
            &create,
            &[("ZSESSIONID", sim.api_key())],
            Some(&body)
        )
        .is_err()
    );
    assert_eq!(sim.created("TestCaseResult").len(), 1);
    assert_eq!(sim.faults().fired().len(), 6);
    let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![503, 503, 200, 429, 0, 200, 0]);
}

fn result_entry(tc: &str, build: &str, verdict: &str) -> Value {
    json!({"Entry": {
        "Path": "/testcaseresult/create?fetch=ObjectID",
        "Method": "POST",
        "Body": {"TestCaseResult": {
            "TestCase": tc, "Build": build, "Date": "2024-05-01T10:00:00Z", "Verdict": verdict}}
    }})
}

#[test]
fn batches_apply_each_entry_like_its_own_request() {
    let sim = RallySim::start();
    let a = sim.add_test_case("TC1", "One", None);
    let b = sim.add_test_case("TC2", "Two", None);
    let r = post(
        &sim,
        "/batch",
        &json!({"Batch": [
            result_entry(&a, "b1", "Pass"),
            // Refused like the single create refuses it; the others still apply.
            result_entry(&b, "b1", "Passed"),
            result_entry(&b, "b1", "Fail"),
        ]}),
    );
    assert_eq!(r.status, 200);
    let v = r.json().unwrap();
    let br = &v["BatchResult"];
    let results = br["Results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for i in [0, 2] {
        assert!(results[i]["ObjectID"].as_u64().is_some(), "{}", results[i]);
        assert!(
            results[i]["_ref"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{}/testcaseresult/", sim.wsapi_url()))
        );
    }
    assert!(results[1].get("ObjectID").is_none());
    let entry_errors = results[1]["Errors"].as_array().unwrap();
    assert!(entry_errors[0].as_str().unwrap().contains("Verdict"));
    let errors = br["Errors"].as_array().unwrap();
    assert_eq!(errors.len(), entry_errors.len());
    assert!(errors[0].as_str().unwrap().starts_with("Entry 1: "));
    // The single create says the same.
    let single = post(
        &sim,
        "/testcaseresult/create",
        &json!({"TestCaseResult": {
            "TestCase": b, "Build": "b1", "Date": "2024-05-01T10:00:00Z", "Verdict": "Passed"}}),
    );
    assert_eq!(
        single.json().unwrap()["CreateResult"]["Errors"][0],
        entry_errors[0]
    );
    let records = sim.results();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].test_case, "TC1");
    assert_eq!(records[1].verdict, "Fail");
}

#[test]
fn batches_are_limited_authenticated_and_hit_by_faults() {
    let sim = RallySim::start();
    let tc = sim.add_test_case("TC1", "One", None);
    let too_many: Vec<Value> = (0..101).map(|_| result_entry(&tc, "b", "Pass")).collect();
    let r = post(&sim, "/batch", &json!({"Batch": too_many}));
    let v = r.json().unwrap();
    assert!(
        v["BatchResult"]["Errors"][0]
            .as_str()
            .unwrap()
            .contains("at most 100"),
        "{v}"
    );
    assert!(sim.results().is_empty());
    let not_a_batch = post(&sim, "/batch", &json!({"TestCaseResult": {}}));
    assert!(!not_a_batch.json().unwrap()["BatchResult"]["Errors"][0].is_null());
    // A bad key: 401, nothing applied.
    let url = format!("{}/batch", sim.wsapi_url());
    let body = serde_json::to_vec(&json!({"Batch": [result_entry(&tc, "b", "Pass")]})).unwrap();
    let r = request("POST", &url, &[("ZSESSIONID", "wrong")], Some(&body)).unwrap();
    assert_eq!(r.status, 401);
    // Basic auth without the security token: refused as a whole.
    let s = sim.seeded().clone();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.username, s.password))
    );
    let r = request("POST", &url, &[("Authorization", &basic)], Some(&body)).unwrap();
    assert_eq!(
        r.json().unwrap()["BatchResult"]["Errors"][0],
        "Not authorized to perform action: Invalid key"
    );
    assert!(sim.results().is_empty());
    // Applied, then the answer lost: every entry is in the ledger.
    sim.faults()
        .add(FaultKind::DropAfterApply, Match::path("/batch"), 1);
    let two = serde_json::to_vec(&json!({"Batch": [
        result_entry(&tc, "b", "Pass"), result_entry(&tc, "b", "Fail")]}))
    .unwrap();
    assert!(request("POST", &url, &[("ZSESSIONID", sim.api_key())], Some(&two)).is_err());
    assert_eq!(sim.results().len(), 2);
    // 503 and 429: not applied.
    sim.faults().fail_next(1, 503);
    let r = request("POST", &url, &[("ZSESSIONID", sim.api_key())], Some(&two)).unwrap();
    assert_eq!(r.status, 503);
    sim.faults().throttle_next(1, 2);
    let r = request("POST", &url, &[("ZSESSIONID", sim.api_key())], Some(&two)).unwrap();
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("2"));
    assert_eq!(sim.results().len(), 2);
}
