//! Rally TestCaseResult payloads: the `[rally]` configuration and the plan of a run
//! (test set, one TestCaseResult per matched case, attachments, lookups still needed).
//! A pure function of the configuration, the tests, the run context and the ref cache:
//! FormattedIDs the cache cannot turn into refs are listed as lookups.

use super::attachments::{AttachmentPlan, human_size, plan_attachments};
use super::test_set::{DEFAULT_TEST_SET_TEMPLATE, TestSetPlan, test_set_name, test_set_plan};
use crate::config::context::{format_millis, parse_timestamp};
use crate::config::{Config, RefCache, RunContext, Target, template};
use crate::error::{Error, Result, Warning};
use crate::matching::details::{attachments, failure_text, first_case, html_escape};
use crate::matching::{MatchedCase, ResultLine, ReviewItem, match_cases};
use crate::model::TestCase;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub use crate::config::rally::{DurationUnit, RallyConfig};

/// `{"TestCaseResult": {...}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestCaseResultCreate {
    #[serde(rename = "TestCaseResult")]
    pub test_case_result: TestCaseResultFields,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestCaseResultFields {
    /// The test case ref.
    pub test_case: String,
    pub build: String,
    pub verdict: String,
    /// UTC, ISO 8601 with milliseconds.
    pub date: String,
    /// A decimal in text (WSAPI reads numbers from strings), in the configured unit.
    pub duration: Option<String>,
    /// HTML: the failure message, links to CI and to artifacts not uploaded.
    pub notes: Option<String>,
    pub tester: Option<String>,
    pub test_set: Option<String>,
    /// Left out when not configured: Rally then uses the default workspace of the
    /// key's user (`null` would name no workspace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
}

/// One TestCaseResult to create, with its attachments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RallyResult {
    pub formatted_id: String,
    pub tests: Vec<String>,
    pub body: TestCaseResultCreate,
    pub attachments: AttachmentPlan,
}

/// Everything a Rally sync would send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RallyPlan {
    pub test_set: Option<TestSetPlan>,
    pub results: Vec<RallyResult>,
    /// FormattedIDs the ref cache does not know: their results wait for the lookup.
    pub lookups: Vec<String>,
    pub summary: Vec<ResultLine>,
    pub review: Vec<ReviewItem>,
    pub warnings: Vec<Warning>,
}

/// Builds the Rally plan.
pub fn plan(
    config: &Config,
    cases: &[TestCase],
    ctx: &RunContext,
    cache: &RefCache,
) -> Result<RallyPlan> {
    let rc = &config.rally;
    let mut warnings = config.validate(Some(Target::Rally))?;
    let verdicts = rc.statuses()?;
    let now = ctx.now()?;
    let build = template::render(&rc.build, &|n| ctx.lookup(n))?;
    let test_set = match &rc.test_set {
        None => None,
        Some(t) => match test_set_name(t, ctx) {
            Ok(name) => Some(test_set_plan(
                name,
                cache,
                rc.project.as_deref(),
                rc.workspace.as_deref(),
            )),
            Err(e) if t == DEFAULT_TEST_SET_TEMPLATE && e.code == "template.missing_value" => {
                warnings.push(Warning::new(
                    "rally.no_sprint",
                    "no sprint was given: results are not put in a sprint test set",
                    None,
                ));
                None
            }
            Err(e) => return Err(e),
        },
    };
    let set_ref = test_set.as_ref().and_then(|s| s.reference.clone());
    let outcome = match_cases(cases, &config.matching, Target::Rally, cache);
    let mut out = RallyPlan {
        test_set,
        results: Vec::new(),
        lookups: Vec::new(),
        summary: Vec::new(),
        review: outcome.review,
        warnings: Vec::new(),
    };
    let mut looked_up = BTreeSet::new();
    for m in &outcome.matched {
        let verdict = verdicts
            .get(m.status)
            .ok_or_else(|| {
                Error::new(
                    "rally.unmapped_status",
                    format!("no Verdict for {}", m.status.as_str()),
                )
            })?
            .to_string();
        out.summary.push(ResultLine::new(m, verdict.clone()));
        let Some(test_case) = cache.rally_test_cases.get(&m.key) else {
            if looked_up.insert(m.key.as_str()) {
                out.lookups.push(m.key.clone());
            }
            continue;
        };
        let files = attachments(m, cases);
        let att = plan_attachments(
            &files,
            ctx,
            rc.inline_attachment_max_bytes,
            rc.artifact_url.as_deref(),
        );
        let date = first_case(m, cases)
            .and_then(|c| c.timestamp.as_deref())
            .and_then(parse_timestamp)
            .unwrap_or(now);
        let fields = TestCaseResultFields {
            test_case: test_case.clone(),
            build: build.clone(),
            verdict,
            date: format_millis(date),
            duration: duration_text(m.duration_us, rc.duration_unit),
            notes: notes(m, cases, ctx, &att, rc.notes_max_chars),
            tester: rc.tester.clone(),
            test_set: set_ref.clone(),
            workspace: rc.workspace.clone(),
        };
        out.results.push(RallyResult {
            formatted_id: m.key.clone(),
            tests: m.members.iter().map(|x| x.test.clone()).collect(),
            body: TestCaseResultCreate {
                test_case_result: fields,
            },
            attachments: att,
        });
    }
    if !out.lookups.is_empty() {
        warnings.push(Warning::new(
            "rally.lookups_needed",
            format!(
                "{} test case(s) need their ref looked up before their results can be sent: {}",
                out.lookups.len(),
                out.lookups.join(", ")
            ),
            None,
        ));
    }
    out.warnings = warnings;
    Ok(out)
}

