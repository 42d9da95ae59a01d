//! The webhook receiver's limits, against the real `tmbridge serve`: slow clients are
//! cut off at deadlines, bodies are bounded, health checks are answered while every
//! handler is busy, and running out of file descriptors never closes the port.

mod serve_support;

use serve_support::{Serve, Start, connect, healthy, trickle, webhook_accepted, within};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

const PAUSE: Duration = Duration::from_millis(200);
/// Far beyond every deadline the tests set: reaching it means "never".
const NEVER: Duration = Duration::from_secs(20);
/// How an accept error for want of file descriptors (EMFILE) shows in the log.
#[cfg(unix)]
const EMFILE_LOGGED: &str = "Too many open files";

fn status_of(answer: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[test]
fn a_client_trickling_its_headers_is_cut_off_at_the_header_deadline() {
    let serve = Serve::start(
        "slow-head",
        Start {
            args: &["--header-timeout", "1"],
            ..Start::default()
        },
    );
    let mut slow = connect(serve.addr).unwrap();
    // A byte every 200 ms keeps a per-read timeout from ever firing; only a deadline
    // for the whole head ends it.
    let answer = trickle(
        &mut slow,
        b"POST /webhook HTTP/1.1\r\nX-Pad: ",
        PAUSE,
        NEVER,
    )
    .expect("the server never closed a connection whose headers never ended");
    // The 408 may be lost to a reset when bytes cross the close; it is never another.
    if !answer.is_empty() {
        assert_eq!(
            status_of(&answer),
            Some(408),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    assert!(healthy(&serve, Duration::from_secs(10)));
}

#[test]
fn a_body_trickled_past_the_body_deadline_gets_408_and_frees_its_handler() {
    let serve = Serve::start(
        "slow-body",
        Start {
            args: &["--body-timeout", "1"],
            ..Start::default()
        },
    );
    let mut slow = connect(serve.addr).unwrap();
    let head = serve.webhook_head(100_000);
    let answer = trickle(&mut slow, head.as_bytes(), PAUSE, NEVER)
        .expect("the server never closed a connection whose body never ended");
    if !answer.is_empty() {
        assert_eq!(
            status_of(&answer),
            Some(408),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    let ok =
        webhook_accepted(&serve, Duration::from_secs(20)).expect("a webhook after the slow one");
    assert!(ok.text().contains("queued"), "{}", ok.text());
}

#[test]
fn bodies_over_the_limit_get_413_whether_announced_or_chunked() {
    let serve = Serve::start(
        "too-large",
        Start {
            args: &["--max-body", "8192"],
            ..Start::default()
        },
    );
    let mut announced = connect(serve.addr).unwrap();
    announced
        .write_all(serve.webhook_head(3 * 8192).as_bytes())
        .unwrap();
    // Sent whole, as a client that does not wait for an early answer would.
    announced.write_all(&[b' '; 3 * 8192]).unwrap();
    let answer = read_all(&mut announced);
    assert_eq!(
        status_of(&answer),
        Some(413),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(
        String::from_utf8_lossy(&answer).contains("serve.too_large"),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // A chunked body announces no length: the limit holds while it is read.
    let mut chunked = connect(serve.addr).unwrap();
    let head = serve
        .webhook_head(0)
        .replace("Content-Length: 0", "Transfer-Encoding: chunked");
    chunked.write_all(head.as_bytes()).unwrap();
    for _ in 0..3 {
        chunked.write_all(b"2000\r\n").unwrap();
        chunked.write_all(&[b' '; 0x2000]).unwrap();
        chunked.write_all(b"\r\n").unwrap();
    }
    chunked.write_all(b"0\r\n\r\n").unwrap();
    let answer = read_all(&mut chunked);
    assert_eq!(
        status_of(&answer),
        Some(413),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let ok =
        webhook_accepted(&serve, Duration::from_secs(10)).expect("a webhook after the refusals");
    assert!(ok.text().contains("queued"), "{}", ok.text());
}

fn read_all(stream: &mut TcpStream) -> Vec<u8> {
    use std::io::Read;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

#[test]
fn health_checks_are_answered_while_slow_bodies_hold_every_handler() {
    let serve = Serve::start(
        "busy",
        Start {
            args: &["--body-timeout", "60"],
            ..Start::default()
        },
    );
    // More verified webhooks than there are handlers and waiting places, each
    // sending a few body bytes and then nothing.
    let holders: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut s = connect(serve.addr).unwrap();
            s.write_all(serve.webhook_head(1000).as_bytes()).unwrap();
            s.write_all(b"{\"obj").unwrap();
            s
        })
        .collect();
    // Generous: on a loaded machine the 40 holders take a while to fill every place.
    let busy = within(Duration::from_secs(30), || {
        serve.webhook().ok().filter(|r| r.status == 503)
    })
    .expect("a webhook is refused while every handler is held");
    assert!(busy.header("retry-after").is_some(), "{busy:?}");
    assert!(busy.text().contains("serve.busy"), "{}", busy.text());
    let health = serve
        .health()
        .expect("a health check while every handler is held");
    assert_eq!(health.status, 200, "{}", health.text());

    drop(holders);
    let ok = webhook_accepted(&serve, Duration::from_secs(20))
        .expect("a webhook once the slow clients are gone");
    assert!(ok.text().contains("queued"), "{}", ok.text());
}

#[cfg(unix)]
#[test]
fn running_out_of_file_descriptors_does_not_close_the_port() {
    let mut serve = Serve::start(
        "fd-limit",
        Start {
            args: &["--max-connections", "10000", "--header-timeout", "60"],
            fd_limit: Some(64),
        },
    );
    let started = Instant::now();
    // Far more idle connections than the process has descriptors: accept(2) fails
    // with EMFILE while they stay open.
    let idle: Vec<TcpStream> = (0..120).filter_map(|_| connect(serve.addr).ok()).collect();
    assert!(
        within(Duration::from_secs(10), || (serve.log_lines(EMFILE_LOGGED)
            > 0)
        .then_some(()))
        .is_some(),
        "the flood did not exhaust the descriptors, so it tests nothing"
    );
    // Generous: on a loaded machine the health check waits behind the idle
    // connections queued before it, each closed to make room for the next.
    assert!(
        healthy(&serve, Duration::from_secs(60)),
        "no health answer while descriptors are exhausted"
    );
    drop(idle);
    assert!(
        healthy(&serve, Duration::from_secs(20)),
        "no health answer after the flood"
    );
    let ok = webhook_accepted(&serve, Duration::from_secs(20)).expect("a webhook after the flood");
    assert!(ok.text().contains("queued"), "{}", ok.text());
    assert!(serve.is_running());
    // Logged at most once a second, however many accepts failed.
    let seconds = started.elapsed().as_secs() + 1;
    let lines = serve.log_lines("cannot accept a connection") as u64;
    assert!(
        lines <= seconds,
        "{lines} accept errors logged in {seconds} s"
    );
}
