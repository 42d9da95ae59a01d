//! The webhook receiver: a few threads take requests from one tiny_http server,
//! check them, store pipeline events, and answer at once.

use super::receive::{Decision, Head, check_body, check_head, queued, too_large};
use super::store::{EventStore, Inserted};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tmbridge_core::gitlab::GitlabConfig;

pub struct Receiver {
    pub secret: Vec<u8>,
    pub max_body: u64,
    pub gitlab: GitlabConfig,
    pub store_path: PathBuf,
}

fn header<'a>(req: &'a tiny_http::Request, name: &str) -> Option<&'a str> {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

fn respond(req: tiny_http::Request, status: u16, body: String) {
    let content_type =
        tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
            .expect("a valid header");
    let resp = tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(content_type);
    let _ = req.respond(resp);
}

/// Serves requests until `stop` is set. Each thread has its own database connection.
pub fn serve(server: Arc<tiny_http::Server>, receiver: Arc<Receiver>, stop: Arc<AtomicBool>) {
    let store = match EventStore::open(&receiver.store_path) {
        Ok(s) => s,
        Err(e) => {
            super::log(&format!(
                "cannot open {}: {e}",
                receiver.store_path.display()
            ));
            return;
        }
    };
    while !stop.load(Ordering::SeqCst) {
        let req = match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => {
                super::log(&format!("receiving a request failed: {e}"));
                continue;
            }
        };
        handle(&store, &receiver, req);
    }
}

fn handle(store: &EventStore, receiver: &Receiver, mut req: tiny_http::Request) {
    let method = req.method().as_str().to_string();
    let path = req.url().to_string();
    let token = header(&req, "X-Gitlab-Token").map(|t| t.as_bytes().to_vec());
    let event_header = header(&req, "X-Gitlab-Event").map(str::to_string);
    let head = Head {
        method: &method,
        path: &path,
        token: token.as_deref(),
        content_length: req.body_length().map(|n| n as u64),
    };
    if let Err(answer) = check_head(&head, &receiver.secret, receiver.max_body) {
        return respond(req, answer.status, answer.body);
    }
    // Read one byte more than allowed to tell "exactly the limit" from "over it".
    let mut body = Vec::new();
    let read = req
        .as_reader()
        .take(receiver.max_body + 1)
        .read_to_end(&mut body);
    if let Err(e) = read {
        let msg = serde_json::json!({"status": "rejected", "error": "serve.read_failed", "message": e.to_string()});
        return respond(req, 400, msg.to_string());
    }
    if body.len() as u64 > receiver.max_body {
        let a = too_large(receiver.max_body);
        return respond(req, a.status, a.body);
    }
    match check_body(event_header.as_deref(), &body, &receiver.gitlab) {
        Decision::Answer(a) => respond(req, a.status, a.body),
        Decision::Queue { project_id, event } => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            match store.insert(
                project_id as i64,
                event.pipeline_id as i64,
                &event.status,
                &body,
                now,
            ) {
                Ok(Inserted::New(id)) => {
                    super::log(&format!(
                        "queued event {id}: pipeline {} of project {project_id} ({})",
                        event.pipeline_id, event.status
                    ));
                    let a = queued(id, false);
                    respond(req, a.status, a.body)
                }
                Ok(Inserted::Duplicate(id)) => {
                    let a = queued(id, true);
                    respond(req, a.status, a.body)
                }
                Err(e) => {
                    // Not stored: GitLab must try again, so a 5xx.
                    let msg = serde_json::json!({"status": "error", "error": "serve.store_failed", "message": e.to_string()});
                    respond(req, 503, msg.to_string())
                }
            }
        }
    }
}
