//! Fill the form: for each field, in form order, the first rule that yields a
//! value, else an automatic reference (TestCase, Requirement, TestCaseResult), else
//! the field's default; then validate, encode, cut to length, and build the payload.

use super::context::RunContext;
use super::mapping::{Lookup, lookup as map_lookup};
use super::payload::{Payload, PayloadValue, payload_value, short_ref};
use super::problem::{Problem, Severity, quoted};
use super::schema::{FieldDef, FieldKind, Schema};
use super::settings::{
    Rule, Settings, ValueMap, effective_fields, on_form_by_default, resolve_form,
};
use super::template::{MAX_RENDERED_BYTES, Template, parse_template};
use super::text::{Seg, TextFormat, cap, encode, escape_html, fit, is_blank, is_safe_url, plain};
use super::validate::check_value;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What gave a field its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum FilledBy {
    /// A rule's template or sources.
    Rule,
    /// A rule whose text went through a value map.
    ValueMap,
    /// The field's default from the settings.
    Default,
    /// A reference taken from the run (TestCase, Requirement, TestCaseResult).
    Automatic,
    /// Nothing: the field is empty.
    None,
}

/// One field of the filled form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillFilledField")
)]
pub struct FilledField {
    /// Rally ElementName.
    pub field: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    /// The value as it goes to Rally: HTML in rich-text fields, plain text elsewhere,
    /// the allowed value's name for dropdowns and references.
    pub value: String,
    /// The Rally ref, for reference fields (`/project/123`).
    pub reference: Option<String>,
    pub filled_by: FilledBy,
    /// Index of the rule in `settings.rules`, when a rule filled the field.
    pub rule: Option<u64>,
    /// Why the field holds this value, or why it is empty.
    pub explanation: String,
    pub truncated: bool,
}

/// The filled form, the problems, and the create payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AutofillOutput")
)]
pub struct FillOutput {
    pub type_name: String,
    /// True when no problem is an error: the defect can be submitted as it is.
    pub ready: bool,
    /// The form's fields in form order.
    pub fields: Vec<FilledField>,
    pub problems: Vec<Problem>,
    pub payload: Payload,
}

const DEFAULT_MARKER: &str = "… [truncated]";

enum Body {
    Template(Template),
    Sources(Vec<Template>, String),
}

struct Compiled<'s> {
    index: usize,
    rule: &'s Rule,
    body: Body,
    map: Option<&'s ValueMap>,
}

impl Compiled<'_> {
    /// The rule's text, and whether it was cut at `MAX_RENDERED_BYTES`.
    fn render(&self, ctx: &RunContext) -> (Vec<Seg>, bool) {
        match &self.body {
            Body::Template(t) => t.render(ctx),
            Body::Sources(parts, sep) => {
                let mut out: Vec<Seg> = Vec::new();
                let mut cut = false;
                for (segs, part_cut) in parts.iter().map(|t| t.render(ctx)) {
                    if is_blank(&segs) {
                        continue;
                    }
                    if !out.is_empty() {
                        out.push(Seg::Text(sep.clone()));
                    }
                    out.extend(segs);
                    cut |= part_cut;
                }
                cut |= cap(&mut out, MAX_RENDERED_BYTES);
                (out, cut)
            }
        }
    }

    fn describe(&self) -> String {
        match (&self.rule.template, self.rule.sources.is_empty()) {
            (Some(t), _) => format!("rule {} (template {})", self.index, quoted(t)),
            (None, false) => format!(
                "rule {} (sources {})",
                self.index,
                self.rule.sources.join(", ")
            ),
            (None, true) => format!("rule {}", self.index),
        }
    }

    fn source_names(&self) -> Vec<String> {
        match &self.body {
            Body::Template(t) => t.source_names(),
            Body::Sources(parts, _) => parts.iter().flat_map(Template::source_names).collect(),
        }
    }
}

