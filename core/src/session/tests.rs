use super::*;
use crate::sync::protocol::{HttpRequest, Method, Step};
use crate::sync::rally::testkit::{BASE, FakeRally, Fault};
use serde_json::json;
use std::collections::BTreeMap;

const REPORT: &str = r#"<testsuite name="web" tests="3">
  <testcase classname="web.Login" name="TC1 logs in" time="1.0"/>
  <testcase classname="web.Checkout" name="TC2 pays by card" time="2.3">
    <failure message="total was 0">at pay()</failure>
    <system-out>[[ATTACHMENT|shots/fail.png]]</system-out>
  </testcase>
  <testcase classname="web.Login" name="TC9 logs out"/>
</testsuite>"#;

fn rally() -> FakeRally {
    let mut r = FakeRally::new();
    r.add(
        "iteration",
        json!({"Name": "Sprint 14", "StartDate": "2024-04-22T00:00:00.000Z", "EndDate": "2024-05-05T23:59:59.000Z", "Project": "/project/2"}),
    );
    r.add("testcase", json!({"FormattedID": "TC1", "Name": "logs in"}));
    r.add("testcase", json!({"FormattedID": "TC2", "Name": "pays"}));
    r
}

fn config() -> serde_json::Value {
    json!({"rally": {"url": BASE, "workspace": "/workspace/1", "project": "/project/2"}})
}

fn publish_start() -> String {
    let cases: Vec<_> = crate::junit::parse(REPORT.as_bytes())
        .unwrap()
        .cases()
        .into_iter()
        .cloned()
        .collect();
    json!({
        "kind": "rally.publish",
        "input": {
            "config": config(),
            "cases": cases,
            "context": {
                "now": "2024-05-01T10:00:00Z",
                "pipeline_id": "981",
                "artifacts": [{"path": "shots/fail.png", "size": 11}]
            },
            "cache": {}
        },
        "options": {"seed": 42}
    })
    .to_string()
}

fn key() -> Secrets {
    Secrets {
        api_key: Some("good-key".into()),
        ..Secrets::default()
    }
}

fn files() -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([("shots/fail.png".to_string(), b"hello world".to_vec())])
}

/// Drives a handle against the fake; `on_save` sees every save.
fn drive(
    s: &mut SessionHandle,
    r: &mut FakeRally,
    mut on_save: impl FnMut(&SessionHandle, Option<&HttpRequest>) -> bool,
) -> (Vec<Step>, Option<String>) {
    let mut steps = Vec::new();
    let mut last_request = None;
    for _ in 0..10_000 {
        let step = s.next();
        steps.push(step.clone());
        match step {
            Step::Send(req) => {
                let answer = r.handle(&req);
                s.receive(req.id, answer).unwrap();
                last_request = Some(req);
            }
            Step::Read(f) => {
                let bytes = files().get(&f.path).cloned().ok_or_else(String::new);
                s.provide_file(f.id, bytes).unwrap();
            }
            Step::Wait { .. } => {}
            Step::Save => {
                if !on_save(s, last_request.as_ref()) {
                    return (steps, Some(s.save().unwrap()));
                }
            }
            Step::Done(_) => return (steps, None),
        }
    }
    panic!("the session did not finish");
}

/// Drives `s` against `r`, keeping the progress of its first `kept_saves` saves, until
/// `crash` (given each answered request and the saves so far) says stop. Returns the
/// last progress kept, as a host that crashed then would hold it.
fn run_until_crash(
    s: &mut SessionHandle,
    r: &mut FakeRally,
    kept_saves: usize,
    mut crash: impl FnMut(&HttpRequest, usize) -> bool,
) -> String {
    let mut saved = None;
    let mut saves = 0;
    for _ in 0..100_000 {
        match s.next() {
            Step::Send(req) => {
                let answer = r.handle(&req);
                s.receive(req.id, answer).unwrap();
                if crash(&req, saves) {
                    return saved.expect("a save before the crash");
                }
            }
            Step::Save => {
                saves += 1;
                if saves <= kept_saves {
                    saved = Some(s.save().unwrap());
                }
            }
            Step::Read(f) => s.provide_file(f.id, Err(String::new())).unwrap(),
            Step::Wait { .. } => {}
            Step::Done(_) => panic!("finished before the crash"),
        }
    }
    panic!("never crashed");
}

