use super::*;
use crate::model::{OutcomeKind, RerunKind, Status};
use proptest::prelude::*;

fn read_files(files: &[(&str, &str)]) -> Report {
    let inputs: Vec<InputFile> = files
        .iter()
        .map(|(name, text)| InputFile {
            name,
            bytes: text.as_bytes(),
        })
        .collect();
    read(&inputs, &Options::default()).expect("a report")
}

fn only_case(report: &Report) -> &TestCase {
    let cases = report.cases();
    assert_eq!(cases.len(), 1, "{cases:#?}");
    cases[0]
}

fn props(case: &TestCase, name: &str) -> Vec<String> {
    case.properties
        .iter()
        .filter(|p| p.name == name)
        .map(|p| p.value.clone())
        .collect()
}

#[test]
fn statuses_read_the_way_allure_means_them() {
    let result = |uuid: &str, status: &str| {
        format!(
            r#"{{"uuid":"{uuid}","name":"t-{status}","status":"{status}","statusDetails":{{"message":"why {status}","trace":"at line 1"}},"start":1000,"stop":1500}}"#
        )
    };
    let files: Vec<(String, String)> = ["passed", "failed", "broken", "skipped", "unknown"]
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("{i}-result.json"), result(&i.to_string(), s)))
        .collect();
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let report = read_files(&borrowed);
    let by_name = |n: &str| *report.cases().iter().find(|c| c.name == n).unwrap();
    assert_eq!(by_name("t-passed").status, Status::Passed);
    let failed = by_name("t-failed");
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(failed.outcomes[0].kind, OutcomeKind::Failure);
    assert_eq!(failed.message.as_deref(), Some("why failed"));
    assert_eq!(
        failed.outcomes[0].details.as_ref().unwrap().text,
        "at line 1"
    );
    assert_eq!(by_name("t-broken").status, Status::Error);
    assert_eq!(by_name("t-broken").outcomes[0].kind, OutcomeKind::Error);
    assert_eq!(by_name("t-skipped").status, Status::Skipped);
    let unknown = by_name("t-unknown");
    assert_eq!(unknown.status, Status::Skipped);
    assert_eq!(props(unknown, "allure_status"), ["unknown"]);
    assert_eq!(report.root, RootKind::Allure);
    let c = report.counts;
    assert_eq!(
        (c.tests, c.passed, c.failed, c.errors, c.skipped),
        (5, 1, 1, 1, 2)
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(failed.duration_us, Some(500_000));
    assert_eq!(
        failed.timestamp.as_deref(),
        Some("1970-01-01T00:00:01.000Z")
    );
}

#[test]
fn a_status_outside_allure_is_a_warning_naming_the_file() {
    let report = read_files(&[(
        "a-result.json",
        r#"{"uuid":"a","name":"x","status":"weird"}"#,
    )]);
    assert_eq!(only_case(&report).status, Status::Skipped);
    assert_eq!(report.warnings[0].code, "allure.unknown_status");
    assert!(report.warnings[0].message.contains("a-result.json"));
}

