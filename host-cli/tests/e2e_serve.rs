//! `tmbridge serve` end to end: the real binary receives webhooks from the GitLab
//! simulator's sender, fetches reports from the GitLab simulator's API and publishes
//! them to the Rally simulator.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tmbridge_simulators::gitlab::{GitlabSim, JobSpec, PipelineSpec, send_webhook};
use tmbridge_simulators::rally::RallySim;
use tmbridge_simulators::{HttpRequest, HttpServer, Outcome, Reply};

const SECRET: &str = "hook-secret-e2e";
const GITLAB_TOKEN: &str = "glpat-e2e";

struct Serve {
    child: Child,
    url: String,
    state: PathBuf,
    dir: PathBuf,
    /// The GitLab address given with --gitlab-url.
    gitlab_url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tmbridge-e2e-serve-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_config(dir: &Path, rally: &RallySim) -> PathBuf {
    let s = rally.seeded();
    let config = format!(
        r#"[rally]
url = "{}"
api_key_env = "E2E_RALLY_KEY"
workspace = "{}"
project = "{}"
# Small batches: a run of 20 results takes several requests, so it can be killed
# in the middle.
batch_size = 4

[gitlab]
token_env = "E2E_HOOK_SECRET"
statuses = ["success", "failed"]
test_stages = ["test"]
"#,
        rally.url(),
        s.workspace,
        s.project
    );
    let path = dir.join("tmbridge.toml");
    std::fs::write(&path, config).unwrap();
    path
}

fn start_serve(name: &str, rally: &RallySim, gitlab: &GitlabSim, extra: &[&str]) -> Serve {
    let dir = temp_dir(name);
    let config = write_config(&dir, rally);
    let state = dir.join("state").join("serve.sqlite");
    let gitlab_url = gitlab.url();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--gitlab-url", &gitlab_url])
        .args(["--listen", "127.0.0.1:0", "--state"])
        .arg(&state)
        .args(["--retry-delay", "1", "--max-body", "65536"])
        .args(extra)
        .env("E2E_HOOK_SECRET", SECRET)
        .env("GITLAB_API_TOKEN", GITLAB_TOKEN)
        .env("E2E_RALLY_KEY", rally.api_key())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run tmbridge serve");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("tmbridge serve: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Serve {
        child,
        url,
        state,
        dir,
        gitlab_url,
    }
}

fn stored_events(state: &Path) -> Vec<(i64, String)> {
    let conn = rusqlite::Connection::open(state).unwrap();
    let mut stmt = conn
        .prepare("SELECT pipeline_id, state FROM events ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn pipeline(gitlab: &GitlabSim, id: u64, status: &str, report: &str) {
    gitlab.add_pipeline(
        PipelineSpec::new(id, "main", status)
            .job(JobSpec::new(id * 10 + 1, "build", "build", "success"))
            .job(
                JobSpec::new(id * 10 + 2, "unit", "test", status)
                    .artifact("junit.xml", report.as_bytes().to_vec()),
            ),
    );
}

#[test]
fn bad_token_oversized_and_malformed_bodies_store_nothing() {
    let rally = RallySim::start();
    let gitlab = GitlabSim::start(GITLAB_TOKEN);
    pipeline(&gitlab, 300, "success", "<testsuite/>");
    let serve = start_serve("refusals", &rally, &gitlab, &[]);
    let body = gitlab.pipeline_hook_body(300).unwrap();

    let wrong = send_webhook(&serve.url, Some("not-the-secret"), "Pipeline Hook", &body).unwrap();
    assert_eq!(wrong.status, 401, "{}", wrong.text());
    let missing = send_webhook(&serve.url, None, "Pipeline Hook", &body).unwrap();
    assert_eq!(missing.status, 401);

    let mut big = body.clone();
    big.extend(std::iter::repeat_n(b' ', 70_000));
    let too_big = send_webhook(&serve.url, Some(SECRET), "Pipeline Hook", &big).unwrap();
    assert_eq!(too_big.status, 413, "{}", too_big.text());

    let malformed = send_webhook(
        &serve.url,
        Some(SECRET),
        "Pipeline Hook",
        b"{\"object_kind\": ",
    )
    .unwrap();
    assert_eq!(malformed.status, 400);
    assert!(
        malformed.text().contains("gitlab.malformed_json"),
        "{}",
        malformed.text()
    );

    let job_event = send_webhook(
        &serve.url,
        Some(SECRET),
        "Pipeline Hook",
        br#"{"object_kind":"build"}"#,
    )
    .unwrap();
    assert_eq!(job_event.status, 400);

    let other = send_webhook(&serve.url, Some(SECRET), "Push Hook", b"{}").unwrap();
    assert_eq!(other.status, 200);
    assert!(other.text().contains("ignored"));

    let mut running_body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    running_body["object_attributes"]["status"] = "running".into();
    let running_body = serde_json::to_vec(&running_body).unwrap();
    let running = send_webhook(&serve.url, Some(SECRET), "Pipeline Hook", &running_body).unwrap();
    assert_eq!(running.status, 200);
    assert!(
        running.text().contains("not finished"),
        "{}",
        running.text()
    );

    assert!(
        stored_events(&serve.state).is_empty(),
        "nothing may be stored"
    );
    assert!(rally.ledger().is_empty());

    // The health check and a good event, for contrast.
    let health =
        tmbridge_simulators::request("GET", &serve.url.replace("/webhook", "/healthz"), &[], None)
            .unwrap();
    assert_eq!(health.status, 200);
    let ok = send_webhook(&serve.url, Some(SECRET), "Pipeline Hook", &body).unwrap();
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert!(ok.text().contains("\"queued\""), "{}", ok.text());
    let again = send_webhook(&serve.url, Some(SECRET), "Pipeline Hook", &body).unwrap();
    assert!(again.text().contains("\"duplicate\""), "{}", again.text());
    let events = stored_events(&serve.state);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, 300);
}

/// Waits until `done` holds or the time is up.
fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    done()
}

