//! TestCaseResults: look for the ones this run already put in Rally (same test case
//! and build, and the run's identity in Notes), create the others with that identity,
//! and after a lost answer look again before creating.

use super::identity;
use super::{Found, Phase, PublishInput, PublishLogic, Unit, UnitStatus};
use crate::error::{Error, Warning};
use crate::rally::payload::TestCaseResultCreate;
use crate::rally::query::{Condition, Expr, Operator, Value as QValue};
use crate::sync::rally::driver::{Action, Logic};
use crate::sync::rally::link::{BATCH_UNSUPPORTED, Call, Outcome};
use crate::sync::rally::wsapi::{self, Page, Query, any_of, eq, ref_of, text_of};
use crate::sync::report::{Entry, RecordKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// Results looked for per query.
const CHECK_BATCH: usize = 20;

/// Results per page of a look-up: each carries its Notes (up to 32 KB).
const CHECK_PAGE: u64 = 50;

const CREATE_PATH: &str = "/testcaseresult/create";

/// `{"Batch": [{"Entry": {"Path", "Method", "Body"}}, ...]}`
#[derive(Serialize)]
struct BatchBody {
    #[serde(rename = "Batch")]
    batch: Vec<BatchItem>,
}

#[derive(Serialize)]
struct BatchItem {
    #[serde(rename = "Entry")]
    entry: BatchEntry,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BatchEntry {
    path: String,
    method: &'static str,
    body: TestCaseResultCreate,
}

/// The ref of the TestCaseResult one element of a batch's `Results` made: the
/// created object itself, or a `CreateResult`-like wrapper of it; `None` when it
/// names no created TestCaseResult (an entry Rally refused, something else).
pub(super) fn created_ref(result: &serde_json::Value) -> Option<String> {
    let mut object = result;
    for wrapper in ["CreateResult", "Object"] {
        if let Some(inner) = object.get(wrapper).filter(|o| o.is_object()) {
            object = inner;
        }
    }
    let has_errors = object
        .get("Errors")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|e| !e.is_empty());
    if has_errors {
        return None;
    }
    if let Some(r) = ref_of(object) {
        let kind = r.trim_start_matches('/').split('/').next().unwrap_or("");
        return kind.eq_ignore_ascii_case("testcaseresult").then_some(r);
    }
    let oid = object.get("ObjectID")?;
    let oid = oid
        .as_u64()
        .or_else(|| oid.as_str().and_then(|t| t.parse().ok()))?;
    Some(format!("/testcaseresult/{oid}"))
}

/// `TC1, TC2, TC3 and 22 more`.
fn short_list(ids: &[String]) -> String {
    const SHOWN: usize = 3;
    if ids.len() <= SHOWN + 1 {
        return ids.join(", ");
    }
    let shown: Vec<&str> = ids.iter().take(SHOWN).map(String::as_str).collect();
    format!("{} and {} more", shown.join(", "), ids.len() - SHOWN)
}

/// The results not settled yet, by what is next for them, in plan order: all not
/// looked for yet, at most [`CHECK_BATCH`] whose creates were lost, and at most
/// `create` to create.
#[derive(Default)]
struct OpenUnits {
    unchecked: Vec<u64>,
    unknown: Vec<u64>,
    pending: Vec<u64>,
    /// The first pending one a batch answer did not account for.
    alone: Option<u64>,
    /// Pending ones out of tries.
    given_up: Vec<u64>,
}

impl PublishLogic {
    /// One pass over the results not known to be settled. Results settle for good
    /// (done or failed) in plan order more or less, so the pass starts at the first
    /// unsettled one: sending 10 000 results one per request stays linear.
    fn open_units(&mut self, create: usize) -> OpenUnits {
        let max = self.max_tries;
        let units = self.units.as_deref().unwrap_or(&[]);
        let settled = |u: &Unit| matches!(u.status, UnitStatus::Done | UnitStatus::Failed);
        let mut from = self.settled_below.min(units.len());
        while units.get(from).is_some_and(settled) {
            from += 1;
        }
        self.settled_below = from;
        let mut open = OpenUnits::default();
        for (i, u) in units.iter().enumerate().skip(from) {
            let i = i as u64;
            match u.status {
                UnitStatus::Unchecked => open.unchecked.push(i),
                UnitStatus::Unknown if open.unknown.len() < CHECK_BATCH => open.unknown.push(i),
                UnitStatus::Pending if u.tries >= max => open.given_up.push(i),
                UnitStatus::Pending => {
                    if u.alone && open.alone.is_none() {
                        open.alone = Some(i);
                    }
                    if open.pending.len() < create {
                        open.pending.push(i);
                    }
                }
                _ => {}
            }
        }
        open
    }

    pub(super) fn next_result(&mut self, input: &PublishInput) -> Option<Action> {
        let size = self.batch_size(input);
        let open = self.open_units(size.max(1));
        if !open.unchecked.is_empty() {
            return self.check_call(input, open.unchecked, 1, Vec::new(), false);
        }
        // Creates whose answers were lost: look for them, several per query.
        if open.unknown.len() == 1 {
            return self.check_call(input, open.unknown, 1, Vec::new(), true);
        }
        if !open.unknown.is_empty() {
            return self.check_call(input, open.unknown, 1, Vec::new(), false);
        }
        for i in open.given_up {
            let (key, tests) = self.result_names(input, i);
            let tries = self.units().get(i as usize).map_or(0, |u| u.tries);
            if let Some(u) = self.unit_mut(i) {
                u.status = UnitStatus::Failed;
            }
            self.fail(
                Entry::new(
                    RecordKind::TestCaseResult,
                    key,
                    format!(
                        "gave up after {tries} creates whose answers were lost; none is in Rally"
                    ),
                )
                .with_tests(tests),
            );
        }
        let (alone, pending) = (open.alone, open.pending);
        // A result a batch answer did not account for goes alone; the others together.
        if alone.is_none() && size >= 2 && pending.len() >= 2 {
            return self.batch_call(input, pending);
        }
        let i = alone.or_else(|| pending.first().copied())?;
        let body = self.create_body(input, i)?;
        let body = serde_json::to_string(&body).ok()?;
        let what = format!("create the result of {}", self.result_names(input, i).0);
        if let Some(u) = self.unit_mut(i) {
            u.tries += 1;
        }
        self.phase = Phase::Create { unit: i };
        Some(Action::Call(Call::post(
            format!("{CREATE_PATH}?fetch=ObjectID"),
            body,
            what,
        )))
    }

    /// Entries per `/batch` request; below 2 when batches are off.
    fn batch_size(&self, input: &PublishInput) -> usize {
        if self.batch_off {
            return 0;
        }
        let size = input
            .config
            .rally
            .batch_size
            .min(crate::config::rally::MAX_BATCH_SIZE);
        usize::try_from(size).unwrap_or(0)
    }

    /// The create body of a unit: the planned result with the run's identity in Notes.
    fn create_body(&mut self, input: &PublishInput, i: u64) -> Option<TestCaseResultCreate> {
        let (run, unit_token) = {
            let (run, units) = self.tokens(input)?;
            (run.clone(), units.get(i as usize)?.clone())
        };
        let plan = self.plan(input)?;
        let result = plan.results.get(i as usize)?;
        let mut body = result.body.clone();
        let fields = &mut body.test_case_result;
        fields.notes = Some(identity::with_marker(
            fields.notes.as_deref(),
            &identity::marker(&run, &unit_token),
        ));
        Some(body)
    }

    /// One `POST /batch` creating the results of these units, in this order.
    fn batch_call(&mut self, input: &PublishInput, units: Vec<u64>) -> Option<Action> {
        let mut entries = Vec::with_capacity(units.len());
        let mut ids = Vec::with_capacity(units.len());
        for &i in &units {
            entries.push(BatchItem {
                entry: BatchEntry {
                    path: format!("{CREATE_PATH}?fetch=ObjectID"),
                    method: "POST",
                    body: self.create_body(input, i)?,
                },
            });
            ids.push(self.result_names(input, i).0);
        }
        let body = serde_json::to_string(&BatchBody { batch: entries }).ok()?;
        let what = format!("create the results of {}", short_list(&ids));
        for &i in &units {
            if let Some(u) = self.unit_mut(i) {
                u.tries += 1;
            }
        }
        self.phase = Phase::BatchCreate { units };
        Some(Action::Call(Call::batch(body, what)))
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
        let build = plan
            .results
            .get(*units.first()? as usize)?
            .body
            .test_case_result
            .build
            .clone();
        let marked = Expr::Condition(Condition::new(
            "Notes",
            Operator::Contains,
            vec![QValue::quoted(&identity::run_marker(&run))],
        ));
        // A few results: their test cases narrow the query. Many: one query for
        // every result of this run (none on a first run) costs fewer requests than
        // one per [`CHECK_BATCH`] results.
        let expr = if units.len() <= CHECK_BATCH {
            let mut cases: Vec<&str> = units
                .iter()
                .filter_map(|i| plan.results.get(*i as usize))
                .map(|r| r.body.test_case_result.test_case.as_str())
                .collect();
            cases.sort_unstable();
            cases.dedup();
            let by_case = any_of(
                cases
                    .iter()
                    .map(|c| eq("TestCase", QValue::bare(c)))
                    .collect(),
            )?;
            Expr::and(
                Expr::and(eq("Build", QValue::quoted(&build)), by_case),
                marked,
            )
        } else {
            Expr::and(eq("Build", QValue::quoted(&build)), marked)
        };
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
        if let Phase::BatchCreate { units } = phase {
            return self.on_batch(input, units, outcome);
        }
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
                        Some(r) => self.record_created(input, unit, r),
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
        // Found records by (test case, result token), in the order Rally listed them.
        let mut by_identity: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for f in found {
            by_identity
                .entry((f.test_case, f.unit))
                .or_default()
                .push(f.reference);
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
            let hit = by_identity
                .get(&(tc, unit_token))
                .and_then(|refs| refs.iter().find(|r| !self.claimed.contains(*r)))
                .cloned();
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

    /// The answer to a `/batch` of creates. Only an answer whose `Results` line up
    /// with the entries, each a created record, is taken as it is; whatever else
    /// leaves the entries it does not account for unknown, and they are looked for
    /// before anything is created again.
    fn on_batch(&mut self, input: &PublishInput, units: Vec<u64>, outcome: Outcome) {
        let answer = match outcome {
            Outcome::Refused(e) if e.code == BATCH_UNSUPPORTED => {
                return self.batches_off(units, e);
            }
            other => match self.common(other) {
                Some(answer) => answer,
                None => return,
            },
        };
        let inner = match answer {
            Ok(v) => v,
            Err(e) if super::prepare::is_lost(&e) => return self.set_unknown(&units),
            // Refused as a whole (a 400 or 413, say): nothing of it was made. One
            // create per request from now on gives each result its own answer.
            Err(e) => return self.batches_off(units, e),
        };
        let results = inner
            .get("Results")
            .and_then(serde_json::Value::as_array)
            .filter(|r| r.len() == units.len());
        let refs: Vec<Option<String>> = match results {
            Some(results) => results.iter().map(created_ref).collect(),
            None => vec![None; units.len()],
        };
        for (&i, reference) in units.iter().zip(refs) {
            match reference.filter(|r| !self.claimed.contains(r)) {
                Some(r) => self.record_created(input, i, r),
                // Refused, or an answer that cannot be read: it may exist; look, then
                // create it on its own.
                None => {
                    self.set_unknown(&[i]);
                    if let Some(u) = self.unit_mut(i) {
                        u.alone = true;
                    }
                }
            }
        }
    }

    /// `/batch` is not to be used again in this run: its units go back to be created
    /// one per request (their try did not count), and the report says why.
    fn batches_off(&mut self, units: Vec<u64>, error: Error) {
        self.batch_off = true;
        for i in units {
            if let Some(u) = self.unit_mut(i) {
                u.tries = u.tries.saturating_sub(1);
            }
        }
        self.ledger.warn(Warning::new(
            "rally.batch_unavailable",
            format!("results were sent one per request: {}", error.message),
            None,
        ));
    }

    fn set_unknown(&mut self, units: &[u64]) {
        for &i in units {
            if let Some(u) = self.unit_mut(i) {
                u.status = UnitStatus::Unknown;
            }
        }
    }

    /// A unit's result was created as `reference`.
    fn record_created(&mut self, input: &PublishInput, unit: u64, reference: String) {
        let (key, tests) = self.result_names(input, unit);
        self.claimed.insert(reference.clone());
        let tries = self.units().get(unit as usize).map_or(1, |u| u.tries);
        if let Some(u) = self.unit_mut(unit) {
            u.status = UnitStatus::Done;
            u.reference = Some(reference.clone());
        }
        let why = if tries > 1 {
            format!("created (try {tries})")
        } else {
            "created".to_string()
        };
        self.ledger.created.push(
            Entry::new(RecordKind::TestCaseResult, key, why)
                .with_ref(Some(reference))
                .with_tests(tests),
        );
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
