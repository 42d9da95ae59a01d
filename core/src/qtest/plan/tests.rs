use super::*;
use crate::matching::testutil::{case, failing, took, with_prop};
use crate::model::Status;

fn ctx() -> RunContext {
    RunContext {
        now: "2024-05-01T10:00:00Z".into(),
        job_id: Some("55".into()),
        job_name: Some("e2e:chrome".into()),
        job_url: Some("https://gitlab.example.com/g/p/-/jobs/55".into()),
        ..RunContext::default()
    }
}

fn config(json: &str) -> Config {
    Config::from_json(json.as_bytes()).unwrap()
}

fn tests() -> Vec<TestCase> {
    let mut login = took(
        case("com.acme.LoginTest", "logsIn", Status::Passed),
        1_500_000,
    );
    login.suite = vec!["e2e".into(), "login".into()];
    login = with_prop(login, "browser", "chrome");
    let mut bad = took(
        failing(
            case("com.acme.LoginTest", "rejects", Status::Failed),
            "expected 401",
            "at rejects()",
        ),
        2_000_000,
    );
    bad.suite = vec!["e2e".into(), "login".into()];
    bad.timestamp = Some("2024-05-01T09:00:00Z".into());
    vec![login, bad]
}

#[test]
fn auto_test_logs_body_is_exact() {
    let c = config(
        r#"{"qtest": {"test_cycle": "CL-12", "parent_module": "Automation", "run_fields": {"501": "{property.browser}"}}}"#,
    );
    let mut cache = RefCache::default();
    cache
        .qtest_cycles
        .insert("e2e:chrome #55".into(), "CL-40".into());
    let plan = plan(&c, &tests(), &ctx(), &cache).unwrap();
    assert_eq!(plan.cycle.name, "e2e:chrome #55");
    assert_eq!(plan.cycle.parent, "CL-12");
    assert!(plan.cycle.create.is_none());
    let body = serde_json::to_value(&plan.body).unwrap();
    assert_eq!(body["test_cycle"], "CL-40");
    assert_eq!(
        body["test_logs"][0],
        serde_json::json!({
            "name": "logsIn", "status": "PASS",
            "exe_start_date": "2024-05-01T09:59:58.500Z", "exe_end_date": "2024-05-01T10:00:00.000Z",
            "automation_content": "com.acme.LoginTest.logsIn",
            "module_names": ["Automation", "e2e", "login", "chrome"],
            "note": "CI job: https://gitlab.example.com/g/p/-/jobs/55",
            "test_step_logs": [], "attachments": [],
            "properties": [{"field_id": 501, "field_value": "chrome"}]
        })
    );
    let failed = &plan.body.test_logs[1];
    assert_eq!(failed.status, "FAIL");
    assert_eq!(
        (failed.exe_start_date.as_str(), failed.exe_end_date.as_str()),
        ("2024-05-01T09:00:00.000Z", "2024-05-01T09:00:02.000Z")
    );
    assert_eq!(failed.module_names, ["Automation", "e2e", "login"]);
    assert_eq!(failed.attachments.len(), 1);
    assert_eq!(failed.attachments[0].name, "rejects.txt");
    // base64 of "expected 401\n\nat rejects()".
    assert_eq!(
        failed.attachments[0].data,
        "ZXhwZWN0ZWQgNDAxCgphdCByZWplY3RzKCk="
    );
    assert_eq!(failed.properties[0].field_value, "");
}