/// `1.234` seconds or `1234` milliseconds, as text.
fn duration_text(us: Option<u64>, unit: DurationUnit) -> Option<String> {
    let us = us?;
    let ms = us / 1000 + u64::from(us % 1000 >= 500);
    Some(match unit {
        DurationUnit::Milliseconds => ms.to_string(),
        DurationUnit::Seconds => {
            let (s, frac) = (ms / 1000, ms % 1000);
            if frac == 0 {
                s.to_string()
            } else {
                format!("{s}.{}", format!("{frac:03}").trim_end_matches('0'))
            }
        }
    })
}

/// Room kept at the end of Notes for the line a publish adds to recognise the result
/// in a later run.
pub const NOTES_RESERVED_CHARS: usize = 80;

/// Notes: the failure text, then links to CI and to artifacts that were not uploaded,
/// all within `max` characters less [`NOTES_RESERVED_CHARS`] (the failure text is
/// what gets cut).
fn notes(
    m: &MatchedCase,
    cases: &[TestCase],
    ctx: &RunContext,
    att: &AttachmentPlan,
    max: u64,
) -> Option<String> {
    let mut tail: Vec<String> = Vec::new();
    for (label, url) in [
        ("CI job", &ctx.job_url),
        ("Pipeline", &ctx.pipeline_url),
        ("Test report", &ctx.report_url),
    ] {
        if let Some(u) = url {
            tail.push(format!("<a href=\"{}\">{label}</a>", html_escape(u)));
        }
    }
    for link in &att.links {
        let size = link
            .size
            .map(|s| format!(" ({})", human_size(s)))
            .unwrap_or_default();
        let text = format!("{}{size}", html_escape(&link.name));
        tail.push(match (&link.url, &link.reason) {
            (Some(u), _) => format!("Artifact: <a href=\"{}\">{text}</a>", html_escape(u)),
            (None, Some(reason)) => {
                format!("Artifact not attached: {text}: {}", html_escape(reason))
            }
            // Nothing looked for the file: name it, claim nothing.
            (None, None) => format!("Artifact: {text}"),
        });
    }
    let tail = tail.join("<br/>");
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let budget = max.saturating_sub(tail.chars().count() + 10 + NOTES_RESERVED_CHARS);
    let body = failure_text(m, cases).map(|t| escape_within(&t, budget));
    let parts: Vec<String> = [body, (!tail.is_empty()).then_some(tail)]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| parts.join("<br/><br/>"))
}

/// HTML-escapes as much of `text` as fits in `budget` characters of output, never
/// cutting an entity, and marks the cut.
fn escape_within(text: &str, budget: usize) -> String {
    const MARK: &str = "<br/>[truncated]";
    let full = html_escape(text);
    if full.chars().count() <= budget {
        return full;
    }
    let room = budget.saturating_sub(MARK.len());
    let mut out = String::new();
    let mut used = 0usize;
    for c in text.chars() {
        let piece = html_escape(c.encode_utf8(&mut [0u8; 4]));
        let n = piece.chars().count();
        if used + n > room {
            break;
        }
        used += n;
        out.push_str(&piece);
    }
    out.push_str(MARK);
    out
}

#[cfg(test)]
mod tests;
