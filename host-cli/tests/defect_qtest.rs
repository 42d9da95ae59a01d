//! `tmbridge defect submit --qtest-run ID` end to end against the qTest and Rally
//! simulators over real HTTP: a failed run with step logs and files is set up in qTest
//! through its API, a Rally test case (with its user story) holds the qTest test
//! case's address in its Description; the defect arrives in Rally linked to both,
//! with the run's link in its Description and the log's files attached, and a comment
//! on the qTest run links it back. Lost answers send nothing twice.

use base64::Engine;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tmbridge_simulators::client::request;
use tmbridge_simulators::faults::{FaultKind, Match};
use tmbridge_simulators::qtest::QtestSim;
use tmbridge_simulators::rally::RallySim;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> Dir {
    let dir = std::env::temp_dir().join(format!(
        "tmbridge-defect-qtest-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Dir(dir)
}

const SHOT: &[u8] = b"\x89PNG\r\n\x1a\n-a-screenshot-";
const LOG: &[u8] = b"GET /checkout 502\nretrying...\n";

/// Calls the qTest simulator's API with its token.
fn qtest_api(qtest: &QtestSim, method: &str, path: &str, body: Option<Value>) -> Value {
    let url = format!(
        "{}/api/v3/projects/{}/{path}",
        qtest.url(),
        qtest.project_id()
    );
    let auth = format!("Bearer {}", qtest.token());
    let body = body.map(|b| b.to_string());
    let answer = request(
        method,
        &url,
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ],
        body.as_deref().map(str::as_bytes),
    )
    .unwrap();
    assert!(answer.status < 300, "{method} {path}: {}", answer.text());
    answer.json().unwrap()
}

struct FailedRun {
    run: u64,
    case_url: String,
}

/// A test case with steps, a run of it and a failed log with step logs and two
/// files, made through qTest's API as a tester's tools would.
fn failed_run(qtest: &QtestSim, status: &str) -> FailedRun {
    let case = qtest_api(
        qtest,
        "POST",
        "test-cases",
        Some(json!({
            "name": "Checkout rejects an expired card",
            "description": "<p>The shopper sees a clear error &amp; no order is created.</p>",
            "test_steps": [
                {"description": "Open the cart", "expected": "The cart shows one item"},
                {"description": "Pay with an expired card", "expected": "\"Your card has expired\" is shown"}
            ]
        })),
    );
    let case_id = case["id"].as_u64().unwrap();
    let run = qtest_api(
        qtest,
        "POST",
        "test-runs?parentId=0&parentType=root",
        Some(json!({"name": "Checkout rejects an expired card", "test_case": {"id": case_id}})),
    );
    let run_id = run["id"].as_u64().unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    qtest_api(
        qtest,
        "POST",
        &format!("test-runs/{run_id}/auto-test-logs"),
        Some(json!({
            "status": status,
            "exe_start_date": "2026-05-13T10:00:00Z",
            "exe_end_date": "2026-05-13T10:01:00Z",
            "name": "Checkout rejects an expired card",
            "note": "Reproduced twice on Chrome",
            "test_step_logs": [
                {"order": 0, "description": "Open the cart", "expected_result": "The cart shows one item", "actual_result": "One item", "status": "PASS"},
                {"order": 1, "description": "Pay with an expired card", "expected_result": "\"Your card has expired\" is shown", "actual_result": "Spinner for 30 s, then 502", "status": "FAIL"}
            ],
            "attachments": [
                {"name": "checkout.png", "content_type": "image/png", "data": b64(SHOT)},
                {"name": "console.log", "content_type": "text/plain", "data": b64(LOG)}
            ]
        })),
    );
    let case = qtest_api(qtest, "GET", &format!("test-cases/{case_id}"), None);
    FailedRun {
        run: run_id,
        case_url: case["web_url"].as_str().unwrap().to_string(),
    }
}

fn config(dir: &Path, rally: &RallySim, qtest: &QtestSim) -> PathBuf {
    let text = format!(
        "[rally]\nurl = \"{}\"\napi_key_env = \"DQ_RALLY_KEY\"\nworkspace = \"{}\"\nproject = \"{}\"\n\n[qtest]\nurl = \"{}\"\nproject_id = {}\ntoken_env = \"DQ_QTEST_TOKEN\"\n",
        rally.url(),
        rally.seeded().workspace,
        rally.seeded().project,
        qtest.url(),
        qtest.project_id()
    );
    let path = dir.join("tmbridge.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn settings(dir: &Path, rally: &RallySim) -> PathBuf {
    let form = json!({
        "hidden": ["SubmittedBy", "Owner", "Workspace", "Iteration", "Release"],
        "allowed_values": {"Project": [{"value": "Web Team", "reference": rally.seeded().project}]},
        "rules": [{"field": "Name", "template": "{test_case.name}"}],
        "defaults": {"Project": rally.seeded().project, "Environment": "Test", "State": "Submitted", "ScheduleState": "Defined"}
    });
    let path = dir.join("form.json");
    std::fs::write(&path, form.to_string()).unwrap();
    path
}

fn submit(
    rally: &RallySim,
    qtest: &QtestSim,
    dir: &Path,
    run: u64,
    extra: &[&str],
) -> (Output, String) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/autofill/rally-defect-typedef.json");
    let out = Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(["defect", "submit", "--target", "rally", "--config"])
        .arg(config(dir, rally, qtest))
        .arg("--schema")
        .arg(schema)
        .arg("--settings")
        .arg(settings(dir, rally))
        .args(["--qtest-run", &run.to_string(), "--quiet"])
        .args(extra)
        .env("DQ_RALLY_KEY", rally.api_key())
        .env("DQ_QTEST_TOKEN", qtest.token())
        .env_remove("TMBRIDGE_QTEST_TOKEN")
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, said)
}