#[test]
fn suite_path_and_classname_come_from_labels() {
    let report = read_files(&[
        (
            "1-result.json",
            r#"{"uuid":"1","name":"test_a","status":"passed","labels":[
                {"name":"parentSuite","value":"tests"},{"name":"suite","value":"test_shop"},
                {"name":"subSuite","value":"TestCart"},{"name":"package","value":"tests.test_shop"},
                {"name":"testClass","value":"TestCart"},{"name":"host","value":"ci-7"}]}"#,
        ),
        (
            "2-result.json",
            r#"{"uuid":"2","name":"test_b","status":"passed","labels":[{"name":"package","value":"tests.test_b"}]}"#,
        ),
        (
            "3-result.json",
            r#"{"uuid":"3","fullName":"only.full","status":"passed"}"#,
        ),
        (
            "4-result.json",
            r#"{"uuid":"4","name":"test_c","fullName":"tests.test_cls.TestCart#test_c","status":"passed","labels":[
                {"name":"subSuite","value":"TestCart"},{"name":"package","value":"tests.test_cls"}]}"#,
        ),
        (
            "5-result.json",
            r#"{"uuid":"5","name":"adds","fullName":"shop:cart.test.js#cart adds","status":"passed","labels":[
                {"name":"package","value":"shop.cart.test.js"}]}"#,
        ),
    ]);
    let cases = report.cases();
    let a = cases.iter().find(|c| c.name == "test_a").unwrap();
    assert_eq!(a.suite, ["tests", "test_shop", "TestCart"]);
    assert_eq!(a.classname.as_deref(), Some("tests.test_shop.TestCart"));
    assert_eq!(a.full_name(), "tests.test_shop.TestCart.test_a");
    assert!(
        props(a, "host").is_empty(),
        "machine labels are not properties"
    );
    let b = cases.iter().find(|c| c.name == "test_b").unwrap();
    assert_eq!(b.suite, ["tests.test_b"]);
    assert_eq!(b.classname.as_deref(), Some("tests.test_b"));
    let c = cases.iter().find(|c| c.name == "only.full").unwrap();
    assert_eq!(c.suite, [case::NO_SUITE]);
    // allure-pytest's class: in fullName only, as pytest's JUnit classname has it.
    let in_class = cases.iter().find(|c| c.name == "test_c").unwrap();
    assert_eq!(
        in_class.classname.as_deref(),
        Some("tests.test_cls.TestCart")
    );
    // allure-js: fullName does not refine the package.
    let js = cases.iter().find(|c| c.name == "adds").unwrap();
    assert_eq!(js.classname.as_deref(), Some("shop.cart.test.js"));
    assert_eq!(report.suite_count(), 7);
    assert_eq!(report.suites[0].counts.tests, 1);
}

#[test]
fn labels_links_and_parameters_become_properties() {
    let report = read_files(&[(
        "1-result.json",
        r#"{"uuid":"1","name":"t","status":"passed","labels":[
            {"name":"feature","value":"Cart"},{"name":"story","value":"Add"},{"name":"epic","value":"Shop"},
            {"name":"tag","value":"smoke"},{"name":"tag","value":"C9"},{"name":"owner","value":"ann"},
            {"name":"severity","value":"critical"},{"name":"AS_ID","value":"42"},{"name":"custom","value":"x"}],
          "links":[{"type":"tms","name":"C123","url":"https://tm/cases/view/123"},
            {"type":"tms","url":"https://tm/index.php?/cases/view/124"},
            {"type":"issue","name":"BUG-1","url":"https://jira/browse/BUG-1"},
            {"type":"issue","url":"https://jira/browse/BUG-2"},
            {"type":"link","name":"docs","url":"https://docs/x"}],
          "parameters":[{"name":"user","value":"ann"},{"name":"password","value":"s3cret","mode":"masked"},
            {"name":"token","value":"t0ken","mode":"hidden"},{"name":"n","value":3}],
          "statusDetails":{"flaky":true,"known":true,"muted":false},
          "description":"Adds one item.\n\nThen checks the cart.","descriptionHtml":"<p>Adds one item.</p>"}"#,
    )]);
    let case = only_case(&report);
    for (name, want) in [
        ("feature", vec!["Cart"]),
        ("story", vec!["Add"]),
        ("epic", vec!["Shop"]),
        ("tag", vec!["smoke", "C9"]),
        ("owner", vec!["ann"]),
        ("severity", vec!["critical"]),
        ("allure_id", vec!["42"]),
        ("custom", vec!["x"]),
        ("test_id", vec!["C123", "124"]),
        ("defects", vec!["BUG-1", "BUG-2"]),
        ("link", vec!["https://docs/x"]),
        ("parameter:user", vec!["ann"]),
        ("parameter:password", vec!["******"]),
        ("parameter:n", vec!["3"]),
        ("flaky", vec!["true"]),
        ("known", vec!["true"]),
        (
            "description",
            vec!["Adds one item.\n\nThen checks the cart."],
        ),
    ] {
        assert_eq!(props(case, name), want, "{name}");
    }
    assert!(props(case, "parameter:token").is_empty());
    assert!(props(case, "muted").is_empty());
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains("s3cret") && !json.contains("t0ken"));
}

