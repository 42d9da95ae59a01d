//! What a publish will put in qTest, worked out before the first request: the job's
//! test cycle, a test suite per browser or device, the modules (parent module, then
//! the suite or class path), and one execution per result with its test case and
//! its test log. The logs themselves come from the core's qTest planner
//! (`crate::qtest::plan`), one browser at a time, so that the same test run in two
//! browsers stays two executions.

use super::PublishInput;
use crate::config::Target;
use crate::config::qtest::ModulePath as ModulePathChoice;
use crate::error::{Error, Result, Warning};
use crate::matching::details::html_escape;
use crate::matching::{ResultLine, ReviewItem};
use crate::model::TestCase;
use crate::qtest::{QtestConfig, TestLog};
use serde::{Deserialize, Serialize};

/// The module every test case goes under when `qtest.parent_module` is not set.
pub const DEFAULT_PARENT_MODULE: &str = "tmbridge";

/// The suite of results that name no browser, device or suite.
pub const DEFAULT_SUITE: &str = "Automated";

/// Where the job's test cycle goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parent {
    pub id: u64,
    /// `root`, `test-cycle`.
    pub kind: String,
}

/// One result to publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    /// Automation content: the test case's fingerprint.
    pub key: String,
    /// The test case's name.
    pub name: String,
    pub suite: String,
    /// Module names from the parent module down.
    pub modules: Vec<String>,
    pub description: String,
    /// (description, expected result) of each step.
    pub steps: Vec<(String, String)>,
    pub log: TestLog,
    /// The run's description (a link to the CI report), when a field is configured for it.
    pub run_properties: Vec<crate::qtest::FieldProperty>,
    /// Files the test attached (`[[ATTACHMENT|path]]`), sent with its log.
    pub files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub project_id: u64,
    pub site: String,
    pub cycle_name: String,
    pub cycle_description: String,
    pub parent: Parent,
    pub executions: Vec<Execution>,
    pub summary: Vec<ResultLine>,
    pub review: Vec<ReviewItem>,
    pub warnings: Vec<Warning>,
}

impl Plan {
    /// Every distinct suite, in the order results name them.
    pub fn suites(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in &self.executions {
            if !out.contains(&e.suite) {
                out.push(e.suite.clone());
            }
        }
        out
    }

    /// Every module path to resolve, parents before children.
    pub fn module_paths(&self) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        for e in &self.executions {
            for n in 1..=e.modules.len() {
                let prefix = e.modules[..n].to_vec();
                if !out.contains(&prefix) {
                    out.push(prefix);
                }
            }
        }
        out
    }

    /// Every automation value the logs send, steps included.
    pub fn statuses(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in &self.executions {
            let steps = e.log.test_step_logs.iter().map(|s| &s.status);
            for s in std::iter::once(&e.log.status).chain(steps) {
                if !s.is_empty() && !out.contains(s) {
                    out.push(s.clone());
                }
            }
        }
        out
    }
}

/// The browser or device of a test: the first configured property it has, else the
/// first of `qtest.suite_names` its suite names contain, else its innermost suite name
/// (reports written per browser), else [`DEFAULT_SUITE`]. The flag says a suite name
/// was used (so it is no module too).
fn suite_of(q: &QtestConfig, case: &TestCase) -> (String, bool) {
    if let Some(v) = q
        .suite_properties
        .iter()
        .find_map(|p| case.property(p))
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        return (v.to_string(), false);
    }
    let named = q.suite_names.iter().map(|n| n.trim()).find(|n| {
        !n.is_empty()
            && case
                .suite
                .iter()
                .any(|s| s.to_lowercase().contains(&n.to_lowercase()))
    });
    if let Some(n) = named {
        return (n.to_string(), true);
    }
    match case
        .suite
        .last()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        Some(s) => (s.to_string(), true),
        None => (DEFAULT_SUITE.to_string(), false),
    }
}

