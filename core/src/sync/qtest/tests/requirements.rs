//! `qtest.requirements` against the fake qTest: requirements, their fields and links
//! (as the qTest simulator serves them), under lost answers and a crash after every
//! request that changes something.

use super::{FakeQtest, PROJECT, SITE, TOKEN, run};
use crate::sync::details::Details;
use crate::sync::details::bridge::{QtestRequirementsOutput, RequirementAction};
use crate::sync::protocol::{HttpResponse, Method};
use crate::sync::report::Report;
use serde_json::{Value, json};

impl FakeQtest {
    /// Requirements, their fields, links and a test case by id; 404 for the rest.
    pub(super) fn requirement_route(
        &mut self,
        method: Method,
        parts: &[&str],
        path: &str,
        body: &Value,
    ) -> HttpResponse {
        let ok = |v: Value| HttpResponse::answered(200, vec![], v.to_string());
        let param = |name: &str| {
            path.split(['?', '&'])
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .map(|v| v.replace("%2C", ","))
        };
        match (method, parts) {
            (Method::Get, ["settings", "requirements", "fields"]) => ok(json!([
                {"id": 801, "label": "Description"},
                {"id": 901, "label": "Schedule State"},
            ])),
            (Method::Get, ["requirements"]) => {
                let parent = param("parentId").and_then(|p| p.parse().ok()).unwrap_or(0);
                let list = self.children("requirement", parent);
                let (slice, _) = self.page(path, list, "size");
                ok(json!(slice))
            }
            (Method::Post, ["requirements"]) => {
                let parent = param("parentId").and_then(|p| p.parse().ok()).unwrap_or(0);
                let name = body["name"].as_str().unwrap_or_default().to_string();
                let mut b = body.clone();
                b["pid"] = json!(format!("RQ-{}", self.count("requirement") + 1));
                ok(self.add("requirement", &name, parent, b))
            }
            (Method::Put, ["requirements", id]) => {
                let id: u64 = id.parse().unwrap_or(0);
                let Some(o) = self.objects.iter_mut().find(|o| o.id == id) else {
                    return HttpResponse::answered(404, vec![], r#"{"message":"Not Found"}"#);
                };
                o.body["name"] = body["name"].clone();
                o.body["properties"] = body["properties"].clone();
                o.name = body["name"].as_str().unwrap_or_default().to_string();
                let out = o.body.clone();
                self.add("requirement-update", "", id, json!({}));
                ok(out)
            }
            (Method::Get, ["linked-artifacts"]) => {
                let requirements = param("type").as_deref() == Some("requirements");
                let ids: Vec<u64> = param("ids")
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|i| i.parse().ok())
                    .collect();
                let list: Vec<Value> = ids
                    .iter()
                    .map(|id| {
                        let objects: Vec<Value> = self
                            .objects
                            .iter()
                            .filter(|o| o.kind == "link")
                            .filter_map(|o| {
                                let case: u64 = o.name.parse().ok()?;
                                match requirements {
                                    true if o.parent == *id => Some(json!({"id": case, "pid": format!("TC-{case}"), "self": format!("{SITE}/api/v3/projects/{PROJECT}/test-cases/{case}")})),
                                    false if case == *id => Some(json!({"id": o.parent, "self": format!("{SITE}/api/v3/projects/{PROJECT}/requirements/{}", o.parent)})),
                                    _ => None,
                                }
                            })
                            .collect();
                        json!({"id": id, "objects": objects})
                    })
                    .collect();
                ok(json!(list))
            }
            (Method::Get, ["test-cases", id])
                if self
                    .objects
                    .iter()
                    .any(|o| o.kind == "test-case" && o.id.to_string() == *id) =>
            {
                let case = self
                    .objects
                    .iter()
                    .find(|o| o.kind == "test-case" && o.id.to_string() == *id);
                ok(case.map(|o| o.body.clone()).unwrap_or_default())
            }
            (Method::Get, ["test-cases", id]) => ok(json!({
                "id": id.parse::<u64>().unwrap_or(0),
                "pid": format!("TC-{id}"),
                "name": format!("case {id}"),
                "web_url": format!("{SITE}/p/{PROJECT}/portal/project#tab=testdesign&object=1&id={id}"),
            })),
            (method, parts) => self.defect_route(method, parts, body),
        }
    }

    fn link(&mut self, requirement: u64, case: u64) {
        self.add("link", &case.to_string(), requirement, json!({}));
    }

    fn requirement_named(&self, prefix: &str) -> Vec<u64> {
        self.objects
            .iter()
            .filter(|o| o.kind == "requirement" && o.name.starts_with(prefix))
            .map(|o| o.id)
            .collect()
    }
}

fn story(id: &str, name: &str, state: &str) -> Value {
    json!({"ref": format!("/hierarchicalrequirement/{}", &id[2..]), "formatted_id": id, "name": name,
           "project": null, "last_update_date": "2024-05-01T00:00:00.000Z", "fields": {"ScheduleState": state}})
}