#[test]
fn tms_links_give_the_case_ids_matching_uses() {
    use crate::config::RefCache;
    use crate::matching::{self, MatchingConfig};

    use crate::target::Target;
    let report = read_files(&[(
        "1-result.json",
        r#"{"uuid":"1","name":"checkout works","status":"passed","links":[{"type":"tms","name":"C77","url":"u"}]}"#,
    )]);
    let cases: Vec<TestCase> = report.cases().into_iter().cloned().collect();
    let outcome = matching::match_cases(
        &cases,
        &MatchingConfig::default(),
        Target::Testrail,
        &RefCache::default(),
    );
    assert_eq!(outcome.matched[0].key, "C77");
}

#[test]
fn steps_nest_with_their_statuses_and_attachments() {
    let report = read_files(&[(
        "1-result.json",
        r#"{"uuid":"1","name":"t","status":"failed","attachments":[{"name":"log","source":"a-attachment.txt","type":"text/plain"}],
          "steps":[{"name":"open","status":"passed","start":0,"stop":2,"steps":[
              {"name":"click","status":"passed","attachments":[{"source":"b-attachment.png"}]}]},
            {"name":"check","status":"failed","statusDetails":{"message":"expected 2"},
              "attachments":[{"source":"a-attachment.txt"}],"steps":null}]}"#,
    )]);
    let case = only_case(&report);
    let steps: Vec<_> = case
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.depth, s.status, s.message.as_deref()))
        .collect();
    assert_eq!(
        steps,
        [
            ("open", 0, Status::Passed, None),
            ("click", 1, Status::Passed, None),
            ("check", 0, Status::Failed, Some("expected 2")),
        ]
    );
    assert_eq!(case.steps[0].duration_us, Some(2000));
    assert_eq!(case.attachments, ["a-attachment.txt", "b-attachment.png"]);
}

#[test]
fn a_failed_set_up_fixture_breaks_its_tests_and_fixtures_wrap_the_steps() {
    let report = read_files(&[
        (
            "1-result.json",
            r#"{"uuid":"t1","name":"uses db","status":"skipped","steps":[{"name":"body","status":"passed"}]}"#,
        ),
        (
            "2-result.json",
            r#"{"uuid":"t2","name":"no fixture","status":"passed"}"#,
        ),
        (
            "c1-container.json",
            r#"{"uuid":"c1","children":["t1"],"befores":[{"name":"db","status":"broken","statusDetails":{"message":"no connection"},
               "attachments":[{"source":"db-attachment.log"}]}],"afters":[{"name":"db::close","status":"passed"}]}"#,
        ),
        (
            "c0-container.json",
            r#"{"uuid":"c0","children":["c1"],"befores":[{"name":"session","status":"passed"}],"afters":[{"name":"session::end","status":"passed"}]}"#,
        ),
    ]);
    let cases = report.cases();
    let t1 = cases.iter().find(|c| c.name == "uses db").unwrap();
    assert_eq!(t1.status, Status::Error);
    assert!(
        t1.message.as_deref().unwrap().contains("no connection"),
        "{:?}",
        t1.message
    );
    let steps: Vec<_> = t1
        .steps
        .iter()
        .map(|s| (s.keyword.as_deref(), s.name.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (Some("SETUP"), "session"),
            (Some("SETUP"), "db"),
            (None, "body"),
            (Some("TEARDOWN"), "db::close"),
            (Some("TEARDOWN"), "session::end"),
        ]
    );
    assert_eq!(t1.attachments, ["db-attachment.log"]);
    let t2 = cases.iter().find(|c| c.name == "no fixture").unwrap();
    assert_eq!(t2.status, Status::Passed);
    assert!(t2.steps.is_empty());
    assert_eq!(report.counts.errors, 1);
}

