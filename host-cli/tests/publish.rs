//! `tmbridge publish` against a tiny Rally stand-in on 127.0.0.1: real HTTP, the
//! outbox, a kill in the middle of a create, 429 with Retry-After, and dry runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tmbridge");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/publish")
        .join(name)
}

/// What the stand-in knows and does.
#[derive(Default)]
struct State {
    /// Created TestCaseResults: (test case ref, build, notes, oid).
    results: Vec<(String, String, String, u64)>,
    next: u64,
    /// Answer the next create with 429 and this Retry-After.
    throttle_once: Option<u64>,
    /// Record the next create, then never answer it.
    hang_once: bool,
    requests: Vec<String>,
    /// Names of attachments created.
    attachments: Vec<String>,
}

struct Server {
    port: u16,
    state: Arc<Mutex<State>>,
}

/// Status, headers, body.
type Answer = (u16, Vec<(String, String)>, String);

fn json_ok(body: String) -> Answer {
    (
        200,
        vec![("Content-Type".into(), "application/json".into())],
        body,
    )
}

/// Serves WSAPI v2.0 for test cases TC11..TC13, with no iterations.
fn handle(state: &Mutex<State>, method: &str, target: &str, body: &str) -> Option<Answer> {
    let mut s = state.lock().unwrap();
    s.requests.push(format!("{method} {target}"));
    let path = target.split('?').next().unwrap();
    let path = path.strip_prefix("/slm/webservice/v2.0").unwrap_or(path);
    let query = |rows: Vec<String>| {
        json_ok(format!(
            r#"{{"QueryResult": {{"Errors": [], "Warnings": [], "TotalResultCount": {}, "StartIndex": 1, "PageSize": 200, "Results": [{}]}}}}"#,
            rows.len(),
            rows.join(",")
        ))
    };
    match (method, path) {
        ("GET", "/iteration") => Some(query(vec![])),
        ("GET", "/testcase") => {
            let decoded = decode(target);
            let rows = ["TC11", "TC12", "TC13"]
                .iter()
                .enumerate()
                .filter(|(_, id)| decoded.contains(&format!("\"{id}\"")))
                .map(|(i, id)| format!(r#"{{"_ref": "http://x/slm/webservice/v2.0/testcase/{}", "FormattedID": "{id}"}}"#, 11 + i))
                .collect();
            Some(query(rows))
        }
        ("GET", "/testcaseresult") => {
            let rows = s
                .results
                .iter()
                .map(|(tc, build, notes, oid)| {
                    let notes = serde_json::Value::from(notes.as_str());
                    format!(
                        r#"{{"_ref": "http://x/slm/webservice/v2.0/testcaseresult/{oid}", "TestCase": {{"_ref": "http://x/slm/webservice/v2.0{tc}"}}, "Build": "{build}", "Notes": {notes}}}"#
                    )
                })
                .collect();
            Some(query(rows))
        }
        ("POST", "/testcaseresult/create") => {
            if let Some(after) = s.throttle_once.take() {
                return Some((429, vec![("Retry-After".into(), after.to_string())], "slow down".into()));
            }
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            let f = &v["TestCaseResult"];
            s.next += 1;
            let oid = 5000 + s.next;
            let row = (
                f["TestCase"].as_str().unwrap().to_string(),
                f["Build"].as_str().unwrap().to_string(),
                f["Notes"].as_str().unwrap_or("").to_string(),
                oid,
            );
            s.results.push(row);
            if s.hang_once {
                s.hang_once = false;
                return None;
            }
            Some(json_ok(format!(
                r#"{{"CreateResult": {{"Errors": [], "Warnings": [], "Object": {{"_ref": "http://x/slm/webservice/v2.0/testcaseresult/{oid}", "ObjectID": {oid}}}}}}}"#
            )))
        }
        ("GET", "/attachment") => {
            let rows = s.attachments.iter().map(|n| format!(r#"{{"_ref": "http://x/slm/webservice/v2.0/attachment/1", "Name": "{n}"}}"#)).collect();
            Some(query(rows))
        }
        ("POST", "/attachmentcontent/create") => Some(json_ok(
            r#"{"CreateResult": {"Errors": [], "Warnings": [], "Object": {"_ref": "http://x/slm/webservice/v2.0/attachmentcontent/9"}}}"#.into(),
        )),
        ("POST", "/attachment/create") => {
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            s.attachments.push(v["Attachment"]["Name"].as_str().unwrap().to_string());
            Some(json_ok(
                r#"{"CreateResult": {"Errors": [], "Warnings": [], "Object": {"_ref": "http://x/slm/webservice/v2.0/attachment/10"}}}"#.into(),
            ))
        }
        _ => Some((404, vec![], "not here".into())),
    }
}

fn decode(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap(),
            );
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        Server { port, state }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/slm/webservice/v2.0", self.port)
    }

    fn created(&self) -> usize {
        self.state.lock().unwrap().results.len()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok();
    let body = String::from_utf8_lossy(&body).into_owned();
    let Some((status, headers, text)) = handle(state, &method, &target, &body) else {
        // Hang: keep the connection open until the client goes away.
        std::thread::sleep(Duration::from_secs(30));
        return;
    };
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        text.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes()).ok();
    out.write_all(text.as_bytes()).ok();
}

/// A config pointing at the stand-in, in a fresh folder that also holds the outbox.
fn workdir(name: &str, url: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tmbridge-publish-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = std::fs::read_to_string(fixture("rally.toml"))
        .unwrap()
        .replace("https://rally1.rallydev.com", url);
    std::fs::write(dir.join("rally.toml"), config).unwrap();
    dir
}

fn publish(dir: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env("RALLY_API_KEY", "s3cret-key")
        .env_remove("CI_PIPELINE_ID")
        .args([
            "publish",
            "--target",
            "rally",
            "--config",
            "rally.toml",
            "--quiet",
        ])
        .args([
            "--var",
            "pipeline_id=77",
            "--var",
            "sha=0123456789abcdef",
            "--now",
            "2024-05-01T10:00:00Z",
        ])
        .args(if extra.contains(&"--timeout") {
            &[][..]
        } else {
            &["--timeout", "3"][..]
        })
        .args(extra)
        .arg(fixture("e2e-report.xml"));
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn publishes_each_result_once_and_a_rerun_sends_nothing_new() {
    let server = Server::start();
    let dir = workdir("once", &server.url());
    let out = publish(&dir, &[]).output().unwrap();
    let t = text(&out);
    // No iteration in this Rally: no test set, a warning; three results created.
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert_eq!(server.created(), 3);
    assert!(t.contains("4 created"), "{t}");
    assert_eq!(
        server.state.lock().unwrap().attachments,
        ["pays-by-card.png"]
    );
    assert!(t.contains("rally.no_sprint"), "{t}");
    assert!(
        t.contains("com.acme.checkout.SearchTest.finds nothing"),
        "{t}"
    );
    assert!(!t.contains("s3cret-key"));
    assert!(dir.join(".tmbridge/outbox.sqlite3").is_file());
    let again = publish(&dir, &["--format", "json"]).output().unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(server.created(), 3);
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(report["resumed"], true);
    assert_eq!(
        report["report"]["created"].as_array().unwrap().len(),
        4,
        "the run's report is kept whole"
    );
    assert_eq!(server.state.lock().unwrap().attachments.len(), 1);
}

#[test]
fn a_process_killed_during_a_create_resumes_without_duplicates() {
    let server = Server::start();
    server.state.lock().unwrap().hang_once = true;
    let dir = workdir("kill", &server.url());
    let mut child = publish(&dir, &["--timeout", "60"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for Rally to have the first result, then kill tmbridge before it hears back.
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.created() == 0 {
        assert!(Instant::now() < deadline, "no create arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(server.created(), 1);
    let out = publish(&dir, &[]).output().unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert_eq!(server.created(), 3, "{t}");
    assert!(t.contains("resumed"), "{t}");
    assert!(t.contains("second look found it"), "{t}");
    let refs: Vec<String> = server
        .state
        .lock()
        .unwrap()
        .results
        .iter()
        .map(|r| r.0.clone())
        .collect();
    let mut unique = refs.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), refs.len(), "{refs:?}");
}

#[test]
fn waits_as_rally_asks_on_429() {
    let server = Server::start();
    server.state.lock().unwrap().throttle_once = Some(1);
    let dir = workdir("throttle", &server.url());
    let started = Instant::now();
    let out = publish(&dir, &["--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(server.created(), 3);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["report"]["stats"]["waited_ms"], 1000);
    assert_eq!(report["report"]["stats"]["retries"], 1);
}

#[test]
fn a_dry_run_prints_requests_with_secrets_masked_and_sends_nothing() {
    let server = Server::start();
    let dir = workdir("dry", &server.url());
    let out = publish(&dir, &["--dry-run", "--var", "sprint=14"])
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(server.state.lock().unwrap().requests.is_empty());
    assert!(t.contains("ZSESSIONID: ***"), "{t}");
    assert!(!t.contains("s3cret-key"));
    assert!(t.contains("POST http://127.0.0.1"), "{t}");
    assert!(t.contains("/testset/create"), "{t}");
    assert!(t.contains("\"Name\":\"Sprint-14-Automated-Tests\""), "{t}");
    assert!(t.contains("/attachmentcontent/create"), "{t}");
    assert!(!dir.join(".tmbridge").exists(), "a dry run keeps no outbox");
}

#[test]
fn missing_credentials_and_bad_config_are_usage_errors() {
    let server = Server::start();
    let dir = workdir("usage", &server.url());
    let out = publish(&dir, &[])
        .env_remove("RALLY_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("RALLY_API_KEY"), "{}", text(&out));
    std::fs::write(dir.join("rally.toml"), "[rally]\nworkspace = \"12\"\n").unwrap();
    let out = publish(&dir, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("rally.workspace"), "{}", text(&out));
}

#[test]
fn an_unreachable_rally_leaves_the_run_for_later() {
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = workdir("down", &format!("http://127.0.0.1:{port}"));
    let out = publish(&dir, &["--format", "json", "--max-attempts", "2"])
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["complete"], false);
    assert_eq!(report["report"]["error"]["code"], "rally.unreachable");
    assert_eq!(report["report"]["retryable"], true);
}
