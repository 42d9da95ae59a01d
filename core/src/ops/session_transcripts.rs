//! The session transcripts among the conformance vectors
//! (`tests/vectors/session.replay.*.json`) are live runs against the in-memory fake
//! Rally. Each scenario here runs again and must give exactly the vector's input
//! (start, secrets, feed), and its live steps must equal what `session.replay` gives
//! for that input: a replayed transcript is what a host driving the session sees.
//!
//! `UPDATE_VECTORS=1 cargo test -p tmbridge-core session_transcripts` writes the
//! inputs of changed scenarios (without `expected`); then
//! `UPDATE_VECTORS=1 cargo test -p tmbridge-core --test vectors` writes `expected`.

#[path = "../../tests/support/vector_text.rs"]
#[allow(dead_code)]
mod vector_text;

use crate::session::{Feed, Secrets, SessionHandle};
use crate::sync::gitlab::tests::{FakeGitlab, TOKEN as GITLAB_TOKEN, request as gitlab_request};
use crate::sync::protocol::{HttpRequest, HttpResponse, Method, Step};
use crate::sync::qtest::tests::{
    FakeQtest, Fault as QtestFault, PAY_LOG as QTEST_PAY_LOG, REPORT as QTEST_REPORT,
    TOKEN as QTEST_TOKEN, failed_run_start as qtest_failed_run_start,
    link_defect_start as qtest_link_defect_start, publish_start as qtest_publish_start,
    requirements_fake as qtest_requirements_fake, requirements_start as qtest_requirements_start,
};
use crate::sync::rally::testkit::{BASE, FakeRally, Fault};
use crate::sync::testrail::publish::tests::start as testrail_start;
use crate::sync::testrail::testkit::{
    BASE as TESTRAIL_BASE, FakeTestrail, Fault as TestrailFault, KEY as TESTRAIL_KEY,
    USER as TESTRAIL_USER,
};
use serde::Serialize;
use serde_json::{Value, json};
use std::path::PathBuf;

/// What answers a scenario's requests: the fake Rally or the fake GitLab.
trait Server {
    fn handle(&mut self, req: &HttpRequest) -> HttpResponse;
}

impl Server for FakeRally {
    fn handle(&mut self, req: &HttpRequest) -> HttpResponse {
        FakeRally::handle(self, req)
    }
}

impl Server for FakeQtest {
    fn handle(&mut self, req: &HttpRequest) -> HttpResponse {
        FakeQtest::handle(self, req)
    }
}

impl Server for FakeGitlab {
    fn handle(&mut self, req: &HttpRequest) -> HttpResponse {
        FakeGitlab::handle(self, req)
    }
}

impl Server for FakeTestrail {
    fn handle(&mut self, req: &HttpRequest) -> HttpResponse {
        FakeTestrail::handle(self, req)
    }
}

/// A run the host "crashes" in: after this request is sent (and acted on), before
/// its answer is read, the host saves, resumes and goes on.
struct Crash {
    method: Method,
    path: &'static str,
}

struct Scenario {
    file: &'static str,
    description: &'static str,
    start: Value,
    secrets: Value,
    server: Box<dyn Server>,
    files: Vec<(&'static str, &'static str)>,
    crash: Option<Crash>,
}

#[derive(Serialize)]
struct VectorInput<'a> {
    start: &'a Value,
    secrets: &'a Value,
    feed: &'a [Feed],
}

#[derive(Serialize)]
struct VectorHead<'a> {
    description: &'a str,
    op: &'a str,
    input: VectorInput<'a>,
}

fn config(workspace: &str, project: &str) -> Value {
    json!({"rally": {"url": BASE, "workspace": workspace, "project": project}})
}

fn key(value: &str) -> Value {
    json!({ "api_key": value })
}

fn shop() -> FakeRally {
    let mut r = FakeRally::new();
    let ws = r.add("workspace", json!({"Name": "Shop"}));
    r.add("project", json!({"Name": "Checkout", "Workspace": ws}));
    r
}

const REPORT: &str = r#"<testsuite name="checkout" tests="3" timestamp="2024-05-01T09:58:00">
  <testcase classname="shop.Login" name="TC1 signs in" time="1.25"/>
  <testcase classname="shop.Checkout" name="TC2 pays by card" time="2.5">
    <failure message="expected total 42.00, was 0.00" type="AssertionError">at checkout.pay(checkout.py:88)</failure>
    <system-out>[[ATTACHMENT|logs/pay.log]]</system-out>
  </testcase>
  <testcase classname="shop.Login" name="TC9 signs out"/>
