//! Who may publish a run of the outbox: while a `tmbridge publish` runs, a second one
//! on the same reports is refused with a message that says what to do; once the first
//! is killed with SIGKILL, the next one resumes the run, even when the process id the
//! killed one wrote belongs to a live process by then (container restarts reuse ids).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tmbridge_simulators::rally::RallySim;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> Dir {
    let dir = std::env::temp_dir().join(format!(
        "tmbridge-publish-lock-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Dir(dir)
}

fn publish_command(dir: &Path, rally: &RallySim) -> Command {
    let s = rally.seeded();
    let config = dir.join("tmbridge.toml");
    std::fs::write(
        &config,
        format!(
            // Small batches: the run takes several creates, so it can be killed in the middle.
            "[rally]\nurl = \"{}\"\napi_key_env = \"LOCK_RALLY_KEY\"\nworkspace = \"{}\"\nproject = \"{}\"\nbatch_size = 2\n",
            rally.url(),
            s.workspace,
            s.project
        ),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tmbridge"));
    cmd.current_dir(dir)
        .args(["publish", "--target", "rally", "--config"])
        .arg(&config)
        .arg("--outbox")
        .arg(dir.join("outbox.sqlite3"))
        .arg(dir.join("junit.xml"))
        .env("LOCK_RALLY_KEY", rally.api_key())
        .env("CI_PIPELINE_ID", "812")
        .env_remove("RALLY_USERNAME")
        .env_remove("RALLY_PASSWORD");
    cmd
}

#[test]
fn a_live_publisher_keeps_its_run_and_a_killed_one_never_blocks_the_rerun() {
    let rally = RallySim::start();
    let dir = temp_dir("kill");
    let n = 16;
    let mut xml = String::from("<testsuite name=\"lock\">\n");
    for i in 0..n {
        rally.add_test_case(&format!("TC{}", 700 + i), &format!("Case {i}"), None);
        xml.push_str(&format!(
            "  <testcase classname=\"lock.Case\" name=\"TC{} case\"/>\n",
            700 + i
        ));
    }
    xml.push_str("</testsuite>\n");
    std::fs::write(dir.0.join("junit.xml"), xml).unwrap();

    // Slow answers keep the first publisher busy in the middle of the run.
    rally.faults().slow_next(10_000, Duration::from_millis(80));
    let mut first = publish_command(&dir.0, &rally)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while rally.created("TestCaseResult").len() < 2 && start.elapsed() < Duration::from_secs(60) {
        assert!(first.try_wait().unwrap().is_none(), "ended too early");
        std::thread::sleep(Duration::from_millis(20));
    }

    // A second publisher of the same run is turned away while the first lives.
    let second = publish_command(&dir.0, &rally).output().unwrap();
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    let outbox = dir.0.join("outbox.sqlite3");
    for part in [
        "run 1 ",
        &outbox.display().to_string(),
        "another running tmbridge process",
        &format!("pid {}", first.id()),
        "wait for it to end",
    ] {
        assert!(stderr.contains(part), "{part:?} missing in {stderr}");
    }

    first.kill().unwrap();
    first.wait().unwrap();
    let before = rally.created("TestCaseResult").len();
    assert!(before < n, "killed in the middle: {before} of {n}");
    rally.faults().clear();
    // The id the killed publisher wrote now names a live process: this one.
    let conn = rusqlite::Connection::open(&outbox).unwrap();
    let updated = conn
        .execute(
            "UPDATE runs SET owner = ?1",
            [format!("{}:0", std::process::id())],
        )
        .unwrap();
    assert_eq!(updated, 1);

    let rerun = publish_command(&dir.0, &rally).output().unwrap();
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    assert_eq!(rerun.status.code(), Some(0), "{stderr}");
    let mut per_case = std::collections::BTreeMap::new();
    for r in rally.results() {
        *per_case.entry(r.test_case).or_insert(0) += 1;
    }
    assert_eq!(per_case.len(), n, "{per_case:?}");
    assert!(per_case.values().all(|c| *c == 1), "{per_case:?}");
    assert_eq!(rally.created("TestCaseResult").len(), n);
}
