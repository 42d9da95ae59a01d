//! The source fields a template can name (`test_run.name`, `failing_step.actual`,
//! `test_log.step_logs`...), what each one is, and their values in a run context.

use super::context::{RunContext, SourceFormat};
use super::text::{Seg, html_to_text};
use serde::{Deserialize, Serialize};

/// What a source holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Text,
    /// A web address: a link in rich-text fields.
    Link,
    /// A list of records.
    Records(RecordKind),
    /// `properties`: a list of `{name, value}` records, or one value by name
    /// (`test_run.properties.Environment`).
    Properties,
}

/// The kinds of record a list holds; each has its own fields and default rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordKind {
    Step,
    StepLog,
    Attachment,
    Requirement,
    Property,
}

#[derive(Debug)]
pub(crate) struct Spec {
    pub path: &'static str,
    pub shape: Shape,
    /// HTML in qTest: turned into plain text when the context says so.
    pub rich: bool,
    pub about: &'static str,
}

const fn spec(path: &'static str, shape: Shape, rich: bool, about: &'static str) -> Spec {
    Spec {
        path,
        shape,
        rich,
        about,
    }
}

use Shape::{Link, Properties, Records, Text};

pub(crate) const ROOT: &[Spec] = &[
    spec("test_run.id", Text, false, "id of the test run"),
    spec(
        "test_run.pid",
        Text,
        false,
        "key of the test run (qTest TR-12)",
    ),
    spec("test_run.name", Text, false, "name of the test run"),
    spec("test_run.link", Link, false, "web address of the test run"),
    spec("test_run.status", Text, false, "status of the run (Failed)"),
    spec("test_run.build", Text, false, "build the run tested"),
    spec(
        "test_run.build_url",
        Link,
        false,
        "web address of the build",
    ),
    spec(
        "test_run.environment",
        Text,
        false,
        "environment the run used",
    ),
    spec("test_run.tester", Text, false, "who ran the test"),
    spec("test_run.started_at", Text, false, "when the run started"),
    spec("test_run.finished_at", Text, false, "when the run ended"),
    spec(
        "test_run.properties",
        Properties,
        false,
        "fields of the run: `test_run.properties.NAME` for one",
    ),
    spec("test_case.id", Text, false, "id of the test case"),
    spec(
        "test_case.pid",
        Text,
        false,
        "key of the test case (qTest TC-7)",
    ),
    spec("test_case.name", Text, false, "name of the test case"),
    spec(
        "test_case.link",
        Link,
        false,
        "web address of the test case",
    ),
    spec(
        "test_case.description",
        Text,
        true,
        "description of the test case",
    ),
    spec(
        "test_case.preconditions",
        Text,
        true,
        "preconditions of the test case",
    ),
    spec(
        "test_case.steps",
        Records(RecordKind::Step),
        false,
        "steps of the test case: order, description, expected",
    ),
    spec(
        "test_case.properties",
        Properties,
        false,
        "fields of the test case: `test_case.properties.NAME` for one",
    ),
    spec(
        "test_case.requirements",
        Records(RecordKind::Requirement),
        false,
        "user stories of the case: formatted_id, name, link",
    ),
    spec("test_log.id", Text, false, "id of the test log"),
    spec("test_log.status", Text, false, "status the log recorded"),
    spec("test_log.note", Text, true, "note of the test log"),
    spec("test_log.message", Text, false, "failure message"),
    spec(
        "test_log.details",
        Text,
        false,
        "failure details or stack trace",
    ),
    spec(
        "test_log.started_at",
        Text,
        false,
        "when the execution started",
    ),
    spec(
        "test_log.finished_at",
        Text,
        false,
        "when the execution ended",
    ),
    spec(
        "test_log.build",
        Text,
        false,
        "build number of the execution",
    ),
    spec(
        "test_log.build_url",
        Link,
        false,
        "web address of the build",
    ),
    spec("test_log.tester", Text, false, "who executed the test"),
    spec(
        "test_log.step_logs",
        Records(RecordKind::StepLog),
        false,
        "executed steps: order, description, expected, actual, status",
    ),
    spec(
        "test_log.attachments",
        Records(RecordKind::Attachment),
        false,
        "attachments: name, url",
    ),
    spec(
        "failing_step.order",
        Text,
        false,
        "number of the first failed step",
    ),
    spec(
        "failing_step.description",
        Text,
        true,
        "what the failed step did",
    ),
    spec(
        "failing_step.expected",
        Text,
        true,
        "expected result of the failed step",
    ),
    spec(
        "failing_step.actual",
        Text,
        true,
        "actual result of the failed step",
    ),
    spec(
        "failing_step.status",
        Text,
        false,
        "status of the failed step",
    ),
];

