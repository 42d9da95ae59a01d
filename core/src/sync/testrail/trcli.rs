//! The per-test JUnit properties trcli reads, so that reports written for trcli
//! export the same way: `testrail_result_field` (`custom_x:value`),
//! `testrail_result_comment`, `testrail_result_step` (`passed:Step text`),
//! `testrail_case_field` (`custom_x:value`), `testrail_attachment` (a path) and
//! `custom_automation_id` (the automation id instead of `classname.name`).

use crate::config::testrail::FieldValue;
use crate::model::{OutcomeKind, TestCase};
use crate::testrail::StepResult;
use std::collections::BTreeMap;

fn values<'a>(case: &'a TestCase, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    case.properties
        .iter()
        .filter(move |p| p.name == name)
        .map(|p| p.value.as_str())
}

/// A `name:value` property as a field value: text as trcli sends it, or a list of
/// ids when written `[1, 2]`; [`super::fields::coerce`] turns text into the field's
/// type (a dropdown id, a checkbox) once the fields are known.
fn field(text: &str) -> Option<(String, FieldValue)> {
    let (name, value) = text.split_once(':')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let value = value.trim();
    let list = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .and_then(|inner| {
            inner
                .split(',')
                .map(|i| i.trim().parse::<i64>().ok())
                .collect::<Option<Vec<i64>>>()
        });
    let v = match list {
        Some(ids) => FieldValue::List(ids),
        None => FieldValue::Text(value.to_string()),
    };
    Some((crate::config::testrail::case_field_key(name), v))
}

/// `testrail_result_field` values.
pub fn result_fields(case: &TestCase) -> BTreeMap<String, FieldValue> {
    values(case, "testrail_result_field")
        .filter_map(field)
        .collect()
}

/// `testrail_case_field` values.
pub fn case_fields(case: &TestCase) -> BTreeMap<String, FieldValue> {
    let mut fields: BTreeMap<String, FieldValue> = values(case, "testrail_case_field")
        .filter_map(field)
        .collect();
    // The automation id override is not a field to send as such.
    fields.remove(AUTOMATION_ID);
    fields
}

/// The case field trcli reads the automation id override from.
const AUTOMATION_ID: &str = "custom_automation_id";

/// `testrail_attachment` paths.
pub fn attachments(case: &TestCase) -> Vec<String> {
    values(case, "testrail_attachment")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// The automation id override, when the test sets one: a `testrail_case_field`
/// `custom_automation_id:...` as trcli reads it, or a `custom_automation_id` property.
pub fn automation_id(case: &TestCase) -> Option<String> {
    let from_field = values(case, "testrail_case_field")
        .filter_map(field)
        .find(|(k, _)| k == AUTOMATION_ID)
        .and_then(|(_, v)| match v {
            FieldValue::Text(t) => Some(t),
            _ => None,
        });
    from_field
        .or_else(|| {
            values(case, AUTOMATION_ID)
                .map(str::trim)
                .find(|v| !v.is_empty())
                .map(str::to_string)
        })
        .filter(|v| !v.trim().is_empty())
}

/// `testrail_result_step` values as step results (trcli's status words: passed 1,
/// failed 5, skipped 4, untested 3).
pub fn steps(case: &TestCase) -> Vec<StepResult> {
    values(case, "testrail_result_step")
        .filter_map(|v| {
            let (status, content) = v.split_once(':')?;
            let status_id = match status.trim().to_ascii_lowercase().as_str() {
                "passed" => 1,
                "failed" => 5,
                "skipped" => 4,
                "untested" => 3,
                _ => return None,
            };
            Some(StepResult {
                content: content.trim().to_string(),
                expected: String::new(),
                actual: String::new(),
                status_id,
            })
        })
        .collect()
}

/// What goes before the comment: the `testrail_result_comment` values and the
/// failure's type (`Type: AssertionError`), as trcli writes it.
pub fn comment_head(case: &TestCase) -> Option<String> {
    let mut parts: Vec<String> = values(case, "testrail_result_comment")
        .map(str::to_string)
        .collect();
    if let Some(kind) = case
        .outcomes
        .iter()
        .filter(|o| matches!(o.kind, OutcomeKind::Failure | OutcomeKind::Error))
        .find_map(|o| o.kind_name.clone())
        .filter(|k| !k.trim().is_empty())
    {
        parts.push(format!("Type: {kind}"));
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::junit::parse;

    #[test]
    fn trcli_properties_are_read() {
        let xml = br#"<testsuite name="s"><testcase classname="a.B" name="c">
          <properties>
            <property name="testrail_result_field" value="custom_environment:staging"/>
            <property name="testrail_result_field" value="custom_level:2"/>
            <property name="testrail_result_field" value="custom_platforms:[1, 3]"/>
            <property name="testrail_case_field" value="preconds:logged in"/>
            <property name="testrail_result_step" value="passed:Open the page"/>
            <property name="testrail_result_step" value="failed:Press pay"/>
            <property name="testrail_result_comment" value="seen on CI"/>
            <property name="testrail_attachment" value="shots/pay.png"/>
            <property name="testrail_case_field" value="custom_automation_id:shop.pay"/>
          </properties>
          <failure type="AssertionError" message="boom">trace</failure>
        </testcase></testsuite>"#;
        let report = parse(xml).unwrap();
        let case = &report.suites[0].cases[0];
        let r = result_fields(case);
        assert_eq!(r["custom_environment"], FieldValue::Text("staging".into()));
        assert_eq!(r["custom_level"], FieldValue::Text("2".into()));
        assert_eq!(r["custom_platforms"], FieldValue::List(vec![1, 3]));
        assert_eq!(
            case_fields(case)["custom_preconds"],
            FieldValue::Text("logged in".into())
        );
        let s = steps(case);
        assert_eq!((s[0].status_id, s[1].status_id), (1, 5));
        assert_eq!(s[1].content, "Press pay");
        assert_eq!(
            comment_head(case).unwrap(),
            "seen on CI\nType: AssertionError"
        );
        assert_eq!(attachments(case), ["shots/pay.png"]);
        assert_eq!(automation_id(case).as_deref(), Some("shop.pay"));
    }
}