/// Resumes saved progress and drives it to its report, which must hold no error.
fn resume_to_the_end(saved: &str, r: &mut FakeRally) -> Vec<Step> {
    let mut resumed = SessionHandle::resume(saved.as_bytes(), &key()).unwrap();
    let (steps, _) = drive(&mut resumed, r, |_, _| true);
    let Some(Step::Done(report)) = steps.last() else {
        panic!("no report");
    };
    assert_eq!(report.error, None);
    steps
}

fn results_per_case(r: &FakeRally) -> Vec<usize> {
    let mut out: BTreeMap<String, usize> = BTreeMap::new();
    for o in r.all("testcaseresult") {
        *out.entry(o["TestCase"].to_string()).or_default() += 1;
    }
    out.into_values().collect()
}

#[test]
fn a_publish_started_from_json_saves_before_every_change() {
    let mut r = rally();
    let mut s = SessionHandle::start(publish_start().as_bytes(), &key()).unwrap();
    assert_eq!(s.kind(), "rally.publish");
    let (steps, _) = drive(&mut s, &mut r, |_, _| true);
    let Some(Step::Done(report)) = steps.last() else {
        panic!("no report");
    };
    assert_eq!(report.error, None);
    assert_eq!(results_per_case(&r), [1, 1]);
    // Every request that changes Rally comes right after a Save, and a Save follows
    // its answer.
    for (i, step) in steps.iter().enumerate() {
        if let Step::Send(req) = step
            && req.method != Method::Get
        {
            assert_eq!(
                steps[i - 1],
                Step::Save,
                "step {i}: {} {}",
                req.method.as_str(),
                req.url
            );
            assert_eq!(steps[i + 1], Step::Save, "after step {i}");
        }
    }
    assert!(steps.contains(&Step::Save));
}

#[test]
fn resuming_at_any_save_loses_nothing_duplicates_nothing_and_is_deterministic() {
    let saves = {
        let mut count = 0;
        let mut s = SessionHandle::start(publish_start().as_bytes(), &key()).unwrap();
        drive(&mut s, &mut rally(), |_, _| {
            count += 1;
            true
        });
        count
    };
    assert!(saves > 4, "{saves} saves");
    for stop_at in 0..saves {
        let mut r = rally();
        let mut s = SessionHandle::start(publish_start().as_bytes(), &key()).unwrap();
        let mut seen = 0;
        let (_, saved) = drive(&mut s, &mut r, |_, _| {
            seen += 1;
            seen <= stop_at
        });
        let saved = saved.expect("stopped at a save");
        assert!(!saved.contains("good-key"), "the secret was saved");
        // Two runtimes resuming the same save take the same steps.
        let mut twin = r.clone();
        let mut a = SessionHandle::resume(saved.as_bytes(), &key()).unwrap();
        let mut b = SessionHandle::resume(saved.as_bytes(), &key()).unwrap();
        let (steps_a, _) = drive(&mut a, &mut r, |_, _| true);
        let (steps_b, _) = drive(&mut b, &mut twin, |_, _| true);
        assert_eq!(steps_a, steps_b, "stop at save {stop_at}");
        assert_eq!(results_per_case(&r), [1, 1], "stop at save {stop_at}");
        assert_eq!(
            r.all("attachment").len(),
            1,
            "stop at save {stop_at}: {:?}",
            steps_a.last()
        );
    }
}