#[test]
fn unknown_cycles_are_planned_for_creation() {
    let c = config(r#"{"qtest": {"test_cycle": 3295940, "description_field_id": 77}}"#);
    let mut cx = ctx();
    cx.report_url = Some("https://ci.example.com/report.html".into());
    let plan = plan(&c, &tests(), &cx, &RefCache::default()).unwrap();
    assert_eq!(plan.body.test_cycle, None);
    let create = plan.cycle.create.unwrap();
    assert_eq!(create.name, "e2e:chrome #55");
    assert!(
        create
            .description
            .contains("<a href=\"https://gitlab.example.com/g/p/-/jobs/55\">CI job</a>")
    );
    let prop = plan.body.test_logs[0].properties.last().unwrap();
    assert_eq!(prop.field_id, 77);
    assert_eq!(
        prop.field_value,
        "<a href=\"https://ci.example.com/report.html\">CI test report</a>"
    );
}

#[test]
fn results_without_a_job_go_to_the_jobless_cycle() {
    let c = config(r#"{"qtest": {"test_cycle": "CL-1"}}"#);
    let cx = RunContext {
        now: "2024-05-01T10:00:00Z".into(),
        ..RunContext::default()
    };
    let plan = plan(&c, &tests(), &cx, &RefCache::default()).unwrap();
    assert_eq!(plan.cycle.name, "Jobless Executions");
    assert!(plan.cycle.create.unwrap().description.contains("no CI job"));
}

#[test]
fn aggregated_results_list_each_test_as_a_step() {
    let c = config(
        r#"{"qtest": {"test_cycle": "CL-1", "module_path": "classname"},
                      "matching": {"mapping": {"com.acme.LoginTest.logsIn": "login-suite",
                                               "com.acme.LoginTest.rejects": "login-suite"}}}"#,
    );
    let plan = plan(&c, &tests(), &ctx(), &RefCache::default()).unwrap();
    assert_eq!(plan.body.test_logs.len(), 1);
    let log = &plan.body.test_logs[0];
    assert_eq!(log.automation_content, "login-suite");
    assert_eq!(log.status, "FAIL");
    assert_eq!(log.module_names, ["com", "acme", "LoginTest", "chrome"]);
    let steps: Vec<(u64, &str, &str)> = log
        .test_step_logs
        .iter()
        .map(|s| (s.order, s.description.as_str(), s.status.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (1, "com.acme.LoginTest.logsIn", "PASS"),
            (2, "com.acme.LoginTest.rejects", "FAIL")
        ]
    );
    assert_eq!(log.test_step_logs[1].actual_result, "expected 401");
}

#[test]
fn the_root_cycle_is_required() {
    let e = plan(&Config::default(), &tests(), &ctx(), &RefCache::default()).unwrap_err();
    assert!(e.message.contains("`qtest.test_cycle`"));
}

#[test]
fn lost_outcomes_are_warned_about() {
    let c = config(
        r#"{"qtest": {"test_cycle": "CL-1", "statuses": {"failed": "PASS", "error": "PASS"}}}"#,
    );
    let plan = plan(&c, &tests(), &ctx(), &RefCache::default()).unwrap();
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.code == "status.qtest_status_lost" && w.message.contains("FAIL"))
    );
}

#[test]
fn a_job_known_by_id_only_still_gets_its_cycle() {
    let c = config(r#"{"qtest": {"test_cycle": "CL-1"}}"#);
    let mut cx = ctx();
    cx.job_name = None;
    let plan = plan(&c, &tests(), &cx, &RefCache::default()).unwrap();
    assert_eq!(plan.cycle.name, "Job #55");
    let c = config(r#"{"qtest": {"test_cycle": "CL-1", "cycle_name": "{job_name}"}}"#);
    let e = super::plan(&c, &tests(), &cx, &RefCache::default()).unwrap_err();
    assert_eq!(e.code, "template.missing_value");
}

#[test]
fn steps_of_a_case_become_test_step_logs() {
    use crate::matching::testutil::with_steps;
    let c = config(r#"{"qtest": {"test_cycle": "CL-1"}}"#);
    let cases = vec![with_steps(case("shop.Checkout", "pays", Status::Failed))];
    let plan = plan(&c, &cases, &ctx(), &RefCache::default()).unwrap();
    let steps: Vec<(u64, &str, &str, &str)> = plan.body.test_logs[0]
        .test_step_logs
        .iter()
        .map(|s| {
            (
                s.order,
                s.description.as_str(),
                s.actual_result.as_str(),
                s.status.as_str(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (1, "Given a basket", "passed", "PASS"),
            (2, "Then it is paid", "declined", "FAIL")
        ]
    );
}
