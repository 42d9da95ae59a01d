//! `tmbridge connect` and `tmbridge publish --target qtest` end to end against the
//! qTest simulator: a corpus report of the same tests run in two browsers (saucectl's
//! Cypress report, one suite per browser and spec) is published while the simulator
//! answers with 5xx bursts, 429s and lost answers and while tmbridge is killed part
//! way; then the next run of the same pipeline is published. The ledger shows each
//! test case, cycle, suite and run once, and one test log per execution.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use tmbridge_simulators::faults::{FaultKind, Match};
use tmbridge_simulators::qtest::QtestSim;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> Dir {
    let dir =
        std::env::temp_dir().join(format!("tmbridge-e2e-qtest-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Dir(dir)
}

/// saucectl's Cypress report: two specs, each run in Firefox and in Chrome.
fn corpus_report() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/junit/trcli/sauce.xml")
}

fn write_config(dir: &Path, qtest: &QtestSim) -> PathBuf {
    let text = format!(
        "[qtest]\nurl = \"{}\"\nproject_id = {}\ntoken_env = \"E2E_QTEST_TOKEN\"\nmodule_path = \"classname\"\ncycle_name = \"{{job_name}}\"\nsuite_names = [\"Chrome\", \"Firefox\"]\n",
        qtest.url(),
        qtest.project_id()
    );
    let path = dir.join("tmbridge.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn tmbridge(dir: &Path, token: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tmbridge"));
    cmd.current_dir(dir)
        .env("E2E_QTEST_TOKEN", token)
        .env_remove("TMBRIDGE_QTEST_TOKEN")
        .env("CI_JOB_NAME", "cypress-e2e")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn publish(dir: &Path, config: &Path, qtest: &QtestSim, pipeline: &str, now: &str) -> Command {
    let mut cmd = tmbridge(dir, &qtest.token());
    cmd.args(["publish", "--target", "qtest", "--config"])
        .arg(config)
        .arg("--outbox")
        .arg(dir.join("outbox.sqlite3"))
        .args(["--now", now, "--seed", "7"])
        .arg(corpus_report())
        .env("CI_PIPELINE_ID", pipeline)
        .env("CI_JOB_ID", format!("{pipeline}01"));
    cmd
}

fn output(cmd: &mut Command) -> Output {
    cmd.output().expect("run tmbridge")
}

/// How many ledger entries of each kind.
fn counts(qtest: &QtestSim) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for e in qtest.ledger() {
        *out.entry(e.kind).or_insert(0) += 1;
    }
    out
}

