use super::*;
use crate::config::ArtifactInfo;
use crate::matching::testutil::{case, failing, took};
use crate::model::Status;

fn ctx() -> RunContext {
    RunContext {
        now: "2024-05-01T10:00:00Z".into(),
        pipeline_id: Some("981".into()),
        job_url: Some("https://gitlab.example.com/g/p/-/jobs/55".into()),
        sprint: Some("14".into()),
        artifacts: vec![
            ArtifactInfo {
                path: "shots/fail.png".into(),
                size: Some(2048),
                ..Default::default()
            },
            ArtifactInfo {
                path: "video/fail.webm".into(),
                size: Some(8 * 1024 * 1024),
                ..Default::default()
            },
        ],
        ..RunContext::default()
    }
}

fn cache() -> RefCache {
    let mut c = RefCache::default();
    c.rally_test_cases
        .insert("TC1".into(), "/testcase/1001".into());
    c.rally_test_cases
        .insert("TC2".into(), "/testcase/1002".into());
    c
}

fn tests() -> Vec<TestCase> {
    let mut failed = took(
        failing(
            case("web.Checkout", "TC2 pays <by> card", Status::Failed),
            "total was 0",
            "at pay()",
        ),
        2_345_000,
    );
    failed.attachments = vec!["shots/fail.png".into(), "video/fail.webm".into()];
    let mut dated = took(case("web.Login", "TC1 logs in", Status::Passed), 1_000_000);
    dated.timestamp = Some("2024-04-30T08:15:00".into());
    vec![
        dated,
        failed,
        case("web.Login", "TC3 logs out", Status::Error),
    ]
}

fn config(json: &str) -> Config {
    Config::from_json(json.as_bytes()).unwrap()
}

#[test]
fn test_case_result_bodies_are_exact() {
    let c = config(r#"{"rally": {"tester": "/user/9", "workspace": "/workspace/3"}}"#);
    let mut cache = cache();
    cache
        .rally_test_sets
        .insert("Sprint-14-Automated-Tests".into(), "/testset/77".into());
    let plan = plan(&c, &tests(), &ctx(), &cache).unwrap();
    assert_eq!(plan.results.len(), 2);
    let passed = serde_json::to_value(&plan.results[0].body).unwrap();
    assert_eq!(
        passed,
        serde_json::json!({"TestCaseResult": {
            "TestCase": "/testcase/1001", "Build": "GitLab-981", "Verdict": "Pass",
            "Date": "2024-04-30T08:15:00.000Z", "Duration": "1",
            "Notes": "<a href=\"https://gitlab.example.com/g/p/-/jobs/55\">CI job</a>",
            "Tester": "/user/9", "TestSet": "/testset/77", "Workspace": "/workspace/3"}})
    );
    let failed = &plan.results[1].body.test_case_result;
    assert_eq!(failed.verdict, "Fail");
    assert_eq!(
        failed.date, "2024-05-01T10:00:00.000Z",
        "no test timestamp: the run time"
    );
    assert_eq!(failed.duration.as_deref(), Some("2.345"));
    let notes = failed.notes.as_deref().unwrap();
    assert!(
        notes.starts_with("total was 0<br/><br/>at pay()<br/><br/>"),
        "{notes}"
    );
    assert!(notes.contains(
        "Artifact: <a href=\"https://gitlab.example.com/g/p/-/jobs/55/artifacts/file/video/fail.webm\">fail.webm (8.0 MB)</a>"
    ));
    assert_eq!(
        plan.results[1].attachments.uploads[0].path,
        "shots/fail.png"
    );
    assert_eq!(
        plan.test_set.unwrap().reference.as_deref(),
        Some("/testset/77")
    );
}

#[test]
fn unknown_formatted_ids_become_lookups() {
    let plan = plan(&Config::default(), &tests(), &ctx(), &cache()).unwrap();
    assert_eq!(plan.lookups, ["TC3"]);
    assert_eq!(plan.summary.len(), 3);
    assert_eq!(plan.summary[2].target_status, "Error");
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.code == "rally.lookups_needed")
    );
    let set = plan.test_set.unwrap();
    assert_eq!(set.name, "Sprint-14-Automated-Tests");
    assert!(set.create.is_some() && set.reference.is_none());
    assert_eq!(plan.results[0].body.test_case_result.test_set, None);
}

#[test]
fn no_sprint_means_no_test_set_and_a_warning() {
    let mut cx = ctx();
    cx.sprint = None;
    let plan = plan(&Config::default(), &tests(), &cx, &cache()).unwrap();
    assert!(plan.test_set.is_none());
    assert!(plan.warnings.iter().any(|w| w.code == "rally.no_sprint"));
    // A template the user wrote must render.
    let c = config(r#"{"rally": {"test_set": "Release {var.release}"}}"#);
    let e = super::plan(&c, &tests(), &cx, &cache()).unwrap_err();
    assert!(e.message.contains("{var.release}"));
}

#[test]
fn build_needs_its_values() {
    let mut cx = ctx();
    cx.pipeline_id = None;
    let e = plan(&Config::default(), &tests(), &cx, &cache()).unwrap_err();
    assert_eq!(e.code, "template.missing_value");
    assert!(e.hint.unwrap().contains("--var pipeline_id="));
}

#[test]
fn workspace_verdicts_and_limits_are_checked() {
    let c = config(r#"{"rally": {"allowed_verdicts": ["Pass", "Fail"]}}"#);
    let e = plan(&c, &tests(), &ctx(), &cache()).unwrap_err();
    assert!(e.message.contains("rally.statuses"), "{}", e.message);
    let c = config(r#"{"rally": {"inline_attachment_max_bytes": 60000000}}"#);
    let e = plan(&c, &tests(), &ctx(), &cache()).unwrap_err();
    assert!(
        e.message.contains("`rally.inline_attachment_max_bytes`") && e.message.contains("52428800")
    );
    let c = config(r#"{"rally": {"tester": "jane"}}"#);
    assert!(
        plan(&c, &tests(), &ctx(), &cache())
            .unwrap_err()
            .message
            .contains("/tester/12345")
    );
}

#[test]
fn durations_in_either_unit() {
    assert_eq!(
        duration_text(Some(2_345_600), DurationUnit::Seconds).as_deref(),
        Some("2.346")
    );
    assert_eq!(
        duration_text(Some(2_000_000), DurationUnit::Seconds).as_deref(),
        Some("2")
    );
    assert_eq!(
        duration_text(Some(100), DurationUnit::Seconds).as_deref(),
        Some("0")
    );
    assert_eq!(
        duration_text(Some(2_345_600), DurationUnit::Milliseconds).as_deref(),
        Some("2346")
    );
    assert_eq!(duration_text(None, DurationUnit::Seconds), None);
}

#[test]
fn notes_stay_within_the_limit_and_escape_html() {
    let mut t = tests();
    t[1].message = Some("<b>".repeat(5000));
    let c = config(r#"{"rally": {"notes_max_chars": 500}}"#);
    let plan = plan(&c, &t, &ctx(), &cache()).unwrap();
    let notes = plan.results[1].body.test_case_result.notes.clone().unwrap();
    // Room is left for the line a publish adds to recognise the result later.
    assert!(
        notes.chars().count() + NOTES_RESERVED_CHARS <= 500,
        "{}",
        notes.chars().count()
    );
    assert!(notes.contains("[truncated]"));
    assert!(!notes.contains("<b>"));
    assert!(
        notes.ends_with("(8.0 MB)</a>"),
        "links survive the cut: {notes}"
    );
}
