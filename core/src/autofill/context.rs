//! The failed test run the form is filled from: the run, its test case, the test
//! log and, derived from the log, the failing step.
//!
//! Field names follow tmbridge's own snake_case shape; qTest's names are accepted
//! as aliases (`test_step_logs`, `actual_result`, `expected_result`, `exe_start_date`,
//! `build_number`, `precondition`, `test_steps`, `web_url`, properties as
//! `{field_name, field_value, field_value_name}`), and values may be strings, numbers
//! or qTest's `{"id": .., "name": ..}` objects, so a host can pass what it fetched.

use crate::model;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Whether the rich text of the sources (descriptions, preconditions, steps, notes)
/// is plain text or HTML (qTest stores HTML). HTML is turned into plain text first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum SourceFormat {
    #[default]
    Plain,
    Html,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillRun")
)]
pub struct RunContext {
    pub test_run: TestRunInfo,
    pub test_case: TestCaseInfo,
    pub test_log: TestLogInfo,
    pub source_format: SourceFormat,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestRunInfo {
    #[serde(deserialize_with = "text")]
    pub id: Option<String>,
    /// The key people use (qTest `TR-12`).
    #[serde(deserialize_with = "text")]
    pub pid: Option<String>,
    #[serde(deserialize_with = "text")]
    pub name: Option<String>,
    /// Web address of the run; it goes into the defect's Description.
    #[serde(alias = "web_url", alias = "url", deserialize_with = "text")]
    pub link: Option<String>,
    #[serde(deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(alias = "build_number", deserialize_with = "text")]
    pub build: Option<String>,
    #[serde(deserialize_with = "text")]
    pub build_url: Option<String>,
    #[serde(deserialize_with = "text")]
    pub environment: Option<String>,
    #[serde(
        alias = "executed_by",
        alias = "assigned_to",
        deserialize_with = "text"
    )]
    pub tester: Option<String>,
    #[serde(alias = "exe_start_date", deserialize_with = "text")]
    pub started_at: Option<String>,
    #[serde(alias = "exe_end_date", deserialize_with = "text")]
    pub finished_at: Option<String>,
    /// Rally ref of the TestCaseResult this run is (or was published as).
    #[serde(alias = "rally_result_ref", deserialize_with = "text")]
    pub rally_ref: Option<String>,
    pub properties: Vec<SourceProperty>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestCaseInfo {
    #[serde(deserialize_with = "text")]
    pub id: Option<String>,
    #[serde(deserialize_with = "text")]
    pub pid: Option<String>,
    #[serde(deserialize_with = "text")]
    pub name: Option<String>,
    #[serde(alias = "web_url", alias = "url", deserialize_with = "text")]
    pub link: Option<String>,
    #[serde(deserialize_with = "text")]
    pub description: Option<String>,
    #[serde(alias = "precondition", deserialize_with = "text")]
    pub preconditions: Option<String>,
    #[serde(alias = "test_steps")]
    pub steps: Vec<StepInfo>,
    pub properties: Vec<SourceProperty>,
    /// Rally ref of the matching Rally TestCase.
    #[serde(deserialize_with = "text")]
    pub rally_ref: Option<String>,
    /// User stories the case covers, first one first: only the first can go to
    /// the defect's Requirement.
    #[serde(alias = "user_stories")]
    pub requirements: Vec<RequirementInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StepInfo {
    #[serde(deserialize_with = "number")]
    pub order: Option<u64>,
    #[serde(deserialize_with = "text")]
    pub description: Option<String>,
    #[serde(alias = "expected_result", deserialize_with = "text")]
    pub expected: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestLogInfo {
    #[serde(deserialize_with = "text")]
    pub id: Option<String>,
    #[serde(deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(deserialize_with = "text")]
    pub note: Option<String>,
    /// The failure message (JUnit `message`).
    #[serde(deserialize_with = "text")]
    pub message: Option<String>,
    /// The stack trace or failure details.
    #[serde(deserialize_with = "text")]
    pub details: Option<String>,
    #[serde(alias = "exe_start_date", deserialize_with = "text")]
    pub started_at: Option<String>,
    #[serde(alias = "exe_end_date", deserialize_with = "text")]
    pub finished_at: Option<String>,
    #[serde(alias = "build_number", deserialize_with = "text")]
    pub build: Option<String>,
    #[serde(deserialize_with = "text")]
    pub build_url: Option<String>,
    #[serde(
        alias = "executed_by",
        alias = "submitted_by",
        deserialize_with = "text"
    )]
    pub tester: Option<String>,
    #[serde(alias = "test_step_logs")]
    pub step_logs: Vec<StepLogInfo>,
    pub attachments: Vec<AttachmentInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StepLogInfo {
    #[serde(deserialize_with = "number")]
    pub order: Option<u64>,
    #[serde(deserialize_with = "text")]
    pub description: Option<String>,
    #[serde(alias = "expected_result", deserialize_with = "text")]
    pub expected: Option<String>,
    #[serde(alias = "actual_result", deserialize_with = "text")]
    pub actual: Option<String>,
    #[serde(deserialize_with = "text")]
    pub status: Option<String>,
}

/// An attachment of the test log: a name and, when the host knows it, a web address.
/// A bare string is read as the name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AttachmentInfo {
    pub name: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RequirementInfo {
    #[serde(deserialize_with = "text")]
    pub id: Option<String>,
    /// Rally FormattedID (`US123`) or qTest PID (`RQ-4`).
    #[serde(alias = "pid", deserialize_with = "text")]
    pub formatted_id: Option<String>,
    #[serde(deserialize_with = "text")]
    pub name: Option<String>,
    #[serde(alias = "web_url", alias = "url", deserialize_with = "text")]
    pub link: Option<String>,
    /// Rally ref of the user story (HierarchicalRequirement).
    #[serde(alias = "ref", alias = "_ref", deserialize_with = "text")]
    pub rally_ref: Option<String>,
}

/// A field of the run or the case by name (qTest `properties`). For qTest's
/// `{field_name, field_value, field_value_name}` the label `field_value_name` wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SourceProperty {
    pub name: String,
    pub value: String,
}