const STEP: &[Spec] = &[
    spec("order", Text, false, "step number"),
    spec("description", Text, true, "what the step does"),
    spec("expected", Text, true, "expected result"),
];
const STEP_LOG: &[Spec] = &[
    spec("order", Text, false, "step number"),
    spec("description", Text, true, "what the step did"),
    spec("expected", Text, true, "expected result"),
    spec("actual", Text, true, "actual result"),
    spec("status", Text, false, "step status"),
];
const ATTACHMENT: &[Spec] = &[
    spec("name", Text, false, "file name"),
    spec("url", Link, false, "web address"),
];
const REQUIREMENT: &[Spec] = &[
    spec("formatted_id", Text, false, "US123 or RQ-4"),
    spec("name", Text, false, "name of the story"),
    spec("link", Link, false, "web address"),
    spec("id", Text, false, "id"),
];
const PROPERTY: &[Spec] = &[
    spec("name", Text, false, "field name"),
    spec("value", Text, false, "field value"),
];

impl RecordKind {
    pub(crate) fn fields(self) -> &'static [Spec] {
        match self {
            RecordKind::Step => STEP,
            RecordKind::StepLog => STEP_LOG,
            RecordKind::Attachment => ATTACHMENT,
            RecordKind::Requirement => REQUIREMENT,
            RecordKind::Property => PROPERTY,
        }
    }

    /// How a record reads when a template names the list without `each(...)`.
    pub(crate) fn default_template(self) -> &'static str {
        match self {
            RecordKind::Step => {
                r#"{order|suffix(". ")}{description}{expected|prefix("\n   Expected: ")}"#
            }
            RecordKind::StepLog => {
                concat!(
                    r#"{order|suffix(". ")}{description|indent("   ")}"#,
                    r#"{expected|indent("             ")|prefix("\n   Expected: ")}"#,
                    r#"{actual|indent("           ")|prefix("\n   Actual: ")}{status|prefix("\n   Status: ")}"#
                )
            }
            RecordKind::Attachment => r#"{name}{url|prefix(" (")|suffix(")")}"#,
            RecordKind::Requirement => r#"{formatted_id|suffix(": ")}{name}"#,
            RecordKind::Property => r#"{name}: {value}"#,
        }
    }
}

/// One record of a list: field values by name.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub kind: RecordKind,
    pub fields: Vec<(&'static str, Vec<Seg>)>,
}

impl Record {
    pub(crate) fn get(&self, name: &str) -> Vec<Seg> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// A value found for a source: text pieces, or a list of records.
#[derive(Debug, Clone)]
pub(crate) enum Found {
    Segs(Vec<Seg>),
    Records(Vec<Record>),
}

/// Describes one source for people and UIs (`autofill::source_catalog()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillSource")
)]
pub struct SourceInfo {
    pub path: String,
    /// `text`, `link` or `list`.
    pub kind: String,
    pub about: String,
}

/// Every source a template can name, in a stable order.
pub fn source_catalog() -> Vec<SourceInfo> {
    ROOT.iter()
        .map(|s| SourceInfo {
            path: s.path.to_string(),
            kind: match s.shape {
                Text => "text",
                Link => "link",
                Records(_) | Properties => "list",
            }
            .to_string(),
            about: s.about.to_string(),
        })
        .collect()
}

pub(crate) fn find_root(path: &str) -> Option<&'static Spec> {
    ROOT.iter().find(|s| s.path == path)
}

fn text_value(ctx: &RunContext, rich: bool, value: Option<&str>) -> Vec<Seg> {
    match value {
        None => Vec::new(),
        Some(v) if rich && ctx.source_format == SourceFormat::Html => {
            vec![Seg::Text(html_to_text(v))]
        }
        Some(v) => vec![Seg::Text(v.to_string())],
    }
}

