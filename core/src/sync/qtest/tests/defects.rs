//! `qtest.failed_run` and `qtest.link_defect` against the fake qTest: a failed run,
//! its case, its latest log and the log's file read for a defect; the defect linked
//! back in one comment on the run, also when the comment's answer is lost.

use super::{FakeQtest, PROJECT, SITE, TOKEN, run};
use crate::sync::details::Details;
use crate::sync::details::qtest::{QtestDefectLink, QtestFailedRun};
use crate::sync::protocol::{HttpResponse, Method};
use crate::sync::report::Report;
use serde_json::{Value, json};

/// The failing test's screenshot, as the run's latest log keeps it.
pub(crate) const SHOT: &[u8] = b"\x89PNG\r\n\x1a\nfake screenshot";

impl FakeQtest {
    /// One run, one case and the run's latest log with one file, as qTest serves
    /// them; returns the run's id.
    pub(crate) fn with_failed_run(&mut self) -> u64 {
        let case = self.add(
            "test-case",
            "Checkout rejects an expired card",
            0,
            json!({"pid": "TC-7", "web_url": format!("{SITE}/p/{PROJECT}/portal/project#tab=testdesign&object=1&id=101")}),
        );
        let run = self.add(
            "test-run",
            "Checkout rejects an expired card",
            0,
            json!({"pid": "TR-3", "test_case": {"id": case["id"]}}),
        );
        let run_id = run["id"].as_u64().unwrap_or_default();
        self.add(
            "test-log",
            "Checkout rejects an expired card",
            run_id,
            json!({
                "status": {"id": 602, "name": "Failed"},
                "exe_start_date": "2024-05-01T10:00:00+00:00",
                "exe_end_date": "2024-05-01T10:01:00+00:00",
                "note": "AssertionError: expected an error, got a spinner",
                "test_step_logs": [{"order": 0, "description": "Pay with an expired card", "expected_result": "An error", "actual_result": "A spinner, then 502", "status": {"name": "Failed"}}],
                "attachments": [{"id": 7001, "name": "checkout.png", "content_type": "image/png", "size": SHOT.len()}],
            }),
        );
        run_id
    }

    /// A run by id, its latest log, a log's file and the run's comments; 404 else.
    pub(super) fn defect_route(
        &mut self,
        method: Method,
        parts: &[&str],
        body: &Value,
    ) -> HttpResponse {
        let ok = |v: Value| HttpResponse::answered(200, vec![], v.to_string());
        let missing = |what: &str| {
            HttpResponse::answered(
                404,
                vec![],
                json!({"message": format!("{what} does not exist.")}).to_string(),
            )
        };
        let id_of = |s: &str| s.parse::<u64>().unwrap_or(0);
        let object = |fake: &FakeQtest, kind: &str, id: u64| {
            fake.objects
                .iter()
                .find(|o| o.kind == kind && o.id == id)
                .map(|o| o.body.clone())
        };
        match (method, parts) {
            (Method::Get, ["test-runs", id]) => match object(self, "test-run", id_of(id)) {
                Some(mut r) => {
                    r["web_url"] = json!(format!(
                        "{SITE}/p/{PROJECT}/portal/project#tab=testexecution&object=3&id={id}"
                    ));
                    ok(r)
                }
                None => missing("Test Run"),
            },
            (Method::Get, ["test-runs", id, "test-logs", "last-run"]) => {
                match self.children("test-log", id_of(id)).pop() {
                    Some(log) => ok(log),
                    None => missing("Test Log"),
                }
            }
            (Method::Get, ["test-logs", _, "attachments", "7001"]) => HttpResponse::answered_bytes(
                200,
                vec![("Content-Type".into(), "image/png".into())],
                SHOT.to_vec(),
            ),
            (Method::Get, ["test-runs", id, "comments"]) => {
                let items = self.children("comment", id_of(id));
                ok(
                    json!({"links": [], "page": 1, "page_size": 100, "total": items.len(), "items": items}),
                )
            }
            (Method::Post, ["test-runs", id, "comments"])
                if object(self, "test-run", id_of(id)).is_some() =>
            {
                let content = body["content"].as_str().unwrap_or_default().to_string();
                ok(self.add("comment", "", id_of(id), json!({"content": content})))
            }
            _ => missing("Endpoint"),
        }
    }
}