fn kill_part_way(mut cmd: Command, qtest: &QtestSim) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while qtest.created("test-log").is_empty() && start.elapsed() < Duration::from_secs(60) {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // SIGKILL: no chance to tidy up.
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn two_runs_of_a_multi_browser_pipeline_reach_qtest_once_each_despite_faults_and_kill_9() {
    let qtest = QtestSim::start();
    let dir = temp_dir("pipeline");
    let config = write_config(&dir.0, &qtest);

    // Run 1: faults all along, and the process is killed after its first test log.
    qtest.faults().fail_next(2, 503);
    qtest.faults().throttle_next(1, 1);
    qtest.faults().add(
        FaultKind::DropAfterApply,
        Match::method_and_path("POST", "/test-cycles"),
        1,
    );
    qtest.faults().add(
        FaultKind::DropAfterApply,
        Match::method_and_path("POST", "/test-cases"),
        1,
    );
    qtest.faults().add(
        FaultKind::ErrorAfterApply(502),
        Match::method_and_path("POST", "/test-runs"),
        1,
    );
    qtest.faults().add(
        FaultKind::DropAfterApply,
        Match::method_and_path("POST", "/auto-test-logs"),
        1,
    );
    qtest.faults().add(
        FaultKind::Drop,
        Match::method_and_path("GET", "/test-logs"),
        1,
    );
    qtest.faults().slow_next(10_000, Duration::from_millis(40));
    kill_part_way(
        publish(&dir.0, &config, &qtest, "4711", "2026-03-02T10:00:00Z"),
        &qtest,
    );
    let logs_before = qtest.created("test-log").len();
    assert!(
        (1..4).contains(&logs_before),
        "killed part way: {logs_before} of 4 logs sent"
    );
    qtest.faults().clear();
    qtest.faults().fail_next(1, 500);
    qtest.faults().add(
        FaultKind::DropAfterApply,
        Match::method_and_path("POST", "/auto-test-logs"),
        1,
    );
    let out = output(&mut publish(
        &dir.0,
        &config,
        &qtest,
        "4711",
        "2026-03-02T10:00:00Z",
    ));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("resumed"), "{stdout}");
    let first = counts(&qtest);
    let expected_first: BTreeMap<String, usize> = [
        ("module", 2),
        ("test-case", 2),
        ("test-cycle", 1),
        ("test-suite", 2),
        ("test-run", 4),
        ("test-log", 4),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_string(), n))
    .collect();
    assert_eq!(first, expected_first, "{stdout}");
    assert!(
        !qtest.faults().fired().is_empty() && qtest.faults().armed().is_empty(),
        "the faults were hit"
    );

    // Run 2 of the same pipeline, later: the same cases, cycle, suites and runs,
    // one more log per execution.
    qtest.faults().throttle_next(1, 1);
    qtest.faults().add(
        FaultKind::DropAfterApply,
        Match::method_and_path("POST", "/auto-test-logs"),
        1,
    );
    let out = output(&mut publish(
        &dir.0,
        &config,
        &qtest,
        "4712",
        "2026-03-02T12:00:00Z",
    ));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let second = counts(&qtest);
    for kind in [
        "module",
        "test-case",
        "test-cycle",
        "test-suite",
        "test-run",
    ] {
        assert_eq!(
            second[kind], first[kind],
            "{kind}: no duplicate on the second run"
        );
    }
    assert_eq!(second["test-log"], 8, "one log per execution");

    // What qTest holds: two suites named by browser, each run with two logs, the
    // failed Chrome run's logs mapped to Failed with the failure attached.
    let suites: Vec<String> = qtest.suites().into_iter().map(|s| s.1).collect();
    assert_eq!(suites, ["Firefox", "Chrome"]);
    let mut per_run: BTreeMap<u64, usize> = BTreeMap::new();
    for log in qtest.logs() {
        *per_run.entry(log.run_id).or_insert(0) += 1;
    }
    assert_eq!(per_run.len(), 4);
    assert!(per_run.values().all(|n| *n == 2), "{per_run:?}");
    let failed: Vec<_> = qtest
        .logs()
        .into_iter()
        .filter(|l| l.status == "Failed")
        .collect();
    assert_eq!(
        failed.len(),
        2,
        "Component 1 failed in Chrome, in both runs"
    );
    assert!(failed.iter().all(|l| l.attachments.len() == 1));
    let cycles = qtest.cycles();
    assert_eq!(cycles.len(), 1);
    assert_eq!(cycles[0].1, "cypress-e2e");
    let ledger: serde_json::Value =
        tmbridge_simulators::request("GET", &format!("{}/__sim/ledger", qtest.url()), &[], None)
            .unwrap()
            .json()
            .unwrap();
    assert_eq!(ledger.as_array().unwrap().len(), qtest.ledger().len());
}

#[test]
fn connect_names_what_is_wrong_and_the_token_is_never_printed() {
    let qtest = QtestSim::start();
    let dir = temp_dir("connect");
    let config = write_config(&dir.0, &qtest);
    let connect = |token: &str| {
        let mut cmd = tmbridge(&dir.0, token);
        cmd.args(["connect", "--target", "qtest", "--config"])
            .arg(&config);
        output(&mut cmd)
    };
    let ok = connect(&qtest.token());
    let text = String::from_utf8_lossy(&ok.stdout).to_string();
    assert_eq!(ok.status.code(), Some(0), "{text}");
    assert!(text.contains("OK: every check passed"), "{text}");
    assert!(!text.contains(&qtest.token()));

    let expired = connect(&qtest.expired_token());
    assert_eq!(expired.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&expired.stdout).contains("qtest.token_expired"));

    qtest.set_automation(false);
    let off = connect(&qtest.token());
    let text = String::from_utf8_lossy(&off.stdout).to_string();
    assert_eq!(off.status.code(), Some(2), "{text}");
    assert!(
        text.contains("qtest.automation_off") && text.contains("Activate Automation Integration"),
        "{text}"
    );

    // Publishing with automation off sends nothing and says how to switch it on.
    let out = output(&mut publish(
        &dir.0,
        &config,
        &qtest,
        "1",
        "2026-03-02T10:00:00Z",
    ));
    assert_eq!(out.status.code(), Some(1));
    assert!(qtest.ledger().is_empty());

    // A dry run shows the requests with the token masked.
    let mut dry = tmbridge(&dir.0, &qtest.token());
    dry.args(["publish", "--target", "qtest", "--dry-run", "--config"])
        .arg(&config)
        .arg(corpus_report());
    let out = output(&mut dry);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("Authorization: Bearer ***"), "{text}");
    assert!(text.contains("/auto-test-logs"), "{text}");
    assert!(!text.contains(&qtest.token()));
    assert!(qtest.ledger().is_empty(), "a dry run sends nothing");
}
