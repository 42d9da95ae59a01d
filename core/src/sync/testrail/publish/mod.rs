//! `testrail.publish`: cases into one suite and section (a section per
//! `<testsuite>` for new cases), matched by case id and by automation id against
//! the cases already in TestRail; missing cases created, cases tmbridge exported
//! before updated when they changed; a run (or a plan entry with one run per
//! configuration) created or reused and made to hold every case; results added in
//! batches; attachments uploaded to the results.
//!
//! The logic is "look at the state, decide the next call": every write is preceded
//! by a read that finds what an earlier try (or run) already made, by the case's
//! automation id, the run's description and the result's comment (see
//! [`super::identity`]). After a crash or a lost answer the reads are done again.

mod compute;
mod steps;
#[cfg(test)]
pub(crate) mod tests;

use super::driver::{Logic, TestrailSession};
use super::link::{Credentials, Link, Outcome, base_url};
use crate::config::{Config, RefCache, RunContext};
use crate::error::{Error, Result};
use crate::model::TestCase;
use crate::sync::details::Details;
use crate::sync::details::testrail::{AccessLost, Named, StatusInfo, TestrailPublishDetails};
use crate::sync::report::{Entry, Ledger, RecordKind, Report};
use crate::sync::retry::RetryPolicy;
use compute::Computed;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A create whose answers are all lost is tried at most this often.
const MAX_TRIES: u32 = 8;

/// What to publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "TestrailPublishInput")
)]
#[serde(deny_unknown_fields)]
pub struct PublishInput {
    pub config: Config,
    pub cases: Vec<TestCase>,
    pub context: RunContext,
    /// Automation ids the host already knows (from an earlier run).
    #[serde(default)]
    pub cache: RefCache,
}

/// A case seen in TestRail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenCase {
    pub section_id: Option<u64>,
    /// Its template: step results go only to cases whose template has them.
    #[serde(default)]
    pub template_id: Option<u64>,
    /// `title`, `refs` and `custom_*` values, for the change check.
    pub fields: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenSection {
    pub id: u64,
    pub name: String,
    pub parent_id: Option<u64>,
}

/// A run results go to, per configuration slot (`""` without configurations).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    pub id: Option<u64>,
    /// The run holds every case of the slot (checked or made so).
    pub complete: bool,
    /// In a plan: changes go through `update_run_in_plan_entry`.
    pub in_plan: bool,
}

/// A result already in TestRail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoneResult {
    pub result_id: u64,
    pub test_id: u64,
}

/// A paged read in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub next: String,
    pub items: Vec<Value>,
}

/// Which answer is awaited: how to read the outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "awaiting", rename_all = "snake_case")]
pub enum Awaiting {
    #[default]
    Nothing,
    Project,
    Suites,
    Statuses,
    CaseFields,
    ResultFields,
    Cases,
    Sections,
    AddSection {
        name: String,
    },
    AddCase {
        automation_id: String,
    },
    UpdateCase {
        case_id: u64,
    },
    Runs,
    AddRun,
    Plan,
    Configs,
    AddPlanEntry,
    RunInfo {
        slot: String,
    },
    RunTests {
        slot: String,
    },
    UpdateRun {
        slot: String,
    },
    Results {
        slot: String,
    },
    AddResults {
        slot: String,
        tokens: Vec<String>,
    },
    Attachments {
        test_id: u64,
    },
    Upload {
        token: String,
        path: String,
    },
}

/// The progress of a publish.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PublishLogic {
    awaiting: Awaiting,
    suite_mode: Option<u64>,
    suite_id: Option<u64>,
    statuses: Option<Vec<StatusInfo>>,
    case_fields: Option<Value>,
    result_fields: Option<Value>,
    listing: Option<Listing>,
    /// `None`: to read (again).
    cases: Option<BTreeMap<u64, SeenCase>>,
    sections: Option<Vec<SeenSection>>,
    runs_listed: bool,
    plan_read: bool,
    configs: Option<Vec<(u64, String)>>,
    runs: BTreeMap<String, RunState>,
    /// Runs whose results were read since the last lost answer.
    results_read: BTreeSet<u64>,
    done: BTreeMap<String, DoneResult>,
    /// Attachment names per test, read since the last lost upload.
    attachments: BTreeMap<u64, Vec<String>>,
    uploaded: BTreeSet<String>,
    updated: BTreeSet<u64>,
    /// Keys (automation ids, tokens, uploads) that failed for good.
    failed: BTreeSet<String>,
    tries: BTreeMap<String, u32>,
    cache: RefCache,
    run_token: String,
    /// A call decided by an answer (the run's missing cases), sent next.
    queued: Option<(Awaiting, super::link::Call)>,
    ledger: Ledger,
    error: Option<Error>,
    retryable: bool,
    access_lost: Option<AccessLost>,
    /// The plan is a function of the input and of what was read: recomputed.
    #[serde(skip)]
    computed: Option<Computed>,
    #[serde(skip)]
    loaded: Option<(String, String, Vec<u8>)>,
}

pub type Publish = TestrailSession<PublishLogic>;

