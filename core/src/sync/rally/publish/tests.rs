use super::*;
use crate::config::ArtifactInfo;
use crate::matching::testutil::{case, failing, took};
use crate::model::Status;
use crate::sync::protocol::{Method, Session, Step};
use crate::sync::rally::driver::SessionOptions;
use crate::sync::rally::testkit::{BASE, FakeRally, Fault, Run, drive};
use crate::sync::retry::RetryPolicy;
use serde_json::json;
use std::collections::BTreeMap;

fn input(cases: Vec<TestCase>) -> PublishInput {
    let config = Config::from_json(
        format!(
            r#"{{"rally": {{"url": "{BASE}", "workspace": "/workspace/1", "project": "/project/2"}}}}"#
        )
        .as_bytes(),
    )
    .unwrap();
    PublishInput {
        config,
        cases,
        context: RunContext {
            now: "2024-05-01T10:00:00Z".into(),
            pipeline_id: Some("981".into()),
            job_url: Some("https://gitlab.example.com/g/p/-/jobs/55".into()),
            artifacts: vec![ArtifactInfo {
                path: "shots/fail.png".into(),
                size: Some(11),
                ..Default::default()
            }],
            ..RunContext::default()
        },
        cache: RefCache::default(),
    }
}

/// The input with `rally.batch_size` set (0: one create per request).
fn batched(mut i: PublishInput, size: u64) -> PublishInput {
    i.config.rally.batch_size = size;
    i
}

fn three_tests() -> Vec<TestCase> {
    let mut failed = took(
        failing(
            case("web.Checkout", "TC2 pays by card", Status::Failed),
            "total was 0",
            "at pay()",
        ),
        2_345_000,
    );
    failed.attachments = vec!["shots/fail.png".into()];
    vec![
        took(case("web.Login", "TC1 logs in", Status::Passed), 1_000_000),
        failed,
        case("web.Login", "TC9 logs out", Status::Passed),
    ]
}

/// Rally with TC1 and TC2 (TC9 does not exist), a story in the current sprint with
/// one more test case, and the sprint itself.
fn rally() -> FakeRally {
    let mut r = FakeRally::new();
    let it = r.add(
        "iteration",
        json!({"Name": "Sprint 14", "StartDate": "2024-04-22T00:00:00.000Z", "EndDate": "2024-05-05T23:59:59.000Z", "Project": "/project/2"}),
    );
    r.add(
        "iteration",
        json!({"Name": "Sprint 13", "StartDate": "2024-04-08T00:00:00.000Z", "EndDate": "2024-04-21T23:59:59.000Z", "Project": "/project/2"}),
    );
    let story = r.add(
        "hierarchicalrequirement",
        json!({"FormattedID": "US5", "Name": "Pay", "Iteration": it}),
    );
    r.add("testcase", json!({"FormattedID": "TC1", "Name": "logs in"}));
    r.add(
        "testcase",
        json!({"FormattedID": "TC2", "Name": "pays", "WorkProduct": story}),
    );
    r.add(
        "testcase",
        json!({"FormattedID": "TC7", "Name": "refunds", "WorkProduct": story}),
    );
    r
}

fn files() -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([("shots/fail.png".to_string(), b"hello world".to_vec())])
}

fn session(input: PublishInput) -> Publish {
    let options = SessionOptions {
        seed: 42,
        retry: RetryPolicy::default(),
    };
    Publish::new(input, Credentials::ApiKey("good-key".into()), options).unwrap()
}

fn results_per_case(r: &FakeRally) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for o in r.all("testcaseresult") {
        *out.entry(o["TestCase"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    out
}

#[test]
fn publishes_results_test_set_and_attachments() {
    let mut r = rally();
    let mut run = Run::default();
    let mut s = session(input(three_tests()));
    let report = drive(&mut s, &mut r, &files(), &mut run);
    assert_eq!(report.error, None);
    // One result per existing case; TC9 fails with a reason.
    assert_eq!(
        results_per_case(&r).values().copied().collect::<Vec<_>>(),
        [1, 1]
    );
    let created: Vec<(RecordKind, &str)> = report
        .created
        .iter()
        .map(|e| (e.kind, e.key.as_str()))
        .collect();
    assert_eq!(
        created,
        [
            (RecordKind::TestSet, "Sprint-14-Automated-Tests"),
            (RecordKind::TestCaseResult, "TC1"),
            (RecordKind::TestCaseResult, "TC2"),
            (RecordKind::Attachment, "TC2 fail.png"),
        ]
    );
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].key, "TC9");
    assert!(
        report.failed[0].why.contains("no test case"),
        "{}",
        report.failed[0].why
    );
    assert_eq!(report.failed[0].tests, ["web.Login.TC9 logs out"]);
    // The set is named after the current sprint and holds the published cases and
    // the other test case of the sprint's story.
    let sets = r.all("testset");
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0]["Name"], "Sprint-14-Automated-Tests");
    assert_eq!(sets[0]["Project"], "/project/2");
    let members = r.members.values().next().unwrap();
    assert_eq!(members.len(), 3);
    assert_eq!(report.updated.len(), 1);
    // The attachment: content holds the bytes, the attachment points at the result.
    let content = r.all("attachmentcontent");
    assert_eq!(content[0]["Content"], "aGVsbG8gd29ybGQ=");
    let att = r.all("attachment");
    assert_eq!(att[0]["Size"], 11);
    assert_eq!(att[0]["Name"], "fail.png");
    let Details::Publish(d) = &report.details else {
        panic!()
    };
    assert_eq!(d.sprint.as_deref(), Some("14"));
    assert_eq!(d.cache.rally_test_cases.len(), 2);
    assert_eq!(d.missing, ["TC9"]);
    assert!(
        d.cache
            .rally_test_sets
            .contains_key("Sprint-14-Automated-Tests")
    );
    assert_eq!(run.reads, ["shots/fail.png"]);
    // Every request carries the key and says who is calling.
    assert!(
        run.requests
            .iter()
            .all(|q| q.header("ZSESSIONID") == Some("good-key"))
    );
}

