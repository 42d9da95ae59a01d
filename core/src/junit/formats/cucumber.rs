//! Cucumber JSON: the `json` formatter of cucumber-js and cucumber-jvm, and behave's
//! `json` formatter. One JSON document (an array of features), read whole from bytes
//! within the reader's `max_text_bytes`.
//!
//! Each feature is a suite (file = its `uri`, or behave's `location`); each scenario
//! a case with classname = the feature name. Every example row of a scenario outline
//! is its own element in the file, so its own case. Steps (with the background's
//! steps first) become steps; failing hooks become steps too. Durations are
//! nanoseconds (cucumber) or seconds (behave, recognised by its `location` fields).
//! Tags become `tag` properties (without the `@`); embeddings become `embedding` properties
//! (`name; mime type; N bytes`): the data stays in the report, it is never decoded.
//!
//! Statuses: a scenario takes its worst step or hook status, by cucumber's order
//! (failed > ambiguous > undefined > pending > skipped > passed): `passed` passed;
//! `failed` and `undefined` failed (a missing step definition fails a strict run,
//! and behave counts it as failed); `ambiguous` error; `pending`, `skipped` and
//! behave's `untested` skipped. behave's own scenario `status` is used when present.

use super::Sink;
use super::text::MAX_MESSAGE_BYTES;
use super::tree::{MAX_STEPS, Tree, new_case, push_property};
use crate::error::{Error, Location, Result};
use crate::junit::{Capture, Event, ReportStart, first_line, floor_char_boundary};
use crate::model::{DeclaredCounts, Outcome, OutcomeKind, RootKind, Status, Step};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::borrow::Cow;

#[derive(Deserialize)]
struct Feature<'a> {
    #[serde(default, borrow)]
    uri: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    location: Option<Cow<'a, str>>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "list")]
    tags: Vec<Tag>,
    #[serde(default, borrow, deserialize_with = "list")]
    elements: Vec<Scenario<'a>>,
}

#[derive(Deserialize)]
struct Scenario<'a> {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    keyword: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    line: Option<u64>,
    #[serde(default, borrow)]
    location: Option<Cow<'a, str>>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, deserialize_with = "list")]
    tags: Vec<Tag>,
    #[serde(default)]
    start_timestamp: Option<String>,
    #[serde(default, deserialize_with = "list")]
    steps: Vec<StepJson>,
    #[serde(default, deserialize_with = "list")]
    before: Vec<StepJson>,
    #[serde(default, deserialize_with = "list")]
    after: Vec<StepJson>,
}

