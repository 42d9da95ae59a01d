//! `tmbridge publish --target testrail` end to end against the TestRail simulator:
//! cases created once (a section per `<testsuite>`), updated when their mapped
//! fields change, results once per run, attachments uploaded once, while the
//! simulator answers with 5xx, 429 and lost answers and while tmbridge is killed;
//! toggles and scope honoured; the export switching itself off on 401 and back on.
//!
//! Each scenario runs for every input format in [`inputs`]: another format (an
//! allure-results folder) is one more entry there.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use tmbridge_simulators::faults::{FaultKind, Match};
use tmbridge_simulators::testrail::TestrailSim;

const SCREENSHOT: &[u8] = b"\x89PNG\r\n\x1a\n\x00\xffbinary screenshot bytes";

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> Dir {
    let dir = std::env::temp_dir().join(format!(
        "tmbridge-e2e-testrail-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Dir(dir)
}

/// A test report in one input format: writes its files into the folder and returns
/// the paths `tmbridge publish` takes.
struct Input {
    name: &'static str,
    write: fn(&Path, usize) -> Vec<PathBuf>,
}

fn inputs() -> Vec<Input> {
    vec![
        Input {
            name: "junit",
            write: write_junit,
        },
        Input {
            name: "allure",
            write: write_allure,
        },
    ]
}

/// `n` tests in two `<testsuite>`s; the first fails with a screenshot, the second is
/// skipped. None names a case: tmbridge creates them.
fn write_junit(dir: &Path, n: usize) -> Vec<PathBuf> {
    let mut xml = String::from("<testsuites>\n");
    for (suite, range) in [("checkout", 0..n / 2), ("login", n / 2..n)] {
        xml.push_str(&format!("<testsuite name=\"{suite}\">\n"));
        for i in range {
            let body = match i {
                0 => "<failure type=\"AssertionError\" message=\"expected 42\">trace</failure><system-out>[[ATTACHMENT|shot.png]]</system-out>".to_string(),
                1 => "<skipped/>".to_string(),
                _ => String::new(),
            };
            xml.push_str(&format!(
                "  <testcase classname=\"shop.{suite}\" name=\"case {i}\" time=\"1.{i}\">{body}</testcase>\n"
            ));
        }
        xml.push_str("</testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    let path = dir.join("junit.xml");
    std::fs::write(&path, xml).unwrap();
    std::fs::write(dir.join("shot.png"), SCREENSHOT).unwrap();
    vec![path]
}

fn write_config(dir: &Path, sim: &TestrailSim, extra: &str) -> PathBuf {
    let s = sim.seeded();
    let text = format!(
        "[testrail]\nurl = \"{}\"\nuser_env = \"E2E_TR_USER\"\napi_key_env = \"E2E_TR_KEY\"\nproject_id = \"P{}\"\nsuite_id = \"S{}\"\nsection_id = {}\n{extra}",
        sim.url(),
        s.multi_project,
        s.multi_suite,
        s.multi_section
    );
    let path = dir.join("tmbridge.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn command(dir: &Path, sim: &TestrailSim, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tmbridge"));
    cmd.current_dir(dir)
        .args(args)
        .env("E2E_TR_USER", &sim.seeded().user)
        .env("E2E_TR_KEY", &sim.seeded().api_key)
        .env("CI_PIPELINE_ID", "4711")
        .env("CI_JOB_NAME", "e2e")
        .env_remove("TESTRAIL_PASSWORD");
    cmd
}

fn publish(dir: &Path, sim: &TestrailSim, reports: &[PathBuf], extra: &[&str]) -> Command {
    let outbox = dir.join("outbox.sqlite3");
    let mut args = vec![
        "publish",
        "--target",
        "testrail",
        "--config",
        "tmbridge.toml",
        "--outbox",
        outbox.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let mut cmd = command(dir, sim, &args);
    cmd.args(reports);
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run tmbridge")
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Results per case id.
fn results_per_case(sim: &TestrailSim) -> BTreeMap<u64, usize> {
    let mut out = BTreeMap::new();
    for r in sim.results() {
        *out.entry(r.case_id).or_insert(0) += 1;
    }
    out
}

/// The same tests as [`write_junit`] as an allure-results folder, as allure-pytest
/// writes one: a result file per test (suite label, status, statusDetails), the
/// screenshot as an attachment file beside them.
fn write_allure(dir: &Path, n: usize) -> Vec<PathBuf> {
    let folder = dir.join("allure-results");
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..n {
        let suite = if i < n / 2 { "checkout" } else { "login" };
        let mut result = serde_json::json!({
            "uuid": format!("0000-{i}"),
            "historyId": format!("history-{i}"),
            "name": format!("case {i}"),
            "fullName": format!("shop.{suite}#case {i}"),
            "status": "passed",
            "start": 1_717_000_000_000u64 + i as u64 * 2000,
            "stop": 1_717_000_001_000u64 + i as u64 * 2000,
            "labels": [{"name": "suite", "value": suite}, {"name": "framework", "value": "pytest"}],
        });
        match i {
            0 => {
                result["status"] = "failed".into();
                result["statusDetails"] =
                    serde_json::json!({"message": "AssertionError: expected 42", "trace": "trace"});
                result["attachments"] = serde_json::json!([
                    {"name": "screenshot", "source": "shot-attachment.png", "type": "image/png"}
                ]);
            }
            1 => result["status"] = "skipped".into(),
            _ => {}
        }
        std::fs::write(
            folder.join(format!("0000-{i}-result.json")),
            result.to_string(),
        )
        .unwrap();
    }
    std::fs::write(folder.join("shot-attachment.png"), SCREENSHOT).unwrap();
    vec![folder]
}

#[test]
fn exported_once_under_faults_updated_on_change_and_toggles_honoured() {
    for input in inputs() {
        let sim = TestrailSim::start();
        sim.set_page_cap(2);
        let dir = temp_dir(&format!("faults-{}", input.name));
        write_config(&dir.0, &sim, "case_fields = { level = 2 }\n");
        let reports = (input.write)(&dir.0, 6);

        // A 5xx burst, a 429, and creates whose answers are lost after they were made.
        sim.faults().fail_next(2, 503);
        sim.faults().add(
            FaultKind::Throttle {
                retry_after_secs: 1,
            },
            Match::path("get_cases"),
            1,
        );
        sim.faults()
            .add(FaultKind::DropAfterApply, Match::path("add_case"), 1);
        sim.faults().add(
            FaultKind::DropAfterApply,
            Match::path("add_results_for_cases"),
            1,
        );
        sim.faults().add(
            FaultKind::ErrorAfterApply(502),
            Match::path("add_attachment_to_result"),
            1,
        );
        let out = run(&mut publish(&dir.0, &sim, &reports, &[]));
        assert_eq!(out.status.code(), Some(0), "{}: {}", input.name, text(&out));
        assert!(sim.faults().armed().is_empty(), "every fault fired");

        let cases = sim.ledger_of("add_case");
        assert_eq!(cases.len(), 6, "{}: each case once", input.name);
        let sections: Vec<String> = sim
            .ledger_of("add_section")
            .iter()
            .map(|e| e.fields["name"].as_str().unwrap_or("").to_string())
            .collect();
        assert_eq!(sections, ["checkout", "login"]);
        let per_case = results_per_case(&sim);
        assert_eq!(per_case.len(), 6, "{per_case:?}");
        assert!(per_case.values().all(|n| *n == 1), "{per_case:?}");
        assert_eq!(sim.ledger_of("add_run").len(), 1);
        let attachments = sim.attachments();
        assert_eq!(attachments.len(), 1, "{}: uploaded once", input.name);
        assert_eq!(attachments[0].bytes, SCREENSHOT);
        let failed = sim
            .results()
            .into_iter()
            .find(|r| r.fields["status_id"] == 5)
            .unwrap();
        let comment = failed.fields["comment"].as_str().unwrap();
        assert!(comment.contains("expected 42"), "{comment}");
        if input.name == "junit" {
            assert!(comment.starts_with("Type: AssertionError"), "{comment}");
        }
        let skipped = sim
            .results()
            .into_iter()
            .filter(|r| r.fields["status_id"] == 4)
            .count();
        assert_eq!(skipped, 1, "skipped tests are Retest, as trcli maps them");

        // The same pipeline again: nothing new.
        let again = run(&mut publish(&dir.0, &sim, &reports, &[]));
        assert_eq!(again.status.code(), Some(0), "{}", text(&again));
        assert_eq!(sim.ledger_of("add_case").len(), 6);
        assert_eq!(sim.results().len(), 6);
        assert_eq!(sim.attachments().len(), 1);

        // A changed mapping updates the cases tmbridge made, once; a new pipeline
        // adds one run of results.
        write_config(&dir.0, &sim, "case_fields = { level = 3 }\n");
        let changed = run(&mut publish(
            &dir.0,
            &sim,
            &reports,
            &["--var", "pipeline_id=4712"],
        ));
        assert_eq!(changed.status.code(), Some(0), "{}", text(&changed));
        assert_eq!(sim.ledger_of("update_case").len(), 6);
        assert_eq!(sim.ledger_of("add_case").len(), 6);
        assert_eq!(sim.ledger_of("add_run").len(), 2);
        assert_eq!(sim.results().len(), 12);
        let level: Vec<Value> = sim
            .ids("cases")
            .into_iter()
            .map(|id| sim.record("cases", id).unwrap()["custom_level"].clone())
            .collect();
        assert!(level.iter().all(|l| l == 3), "{level:?}");

        // Toggles and scope.
        write_config(
            &dir.0,
            &sim,
            "case_fields = { level = 3 }\nexport_results = false\n",
        );
        run(&mut publish(
            &dir.0,
            &sim,
            &reports,
            &["--var", "pipeline_id=4713"],
        ));
        assert_eq!(sim.results().len(), 12, "result export off");
        write_config(
            &dir.0,
            &sim,
            "case_fields = { level = 3 }\nexport = false\n",
        );
        let before = sim.requests().len();
        run(&mut publish(
            &dir.0,
            &sim,
            &reports,
            &["--var", "pipeline_id=4714"],
        ));
        assert_eq!(sim.requests().len(), before, "export off: not one request");
        write_config(&dir.0, &sim, "case_fields = { level = 3 }\n");
        let scoped = run(&mut publish(
            &dir.0,
            &sim,
            &reports,
            &[
                "--var",
                "pipeline_id=4715",
                "--scope",
                "status in (failed, error)",
            ],
        ));
        assert_eq!(scoped.status.code(), Some(0), "{}", text(&scoped));
        assert_eq!(sim.results().len(), 13, "only the failed test");
        let bad = run(&mut publish(
            &dir.0,
            &sim,
            &reports,
            &["--scope", "status in (failed"],
        ));
        assert_eq!(bad.status.code(), Some(2));
        assert!(text(&bad).contains("column"), "{}", text(&bad));
    }
}

#[test]
fn a_killed_publish_resumes_and_sends_each_result_once() {
    for input in inputs() {
        let sim = TestrailSim::start();
        let dir = temp_dir(&format!("kill-{}", input.name));
        write_config(&dir.0, &sim, "batch_size = 1\n");
        let n = 16;
        let reports = (input.write)(&dir.0, n);
        // Slow answers make the run long enough to be killed in the middle of it.
        sim.faults().slow_next(10_000, Duration::from_millis(40));
        let mut child = publish(&dir.0, &sim, &reports, &[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while sim.ledger_of("add_result").len() < 3 && start.elapsed() < Duration::from_secs(60) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let before = sim.ledger_of("add_result").len();
        assert!(
            before >= 3 && before < n,
            "killed in the middle: {before} of {n}"
        );
        sim.faults().clear();

        let out = run(&mut publish(&dir.0, &sim, &reports, &[]));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let per_case = results_per_case(&sim);
        assert_eq!(per_case.len(), n, "{per_case:?}");
        assert!(per_case.values().all(|c| *c == 1), "{per_case:?}");
        assert_eq!(sim.ledger_of("add_case").len(), n);
        assert_eq!(sim.ledger_of("add_run").len(), 1);
        assert_eq!(sim.attachments().len(), 1);
    }
}

#[test]
fn refused_credentials_switch_the_export_off_until_reenabled() {
    for input in inputs() {
        let sim = TestrailSim::start();
        let dir = temp_dir(&format!("disable-{}", input.name));
        write_config(&dir.0, &sim, "");
        let reports = (input.write)(&dir.0, 4);

        sim.revoke_credentials();
        let refused = run(&mut publish(&dir.0, &sim, &reports, &[]));
        assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
        assert!(
            text(&refused).contains("testrail.unauthorized"),
            "{}",
            text(&refused)
        );
        assert!(text(&refused).contains("--reenable"), "{}", text(&refused));

        // The key works again, but the export stays off until someone re-enables it.
        sim.restore_access();
        let before = sim.requests().len();
        let off = run(&mut publish(
            &dir.0,
            &sim,
            &reports,
            &["--var", "pipeline_id=2"],
        ));
        assert_eq!(off.status.code(), Some(2));
        let said = text(&off);
        assert!(said.contains("switched off since"), "{said}");
        assert!(
            said.contains("tmbridge connect --target testrail"),
            "{said}"
        );
        assert_eq!(sim.requests().len(), before, "nothing sent while off");
        assert!(sim.results().is_empty());

        let connect = run(&mut command(
            &dir.0,
            &sim,
            &[
                "connect",
                "--target",
                "testrail",
                "--config",
                "tmbridge.toml",
            ],
        ));
        assert_eq!(connect.status.code(), Some(0), "{}", text(&connect));
        assert!(text(&connect).contains("OK: every check passed"));

        let back = run(&mut publish(&dir.0, &sim, &reports, &["--reenable"]));
        assert_eq!(back.status.code(), Some(0), "{}", text(&back));
        assert_eq!(sim.results().len(), 4);
        let later = run(&mut publish(
            &dir.0,
            &sim,
            &reports,
            &["--var", "pipeline_id=3"],
        ));
        assert_eq!(later.status.code(), Some(0), "stays on: {}", text(&later));

        // Losing the project's rights (403) switches it off the same way.
        sim.deny_access();
        let denied = run(&mut publish(
            &dir.0,
            &sim,
            &reports,
            &["--var", "pipeline_id=4"],
        ));
        assert_eq!(denied.status.code(), Some(2));
        assert!(
            text(&denied).contains("testrail.forbidden"),
            "{}",
            text(&denied)
        );
        let secret = &sim.seeded().api_key;
        for out in [&refused, &off, &connect, &back, &denied] {
            assert!(
                !text(out).contains(secret.as_str()),
                "the key is never printed"
            );
        }
    }
}

#[test]
fn connect_names_what_is_wrong_and_dry_runs_send_nothing() {
    let sim = TestrailSim::start();
    let dir = temp_dir("connect");
    let s = sim.seeded().clone();
    std::fs::write(
        dir.0.join("tmbridge.toml"),
        format!(
            "[testrail]\nurl = \"{}\"\nuser_env = \"E2E_TR_USER\"\napi_key_env = \"E2E_TR_KEY\"\nproject_id = {}\n",
            sim.url(),
            s.multi_project
        ),
    )
    .unwrap();
    let out = run(&mut command(
        &dir.0,
        &sim,
        &[
            "connect",
            "--target",
            "testrail",
            "--config",
            "tmbridge.toml",
        ],
    ));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("testrail.suite_id"), "{}", text(&out));

    write_config(&dir.0, &sim, "");
    let reports = write_junit(&dir.0, 2);
    let before = sim.requests().len();
    let dry = run(&mut publish(
        &dir.0,
        &sim,
        &reports,
        &["--dry-run", "--format", "json"],
    ));
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    assert_eq!(sim.requests().len(), before, "a dry run sends nothing");
    let json: Value = serde_json::from_slice(&dry.stdout).unwrap();
    let urls: Vec<&str> = json["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["url"].as_str().unwrap())
        .collect();
    assert!(
        urls.iter().any(|u| u.contains("add_results_for_cases")),
        "{urls:?}"
    );
    assert!(!String::from_utf8_lossy(&dry.stdout).contains(&s.api_key));
}

#[test]
fn one_result_per_browser_in_a_plan_entry() {
    let sim = TestrailSim::start();
    let dir = temp_dir("plan");
    let s = sim.seeded().clone();
    let auth = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", s.user, s.api_key)
        )
    );
    let plan = tmbridge_simulators::request(
        "POST",
        &format!("{}add_plan/{}", sim.api_url(), s.multi_project),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some(br#"{"name": "Release 7"}"#),
    )
    .unwrap()
    .json()
    .unwrap()["id"]
        .as_u64()
        .unwrap();
    write_config(
        &dir.0,
        &sim,
        &format!("plan_id = \"R{plan}\"\nconfiguration_property = \"browser\"\n"),
    );
    let xml = r#"<testsuite name="cart">
  <testcase classname="ui.Cart" name="adds an item"><properties><property name="browser" value="chrome"/></properties></testcase>
  <testcase classname="ui.Cart" name="adds an item"><properties><property name="browser" value="Firefox"/></properties><failure message="no"/></testcase>
</testsuite>"#;
    let report = dir.0.join("browsers.xml");
    std::fs::write(&report, xml).unwrap();
    for pass in 0..2 {
        let out = run(&mut publish(
            &dir.0,
            &sim,
            std::slice::from_ref(&report),
            &[],
        ));
        assert_eq!(out.status.code(), Some(0), "pass {pass}: {}", text(&out));
    }
    assert_eq!(
        sim.ledger_of("add_case").len(),
        1,
        "one case for both browsers"
    );
    assert_eq!(sim.ledger_of("add_plan_entry").len(), 1);
    let results = sim.results();
    assert_eq!(results.len(), 2, "one result per browser, once");
    assert_ne!(results[0].run_id, results[1].run_id);
    let configs: Vec<Value> = results
        .iter()
        .map(|r| sim.record("runs", r.run_id).unwrap()["config"].clone())
        .collect();
    assert!(
        configs.contains(&Value::from("Chrome")) && configs.contains(&Value::from("Firefox")),
        "{configs:?}"
    );
}
