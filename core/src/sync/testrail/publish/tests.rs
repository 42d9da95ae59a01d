use crate::session::{Secrets, SessionHandle};
use crate::sync::details::Details;
use crate::sync::details::testrail::TestrailPublishDetails;
use crate::sync::protocol::{Method, Step};
use crate::sync::report::Report;
use crate::sync::testrail::testkit::{BASE, FakeTestrail, Fault, KEY, USER};
use serde_json::{Value, json};

const REPORT: &str = r#"<testsuites>
<testsuite name="checkout">
  <testcase classname="shop.Checkout" name="C101 pays by card" time="2.5">
    <failure type="AssertionError" message="expected 42">trace</failure>
  </testcase>
  <testcase classname="shop.Checkout" name="refunds" time="1"/>
</testsuite>
<testsuite name="login">
  <testcase classname="shop.Login" name="signs in" time="0.5">
    <properties>
      <property name="testrail_attachment" value="shots/login.png"/>
      <property name="testrail_result_field" value="custom_environment:staging"/>
    </properties>
  </testcase>
</testsuite>
</testsuites>"#;

pub(crate) fn secrets() -> Secrets {
    Secrets {
        username: Some(USER.into()),
        api_key: Some(KEY.into()),
        ..Secrets::default()
    }
}

pub(crate) fn cases(xml: &str) -> Value {
    let report = crate::junit::parse(xml.as_bytes()).unwrap();
    serde_json::to_value(report.cases().into_iter().cloned().collect::<Vec<_>>()).unwrap()
}

pub(crate) fn start(testrail: Value, xml: &str) -> Value {
    let mut config = json!({"url": BASE, "project_id": "P1", "section_id": 10});
    for (k, v) in testrail.as_object().cloned().unwrap_or_default() {
        config[k.as_str()] = v;
    }
    json!({
        "kind": "testrail.publish",
        "input": {
            "config": {"testrail": config},
            "cases": cases(xml),
            "context": {"now": "2026-12-03T10:00:00Z", "pipeline_id": "981", "job_name": "e2e"}
        },
        "options": {"seed": 3}
    })
}

/// Drives to the end. With `crash_after`, the host dies after that many writes were
/// acted on (their answers never read), then resumes from its last save.
fn run(tr: &mut FakeTestrail, start: &Value, crash_after: Option<usize>) -> Report {
    let mut s = SessionHandle::start(start.to_string().as_bytes(), &secrets()).unwrap();
    let mut saved = s.save().unwrap();
    let mut writes = 0;
    for _ in 0..5000 {
        match s.next() {
            Step::Send(req) => {
                let answer = tr.handle(&req);
                if req.method != Method::Get {
                    writes += 1;
                    if crash_after == Some(writes) {
                        s = SessionHandle::resume(saved.as_bytes(), &secrets()).unwrap();
                        continue;
                    }
                }
                s.receive(req.id, answer).unwrap();
            }
            Step::Save => saved = s.save().unwrap(),
            Step::Read(f) => {
                let file = if f.path == "shots/login.png" {
                    Ok(b"\x89PNG\r\n\x1a\nlogin".to_vec())
                } else {
                    Err(format!("{}: no such file", f.path))
                };
                s.provide_file(f.id, file).unwrap();
            }
            Step::Wait { .. } => {}
            Step::Done(report) => return report,
        }
    }
    panic!("the session did not finish")
}

fn details(r: &Report) -> &TestrailPublishDetails {
    match &r.details {
        Details::TestrailPublish(d) => d,
        other => panic!("{other:?}"),
    }
}

fn seeded() -> FakeTestrail {
    let mut tr = FakeTestrail::new();
    // Case 101 exists; the other two tests have no case yet.
    tr.cases.insert(
        101,
        json!({"id": 101, "title": "pays by card", "section_id": 10, "suite_id": 1}),
    );
    tr
}

