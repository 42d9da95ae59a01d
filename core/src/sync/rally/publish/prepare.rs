//! Before any result: the sprint's iteration, FormattedID → ref look-ups, the
//! sprint's test set (found or created) and its members.

use super::{Phase, PublishInput, PublishLogic, Unit, UnitStatus, Upload, UploadStatus};
use crate::config::context::format_millis;
use crate::config::template;
use crate::rally::query::{Condition, Expr, Operator, Value as QValue};
use crate::sync::rally::driver::{Action, Logic};
use crate::sync::rally::link::{Call, Outcome};
use crate::sync::rally::outputs::NamedRef;
use crate::sync::rally::wsapi::{self, Page, Query, any_of, eq, ref_of, text_of};
use crate::sync::report::{Entry, RecordKind};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// FormattedIDs per look-up query, members per collection add.
const BATCH: usize = 25;

impl PublishLogic {
    pub(super) fn next_prepare(&mut self, input: &PublishInput) -> Option<Action> {
        if self.prepared {
            return None;
        }
        let rc = &input.config.rally;
        if !self.iteration_checked && self.needs_sprint(input) {
            let now = input.context.now().ok()?;
            let at = format_millis(now);
            let cond = |field: &str, op| {
                Expr::Condition(Condition::new(field, op, vec![QValue::bare(&at)]))
            };
            let expr = Expr::and(
                cond("StartDate", Operator::Le),
                cond("EndDate", Operator::Ge),
            );
            let mut q = Query::new("/iteration", "ObjectID,Name,StartDate,EndDate")
                .filter(&expr)
                .scoped(rc.workspace.as_deref(), rc.project.as_deref());
            q.scope_down = false;
            q.order = Some("StartDate DESC".into());
            self.phase = Phase::Iteration;
            return Some(Action::Call(Call::get(
                q.to_path(),
                format!("find the iteration of {}", &at[..at.len().min(10)]),
            )));
        }
        self.plan(input)?;
        let plan = self.plan.as_ref()?;
        let set = plan.test_set.clone();
        // Refs found since the plan was made count at once; the plan is made again
        // after the last look-up, not after each (it goes over every result).
        let missing: BTreeSet<&str> = self.missing.iter().map(String::as_str).collect();
        let mut found_since = false;
        let mut pending = Vec::new();
        for id in &plan.lookups {
            if self.cache.rally_test_cases.contains_key(id) {
                found_since = true;
            } else if pending.len() < BATCH && !missing.contains(id.as_str()) {
                pending.push(id.clone());
            }
        }
        if !pending.is_empty() {
            return Some(self.lookup_call(input, pending, 1));
        }
        if found_since {
            self.replan();
            return self.next_prepare(input);
        }
        if let Some(set) = &set
            && set.reference.is_none()
        {
            if !self.set_searched {
                let mut q = Query::new("/testset", "ObjectID,Name")
                    .filter(&eq("Name", QValue::quoted(&set.name)))
                    .scoped(rc.workspace.as_deref(), rc.project.as_deref());
                q.scope_down = false;
                self.phase = Phase::TestSetFind;
                return Some(Action::Call(Call::get(
                    q.to_path(),
                    format!("find test set {:?}", set.name),
                )));
            }
            if self.set_tries >= self.max_tries {
                self.stop(
                    crate::error::Error::new(
                        "rally.gave_up",
                        format!(
                            "could not create test set {:?}: every answer was lost",
                            set.name
                        ),
                    ),
                    true,
                );
                return None;
            }
            let mut body = serde_json::to_value(&set.create).ok()?;
            if let (Some(it), Some(obj)) = (
                &self.iteration,
                body.get_mut("TestSet").and_then(Value::as_object_mut),
            ) {
                obj.insert("Iteration".into(), Value::String(it.reference.clone()));
            }
            self.set_tries += 1;
            self.phase = Phase::TestSetCreate;
            return Some(Action::Call(Call::post(
                "/testset/create?fetch=ObjectID,Name".into(),
                body.to_string(),
                format!("create test set {:?}", set.name),
            )));
        }
        if self.units.is_none() {
            let units = self
                .plan(input)?
                .results
                .iter()
                .map(|r| Unit {
                    status: UnitStatus::Unchecked,
                    reference: None,
                    tries: 0,
                    attachments: r
                        .attachments
                        .uploads
                        .iter()
                        .map(|_| Upload {
                            status: UploadStatus::Todo,
                            content: None,
                            size: None,
                            tries: 0,
                        })
                        .collect(),
                    check_attachments: false,
                    alone: false,
                })
                .collect();
            self.units = Some(units);
        }
        let Some(set_ref) = set.and_then(|s| s.reference) else {
            self.prepared = true;
            return None;
        };
        let oid = set_ref.rsplit('/').next().unwrap_or("").to_string();
        if self.story_cases.is_none() {
            let Some(it) = &self.iteration else {
                self.story_cases = Some(Vec::new());
                return self.next_prepare(input);
            };
            return Some(self.story_cases_call(input, &it.reference.clone(), 1));
        }
        if self.members.is_none() {
            return Some(self.members_call(&oid, 1));
        }
        let wanted = self.members_to_add(input)?;
        if wanted.is_empty() {
            self.prepared = true;
            return None;
        }
        if self.member_tries >= self.max_tries {
            self.stop(
                crate::error::Error::new(
                    "rally.gave_up",
                    "could not add test cases to the test set: every answer was lost",
                ),
                true,
            );
            return None;
        }
        let items: Vec<Value> = wanted.iter().map(|r| json!({ "_ref": r })).collect();
        self.member_tries += 1;
        self.phase = Phase::AddMembers {
            batch: wanted.clone(),
        };
        Some(Action::Call(Call::post(
            format!("/testset/{oid}/TestCases/add?fetch=ObjectID"),
            json!({ "CollectionItems": items }).to_string(),
            format!("add {} test case(s) to the test set", wanted.len()),
        )))
    }