impl<'de> Deserialize<'de> for SourceProperty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default, alias = "field_name", deserialize_with = "text")]
            name: Option<String>,
            #[serde(default, alias = "field_value", deserialize_with = "text")]
            value: Option<String>,
            #[serde(default, deserialize_with = "text")]
            field_value_name: Option<String>,
        }
        let raw = Raw::deserialize(d)?;
        Ok(SourceProperty {
            name: raw.name.unwrap_or_default(),
            value: raw.field_value_name.or(raw.value).unwrap_or_default(),
        })
    }
}

impl<'de> Deserialize<'de> for AttachmentInfo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Full {
                #[serde(default, alias = "file_name", deserialize_with = "text")]
                name: Option<String>,
                #[serde(default, alias = "web_url", alias = "link", deserialize_with = "text")]
                url: Option<String>,
            },
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Name(name) => AttachmentInfo {
                name: Some(name),
                url: None,
            },
            Raw::Full { name, url } => AttachmentInfo { name, url },
        })
    }
}

impl RunContext {
    /// The first step log whose status says it failed (failed, fail, failure,
    /// error, broken; any case).
    pub fn failing_step(&self) -> Option<&StepLogInfo> {
        self.test_log
            .step_logs
            .iter()
            .find(|s| s.status.as_deref().is_some_and(is_failing_status))
    }

    /// A context from one JUnit test case: the case is both the run and the test
    /// case; its failure message, stack trace and attachments make the test log.
    pub fn from_junit_case(case: &model::TestCase) -> RunContext {
        let details = case
            .outcomes
            .iter()
            .find_map(|o| o.details.as_ref().map(|d| d.text.clone()));
        let properties: Vec<SourceProperty> = case
            .properties
            .iter()
            .map(|p| SourceProperty {
                name: p.name.clone(),
                value: p.value.clone(),
            })
            .collect();
        RunContext {
            test_run: TestRunInfo {
                name: Some(case.full_name()),
                status: Some(case.status.as_str().to_string()),
                started_at: case.timestamp.clone(),
                properties: properties.clone(),
                ..TestRunInfo::default()
            },
            test_case: TestCaseInfo {
                name: Some(case.name.clone()),
                properties,
                ..TestCaseInfo::default()
            },
            test_log: TestLogInfo {
                status: Some(case.status.as_str().to_string()),
                message: case.message.clone(),
                details,
                started_at: case.timestamp.clone(),
                attachments: case
                    .attachments
                    .iter()
                    .map(|a| AttachmentInfo {
                        name: Some(a.clone()),
                        url: None,
                    })
                    .collect(),
                ..TestLogInfo::default()
            },
            source_format: SourceFormat::Plain,
        }
    }
}

pub(crate) fn is_failing_status(status: &str) -> bool {
    matches!(
        status.trim().to_ascii_lowercase().as_str(),
        "failed" | "fail" | "failure" | "error" | "broken"
    )
}

/// Any JSON scalar as text; qTest's `{"id": .., "name": ..}` objects by their name
/// (or label, value); null, arrays and other objects as nothing.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(TextVisitor)
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, a number, a boolean or an object with a name")
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(TextVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut name, mut label, mut value) = (None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value_seed(TextSeed)?;
            match key.as_str() {
                "name" => name = v,
                "label" | "_refObjectName" => label = v,
                "value" => value = v,
                _ => {}
            }
        }
        Ok(name.or(label).or(value))
    }
}

