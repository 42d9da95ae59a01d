//! `tmbridge publish` end to end against the Rally simulator: every mapped result
//! reaches Rally exactly once, in the sprint's test set, with its attachments, while
//! the simulator answers with 5xx bursts, 429s and lost answers, and while the
//! tmbridge process itself is killed in the middle of a run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use tmbridge_simulators::faults::{FaultKind, Match};
use tmbridge_simulators::rally::RallySim;

const SCREENSHOT: &[u8] = b"\x89PNG\r\n\x1a\nnot really a picture, but bytes all the same";

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> Dir {
    let dir = std::env::temp_dir().join(format!(
        "tmbridge-e2e-publish-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Dir(dir)
}

fn write_config(dir: &Path, rally: &RallySim) -> PathBuf {
    write_config_with(dir, rally, "")
}

/// The config with more `[rally]` lines (`batch_size = 4`).
fn write_config_with(dir: &Path, rally: &RallySim, extra: &str) -> PathBuf {
    let s = rally.seeded();
    let text = format!(
        "[rally]\nurl = \"{}\"\napi_key_env = \"E2E_RALLY_KEY\"\nworkspace = \"{}\"\nproject = \"{}\"\nbuild = \"GitLab-{{pipeline_id}}\"\n{extra}",
        rally.url(),
        s.workspace,
        s.project
    );
    let path = dir.join("tmbridge.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn publish_command(dir: &Path, config: &Path, rally: &RallySim, reports: &[&Path]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tmbridge"));
    cmd.current_dir(dir)
        .args(["publish", "--target", "rally", "--config"])
        .arg(config)
        .arg("--outbox")
        .arg(dir.join("outbox.sqlite3"))
        .args(reports)
        .env("E2E_RALLY_KEY", rally.api_key())
        .env("CI_PIPELINE_ID", "4711")
        .env_remove("RALLY_USERNAME")
        .env_remove("RALLY_PASSWORD");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run tmbridge publish")
}

/// How many TestCaseResults each test case has in Rally.
fn results_per_case(rally: &RallySim) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in rally.results() {
        *out.entry(r.test_case).or_insert(0) += 1;
    }
    out
}

const REPORT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="web" tests="6" failures="1" skipped="1">
    <testcase classname="web.Login" name="TC1 logs in" time="1.5"/>
    <testcase classname="web.Login" name="TC2 rejects a bad password" time="0.25">
      <failure message="expected 401, got 200">AssertionError: expected 401, got 200</failure>
      <system-out>[[ATTACHMENT|shot.png]]</system-out>
    </testcase>
    <testcase classname="web.Cart" name="TC3 empties the cart"><skipped/></testcase>
    <testcase classname="web.Cart" name="TC5 adds an item" time="2"/>
    <testcase classname="web.Misc" name="has no test case id" time="0.1"/>
  </testsuite>
</testsuites>
"#;

/// Two stories of the running sprint with two test cases each, and one test case
/// outside the sprint.
fn seed_sprint(rally: &RallySim) {
    let it = rally.seeded().current_iteration.clone();
    let us1 = rally.add_user_story("US1", "Sign in", Some(&it));
    let us2 = rally.add_user_story("US2", "Cart", Some(&it));
    rally.add_test_case("TC1", "Logs in", Some(&us1));
    rally.add_test_case("TC2", "Rejects a bad password", Some(&us1));
    rally.add_test_case("TC3", "Empties the cart", Some(&us2));
    rally.add_test_case("TC4", "Shows the total", Some(&us2));
    rally.add_test_case("TC5", "Adds an item", None);
}