    /// The next (at most [`BATCH`]) test cases of the plan and of the sprint's stories
    /// that the test set does not hold yet, sorted, each once.
    fn members_to_add(&mut self, input: &PublishInput) -> Option<Vec<String>> {
        self.plan(input)?;
        let plan = self.plan.as_ref()?;
        let members = self.members.as_ref();
        let wanted: BTreeSet<&str> = plan
            .results
            .iter()
            .map(|r| r.body.test_case_result.test_case.as_str())
            .chain(self.story_cases.iter().flatten().map(String::as_str))
            .filter(|r| !members.is_some_and(|m| m.contains(*r)))
            .collect();
        Some(wanted.into_iter().take(BATCH).map(str::to_string).collect())
    }

    fn needs_sprint(&self, input: &PublishInput) -> bool {
        if input.context.sprint.is_some() {
            return false;
        }
        let Some(t) = &input.config.rally.test_set else {
            return false;
        };
        template::placeholders(t)
            .map(|names| names.iter().any(|n| *n == "N" || *n == "sprint"))
            .unwrap_or(false)
    }

    fn lookup_call(&mut self, input: &PublishInput, batch: Vec<String>, start: u64) -> Action {
        let rc = &input.config.rally;
        let expr = any_of(
            batch
                .iter()
                .map(|id| eq("FormattedID", QValue::quoted(id)))
                .collect(),
        );
        let mut q = Query::new("/testcase", "FormattedID,ObjectID,Name")
            .scoped(rc.workspace.as_deref(), None)
            .at(start);
        if let Some(e) = &expr {
            q = q.filter(e);
        }
        let what = format!("look up {}", batch.join(", "));
        self.phase = Phase::Lookup { batch, start };
        Action::Call(Call::get(workspace_wide(&q), what))
    }

    fn story_cases_call(&mut self, input: &PublishInput, iteration: &str, start: u64) -> Action {
        let rc = &input.config.rally;
        let q = Query::new("/testcase", "ObjectID,FormattedID")
            .filter(&eq("WorkProduct.Iteration", QValue::bare(iteration)))
            .scoped(rc.workspace.as_deref(), rc.project.as_deref())
            .at(start);
        self.phase = Phase::StoryCases { start };
        Action::Call(Call::get(
            q.to_path(),
            "find the test cases of the sprint's user stories",
        ))
    }

    fn members_call(&mut self, set_oid: &str, start: u64) -> Action {
        let q = Query::new(
            format!("/testset/{set_oid}/TestCases"),
            "ObjectID,FormattedID",
        )
        .at(start);
        self.phase = Phase::Members { start };
        Action::Call(Call::get(q.to_path(), "list the test set's test cases"))
    }

