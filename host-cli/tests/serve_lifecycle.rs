//! `tmbridge serve` across stops: killed while publishing with its process id in use
//! again (a container restarts as PID 1), stopped with SIGTERM and SIGINT, and flooded
//! with the same webhook from many threads. No event is lost, none is published twice,
//! and every delivery is answered with success.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tmbridge_simulators::gitlab::{GitlabSim, JobSpec, PipelineSpec, send_webhook};
use tmbridge_simulators::rally::RallySim;

const SECRET: &str = "hook-secret-lifecycle";
const GITLAB_TOKEN: &str = "glpat-lifecycle";

/// A running `tmbridge serve`; killed and its folder removed when dropped.
struct Serve {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Serve {
    fn state(&self) -> PathBuf {
        self.dir.join("state").join("serve.sqlite")
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to end; a limit only so that a hang fails the test.
    fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("tmbridge serve did not stop");
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> Dir {
    let dir = std::env::temp_dir().join(format!(
        "tmbridge-serve-lifecycle-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Dir(dir)
}

fn write_config(dir: &Path, rally: &RallySim) {
    let s = rally.seeded();
    let config = format!(
        r#"[rally]
url = "{}"
api_key_env = "LIFECYCLE_RALLY_KEY"
workspace = "{}"
project = "{}"
# One create per request: a publish of 20 results takes long enough to be stopped
# in the middle.
batch_size = 0

[gitlab]
token_env = "LIFECYCLE_HOOK_SECRET"
statuses = ["success", "failed"]
test_stages = ["test"]
"#,
        rally.url(),
        s.workspace,
        s.project
    );
    std::fs::write(dir.join("tmbridge.toml"), config).unwrap();
}

/// Starts `serve` on the folder's configuration and state (a restart when the state
/// is there already).
fn start_serve(dir: &Path, rally: &RallySim, gitlab: &GitlabSim, extra: &[&str]) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(["serve", "--config"])
        .arg(dir.join("tmbridge.toml"))
        .args(["--listen", "127.0.0.1:0", "--state"])
        .arg(dir.join("state").join("serve.sqlite"))
        .args(["--retry-delay", "1", "--gitlab-url", &gitlab.url()])
        .args(extra)
        .env("LIFECYCLE_HOOK_SECRET", SECRET)
        .env("GITLAB_API_TOKEN", GITLAB_TOKEN)
        .env("LIFECYCLE_RALLY_KEY", rally.api_key())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run tmbridge serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("tmbridge serve: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Serve {
        child,
        url,
        dir: dir.to_path_buf(),
    }
}

/// (pipeline, state, attempts) of every stored event.
fn stored_events(state: &Path) -> Vec<(i64, String, i64)> {
    let conn = rusqlite::Connection::open(state).unwrap();
    let mut stmt = conn
        .prepare("SELECT pipeline_id, state, attempts FROM events ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

fn events_done(state: &Path) -> bool {
    let events = stored_events(state);
    !events.is_empty() && events.iter().all(|(_, s, _)| s == "done")
}

/// A pipeline whose test job reports the test cases TC{first}..; Rally knows them.
fn pipeline(rally: &RallySim, gitlab: &GitlabSim, id: u64, cases: std::ops::Range<u32>) {
    let mut xml = String::from("<testsuite name=\"pipeline\">\n");
    for case in cases {
        rally.add_test_case(&format!("TC{case}"), &format!("Step {case}"), None);
        xml.push_str(&format!(
            "  <testcase classname=\"shop.Flow\" name=\"TC{case} step\" time=\"0.5\"/>\n"
        ));
    }
    xml.push_str("</testsuite>\n");
    gitlab.add_pipeline(
        PipelineSpec::new(id, "main", "success")
            .job(JobSpec::new(id * 10 + 2, "unit", "test", "success").artifact("junit.xml", xml)),
    );
}

/// Each test case has exactly one result, and there are `n` of them.
fn assert_each_result_once(rally: &RallySim, n: usize) {
    let mut per_case = std::collections::BTreeMap::new();
    for r in rally.results() {
        *per_case.entry(r.test_case).or_insert(0) += 1;
    }
    assert_eq!(per_case.len(), n, "{per_case:?}");
    assert!(
        per_case.values().all(|c| *c == 1),
        "each result exactly once: {per_case:?}"
    );
    assert_eq!(rally.created("TestCaseResult").len(), n);
}

/// Sends the webhook and waits until Rally got `results` results of it.
fn publish_until(serve: &Serve, rally: &RallySim, body: &[u8], results: usize) {
    let answer = send_webhook(&serve.url, Some(SECRET), "Pipeline Hook", body).unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(
        wait_for(Duration::from_secs(60), || rally
            .created("TestCaseResult")
            .len()
            >= results),
        "publishing did not start: {:?}",
        stored_events(&serve.state())
    );
}

#[test]
fn an_event_killed_in_progress_is_retried_after_a_restart_even_when_the_pid_is_reused() {
    let rally = RallySim::start();
    let gitlab = GitlabSim::start(GITLAB_TOKEN);
    pipeline(&rally, &gitlab, 601, 401..421);
    let dir = temp_dir("pid-reused");
    write_config(&dir.0, &rally);
    let mut serve = start_serve(&dir.0, &rally, &gitlab, &["--max-attempts", "2"]);
    rally.faults().slow_next(10_000, Duration::from_millis(60));
    publish_until(&serve, &rally, &gitlab.pipeline_hook_body(601).unwrap(), 3);
    serve.child.kill().unwrap();
    serve.child.wait().unwrap();
    let before = rally.created("TestCaseResult").len();
    assert!(before < 20, "killed in the middle: {before}");
    rally.faults().clear();
    // The process id written by the killed process now names a live process, as
    // after a container restart: PID 1.
    let outbox = rusqlite::Connection::open(dir.0.join("state/serve.sqlite-outbox.sqlite3"))
        .expect("serve's outbox");
    let taken = outbox
        .execute("UPDATE runs SET owner = '1:0' WHERE status = 'pending'", [])
        .unwrap();
    assert_eq!(taken, 1, "one run was in progress");

    let restarted = start_serve(&dir.0, &rally, &gitlab, &["--max-attempts", "2"]);
    assert!(
        wait_for(Duration::from_secs(90), || events_done(&restarted.state())),
        "{:?}",
        stored_events(&restarted.state())
    );
    assert_each_result_once(&rally, 20);
    // The interrupted try counted: this was the second of two.
    assert_eq!(stored_events(&restarted.state())[0].2, 2);
}

#[test]
fn sigterm_and_sigint_stop_serve_with_exit_0_and_lose_no_event() {
    let rally = RallySim::start();
    let gitlab = GitlabSim::start(GITLAB_TOKEN);
    pipeline(&rally, &gitlab, 602, 501..521);
    let dir = temp_dir("signals");
    write_config(&dir.0, &rally);
    // Each answer takes 100 ms: the publish cannot end within one second of grace.
    let mut serve = start_serve(&dir.0, &rally, &gitlab, &["--shutdown-grace", "1"]);
    rally.faults().slow_next(10_000, Duration::from_millis(100));
    publish_until(&serve, &rally, &gitlab.pipeline_hook_body(602).unwrap(), 2);
    serve.signal("TERM");
    let status = serve.wait_exit();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(rally.created("TestCaseResult").len() < 20);
    // Not lost, not failed: back in the queue, the stopped try not counted.
    assert_eq!(
        stored_events(&serve.state()),
        vec![(602, "pending".to_string(), 0)]
    );
    rally.faults().clear();

    let mut restarted = start_serve(&dir.0, &rally, &gitlab, &[]);
    assert!(
        wait_for(Duration::from_secs(90), || events_done(&restarted.state())),
        "{:?}",
        stored_events(&restarted.state())
    );
    assert_each_result_once(&rally, 20);
    // Idle, SIGINT (Ctrl-C) stops it the same way.
    restarted.signal("INT");
    assert_eq!(restarted.wait_exit().code(), Some(0));
    // A state file is served by one process at a time; a stopped one frees it.
    let again = start_serve(&dir.0, &rally, &gitlab, &[]);
    let second = Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(["serve", "--config"])
        .arg(dir.0.join("tmbridge.toml"))
        .args(["--listen", "127.0.0.1:0", "--state"])
        .arg(again.state())
        .args(["--gitlab-url", &gitlab.url()])
        .env("LIFECYCLE_HOOK_SECRET", SECRET)
        .env("GITLAB_API_TOKEN", GITLAB_TOKEN)
        .env("LIFECYCLE_RALLY_KEY", rally.api_key())
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("another running tmbridge serve") && stderr.contains("--state"),
        "{stderr}"
    );
}

/// Sends `threads` x `each` deliveries of one webhook, all threads starting at once.
fn deliver_concurrently(url: &str, body: &[u8], threads: usize, each: usize) -> Vec<(u16, String)> {
    let start = std::sync::Arc::new(std::sync::Barrier::new(threads));
    let senders: Vec<_> = (0..threads)
        .map(|_| {
            let (url, body, start) = (url.to_string(), body.to_vec(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                (0..each)
                    .map(|_| {
                        let answer =
                            send_webhook(&url, Some(SECRET), "Pipeline Hook", &body).unwrap();
                        (answer.status, answer.text())
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    senders
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect()
}

#[test]
fn concurrent_deliveries_of_one_webhook_all_succeed_and_store_one_event() {
    let rally = RallySim::start();
    let gitlab = GitlabSim::start(GITLAB_TOKEN);
    let dir = temp_dir("duplicates");
    write_config(&dir.0, &rally);
    let serve = start_serve(&dir.0, &rally, &gitlab, &[]);
    // Four events, each delivered 96 times, 16 at once (within the receiver's 4
    // handlers and 16 waiting places, so none is turned away as busy): every round
    // is a fresh race of the handlers for the first insert.
    let pipelines = [603_u64, 604, 605, 606];
    for (round, id) in pipelines.iter().enumerate() {
        let case = 700 + round as u32;
        pipeline(&rally, &gitlab, *id, case..case + 1);
        let answers =
            deliver_concurrently(&serve.url, &gitlab.pipeline_hook_body(*id).unwrap(), 16, 6);
        assert_eq!(answers.len(), 96);
        let refused: Vec<&(u16, String)> = answers.iter().filter(|(s, _)| *s != 200).collect();
        assert!(
            refused.is_empty(),
            "pipeline {id}: {} of {} not 200, first: {:?}",
            refused.len(),
            answers.len(),
            refused[0]
        );
        let queued = answers
            .iter()
            .filter(|(_, t)| t.contains("\"queued\""))
            .count();
        assert_eq!(queued, 1, "one delivery stored it, the others found it");
        let stored = stored_events(&serve.state());
        assert_eq!(stored.len(), round + 1, "{stored:?}");
        assert_eq!(stored[round].0, *id as i64);
    }
    assert!(
        wait_for(Duration::from_secs(60), || events_done(&serve.state())),
        "{:?}",
        stored_events(&serve.state())
    );
    assert_each_result_once(&rally, pipelines.len());
}