/// Fill the form for a failed run.
pub fn fill(schema: &Schema, settings: &Settings, ctx: &RunContext) -> Result<FillOutput> {
    if schema.fields.is_empty() {
        return Err(Error::new(
            "autofill.empty_schema",
            "the schema has no fields",
        ));
    }
    let mut problems: Vec<Problem> = schema
        .warnings
        .iter()
        .map(|w| Problem::info(&w.code, None, w.message.clone()))
        .collect();
    let form = resolve_form(schema, settings);
    problems.extend(form.problems.iter().cloned());
    problems.extend(super::mapping::check_mappings(schema, settings));
    let all_fields = effective_fields(schema, settings, &mut Vec::new());
    let rules = compile_rules(settings, &all_fields, &form.fields, &mut problems);
    let marker = settings
        .truncation_marker
        .as_deref()
        .unwrap_or(DEFAULT_MARKER);

    let run_link = ctx
        .test_run
        .link
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty());
    let has_description = all_fields
        .iter()
        .any(|f| f.name == "Description" && !f.read_only);
    let link_html = run_link.map(|url| run_link_html(url, ctx, &mut problems));
    if run_link.is_none() && has_description {
        problems.push(
            Problem::warning(
                "autofill.no_run_link",
                Some("Description"),
                "the run has no link, so the Description cannot point back to it",
            )
            .with_hint("set test_run.link in the run"),
        );
    }

    let automatic = automatic_refs(ctx, &mut problems);
    let mut fields = Vec::new();
    for field in &form.fields {
        let filled = fill_field(
            field,
            &rules,
            settings,
            ctx,
            &automatic,
            marker,
            if field.name == "Description" {
                link_html.as_deref()
            } else {
                None
            },
            &mut problems,
        );
        fields.push(filled);
    }

    // Required fields the user hid from the form still need a value in Rally.
    for f in &all_fields {
        let shown = fields.iter().any(|x| x.field == f.name);
        let automatic_value = automatic.iter().any(|(n, _, _)| *n == f.name);
        if f.required && !f.read_only && !shown && !automatic_value {
            problems.push(
                Problem::error(
                    "autofill.required_hidden",
                    Some(&f.name),
                    format!("{} is required in Rally but is not on the form", f.name),
                )
                .with_hint(if f.hidden {
                    format!("{} is hidden in Rally; add a default for it and show it with an added field", f.name)
                } else {
                    format!("show {} again, or give it a default", f.name)
                }),
            );
        }
    }

    let payload = build_payload(
        schema,
        &all_fields,
        &fields,
        &automatic,
        link_html.as_deref(),
        &mut problems,
    );
    let ready = !problems.iter().any(|p| p.severity == Severity::Error);
    Ok(FillOutput {
        type_name: schema.type_name.clone(),
        ready,
        fields,
        problems,
        payload,
    })
}