#[test]
fn cases_runs_results_and_attachments_are_created_once() {
    let mut tr = seeded();
    let report = run(&mut tr, &start(json!({}), REPORT), None);
    assert_eq!(report.error, None, "{:?}", report.failed);
    // New cases in a section per <testsuite>, under the configured one.
    let sections: Vec<&str> = tr
        .sections
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(sections, ["Automated", "checkout", "login"]);
    assert_eq!(tr.cases.len(), 3);
    let refunds = tr.cases.values().find(|c| c["title"] == "refunds").unwrap();
    assert_eq!(refunds["custom_automation_id"], "shop.Checkout.refunds");
    assert_eq!(tr.runs.len(), 1);
    let the_run = tr.runs.values().next().unwrap();
    assert_eq!(the_run["name"], "tmbridge pipeline 981");
    assert_eq!(the_run["case_ids"].as_array().unwrap().len(), 3);
    assert_eq!(tr.results.len(), 3);
    let failed = tr.results.iter().find(|r| r["case_id"] == 101).unwrap();
    assert_eq!(failed["status_id"], 5);
    let comment = failed["comment"].as_str().unwrap();
    assert!(comment.starts_with("Type: AssertionError"), "{comment}");
    assert!(comment.contains("tmbridge run "), "{comment}");
    let login = tr
        .results
        .iter()
        .find(|r| r["custom_environment"] == "staging")
        .unwrap();
    assert_eq!(login["elapsed"], "1s");
    assert_eq!(tr.attachments.len(), 1);
    assert_eq!(tr.attachments[0].1, "login.png");
    assert_eq!(tr.attachments[0].2, b"\x89PNG\r\n\x1a\nlogin");
    assert_eq!(details(&report).cache.automation_ids.len(), 2);

    // The same pipeline again, without any saved progress: nothing new.
    let again = run(&mut tr, &start(json!({}), REPORT), None);
    assert_eq!(again.error, None);
    assert!(again.created.is_empty(), "{:?}", again.created);
    assert_eq!(
        (
            tr.cases.len(),
            tr.runs.len(),
            tr.results.len(),
            tr.attachments.len()
        ),
        (3, 1, 3, 1)
    );
}

#[test]
fn a_crash_after_any_write_resumes_without_duplicates() {
    let mut clean = seeded();
    run(&mut clean, &start(json!({}), REPORT), None);
    let writes = clean.log.iter().filter(|r| r.method != Method::Get).count();
    for crash in 1..=writes {
        let mut tr = seeded();
        let report = run(&mut tr, &start(json!({}), REPORT), Some(crash));
        assert_eq!(report.error, None, "crash after write {crash}");
        assert_eq!(
            (
                tr.sections.len(),
                tr.cases.len(),
                tr.runs.len(),
                tr.results.len(),
                tr.attachments.len()
            ),
            (3, 3, 1, 3, 1),
            "crash after write {crash}"
        );
    }
}

#[test]
fn lost_answers_throttling_and_paging_are_survived() {
    let mut tr = seeded();
    tr.page_size = 1;
    tr.fault(Method::Post, "add_case", Fault::DropAfterApply);
    tr.fault(Method::Post, "add_results_for_cases", Fault::DropAfterApply);
    tr.fault(
        Method::Get,
        "get_cases",
        Fault::Answer(429, vec![("Retry-After".into(), "2".into())], "{}".into()),
    );
    tr.fault(
        Method::Post,
        "add_run",
        Fault::Answer(503, vec![], "<html>busy</html>".into()),
    );
    let report = run(&mut tr, &start(json!({}), REPORT), None);
    assert_eq!(report.error, None, "{:?}", report.failed);
    assert_eq!((tr.cases.len(), tr.runs.len(), tr.results.len()), (3, 1, 3));
    assert!(report.stats.waited_ms >= 2000);
    assert!(tr.log.iter().any(|r| r.url.contains("offset=2")), "paged");
}

