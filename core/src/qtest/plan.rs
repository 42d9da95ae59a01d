//! The qTest plan: the job's test cycle and the `auto-test-logs` body.

use super::{ModulePath, QtestConfig};
use crate::config::context::{add_micros, format_millis, parse_timestamp, sub_micros};
use crate::config::{Config, RefCache, RunContext, Target, template};
use crate::error::{Error, Result, Warning};
use crate::matching::details::{
    attachments, failure_text, first_case, html_escape, member_cases, truncate_chars,
};
use crate::matching::{MatchedCase, ResultLine, ReviewItem, match_cases};
use crate::model::TestCase;
use crate::status::ResolvedStatuses;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// One step of a test log. An aggregated result lists each of its tests as a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestStepLog {
    pub order: u64,
    pub description: String,
    pub expected_result: String,
    pub actual_result: String,
    pub status: String,
}

/// A file sent inline with a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QtestAttachment {
    pub name: String,
    pub content_type: String,
    /// Base64.
    pub data: String,
}

/// A test run field value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FieldProperty {
    pub field_id: u64,
    pub field_value: String,
}

/// One entry of `test_logs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestLog {
    pub name: String,
    pub status: String,
    pub exe_start_date: String,
    pub exe_end_date: String,
    /// The test case's fingerprint: qTest finds or creates the case by it.
    pub automation_content: String,
    pub module_names: Vec<String>,
    pub note: Option<String>,
    pub test_step_logs: Vec<TestStepLog>,
    pub attachments: Vec<QtestAttachment>,
    pub properties: Vec<FieldProperty>,
}

/// The body of `POST /api/v3/projects/{projectId}/auto-test-logs?type=automation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AutoTestLogs {
    /// The job cycle's id or PID; `null` until the cycle exists (see [`QtestCycle::create`]).
    pub test_cycle: Option<String>,
    pub test_logs: Vec<TestLog>,
}

/// The body of `POST /api/v3/projects/{projectId}/test-cycles?parentId={root}&parentType=test-cycle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestCycleCreate {
    pub name: String,
    /// HTML linking the CI job and pipeline.
    pub description: String,
}

/// The job's test cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QtestCycle {
    pub name: String,
    /// The configured root cycle it goes under.
    pub parent: String,
    /// Its id or PID when the ref cache knows it.
    pub id: Option<String>,
    /// The body that creates it, when it is not known yet.
    pub create: Option<TestCycleCreate>,
}

/// Everything a qTest sync would send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QtestPlan {
    pub cycle: QtestCycle,
    pub body: AutoTestLogs,
    pub summary: Vec<ResultLine>,
    pub review: Vec<ReviewItem>,
    pub warnings: Vec<Warning>,
}

/// Builds the qTest plan for one CI job (the job in `ctx`, or none).
pub fn plan(
    config: &Config,
    cases: &[TestCase],
    ctx: &RunContext,
    cache: &RefCache,
) -> Result<QtestPlan> {
    let q = &config.qtest;
    let warnings = config.validate(Some(Target::Qtest))?;
    let statuses = q.statuses()?;
    let root = q.root_cycle()?;
    let now = ctx.now()?;
    let cycle = job_cycle(q, ctx, cache, root)?;
    let outcome = match_cases(cases, &config.matching, Target::Qtest, cache);
    let mut body = AutoTestLogs {
        test_cycle: cycle.id.clone(),
        test_logs: Vec::new(),
    };
    let mut summary = Vec::new();
    for m in &outcome.matched {
        let status = target_status(&statuses, m)?;
        summary.push(ResultLine::new(m, status.clone()));
        body.test_logs
            .push(test_log(q, m, status, &statuses, cases, ctx, now)?);
    }
    Ok(QtestPlan {
        cycle,
        body,
        summary,
        review: outcome.review,
        warnings,
    })
}

fn target_status(statuses: &ResolvedStatuses, m: &MatchedCase) -> Result<String> {
    statuses.get(m.status).map(str::to_string).ok_or_else(|| {
        Error::new(
            "qtest.unmapped_status",
            format!("no qTest status for {}", m.status.as_str()),
        )
    })
}

/// The cycle of the run's job, or the jobless cycle.
fn job_cycle(
    q: &QtestConfig,
    ctx: &RunContext,
    cache: &RefCache,
    root: String,
) -> Result<QtestCycle> {
    let has_job = ctx.lookup("job_id").is_some() || ctx.lookup("job_name").is_some();
    let name = if has_job {
        match template::render(&q.cycle_name, &|n| ctx.lookup(n)) {
            Ok(n) => n,
            // The built-in name wants both; a job known by one of them still gets a cycle.
            Err(_) if q.cycle_name == super::DEFAULT_CYCLE_NAME => {
                match (ctx.lookup("job_name"), ctx.lookup("job_id")) {
                    (Some(n), _) => n,
                    (None, Some(id)) => format!("Job #{id}"),
                    (None, None) => q.jobless_cycle.clone(),
                }
            }
            Err(e) => return Err(e),
        }
    } else {
        q.jobless_cycle.clone()
    };
    let id = cache.qtest_cycles.get(&name).cloned();
    let create = id.is_none().then(|| {
        let mut links = Vec::new();
        for (label, url) in [
            ("CI job", &ctx.job_url),
            ("Pipeline", &ctx.pipeline_url),
            ("Test report", &ctx.report_url),
        ] {
            if let Some(u) = url {
                links.push(format!("<a href=\"{}\">{label}</a>", html_escape(u)));
            }
        }
        let mut description = if has_job {
            format!("Automated results of CI job {}", html_escape(&name))
        } else {
            "Automated results that came from no CI job".to_string()
        };
        if !links.is_empty() {
            description.push_str("<br/>");
            description.push_str(&links.join(" · "));
        }
        TestCycleCreate {
            name: name.clone(),
            description,
        }
    });
    Ok(QtestCycle {
        name,
        parent: root,
        id,
        create,
    })
}

