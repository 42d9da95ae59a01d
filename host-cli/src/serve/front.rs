//! The front of the webhook receiver: one thread accepts connections and reads the
//! request heads of all of them at once, so a slow or idle client costs a socket and a
//! small buffer, never a thread. What a head alone decides (health checks, refusals) is
//! answered here at once; webhooks go on to the bounded handler pool.

use super::http::{Job, Limits, Receiver};
use super::receive::{self, Answer, Head, RETRY_AFTER_SECS};
use super::wire::{self, Parsed, RequestHead};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::{Duration, Instant};

/// Connections taken from the listen queue per turn, so reading never starves.
const ACCEPTS_PER_TURN: usize = 64;
const READ_CHUNK: usize = 4096;
/// After a refusal, what the client still sends is read and dropped for this long (at
/// most `LINGER_BYTES`): closing with unread bytes would reset the connection and the
/// client could lose the answer.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: u64 = 1 << 20;
/// The longest wait between two looks at the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(200);
/// The pause before accepting again after an accept error that closing one of our own
/// connections cannot cure.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

enum Phase {
    /// Reading the request line and headers.
    Head,
    /// Answered; reading and dropping what the client still sends.
    Linger { left: u64 },
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    deadline: Instant,
    phase: Phase,
}

pub struct Front {
    listener: TcpListener,
    /// Oldest first.
    conns: Vec<Conn>,
    jobs: SyncSender<Job>,
    /// Connections the handler pool holds.
    in_handlers: Arc<AtomicUsize>,
    receiver: Arc<Receiver>,
    limits: Limits,
    accept_paused_until: Option<Instant>,
    accept_log: Throttle,
    full_log: Throttle,
    busy_log: Throttle,
}

impl Front {
    /// `listener` must be non-blocking.
    pub fn new(
        listener: TcpListener,
        receiver: Arc<Receiver>,
        limits: Limits,
        jobs: SyncSender<Job>,
        in_handlers: Arc<AtomicUsize>,
    ) -> Front {
        Front {
            listener,
            conns: Vec::new(),
            jobs,
            in_handlers,
            receiver,
            limits,
            accept_paused_until: None,
            accept_log: Throttle::default(),
            full_log: Throttle::default(),
            busy_log: Throttle::default(),
        }
    }

    /// Runs until `stop` is set. Dropping the front closes the job queue, which lets
    /// the handlers finish what they hold and end.
    pub fn run(mut self, stop: &AtomicBool) {
        while !stop.load(Ordering::SeqCst) {
            self.turn();
        }
    }

    fn turn(&mut self) {
        let now = Instant::now();
        self.close_expired(now);
        let accepting = self.accept_paused_until.is_none_or(|t| now >= t);
        if accepting {
            self.accept_paused_until = None;
        }
        let (listener_ready, ready) = match self.wait_readable(accepting, self.next_wake(now)) {
            Ok(r) => r,
            Err(e) => {
                // Not expected from poll(2) with valid sockets; never spin on it.
                self.accept_log
                    .log(now, &format!("waiting for connections failed: {e}"));
                std::thread::sleep(ACCEPT_BACKOFF);
                return;
            }
        };
        let now = Instant::now();
        let conns = std::mem::take(&mut self.conns);
        for (conn, is_ready) in conns.into_iter().zip(ready) {
            let kept = if is_ready {
                self.advance(conn, now)
            } else {
                Some(conn)
            };
            self.conns.extend(kept);
        }
        if listener_ready {
            self.accept(now);
        }
    }