#[test]
fn containers_that_loop_end() {
    let report = read_files(&[
        (
            "1-result.json",
            r#"{"uuid":"t","name":"x","status":"passed"}"#,
        ),
        (
            "a-container.json",
            r#"{"uuid":"a","children":["t","b"],"befores":[{"name":"fa","status":"passed"}]}"#,
        ),
        (
            "b-container.json",
            r#"{"uuid":"b","children":["a"],"befores":[{"name":"fb","status":"passed"}]}"#,
        ),
    ]);
    let names: Vec<_> = only_case(&report)
        .steps
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["fb", "fa"]);
}

fn attempt(uuid: &str, status: &str, start: i64) -> String {
    format!(
        r#"{{"uuid":"{uuid}","historyId":"h1","name":"retried","status":"{status}","statusDetails":{{"message":"run {uuid}"}},"start":{start},"stop":{}}}"#,
        start + 10
    )
}

#[test]
fn retries_group_by_history_id_and_the_latest_counts() {
    let flaky = read_files(&[
        ("x-result.json", &attempt("x", "passed", 300)),
        ("y-result.json", &attempt("y", "failed", 100)),
        ("z-result.json", &attempt("z", "broken", 200)),
    ]);
    let case = only_case(&flaky);
    assert_eq!(case.status, Status::Flaky);
    let kinds: Vec<_> = case
        .reruns
        .iter()
        .map(|r| (r.kind, r.message.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            (RerunKind::FlakyFailure, Some("run y")),
            (RerunKind::FlakyError, Some("run z")),
        ]
    );
    assert_eq!(props(case, "retries"), ["2"]);
    assert_eq!(case.message.as_deref(), Some("run z"));
    assert_eq!(flaky.counts.flaky, 1);
    assert_eq!(flaky.counts.tests, 1);

    let failing = read_files(&[
        ("y-result.json", &attempt("y", "passed", 100)),
        ("x-result.json", &attempt("x", "failed", 300)),
        ("z-result.json", &attempt("z", "failed", 200)),
    ]);
    let case = only_case(&failing);
    assert_eq!(case.status, Status::Failed);
    assert_eq!(case.message.as_deref(), Some("run x"));
    assert_eq!(case.reruns.len(), 1);
    assert_eq!(case.reruns[0].kind, RerunKind::RerunFailure);
}

