//! The webhook receiver's handlers: a fixed pool of threads reads webhook bodies,
//! stores pipeline events and answers (the front thread, `front`, takes connections
//! and request heads; `listen` starts both). Every resource a client can hold is bounded: connections,
//! the time to send a head, the time to send a body, the body's size.

use super::receive::{self, Answer, Decision, check_body, queued, too_large};
use super::sink::{Accepted, EventSink, NewEvent};
use super::wire::{self, DeadlineReader, RequestHead};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};
use tmbridge_core::gitlab::GitlabConfig;

/// A client that stops reading its answer holds a handler this long at most.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// After refusing a body, the rest of it is read and dropped for this long at most.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: u64 = 1 << 20;

pub struct Receiver {
    pub secret: Vec<u8>,
    pub max_body: u64,
    pub gitlab: GitlabConfig,
}

/// What clients may hold.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections open at once, whether sending their request or being handled.
    pub max_connections: usize,
    /// The time from accepting a connection to the end of its request headers.
    pub header_timeout: Duration,
    /// The time from the end of the headers to the end of the body.
    pub body_timeout: Duration,
    /// Threads that read bodies and store events.
    pub handlers: usize,
    /// Webhooks waiting for a free handler; past it they are answered 503.
    pub queue: usize,
}

/// A webhook whose head passed every check, waiting for a handler.
pub struct Job {
    stream: TcpStream,
    head: RequestHead,
    /// Body bytes that arrived with the head.
    body_start: Vec<u8>,
    deadline: Instant,
    _slot: Slot,
}

impl Job {
    pub fn new(
        stream: TcpStream,
        head: RequestHead,
        body_start: Vec<u8>,
        deadline: Instant,
        in_handlers: &Arc<AtomicUsize>,
    ) -> Job {
        Job {
            stream,
            head,
            body_start,
            deadline,
            _slot: Slot::take(in_handlers),
        }
    }

    /// Gives the connection back when no handler takes the job.
    pub fn into_stream(self) -> TcpStream {
        self.stream
    }
}

/// Counts a connection the handler pool holds, until it is dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(count: &Arc<AtomicUsize>) -> Slot {
        count.fetch_add(1, Ordering::SeqCst);
        Slot(count.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Handles jobs until the front closes the queue.
pub fn handle_jobs(
    store: &mut dyn EventSink,
    receiver: &Receiver,
    body_timeout: Duration,
    queue: &Mutex<mpsc::Receiver<Job>>,
) {
    loop {
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = next else { return };
        // A bug in one request must not cost the pool a thread.
        if catch_unwind(AssertUnwindSafe(|| {
            handle(store, receiver, body_timeout, job)
        }))
        .is_err()
        {
            super::log("a request handler failed unexpectedly; it goes on with the next request");
        }
    }
}

fn respond(stream: &TcpStream, answer: &Answer) {
    let _ = (&mut &*stream).write_all(&wire::response(answer.status, &answer.body, None));
}

fn handle(store: &mut dyn EventSink, receiver: &Receiver, body_timeout: Duration, job: Job) {
    let Job {
        stream,
        head,
        body_start,
        deadline,
        _slot,
    } = job;
    if stream.set_nonblocking(false).is_err()
        || stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_err()
    {
        return;
    }
    if head.expect_continue && body_start.is_empty() && head.body_may_follow(0) {
        let _ = (&mut &stream).write_all(wire::CONTINUE);
    }
    let rest = DeadlineReader {
        stream: &stream,
        deadline,
    };
    let body = match wire::read_body(&head, &body_start, rest, receiver.max_body) {
        Ok(Some(body)) => body,
        Ok(None) => {
            respond(&stream, &too_large(receiver.max_body));
            return linger(&stream);
        }
        Err(e) if e.kind() == io::ErrorKind::TimedOut => {
            return respond(&stream, &receive::body_timeout(body_timeout));
        }
        Err(e) => return respond(&stream, &receive::body_unreadable(&e.to_string())),
    };
    respond(
        &stream,
        &decide(store, receiver, head.event.as_deref(), &body),
    );
}

fn decide(
    store: &mut dyn EventSink,
    receiver: &Receiver,
    event_header: Option<&str>,
    body: &[u8],
) -> Answer {
    let (project_id, event) = match check_body(event_header, body, &receiver.gitlab) {
        Decision::Answer(a) => return a,
        Decision::Queue { project_id, event } => (project_id, event),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let new = NewEvent {
        project_id,
        pipeline_id: event.pipeline_id,
        status: &event.status,
        body,
    };
    match store.accept(&new, now) {
        Ok(Accepted::New(id)) => {
            super::log(&format!(
                "queued event {id}: pipeline {} of project {project_id} ({})",
                event.pipeline_id, event.status
            ));
            queued(id, false)
        }
        Ok(Accepted::Duplicate(id)) => queued(id, true),
        Err(e) => {
            // Not stored: GitLab must try again, so a 5xx.
            let msg =
                serde_json::json!({"status": "error", "error": "serve.store_failed", "message": e});
            Answer {
                status: 503,
                body: msg.to_string(),
            }
        }
    }
}

/// Reads and drops what the client still sends, briefly, so it reads the answer
/// instead of a reset.
fn linger(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let rest = DeadlineReader {
        stream,
        deadline: Instant::now() + LINGER,
    };
    let _ = io::copy(&mut rest.take(LINGER_BYTES), &mut io::sink());
}