impl TestrailSession<PublishLogic> {
    /// Checks the configuration (a bad template or id fails here, before any request).
    pub fn new(
        input: PublishInput,
        credentials: Credentials,
        seed: u64,
        retry: RetryPolicy,
    ) -> Result<Publish> {
        let base = base_url(input.config.testrail.url.as_deref())?;
        let ids = super::connect::ids(&input.config)?;
        let mut checked = input.config.clone();
        checked.testrail.statuses = super::statuses::placeholder(&checked.testrail.statuses);
        crate::testrail::plan(&checked, &input.cases, &input.context, &input.cache)?;
        if let Some(scope) = &input.config.testrail.scope {
            crate::scope::parse(scope)?;
        }
        let logic = PublishLogic {
            suite_id: ids.suite_id,
            cache: input.cache.clone(),
            run_token: super::identity::run_token(&input.cases, &input.context),
            ..PublishLogic::default()
        };
        Ok(TestrailSession::build(
            input,
            logic,
            Link::new(base, credentials, retry, seed),
        ))
    }
}

impl PublishLogic {
    fn project(input: &PublishInput) -> u64 {
        input
            .config
            .testrail
            .ids()
            .ok()
            .and_then(|i| i.project_id)
            .unwrap_or(0)
    }

    fn fail(&mut self, key: String, entry: Entry) {
        self.failed.insert(key);
        self.ledger.failed.push(entry);
    }

    /// One more try of a create; false when it is spent.
    fn try_once(&mut self, key: &str) -> bool {
        let n = self.tries.entry(key.to_string()).or_insert(0);
        *n += 1;
        *n <= MAX_TRIES
    }

    /// Forget what was read about records a lost answer may have changed.
    fn reread_writes(&mut self) {
        self.cases = None;
        self.sections = None;
        self.runs_listed = false;
        self.plan_read = false;
        self.results_read.clear();
        self.attachments.clear();
        self.listing = None;
        self.computed = None;
        for run in self.runs.values_mut() {
            run.complete = false;
        }
    }
}

impl Logic for PublishLogic {
    type Input = PublishInput;

    fn advance(&mut self, input: &PublishInput) -> super::driver::Action {
        steps::advance(self, input)
    }

    fn on_outcome(&mut self, input: &PublishInput, outcome: Outcome) {
        let awaiting = std::mem::take(&mut self.awaiting);
        match outcome {
            Outcome::Ok(v) => steps::on_ok(self, input, awaiting, v),
            Outcome::Refused(e) if super::link::is_access_error(&e) => {
                self.access_lost = Some(AccessLost {
                    code: e.code.clone(),
                    message: e.message.clone(),
                });
                self.stop(e, false);
            }
            Outcome::Refused(e) => steps::on_refused(self, input, awaiting, e),
            Outcome::Unknown(_) => {
                // The write may have happened: read again before writing again.
                self.reread_writes();
            }
            Outcome::GaveUp(e) => self.stop(e, true),
        }
    }

    fn on_file(&mut self, _input: &PublishInput, file: std::result::Result<Vec<u8>, String>) {
        let Awaiting::Upload { token, path } = std::mem::take(&mut self.awaiting) else {
            return;
        };
        match file {
            Ok(bytes) => self.loaded = Some((token, path, bytes)),
            Err(why) => self.fail(
                format!("{token} {path}"),
                Entry::new(
                    RecordKind::Attachment,
                    path.clone(),
                    format!("the file could not be read: {why}"),
                ),
            ),
        }
    }

    fn restart(&mut self) {
        self.awaiting = Awaiting::Nothing;
        self.loaded = None;
        // A stopped session goes on too: the key may be fixed, TestRail back up.
        self.error = None;
        self.retryable = false;
        self.access_lost = None;
        self.tries.clear();
        self.reread_writes();
    }

    fn stop(&mut self, error: Error, retryable: bool) {
        if self.error.is_none() {
            self.error = Some(error);
            self.retryable = retryable;
        }
    }

    fn finish(&mut self, input: &PublishInput, link: &Link) -> Report {
        let project = Self::project(input);
        let (summary, review) = match &self.computed {
            Some(c) => (c.summary.clone(), c.review.clone()),
            None => (Vec::new(), Vec::new()),
        };
        let run = self
            .runs
            .get("")
            .and_then(|r| r.id)
            .or_else(|| self.runs.values().find_map(|r| r.id));
        let plan = input
            .config
            .testrail
            .plan_id
            .as_ref()
            .and_then(|p| crate::testrail::parse_id(crate::testrail::IdKind::Run, &p.0).ok());
        let details = TestrailPublishDetails {
            project: Some(Named {
                id: project,
                name: None,
            }),
            suite: self.suite_id.map(|id| Named { id, name: None }),
            run: run.map(|id| Named { id, name: None }),
            plan: plan.map(|id| Named { id, name: None }),
            cache: self.cache.clone(),
            summary,
            review,
            access_lost: self.access_lost.clone(),
        };
        self.ledger.clone().into_report(
            self.error.clone(),
            self.retryable,
            link.stats(),
            Details::TestrailPublish(details),
        )
    }

    fn progress(&self) -> (u64, u64) {
        let total = self
            .computed
            .as_ref()
            .map_or(0, |c| c.slots.iter().map(|s| s.units.len() as u64).sum());
        (self.done.len() as u64, total.max(self.done.len() as u64))
    }
}