</testsuite>"#;

const PAY_LOG: &str =
    "POST /api/pay -> 502 Bad Gateway\nretrying in 1s\nPOST /api/pay -> 502 Bad Gateway\n";

fn scenarios() -> Vec<Scenario> {
    let connect_start = json!({
        "kind": "rally.connect",
        "input": {"config": config("/workspace/1000", "/project/1001")},
        "options": {"seed": 7}
    });

    let mut publish_rally = FakeRally::new();
    publish_rally.add(
        "iteration",
        json!({"Name": "Sprint 14", "StartDate": "2024-04-22T00:00:00.000Z", "EndDate": "2024-05-05T23:59:59.000Z", "Project": "/project/2"}),
    );
    publish_rally.add(
        "testcase",
        json!({"FormattedID": "TC1", "Name": "signs in"}),
    );
    publish_rally.add(
        "testcase",
        json!({"FormattedID": "TC2", "Name": "pays by card"}),
    );
    // The batch of results is stored, and its answer lost.
    publish_rally.fault(Method::Post, "/batch", Fault::DropAfterApply);
    let cases: Vec<_> = crate::junit::parse(REPORT.as_bytes())
        .map(|r| r.cases().into_iter().cloned().collect())
        .unwrap_or_default();
    let publish_start = json!({
        "kind": "rally.publish",
        "input": {
            "config": config("/workspace/1", "/project/2"),
            "cases": cases,
            "context": {
                "now": "2024-05-01T10:00:00Z",
                "pipeline_id": "981",
                "pipeline_url": "https://gitlab.example.com/shop/web/-/pipelines/981",
                "artifacts": [{"path": "logs/pay.log", "size": PAY_LOG.len()}]
            },
            "cache": {}
        },
        "options": {"seed": 42}
    });

    let mut stories = FakeRally::new();
    stories.max_page = 2;
    for (id, name, state, date) in [
        (
            "US1",
            "Sign in with a passkey",
            "Defined",
            "2024-04-01T00:00:00.000Z",
        ),
        (
            "US2",
            "Pay by card",
            "In-Progress",
            "2024-05-02T08:00:00.000Z",
        ),
        (
            "US3",
            "Pay by invoice",
            "Defined",
            "2024-05-03T09:30:00.000Z",
        ),
        (
            "US4",
            "Sign out everywhere",
            "Defined",
            "2024-05-04T11:15:00.000Z",
        ),
    ] {
        stories.add(
            "hierarchicalrequirement",
            json!({"FormattedID": id, "Name": name, "ScheduleState": state, "LastUpdateDate": date, "Project": "/project/2"}),
        );
    }

    let mut defect_rally = FakeRally::new();
    defect_rally.add(
        "testcase",
        json!({"FormattedID": "TC2", "Name": "pays by card"}),
    );
    defect_rally.add(
        "hierarchicalrequirement",
        json!({"FormattedID": "US2", "Name": "Pay by card"}),
    );

    let mut link_rally = FakeRally::new();
    link_rally.add(
        "hierarchicalrequirement",
        json!({"FormattedID": "US2", "Name": "Pay by card"}),
    );

    let mut schema_rally = FakeRally::new();
    schema_rally.max_page = 2;
    schema_rally.add_defect_type();

    let mut testrail = FakeTestrail::new();
    testrail.page_size = 2;
    testrail.cases.insert(
        101,
        json!({"id": 101, "title": "signs in", "section_id": 10, "suite_id": 1}),
    );
    testrail.fault(
        Method::Get,
        "get_cases",
        TestrailFault::Answer(
            429,
            vec![("Retry-After".into(), "2".into())],
            r#"{"error":"API Rate Limit Exceeded"}"#.into(),
        ),
    );
    let testrail_report = r#"<testsuite name="checkout">
  <testcase classname="shop.Login" name="C101 signs in" time="1.25"/>
  <testcase classname="shop.Checkout" name="pays by card" time="2.5">
    <failure message="expected total 42.00, was 0.00" type="AssertionError">at checkout.pay(checkout.py:88)</failure>
    <system-out>[[ATTACHMENT|logs/pay.log]]</system-out>
  </testcase>
</testsuite>"#;
    let testrail_secrets_json = json!({"username": TESTRAIL_USER, "api_key": TESTRAIL_KEY});

    let mut qtest = FakeQtest::new();
    // A test case's create is applied but its answer lost: looked up, not made twice.
    qtest.fault(Method::Post, "/test-cases", QtestFault::DropAfterApply);
    qtest.fault(Method::Get, "/test-runs?", QtestFault::Throttle);

    let mut failed_run_qtest = FakeQtest::new();
    let failed_run_id = failed_run_qtest.with_failed_run();
    let mut link_qtest = FakeQtest::new();
    link_qtest.with_failed_run();

    vec![
        Scenario {
            file: "session.replay.qtest-connect.json",
            description: "Test a qTest connection: the site answers, the token is good, the project opens and its automation settings map PASS, FAIL and SKIP.",
            start: json!({
                "kind": "qtest.connect",
                "input": {"config": {"qtest": {"url": crate::sync::qtest::tests::SITE, "project_id": crate::sync::qtest::tests::PROJECT}}},
                "options": {"seed": 2}
            }),
            secrets: key(QTEST_TOKEN),
            server: Box::new(FakeQtest::new()),
            files: vec![],
            crash: None,
        },
        Scenario {
            file: "session.replay.qtest-publish.json",
            description: "Publish two tests run in two browsers to qTest: the automation settings checked, the job's test cycle, the modules, a test suite per browser, test cases (one create's answer lost, looked up), test runs (a 429 waited out) and one test log per execution (the failing one with the file its test attached); the host crashes after a test log is sent and resumes without sending it twice.",
            start: qtest_publish_start("2024-05-01T10:00:00Z", QTEST_REPORT),
            secrets: key(QTEST_TOKEN),
            server: Box::new(qtest),
            files: vec![("logs/pay.log", QTEST_PAY_LOG)],
            crash: Some(Crash {
                method: Method::Post,
                path: "/auto-test-logs",
            }),
        },
        Scenario {
            file: "session.replay.qtest-requirements.json",
            description: "Bring Rally stories into qTest as requirements: the requirement fields checked, the module found, US1 (changed in Rally) updated, US2 created (its answer lost, looked up over one-item pages, not made twice), then the qTest test case linked to US1 reported for Rally.",
            start: qtest_requirements_start(),
            secrets: key(QTEST_TOKEN),
            server: Box::new(qtest_requirements_fake()),
            files: vec![],
            crash: None,
        },
        Scenario {
            file: "session.replay.qtest-failed-run.json",
            description: "Read a failed qTest test run for a Rally defect: the run, its test case, its latest test log with step logs, and the log's screenshot downloaded (a binary answer, as body_base64).",
            start: qtest_failed_run_start(failed_run_id),
            secrets: key(QTEST_TOKEN),
            server: Box::new(failed_run_qtest),
            files: vec![],
            crash: None,
        },
        Scenario {
            file: "session.replay.qtest-link-defect.json",
            description: "Link a Rally defect back to the qTest run it was filed from: the run's comments read, then one comment naming and linking the defect; the host crashes after sending it and the resumed session finds it among the comments instead of posting it twice.",
            start: qtest_link_defect_start(failed_run_id),
            secrets: key(QTEST_TOKEN),
            server: Box::new(link_qtest),
            files: vec![],
            crash: Some(Crash {
                method: Method::Post,
                path: "/comments",
            }),
        },
        Scenario {
            file: "session.replay.testrail-connect.json",
            description: "Check a TestRail configuration: the project (single suite), its suite, the section, the statuses with a custom one, and the case and result fields that apply to the project.",
            start: json!({
                "kind": "testrail.connect",
                "input": {"config": {"testrail": {"url": TESTRAIL_BASE, "project_id": "P1", "section_id": 10}}},
                "options": {"seed": 7}
            }),
            secrets: testrail_secrets_json.clone(),
            server: Box::new(FakeTestrail::new()),
            files: vec![],
            crash: None,
        },
        Scenario {
            file: "session.replay.testrail-publish.json",
            description: "Export to TestRail: the project and its metadata, the cases read over pages after a 429 with Retry-After, a new case in a section named after its <testsuite> (C101 matched by its id), a run created with both cases, the results in one batch (the host crashes after sending it; the resumed session finds them by their identity in the comments) and the failed test's log uploaded to its result as multipart form data.",
            start: testrail_start(json!({}), testrail_report),
            secrets: testrail_secrets_json,
            server: Box::new(testrail),
            files: vec![("logs/pay.log", PAY_LOG)],
            crash: Some(Crash {
                method: Method::Post,
                path: "add_results_for_cases",
            }),
        },
        Scenario {
            file: "session.replay.gitlab-reports.json",
            description: "Find a pipeline's test reports: its jobs over two pages, the artifacts archive of each test job (one through a redirect to object storage, without the token), the report files the globs name and the screenshot a report attaches by its runner path; the host crashes after one download and resumes.",
            start: gitlab_request(None),
            secrets: key(GITLAB_TOKEN),
            server: Box::new(FakeGitlab::new()),
            files: vec![],
            crash: Some(Crash {
                method: Method::Get,
                path: "/jobs/1/artifacts",
            }),
        },
        Scenario {
            file: "session.replay.rally-schema.json",
            description: "Load the Defect form's schema from WSAPI v2.0: the type, its Attributes and each drop-down's AllowedValues, each paged separately; the host crashes after one page and resumes.",
            start: json!({
                "kind": "rally.schema",
                "input": {"config": config("/workspace/1", "/project/2"), "request": {"type_name": "Defect"}},
                "options": {"seed": 3}
            }),
            secrets: key("good-key"),
            server: Box::new(schema_rally),
            files: vec![],
            crash: Some(Crash {
                method: Method::Get,
                path: "/attributedefinition/Severity/AllowedValues",
            }),
        },
        Scenario {
            file: "session.replay.rally-connect.json",
            description: "Test the connection with a good API key: the user, the workspace and the project are read and named.",
            start: connect_start.clone(),
            secrets: key("good-key"),
            server: Box::new(shop()),
            files: vec![],
            crash: None,
        },
        Scenario {
            file: "session.replay.rally-connect-unauthorized.json",
            description: "Test the connection with a key Rally refuses (401 with an HTML page): the report says the key is wrong.",
            start: connect_start,
            secrets: key("revoked-key"),
            server: Box::new(shop()),
            files: vec![],
            crash: None,
        },
        Scenario {
            file: "session.replay.rally-publish.json",
            description: "Publish three results: a file read for the attachment, a result whose answer is lost (looked up, not created twice) and a host crash after a request (saved, resumed, nothing repeated).",
            start: publish_start,
            secrets: key("good-key"),
            server: Box::new(publish_rally),
            files: vec![("logs/pay.log", PAY_LOG)],
            crash: Some(Crash {
                method: Method::Post,
                path: "/attachment/create",
            }),
        },
        Scenario {
            file: "session.replay.rally-requirements.json",
            description: "Import user stories by a query written loosely (normalised first), two pages of answers.",
            start: json!({
                "kind": "rally.requirements",
                "input": {
                    "config": config("/workspace/1", "/project/2"),
                    "request": {"query": "Schedule State = Defined", "fields": ["ScheduleState"]}
                },
                "options": {"seed": 3}
            }),
            secrets: key("good-key"),
            server: Box::new(stories),
            files: vec![],
            crash: None,
        },
        Scenario {
            file: "session.replay.rally-defect.json",
            description: "Submit an auto-filled defect linked to its test case and story: FormattedID, name and state come back.",
            start: json!({
                "kind": "rally.defect",
                "input": {
                    "config": config("/workspace/1", "/project/2"),
                    "request": {
                        "payload": {"Defect": {
                            "Name": "Checkout fails with 502",
                            "Description": "Test run: <a href=\"https://gitlab.example.com/shop/web/-/pipelines/981\">#981</a>",
                            "Severity": "Major Problem"
                        }},
                        "test_case": "TC2",
                        "requirement": "US2"
                    }
                },
                "options": {"seed": 5}
            }),
            secrets: key("good-key"),
            server: Box::new(defect_rally),
            files: vec![],
            crash: None,
        },
        Scenario {
            file: "session.replay.rally-link-case.json",
            description: "Create a test case once and link it to its first user story.",
            start: json!({
                "kind": "rally.link_case",
                "input": {
                    "config": config("/workspace/1", "/project/2"),
                    "request": {
                        "name": "pays by card",
                        "stories": ["US2", "US3"],
                        "source_url": "https://gitlab.example.com/shop/web/-/blob/main/tests/test_checkout.py",
                        "source_label": "tests/test_checkout.py"
                    }
                },
                "options": {"seed": 11}
            }),
            secrets: key("good-key"),
            server: Box::new(link_rally),
            files: vec![],
            crash: None,
        },
    ]
}

