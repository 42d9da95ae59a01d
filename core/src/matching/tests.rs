use super::testutil::{case, failing, took, with_prop};
use super::*;
use proptest::prelude::*;

fn run(cases: &[TestCase], config: &MatchingConfig, target: Target) -> MatchOutcome {
    match_cases(cases, config, target, &RefCache::default())
}

fn keys(out: &MatchOutcome) -> Vec<&str> {
    out.matched.iter().map(|m| m.key.as_str()).collect()
}

#[test]
fn sources_are_tried_in_order_and_the_first_hit_wins() {
    let mut config = MatchingConfig::default();
    config.mapping.insert(
        "com.acme.Login.C5 logs in".into(),
        CaseIds::One("C9".into()),
    );
    let cases = [with_prop(
        case("com.acme.Login", "C5 logs in", Status::Passed),
        "test_id",
        "C7",
    )];
    let out = run(&cases, &config, Target::Testrail);
    assert_eq!(keys(&out), ["C9"]);
    assert_eq!(out.matched[0].members[0].source, Source::Mapping);

    config.sources = vec![Source::Property, Source::Name];
    let out = run(&cases, &config, Target::Testrail);
    assert_eq!(keys(&out), ["C7"]);
    assert_eq!(out.matched[0].members[0].source, Source::Property);

    config.sources = vec![Source::Name];
    assert_eq!(keys(&run(&cases, &config, Target::Testrail)), ["C5"]);
}

#[test]
fn ids_among_repeated_tag_properties_are_found_wherever_they_are() {
    let config = MatchingConfig {
        sources: vec![Source::Property],
        properties: vec!["tag".into()],
        ..MatchingConfig::default()
    };
    // Robot and Cucumber give one `tag` property per tag, the id anywhere among them.
    let tagged = with_prop(
        with_prop(
            case("Checkout", "pays by card", Status::Failed),
            "tag",
            "smoke",
        ),
        "tag",
        "C42",
    );
    let out = run(&[tagged], &config, Target::Testrail);
    assert_eq!(keys(&out), ["C42"]);
    assert!(out.review.is_empty(), "{:?}", out.review);
    // Tags with no id leave the test for review, naming what was read.
    let plain = with_prop(
        case("Checkout", "pays by cash", Status::Passed),
        "tag",
        "smoke",
    );
    let out = run(&[plain], &config, Target::Testrail);
    assert!(out.matched.is_empty());
    assert!(
        out.review[0].detail.contains("property tag"),
        "{:?}",
        out.review
    );
}

#[test]
fn mapping_table_accepts_full_or_bare_names_and_several_ids() {
    let mut config = MatchingConfig::default();
    config.mapping.insert(
        "logs out".into(),
        CaseIds::Many(vec!["C1".into(), "2".into()]),
    );
    let cases = [case("com.acme.Login", "logs out", Status::Failed)];
    let out = run(&cases, &config, Target::Testrail);
    assert_eq!(keys(&out), ["C1", "C2"]);
    assert!(out.review.is_empty());
}

#[test]
fn several_ids_on_one_test_give_one_result_per_case() {
    let cases = [case("k", "[C1, C2] checkout", Status::Failed)];
    let out = run(&cases, &MatchingConfig::default(), Target::Testrail);
    assert_eq!(keys(&out), ["C1", "C2"]);
    assert!(
        out.matched
            .iter()
            .all(|m| m.status == Status::Failed && m.members.len() == 1)
    );
}

#[test]
fn properties_are_read_by_configured_names() {
    let cases = [
        with_prop(case("k", "a", Status::Passed), "testrail_case_id", "C11"),
        with_prop(case("k", "b", Status::Passed), "test_key", "12, C13"),
        with_prop(case("k", "c", Status::Passed), "tr", "C14"),
    ];
    let out = run(&cases, &MatchingConfig::default(), Target::Testrail);
    assert_eq!(keys(&out), ["C11", "C12", "C13"]);
    assert_eq!(out.review.len(), 1);
    let config = MatchingConfig {
        properties: vec!["tr".into()],
        ..MatchingConfig::default()
    };
    assert_eq!(keys(&run(&cases[2..], &config, Target::Testrail)), ["C14"]);
}

#[test]
fn rally_and_qtest_keys() {
    let cases = [
        case("k", "TC12 login", Status::Passed),
        with_prop(case("k", "x", Status::Passed), "test_id", "tc13"),
    ];
    assert_eq!(
        keys(&run(&cases, &MatchingConfig::default(), Target::Rally)),
        ["TC12", "TC13"]
    );
    let cases = [
        case("com.acme.A", "[TC-4] works", Status::Passed),
        case("com.acme.A", "other", Status::Passed),
    ];
    let out = run(&cases, &MatchingConfig::default(), Target::Qtest);
    // qTest: a PID where one is written, else the automation id is the key.
    assert_eq!(keys(&out), ["TC-4", "com.acme.A.other"]);
    assert!(out.review.is_empty());
}