#[test]
fn progress_saved_apart_from_the_input_resumes_with_the_same_steps() {
    let mut first = SessionHandle::start(publish_start().as_bytes(), &key()).unwrap();
    let mut r = rally();
    let mut stopped = None;
    let mut seen = 0;
    drive(&mut first, &mut r, |s, _| {
        seen += 1;
        if seen == 3 {
            stopped = Some((
                s.input().unwrap(),
                s.save_progress().unwrap(),
                s.save().unwrap(),
            ));
            return false;
        }
        true
    });
    let (input, progress, whole) = stopped.expect("three saves");
    // The progress does not carry the input (the report's cases), nor the secret.
    assert!(!progress.contains("pays by card") && !progress.contains("good-key"));
    assert!(progress.len() < whole.len());
    let mut twin = r.clone();
    let mut apart = SessionHandle::resume_parts(
        "rally.publish",
        input.as_bytes(),
        progress.as_bytes(),
        &key(),
    )
    .unwrap();
    let mut together = SessionHandle::resume(whole.as_bytes(), &key()).unwrap();
    let (steps_apart, _) = drive(&mut apart, &mut r, |_, _| true);
    let (steps_together, _) = drive(&mut together, &mut twin, |_, _| true);
    assert_eq!(steps_apart, steps_together);
    assert_eq!(results_per_case(&r), [1, 1]);
    // Progress of one kind is not taken for another.
    let error = SessionHandle::resume_parts(
        "rally.defect",
        input.as_bytes(),
        progress.as_bytes(),
        &key(),
    )
    .err()
    .unwrap();
    assert_eq!(error.code, "session.invalid_saved");
}

#[test]
fn a_lost_answer_after_a_save_is_looked_up_not_repeated() {
    let mut r = rally();
    r.fault(
        Method::Post,
        "/testcaseresult/create",
        Fault::DropAfterApply,
    );
    let mut s = SessionHandle::start(publish_start().as_bytes(), &key()).unwrap();
    let (steps, _) = drive(&mut s, &mut r, |_, _| true);
    assert!(matches!(steps.last(), Some(Step::Done(report)) if report.error.is_none()));
    assert_eq!(results_per_case(&r), [1, 1]);
}

#[test]
fn every_rally_kind_starts_from_json() {
    let starts = [
        json!({"kind": "rally.connect", "input": {"config": config()}}),
        json!({"kind": "rally.requirements", "input": {"config": config(), "request": {"query": "(Name contains \"Pay\")"}}}),
        json!({"kind": "rally.link_case", "input": {"config": config(), "request": {"name": "pays by card", "stories": ["US5"]}}}),
        json!({"kind": "rally.defect", "input": {"config": config(), "request": {"payload": {"Defect": {"Name": "Checkout fails"}}}}}),
        json!({"kind": "rally.schema", "input": {"config": config()}}),
    ];
    for start in starts {
        let kind = start["kind"].as_str().unwrap().to_string();
        let mut r = rally();
        r.add(
            "hierarchicalrequirement",
            json!({"FormattedID": "US5", "Name": "Pay"}),
        );
        r.add("workspace", json!({"Name": "W"}));
        let mut s = SessionHandle::start(start.to_string().as_bytes(), &key())
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(s.kind(), kind);
        let (steps, _) = drive(&mut s, &mut r, |_, _| true);
        assert!(
            matches!(steps.last(), Some(Step::Done(_))),
            "{kind} did not finish"
        );
        assert!(
            steps.iter().any(|s| matches!(s, Step::Send(_))),
            "{kind} sent nothing"
        );
    }
    let names: Vec<String> = kind_list().into_iter().map(|k| k.name).collect();
    assert_eq!(
        names,
        [
            "rally.connect",
            "rally.schema",
            "rally.publish",
            "rally.requirements",
            "rally.link_case",
            "rally.defect",
            "gitlab.reports",
            "testrail.connect",
            "testrail.publish",
            "qtest.connect",
            "qtest.publish",
            "qtest.requirements",
            "qtest.failed_run",
            "qtest.link_defect"
        ]
    );
}

