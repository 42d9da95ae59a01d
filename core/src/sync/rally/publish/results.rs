//! TestCaseResults: look for the ones this run already put in Rally (same test case
//! and build, and the run's identity in Notes), create the others with that identity,
//! and after a lost answer look again before creating.

use super::identity;
use super::{Found, Phase, PublishInput, PublishLogic, UnitStatus};
use crate::error::Error;
use crate::rally::query::{Condition, Expr, Operator, Value as QValue};
use crate::sync::rally::driver::{Action, Logic};
use crate::sync::rally::link::{Call, Outcome};
use crate::sync::rally::wsapi::{self, Page, Query, any_of, eq, ref_of, text_of};
use crate::sync::report::{Entry, RecordKind};

/// Results looked for per query.
const CHECK_BATCH: usize = 20;

/// Results per page of a look-up: each carries its Notes (up to 32 KB).
const CHECK_PAGE: u64 = 50;

impl PublishLogic {
    pub(super) fn next_result(&mut self, input: &PublishInput) -> Option<Action> {
        let unchecked: Vec<u64> = self
            .units()
            .iter()
            .enumerate()
            .filter(|(_, u)| u.status == UnitStatus::Unchecked)
            .map(|(i, _)| i as u64)
            .take(CHECK_BATCH)
            .collect();
        if !unchecked.is_empty() {
            return self.check_call(input, unchecked, 1, Vec::new(), false);
        }
        let max = self.max_tries;
        let count = self.units().len();
        for i in 0..count as u64 {
            let Some(unit) = self.units().get(i as usize).cloned() else {
                continue;
            };
            match unit.status {
                UnitStatus::Unknown => {
                    return self.check_call(input, vec![i], 1, Vec::new(), true);
                }
                UnitStatus::Pending if unit.tries >= max => {
                    let (key, tests) = self.result_names(input, i);
                    if let Some(u) = self.unit_mut(i) {
                        u.status = UnitStatus::Failed;
                    }
                    self.fail(
                        Entry::new(
                            RecordKind::TestCaseResult,
                            key,
                            format!("gave up after {} creates whose answers were lost; none is in Rally", unit.tries),
                        )
                        .with_tests(tests),
                    );
                }
                UnitStatus::Pending => {
                    let (run, units) = self.tokens(input)?.clone();
                    let unit_token = units.get(i as usize)?.clone();
                    let plan = self.plan(input)?;
                    let result = plan.results.get(i as usize)?;
                    let mut body = result.body.clone();
                    let fields = &mut body.test_case_result;
                    fields.notes = Some(identity::with_marker(
                        fields.notes.as_deref(),
                        &identity::marker(&run, &unit_token),
                    ));
                    let body = serde_json::to_string(&body).ok()?;
                    let what = format!("create the result of {}", result.formatted_id);
                    if let Some(u) = self.unit_mut(i) {
                        u.tries += 1;
                    }
                    self.phase = Phase::Create { unit: i };
                    return Some(Action::Call(Call::post(
                        "/testcaseresult/create?fetch=ObjectID".into(),
                        body,
                        what,
                    )));
                }
                _ => {}
            }
        }
        None
    }

    /// A query for results of this run already in Rally: these units' test cases,
    /// the build, and the run's marker in Notes.
    fn check_call(
        &mut self,
        input: &PublishInput,
        units: Vec<u64>,
        start: u64,
        found: Vec<Found>,
        recheck: bool,
    ) -> Option<Action> {
        let run = self.tokens(input)?.0.clone();
        let plan = self.plan(input)?;
        let mut cases: Vec<String> = units
            .iter()
            .filter_map(|i| plan.results.get(*i as usize))
            .map(|r| r.body.test_case_result.test_case.clone())
            .collect();
        cases.sort();
        cases.dedup();
        let build = plan
            .results
            .get(*units.first()? as usize)?
            .body
            .test_case_result
            .build
            .clone();
        let by_case = any_of(
            cases
                .iter()
                .map(|c| eq("TestCase", QValue::bare(c)))
                .collect(),
        )?;
        let marked = Expr::Condition(Condition::new(
            "Notes",
            Operator::Contains,
            vec![QValue::quoted(&identity::run_marker(&run))],
        ));
        let expr = Expr::and(
            Expr::and(eq("Build", QValue::quoted(&build)), by_case),
            marked,
        );
        let mut q = Query::new("/testcaseresult", "ObjectID,TestCase,Notes")
            .filter(&expr)
            .scoped(input.config.rally.workspace.as_deref(), None)
            .at(start);
        q.pagesize = CHECK_PAGE;
        let path = format!("{}&project=null", q.to_path());
        let what = format!("look for results this run already sent for build {build:?}");
        let first = *units.first()?;
        self.phase = if recheck {
            Phase::Recheck {
                unit: first,
                start,
                found,
            }
        } else {
            Phase::PreCheck {
                units,
                start,
                found,
            }
        };
        Some(Action::Call(Call::get(path, what)))
    }

