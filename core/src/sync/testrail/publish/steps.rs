//! The next call from the state, and what each answer changes.

use super::compute::{self, Computed};
use super::{Awaiting, DoneResult, Listing, PublishInput, PublishLogic, SeenCase, SeenSection};
use crate::error::{Error, Warning};
use crate::sync::details::testrail::StatusInfo;
use crate::sync::report::{Entry, RecordKind};
use crate::sync::testrail::driver::Action;
use crate::sync::testrail::identity;
use crate::sync::testrail::link::{Body, Call, page};
use base64::Engine;
use serde_json::{Value, json};

fn call(logic: &mut PublishLogic, awaiting: Awaiting, c: Call) -> Action {
    logic.awaiting = awaiting;
    Action::Call(c)
}

/// A paged read: the listing's next page, or its first.
fn list(logic: &mut PublishLogic, awaiting: Awaiting, first: String, what: &str) -> Action {
    let path = logic.listing.as_ref().map_or(first, |l| l.next.clone());
    call(logic, awaiting, Call::get(path, what))
}

fn computed<'a>(logic: &'a mut PublishLogic, input: &PublishInput) -> Option<&'a Computed> {
    if logic.computed.is_none() {
        match compute::compute(logic, input) {
            Ok(c) => {
                for w in &c.warnings {
                    logic.ledger.warn(w.clone());
                }
                logic.computed = Some(c);
            }
            Err(e) => {
                logic.stop_now(e);
                return None;
            }
        }
    }
    logic.computed.as_ref()
}

impl PublishLogic {
    fn stop_now(&mut self, e: Error) {
        use crate::sync::testrail::driver::Logic;
        self.stop(e, false);
    }

    fn run_name(&self, input: &PublishInput) -> String {
        let ctx = &input.context;
        match &input.config.testrail.run_name {
            Some(t) => {
                crate::config::template::render(t, &|n| ctx.lookup(n)).unwrap_or_else(|_| t.clone())
            }
            None => match &ctx.pipeline_id {
                Some(p) => format!("tmbridge pipeline {p}"),
                None => format!(
                    "tmbridge run {}",
                    &self.run_token[..8.min(self.run_token.len())]
                ),
            },
        }
    }
}