#[test]
fn bad_starts_and_saves_are_typed_errors() {
    let code = |r: crate::error::Result<SessionHandle>| r.err().map(|e| e.code).unwrap_or_default();
    assert_eq!(
        code(SessionHandle::start(
            br#"{"kind": "rally.publsh", "input": {}}"#,
            &key()
        )),
        "session.unknown_kind"
    );
    assert_eq!(
        code(SessionHandle::start(b"{\"input\": {}}", &key())),
        "session.invalid_start"
    );
    assert_eq!(
        code(SessionHandle::start(b"<html>", &key())),
        "session.invalid_start"
    );
    let e = SessionHandle::start(
        br#"{"kind": "rally.connect", "input": {"config": {"rally": {"url": 7}}}}"#,
        &key(),
    )
    .err()
    .unwrap();
    assert_eq!(e.code, "session.invalid_start");
    assert!(e.location.is_some(), "{e}");
    assert_eq!(
        code(SessionHandle::start(
            publish_start().as_bytes(),
            &Secrets::default()
        )),
        "session.no_credentials"
    );
    assert_eq!(
        code(SessionHandle::resume(b"{}", &key())),
        "session.invalid_saved"
    );
    let mut s = SessionHandle::start(publish_start().as_bytes(), &key()).unwrap();
    let _ = s.next();
    let saved = s.save().unwrap().replace("\"version\":1", "\"version\":99");
    assert_eq!(
        code(SessionHandle::resume(saved.as_bytes(), &key())),
        "session.saved_version"
    );
    let e = Secrets::from_json(br#"{"api_key": "s3cr3t", "pasword": "x"}"#).unwrap_err();
    assert!(!e.to_string().contains("s3cr3t"), "{e}");
}

/// A live run's answers, replayed through the op, give the same steps.
#[test]
fn a_replayed_transcript_matches_the_live_run() {
    let mut r = rally();
    let mut s = SessionHandle::start(publish_start().as_bytes(), &key()).unwrap();
    let mut feed = Vec::new();
    let mut steps = Vec::new();
    loop {
        let step = s.next();
        steps.push(step.clone());
        match step {
            Step::Send(req) => {
                let answer = r.handle(&req);
                feed.push(Feed::Answer(answer.clone()));
                s.receive(req.id, answer).unwrap();
            }
            Step::Read(f) => {
                let text = "hello world".to_string();
                feed.push(Feed::File(text.clone()));
                s.provide_file(f.id, Ok(text.into_bytes())).unwrap();
            }
            Step::Done(_) => break,
            _ => {}
        }
    }
    let input = json!({
        "start": serde_json::from_str::<serde_json::Value>(&publish_start()).unwrap(),
        "secrets": {"api_key": "good-key"},
        "feed": feed,
    });
    let out = crate::ops::call("session.replay", input.to_string().as_bytes());
    let envelope: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(envelope["error"], serde_json::Value::Null, "{envelope}");
    let replayed: ReplayOutput = serde_json::from_value(envelope["ok"].clone()).unwrap();
    assert!(replayed.finished);
    assert_eq!(replayed.steps, steps);
}

/// A publish of `n` passing tests TC1..TCn, one create per request.
fn many_results(n: u64) -> (FakeRally, String) {
    let mut r = rally();
    let mut report = String::from("<testsuite name=\"bulk\">");
    for i in 3..=n {
        r.add(
            "testcase",
            json!({"FormattedID": format!("TC{i}"), "Name": "bulk"}),
        );
    }
    for i in 1..=n {
        report.push_str(&format!(
            "<testcase classname=\"bulk\" name=\"TC{i} runs\"/>"
        ));
    }
    report.push_str("</testsuite>");
    let cases: Vec<_> = crate::junit::parse(report.as_bytes())
        .unwrap()
        .cases()
        .into_iter()
        .cloned()
        .collect();
    let mut config = config();
    config["rally"]["batch_size"] = json!(0);
    let start = json!({
        "kind": "rally.publish",
        "input": {"config": config, "cases": cases,
                  "context": {"now": "2024-05-01T10:00:00Z", "pipeline_id": "981"}, "cache": {}},
        "options": {"seed": 42}
    });
    (r, start.to_string())
}

#[test]
fn saves_around_results_found_by_identity_are_spaced_so_big_runs_stay_linear() {
    let (mut r, start) = many_results(320);
    let mut s = SessionHandle::start(start.as_bytes(), &key()).unwrap();
    let mut saves = 0;
    let (steps, _) = drive(&mut s, &mut r, |_, _| {
        saves += 1;
        true
    });
    let creates = steps
        .iter()
        .filter(|s| matches!(s, Step::Send(req) if req.url.contains("/testcaseresult/create")))
        .count();
    assert_eq!(creates, 320);
    assert!(results_per_case(&r).iter().all(|&n| n == 1));
    assert_eq!(results_per_case(&r).len(), 320);
    // Other changes (the test set) keep a save before and after each; the results and
    // the test set's members (listed again before any is added) get about 32 pairs
    // between them, not one per change.
    let is_member_add = |req: &HttpRequest| req.url.contains("/TestCases/add");
    let member_adds = steps
        .iter()
        .filter(|s| matches!(s, Step::Send(req) if is_member_add(req)))
        .count();
    assert_eq!(member_adds, 13, "320 test cases in adds of 25");
    let other_changes = steps
        .iter()
        .filter(|s| {
            matches!(s, Step::Send(req) if req.method != Method::Get
            && !req.url.contains("/testcaseresult/create") && !is_member_add(req))
        })
        .count();
    assert!(other_changes > 0);
    assert!(
        saves <= 2 * other_changes + 2 * 34,
        "{saves} saves for 320 results, {member_adds} member adds and {other_changes} other changes"
    );
}

#[test]
fn a_big_run_looks_for_its_results_with_one_query_and_a_rerun_finds_every_one() {
    let (mut r, start) = many_results(320);
    let is_result_query =
        |req: &HttpRequest| req.method == Method::Get && req.url.contains("/testcaseresult?");
    let mut s = SessionHandle::start(start.as_bytes(), &key()).unwrap();
    let (steps, _) = drive(&mut s, &mut r, |_, _| true);
    let queries = steps
        .iter()
        .filter(|s| matches!(s, Step::Send(req) if is_result_query(req)))
        .count();
    // A first run: one query finds nothing of this run, not one query per 20 results.
    assert_eq!(queries, 1);
    assert_eq!(results_per_case(&r).len(), 320);

    // The same run again: the query pages through the 320 (50 a page) and nothing is
    // created twice.
    let mut again = SessionHandle::start(start.as_bytes(), &key()).unwrap();
    let (steps, _) = drive(&mut again, &mut r, |_, _| true);
    let queries = steps
        .iter()
        .filter(|s| matches!(s, Step::Send(req) if is_result_query(req)))
        .count();
    assert_eq!(queries, 7);
    let creates = steps
        .iter()
        .filter(|s| matches!(s, Step::Send(req) if req.url.contains("/testcaseresult/create")))
        .count();
    assert_eq!(creates, 0);
    let Some(Step::Done(report)) = steps.last() else {
        panic!("no report");
    };
    assert_eq!(report.error, None);
    let results_skipped = report
        .skipped
        .iter()
        .filter(|e| e.why.contains("this run sent this result before"))
        .count();
    assert_eq!(results_skipped, 320);
    assert!(results_per_case(&r).iter().all(|&n| n == 1));
}

#[test]
fn a_crash_while_adding_test_set_members_resumes_by_listing_them_again() {
    let (mut r, start) = many_results(320);
    let mut s = SessionHandle::start(start.as_bytes(), &key()).unwrap();
    // Keep the first save only, then "crash" once five adds of members were answered.
    let mut adds = 0;
    let saved = run_until_crash(&mut s, &mut r, 1, |req, _| {
        adds += usize::from(req.url.contains("/TestCases/add"));
        adds == 5
    });
    let steps = resume_to_the_end(&saved, &mut r);
    // The members were listed again, and only those missing were added: 8 more adds
    // of 25 make the 320.
    let resumed_adds = steps
        .iter()
        .filter(|s| matches!(s, Step::Send(req) if req.url.contains("/TestCases/add")))
        .count();
    assert_eq!(resumed_adds, 8);
    let members: Vec<&String> = r.members.values().flatten().collect();
    assert_eq!(members.len(), 320);
    assert_eq!(results_per_case(&r).len(), 320);
    assert!(results_per_case(&r).iter().all(|&n| n == 1));
}

#[test]
fn a_crash_between_spaced_saves_resumes_from_older_progress_without_duplicates() {
    let (mut r, start) = many_results(320);
    let mut s = SessionHandle::start(start.as_bytes(), &key()).unwrap();
    // Run until the fifth save, then keep sending (results made but never saved)
    // until 7 more results exist, and "crash".
    let mut creates_after_save = 0;
    let saved = run_until_crash(&mut s, &mut r, 5, |req, saves| {
        if saves >= 5 && req.url.contains("/testcaseresult/create") {
            creates_after_save += 1;
        }
        creates_after_save == 7
    });
    resume_to_the_end(&saved, &mut r);
    assert_eq!(results_per_case(&r).len(), 320);
    assert!(
        results_per_case(&r).iter().all(|&n| n == 1),
        "a result was created twice"
    );
}
