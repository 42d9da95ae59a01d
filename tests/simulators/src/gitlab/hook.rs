//! Pipeline Hook bodies and the sender that POSTs them the way GitLab does:
//! `Content-Type: application/json`, `X-Gitlab-Event: Pipeline Hook` and the
//! secret in `X-Gitlab-Token`.

use super::PipelineSpec;
use crate::client::{HttpResponse, request};
use serde_json::{Value, json};
use std::io;

/// The Pipeline Hook event for a pipeline, in the shape of GitLab's documented
/// example (`object_kind`, `object_attributes`, `user`, `project`, `commit`,
/// `builds`). Timestamps use the docs' `2016-08-12 15:23:28 UTC` style.
pub fn pipeline_hook(
    p: &PipelineSpec,
    project_id: u64,
    project_path: &str,
    base_url: &str,
) -> Vec<u8> {
    let web = format!("{base_url}/{project_path}");
    let stages: Vec<String> = p.jobs.iter().fold(Vec::new(), |mut acc, j| {
        if !acc.contains(&j.stage) {
            acc.push(j.stage.clone());
        }
        acc
    });
    let builds: Vec<Value> = p
        .jobs
        .iter()
        .rev()
        .map(|j| {
            json!({
                "id": j.id,
                "stage": j.stage,
                "name": j.name,
                "status": j.status,
                "created_at": "2024-05-01 10:00:00 UTC",
                "started_at": "2024-05-01 10:00:05 UTC",
                "finished_at": "2024-05-01 10:01:05 UTC",
                "duration": 60.2,
                "queued_duration": 5.1,
                "failure_reason": if j.status == "failed" { Value::from("script_failure") } else { Value::Null },
                "when": "on_success",
                "manual": false,
                "allow_failure": false,
                "user": {"id": 1, "name": "CI Bot", "username": "ci-bot", "avatar_url": null, "email": "ci@example.com"},
                "runner": {"id": 7, "description": "simulated runner", "runner_type": "instance_type", "active": true, "is_shared": true, "tags": ["docker"]},
                "artifacts_file": if j.artifacts.is_empty() {
                    json!({"filename": null, "size": null})
                } else {
                    json!({"filename": "artifacts.zip", "size": j.artifacts.values().map(Vec::len).sum::<usize>()})
                },
                "environment": null,
            })
        })
        .collect();
    let body = json!({
        "object_kind": "pipeline",
        "object_attributes": {
            "id": p.id,
            "iid": p.iid,
            "name": null,
            "ref": p.ref_name,
            "tag": false,
            "sha": p.sha,
            "before_sha": "0000000000000000000000000000000000000000",
            "source": p.source,
            "status": p.status,
            "detailed_status": p.status,
            "stages": stages,
            "created_at": "2024-05-01 10:00:00 UTC",
            "finished_at": "2024-05-01 10:02:00 UTC",
            "duration": 120,
            "queued_duration": 5,
            "variables": [],
            "url": format!("{web}/-/pipelines/{}", p.id),
        },
        "merge_request": null,
        "user": {"id": 1, "name": "CI Bot", "username": "ci-bot", "avatar_url": null, "email": "ci@example.com"},
        "project": {
            "id": project_id,
            "name": project_path.rsplit('/').next().unwrap_or(project_path),
            "description": "Simulated project",
            "web_url": web,
            "avatar_url": null,
            "git_ssh_url": format!("git@127.0.0.1:{project_path}.git"),
            "git_http_url": format!("{web}.git"),
            "namespace": project_path.split('/').next().unwrap_or(""),
            "visibility_level": 0,
            "path_with_namespace": project_path,
            "default_branch": "main",
        },
        "commit": {
            "id": p.sha,
            "message": "Simulated commit\n",
            "title": "Simulated commit",
            "timestamp": "2024-05-01T09:59:00+00:00",
            "url": format!("{web}/-/commit/{}", p.sha),
            "author": {"name": "Dev", "email": "dev@example.com"},
        },
        "source_pipeline": null,
        "builds": builds,
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// POSTs a webhook to `url`. `token` goes in `X-Gitlab-Token` when given; `event`
/// in `X-Gitlab-Event` (`Pipeline Hook`).
pub fn send_webhook(
    url: &str,
    token: Option<&str>,
    event: &str,
    body: &[u8],
) -> io::Result<HttpResponse> {
    let mut headers = vec![
        ("Content-Type", "application/json"),
        ("User-Agent", "GitLab/17.0.0"),
        ("X-Gitlab-Event", event),
        ("X-Gitlab-Instance", "http://127.0.0.1"),
    ];
    if let Some(t) = token {
        headers.push(("X-Gitlab-Token", t));
    }
    request("POST", url, &headers, Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::JobSpec;

    #[test]
    fn hooks_parse_with_the_core_reader() {
        let p = PipelineSpec::new(501, "main", "failed")
            .job(JobSpec::new(11, "unit", "test", "failed").artifact("junit.xml", "<testsuite/>"))
            .job(JobSpec::new(12, "deploy", "deploy", "skipped"));
        let body = pipeline_hook(&p, 42, "acme/web-shop", "http://127.0.0.1:9");
        let event = tmbridge_core::gitlab::parse_pipeline_event(&body).unwrap();
        assert_eq!(event.pipeline_id, 501);
        assert_eq!(event.status, "failed");
        assert_eq!(event.ref_name, "main");
        assert_eq!(event.stages, vec!["test", "deploy"]);
        assert_eq!(
            event.jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
            vec![11, 12]
        );
        assert_eq!(
            event.project.as_ref().and_then(|p| p.web_url.as_deref()),
            Some("http://127.0.0.1:9/acme/web-shop")
        );
        let d = tmbridge_core::gitlab::decide(&event, &Default::default());
        assert!(d.process, "{}", d.reason);
        assert_eq!(d.jobs, vec![11]);
    }
}
