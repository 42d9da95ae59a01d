//! Answers for a dry run of a TestRail session: an instance with the configured
//! project (single suite), the built-in statuses, an automation id field, no cases,
//! runs or results yet. Made-up ids start at 900000 so they stand out.

use crate::sync::protocol::{HttpRequest, HttpResponse, Method};
use serde_json::{Value, json};

const MADE_UP: u64 = 900_000;

/// A plausible answer to `request`, without any I/O. `counter` numbers made-up records.
pub fn answer(request: &HttpRequest, counter: &mut u64) -> HttpResponse {
    let rest = request.url.split_once("/api/v2/").map_or("", |(_, r)| r);
    let path = rest.split('&').next().unwrap_or("");
    let mut parts = path.split('/');
    let method = parts.next().unwrap_or("");
    let id: u64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let mut next = || {
        *counter += 1;
        MADE_UP + *counter
    };
    let body: Value = request
        .body
        .as_deref()
        .and_then(|b| crate::json::from_str(b).ok())
        .unwrap_or(Value::Null);
    let empty = |key: &str| json!({"offset": 0, "limit": 250, "size": 0, "_links": {"next": null, "prev": null}, key: []});
    let v = match (request.method, method) {
        (Method::Get, "get_project") => json!({"id": id, "name": "(dry run)", "suite_mode": 1}),
        (Method::Get, "get_suites") => {
            json!([{"id": MADE_UP, "name": "(dry run)", "project_id": 0}])
        }
        (Method::Get, "get_suite") => json!({"id": id, "name": "(dry run)"}),
        (Method::Get, "get_section") => json!({"id": id, "name": "(dry run)"}),
        (Method::Get, "get_statuses") => json!([
            {"id": 1, "name": "passed", "label": "Passed"}, {"id": 2, "name": "blocked", "label": "Blocked"},
            {"id": 3, "name": "untested", "label": "Untested"}, {"id": 4, "name": "retest", "label": "Retest"},
            {"id": 5, "name": "failed", "label": "Failed"}]),
        (Method::Get, "get_case_fields") => {
            json!([{"system_name": "custom_automation_id", "type_id": 1,
            "configs": [{"context": {"is_global": true, "project_ids": null}, "options": {}}]}])
        }
        (Method::Get, "get_result_fields" | "get_configs" | "get_attachments_for_test") => {
            json!([])
        }
        (Method::Get, "get_cases") => empty("cases"),
        (Method::Get, "get_sections") => empty("sections"),
        (Method::Get, "get_runs") => empty("runs"),
        (Method::Get, "get_tests") => empty("tests"),
        (Method::Get, "get_results_for_run") => empty("results"),
        (Method::Get, "get_plan") => json!({"id": id, "entries": []}),
        (Method::Get, "get_run") => {
            json!({"id": id, "include_all": true, "is_completed": false, "plan_id": null})
        }
        (Method::Post, "add_results_for_cases") => Value::Array(
            body["results"]
                .as_array()
                .map(|rs| {
                    rs.iter()
                        .map(|_| json!({"id": next(), "test_id": next()}))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        (Method::Post, "add_attachment_to_result") => json!({"attachment_id": next()}),
        (Method::Post, "add_plan_entry") => {
            json!({"id": "(dry run)", "name": body["name"], "runs": []})
        }
        (Method::Post, _) => {
            let mut v = if body.is_object() { body } else { json!({}) };
            v["id"] = json!(next());
            v
        }
        (_, _) => json!({}),
    };
    HttpResponse::answered(200, Vec::new(), v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionHandle;
    use crate::sync::protocol::Step;

    #[test]
    fn a_publish_runs_to_its_end_against_dry_run_answers() {
        let start = super::super::publish::tests::start(
            json!({}),
            r#"<testsuite name="s"><testcase classname="a.B" name="works"/></testsuite>"#,
        );
        let mut s = SessionHandle::start(
            start.to_string().as_bytes(),
            &super::super::publish::tests::secrets(),
        )
        .unwrap();
        let (mut counter, mut sent) = (0, Vec::new());
        let report = loop {
            match s.next() {
                Step::Send(req) => {
                    sent.push(req.url.split("v2/").nth(1).unwrap_or("").to_string());
                    s.receive(req.id, answer(&req, &mut counter)).unwrap();
                }
                Step::Done(r) => break r,
                _ => {}
            }
        };
        assert_eq!(report.error, None);
        assert!(sent.iter().any(|u| u.starts_with("add_case/")), "{sent:?}");
        assert!(
            sent.iter().any(|u| u.starts_with("add_results_for_cases/")),
            "{sent:?}"
        );
    }
}