    pub(super) fn on_result(&mut self, input: &PublishInput, phase: Phase, outcome: Outcome) {
        let Some(answer) = self.common(outcome) else {
            return;
        };
        match phase {
            Phase::PreCheck { units, found, .. } => {
                self.on_check(input, units, found, answer, false)
            }
            Phase::Recheck { unit, found, .. } => {
                self.on_check(input, vec![unit], found, answer, true)
            }
            Phase::Create { unit } => {
                let (key, tests) = self.result_names(input, unit);
                match answer {
                    Ok(v) => match wsapi::created_object(&v).and_then(ref_of) {
                        Some(r) => {
                            self.claimed.insert(r.clone());
                            let tries = self.units().get(unit as usize).map_or(1, |u| u.tries);
                            if let Some(u) = self.unit_mut(unit) {
                                u.status = UnitStatus::Done;
                                u.reference = Some(r.clone());
                            }
                            let why = if tries > 1 {
                                format!("created (try {tries})")
                            } else {
                                "created".to_string()
                            };
                            self.ledger.created.push(
                                Entry::new(RecordKind::TestCaseResult, key, why)
                                    .with_ref(Some(r))
                                    .with_tests(tests),
                            );
                        }
                        // An answer without the new record (a proxy's page, another
                        // result type): it may have been created; look before again.
                        None => {
                            if let Some(u) = self.unit_mut(unit) {
                                u.status = UnitStatus::Unknown;
                            }
                        }
                    },
                    Err(e) if super::prepare::is_lost(&e) => {
                        if let Some(u) = self.unit_mut(unit) {
                            u.status = UnitStatus::Unknown;
                        }
                    }
                    Err(e) => self.fail_unit(unit, key, tests, e.message),
                }
            }
            _ => {}
        }
    }

    fn on_check(
        &mut self,
        input: &PublishInput,
        units: Vec<u64>,
        mut found: Vec<Found>,
        answer: Result<serde_json::Value, Error>,
        recheck: bool,
    ) {
        let what = "look for results this run already sent";
        let page = match answer.and_then(|v| Page::read(&v, what)) {
            Ok(page) => page,
            // Without knowing what is there, creating could duplicate: stop.
            Err(e) => {
                let retry = e.code == wsapi::BAD_ANSWER;
                return self.stop(e, retry);
            }
        };
        let Some(run) = self.tokens(input).map(|t| t.0.clone()) else {
            return;
        };
        for r in &page.results {
            let (Some(tc), Some(notes), Some(reference)) =
                (text_of(r, "TestCase"), text_of(r, "Notes"), ref_of(r))
            else {
                continue;
            };
            for unit in identity::units_in(&notes, &run) {
                found.push(Found {
                    test_case: crate::autofill::short_ref(&tc),
                    unit,
                    reference: reference.clone(),
                });
            }
        }
        if let Some(next) = page.next_start() {
            if let Some(Action::Call(c)) = self.check_call(input, units, next, found, recheck) {
                self.queued = Some(c);
            }
            return;
        }
        for i in units {
            let Some(unit_token) = self
                .tokens(input)
                .and_then(|t| t.1.get(i as usize).cloned())
            else {
                continue;
            };
            let Some(tc) = self.plan(input).and_then(|p| {
                p.results
                    .get(i as usize)
                    .map(|r| r.body.test_case_result.test_case.clone())
            }) else {
                continue;
            };
            let hit = found
                .iter()
                .find(|f| {
                    f.test_case == tc
                        && f.unit == unit_token
                        && !self.claimed.contains(&f.reference)
                })
                .map(|f| f.reference.clone());
            let (key, tests) = self.result_names(input, i);
            let tries = self.units().get(i as usize).map_or(0, |u| u.tries);
            match hit {
                Some(r) => {
                    self.claimed.insert(r.clone());
                    if let Some(u) = self.unit_mut(i) {
                        u.status = UnitStatus::Done;
                        u.reference = Some(r.clone());
                        u.check_attachments = !u.attachments.is_empty();
                    }
                    let entry = |why: &str| {
                        Entry::new(RecordKind::TestCaseResult, key.clone(), why)
                            .with_ref(Some(r.clone()))
                            .with_tests(tests.clone())
                    };
                    if tries > 0 {
                        self.ledger.created.push(entry(
                            "created; the answer was lost, and a second look found it in Rally",
                        ));
                    } else {
                        self.ledger
                            .skipped
                            .push(entry("already in Rally: this run sent this result before"));
                    }
                }
                None => {
                    if let Some(u) = self.unit_mut(i) {
                        u.status = UnitStatus::Pending;
                    }
                }
            }
        }
    }

    fn fail_unit(&mut self, unit: u64, key: String, tests: Vec<String>, why: String) {
        if let Some(u) = self.unit_mut(unit) {
            u.status = UnitStatus::Failed;
        }
        self.fail(Entry::new(RecordKind::TestCaseResult, key, why).with_tests(tests));
    }

    /// The FormattedID and tests of a unit, for entries.
    pub(super) fn result_names(
        &mut self,
        input: &PublishInput,
        unit: u64,
    ) -> (String, Vec<String>) {
        self.plan(input)
            .and_then(|p| p.results.get(unit as usize))
            .map(|r| (r.formatted_id.clone(), r.tests.clone()))
            .unwrap_or_default()
    }
}