fn link_value(value: Option<&str>) -> Vec<Seg> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => vec![Seg::Link(v.to_string())],
        _ => Vec::new(),
    }
}

fn number_value(n: Option<u64>) -> Vec<Seg> {
    n.map(|n| vec![Seg::Text(n.to_string())])
        .unwrap_or_default()
}

/// The value of a root source.
pub(crate) fn lookup(ctx: &RunContext, spec: &Spec) -> Found {
    let run = &ctx.test_run;
    let case = &ctx.test_case;
    let log = &ctx.test_log;
    let failing = ctx.failing_step();
    let t = |v: Option<&String>| text_value(ctx, spec.rich, v.map(String::as_str));
    let segs = match spec.path {
        "test_run.id" => t(run.id.as_ref()),
        "test_run.pid" => t(run.pid.as_ref()),
        "test_run.name" => t(run.name.as_ref()),
        "test_run.link" => link_value(run.link.as_deref()),
        "test_run.status" => t(run.status.as_ref()),
        "test_run.build" => t(run.build.as_ref()),
        "test_run.build_url" => link_value(run.build_url.as_deref()),
        "test_run.environment" => t(run.environment.as_ref()),
        "test_run.tester" => t(run.tester.as_ref()),
        "test_run.started_at" => t(run.started_at.as_ref()),
        "test_run.finished_at" => t(run.finished_at.as_ref()),
        "test_run.properties" => return Found::Records(properties(&run.properties)),
        "test_case.id" => t(case.id.as_ref()),
        "test_case.pid" => t(case.pid.as_ref()),
        "test_case.name" => t(case.name.as_ref()),
        "test_case.link" => link_value(case.link.as_deref()),
        "test_case.description" => t(case.description.as_ref()),
        "test_case.preconditions" => t(case.preconditions.as_ref()),
        "test_case.steps" => {
            let rich = |v: &Option<String>| text_value(ctx, true, v.as_deref());
            return Found::Records(
                case.steps
                    .iter()
                    .map(|s| Record {
                        kind: RecordKind::Step,
                        fields: vec![
                            ("order", number_value(s.order)),
                            ("description", rich(&s.description)),
                            ("expected", rich(&s.expected)),
                        ],
                    })
                    .collect(),
            );
        }
        "test_case.properties" => return Found::Records(properties(&case.properties)),
        "test_case.requirements" => {
            return Found::Records(
                case.requirements
                    .iter()
                    .map(|r| Record {
                        kind: RecordKind::Requirement,
                        fields: vec![
                            (
                                "formatted_id",
                                text_value(ctx, false, r.formatted_id.as_deref()),
                            ),
                            ("name", text_value(ctx, false, r.name.as_deref())),
                            ("link", link_value(r.link.as_deref())),
                            ("id", text_value(ctx, false, r.id.as_deref())),
                        ],
                    })
                    .collect(),
            );
        }
        "test_log.id" => t(log.id.as_ref()),
        "test_log.status" => t(log.status.as_ref()),
        "test_log.note" => t(log.note.as_ref()),
        "test_log.message" => t(log.message.as_ref()),
        "test_log.details" => t(log.details.as_ref()),
        "test_log.started_at" => t(log.started_at.as_ref()),
        "test_log.finished_at" => t(log.finished_at.as_ref()),
        "test_log.build" => t(log.build.as_ref()),
        "test_log.build_url" => link_value(log.build_url.as_deref()),
        "test_log.tester" => t(log.tester.as_ref()),
        "test_log.step_logs" => {
            let rich = |v: &Option<String>| text_value(ctx, true, v.as_deref());
            return Found::Records(
                log.step_logs
                    .iter()
                    .map(|s| Record {
                        kind: RecordKind::StepLog,
                        fields: vec![
                            ("order", number_value(s.order)),
                            ("description", rich(&s.description)),
                            ("expected", rich(&s.expected)),
                            ("actual", rich(&s.actual)),
                            ("status", text_value(ctx, false, s.status.as_deref())),
                        ],
                    })
                    .collect(),
            );
        }
        "test_log.attachments" => {
            return Found::Records(
                log.attachments
                    .iter()
                    .map(|a| Record {
                        kind: RecordKind::Attachment,
                        fields: vec![
                            ("name", text_value(ctx, false, a.name.as_deref())),
                            ("url", link_value(a.url.as_deref())),
                        ],
                    })
                    .collect(),
            );
        }
        "failing_step.order" => number_value(failing.and_then(|s| s.order)),
        "failing_step.description" => t(failing.and_then(|s| s.description.as_ref())),
        "failing_step.expected" => t(failing.and_then(|s| s.expected.as_ref())),
        "failing_step.actual" => t(failing.and_then(|s| s.actual.as_ref())),
        "failing_step.status" => t(failing.and_then(|s| s.status.as_ref())),
        _ => Vec::new(),
    };
    Found::Segs(segs)
}

