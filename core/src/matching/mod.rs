//! Results → target test cases.
//!
//! Each test is looked up through the configured sources, in order; the first source
//! that yields a key wins: the mapping table, ids in the name, ids in properties, and
//! the automation id (`classname.name`). A test with several ids gives one result per
//! case; several tests on one case are aggregated (`worst`, `last`, `first`, `each`),
//! keeping every member's message. A test with no key is never dropped: it goes to the
//! review list with the reason.

mod aggregate;
pub mod details;
pub use crate::target::case_ids as ids;
#[cfg(test)]
pub(crate) mod testutil;

pub use crate::config::matching::{Aggregate, CaseIds, MatchingConfig, Source};

use crate::config::{RefCache, Target};
use crate::model::{Status, TestCase};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One test inside a matched result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Position of the test in the input slice.
    pub index: u64,
    /// `classname.name`.
    pub test: String,
    pub status: Status,
    pub message: Option<String>,
    pub duration_us: Option<u64>,
    pub source: Source,
}

/// One result for one target case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedCase {
    /// The case key, canonical: `C123` (TestRail), `TC123` (Rally), a qTest PID
    /// (`TC-123`) or automation content.
    pub key: String,
    /// The aggregated status.
    pub status: Status,
    /// The members' messages; with several members, one line per member.
    pub message: Option<String>,
    /// The members' durations added up.
    pub duration_us: Option<u64>,
    /// The tests this result stands for, in input order.
    pub members: Vec<Member>,
}

/// One published result, in people's terms: what the summary table of a plan shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ResultLine {
    pub key: String,
    pub status: Status,
    /// The status as the target writes it (`Pass`, `PASS`, `1`).
    pub target_status: String,
    /// `classname.name` of each test behind the result.
    pub tests: Vec<String>,
    /// Their positions in the input.
    pub indexes: Vec<u64>,
}

impl ResultLine {
    pub fn new(matched: &MatchedCase, target_status: String) -> ResultLine {
        ResultLine {
            key: matched.key.clone(),
            status: matched.status,
            target_status,
            tests: matched.members.iter().map(|m| m.test.clone()).collect(),
            indexes: matched.members.iter().map(|m| m.index).collect(),
        }
    }
}

/// Why a test is on the review list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ReviewReason {
    /// No source gave a case id.
    NoCaseId,
    /// A source held something that is not a valid id for the target.
    InvalidId,
    /// The automation id is not in the host's ref cache.
    NotInCache,
}

/// A test that will not be published, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReviewItem {
    pub index: u64,
    pub test: String,
    pub status: Status,
    pub reason: ReviewReason,
    /// What was looked at and what was wrong, for people.
    pub detail: String,
}

/// The result of matching.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchOutcome {
    /// In order of each case's first test.
    pub matched: Vec<MatchedCase>,
    pub review: Vec<ReviewItem>,
}

/// Matches every test to its case keys, then aggregates per case.
pub fn match_cases(
    cases: &[TestCase],
    config: &MatchingConfig,
    target: Target,
    cache: &RefCache,
) -> MatchOutcome {
    // Groups in the order their keys first appear; the map only finds a key's group.
    let mut groups: Vec<(String, Vec<Member>)> = Vec::new();
    let mut group_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut review = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let full = case.full_name();
        match find_keys(case, &full, config, target, cache) {
            Ok((keys, source)) => {
                let last = keys.len().saturating_sub(1);
                let mut full = Some(full);
                for (k, key) in keys.into_iter().enumerate() {
                    // The name moves into the last member; only extra keys copy it.
                    let test = if k == last {
                        full.take().unwrap_or_default()
                    } else {
                        full.clone().unwrap_or_default()
                    };
                    let member = Member {
                        index: i as u64,
                        test,
                        status: case.status,
                        message: case.message.clone(),
                        duration_us: case.duration_us,
                        source,
                    };
                    match group_of.get(&key) {
                        Some(&at) => {
                            if let Some((_, members)) = groups.get_mut(at) {
                                members.push(member);
                            }
                        }
                        None => {
                            group_of.insert(key.clone(), groups.len());
                            groups.push((key, vec![member]));
                        }
                    }
                }
            }
            Err((reason, detail)) => review.push(ReviewItem {
                index: i as u64,
                test: full,
                status: case.status,
                reason,
                detail,
            }),
        }
    }
    drop(group_of);
    let mut matched = Vec::with_capacity(groups.len());
    for (key, members) in groups {
        matched.extend(config.aggregate.apply(key, members));
    }
    MatchOutcome { matched, review }
}

