//! The identity of each TestCaseResult a publish sends, written into its Notes so
//! that any later run of the same work finds what an earlier one created, with or
//! without the earlier run's saved progress.
//!
//! - The run: the CI pipeline and job name (not the job id, which a retry of the
//!   same job changes) plus a digest of every test of the reports. A rerun of the
//!   same work has the same identity whenever it runs; a retried job that ran its
//!   tests again reports other durations or statuses, so its results are new ones.
//!   Without pipeline and job values (a local run) the digest alone identifies the
//!   run: two local runs with identical reports count as one.
//! - The result: its FormattedID, the tests behind it, and which occurrence it is
//!   among results with the same two (repeated tests under `each` aggregation).
//!
//! The clock plays no part: `now` changes from one try to the next.

use super::PublishInput;
use crate::rally::payload::RallyResult;
use crate::sync::digest::Digest;
use std::collections::BTreeMap;

/// What every marker starts with; also what a query looks for (`Notes contains`).
const PREFIX: &str = "tmbridge run ";

/// Hex digits of each token.
const TOKEN_LEN: usize = 16;

/// The line added to Notes: `tmbridge run <run> result <result>`.
pub fn marker(run: &str, unit: &str) -> String {
    format!("{PREFIX}{run} result {unit}")
}

/// The part of the marker every result of one run shares.
pub fn run_marker(run: &str) -> String {
    format!("{PREFIX}{run}")
}

/// Notes with the marker as its last line.
pub fn with_marker(notes: Option<&str>, marker: &str) -> String {
    match notes.filter(|n| !n.is_empty()) {
        Some(n) => format!("{n}<br/><br/>{marker}"),
        None => marker.to_string(),
    }
}

/// The result tokens of this run found in a Notes text.
pub fn units_in(notes: &str, run: &str) -> Vec<String> {
    let head = format!("{} result ", run_marker(run));
    notes
        .match_indices(&head)
        .filter_map(|(at, _)| {
            let token = notes.get(at + head.len()..at + head.len() + TOKEN_LEN)?;
            token
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
                .then(|| token.to_string())
        })
        .collect()
}

/// The run's token.
pub fn run_token(input: &PublishInput) -> String {
    let ctx = &input.context;
    let value = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    // A job is named by its name; the id only when the name is missing.
    let job = value(&ctx.job_name).or_else(|| value(&ctx.job_id));
    let mut h = Digest::new();
    h.field("tmbridge-identity/1");
    match (value(&ctx.pipeline_id), job) {
        (None, None) => h.field("local"),
        (pipeline, job) => {
            h.field("ci");
            h.field(pipeline.as_deref().unwrap_or(""));
            h.field(job.as_deref().unwrap_or(""));
        }
    }
    // The reports' content, whatever order the files came in.
    let (mut sum_a, mut sum_b) = (0u64, 0u64);
    for case in &input.cases {
        let mut c = Digest::new();
        if serde_json::to_writer(&mut c, case).is_err() {
            c.field(&case.full_name());
        }
        sum_a = sum_a.wrapping_add(c.a);
        sum_b = sum_b.wrapping_add(c.b);
    }
    h.field(&format!("{sum_a:016x}{sum_b:016x}"));
    h.token()
}

/// The token of each result of the plan, in plan order.
pub fn unit_tokens(run: &str, results: &[RallyResult]) -> Vec<String> {
    let mut seen: BTreeMap<(&str, &[String]), u64> = BTreeMap::new();
    results
        .iter()
        .map(|r| {
            let n = seen
                .entry((r.formatted_id.as_str(), r.tests.as_slice()))
                .or_insert(0);
            let occurrence = *n;
            *n += 1;
            let mut h = Digest::new();
            h.field(run);
            h.field(&r.formatted_id);
            for t in &r.tests {
                h.field(t);
            }
            h.field(&occurrence.to_string());
            h.token()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, RunContext};
    use crate::matching::testutil::{case, took};
    use crate::model::Status;

    fn input(pipeline: Option<&str>, job: Option<&str>, now: &str) -> PublishInput {
        PublishInput {
            config: Config::default(),
            cases: vec![
                took(case("web.Login", "TC1 logs in", Status::Passed), 1_000),
                case("web.Cart", "TC2 empties", Status::Failed),
            ],
            context: RunContext {
                now: now.into(),
                pipeline_id: pipeline.map(str::to_string),
                job_name: job.map(str::to_string),
                ..RunContext::default()
            },
            cache: Default::default(),
        }
    }

    #[test]
    fn the_run_token_ignores_the_clock_the_job_id_and_the_order_of_tests() {
        let a = run_token(&input(Some("981"), Some("e2e"), "2024-05-01T10:00:00Z"));
        let mut later = input(Some("981"), Some("e2e"), "2024-05-03T00:00:00Z");
        later.context.job_id = Some("5501".into());
        later.cases.reverse();
        assert_eq!(a, run_token(&later));
        assert_eq!(a.len(), TOKEN_LEN);
        let other = |p, j| run_token(&input(p, j, "2024-05-01T10:00:00Z"));
        assert_ne!(a, other(Some("982"), Some("e2e")));
        assert_ne!(a, other(Some("981"), Some("unit")));
        assert_ne!(a, other(None, None));
        // Tests run again give other durations: another run.
        let mut rerun = input(Some("981"), Some("e2e"), "2024-05-01T10:00:00Z");
        rerun.cases[0].duration_us = Some(2_000);
        assert_ne!(a, run_token(&rerun));
    }

    #[test]
    fn a_local_run_is_known_by_its_content() {
        let a = run_token(&input(None, None, "2024-05-01T10:00:00Z"));
        assert_eq!(a, run_token(&input(None, None, "2030-01-01T00:00:00Z")));
        let mut changed = input(None, None, "2024-05-01T10:00:00Z");
        changed.cases[1].status = Status::Passed;
        assert_ne!(a, run_token(&changed));
    }

    #[test]
    fn markers_are_found_again_in_notes() {
        let m = marker("0123456789abcdef", "fedcba9876543210");
        let notes = with_marker(Some("total was 0<br/><a href=\"x\">CI job</a>"), &m);
        assert!(notes.ends_with(&m));
        assert!(notes.contains(&run_marker("0123456789abcdef")));
        assert_eq!(units_in(&notes, "0123456789abcdef"), ["fedcba9876543210"]);
        assert!(units_in(&notes, "1123456789abcdef").is_empty());
        assert_eq!(with_marker(None, &m), m);
        // Cut short or not hex: not a marker.
        assert!(
            units_in(
                "tmbridge run 0123456789abcdef result fedc",
                "0123456789abcdef"
            )
            .is_empty()
        );
        // It fits in the room the payload keeps for it.
        assert!(
            "<br/><br/>".len() + m.len() <= crate::rally::payload::NOTES_RESERVED_CHARS,
            "{m}"
        );
    }
}
