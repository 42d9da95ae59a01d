//! `tmbridge worker` publishes to every target `serve` does: TestRail and qTest
//! events go through a real RabbitMQ node like Rally's, a second delivery of the same
//! event adds nothing, and `--rate-limit` holds every worker of a target together to
//! one rate.

mod broker_support;

use broker_support::Rabbit;
use broker_support::fleet::{Sent, Setup, wait_for};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tmbridge_simulators::qtest::QtestSim;
use tmbridge_simulators::testrail::TestrailSim;

const REPORT: &str = r#"<testsuite name="checkout">
  <testcase classname="shop.Cart" name="adds an item" time="0.5"/>
  <testcase classname="shop.Cart" name="pays" time="1.5"><failure message="declined"/></testcase>
</testsuite>"#;

fn binary() -> std::path::PathBuf {
    env!("CARGO_BIN_EXE_tmbridge").into()
}

/// Sends pipeline `id`'s hook to `url` until it is accepted.
fn deliver(setup: &Setup, url: &str, id: u64) {
    let sent = Arc::new(Sent::default());
    broker_support::fleet::send_all(
        &[url.to_string()],
        vec![(id, setup.hook(id))],
        1,
        &sent,
        Duration::from_secs(60),
    )
    .join()
    .unwrap();
}

#[test]
fn testrail_and_qtest_events_are_published_once_each() {
    let rabbit = Rabbit::start("targets");
    let setup = Setup::new("targets", rabbit.url(), &binary());
    let tr = TestrailSim::start();
    let qtest = QtestSim::start();
    let s = tr.seeded();
    let config = setup.dir.join("targets.toml");
    std::fs::write(
        &config,
        format!(
            "[testrail]\nurl = \"{}\"\nuser_env = \"Q_TR_USER\"\napi_key_env = \"Q_TR_KEY\"\nproject_id = {}\nsection_id = {}\n\n[qtest]\nurl = \"{}\"\nproject_id = {}\ntoken_env = \"Q_QTEST_TOKEN\"\ncycle_name = \"{{job_name}}\"\n\n[gitlab]\ntoken_env = \"QUEUE_HOOK_SECRET\"\nstatuses = [\"success\", \"failed\"]\ntest_stages = [\"test\"]\n",
            tr.url(),
            s.single_project,
            s.single_section,
            qtest.url(),
            qtest.project_id()
        ),
    )
    .unwrap();
    setup.add_pipeline_with(900, REPORT.as_bytes().to_vec());
    setup.add_pipeline_with(901, REPORT.as_bytes().to_vec());
    let receiver = setup.receiver();
    let qtest_token = qtest.token();
    let env = [
        ("Q_TR_USER", s.user.as_str()),
        ("Q_TR_KEY", s.api_key.as_str()),
        ("Q_QTEST_TOKEN", qtest_token.as_str()),
    ];

    let mut testrail = setup.worker_for(&config, &["--target", "testrail"], &env);
    // GitLab delivers the same event twice: both are queued, the second adds nothing.
    deliver(&setup, receiver.url(), 900);
    deliver(&setup, receiver.url(), 900);
    assert!(
        wait_for(Duration::from_secs(120), || tr.results().len() >= 2
            && testrail.log().matches("published").count() >= 2),
        "{}",
        testrail.log()
    );
    assert_eq!(tr.ledger_of("add_case").len(), 2);
    assert_eq!(tr.results().len(), 2, "each result once");
    testrail.kill9();

    let qtest_worker = setup.worker_for(&config, &["--target", "qtest"], &env);
    deliver(&setup, receiver.url(), 901);
    assert!(
        wait_for(Duration::from_secs(120), || qtest.created("test-log").len()
            >= 2),
        "{}",
        qtest_worker.log()
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(qtest.created("test-case").len(), 2);
    assert_eq!(qtest.created("test-log").len(), 2, "each execution once");
    assert_eq!(tr.results().len(), 2, "TestRail got nothing more");
}

#[test]
fn the_rate_limit_is_shared_by_every_worker_of_a_target() {
    const LIMIT: usize = 4;
    let rabbit = Rabbit::start("rate");
    let setup = Setup::new("rate", rabbit.url(), &binary());
    let ids = 700..712;
    setup.add_pipelines(ids.clone());
    let receiver = setup.receiver();
    let limit = LIMIT.to_string();
    let workers: Vec<_> = (0..3)
        .map(|_| setup.worker(&["--rate-limit", &limit]))
        .collect();
    for w in &workers {
        assert!(
            wait_for(Duration::from_secs(60), || w.log().contains("consuming")),
            "{}",
            w.log()
        );
    }
    // A worker that asks for another rate is refused: the rate is one for all.
    let other = std::process::Command::new(binary())
        .args(["worker", "--queue", &setup.queue, "--config"])
        .arg(&setup.config)
        .args(["--gitlab-url", &setup.gitlab.url(), "--rate-limit", "9"])
        .env("GITLAB_API_TOKEN", "x")
        .env("QUEUE_RALLY_KEY", "x")
        .output()
        .unwrap();
    assert_eq!(other.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&other.stderr).contains("queue.rate_mismatch"),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );

    let start = Instant::now();
    let sent = Arc::new(Sent::default());
    let hooks = ids.clone().map(|id| (id, setup.hook(id))).collect();
    broker_support::fleet::send_all(
        &[receiver.url().to_string()],
        hooks,
        4,
        &sent,
        Duration::from_secs(60),
    )
    .join()
    .unwrap();
    let want = ids.clone().count() * 2;
    assert!(wait_for(Duration::from_secs(300), || setup
        .rally
        .results()
        .len()
        >= want));
    let elapsed = start.elapsed();
    // At most LIMIT requests in any second, from all three workers together: R
    // requests need at least R / LIMIT - 1 seconds (a lower bound, whatever the load).
    let requests = setup.rally.requests().len();
    let floor = Duration::from_secs_f64(requests as f64 / LIMIT as f64 - 1.0);
    assert!(
        elapsed >= floor,
        "{requests} requests to Rally in {elapsed:?}: more than {LIMIT} per second"
    );
    assert_eq!(setup.rally.results().len(), want);
}

#[test]
fn sigterm_stops_a_worker_with_exit_0_and_leaves_its_event_to_the_next() {
    let rabbit = Rabbit::start("sigterm");
    let setup = Setup::new("sigterm", rabbit.url(), &binary());
    setup.add_pipelines([950]);
    let receiver = setup.receiver();
    // Rally hangs, so the event is still being published when the stop comes.
    setup
        .rally
        .faults()
        .slow_next(10_000, Duration::from_secs(120));
    let mut first = setup.worker(&["--shutdown-grace", "1"]);
    deliver(&setup, receiver.url(), 950);
    assert!(
        wait_for(Duration::from_secs(60), || first
            .log()
            .contains("950/success: attempt 1")),
        "{}",
        first.log()
    );
    assert_eq!(first.terminate(), Some(0), "{}", first.log());
    assert!(
        first.log().contains("stopping with an event in hand"),
        "{}",
        first.log()
    );
    // The next worker gets it (the cut-short try counts) and publishes it once.
    setup.rally.faults().clear();
    let second = setup.worker(&[]);
    assert!(
        wait_for(Duration::from_secs(120), || setup.ledger_counts().len()
            == 2),
        "{}",
        second.log()
    );
    assert!(
        second.log().contains("950/success: attempt 2"),
        "{}",
        second.log()
    );
    assert!(setup.ledger_counts().values().all(|n| *n == 1));
}
