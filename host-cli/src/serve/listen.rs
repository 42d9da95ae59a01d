//! Starts the webhook receiver: the handler pool (`http`) and the front thread
//! (`front`) that feeds it.

use super::front::Front;
use super::http::{Limits, Receiver, handle_jobs};
use super::sink::SinkFactory;
use anyhow::Context;
use std::net::TcpListener;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

/// Starts the front and handler threads on `listener`; they stop once `stop` is set
/// and the requests in hand are answered. Each handler has its own sink (a database
/// connection, a broker channel), opened here so one that cannot be opened stops the
/// start.
pub fn start(
    listener: TcpListener,
    receiver: Arc<Receiver>,
    limits: Limits,
    stop: Arc<AtomicBool>,
    sinks: &SinkFactory,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    listener
        .set_nonblocking(true)
        .context("cannot make the listening socket non-blocking")?;
    let (jobs, queue) = mpsc::sync_channel(limits.queue);
    let queue = Arc::new(Mutex::new(queue));
    let mut threads = Vec::new();
    for i in 0..limits.handlers.max(1) {
        let mut store = sinks()?;
        let (queue, receiver) = (queue.clone(), receiver.clone());
        let body_timeout = limits.body_timeout;
        threads.push(
            std::thread::Builder::new()
                .name(format!("serve-http-{i}"))
                .spawn(move || handle_jobs(store.as_mut(), &receiver, body_timeout, &queue))?,
        );
    }
    let front = Front::new(listener, receiver, limits, jobs, Arc::default());
    threads.push(
        std::thread::Builder::new()
            .name("serve-listener".into())
            .spawn(move || front.run(&stop))?,
    );
    Ok(threads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{self, Read, Write};
    use std::net::TcpStream;
    use std::sync::atomic::Ordering;
    use std::time::Duration;
    use tmbridge_core::gitlab::GitlabConfig;

    fn get(addr: std::net::SocketAddr, path: &str) -> io::Result<String> {
        let mut s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())?;
        let mut answer = String::new();
        s.read_to_string(&mut answer)?;
        Ok(answer)
    }

    #[test]
    fn the_stop_flag_ends_every_thread_and_closes_the_port() {
        let dir = std::env::temp_dir().join(format!("tmbridge-http-stop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let receiver = Arc::new(Receiver {
            secret: b"s3cret".to_vec(),
            max_body: 1024,
            gitlab: GitlabConfig::default(),
        });
        let limits = Limits {
            max_connections: 8,
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(5),
            handlers: 2,
            queue: 2,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let path = dir.join("serve.sqlite");
        let sinks = move || -> anyhow::Result<Box<dyn crate::serve::sink::EventSink>> {
            Ok(Box::new(crate::serve::store::EventStore::open(&path)?))
        };
        let threads = start(listener, receiver, limits, stop.clone(), &sinks).unwrap();
        let health = get(addr, "/healthz").unwrap();
        assert!(health.starts_with("HTTP/1.1 200 OK\r\n"), "{health}");
        // An idle connection must not hold the stop up.
        let _idle = TcpStream::connect(addr).unwrap();

        stop.store(true, Ordering::SeqCst);
        let (done, ended) = mpsc::channel();
        std::thread::spawn(move || {
            for t in threads {
                t.join().unwrap();
            }
            let _ = done.send(());
        });
        ended
            .recv_timeout(Duration::from_secs(30))
            .expect("the receiver's threads ended after the stop flag was set");
        assert!(
            get(addr, "/healthz").is_err(),
            "the port is closed once stopped"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