#[test]
fn cases_exported_before_are_updated_when_they_change() {
    let mut tr = seeded();
    run(
        &mut tr,
        &start(json!({"case_fields": {"level": 2}}), REPORT),
        None,
    );
    assert_eq!(tr.calls("update_case"), 0);
    let refunds = *tr
        .cases
        .iter()
        .find(|(_, c)| c["title"] == "refunds")
        .unwrap()
        .0;
    assert_eq!(tr.cases[&refunds]["custom_level"], 2);
    let changed = REPORT.replace("name=\"refunds\"", "name=\"refunds\" file=\"x\"");
    let report = run(
        &mut tr,
        &start(json!({"case_fields": {"level": 1}}), &changed),
        None,
    );
    assert_eq!(report.error, None);
    assert_eq!(tr.cases[&refunds]["custom_level"], 1);
    // Both tmbridge-made cases changed; the case made by hand (C101) is left alone.
    assert_eq!(tr.calls("update_case"), 2);
    assert!(
        report
            .updated
            .iter()
            .any(|e| e.key == format!("C{refunds}"))
    );
    run(
        &mut tr,
        &start(json!({"case_fields": {"level": 1}}), &changed),
        None,
    );
    assert_eq!(tr.calls("update_case"), 2, "no change, no update");
}

#[test]
fn toggles_and_scope_are_honoured() {
    let mut tr = seeded();
    let r = run(&mut tr, &start(json!({"export": false}), REPORT), None);
    assert!(tr.log.is_empty());
    assert!(
        r.warnings
            .iter()
            .any(|w| w.code == "testrail.export_disabled")
    );

    let mut tr = seeded();
    run(
        &mut tr,
        &start(json!({"create_cases": false}), REPORT),
        None,
    );
    assert_eq!((tr.cases.len(), tr.results.len()), (1, 1));

    let mut tr = seeded();
    run(
        &mut tr,
        &start(json!({"export_results": false}), REPORT),
        None,
    );
    assert_eq!((tr.cases.len(), tr.runs.len(), tr.results.len()), (3, 0, 0));

    let mut tr = seeded();
    run(
        &mut tr,
        &start(json!({"scope": "status in (failed, error)"}), REPORT),
        None,
    );
    assert_eq!((tr.cases.len(), tr.results.len()), (1, 1));
    let e = SessionHandle::start(
        start(json!({"scope": "status in (failed"}), REPORT)
            .to_string()
            .as_bytes(),
        &secrets(),
    )
    .err()
    .unwrap();
    assert_eq!(e.code, "scope.syntax");
}

#[test]
fn custom_statuses_by_label_and_a_default() {
    let mut tr = seeded();
    let report = run(
        &mut tr,
        &start(json!({"statuses": {"failed": "Flaky"}}), REPORT),
        None,
    );
    assert_eq!(report.error, None);
    assert_eq!(
        tr.results.iter().find(|r| r["case_id"] == 101).unwrap()["status_id"],
        7
    );
    let mut tr = seeded();
    let report = run(
        &mut tr,
        &start(json!({"statuses": {"failed": "Wobbly"}}), REPORT),
        None,
    );
    assert_eq!(report.error.unwrap().code, "testrail.unknown_status");
    assert!(tr.results.is_empty());
}

#[test]
fn lost_credentials_stop_the_export_and_say_so() {
    let mut tr = seeded();
    tr.revoked = true;
    let report = run(&mut tr, &start(json!({}), REPORT), None);
    let error = report.error.clone().unwrap();
    assert_eq!(error.code, "testrail.unauthorized");
    assert!(!report.retryable);
    assert_eq!(
        details(&report).access_lost.as_ref().unwrap().code,
        "testrail.unauthorized"
    );
    assert_eq!(tr.log.len(), 1, "nothing after the refusal");
}