/// Drives the scenario live; returns its feed and every step it took.
fn run_live(scenario: &mut Scenario) -> (Vec<Feed>, Vec<Step>) {
    let secrets: Secrets = serde_json::from_value(scenario.secrets.clone()).expect("secrets");
    let start = scenario.start.to_string();
    let mut session = SessionHandle::start(start.as_bytes(), &secrets).expect("the session starts");
    let mut crash = scenario.crash.take();
    let (mut feed, mut steps) = (Vec::new(), Vec::new());
    for _ in 0..10_000 {
        let step = session.next();
        steps.push(step.clone());
        match step {
            Step::Send(req) => {
                let answer = scenario.server.handle(&req);
                let crashes = crash
                    .as_ref()
                    .is_some_and(|c| c.method == req.method && req.url.contains(c.path));
                if crashes {
                    crash = None;
                    feed.push(Feed::Resume);
                    let saved = session.save().expect("saved");
                    session = SessionHandle::resume(saved.as_bytes(), &secrets).expect("resumed");
                } else {
                    feed.push(Feed::Answer(answer.clone()));
                    session.receive(req.id, answer).expect("received");
                }
            }
            Step::Read(file) => {
                let text = scenario
                    .files
                    .iter()
                    .find(|(path, _)| *path == file.path)
                    .map(|(_, text)| text.to_string());
                match text {
                    Some(text) => {
                        feed.push(Feed::File(text.clone()));
                        session.provide_file(file.id, Ok(text.into_bytes()))
                    }
                    None => {
                        let why = format!("{}: no such file", file.path);
                        feed.push(Feed::FileError(why.clone()));
                        session.provide_file(file.id, Err(why))
                    }
                }
                .expect("file taken");
            }
            Step::Wait { .. } | Step::Save => {}
            Step::Done(_) => {
                assert!(crash.is_none(), "{}: never crashed", scenario.file);
                return (feed, steps);
            }
        }
    }
    panic!("{}: the session did not finish", scenario.file);
}

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

