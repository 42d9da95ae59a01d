//! `requirements import --watch` killed with SIGKILL at many moments (while polling,
//! while writing, while sleeping) and started again: every change reaches --out once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tmbridge_simulators::client;
use tmbridge_simulators::faults::{FaultKind, Match};
use tmbridge_simulators::rally::RallySim;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir() -> Dir {
    let dir = std::env::temp_dir().join(format!("tmbridge-watch-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Dir(dir)
}

fn config(dir: &Path, rally: &RallySim) -> PathBuf {
    let text = format!(
        "[rally]\nurl = \"{}\"\napi_key_env = \"WATCH_RALLY_KEY\"\nworkspace = \"{}\"\nproject = \"{}\"\n",
        rally.url(),
        rally.seeded().workspace,
        rally.seeded().project
    );
    let path = dir.join("tmbridge.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn watch(rally: &RallySim, cfg: &Path, dir: &Path, polls: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tmbridge"));
    command
        .args(["requirements", "import", "--target", "rally", "--config"])
        .arg(cfg)
        .args(["--watch", "--interval", "100ms", "--quiet", "--state"])
        .arg(dir.join("state.json"))
        .arg("--out")
        .arg(dir.join("stories.ndjson"))
        .env("WATCH_RALLY_KEY", rally.api_key())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(n) = polls {
        command.args(["--polls", n]);
    }
    command
}

/// Renames a story through WSAPI, as a person editing it in Rally would.
fn rename(rally: &RallySim, story: &str, name: &str) {
    let body = serde_json::json!({"HierarchicalRequirement": {"Name": name}}).to_string();
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

fn kill(mut child: Child) {
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
}

#[test]
fn a_watch_killed_at_any_moment_neither_misses_nor_repeats_a_change() {
    let rally = RallySim::start();
    let dir = temp_dir();
    let cfg = config(&dir.0, &rally);
    // Story queries answer slowly, so some kills land inside a poll.
    rally.faults().add(
        FaultKind::Slow(Duration::from_millis(120)),
        Match::path("hierarchicalrequirement"),
        10_000,
    );
    let mut stories = Vec::new();
    // Kill after these many milliseconds: before the first answer, inside a poll,
    // between polls, after several polls.
    let delays = [60, 180, 260, 90, 450, 140, 700, 30];
    for (round, delay) in delays.iter().enumerate() {
        stories.push(rally.add_user_story(
            &format!("US95{round}"),
            &format!("Story {round}"),
            None,
        ));
        if round > 0 {
            rename(
                &rally,
                &stories[round - 1],
                &format!("Story {} (edited)", round - 1),
            );
        }
        let child = watch(&rally, &cfg, &dir.0, None).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(*delay));
        kill(child);
    }
    rename(&rally, &stories[0], "Story 0 (edited again)");
    let last = watch(&rally, &cfg, &dir.0, Some("1"))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(
        last.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );

    let text = std::fs::read_to_string(dir.0.join("stories.ndjson")).unwrap();
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for line in text.lines() {
        let story: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("a broken line {line:?}: {e}"));
        let key = (
            story["ref"].as_str().unwrap().to_string(),
            story["last_update_date"].as_str().unwrap().to_string(),
        );
        *seen.entry(key).or_default() += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "changes written twice: {repeated:?}");
    // Every story's latest version is there.
    let versions: BTreeSet<&(String, String)> = seen.keys().collect();
    for story in &stories {
        let now = rally.object(story).unwrap();
        let updated = now["LastUpdateDate"].as_str().unwrap().to_string();
        assert!(
            versions.contains(&(story.clone(), updated.clone())),
            "{story} at {updated} is missing: {versions:?}"
        );
    }
}
