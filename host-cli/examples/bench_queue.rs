//! Throughput of `tmbridge serve` in its SQLite mode beside `serve --queue` with 1, 2
//! and 4 workers on a private RabbitMQ node, against the GitLab and Rally
//! simulators, in one run: events per second from the first webhook to the last
//! result in Rally. Run by `scripts/bench-queue.sh` (a benchmark, not a test).
//!
//! Usage: bench_queue TMBRIDGE_BINARY [EVENTS]

#[path = "../tests/broker_support/mod.rs"]
mod broker_support;

use broker_support::Rabbit;
use broker_support::fleet::{Sent, Setup, send_all, wait_for};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Row {
    mode: String,
    workers: usize,
    seconds: f64,
}

/// Sends `events` hooks from 8 threads and waits for every result in Rally.
fn measure(setup: &Setup, urls: &[String], first: u64, events: u64) -> f64 {
    let hooks: Vec<_> = (first..first + events)
        .map(|id| (id, setup.hook(id)))
        .collect();
    let sent = Arc::new(Sent::default());
    let start = Instant::now();
    let sender = send_all(urls, hooks, 8, &sent, Duration::from_secs(3600));
    let want = (events * 2) as usize;
    let done = wait_for(Duration::from_secs(3600), || {
        setup.rally.results().len() >= want
    });
    sender.join().unwrap();
    assert!(done, "not every result reached Rally");
    start.elapsed().as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let binary = std::path::PathBuf::from(
        args.next()
            .expect("usage: bench_queue TMBRIDGE_BINARY [EVENTS]"),
    );
    let events: u64 = args
        .next()
        .map(|n| n.parse().expect("EVENTS is a number"))
        .unwrap_or(300);
    let rabbit = Rabbit::start("bench");
    let mut rows = Vec::new();
    let mut first = 100_000;

    {
        let setup = Setup::new("bench-sqlite", rabbit.url(), &binary);
        setup.add_pipelines(first..first + events);
        let serve = setup.sqlite_serve();
        let seconds = measure(&setup, &[serve.url().to_string()], first, events);
        rows.push(Row {
            mode: "SQLite (serve)".into(),
            workers: 1,
            seconds,
        });
        first += events;
    }
    for workers in [1usize, 2, 4] {
        let setup = Setup::new(&format!("bench-{workers}"), rabbit.url(), &binary);
        setup.add_pipelines(first..first + events);
        let receiver = setup.receiver();
        let pool: Vec<_> = (0..workers)
            .map(|_| setup.worker(&["--prefetch", "2"]))
            .collect();
        for w in &pool {
            assert!(
                wait_for(Duration::from_secs(60), || w.log().contains("consuming")),
                "{}",
                w.log()
            );
        }
        let seconds = measure(&setup, &[receiver.url().to_string()], first, events);
        rows.push(Row {
            mode: "RabbitMQ (serve --queue + worker)".into(),
            workers,
            seconds,
        });
        first += events;
    }

    let base = events as f64 / rows[0].seconds;
    println!("| mode | workers | events | seconds | events/s | vs SQLite |");
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        let rate = events as f64 / r.seconds;
        println!(
            "| {} | {} | {events} | {:.1} | {:.1} | {:.2} |",
            r.mode,
            r.workers,
            r.seconds,
            rate,
            rate / base
        );
    }
}