fn defects(rally: &RallySim) -> Vec<String> {
    rally.find("defect", "Name", "Checkout rejects an expired card")
}

#[test]
fn a_failed_qtest_run_becomes_a_linked_defect_with_its_files_once() {
    let rally = RallySim::start();
    let qtest = QtestSim::start();
    let dir = temp_dir("linked");
    let failed = failed_run(&qtest, "FAIL");
    let story = rally.add_user_story("US77", "Pay by card at checkout", None);
    // The bridge writes the qTest case's address into the Rally case's Description as
    // rich text, `&` escaped.
    let case = rally.insert(
        "testcase",
        json!({
            "FormattedID": "TC77", "Name": "Checkout rejects an expired card",
            "Project": rally.seeded().project, "Workspace": rally.seeded().workspace,
            "WorkProduct": story,
            "Description": format!("From qTest: <a href=\"{0}\">{0}</a>", failed.case_url.replace('&', "&amp;")),
        }),
    );
    rally.insert(
        "testcase",
        json!({"FormattedID": "TC78", "Name": "Another case", "Project": rally.seeded().project,
               "Workspace": rally.seeded().workspace, "Description": "Nothing from qTest"}),
    );
    // The first Attachment create and the first comment lose their answers.
    rally.faults().add(
        FaultKind::DropAfterApply,
        Match {
            method: Some("POST".into()),
            path_contains: Some("/attachment/create".into()),
        },
        1,
    );
    qtest.faults().add(
        FaultKind::DropAfterApply,
        Match {
            method: Some("POST".into()),
            path_contains: Some("/comments".into()),
        },
        1,
    );

    let (out, said) = submit(&rally, &qtest, &dir.0, failed.run, &[]);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("filed DE"), "{said}");
    assert!(said.contains(&format!("test case {case}")), "{said}");
    assert!(said.contains(&format!("user story {story}")), "{said}");
    assert!(
        said.contains("attached checkout.png, console.log"),
        "{said}"
    );
    assert!(
        said.contains(&format!("linked back to qTest test run {}", failed.run)),
        "{said}"
    );

    let found = defects(&rally);
    assert_eq!(found.len(), 1, "{found:?}");
    let defect = rally.object(&found[0]).unwrap();
    assert!(
        defect["TestCase"].as_str().unwrap().ends_with(&case),
        "{defect:?}"
    );
    assert!(
        defect["Requirement"].as_str().unwrap().ends_with(&story),
        "{defect:?}"
    );
    let description = defect["Description"].as_str().unwrap();
    let run_url = format!(
        "{}/p/{}/portal/project#tab=testexecution&amp;object=3&amp;id={}",
        qtest.url(),
        qtest.project_id(),
        failed.run
    );
    assert!(description.contains(&run_url), "{description}");
    assert!(
        description.contains("TR-1 Checkout rejects an expired card"),
        "{description}"
    );

    // Each file once, with its bytes, on the defect.
    let attachments = rally.find("attachment", "Artifact", &found[0]);
    let mut names: Vec<(String, Vec<u8>)> = attachments
        .iter()
        .map(|a| {
            let o = rally.object(a).unwrap();
            (
                o["Name"].as_str().unwrap().to_string(),
                rally.attachment_bytes(a).unwrap(),
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("checkout.png".to_string(), SHOT.to_vec()),
            ("console.log".to_string(), LOG.to_vec())
        ]
    );

    // One comment on the run names the defect and links its Rally page.
    let formatted = defect["FormattedID"].as_str().unwrap().to_string();
    let comments = qtest.comments(failed.run);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(
        comments[0].content.contains(&format!(">{formatted}</a>")),
        "{comments:?}"
    );
    assert!(
        comments[0].content.contains("/#/detail/defect/"),
        "{comments:?}"
    );
}

#[test]
fn without_a_rally_test_case_the_defect_is_filed_alone_and_says_so() {
    let rally = RallySim::start();
    let qtest = QtestSim::start();
    let dir = temp_dir("alone");
    let failed = failed_run(&qtest, "FAIL");
    let (out, said) = submit(&rally, &qtest, &dir.0, failed.run, &[]);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("test case none, user story none"), "{said}");
    assert!(said.contains("no Rally test case holds"), "{said}");
    let found = defects(&rally);
    assert_eq!(found.len(), 1);
    let defect = rally.object(&found[0]).unwrap();
    assert!(
        defect.get("TestCase").is_none_or(Value::is_null),
        "{defect:?}"
    );
    assert_eq!(qtest.comments(failed.run).len(), 1);

    // The same in JSON for scripts: the three reports.
    let (out, said) = submit(&rally, &qtest, &dir.0, failed.run, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["qtest_run"]["report"]["details"]["session"],
        "qtest_failed_run"
    );
    assert_eq!(
        v["defect"]["report"]["warnings"][0]["code"],
        "rally.no_linked_test_case"
    );
    assert_eq!(v["link_back"]["report"]["details"]["existed"], false);
}

#[test]
fn a_passed_run_a_missing_run_or_a_bad_token_send_nothing_to_rally() {
    let rally = RallySim::start();
    let qtest = QtestSim::start();
    let dir = temp_dir("refused");
    let passed = failed_run(&qtest, "PASS");
    let (out, said) = submit(&rally, &qtest, &dir.0, passed.run, &[]);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("passed: there is no failure to file"),
        "{said}"
    );

    let (out, said) = submit(&rally, &qtest, &dir.0, 999_999, &[]);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("has no test run 999999"), "{said}");

    assert!(rally.created("Defect").is_empty());
    assert!(qtest.comments(passed.run).is_empty());
}
