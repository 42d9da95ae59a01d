//! What a defect filed from a failed qTest run reads and writes, as qTest Manager
//! API v3 documents it (its swagger-generated client, `TestrunApi`, `TestlogApi`,
//! `AttachmentApi`, `CommentResource`):
//!
//! - `GET /test-runs/{id}`: one run (`TestRunWithCustomFieldResource`, with its
//!   `test_case`, `web_url` and latest status);
//! - `GET /test-cases/{id}`: one test case;
//! - `GET /test-runs/{id}/test-logs/last-run`: the run's latest log (404 when the
//!   run was never executed), its attachments with their ids;
//! - `GET /test-logs/{id}/attachments/{attachmentId}`: the file's bytes;
//! - `GET` and `POST /test-runs/{idOrKey}/comments`: the run's comments
//!   (`{links, page, page_size, total, items}`), a new one from `{"content"}`.
//!
//! The files of `POST /test-runs/{id}/auto-test-logs` are kept with their bytes here
//! so that they can be downloaded.

use super::log_files::{Comment, LogFile};
use super::routes::{create_log, message};
use super::store::{Store, case_json, log_json, run_json};
use crate::server::{HttpRequest, Reply};
use base64::Engine;
use serde_json::{Value, json};

fn run_of(store: &Store, id: &str) -> Option<u64> {
    let id = id.parse::<u64>().ok()?;
    store.runs.iter().any(|r| r.id == id).then_some(id)
}

/// The latest log of a run, as qTest gives it, files with their ids.
fn latest_log(store: &Store, base: &str, pid: u64, run: u64) -> Option<Value> {
    let log = store.logs.iter().rev().find(|l| l.run_id == run)?;
    let mut out = log_json(base, pid, log);
    let files: Vec<Value> = store
        .defect_links
        .files
        .get(&log.id)
        .into_iter()
        .flatten()
        .map(|f| {
            json!({
                "id": f.id,
                "name": f.name,
                "content_type": f.content_type,
                "size": f.bytes.len(),
                "web_url": format!("{base}/api/v3/projects/{pid}/test-logs/{}/attachments/{}", log.id, f.id),
            })
        })
        .collect();
    out["attachments"] = Value::from(files);
    out["test_case_version_id"] = Value::from(0);
    Some(out)
}