    pub(super) fn on_prepare(&mut self, input: &PublishInput, phase: Phase, outcome: Outcome) {
        // Whatever the answer, what is left to prepare is decided again.
        self.prepared = false;
        let Some(answer) = self.common(outcome) else {
            return;
        };
        match phase {
            Phase::Iteration => {
                self.iteration_checked = true;
                self.replan();
                match answer.and_then(|v| Page::read(&v, "find the sprint's iteration")) {
                    Err(e) if e.code == wsapi::BAD_ANSWER => {
                        self.iteration_checked = false;
                        self.stop(e, true);
                    }
                    Ok(page) => {
                        if let Some(it) = page.results.first() {
                            let name = text_of(it, "Name");
                            self.sprint = name.as_deref().map(sprint_number);
                            self.iteration = ref_of(it).map(|r| NamedRef { reference: r, name });
                        }
                    }
                    Err(e) => self.ledger.warn(crate::error::Warning::new(
                        "rally.no_iteration",
                        format!("the sprint's iteration was not found: {}", e.message),
                        None,
                    )),
                }
            }
            Phase::Lookup { batch, .. } => {
                match answer.and_then(|v| Page::read(&v, "look up test cases")) {
                    // Not "no such test case": what Rally holds is unknown.
                    Err(e) if e.code == wsapi::BAD_ANSWER => self.stop(e, true),
                    Ok(page) => {
                        for tc in &page.results {
                            if let (Some(id), Some(r)) = (text_of(tc, "FormattedID"), ref_of(tc)) {
                                self.cache.rally_test_cases.insert(id, r);
                            }
                        }
                        if let Some(next) = page.next_start() {
                            let action = self.lookup_call(input, batch, next);
                            if let Action::Call(c) = action {
                                self.requeue(c);
                            }
                            return;
                        }
                        for id in batch {
                            if !self.cache.rally_test_cases.contains_key(&id) {
                                self.missing_case(
                                    input,
                                    &id,
                                    "no test case with this FormattedID in the workspace",
                                );
                            }
                        }
                    }
                    Err(e) => {
                        for id in batch {
                            self.missing_case(input, &id, &e.message);
                        }
                    }
                }
            }
            Phase::TestSetFind => {
                let name = self.set_name(input);
                match answer.and_then(|v| Page::read(&v, "find the test set")) {
                    Ok(page) => {
                        // Searched only once the answer is read: a resumed run that
                        // stopped here looks again before creating.
                        self.set_searched = true;
                        let hit = page
                            .results
                            .iter()
                            .find(|s| text_of(s, "Name").as_deref() == name.as_deref())
                            .and_then(ref_of);
                        if let (Some(r), Some(n)) = (hit, name) {
                            self.cache.rally_test_sets.insert(n.clone(), r.clone());
                            self.ledger.skipped.push(
                                Entry::new(RecordKind::TestSet, n, "the test set already exists")
                                    .with_ref(Some(r)),
                            );
                            self.replan();
                        }
                    }
                    Err(e) => {
                        let retry = e.code == wsapi::BAD_ANSWER;
                        self.stop(e, retry)
                    }
                }
            }
            Phase::TestSetCreate => {
                let name = self.set_name(input).unwrap_or_default();
                match answer {
                    Ok(v) => match wsapi::created_object(&v).and_then(ref_of) {
                        Some(r) => {
                            self.cache.rally_test_sets.insert(name.clone(), r.clone());
                            self.ledger.created.push(
                                Entry::new(
                                    RecordKind::TestSet,
                                    name,
                                    "created the sprint's test set",
                                )
                                .with_ref(Some(r)),
                            );
                            self.replan();
                        }
                        // An answer without the new set: it may be there; look again.
                        None => self.set_searched = false,
                    },
                    // Lost answer: look for it before creating it again.
                    Err(e) if is_lost(&e) => self.set_searched = false,
                    Err(e) => self.stop(e, false),
                }
            }
            Phase::StoryCases { start } => match answer
                .and_then(|v| Page::read(&v, "find the test cases of the sprint's user stories"))
            {
                Err(e) if e.code == wsapi::BAD_ANSWER => self.stop(e, true),
                Ok(page) => {
                    let mut refs = self.story_cases.take().unwrap_or_default();
                    refs.extend(page.results.iter().filter_map(ref_of));
                    if let Some(next) = page.next_start() {
                        let it = self.iteration.as_ref().map(|i| i.reference.clone());
                        self.story_cases = None;
                        self.partial_story_cases = refs;
                        if let Some(it) = it
                            && let Action::Call(c) = self.story_cases_call(input, &it, next)
                        {
                            self.requeue(c);
                        }
                        return;
                    }
                    let mut all = std::mem::take(&mut self.partial_story_cases);
                    all.extend(refs);
                    self.story_cases = Some(all);
                }
                Err(e) => {
                    self.ledger.warn(crate::error::Warning::new(
                        "rally.story_cases",
                        format!(
                            "the test cases of the sprint's user stories were not added: {}",
                            e.message
                        ),
                        None,
                    ));
                    let _ = start;
                    self.story_cases = Some(Vec::new());
                }
            },
            Phase::Members { start: _ } => {
                match answer.and_then(|v| Page::read(&v, "list the test set's test cases")) {
                    Ok(page) => {
                        self.partial_members
                            .extend(page.results.iter().filter_map(ref_of));
                        if let Some(next) = page.next_start() {
                            let oid = self.set_oid(input);
                            if let Action::Call(c) = self.members_call(&oid, next) {
                                self.requeue(c);
                            }
                            return;
                        }
                        let listed = std::mem::take(&mut self.partial_members);
                        self.members = Some(listed.into_iter().collect());
                    }
                    Err(e) => self.stop(e, false),
                }
            }
            Phase::AddMembers { batch } => match answer {
                // Rally lists what a collection add did; an answer without that list
                // is not sure: list the members again before adding.
                Ok(v) if !v.get("Results").is_some_and(Value::is_array) => self.members = None,
                Ok(_) => {
                    let name = self.set_name(input).unwrap_or_default();
                    if let Some(m) = &mut self.members {
                        m.extend(batch.iter().cloned());
                    }
                    self.member_tries = 0;
                    self.ledger.updated.push(
                        Entry::new(
                            RecordKind::TestSetMembers,
                            name,
                            format!("added {} test case(s) to the test set", batch.len()),
                        )
                        .with_ref(
                            self.plan
                                .as_ref()
                                .and_then(|p| p.test_set.as_ref())
                                .and_then(|s| s.reference.clone()),
                        )
                        .with_tests(batch),
                    );
                }
                // Lost answer: list the members again before adding.
                Err(e) if is_lost(&e) => self.members = None,
                Err(e) => self.stop(e, false),
            },
            _ => {}
        }
    }