#[test]
fn automation_ids_resolve_through_the_ref_cache() {
    let mut cache = RefCache::default();
    cache
        .automation_ids
        .insert("com.acme.A.works".into(), "C77".into());
    let cases = [
        case("com.acme.A", "works", Status::Passed),
        case("com.acme.A", "unknown", Status::Passed),
    ];
    let config = MatchingConfig {
        sources: vec![Source::AutomationId],
        ..MatchingConfig::default()
    };
    let out = match_cases(&cases, &config, Target::Testrail, &cache);
    assert_eq!(keys(&out), ["C77"]);
    assert_eq!(out.review.len(), 1);
    assert_eq!(out.review[0].reason, ReviewReason::NotInCache);
    assert!(out.review[0].detail.contains("com.acme.A.unknown"));
}

#[test]
fn unmatched_tests_go_to_review_with_the_reason() {
    let cases = [
        case("k", "no id here", Status::Failed),
        with_prop(case("k", "bad id", Status::Passed), "test_id", "C12x"),
    ];
    let out = run(&cases, &MatchingConfig::default(), Target::Testrail);
    assert!(out.matched.is_empty());
    assert_eq!(out.review.len(), 2);
    assert_eq!(out.review[0].reason, ReviewReason::NoCaseId);
    assert_eq!(out.review[0].test, "k.no id here");
    assert!(
        out.review[0]
            .detail
            .contains("looked at: mapping, name, property, automation_id")
    );
    assert_eq!(out.review[1].reason, ReviewReason::InvalidId);
    assert!(
        out.review[1]
            .detail
            .contains("property test_id: \"C12x\" is not"),
        "{}",
        out.review[1].detail
    );
}

fn param_cases() -> Vec<TestCase> {
    vec![
        took(case("k", "C1 sum[1]", Status::Passed), 1_000_000),
        took(
            failing(
                case("k", "C1 sum[2]", Status::Failed),
                "expected 3 got 4",
                "at sum",
            ),
            2_000_000,
        ),
        took(case("k", "C1 sum[3]", Status::Skipped), 500_000),
    ]
}

#[test]
fn aggregate_worst_keeps_every_message_and_sums_durations() {
    let out = run(&param_cases(), &MatchingConfig::default(), Target::Testrail);
    assert_eq!(out.matched.len(), 1);
    let m = &out.matched[0];
    assert_eq!(m.status, Status::Failed);
    assert_eq!(m.duration_us, Some(3_500_000));
    assert_eq!(m.members.len(), 3);
    assert_eq!(
        m.message.as_deref(),
        Some(
            "3 results aggregated (worst: failed)\n- k.C1 sum[1]: passed\n- k.C1 sum[2]: failed: expected 3 got 4\n- k.C1 sum[3]: skipped"
        )
    );
}

#[test]
fn aggregate_first_last_and_each() {
    for (rule, want) in [
        (Aggregate::First, Status::Passed),
        (Aggregate::Last, Status::Skipped),
    ] {
        let config = MatchingConfig {
            aggregate: rule,
            ..MatchingConfig::default()
        };
        let out = run(&param_cases(), &config, Target::Testrail);
        assert_eq!(out.matched.len(), 1);
        assert_eq!(out.matched[0].status, want, "{rule:?}");
        assert!(
            out.matched[0]
                .message
                .as_deref()
                .unwrap()
                .contains("expected 3 got 4")
        );
    }
    let config = MatchingConfig {
        aggregate: Aggregate::Each,
        ..MatchingConfig::default()
    };
    let out = run(&param_cases(), &config, Target::Testrail);
    let statuses: Vec<Status> = out.matched.iter().map(|m| m.status).collect();
    assert_eq!(statuses, [Status::Passed, Status::Failed, Status::Skipped]);
}

#[test]
fn results_keep_the_order_of_each_cases_first_test() {
    let cases = [
        case("k", "C3 a", Status::Passed),
        case("k", "C1 b", Status::Passed),
        case("k", "C3 c", Status::Failed),
    ];
    let out = run(&cases, &MatchingConfig::default(), Target::Testrail);
    assert_eq!(keys(&out), ["C3", "C1"]);
    assert_eq!(out.matched[0].status, Status::Failed);
}

#[test]
fn config_validation() {
    let dup = MatchingConfig {
        sources: vec![Source::Name, Source::Name],
        ..MatchingConfig::default()
    };
    assert!(dup.validate(None).unwrap_err().message.contains("twice"));
    let empty = MatchingConfig {
        sources: vec![],
        ..MatchingConfig::default()
    };
    assert!(
        empty
            .validate(None)
            .unwrap_err()
            .hint
            .unwrap()
            .contains("automation_id")
    );
    let mut bad = MatchingConfig::default();
    bad.mapping.insert("a".into(), CaseIds::One("US1".into()));
    let e = bad.validate(Some(Target::Rally)).unwrap_err();
    assert!(e.message.contains("TC123"), "{}", e.message);
}