#[derive(Deserialize)]
struct StepJson {
    #[serde(default)]
    keyword: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    result: Option<StepResult>,
    #[serde(default, deserialize_with = "list")]
    embeddings: Vec<Embedding>,
    #[serde(default)]
    hidden: Option<bool>,
    /// cucumber-jvm's BeforeStep and AfterStep hooks of this step.
    #[serde(default, deserialize_with = "list")]
    before: Vec<StepJson>,
    #[serde(default, deserialize_with = "list")]
    after: Vec<StepJson>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
struct StepResult {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    duration: Option<serde_json::Number>,
    #[serde(default)]
    error_message: Option<Text>,
}

/// A text as one string, or (behave 1.2.7) as a list of lines.
#[derive(Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
enum Text {
    One(String),
    Lines(Vec<String>),
}

impl Text {
    fn joined(&self) -> String {
        match self {
            Text::One(text) => text.clone(),
            Text::Lines(lines) => lines.join("\n"),
        }
    }
}

/// A list that a writer may also give as `null`.
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
struct Embedding {
    #[serde(default)]
    data: Length,
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// The length of a string, read without keeping the string.
#[derive(Default)]
struct Length(usize);

impl<'de> Deserialize<'de> for Length {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Length, D::Error> {
        struct LengthVisitor;
        impl Visitor<'_> for LengthVisitor {
            type Value = Length;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Length, E> {
                Ok(Length(v.len()))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Length, E> {
                Ok(Length(0))
            }
        }
        d.deserialize_str(LengthVisitor)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Tag {
    /// cucumber: `{"name": "@smoke", "line": 3}`
    Named { name: String },
    /// behave: `"smoke"`
    Plain(String),
}

impl Tag {
    /// The tag without its `@`, as behave and Robot Framework write tags, so that an
    /// id tag (`@C123`) is matched like a Robot tag `C123`.
    fn text(&self) -> String {
        let (Tag::Named { name } | Tag::Plain(name)) = self;
        name.strip_prefix('@').unwrap_or(name).to_string()
    }
}

/// Cucumber's order of step results, least severe first.
fn rank(status: &str) -> u8 {
    match status {
        "passed" => 0,
        "skipped" | "untested" => 1,
        "pending" => 2,
        "undefined" => 3,
        "ambiguous" => 4,
        "failed" | "hook_error" | "error" => 5,
        // An unknown result is not claimed to pass.
        _ => 1,
    }
}

fn status_of(status: &str) -> Status {
    match status {
        "passed" => Status::Passed,
        "failed" | "undefined" => Status::Failed,
        "ambiguous" | "hook_error" | "error" => Status::Error,
        _ => Status::Skipped,
    }
}

/// Reads a Cucumber JSON report into events.
pub(crate) fn read(bytes: &[u8], sink: &mut Sink) -> Result<()> {
    let at_start = Location {
        offset: 0,
        line: 1,
        column: 1,
    };
    let first = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF));
    if let Some(i) = first.filter(|&i| bytes[i] == b'{') {
        return Err(Error::new(
            "cucumber.not_cucumber_json",
            "the report is a JSON object; a Cucumber JSON report is an array of features",
        )
        .at(Location::in_text(bytes, i))
        .with_hint("if this is Cucumber's message stream (NDJSON), run cucumber with the json formatter instead (--format json:report.json, or -f json for behave)"));
    }
    let text = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(bytes);
    let skipped = bytes.len() - text.len();
    let features: Vec<Feature> = crate::json::from_slice(text).map_err(|e| {
        let location = Location::from_line_column(bytes, e.line(), e.column());
        let location = if skipped > 0 && e.line() == 1 {
            Location::in_text(bytes, location.offset as usize + skipped)
        } else {
            location
        };
        let (code, hint) = if e.is_data() {
            (
                "cucumber.unexpected_shape",
                "the JSON is not shaped like a Cucumber JSON report (features with elements and steps)",
            )
        } else {
            (
                "cucumber.invalid_json",
                "the report is not valid JSON; check that the test run finished writing it",
            )
        };
        Error::new(code, format!("cannot read the Cucumber JSON report: {e}"))
            .at(location)
            .with_hint(hint)
    })?;
    sink.queue.push_back(Event::ReportStart(ReportStart {
        root: RootKind::Cucumber,
        name: None,
        declared: DeclaredCounts::default(),
        duration_us: None,
        timestamp: None,
        location: at_start,
    }));
    let mut tree = Tree::default();
    for feature in &features {
        read_feature(feature, &mut tree, sink, at_start);
    }
    Ok(())
}

fn read_feature(feature: &Feature, tree: &mut Tree, sink: &mut Sink, at: Location) {
    let behave = feature.uri.is_none() && feature.location.is_some();
    let file = feature.uri.as_deref().map(str::to_string).or_else(|| {
        feature
            .location
            .as_deref()
            .map(|l| split_location(l).0.to_string())
    });
    let name = feature.name.clone().unwrap_or_default();
    let suite = tree.open(name.clone(), at);
    suite.info.file = file.clone();
    for tag in &feature.tags {
        suite.add_property(crate::model::Property {
            name: "tag".into(),
            value: tag.text(),
        });
    }
    let mut background: Vec<&StepJson> = Vec::new();
    for element in &feature.elements {
        let is_background = element.kind.as_deref() == Some("background")
            || element.keyword.as_deref().map(str::trim) == Some("Background");
        if is_background {
            // behave repeats the background's steps in every scenario; cucumber-jvm
            // writes them once before each scenario.
            if !behave {
                background = element.steps.iter().collect();
            }
            continue;
        }
        read_scenario(element, &background, &name, &file, behave, tree, sink, at);
        background.clear();
    }
    tree.close(sink);
}

#[allow(clippy::too_many_arguments)]
fn read_scenario(
    element: &Scenario,
    background: &[&StepJson],
    feature: &str,
    file: &Option<String>,
    behave: bool,
    tree: &mut Tree,
    sink: &mut Sink,
    at: Location,
) {
    let mut case = new_case(
        tree.path(),
        element.name.clone().unwrap_or_default().trim().to_string(),
        at,
    );
    case.classname = Some(feature.to_string()).filter(|f| !f.is_empty());
    case.file = file.clone();
    case.line = element.line.or_else(|| {
        element
            .location
            .as_deref()
            .and_then(|l| split_location(l).1)
    });
    case.timestamp = element.start_timestamp.clone();
    if let Some(id) = &element.id {
        push_property(&mut case, "id", id.clone());
    }
    for tag in &element.tags {
        push_property(&mut case, "tag", tag.text());
    }
    let mut worst = "passed".to_string();
    let mut failure: Option<(String, Option<String>)> = None;
    let mut total_us: Option<u64> = None;
    let hooks_before = element.before.iter().map(|h| (h, Some("Before")));
    let steps = background
        .iter()
        .copied()
        .chain(element.steps.iter())
        .flat_map(|s| {
            let before = s.before.iter().map(|h| (h, Some("BeforeStep")));
            let after = s.after.iter().map(|h| (h, Some("AfterStep")));
            before.chain(std::iter::once((s, None))).chain(after)
        });
    let hooks_after = element.after.iter().map(|h| (h, Some("After")));
    let mut dropped = 0u64;
    for (step, hook) in hooks_before.chain(steps).chain(hooks_after) {
        // behave leaves steps after a failure without a result: they did not run.
        let status = step
            .result
            .as_ref()
            .and_then(|r| r.status.clone())
            .unwrap_or_else(|| if behave { "untested" } else { "skipped" }.to_string());
        let duration = step
            .result
            .as_ref()
            .and_then(|r| r.duration.as_ref())
            .and_then(|d| duration_us(d, behave));
        if let Some(d) = duration {
            total_us = Some(total_us.unwrap_or(0).saturating_add(d));
        }
        let message = step
            .result
            .as_ref()
            .and_then(|r| r.error_message.as_ref())
            .and_then(|m| first_line(&m.joined(), MAX_MESSAGE_BYTES));
        let text = step.name.clone().unwrap_or_default();
        if rank(&status) > rank(&worst) {
            worst = status.clone();
            let what = match status.as_str() {
                "undefined" => Some(format!("undefined step: {text}")),
                "pending" => Some(format!("pending step: {text}")),
                "ambiguous" => Some(format!("ambiguous step: {text}")),
                _ => None,
            };
            let error = step
                .result
                .as_ref()
                .and_then(|r| r.error_message.as_ref())
                .map(Text::joined);
            failure = Some((message.clone().or(what).unwrap_or_default(), error));
        }
        for embedding in &step.embeddings {
            let label = embedding.name.clone().unwrap_or_else(|| text.clone());
            let mime = embedding.mime_type.clone().unwrap_or_default();
            // base64: 4 characters carry 3 bytes.
            let size = embedding.data.0 / 4 * 3;
            push_property(
                &mut case,
                "embedding",
                format!("{label}; {mime}; {size} bytes"),
            );
        }
        let is_hook = hook.is_some();
        if (is_hook || step.hidden == Some(true)) && status == "passed" {
            continue;
        }
        if case.steps.len() >= MAX_STEPS {
            dropped += 1;
            continue;
        }
        let keyword = match hook {
            Some(h) => Some(h.to_string()),
            None => step.keyword.clone(),
        };
        let mut name = text;
        name.truncate(floor_char_boundary(&name, MAX_MESSAGE_BYTES));
        case.steps.push(Step {
            keyword,
            name,
            status: status_of(&status),
            duration_us: duration,
            message: if status == "passed" { None } else { message },
            depth: 0,
        });
    }
    if dropped > 0 {
        sink.warn(
            "cucumber.steps_dropped",
            format!(
                "scenario `{}` has more than {MAX_STEPS} steps; {dropped} were not kept",
                case.name
            ),
            None,
        );
    }
    let status_text = match (&element.status, behave) {
        (Some(s), true) if s == "undefined" => "failed".to_string(),
        (Some(s), true) => s.clone(),
        _ => worst,
    };
    case.status = status_of(&status_text);
    case.duration_us = total_us;
    let kind = match case.status {
        Status::Failed => Some(OutcomeKind::Failure),
        Status::Error => Some(OutcomeKind::Error),
        Status::Skipped => Some(OutcomeKind::Skipped),
        _ => None,
    };
    if let Some(kind) = kind {
        let (message, error) = failure.unwrap_or_default();
        let details = error.map(|e| {
            let mut capture = Capture::new(sink.capture_limit(), false);
            capture.push(&e);
            capture.finish().0
        });
        let message = Some(message).filter(|m| !m.is_empty());
        case.message = message.clone();
        case.outcomes.push(Outcome {
            kind,
            message,
            kind_name: Some(status_text),
            details: details.flatten(),
        });
    }
    tree.case(sink, case);
}

/// A duration as written: integer nanoseconds (cucumber) or seconds (behave).
fn duration_us(number: &serde_json::Number, behave: bool) -> Option<u64> {
    if behave {
        let seconds = number.as_f64()?;
        // Durations are stored as integer microseconds; the float only passes through.
        (0.0..1e12)
            .contains(&seconds)
            .then(|| (seconds * 1e6).round() as u64)
    } else if let Some(ns) = number.as_u64() {
        Some(ns / 1000)
    } else {
        let ns = number.as_f64()?;
        (0.0..1e18)
            .contains(&ns)
            .then(|| (ns / 1000.0).round() as u64)
    }
}

/// behave's `features/x.feature:12` as the path and the line.
fn split_location(location: &str) -> (&str, Option<u64>) {
    match location.rsplit_once(':') {
        Some((path, line)) if line.chars().all(|c| c.is_ascii_digit()) && !line.is_empty() => {
            (path, line.parse().ok())
        }
        _ => (location, None),
    }
}