/// Parent module, then the suite or class path.
fn modules_of(q: &QtestConfig, case: &TestCase, suite_is_browser: bool) -> Vec<String> {
    let parent = q
        .parent_module
        .clone()
        .unwrap_or_else(|| DEFAULT_PARENT_MODULE.to_string());
    let mut suites = case.suite.clone();
    if suite_is_browser {
        suites.pop();
    }
    let classname: Vec<String> = case
        .classname
        .as_deref()
        .map(|c| c.split('.').map(str::to_string).collect())
        .unwrap_or_default();
    let mut out = vec![parent];
    match q.module_path {
        ModulePathChoice::Suite => out.extend(suites),
        ModulePathChoice::Classname => out.extend(classname),
        ModulePathChoice::SuiteAndClassname => {
            out.extend(suites);
            out.extend(classname);
        }
        ModulePathChoice::None => {}
    }
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn description_of(case: &TestCase, key: &str) -> String {
    let mut text = format!("Automated test <code>{}</code>", html_escape(key));
    if let Some(file) = case.file.as_deref() {
        text.push_str(&format!(" in {}", html_escape(file)));
    }
    let tested = ["url", "base_url", "app", "application"]
        .iter()
        .find_map(|p| case.property(p));
    if let Some(t) = tested {
        text.push_str(&format!("<br/>Tested: {}", html_escape(t)));
    }
    text
}

/// Where the job's cycle goes: `qtest.test_cycle` as a numeric id, or the project root.
fn parent_of(q: &QtestConfig) -> Result<Parent> {
    match q.test_cycle.as_ref().map(|s| s.0.trim()).filter(|s| !s.is_empty()) {
        None => Ok(Parent {
            id: 0,
            kind: "root".into(),
        }),
        Some(text) => match text.parse::<u64>() {
            Ok(id) if id > 0 => Ok(Parent {
                id,
                kind: "test-cycle".into(),
            }),
            _ => Err(Error::new(
                "config.invalid_value",
                format!("`qtest.test_cycle`: {text:?} is not a test cycle id"),
            )
            .with_hint("give the cycle's number (its id, from the URL when the cycle is open), or leave it out to put the job cycles at the project's root")),
        },
    }
}

pub fn build(input: &PublishInput) -> Result<Plan> {
    let q = &input.config.qtest;
    let site = super::super::api::site(q.url.as_deref())?;
    let project_id = super::super::api::project_id(q.project_id.as_ref().map(|s| s.0.as_str()))?;
    let parent = parent_of(q)?;
    // The planner wants a root cycle; the session resolves the parent itself.
    let mut config = input.config.clone();
    if config.qtest.test_cycle.is_none() {
        config.qtest.test_cycle = Some(crate::config::Scalar("0".into()));
    }
    config.validate(Some(Target::Qtest))?;

    // Group results by browser, keeping the input order.
    let mut groups: Vec<(String, bool, Vec<TestCase>)> = Vec::new();
    for case in &input.cases {
        let (suite, from_suite) = suite_of(q, case);
        match groups.iter_mut().find(|g| g.0 == suite) {
            Some(g) => g.2.push(case.clone()),
            None => groups.push((suite, from_suite, vec![case.clone()])),
        }
    }
    let mut plan = Plan {
        project_id,
        site,
        cycle_name: String::new(),
        cycle_description: String::new(),
        parent,
        executions: Vec::new(),
        summary: Vec::new(),
        review: Vec::new(),
        warnings: Vec::new(),
    };
    let empty_group = (DEFAULT_SUITE.to_string(), false, Vec::new());
    let all = if groups.is_empty() {
        vec![empty_group]
    } else {
        groups
    };
    for (suite, from_suite, cases) in &all {
        let p = crate::qtest::plan(&config, cases, &input.context, &input.cache)?;
        plan.cycle_name = p.cycle.name.clone();
        if let Some(c) = &p.cycle.create {
            plan.cycle_description = c.description.clone();
        }
        for w in p.warnings {
            if !plan.warnings.contains(&w) {
                plan.warnings.push(w);
            }
        }
        plan.review.extend(p.review);
        for (log, line) in p.body.test_logs.into_iter().zip(p.summary) {
            let Some(case) = line
                .indexes
                .first()
                .and_then(|i| cases.get(usize::try_from(*i).unwrap_or(usize::MAX)))
            else {
                continue;
            };
            let steps = case
                .steps
                .iter()
                .filter(|s| s.depth == 0)
                .map(|s| {
                    let text = match &s.keyword {
                        Some(k) => format!("{} {}", k.trim(), s.name),
                        None => s.name.clone(),
                    };
                    (text, String::new())
                })
                .collect();
            let run_properties = log
                .properties
                .iter()
                .filter(|p| {
                    q.description_field_id
                        .as_ref()
                        .is_some_and(|d| d.0.trim() == p.field_id.to_string())
                })
                .cloned()
                .collect();
            plan.executions.push(Execution {
                key: log.automation_content.clone(),
                name: log.name.clone(),
                suite: suite.clone(),
                modules: modules_of(q, case, *from_suite),
                description: description_of(case, &log.automation_content),
                steps,
                log,
                run_properties,
                files: case.attachments.clone(),
            });
            plan.summary.push(line);
        }
    }
    Ok(plan)
}
