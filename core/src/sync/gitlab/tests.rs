use super::archive::tests::archive;
use crate::model::Status;
use crate::session::{Secrets, SessionHandle};
use crate::sync::details::Details;
use crate::sync::details::gitlab::{ReportSource, ReportsOutput};
use crate::sync::protocol::{HttpRequest, HttpResponse, ResponseKind, Step};
use crate::sync::report::Report;
use serde_json::json;

const BASE: &str = "https://gitlab.test";
pub(crate) const TOKEN: &str = "glpat-secret";

const REPORT: &str = r#"<testsuite name="checkout"><testcase classname="shop.Pay" name="pays">
<failure message="declined"/><system-out>[[ATTACHMENT|/builds/shop/web/shots/pay.png]]</system-out>
</testcase><testcase classname="shop.Pay" name="refunds"/></testsuite>"#;

/// A GitLab with a pipeline of three jobs over two pages: `unit` keeps an archive
/// with a report and a screenshot, `lint` keeps nothing, `e2e` keeps an archive that
/// object storage serves after a redirect.
pub(crate) struct FakeGitlab {
    log: Vec<HttpRequest>,
    faults: Vec<(String, HttpResponse)>,
    archives: bool,
}

impl FakeGitlab {
    pub(crate) fn new() -> FakeGitlab {
        FakeGitlab {
            log: Vec::new(),
            faults: Vec::new(),
            archives: true,
        }
    }

