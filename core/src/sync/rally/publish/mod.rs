//! Publish results to Rally: find the sprint, resolve FormattedIDs, find or create
//! the sprint's test set and fill it, create one TestCaseResult per matched case
//! (after looking for one already there), then upload its attachments.
//!
//! Each result carries an identity drawn from the run itself ([`identity`]), so
//! "already there" is decided by Rally's records, not by what this process
//! remembers: a run whose saved progress was lost, emptied or replaced by an older
//! copy still sends nothing twice.
//!
//! The logic is "look at the state, decide the next call" ([`PublishLogic::advance`]);
//! `phase` only says which answer is awaited. So after a crash, [`Logic::restart`]
//! marks whatever was in flight as unknown and the same rules find and finish what
//! is left, looking before creating anything again.

mod attach;
mod identity;
mod prepare;
mod results;
#[cfg(test)]
mod tests;

use super::driver::{Action, Logic, RallySession, SessionOptions};
use super::link::{Credentials, Link, Outcome};
use super::wsapi;
use crate::config::{Config, RefCache, RunContext};
use crate::error::{Error, Result};
use crate::model::TestCase;
use crate::rally::payload::{RallyPlan, plan};
use crate::sync::details::Details;
use crate::sync::details::rally::{NamedRef, PublishDetails};
use crate::sync::report::{Entry, Ledger, RecordKind, Report};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What to publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PublishInput {
    pub config: Config,
    pub cases: Vec<TestCase>,
    pub context: RunContext,
    /// Refs the host already knows (from an earlier run); none on a first run.
    #[serde(default)]
    pub cache: RefCache,
}

/// The publish session.
pub type Publish = RallySession<PublishLogic>;

impl RallySession<PublishLogic> {
    /// Checks the configuration and the run (a bad template fails here, before any
    /// request) and starts the session.
    pub fn new(
        input: PublishInput,
        credentials: Credentials,
        options: SessionOptions,
    ) -> Result<Publish> {
        let base = wsapi::base_url(input.config.rally.url.as_deref())?;
        plan(&input.config, &input.cases, &input.context, &input.cache)?;
        let logic = PublishLogic {
            cache: input.cache.clone(),
            max_tries: options.retry.max_attempts.max(1),
            ..PublishLogic::default()
        };
        let link = Link::new(base, credentials, options.retry, options.seed);
        Ok(RallySession::build(input, logic, link))
    }
}

/// Which answer is awaited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "awaiting", rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Idle,
    Iteration,
    Lookup {
        batch: Vec<String>,
        start: u64,
    },
    TestSetFind,
    TestSetCreate,
    StoryCases {
        start: u64,
    },
    Members {
        start: u64,
    },
    AddMembers {
        batch: Vec<String>,
    },
    PreCheck {
        units: Vec<u64>,
        start: u64,
        found: Vec<Found>,
    },
    Create {
        unit: u64,
    },
    /// One `/batch` request creating these units' results, in this order.
    BatchCreate {
        units: Vec<u64>,
    },
    Recheck {
        unit: u64,
        start: u64,
        found: Vec<Found>,
    },
    AttachList {
        unit: u64,
        start: u64,
    },
    AttachRead {
        unit: u64,
        upload: u64,
    },
    AttachContent {
        unit: u64,
        upload: u64,
    },
    AttachCreate {
        unit: u64,
        upload: u64,
    },
    /// Deleting an AttachmentContent no Attachment uses.
    Discard {
        content: String,
    },
}

/// A TestCaseResult of this run already in Rally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    pub test_case: String,
    /// The result token its Notes carry (see [`identity`]).
    #[serde(default)]
    pub unit: String,
    #[serde(rename = "ref")]
    pub reference: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    /// Not looked for in Rally yet.
    Unchecked,
    /// Not in Rally: to create.
    Pending,
    /// A create was sent and its answer lost.
    Unknown,
    Done,
    Failed,
}

/// One TestCaseResult of the plan and how far it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub status: UnitStatus,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// Creates sent.
    pub tries: u32,
    pub attachments: Vec<Upload>,
    /// Attachments may already be there (an earlier run, a lost answer): list them first.
    pub check_attachments: bool,
    /// A `/batch` answer did not account for it: it is created on its own, so that
    /// Rally's own answer says what became of it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub alone: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadStatus {
    Todo,
    Done,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub status: UploadStatus,
    /// The AttachmentContent created for it.
    pub content: Option<String>,
    /// The size read from disk.
    pub size: Option<u64>,
    pub tries: u32,
}

