//! `tmbridge map` run as a program over the fixtures in `tests/fixtures/map` and
//! trcli's own reports in `tests/corpus/junit/trcli`.

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Command, Output};

fn path(parts: &[&str]) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), ".."]
        .iter()
        .chain(parts)
        .collect();
    p.to_string_lossy().into_owned()
}

fn fixture(name: &str) -> String {
    path(&["tests", "fixtures", "map", name])
}

const RUN: &[&str] = &[
    "--var",
    "pipeline_id=981",
    "--var",
    "job_id=4242",
    "--var",
    "job_name=e2e:chrome",
    "--var",
    "job_url=https://gitlab.example.com/acme/shop/-/jobs/4242",
    "--var",
    "sprint=14",
    "--var",
    "ref=main",
    "--var",
    "sha=0123456789abcdef",
    "--now",
    "2024-05-01T10:00:00Z",
];

/// Runs `tmbridge map` with no CI variables in the environment.
fn map(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .arg("map")
        .args(args)
        .env_clear()
        .output()
        .expect("the binary runs")
}

fn map_target(target: &str, extra: &[&str]) -> Output {
    let config = fixture(&format!("{target}.toml"));
    let refs = fixture("refs.json");
    let report = fixture("checkout-e2e.xml");
    let mut args = vec!["--target", target, "--config", &config, "--refs", &refs];
    args.extend_from_slice(RUN);
    args.extend_from_slice(extra);
    args.push(&report);
    map(&args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_of(o: &Output) -> Value {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
    serde_json::from_slice(&o.stdout).expect("stdout is JSON")
}

/// A config file in the temp dir, removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str, content: &str) -> Temp {
        let path = std::env::temp_dir().join(format!("tmbridge-map-{}-{name}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        Temp(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn testrail_payload_is_exact() {
    let plan = json_of(&map_target("testrail", &["--format", "json"]));
    assert_eq!(plan["run_id"], 881);
    assert_eq!(plan["suite_id"], 12);
    let results = plan["add_results_for_cases"]["results"].as_array().unwrap();
    let ids: Vec<u64> = results
        .iter()
        .map(|r| r["case_id"].as_u64().unwrap())
        .collect();
    // C101 x, x [C102], [C103, C104] x, x_C105(), C106 x[EU] + C106 x[US] aggregated.
    assert_eq!(ids, [101, 102, 103, 104, 105, 106]);
    assert_eq!(
        results[0],
        json!({"case_id": 101, "status_id": 1,
               "comment": "CI job: https://gitlab.example.com/acme/shop/-/jobs/4242",
               "elapsed": "1s", "version": "shop-981", "defects": null, "custom_browser": "chrome"})
    );
    assert_eq!(
        results[2],
        json!({"case_id": 103, "status_id": 5,
               "comment": "java.lang.AssertionError: expected status 200 but was 502\n\tat com.acme.checkout.PaymentTest.paysByCard(PaymentTest.java:48)\n\nCI job: https://gitlab.example.com/acme/shop/-/jobs/4242",
               "elapsed": "5s", "version": "shop-981", "defects": "SHOP-77", "custom_browser": "chrome"})
    );
    // The error maps to Failed; the parameterised test is aggregated (worst) with both messages.
    assert_eq!(results[4]["status_id"], 5);
    assert_eq!(results[5]["status_id"], 5);
    assert_eq!(results[5]["elapsed"], "1s");
    let comment = results[5]["comment"].as_str().unwrap();
    assert!(
        comment.starts_with("2 results aggregated (worst: failed)"),
        "{comment}"
    );
    assert!(
        comment.contains("shipping cost[EU]: passed")
            && comment.contains("expected 4.99 but was 5.99")
    );
    // The test with no id becomes a new case in the configured section.
    assert_eq!(
        plan["add_cases"],
        json!([{"automation_id": "com.acme.checkout.ShippingTest.express delivery", "indexes": [6],
                "section_id": 240,
                "body": {"title": "express delivery",
                         "custom_automation_id": "com.acme.checkout.ShippingTest.express delivery",
                         "custom_automation_type": 1, "custom_team": "checkout"}}])
    );
    assert_eq!(plan["review"], json!([]));
}

#[test]
fn summary_is_a_table_for_people() {
    let o = map_target("testrail", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.starts_with(
            "TestRail\n  6 results for run R881\n  1 case to create in section 240:\n"
        ),
        "{text}"
    );
    assert!(text.contains("case  status  sent as  tests\n"), "{text}");
    assert!(text.contains("C106  failed  5        com.acme.checkout.ShippingTest.C106 shipping cost[EU] (+1 more)\n"), "{text}");
}

#[test]
fn rally_payload_is_exact() {
    let o = map_target("rally", &["--format", "json"]);
    let plan = json_of(&o);
    assert_eq!(
        plan["test_set"],
        json!({"name": "Sprint-14-Automated-Tests", "ref": "/testset/6014", "create": null})
    );
    let ids: Vec<&str> = plan["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["formatted_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["TC11", "TC12", "TC13", "TC15"]);
    let card = &plan["results"][2];
    assert_eq!(
        card["body"],
        json!({"TestCaseResult": {
            "TestCase": "/testcase/5013", "Build": "shop#981 (01234567)", "Verdict": "Fail",
            "Date": "2024-05-01T10:00:00.000Z", "Duration": "4.5",
            "Notes": "java.lang.AssertionError: expected status 200 but was 502<br/>\tat com.acme.checkout.PaymentTest.paysByCard(PaymentTest.java:48)<br/><br/><a href=\"https://gitlab.example.com/acme/shop/-/jobs/4242\">CI job</a><br/>Artifact: <a href=\"https://gitlab.example.com/acme/shop/-/jobs/4242/artifacts/file/videos/pays-by-card.webm\">pays-by-card.webm</a>",
            "Tester": "/user/3003", "TestSet": "/testset/6014", "Workspace": "/workspace/1001"}})
    );
    // The PNG next to the report (69 bytes) is uploaded; the missing video is linked.
    assert_eq!(
        card["attachments"]["uploads"],
        json!([{"path": "screenshots/pays-by-card.png", "name": "pays-by-card.png", "content_type": "image/png", "size": 69}])
    );
    assert_eq!(
        card["attachments"]["links"][0]["reason"],
        "the host could not find or read the file"
    );
    assert_eq!(
        plan["results"][3]["body"]["TestCaseResult"]["Verdict"],
        "Error"
    );
    // TC14 (the aggregated shipping tests) is not in the ref cache.
    assert_eq!(plan["lookups"], json!(["TC14"]));
    assert_eq!(
        plan["review"][0]["test"],
        "com.acme.checkout.ShippingTest.express delivery"
    );
    assert_eq!(plan["review"][0]["reason"], "no_case_id");
    assert!(
        stderr(&o).contains("TC14 [rally.lookups_needed]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn qtest_payload_is_exact() {
    let plan = json_of(&map_target("qtest", &["--format", "json"]));
    assert_eq!(
        plan["cycle"],
        json!({"name": "e2e:chrome #4242", "parent": "CL-7", "id": "CL-91", "create": null})
    );
    assert_eq!(plan["body"]["test_cycle"], "CL-91");
    let logs = plan["body"]["test_logs"].as_array().unwrap();
    assert_eq!(
        logs.len(),
        7,
        "every test is a log: the automation id always matches"
    );
    assert_eq!(
        logs[0],
        json!({"name": "C101 adds an item to the cart", "status": "PASS",
               "exe_start_date": "2024-05-01T09:59:58.796Z", "exe_end_date": "2024-05-01T10:00:00.000Z",
               "automation_content": "com.acme.checkout.CartTest.C101 adds an item to the cart",
               "module_names": ["Checkout e2e", "com", "acme", "checkout", "CartTest", "chrome"],
               "note": "CI job: https://gitlab.example.com/acme/shop/-/jobs/4242",
               "test_step_logs": [], "attachments": [],
               "properties": [{"field_id": 9011, "field_value": "main"}]})
    );
    let statuses: Vec<&str> = logs.iter().map(|l| l["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        ["PASS", "PASS", "FAIL", "FAIL", "PASS", "FAIL", "SKIP"]
    );
    assert_eq!(logs[2]["attachments"][0]["content_type"], "text/plain");
}

#[test]
fn every_trcli_name_form_from_trclis_own_reports() {
    let config = fixture("testrail.toml");
    for (file, want) in [
        (
            "multiple_case_ids_in_name.xml",
            vec![
                1050389, 1050390, 1050391, 1050392, 1050393, 1050394, 1050395, 1050396, 1050397,
                1050398,
            ],
        ),
        (
            "junit5_parentheses_test.xml",
            vec![120013, 123, 456, 789, 999, 555],
        ),
    ] {
        let report = path(&["tests", "corpus", "junit", "trcli", file]);
        let plan = json_of(&map(&[
            "--target",
            "testrail",
            "--config",
            &config,
            "--format",
            "json",
            "--now",
            "2024-05-01T10:00:00Z",
            "--var",
            "pipeline_id=1",
            &report,
        ]));
        let ids: Vec<u64> = plan["add_results_for_cases"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["case_id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids, want, "{file}");
        assert_eq!(plan["review"], json!([]), "{file}");
        assert_eq!(plan["add_cases"], json!([]), "{file}");
    }
}

#[test]
fn ci_variables_come_from_the_environment() {
    let o = Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args([
            "map",
            "--target",
            "rally",
            "--config",
            &fixture("rally.toml"),
            "--format",
            "json",
        ])
        .args([
            "--now",
            "2024-05-01T10:00:00Z",
            &fixture("checkout-e2e.xml"),
        ])
        .env_clear()
        .env("CI_PIPELINE_ID", "777")
        .env("CI_COMMIT_SHA", "fedcba9876543210")
        .output()
        .unwrap();
    let plan = json_of(&o);
    // No ref cache: every result waits for a lookup, and no sprint means no test set.
    assert_eq!(
        plan["lookups"],
        json!(["TC11", "TC12", "TC13", "TC15", "TC14"])
    );
    assert_eq!(plan["test_set"], Value::Null);
    assert!(stderr(&o).contains("no sprint was given"), "{}", stderr(&o));
    // --var wins over the environment.
    let o = Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args([
            "map",
            "--target",
            "testrail",
            "--config",
            &fixture("testrail.toml"),
            "--format",
            "json",
        ])
        .args(["--var", "pipeline_id=5", &fixture("checkout-e2e.xml")])
        .env_clear()
        .env("CI_PIPELINE_ID", "777")
        .output()
        .unwrap();
    assert_eq!(
        json_of(&o)["add_results_for_cases"]["results"][0]["version"],
        "shop-5"
    );
}

#[test]
fn missing_run_values_are_named() {
    let o = map(&[
        "--target",
        "rally",
        "--config",
        &fixture("rally.toml"),
        &fixture("checkout-e2e.xml"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("needs {pipeline_id}"), "{err}");
    assert!(err.contains("--var pipeline_id=VALUE"), "{err}");
}

#[test]
fn configuration_errors_name_the_key_and_what_is_allowed() {
    let cases = [
        ("[matching]\naggregate = \"best\"\n", "worst"),
        ("[testrail]\nsuite = 3\n", "suite_id"),
        (
            "[testrail]\nsuite_id = \"X9\"\n",
            "`testrail.suite_id`: \"X9\" is not a TestRail suite id",
        ),
        ("[testrail.statuses]\nskipped = 3\n", "Untested"),
        (
            "[testrail.statuses]\nskiped = 4\n",
            "`testrail.statuses.skiped`",
        ),
        ("[rally]\ninline_attachment_max_bytes = 99999999\n", "50 MB"),
        ("[qtest]\nparent_module = \"\"\n", "`qtest.parent_module`"),
    ];
    for (i, (toml, want)) in cases.iter().enumerate() {
        let cfg = Temp::new(&format!("bad{i}.toml"), toml);
        let o = map(&[
            "--target",
            "testrail",
            "--config",
            cfg.path(),
            &fixture("checkout-e2e.xml"),
        ]);
        assert_eq!(o.status.code(), Some(2), "{toml}");
        assert!(stderr(&o).contains(want), "{toml}: {}", stderr(&o));
    }
    let cfg = Temp::new("qtest.toml", "");
    let o = map(&[
        "--target",
        "qtest",
        "--config",
        cfg.path(),
        &fixture("checkout-e2e.xml"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`qtest.test_cycle`"), "{}", stderr(&o));
}

#[test]
fn json_configuration_has_the_same_structure() {
    let cfg = Temp::new(
        "cfg.json",
        r#"{"testrail": {"run_id": "R3", "statuses": {"failed": 4}}}"#,
    );
    let plan = json_of(&map(&[
        "--target",
        "testrail",
        "--config",
        cfg.path(),
        "--format",
        "json",
        &fixture("checkout-e2e.xml"),
    ]));
    assert_eq!(plan["run_id"], 3);
    assert_eq!(plan["add_results_for_cases"]["results"][2]["status_id"], 4);
    // Without a section, the test with no id is reviewed, not created.
    assert_eq!(plan["review"][0]["reason"], "no_case_id");
}

#[test]
fn strict_fails_when_something_is_left_for_review() {
    let o = map_target("rally", &["--strict"]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(text.contains("To review (1 not published):"), "{text}");
    assert!(
        text.contains("express delivery [skipped] no_case_id"),
        "{text}"
    );
    assert_eq!(map_target("testrail", &["--strict"]).status.code(), Some(0));
}

#[test]
fn unreadable_reports_fail() {
    let bad = Temp::new("bad.xml", "<testsuite><testcase name=\"x\">");
    let o = map(&[
        "--target",
        "testrail",
        "--config",
        &fixture("testrail.toml"),
        bad.path(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error:"), "{}", stderr(&o));
    let o = map(&[
        "--target",
        "testrail",
        "--config",
        &fixture("testrail.toml"),
        "no-such-*.xml",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn help_has_examples() {
    let o = map(&["--help"]);
    let text = stdout(&o);
    assert!(
        text.contains("Examples:") && text.contains("--target testrail"),
        "{text}"
    );
}

#[test]
fn more_cases_than_the_bound_are_refused_with_a_clear_error() {
    let within = map_target("testrail", &["--max-cases", "1000"]);
    assert_eq!(within.status.code(), Some(0), "{}", stderr(&within));
    let over = map_target("testrail", &["--max-cases", "2"]);
    assert_eq!(over.status.code(), Some(1), "{}", stdout(&over));
    let said = stderr(&over);
    assert!(said.contains("more than 2 test cases"), "{said}");
    assert!(
        said.contains("junit.too_many_cases") && said.contains("--max-cases"),
        "{said}"
    );
    assert!(
        stdout(&over).is_empty(),
        "a partial plan was printed: {}",
        stdout(&over)
    );
}