fn sample_folder() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = vec![
        ("a-result.json".into(), attempt("a", "failed", 100)),
        ("b-result.json".into(), attempt("b", "passed", 200)),
        (
            "c-result.json".into(),
            r#"{"uuid":"c","name":"same start","status":"passed","start":100,"stop":100,"labels":[{"name":"suite","value":"S2"}]}"#.into(),
        ),
        (
            "d-result.json".into(),
            r#"{"uuid":"d","name":"same start too","status":"broken","start":100,"stop":100,"labels":[{"name":"suite","value":"S1"}]}"#.into(),
        ),
        ("bad-result.json".into(), "{\"uuid\": ".into()),
        (
            "k-container.json".into(),
            r#"{"uuid":"k","children":["c","d"],"befores":[{"name":"f","status":"passed"}]}"#.into(),
        ),
        ("environment.properties".into(), "Browser=Chrome\nStand=staging\n".into()),
        ("executor.json".into(), r#"{"name":"GitLab","type":"gitlab","buildName":"pipeline 7","buildOrder":7}"#.into()),
        ("categories.json".into(), r#"[{"name":"Timeouts","messageRegex":".*timeout.*"}]"#.into()),
        ("b1-attachment.png".into(), "\u{89}PNG".into()),
    ];
    files.sort();
    files
}

#[test]
fn the_same_files_in_any_order_read_the_same() {
    let files = sample_folder();
    let json_of = |order: &[(String, String)]| {
        let borrowed: Vec<(&str, &str)> = order
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        serde_json::to_string(&read_files(&borrowed)).unwrap()
    };
    let first = json_of(&files);
    let mut reversed = files.clone();
    reversed.reverse();
    assert_eq!(first, json_of(&reversed));
    let mut rotated = files.clone();
    rotated.rotate_left(3);
    assert_eq!(first, json_of(&rotated));
}

#[test]
fn a_bad_file_is_a_warning_with_its_name_and_position() {
    let files = sample_folder();
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let report = read_files(&borrowed);
    assert_eq!(report.counts.tests, 3);
    let w = &report.warnings[0];
    assert_eq!(w.code, "allure.invalid_json");
    assert!(w.message.starts_with("bad-result.json: "), "{}", w.message);
    let at = w.location.unwrap();
    assert_eq!((at.line, at.column), (1, 9));
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
}

#[test]
fn environment_and_executor_describe_the_run() {
    let files = sample_folder();
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let report = read_files(&borrowed);
    assert_eq!(report.name.as_deref(), Some("pipeline 7"));
    for suite in &report.suites {
        let p: Vec<_> = suite
            .info
            .properties
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect();
        assert!(p.contains(&("Browser", "Chrome")), "{p:?}");
        assert!(p.contains(&("executor.buildOrder", "7")), "{p:?}");
    }
    assert_eq!(
        report.timestamp.as_deref(),
        Some("1970-01-01T00:00:00.100Z")
    );
    assert_eq!(report.duration_us, Some(110_000));
}

#[test]
fn without_a_readable_result_there_is_no_report() {
    let inputs = [InputFile {
        name: "environment.properties",
        bytes: b"a=b",
    }];
    let e = read(&inputs, &Options::default()).unwrap_err();
    assert_eq!(e.code, "allure.no_results");
    let inputs = [InputFile {
        name: "x-result.json",
        bytes: b"[1, 2]",
    }];
    let e = read(&inputs, &Options::default()).unwrap_err();
    assert_eq!(e.code, "allure.no_results");
    assert!(e.message.contains("x-result.json"), "{}", e.message);
    assert!(e.location.is_some());
}

#[test]
fn values_of_other_types_do_not_end_the_file() {
    let report = read_files(&[(
        "1-result.json",
        r#"{"uuid":1,"name":"t","status":"passed","start":1.5e3,"stop":2000,"labels":[{"name":"tag","value":true},null],
           "statusDetails":null,"links":null,"extra":{"anything":[1,2]}}"#,
    )]);
    let case = only_case(&report);
    assert_eq!(props(case, "tag"), ["true"]);
    assert_eq!(case.duration_us, Some(500_000));
}

proptest! {
    #[test]
    fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), json in "[\\[\\]{}\":,0-9a-z ]{0,80}") {
        for content in [bytes.as_slice(), json.as_bytes()] {
            let inputs = [
                InputFile { name: "1-result.json", bytes: content },
                InputFile { name: "2-container.json", bytes: content },
                InputFile { name: "environment.properties", bytes: content },
                InputFile { name: "executor.json", bytes: content },
            ];
            let _ = read(&inputs, &Options::default());
        }
    }
}

#[test]
fn errors_outside_any_test_are_warnings() {
    let report = read_files(&[
        (
            "1-result.json",
            r#"{"uuid":"1","name":"lists orders","status":"skipped"}"#,
        ),
        (
            "g-globals.json",
            r#"{"attachments":[],"errors":[{"message":"beforeAll hook failed: no database","trace":"Error: ..."}]}"#,
        ),
    ]);
    assert_eq!(only_case(&report).status, Status::Skipped);
    let w = &report.warnings[0];
    assert_eq!(w.code, "allure.global_error");
    assert!(w.message.starts_with("g-globals.json: "), "{}", w.message);
    assert!(w.message.contains("no database"), "{}", w.message);
}