/// The progress of a publish.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PublishLogic {
    phase: Phase,
    cache: RefCache,
    max_tries: u32,
    sprint: Option<String>,
    iteration: Option<NamedRef>,
    iteration_checked: bool,
    missing: Vec<String>,
    set_searched: bool,
    set_tries: u32,
    story_cases: Option<Vec<String>>,
    /// The test set's test cases, as a set: compared with every planned result.
    members: Option<BTreeSet<String>>,
    member_tries: u32,
    units: Option<Vec<Unit>>,
    /// Rally refused `/batch` (404, 405): one create per request for the rest of the run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    batch_off: bool,
    /// Result refs already matched to a unit: each existing record counts once.
    claimed: BTreeSet<String>,
    /// AttachmentContents that no Attachment will use: deleted, not left behind.
    #[serde(default)]
    discard: Vec<String>,
    #[serde(default)]
    discard_tries: u32,
    /// The next page of a paged query, asked for by the answer to the previous one.
    queued: Option<super::link::Call>,
    partial_story_cases: Vec<String>,
    partial_members: Vec<String>,
    ledger: Ledger,
    error: Option<Error>,
    retryable: bool,
    /// The plan is a pure function of the input, the cache and the sprint:
    /// recomputed, never stored.
    #[serde(skip)]
    plan: Option<RallyPlan>,
    /// The bytes of the attachment being uploaded.
    #[serde(skip)]
    loaded: Option<(u64, u64, Vec<u8>)>,
    /// The run's token (a function of the input alone) and each planned result's
    /// (recomputed with the plan).
    #[serde(skip)]
    run_token: Option<String>,
    #[serde(skip)]
    tokens: Option<(String, Vec<String>)>,
    /// Nothing is left to prepare until a prepare answer, a new plan or a restart:
    /// spares going over every result again before each create.
    #[serde(skip)]
    prepared: bool,
    /// Every result below this index is done or failed (a hint: rebuilt after a restart).
    #[serde(skip)]
    settled_below: usize,
}

impl PublishLogic {
    fn context(&self, input: &PublishInput) -> RunContext {
        let mut ctx = input.context.clone();
        if ctx.sprint.is_none() {
            ctx.sprint = self.sprint.clone();
        }
        ctx
    }

    /// The plan for the current cache and sprint.
    fn plan(&mut self, input: &PublishInput) -> Option<&RallyPlan> {
        if self.plan.is_none() {
            match plan(
                &input.config,
                &input.cases,
                &self.context(input),
                &self.cache,
            ) {
                Ok(p) => self.plan = Some(p),
                Err(e) => {
                    self.stop(e, false);
                    return None;
                }
            }
        }
        self.plan.as_ref()
    }

    fn replan(&mut self) {
        self.plan = None;
        self.prepared = false;
        self.tokens = None;
    }

    /// The run's token and the token of each result of the current plan.
    fn tokens(&mut self, input: &PublishInput) -> Option<&(String, Vec<String>)> {
        if self.tokens.is_none() {
            let run = self
                .run_token
                .get_or_insert_with(|| identity::run_token(input))
                .clone();
            let units = identity::unit_tokens(&run, &self.plan(input)?.results);
            self.tokens = Some((run, units));
        }
        self.tokens.as_ref()
    }

    fn fail(&mut self, entry: Entry) {
        self.ledger.failed.push(entry);
    }

    /// A refusal or give-up that ends the whole run, or one that fails just this step.
    /// A 403 ends it too: rights do not change during a run, so every later call would
    /// be refused the same way.
    fn is_fatal(outcome_error: &Error) -> bool {
        matches!(
            outcome_error.code.as_str(),
            "rally.unauthorized"
                | "rally.forbidden"
                | "rally.not_found"
                | "rally.not_wsapi"
                | "rally.redirect"
                | "rally.unreachable"
                | "rally.gave_up"
                | "rally.no_security_token"
                | "rally.invalid_key"
        )
    }

    /// Handles what every phase handles the same way. Returns the value of an `Ok`.
    fn common(&mut self, outcome: Outcome) -> Option<Result<serde_json::Value, Error>> {
        match outcome {
            Outcome::Ok(v) => Some(Ok(v)),
            Outcome::GaveUp(e) => {
                self.stop(e, true);
                None
            }
            Outcome::Refused(e) if Self::is_fatal(&e) => {
                let retry = e.code == "rally.unreachable";
                self.stop(e, retry);
                None
            }
            Outcome::Refused(e) | Outcome::Unknown(e) => Some(Err(e)),
        }
    }

    fn units(&self) -> &[Unit] {
        self.units.as_deref().unwrap_or(&[])
    }

    fn unit_mut(&mut self, i: u64) -> Option<&mut Unit> {
        self.units
            .as_mut()
            .and_then(|u| u.get_mut(usize::try_from(i).ok()?))
    }
}

impl Logic for PublishLogic {
    type Input = PublishInput;

    fn advance(&mut self, input: &PublishInput) -> Action {
        if self.error.is_some() {
            return Action::Finish;
        }
        if let Some(call) = self.queued.take() {
            return Action::Call(call);
        }
        if let Some(a) = self.next_prepare(input) {
            return a;
        }
        if self.error.is_some() {
            return Action::Finish;
        }
        if let Some(a) = self.next_result(input) {
            return a;
        }
        if self.error.is_some() {
            return Action::Finish;
        }
        if let Some(a) = self.next_attachment(input) {
            return a;
        }
        Action::Finish
    }

