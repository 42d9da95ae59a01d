//! The per-test JUnit properties trcli reads, so that reports written for trcli
//! export the same way: `testrail_result_field` (`custom_x:value`),
//! `testrail_result_comment`, `testrail_result_step` (`passed:Step text`),
//! `testrail_case_field` (`custom_x:value`), `testrail_attachment` (a path) and
//! `custom_automation_id` (the automation id instead of `classname.name`).

use crate::config::testrail::FieldValue;
use crate::model::TestCase;
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
    // Names as trcli sends them: `custom_x` for custom fields, `version` or
    // `template_id` for TestRail's own.
    Some((name.to_string(), v))
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
/// type of the failure, error or skip (`Type: AssertionError`), as trcli writes them.
pub fn comment_head(case: &TestCase) -> Option<String> {
    let mut parts: Vec<String> = values(case, "testrail_result_comment")
        .map(str::to_string)
        .collect();
    if let Some(kind) = case
        .outcomes
        .iter()
        .find_map(|o| o.kind_name.clone())
        .filter(|k| !k.trim().is_empty())
    {
        parts.push(format!("Type: {kind}"));
    }
    (!parts.is_empty()).then(|| parts.join("\n\n"))
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
            <property name="testrail_case_field" value="custom_preconds:logged in"/>
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
            "seen on CI\n\nType: AssertionError"
        );
        assert_eq!(attachments(case), ["shots/pay.png"]);
        assert_eq!(automation_id(case).as_deref(), Some("shop.pay"));
    }

    /// trcli's own test data (`tests/fixtures/trcli`, MPL-2.0): what trcli makes of
    /// each test (its dataclass dump) against what tmbridge reads from it.
    #[test]
    fn trcli_test_data_reads_the_same() {
        use crate::config::Config;
        use serde_json::Value;
        let samples = [
            (
                include_str!("../../../../tests/fixtures/trcli/root.xml"),
                include_str!("../../../../tests/fixtures/trcli/root.json"),
            ),
            (
                include_str!(
                    "../../../../tests/fixtures/trcli/custom_automation_id_in_property.xml"
                ),
                include_str!(
                    "../../../../tests/fixtures/trcli/custom_automation_id_in_property.json"
                ),
            ),
        ];
        let statuses = Config::default().testrail.statuses().unwrap();
        let mut differences = Vec::new();
        for (xml, json) in samples {
            let ours = parse(xml.as_bytes()).unwrap();
            let theirs: Value = crate::json::from_str(json).unwrap();
            let expected: Vec<&Value> = theirs["testsections"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| s["testcases"].as_array().unwrap())
                .collect();
            let cases = ours.cases();
            assert_eq!(cases.len(), expected.len());
            for (case, want) in cases.iter().zip(expected) {
                let r = &want["result"];
                let status: u64 = statuses.get(case.status).unwrap().parse().unwrap();
                assert_eq!(Some(status), r["status_id"].as_u64(), "{}", case.name);
                // The same timespan, written `2m 39s` here and `159s` by trcli.
                let seconds = |t: Option<&str>| -> Option<u64> {
                    t?.split_whitespace()
                        .map(|p| {
                            let (n, unit) = p.split_at(p.len() - 1);
                            let n: u64 = n.parse().ok()?;
                            Some(
                                n * match unit {
                                    "s" => 1,
                                    "m" => 60,
                                    "h" => 3600,
                                    _ => return None,
                                },
                            )
                        })
                        .sum()
                };
                assert_eq!(
                    seconds(crate::testrail::elapsed(case.duration_us, false).as_deref()),
                    seconds(r["elapsed"].as_str())
                );
                let fields: Value = serde_json::to_value(result_fields(case)).unwrap();
                assert_eq!(fields, r["result_fields"], "{}", case.name);
                assert_eq!(
                    serde_json::to_value(&case.attachments).unwrap(),
                    r["attachments"]
                );
                let steps: Vec<(String, u64)> = steps(case)
                    .into_iter()
                    .map(|s| (s.content, s.status_id))
                    .collect();
                let want_steps: Vec<(String, u64)> = r["custom_step_results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| {
                        (
                            s["content"].as_str().unwrap().to_string(),
                            s["status_id"].as_u64().unwrap(),
                        )
                    })
                    .collect();
                assert_eq!(steps, want_steps, "{}", case.name);
                let mut want_fields = want["case_fields"].clone();
                if let Some(m) = want_fields.as_object_mut() {
                    m.remove("custom_automation_id");
                }
                assert_eq!(
                    serde_json::to_value(case_fields(case)).unwrap(),
                    want_fields
                );
                if let Some(head) = comment_head(case) {
                    let comment = r["comment"].as_str().unwrap_or("");
                    assert!(comment.starts_with(&head), "{comment:?} / {head:?}");
                }
                if case.name.chars().count() <= 250 {
                    assert_eq!(Some(case.name.as_str()), want["title"].as_str());
                }
                let aid = automation_id(case).unwrap_or_else(|| case.full_name());
                if Some(aid.as_str()) != want["custom_automation_id"].as_str() {
                    differences.push(case.name.clone());
                }
            }
        }
        // The one difference left: an automation id given as a `<testcase>` attribute.
        assert_eq!(differences, ["test_testrail 2"]);
    }
}
