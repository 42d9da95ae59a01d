//! Load test of the webhook receiver: thousands of connections opened at once, most
//! idle, while slow clients trickle headers and bodies; `tmbridge serve` must still
//! answer health checks and accept a valid webhook, and keep running.

mod serve_support;

use serve_support::{Serve, Start, connect, healthy, trickle, webhook_accepted};
use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const FLOOD: u64 = 3000;
const OPENERS: u64 = 6;
const SLOW_HEADS: usize = 40;
const SLOW_BODIES: usize = 10;

/// Raises this process's descriptor limit to its hard limit and returns how many
/// connections fit in it, leaving room for the test's own files.
#[cfg(unix)]
fn connections_that_fit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
    let soft = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    FLOOD.min(soft.saturating_sub(256 + (SLOW_HEADS + SLOW_BODIES) as u64))
}

/// Keeps `count` clients trickling until `stop`: each sends `prefix` and then a byte
/// every 200 ms, and starts over once the server cuts it off.
fn slow_clients(
    serve: &Serve,
    count: usize,
    prefix: String,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..count)
        .map(|_| {
            let (addr, prefix, stop) = (serve.addr, prefix.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let Ok(mut s) = connect(addr) else {
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    };
                    // Only the server's deadlines end a slow client.
                    let _ = trickle(
                        &mut s,
                        prefix.as_bytes(),
                        Duration::from_millis(200),
                        Duration::from_secs(60),
                    );
                }
            })
        })
        .collect()
}

#[cfg(not(unix))]
fn connections_that_fit() -> u64 {
    FLOOD
}

#[test]
fn thousands_of_connections_and_slow_clients_do_not_stop_the_receiver() {
    let count = connections_that_fit();
    let mut serve = Serve::start(
        "flood",
        Start {
            args: &[
                "--max-connections",
                "512",
                "--header-timeout",
                "2",
                "--body-timeout",
                "2",
            ],
            ..Start::default()
        },
    );
    let stop = Arc::new(AtomicBool::new(false));
    let mut slow = slow_clients(
        &serve,
        SLOW_HEADS,
        "POST /webhook HTTP/1.1\r\nX-Pad: ".into(),
        &stop,
    );
    slow.extend(slow_clients(
        &serve,
        SLOW_BODIES,
        serve.webhook_head(100_000),
        &stop,
    ));

    // Connections opened at once from several threads and held open; one in ten
    // sends the start of a request and stops there.
    let openers: Vec<_> = (0..OPENERS)
        .map(|t| {
            let addr = serve.addr;
            std::thread::spawn(move || {
                let mut held: Vec<TcpStream> = Vec::new();
                for i in 0..count / OPENERS {
                    if let Ok(mut s) = connect(addr) {
                        if (i + t) % 10 == 0 {
                            let _ = s.write_all(b"POST /webhook HTTP/1.1\r\nHost: x\r\n");
                        }
                        held.push(s);
                    }
                }
                held
            })
        })
        .collect();
    let held: Vec<TcpStream> = openers
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert!(
        held.len() as u64 >= count / 2,
        "only {} of {count} connections opened: the flood did not happen",
        held.len()
    );

    assert!(
        healthy(&serve, Duration::from_secs(30)),
        "no health answer during the flood"
    );
    let ok = webhook_accepted(&serve, Duration::from_secs(30))
        .expect("a valid webhook is accepted during the flood");
    assert!(
        ok.text().contains("queued") || ok.text().contains("duplicate"),
        "{}",
        ok.text()
    );
    assert!(serve.is_running(), "serve stopped under the flood");

    stop.store(true, Ordering::SeqCst);
    for t in slow {
        t.join().unwrap();
    }
    drop(held);
    assert!(
        healthy(&serve, Duration::from_secs(30)),
        "no health answer after the flood"
    );
    assert!(serve.is_running());
}
