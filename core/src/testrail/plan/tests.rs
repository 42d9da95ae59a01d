use super::*;
use crate::matching::testutil::{case, failing, took, with_prop};
use crate::model::Status;

fn ctx() -> RunContext {
    RunContext {
        now: "2024-05-01T10:00:00Z".into(),
        pipeline_id: Some("981".into()),
        job_url: Some("https://gitlab.example.com/g/p/-/jobs/55".into()),
        ..RunContext::default()
    }
}

fn config(json: &str) -> Config {
    Config::from_json(json.as_bytes()).unwrap()
}

fn tests() -> Vec<TestCase> {
    vec![
        took(
            case("com.acme.Login", "C101 logs in", Status::Passed),
            1_250_000,
        ),
        took(
            failing(
                case(
                    "com.acme.Login",
                    "C102 rejects bad password",
                    Status::Failed,
                ),
                "expected 401",
                "at Login.java:42",
            ),
            65_000_000,
        ),
        with_prop(
            case("com.acme.Cart", "adds item", Status::Skipped),
            "defects",
            "BUG-1",
        ),
    ]
}

#[test]
fn add_results_for_cases_body_is_exact() {
    let c = config(r#"{"testrail": {"run_id": "R7", "version": "build-{pipeline_id}"}}"#);
    let plan = plan(&c, &tests(), &ctx(), &RefCache::default()).unwrap();
    assert_eq!(plan.run_id, Some(7));
    let body = serde_json::to_value(plan.add_results_for_cases.unwrap()).unwrap();
    let want = serde_json::json!({"results": [
        {"case_id": 101, "status_id": 1, "comment": "CI job: https://gitlab.example.com/g/p/-/jobs/55",
         "elapsed": "1s", "version": "build-981", "defects": null},
        {"case_id": 102, "status_id": 5,
         "comment": "expected 401\n\nat Login.java:42\n\nCI job: https://gitlab.example.com/g/p/-/jobs/55",
         "elapsed": "1m 5s", "version": "build-981", "defects": null}
    ]});
    assert_eq!(body, want);
    assert_eq!(plan.summary.len(), 2);
    assert_eq!(plan.summary[1].target_status, "5");
}

#[test]
fn tests_without_a_case_become_new_cases_in_the_section() {
    let c = config(
        r#"{"testrail": {"suite_id": "S3", "section_id": 44,
            "case_fields": {"owner": "{property.owner}", "priority_id": 2}}}"#,
    );
    let mut t = tests();
    t[2] = with_prop(t[2].clone(), "owner", "qa-team");
    t.push(case("com.acme.Cart", "adds item", Status::Passed));
    let plan = plan(&c, &t, &ctx(), &RefCache::default()).unwrap();
    assert!(plan.review.is_empty(), "{:?}", plan.review);
    assert_eq!(plan.add_cases.len(), 1, "same automation id, one case");
    let new = &plan.add_cases[0];
    assert_eq!(new.indexes, [2, 3]);
    assert_eq!(new.section_id, 44);
    assert_eq!(
        serde_json::to_value(&new.body).unwrap(),
        serde_json::json!({"title": "adds item", "custom_automation_id": "com.acme.Cart.adds item",
                           "custom_owner": "qa-team", "priority_id": 2})
    );
}

#[test]
fn toggles_turn_parts_of_the_export_off() {
    let off = plan(
        &config(r#"{"testrail": {"export": false}}"#),
        &tests(),
        &ctx(),
        &RefCache::default(),
    )
    .unwrap();
    assert!(!off.enabled);
    assert!(
        off.add_results_for_cases.is_none() && off.add_cases.is_empty() && off.summary.is_empty()
    );
    assert!(
        off.warnings
            .iter()
            .any(|w| w.code == "testrail.export_disabled")
    );

    let no_results = plan(
        &config(r#"{"testrail": {"export_results": false, "section_id": 1}}"#),
        &tests(),
        &ctx(),
        &RefCache::default(),
    )
    .unwrap();
    assert!(no_results.add_results_for_cases.is_none());
    assert_eq!(no_results.add_cases.len(), 1);

    let no_create = plan(
        &config(r#"{"testrail": {"create_cases": false, "section_id": 1}}"#),
        &tests(),
        &ctx(),
        &RefCache::default(),
    )
    .unwrap();
    assert!(no_create.add_cases.is_empty());
    assert_eq!(no_create.review.len(), 1);
}

#[test]
fn statuses_defects_custom_fields_and_milliseconds() {
    let c = config(
        r#"{"testrail": {"allow_ms": true, "statuses": {"skipped": "blocked"},
            "result_fields": {"custom_branch": "{ref}", "custom_flag": true}},
            "matching": {"mapping": {"com.acme.Cart.adds item": "C103"}}}"#,
    );
    let mut cx = ctx();
    cx.ref_name = Some("main".into());
    let plan = plan(&c, &tests(), &cx, &RefCache::default()).unwrap();
    let results = plan.add_results_for_cases.unwrap().results;
    assert_eq!(results[0].elapsed.as_deref(), Some("1.25s"));
    let cart = &results[2];
    assert_eq!((cart.case_id, cart.status_id), (103, 2));
    assert_eq!(cart.defects.as_deref(), Some("BUG-1"));
    let json = serde_json::to_value(cart).unwrap();
    assert_eq!(json["custom_branch"], "main");
    assert_eq!(json["custom_flag"], true);
    assert_eq!(json["elapsed"], serde_json::Value::Null);
}

#[test]
fn untested_status_is_refused_in_the_config() {
    let e = plan(
        &config(r#"{"testrail": {"statuses": {"skipped": 3}}}"#),
        &tests(),
        &ctx(),
        &RefCache::default(),
    )
    .unwrap_err();
    assert_eq!(e.code, "config.invalid_status");
    assert!(e.message.contains("Untested"));
}

#[test]
fn missing_template_values_are_named() {
    let e = plan(
        &config(r#"{"testrail": {"version": "{sprint}"}}"#),
        &tests(),
        &ctx(),
        &RefCache::default(),
    )
    .unwrap_err();
    assert_eq!(e.code, "template.missing_value");
    assert!(e.message.contains("{sprint}"));
}

#[test]
fn steps_of_a_case_become_step_results() {
    use crate::matching::testutil::with_steps;
    let c = config(r#"{"testrail": {"run_id": "R7"}}"#);
    let cases = vec![with_steps(case(
        "shop.Checkout",
        "C301 pays",
        Status::Failed,
    ))];
    let stepped = plan(&c, &cases, &ctx(), &RefCache::default()).unwrap();
    let body = serde_json::to_value(stepped.add_results_for_cases.unwrap()).unwrap();
    assert_eq!(
        body["results"][0]["custom_step_results"],
        serde_json::json!([
            {"content": "Given a basket", "expected": "passes", "actual": "passed", "status_id": 1},
            {"content": "Then it is paid", "expected": "passes", "actual": "declined", "status_id": 5}
        ])
    );
    // A case without steps keeps the body it always had.
    let plain = plan(&c, &tests(), &ctx(), &RefCache::default()).unwrap();
    let body = serde_json::to_value(plain.add_results_for_cases.unwrap()).unwrap();
    assert!(body["results"][0].get("custom_step_results").is_none());
}