fn compile_rules<'s>(
    settings: &'s Settings,
    all_fields: &[FieldDef],
    form: &[FieldDef],
    problems: &mut Vec<Problem>,
) -> Vec<Compiled<'s>> {
    let mut out = Vec::new();
    for (index, rule) in settings.rules.iter().enumerate() {
        let name = rule.field.as_str();
        let at = format!("rule {index} ({name})");
        let Some(field) = all_fields.iter().find(|f| f.name == name) else {
            problems.push(Problem::error(
                "autofill.unknown_field",
                Some(name),
                format!("{at}: the schema has no field {name}"),
            ).with_hint("use the field's ElementName (e.g. FoundInBuild, c_Team), or add the field by hand"));
            continue;
        };
        if field.read_only {
            problems.push(Problem::warning(
                "autofill.read_only_field",
                Some(name),
                format!("{at}: {name} is read-only in Rally; the rule is ignored"),
            ));
            continue;
        }
        if !form.iter().any(|f| f.name == name) {
            problems.push(Problem::info(
                "autofill.rule_for_hidden_field",
                Some(name),
                format!("{at}: {name} is not on the form; the rule is ignored"),
            ));
            continue;
        }
        let body = match (&rule.template, rule.sources.is_empty()) {
            (Some(_), false) => {
                problems.push(Problem::error(
                    "autofill.bad_rule",
                    Some(name),
                    format!("{at}: give a template or sources, not both"),
                ));
                continue;
            }
            (None, true) => {
                problems.push(Problem::error(
                    "autofill.bad_rule",
                    Some(name),
                    format!("{at}: the rule has neither a template nor sources"),
                ));
                continue;
            }
            (Some(t), true) => parse_template(t).map(Body::Template),
            (None, false) => rule
                .sources
                .iter()
                .map(|s| parse_template(&format!("{{{s}}}")))
                .collect::<Result<Vec<_>>>()
                .map(|parts| {
                    Body::Sources(
                        parts,
                        rule.separator.clone().unwrap_or_else(|| "\n".to_string()),
                    )
                }),
        };
        let body = match body {
            Ok(b) => b,
            Err(e) => {
                let place = e
                    .location
                    .map(|l| format!(" at line {}, column {}", l.line, l.column))
                    .unwrap_or_default();
                let mut p =
                    Problem::error(&e.code, Some(name), format!("{at}: {}{place}", e.message));
                if let Some(h) = e.hint {
                    p = p.with_hint(h);
                }
                problems.push(p);
                continue;
            }
        };
        let map = match rule.map.as_deref() {
            None => None,
            Some(m) => match settings.value_maps.iter().find(|v| v.name == m) {
                Some(v) => Some(v),
                None => continue, // check_mappings reported it
            },
        };
        if map.is_none() && !field.is_text_like() {
            problems.push(
                Problem::warning(
                    "autofill.rule_needs_map",
                    Some(name),
                    format!(
                        "{at}: {name} is a {} field, which is filled only from a default or through a value map",
                        kind_words(field)
                    ),
                )
                .with_hint("add \"map\" to the rule, or give the field a default"),
            );
            continue;
        }
        out.push(Compiled {
            index,
            rule,
            body,
            map,
        });
    }
    out
}

fn kind_words(field: &FieldDef) -> String {
    if !field.allowed_values.is_empty() || !field.allowed_values_loaded {
        "dropdown".to_string()
    } else {
        field.attribute_type.to_ascii_lowercase()
    }
}

/// Refs taken from the run: (field, ref, explanation).
fn automatic_refs(
    ctx: &RunContext,
    problems: &mut Vec<Problem>,
) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    if let Some(r) = ctx
        .test_case
        .rally_ref
        .as_deref()
        .filter(|r| !r.trim().is_empty())
    {
        out.push((
            "TestCase",
            r.trim().to_string(),
            "the Rally test case of the run".to_string(),
        ));
    }
    let stories = &ctx.test_case.requirements;
    if let Some(first) = stories.first() {
        let label = story_label(first);
        match first.rally_ref.as_deref().filter(|r| !r.trim().is_empty()) {
            Some(r) => out.push((
                "Requirement",
                r.trim().to_string(),
                format!("the user story {label} linked to the test case"),
            )),
            None => problems.push(Problem::warning(
                "autofill.requirement_without_ref",
                Some("Requirement"),
                format!(
                    "the user story {label} has no Rally ref, so the defect is not linked to it"
                ),
            )),
        }
        if stories.len() > 1 {
            let rest: Vec<String> = stories.iter().skip(1).map(story_label).collect();
            problems.push(
                Problem::warning(
                    "autofill.extra_requirements",
                    Some("Requirement"),
                    format!(
                        "the test case is linked to {} user stories; a Rally defect has one Requirement, so only {label} is set and these are left out: {}",
                        stories.len(),
                        rest.join(", ")
                    ),
                )
                .with_hint("link the others to the defect by hand in Rally if they matter"),
            );
        }
    }
    if let Some(r) = ctx
        .test_run
        .rally_ref
        .as_deref()
        .filter(|r| !r.trim().is_empty())
    {
        out.push((
            "TestCaseResult",
            r.trim().to_string(),
            "the Rally test case result of the run".to_string(),
        ));
    }
    out
}

fn story_label(story: &super::context::RequirementInfo) -> String {
    match (story.formatted_id.as_deref(), story.name.as_deref()) {
        (Some(id), Some(name)) => format!("{id} {}", quoted(name)),
        (Some(id), None) => id.to_string(),
        (None, Some(name)) => quoted(name),
        (None, None) => story
            .rally_ref
            .clone()
            .or(story.id.clone())
            .unwrap_or_else(|| "(unnamed)".to_string()),
    }
}