#[test]
fn one_result_per_configuration_in_a_plan_entry() {
    let xml = r#"<testsuite name="ui">
      <testcase classname="ui.Cart" name="C101 adds"><properties><property name="browser" value="Chrome"/></properties></testcase>
      <testcase classname="ui.Cart" name="C101 adds"><properties><property name="browser" value="firefox"/></properties>
        <failure message="no"/></testcase>
    </testsuite>"#;
    let mut tr = seeded();
    let plan = tr.add_plan();
    let cfg = json!({"plan_id": plan, "configuration_property": "browser"});
    let report = run(&mut tr, &start(cfg.clone(), xml), None);
    assert_eq!(report.error, None, "{:?}", report.failed);
    let configs: Vec<&str> = tr
        .runs
        .values()
        .map(|r| r["config"].as_str().unwrap())
        .collect();
    assert_eq!(configs, ["Chrome", "Firefox"]);
    let statuses: Vec<(u64, u64)> = tr
        .results
        .iter()
        .map(|r| {
            (
                r["run_id"].as_u64().unwrap(),
                r["status_id"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses.len(), 2);
    assert_ne!(statuses[0].0, statuses[1].0);
    run(&mut tr, &start(cfg, xml), None);
    assert_eq!(
        (tr.runs.len(), tr.results.len()),
        (2, 2),
        "the entry is found again"
    );
}

#[test]
fn a_given_run_gets_the_missing_cases_and_bare_arrays_are_read() {
    let mut tr = seeded();
    tr.legacy = true;
    tr.runs.insert(55, json!({"id": 55, "suite_id": 1, "name": "Nightly", "include_all": false, "case_ids": [], "plan_id": null, "is_completed": false}));
    let report = run(
        &mut tr,
        &start(json!({"run_id": "R55", "create_cases": false}), REPORT),
        None,
    );
    assert_eq!(report.error, None, "{:?}", report.failed);
    assert_eq!(tr.runs[&55]["case_ids"], json!([101]));
    assert_eq!(tr.results.len(), 1);
    tr.runs.get_mut(&55).unwrap()["is_completed"] = json!(true);
    tr.results.clear();
    let mut s = SessionHandle::start(
        start(json!({"run_id": 55, "create_cases": false}), REPORT)
            .to_string()
            .as_bytes(),
        &secrets(),
    )
    .unwrap();
    let report = loop {
        match s.next() {
            Step::Send(req) => s.receive(req.id, tr.handle(&req)).unwrap(),
            Step::Done(r) => break r,
            _ => {}
        }
    };
    assert_eq!(report.error.unwrap().code, "testrail.run_completed");
}

#[test]
fn a_session_stopped_by_refused_credentials_finishes_once_resumed_with_good_ones() {
    let mut tr = seeded();
    tr.revoked = true;
    let mut s =
        SessionHandle::start(start(json!({}), REPORT).to_string().as_bytes(), &secrets()).unwrap();
    let stopped = loop {
        match s.next() {
            Step::Send(req) => s.receive(req.id, tr.handle(&req)).unwrap(),
            Step::Read(f) => s.provide_file(f.id, Err("none".into())).unwrap(),
            Step::Done(r) => break r,
            _ => {}
        }
    };
    assert_eq!(stopped.error.unwrap().code, "testrail.unauthorized");
    let saved = s.save().unwrap();
    tr.revoked = false;
    let mut s = SessionHandle::resume(saved.as_bytes(), &secrets()).unwrap();
    let report = loop {
        match s.next() {
            Step::Send(req) => s.receive(req.id, tr.handle(&req)).unwrap(),
            Step::Read(f) => s.provide_file(f.id, Err("none".into())).unwrap(),
            Step::Done(r) => break r,
            _ => {}
        }
    };
    assert_eq!(report.error, None);
    assert_eq!(details(&report).access_lost, None);
    assert_eq!(tr.results.len(), 3);
}

#[test]
fn without_an_automation_id_field_no_case_is_created_that_a_rerun_could_not_find() {
    let mut tr = seeded();
    tr.automation_field = false;
    let first = run(&mut tr, &start(json!({}), REPORT), None);
    run(&mut tr, &start(json!({}), REPORT), None);
    assert_eq!(tr.cases.len(), 1, "no case made twice, none made at all");
    assert_eq!(tr.results.len(), 1, "C101 gets its result once");
    assert!(
        first
            .warnings
            .iter()
            .any(|w| w.code == "testrail.no_automation_field")
    );
    assert_eq!(details(&first).review.len(), 2);
}

#[test]
fn trcli_fields_take_the_type_of_their_field() {
    let xml = r#"<testsuite name="s"><testcase classname="a.B" name="C101 x">
      <properties>
        <property name="testrail_result_field" value="custom_environment:1234"/>
        <property name="testrail_case_field" value="custom_automation_id:legacy.id"/>
      </properties></testcase></testsuite>"#;
    let mut tr = seeded();
    tr.cases.get_mut(&101).unwrap()["custom_automation_id"] = json!("legacy.id");
    let report = run(&mut tr, &start(json!({}), xml), None);
    assert_eq!(report.error, None, "{:?}", report.failed);
    // A String field keeps the digits as text, as trcli sends them.
    assert_eq!(tr.results[0]["custom_environment"], "1234");
    assert_eq!(details(&report).cache.automation_ids["legacy.id"], "C101");
}

#[test]
fn step_results_go_only_to_cases_whose_template_has_them() {
    let xml = r#"<testsuite name="s">
      <testcase classname="a.B" name="C101 steps"><properties>
        <property name="testrail_result_step" value="passed:Open"/></properties></testcase>
      <testcase classname="a.B" name="C102 text"><properties>
        <property name="testrail_result_step" value="failed:Open"/></properties></testcase>
    </testsuite>"#;
    let mut tr = seeded();
    tr.cases.get_mut(&101).unwrap()["template_id"] = json!(2);
    tr.cases.insert(
        102,
        json!({"id": 102, "title": "text", "section_id": 10, "suite_id": 1, "template_id": 1}),
    );
    let report = run(&mut tr, &start(json!({}), xml), None);
    assert_eq!(report.error, None, "{:?}", report.failed);
    let steps = |case: u64| {
        tr.results
            .iter()
            .find(|r| r["case_id"] == case)
            .unwrap()
            .get("custom_step_results")
            .cloned()
    };
    assert_eq!(steps(101).unwrap()[0]["content"], "Open");
    assert_eq!(steps(102), None, "the text template has no step results");
}

#[test]
fn a_remembered_automation_id_of_a_deleted_case_is_forgotten() {
    let mut tr = seeded();
    let mut start = start(json!({}), REPORT);
    // The host remembers `refunds` as C55, a case deleted since.
    start["input"]["cache"] = json!({"automation_ids": {"shop.Checkout.refunds": "C55"}});
    let report = run(&mut tr, &start, None);
    assert_eq!(report.error, None, "{:?}", report.failed);
    assert_eq!(tr.results.len(), 3);
    assert!(
        tr.cases.values().any(|c| c["title"] == "refunds"),
        "created again"
    );
    assert!(
        !details(&report)
            .cache
            .automation_ids
            .values()
            .any(|k| k == "C55")
    );
}

#[test]
fn a_tests_own_steps_become_the_case_steps_and_follow_changes() {
    use crate::matching::testutil::{case, with_steps};
    use crate::model::Status;
    let mut test = with_steps(case("shop.Cart", "pays", Status::Failed));
    let mut start_json = start(json!({}), "<testsuite/>");
    start_json["input"]["cases"] = json!([test.clone()]);
    let mut tr = seeded();
    let report = run(&mut tr, &start_json, None);
    assert_eq!(report.error, None, "{:?}", report.failed);
    let made = tr
        .cases
        .values()
        .find(|c| c["title"] == "pays")
        .unwrap()
        .clone();
    let contents: Vec<&str> = made["custom_steps_separated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        contents,
        ["Given a basket", "Then it is paid"],
        "nested keywords stay out"
    );
    run(&mut tr, &start_json, None);
    assert_eq!(tr.calls("update_case"), 0, "unchanged steps, no update");
    test.steps[2].name = "it is paid by card".into();
    start_json["input"]["cases"] = json!([test]);
    start_json["input"]["context"]["pipeline_id"] = json!("982");
    run(&mut tr, &start_json, None);
    assert_eq!(tr.calls("update_case"), 1);
    let id = made["id"].as_u64().unwrap();
    assert_eq!(
        tr.cases[&id]["custom_steps_separated"][1]["content"],
        "Then it is paid by card"
    );
}