struct TextSeed;

impl<'de> serde::de::DeserializeSeed<'de> for TextSeed {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

/// A step order: a number or a numeric string; anything else as nothing.
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(text(d)?.and_then(|t| t.trim().parse::<u64>().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_qtest_names_and_shapes() {
        let json = r#"{
            "test_run": {"id": 5521, "pid": "TR-42", "name": "Login", "web_url": "https://q/run/5521",
                "properties": [{"field_id": 1, "field_name": "Environment", "field_value": 7, "field_value_name": "Staging"},
                               {"name": "Browser", "value": "Firefox"}]},
            "test_case": {"precondition": "<p>user exists</p>", "test_steps": [{"order": "2", "description": "Sign in", "expected_result": "Home"}],
                "user_stories": [{"pid": "US7", "_ref": "/hierarchicalrequirement/7"}]},
            "test_log": {"status": {"id": 602, "name": "Failed"}, "exe_start_date": "2024-05-01T10:00:00Z", "build_number": 118,
                "test_step_logs": [{"order": 1, "status": "PASSED"}, {"order": 2, "actual_result": "Error 500", "status": {"name": "Failed"}}],
                "attachments": ["screenshot.png", {"name": "log.txt", "web_url": "https://q/a/1"}]},
            "source_format": "html"
        }"#;
        let ctx: RunContext = crate::json::from_str(json).unwrap();
        assert_eq!(ctx.test_run.id.as_deref(), Some("5521"));
        assert_eq!(ctx.test_run.link.as_deref(), Some("https://q/run/5521"));
        assert_eq!(
            ctx.test_run.properties[0].value, "Staging",
            "the label wins over the id"
        );
        assert_eq!(ctx.test_run.properties[1].value, "Firefox");
        assert_eq!(
            ctx.test_case.preconditions.as_deref(),
            Some("<p>user exists</p>")
        );
        assert_eq!(ctx.test_case.steps[0].order, Some(2));
        assert_eq!(
            ctx.test_case.requirements[0].rally_ref.as_deref(),
            Some("/hierarchicalrequirement/7")
        );
        assert_eq!(ctx.test_log.status.as_deref(), Some("Failed"));
        assert_eq!(ctx.test_log.build.as_deref(), Some("118"));
        assert_eq!(
            ctx.test_log.attachments[0].name.as_deref(),
            Some("screenshot.png")
        );
        assert_eq!(
            ctx.test_log.attachments[1].url.as_deref(),
            Some("https://q/a/1")
        );
        assert_eq!(ctx.source_format, SourceFormat::Html);
        let failing = ctx.failing_step().unwrap();
        assert_eq!(failing.actual.as_deref(), Some("Error 500"));
    }

    #[test]
    fn empty_object_is_an_empty_context() {
        let ctx: RunContext = crate::json::from_str("{}").unwrap();
        assert_eq!(ctx, RunContext::default());
        assert!(ctx.failing_step().is_none());
    }

    #[test]
    fn from_junit_case_takes_message_trace_and_attachments() {
        let case = model::TestCase {
            suite: vec!["auth".into()],
            classname: Some("auth.LoginTest".into()),
            name: "rejects_bad_password".into(),
            file: None,
            line: None,
            status: model::Status::Failed,
            duration_us: Some(1200),
            time_text: Some("0.0012".into()),
            timestamp: None,
            message: Some("expected 401, got 500".into()),
            outcomes: vec![model::Outcome {
                kind: model::OutcomeKind::Failure,
                message: Some("expected 401, got 500".into()),
                kind_name: Some("AssertionError".into()),
                details: Some(model::CapturedText {
                    text: "at LoginTest.java:42".into(),
                    truncated: false,
                    original_bytes: 20,
                }),
            }],
            reruns: vec![],
            system_out: None,
            system_err: None,
            properties: vec![model::Property {
                name: "browser".into(),
                value: "firefox".into(),
            }],
            attachments: vec!["shot.png".into()],
            steps: vec![],
            location: crate::error::Location {
                offset: 0,
                line: 1,
                column: 1,
            },
        };
        let ctx = RunContext::from_junit_case(&case);
        assert_eq!(
            ctx.test_run.name.as_deref(),
            Some("auth.LoginTest.rejects_bad_password")
        );
        assert_eq!(ctx.test_log.status.as_deref(), Some("failed"));
        assert_eq!(
            ctx.test_log.details.as_deref(),
            Some("at LoginTest.java:42")
        );
        assert_eq!(
            ctx.test_log.attachments[0].name.as_deref(),
            Some("shot.png")
        );
        assert_eq!(ctx.test_run.properties[0].name, "browser");
    }
}