/// Rendered pieces without control and text-direction characters (they would reach
/// Rally invisibly or make the text read differently), and how many went.
fn strip_controls(segs: Vec<Seg>) -> (Vec<Seg>, usize) {
    let mut removed = 0;
    let segs = segs
        .into_iter()
        .map(|seg| {
            let (kept, n) = crate::controls::strip_forbidden(seg.as_str());
            removed += n;
            match seg {
                Seg::Text(_) => Seg::Text(kept),
                Seg::Link(_) => Seg::Link(kept),
            }
        })
        .collect();
    (segs, removed)
}

fn control_warning(field: &str, removed: usize) -> Problem {
    Problem::warning(
        "autofill.control_character",
        Some(field),
        format!(
            "{removed} control or text-direction character(s) (NUL, U+202E...) were removed from the value of {field}"
        ),
    )
    .with_hint("they come from the run's data; fix the test or the tool that wrote them")
}

/// `Test run: <a href="...">TR-42 name</a>` for the Description.
fn run_link_html(url: &str, ctx: &RunContext, problems: &mut Vec<Problem>) -> String {
    let label = [ctx.test_run.pid.as_deref(), ctx.test_run.name.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let label = if label.is_empty() {
        url
    } else {
        label.as_str()
    };
    let (url, removed) = crate::controls::strip_forbidden(url);
    let url = url.as_str();
    if removed > 0 {
        problems.push(control_warning("Description", removed));
    }
    let label: String = label
        .chars()
        .filter(|c| !c.is_control() && !crate::controls::is_bidi_control(*c))
        .collect();
    if is_safe_url(url) {
        format!(
            "Test run: <a href=\"{}\">{}</a>",
            escape_html(url),
            escape_html(&label)
        )
    } else {
        format!("Test run: {}", escape_html(url))
    }
}

#[allow(clippy::too_many_arguments)]
fn fill_field(
    field: &FieldDef,
    rules: &[Compiled],
    settings: &Settings,
    ctx: &RunContext,
    automatic: &[(&'static str, String, String)],
    marker: &str,
    run_link: Option<&str>,
    problems: &mut Vec<Problem>,
) -> FilledField {
    let name = field.name.as_str();
    let mut tried: Vec<String> = Vec::new();
    // (pieces, filled_by, rule index, explanation)
    let mut chosen: Option<(Vec<Seg>, FilledBy, Option<u64>, String)> = None;
    // Characters removed from what the chosen rule rendered, before any value map.
    let mut removed_by_rule = 0;
    for rule in rules.iter().filter(|r| r.rule.field == name) {
        let (segs, cut) = rule.render(ctx);
        if cut {
            problems.push(
                Problem::warning(
                    "autofill.value_too_long",
                    Some(name),
                    format!(
                        "{} gave more than {} KiB of text; only the first {} KiB are used",
                        rule.describe(),
                        MAX_RENDERED_BYTES / 1024,
                        MAX_RENDERED_BYTES / 1024
                    ),
                )
                .with_hint("shorten the rule's template, e.g. with first_line"),
            );
        }
        let (segs, removed) = strip_controls(segs);
        removed_by_rule = removed;
        if is_blank(&segs) {
            let sources = rule.source_names();
            tried.push(if sources.is_empty() {
                format!("{} gave nothing", rule.describe())
            } else {
                format!(
                    "{} gave nothing ({} empty in the run)",
                    rule.describe(),
                    sources.join(", ")
                )
            });
            continue;
        }
        match rule.map {
            None => {
                chosen = Some((
                    segs,
                    FilledBy::Rule,
                    Some(rule.index as u64),
                    format!("from {}", rule.describe()),
                ));
            }
            Some(map) => {
                let text = plain(&segs).trim().to_string();
                match map_lookup(map, &text) {
                    Lookup::Exact(target) => {
                        chosen = Some((
                            vec![Seg::Text(target.to_string())],
                            FilledBy::ValueMap,
                            Some(rule.index as u64),
                            format!(
                                "{} mapped to {} by the value map {} ({})",
                                quoted(&text),
                                quoted(target),
                                quoted(&map.name),
                                rule.describe()
                            ),
                        ));
                    }
                    Lookup::Loose { written, target } => {
                        problems.push(Problem::info(
                            "autofill.mapped_loosely",
                            Some(name),
                            format!("{} matched {} in the value map {} only when ignoring case and spaces", quoted(&text), quoted(written), quoted(&map.name)),
                        ));
                        chosen = Some((
                            vec![Seg::Text(target.to_string())],
                            FilledBy::ValueMap,
                            Some(rule.index as u64),
                            format!(
                                "{} mapped to {} by the value map {} ({})",
                                quoted(&text),
                                quoted(target),
                                quoted(&map.name),
                                rule.describe()
                            ),
                        ));
                    }
                    Lookup::Missing => {
                        problems.push(
                            Problem::warning(
                                "autofill.unmapped_value",
                                Some(name),
                                format!(
                                    "{} has no pair in the value map {}",
                                    quoted(&text),
                                    quoted(&map.name)
                                ),
                            )
                            .with_hint(format!(
                                "add a pair for {} to the value map",
                                quoted(&text)
                            )),
                        );
                        tried.push(format!(
                            "{} gave {}, which the value map {} does not know",
                            rule.describe(),
                            quoted(&text),
                            quoted(&map.name)
                        ));
                        continue;
                    }
                }
            }
        }
        break;
    }
    if chosen.is_none()
        && let Some((_, r, why)) = automatic.iter().find(|(n, _, _)| *n == name)
    {
        chosen = Some((
            vec![Seg::Text(r.clone())],
            FilledBy::Automatic,
            None,
            why.clone(),
        ));
    }
    if chosen.is_none()
        && let Some(d) = settings.defaults.get(name)
        && !d.trim().is_empty()
    {
        let why = if tried.is_empty() {
            "the field's default".to_string()
        } else {
            format!("the field's default ({})", tried.join("; "))
        };
        chosen = Some((vec![Seg::Text(d.clone())], FilledBy::Default, None, why));
    }

    let (segs, filled_by, rule, explanation) = chosen.unwrap_or_else(|| {
        let why = if tried.is_empty() {
            "no rule or default fills it".to_string()
        } else {
            format!("{}; no default", tried.join("; "))
        };
        (Vec::new(), FilledBy::None, None, why)
    });
    let (segs, removed_here) = strip_controls(segs);
    let removed = match filled_by {
        FilledBy::Rule | FilledBy::ValueMap => removed_by_rule,
        _ => removed_here,
    };
    if removed > 0 {
        problems.push(control_warning(name, removed));
    }

    let mut out = FilledField {
        field: name.to_string(),
        label: field.label.clone(),
        kind: field.kind,
        required: field.required,
        value: String::new(),
        reference: None,
        filled_by,
        rule,
        explanation,
        truncated: false,
    };

    if field.is_text_like() {
        let format = if field.is_rich_text() {
            TextFormat::Html
        } else if field.kind == FieldKind::String {
            TextFormat::SingleLine
        } else {
            TextFormat::Plain
        };
        let atoms = encode(&segs, format);
        let body = atoms.concat();
        // the run link, unless the template already put it in
        let link = run_link.filter(|l| !link_already_in(&body, l));
        let separator = if is_blank(&segs) { "" } else { "<br /><br />" };
        let reserve = link.map_or(0, |l| {
            (separator.chars().count() + l.chars().count()) as u64
        });
        let fitted = fit(
            &atoms,
            field.max_length,
            reserve,
            &encode(&[Seg::Text(marker.to_string())], format).concat(),
        );
        out.value = fitted.text;
        if let Some(l) = link {
            if out.value.is_empty() {
                out.value = l.to_string();
            } else {
                out.value.push_str(separator);
                out.value.push_str(l);
            }
            if out.filled_by == FilledBy::None {
                out.filled_by = FilledBy::Automatic;
                out.explanation = format!("the link to the test run ({})", out.explanation);
            } else {
                out.explanation.push_str("; link to the test run added");
            }
        }
        if fitted.truncated {
            out.truncated = true;
            problems.push(
                Problem::warning(
                    "autofill.truncated",
                    Some(name),
                    format!(
                        "{name} was cut to its length of {} characters (the text had {}{}); it ends with {}",
                        field.max_length.unwrap_or(0),
                        fitted.original_chars,
                        if reserve > 0 { ", and the run link is kept after it" } else { "" },
                        quoted(marker)
                    ),
                )
                .with_hint("shorten the rule's template, e.g. with first_line"),
            );
        }
    } else {
        let text = plain(&segs);
        match check_value(field, &text) {
            Ok(c) => {
                // dropdown values of other kinds have refs too, but Rally takes their text
                if field.kind == FieldKind::Object {
                    out.reference = c.reference.map(|r| short_ref(&r));
                }
                out.value = c.value;
            }
            Err(p) => {
                // A value that was not checked (allowed values not loaded) is kept.
                if p.severity != Severity::Error {
                    out.value = text.trim().to_string();
                } else {
                    out.explanation =
                        format!("{} was refused ({})", quoted(text.trim()), out.explanation);
                    out.filled_by = FilledBy::None;
                    out.rule = None;
                }
                problems.push(p);
            }
        }
    }

    if field.required && out.value.trim().is_empty() {
        problems.push(
            Problem::error(
                "autofill.required_empty",
                Some(name),
                format!("{name} is required but empty: {}", out.explanation),
            )
            .with_hint(format!(
                "add a rule or a default for {name} in the settings"
            )),
        );
    }
    out
}

fn link_already_in(body: &str, link_html: &str) -> bool {
    // the href of the link, as encoded
    link_html
        .split("href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .is_some_and(|href| body.contains(&format!("href=\"{href}\"")))
}

fn build_payload(
    schema: &Schema,
    all_fields: &[FieldDef],
    filled: &[FilledField],
    automatic: &[(&'static str, String, String)],
    link_html: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Payload {
    let mut attrs: BTreeMap<String, PayloadValue> = BTreeMap::new();
    for f in filled {
        if f.value.trim().is_empty() {
            continue;
        }
        attrs.insert(
            f.field.clone(),
            payload_value(f.kind, &f.value, f.reference.as_deref(), &f.value),
        );
    }
    // Refs of the run and the run link go to Rally even when hidden from the form.
    for (name, reference, _) in automatic {
        let Some(def) = all_fields.iter().find(|d| d.name == *name) else {
            problems.push(Problem::info(
                "autofill.no_such_field",
                Some(name),
                format!(
                    "the run has a {name} ref but the {} type has no {name} field",
                    schema.type_name
                ),
            ));
            continue;
        };
        if def.read_only || attrs.contains_key(*name) || filled.iter().any(|f| f.field == *name) {
            continue;
        }
        if !super::payload::looks_like_ref(reference) {
            problems.push(Problem::error(
                "autofill.not_a_ref",
                Some(name),
                format!(
                    "the run's {name} ref {} is not a Rally ref",
                    quoted(reference)
                ),
            ));
            continue;
        }
        problems.push(Problem::info(
            "autofill.hidden_field_sent",
            Some(name),
            format!("{name} is not on the form, but the payload carries the run's {name} ref"),
        ));
        attrs.insert(name.to_string(), PayloadValue::Text(short_ref(reference)));
    }
    if let Some(link) = link_html
        && !filled.iter().any(|f| f.field == "Description")
        && all_fields
            .iter()
            .any(|d| d.name == "Description" && !d.read_only && on_form_by_default(d))
    {
        problems.push(Problem::info(
            "autofill.hidden_field_sent",
            Some("Description"),
            "Description is not on the form; the payload carries just the link to the test run",
        ));
        attrs.insert(
            "Description".to_string(),
            PayloadValue::Text(link.to_string()),
        );
    }
    let mut payload = Payload::new();
    payload.insert(schema.type_name.clone(), attrs);
    payload
}
