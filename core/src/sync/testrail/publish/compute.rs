//! What the export should look like in TestRail, from the input and what was read:
//! the cases to create and update, and per configuration slot the results to add,
//! each with its identity. A pure function, recomputed whenever a read changes it.

use super::{PublishInput, PublishLogic};
use crate::config::testrail::{FieldValue, case_field_key};
use crate::error::{Result, Warning};
use crate::matching::{ResultLine, ReviewItem};
use crate::model::TestCase;
use crate::sync::testrail::{fields, identity, statuses, trcli};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A case to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    pub automation_id: String,
    /// The `<testsuite>` it goes to (a section of that name under `section_id`).
    pub section_name: Option<String>,
    pub body: Value,
    pub tests: Vec<String>,
}

/// A case tmbridge exported before whose title or fields changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub case_id: u64,
    pub changes: Value,
    pub tests: Vec<String>,
}

/// One result to add.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub token: String,
    pub case_id: u64,
    pub body: Value,
    pub tests: Vec<String>,
    pub attachments: Vec<String>,
}

/// The results of one configuration (`""` without configurations).
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub name: String,
    pub units: Vec<Unit>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Computed {
    pub new_cases: Vec<NewCase>,
    pub updates: Vec<Update>,
    pub slots: Vec<Slot>,
    pub summary: Vec<ResultLine>,
    pub review: Vec<ReviewItem>,
    pub warnings: Vec<Warning>,
    /// Fields or values that cannot be sent: (key, why) per case or result.
    pub invalid: Vec<(String, String)>,
}

fn field_json(v: &FieldValue) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The automation id a test is exported under.
pub fn automation_id(case: &TestCase) -> String {
    trcli::automation_id(case).unwrap_or_else(|| case.full_name())
}