    /// Puts a follow-up page request in place of the phase just ended.
    fn requeue(&mut self, call: Call) {
        self.queued = Some(call);
    }

    fn set_name(&mut self, input: &PublishInput) -> Option<String> {
        self.plan(input)
            .and_then(|p| p.test_set.as_ref())
            .map(|s| s.name.clone())
    }

    fn set_oid(&mut self, input: &PublishInput) -> String {
        self.plan(input)
            .and_then(|p| p.test_set.as_ref())
            .and_then(|s| s.reference.clone())
            .and_then(|r| r.rsplit('/').next().map(str::to_string))
            .unwrap_or_default()
    }

    fn missing_case(&mut self, input: &PublishInput, id: &str, why: &str) {
        if self.missing.iter().any(|m| m == id) {
            return;
        }
        self.missing.push(id.to_string());
        let tests: Vec<String> = self
            .plan(input)
            .map(|p| {
                p.summary
                    .iter()
                    .filter(|l| l.key == id)
                    .flat_map(|l| l.tests.clone())
                    .collect()
            })
            .unwrap_or_default();
        self.fail(
            Entry::new(RecordKind::TestCaseResult, id, format!("{id}: {why}")).with_tests(tests),
        );
    }
}

/// A lost answer, as the link reports it, or a conflict that may have left the
/// change in place: either way, look before sending it again.
pub(super) fn is_lost(e: &crate::error::Error) -> bool {
    matches!(
        e.code.as_str(),
        "rally.server_error" | "rally.timeout" | "rally.dropped" | wsapi::CONFLICT
    )
}

/// `Sprint 14` → `14`; a name without digits is kept whole.
pub fn sprint_number(name: &str) -> String {
    let digits: Vec<&str> = name
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    digits
        .last()
        .map_or_else(|| name.trim().to_string(), |d| d.to_string())
}

/// A workspace-wide query: `project=null` scopes it to the whole workspace (as the
/// official toolkits do), without the scope flags that only apply to a project.
fn workspace_wide(q: &Query) -> String {
    let mut q = q.clone();
    q.project = None;
    let path = q.to_path();
    format!("{path}&project=null")
}