pub fn advance(logic: &mut PublishLogic, input: &PublishInput) -> Action {
    if logic.error.is_some() {
        return Action::Finish;
    }
    if let Some((awaiting, c)) = logic.queued.take() {
        return call(logic, awaiting, c);
    }
    let tr = &input.config.testrail;
    if !tr.export {
        logic.ledger.warn(Warning::new(
            "testrail.export_disabled",
            "`testrail.export` is false: nothing is sent to TestRail",
            None,
        ));
        return Action::Finish;
    }
    let project = PublishLogic::project(input);
    if logic.suite_mode.is_none() {
        return call(
            logic,
            Awaiting::Project,
            Call::get(
                format!("get_project/{project}"),
                format!("read project P{project}"),
            ),
        );
    }
    if logic.suite_id.is_none() {
        return call(
            logic,
            Awaiting::Suites,
            Call::get(format!("get_suites/{project}"), "list the suites"),
        );
    }
    if logic.statuses.is_none() {
        return call(
            logic,
            Awaiting::Statuses,
            Call::get("get_statuses".into(), "read the statuses"),
        );
    }
    if logic.case_fields.is_none() {
        return call(
            logic,
            Awaiting::CaseFields,
            Call::get("get_case_fields".into(), "read the case fields"),
        );
    }
    if logic.result_fields.is_none() {
        return call(
            logic,
            Awaiting::ResultFields,
            Call::get("get_result_fields".into(), "read the result fields"),
        );
    }
    let suite = logic.suite_id.unwrap_or(0);
    if logic.cases.is_none() {
        return list(
            logic,
            Awaiting::Cases,
            format!("get_cases/{project}&suite_id={suite}"),
            "list the cases",
        );
    }
    let Some(c) = computed(logic, input) else {
        return Action::Finish;
    };
    let c = c.clone();
    for (key, why) in &c.invalid {
        if !logic.failed.contains(key) {
            logic.fail(
                key.clone(),
                Entry::new(
                    RecordKind::TestCase,
                    key.clone(),
                    format!("not sent: {why}"),
                ),
            );
        }
    }

    // Cases: create the missing ones, in their sections.
    if tr.create_cases
        && let Some(section_id) = tr.ids().ok().and_then(|i| i.section_id)
    {
        for nc in &c.new_cases {
            if logic.failed.contains(&nc.automation_id) {
                continue;
            }
            let target = match &nc.section_name {
                None => section_id,
                Some(name) => {
                    let Some(sections) = &logic.sections else {
                        return list(
                            logic,
                            Awaiting::Sections,
                            format!("get_sections/{project}&suite_id={suite}"),
                            "list the sections",
                        );
                    };
                    match sections
                        .iter()
                        .find(|s| s.parent_id == Some(section_id) && &s.name == name)
                    {
                        Some(s) => s.id,
                        None => {
                            let key = format!("section {name}");
                            if !logic.try_once(&key) {
                                logic.fail(
                                    nc.automation_id.clone(),
                                    Entry::new(
                                        RecordKind::TestCase,
                                        name.clone(),
                                        "every answer to the section's create was lost",
                                    ),
                                );
                                continue;
                            }
                            return call(
                                logic,
                                Awaiting::AddSection { name: name.clone() },
                                Call::post(
                                    format!("add_section/{project}"),
                                    &json!({"name": name, "suite_id": suite, "parent_id": section_id}),
                                    format!("add section {name}"),
                                ),
                            );
                        }
                    }
                }
            };
            if !logic.try_once(&nc.automation_id) {
                logic.fail(
                    nc.automation_id.clone(),
                    Entry::new(
                        RecordKind::TestCase,
                        nc.automation_id.clone(),
                        "every answer to the case's create was lost",
                    )
                    .with_tests(nc.tests.clone()),
                );
                continue;
            }
            return call(
                logic,
                Awaiting::AddCase {
                    automation_id: nc.automation_id.clone(),
                },
                Call::post(
                    format!("add_case/{target}"),
                    &nc.body,
                    format!("add the case of {}", nc.automation_id),
                ),
            );
        }
    }
    for u in &c.updates {
        if logic.updated.contains(&u.case_id) || logic.failed.contains(&format!("C{}", u.case_id)) {
            continue;
        }
        logic.updated.insert(u.case_id);
        return call(
            logic,
            Awaiting::UpdateCase { case_id: u.case_id },
            Call::post(
                format!("update_case/{}", u.case_id),
                &u.changes,
                format!("update case C{}", u.case_id),
            ),
        );
    }
    if !tr.export_results {
        logic.ledger.warn(Warning::new(
            "testrail.results_disabled",
            "`testrail.export_results` is false: results are not sent",
            None,
        ));
        return Action::Finish;
    }
    let slots: Vec<_> = c
        .slots
        .iter()
        .filter(|s| !s.units.is_empty())
        .cloned()
        .collect();
    if slots.is_empty() {
        return Action::Finish;
    }
    let ids = tr.ids().unwrap_or_default();
    let plan_id = tr
        .plan_id
        .as_ref()
        .and_then(|p| crate::testrail::parse_id(crate::testrail::IdKind::Run, &p.0).ok());
    let name = logic.run_name(input);
    let marker = identity::run_marker(&logic.run_token);
    let all_cases: Vec<u64> = {
        let mut v: Vec<u64> = slots
            .iter()
            .flat_map(|s| s.units.iter().map(|u| u.case_id))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };

    // Runs: the configured one, an entry of the plan, or one found or created by name.
    if slots
        .iter()
        .any(|s| logic.runs.get(&s.name).and_then(|r| r.id).is_none())
    {
        if let (Some(run), None) = (ids.run_id, plan_id) {
            for s in &slots {
                logic.runs.entry(s.name.clone()).or_default().id = Some(run);
            }
        } else if let Some(plan) = plan_id {
            if !logic.plan_read {
                return call(
                    logic,
                    Awaiting::Plan,
                    Call::get(format!("get_plan/{plan}"), format!("read plan R{plan}")),
                );
            }
            if logic.configs.is_none() && slots.iter().any(|s| !s.name.is_empty()) {
                return call(
                    logic,
                    Awaiting::Configs,
                    Call::get(format!("get_configs/{project}"), "read the configurations"),
                );
            }
            let mut runs = Vec::new();
            for s in &slots {
                if s.name.is_empty() {
                    runs.push(json!({"include_all": false, "case_ids": slot_cases(s)}));
                    continue;
                }
                match logic.configs.as_ref().and_then(|cs| cs.iter().find(|(_, n)| n.eq_ignore_ascii_case(&s.name))) {
                    Some((id, _)) => runs.push(json!({"include_all": false, "case_ids": slot_cases(s), "config_ids": [id]})),
                    None => {
                        let known: Vec<String> = logic.configs.iter().flatten().map(|(_, n)| n.clone()).collect();
                        logic.stop_now(
                            Error::new("testrail.unknown_configuration", format!("TestRail has no configuration {:?} (from the tests' `{}` property)", s.name, tr.configuration_property.clone().unwrap_or_default()))
                                .with_hint(format!("add it in TestRail, or use one of: {}", known.join(", "))),
                        );
                        return Action::Finish;
                    }
                }
            }
            if !logic.try_once("plan entry") {
                logic.stop_now(Error::new(
                    "testrail.gave_up",
                    "every answer to the plan entry's create was lost",
                ));
                return Action::Finish;
            }
            let config_ids: Vec<Value> = runs
                .iter()
                .flat_map(|r| r["config_ids"].as_array().cloned().unwrap_or_default())
                .collect();
            let mut body = json!({"suite_id": suite, "name": name, "description": marker, "include_all": false, "case_ids": all_cases, "runs": runs});
            if !config_ids.is_empty() {
                body["config_ids"] = json!(config_ids);
            }
            return call(
                logic,
                Awaiting::AddPlanEntry,
                Call::post(
                    format!("add_plan_entry/{plan}"),
                    &body,
                    format!("add an entry to plan R{plan}"),
                ),
            );
        } else {
            if !logic.runs_listed {
                return list(
                    logic,
                    Awaiting::Runs,
                    format!("get_runs/{project}&is_completed=0"),
                    "list the open runs",
                );
            }
            if !logic.try_once("run") {
                logic.stop_now(Error::new(
                    "testrail.gave_up",
                    "every answer to the run's create was lost",
                ));
                return Action::Finish;
            }
            let body = json!({"suite_id": suite, "name": name, "description": marker, "include_all": false, "case_ids": all_cases});
            return call(
                logic,
                Awaiting::AddRun,
                Call::post(
                    format!("add_run/{project}"),
                    &body,
                    format!("add run {name:?}"),
                ),
            );
        }
    }

    // Every case of a slot in its run.
    for s in &slots {
        let Some(state) = logic.runs.get(&s.name).cloned() else {
            continue;
        };
        let Some(run) = state.id else { continue };
        if !state.complete {
            if logic.listing.is_none() {
                return call(
                    logic,
                    Awaiting::RunInfo {
                        slot: s.name.clone(),
                    },
                    Call::get(format!("get_run/{run}"), format!("read run R{run}")),
                );
            }
            return list(
                logic,
                Awaiting::RunTests {
                    slot: s.name.clone(),
                },
                format!("get_tests/{run}"),
                "list the run's tests",
            );
        }
    }

    // Results: read what is there, then add the rest in batches.
    let batch = tr.batch_size.max(1) as usize;
    for s in &slots {
        let Some(run) = logic.runs.get(&s.name).and_then(|r| r.id) else {
            continue;
        };
        if !logic.results_read.contains(&run) {
            return list(
                logic,
                Awaiting::Results {
                    slot: s.name.clone(),
                },
                format!("get_results_for_run/{run}"),
                "list the run's results",
            );
        }
        let pending: Vec<&compute::Unit> = s
            .units
            .iter()
            .filter(|u| !logic.done.contains_key(&u.token) && !logic.failed.contains(&u.token))
            .take(batch)
            .collect();
        if !pending.is_empty() {
            let tokens: Vec<String> = pending.iter().map(|u| u.token.clone()).collect();
            let key = format!("results {}", tokens[0]);
            if !logic.try_once(&key) {
                for u in &pending {
                    logic.fail(
                        u.token.clone(),
                        Entry::new(
                            RecordKind::TestCaseResult,
                            format!("C{}", u.case_id),
                            "every answer to the results' create was lost",
                        )
                        .with_tests(u.tests.clone()),
                    );
                }
                return advance(logic, input);
            }
            let body =
                json!({"results": pending.iter().map(|u| u.body.clone()).collect::<Vec<_>>()});
            return call(
                logic,
                Awaiting::AddResults {
                    slot: s.name.clone(),
                    tokens,
                },
                Call::post(
                    format!("add_results_for_cases/{run}"),
                    &body,
                    format!("add {} results to run R{run}", pending.len()),
                ),
            );
        }
    }

    // Attachments of the results.
    for s in &slots {
        for u in &s.units {
            let Some(done) = logic.done.get(&u.token).cloned() else {
                continue;
            };
            for path in &u.attachments {
                let key = format!("{} {path}", u.token);
                if logic.uploaded.contains(&key) || logic.failed.contains(&key) {
                    continue;
                }
                let Some(names) = logic.attachments.get(&done.test_id) else {
                    return call(
                        logic,
                        Awaiting::Attachments {
                            test_id: done.test_id,
                        },
                        Call::get(
                            format!("get_attachments_for_test/{}", done.test_id),
                            "list the test's attachments",
                        ),
                    );
                };
                let file_name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_string();
                if names.contains(&file_name) {
                    logic.uploaded.insert(key);
                    continue;
                }
                match logic.loaded.take() {
                    Some((token, p, bytes)) if token == u.token && &p == path => {
                        if !logic.try_once(&key) {
                            logic.fail(
                                key,
                                Entry::new(
                                    RecordKind::Attachment,
                                    file_name,
                                    "every answer to the upload was lost",
                                ),
                            );
                            continue;
                        }
                        let (boundary, body) = multipart(&file_name, &bytes);
                        return call(
                            logic,
                            Awaiting::Upload {
                                token: u.token.clone(),
                                path: path.clone(),
                            },
                            Call {
                                method: crate::sync::protocol::Method::Post,
                                path: format!("add_attachment_to_result/{}", done.result_id),
                                body: Some(Body::Multipart {
                                    boundary,
                                    base64: base64::engine::general_purpose::STANDARD.encode(body),
                                }),
                                what: format!("upload {file_name}"),
                            },
                        );
                    }
                    _ => {
                        logic.awaiting = Awaiting::Upload {
                            token: u.token.clone(),
                            path: path.clone(),
                        };
                        return Action::Read(path.clone());
                    }
                }
            }
        }
    }
    Action::Finish
}

