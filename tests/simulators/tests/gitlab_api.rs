//! The GitLab simulator over real HTTP: token auth, the jobs of a pipeline with
//! paging headers, artifact files, and the webhook sender.

use std::sync::{Arc, Mutex};
use tmbridge_simulators::gitlab::{GitlabSim, JobSpec, PipelineSpec, send_webhook};
use tmbridge_simulators::{HttpServer, Outcome, Reply, request};

fn sim_with_pipeline() -> GitlabSim {
    let sim = GitlabSim::start("glpat-test");
    let mut p = PipelineSpec::new(900, "main", "failed");
    for id in 1..=3 {
        p = p.job(
            JobSpec::new(100 + id, &format!("unit {id}"), "test", "failed")
                .artifact("reports/junit.xml", format!("<testsuite name=\"s{id}\"/>")),
        );
    }
    sim.add_pipeline(p.job(JobSpec::new(200, "deploy", "deploy", "skipped")));
    sim
}

#[test]
fn jobs_and_artifacts_need_the_private_token() {
    let sim = sim_with_pipeline();
    let base = format!("{}/api/v4/projects/{}", sim.url(), sim.project_id());
    let jobs_url = format!("{base}/pipelines/900/jobs?per_page=2");
    assert_eq!(request("GET", &jobs_url, &[], None).unwrap().status, 401);
    assert_eq!(
        request("GET", &jobs_url, &[("PRIVATE-TOKEN", "nope")], None)
            .unwrap()
            .status,
        401
    );
    let page1 = request("GET", &jobs_url, &[("PRIVATE-TOKEN", "glpat-test")], None).unwrap();
    assert_eq!(page1.status, 200);
    assert_eq!(page1.header("x-total"), Some("4"));
    assert_eq!(page1.header("x-next-page"), Some("2"));
    let jobs = page1.json().unwrap();
    // Newest first, as GitLab lists them; the shape of the jobs API.
    assert_eq!(jobs[0]["id"], 200);
    assert_eq!(jobs[1]["artifacts"][0]["file_type"], "archive");
    assert_eq!(jobs[1]["pipeline"]["id"], 900);
    assert!(
        jobs[1]["web_url"]
            .as_str()
            .unwrap()
            .ends_with("/acme/web-shop/-/jobs/103")
    );
    let page2 = request(
        "GET",
        &format!("{jobs_url}&page=2"),
        &[("PRIVATE-TOKEN", "glpat-test")],
        None,
    )
    .unwrap();
    assert_eq!(page2.json().unwrap().as_array().unwrap().len(), 2);
    assert_eq!(page2.header("x-next-page"), Some(""));
    // The project by its URL-encoded path, and a raw artifact file.
    let by_path = format!(
        "{}/api/v4/projects/acme%2Fweb-shop/jobs/102/artifacts/reports/junit.xml",
        sim.url()
    );
    let file = request(
        "GET",
        &by_path,
        &[("Authorization", "Bearer glpat-test")],
        None,
    )
    .unwrap();
    assert_eq!(file.status, 200);
    assert_eq!(file.text(), "<testsuite name=\"s2\"/>");
    let missing = request(
        "GET",
        &format!("{base}/jobs/102/artifacts/nope.xml"),
        &[("PRIVATE-TOKEN", "glpat-test")],
        None,
    )
    .unwrap();
    assert_eq!(missing.status, 404);
    sim.faults().fail_next(1, 502);
    assert_eq!(
        request("GET", &jobs_url, &[("PRIVATE-TOKEN", "glpat-test")], None)
            .unwrap()
            .status,
        502
    );
}

/// (X-Gitlab-Event, X-Gitlab-Token, body) of a received webhook.
type Seen = (Option<String>, Option<String>, Vec<u8>);

#[test]
fn webhook_sender_posts_a_pipeline_hook() {
    let sim = sim_with_pipeline();
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let seen2 = seen.clone();
    let receiver = HttpServer::start(Arc::new(move |req| {
        seen2.lock().unwrap().push((
            req.header("x-gitlab-event").map(str::to_string),
            req.header("x-gitlab-token").map(str::to_string),
            req.body.clone(),
        ));
        Outcome::Reply(Reply::bytes(200, "text/plain", b"ok".to_vec()))
    }))
    .unwrap();
    let body = sim.pipeline_hook_body(900).unwrap();
    let r = send_webhook(
        &format!("{}/webhook", receiver.url()),
        Some("s3cret"),
        "Pipeline Hook",
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 200);
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].0.as_deref(), Some("Pipeline Hook"));
    assert_eq!(seen[0].1.as_deref(), Some("s3cret"));
    let event = tmbridge_core::gitlab::parse_pipeline_event(&seen[0].2).unwrap();
    assert_eq!(event.pipeline_id, 900);
    assert_eq!(event.project.unwrap().id, sim.project_id());
    assert_eq!(event.jobs.len(), 4);
}

#[test]
fn project_pipelines_link_paging_and_test_report() {
    let sim = GitlabSim::start("glpat-test");
    let junit = r#"<testsuite name="s"><testcase classname="A" name="ok" time="0.5"/><testcase classname="A" name="bad" time="0.25"><failure message="boom">trace</failure></testcase><testcase classname="A" name="later"><skipped/></testcase></testsuite>"#;
    sim.add_pipeline(PipelineSpec::new(901, "main", "success"));
    sim.add_pipeline(
        PipelineSpec::new(902, "main", "failed")
            .job(JobSpec::new(1, "unit", "test", "failed").artifact("junit.xml", junit))
            .job(JobSpec::new(2, "lint", "test", "success")),
    );
    let auth = [("PRIVATE-TOKEN", "glpat-test")];
    let base = format!("{}/api/v4/projects", sim.url());
    let project = request("GET", &format!("{base}/acme%2Fweb-shop"), &auth, None).unwrap();
    assert_eq!(project.status, 200);
    let project = project.json().unwrap();
    assert_eq!(project["id"], 42);
    assert_eq!(project["path_with_namespace"], "acme/web-shop");
    assert_eq!(project["default_branch"], "main");

    let page1 = request(
        "GET",
        &format!("{base}/42/pipelines?per_page=1"),
        &auth,
        None,
    )
    .unwrap();
    assert_eq!(page1.json().unwrap()[0]["id"], 902);
    let link = page1.header("link").unwrap().to_string();
    let next = link
        .split(", ")
        .find(|l| l.ends_with("rel=\"next\""))
        .and_then(|l| l.split(['<', '>']).nth(1))
        .expect("a next link")
        .to_string();
    let page2 = request("GET", &next, &auth, None).unwrap();
    assert_eq!(page2.json().unwrap()[0]["id"], 901);
    assert!(!page2.header("link").unwrap().contains("rel=\"next\""));

    let report = request(
        "GET",
        &format!("{base}/42/pipelines/902/test_report"),
        &auth,
        None,
    )
    .unwrap()
    .json()
    .unwrap();
    assert_eq!(report["total_count"], 3);
    assert_eq!(report["success_count"], 1);
    assert_eq!(report["failed_count"], 1);
    assert_eq!(report["skipped_count"], 1);
    let suite = &report["test_suites"][0];
    assert_eq!(suite["name"], "unit");
    let bad = suite["test_cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "bad")
        .unwrap();
    assert_eq!(bad["status"], "failed");
    assert_eq!(bad["classname"], "A");
    assert_eq!(bad["execution_time"], 0.25);
    let empty = request(
        "GET",
        &format!("{base}/42/pipelines/901/test_report"),
        &auth,
        None,
    )
    .unwrap()
    .json()
    .unwrap();
    assert_eq!(empty["total_count"], 0);
}
