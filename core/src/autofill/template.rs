//! Templates that fill a field from the sources of a failed run.
//!
//! Syntax:
//! - Text is copied as written; `{{` and `}}` write a literal `{` and `}`.
//! - `{test_run.name}` inserts a source (see `source_catalog()`); a missing value
//!   inserts nothing. `{test_run.properties.Environment}` inserts one field of the
//!   run (or of the test case) by name.
//! - Filters follow a `|`, left to right:
//!   `prefix("text")` / `suffix("text")` add text only when the value is not empty
//!   (the separator of a value that may be missing), `default("text")` when it is empty,
//!   `indent("text")` puts text before every line but the first, `first_line`,
//!   `trim`, `upper`, `lower`;
//!   for lists (`test_case.steps`, `test_log.step_logs`, `test_log.attachments`,
//!   `test_case.requirements`, `*.properties`): `each("{order}. {description}")` renders
//!   every item with a template of its own fields, `join(", ")` joins the items
//!   (empty ones are skipped; a list without `join` is joined with line breaks).
//! - Strings are in double quotes, with `\"`, `\\`, `\n` and `\t` escapes.
//!
//! Example: `{test_case.pid|suffix(": ")}{test_case.name} fails{failing_step.order|prefix(" at step ")}`
//!
//! Parsing checks every source name, so a typo is an error with its position, never
//! an empty field at run time. Nothing here panics on any input.

use super::context::RunContext;
use super::sources::{Found, Record, RecordKind, Shape, Spec, find_root, lookup, property};
use super::text::{Seg, TextFormat, cap, encode, is_blank, plain, text_len};
use crate::error::{Error, Location, Result};

/// A parsed, checked template.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Lit(String),
    Slot(Slot),
}

#[derive(Debug, Clone)]
struct Slot {
    source: SlotSource,
    filters: Vec<Filter>,
}

#[derive(Debug, Clone)]
enum SlotSource {
    Root(&'static Spec),
    Property { owner: &'static str, name: String },
    Item(&'static str),
}

#[derive(Debug, Clone)]
enum Filter {
    Join(String),
    Each(Template),
    Default(String),
    Prefix(String),
    Suffix(String),
    Indent(String),
    FirstLine,
    Trim,
    Upper,
    Lower,
}

/// Nested `each(...)` templates deeper than this are refused.
const MAX_DEPTH: u32 = 3;

/// Longest value a template renders, in bytes of text: every value looked up, every
/// filter's result and the whole rendering are cut there. Far above the length of any
/// Rally field, it bounds the memory and the work of a template whatever the size of
/// the run's texts (a 50 MB test name, a list of thousands of steps).
pub const MAX_RENDERED_BYTES: usize = 256 * 1024;

/// Parse and check a template.
pub fn parse_template(src: &str) -> Result<Template> {
    Parser::new(src, Scope::Root, 0).parse().map_err(|e| {
        let mut err = Error::new(e.code, e.message).at(Location::in_text(src.as_bytes(), e.offset));
        if let Some(h) = e.hint {
            err = err.with_hint(h);
        }
        err
    })
}

/// Parse a template and render it for a run, encoded for a field of this format.
/// The entry point for fuzzing: it returns an error or a string for any input.
pub fn render_template(src: &str, ctx: &RunContext, format: TextFormat) -> Result<String> {
    let template = parse_template(src)?;
    Ok(encode(&template.render(ctx).0, format).concat())
}

impl Template {
    /// Render for a run: plain text pieces and links, not yet encoded, and whether the
    /// text was cut at [`MAX_RENDERED_BYTES`].
    pub(crate) fn render(&self, ctx: &RunContext) -> (Vec<Seg>, bool) {
        let mut cut = false;
        let segs = self.render_in(ctx, None, &mut cut);
        (segs, cut)
    }

    /// The root sources this template reads (for explaining an empty result).
    pub(crate) fn source_names(&self) -> Vec<String> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Slot(Slot {
                    source: SlotSource::Root(spec),
                    ..
                }) => Some(spec.path.to_string()),
                Part::Slot(Slot {
                    source: SlotSource::Property { owner, name },
                    ..
                }) => Some(format!("{owner}.properties.{name}")),
                _ => None,
            })
            .collect()
    }