fn events_done(state: &Path) -> bool {
    let events = stored_events(state);
    !events.is_empty() && events.iter().all(|(_, s)| s == "done")
}

fn junit(ids: &[u32]) -> String {
    let mut xml = String::from("<testsuite name=\"pipeline\">\n");
    for id in ids {
        xml.push_str(&format!(
            "  <testcase classname=\"shop.Flow\" name=\"TC{id} step\" time=\"0.5\"/>\n"
        ));
    }
    xml.push_str("  <testcase classname=\"shop.Flow\" name=\"unlinked step\" time=\"0.1\">\n");
    xml.push_str("    <failure message=\"boom\">boom</failure>\n  </testcase>\n</testsuite>\n");
    xml
}

fn per_case(rally: &RallySim) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for r in rally.results() {
        *out.entry(r.test_case).or_insert(0) += 1;
    }
    out
}

#[test]
fn a_finished_pipeline_ends_with_every_mapped_result_in_rally_once() {
    let rally = RallySim::start();
    let gitlab = GitlabSim::start(GITLAB_TOKEN);
    let ids: Vec<u32> = (201..=206).collect();
    for id in &ids {
        rally.add_test_case(&format!("TC{id}"), &format!("Step {id}"), None);
    }
    // TC201 attaches a screenshot that the test job kept in its artifacts.
    let report = junit(&ids).replacen(
        "name=\"TC201 step\" time=\"0.5\"/>",
        "name=\"TC201 step\" time=\"0.5\"><system-out>[[ATTACHMENT|shots/tc201.png]]</system-out></testcase>",
        1,
    );
    let screenshot = b"\x89PNG\r\n\x1a\nscreenshot of TC201".to_vec();
    gitlab.add_pipeline(
        PipelineSpec::new(501, "main", "failed")
            .job(JobSpec::new(5011, "build", "build", "success"))
            .job(
                JobSpec::new(5012, "unit", "test", "failed")
                    .artifact("junit.xml", report.into_bytes())
                    .artifact("shots/tc201.png", screenshot.clone()),
            ),
    );
    let serve = start_serve("pipeline", &rally, &gitlab, &[]);

    // GitLab stumbles once and Rally answers with a burst of 503s and a 429.
    gitlab.faults().fail_next(1, 502);
    rally.faults().fail_next(4, 503);
    rally.faults().throttle_next(1, 1);
    let body = gitlab.pipeline_hook_body(501).unwrap();
    let answer = send_webhook(&serve.url, Some(SECRET), "Pipeline Hook", &body).unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.text().contains("queued"));

    assert!(
        wait_for(Duration::from_secs(90), || events_done(&serve.state)),
        "the event was not published: {:?}",
        stored_events(&serve.state)
    );
    let counts = per_case(&rally);
    assert_eq!(counts.len(), ids.len(), "{counts:?}");
    assert!(counts.values().all(|c| *c == 1), "{counts:?}");
    assert!(rally.results().iter().all(|r| r.build == "GitLab-501"));
    // Filed in the running sprint's test set.
    assert!(
        rally
            .results()
            .iter()
            .all(|r| r.test_set.as_deref() == Some("Sprint-14-Automated-Tests")),
        "{:?}",
        rally.results()
    );
    assert!(
        rally.faults().armed().is_empty(),
        "Rally's faults all fired"
    );
    assert!(gitlab.faults().armed().is_empty(), "GitLab's fault fired");
    // Only the test job's archive was fetched, through the API with the token; the
    // report and its screenshot came out of it.
    let fetched: Vec<String> = gitlab
        .requests()
        .into_iter()
        .filter(|r| r.status == 200 && r.path.contains("/artifacts"))
        .map(|r| r.path)
        .collect();
    assert_eq!(fetched, vec!["/api/v4/projects/42/jobs/5012/artifacts"]);
    // The screenshot reached Rally once, byte for byte, on TC201's result.
    let tc201: Vec<_> = rally
        .results()
        .into_iter()
        .filter(|r| r.test_case == "TC201")
        .collect();
    assert_eq!(tc201.len(), 1);
    assert_eq!(tc201[0].attachments.len(), 1, "{:?}", tc201[0].attachments);
    assert_eq!(tc201[0].attachments[0].0, "tc201.png");
    assert_eq!(tc201[0].attachments[0].1, screenshot.len() as u64);
    let uploaded: Vec<Vec<u8>> = rally
        .created("Attachment")
        .iter()
        .filter_map(|a| rally.attachment_bytes(&a.reference))
        .collect();
    assert_eq!(uploaded, vec![screenshot]);
    // The unlinked test is in the stored report's review list.
    let conn = rusqlite::Connection::open(&serve.state).unwrap();
    let report: String = conn
        .query_row("SELECT report FROM events", [], |r| r.get(0))
        .unwrap();
    assert!(report.contains("unlinked step"), "{report}");

    // GitLab delivers the same hook again: nothing new reaches Rally.
    let again = send_webhook(&serve.url, Some(SECRET), "Pipeline Hook", &body).unwrap();
    assert!(again.text().contains("duplicate"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(per_case(&rally), counts);
}

#[test]
fn serve_killed_while_publishing_finishes_after_a_restart_without_duplicates() {
    let rally = RallySim::start();
    let gitlab = GitlabSim::start(GITLAB_TOKEN);
    let ids: Vec<u32> = (301..=320).collect();
    for id in &ids {
        rally.add_test_case(&format!("TC{id}"), &format!("Step {id}"), None);
    }
    pipeline(&gitlab, 502, "success", &junit(&ids));
    let mut serve = start_serve("restart", &rally, &gitlab, &[]);
    rally.faults().slow_next(10_000, Duration::from_millis(60));
    let body = gitlab.pipeline_hook_body(502).unwrap();
    let answer = send_webhook(&serve.url, Some(SECRET), "Pipeline Hook", &body).unwrap();
    assert_eq!(answer.status, 200);
    assert!(wait_for(Duration::from_secs(60), || rally
        .created("TestCaseResult")
        .len()
        >= 3));
    serve.child.kill().unwrap();
    serve.child.wait().unwrap();
    let before = rally.created("TestCaseResult").len();
    assert!(before < ids.len(), "killed in the middle: {before}");
    rally.faults().clear();

    // The same state file: the interrupted event is taken up again.
    let restarted = restart(&mut serve, &rally);
    assert!(
        wait_for(Duration::from_secs(90), || events_done(&restarted.state)),
        "{:?}",
        stored_events(&restarted.state)
    );
    let counts = per_case(&rally);
    assert_eq!(counts.len(), ids.len(), "{counts:?}");
    assert!(
        counts.values().all(|c| *c == 1),
        "each result exactly once: {counts:?}"
    );
    assert_eq!(rally.created("TestCaseResult").len(), ids.len());
}

/// Starts `serve` again on the state of a killed one.
fn restart(old: &mut Serve, rally: &RallySim) -> Serve {
    let config = old.dir.join("tmbridge.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--gitlab-url", &old.gitlab_url])
        .args(["--listen", "127.0.0.1:0", "--state"])
        .arg(&old.state)
        .args(["--retry-delay", "1"])
        .env("E2E_HOOK_SECRET", SECRET)
        .env("GITLAB_API_TOKEN", GITLAB_TOKEN)
        .env("E2E_RALLY_KEY", rally.api_key())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // The new process owns the directory from now on.
    let dir = std::mem::replace(&mut old.dir, PathBuf::from("/nonexistent-tmbridge-e2e"));
    Serve {
        child,
        url: line
            .trim()
            .trim_start_matches("tmbridge serve: listening on ")
            .to_string(),
        state: old.state.clone(),
        dir,
        gitlab_url: old.gitlab_url.clone(),
    }
}

