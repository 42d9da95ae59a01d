use super::*;
use proptest::prelude::*;

const PLAYGROUND: &[u8] =
    include_bytes!("../../../../tests/fixtures/gitlab/pipeline-hook-go-playground.json");
const GITLAB4J: &[u8] =
    include_bytes!("../../../../tests/fixtures/gitlab/pipeline-hook-gitlab4j.json");
const GO_GITLAB: &[u8] = include_bytes!(
    "../../../../tests/fixtures/gitlab/pipeline-hook-success-with-builds-go-gitlab.json"
);
const JOB_HOOK: &[u8] = include_bytes!("../../../../tests/fixtures/gitlab/job-hook-go-gitlab.json");

#[test]
fn reads_the_gitlab_docs_style_hook() {
    let e = parse_pipeline_event(PLAYGROUND).unwrap();
    assert_eq!(e.pipeline_id, 31);
    assert_eq!(e.iid, Some(3));
    assert_eq!(e.name.as_deref(), Some("pipeline_name"));
    assert_eq!(e.ref_name, "master");
    assert!(!e.tag);
    assert_eq!(e.sha, "bcbb5ec396a2c0f828686f14fac9b80b780504f2");
    assert_eq!(e.status, "success");
    assert_eq!(e.source.as_deref(), Some("merge_request_event"));
    assert_eq!(e.stages, ["build", "test", "deploy"]);
    // "2016-08-12 15:23:28 UTC" → RFC 3339.
    assert_eq!(e.created_at.as_deref(), Some("2016-08-12T15:23:28Z"));
    assert_eq!(e.finished_at.as_deref(), Some("2016-08-12T15:26:29Z"));
    assert_eq!(e.duration_us, Some(63_000_000));
    assert_eq!(
        e.url.as_deref(),
        Some("http://192.168.64.1:3005/gitlab-org/gitlab-test/-/pipelines/31")
    );
    assert_eq!(e.user.as_deref(), Some("root"));
    assert_eq!(e.merge_request.as_ref().map(|m| m.iid), Some(1));
    let p = e.project.as_ref().unwrap();
    assert_eq!(
        p.path_with_namespace.as_deref(),
        Some("gitlab-org/gitlab-test")
    );
    let ids: Vec<u64> = e.jobs.iter().map(|j| j.id).collect();
    assert_eq!(ids, [376, 377, 378, 379, 380]);
    let test_build = e.jobs.iter().find(|j| j.id == 378).unwrap();
    assert_eq!(test_build.name, "test-build");
    assert_eq!(test_build.stage.as_deref(), Some("test"));
    assert_eq!(
        test_build.started_at.as_deref(),
        Some("2016-08-12T15:26:12Z")
    );
    assert_eq!(
        test_build.url.as_deref(),
        Some("http://192.168.64.1:3005/gitlab-org/gitlab-test/-/jobs/378")
    );
    let manual = e.jobs.iter().find(|j| j.id == 380).unwrap();
    assert!(manual.manual && manual.finished_at.is_none());
}

#[test]
fn reads_iso_timestamps_and_decimal_durations() {
    let e = parse_pipeline_event(GITLAB4J).unwrap();
    assert_eq!(e.created_at.as_deref(), Some("2016-08-12T15:23:28Z"));
    assert_eq!(e.queued_duration_us, Some(10_000));
    assert_eq!(
        e.url.as_deref(),
        Some("http://example.com/gitlab-org/gitlab-test/-/pipelines/31")
    );
    assert_eq!(
        e.jobs
            .iter()
            .find(|j| j.id == 378)
            .map(|j| j.status.as_str()),
        Some("failed")
    );
    let e = parse_pipeline_event(GO_GITLAB).unwrap();
    assert_eq!(e.iid, Some(123));
    assert_eq!(e.detailed_status.as_deref(), Some("passed"));
    assert_eq!(e.queued_duration_us, Some(12_000_000));
}