    fn render_in(&self, ctx: &RunContext, item: Option<&Record>, cut: &mut bool) -> Vec<Seg> {
        let mut out: Vec<Seg> = Vec::new();
        let mut len = 0;
        for part in &self.parts {
            match part {
                Part::Lit(text) => push_text(&mut out, text),
                Part::Slot(slot) => {
                    for seg in slot.render(ctx, item, cut) {
                        match seg {
                            Seg::Text(t) => push_text(&mut out, &t),
                            link => out.push(link),
                        }
                    }
                }
            }
            len = text_len(&out);
            if len > MAX_RENDERED_BYTES {
                break;
            }
        }
        if len > MAX_RENDERED_BYTES {
            *cut |= cap(&mut out, MAX_RENDERED_BYTES);
        }
        out
    }
}

fn push_text(out: &mut Vec<Seg>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Seg::Text(last)) = out.last_mut() {
        last.push_str(text);
    } else {
        out.push(Seg::Text(text.to_string()));
    }
}

/// A value while filters run.
enum Val {
    Segs(Vec<Seg>),
    Records(Vec<Record>),
    Rendered(Vec<Vec<Seg>>),
}

impl Val {
    fn into_segs(self, ctx: &RunContext, cut: &mut bool) -> Vec<Seg> {
        match self {
            Val::Segs(s) => s,
            other => join(other.into_items(ctx, cut), "\n", cut),
        }
    }

    fn into_items(self, ctx: &RunContext, cut: &mut bool) -> Vec<Vec<Seg>> {
        match self {
            Val::Segs(s) => vec![s],
            Val::Rendered(items) => items,
            Val::Records(records) => {
                let template = records.first().and_then(|r| default_template(r.kind));
                render_items(&records, cut, |r, cut| match &template {
                    Some(t) => t.render_in(ctx, Some(r), cut),
                    None => Vec::new(),
                })
            }
        }
    }
}

/// Renders list items until their text reaches [`MAX_RENDERED_BYTES`]: a list of any
/// length costs no more than one long value.
fn render_items(
    records: &[Record],
    cut: &mut bool,
    mut render: impl FnMut(&Record, &mut bool) -> Vec<Seg>,
) -> Vec<Vec<Seg>> {
    let mut items = Vec::new();
    let mut len = 0;
    for r in records {
        if len > MAX_RENDERED_BYTES {
            *cut = true;
            break;
        }
        let item = render(r, cut);
        len += text_len(&item);
        items.push(item);
    }
    items
}

fn default_template(kind: RecordKind) -> Option<Template> {
    Parser::new(kind.default_template(), Scope::Item(kind), 1)
        .parse()
        .ok()
}

fn join(items: Vec<Vec<Seg>>, separator: &str, cut: &mut bool) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut len = 0;
    for item in items.into_iter().filter(|i| !is_blank(i)) {
        if len > MAX_RENDERED_BYTES {
            *cut = true;
            break;
        }
        len += separator.len() + text_len(&item);
        if !out.is_empty() {
            push_text(&mut out, separator);
        }
        for seg in item {
            match seg {
                Seg::Text(t) => push_text(&mut out, &t),
                link => out.push(link),
            }
        }
    }
    out
}