pub(crate) fn failed_run_start(run: u64) -> Value {
    json!({
        "kind": "qtest.failed_run",
        "input": {"config": {"qtest": {"url": SITE, "project_id": PROJECT}}, "request": {"test_run": run}},
        "options": {"seed": 5}
    })
}

pub(crate) fn link_defect_start(run: u64) -> Value {
    json!({
        "kind": "qtest.link_defect",
        "input": {
            "config": {"qtest": {"url": SITE, "project_id": PROJECT}},
            "request": {"test_run": run, "test_log": null, "defect": {
                "formatted_id": "DE12",
                "url": "https://rally1.rallydev.com/#/detail/defect/12",
                "name": "Checkout rejects an expired card <b>",
            }},
        },
        "options": {"seed": 6}
    })
}

fn failed_run(report: &Report) -> &QtestFailedRun {
    match &report.details {
        Details::QtestFailedRun(out) => out,
        other => panic!("{other:?}"),
    }
}

fn defect_link(report: &Report) -> &QtestDefectLink {
    match &report.details {
        Details::QtestDefectLink(out) => out,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failed_run_is_read_with_its_case_latest_log_and_file() {
    let mut q = FakeQtest::new();
    let id = q.with_failed_run();
    let (report, _) = run(&mut q, &failed_run_start(id), TOKEN, false);
    let out = failed_run(&report);
    assert_eq!(out.test_run_id, id);
    assert_eq!(
        out.run.test_case.name.as_deref(),
        Some("Checkout rejects an expired card")
    );
    assert!(
        out.run_url
            .as_deref()
            .is_some_and(|u| u.ends_with(&format!("id={id}")))
    );
    assert!(
        out.test_case_url
            .as_deref()
            .is_some_and(|u| u.contains("testdesign"))
    );
    assert_eq!(out.attachments.len(), 1);
    assert_eq!(out.attachments[0].name, "checkout.png");
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&out.attachments[0].content_base64)
        .unwrap();
    assert_eq!(bytes, SHOT);
    // Nothing in qTest changed.
    assert!(q.log.iter().all(|r| r.method == Method::Get));
}

#[test]
fn a_run_that_does_not_exist_is_refused_by_name() {
    let mut q = FakeQtest::new();
    let (report, _) = run(&mut q, &failed_run_start(4242), TOKEN, false);
    let e = report.error.as_ref().map(|e| e.code.as_str());
    assert_eq!(e, Some("qtest.no_test_run"));
}

#[test]
fn the_defect_is_linked_in_one_comment_whatever_crashes() {
    let mut q = FakeQtest::new();
    let id = q.with_failed_run();
    q.fault(Method::Post, "/comments", super::Fault::DropAfterApply);
    let (report, _) = run(&mut q, &link_defect_start(id), TOKEN, true);
    assert!(report.error.is_none(), "{:?}", report.error);
    assert_eq!(q.count("comment"), 1);
    let comment = q.children("comment", id).pop().unwrap_or_default();
    let content = comment["content"].as_str().unwrap_or_default();
    assert!(content.contains(">DE12</a>"), "{content}");
    assert!(
        !content.contains("<b>"),
        "the defect's name is escaped: {content}"
    );
    // A second link of the same defect finds the comment and adds nothing.
    let (again, _) = run(&mut q, &link_defect_start(id), TOKEN, false);
    assert!(defect_link(&again).existed);
    assert_eq!(q.count("comment"), 1);
}
