//! The TestRail plan: the `add_results_for_cases` body, the `add_case` bodies for tests
//! without a case, and the review list. A pure function of the configuration, the
//! tests, the run context and the ref cache.

use super::{FieldValue, TestrailConfig, case_field_key, elapsed};
use crate::config::{Config, RefCache, RunContext, Target, template};
use crate::error::{Error, Result, Warning};
use crate::matching::details::{failure_text, first_case, property_list, truncate_chars};
use crate::matching::{MatchedCase, ResultLine, ReviewItem, ReviewReason, match_cases};
use crate::model::TestCase;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// TestRail keeps titles to 250 characters.
const MAX_TITLE_CHARS: usize = 250;

/// One entry of `add_results_for_cases`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ResultEntry {
    pub case_id: u64,
    pub status_id: u64,
    pub comment: Option<String>,
    /// `1m 5s`; unset for tests with no duration.
    pub elapsed: Option<String>,
    pub version: Option<String>,
    /// Comma-separated defect ids.
    pub defects: Option<String>,
    /// The steps of the result (Robot Framework keywords, Cucumber steps) for cases
    /// with the "Test Case (Steps)" template; left out when the test has no steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_step_results: Vec<StepResult>,
    /// `custom_*` result fields.
    #[serde(flatten)]
    pub custom: BTreeMap<String, FieldValue>,
}

/// One entry of TestRail's `custom_step_results`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StepResult {
    pub content: String,
    pub expected: String,
    pub actual: String,
    pub status_id: u64,
}

/// The body of `POST index.php?/api/v2/add_results_for_cases/{run_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AddResultsForCases {
    pub results: Vec<ResultEntry>,
}

/// The body of `POST index.php?/api/v2/add_case/{section_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AddCaseBody {
    pub title: String,
    /// The automation id field and the mapped case fields.
    #[serde(flatten)]
    pub fields: BTreeMap<String, FieldValue>,
}

/// A case to create for tests that have none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NewCase {
    /// `classname.name`: the automation id the new case carries.
    pub automation_id: String,
    /// The tests (input positions) it is created for.
    pub indexes: Vec<u64>,
    pub section_id: u64,
    pub body: AddCaseBody,
}

/// Everything a TestRail sync would send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestrailPlan {
    /// False when `testrail.export` is off: nothing is sent.
    pub enabled: bool,
    pub project_id: Option<u64>,
    pub suite_id: Option<u64>,
    pub section_id: Option<u64>,
    /// The run results go to; `None`: a run is to be created first.
    pub run_id: Option<u64>,
    /// `None` when result export is off or no test matched a case.
    pub add_results_for_cases: Option<AddResultsForCases>,
    pub add_cases: Vec<NewCase>,
    /// One line per result, for people.
    pub summary: Vec<ResultLine>,
    pub review: Vec<ReviewItem>,
    pub warnings: Vec<Warning>,
}

/// Builds the TestRail plan.
pub fn plan(
    config: &Config,
    cases: &[TestCase],
    ctx: &RunContext,
    cache: &RefCache,
) -> Result<TestrailPlan> {
    let tr = &config.testrail;
    let mut warnings = config.validate(Some(Target::Testrail))?;
    let ids = tr.ids()?;
    let statuses = tr.statuses()?;
    let mut out = TestrailPlan {
        enabled: tr.export,
        project_id: ids.project_id,
        suite_id: ids.suite_id,
        section_id: ids.section_id,
        run_id: ids.run_id,
        add_results_for_cases: None,
        add_cases: Vec::new(),
        summary: Vec::new(),
        review: Vec::new(),
        warnings: Vec::new(),
    };
    if !tr.export {
        warnings.push(Warning::new(
            "testrail.export_disabled",
            "`testrail.export` is false: nothing is sent to TestRail",
            None,
        ));
        out.warnings = warnings;
        return Ok(out);
    }
    let version = match &tr.version {
        Some(t) => Some(template::render(t, &|n| ctx.lookup(n))?),
        None => None,
    };
    let outcome = match_cases(cases, &config.matching, Target::Testrail, cache);
    let mut results = Vec::new();
    for m in &outcome.matched {
        let status_id = status_id(&statuses, m)?;
        out.summary.push(ResultLine::new(m, status_id.to_string()));
        let mut entry = result_entry(tr, m, status_id, cases, ctx, version.clone())?;
        entry.custom_step_results = step_results(&statuses, m, cases, status_id);
        results.push(entry);
    }
    if tr.export_results {
        if !results.is_empty() {
            out.add_results_for_cases = Some(AddResultsForCases { results });
        }
    } else {
        warnings.push(Warning::new(
            "testrail.results_disabled",
            "`testrail.export_results` is false: results are not sent",
            None,
        ));
    }
    // New cases by automation id: one case however often a test runs.
    let mut new_cases: BTreeMap<String, usize> = BTreeMap::new();
    for item in outcome.review {
        let creatable = tr.create_cases && item.reason == ReviewReason::NoCaseId;
        match (creatable, ids.section_id) {
            (true, Some(section_id)) => {
                let Some(case) = usize::try_from(item.index).ok().and_then(|i| cases.get(i)) else {
                    continue;
                };
                match new_cases.get(&item.test) {
                    Some(&at) => out.add_cases[at].indexes.push(item.index),
                    None => {
                        new_cases.insert(item.test.clone(), out.add_cases.len());
                        out.add_cases
                            .push(new_case(tr, case, item.index, section_id, ctx)?);
                    }
                }
            }
            _ => out.review.push(item),
        }
    }
    out.warnings = warnings;
    Ok(out)
}