impl Slot {
    fn render(&self, ctx: &RunContext, item: Option<&Record>, cut: &mut bool) -> Vec<Seg> {
        let mut val = match &self.source {
            SlotSource::Root(spec) => match lookup(ctx, spec) {
                Found::Segs(s) => Val::Segs(s),
                Found::Records(r) => Val::Records(r),
            },
            SlotSource::Property { owner, name } => Val::Segs(property(ctx, owner, name)),
            SlotSource::Item(name) => Val::Segs(item.map(|r| r.get(name)).unwrap_or_default()),
        };
        for filter in &self.filters {
            // Every filter works on a bounded value and is linear in it.
            if let Val::Segs(segs) = &mut val {
                *cut |= cap(segs, MAX_RENDERED_BYTES);
            }
            val = match filter {
                Filter::Each(t) => match val {
                    Val::Records(records) => {
                        Val::Rendered(render_items(&records, cut, |r, cut| {
                            t.render_in(ctx, Some(r), cut)
                        }))
                    }
                    other => other,
                },
                Filter::Join(sep) => match val {
                    Val::Segs(s) => Val::Segs(s),
                    other => Val::Segs(join(other.into_items(ctx, cut), sep, cut)),
                },
                Filter::Default(text) => {
                    let segs = val.into_segs(ctx, cut);
                    Val::Segs(if is_blank(&segs) {
                        vec![Seg::Text(text.clone())]
                    } else {
                        segs
                    })
                }
                Filter::Prefix(text) => {
                    let mut segs = val.into_segs(ctx, cut);
                    if !is_blank(&segs) {
                        segs.insert(0, Seg::Text(text.clone()));
                    }
                    Val::Segs(segs)
                }
                Filter::Suffix(text) => {
                    let mut segs = val.into_segs(ctx, cut);
                    if !is_blank(&segs) {
                        segs.push(Seg::Text(text.clone()));
                    }
                    Val::Segs(segs)
                }
                Filter::FirstLine => {
                    let segs = val.into_segs(ctx, cut);
                    if segs.iter().any(|s| s.as_str().contains(['\n', '\r'])) {
                        let text = plain(&segs);
                        let line = text
                            .lines()
                            .map(str::trim)
                            .find(|l| !l.is_empty())
                            .unwrap_or("");
                        Val::Segs(vec![Seg::Text(line.to_string())])
                    } else {
                        Val::Segs(segs)
                    }
                }
                Filter::Indent(text) => {
                    let glue = format!("\n{text}");
                    Val::Segs(
                        val.into_segs(ctx, cut)
                            .into_iter()
                            .map(|s| match s {
                                Seg::Text(t) => Seg::Text(t.replace('\n', &glue)),
                                link => link,
                            })
                            .collect(),
                    )
                }
                Filter::Trim => Val::Segs(trim(val.into_segs(ctx, cut))),
                Filter::Upper => Val::Segs(map_text(val.into_segs(ctx, cut), str::to_uppercase)),
                Filter::Lower => Val::Segs(map_text(val.into_segs(ctx, cut), str::to_lowercase)),
            };
        }
        let mut segs = val.into_segs(ctx, cut);
        *cut |= cap(&mut segs, MAX_RENDERED_BYTES);
        segs
    }
}

fn map_text(segs: Vec<Seg>, f: fn(&str) -> String) -> Vec<Seg> {
    segs.into_iter()
        .map(|s| match s {
            Seg::Text(t) => Seg::Text(f(&t)),
            link => link,
        })
        .collect()
}

fn trim(mut segs: Vec<Seg>) -> Vec<Seg> {
    if let Some(Seg::Text(t)) = segs.first_mut() {
        *t = t.trim_start().to_string();
    }
    if let Some(Seg::Text(t)) = segs.last_mut() {
        *t = t.trim_end().to_string();
    }
    segs.retain(|s| !s.as_str().is_empty());
    segs
}

#[derive(Clone, Copy)]
enum Scope {
    Root,
    Item(RecordKind),
}

/// What a slot holds while its filters are checked.
#[derive(Clone, Copy, PartialEq)]
enum Held {
    Scalar,
    Records(RecordKind),
    Rendered,
}

struct PErr {
    code: &'static str,
    offset: usize,
    message: String,
    hint: Option<String>,
}

