//! `tmbridge serve --target testrail`: a GitLab pipeline webhook ends as cases and
//! results in the TestRail simulator, once, even when the same event comes twice.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tmbridge_simulators::gitlab::{GitlabSim, JobSpec, PipelineSpec, send_webhook};
use tmbridge_simulators::testrail::TestrailSim;

const SECRET: &str = "hook-secret-e2e-testrail";
const GITLAB_TOKEN: &str = "glpat-e2e-testrail";

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

fn start_serve(tr: &TestrailSim, gitlab: &GitlabSim) -> Serve {
    let dir = std::env::temp_dir().join(format!(
        "tmbridge-e2e-serve-testrail-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let s = tr.seeded();
    let config = format!(
        "[testrail]\nurl = \"{}\"\nuser_env = \"E2E_TR_USER\"\napi_key_env = \"E2E_TR_KEY\"\nproject_id = {}\nsection_id = {}\n\n[gitlab]\ntoken_env = \"E2E_HOOK_SECRET\"\nstatuses = [\"success\", \"failed\"]\ntest_stages = [\"test\"]\n",
        tr.url(),
        s.single_project,
        s.single_section
    );
    std::fs::write(dir.join("tmbridge.toml"), config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(["serve", "--target", "testrail", "--config"])
        .arg(dir.join("tmbridge.toml"))
        .args(["--gitlab-url", &gitlab.url()])
        .args(["--listen", "127.0.0.1:0", "--state"])
        .arg(dir.join("serve.sqlite"))
        .args(["--retry-delay", "1"])
        .env("E2E_HOOK_SECRET", SECRET)
        .env("GITLAB_API_TOKEN", GITLAB_TOKEN)
        .env("E2E_TR_USER", &s.user)
        .env("E2E_TR_KEY", &s.api_key)
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
fn a_pipeline_webhook_becomes_testrail_cases_and_results_once() {
    let tr = TestrailSim::start();
    let gitlab = GitlabSim::start(GITLAB_TOKEN);
    gitlab.add_pipeline(
        PipelineSpec::new(900, "main", "failed").job(
            JobSpec::new(9001, "unit", "test", "failed")
                .artifact("junit.xml", REPORT.as_bytes().to_vec()),
        ),
    );
    let serve = start_serve(&tr, &gitlab);
    let body = gitlab.pipeline_hook_body(900).unwrap();
    for expected in ["\"queued\"", "\"duplicate\""] {
        let answer = send_webhook(&serve.url, Some(SECRET), "Pipeline Hook", &body).unwrap();
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert!(answer.text().contains(expected), "{}", answer.text());
    }
    let start = Instant::now();
    while tr.results().len() < 2 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(tr.ledger_of("add_case").len(), 2);
    assert_eq!(tr.results().len(), 2, "each result once");
    let statuses: Vec<u64> = tr
        .results()
        .iter()
        .filter_map(|r| r.fields["status_id"].as_u64())
        .collect();
    assert!(
        statuses.contains(&1) && statuses.contains(&5),
        "{statuses:?}"
    );
    let run = tr.record("runs", tr.results()[0].run_id).unwrap();
    assert_eq!(run["name"], "tmbridge pipeline 900");
}