#[test]
fn every_result_once_in_the_sprint_set_with_attachments_despite_faults() {
    let rally = RallySim::start();
    rally.set_strict_test_set_membership(true);
    seed_sprint(&rally);
    let dir = temp_dir("faults");
    let config = write_config(&dir.0, &rally);
    let report = dir.0.join("junit.xml");
    std::fs::write(&report, REPORT).unwrap();
    std::fs::write(dir.0.join("shot.png"), SCREENSHOT).unwrap();

    // A 5xx burst, two 429s, a batch of creates whose answer is lost after Rally
    // made the records, and an attachment answered with 502 after it was stored.
    rally.faults().fail_next(3, 503);
    rally.faults().throttle_next(2, 1);
    rally
        .faults()
        .add(FaultKind::DropAfterApply, Match::path("/batch"), 1);
    rally.faults().add(
        FaultKind::ErrorAfterApply(502),
        Match::path("attachment/create"),
        1,
    );
    rally
        .faults()
        .add(FaultKind::ServerError(500), Match::path("testset"), 1);

    let out = run(&mut publish_command(&dir.0, &config, &rally, &[&report]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() != Some(2),
        "usage error:\n{stdout}\n{stderr}"
    );
    assert!(
        rally.faults().armed().is_empty(),
        "every fault fired: {:?}",
        rally.faults().armed()
    );

    let per_case = results_per_case(&rally);
    let expected: BTreeMap<String, usize> = [("TC1", 1), ("TC2", 1), ("TC3", 1), ("TC5", 1)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(
        per_case, expected,
        "each mapped result exactly once\n{stdout}\n{stderr}"
    );
    let results = rally.results();
    let by_case = |tc: &str| results.iter().find(|r| r.test_case == tc).unwrap().clone();
    assert_eq!(by_case("TC1").verdict, "Pass");
    assert_eq!(by_case("TC2").verdict, "Fail");
    assert!(
        results.iter().all(|r| r.build == "GitLab-4711"),
        "{results:?}"
    );
    // One sprint test set holding the sprint's stories' cases and every published case.
    let sets = rally.test_sets("Sprint-14-Automated-Tests");
    assert_eq!(sets.len(), 1, "one test set for the sprint");
    let mut members = rally.test_set_members(&sets[0]);
    members.sort();
    assert_eq!(members, vec!["TC1", "TC2", "TC3", "TC4", "TC5"]);
    assert!(
        results
            .iter()
            .all(|r| r.test_set.as_deref() == Some("Sprint-14-Automated-Tests"))
    );
    // The screenshot is attached once, byte for byte.
    let shots = &by_case("TC2").attachments;
    assert_eq!(shots.len(), 1, "{shots:?}");
    assert_eq!(shots[0].0, "shot.png");
    assert_eq!(shots[0].1, SCREENSHOT.len() as u64);
    let attachment_refs: Vec<String> = rally
        .created("Attachment")
        .into_iter()
        .map(|e| e.reference)
        .collect();
    let stored: Vec<String> = attachment_refs
        .into_iter()
        .filter(|r| rally.exists(r))
        .collect();
    assert_eq!(stored.len(), 1, "one Attachment in Rally");
    assert_eq!(rally.attachment_bytes(&stored[0]).unwrap(), SCREENSHOT);
    // The unmapped test is on the review list.
    assert!(
        stdout.contains("has no test case id"),
        "review list:\n{stdout}"
    );

    // Running again sends no new results.
    let again = run(&mut publish_command(&dir.0, &config, &rally, &[&report]));
    assert!(again.status.code() != Some(2));
    assert_eq!(
        results_per_case(&rally),
        expected,
        "a second run adds nothing"
    );
}

/// A report of `n` tests, each naming its own test case `TC101`...
fn big_report(n: usize) -> String {
    let mut xml = String::from("<testsuite name=\"bulk\">\n");
    for i in 0..n {
        xml.push_str(&format!(
            "  <testcase classname=\"bulk.Case\" name=\"TC{} case {i}\" time=\"0.{i}\"/>\n",
            101 + i
        ));
    }
    xml.push_str("</testsuite>\n");
    xml
}

#[test]
fn a_killed_publish_resumes_and_the_ledger_shows_each_result_once() {
    // One create per request, and batches of 4.
    for batch_size in [0, 4] {
        killed_publish_resumes(batch_size);
    }
}

fn killed_publish_resumes(batch_size: u64) {
    let rally = RallySim::start();
    let n = 24;
    for i in 0..n {
        rally.add_test_case(&format!("TC{}", 101 + i), &format!("Case {i}"), None);
    }
    let dir = temp_dir(&format!("crash-{batch_size}"));
    let config = write_config_with(&dir.0, &rally, &format!("batch_size = {batch_size}\n"));
    let report = dir.0.join("bulk.xml");
    std::fs::write(&report, big_report(n)).unwrap();

    // Slow answers make the run long enough to be killed in the middle of it.
    rally.faults().slow_next(10_000, Duration::from_millis(60));
    let mut child = publish_command(&dir.0, &config, &rally, &[&report])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while rally.created("TestCaseResult").len() < 3 && start.elapsed() < Duration::from_secs(60) {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = rally.created("TestCaseResult").len();
    assert!(
        before >= 3 && before < n,
        "killed in the middle: {before} of {n} sent"
    );
    rally.faults().clear();

    let out = run(&mut publish_command(&dir.0, &config, &rally, &[&report]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let per_case = results_per_case(&rally);
    assert_eq!(per_case.len(), n, "{per_case:?}");
    assert!(
        per_case.values().all(|c| *c == 1),
        "each result exactly once: {per_case:?}"
    );
    let ledger = rally.created("TestCaseResult");
    assert_eq!(ledger.len(), n, "the ledger shows each result once");
}

#[test]
fn hundreds_of_results_in_batches_each_once_despite_lost_batch_answers() {
    let rally = RallySim::start();
    let n = 330;
    for i in 0..n {
        rally.add_test_case(&format!("TC{}", 101 + i), &format!("Case {i}"), None);
    }
    let dir = temp_dir("batches");
    // The default batch size (25).
    let config = write_config(&dir.0, &rally);
    let report = dir.0.join("bulk.xml");
    std::fs::write(&report, big_report(n)).unwrap();
    // The third batch is stored and its answer lost; the fifth is answered 502 after
    // it was stored; the seventh meets a 503 before it is applied.
    let batch = || Match::method_and_path("POST", "/batch");
    let faults = rally.faults();
    faults.add(FaultKind::Slow(Duration::ZERO), batch(), 2);
    faults.add(FaultKind::DropAfterApply, batch(), 1);
    faults.add(FaultKind::Slow(Duration::ZERO), batch(), 1);
    faults.add(FaultKind::ErrorAfterApply(502), batch(), 1);
    faults.add(FaultKind::Slow(Duration::ZERO), batch(), 1);
    faults.add(FaultKind::ServerError(503), batch(), 1);

    let out = run(&mut publish_command(&dir.0, &config, &rally, &[&report]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(rally.faults().armed().is_empty(), "every fault fired");
    let per_case = results_per_case(&rally);
    assert_eq!(per_case.len(), n, "{per_case:?}");
    assert!(
        per_case.values().all(|c| *c == 1),
        "each result exactly once: {per_case:?}"
    );
    assert_eq!(
        rally.created("TestCaseResult").len(),
        n,
        "the ledger shows each result once"
    );
    // Sent in batches: far fewer requests than results.
    let requests = rally.requests();
    let batches = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/batch"))
        .count();
    let singles = requests
        .iter()
        .filter(|r| r.path.ends_with("/testcaseresult/create"))
        .count();
    assert_eq!(
        batches,
        n.div_ceil(25) + 1,
        "one batch sent again after the 503"
    );
    assert_eq!(singles, 0, "nothing created one by one");
    assert!(
        requests.len() < n / 3,
        "{} requests for {n} results",
        requests.len()
    );
    assert!(
        stdout.contains("second look"),
        "lost answers found again:\n{stdout}"
    );

    // Running again sends no new results.
    let again = run(&mut publish_command(&dir.0, &config, &rally, &[&report]));
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(rally.created("TestCaseResult").len(), n);
}