    fn on_outcome(&mut self, input: &PublishInput, outcome: Outcome) {
        let phase = std::mem::take(&mut self.phase);
        match phase {
            Phase::Idle => {}
            Phase::Iteration
            | Phase::Lookup { .. }
            | Phase::TestSetFind
            | Phase::TestSetCreate
            | Phase::StoryCases { .. }
            | Phase::Members { .. }
            | Phase::AddMembers { .. } => self.on_prepare(input, phase, outcome),
            Phase::PreCheck { .. }
            | Phase::Create { .. }
            | Phase::BatchCreate { .. }
            | Phase::Recheck { .. } => self.on_result(input, phase, outcome),
            Phase::AttachList { .. }
            | Phase::AttachRead { .. }
            | Phase::AttachContent { .. }
            | Phase::AttachCreate { .. } => self.on_attachment(input, phase, outcome),
            Phase::Discard { content } => self.on_discard(content, outcome),
        }
    }

    fn on_file(&mut self, input: &PublishInput, file: std::result::Result<Vec<u8>, String>) {
        self.on_read(input, file);
    }

    fn restart(&mut self) {
        match std::mem::take(&mut self.phase) {
            Phase::Create { unit } => {
                if let Some(u) = self.unit_mut(unit) {
                    u.status = UnitStatus::Unknown;
                }
            }
            Phase::BatchCreate { units } => {
                for unit in units {
                    if let Some(u) = self.unit_mut(unit) {
                        u.status = UnitStatus::Unknown;
                    }
                }
            }
            Phase::AttachCreate { unit, .. } => {
                if let Some(u) = self.unit_mut(unit) {
                    u.check_attachments = true;
                }
            }
            Phase::TestSetCreate => self.set_searched = false,
            _ => {}
        }
        // The saved progress may be older than what Rally holds (a copy restored,
        // a journal lost): look again at everything not known for sure.
        if let Some(units) = &mut self.units {
            for u in units.iter_mut() {
                match u.status {
                    UnitStatus::Pending => u.status = UnitStatus::Unchecked,
                    UnitStatus::Done
                        if u.attachments.iter().any(|a| a.status == UploadStatus::Todo) =>
                    {
                        u.check_attachments = true;
                    }
                    _ => {}
                }
            }
        }
        self.members = None;
        self.error = None;
        self.retryable = false;
        self.queued = None;
        if self.story_cases.is_none() {
            self.partial_story_cases.clear();
        }
        if self.members.is_none() {
            self.partial_members.clear();
        }
        self.loaded = None;
        self.plan = None;
        self.tokens = None;
        self.prepared = false;
        self.settled_below = 0;
    }

    fn stop(&mut self, error: Error, retryable: bool) {
        self.phase = Phase::Idle;
        if self.error.is_none() {
            self.error = Some(error);
            self.retryable = retryable;
        }
    }

    fn finish(&mut self, input: &PublishInput, link: &Link) -> Report {
        let mut ledger = self.ledger.clone();
        let plan = self.plan(input).cloned();
        if let (Some(e), Some(p)) = (&self.error, &plan) {
            for (unit, result) in self.units().iter().zip(&p.results) {
                if matches!(unit.status, UnitStatus::Done | UnitStatus::Failed) {
                    continue;
                }
                ledger.failed.push(
                    Entry::new(
                        RecordKind::TestCaseResult,
                        result.formatted_id.clone(),
                        format!("not sent: {}", e.message),
                    )
                    .with_tests(result.tests.clone()),
                );
            }
        }
        if let Some(p) = &plan {
            for w in &p.warnings {
                if w.code != "rally.lookups_needed" {
                    ledger.warn(w.clone());
                }
            }
        }
        for w in link.warnings() {
            ledger.warn(w.clone());
        }
        let test_set = plan
            .as_ref()
            .and_then(|p| p.test_set.as_ref())
            .and_then(|s| {
                s.reference.clone().map(|r| NamedRef {
                    reference: r,
                    name: Some(s.name.clone()),
                })
            });
        let details = PublishDetails {
            cache: self.cache.clone(),
            iteration: self.iteration.clone(),
            sprint: input.context.sprint.clone().or(self.sprint.clone()),
            test_set,
            summary: plan.as_ref().map(|p| p.summary.clone()).unwrap_or_default(),
            review: plan.as_ref().map(|p| p.review.clone()).unwrap_or_default(),
            missing: self.missing.clone(),
        };
        ledger.into_report(
            self.error.clone(),
            self.retryable,
            link.stats(),
            Details::Publish(details),
        )
    }

    fn progress(&self) -> (u64, u64) {
        let units = self.units();
        let done = units
            .iter()
            .filter(|u| matches!(u.status, UnitStatus::Done | UnitStatus::Failed))
            .count();
        (done as u64, units.len() as u64)
    }

    /// Results are found by their identity before any is created (a pre-check for
    /// every create, single or batched); the test set's members are listed again
    /// before any is added (and adding one twice changes nothing).
    fn change_is_looked_up(&self) -> bool {
        matches!(
            self.phase,
            Phase::Create { .. } | Phase::BatchCreate { .. } | Phase::AddMembers { .. }
        )
    }
}