fn start(stories: Vec<Value>, known: &[u64]) -> Value {
    json!({
        "kind": "qtest.requirements",
        "input": {
            "config": {
                "qtest": {"url": SITE, "project_id": PROJECT},
                "bridge": {"fields": {"ScheduleState": "Schedule State"}},
            },
            "request": {"stories": stories, "known_cases": known, "rally_url": "https://rally1.rallydev.com"},
        },
    })
}

fn output(report: &Report) -> &QtestRequirementsOutput {
    match &report.details {
        Details::QtestRequirements(out) => out,
        other => panic!("{other:?}"),
    }
}

#[test]
fn stories_become_requirements_once_and_change_only_when_they_changed() {
    let mut q = FakeQtest::new();
    q.max_page = 1;
    q.fault(Method::Post, "/requirements", super::Fault::DropAfterApply);
    q.fault(Method::Post, "/modules", super::Fault::DropAfterApply);
    let stories = vec![
        story("US1", "Pay", "Defined"),
        story("US2", "Refund", "Defined"),
    ];
    // A crash after every request that changes something, then go on.
    let (report, _) = run(&mut q, &start(stories.clone(), &[]), TOKEN, true);
    assert_eq!(report.error, None);
    // Found again after lost answers, they are still reported as made by this run.
    let actions: Vec<_> = output(&report)
        .requirements
        .iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(actions, [RequirementAction::Created; 2]);
    assert_eq!(report.created.len(), 2, "{:?}", report.created);
    assert_eq!((q.count("module"), q.count("requirement")), (1, 2));
    assert_eq!(q.requirement_named("US1: Pay").len(), 1);
    let r = q.objects.iter().find(|o| o.name == "US1: Pay").unwrap();
    let props = r.body["properties"].to_string();
    assert!(
        props.contains("Defined") && props.contains("/#/detail/userstory/1"),
        "{props}"
    );

    // The same stories: nothing sent that changes anything.
    let (report, _) = run(&mut q, &start(stories, &[]), TOKEN, false);
    let actions: Vec<_> = output(&report)
        .requirements
        .iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(actions, [RequirementAction::Unchanged; 2]);
    assert_eq!(q.count("requirement-update"), 0);

    // One changed story: one update, no new requirement.
    let (report, _) = run(
        &mut q,
        &start(vec![story("US2", "Refund", "Accepted")], &[]),
        TOKEN,
        false,
    );
    assert_eq!(
        output(&report).requirements[0].action,
        RequirementAction::Updated
    );
    assert_eq!(
        (q.count("requirement"), q.count("requirement-update")),
        (2, 1)
    );
}

#[test]
fn linked_test_cases_are_reported_once_with_their_stories_in_link_order() {
    let mut q = FakeQtest::new();
    let stories = vec![
        story("US1", "Pay", "Defined"),
        story("US2", "Refund", "Defined"),
    ];
    run(&mut q, &start(stories, &[]), TOKEN, false);
    let (us1, us2) = (q.requirement_named("US1")[0], q.requirement_named("US2")[0]);
    q.link(us2, 7001);
    q.link(us1, 7001);
    q.link(us1, 7002);
    let (report, _) = run(&mut q, &start(vec![], &[7002]), TOKEN, false);
    let out = output(&report);
    assert_eq!(out.linked_cases.len(), 1, "{out:?}");
    let case = &out.linked_cases[0];
    assert_eq!(
        (case.id, case.stories.as_slice()),
        (7001, ["US2".to_string(), "US1".to_string()].as_slice())
    );
    assert!(case.web_url.as_deref().unwrap().ends_with("id=7001"));
}

#[test]
fn a_missing_requirement_field_is_named_before_anything_is_made() {
    let mut q = FakeQtest::new();
    let mut s = start(vec![story("US1", "Pay", "Defined")], &[]);
    s["input"]["config"]["bridge"]["fields"] = json!({"PlanEstimate": "Plan Estimate"});
    let (report, _) = run(&mut q, &s, TOKEN, false);
    let e = report.error.unwrap();
    assert_eq!(e.code, "bridge.no_such_field");
    assert!(e.message.contains("Plan Estimate"));
    assert_eq!(q.count("requirement"), 0);
}

/// The fake qTest after a first pass brought US1 in, with qTest case 7001 linked to
/// it since: the setting of the `qtest.requirements` transcript.
pub(crate) fn transcript_fake() -> FakeQtest {
    let mut q = FakeQtest::new();
    run(
        &mut q,
        &start(vec![story("US1", "Pay", "Defined")], &[]),
        TOKEN,
        false,
    );
    let us1 = q.requirement_named("US1")[0];
    q.link(us1, 7001);
    q.max_page = 1;
    q.fault(Method::Post, "/requirements", super::Fault::DropAfterApply);
    q
}

/// US1 changed in Rally and US2 is new.
pub(crate) fn transcript_start() -> Value {
    let mut s = start(
        vec![
            story("US1", "Pay", "Accepted"),
            story("US2", "Refund", "Defined"),
        ],
        &[],
    );
    s["options"] = json!({"seed": 4});
    s
}
