//! `tmbridge publish` sends each result once even when its outbox does not survive:
//! deleted, emptied, missing its write-ahead log, or replaced by an older copy, and
//! across a campaign of kill -9 at many points. The Rally simulator's ledger is the
//! judge. The runs use the real clock, as CI does: a rerun has another `now`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use tmbridge_simulators::rally::RallySim;

/// Tests in the report; every fifth fails and attaches a screenshot.
const TESTS: usize = 30;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A folder with the configuration, the report and its screenshots.
fn workdir(name: &str, rally: &RallySim) -> Dir {
    let dir = std::env::temp_dir().join(format!("tmbridge-identity-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let s = rally.seeded();
    std::fs::write(
        dir.join("tmbridge.toml"),
        format!(
            "[rally]\nurl = \"{}\"\napi_key_env = \"IDENTITY_RALLY_KEY\"\nworkspace = \"{}\"\nproject = \"{}\"\n",
            rally.url(),
            s.workspace,
            s.project
        ),
    )
    .unwrap();
    let mut xml = String::from("<testsuite name=\"web\">\n");
    for i in 0..TESTS {
        let id = 201 + i;
        if i % 5 == 4 {
            xml.push_str(&format!(
                "  <testcase classname=\"web.Flow\" name=\"TC{id} step {i}\" time=\"0.{i}\"><failure message=\"no\">boom</failure><system-out>[[ATTACHMENT|shot-{i}.png]]</system-out></testcase>\n"
            ));
            std::fs::write(dir.join(format!("shot-{i}.png")), format!("png bytes {i}")).unwrap();
        } else {
            xml.push_str(&format!(
                "  <testcase classname=\"web.Flow\" name=\"TC{id} step {i}\" time=\"0.{i}\"/>\n"
            ));
        }
    }
    xml.push_str("</testsuite>\n");
    std::fs::write(dir.join("junit.xml"), xml).unwrap();
    for i in 0..TESTS {
        rally.add_test_case(&format!("TC{}", 201 + i), &format!("Step {i}"), None);
    }
    Dir(dir)
}

fn outbox(dir: &Path) -> PathBuf {
    dir.join("outbox.sqlite3")
}

/// The outbox and its SQLite companions (`-wal`, `-shm`).
fn outbox_files(dir: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| dir.join(format!("outbox.sqlite3{s}")))
        .collect()
}

fn publish(dir: &Path, rally: &RallySim) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tmbridge"));
    cmd.current_dir(dir)
        .args([
            "publish",
            "--target",
            "rally",
            "--config",
            "tmbridge.toml",
            "--quiet",
            "--timeout",
            "20",
            "--outbox",
        ])
        .arg(outbox(dir))
        .arg("junit.xml")
        .env("IDENTITY_RALLY_KEY", rally.api_key())
        .env("CI_PIPELINE_ID", "4711")
        .env("CI_JOB_NAME", "e2e")
        .env("CI_JOB_ID", "90001")
        .env_remove("RALLY_USERNAME")
        .env_remove("RALLY_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn run(dir: &Path, rally: &RallySim) -> Output {
    publish(dir, rally).output().expect("run tmbridge publish")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Each test case has exactly one result, each screenshot is attached exactly once
/// to it, and no upload is left without an attachment.
fn assert_each_once(rally: &RallySim, what: &str) {
    let mut per_case: BTreeMap<String, usize> = BTreeMap::new();
    let mut shots: BTreeMap<String, usize> = BTreeMap::new();
    for r in rally.results() {
        *per_case.entry(r.test_case.clone()).or_default() += 1;
        for (name, _, _) in &r.attachments {
            *shots.entry(name.clone()).or_default() += 1;
        }
    }
    assert_eq!(per_case.len(), TESTS, "{what}: results lost: {per_case:?}");
    assert!(
        per_case.values().all(|n| *n == 1),
        "{what}: duplicate results: {:?}",
        per_case.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
    );
    assert_eq!(
        rally.created("TestCaseResult").len(),
        TESTS,
        "{what}: the ledger shows each result created once"
    );
    assert_eq!(
        shots.len(),
        TESTS / 5,
        "{what}: screenshots lost: {shots:?}"
    );
    assert!(
        shots.values().all(|n| *n == 1),
        "{what}: screenshots attached twice: {shots:?}"
    );
}

/// A full run, then `damage` to the outbox, then a second run: nothing new.
fn rerun_after(name: &str, damage: impl Fn(&Path)) {
    let rally = RallySim::start();
    let dir = workdir(name, &rally);
    let first = run(&dir.0, &rally);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert_each_once(&rally, "first run");
    damage(&dir.0);
    let again = run(&dir.0, &rally);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_each_once(&rally, name);
    assert!(
        rally.unused_contents().is_empty(),
        "{:?}",
        rally.unused_contents()
    );
}

#[test]
fn a_rerun_without_its_outbox_sends_nothing_twice() {
    rerun_after("deleted", |dir| {
        for f in outbox_files(dir) {
            let _ = std::fs::remove_file(f);
        }
    });
}

#[test]
fn a_rerun_with_an_emptied_outbox_sends_nothing_twice() {
    rerun_after("emptied", |dir| {
        std::fs::write(outbox(dir), b"").unwrap();
        for f in &outbox_files(dir)[1..] {
            let _ = std::fs::remove_file(f);
        }
    });
}

/// Starts a publish whose every answer comes slowly, so it can be cut short.
fn slow_publish(dir: &Path, rally: &RallySim) -> Child {
    rally.faults().slow_next(100_000, Duration::from_millis(40));
    publish(dir, rally)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until Rally holds at least `records` created records (results,
/// attachments, contents, the test set), or the child ended.
fn wait_for(rally: &RallySim, child: &mut Child, records: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while rally.ledger().len() < records {
        assert!(Instant::now() < deadline, "Rally saw no progress");
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn kill(mut child: Child) {
    // SIGKILL: no handler, no cleanup.
    let _ = child.kill();
    child.wait().unwrap();
}

#[test]
fn a_rerun_with_an_outbox_missing_its_write_ahead_log_sends_nothing_twice() {
    let rally = RallySim::start();
    let dir = workdir("no-wal", &rally);
    let mut child = slow_publish(&dir.0, &rally);
    wait_for(&rally, &mut child, 12);
    kill(child);
    rally.faults().clear();
    let before = rally.created("TestCaseResult").len();
    assert!(before > 0 && before < TESTS, "cut short: {before} sent");
    // What the killed process committed lives in the log: drop it.
    let wal = dir.0.join("outbox.sqlite3-wal");
    assert!(wal.is_file(), "a killed run leaves its log behind");
    std::fs::remove_file(&wal).unwrap();
    let _ = std::fs::remove_file(dir.0.join("outbox.sqlite3-shm"));
    let again = run(&dir.0, &rally);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_each_once(&rally, "outbox without its log");
}

#[test]
fn a_rerun_from_an_older_copy_of_the_outbox_sends_nothing_twice() {
    let rally = RallySim::start();
    let dir = workdir("older-copy", &rally);
    let copy = dir.0.join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    let mut child = slow_publish(&dir.0, &rally);
    wait_for(&rally, &mut child, 10);
    // A copy taken while the run goes on (as a CI cache or a backup would).
    for f in outbox_files(&dir.0) {
        if f.is_file() && !f.to_string_lossy().ends_with("-shm") {
            std::fs::copy(&f, copy.join(f.file_name().unwrap())).unwrap();
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "the first run finishes");
    rally.faults().clear();
    assert_each_once(&rally, "first run");
    for f in outbox_files(&dir.0) {
        let _ = std::fs::remove_file(&f);
        let saved = copy.join(f.file_name().unwrap());
        if saved.is_file() {
            std::fs::copy(&saved, &f).unwrap();
        }
    }
    let again = run(&dir.0, &rally);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_each_once(&rally, "older copy of the outbox");
    assert!(
        rally.unused_contents().is_empty(),
        "{:?}",
        rally.unused_contents()
    );
}

#[test]
fn a_kill_9_campaign_loses_nothing_and_duplicates_nothing() {
    let rally = RallySim::start();
    let dir = workdir("campaign", &rally);
    // Kill at more and more records in Rally; after every other kill the outbox
    // is lost as well.
    let mut kills = 0;
    for (round, records) in [3, 9, 16, 24, 33, 41].into_iter().enumerate() {
        let mut child = slow_publish(&dir.0, &rally);
        wait_for(&rally, &mut child, records);
        if child.try_wait().unwrap().is_some() {
            break;
        }
        kill(child);
        kills += 1;
        rally.faults().clear();
        if round % 2 == 1 {
            for f in outbox_files(&dir.0) {
                let _ = std::fs::remove_file(f);
            }
        }
    }
    assert!(kills >= 3, "the run was cut short {kills} times");
    let last = run(&dir.0, &rally);
    assert_eq!(last.status.code(), Some(0), "{}", text(&last));
    assert_each_once(&rally, "after the kills");
    // An upload whose answer a kill cut off cannot be found again (Rally has no
    // query for AttachmentContent): at most one per kill.
    assert!(
        rally.unused_contents().len() <= kills,
        "{} uploads left behind after {kills} kills",
        rally.unused_contents().len()
    );
}