pub fn compute(logic: &PublishLogic, input: &PublishInput) -> Result<Computed> {
    let tr = &input.config.testrail;
    let project = PublishLogic::project(input);
    let known = logic.statuses.clone().unwrap_or_default();
    let mut config = input.config.clone();
    config.testrail.statuses = statuses::with_ids(&tr.statuses, &known)?;
    let case_fields = logic.case_fields.clone().unwrap_or(Value::Null);
    let result_fields = logic.result_fields.clone().unwrap_or(Value::Null);
    let automation_key = case_field_key(&tr.automation_id_field);

    // The tests in scope, and where each sits in the input.
    let scope = match &tr.scope {
        Some(text) => Some(crate::scope::parse(text)?),
        None => None,
    };
    let kept: Vec<usize> = input
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| scope.as_ref().is_none_or(|s| s.matches(c)))
        .map(|(i, _)| i)
        .collect();
    let cases: Vec<TestCase> = kept.iter().map(|&i| input.cases[i].clone()).collect();

    // Tests whose automation id (or trcli override) names a case in TestRail.
    let mut cache = logic.cache.clone();
    for case in &cases {
        let aid = automation_id(case);
        if let Some(key) = cache.automation_ids.get(&aid).cloned() {
            cache.automation_ids.entry(case.full_name()).or_insert(key);
        }
    }

    let full = crate::testrail::plan(&config, &cases, &input.context, &cache)?;
    let mut out = Computed {
        warnings: full.warnings.clone(),
        ..Computed::default()
    };
    let back = |i: u64| kept.get(i as usize).map_or(i, |&k| k as u64);
    out.review = full
        .review
        .iter()
        .cloned()
        .map(|mut r| {
            r.index = back(r.index);
            r
        })
        .collect();

    // Cases to create: only when a created case can be found again by its
    // automation id (TestRail drops a field the project lacks, and a rerun or a
    // lost answer would then create it again).
    let findable = fields::applies(&case_fields, project, &automation_key);
    let steps_key = fields::steps_field(&case_fields, project);
    if !findable && !full.add_cases.is_empty() {
        out.warnings.push(Warning::new(
            "testrail.no_automation_field",
            format!("the project has no case field {automation_key}: tests without a case id are not created as cases (a rerun could not find them again); add the field (type String) in TestRail or give the tests case ids"),
            None,
        ));
        for nc in &full.add_cases {
            for &i in &nc.indexes {
                let Some(case) = cases.get(i as usize) else {
                    continue;
                };
                out.review.push(ReviewItem {
                    index: back(i),
                    test: case.full_name(),
                    status: case.status,
                    reason: crate::matching::ReviewReason::NoCaseId,
                    detail: format!(
                        "no case id, and no {automation_key} field to create a case under"
                    ),
                });
            }
        }
    }
    for nc in full.add_cases.iter().filter(|_| findable) {
        let Some(first) = nc.indexes.first().and_then(|&i| cases.get(i as usize)) else {
            continue;
        };
        let aid = automation_id(first);
        let extra = trcli_case_fields(&case_fields, project, first);
        let mut body = BTreeMap::new();
        body.insert("title".to_string(), json!(nc.body.title));
        for (k, v) in nc.body.fields.iter().chain(extra.iter()) {
            body.insert(k.clone(), field_json(v));
        }
        body.insert(automation_key.clone(), json!(aid));
        if let (Some(field), Some(steps)) = (&steps_key, case_steps(first)) {
            body.entry(field.clone()).or_insert(steps);
        }
        check_fields(
            &mut out,
            &case_fields,
            project,
            &aid,
            &mut body,
            &nc.body.fields,
            &extra,
        );
        let section_name = (tr.section_per_suite)
            .then(|| first.suite.last().cloned())
            .flatten()
            .filter(|s| !s.trim().is_empty());
        out.new_cases.push(NewCase {
            automation_id: aid,
            section_name,
            body: Value::Object(body.into_iter().collect()),
            tests: nc
                .indexes
                .iter()
                .filter_map(|&i| cases.get(i as usize))
                .map(|c| c.full_name())
                .collect(),
        });
    }

    // Cases exported before (their automation id field holds the test's) that changed.
    if tr.update_cases
        && let Some(seen) = &logic.cases
    {
        let mut done = Vec::new();
        for (index, case) in cases.iter().enumerate() {
            let aid = automation_id(case);
            let Some(id) = cache
                .automation_ids
                .get(&aid)
                .and_then(|k| k.trim_start_matches('C').parse::<u64>().ok())
            else {
                continue;
            };
            let Some(existing) = seen.get(&id) else {
                continue;
            };
            if done.contains(&id)
                || existing.fields.get(&automation_key).and_then(Value::as_str)
                    != Some(aid.as_str())
            {
                continue;
            }
            done.push(id);
            let section = existing.section_id.unwrap_or(0);
            let expected =
                crate::testrail::new_case(tr, case, index as u64, section, &input.context)?;
            let mut want: BTreeMap<String, FieldValue> = expected.body.fields.clone();
            want.extend(trcli_case_fields(&case_fields, project, case));
            want.remove(&automation_key);
            let mut changes = serde_json::Map::new();
            if existing.fields.get("title").and_then(Value::as_str)
                != Some(expected.body.title.as_str())
            {
                changes.insert("title".into(), json!(expected.body.title));
            }
            for (k, v) in &want {
                if k.starts_with("custom_") && !fields::applies(&case_fields, project, k) {
                    continue;
                }
                if fields::misfit(&case_fields, project, k, v).is_some() {
                    continue;
                }
                let value = field_json(v);
                if existing.fields.get(k) != Some(&value) {
                    changes.insert(k.clone(), value);
                }
            }
            if let (Some(field), Some(steps)) = (&steps_key, case_steps(case))
                && !want.contains_key(field)
                && existing.fields.get(field) != Some(&steps)
            {
                changes.insert(field.clone(), steps);
            }
            if !changes.is_empty() {
                out.updates.push(Update {
                    case_id: id,
                    changes: Value::Object(changes),
                    tests: vec![case.full_name()],
                });
            }
        }
    }

    // Results, per configuration.
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, case) in cases.iter().enumerate() {
        let slot = match (&tr.configuration_property, &tr.plan_id) {
            (Some(prop), Some(_)) => case
                .properties
                .iter()
                .find(|p| &p.name == prop)
                .map(|p| p.value.trim().to_string())
                .unwrap_or_default(),
            _ => String::new(),
        };
        groups.entry(slot).or_default().push(i);
    }
    if tr.configuration_property.is_some() && tr.plan_id.is_none() {
        out.warnings.push(Warning::new(
            "testrail.configurations_need_plan",
            "`testrail.configuration_property` needs `testrail.plan_id`: configurations live in plan entries; results are merged into one run",
            None,
        ));
    }
    if !tr.export_results {
        return Ok(out);
    }
    for (name, members) in groups {
        let subset: Vec<TestCase> = members.iter().map(|&i| cases[i].clone()).collect();
        let p = crate::testrail::plan(&config, &subset, &input.context, &cache)?;
        let Some(body) = p.add_results_for_cases else {
            out.slots.push(Slot {
                name,
                units: Vec::new(),
            });
            continue;
        };
        let mut seen: BTreeMap<(u64, Vec<String>), u64> = BTreeMap::new();
        let mut units = Vec::new();
        for (entry, line) in body.results.into_iter().zip(p.summary.iter()) {
            let members_cases: Vec<&TestCase> = line
                .indexes
                .iter()
                .filter_map(|&i| subset.get(i as usize))
                .collect();
            let occurrence = {
                let n = seen.entry((entry.case_id, line.tests.clone())).or_insert(0);
                *n += 1;
                *n - 1
            };
            let token = identity::unit_token(
                &logic.run_token,
                entry.case_id,
                &name,
                &line.tests,
                occurrence,
            );
            let mut value = serde_json::to_value(&entry).unwrap_or(Value::Null);
            if let Some(first) = members_cases.first() {
                for (k, v) in trcli::result_fields(first) {
                    let v = fields::coerce(&result_fields, project, &k, v);
                    value[k.as_str()] = field_json(&v);
                }
                let steps = trcli::steps(first);
                if !steps.is_empty() {
                    value["custom_step_results"] =
                        serde_json::to_value(steps).unwrap_or(Value::Null);
                }
                if let Some(head) = trcli::comment_head(first) {
                    let rest = value["comment"].as_str().map(str::to_string);
                    value["comment"] = json!(match rest {
                        Some(r) => format!("{head}\n\n{r}"),
                        None => head,
                    });
                }
            }
            let marker = identity::marker(&logic.run_token, &token);
            value["comment"] = json!(match value["comment"].as_str() {
                Some(c) if !c.is_empty() => format!("{c}\n\n{marker}"),
                _ => marker,
            });
            // Result fields the project lacks are dropped (TestRail would drop them
            // silently); values that do not fit fail the result.
            let key = format!("C{}", entry.case_id);
            if let Some(map) = value.as_object_mut() {
                let customs: Vec<String> = map
                    .keys()
                    .filter(|k| k.starts_with("custom_"))
                    .cloned()
                    .collect();
                for k in customs {
                    if k == "custom_step_results" {
                        let template = logic
                            .cases
                            .as_ref()
                            .and_then(|c| c.get(&entry.case_id))
                            .and_then(|c| c.template_id);
                        if !fields::applies(&result_fields, project, &k)
                            || !fields::for_template(&result_fields, &k, template)
                        {
                            map.remove(&k);
                        }
                        continue;
                    }
                    if !fields::applies(&result_fields, project, &k) {
                        map.remove(&k);
                        out.warnings.push(Warning::new(
                            "testrail.unknown_field",
                            format!("the project has no result field {k}: it is left out"),
                            None,
                        ));
                        continue;
                    }
                    let fv: Option<FieldValue> = serde_json::from_value(map[&k].clone()).ok();
                    if let Some(why) =
                        fv.and_then(|fv| fields::misfit(&result_fields, project, &k, &fv))
                    {
                        out.invalid.push((token.clone(), format!("{key}: {why}")));
                    }
                }
                for k in ["elapsed", "version", "defects"] {
                    if map.get(k).is_some_and(Value::is_null) {
                        map.remove(k);
                    }
                }
            }
            let mut attachments: Vec<String> = Vec::new();
            for c in &members_cases {
                for a in c.attachments.iter().cloned().chain(trcli::attachments(c)) {
                    if !attachments.contains(&a) {
                        attachments.push(a);
                    }
                }
            }
            let mut line = line.clone();
            line.indexes = line
                .indexes
                .iter()
                .map(|&i| back(members.get(i as usize).map_or(i, |&m| m as u64)))
                .collect();
            out.summary.push(line);
            units.push(Unit {
                token,
                case_id: entry.case_id,
                body: value,
                tests: members_cases.iter().map(|c| c.full_name()).collect(),
                attachments,
            });
        }
        out.slots.push(Slot { name, units });
    }
    Ok(out)
}