#[test]
fn the_session_transcripts_are_live_runs_against_the_fake_rally() {
    let update = std::env::var("UPDATE_VECTORS").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for mut scenario in scenarios() {
        let (feed, steps) = run_live(&mut scenario);
        let head = VectorHead {
            description: scenario.description,
            op: "session.replay",
            input: VectorInput {
                start: &scenario.start,
                secrets: &scenario.secrets,
                feed: &feed,
            },
        };
        let compact = serde_json::to_string(&head).expect("serialised");
        let wanted: Value = serde_json::from_str(&compact).expect("JSON");

        // The replay of this feed takes exactly the live steps.
        let replayed: Value = serde_json::from_slice(&super::call(
            "session.replay",
            serde_json::to_string(&wanted["input"])
                .expect("JSON")
                .as_bytes(),
        ))
        .expect("an envelope");
        assert_eq!(replayed["error"], Value::Null, "{}", scenario.file);
        assert_eq!(replayed["ok"]["finished"], json!(true), "{}", scenario.file);
        assert_eq!(
            replayed["ok"]["steps"],
            serde_json::to_value(&steps).expect("JSON"),
            "{}",
            scenario.file
        );

        let path = vectors_dir().join(scenario.file);
        let on_disk: Option<Value> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        let same = on_disk.as_ref().is_some_and(|v| {
            v["input"] == wanted["input"]
                && v["description"] == wanted["description"]
                && v["op"] == wanted["op"]
        });
        if same {
            continue;
        }
        if update {
            let text = format!("{}\n", vector_text::pretty(&compact, 0));
            std::fs::write(&path, text).expect("written");
            eprintln!(
                "wrote {} (now add `expected` with the vectors runner)",
                path.display()
            );
        } else {
            stale.push(scenario.file);
        }
    }
    assert!(
        stale.is_empty(),
        "these transcripts differ from a live run (UPDATE_VECTORS=1 rewrites them): {stale:?}"
    );
}
