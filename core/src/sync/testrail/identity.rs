//! The identity a TestRail export writes into what it creates, so that any rerun of
//! the same work finds it again, with or without saved progress: the run's
//! description and each result's comment end with `tmbridge run <run> result <unit>`.
//!
//! The run is the CI pipeline and job name plus a digest of the tests (not the clock,
//! not the job id); a result is its case, its configuration, the tests behind it and
//! its occurrence among equal ones.

use crate::config::RunContext;
use crate::model::TestCase;
use crate::sync::digest::Digest;

const PREFIX: &str = "tmbridge run ";
const TOKEN_LEN: usize = 16;

pub fn run_token(cases: &[TestCase], ctx: &RunContext) -> String {
    let value = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let job = value(&ctx.job_name).or_else(|| value(&ctx.job_id));
    let mut h = Digest::new();
    h.field("tmbridge-testrail-identity/1");
    match (value(&ctx.pipeline_id), job) {
        (None, None) => h.field("local"),
        (pipeline, job) => {
            h.field("ci");
            h.field(pipeline.as_deref().unwrap_or(""));
            h.field(job.as_deref().unwrap_or(""));
        }
    }
    let (mut sum_a, mut sum_b) = (0u64, 0u64);
    for case in cases {
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

/// The token of one result.
pub fn unit_token(
    run: &str,
    case_id: u64,
    slot: &str,
    tests: &[String],
    occurrence: u64,
) -> String {
    let mut h = Digest::new();
    h.field(run);
    h.field(&case_id.to_string());
    h.field(slot);
    for t in tests {
        h.field(t);
    }
    h.field(&occurrence.to_string());
    h.token()
}

pub fn run_marker(run: &str) -> String {
    format!("{PREFIX}{run}")
}

pub fn marker(run: &str, unit: &str) -> String {
    format!("{PREFIX}{run} result {unit}")
}

/// The result tokens of this run in a comment.
pub fn units_in(text: &str, run: &str) -> Vec<String> {
    let head = format!("{} result ", run_marker(run));
    text.match_indices(&head)
        .filter_map(|(at, _)| {
            let token = text.get(at + head.len()..at + head.len() + TOKEN_LEN)?;
            token
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
                .then(|| token.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_the_clock_plays_no_part() {
        let ctx = |now: &str| RunContext {
            now: now.into(),
            pipeline_id: Some("9".into()),
            job_name: Some("e2e".into()),
            ..RunContext::default()
        };
        let a = run_token(&[], &ctx("2026-01-01T00:00:00Z"));
        assert_eq!(a, run_token(&[], &ctx("2027-01-01T00:00:00Z")));
        let u = unit_token(&a, 7, "Chrome", &["a.b".into()], 0);
        assert_ne!(u, unit_token(&a, 7, "Firefox", &["a.b".into()], 0));
        let text = format!("failed\n\n{}", marker(&a, &u));
        assert_eq!(units_in(&text, &a), [u]);
        assert!(units_in(&text, "0000000000000000").is_empty());
    }
}