/// A test's own steps (Robot Framework keywords, Cucumber steps) as the value of a
/// Steps field: `[{"content": "Given a basket", "expected": ""}]`.
fn case_steps(case: &TestCase) -> Option<Value> {
    let steps: Vec<Value> = case
        .steps
        .iter()
        .filter(|s| s.depth == 0)
        .map(|s| {
            let content = match &s.keyword {
                Some(k) => format!("{} {}", k.trim(), s.name),
                None => s.name.clone(),
            };
            json!({"content": content, "expected": ""})
        })
        .collect();
    (!steps.is_empty()).then_some(Value::Array(steps))
}

/// A test's `testrail_case_field` values in their fields' types.
fn trcli_case_fields(
    case_fields: &Value,
    project: u64,
    case: &TestCase,
) -> BTreeMap<String, FieldValue> {
    trcli::case_fields(case)
        .into_iter()
        .map(|(k, v)| {
            let v = fields::coerce(case_fields, project, &k, v);
            (k, v)
        })
        .collect()
}

/// Drops case fields the project lacks (with a warning) and notes values that do
/// not fit.
fn check_fields(
    out: &mut Computed,
    case_fields: &Value,
    project: u64,
    aid: &str,
    body: &mut BTreeMap<String, Value>,
    mapped: &BTreeMap<String, FieldValue>,
    extra: &BTreeMap<String, FieldValue>,
) {
    for (k, v) in mapped.iter().chain(extra.iter()) {
        if !k.starts_with("custom_") {
            continue;
        }
        if !fields::applies(case_fields, project, k) {
            body.remove(k);
            let w = Warning::new(
                "testrail.unknown_field",
                format!("the project has no case field {k}: it is left out of new cases"),
                None,
            );
            if !out.warnings.contains(&w) {
                out.warnings.push(w);
            }
        } else if let Some(why) = fields::misfit(case_fields, project, k, v) {
            out.invalid.push((aid.to_string(), why));
        }
    }
}