/// The keys of one test and the source that gave them, or why there are none.
fn find_keys(
    case: &TestCase,
    full: &str,
    config: &MatchingConfig,
    target: Target,
    cache: &RefCache,
) -> std::result::Result<(Vec<String>, Source), (ReviewReason, String)> {
    let mut problems: Vec<String> = Vec::new();
    let mut invalid = false;
    let mut cache_miss = false;
    for &source in &config.sources {
        let found: Vec<String> = match source {
            Source::Mapping => {
                let entry = config
                    .mapping
                    .get(full)
                    .or_else(|| config.mapping.get(&case.name));
                let mut keys = Vec::new();
                for v in entry.map(CaseIds::values).unwrap_or(&[]) {
                    match ids::keys_in_value(target, v) {
                        Ok(ks) => keys.extend(ks),
                        Err(m) => {
                            invalid = true;
                            problems.push(format!("mapping table: {m}"));
                        }
                    }
                }
                keys
            }
            Source::Name => ids::keys_in_name(target, &case.name),
            Source::Property => {
                let mut keys = Vec::new();
                for name in &config.properties {
                    // A name may repeat (Robot and Cucumber tags): the ids are in the
                    // values that hold one; the others (`smoke`) are plain tags.
                    let mut errors = Vec::new();
                    for property in case.properties.iter().filter(|p| &p.name == name) {
                        match ids::keys_in_value(target, &property.value) {
                            Ok(ks) => keys.extend(ks),
                            Err(m) => errors.push(m),
                        }
                    }
                    if !keys.is_empty() {
                        break;
                    }
                    for m in errors {
                        invalid = true;
                        problems.push(format!("property {name}: {m}"));
                    }
                }
                keys
            }
            Source::AutomationId => {
                if target == Target::Qtest {
                    if full.is_empty() {
                        Vec::new()
                    } else {
                        vec![full.to_string()]
                    }
                } else {
                    match cache.automation_ids.get(full) {
                        Some(v) => match ids::keys_in_value(target, v) {
                            Ok(ks) => ks,
                            Err(m) => {
                                invalid = true;
                                problems.push(format!("ref cache entry for {full:?}: {m}"));
                                Vec::new()
                            }
                        },
                        None => {
                            cache_miss = true;
                            problems
                                .push(format!("automation id {full:?} is not in the ref cache"));
                            Vec::new()
                        }
                    }
                }
            }
        };
        let mut unique = Vec::new();
        for k in found {
            if !unique.contains(&k) {
                unique.push(k);
            }
        }
        if !unique.is_empty() {
            return Ok((unique, source));
        }
    }
    let looked: Vec<&str> = config.sources.iter().map(|s| s.as_str()).collect();
    let mut detail = format!(
        "no {} case id (looked at: {})",
        target.as_str(),
        looked.join(", ")
    );
    for p in &problems {
        detail.push_str("; ");
        detail.push_str(p);
    }
    let reason = if invalid {
        ReviewReason::InvalidId
    } else if cache_miss && problems.len() == 1 && config.sources.len() == 1 {
        ReviewReason::NotInCache
    } else {
        ReviewReason::NoCaseId
    };
    Err((reason, detail))
}

#[cfg(test)]
mod tests;