#[test]
fn other_events_and_garbage_are_refused() {
    let e = parse_pipeline_event(JOB_HOOK).unwrap_err();
    assert_eq!(e.code, "gitlab.not_a_pipeline_event");
    assert!(e.message.contains("\"build\""), "{}", e.message);
    let e = parse_pipeline_event(b"{\n  \"object_kind\": \"pipeline\",\n  oops\n}").unwrap_err();
    assert_eq!(e.code, "gitlab.malformed_json");
    assert_eq!(e.location.map(|l| (l.line, l.column)), Some((3, 3)));
    let e = parse_pipeline_event(br#"{"object_kind": "pipeline"}"#).unwrap_err();
    assert_eq!(e.code, "gitlab.invalid_event");
    let e = parse_pipeline_event(br#"{"object_kind": "pipeline", "object_attributes": {"id": 1, "status": "success", "created_at": "yesterday"}}"#)
        .unwrap_err();
    assert!(
        e.message.contains("object_attributes.created_at"),
        "{}",
        e.message
    );
}

#[test]
fn finished_pipelines_with_test_jobs_are_processed() {
    let e = parse_pipeline_event(PLAYGROUND).unwrap();
    let d = decide(&e, &GitlabConfig::default());
    assert!(d.process, "{}", d.reason);
    assert_eq!(d.jobs, [376, 377, 378]);
    let only_tests = GitlabConfig {
        test_stages: vec!["test".into()],
        ..GitlabConfig::default()
    };
    assert_eq!(decide(&e, &only_tests).jobs, [377, 378]);
}

fn with_status(status: &str) -> PipelineEvent {
    let text = String::from_utf8_lossy(PLAYGROUND).replace(
        "\"status\": \"success\",\n      \"stages\"",
        &format!("\"status\": \"{status}\",\n      \"stages\""),
    );
    let e = parse_pipeline_event(text.as_bytes()).unwrap();
    assert_eq!(e.status, status);
    e
}

#[test]
fn unfinished_unknown_and_filtered_pipelines_are_ignored() {
    let config = GitlabConfig::default();
    let d = decide(&with_status("running"), &config);
    assert!(
        !d.process && d.reason.contains("not finished"),
        "{}",
        d.reason
    );
    // "failure" is not a status GitLab sends (the Jenkins plugin's samples use it).
    let d = decide(&with_status("failure"), &config);
    assert!(
        !d.process && d.reason.contains("unknown pipeline status \"failure\""),
        "{}",
        d.reason
    );
    let d = decide(&with_status("canceled"), &config);
    assert!(!d.process && d.reason.contains("gitlab.statuses"));
    assert!(decide(&with_status("failed"), &config).process);

    let e = parse_pipeline_event(PLAYGROUND).unwrap();
    let refs = GitlabConfig {
        refs: vec!["main".into(), "release/*".into()],
        ..GitlabConfig::default()
    };
    assert!(!decide(&e, &refs).process);
    let refs = GitlabConfig {
        refs: vec!["mas*".into()],
        ..GitlabConfig::default()
    };
    assert!(decide(&e, &refs).process);
    let sources = GitlabConfig {
        sources: vec!["push".into()],
        ..GitlabConfig::default()
    };
    assert!(decide(&e, &sources).reason.contains("merge_request_event"));
    let stages = GitlabConfig {
        test_stages: vec!["e2e".into()],
        ..GitlabConfig::default()
    };
    assert!(decide(&e, &stages).reason.contains("no job"));
}

proptest! {
    #[test]
    fn never_panics_on_any_body(body in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_pipeline_event(&body);
    }

    #[test]
    fn never_panics_on_odd_values(status in "\\PC{0,12}", id in any::<i64>(), dur in any::<f64>()) {
        let body = serde_json::json!({
            "object_kind": "pipeline",
            "object_attributes": {"id": id, "status": status, "duration": dur, "ref": 5},
            "builds": [{"id": id, "created_at": null}]
        });
        if let Ok(e) = parse_pipeline_event(body.to_string().as_bytes()) {
            let _ = decide(&e, &GitlabConfig::default());
        }
    }
}