fn syntax(offset: usize, message: impl Into<String>) -> PErr {
    PErr {
        code: "autofill.template_syntax",
        offset,
        message: message.into(),
        hint: None,
    }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    scope: Scope,
    depth: u32,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, scope: Scope, depth: u32) -> Parser<'a> {
        Parser {
            src,
            pos: 0,
            scope,
            depth,
        }
    }

    fn peek(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|r| r.chars().next())
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn parse(mut self) -> std::result::Result<Template, PErr> {
        if self.depth > MAX_DEPTH {
            return Err(syntax(0, "templates are nested too deeply"));
        }
        let mut parts = Vec::new();
        let mut lit = String::new();
        while let Some(c) = self.peek() {
            match c {
                '{' => {
                    let start = self.pos;
                    self.bump();
                    if self.peek() == Some('{') {
                        self.bump();
                        lit.push('{');
                        continue;
                    }
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Slot(self.slot(start)?));
                }
                '}' => {
                    let at = self.pos;
                    self.bump();
                    if self.peek() == Some('}') {
                        self.bump();
                        lit.push('}');
                    } else {
                        let mut e = syntax(at, "a `}` that closes nothing");
                        e.hint = Some("write `}}` for a literal brace".to_string());
                        return Err(e);
                    }
                }
                c => {
                    self.bump();
                    lit.push(c);
                }
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template { parts })
    }

    /// After the opening `{` at `start`.
    fn slot(&mut self, start: usize) -> std::result::Result<Slot, PErr> {
        self.skip_ws();
        let path_start = self.pos;
        while let Some(c) = self.peek() {
            if c == '|' || c == '}' {
                break;
            }
            if c == '{' {
                let mut e = syntax(self.pos, "a `{` inside a placeholder");
                e.hint = Some("write `{{` for a literal brace".to_string());
                return Err(e);
            }
            self.bump();
        }
        if self.peek().is_none() {
            let mut e = syntax(start, "this placeholder is not closed");
            e.hint = Some("add `}`, or write `{{` for a literal brace".to_string());
            return Err(e);
        }
        let path = self.src.get(path_start..self.pos).unwrap_or("").trim();
        let (source, mut held) = self.resolve(path, path_start)?;
        let mut filters = Vec::new();
        loop {
            self.skip_ws();
            match self.bump() {
                Some('}') => break,
                Some('|') => {
                    self.skip_ws();
                    let at = self.pos;
                    let (filter, next) = self.filter(held, path)?;
                    let _ = at;
                    held = next;
                    filters.push(filter);
                }
                Some(c) => {
                    return Err(syntax(
                        self.pos.saturating_sub(c.len_utf8()),
                        format!("unexpected `{c}` in a placeholder; expected `|` or `}}`"),
                    ));
                }
                None => {
                    let mut e = syntax(start, "this placeholder is not closed");
                    e.hint = Some("add `}`".to_string());
                    return Err(e);
                }
            }
        }
        Ok(Slot { source, filters })
    }

    fn resolve(&self, path: &str, at: usize) -> std::result::Result<(SlotSource, Held), PErr> {
        if path.is_empty() {
            return Err(syntax(
                at,
                "an empty placeholder `{}`; name a source, e.g. `{test_run.name}`",
            ));
        }
        match self.scope {
            Scope::Root => {
                for owner in ["test_run", "test_case"] {
                    if let Some(name) = path
                        .strip_prefix(owner)
                        .and_then(|r| r.strip_prefix(".properties."))
                    {
                        let name = name.trim();
                        if name.is_empty() {
                            return Err(syntax(
                                at,
                                "a property needs a name, e.g. `test_run.properties.Environment`",
                            ));
                        }
                        return Ok((
                            SlotSource::Property {
                                owner,
                                name: name.to_string(),
                            },
                            Held::Scalar,
                        ));
                    }
                }
                match find_root(path) {
                    Some(spec) => Ok((SlotSource::Root(spec), held_of(spec.shape))),
                    None => Err(unknown(
                        at,
                        path,
                        super::sources::ROOT.iter().map(|s| s.path),
                        "see the list of sources (`tmbridge autofill --list-sources`)",
                    )),
                }
            }
            Scope::Item(kind) => match kind.fields().iter().find(|s| s.path == path) {
                Some(spec) => Ok((SlotSource::Item(spec.path), Held::Scalar)),
                None => {
                    let names: Vec<&str> = kind.fields().iter().map(|s| s.path).collect();
                    let mut e = unknown(at, path, names.iter().copied(), "");
                    e.message = format!("`{path}` is not a field of these items");
                    e.hint = Some(match e.hint {
                        Some(h) if h.starts_with("did you mean") => {
                            format!("{h} (items have: {})", names.join(", "))
                        }
                        _ => format!("items have: {}", names.join(", ")),
                    });
                    Err(e)
                }
            },
        }
    }

    fn filter(&mut self, held: Held, path: &str) -> std::result::Result<(Filter, Held), PErr> {
        let at = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.bump();
        }
        let name = self.src.get(at..self.pos).unwrap_or("").to_string();
        self.skip_ws();
        let arg_at = self.pos;
        let arg = if self.peek() == Some('(') {
            self.bump();
            self.skip_ws();
            let s = self.string()?;
            self.skip_ws();
            if self.bump() != Some(')') {
                return Err(syntax(self.pos, format!("`{name}(` needs a closing `)`")));
            }
            Some(s)
        } else {
            None
        };
        let needs_arg = matches!(
            name.as_str(),
            "join" | "each" | "default" | "prefix" | "suffix" | "indent"
        );
        let takes_none = matches!(name.as_str(), "first_line" | "trim" | "upper" | "lower");
        if !needs_arg && !takes_none {
            let mut e = syntax(
                at,
                if name.is_empty() {
                    "a filter name is missing after `|`".to_string()
                } else {
                    format!("unknown filter `{name}`")
                },
            );
            e.hint = Some(
                "filters: prefix(\"..\"), suffix(\"..\"), default(\"..\"), join(\"..\"), each(\"..\"), indent(\"..\"), first_line, trim, upper, lower"
                    .to_string(),
            );
            return Err(e);
        }
        let list = matches!(held, Held::Records(_) | Held::Rendered);
        let filter = match (name.as_str(), arg) {
            (_, None) if needs_arg => {
                return Err(syntax(
                    arg_at,
                    format!("`{name}` needs a string, e.g. {name}(\", \")"),
                ));
            }
            (_, Some(_)) if takes_none => {
                return Err(syntax(arg_at, format!("`{name}` takes no argument")));
            }
            ("each", Some(sub)) => {
                let Held::Records(kind) = held else {
                    return Err(syntax(
                        at,
                        if held == Held::Rendered {
                            "each() is already applied".to_string()
                        } else {
                            format!("each() needs a list; `{path}` is a single value")
                        },
                    ));
                };
                let template = Parser::new(&sub, Scope::Item(kind), self.depth + 1)
                    .parse()
                    .map_err(|e| PErr {
                        code: e.code,
                        offset: arg_at,
                        message: format!("inside each(): {}", e.message),
                        hint: e.hint,
                    })?;
                return Ok((Filter::Each(template), Held::Rendered));
            }
            ("join", Some(sep)) => {
                if !list {
                    return Err(syntax(
                        at,
                        format!("join() needs a list; `{path}` is a single value"),
                    ));
                }
                Filter::Join(sep)
            }
            ("default", Some(s)) => Filter::Default(s),
            ("prefix", Some(s)) => Filter::Prefix(s),
            ("suffix", Some(s)) => Filter::Suffix(s),
            ("indent", Some(s)) => Filter::Indent(s),
            ("first_line", None) => Filter::FirstLine,
            ("trim", None) => Filter::Trim,
            ("upper", None) => Filter::Upper,
            _ => Filter::Lower,
        };
        Ok((filter, Held::Scalar))
    }

    /// A double-quoted string with `\"`, `\\`, `\n`, `\t` escapes.
    fn string(&mut self) -> std::result::Result<String, PErr> {
        let start = self.pos;
        if self.bump() != Some('"') {
            return Err(syntax(start, "expected a string in double quotes"));
        }
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(syntax(start, "this string is not closed")),
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(c) => {
                        let mut e = syntax(
                            self.pos.saturating_sub(c.len_utf8() + 1),
                            format!("unknown escape `\\{c}`"),
                        );
                        e.hint = Some("escapes: \\\" \\\\ \\n \\t".to_string());
                        return Err(e);
                    }
                    None => return Err(syntax(start, "this string is not closed")),
                },
                Some(c) => out.push(c),
            }
        }
    }
}