/// One property by name: the first with exactly this name, else the first that
/// matches ignoring case.
pub(crate) fn property(ctx: &RunContext, owner: &str, name: &str) -> Vec<Seg> {
    let list = if owner == "test_case" {
        &ctx.test_case.properties
    } else {
        &ctx.test_run.properties
    };
    list.iter()
        .find(|p| p.name == name)
        .or_else(|| list.iter().find(|p| p.name.eq_ignore_ascii_case(name)))
        .map(|p| vec![Seg::Text(p.value.clone())])
        .unwrap_or_default()
}

fn properties(list: &[super::context::SourceProperty]) -> Vec<Record> {
    list.iter()
        .map(|p| Record {
            kind: RecordKind::Property,
            fields: vec![
                ("name", vec![Seg::Text(p.name.clone())]),
                ("value", vec![Seg::Text(p.value.clone())]),
            ],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_path_has_a_lookup() {
        // A context where every source has a value: no path may fall through to empty.
        let json = r#"{
          "test_run": {"id": 1, "pid": "TR-1", "name": "n", "link": "https://l", "status": "Failed", "build": "b",
            "build_url": "https://b", "environment": "e", "tester": "t", "started_at": "s", "finished_at": "f",
            "properties": [{"name": "p", "value": "v"}]},
          "test_case": {"id": 2, "pid": "TC-2", "name": "n", "link": "https://c", "description": "d", "preconditions": "p",
            "steps": [{"order": 1, "description": "d"}], "properties": [{"name": "p", "value": "v"}],
            "requirements": [{"formatted_id": "US1"}]},
          "test_log": {"id": 3, "status": "Failed", "note": "n", "message": "m", "details": "d", "started_at": "s",
            "finished_at": "f", "build": "b", "build_url": "https://b", "tester": "t",
            "step_logs": [{"order": 1, "description": "d", "expected": "e", "actual": "a", "status": "Failed"}],
            "attachments": ["a.png"]}
        }"#;
        let ctx: RunContext = crate::json::from_str(json).unwrap();
        for spec in ROOT {
            let empty = match lookup(&ctx, spec) {
                Found::Segs(s) => super::super::text::is_blank(&s),
                Found::Records(r) => r.is_empty(),
            };
            assert!(!empty, "{} found nothing", spec.path);
        }
        assert_eq!(source_catalog().len(), ROOT.len());
    }

    #[test]
    fn html_sources_become_plain_text_only_where_rich() {
        let ctx: RunContext = crate::json::from_str(
            r#"{"source_format": "html", "test_case": {"name": "a <b> c", "description": "<p>x &amp; y</p>"}}"#,
        )
        .unwrap();
        let get = |p: &str| match lookup(&ctx, find_root(p).unwrap()) {
            Found::Segs(s) => super::super::text::plain(&s),
            Found::Records(_) => String::new(),
        };
        assert_eq!(get("test_case.description"), "x & y");
        assert_eq!(get("test_case.name"), "a <b> c", "names are never HTML");
    }

    #[test]
    fn property_lookup_prefers_exact_case() {
        let ctx: RunContext = crate::json::from_str(
            r#"{"test_run": {"properties": [{"name": "environment", "value": "lower"}, {"name": "Environment", "value": "exact"}]}}"#,
        )
        .unwrap();
        assert_eq!(
            super::super::text::plain(&property(&ctx, "test_run", "Environment")),
            "exact"
        );
        assert_eq!(
            super::super::text::plain(&property(&ctx, "test_run", "ENVIRONMENT")),
            "lower"
        );
        assert!(property(&ctx, "test_case", "Environment").is_empty());
    }
}