fn test_log(
    q: &QtestConfig,
    m: &MatchedCase,
    status: String,
    statuses: &ResolvedStatuses,
    cases: &[TestCase],
    ctx: &RunContext,
    now: jiff::Timestamp,
) -> Result<TestLog> {
    let members = member_cases(m, cases);
    let first = first_case(m, cases);
    let duration = m.duration_us.unwrap_or(0);
    let start = first
        .and_then(|c| c.timestamp.as_deref())
        .and_then(parse_timestamp)
        .unwrap_or_else(|| sub_micros(now, duration));
    let end = add_micros(start, duration);
    let name = first.map_or_else(
        || m.key.clone(),
        |c| {
            if c.name.is_empty() {
                m.key.clone()
            } else {
                c.name.clone()
            }
        },
    );
    let failure = failure_text(m, cases);
    let mut note_parts: Vec<String> = failure.iter().cloned().collect();
    let links: Vec<String> = [
        ("CI job", &ctx.job_url),
        ("Pipeline", &ctx.pipeline_url),
        ("Test report", &ctx.report_url),
    ]
    .into_iter()
    .filter_map(|(label, url)| url.as_ref().map(|u| format!("{label}: {u}")))
    .collect();
    if !links.is_empty() {
        note_parts.push(links.join("\n"));
    }
    let files = attachments(m, cases);
    if !files.is_empty() {
        note_parts.push(format!("Artifacts: {}", files.join(", ")));
    }
    let max = usize::try_from(q.note_max_chars).unwrap_or(usize::MAX);
    let note = (!note_parts.is_empty()).then(|| truncate_chars(&note_parts.join("\n\n"), max));
    let mut attachments_out = Vec::new();
    if q.attach_failure_details
        && m.status >= crate::model::Status::Failed
        && let Some(text) = &failure
    {
        attachments_out.push(QtestAttachment {
            name: format!("{}.txt", safe_file_name(&name)),
            content_type: "text/plain".into(),
            data: base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
        });
    }
    let test_step_logs = if m.members.len() > 1 {
        m.members
            .iter()
            .enumerate()
            .map(|(i, mem)| TestStepLog {
                order: i as u64 + 1,
                description: mem.test.clone(),
                expected_result: "passes".into(),
                actual_result: mem
                    .message
                    .clone()
                    .unwrap_or_else(|| mem.status.as_str().to_string()),
                status: statuses.get(mem.status).unwrap_or("").to_string(),
            })
            .collect()
    } else if let Some(case) = first {
        // One test with steps (Robot Framework keywords, Cucumber steps): its
        // top-level steps are the log's steps.
        case.steps
            .iter()
            .filter(|s| s.depth == 0)
            .enumerate()
            .map(|(i, step)| TestStepLog {
                order: i as u64 + 1,
                description: match &step.keyword {
                    Some(k) => format!("{} {}", k.trim(), step.name),
                    None => step.name.clone(),
                },
                expected_result: "passes".into(),
                actual_result: step
                    .message
                    .clone()
                    .unwrap_or_else(|| step.status.as_str().to_string()),
                status: statuses.get(step.status).unwrap_or("").to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut properties = Vec::new();
    if let Some(case) = first {
        for (id, value) in q.run_field_ids()? {
            properties.push(FieldProperty {
                field_id: id,
                field_value: template::render(value, &|n| ctx.lookup_for(case, n))?,
            });
        }
    }
    if let Some(id) = &q.description_field_id
        && let Some(url) = ctx.report_url.as_ref().or(ctx.job_url.as_ref())
    {
        let field_id = id.0.trim().parse::<u64>().unwrap_or(0);
        properties.push(FieldProperty {
            field_id,
            field_value: format!("<a href=\"{}\">CI test report</a>", html_escape(url)),
        });
    }
    Ok(TestLog {
        name,
        status,
        exe_start_date: format_millis(start),
        exe_end_date: format_millis(end),
        automation_content: m.key.clone(),
        module_names: module_names(q, &members),
        note,
        test_step_logs,
        attachments: attachments_out,
        properties,
    })
}

/// Parent module, then the suite or class path, then the browser or device.
fn module_names(q: &QtestConfig, members: &[&TestCase]) -> Vec<String> {
    let mut out: Vec<String> = q.parent_module.iter().cloned().collect();
    if let Some(case) = members.first() {
        let classname: Vec<String> = case
            .classname
            .as_deref()
            .map(|c| c.split('.').map(str::to_string).collect())
            .unwrap_or_default();
        match q.module_path {
            ModulePath::Suite => out.extend(case.suite.iter().cloned()),
            ModulePath::Classname => out.extend(classname),
            ModulePath::SuiteAndClassname => {
                out.extend(case.suite.iter().cloned());
                out.extend(classname);
            }
            ModulePath::None => {}
        }
    }
    let device = q
        .suite_properties
        .iter()
        .find_map(|p| members.iter().find_map(|c| c.property(p)))
        .map(str::to_string);
    out.extend(device);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if cleaned.is_empty() {
        "failure".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests;