#[test]
fn missing_secrets_are_usage_errors() {
    let rally = RallySim::start();
    let dir = temp_dir("usage");
    let config = write_config(&dir, &rally);
    let out = Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(["serve", "--config"])
        .arg(&config)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--gitlab-url",
            "http://127.0.0.1:9",
        ])
        .env_remove("E2E_HOOK_SECRET")
        .env("GITLAB_API_TOKEN", GITLAB_TOKEN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("E2E_HOOK_SECRET"));
    let out = Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--gitlab-url", "http://127.0.0.1:9"])
        .env("E2E_HOOK_SECRET", SECRET)
        .env_remove("GITLAB_API_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GITLAB_API_TOKEN"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `serve` that is expected to refuse to start; a serve that starts anyway is
/// stopped after a while and reported, instead of hanging the test.
fn refused_start(config: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(["serve", "--config"])
        .arg(config)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .env("E2E_HOOK_SECRET", SECRET)
        .env("GITLAB_API_TOKEN", GITLAB_TOKEN)
        .env("E2E_RALLY_KEY", "key-e2e")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let exited = wait_for(Duration::from_secs(20), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !exited {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().filter(|_| exited),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn serve_starts_only_with_a_safe_gitlab_address_of_its_own() {
    let rally = RallySim::start();
    let dir = temp_dir("gitlab-url");
    let config = write_config(&dir, &rally);
    let (code, stderr) = refused_start(&config, &[]);
    assert_eq!(code, Some(2), "no --gitlab-url: {stderr}");
    assert!(stderr.contains("--gitlab-url"), "{stderr}");
    for (url, why) in [
        ("http://gitlab.example.com", "clear text"),
        (
            "https://ci:Pa55word@gitlab.example.com",
            "user name or password",
        ),
    ] {
        let (code, stderr) = refused_start(&config, &["--gitlab-url", url]);
        assert_eq!(code, Some(2), "{url}: {stderr}");
        assert!(stderr.contains(why), "{stderr}");
        assert!(!stderr.contains("Pa55word"), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_webhook_naming_another_host_never_sends_it_the_token() {
    let rally = RallySim::start();
    let gitlab = GitlabSim::start(GITLAB_TOKEN);
    rally.add_test_case("TC401", "Step 401", None);
    pipeline(&gitlab, 401, "success", &junit(&[401]));
    // The host the event names instead of GitLab, over plain http: it records
    // whatever reaches it.
    let seen: std::sync::Arc<std::sync::Mutex<Vec<HttpRequest>>> = Default::default();
    let log = seen.clone();
    let elsewhere = HttpServer::start(std::sync::Arc::new(move |req: HttpRequest| {
        log.lock().unwrap().push(req);
        Outcome::Reply(Reply::json(200, &serde_json::json!([])))
    }))
    .unwrap();
    let serve = start_serve("elsewhere", &rally, &gitlab, &[]);
    let mut body: serde_json::Value =
        serde_json::from_slice(&gitlab.pipeline_hook_body(401).unwrap()).unwrap();
    let project_page = format!("{}/acme/web-shop", elsewhere.url());
    body["project"]["web_url"] = project_page.clone().into();
    body["object_attributes"]["url"] = format!("{project_page}/-/pipelines/401").into();
    let body = serde_json::to_vec(&body).unwrap();
    let answer = send_webhook(&serve.url, Some(SECRET), "Pipeline Hook", &body).unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text());

    assert!(
        wait_for(Duration::from_secs(60), || events_done(&serve.state)),
        "{:?}",
        stored_events(&serve.state)
    );
    assert!(seen.lock().unwrap().is_empty(), "the named host was asked");
    // The configured GitLab took the token and gave the report.
    assert!(
        gitlab
            .requests()
            .iter()
            .any(|r| r.status == 200 && r.path.ends_with("/artifacts"))
    );
    assert_eq!(per_case(&rally).get("TC401"), Some(&1));
}

#[test]
fn reports_are_found_by_glob_with_runner_path_attachments_or_from_the_test_report() {
    let rally = RallySim::start();
    let gitlab = GitlabSim::start(GITLAB_TOKEN);
    for id in [701, 702, 703] {
        rally.add_test_case(&format!("TC{id}"), &format!("Step {id}"), None);
    }
    // Gradle's layout; the screenshot named by the runner's absolute path.
    let report = junit(&[701, 702]).replacen(
        "name=\"TC701 step\" time=\"0.5\"/>",
        "name=\"TC701 step\" time=\"0.5\"><system-out>[[ATTACHMENT|/builds/acme/web-shop/build/shots/tc701.png]]</system-out></testcase>",
        1,
    );
    let screenshot = b"\x89PNG\r\n\x1a\nTC701".to_vec();
    gitlab.add_pipeline(
        PipelineSpec::new(601, "main", "failed").job(
            JobSpec::new(6011, "unit", "test", "failed")
                .artifact(
                    "build/test-results/test/TEST-shop.Flow.xml",
                    report.into_bytes(),
                )
                .artifact("build/shots/tc701.png", screenshot.clone())
                .artifact("build/reports/index.html", b"<html/>".to_vec()),
        ),
    );
    // A job whose archive expired: the pipeline's test report still has its tests.
    gitlab.add_pipeline(
        PipelineSpec::new(602, "main", "success").job(
            JobSpec::new(6021, "unit", "test", "success")
                .artifact("junit.xml", junit(&[703]).into_bytes())
                .archive_expired(),
        ),
    );
    let serve = start_serve(
        "globs",
        &rally,
        &gitlab,
        &[
            "--artifact-path",
            "build/test-results/**/*.xml",
            "--artifact-path",
            "junit.xml",
        ],
    );
    for pipeline in [601, 602] {
        let body = gitlab.pipeline_hook_body(pipeline).unwrap();
        let answer = send_webhook(&serve.url, Some(SECRET), "Pipeline Hook", &body).unwrap();
        assert_eq!(answer.status, 200, "{}", answer.text());
    }
    assert!(
        wait_for(Duration::from_secs(60), || events_done(&serve.state)
            && stored_events(&serve.state).len() == 2),
        "{:?}",
        stored_events(&serve.state)
    );
    let counts = per_case(&rally);
    assert_eq!(
        counts.values().copied().collect::<Vec<_>>(),
        [1, 1, 1],
        "{counts:?}"
    );
    let with_shot: Vec<_> = rally
        .results()
        .into_iter()
        .filter(|r| !r.attachments.is_empty())
        .collect();
    assert_eq!(with_shot.len(), 1, "{:?}", rally.results());
    assert_eq!(with_shot[0].attachments[0].0, "tc701.png");
    assert_eq!(with_shot[0].attachments[0].1, screenshot.len() as u64);
    // The expired job's archive was never asked for; its tests came from the report.
    assert!(
        gitlab
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/pipelines/602/test_report"))
    );
    assert!(
        !gitlab
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/jobs/6021/artifacts"))
    );
}
