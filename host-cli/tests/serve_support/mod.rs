//! Runs the real `tmbridge serve` against the GitLab and Rally simulators, with raw
//! socket clients for the tests of the receiver's limits.

#![allow(dead_code)] // each test file uses its own part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tmbridge_simulators::gitlab::{GitlabSim, JobSpec, PipelineSpec};
use tmbridge_simulators::rally::RallySim;

pub const SECRET: &str = "hook-secret-limits";
const GITLAB_TOKEN: &str = "glpat-limits";
const PIPELINE: u64 = 700;
/// How long one request may wait for its whole answer: far beyond what a server that
/// keeps answering needs, far below "never".
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

pub struct Serve {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    dir: PathBuf,
    hook_body: Vec<u8>,
    _gitlab: GitlabSim,
    _rally: RallySim,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How `serve` is started.
#[derive(Default)]
pub struct Start<'a> {
    pub args: &'a [&'a str],
    /// The file descriptors the process may hold (`ulimit -n`).
    pub fd_limit: Option<u32>,
}

impl Serve {
    pub fn start(name: &str, how: Start<'_>) -> Serve {
        let dir = std::env::temp_dir().join(format!(
            "tmbridge-serve-limits-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let rally = RallySim::start();
        let gitlab = GitlabSim::start(GITLAB_TOKEN);
        gitlab.add_pipeline(
            PipelineSpec::new(PIPELINE, "main", "success").job(
                JobSpec::new(PIPELINE * 10, "unit", "test", "success")
                    .artifact("junit.xml", b"<testsuite/>".to_vec()),
            ),
        );
        let hook_body = gitlab.pipeline_hook_body(PIPELINE).unwrap();
        let seeded = rally.seeded();
        let config = dir.join("tmbridge.toml");
        std::fs::write(
            &config,
            format!(
                "[rally]\nurl = \"{}\"\napi_key_env = \"LIMITS_RALLY_KEY\"\nworkspace = \"{}\"\nproject = \"{}\"\n\n[gitlab]\ntoken_env = \"LIMITS_HOOK_SECRET\"\n",
                rally.url(),
                seeded.workspace,
                seeded.project
            ),
        )
        .unwrap();
        let binary = env!("CARGO_BIN_EXE_tmbridge");
        let mut command = match how.fd_limit {
            Some(n) => {
                let mut c = Command::new("sh");
                c.args([
                    "-c",
                    &format!("ulimit -n {n} && exec \"$0\" \"$@\""),
                    binary,
                ]);
                c
            }
            None => Command::new(binary),
        };
        command
            .args(["serve", "--config"])
            .arg(&config)
            .args(["--listen", "127.0.0.1:0", "--state"])
            .arg(dir.join("serve.sqlite"))
            .args(["--gitlab-url", &gitlab.url()])
            .args(how.args)
            .env("LIMITS_HOOK_SECRET", SECRET)
            .env("GITLAB_API_TOKEN", GITLAB_TOKEN)
            .env("LIMITS_RALLY_KEY", rally.api_key())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("run tmbridge serve");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                sink.lock().unwrap().push(line);
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("tmbridge serve: listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let addr = url.trim_end_matches("/webhook").parse().unwrap();
        Serve {
            child,
            addr,
            log,
            dir,
            hook_body,
            _gitlab: gitlab,
            _rally: rally,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn health(&self) -> std::io::Result<Reply> {
        let request = format!(
            "GET /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        );
        exchange(self.addr, request.as_bytes())
    }

    pub fn webhook(&self) -> std::io::Result<Reply> {
        let mut request = self.webhook_head(self.hook_body.len()).into_bytes();
        request.extend_from_slice(&self.hook_body);
        exchange(self.addr, &request)
    }

    /// The head of a valid webhook whose body is `len` bytes long.
    pub fn webhook_head(&self, len: usize) -> String {
        format!(
            "POST /webhook HTTP/1.1\r\nHost: {}\r\nX-Gitlab-Event: Pipeline Hook\r\nX-Gitlab-Token: {SECRET}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n",
            self.addr
        )
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// The stderr lines seen so far that contain `needle`.
    pub fn log_lines(&self, needle: &str) -> usize {
        let log = self.log.lock().unwrap();
        log.iter().filter(|l| l.contains(needle)).count()
    }
}

/// Tries `attempt` until it gives a value or `limit` passes.
pub fn within<T>(limit: Duration, mut attempt: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = attempt() {
            return Some(v);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The answer to a health check, once one is 200.
pub fn healthy(serve: &Serve, limit: Duration) -> bool {
    within(limit, || serve.health().ok().filter(|r| r.status == 200)).is_some()
}

/// A webhook answered 200 (`queued` or `duplicate`), retried on 503 as GitLab would.
pub fn webhook_accepted(serve: &Serve, limit: Duration) -> Option<Reply> {
    within(limit, || serve.webhook().ok().filter(|r| r.status == 200))
}

/// A whole answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    head: String,
    body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }

    pub fn text(&self) -> &str {
        &self.body
    }
}

/// Sends one request and reads the answer until the server closes the connection,
/// within [`ANSWER_WITHIN`] in all.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> std::io::Result<Reply> {
    let deadline = Instant::now() + ANSWER_WITHIN;
    let mut stream = connect(addr)?;
    stream.write_all(request)?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut buf)? {
            0 => break,
            n => raw.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or(std::io::ErrorKind::UnexpectedEof)?;
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or(std::io::ErrorKind::InvalidData)?;
    Ok(Reply {
        status,
        head: head.to_string(),
        body: body.to_string(),
    })
}

pub fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_millis(200)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    Ok(s)
}

/// Sends `prefix`, then one byte every `pause` (a header value or body that never
/// ends), until the server closes the connection or `limit` passes. Returns what the
/// server answered, or `None` when it kept the connection open throughout.
pub fn trickle(
    stream: &mut TcpStream,
    prefix: &[u8],
    pause: Duration,
    limit: Duration,
) -> Option<Vec<u8>> {
    let start = Instant::now();
    let mut answer = Vec::new();
    stream.set_read_timeout(Some(pause)).unwrap();
    let _ = stream.write_all(prefix);
    while start.elapsed() < limit {
        let _ = stream.write_all(b"a");
        let mut buf = [0u8; 1024];
        match stream.read(&mut buf) {
            Ok(0) => return Some(answer),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            // A reset: the server closed while bytes were still arriving.
            Err(_) => return Some(answer),
        }
    }
    None
}
