//! The Rally test case made from a qTest test case holds the qTest case's web
//! address in its Description: find it with `(Description contains "<url>")` and
//! link it, with its user story (`WorkProduct`), to the defect. Without one the
//! defect is filed without them, and the report says so.

use super::{Awaiting, Defect, DefectInput, Pending};
use crate::error::Warning;
use crate::rally::query::{Condition, Expr, Operator, Value as QValue};
use crate::sync::rally::driver::Logic;
use crate::sync::rally::link::Call;
use crate::sync::rally::lookup::find;
use crate::sync::rally::wsapi::{Page, ref_of};
use serde_json::Value;

fn contains(field: &str, text: &str) -> Expr {
    Expr::Condition(Condition::new(
        field,
        Operator::Contains,
        vec![QValue::quoted(text)],
    ))
}

impl Defect {
    /// The look-up of the test case behind `test_case_link`, once, when the defect
    /// has no test case yet.
    pub(super) fn find_case(&mut self, input: &DefectInput) -> Option<Call> {
        if self.case_searched {
            return None;
        }
        let url = input
            .request
            .test_case_link
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())?;
        if self.linked("TestCase", input).is_some() || input.request.test_case.is_some() {
            self.case_searched = true;
            return None;
        }
        // A Description is rich text: the address may be written with `&amp;`.
        let mut expr = contains("Description", url);
        let escaped = url.replace('&', "&amp;");
        if escaped != url {
            expr = Expr::or(expr, contains("Description", &escaped));
        }
        self.awaiting = Awaiting::FindCase;
        Some(find(
            "testcase",
            &expr,
            "FormattedID,ObjectID,Name,WorkProduct",
            input.workspace.as_deref(),
            "find the Rally test case of the qTest test case".into(),
        ))
    }

    fn add_link(&mut self, input: &DefectInput, field: &str, reference: Option<String>) {
        let Some(r) = reference else { return };
        if self.links.iter().any(|l| l.field == field) || self.linked(field, input).is_some() {
            return;
        }
        self.links.push(Pending {
            field: field.to_string(),
            value: r.clone(),
            reference: Some(r),
        });
    }

    pub(super) fn on_case(&mut self, input: &DefectInput, v: &Value) {
        let page = match Page::read(v, "find the Rally test case") {
            Ok(page) => page,
            Err(e) => return self.stop(e, true),
        };
        self.case_searched = true;
        let url = input.request.test_case_link.clone().unwrap_or_default();
        let Some(case) = page.results.first() else {
            self.ledger.warn(Warning::new(
                "rally.no_linked_test_case",
                format!(
                    "no Rally test case holds {url} in its Description: the defect is filed without a test case and a user story"
                ),
                None,
            ));
            return;
        };
        if page.results.len() > 1 {
            self.ledger.warn(Warning::new(
                "rally.several_test_cases",
                format!(
                    "{} Rally test cases hold {url} in their Description: the first is linked",
                    page.total
                ),
                None,
            ));
        }
        let story = case
            .get("WorkProduct")
            .and_then(ref_of)
            .filter(|r| r.starts_with("/hierarchicalrequirement/"));
        if story.is_none() {
            self.ledger.warn(Warning::new(
                "rally.test_case_without_story",
                "the Rally test case has no user story (WorkProduct): the defect is filed without one",
                None,
            ));
        }
        self.add_link(input, "TestCase", ref_of(case));
        if input.request.requirement.is_none() {
            self.add_link(input, "Requirement", story);
        }
    }
}