fn arb_status() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.to_vec())
}

proptest! {
    /// No test is ever dropped: every test is a member of a result or on the review list.
    #[test]
    fn every_test_is_accounted_for(
        specs in prop::collection::vec(("(C[0-9]{1,2} )?[a-z]{1,6}", arb_status()), 0..30),
        rule in prop::sample::select(vec![Aggregate::Worst, Aggregate::Last, Aggregate::First, Aggregate::Each]),
    ) {
        let cases: Vec<TestCase> = specs.iter().map(|(n, s)| case("k", n, *s)).collect();
        let config = MatchingConfig { aggregate: rule, ..MatchingConfig::default() };
        let out = run(&cases, &config, Target::Testrail);
        let mut seen: Vec<u64> = out.matched.iter().flat_map(|m| m.members.iter().map(|x| x.index)).collect();
        seen.extend(out.review.iter().map(|r| r.index));
        seen.sort_unstable();
        seen.dedup();
        prop_assert_eq!(seen, (0..cases.len() as u64).collect::<Vec<_>>());
        for m in &out.matched {
            if rule == Aggregate::Worst {
                prop_assert_eq!(Some(m.status), m.members.iter().map(|x| x.status).max());
            }
        }
    }
}

/// Every well-formed report of the corpus, in every dialect, through the three plan
/// builders: no test is lost, and the JSON holds no float.
#[test]
fn corpus_reports_become_plans_without_losing_a_test() {
    use crate::config::{Config, RunContext};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/junit");
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "xml") {
                files.push(p);
            }
        }
    }
    files.sort();
    let config =
        Config::from_json(br#"{"qtest": {"test_cycle": "CL-1"}, "testrail": {"section_id": 5}}"#)
            .unwrap();
    let ctx = RunContext {
        now: "2024-05-01T10:00:00Z".into(),
        pipeline_id: Some("1".into()),
        ..RunContext::default()
    };
    let mut cache = RefCache::default();
    let mut reports = 0;
    for file in &files {
        let Ok(report) = crate::junit::parse(&std::fs::read(file).unwrap()) else {
            continue;
        };
        reports += 1;
        let cases: Vec<TestCase> = report.cases().into_iter().cloned().collect();
        let n = cases.len();
        // Distinct tests seen in a plan: a test with several ids is in several results.
        let counted = |summary: &[ResultLine], review: &[ReviewItem], extra: &[u64]| {
            let mut seen: Vec<u64> = summary
                .iter()
                .flat_map(|l| l.indexes.iter().copied())
                .collect();
            seen.extend(review.iter().map(|r| r.index));
            seen.extend(extra);
            seen.sort_unstable();
            seen.dedup();
            seen.len()
        };
        // Rally: make every FormattedID found resolvable, to see the full bodies.
        for m in match_cases(&cases, &config.matching, Target::Rally, &cache).matched {
            cache
                .rally_test_cases
                .insert(m.key.clone(), format!("/testcase/{}", m.key));
        }
        let tr = crate::testrail::plan(&config, &cases, &ctx, &cache).unwrap();
        let created: Vec<u64> = tr
            .add_cases
            .iter()
            .flat_map(|c| c.indexes.iter().copied())
            .collect();
        assert_eq!(
            counted(&tr.summary, &tr.review, &created),
            n,
            "testrail {}",
            file.display()
        );
        let ra = crate::rally::payload::plan(&config, &cases, &ctx, &cache).unwrap();
        assert_eq!(
            counted(&ra.summary, &ra.review, &[]),
            n,
            "rally {}",
            file.display()
        );
        let qt = crate::qtest::plan(&config, &cases, &ctx, &cache).unwrap();
        assert_eq!(
            counted(&qt.summary, &qt.review, &[]),
            n,
            "qtest {}",
            file.display()
        );
        assert!(
            qt.review.iter().all(|r| r.test.is_empty()),
            "qTest matches every named test by its automation id: {} {:?}",
            file.display(),
            qt.review
        );
        for json in [
            serde_json::to_value(&tr).unwrap(),
            serde_json::to_value(&ra).unwrap(),
            serde_json::to_value(&qt).unwrap(),
        ] {
            assert_no_float(&json, file);
        }
    }
    assert!(reports > 100, "only {reports} corpus reports read");
}

fn assert_no_float(v: &serde_json::Value, file: &std::path::Path) {
    match v {
        serde_json::Value::Number(n) => {
            assert!(n.is_u64() || n.is_i64(), "float {n} in {}", file.display())
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| assert_no_float(x, file)),
        serde_json::Value::Object(o) => o.values().for_each(|x| assert_no_float(x, file)),
        _ => {}
    }
}