    /// Which connections (and whether the listener) can be read without blocking.
    fn wait_readable(&self, accepting: bool, wait: Duration) -> io::Result<(bool, Vec<bool>)> {
        let mut fds: Vec<PollFd<'_>> = self
            .conns
            .iter()
            .map(|c| PollFd::new(&c.stream, PollFlags::IN))
            .collect();
        if accepting {
            fds.push(PollFd::new(&self.listener, PollFlags::IN));
        }
        let timeout = Timespec::try_from(wait).unwrap_or(Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        });
        match poll(&mut fds, Some(&timeout)) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Ok((false, vec![false; self.conns.len()])),
            Err(e) => return Err(e.into()),
        }
        // Hang-ups and errors count as readable: the read then tells what happened.
        let mut ready: Vec<bool> = fds.iter().map(|f| !f.revents().is_empty()).collect();
        let listener_ready = accepting && ready.pop().unwrap_or(false);
        Ok((listener_ready, ready))
    }

    fn next_wake(&self, now: Instant) -> Duration {
        let deadlines = self.conns.iter().map(|c| c.deadline);
        deadlines
            .chain(self.accept_paused_until)
            .map(|t| t.saturating_duration_since(now))
            .fold(STOP_CHECK, Duration::min)
    }

    fn close_expired(&mut self, now: Instant) {
        let limit = self.limits.header_timeout;
        self.conns.retain(|c| {
            if c.deadline > now {
                return true;
            }
            if matches!(c.phase, Phase::Head) {
                send_at_once(&c.stream, &receive::head_timeout(limit), None);
            }
            false
        });
    }

    fn advance(&mut self, conn: Conn, now: Instant) -> Option<Conn> {
        match conn.phase {
            Phase::Linger { left } => drain(conn, left),
            Phase::Head => self.read_head(conn, now),
        }
    }

    fn read_head(&mut self, mut conn: Conn, now: Instant) -> Option<Conn> {
        let mut chunk = [0u8; READ_CHUNK];
        let mut closed = false;
        while conn.buf.len() < wire::MAX_HEAD_BYTES {
            let room = (wire::MAX_HEAD_BYTES - conn.buf.len()).min(READ_CHUNK);
            match conn.stream.read(&mut chunk[..room]) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => conn.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
        match wire::parse_head(&conn.buf) {
            Parsed::Partial if closed => None,
            Parsed::Partial => Some(conn),
            Parsed::TooLarge(m) => refuse(conn, &receive::head_too_large(&m), None, true, now),
            Parsed::Invalid(m) => refuse(conn, &receive::malformed_head(&m), None, true, now),
            Parsed::Complete(head, len) => self.route(conn, head, len, now),
        }
    }

    /// Answers what the head decides alone; hands a webhook to the handler pool.
    fn route(
        &mut self,
        mut conn: Conn,
        head: RequestHead,
        len: usize,
        now: Instant,
    ) -> Option<Conn> {
        let body_start = conn.buf.split_off(len);
        let unread = head.body_may_follow(body_start.len());
        let checked = receive::check_head(
            &Head {
                method: &head.method,
                path: &head.path,
                token: head.token.as_deref(),
                content_length: head.content_length,
            },
            &self.receiver.secret,
            self.receiver.max_body,
        );
        if let Err(answer) = checked {
            return refuse(conn, &answer, None, unread, now);
        }
        let job = Job::new(
            conn.stream,
            head,
            body_start,
            now + self.limits.body_timeout,
            &self.in_handlers,
        );
        match self.jobs.try_send(job) {
            Ok(()) => None,
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => {
                self.busy_log.log(
                    now,
                    "every request handler is busy: webhooks are answered 503 until one is free",
                );
                conn.stream = job.into_stream();
                refuse(conn, &receive::busy(), Some(RETRY_AFTER_SECS), unread, now)
            }
        }
    }

    fn accept(&mut self, now: Instant) {
        for _ in 0..ACCEPTS_PER_TURN {
            let error = match self.listener.accept() {
                Ok((stream, _)) => {
                    self.admit(stream, now);
                    continue;
                }
                Err(e) => e,
            };
            match AcceptError::of(&error) {
                AcceptError::NoneWaiting => return,
                AcceptError::Lost => {
                    self.accept_log.log(
                        now,
                        &format!("a connection was lost while being accepted: {error}"),
                    );
                }
                AcceptError::OutOfResources if self.close_oldest() => {
                    self.accept_log.log(
                        now,
                        &format!(
                            "cannot accept a connection ({error}): closed the oldest one not being handled to make room"
                        ),
                    );
                }
                AcceptError::OutOfResources | AcceptError::Other => {
                    self.accept_log.log(
                        now,
                        &format!(
                            "cannot accept a connection ({error}); trying again in {} ms",
                            ACCEPT_BACKOFF.as_millis()
                        ),
                    );
                    self.accept_paused_until = Some(now + ACCEPT_BACKOFF);
                    return;
                }
            }
        }
    }

    fn admit(&mut self, stream: TcpStream, now: Instant) {
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        let _ = stream.set_nodelay(true);
        let open = self.conns.len() + self.in_handlers.load(Ordering::SeqCst);
        if open >= self.limits.max_connections.max(1) {
            if self.close_oldest() {
                self.full_log.log(
                    now,
                    &format!(
                        "{open} connections are open (--max-connections): closed the oldest one not being handled"
                    ),
                );
            } else {
                // Every connection is a request being handled: none can give way.
                self.busy_log.log(
                    now,
                    "every request handler is busy: webhooks are answered 503 until one is free",
                );
                send_at_once(&stream, &receive::busy(), Some(RETRY_AFTER_SECS));
                return;
            }
        }
        self.conns.push(Conn {
            stream,
            buf: Vec::new(),
            deadline: now + self.limits.header_timeout,
            phase: Phase::Head,
        });
    }

    /// Closes the oldest lingering connection, or else the oldest one still sending its
    /// head: a slow client gives way to a new one, so holding connections open cannot
    /// keep others out. False when there is none.
    fn close_oldest(&mut self) -> bool {
        let lingering = self
            .conns
            .iter()
            .position(|c| matches!(c.phase, Phase::Linger { .. }));
        match lingering.or((!self.conns.is_empty()).then_some(0)) {
            Some(i) => {
                self.conns.remove(i);
                true
            }
            None => false,
        }
    }
}