#[test]
fn a_second_run_creates_nothing() {
    let mut r = rally();
    let first = drive(
        &mut session(input(three_tests())),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    let creates = r.creates;
    assert!(first.is_success() || first.failed.len() == 1);
    let again = drive(
        &mut session(input(three_tests())),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    assert_eq!(r.creates, creates, "{:?}", again.created);
    assert!(again.created.is_empty());
    let skipped: Vec<(RecordKind, &str)> = again
        .skipped
        .iter()
        .map(|e| (e.kind, e.key.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            (RecordKind::TestSet, "Sprint-14-Automated-Tests"),
            (RecordKind::TestCaseResult, "TC1"),
            (RecordKind::TestCaseResult, "TC2"),
            (RecordKind::Attachment, "TC2 fail.png"),
        ]
    );
}

#[test]
fn paging_covers_every_page() {
    let mut r = rally();
    r.max_page = 1;
    let report = drive(
        &mut session(input(three_tests())),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    assert_eq!(report.error, None);
    assert_eq!(results_per_case(&r).len(), 2);
    // Both story test cases were found one page at a time.
    assert_eq!(r.members.values().next().unwrap().len(), 3);
    let again = drive(
        &mut session(input(three_tests())),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    assert!(again.created.is_empty());
    assert_eq!(
        results_per_case(&r).values().copied().collect::<Vec<_>>(),
        [1, 1]
    );
}

#[test]
fn honours_retry_after_on_429() {
    for (size, create) in [(0, "/testcaseresult/create"), (25, "/batch")] {
        honours_retry_after_on_429_with(size, create);
    }
}

fn honours_retry_after_on_429_with(size: u64, create: &str) {
    let mut r = rally();
    r.fault(Method::Post, create, Fault::Status(429, Some(3)));
    r.fault(Method::Get, "/testcase", Fault::Status(429, Some(7)));
    let mut run = Run::default();
    let report = drive(
        &mut session(batched(input(three_tests()), size)),
        &mut r,
        &files(),
        &mut run,
    );
    assert_eq!(report.error, None);
    assert!(
        run.waits.contains(&3000) && run.waits.contains(&7000),
        "{:?}",
        run.waits
    );
    assert_eq!(
        results_per_case(&r).values().copied().collect::<Vec<_>>(),
        [1, 1]
    );
    assert_eq!(report.stats.retries, 2);
    assert_eq!(report.stats.waited_ms, 10_000);
}

#[test]
fn bursts_of_5xx_back_off_and_never_duplicate() {
    let mut r = rally();
    for _ in 0..3 {
        r.fault(Method::Get, "/testcaseresult", Fault::Status(503, None));
    }
    // The create happens, but the answer is lost: twice.
    r.fault(
        Method::Post,
        "/testcaseresult/create",
        Fault::FailAfterApply,
    );
    r.fault(
        Method::Post,
        "/testcaseresult/create",
        Fault::DropAfterApply,
    );
    r.fault(Method::Post, "/attachment/create", Fault::DropAfterApply);
    let mut run = Run::default();
    let report = drive(
        &mut session(batched(input(three_tests()), 0)),
        &mut r,
        &files(),
        &mut run,
    );
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(
        results_per_case(&r).values().copied().collect::<Vec<_>>(),
        [1, 1]
    );
    assert_eq!(r.all("attachment").len(), 1);
    // Three growing waits for the 503s (equal jitter: half to all of 500, 1000, 2000 ms).
    let w = &run.waits;
    assert!(w.len() >= 3, "{w:?}");
    assert!(
        (250..=500).contains(&w[0])
            && (500..=1000).contains(&w[1])
            && (1000..=2000).contains(&w[2]),
        "{w:?}"
    );
    let confirmed = report
        .created
        .iter()
        .filter(|e| e.why.contains("second look"))
        .count();
    assert_eq!(confirmed, 2);
}

#[test]
fn gives_up_when_rally_stays_down_and_a_later_run_finishes() {
    let mut r = rally();
    for _ in 0..8 {
        r.fault(Method::Get, "/iteration", Fault::Status(502, None));
    }
    let mut s = session(input(three_tests()));
    let report = drive(&mut s, &mut r, &files(), &mut Run::default());
    let e = report.error.clone().unwrap();
    assert_eq!(e.code, "rally.gave_up");
    assert!(report.retryable);
    assert_eq!(r.creates, 0);
    // The same session, resumed later, finishes the work.
    let progress = s.progress().clone();
    let mut s = Publish::resume(
        s.input().clone(),
        progress,
        Credentials::ApiKey("good-key".into()),
    );
    let report = drive(&mut s, &mut r, &files(), &mut Run::default());
    assert_eq!(report.error, None);
    assert_eq!(
        results_per_case(&r).values().copied().collect::<Vec<_>>(),
        [1, 1]
    );
}

#[test]
fn a_crash_at_any_point_loses_nothing_and_duplicates_nothing() {
    let total = {
        let mut r = rally();
        let mut run = Run::default();
        drive(
            &mut session(input(three_tests())),
            &mut r,
            &files(),
            &mut run,
        );
        run.requests.len()
    };
    for crash_at in 0..total {
        for applied in [false, true] {
            let mut r = rally();
            let mut s = session(input(three_tests()));
            let mut sent = 0;
            // Run until the crash: the progress saved just before the request is
            // what survives; the request reached Rally or not.
            let saved = loop {
                let before = serde_json::to_string(s.progress()).unwrap();
                match s.next() {
                    Step::Send(req) => {
                        if sent == crash_at {
                            if applied {
                                r.handle(&req);
                            }
                            break serde_json::to_string(s.progress()).unwrap();
                        }
                        sent += 1;
                        let resp = r.handle(&req);
                        s.receive(req.id, resp).unwrap();
                    }
                    Step::Read(f) => {
                        let bytes = files().get(&f.path).cloned().ok_or_else(String::new);
                        s.provide_file(f.id, bytes).unwrap();
                    }
                    Step::Wait { .. } | Step::Save => {}
                    Step::Done(_) => break before,
                }
            };
            let progress = serde_json::from_str(&saved).unwrap();
            let input = s.input().clone();
            let mut resumed =
                Publish::resume(input, progress, Credentials::ApiKey("good-key".into()));
            let report = drive(&mut resumed, &mut r, &files(), &mut Run::default());
            assert_eq!(report.error, None, "crash at {crash_at}");
            assert_eq!(
                results_per_case(&r).values().copied().collect::<Vec<_>>(),
                [1, 1],
                "crash at {crash_at}, applied {applied}"
            );
            assert_eq!(
                r.all("attachment").len(),
                1,
                "crash at {crash_at}, applied {applied}"
            );
            assert_eq!(
                r.all("testset").len(),
                1,
                "crash at {crash_at}, applied {applied}"
            );
            let mut results: Vec<&str> = report
                .created
                .iter()
                .chain(&report.skipped)
                .filter(|e| e.kind == RecordKind::TestCaseResult)
                .map(|e| e.key.as_str())
                .collect();
            results.sort();
            assert_eq!(
                results,
                ["TC1", "TC2"],
                "crash at {crash_at}, applied {applied}"
            );
        }
    }
}

#[test]
fn each_aggregation_sends_equal_results_once_each() {
    let mut i = input(vec![
        case("p", "TC1 a[1]", Status::Passed),
        case("p", "TC1 a[2]", Status::Failed),
    ]);
    i.config.matching.aggregate = crate::matching::Aggregate::Each;
    i.config.rally.test_set = None;
    let mut r = rally();
    r.fault(
        Method::Post,
        "/testcaseresult/create",
        Fault::DropAfterApply,
    );
    let report = drive(
        &mut session(i.clone()),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    assert_eq!(report.error, None);
    assert_eq!(r.all("testcaseresult").len(), 2);
    let again = drive(&mut session(i), &mut r, &files(), &mut Run::default());
    assert_eq!(r.all("testcaseresult").len(), 2);
    assert_eq!(again.skipped.len(), 2);
}

#[test]
fn bad_key_stops_with_a_clear_answer() {
    let mut r = rally();
    let mut s = Publish::new(
        input(three_tests()),
        Credentials::ApiKey("old".into()),
        SessionOptions::default(),
    )
    .unwrap();
    let report = drive(&mut s, &mut r, &files(), &mut Run::default());
    let e = report.error.unwrap();
    assert_eq!(e.code, "rally.unauthorized");
    assert!(e.message.contains("API key"), "{}", e.message);
    assert!(e.hint.unwrap().contains("rally.api_key_env"));
    assert!(!report.retryable);
    assert_eq!(r.creates, 0);
}

#[test]
fn basic_auth_uses_the_security_token_and_renews_it() {
    // One create per request: the second finds the token expired; batched: the batch.
    for (size, create, expire_at) in [(0, "/testcaseresult/create", 2), (25, "/batch", 1)] {
        basic_auth_with(size, create, expire_at);
    }
}

fn basic_auth_with(size: u64, create: &str, expire_at: u32) {
    let mut r = rally();
    r.api_key = None;
    r.basic = Some("ci:secret".into());
    let creds = Credentials::Basic {
        username: "ci".into(),
        password: "secret".into(),
    };
    let mut s = Publish::new(
        batched(input(three_tests()), size),
        creds,
        SessionOptions::default(),
    )
    .unwrap();
    let mut run = Run::default();
    // Partway, the token expires: the next create is refused with "Invalid key".
    let mut report = None;
    let mut creates = 0;
    for _ in 0..1000 {
        match s.next() {
            Step::Send(req) => {
                if req.url.contains(create) {
                    creates += 1;
                    if creates == expire_at {
                        r.token = Some("expired".into());
                    }
                }
                let resp = r.handle(&req);
                run.requests.push(req.clone());
                s.receive(req.id, resp).unwrap();
            }
            Step::Read(f) => s
                .provide_file(f.id, files().get(&f.path).cloned().ok_or_else(String::new))
                .unwrap(),
            Step::Wait { .. } | Step::Save => {}
            Step::Done(rep) => {
                report = Some(rep);
                break;
            }
        }
    }
    let report = report.unwrap();
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(
        results_per_case(&r).values().copied().collect::<Vec<_>>(),
        [1, 1]
    );
    let authorizations = run
        .requests
        .iter()
        .filter(|q| q.url.ends_with("/security/authorize"))
        .count();
    assert_eq!(authorizations, 2);
    for q in &run.requests {
        assert!(q.header("Authorization").unwrap().starts_with("Basic "));
        if q.method == Method::Post {
            assert!(q.url.contains("key=tok"), "{}", q.url);
            assert_eq!(q.header("Cookie"), Some("JSESSIONID=abc"));
        }
    }
}

#[test]
fn a_refused_test_set_update_stops_before_any_result() {
    let mut i = input(three_tests());
    i.context.sprint = Some("3".into());
    let mut r = rally();
    // The set exists but TC1 cannot join it: Rally refuses TC1's result.
    let set = r.add(
        "testset",
        json!({"Name": "Sprint-3-Automated-Tests", "Project": "/project/2"}),
    );
    let oid: u64 = set.rsplit('/').next().unwrap().parse().unwrap();
    r.fault(
        Method::Post,
        &format!("/testset/{oid}/TestCases/add"),
        Fault::Status(400, None),
    );
    let report = drive(&mut session(i), &mut r, &files(), &mut Run::default());
    let e = report.error.clone().unwrap();
    assert_eq!(e.code, "rally.http_error");
    assert_eq!(r.creates, 0);
    assert_eq!(
        report
            .failed
            .iter()
            .filter(|f| f.why.starts_with("not sent"))
            .count(),
        2
    );
}

#[test]
fn progress_serialises_small_and_without_secrets() {
    let mut r = rally();
    let mut s = session(input(three_tests()));
    for _ in 0..6 {
        if let Step::Send(req) = s.next() {
            let resp = r.handle(&req);
            s.receive(req.id, resp).unwrap();
        }
    }
    let text = serde_json::to_string(s.progress()).unwrap();
    assert!(!text.contains("good-key"));
    let whole = serde_json::to_string(&s).unwrap();
    assert!(!whole.contains("good-key"));
    // Restored without credentials, it says so instead of sending unsigned requests.
    let mut restored: Publish = serde_json::from_str(&whole).unwrap();
    let Step::Done(report) = restored.next() else {
        panic!("expected the end")
    };
    assert_eq!(report.error.unwrap().code, "sync.no_credentials");
}

#[test]
fn answers_to_unknown_ids_are_refused() {
    let mut s = session(input(three_tests()));
    let Step::Send(req) = s.next() else { panic!() };
    let e = s
        .receive(
            req.id + 5,
            crate::sync::HttpResponse::answered(200, vec![], "{}"),
        )
        .unwrap_err();
    assert_eq!(e.code, "sync.unexpected_response");
    assert_eq!(
        s.provide_file(1, Ok(vec![])).unwrap_err().code,
        "sync.unexpected_file"
    );
}

/// The same work started again later, from nothing saved: another clock, another
/// retry seed, no cache.
fn again_later(i: &PublishInput) -> Publish {
    let mut later = i.clone();
    later.context.now = "2024-05-01T10:47:13.250Z".into();
    let options = SessionOptions {
        seed: 7,
        retry: RetryPolicy::default(),
    };
    Publish::new(later, Credentials::ApiKey("good-key".into()), options).unwrap()
}

/// Every AttachmentContent is used by an Attachment, and every Attachment's
/// content is there.
fn contents_all_used(r: &FakeRally) -> bool {
    let used: Vec<String> = r
        .all("attachment")
        .iter()
        .map(|a| a["Content"].as_str().unwrap().to_string())
        .collect();
    let stored: Vec<String> = r
        .all("attachmentcontent")
        .iter()
        .map(|c| crate::autofill::short_ref(c["_ref"].as_str().unwrap()))
        .collect();
    used.len() == stored.len() && used.iter().all(|u| stored.contains(u))
}

#[test]
fn a_rerun_with_nothing_saved_finds_what_the_first_run_created() {
    let i = input(three_tests());
    let mut r = rally();
    let first = drive(
        &mut session(i.clone()),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    assert_eq!(first.error, None);
    let creates = r.creates;
    // No saved progress, a clock 47 minutes later: the results carry no timestamp,
    // so their Date differs; their identity does not.
    let again = drive(&mut again_later(&i), &mut r, &files(), &mut Run::default());
    assert_eq!(again.error, None, "{again:?}");
    assert_eq!(r.creates, creates, "created again: {:?}", again.created);
    assert_eq!(
        results_per_case(&r).values().copied().collect::<Vec<_>>(),
        [1, 1]
    );
    assert_eq!(r.all("attachment").len(), 1);
    assert!(
        again
            .skipped
            .iter()
            .any(|e| e.kind == RecordKind::Attachment && e.key == "TC2 fail.png")
    );
    // The identity is in the Notes people read, after what was there.
    let notes: Vec<String> = r
        .all("testcaseresult")
        .iter()
        .map(|o| o["Notes"].as_str().unwrap().to_string())
        .collect();
    assert!(
        notes.iter().all(|n| n.contains("tmbridge run ")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with("total was 0")),
        "{notes:?}"
    );
}

#[test]
fn another_run_of_the_same_tests_is_not_mistaken_for_this_one() {
    let i = input(three_tests());
    let mut r = rally();
    drive(
        &mut session(i.clone()),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    // The next pipeline: new results, in the same build name (a fixed `rally.build`).
    let mut next = i.clone();
    next.context.pipeline_id = Some("982".into());
    next.config.rally.build = "nightly".into();
    let mut first_nightly = i.clone();
    first_nightly.config.rally.build = "nightly".into();
    drive(
        &mut session(first_nightly),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    let before = r.all("testcaseresult").len();
    let report = drive(&mut session(next), &mut r, &files(), &mut Run::default());
    assert_eq!(report.error, None);
    assert_eq!(r.all("testcaseresult").len(), before + 2, "{report:?}");
    // The same job retried (another job id, same name and tests): nothing new.
    let mut retried = i.clone();
    retried.context.job_name = Some("e2e".into());
    drive(
        &mut session(retried.clone()),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    let count = r.all("testcaseresult").len();
    retried.context.job_id = Some("4412".into());
    let report = drive(
        &mut again_later(&retried),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    assert!(report.created.is_empty(), "{:?}", report.created);
    assert_eq!(r.all("testcaseresult").len(), count);
}

#[test]
fn repeated_tests_keep_one_result_each_across_reruns_with_nothing_saved() {
    let mut i = input(vec![
        case("p", "TC1 a", Status::Passed),
        case("p", "TC1 a", Status::Passed),
        case("p", "TC1 b", Status::Failed),
    ]);
    i.config.matching.aggregate = crate::matching::Aggregate::Each;
    i.config.rally.test_set = None;
    let mut r = rally();
    drive(
        &mut session(i.clone()),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    assert_eq!(r.all("testcaseresult").len(), 3);
    for _ in 0..2 {
        let report = drive(&mut again_later(&i), &mut r, &files(), &mut Run::default());
        assert_eq!(report.error, None);
        assert_eq!(r.all("testcaseresult").len(), 3, "{:?}", report.created);
        assert_eq!(report.skipped.len(), 3);
    }
}

#[test]
fn a_run_resumed_from_any_older_copy_of_its_progress_sends_nothing_twice() {
    let i = input(three_tests());
    let mut r = rally();
    let mut s = session(i.clone());
    // A copy of the progress as a host saves it before each change, kept aside.
    let mut copies: Vec<String> = Vec::new();
    loop {
        match s.next() {
            Step::Send(req) => {
                if req.method != Method::Get {
                    copies.push(serde_json::to_string(s.progress()).unwrap());
                }
                let resp = r.handle(&req);
                s.receive(req.id, resp).unwrap();
                if req.method != Method::Get {
                    copies.push(serde_json::to_string(s.progress()).unwrap());
                }
            }
            Step::Read(f) => {
                let bytes = files().get(&f.path).cloned().ok_or_else(String::new);
                s.provide_file(f.id, bytes).unwrap();
            }
            Step::Wait { .. } | Step::Save => {}
            Step::Done(report) => {
                assert_eq!(report.error, None);
                break;
            }
        }
    }
    assert!(copies.len() >= 10, "{}", copies.len());
    let finished = r.clone();
    for (n, copy) in copies.iter().enumerate() {
        // Rally holds everything; the host restores an older copy and goes on.
        let mut r = finished.clone();
        let progress = serde_json::from_str(copy).unwrap();
        let mut resumed =
            Publish::resume(i.clone(), progress, Credentials::ApiKey("good-key".into()));
        let report = drive(&mut resumed, &mut r, &files(), &mut Run::default());
        assert_eq!(report.error, None, "copy {n}");
        assert_eq!(
            r.creates, finished.creates,
            "copy {n}: {:?}",
            report.created
        );
        assert_eq!(r.all("attachment").len(), 1, "copy {n}");
        assert!(contents_all_used(&r), "copy {n}");
    }
}

#[test]
fn an_upload_whose_attachment_is_refused_is_deleted_not_left_behind() {
    let mut r = rally();
    r.fault(Method::Post, "/attachment/create", Fault::Status(400, None));
    let report = drive(
        &mut session(input(three_tests())),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    assert_eq!(report.error, None);
    assert!(
        report
            .failed
            .iter()
            .any(|e| e.kind == RecordKind::Attachment && e.key == "TC2 fail.png"),
        "{:?}",
        report.failed
    );
    assert!(r.all("attachment").is_empty());
    assert!(
        r.all("attachmentcontent").is_empty(),
        "{:?}",
        r.all("attachmentcontent")
    );
    assert!(
        r.log
            .iter()
            .any(|(m, p)| *m == Method::Delete && p.starts_with("/attachmentcontent/"))
    );
}

#[test]
fn an_upload_made_useless_by_another_run_is_deleted_and_the_used_one_kept() {
    let i = input(three_tests());
    let mut r = rally();
    // Run 1 is cut off right after its upload's content was created: its saved
    // progress holds that content.
    let mut s = session(i.clone());
    let saved = loop {
        match s.next() {
            Step::Send(req) => {
                let resp = r.handle(&req);
                s.receive(req.id, resp).unwrap();
                if req.url.contains("/attachmentcontent/create") {
                    break serde_json::to_string(s.progress()).unwrap();
                }
            }
            Step::Read(f) => {
                let bytes = files().get(&f.path).cloned().ok_or_else(String::new);
                s.provide_file(f.id, bytes).unwrap();
            }
            Step::Wait { .. } | Step::Save => {}
            Step::Done(_) => panic!("the run should upload a file"),
        }
    };
    // Run 2 starts from nothing (the saved progress was out of reach) and attaches
    // the file with its own upload.
    let report = drive(&mut again_later(&i), &mut r, &files(), &mut Run::default());
    assert_eq!(report.error, None);
    assert_eq!(r.all("attachment").len(), 1);
    assert_eq!(r.all("attachmentcontent").len(), 2);
    // Run 1 comes back: the file is attached already, its own upload is deleted.
    let mut resumed = Publish::resume(
        i,
        serde_json::from_str(&saved).unwrap(),
        Credentials::ApiKey("good-key".into()),
    );
    let report = drive(&mut resumed, &mut r, &files(), &mut Run::default());
    assert_eq!(report.error, None);
    assert_eq!(r.all("attachment").len(), 1);
    assert!(contents_all_used(&r), "{:?}", r.all("attachmentcontent"));
}

/// What happens to one request in [`drive_with_fates`]: the faults of the session
/// fuzz target, scripted.
#[derive(Debug, Clone, Copy)]
enum Fate {
    Normal,
    Refuse,
    LoseAfterActing,
    GarbageWithoutActing(&'static str),
    GarbageAfterActing(&'static str),
}

const UNREADABLE_QUERY: &str = r#"{"QueryResult": {"TotalResultCount": "many", "Results": 7}}"#;
const CONFLICT: &str =
    r#"{"OperationResult": {"Errors": ["Concurrency conflict"], "Warnings": []}}"#;

/// Rally with the sprint, TC1 and TC2.
fn small_rally() -> FakeRally {
    let mut r = FakeRally::new();
    r.add(
        "iteration",
        json!({"Name": "Sprint 14", "StartDate": "2024-04-22T00:00:00.000Z", "EndDate": "2024-05-05T23:59:59.000Z", "Project": "/project/2"}),
    );
    r.add("testcase", json!({"FormattedID": "TC1", "Name": "logs in"}));
    r.add("testcase", json!({"FormattedID": "TC2", "Name": "pays"}));
    r
}

/// Drives a new publish to the end, one fate per request (then normal answers).
fn drive_with_fates(r: &mut FakeRally, fates: &[Fate]) -> Report {
    drive_session(&mut session(input(three_tests())), r, fates)
}

fn drive_session(s: &mut Publish, r: &mut FakeRally, fates: &[Fate]) -> Report {
    use crate::sync::protocol::{HttpResponse, ResponseKind};
    let mut fates = fates.iter().copied();
    for _ in 0..10_000 {
        match s.next() {
            Step::Send(req) => {
                let answer = match fates.next().unwrap_or(Fate::Normal) {
                    Fate::Normal => r.handle(&req),
                    Fate::Refuse => HttpResponse::failed(ResponseKind::ConnectFailed, "refused"),
                    Fate::LoseAfterActing => {
                        r.handle(&req);
                        HttpResponse::failed(ResponseKind::Dropped, "connection reset")
                    }
                    Fate::GarbageWithoutActing(body) => HttpResponse::answered(200, vec![], body),
                    Fate::GarbageAfterActing(body) => {
                        r.handle(&req);
                        HttpResponse::answered(200, vec![], body)
                    }
                };
                s.receive(req.id, answer).unwrap();
            }
            Step::Wait { .. } | Step::Save => {}
            Step::Read(f) => {
                let file = files()
                    .get(&f.path)
                    .cloned()
                    .ok_or_else(|| "no file".into());
                s.provide_file(f.id, file).unwrap();
            }
            Step::Done(report) => return report,
        }
    }
    panic!("the session did not finish");
}

fn assert_nothing_twice(r: &FakeRally) {
    for (case, count) in results_per_case(r) {
        assert_eq!(count, 1, "{count} results for {case}");
    }
    assert!(r.all("testset").len() <= 1, "a second test set");
    assert!(r.all("attachment").len() <= 1, "a second attachment");
}

/// Found by fuzzing: a query answered 200 with a `QueryResult` that has no readable
/// results was taken as "no result of this run yet", so the look-up after a lost
/// create sent the create again.
#[test]
fn an_unreadable_query_answer_is_never_taken_for_nothing_found() {
    use Fate::*;
    let mut r = small_rally();
    let report = drive_with_fates(
        &mut r,
        &[
            Refuse,
            LoseAfterActing,
            GarbageWithoutActing(UNREADABLE_QUERY),
            Normal,
            GarbageWithoutActing(UNREADABLE_QUERY),
            LoseAfterActing,
            GarbageWithoutActing(UNREADABLE_QUERY),
            LoseAfterActing,
            GarbageWithoutActing(""),
            GarbageAfterActing(UNREADABLE_QUERY),
        ],
    );
    assert_nothing_twice(&r);
    let error = report
        .error
        .expect("the session stops on what it cannot read");
    assert_eq!(error.code, "rally.bad_answer");
    assert!(report.retryable);
}

/// The requests of a run without faults.
fn clean_log() -> Vec<(Method, String)> {
    let mut r = small_rally();
    drive_with_fates(&mut r, &[]);
    r.log
}

/// The same answer to each query of a clean run: the session stops at the first,
/// whichever it is, and a rerun finishes the work without sending anything twice.
#[test]
fn an_unreadable_answer_to_any_query_stops_and_a_rerun_sends_nothing_twice() {
    let clean = clean_log();
    let queries = clean.iter().filter(|(m, _)| *m == Method::Get).count();
    assert!(queries >= 5, "{queries}");
    for target in 0..queries {
        let mut r = small_rally();
        // The fates apply to requests in order: normal up to the target-th query.
        let mut fates = Vec::new();
        let mut gets = 0;
        for (m, _) in &clean {
            if *m == Method::Get {
                if gets == target {
                    fates.push(Fate::GarbageWithoutActing(UNREADABLE_QUERY));
                    break;
                }
                gets += 1;
            }
            fates.push(Fate::Normal);
        }
        let first = drive_with_fates(&mut r, &fates);
        assert_eq!(
            first.error.map(|e| e.code).as_deref(),
            Some("rally.bad_answer"),
            "query {target}"
        );
        let again = drive_with_fates(&mut r, &[]);
        assert_eq!(again.error, None, "query {target}");
        assert_nothing_twice(&r);
        assert_eq!(results_per_case(&r).len(), 2, "query {target}");
        assert_eq!(r.all("attachment").len(), 1, "query {target}");
    }
}

/// A create answered with "Concurrency conflict", or with a body holding no new
/// record, may have been kept: the session looks before creating again, and reports
/// what it finds instead of a failure.
#[test]
fn a_create_answered_with_a_conflict_or_without_the_record_is_looked_for() {
    for garbage in [
        CONFLICT,
        UNREADABLE_QUERY,
        "{\"CreateResult\": {\"Errors\": []}}",
    ] {
        for acted in [true, false] {
            let mut r = small_rally();
            let mut fates: Vec<Fate> = Vec::new();
            for (m, path) in &clean_log() {
                if *m == Method::Post && path.starts_with("/testcaseresult/create") {
                    fates.push(if acted {
                        Fate::GarbageAfterActing(garbage)
                    } else {
                        Fate::GarbageWithoutActing(garbage)
                    });
                    break;
                }
                fates.push(Fate::Normal);
            }
            let report = drive_with_fates(&mut r, &fates);
            assert_eq!(report.error, None, "{garbage} acted={acted}");
            assert!(
                report.failed.iter().all(|e| e.key == "TC9"),
                "{:?}",
                report.failed
            );
            assert_nothing_twice(&r);
            assert_eq!(results_per_case(&r).len(), 2, "{garbage} acted={acted}");
        }
    }
}

/// A run that stopped on an unreadable answer to the test set search, resumed from
/// its saved progress, searches again instead of creating a second set.
#[test]
fn a_run_resumed_after_an_unreadable_test_set_search_searches_again() {
    let mut r = small_rally();
    drive_with_fates(&mut r, &[]);
    assert_eq!(r.all("testset").len(), 1);
    let mut fates = Vec::new();
    for (m, path) in &clean_log() {
        if *m == Method::Get && path == "/testset" {
            fates.push(Fate::GarbageWithoutActing(UNREADABLE_QUERY));
            break;
        }
        fates.push(Fate::Normal);
    }
    let mut s = session(input(three_tests()));
    let stopped = drive_session(&mut s, &mut r, &fates);
    assert_eq!(
        stopped.error.map(|e| e.code).as_deref(),
        Some("rally.bad_answer")
    );
    let saved = serde_json::to_string(s.progress()).unwrap();
    let mut resumed = Publish::resume(
        input(three_tests()),
        serde_json::from_str(&saved).unwrap(),
        Credentials::ApiKey("good-key".into()),
    );
    let report = drive_session(&mut resumed, &mut r, &[]);
    assert_eq!(report.error, None);
    assert_nothing_twice(&r);
}

/// Rally's "Concurrency conflict" to a query changed nothing: it is asked again.
#[test]
fn a_conflict_answer_to_a_query_is_asked_again() {
    let mut r = small_rally();
    let report = drive_with_fates(&mut r, &[Fate::GarbageWithoutActing(CONFLICT)]);
    assert_eq!(report.error, None);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(r.all("testset").len(), 1);
    assert_eq!(results_per_case(&r).len(), 2);
}

/// A collection add answered without its list of results may not have happened: the
/// members are listed again, so the results are not refused for a missing member.
#[test]
fn an_unreadable_answer_to_adding_members_lists_them_again() {
    let mut r = small_rally();
    let mut fates = Vec::new();
    for (m, path) in &clean_log() {
        if *m == Method::Post && path.ends_with("/TestCases/add") {
            fates.push(Fate::GarbageWithoutActing(UNREADABLE_QUERY));
            break;
        }
        fates.push(Fate::Normal);
    }
    let report = drive_with_fates(&mut r, &fates);
    assert_eq!(report.error, None);
    assert!(
        report.failed.iter().all(|e| e.key == "TC9"),
        "{:?}",
        report.failed
    );
    assert_eq!(results_per_case(&r).len(), 2);
}

// Batches: several TestCaseResult creates per `POST /batch`.

/// `n` passing tests, `TC1 ...` to `TCn ...`, and a Rally with those test cases.
fn many(n: usize) -> (Vec<TestCase>, FakeRally) {
    let mut r = small_rally();
    r.store.remove("testcase");
    let cases = (1..=n)
        .map(|i| {
            r.add(
                "testcase",
                json!({"FormattedID": format!("TC{i}"), "Name": format!("case {i}")}),
            );
            case("suite", &format!("TC{i} works"), Status::Passed)
        })
        .collect();
    (cases, r)
}

fn posts(r: &FakeRally, path: &str) -> usize {
    r.log
        .iter()
        .filter(|(m, p)| *m == Method::Post && p == path)
        .count()
}

fn result_entries(report: &Report) -> Vec<&Entry> {
    report
        .created
        .iter()
        .chain(&report.skipped)
        .filter(|e| e.kind == RecordKind::TestCaseResult)
        .collect()
}

#[test]
fn results_are_created_in_batches_of_the_configured_size() {
    let (cases, mut r) = many(7);
    let report = drive(
        &mut session(batched(input(cases), 3)),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    assert_eq!(report.error, None, "{report:?}");
    // 3 + 3 in two batches; the last one alone needs no batch.
    assert_eq!(posts(&r, "/batch"), 2);
    assert_eq!(posts(&r, "/testcaseresult/create"), 1);
    assert_eq!(results_per_case(&r).len(), 7);
    assert_nothing_twice(&r);
    let created = result_entries(&report);
    assert_eq!(created.len(), 7);
    for e in &created {
        assert_eq!(e.why, "created");
        let reference = e.reference.as_deref().unwrap();
        assert!(reference.starts_with("/testcaseresult/"), "{reference}");
    }
    // Each result keeps its identity: its own marker in Notes, in entry order.
    let results = r.all("testcaseresult");
    let notes: BTreeSet<&str> = results
        .iter()
        .map(|o| o["Notes"].as_str().unwrap())
        .collect();
    assert_eq!(notes.len(), 7);
    assert!(notes.iter().all(|n| n.contains("tmbridge run ")));
}

#[test]
fn a_batch_request_is_one_json_body_in_entry_order() {
    let (cases, mut r) = many(2);
    let mut run = Run::default();
    drive(&mut session(input(cases)), &mut r, &files(), &mut run);
    let batch = run
        .requests
        .iter()
        .find(|q| q.url.starts_with(&format!("{BASE}/batch")))
        .unwrap();
    assert_eq!(batch.url, format!("{BASE}/batch"));
    let body: serde_json::Value = serde_json::from_str(batch.body.as_deref().unwrap()).unwrap();
    let entries = body["Batch"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for (entry, id) in entries.iter().zip(["TC1", "TC2"]) {
        let e = &entry["Entry"];
        assert_eq!(e["Path"], "/testcaseresult/create?fetch=ObjectID");
        assert_eq!(e["Method"], "POST");
        let tc = e["Body"]["TestCaseResult"]["TestCase"].as_str().unwrap();
        let want = r
            .all("testcase")
            .into_iter()
            .find(|o| o["FormattedID"] == id)
            .map(|o| crate::autofill::short_ref(o["_ref"].as_str().unwrap()))
            .unwrap();
        assert_eq!(tc, want);
    }
}

#[test]
fn a_batch_stored_but_its_answer_lost_duplicates_nothing() {
    for fault in [Fault::DropAfterApply, Fault::FailAfterApply] {
        let (cases, mut r) = many(30);
        r.fault(Method::Post, "/batch", fault.clone());
        let report = drive(
            &mut session(batched(input(cases), 10)),
            &mut r,
            &files(),
            &mut Run::default(),
        );
        assert_eq!(report.error, None, "{fault:?}: {report:?}");
        assert_eq!(results_per_case(&r).len(), 30, "{fault:?}");
        assert_nothing_twice(&r);
        let entries = result_entries(&report);
        assert_eq!(entries.len(), 30);
        let found_again = entries
            .iter()
            .filter(|e| e.why.contains("second look"))
            .count();
        assert_eq!(found_again, 10, "{fault:?}");
        // The lost batch's results were looked for together, not one by one.
        assert_eq!(posts(&r, "/batch"), 3, "{fault:?}");
    }
}

#[test]
fn a_batch_lost_before_it_was_stored_is_sent_again() {
    let (cases, mut r) = many(5);
    r.fault(Method::Post, "/batch", Fault::Status(503, None));
    let report = drive(
        &mut session(input(cases)),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    assert_eq!(report.error, None, "{report:?}");
    assert_nothing_twice(&r);
    assert_eq!(results_per_case(&r).len(), 5);
    assert_eq!(posts(&r, "/batch"), 2);
    assert!(
        result_entries(&report)
            .iter()
            .all(|e| e.why == "created (try 2)"),
        "{report:?}"
    );
}

#[test]
fn a_crash_after_a_batch_was_sent_duplicates_nothing_on_resume() {
    for applied in [false, true] {
        let (cases, mut r) = many(12);
        let mut s = session(batched(input(cases), 5));
        // Run until the second batch is sent; the process dies before its answer.
        let mut batches = 0;
        let saved = loop {
            match s.next() {
                Step::Send(req) => {
                    if req.url.starts_with(&format!("{BASE}/batch")) {
                        batches += 1;
                        if batches == 2 {
                            if applied {
                                r.handle(&req);
                            }
                            break serde_json::to_string(s.progress()).unwrap();
                        }
                    }
                    let resp = r.handle(&req);
                    s.receive(req.id, resp).unwrap();
                }
                Step::Wait { .. } | Step::Save => {}
                Step::Read(_) => panic!("no files"),
                Step::Done(_) => panic!("finished before the second batch"),
            }
        };
        let progress = serde_json::from_str(&saved).unwrap();
        let mut resumed = Publish::resume(
            s.input().clone(),
            progress,
            Credentials::ApiKey("good-key".into()),
        );
        let report = drive(&mut resumed, &mut r, &files(), &mut Run::default());
        assert_eq!(report.error, None, "applied {applied}: {report:?}");
        assert_eq!(results_per_case(&r).len(), 12, "applied {applied}");
        assert_nothing_twice(&r);
        // The resumed run reports the 7 results it saw to (5 were before the crash).
        let entries = result_entries(&report);
        let again = entries
            .iter()
            .filter(|e| e.why.contains("second look"))
            .count();
        assert_eq!(again, if applied { 5 } else { 0 }, "applied {applied}");
        // A rerun with nothing saved creates nothing more.
        let (cases, _) = many(12);
        let before = r.creates;
        let rerun = drive(
            &mut session(batched(input(cases), 5)),
            &mut r,
            &files(),
            &mut Run::default(),
        );
        assert_eq!(rerun.error, None);
        assert_eq!(r.creates, before, "applied {applied}");
    }
}

#[test]
fn an_entry_refused_inside_a_batch_is_reported_with_rallys_message() {
    let (cases, mut r) = many(6);
    let tc4 = r
        .all("testcase")
        .into_iter()
        .find(|o| o["FormattedID"] == "TC4")
        .map(|o| crate::autofill::short_ref(o["_ref"].as_str().unwrap()))
        .unwrap();
    r.refuse.insert(
        "testcaseresult".into(),
        vec![(
            tc4,
            "Validation error: TestCaseResult.Build should not be null".into(),
        )],
    );
    let report = drive(
        &mut session(input(cases)),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    assert_eq!(report.error, None, "{report:?}");
    // The others are recorded from the batch's answer.
    let created: Vec<&str> = report
        .created
        .iter()
        .filter(|e| e.kind == RecordKind::TestCaseResult)
        .map(|e| e.key.as_str())
        .collect();
    assert_eq!(created, ["TC1", "TC2", "TC3", "TC5", "TC6"]);
    assert!(
        report
            .created
            .iter()
            .all(|e| e.kind != RecordKind::TestCaseResult || e.why == "created")
    );
    // The refused one was looked for, sent alone, and fails with Rally's words.
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].key, "TC4");
    assert!(
        report.failed[0]
            .why
            .contains("TestCaseResult.Build should not be null"),
        "{}",
        report.failed[0].why
    );
    assert_eq!(report.failed[0].tests, ["suite.TC4 works"]);
    assert_eq!(posts(&r, "/batch"), 1);
    assert_eq!(posts(&r, "/testcaseresult/create"), 1);
    assert_eq!(results_per_case(&r).len(), 5);
    assert_nothing_twice(&r);
}

#[test]
fn a_rally_without_batch_gets_one_create_per_request_for_the_rest_of_the_run() {
    let (cases, mut r) = many(8);
    r.no_batch = true;
    let report = drive(
        &mut session(batched(input(cases), 3)),
        &mut r,
        &files(),
        &mut Run::default(),
    );
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(posts(&r, "/batch"), 1, "asked once");
    assert_eq!(posts(&r, "/testcaseresult/create"), 8);
    assert_nothing_twice(&r);
    let entries = result_entries(&report);
    assert_eq!(entries.len(), 8);
    assert!(entries.iter().all(|e| e.why == "created"), "{report:?}");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.code == "rally.batch_unavailable" && w.message.contains("404")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn a_batch_answer_that_does_not_line_up_is_looked_up_not_trusted() {
    for garbage in [
        // Fewer results than entries.
        r#"{"BatchResult": {"Errors": [], "Warnings": [], "Results": [{"_ref": "/testcaseresult/1", "ObjectID": 1}]}}"#,
        // No results at all, an error.
        r#"{"BatchResult": {"Errors": ["Something went wrong"], "Warnings": []}}"#,
        // Results without an ObjectID or ref.
        r#"{"BatchResult": {"Errors": [], "Warnings": [], "Results": [{}, {}, {}]}}"#,
    ] {
        let (cases, mut r) = many(3);
        r.fault(
            Method::Post,
            "/batch",
            Fault::GarbageAfterApply(garbage.into()),
        );
        let report = drive(
            &mut session(input(cases)),
            &mut r,
            &files(),
            &mut Run::default(),
        );
        assert_eq!(report.error, None, "{garbage}: {report:?}");
        assert_nothing_twice(&r);
        assert_eq!(results_per_case(&r).len(), 3, "{garbage}");
        assert!(
            r.log
                .iter()
                .any(|(m, p)| *m == Method::Post && p == "/batch"),
            "{garbage}: the garbage fate missed the batch: {:?}",
            r.log
        );
        let entries = result_entries(&report);
        assert_eq!(entries.len(), 3, "{garbage}");
        assert!(
            entries.iter().all(|e| e.why.contains("second look")),
            "{garbage}: {report:?}"
        );
    }
}

#[test]
fn batch_results_are_read_as_objects_or_create_results() {
    use super::results::created_ref;
    let read = |v: &str| created_ref(&serde_json::from_str(v).unwrap());
    assert_eq!(
        read(r#"{"_ref": "https://r/slm/webservice/v2.0/testcaseresult/12", "ObjectID": 12}"#),
        Some("/testcaseresult/12".into())
    );
    assert_eq!(
        read(r#"{"ObjectID": 13}"#),
        Some("/testcaseresult/13".into())
    );
    assert_eq!(
        read(r#"{"CreateResult": {"Errors": [], "Object": {"_ref": "/testcaseresult/14"}}}"#),
        Some("/testcaseresult/14".into())
    );
    assert_eq!(
        read(r#"{"Errors": [], "Object": {"ObjectID": "15"}}"#),
        Some("/testcaseresult/15".into())
    );
    assert_eq!(read(r#"{"Errors": ["Validation error"]}"#), None);
    assert_eq!(read(r#"{"_ref": "/defect/16", "ObjectID": 16}"#), None);
    assert_eq!(read(r#"{"Object": null}"#), None);
    assert_eq!(read("null"), None);
}
