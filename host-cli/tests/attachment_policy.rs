//! A report names the files it attaches, so a report must not be able to make
//! `publish` or `serve` upload any file of the host. Attachments come only from the
//! report's folder tree and the folders allowed with `--attachment-dir` (in `serve`:
//! the job's downloaded artifacts), never special files nor tmbridge's own state; a
//! refused file is listed with the reason and its bytes reach no request.

use base64::Engine;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use tmbridge_simulators::gitlab::{GitlabSim, JobSpec, PipelineSpec, send_webhook};
use tmbridge_simulators::rally::RallySim;

const BIN: &str = env!("CARGO_BIN_EXE_tmbridge");

/// A folder for one test: `report/` holds the report, `elsewhere/` a secret.
struct Case {
    root: PathBuf,
    secret: Vec<u8>,
}

impl Drop for Case {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl Case {
    fn new(name: &str) -> Case {
        let root = std::env::temp_dir().join(format!(
            "tmbridge-attachment-policy-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("report/sub")).unwrap();
        std::fs::create_dir_all(root.join("elsewhere")).unwrap();
        let secret = format!("SECRET-{name}-{}-do-not-upload", std::process::id()).into_bytes();
        std::fs::write(root.join("elsewhere/secret.txt"), &secret).unwrap();
        Case { root, secret }
    }

    fn report_dir(&self) -> PathBuf {
        self.root.join("report")
    }

    fn secret_path(&self) -> String {
        self.root
            .join("elsewhere/secret.txt")
            .to_str()
            .unwrap()
            .to_string()
    }

    /// The configuration, in the report's folder (as it often is, at a repository's
    /// root); it carries the secret in a comment.
    fn config(&self) -> PathBuf {
        let path = self.report_dir().join("tmbridge.toml");
        let text = format!(
            "# {}\n[rally]\nurl = \"https://rally.invalid\"\napi_key_env = \"ATTACH_POLICY_KEY\"\nworkspace = \"/workspace/1\"\nproject = \"/project/2\"\n",
            String::from_utf8_lossy(&self.secret)
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A report in `report/` whose test TC<n> attaches `attachments[n-1]`.
    fn report(&self, attachments: &[&str]) -> PathBuf {
        let path = self.report_dir().join("junit.xml");
        std::fs::write(&path, junit(attachments)).unwrap();
        path
    }

    /// `tmbridge publish --dry-run --format json` on a report attaching `attachments`,
    /// from the case's root (the working directory is above the report's folder).
    fn dry_run_command(&self, attachments: &[&str], extra: &[&str]) -> Command {
        let config = self.config();
        let report = self.report(attachments);
        let mut cmd = Command::new(BIN);
        cmd.current_dir(&self.root)
            .args(["publish", "--target", "rally", "--dry-run", "--quiet"])
            .args(["--format", "json", "--var", "pipeline_id=77"])
            .args(["--now", "2024-05-01T10:00:00Z", "--config"])
            .arg(&config)
            .arg("--outbox")
            .arg(self.report_dir().join(".tmbridge/outbox.sqlite3"))
            .args(extra)
            .arg(&report)
            .env_remove("CI_PIPELINE_ID");
        cmd
    }

    fn dry_run(&self, attachments: &[&str], extra: &[&str]) -> DryRun {
        DryRun::of(
            &self.secret,
            run_bounded(&mut self.dry_run_command(attachments, extra)),
        )
    }
}

/// A JUnit report: test TC<n> fails and attaches the n-th path.
fn junit(attachments: &[&str]) -> String {
    let mut xml = String::from("<testsuite name=\"attachments\">\n");
    for (i, path) in attachments.iter().enumerate() {
        xml.push_str(&format!(
            "  <testcase classname=\"a.B\" name=\"TC{} attaches\"><failure message=\"boom\"/><system-out>[[ATTACHMENT|{path}]]</system-out></testcase>\n",
            i + 1
        ));
    }
    xml.push_str("</testsuite>\n");
    xml
}

/// Runs the command; a run that blocks (on a FIFO, say) fails the test instead of
/// hanging it.
fn run_bounded(cmd: &mut Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tmbridge");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tmbridge blocked: {:?}", child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// What a dry run printed, with the uploaded bytes decoded.
struct DryRun {
    code: Option<i32>,
    json: serde_json::Value,
    uploads: Vec<Vec<u8>>,
    text: String,
}

impl DryRun {
    fn of(secret: &[u8], out: Output) -> DryRun {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
        let uploads: Vec<Vec<u8>> = json["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["body"].as_str())
            .filter_map(|b| serde_json::from_str::<serde_json::Value>(b).ok())
            .filter_map(|b| {
                b["AttachmentContent"]["Content"]
                    .as_str()
                    .map(|c| base64::engine::general_purpose::STANDARD.decode(c).unwrap())
            })
            .collect();
        let run = DryRun {
            code: out.status.code(),
            json,
            uploads,
            text,
        };
        run.assert_secret_absent(secret);
        run
    }

    /// The secret is in no output and no request, raw or encoded.
    fn assert_secret_absent(&self, secret: &[u8]) {
        let shown = String::from_utf8_lossy(secret);
        assert!(!self.text.contains(shown.as_ref()), "{}", self.text);
        for bytes in &self.uploads {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret),
                "the secret was uploaded"
            );
        }
    }

    /// Why the attachment `path` failed, from the report's failed list.
    fn failed(&self, path: &str) -> String {
        let failed = self.json["report"]["failed"].as_array().unwrap();
        failed
            .iter()
            .filter(|e| e["kind"] == "attachment")
            .filter_map(|e| e["why"].as_str())
            .find(|why| why.starts_with(&format!("{path}: ")))
            .unwrap_or_else(|| panic!("{path} is not on the failed list: {}", self.text))
            .to_string()
    }

    fn assert_refused(&self, path: &str, because: &str) {
        let why = self.failed(path);
        assert!(why.contains("refused"), "{why}");
        assert!(why.contains(because), "{why}");
        assert_eq!(
            self.code,
            Some(1),
            "a refusal fails the publish: {}",
            self.text
        );
        assert!(
            self.uploads.is_empty(),
            "nothing is uploaded: {}",
            self.text
        );
    }
}

#[test]
fn files_of_the_report_folder_tree_are_uploaded() {
    let case = Case::new("inside");
    std::fs::write(case.report_dir().join("shot.png"), b"PNG next to it").unwrap();
    std::fs::write(case.report_dir().join("sub/log.txt"), b"LOG below it").unwrap();
    let run = case.dry_run(&["shot.png", "sub/log.txt"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.text);
    let mut uploads = run.uploads.clone();
    uploads.sort();
    assert_eq!(
        uploads,
        vec![b"LOG below it".to_vec(), b"PNG next to it".to_vec()]
    );
}

#[test]
fn an_absolute_path_outside_the_report_folder_is_refused() {
    let case = Case::new("absolute");
    let secret = case.secret_path();
    let run = case.dry_run(&[&secret], &[]);
    run.assert_refused(&secret, "--attachment-dir");
    assert!(run.failed(&secret).contains("the report's folder"));
}

#[test]
fn an_allowed_folder_is_read_by_absolute_and_relative_path() {
    let case = Case::new("allowed");
    let secret = case.secret_path();
    let allowed = case.root.join("elsewhere");
    let run = DryRun::of(
        b"nothing to hide here",
        run_bounded(
            &mut case.dry_run_command(&[&secret], &["--attachment-dir", allowed.to_str().unwrap()]),
        ),
    );
    assert_eq!(run.code, Some(0), "{}", run.text);
    assert_eq!(run.uploads, vec![case.secret.clone()]);
    std::fs::write(case.root.join("elsewhere/other.txt"), b"other").unwrap();
    let run = DryRun::of(
        b"nothing to hide here",
        run_bounded(&mut case.dry_run_command(
            &["other.txt"],
            &["--attachment-dir", allowed.to_str().unwrap()],
        )),
    );
    assert_eq!(run.uploads, vec![b"other".to_vec()], "{}", run.text);
}

#[test]
fn a_missing_allowed_folder_is_a_usage_error() {
    let case = Case::new("nofolder");
    let out = run_bounded(
        &mut case.dry_run_command(&["shot.png"], &["--attachment-dir", "no-such-folder"]),
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("--attachment-dir no-such-folder"), "{text}");
}

#[test]
fn a_dot_dot_escape_is_refused() {
    let case = Case::new("dotdot");
    let run = case.dry_run(&["../elsewhere/secret.txt"], &[]);
    run.assert_refused("../elsewhere/secret.txt", "`..`");
}

#[test]
fn a_path_relative_to_the_working_directory_is_not_read() {
    // The working directory is the case's root, above the report's folder.
    let case = Case::new("cwd");
    std::fs::copy(case.secret_path(), case.root.join("cwd-secret.txt")).unwrap();
    let run = case.dry_run(&["cwd-secret.txt"], &[]);
    assert!(run.uploads.is_empty(), "{}", run.text);
    assert!(
        run.text
            .contains("cwd-secret.txt: the host could not find or read the file"),
        "noted on the result as not found: {}",
        run.text
    );
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_leading_outside_is_refused() {
    let case = Case::new("symlink");
    std::os::unix::fs::symlink(case.secret_path(), case.report_dir().join("shot.png")).unwrap();
    let run = case.dry_run(&["shot.png"], &[]);
    run.assert_refused("shot.png", "symbolic link");
}

#[cfg(target_os = "linux")]
#[test]
fn the_process_environment_is_not_read() {
    let case = Case::new("environ");
    let mut cmd = case.dry_run_command(&["/proc/self/environ"], &[]);
    cmd.env(
        "ATTACH_POLICY_TOKEN",
        String::from_utf8_lossy(&case.secret).as_ref(),
    );
    let out = run_bounded(&mut cmd);
    let run = DryRun::of(&case.secret, out);
    run.assert_refused("/proc/self/environ", "outside");
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_blocking() {
    let case = Case::new("fifo");
    let fifo = case.report_dir().join("pipe.log");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo");
    let run = case.dry_run(&["pipe.log"], &[]);
    run.assert_refused("pipe.log", "FIFO");
}

#[test]
fn the_outbox_and_its_siblings_are_never_attached() {
    let case = Case::new("outbox");
    let state = case.report_dir().join(".tmbridge");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("outbox.sqlite3"), &case.secret).unwrap();
    std::fs::write(state.join("outbox.sqlite3-wal"), &case.secret).unwrap();
    let run = case.dry_run(
        &[".tmbridge/outbox.sqlite3", ".tmbridge/outbox.sqlite3-wal"],
        &[],
    );
    run.assert_refused(".tmbridge/outbox.sqlite3", "own state");
    run.assert_refused(".tmbridge/outbox.sqlite3-wal", "own state");
}

#[test]
fn the_configuration_file_is_never_attached() {
    let case = Case::new("config");
    let run = case.dry_run(&["tmbridge.toml"], &[]);
    run.assert_refused("tmbridge.toml", "own state");
}

/// A real publish to the Rally simulator: the allowed files arrive byte for byte, the
/// refused ones are listed under Failed with the reason, and no secret reaches Rally.
#[test]
fn publish_uploads_the_allowed_files_and_lists_the_refused_ones() {
    let case = Case::new("rally");
    let rally = RallySim::start();
    for id in 1..=4 {
        rally.add_test_case(&format!("TC{id}"), "attaches", None);
    }
    let s = rally.seeded();
    let config = case.report_dir().join("tmbridge.toml");
    std::fs::write(
        &config,
        format!(
            "[rally]\nurl = \"{}\"\napi_key_env = \"ATTACH_POLICY_KEY\"\nworkspace = \"{}\"\nproject = \"{}\"\n",
            rally.url(),
            s.workspace,
            s.project
        ),
    )
    .unwrap();
    std::fs::write(case.report_dir().join("shot.png"), b"PNG").unwrap();
    std::fs::write(case.report_dir().join("sub/log.txt"), b"LOG").unwrap();
    let secret = case.secret_path();
    let report = case.report(&["shot.png", "sub/log.txt", &secret, "tmbridge.toml"]);
    let out = run_bounded(
        Command::new(BIN)
            .current_dir(&case.root)
            .args(["publish", "--target", "rally", "--quiet"])
            .args(["--var", "pipeline_id=77", "--config"])
            .arg(&config)
            .arg("--outbox")
            .arg(case.report_dir().join(".tmbridge/outbox.sqlite3"))
            .arg(&report)
            .env("ATTACH_POLICY_KEY", rally.api_key())
            .env_remove("CI_PIPELINE_ID"),
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    let mut uploaded: Vec<Vec<u8>> = rally
        .created("Attachment")
        .iter()
        .filter_map(|a| rally.attachment_bytes(&a.reference))
        .collect();
    uploaded.sort();
    assert_eq!(uploaded, vec![b"LOG".to_vec(), b"PNG".to_vec()], "{text}");
    assert_eq!(rally.created("AttachmentContent").len(), 2, "{text}");
    // The table lists both refusals under Failed, saying what to do.
    let failed = text.split("Failed:").nth(1).unwrap_or_default();
    let line = |path: &str| {
        failed
            .lines()
            .find(|l| l.contains(&format!("{path}: ")))
            .unwrap_or_else(|| panic!("{path} not under Failed: {text}"))
            .to_string()
    };
    assert!(line(&secret).contains("--attachment-dir"), "{text}");
    assert!(line("tmbridge.toml").contains("own state"), "{text}");
    assert!(!text.contains(String::from_utf8_lossy(&case.secret).as_ref()));
}

/// `serve` attaches only what it downloaded from the job's artifacts: absolute paths
/// naming files of its own host (a secret, its event store, its configuration, the
/// process environment) are refused, and the store keeps working.
#[test]
fn serve_reads_attachments_only_from_the_jobs_artifacts() {
    const HOOK_SECRET: &str = "hook-secret-attach";
    const GITLAB_TOKEN: &str = "glpat-attach";
    let case = Case::new("serve");
    let rally = RallySim::start();
    let gitlab = GitlabSim::start(GITLAB_TOKEN);
    for id in 1..=5 {
        rally.add_test_case(&format!("TC{id}"), "attaches", None);
    }
    let s = rally.seeded();
    let config = case.root.join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "# {}\n[rally]\nurl = \"{}\"\napi_key_env = \"ATTACH_POLICY_KEY\"\nworkspace = \"{}\"\nproject = \"{}\"\n\n[gitlab]\ntoken_env = \"ATTACH_HOOK_SECRET\"\nstatuses = [\"success\", \"failed\"]\ntest_stages = [\"test\"]\n",
            String::from_utf8_lossy(&case.secret),
            rally.url(),
            s.workspace,
            s.project
        ),
    )
    .unwrap();
    let state = case.root.join("state/serve.sqlite");
    let secret = case.secret_path();
    let attachments = [
        "shots/ok.png",
        secret.as_str(),
        state.to_str().unwrap(),
        config.to_str().unwrap(),
        "/proc/self/environ",
    ];
    gitlab.add_pipeline(
        PipelineSpec::new(601, "main", "failed").job(
            JobSpec::new(6011, "unit", "test", "failed")
                .artifact("junit.xml", junit(&attachments).into_bytes())
                .artifact("shots/ok.png", b"PNG from the job".to_vec()),
        ),
    );
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--listen", "127.0.0.1:0", "--state"])
        .arg(&state)
        .args(["--retry-delay", "1", "--gitlab-url", &gitlab.url()])
        .env("ATTACH_HOOK_SECRET", HOOK_SECRET)
        .env("GITLAB_API_TOKEN", GITLAB_TOKEN)
        .env("ATTACH_POLICY_KEY", rally.api_key())
        .env(
            "ATTACH_POLICY_TOKEN",
            String::from_utf8_lossy(&case.secret).as_ref(),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run tmbridge serve");
    struct Stop(Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _serve = Stop(child);
    let url = line
        .trim()
        .trim_start_matches("tmbridge serve: listening on ")
        .to_string();
    let body = gitlab.pipeline_hook_body(601).unwrap();
    let answer = send_webhook(&url, Some(HOOK_SECRET), "Pipeline Hook", &body).unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text());

    let stored = || -> Option<(String, Option<String>)> {
        let conn = rusqlite::Connection::open(&state).ok()?;
        conn.query_row("SELECT state, report FROM events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .ok()
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    let (status, report) = loop {
        match stored() {
            Some((status, report)) if status == "done" || status == "failed" => {
                break (status, report.unwrap_or_default());
            }
            _ if Instant::now() > deadline => panic!("not published: {:?}", stored()),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    assert_eq!(status, "done", "{report}");
    let uploaded: Vec<Vec<u8>> = rally
        .created("Attachment")
        .iter()
        .filter_map(|a| rally.attachment_bytes(&a.reference))
        .collect();
    assert_eq!(uploaded, vec![b"PNG from the job".to_vec()], "{report}");
    assert_eq!(rally.created("AttachmentContent").len(), 1, "{report}");
    let json: serde_json::Value = serde_json::from_str(&report).unwrap();
    let failed: Vec<String> = json["report"]["failed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["why"].as_str().map(str::to_string))
        .collect();
    for path in &attachments[1..] {
        let why = failed
            .iter()
            .find(|w| w.starts_with(&format!("{path}: ")))
            .unwrap_or_else(|| panic!("{path} not failed: {report}"));
        assert!(why.contains("job's artifacts"), "{why}");
    }
    assert!(!report.contains(String::from_utf8_lossy(&case.secret).as_ref()));
}