/// Answers the requests this file serves in the simulator's project (its token
/// already checked); `None` for the others, which `routes` answers.
pub fn route(store: &mut Store, base: &str, req: &HttpRequest) -> Option<Reply> {
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let ["api", "v3", "projects", pid, tail @ ..] = parts.as_slice() else {
        return None;
    };
    let pid = pid.parse::<u64>().ok().filter(|p| *p == store.project_id)?;
    // Named resources beside numbered ones (`test-runs/execution-statuses`) are routes.rs's.
    if tail.get(1).is_some_and(|id| id.parse::<u64>().is_err()) {
        return None;
    }
    Some(match (req.method.as_str(), tail) {
        ("GET", ["test-runs", id]) => {
            let Some(run) = run_of(store, id) else {
                return Some(message(404, &format!("Test Run {id} does not exist.")));
            };
            let r = store.runs.iter().find(|r| r.id == run)?;
            let mut out = run_json(base, pid, r);
            out["web_url"] = Value::from(format!(
                "{base}/p/{pid}/portal/project#tab=testexecution&object=3&id={run}"
            ));
            if let Some(l) = store.logs.iter().rev().find(|l| l.run_id == run) {
                out["latest_test_log"] =
                    json!({"id": l.id, "status": {"id": l.status.id, "name": l.status.name}});
            }
            Reply::json(200, &out)
        }
        ("GET", ["test-cases", id]) => {
            let Some(c) = store.cases.iter().find(|c| c.id.to_string() == *id) else {
                return Some(message(404, &format!("Test Case {id} does not exist.")));
            };
            Reply::json(200, &case_json(base, pid, c))
        }
        ("GET", ["test-runs", id, "test-logs", "last-run"]) => {
            let Some(run) = run_of(store, id) else {
                return Some(message(404, &format!("Test Run {id} does not exist.")));
            };
            match latest_log(store, base, pid, run) {
                Some(log) => Reply::json(200, &log),
                None => message(404, &format!("Test Run {id} has no Test Log.")),
            }
        }
        ("GET", ["test-logs", log, "attachments", file]) => {
            let found = store
                .defect_links
                .files
                .get(&log.parse::<u64>().unwrap_or(0))
                .and_then(|files| files.iter().find(|f| f.id.to_string() == *file));
            match found {
                Some(f) => Reply::bytes(200, &f.content_type, f.bytes.clone()),
                None => message(404, &format!("Attachment {file} does not exist.")),
            }
        }
        ("GET", ["test-runs", id, "comments"]) => {
            let Some(run) = run_of(store, id) else {
                return Some(message(404, &format!("Test Run {id} does not exist.")));
            };
            let items: Vec<Value> = store
                .defect_links
                .comments
                .iter()
                .filter(|c| c.run_id == run)
                .map(|c| comment_json(base, pid, c))
                .collect();
            let page = num(req, "page").unwrap_or(1).max(1) as usize;
            let size = num(req, "pageSize")
                .map(|s| s as usize)
                .unwrap_or(store.max_page_size)
                .clamp(1, store.max_page_size);
            let slice: Vec<Value> = items
                .iter()
                .skip((page - 1) * size)
                .take(size)
                .cloned()
                .collect();
            Reply::json(
                200,
                &json!({"links": [], "page": page, "page_size": size, "total": items.len(), "items": slice}),
            )
        }
        ("POST", ["test-runs", id, "comments"]) => {
            let Some(run) = run_of(store, id) else {
                return Some(message(404, &format!("Test Run {id} does not exist.")));
            };
            let content = serde_json::from_slice::<Value>(&req.body)
                .ok()
                .and_then(|v| v.get("content").and_then(Value::as_str).map(str::to_string))
                .filter(|c| !c.trim().is_empty());
            let Some(content) = content else {
                return Some(message(400, "content is required."));
            };
            let comment_id = store.next_id();
            let c = Comment {
                id: comment_id,
                run_id: run,
                content,
            };
            store.record("comment", comment_id, "", &c.content, run);
            let out = comment_json(base, pid, &c);
            store.defect_links.comments.push(c);
            Reply::json(200, &out)
        }
        ("POST", ["test-runs", id, "auto-test-logs"]) => {
            let reply = create_log(store, base, pid, id, req);
            if reply.status < 300 {
                keep_files(store, req, &reply);
            }
            reply
        }
        _ => return None,
    })
}

fn num(req: &HttpRequest, name: &str) -> Option<u64> {
    req.param(name).and_then(|v| v.trim().parse().ok())
}

fn comment_json(base: &str, pid: u64, c: &Comment) -> Value {
    json!({
        "links": [{"rel": "self", "href": format!("{base}/api/v3/projects/{pid}/test-runs/{}/comments/{}", c.run_id, c.id)}],
        "id": c.id,
        "content": c.content,
        "user_id": 1,
        "created": "2026-01-01T00:00:00+00:00",
        "updated": "2026-01-01T00:00:00+00:00",
    })
}

/// Keeps the bytes of a new log's files, under ids of their own.
fn keep_files(store: &mut Store, req: &HttpRequest, reply: &Reply) {
    let Some(log_id) = serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|v| v.get("id").and_then(Value::as_u64))
    else {
        return;
    };
    let Ok(v) = serde_json::from_slice::<Value>(&req.body) else {
        return;
    };
    let mut files = Vec::new();
    for a in v
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = |f: &str| {
            a.get(f)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text("data")) else {
            continue;
        };
        let id = store.next_id();
        files.push(LogFile {
            id,
            name: text("name"),
            content_type: text("content_type"),
            bytes,
        });
    }
    store.defect_links.files.insert(log_id, files);
}