fn slot_cases(s: &compute::Slot) -> Vec<u64> {
    let mut v: Vec<u64> = s.units.iter().map(|u| u.case_id).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A `multipart/form-data` body with the file in the `attachment` field, and a
/// boundary the bytes do not hold.
fn multipart(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let mut n = 0u32;
    let boundary = loop {
        let b = format!("tmbridge-boundary-{n:08x}");
        if !bytes.windows(b.len()).any(|w| w == b.as_bytes()) {
            break b;
        }
        n += 1;
    };
    let safe: String = name
        .chars()
        .map(|c| if c == '"' || c.is_control() { '_' } else { c })
        .collect();
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"{safe}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

/// Takes a page of a listing; `Some(items)` when it was the last.
fn paged(logic: &mut PublishLogic, v: &Value, key: &str) -> Option<Vec<Value>> {
    let (items, next) = page(v, key);
    let mut listing = logic.listing.take().unwrap_or(Listing {
        next: String::new(),
        items: Vec::new(),
    });
    listing.items.extend(items);
    match next {
        Some(n) => {
            listing.next = n;
            logic.listing = Some(listing);
            None
        }
        None => Some(listing.items),
    }
}

fn num(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

pub fn on_ok(logic: &mut PublishLogic, input: &PublishInput, awaiting: Awaiting, v: Value) {
    let tr = &input.config.testrail;
    let automation_key = crate::config::testrail::case_field_key(&tr.automation_id_field);
    match awaiting {
        Awaiting::Nothing => {}
        Awaiting::Project => {
            let mode = num(&v, "suite_mode").unwrap_or(1);
            if mode == 3 && logic.suite_id.is_none() {
                let project = PublishLogic::project(input);
                logic.stop_now(
                    Error::new("testrail.suite_required", format!("project P{project} has several suites: `testrail.suite_id` must say which one"))
                        .with_hint("set testrail.suite_id to the suite's id, like S29"),
                );
            }
            logic.suite_mode = Some(mode);
        }
        Awaiting::Suites => match v
            .as_array()
            .and_then(|a| crate::sync::testrail::connect::master_suite(a))
            .and_then(|s| num(s, "id"))
        {
            Some(id) => logic.suite_id = Some(id),
            None => logic.stop_now(Error::new("testrail.no_suite", "the project has no suite")),
        },
        Awaiting::Statuses => {
            let known: Vec<StatusInfo> = v
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|s| StatusInfo {
                            id: num(s, "id").unwrap_or(0),
                            name: s["name"].as_str().unwrap_or("").to_string(),
                            label: s["label"].as_str().unwrap_or("").to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            if let Err(e) = crate::sync::testrail::statuses::check_table(&input.config, &known) {
                logic.stop_now(e);
            }
            logic.statuses = Some(known);
        }
        Awaiting::CaseFields => logic.case_fields = Some(v),
        Awaiting::ResultFields => logic.result_fields = Some(v),
        Awaiting::Cases => {
            let Some(items) = paged(logic, &v, "cases") else {
                return;
            };
            let mut cases = std::collections::BTreeMap::new();
            for c in items {
                let Some(id) = num(&c, "id") else { continue };
                if let Some(aid) = c
                    .get(&automation_key)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                {
                    logic
                        .cache
                        .automation_ids
                        .insert(aid.to_string(), format!("C{id}"));
                }
                let fields = c
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .filter(|(k, _)| {
                                k.as_str() == "title"
                                    || k.as_str() == "refs"
                                    || k.starts_with("custom_")
                            })
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                cases.insert(
                    id,
                    SeenCase {
                        section_id: num(&c, "section_id"),
                        template_id: num(&c, "template_id"),
                        fields,
                    },
                );
            }
            // Automation ids remembered from earlier runs (the host's cache) whose
            // case is gone from the suite would match tests to nothing.
            logic.cache.automation_ids.retain(|_, key| {
                key.trim_start_matches('C')
                    .parse::<u64>()
                    .is_ok_and(|id| cases.contains_key(&id))
            });
            logic.cases = Some(cases);
            logic.computed = None;
        }
        Awaiting::Sections => {
            let Some(items) = paged(logic, &v, "sections") else {
                return;
            };
            logic.sections = Some(
                items
                    .iter()
                    .filter_map(|s| {
                        Some(SeenSection {
                            id: num(s, "id")?,
                            name: s["name"].as_str()?.to_string(),
                            parent_id: num(s, "parent_id"),
                        })
                    })
                    .collect(),
            );
        }
        Awaiting::AddSection { name } => {
            if let Some(id) = num(&v, "id") {
                logic
                    .sections
                    .get_or_insert_with(Vec::new)
                    .push(SeenSection {
                        id,
                        name: name.clone(),
                        parent_id: num(&v, "parent_id"),
                    });
                logic.ledger.created.push(
                    Entry::new(RecordKind::TestSet, name, "a section for the <testsuite>")
                        .with_ref(Some(format!("section {id}"))),
                );
            }
        }
        Awaiting::AddCase { automation_id } => {
            if let Some(id) = num(&v, "id") {
                logic
                    .cache
                    .automation_ids
                    .insert(automation_id.clone(), format!("C{id}"));
                if let Some(cases) = &mut logic.cases {
                    let fields = v
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .filter(|(k, _)| {
                                    k.as_str() == "title"
                                        || k.as_str() == "refs"
                                        || k.starts_with("custom_")
                                })
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect()
                        })
                        .unwrap_or_default();
                    cases.insert(
                        id,
                        SeenCase {
                            section_id: num(&v, "section_id"),
                            template_id: num(&v, "template_id"),
                            fields,
                        },
                    );
                }
                logic.ledger.created.push(
                    Entry::new(
                        RecordKind::TestCase,
                        format!("C{id}"),
                        format!("new case for {automation_id}"),
                    )
                    .with_ref(Some(format!("C{id}")))
                    .with_tests(vec![automation_id]),
                );
                logic.computed = None;
            }
        }
        Awaiting::UpdateCase { case_id } => {
            if let Some(cases) = &mut logic.cases
                && let Some(seen) = cases.get_mut(&case_id)
                && let Some(m) = v.as_object()
            {
                for (k, val) in m {
                    if seen.fields.contains_key(k) || k == "title" || k.starts_with("custom_") {
                        seen.fields.insert(k.clone(), val.clone());
                    }
                }
            }
            logic.ledger.updated.push(
                Entry::new(
                    RecordKind::TestCase,
                    format!("C{case_id}"),
                    "title or fields changed",
                )
                .with_ref(Some(format!("C{case_id}"))),
            );
            logic.computed = None;
        }
        Awaiting::Runs => {
            let Some(items) = paged(logic, &v, "runs") else {
                return;
            };
            logic.runs_listed = true;
            let name = logic.run_name(input);
            let marker = identity::run_marker(&logic.run_token);
            let suite = logic.suite_id;
            if let Some(run) = items.iter().find(|r| {
                r["name"].as_str() == Some(name.as_str())
                    && num(r, "suite_id") == suite
                    && r["description"]
                        .as_str()
                        .is_some_and(|d| d.contains(&marker))
            }) {
                let state = logic.runs.entry(String::new()).or_default();
                state.id = num(run, "id");
                state.complete = false;
            }
        }
        Awaiting::AddRun => {
            let state = logic.runs.entry(String::new()).or_default();
            state.id = num(&v, "id");
            state.complete = true;
            logic.results_read.insert(num(&v, "id").unwrap_or(0));
            logic.ledger.created.push(
                Entry::new(
                    RecordKind::TestSet,
                    v["name"].as_str().unwrap_or("run").to_string(),
                    "a run for the results",
                )
                .with_ref(num(&v, "id").map(|i| format!("R{i}"))),
            );
        }
        Awaiting::Plan => {
            logic.plan_read = true;
            let marker = identity::run_marker(&logic.run_token);
            if let Some(entry) = v["entries"].as_array().and_then(|es| {
                es.iter().find(|e| {
                    e["description"]
                        .as_str()
                        .is_some_and(|d| d.contains(&marker))
                })
            }) {
                take_entry_runs(logic, entry, false);
                check_entry(logic);
            }
        }
        Awaiting::Configs => {
            logic.configs = Some(
                v.as_array()
                    .map(|groups| {
                        groups
                            .iter()
                            .flat_map(|g| g["configs"].as_array().cloned().unwrap_or_default())
                            .filter_map(|c| Some((num(&c, "id")?, c["name"].as_str()?.to_string())))
                            .collect()
                    })
                    .unwrap_or_default(),
            );
        }
        Awaiting::AddPlanEntry => {
            take_entry_runs(logic, &v, true);
            check_entry(logic);
            logic.ledger.created.push(Entry::new(
                RecordKind::TestSet,
                v["name"].as_str().unwrap_or("entry").to_string(),
                "a plan entry for the results",
            ));
        }
        Awaiting::RunInfo { slot } => {
            if v["is_completed"].as_bool() == Some(true) {
                let id = num(&v, "id").unwrap_or(0);
                logic.stop_now(
                    Error::new(
                        "testrail.run_completed",
                        format!("run R{id} is completed: TestRail takes no more results in it"),
                    )
                    .with_hint("unset testrail.run_id to create a run, or reopen the run"),
                );
                return;
            }
            let state = logic.runs.entry(slot).or_default();
            state.in_plan = !v["plan_id"].is_null();
            if v["include_all"].as_bool() == Some(true) {
                state.complete = true;
            } else {
                // Next: its tests.
                logic.listing = Some(Listing {
                    next: format!("get_tests/{}", num(&v, "id").unwrap_or(0)),
                    items: Vec::new(),
                });
            }
        }
        Awaiting::RunTests { slot } => {
            let Some(items) = paged(logic, &v, "tests") else {
                return;
            };
            let have: Vec<u64> = items.iter().filter_map(|t| num(t, "case_id")).collect();
            let Some(c) = logic.computed.clone() else {
                return;
            };
            let want: Vec<u64> = c
                .slots
                .iter()
                .filter(|s| s.name == slot)
                .flat_map(|s| s.units.iter().map(|u| u.case_id))
                .collect();
            let missing: Vec<u64> = want
                .iter()
                .copied()
                .filter(|id| !have.contains(id))
                .collect();
            let Some(state) = logic.runs.get(&slot).cloned() else {
                return;
            };
            if missing.is_empty() {
                if let Some(s) = logic.runs.get_mut(&slot) {
                    s.complete = true;
                }
                return;
            }
            let mut all = have;
            all.extend(missing);
            all.sort_unstable();
            all.dedup();
            let run = state.id.unwrap_or(0);
            let method = if state.in_plan {
                "update_run_in_plan_entry"
            } else {
                "update_run"
            };
            // Not a create: sent again whatever happened, it sets the same list.
            logic.queued = Some((
                Awaiting::UpdateRun { slot: slot.clone() },
                Call::post(
                    format!("{method}/{run}"),
                    &json!({"case_ids": all}),
                    format!("add the cases to run R{run}"),
                ),
            ));
        }
        Awaiting::UpdateRun { slot } => {
            if let Some(s) = logic.runs.get_mut(&slot) {
                s.complete = true;
            }
            logic.ledger.updated.push(Entry::new(
                RecordKind::TestSetMembers,
                format!("R{}", num(&v, "id").unwrap_or(0)),
                "the run now holds every case",
            ));
        }
        Awaiting::Results { slot } => {
            let Some(items) = paged(logic, &v, "results") else {
                return;
            };
            let Some(run) = logic.runs.get(&slot).and_then(|r| r.id) else {
                return;
            };
            logic.results_read.insert(run);
            for r in items {
                let comment = r["comment"].as_str().unwrap_or("");
                for token in identity::units_in(comment, &logic.run_token) {
                    if let (Some(result_id), Some(test_id)) = (num(&r, "id"), num(&r, "test_id"))
                        && !logic.done.contains_key(&token)
                    {
                        logic.done.insert(token, DoneResult { result_id, test_id });
                        logic.ledger.skipped.push(
                            Entry::new(
                                RecordKind::TestCaseResult,
                                format!("T{test_id}"),
                                "already in TestRail (sent by an earlier try of this run)",
                            )
                            .with_ref(Some(result_id.to_string())),
                        );
                    }
                }
            }
        }
        Awaiting::AddResults { slot: _, tokens } => {
            let answers = v.as_array().cloned().unwrap_or_default();
            let units: Vec<compute::Unit> = logic
                .computed
                .iter()
                .flat_map(|c| c.slots.iter().flat_map(|s| s.units.clone()))
                .collect();
            // TestRail answers in request order.
            for (token, r) in tokens.iter().zip(answers.iter()) {
                if let (Some(result_id), Some(test_id)) = (num(r, "id"), num(r, "test_id")) {
                    logic
                        .done
                        .insert(token.clone(), DoneResult { result_id, test_id });
                    if let Some(u) = units.iter().find(|u| &u.token == token) {
                        logic.ledger.created.push(
                            Entry::new(
                                RecordKind::TestCaseResult,
                                format!("C{}", u.case_id),
                                "result added",
                            )
                            .with_ref(Some(result_id.to_string()))
                            .with_tests(u.tests.clone()),
                        );
                    }
                }
            }
        }
        Awaiting::Attachments { test_id } => {
            let names = v
                .as_array()
                .or_else(|| v.get("attachments").and_then(Value::as_array))
                .map(|a| {
                    a.iter()
                        .filter_map(|x| {
                            x["name"]
                                .as_str()
                                .or(x["filename"].as_str())
                                .map(str::to_string)
                        })
                        .collect()
                })
                .unwrap_or_default();
            logic.attachments.insert(test_id, names);
        }
        Awaiting::Upload { token, path } => {
            let name = path.rsplit(['/', '\\']).next().unwrap_or(&path).to_string();
            logic.uploaded.insert(format!("{token} {path}"));
            if let Some(test) = logic.done.get(&token).map(|d| d.test_id) {
                logic
                    .attachments
                    .entry(test)
                    .or_default()
                    .push(name.clone());
            }
            let id = v
                .get("attachment_id")
                .map(|a| a.to_string().trim_matches('"').to_string());
            logic.ledger.created.push(
                Entry::new(RecordKind::Attachment, name, "uploaded to the result").with_ref(id),
            );
        }
    }
}

/// The runs of a plan entry, by configuration name.
fn take_entry_runs(logic: &mut PublishLogic, entry: &Value, complete: bool) {
    for run in entry["runs"].as_array().cloned().unwrap_or_default() {
        let config = run["config"].as_str().unwrap_or("");
        // The tests name a configuration as they like ("chrome"); TestRail as it
        // was made ("Chrome"): the slot is the tests' name for it.
        let slot = logic
            .computed
            .iter()
            .flat_map(|c| c.slots.iter())
            .find(|s| s.name.eq_ignore_ascii_case(config))
            .map_or_else(|| config.to_string(), |s| s.name.clone());
        let state = logic.runs.entry(slot).or_default();
        state.id = num(&run, "id");
        state.in_plan = true;
        state.complete = complete;
        if complete && let Some(id) = state.id {
            logic.results_read.insert(id);
        }
    }
}

/// Every configuration of the results has its run in the plan entry found or made;
/// otherwise the session stops rather than make another entry.
fn check_entry(logic: &mut PublishLogic) {
    let missing: Vec<String> = logic
        .computed
        .iter()
        .flat_map(|c| c.slots.iter())
        .filter(|s| !s.units.is_empty())
        .filter(|s| logic.runs.get(&s.name).and_then(|r| r.id).is_none())
        .map(|s| s.name.clone())
        .collect();
    if !missing.is_empty() {
        logic.stop_now(
            Error::new(
                "testrail.plan_entry_mismatch",
                format!(
                    "the plan entry of this run has no run for the configuration(s) {}",
                    missing.join(", ")
                ),
            )
            .with_hint("each test's configuration property must name one configuration of the project, like Chrome"),
        );
    }
}

pub fn on_refused(logic: &mut PublishLogic, _input: &PublishInput, awaiting: Awaiting, e: Error) {
    match awaiting {
        Awaiting::AddCase { automation_id } => {
            logic.fail(
                automation_id.clone(),
                Entry::new(
                    RecordKind::TestCase,
                    automation_id.clone(),
                    e.message.clone(),
                )
                .with_tests(vec![automation_id]),
            );
        }
        Awaiting::UpdateCase { case_id } => {
            logic.fail(
                format!("C{case_id}"),
                Entry::new(
                    RecordKind::TestCase,
                    format!("C{case_id}"),
                    e.message.clone(),
                ),
            );
        }
        Awaiting::AddResults { tokens, .. } => {
            let units: Vec<compute::Unit> = logic
                .computed
                .iter()
                .flat_map(|c| c.slots.iter().flat_map(|s| s.units.clone()))
                .collect();
            for t in tokens {
                if let Some(u) = units.iter().find(|u| u.token == t) {
                    logic.fail(
                        t.clone(),
                        Entry::new(
                            RecordKind::TestCaseResult,
                            format!("C{}", u.case_id),
                            e.message.clone(),
                        )
                        .with_tests(u.tests.clone()),
                    );
                }
            }
        }
        Awaiting::Upload { token, path } => {
            logic.fail(
                format!("{token} {path}"),
                Entry::new(RecordKind::Attachment, path, e.message.clone()),
            );
        }
        Awaiting::Attachments { test_id } => {
            // Without the list, uploads could repeat: none for this test.
            logic.ledger.warn(Warning::new("testrail.attachments_unlisted", format!("the attachments of test T{test_id} could not be listed ({}); none are uploaded to it", e.message), None));
            logic.attachments.insert(test_id, Vec::new());
            let tokens: Vec<String> = logic
                .done
                .iter()
                .filter(|(_, d)| d.test_id == test_id)
                .map(|(t, _)| t.clone())
                .collect();
            let units: Vec<compute::Unit> = logic
                .computed
                .iter()
                .flat_map(|c| c.slots.iter().flat_map(|s| s.units.clone()))
                .collect();
            for u in units.iter().filter(|u| tokens.contains(&u.token)) {
                for path in &u.attachments {
                    logic.failed.insert(format!("{} {path}", u.token));
                }
            }
        }
        _ => logic.stop_now(e),
    }
}