fn status_id(statuses: &crate::status::ResolvedStatuses, m: &MatchedCase) -> Result<u64> {
    statuses
        .get(m.status)
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| {
            Error::new(
                "testrail.unmapped_status",
                format!("no TestRail status for {}", m.status.as_str()),
            )
        })
}

/// The top-level steps of a result that stands for one test case, each with the
/// TestRail status of its own outcome (the result's status when that one is unmapped).
fn step_results(
    statuses: &crate::status::ResolvedStatuses,
    m: &MatchedCase,
    cases: &[TestCase],
    result_status_id: u64,
) -> Vec<StepResult> {
    if m.members.len() != 1 {
        return Vec::new();
    }
    let Some(case) = first_case(m, cases) else {
        return Vec::new();
    };
    case.steps
        .iter()
        .filter(|s| s.depth == 0)
        .map(|s| StepResult {
            content: match &s.keyword {
                Some(k) => format!("{} {}", k.trim(), s.name),
                None => s.name.clone(),
            },
            expected: "passes".into(),
            actual: s
                .message
                .clone()
                .unwrap_or_else(|| s.status.as_str().into()),
            status_id: statuses
                .get(s.status)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(result_status_id),
        })
        .collect()
}

fn result_entry(
    tr: &TestrailConfig,
    m: &MatchedCase,
    status_id: u64,
    cases: &[TestCase],
    ctx: &RunContext,
    version: Option<String>,
) -> Result<ResultEntry> {
    let case_id = m
        .key
        .strip_prefix('C')
        .and_then(|d| d.parse::<u64>().ok())
        .ok_or_else(|| {
            Error::new(
                "testrail.invalid_id",
                format!("{:?} is not a case key", m.key),
            )
        })?;
    let mut parts: Vec<String> = failure_text(m, cases).into_iter().collect();
    let links: Vec<String> = [
        ("CI job", &ctx.job_url),
        ("Pipeline", &ctx.pipeline_url),
        ("Report", &ctx.report_url),
    ]
    .into_iter()
    .filter_map(|(label, url)| url.as_ref().map(|u| format!("{label}: {u}")))
    .collect();
    if !links.is_empty() {
        parts.push(links.join("\n"));
    }
    let max = usize::try_from(tr.comment_max_chars).unwrap_or(usize::MAX);
    let comment = (!parts.is_empty()).then(|| truncate_chars(&parts.join("\n\n"), max));
    let defects = property_list(m, cases, &tr.defects_property);
    let mut custom = BTreeMap::new();
    if let Some(case) = first_case(m, cases) {
        for (name, value) in &tr.result_fields {
            custom.insert(name.clone(), render_value(value, case, ctx)?);
        }
    }
    Ok(ResultEntry {
        case_id,
        status_id,
        comment,
        elapsed: elapsed(m.duration_us, tr.allow_ms),
        version,
        defects: (!defects.is_empty()).then(|| defects.join(", ")),
        custom_step_results: Vec::new(),
        custom,
    })
}

pub(crate) fn new_case(
    tr: &TestrailConfig,
    case: &TestCase,
    index: u64,
    section_id: u64,
    ctx: &RunContext,
) -> Result<NewCase> {
    let automation_id = case.full_name();
    let mut fields = BTreeMap::new();
    fields.insert(
        case_field_key(&tr.automation_id_field),
        FieldValue::Text(automation_id.clone()),
    );
    for (name, value) in &tr.case_fields {
        fields.insert(case_field_key(name), render_value(value, case, ctx)?);
    }
    let title = if case.name.trim().is_empty() {
        automation_id.clone()
    } else {
        case.name.clone()
    };
    Ok(NewCase {
        automation_id,
        indexes: vec![index],
        section_id,
        body: AddCaseBody {
            title: title.chars().take(MAX_TITLE_CHARS).collect(),
            fields,
        },
    })
}

fn render_value(value: &FieldValue, case: &TestCase, ctx: &RunContext) -> Result<FieldValue> {
    Ok(match value {
        FieldValue::Text(t) => FieldValue::Text(template::render(t, &|n| ctx.lookup_for(case, n))?),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests;
