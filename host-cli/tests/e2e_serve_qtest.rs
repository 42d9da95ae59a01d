//! `tmbridge serve --target qtest`: a GitLab pipeline webhook ends as test cases, the
//! job's test cycle, runs and one test log per test in the qTest simulator, once, even
//! when the same event comes twice.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tmbridge_simulators::gitlab::{GitlabSim, JobSpec, PipelineSpec, send_webhook};
use tmbridge_simulators::qtest::QtestSim;

const SECRET: &str = "hook-secret-e2e-qtest";
const GITLAB_TOKEN: &str = "glpat-e2e-qtest";

struct Serve {
    child: Child,
    url: String,
    dir: std::path::PathBuf,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const REPORT: &str = r#"<testsuite name="checkout">
  <testcase classname="shop.Cart" name="adds an item" time="0.5"/>
  <testcase classname="shop.Cart" name="pays" time="1.5"><failure message="declined"/></testcase>
</testsuite>"#;

fn start_serve(qtest: &QtestSim, gitlab: &GitlabSim) -> Serve {
    let dir = std::env::temp_dir().join(format!("tmbridge-e2e-serve-qtest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "[qtest]\nurl = \"{}\"\nproject_id = {}\ntoken_env = \"E2E_QTEST_TOKEN\"\ncycle_name = \"{{job_name}}\"\n\n[gitlab]\ntoken_env = \"E2E_HOOK_SECRET\"\nstatuses = [\"success\", \"failed\"]\ntest_stages = [\"test\"]\n",
        qtest.url(),
        qtest.project_id()
    );
    std::fs::write(dir.join("tmbridge.toml"), config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(["serve", "--target", "qtest", "--config"])
        .arg(dir.join("tmbridge.toml"))
        .args(["--gitlab-url", &gitlab.url()])
        .args(["--listen", "127.0.0.1:0", "--state"])
        .arg(dir.join("serve.sqlite"))
        .args(["--retry-delay", "1"])
        .env("E2E_HOOK_SECRET", SECRET)
        .env("GITLAB_API_TOKEN", GITLAB_TOKEN)
        .env("E2E_QTEST_TOKEN", qtest.token())
        .env_remove("TMBRIDGE_QTEST_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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
    Serve { child, url, dir }
}

#[test]
fn a_pipeline_webhook_becomes_qtest_cases_runs_and_logs_once() {
    let qtest = QtestSim::start();
    let gitlab = GitlabSim::start(GITLAB_TOKEN);
    gitlab.add_pipeline(
        PipelineSpec::new(900, "main", "failed").job(
            JobSpec::new(9001, "unit", "test", "failed")
                .artifact("junit.xml", REPORT.as_bytes().to_vec()),
        ),
    );
    let serve = start_serve(&qtest, &gitlab);
    let body = gitlab.pipeline_hook_body(900).unwrap();
    for expected in ["\"queued\"", "\"duplicate\""] {
        let answer = send_webhook(&serve.url, Some(SECRET), "Pipeline Hook", &body).unwrap();
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert!(answer.text().contains(expected), "{}", answer.text());
    }
    let start = Instant::now();
    while qtest.created("test-log").len() < 2 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Give a duplicate publish the time to show itself, were there one.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(qtest.created("test-case").len(), 2);
    assert_eq!(qtest.created("test-run").len(), 2);
    assert_eq!(qtest.created("test-log").len(), 2, "each execution once");
    let cycles: Vec<String> = qtest.cycles().into_iter().map(|c| c.1).collect();
    assert_eq!(cycles, ["unit"], "the job's test cycle");
    let statuses: Vec<String> = qtest
        .logs()
        .iter()
        .map(|l| l.automation_status.clone())
        .collect();
    assert!(
        statuses.iter().any(|s| s == "PASS") && statuses.iter().any(|s| s == "FAIL"),
        "{statuses:?}"
    );
}
