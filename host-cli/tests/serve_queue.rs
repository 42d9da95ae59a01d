//! `tmbridge serve --queue` and `tmbridge worker` on a real RabbitMQ node (started
//! by the test on loopback, stopped at the end): 1 000 webhook events through 2
//! receivers and 3 workers, with a worker killed (-9), every broker connection cut
//! and the broker restarted part way; every result lands in the Rally simulator's
//! ledger exactly once. Then poison events reach the dead-letter queue with their
//! reason, and `tmbridge queue list|replay` shows and replays them.

mod broker_support;

use broker_support::Rabbit;
use broker_support::fleet::{Sent, Setup, cases_of, send_all, wait_for};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

const EVENTS: u64 = 1000;
const FIRST: u64 = 10_000;

fn binary() -> std::path::PathBuf {
    env!("CARGO_BIN_EXE_tmbridge").into()
}

fn hooks(setup: &Setup, ids: std::ops::Range<u64>) -> Vec<(u64, Vec<u8>)> {
    ids.map(|id| (id, setup.hook(id))).collect()
}

/// Every pipeline's two results, once each; nothing else.
fn assert_exactly_once(setup: &Setup, ids: std::ops::Range<u64>) {
    let counts = setup.ledger_counts();
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "results created more than once: {twice:?}"
    );
    let mut missing = Vec::new();
    for id in ids.clone() {
        for case in cases_of(id) {
            if !counts.contains_key(&(format!("GitLab-{id}"), case.clone())) {
                missing.push((id, case));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} results missing, first {:?}",
        missing.len(),
        missing.first()
    );
    assert_eq!(
        counts.len() as u64,
        (ids.end - ids.start) * 2,
        "results of other pipelines"
    );
}

fn queue_depths(setup: &Setup) -> (u64, u64, usize) {
    let (code, listing) = setup.queue_command(&["list"]);
    assert_eq!(code, 0, "{listing}");
    (
        listing["pending"].as_u64().unwrap(),
        listing["retrying"].as_u64().unwrap(),
        listing["dead"].as_array().unwrap().len(),
    )
}

#[test]
fn a_thousand_events_land_once_through_kills_cuts_and_a_broker_restart() {
    let mut rabbit = Rabbit::start("flood");
    let setup = Setup::new("flood", rabbit.url(), &binary());
    let ids = FIRST..FIRST + EVENTS;
    setup.add_pipelines(ids.clone());
    let receivers = [setup.receiver(), setup.receiver()];
    let urls: Vec<String> = receivers.iter().map(|r| r.url().to_string()).collect();
    let mut workers: Vec<_> = (0..3).map(|_| setup.worker(&["--prefetch", "2"])).collect();
    let sent = Arc::new(Sent::default());
    let results = || setup.rally.results().len();
    let long = Duration::from_secs(600);

    // 1. The first 400 events; a worker is killed -9 while publishing, another one
    //    takes its place (as an orchestrator would).
    let first = send_all(&urls, hooks(&setup, FIRST..FIRST + 400), 8, &sent, long);
    assert!(
        wait_for(long, || results() >= 200),
        "nothing published: {}",
        workers[0].log()
    );
    workers[0].kill9();
    workers.push(setup.worker(&["--prefetch", "2"]));
    first.join().unwrap();

    // 2. 300 more while every broker connection (receivers' and workers') is cut.
    let second = send_all(
        &urls,
        hooks(&setup, FIRST + 400..FIRST + 700),
        8,
        &sent,
        long,
    );
    assert!(wait_for(long, || sent.accepted.load(Ordering::SeqCst) >= 450));
    rabbit.close_all_connections();
    second.join().unwrap();

    // 3. The broker stops while the last 300 are sent: receivers answer 503 (the
    //    senders retry), workers lose what they hold unacked; then it comes back.
    rabbit.stop();
    let third = send_all(
        &urls,
        hooks(&setup, FIRST + 700..FIRST + EVENTS),
        8,
        &sent,
        long,
    );
    assert!(
        wait_for(Duration::from_secs(60), || sent
            .unavailable
            .load(Ordering::SeqCst)
            > 0),
        "no 503 while the broker was down"
    );
    rabbit.restart();
    third.join().unwrap();
    assert_eq!(sent.accepted.load(Ordering::SeqCst), EVENTS);

    let all = wait_for(long, || {
        results() >= (EVENTS * 2) as usize && queue_depths(&setup) == (0, 0, 0)
    });
    let logs: String = workers
        .iter()
        .map(|w| w.log())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        all,
        "not everything was published: {} results, queues {:?}\n{}",
        results(),
        queue_depths(&setup),
        logs.lines().rev().take(60).collect::<Vec<_>>().join("\n")
    );
    // A moment for anything late (a duplicate would show up now).
    std::thread::sleep(Duration::from_secs(2));
    assert_exactly_once(&setup, ids);
    assert_eq!(queue_depths(&setup), (0, 0, 0));
    for w in workers.iter_mut().skip(1) {
        assert!(w.is_running(), "a worker stopped: {}", w.log());
    }
    assert!(
        logs.contains("lost the broker"),
        "no worker saw the cut:\n{logs}"
    );
    // The kill, the cut and the restart left events half done to other workers.
    assert!(
        logs.contains(": attempt 2"),
        "no event was delivered again:\n{logs}"
    );
}