fn held_of(shape: Shape) -> Held {
    match shape {
        Shape::Records(kind) => Held::Records(kind),
        Shape::Properties => Held::Records(RecordKind::Property),
        Shape::Text | Shape::Link => Held::Scalar,
    }
}

fn unknown<'s>(
    at: usize,
    path: &str,
    known: impl Iterator<Item = &'s str>,
    otherwise: &str,
) -> PErr {
    let best = known
        .map(|k| (distance(path, k), k))
        .filter(|(d, k)| *d <= 3.max(k.len() / 4))
        .min_by_key(|(d, _)| *d);
    PErr {
        code: "autofill.unknown_source",
        offset: at,
        message: format!("unknown source `{path}`"),
        hint: match best {
            Some((_, k)) => Some(format!("did you mean `{k}`?")),
            None if otherwise.is_empty() => None,
            None => Some(otherwise.to_string()),
        },
    }
}

/// Edit distance, for suggestions; long inputs are not compared.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len() > 64 || b.len() > 64 {
        return usize::MAX;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            row[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(row[j] + 1);
        }
        prev = row;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx() -> RunContext {
        crate::json::from_str(
            r#"{
            "test_run": {"pid": "TR-42", "name": "Login: wrong password", "link": "https://q.example/tr/42",
                "build": "2024.05.1", "properties": [{"name": "Environment", "value": "Staging"}]},
            "test_case": {"pid": "TC-7", "name": "Login rejects a wrong password",
                "steps": [{"order": 1, "description": "Open the login page", "expected": "Form shown"},
                          {"order": 2, "description": "Type a wrong password", "expected": "Error shown"}]},
            "test_log": {"status": "Failed", "message": "expected 401\nbut got 500",
                "step_logs": [{"order": 1, "description": "Open the login page", "status": "Passed"},
                              {"order": 2, "description": "Type a wrong password", "expected": "Error shown",
                               "actual": "Server error 500", "status": "Failed"}],
                "attachments": [{"name": "screen.png", "url": "https://q.example/a/1"}, "trace.txt"]}
        }"#,
        )
        .unwrap()
    }

    fn render(src: &str) -> String {
        render_template(src, &ctx(), TextFormat::Plain).unwrap()
    }

    #[test]
    fn placeholders_literals_and_brace_escapes() {
        assert_eq!(
            render("[{test_run.pid}] {test_case.name}"),
            "[TR-42] Login rejects a wrong password"
        );
        assert_eq!(
            render("{{literal}} {{{test_case.pid}}}"),
            "{literal} {TC-7}"
        );
        assert_eq!(render("{ test_run.properties.Environment }"), "Staging");
        assert_eq!(
            render("{test_run.properties.Browser|default(\"n/a\")}"),
            "n/a"
        );
    }

    #[test]
    fn separators_vanish_with_missing_values() {
        assert_eq!(
            render("{test_case.pid|suffix(\" - \")}{test_case.name}"),
            "TC-7 - Login rejects a wrong password"
        );
        assert_eq!(
            render("{test_case.id|suffix(\" - \")}{test_case.pid}"),
            "TC-7"
        );
        assert_eq!(render("{test_run.environment|prefix(\"env: \")}"), "");
    }

    #[test]
    fn failing_step_and_filters() {
        assert_eq!(
            render("step {failing_step.order}: {failing_step.actual}"),
            "step 2: Server error 500"
        );
        assert_eq!(render("{test_log.message|first_line}"), "expected 401");
        assert_eq!(
            render("{test_log.status|upper}/{test_log.status|lower}"),
            "FAILED/failed"
        );
        assert_eq!(render("{test_run.tester|trim|default(\"?\")}"), "?");
        assert_eq!(
            render("> {test_log.message|indent(\"> \")}"),
            "> expected 401\n> but got 500"
        );
    }

    #[test]
    fn lists_default_each_and_join() {
        assert_eq!(
            render("{test_case.steps}"),
            "1. Open the login page\n   Expected: Form shown\n2. Type a wrong password\n   Expected: Error shown"
        );
        assert_eq!(
            render("{test_log.attachments|each(\"{name}\")|join(\", \")}"),
            "screen.png, trace.txt"
        );
        assert_eq!(
            render("{test_log.attachments|join(\"; \")}"),
            "screen.png (https://q.example/a/1); trace.txt"
        );
        assert_eq!(
            render(
                "{test_log.step_logs|each(\"#{order} {status}{actual|prefix(\\\": \\\")}\")|join(\" / \")}"
            ),
            "#1 Passed / #2 Failed: Server error 500"
        );
        assert_eq!(
            render("{test_case.requirements|join(\", \")|default(\"none\")}"),
            "none"
        );
    }

    #[test]
    fn links_become_anchors_only_in_html() {
        let html = render_template("Run: {test_run.link}\n<b>", &ctx(), TextFormat::Html).unwrap();
        assert_eq!(
            html,
            "Run: <a href=\"https://q.example/tr/42\">https://q.example/tr/42</a><br />&lt;b&gt;"
        );
        let line = render_template("{test_log.message}", &ctx(), TextFormat::SingleLine).unwrap();
        assert_eq!(line, "expected 401 but got 500");
    }

    fn err(src: &str) -> Error {
        parse_template(src).unwrap_err()
    }

    #[test]
    fn errors_name_the_problem_and_its_position() {
        let e = err("Name: {test_run.nmae}");
        assert_eq!(e.code, "autofill.unknown_source");
        assert_eq!(e.location.unwrap().column, 8);
        assert_eq!(e.hint.as_deref(), Some("did you mean `test_run.name`?"));
        assert_eq!(err("a } b").code, "autofill.template_syntax");
        assert_eq!(err("a } b").location.unwrap().column, 3);
        assert!(err("{test_run.name").message.contains("not closed"));
        assert!(err("{}").message.contains("empty placeholder"));
        assert!(
            err("{test_run.name|bogus}")
                .message
                .contains("unknown filter `bogus`")
        );
        assert!(
            err("{test_run.name|join(\",\")}")
                .message
                .contains("needs a list")
        );
        assert!(
            err("{test_run.name|each(\"{x}\")}")
                .message
                .contains("needs a list")
        );
        assert!(
            err("{test_run.name|prefix}")
                .message
                .contains("needs a string")
        );
        assert!(
            err("{test_run.name|trim(\"x\")}")
                .message
                .contains("takes no argument")
        );
        assert!(
            err("{test_run.name|prefix(\"x)}")
                .message
                .contains("not closed")
        );
        assert!(
            err("{test_run.name|prefix(\"\\q\")}")
                .message
                .contains("unknown escape")
        );
        let e = err("{test_case.steps|each(\"{actual}\")}");
        assert!(
            e.message.contains("inside each(): `actual` is not a field"),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("order, description, expected"));
        assert!(
            err("{test_run.properties.}")
                .message
                .contains("needs a name")
        );
        assert!(err("{a{b}").message.contains("inside a placeholder"));
    }

    #[test]
    fn default_record_templates_parse() {
        for kind in [
            RecordKind::Step,
            RecordKind::StepLog,
            RecordKind::Attachment,
            RecordKind::Requirement,
            RecordKind::Property,
        ] {
            assert!(default_template(kind).is_some(), "{kind:?}");
        }
    }

    #[test]
    fn source_names_lists_roots_and_properties() {
        let t = parse_template(
            "{test_run.name}{test_case.properties.Area}{test_case.steps|each(\"{order}\")}",
        )
        .unwrap();
        assert_eq!(
            t.source_names(),
            [
                "test_run.name",
                "test_case.properties.Area",
                "test_case.steps"
            ]
        );
    }

    const PIECES: &[&str] = &[
        "{",
        "}",
        "{{",
        "}}",
        "|",
        "\"",
        "\\\"",
        "(",
        ")",
        " ",
        "\n",
        "é",
        "test_run.name",
        "test_run.link",
        "test_log.step_logs",
        "test_case.steps",
        "test_log.attachments",
        "test_run.properties",
        "test_run.properties.Environment",
        "failing_step.actual",
        "{order}",
        "{actual}",
        "{url}",
        "{name}",
        "each(\"",
        "join(\", \")",
        "prefix(\"x\")",
        "default(\"d\")",
        "first_line",
        "trim",
        "upper",
        "\\n",
        "\\q",
    ];

    proptest! {
        #[test]
        fn never_panics_on_any_text(src in "\\PC{0,60}") {
            let _ = render_template(&src, &ctx(), TextFormat::Html);
        }

        #[test]
        fn never_panics_on_template_like_text(src in "[{}|()\"\\\\a-z_. ]{0,60}") {
            let _ = render_template(&src, &ctx(), TextFormat::Html);
        }

        #[test]
        fn never_panics_on_pieces_of_real_templates(pieces in proptest::collection::vec(0usize..PIECES.len(), 0..14)) {
            let src: String = pieces.iter().map(|i| PIECES[*i]).collect();
            for format in [TextFormat::Plain, TextFormat::SingleLine, TextFormat::Html] {
                let _ = render_template(&src, &ctx(), format);
            }
        }

        #[test]
        fn literal_text_without_braces_renders_as_itself(src in "[^{}\\p{Cc}]{0,60}") {
            prop_assert_eq!(render_template(&src, &ctx(), TextFormat::Plain).unwrap(), src);
        }
    }
}
