//! Runs the simulators for manual tries:
//!
//! ```text
//! tmbridge-simulators [--rally 127.0.0.1:8081] [--gitlab 127.0.0.1:8082] [--gitlab-token TOKEN]
//!                     [--qtest 127.0.0.1:8084] [--gitlab-demo-pipeline] [--testrail 127.0.0.1:8083]
//!                     [--rally-test-cases N]
//! ```
//!
//! `--rally-test-cases N` seeds Rally test cases `TC1` to `TCN` (named `Case 1`, ...) in
//! the seeded project, for benchmarks (`scripts/bench-publish.sh`).
//!
//! `--gitlab-demo-pipeline` adds pipeline 1001 on `main` (failed) with a `unit-tests` job
//! whose artifacts are `junit.xml` (two passed tests, one failed) and `screenshots/login.png`,
//! and a `lint` job without artifacts.
//!
//! It prints the URLs and credentials, then serves until it is killed. Faults can be
//! armed with `curl -X POST 'http://127.0.0.1:8081/__sim/faults?kind=server_error&count=3'`.

use std::process::ExitCode;
use tmbridge_simulators::gitlab::{GitlabSim, JobSpec, PipelineSpec};
use tmbridge_simulators::qtest::QtestSim;
use tmbridge_simulators::rally::RallySim;
use tmbridge_simulators::testrail::TestrailSim;

fn main() -> ExitCode {
    let mut rally_addr = "127.0.0.1:0".to_string();
    let mut gitlab_addr = "127.0.0.1:0".to_string();
    let mut qtest_addr = "127.0.0.1:0".to_string();
    let mut token = "glpat-simulated-token".to_string();
    let mut demo = false;
    let mut testrail_addr = None;
    let mut test_cases: u64 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--gitlab-demo-pipeline" {
            demo = true;
            continue;
        }
        let value = args.next();
        match (a.as_str(), value) {
            ("--rally", Some(v)) => rally_addr = v,
            ("--gitlab", Some(v)) => gitlab_addr = v,
            ("--gitlab-token", Some(v)) => token = v,
            ("--testrail", Some(v)) => testrail_addr = Some(v),
            ("--qtest", Some(v)) => qtest_addr = v,
            ("--rally-test-cases", Some(v)) if v.parse::<u64>().is_ok() => {
                test_cases = v.parse().unwrap_or(0)
            }
            _ => {
                eprintln!(
                    "usage: tmbridge-simulators [--rally ADDR] [--gitlab ADDR] [--gitlab-token TOKEN] [--gitlab-demo-pipeline] [--testrail ADDR] [--qtest ADDR] [--rally-test-cases N]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let rally = match RallySim::bind(&rally_addr) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the Rally simulator on {rally_addr}: {e}");
            return ExitCode::from(1);
        }
    };
    let gitlab = match GitlabSim::bind(&gitlab_addr, &token) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("cannot start the GitLab simulator on {gitlab_addr}: {e}");
            return ExitCode::from(1);
        }
    };
    let qtest = match QtestSim::bind(&qtest_addr) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("cannot start the qTest simulator on {qtest_addr}: {e}");
            return ExitCode::from(1);
        }
    };
    if demo {
        gitlab.add_pipeline(demo_pipeline());
    }
    for i in 1..=test_cases {
        rally.add_test_case(&format!("TC{i}"), &format!("Case {i}"), None);
    }
    let s = rally.seeded();
    println!("rally.url = {}", rally.url());
    println!("rally api key (ZSESSIONID) = {}", s.api_key);
    println!("rally user / password = {} / {}", s.username, s.password);
    println!("rally.workspace = {}", s.workspace);
    println!("rally.project = {}", s.project);
    println!("current iteration = {}", s.current_iteration);
    println!("gitlab url = {}  (PRIVATE-TOKEN {token})", gitlab.url());
    println!(
        "gitlab project = {} ({})",
        gitlab.project_id(),
        gitlab.project_path()
    );
    println!(
        "qtest url = {}  (bearer token {}, project {})",
        qtest.url(),
        qtest.token(),
        qtest.project_id()
    );
    let _testrail = testrail_addr.map(|addr| TestrailSim::bind_announced(&addr));
    loop {
        std::thread::park();
    }
}

const DEMO_JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="checkout" tests="3" failures="1" time="1.5">
  <testcase classname="checkout.CardTest" name="pays by card" file="tests/card_test.py" time="0.5"/>
  <testcase classname="checkout.CardTest" name="refunds" file="tests/card_test.py" time="0.25"/>
  <testcase classname="checkout.LoginTest" name="logs in" file="tests/login_test.py" time="0.75">
    <failure message="expected 200, got 500">AssertionError: expected 200, got 500</failure>
  </testcase>
</testsuite>
"#;

fn demo_pipeline() -> PipelineSpec {
    PipelineSpec::new(1001, "main", "failed")
        .job(
            JobSpec::new(7001, "unit-tests", "test", "failed")
                .artifact("junit.xml", DEMO_JUNIT.as_bytes())
                .artifact(
                    "screenshots/login.png",
                    b"\x89PNG\r\n\x1a\nsimulated".to_vec(),
                ),
        )
        .job(JobSpec::new(7002, "lint", "test", "success"))
}