/// Writes a short answer without waiting: it fits the socket's send buffer, and a
/// client that does not read it loses it.
fn send_at_once(stream: &TcpStream, answer: &Answer, retry_after: Option<u64>) {
    let mut stream = stream;
    let _ = stream.write_all(&wire::response(answer.status, &answer.body, retry_after));
}

/// Answers a request the front decides alone. When more of the request may follow,
/// the connection lingers so the client reads the answer instead of a reset.
fn refuse(
    conn: Conn,
    answer: &Answer,
    retry_after: Option<u64>,
    unread: bool,
    now: Instant,
) -> Option<Conn> {
    send_at_once(&conn.stream, answer, retry_after);
    if !unread {
        return None;
    }
    let _ = conn.stream.shutdown(Shutdown::Write);
    Some(Conn {
        stream: conn.stream,
        buf: Vec::new(),
        deadline: now + LINGER,
        phase: Phase::Linger { left: LINGER_BYTES },
    })
}

fn drain(mut conn: Conn, mut left: u64) -> Option<Conn> {
    let mut scratch = [0u8; READ_CHUNK];
    loop {
        match conn.stream.read(&mut scratch) {
            Ok(0) => return None,
            Ok(n) => {
                left = left.saturating_sub(n as u64);
                if left == 0 {
                    return None;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                conn.phase = Phase::Linger { left };
                return Some(conn);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum AcceptError {
    /// The listen queue is empty.
    NoneWaiting,
    /// That one connection broke before it was taken; the next may be fine.
    Lost,
    /// Out of file descriptors or memory.
    OutOfResources,
    Other,
}

impl AcceptError {
    fn of(e: &io::Error) -> AcceptError {
        use io::ErrorKind::*;
        match e.kind() {
            WouldBlock => return AcceptError::NoneWaiting,
            Interrupted | ConnectionAborted | ConnectionReset => return AcceptError::Lost,
            OutOfMemory => return AcceptError::OutOfResources,
            _ => {}
        }
        by_errno(e).unwrap_or(AcceptError::Other)
    }
}

#[cfg(unix)]
fn by_errno(e: &io::Error) -> Option<AcceptError> {
    use rustix::io::Errno;
    let n = Errno::from_io_error(e)?;
    if [Errno::MFILE, Errno::NFILE, Errno::NOBUFS, Errno::NOMEM].contains(&n) {
        return Some(AcceptError::OutOfResources);
    }
    // accept(2) reports these errors of the new connection itself.
    [Errno::PROTO, Errno::PERM]
        .contains(&n)
        .then_some(AcceptError::Lost)
}

#[cfg(not(unix))]
fn by_errno(_: &io::Error) -> Option<AcceptError> {
    None
}

/// Lets one kind of message through at most once a second, counting the others.
#[derive(Default)]
struct Throttle {
    last: Option<Instant>,
    held_back: u64,
}

impl Throttle {
    fn log(&mut self, now: Instant, message: &str) {
        match self.admit(now) {
            Some(0) => super::log(message),
            Some(n) => super::log(&format!("{message} (and {n} more like it)")),
            None => {}
        }
    }

    /// How many were held back since the last one let through, or `None` to hold
    /// this one back too.
    fn admit(&mut self, now: Instant) -> Option<u64> {
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
        {
            self.held_back += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held_back))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_message_passes_at_most_once_a_second() {
        let mut t = Throttle::default();
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        assert_eq!(t.admit(at(0)), Some(0));
        assert_eq!(t.admit(at(10)), None);
        assert_eq!(t.admit(at(999)), None);
        assert_eq!(t.admit(at(1000)), Some(2));
        assert_eq!(t.admit(at(1500)), None);
        assert_eq!(t.admit(at(5000)), Some(1));
    }

    #[cfg(unix)]
    #[test]
    fn accept_errors_are_told_apart() {
        use io::ErrorKind;
        use rustix::io::Errno;
        let os = |n: Errno| io::Error::from_raw_os_error(n.raw_os_error());
        assert_eq!(
            AcceptError::of(&ErrorKind::WouldBlock.into()),
            AcceptError::NoneWaiting
        );
        assert_eq!(AcceptError::of(&os(Errno::CONNABORTED)), AcceptError::Lost);
        assert_eq!(AcceptError::of(&os(Errno::INTR)), AcceptError::Lost);
        assert_eq!(
            AcceptError::of(&os(Errno::MFILE)),
            AcceptError::OutOfResources
        );
        assert_eq!(
            AcceptError::of(&os(Errno::NFILE)),
            AcceptError::OutOfResources
        );
        assert_eq!(
            AcceptError::of(&os(Errno::NOBUFS)),
            AcceptError::OutOfResources
        );
        assert_eq!(AcceptError::of(&os(Errno::INVAL)), AcceptError::Other);
    }
}