#[test]
fn poison_events_are_dead_lettered_with_their_reason_and_replayed() {
    let rabbit = Rabbit::start("poison");
    let setup = Setup::new("poison", rabbit.url(), &binary());
    // A report that can never be read, and a good one.
    setup.add_pipeline_with(500, b"<testsuite><testcase name=\"TC1 x\">".to_vec());
    setup.add_pipelines([501]);
    let receiver = setup.receiver();
    let urls = vec![receiver.url().to_string()];
    let worker = setup.worker(&["--max-attempts", "3"]);
    let sent = Arc::new(Sent::default());
    send_all(
        &urls,
        hooks(&setup, 500..502),
        2,
        &sent,
        Duration::from_secs(60),
    )
    .join()
    .unwrap();
    assert!(wait_for(Duration::from_secs(120), || {
        setup.ledger_counts().len() == 2 && queue_depths(&setup).2 == 1
    }));
    let (code, listing) = setup.queue_command(&["list"]);
    assert_eq!(code, 0);
    let dead = &listing["dead"][0];
    assert_eq!(dead["pipeline_id"], 500, "{listing}");
    assert_eq!(
        dead["event"],
        format!("{}/500/success", setup.gitlab.project_id())
    );
    assert!(
        dead["reason"].as_str().unwrap().contains("junit.truncated"),
        "the reason names the report's fault: {listing}"
    );
    // Listing changes nothing.
    assert_eq!(queue_depths(&setup), (0, 0, 1));

    // An event not there is reported, exit 1.
    let (code, out) = setup.queue_command(&["replay", "--event", "1/2/success"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["not_found"][0], "1/2/success");

    // The report is fixed in GitLab; the replayed event is published.
    setup.add_pipelines([500]);
    let key = format!("{}/500", setup.gitlab.project_id());
    let (code, out) = setup.queue_command(&["replay", "--event", &key]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["replayed"][0]["pipeline_id"], 500, "{out}");
    assert!(wait_for(Duration::from_secs(120), || setup
        .ledger_counts()
        .len()
        == 4));
    assert_exactly_once(&setup, 500..502);
    assert_eq!(queue_depths(&setup), (0, 0, 0));

    // GitLab down for good: tried --max-attempts times, then dead-lettered as such.
    setup.add_pipelines([502]);
    setup.gitlab.faults().fail_next(10_000, 503);
    send_all(
        &urls,
        hooks(&setup, 502..503),
        1,
        &sent,
        Duration::from_secs(60),
    )
    .join()
    .unwrap();
    assert!(wait_for(Duration::from_secs(120), || queue_depths(&setup)
        .2
        == 1));
    let (_, listing) = setup.queue_command(&["list"]);
    let dead = &listing["dead"][0];
    assert_eq!(dead["pipeline_id"], 502);
    assert_eq!(dead["attempts"], 3, "{listing}");
    let reason = dead["reason"].as_str().unwrap();
    assert!(
        reason.contains("no attempt left") && reason.contains("503"),
        "{reason}"
    );
    setup.gitlab.faults().clear();
    drop(worker);

    // An event whose publish kills its worker every time (here: Rally hangs and the
    // worker is killed -9): each cut-short delivery counts, so it ends dead-lettered.
    setup.add_pipelines([503]);
    setup
        .rally
        .faults()
        .slow_next(10_000, Duration::from_secs(120));
    send_all(
        &urls,
        hooks(&setup, 503..504),
        1,
        &sent,
        Duration::from_secs(60),
    )
    .join()
    .unwrap();
    for _ in 0..2 {
        let mut doomed = setup.worker(&["--max-attempts", "2"]);
        assert!(
            wait_for(Duration::from_secs(60), || doomed
                .log()
                .contains("/503/success: attempt")),
            "{}",
            doomed.log()
        );
        doomed.kill9();
    }
    let last = setup.worker(&["--max-attempts", "2"]);
    assert!(
        wait_for(Duration::from_secs(60), || queue_depths(&setup).2 == 2),
        "{}",
        last.log()
    );
    let (_, listing) = setup.queue_command(&["list"]);
    let dead: Vec<&serde_json::Value> = listing["dead"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["pipeline_id"] == 503)
        .collect();
    let reason = dead[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("2 worker(s) stopped or lost the broker"),
        "{listing}"
    );
    assert!(
        !last.log().contains("/503/success: attempt"),
        "never tried a third time"
    );
}

#[test]
fn a_receiver_answers_503_while_the_broker_is_down_never_200() {
    let mut rabbit = Rabbit::start("down");
    let setup = Setup::new("down", rabbit.url(), &binary());
    setup.add_pipelines([600]);
    rabbit.stop();
    // A receiver starts without its broker and refuses what it cannot hand over.
    let receiver = setup.receiver();
    let body = setup.hook(600);
    let answer = tmbridge_simulators::gitlab::send_webhook(
        receiver.url(),
        Some(broker_support::fleet::SECRET),
        "Pipeline Hook",
        &body,
    )
    .unwrap();
    assert_eq!(answer.status, 503, "{}", answer.text());
    assert!(
        answer.text().contains("serve.queue_unavailable"),
        "{}",
        answer.text()
    );
    rabbit.restart();
    let answer = tmbridge_simulators::gitlab::send_webhook(
        receiver.url(),
        Some(broker_support::fleet::SECRET),
        "Pipeline Hook",
        &body,
    )
    .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.text().contains("\"queued\""), "{}", answer.text());
    assert_eq!(
        queue_depths(&setup),
        (1, 0, 0),
        "the event waits in the broker"
    );
    let _worker = setup.worker(&[]);
    assert!(wait_for(Duration::from_secs(120), || setup
        .ledger_counts()
        .len()
        == 2));
    assert_exactly_once(&setup, 600..601);
}
