//! Receivers and workers of `tmbridge serve --queue` / `tmbridge worker` as real
//! processes against the GitLab and Rally simulators, and a webhook sender that
//! retries as GitLab does (on 5xx and lost connections).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tmbridge_simulators::gitlab::{GitlabSim, JobSpec, PipelineSpec, send_webhook};
use tmbridge_simulators::rally::RallySim;

pub const SECRET: &str = "hook-secret-queue";
pub const GITLAB_TOKEN: &str = "glpat-queue";
/// Test cases in Rally; each pipeline reports two of them.
pub const CASES: u64 = 10;

pub struct Setup {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub rally: RallySim,
    pub gitlab: GitlabSim,
    /// The broker's URL (`--queue`).
    pub queue: String,
    binary: PathBuf,
    spawned: AtomicU64,
}

/// The two test cases pipeline `id` reports.
pub fn cases_of(id: u64) -> [String; 2] {
    [
        format!("TC{}", id % CASES + 1),
        format!("TC{}", (id + 3) % CASES + 1),
    ]
}

pub fn junit(id: u64) -> String {
    let [a, b] = cases_of(id);
    format!(
        "<testsuite name=\"pipeline\">\n  <testcase classname=\"shop.Flow\" name=\"{a} step\" time=\"0.5\"/>\n  <testcase classname=\"shop.Flow\" name=\"{b} step\" time=\"0.2\"><failure message=\"boom\">boom</failure></testcase>\n</testsuite>\n"
    )
}

