//! `/api/v4` endpoints: a pipeline, its jobs (paged with `page` / `per_page` and the
//! `X-Total` / `X-Next-Page` headers), one job, and a job's artifact file.

use super::{ApiLog, JobSpec, PipelineSpec, Shared};
use crate::faults::{FaultKind, lock};
use crate::server::{HttpRequest, Outcome, Reply};
use crate::url::{decode_component, encode_component};
use serde_json::{Value, json};

pub(crate) fn handle(shared: &Shared, req: HttpRequest) -> Outcome {
    let fault = shared.faults.take(&req);
    let outcome = match fault {
        Some(FaultKind::ServerError(code)) | Some(FaultKind::ErrorAfterApply(code)) => {
            Outcome::Reply(message(code, &format!("{code} Server Error")))
        }
        Some(FaultKind::Throttle { retry_after_secs }) => Outcome::Reply(
            message(429, "Retry later").with_header("Retry-After", &retry_after_secs.to_string()),
        ),
        Some(FaultKind::Drop) | Some(FaultKind::DropAfterApply) => Outcome::Drop,
        Some(FaultKind::Slow(d)) => Outcome::Delayed(d, route(shared, &req)),
        None => Outcome::Reply(route(shared, &req)),
    };
    let status = match &outcome {
        Outcome::Reply(r) | Outcome::Delayed(_, r) => r.status,
        Outcome::Drop => 0,
    };
    lock(&shared.requests).push(ApiLog {
        method: req.method.clone(),
        path: req.path.clone(),
        status,
    });
    outcome
}

fn message(status: u16, text: &str) -> Reply {
    Reply::json(status, &json!({ "message": text }))
}

fn route(shared: &Shared, req: &HttpRequest) -> Reply {
    let raw_path = req.target.split('?').next().unwrap_or("");
    let Some(rest) = raw_path.strip_prefix("/api/v4/") else {
        return message(404, "404 Not Found");
    };
    let token_ok = req.header("private-token") == Some(shared.token.as_str())
        || req
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
            == Some(shared.token.as_str());
    if !token_ok {
        return message(401, "401 Unauthorized");
    }
    if !req.method.eq_ignore_ascii_case("GET") {
        return message(405, "405 Method Not Allowed");
    }
    // Segments are decoded one by one: a project may be `acme%2Fweb-shop`.
    let segments: Vec<String> = rest
        .split('/')
        .map(|s| decode_component(s, false))
        .collect();
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let [projects, project, tail @ ..] = seg.as_slice() else {
        return message(404, "404 Not Found");
    };
    if *projects != "projects"
        || (*project != shared.project_id.to_string() && *project != shared.project_path)
    {
        return message(404, "404 Project Not Found");
    }
    let pipelines = lock(&shared.pipelines);
    let base = shared.url.get().cloned().unwrap_or_default();
    let web = format!("{base}/{}", shared.project_path);
    let find_job = |id: &str| {
        let id: u64 = id.parse().ok()?;
        pipelines
            .iter()
            .find_map(|p| p.jobs.iter().find(|j| j.id == id).map(|j| (p, j)))
    };
    match tail {
        [] => Reply::json(200, &project_json(shared, &base, &web)),
        ["pipelines"] => {
            // GitLab lists the newest pipeline first.
            let mut list: Vec<&PipelineSpec> = pipelines.iter().collect();
            list.sort_by_key(|p| std::cmp::Reverse(p.id));
            let items: Vec<Value> = list.iter().map(|p| pipeline_json(p, &web)).collect();
            paged(req, &base, items)
        }
        ["pipelines", pid, "test_report"] => {
            match pipelines.iter().find(|p| p.id.to_string() == *pid) {
                Some(p) => Reply::json(200, &super::report::test_report(p)),
                None => message(404, "404 Not found"),
            }
        }
        ["pipelines", pid] => match pipelines.iter().find(|p| p.id.to_string() == *pid) {
            Some(p) => Reply::json(200, &pipeline_json(p, &web)),
            None => message(404, "404 Not found"),
        },
        ["pipelines", pid, "jobs"] => match pipelines.iter().find(|p| p.id.to_string() == *pid) {
            Some(p) => {
                // GitLab lists the newest job first.
                let mut jobs: Vec<&JobSpec> = p.jobs.iter().collect();
                jobs.sort_by_key(|j| std::cmp::Reverse(j.id));
                let items: Vec<Value> = jobs.iter().map(|j| job_json(p, j, &web)).collect();
                paged(req, &base, items)
            }
            None => message(404, "404 Not found"),
        },
        ["jobs", jid] => match find_job(jid) {
            Some((p, j)) => Reply::json(200, &job_json(p, j, &web)),
            None => message(404, "404 Not found"),
        },
        // The whole artifacts archive, zipped as the runner uploaded it.
        ["jobs", jid, "artifacts"] => match find_job(jid) {
            Some((_, j)) if !j.artifacts.is_empty() && !j.archive_expired => {
                Reply::bytes(200, "application/zip", zip_of(&j.artifacts))
            }
            _ => message(404, "404 Not Found"),
        },
        ["jobs", jid, "artifacts", path @ ..] if !path.is_empty() => match find_job(jid) {
            Some((_, j)) => match j.artifacts.get(&path.join("/")) {
                Some(bytes) => Reply::bytes(200, content_type(&path.join("/")), bytes.clone()),
                None => message(404, "404 Not Found"),
            },
            None => message(404, "404 Not found"),
        },
        _ => message(404, "404 Not Found"),
    }
}

