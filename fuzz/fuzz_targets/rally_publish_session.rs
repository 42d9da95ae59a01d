//! A Rally publish session fed arbitrary answers must never panic, always finish,
//! and never create a second result, attachment or test set: the fuzzer chooses,
//! request by request, whether Rally answers normally, fails before or after acting,
//! loses the answer, answers with garbage (HTML, truncated or wrongly shaped JSON,
//! a redirect to a login page), or whether the host crashes and resumes the
//! session from its saved progress.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use std::collections::BTreeMap;
use tmbridge_core::config::{ArtifactInfo, Config, RefCache, RunContext};
use tmbridge_core::junit;
use tmbridge_core::sync::rally::testkit::{BASE, FakeRally};
use tmbridge_core::sync::rally::{Credentials, Publish, PublishInput, SessionOptions};
use tmbridge_core::sync::{HttpResponse, ResponseKind, RetryPolicy, Session, Step};

const REPORT: &[u8] = br#"<testsuite name="web" tests="3">
  <testcase classname="web.Login" name="TC1 logs in" time="1.0"/>
  <testcase classname="web.Checkout" name="TC2 pays by card" time="2.3">
    <failure message="total was 0">at pay()</failure>
    <system-out>[[ATTACHMENT|shots/fail.png]]</system-out>
  </testcase>
  <testcase classname="web.Login" name="TC9 logs out"/>
</testsuite>"#;

/// What happens to one request, chosen by one byte of the input.
enum Fate {
    Normal,
    RefuseConnection,
    StatusBeforeActing(u16, Option<&'static str>),
    LoseAnswerAfterActing,
    StatusAfterActing(u16),
    GarbageAfterActing(&'static str),
    GarbageWithoutActing(&'static str),
    CrashBeforeSending,
    CrashAfterActing,
}

const GARBAGE: &[&str] = &[
    "<html><body>Service Unavailable</body></html>",
    "{\"CreateResult\": {\"Object\": ",
    "{\"QueryResult\": {\"TotalResultCount\": \"many\", \"Results\": 7}}",
    "[]",
    "",
    "{\"OperationResult\": {\"Errors\": [\"Concurrency conflict\"], \"Warnings\": []}}",
];

fn fate(byte: u8) -> Fate {
    let garbage = GARBAGE[usize::from(byte >> 4) % GARBAGE.len()];
    match byte % 16 {
        0 => Fate::RefuseConnection,
        1 => Fate::StatusBeforeActing(500, None),
        2 => Fate::StatusBeforeActing(429, Some("1")),
        3 => Fate::StatusBeforeActing(302, None),
        4 => Fate::LoseAnswerAfterActing,
        5 => Fate::StatusAfterActing(502),
        6 => Fate::GarbageAfterActing(garbage),
        7 => Fate::GarbageWithoutActing(garbage),
        8 => Fate::CrashBeforeSending,
        9 => Fate::CrashAfterActing,
        _ => Fate::Normal,
    }
}

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

fn input() -> PublishInput {
    let config = Config::from_json(
        format!(
            r#"{{"rally": {{"url": "{BASE}", "workspace": "/workspace/1", "project": "/project/2"}}}}"#
        )
        .as_bytes(),
    )
    .expect("the configuration is valid");
    let report = junit::parse(REPORT).expect("the report is valid");
    PublishInput {
        config,
        cases: report.cases().into_iter().cloned().collect(),
        context: RunContext {
            now: "2024-05-01T10:00:00Z".into(),
            pipeline_id: Some("981".into()),
            artifacts: vec![ArtifactInfo {
                path: "shots/fail.png".into(),
                size: Some(10),
                ..ArtifactInfo::default()
            }],
            ..RunContext::default()
        },
        cache: RefCache::default(),
    }
}

fn credentials() -> Credentials {
    Credentials::ApiKey("good-key".into())
}

fuzz_target!(|data: &[u8]| {
    let mut rally = rally();
    let files: BTreeMap<String, Vec<u8>> =
        BTreeMap::from([("shots/fail.png".to_string(), b"\x89PNG fake".to_vec())]);
    let options = SessionOptions {
        seed: 7,
        retry: RetryPolicy::default(),
    };
    let Ok(mut session) = Publish::new(input(), credentials(), options) else {
        panic!("the session starts");
    };
    let mut fates = data.iter().copied();
    let mut crashes = 0;
    let mut finished = false;
    for _ in 0..20_000 {
        match session.next() {
            Step::Send(req) => {
                let saved = serde_json::to_string(session.progress()).expect("progress saves");
                let answer = match fate(fates.next().unwrap_or(u8::MAX)) {
                    Fate::Normal => rally.handle(&req),
                    Fate::RefuseConnection => {
                        HttpResponse::failed(ResponseKind::ConnectFailed, "connection refused")
                    }
                    Fate::StatusBeforeActing(status, retry_after) => {
                        let headers = retry_after
                            .map(|s| vec![("Retry-After".to_string(), s.to_string())])
                            .unwrap_or_default();
                        HttpResponse::answered(status, headers, "busy")
                    }
                    Fate::LoseAnswerAfterActing => {
                        rally.handle(&req);
                        HttpResponse::failed(ResponseKind::Dropped, "connection reset")
                    }
                    Fate::StatusAfterActing(status) => {
                        rally.handle(&req);
                        HttpResponse::answered(status, vec![], "gateway error")
                    }
                    Fate::GarbageAfterActing(body) => {
                        rally.handle(&req);
                        HttpResponse::answered(200, vec![], body)
                    }
                    Fate::GarbageWithoutActing(body) => HttpResponse::answered(200, vec![], body),
                    fate @ (Fate::CrashBeforeSending | Fate::CrashAfterActing) => {
                        if crashes >= 3 {
                            rally.handle(&req)
                        } else {
                            crashes += 1;
                            if matches!(fate, Fate::CrashAfterActing) {
                                rally.handle(&req);
                            }
                            let progress =
                                serde_json::from_str(&saved).expect("saved progress reads back");
                            session = Publish::resume(input(), progress, credentials());
                            continue;
                        }
                    }
                };
                if let Err(e) = session.receive(req.id, answer) {
                    panic!("receive refused the answer to its own request: {e}");
                }
            }
            Step::Wait { .. } | Step::Save => {}
            Step::Read(file) => {
                let bytes = files.get(&file.path).cloned().ok_or_else(|| "no such file".to_string());
                session.provide_file(file.id, bytes).expect("the file was asked for");
            }
            Step::Done(_) => {
                finished = true;
                break;
            }
        }
    }
    assert!(finished, "the session did not finish");
    let mut results_per_case: BTreeMap<String, usize> = BTreeMap::new();
    for result in rally.all("testcaseresult") {
        let case = result.get("TestCase").map(|v| v.to_string()).unwrap_or_default();
        *results_per_case.entry(case).or_default() += 1;
    }
    for (case, count) in &results_per_case {
        assert_eq!(*count, 1, "{count} results for {case}");
    }
    assert!(rally.all("testset").len() <= 1, "a second test set");
    assert!(rally.all("attachment").len() <= 1, "a second attachment");
});