impl Setup {
    /// `binary` is the `tmbridge` to run.
    pub fn new(name: &str, queue: String, binary: &Path) -> Setup {
        let dir =
            std::env::temp_dir().join(format!("tmbridge-queue-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let rally = RallySim::start();
        for n in 1..=CASES {
            rally.add_test_case(&format!("TC{n}"), &format!("Step {n}"), None);
        }
        let gitlab = GitlabSim::start(GITLAB_TOKEN);
        let s = rally.seeded();
        let config = dir.join("tmbridge.toml");
        std::fs::write(
            &config,
            format!(
                "[rally]\nurl = \"{}\"\napi_key_env = \"QUEUE_RALLY_KEY\"\nworkspace = \"{}\"\nproject = \"{}\"\n\n[gitlab]\ntoken_env = \"QUEUE_HOOK_SECRET\"\nstatuses = [\"success\", \"failed\"]\ntest_stages = [\"test\"]\n",
                rally.url(),
                s.workspace,
                s.project
            ),
        )
        .unwrap();
        Setup {
            dir,
            config,
            rally,
            gitlab,
            queue,
            binary: binary.to_path_buf(),
            spawned: AtomicU64::new(0),
        }
    }

    /// Pipelines `ids` in GitLab, each with a test job whose artifacts hold a report.
    pub fn add_pipelines(&self, ids: impl IntoIterator<Item = u64>) {
        for id in ids {
            self.add_pipeline_with(id, junit(id).into_bytes());
        }
    }

    pub fn add_pipeline_with(&self, id: u64, report: Vec<u8>) {
        self.gitlab
            .add_pipeline(PipelineSpec::new(id, "main", "success").job(
                JobSpec::new(id * 10 + 1, "unit", "test", "success").artifact("junit.xml", report),
            ));
    }

    pub fn hook(&self, id: u64) -> Vec<u8> {
        self.gitlab.pipeline_hook_body(id).unwrap()
    }

    fn spawn(&self, role: &str, args: &[&str]) -> Proc {
        self.spawn_with(role, args, &[])
    }

    fn spawn_with(&self, role: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let n = self.spawned.fetch_add(1, Ordering::SeqCst);
        let log = self.dir.join(format!("{role}-{n}.log"));
        let mut child = Command::new(&self.binary)
            .args(args)
            .current_dir(&self.dir)
            .env("QUEUE_HOOK_SECRET", SECRET)
            .env("GITLAB_API_TOKEN", GITLAB_TOKEN)
            .env("QUEUE_RALLY_KEY", self.rally.api_key())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .unwrap_or_else(|e| panic!("run tmbridge {role}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let mut url = None;
        if role != "worker" {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).unwrap();
            url = Some(
                line.trim()
                    .strip_prefix("tmbridge serve: listening on ")
                    .unwrap_or_else(|| {
                        panic!(
                            "unexpected first line {line:?}; log:\n{}",
                            std::fs::read_to_string(&log).unwrap_or_default()
                        )
                    })
                    .to_string(),
            );
        }
        Proc { child, url, log }
    }

    /// `tmbridge serve --queue`: a receiver only.
    pub fn receiver(&self) -> Proc {
        let config = self.config.to_string_lossy().into_owned();
        self.spawn(
            "receiver",
            &[
                "serve",
                "--queue",
                &self.queue,
                "--config",
                &config,
                "--listen",
                "127.0.0.1:0",
            ],
        )
    }

    /// `tmbridge worker`, sharing the outbox of every worker of this setup.
    pub fn worker(&self, extra: &[&str]) -> Proc {
        self.worker_for(&self.config, extra, &[])
    }

    /// `tmbridge worker` with another configuration and environment (other targets).
    pub fn worker_for(&self, config: &Path, extra: &[&str], env: &[(&str, &str)]) -> Proc {
        let config = config.to_string_lossy().into_owned();
        let outbox = self
            .dir
            .join("outbox.sqlite3")
            .to_string_lossy()
            .into_owned();
        let gitlab = self.gitlab.url();
        let mut args = vec![
            "worker",
            "--queue",
            &self.queue,
            "--config",
            &config,
            "--gitlab-url",
            &gitlab,
            "--outbox",
            &outbox,
            "--retry-delay",
            "1",
        ];
        args.extend_from_slice(extra);
        self.spawn_with("worker", &args, env)
    }

    /// `tmbridge serve` in its SQLite mode: receiver and publisher in one process.
    pub fn sqlite_serve(&self) -> Proc {
        let config = self.config.to_string_lossy().into_owned();
        let state = self.dir.join("serve.sqlite").to_string_lossy().into_owned();
        let gitlab = self.gitlab.url();
        self.spawn(
            "serve",
            &[
                "serve",
                "--config",
                &config,
                "--gitlab-url",
                &gitlab,
                "--listen",
                "127.0.0.1:0",
                "--state",
                &state,
                "--retry-delay",
                "1",
            ],
        )
    }

    /// `tmbridge queue ...` with `--format json`: its exit code and parsed output.
    pub fn queue_command(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let out = Command::new(&self.binary)
            .arg("queue")
            .args(args)
            .args(["--queue", &self.queue, "--format", "json"])
            .output()
            .expect("run tmbridge queue");
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "tmbridge queue {args:?} printed no JSON ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), json)
    }

    /// Results in Rally per (build, test case).
    pub fn ledger_counts(&self) -> std::collections::BTreeMap<(String, String), usize> {
        let mut counts = std::collections::BTreeMap::new();
        for r in self.rally.results() {
            *counts.entry((r.build, r.test_case)).or_insert(0) += 1;
        }
        counts
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub struct Proc {
    child: Child,
    /// A receiver's webhook URL.
    pub url: Option<String>,
    log: PathBuf,
}

impl Proc {
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        self.child.wait().ok().and_then(|s| s.code())
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn url(&self) -> &str {
        self.url.as_deref().expect("a receiver")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What sending webhooks met.
#[derive(Default, Debug)]
pub struct Sent {
    pub accepted: AtomicU64,
    /// 503s (the broker down or refusing), retried.
    pub unavailable: AtomicU64,
    /// Connections refused or cut, retried.
    pub lost: AtomicU64,
}

/// Sends every `(pipeline, body)` to the receivers in turn from `threads` threads, each
/// retried until answered 200 as GitLab would (it retries 5xx and lost connections).
pub fn send_all(
    urls: &[String],
    hooks: Vec<(u64, Vec<u8>)>,
    threads: usize,
    sent: &Arc<Sent>,
    give_up_after: Duration,
) -> std::thread::JoinHandle<()> {
    let queue = Arc::new(Mutex::new(hooks));
    let urls = urls.to_vec();
    let sent = sent.clone();
    std::thread::spawn(move || {
        let senders: Vec<_> = (0..threads)
            .map(|t| {
                let (queue, urls, sent) = (queue.clone(), urls.clone(), sent.clone());
                std::thread::spawn(move || {
                    let start = Instant::now();
                    loop {
                        let Some((id, body)) = queue.lock().unwrap().pop() else {
                            return;
                        };
                        let mut turn = t + id as usize;
                        loop {
                            let url = &urls[turn % urls.len()];
                            turn += 1;
                            match send_webhook(url, Some(SECRET), "Pipeline Hook", &body) {
                                Ok(r) if r.status == 200 => {
                                    sent.accepted.fetch_add(1, Ordering::SeqCst);
                                    break;
                                }
                                Ok(r) if r.status == 503 => {
                                    sent.unavailable.fetch_add(1, Ordering::SeqCst);
                                }
                                Ok(r) => {
                                    panic!("pipeline {id}: answered {} {}", r.status, r.text())
                                }
                                Err(_) => {
                                    sent.lost.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                            assert!(
                                start.elapsed() < give_up_after,
                                "pipeline {id} was not accepted within {give_up_after:?}"
                            );
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    }
                })
            })
            .collect();
        for s in senders {
            s.join().unwrap();
        }
    })
}

/// Waits until `done` holds or `limit` passes; says which.
pub fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    done()
}