    pub(crate) fn handle(&mut self, req: &HttpRequest) -> HttpResponse {
        self.log.push(req.clone());
        if let Some(i) = self
            .faults
            .iter()
            .position(|(p, _)| req.url.contains(p.as_str()))
        {
            return self.faults.remove(i).1;
        }
        if req.url.starts_with("https://storage.test/") {
            let zip = archive(&[("e2e/results/TEST-e2e.xml", REPORT.as_bytes())]);
            return HttpResponse::answered_bytes(200, vec![], zip);
        }
        if req.header("PRIVATE-TOKEN") != Some(TOKEN) {
            return HttpResponse::answered(401, vec![], r#"{"message":"401 Unauthorized"}"#);
        }
        let api = format!("{BASE}/api/v4/projects/42");
        let path = req.url.strip_prefix(&api).unwrap_or("");
        let job = |id: u64, name: &str, archive: bool| {
            json!({"id": id, "name": name, "stage": "test", "web_url": format!("{BASE}/shop/web/-/jobs/{id}"),
                   "artifacts": if archive && self.archives { json!([{"file_type": "archive", "filename": "artifacts.zip"}]) } else { json!([]) }})
        };
        match path {
            "/pipelines/7/jobs?per_page=100&page=1" => HttpResponse::answered(
                200,
                vec![("X-Next-Page".into(), "2".into())],
                json!([job(1, "unit", true), job(2, "lint", false)]).to_string(),
            ),
            "/pipelines/7/jobs?per_page=100&page=2" => HttpResponse::answered(
                200,
                vec![("X-Next-Page".into(), "".into())],
                json!([job(3, "e2e", true)]).to_string(),
            ),
            "/jobs/1/artifacts" => HttpResponse::answered_bytes(
                200,
                vec![],
                archive(&[
                    ("build/test-results/TEST-unit.xml", REPORT.as_bytes()),
                    ("shots/pay.png", b"\x89PNG\r\n\x1a\n\xff"),
                    ("build/other.txt", b"not a report"),
                ]),
            ),
            "/jobs/3/artifacts" => HttpResponse::answered(
                302,
                vec![(
                    "Location".into(),
                    "https://storage.test/bucket/3.zip?sig=x".into(),
                )],
                "",
            ),
            "/pipelines/7/test_report" => HttpResponse::answered(
                200,
                vec![],
                include_str!(
                    "../../../../tests/fixtures/gitlab/pipeline-test-report-go-gitlab.json"
                ),
            ),
            _ => HttpResponse::answered(404, vec![], r#"{"message":"404 Not found"}"#),
        }
    }
}

pub(crate) fn request(jobs: Option<Vec<u64>>) -> serde_json::Value {
    json!({
        "kind": "gitlab.reports",
        "input": {
            "gitlab_url": BASE,
            "project_id": 42,
            "pipeline_id": 7,
            "jobs": jobs,
            "globs": ["build/test-results/**/*.xml", "e2e/results/*.xml"],
            "project_path": "shop/web"
        },
        "options": {"seed": 5}
    })
}

fn secrets() -> Secrets {
    Secrets {
        api_key: Some(TOKEN.into()),
        ..Secrets::default()
    }
}

/// Drives to the end; with `crash_at`, saves and resumes after that many requests.
fn run(
    gitlab: &mut FakeGitlab,
    start: &serde_json::Value,
    crash_at: Option<usize>,
) -> (Report, Vec<u64>) {
    let mut s = SessionHandle::start(start.to_string().as_bytes(), &secrets()).unwrap();
    let mut waits = Vec::new();
    let mut sent = 0;
    for _ in 0..1000 {
        match s.next() {
            Step::Send(req) => {
                sent += 1;
                let answer = gitlab.handle(&req);
                if crash_at == Some(sent) {
                    let input = s.input().unwrap();
                    let progress = s.save_progress().unwrap();
                    assert!(!progress.contains(TOKEN) && !input.contains(TOKEN));
                    s = SessionHandle::resume_parts(
                        "gitlab.reports",
                        input.as_bytes(),
                        progress.as_bytes(),
                        &secrets(),
                    )
                    .unwrap();
                    continue;
                }
                s.receive(req.id, answer).unwrap();
            }
            Step::Wait { ms } => waits.push(ms),
            Step::Done(report) => return (report, waits),
            Step::Read(_) | Step::Save => panic!("this session reads and saves nothing"),
        }
    }
    panic!("the session did not finish")
}

fn output(report: &Report) -> &ReportsOutput {
    match &report.details {
        Details::GitlabReports(out) => out,
        other => panic!("{other:?}"),
    }
}

#[test]
fn reports_and_their_attachments_come_from_every_test_jobs_archive() {
    let mut gitlab = FakeGitlab::new();
    let (report, _) = run(&mut gitlab, &request(None), None);
    assert_eq!(report.error, None);
    let out = output(&report);
    assert_eq!(out.source, ReportSource::Artifacts);
    let reports: Vec<(u64, &str)> = out
        .reports
        .iter()
        .map(|r| (r.job_id, r.member.as_str()))
        .collect();
    assert_eq!(
        reports,
        [
            (1, "build/test-results/TEST-unit.xml"),
            (3, "e2e/results/TEST-e2e.xml")
        ]
    );
    // The runner path of the screenshot is found in job 1's archive; job 3's has none.
    let attached: Vec<(u64, &str, &str)> = out
        .attachments
        .iter()
        .map(|a| (a.job_id, a.named_as.as_str(), a.member.as_str()))
        .collect();
    assert_eq!(
        attached,
        [(1, "/builds/shop/web/shots/pay.png", "shots/pay.png")]
    );
    let jobs: Vec<&str> = out.jobs.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(jobs, ["unit", "e2e"]);
    // Both pages were read; the lint job was never asked for its archive.
    assert!(gitlab.log.iter().any(|r| r.url.ends_with("page=2")));
    assert!(!gitlab.log.iter().any(|r| r.url.contains("/jobs/2/")));
}

#[test]
fn the_token_never_follows_a_redirect_to_another_host() {
    let mut gitlab = FakeGitlab::new();
    run(&mut gitlab, &request(None), None);
    let storage = gitlab
        .log
        .iter()
        .find(|r| r.url.starts_with("https://storage.test/"))
        .unwrap();
    assert_eq!(storage.header("PRIVATE-TOKEN"), None);
    assert!(
        gitlab
            .log
            .iter()
            .filter(|r| r.url.starts_with(BASE))
            .all(|r| r.header("PRIVATE-TOKEN") == Some(TOKEN))
    );
}

#[test]
fn without_archives_the_pipeline_test_report_is_read() {
    let mut gitlab = FakeGitlab::new();
    gitlab.archives = false;
    let (report, _) = run(&mut gitlab, &request(None), None);
    let out = output(&report);
    assert_eq!(out.source, ReportSource::TestReport);
    let cases = out.test_report.as_ref().unwrap();
    assert_eq!(cases.len(), 5);
    assert_eq!(
        cases.iter().filter(|c| c.status == Status::Error).count(),
        3
    );
}

#[test]
fn busy_and_lost_answers_are_retried_and_a_bad_token_is_named() {
    let mut gitlab = FakeGitlab::new();
    gitlab.faults.push((
        "page=1".into(),
        HttpResponse::answered(503, vec![], "<html>busy</html>"),
    ));
    gitlab.faults.push((
        "/jobs/1/artifacts".into(),
        HttpResponse::answered(429, vec![("Retry-After".into(), "3".into())], ""),
    ));
    gitlab.faults.push((
        "/jobs/1/artifacts".into(),
        HttpResponse::failed(ResponseKind::Dropped, "reset"),
    ));
    let (report, waits) = run(&mut gitlab, &request(None), None);
    assert_eq!(report.error, None);
    assert_eq!(output(&report).reports.len(), 2);
    assert!(waits.contains(&3000), "{waits:?}");
    assert_eq!(report.stats.retries, 3);

    let mut bad = secrets();
    bad.api_key = Some("wrong".into());
    let mut s = SessionHandle::start(request(None).to_string().as_bytes(), &bad).unwrap();
    let mut gitlab = FakeGitlab::new();
    let report = loop {
        match s.next() {
            Step::Send(req) => s.receive(req.id, gitlab.handle(&req)).unwrap(),
            Step::Done(r) => break r,
            _ => {}
        }
    };
    let error = report.error.unwrap();
    assert_eq!(error.code, "gitlab.unauthorized");
    assert!(!report.retryable);
}

#[test]
fn a_host_that_crashes_after_any_request_resumes_to_the_same_result() {
    let (expected, _) = run(&mut FakeGitlab::new(), &request(None), None);
    for crash_at in 1..=5 {
        let (report, _) = run(&mut FakeGitlab::new(), &request(None), Some(crash_at));
        assert_eq!(
            output(&report),
            output(&expected),
            "crash after request {crash_at}"
        );
    }
}

#[test]
fn only_the_jobs_asked_for_are_read_and_bad_requests_fail_at_the_start() {
    let mut gitlab = FakeGitlab::new();
    let (report, _) = run(&mut gitlab, &request(Some(vec![3])), None);
    assert_eq!(output(&report).jobs.len(), 1);
    assert!(!gitlab.log.iter().any(|r| r.url.contains("/jobs/1/")));

    let mut start = request(None);
    start["input"]["gitlab_url"] = json!("https://user:pw@gitlab.test");
    let error = SessionHandle::start(start.to_string().as_bytes(), &secrets())
        .err()
        .unwrap();
    assert_eq!(error.code, "gitlab.bad_request");
    assert!(!error.message.contains("pw"));
    let mut start = request(None);
    start["input"]["globs"] = json!(["[unclosed"]);
    let error = SessionHandle::start(start.to_string().as_bytes(), &secrets())
        .err()
        .unwrap();
    assert_eq!(error.code, "gitlab.bad_request");
}