/// One page of a list, with GitLab's offset-pagination headers: `X-Total`,
/// `X-Total-Pages`, `X-Page`, `X-Per-Page`, `X-Next-Page` / `X-Prev-Page`, and the
/// `Link` header (`rel="next"`, `"first"`, `"last"`) that clients follow.
fn paged(req: &HttpRequest, base: &str, items: Vec<Value>) -> Reply {
    let per_page = req
        .param("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(20)
        .clamp(1, 100);
    let page = req
        .param("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let pages = total.div_ceil(per_page).max(1);
    let body: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let path = req.target.split('?').next().unwrap_or("");
    let link_to = |n: usize| {
        let mut query: Vec<String> = req
            .query
            .iter()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect();
        query.push(format!("page={n}"));
        query.push(format!("per_page={per_page}"));
        format!("<{base}{path}?{}>", query.join("&"))
    };
    let mut links = Vec::new();
    if page < pages {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
    }
    links.push(format!("{}; rel=\"first\"", link_to(1)));
    links.push(format!("{}; rel=\"last\"", link_to(pages)));
    let next = if page < pages {
        (page + 1).to_string()
    } else {
        String::new()
    };
    let prev = if page > 1 {
        (page - 1).to_string()
    } else {
        String::new()
    };
    Reply::json(200, &Value::Array(body))
        .with_header("X-Total", &total.to_string())
        .with_header("X-Total-Pages", &pages.to_string())
        .with_header("X-Per-Page", &per_page.to_string())
        .with_header("X-Page", &page.to_string())
        .with_header("X-Next-Page", &next)
        .with_header("X-Prev-Page", &prev)
        .with_header("Link", &links.join(", "))
}

fn project_json(shared: &Shared, base: &str, web: &str) -> Value {
    let name = shared
        .project_path
        .rsplit('/')
        .next()
        .unwrap_or(&shared.project_path);
    let namespace = shared.project_path.rsplit_once('/').map_or("", |(n, _)| n);
    json!({
        "id": shared.project_id,
        "name": name,
        "path": name,
        "path_with_namespace": shared.project_path,
        "name_with_namespace": shared.project_path.replace('/', " / "),
        "description": "Simulated project",
        "default_branch": "main",
        "visibility": "private",
        "web_url": web,
        "http_url_to_repo": format!("{web}.git"),
        "created_at": TIME,
        "last_activity_at": TIME,
        "archived": false,
        "namespace": {"id": 7, "name": namespace, "path": namespace, "kind": "group",
                      "full_path": namespace, "web_url": format!("{base}/groups/{namespace}")},
        "_links": {"self": format!("{base}/api/v4/projects/{}", shared.project_id)},
    })
}

fn content_type(path: &str) -> &'static str {
    if path.ends_with(".xml") {
        "application/xml"
    } else if path.ends_with(".png") {
        "image/png"
    } else if path.ends_with(".txt") || path.ends_with(".log") {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

const TIME: &str = "2024-05-01T10:00:00.000Z";

fn pipeline_json(p: &PipelineSpec, web: &str) -> Value {
    json!({
        "id": p.id,
        "iid": p.iid,
        "project_id": 42,
        "status": p.status,
        "source": p.source,
        "ref": p.ref_name,
        "sha": p.sha,
        "before_sha": "0000000000000000000000000000000000000000",
        "tag": false,
        "yaml_errors": null,
        "created_at": TIME,
        "updated_at": TIME,
        "started_at": TIME,
        "finished_at": TIME,
        "duration": 63,
        "queued_duration": 1,
        "coverage": null,
        "web_url": format!("{web}/-/pipelines/{}", p.id),
        "detailed_status": {"text": p.status, "group": p.status, "label": p.status},
    })
}

fn job_json(p: &PipelineSpec, j: &JobSpec, web: &str) -> Value {
    let size: usize = j.artifacts.values().map(Vec::len).sum();
    let artifacts: Vec<Value> = if j.artifacts.is_empty() || j.archive_expired {
        Vec::new()
    } else {
        vec![
            json!({"file_type": "archive", "size": size, "filename": "artifacts.zip", "file_format": "zip"}),
            json!({"file_type": "metadata", "size": 186, "filename": "metadata.gz", "file_format": "gzip"}),
            json!({"file_type": "trace", "size": 1500, "filename": "job.log", "file_format": "raw"}),
        ]
    };
    json!({
        "id": j.id,
        "name": j.name,
        "stage": j.stage,
        "status": j.status,
        "ref": p.ref_name,
        "tag": false,
        "allow_failure": false,
        "created_at": TIME,
        "started_at": TIME,
        "finished_at": TIME,
        "duration": 12.5,
        "queued_duration": 0.5,
        "failure_reason": if j.status == "failed" { Value::from("script_failure") } else { Value::Null },
        "web_url": format!("{web}/-/jobs/{}", j.id),
        "artifacts_file": if j.artifacts.is_empty() || j.archive_expired { Value::Null } else { json!({"filename": "artifacts.zip", "size": size}) },
        "artifacts": artifacts,
        "artifacts_expire_at": "2030-01-01T00:00:00.000Z",
        "tag_list": ["docker"],
        "commit": {"id": p.sha, "short_id": &p.sha[..8.min(p.sha.len())], "title": "Simulated commit"},
        "pipeline": {"id": p.id, "project_id": 42, "ref": p.ref_name, "sha": p.sha, "status": p.status},
        "user": {"id": 1, "username": "ci-bot", "name": "CI Bot"},
    })
}

/// The artifacts as one zip archive (deflated, members in path order).
fn zip_of(artifacts: &std::collections::BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (path, bytes) in artifacts {
        // Writing into memory fails only when out of memory.
        let written = zip
            .start_file(path.as_str(), options)
            .and_then(|()| zip.write_all(bytes).map_err(zip::result::ZipError::Io));
        if written.is_err() {
            break;
        }
    }
    let _ = zip.finish();
    out.into_inner()
}
