//! `categories.json`: how Allure sorts results into categories ("Product defects",
//! "Timeouts", ...), applied the way Allure's report applies it. A result is in every
//! category whose statuses (any, when none are listed), message pattern, trace pattern
//! and flaky flag all match; the patterns must match the whole text, `.` matching line
//! ends too. A failed result in no category is a "Product defect", a broken one a
//! "Test defect". Each category becomes a `category` property of the test.

use super::json::TestResult;
use super::warnings::Warnings;
use regex_lite::{Regex, RegexBuilder};
use serde::Deserialize;

/// Most categories read; the rest are left out with a warning.
const MAX_CATEGORIES: usize = 1000;
/// Largest compiled pattern: a hostile pattern cannot take the memory.
const MAX_PATTERN_BYTES: usize = 1 << 20;

pub(crate) const PRODUCT_DEFECTS: &str = "Product defects";
pub(crate) const TEST_DEFECTS: &str = "Test defects";

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CategoryJson {
    name: Option<String>,
    matched_statuses: Option<Vec<Option<String>>>,
    message_regex: Option<String>,
    trace_regex: Option<String>,
    flaky: Option<bool>,
}

#[derive(Debug)]
pub(crate) struct Category {
    name: String,
    statuses: Vec<String>,
    message: Option<Regex>,
    trace: Option<Regex>,
    flaky: bool,
}

/// The categories of `categories.json`, in the file's order; a category whose pattern
/// cannot be used is left out with a warning naming it.
pub(crate) fn read(
    file: &str,
    json: Vec<serde_json::Value>,
    warnings: &mut Warnings,
) -> Vec<Category> {
    let mut out = Vec::new();
    for (i, value) in json.into_iter().enumerate() {
        if i >= MAX_CATEGORIES {
            warnings.push(
                "allure.too_many_categories",
                format!("{file}: categories beyond the first {MAX_CATEGORIES} were left out"),
                None,
            );
            break;
        }
        let Ok(c) = serde_json::from_value::<CategoryJson>(value) else {
            warnings.push(
                "allure.invalid_category",
                format!("{file}: category {} is not an object with a name and patterns; it was left out", i + 1),
                None,
            );
            continue;
        };
        let Some(name) = c.name.filter(|n| !n.trim().is_empty()) else {
            continue;
        };
        let mut usable = true;
        let mut compile = |what: &str, pattern: Option<String>| -> Option<Regex> {
            let pattern = pattern?;
            match RegexBuilder::new(&format!("(?s)^(?:{pattern})$"))
                .size_limit(MAX_PATTERN_BYTES)
                .build()
            {
                Ok(re) => Some(re),
                Err(e) => {
                    usable = false;
                    let first = e.to_string();
                    let first = first.lines().last().unwrap_or("").trim().to_string();
                    warnings.push(
                        "allure.invalid_category",
                        format!("{file}: category {name:?}: its {what} {pattern:?} cannot be used ({first}); the category was left out"),
                        None,
                    );
                    None
                }
            }
        };
        let message = compile("messageRegex", c.message_regex);
        let trace = compile("traceRegex", c.trace_regex);
        if usable {
            out.push(Category {
                name,
                statuses: c
                    .matched_statuses
                    .unwrap_or_default()
                    .into_iter()
                    .flatten()
                    .collect(),
                message,
                trace,
                flaky: c.flaky.unwrap_or(false),
            });
        }
    }
    out
}

/// The names of the categories a result is in.
pub(crate) fn of(result: &TestResult, categories: &[Category]) -> Vec<String> {
    let details = &result.status_details;
    let status = result.status.as_deref();
    let matches = |re: &Option<Regex>, text: Option<&str>| match re {
        None => true,
        Some(re) => text.is_some_and(|t| re.is_match(t)),
    };
    let mut names: Vec<String> = Vec::new();
    for c in categories {
        let status_ok =
            c.statuses.is_empty() || status.is_some_and(|s| c.statuses.iter().any(|m| m == s));
        if status_ok
            && matches(&c.message, details.message.as_deref())
            && matches(&c.trace, details.trace.as_deref())
            && c.flaky == details.flaky
            && !names.contains(&c.name)
        {
            names.push(c.name.clone());
        }
    }
    if names.is_empty() {
        match status {
            Some("failed") => names.push(PRODUCT_DEFECTS.into()),
            Some("broken") => names.push(TEST_DEFECTS.into()),
            _ => {}
        }
    }
    names
}
