//! `tmbridge bridge requirements --watch` against the Rally and qTest simulators,
//! killed with SIGKILL at many moments (inside a Rally poll, inside the qTest step,
//! while the Rally test case is made, while sleeping) and started again, with lost
//! answers on both sides: every story becomes one requirement that follows its
//! edits, a qTest test case linked to two imported stories becomes exactly one
//! Rally test case on the first of them, found by its qTest page, and a pass with
//! nothing new changes nothing.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tmbridge_simulators::client;
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
    let dir =
        std::env::temp_dir().join(format!("tmbridge-e2e-bridge-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Dir(dir)
}

fn config(dir: &Path, rally: &RallySim, qtest: &QtestSim) -> PathBuf {
    let text = format!(
        r#"[rally]
url = "{}"
api_key_env = "BRIDGE_RALLY_KEY"
workspace = "{}"
project = "{}"

[qtest]
url = "{}"
project_id = {}
token_env = "BRIDGE_QTEST_TOKEN"

[bridge.fields]
ScheduleState = "Schedule State"
"#,
        rally.url(),
        rally.seeded().workspace,
        rally.seeded().project,
        qtest.url(),
        qtest.project_id(),
    );
    let path = dir.join("tmbridge.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn bridge(rally: &RallySim, qtest: &QtestSim, cfg: &Path, dir: &Path) -> Command {
    let mut command = bridge_as(rally, qtest, cfg, dir);
    command.args(["--format", "json"]);
    command
}

fn bridge_as(rally: &RallySim, qtest: &QtestSim, cfg: &Path, dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tmbridge"));
    command
        .args(["bridge", "requirements", "--config"])
        .arg(cfg)
        .arg("--state")
        .arg(dir.join("bridge.json"))
        .args(["--timeout", "5"])
        .env("BRIDGE_RALLY_KEY", rally.api_key())
        .env("BRIDGE_QTEST_TOKEN", qtest.token())
        .env_remove("TMBRIDGE_QTEST_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn watch(rally: &RallySim, qtest: &QtestSim, cfg: &Path, dir: &Path) -> Command {
    let mut command = bridge(rally, qtest, cfg, dir);
    command
        .args(["--watch", "--interval", "100ms"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// One whole pass; its JSON line.
fn pass(mut command: Command) -> serde_json::Value {
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("not one JSON line a pass: {stdout:?}: {e}"))
}

/// Changes a story through WSAPI, as a person editing it in Rally would.
fn edit(rally: &RallySim, story: &str, fields: serde_json::Value) {
    let body = serde_json::json!({ "HierarchicalRequirement": fields }).to_string();
    let answer = client::request(
        "POST",
        &format!("{}{story}", rally.wsapi_url()),
        &[
            ("ZSESSIONID", rally.api_key()),
            ("Content-Type", "application/json"),
        ],
        Some(body.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
}

fn kill_after(mut child: Child, ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
    let _ = child.kill(); // SIGKILL: no chance to tidy up
    let _ = child.wait();
}

/// The qTest requirement of a story.
fn requirement_of(qtest: &QtestSim, id: &str) -> Vec<tmbridge_simulators::qtest::Requirement> {
    qtest
        .requirements()
        .into_iter()
        .filter(|r| r.name.starts_with(&format!("{id}: ")))
        .collect()
}

fn text(rally: &RallySim, reference: &str, field: &str) -> String {
    rally.object(reference).unwrap()[field]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn stories_and_linked_cases_cross_once_through_kills_and_lost_answers() {
    let rally = RallySim::start();
    let qtest = QtestSim::start();
    qtest.add_requirement_field("Schedule State");
    let dir = temp_dir("watch");
    let cfg = config(&dir.0, &rally, &qtest);
    // A requirement made whose answer is lost; a module made whose answer is lost (armed first: a request
    // takes the first fault that matches it).
    qtest.faults().add(
        FaultKind::DropAfterApply,
        Match::method_and_path("POST", "/requirements"),
        1,
    );
    qtest.faults().add(
        FaultKind::DropAfterApply,
        Match::method_and_path("POST", "/modules"),
        1,
    );
    // Slow answers on both sides, so that kills land inside each step.
    rally.faults().add(
        FaultKind::Slow(Duration::from_millis(80)),
        Match::path("hierarchicalrequirement"),
        10_000,
    );
    qtest.faults().add(
        FaultKind::Slow(Duration::from_millis(40)),
        Match::path("requirements"),
        10_000,
    );
    let mut stories = Vec::new();
    for (round, delay) in [70u64, 260, 30, 420, 180].iter().enumerate() {
        stories.push(rally.add_user_story(
            &format!("US{}", round + 1),
            &format!("Story {}", round + 1),
            None,
        ));
        if round > 0 {
            edit(
                &rally,
                &stories[round - 1],
                serde_json::json!({"Name": format!("Story {round} (edited)")}),
            );
        }
        kill_after(watch(&rally, &qtest, &cfg, &dir.0).spawn().unwrap(), *delay);
    }
    pass(bridge(&rally, &qtest, &cfg, &dir.0));

    // A tester links one qTest test case to US2, then to US1.
    let case = qtest.add_case("Pays by card");
    let us2 = requirement_of(&qtest, "US2")[0].id;
    let us1 = requirement_of(&qtest, "US1")[0].id;
    qtest.link_requirement(us2, case);
    qtest.link_requirement(us1, case);
    // The Rally test case is made, and the answer is lost.
    rally.faults().add(
        FaultKind::DropAfterApply,
        Match::method_and_path("POST", "/testcase/create"),
        1,
    );
    edit(
        &rally,
        &stories[2],
        serde_json::json!({"ScheduleState": "Completed"}),
    );
    for delay in [150u64, 40, 330, 600] {
        kill_after(watch(&rally, &qtest, &cfg, &dir.0).spawn().unwrap(), delay);
    }
    pass(bridge(&rally, &qtest, &cfg, &dir.0));

    // Each story is one requirement, with its latest name and field, and a link back.
    for (i, story) in stories.iter().enumerate() {
        let id = format!("US{}", i + 1);
        let found = requirement_of(&qtest, &id);
        assert_eq!(found.len(), 1, "{id}: {found:?}");
        let r = &found[0];
        assert_eq!(r.name, format!("{id}: {}", text(&rally, story, "Name")));
        assert_eq!(
            qtest.requirement_value(r.id, "Schedule State"),
            Some(text(&rally, story, "ScheduleState"))
        );
        let oid = story.rsplit('/').next().unwrap();
        let link = qtest.requirement_value(r.id, "Description").unwrap();
        assert!(
            link.contains(&format!("/#/detail/userstory/{oid}")),
            "{link}"
        );
    }
    assert_eq!(qtest.created("requirement").len(), stories.len());
    assert_eq!(qtest.created("module").len(), 1);
    assert_eq!(
        qtest.modules()[0].1,
        "Imported from Rally",
        "the default module"
    );

    // One Rally test case, on the first story, found by its qTest page.
    let web_url = qtest.case_web_url(case);
    let made = rally.find("testcase", "Name", "Pays by card");
    assert_eq!(made.len(), 1, "{made:?}");
    let tc = rally.object(&made[0]).unwrap();
    assert_eq!(tc["WorkProduct"].as_str(), Some(stories[1].as_str()));
    assert!(tc["Description"].as_str().unwrap().contains(&web_url));
    let query = format!("(Description contains \"{web_url}\")");
    let answer = client::request(
        "GET",
        &format!(
            "{}/testcase?query={}&fetch=FormattedID",
            rally.wsapi_url(),
            tmbridge_core::sync::qtest::api::encode(&query)
        ),
        &[("ZSESSIONID", rally.api_key())],
        None,
    )
    .unwrap();
    let found: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(found["QueryResult"]["TotalResultCount"], 1, "{found}");

    // The lost answers did happen.
    let lost = |path: &str| {
        qtest
            .requests()
            .iter()
            .any(|r| r.fault == Some(FaultKind::DropAfterApply) && r.path.ends_with(path))
    };
    assert!(lost("/requirements") && lost("/modules"));
    assert!(rally.requests().iter().any(|r| {
        r.fault == Some(FaultKind::DropAfterApply) && r.path.ends_with("/testcase/create")
    }));

    // Nothing new: a pass reads nothing, changes nothing.
    let ledger = qtest.ledger().len();
    let out = pass(bridge(&rally, &qtest, &cfg, &dir.0));
    assert_eq!(out["stories"], 0, "{out}");
    assert_eq!(qtest.ledger().len(), ledger);
    assert_eq!(rally.find("testcase", "Name", "Pays by card").len(), 1);

    // One story on demand: read again, found unchanged, the cursor stays.
    let state_before: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.0.join("bridge.json")).unwrap()).unwrap();
    let mut one = bridge(&rally, &qtest, &cfg, &dir.0);
    one.args(["--story", "US3"]);
    let out = pass(one);
    assert_eq!(out["stories"], 1, "{out}");
    assert_eq!(out["requirements"][0]["formatted_id"], "US3");
    assert_eq!(out["requirements"][0]["action"], "unchanged");
    let state_after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.0.join("bridge.json")).unwrap()).unwrap();
    assert_eq!(state_before["since"], state_after["since"]);
    assert_eq!(qtest.ledger().len(), ledger);
}

#[test]
fn a_missing_qtest_field_and_missing_secrets_are_usage_errors() {
    let rally = RallySim::start();
    let qtest = QtestSim::start();
    let dir = temp_dir("usage");
    let cfg = config(&dir.0, &rally, &qtest);
    rally.add_user_story("US1", "Story 1", None);
    // No "Schedule State" requirement field in the qTest project.
    let out = bridge(&rally, &qtest, &cfg, &dir.0).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("bridge.no_such_field"), "{stdout}");
    assert!(qtest.created("requirement").is_empty());
    // The story waits in the state for the next pass.
    let state = std::fs::read_to_string(dir.0.join("bridge.json")).unwrap();
    assert!(state.contains("US1"), "{state}");

    let out = bridge(&rally, &qtest, &cfg, &dir.0)
        .env_remove("BRIDGE_QTEST_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no qTest token"), "{stderr}");
    assert!(!stderr.contains(rally.api_key()));
}

#[test]
fn a_case_rally_refuses_is_kept_with_the_reason_and_the_others_go_on() {
    let rally = RallySim::start();
    let qtest = QtestSim::start();
    qtest.add_requirement_field("Schedule State");
    let dir = temp_dir("refused");
    let cfg = config(&dir.0, &rally, &qtest);
    rally.add_user_story("US1", "Story 1", None);
    pass(bridge(&rally, &qtest, &cfg, &dir.0));
    // Someone adds a requirement by hand in the module, for a story Rally does not have.
    let module = qtest.modules()[0].0;
    let answer = client::request(
        "POST",
        &format!(
            "{}/api/v3/projects/{}/requirements?parentId={module}",
            qtest.url(),
            qtest.project_id()
        ),
        &[
            ("Authorization", &format!("Bearer {}", qtest.token())),
            ("Content-Type", "application/json"),
        ],
        Some(br#"{"name": "US404: not in Rally", "properties": []}"#),
    )
    .unwrap();
    assert_eq!(answer.status, 200);
    let ghost = requirement_of(&qtest, "US404")[0].id;
    let refunds = qtest.add_case("Refunds");
    let pays = qtest.add_case("Pays");
    qtest.link_requirement(ghost, refunds);
    qtest.link_requirement(requirement_of(&qtest, "US1")[0].id, pays);

    let out = bridge(&rally, &qtest, &cfg, &dir.0).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["refused"][0]["qtest_id"], refunds, "{v}");
    assert_eq!(
        v["refused"][0]["error"]["code"], "rally.no_such_story",
        "{v}"
    );
    assert_eq!(v["test_cases"][0]["qtest_id"], pays, "{v}");
    assert_eq!(rally.find("testcase", "Name", "Pays").len(), 1);
    assert!(rally.find("testcase", "Name", "Refunds").is_empty());
    // Not tried again: the next pass is clean.
    let again = pass(bridge(&rally, &qtest, &cfg, &dir.0));
    assert_eq!(again["refused"], serde_json::json!([]));
    let state = std::fs::read_to_string(dir.0.join("bridge.json")).unwrap();
    assert!(state.contains("no user story US404"), "{state}");
    // For people: a line per pass.
    let out = bridge_as(&rally, &qtest, &cfg, &dir.0).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("0 stories from Rally; in qTest: 0 created, 0 updated, 0 unchanged"),
        "{text}"
    );
}