#[test]
fn categories_are_assigned_as_allure_assigns_them() {
    let result = |uuid: &str, status: &str, message: &str, flaky: bool| {
        format!(
            r#"{{"uuid":"{uuid}","name":"{uuid}","status":"{status}","statusDetails":{{"message":"{message}","trace":"at x\nat y","flaky":{flaky}}}}}"#
        )
    };
    let files = [
        ("1-result.json".to_string(), result("timeout", "broken", "Read timed out\\nafter 30s", false)),
        ("2-result.json".to_string(), result("assert", "failed", "expected 2", false)),
        ("3-result.json".to_string(), result("broken", "broken", "NullPointerException", false)),
        ("4-result.json".to_string(), result("flaky", "failed", "Read timed out", true)),
        ("5-result.json".to_string(), result("passed", "passed", "", false)),
        (
            "categories.json".to_string(),
            r#"[{"name":"Timeouts","matchedStatuses":["broken","failed"],"messageRegex":".*timed out.*"},
                {"name":"Multi-line traces","traceRegex":"at x.at y"},
                {"name":"Flaky timeouts","messageRegex":"Read.*","flaky":true},
                {"name":"Bad pattern","messageRegex":"(unclosed"}]"#
                .to_string(),
        ),
    ];
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let report = read_files(&borrowed);
    let of = |name: &str| {
        let case = report.cases().into_iter().find(|c| c.name == name);
        props(
            case.unwrap_or_else(|| panic!("{name}: {:?}", report.warnings)),
            "category",
        )
    };
    // `.` matches the line end; the pattern matches the whole message.
    assert_eq!(of("timeout"), ["Timeouts", "Multi-line traces"]);
    assert_eq!(of("assert"), ["Multi-line traces"]);
    assert_eq!(of("flaky"), ["Flaky timeouts"]);
    assert_eq!(of("passed"), ["Multi-line traces"]);
    let without = read_files(&[
        (
            "1-result.json",
            r#"{"uuid":"1","name":"f","status":"failed"}"#,
        ),
        (
            "2-result.json",
            r#"{"uuid":"2","name":"b","status":"broken"}"#,
        ),
        (
            "3-result.json",
            r#"{"uuid":"3","name":"p","status":"passed"}"#,
        ),
    ]);
    let of = |name: &str| {
        props(
            without
                .cases()
                .into_iter()
                .find(|c| c.name == name)
                .unwrap(),
            "category",
        )
    };
    assert_eq!(of("f"), [categories::PRODUCT_DEFECTS]);
    assert_eq!(of("b"), [categories::TEST_DEFECTS]);
    assert!(of("p").is_empty());
    let w = report
        .warnings
        .iter()
        .find(|w| w.code == "allure.invalid_category")
        .unwrap();
    assert!(
        w.message.contains("Bad pattern") && w.message.starts_with("categories.json: "),
        "{}",
        w.message
    );
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
}

proptest! {
    #[test]
    fn one_test_per_history_and_any_file_order_reads_the_same(
        attempts in proptest::collection::vec((0u8..4, 0usize..5, 0i64..50, proptest::option::of(0u8..3)), 1..12),
        rotate in 0usize..12,
    ) {
        const STATUSES: [&str; 5] = ["passed", "failed", "broken", "skipped", "unknown"];
        let mut files: Vec<(String, String)> = attempts
            .iter()
            .enumerate()
            .map(|(i, (history, status, start, _))| {
                let body = format!(
                    r#"{{"uuid":"u{i}","historyId":"h{history}","name":"t{history}","status":"{}","start":{start},"stop":{}}}"#,
                    STATUSES[*status],
                    start + 5
                );
                (format!("{i:02}-result.json"), body)
            })
            .collect();
        for (i, (_, _, _, container)) in attempts.iter().enumerate() {
            if let Some(c) = container {
                files.push((
                    format!("c{i:02}-container.json"),
                    format!(r#"{{"uuid":"c{i}","children":["u{i}","c{c}"],"befores":[{{"name":"f{i}","status":"broken"}}]}}"#),
                ));
            }
        }
        let json_of = |order: &[(String, String)]| {
            let borrowed: Vec<(&str, &str)> = order.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            read_files(&borrowed)
        };
        let report = json_of(&files);
        let histories: std::collections::BTreeSet<u8> = attempts.iter().map(|a| a.0).collect();
        prop_assert_eq!(report.counts.tests, histories.len() as u64);
        prop_assert_eq!(report.cases().len(), histories.len());
        let mut shuffled = files.clone();
        let n = shuffled.len();
        shuffled.rotate_left(rotate % n);
        shuffled.reverse();
        prop_assert_eq!(
            serde_json::to_string(&report).unwrap(),
            serde_json::to_string(&json_of(&shuffled)).unwrap()
        );
    }
}
