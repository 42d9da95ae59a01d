//! The normaliser: walks the parsed tree, turns names into Rally's, dates into UTC,
//! URLs into refs and Releases/Iterations by name into ObjectIDs, and checks each
//! condition against the field's type. Every rewrite is a [`Change`]; every
//! problem a [`Diagnostic`].

use super::ast::{Condition, Expr, Operator, Value, ValueKind};
use super::diag::{Change, ChangeKind, Diagnostic};
use super::fields::{FieldType, How, Resolver};
use super::lookups::{Found, LookupKind, LookupNeed, find};
use super::parser::parse_lenient;
use super::printer::print_condition;
use super::{Options, dates};
use jiff::tz::TimeZone;

/// Everything learnt about one query text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Analysis {
    pub expr: Option<Expr>,
    pub order: Option<String>,
    pub changes: Vec<Change>,
    pub diagnostics: Vec<Diagnostic>,
    pub needs: Vec<LookupNeed>,
}

pub(crate) fn analyze(text: &str, options: &Options) -> Analysis {
    let mut out = Analysis::default();
    let zone_name = options
        .time_zone
        .clone()
        .unwrap_or_else(|| "UTC".to_string());
    let tz = dates::zone(&zone_name);
    if tz.is_none() {
        out.diagnostics.push(
            Diagnostic::error(
                "rally_query.unknown_time_zone",
                format!("'{zone_name}' is not an IANA time zone"),
            )
            .with_hint("name a zone such as UTC, Europe/Berlin or America/New_York"),
        );
    }
    let parsed = match parse_lenient(text) {
        Ok(p) => p,
        Err(d) => {
            out.diagnostics.push(*d);
            return out;
        }
    };
    let mut expr = parsed.expr;
    let resolver = Resolver::new(options.fields.as_ref());
    let project = project_in_query(&expr, &resolver).or_else(|| options.project.clone());
    let mut ctx = Ctx {
        text,
        resolver,
        tz,
        zone_name,
        options,
        project,
        changes: parsed.changes,
        diags: parsed.warnings,
        needs: Vec::new(),
    };
    expr.for_each_condition_mut(&mut |c| ctx.condition(c));
    let order = parsed
        .sort_tail
        .map(|tail| ctx.order(&tail.text, tail.span));
    out.diagnostics.append(&mut ctx.diags);
    out.changes = ctx.changes;
    out.needs = ctx.needs;
    out.needs.sort();
    out.needs.dedup();
    // Report in reading order; each list keeps discovery order on ties.
    out.changes
        .sort_by_key(|c| c.location.map_or(0, |l| l.offset));
    out.diagnostics
        .sort_by_key(|d| d.location.map_or(0, |l| l.offset));
    out.expr = Some(expr);
    out.order = order;
    out
}

/// The project the query itself names in a condition every result must meet
/// (`(Project.Name = "Payments") AND ...`).
fn project_in_query(expr: &Expr, resolver: &Resolver) -> Option<String> {
    match expr {
        Expr::Condition(c) if c.op == Operator::Eq && c.values.len() == 1 => {
            let path = resolver.resolve(&c.field).path;
            let value = c.values.first()?;
            match path.as_str() {
                "Project.Name" | "Project" | "Project.ObjectID"
                    if value.kind != ValueKind::Null =>
                {
                    Some(value.text.clone())
                }
                _ => None,
            }
        }
        Expr::And { left, right } => {
            project_in_query(left, resolver).or_else(|| project_in_query(right, resolver))
        }
        _ => None,
    }
}

pub(super) struct Ctx<'a> {
    pub(super) text: &'a str,
    pub(super) resolver: Resolver<'a>,
    pub(super) tz: Option<TimeZone>,
    pub(super) zone_name: String,
    pub(super) options: &'a Options,
    pub(super) project: Option<String>,
    pub(super) changes: Vec<Change>,
    pub(super) diags: Vec<Diagnostic>,
    pub(super) needs: Vec<LookupNeed>,
}

fn printed(c: &Condition) -> String {
    let mut s = String::new();
    print_condition(c, &mut s);
    s
}

impl Ctx<'_> {
    fn condition(&mut self, c: &mut Condition) {
        let Some((field_type, allowed)) = self.field(c) else {
            return;
        };
        for v in c.values.iter_mut() {
            self.url_to_ref(v);
        }
        if self.by_name(c) {
            return;
        }
        if !self.check_operator(c, field_type, &allowed) {
            return;
        }
        let field = c.field.clone();
        let op = c.op;
        for v in c.values.iter_mut() {
            self.value(&field, op, field_type, v);
        }
    }

    /// Resolves the field name. `None` when the field is unknown (already reported);
    /// otherwise its type, if known, and the operators its metadata allows.
    fn field(&mut self, c: &mut Condition) -> Option<(Option<FieldType>, Vec<String>)> {
        let r = self.resolver.resolve(&c.field);
        let Some(how) = r.how else {
            let hint = match &r.suggestion {
                Some(s) => format!("did you mean {s}?"),
                None => {
                    "check the spelling, or pass the field list of the type you query".to_string()
                }
            };
            self.diags.push(
                Diagnostic::error(
                    "rally_query.unknown_field",
                    format!("'{}' is not a field in the field list", c.field),
                )
                .at(self.text, c.field_span)
                .with_hint(hint),
            );
            return None;
        };
        if r.path != c.field {
            let message = match how {
                How::DisplayName => "Rally queries use the system name, not the display name",
                How::Case => "Rally's field names are case-sensitive",
                How::CustomPrefix => "custom fields are queried with the c_ prefix",
                How::Guessed => "dropped spaces and punctuation, as Rally does for system names",
                How::Exact => "Rally's spelling of this field path",
            };
            self.changes.push(Change::new(
                ChangeKind::FieldName,
                self.text,
                c.field_span,
                c.field.clone(),
                r.path.clone(),
                message,
            ));
            if how == How::Guessed {
                self.diags.push(
                    Diagnostic::warning(
                        "rally_query.unverified_field",
                        format!("'{}' is not a standard Rally field; guessed '{}'", c.field, r.path),
                    )
                    .at(self.text, c.field_span)
                    .with_hint("pass the field list (--fields) to check it; custom fields need the c_ prefix"),
                );
            }
            c.field = r.path;
        }
        let mut field_type = r.field_type;
        // The metadata calls FormattedID an INTEGER, but its values are `US123`.
        if c.field == "FormattedID" || c.field.ends_with(".FormattedID") {
            field_type = Some(FieldType::String);
        }
        Some((field_type, r.allowed_operators))
    }

    /// The metadata's `AllowedQueryOperators` decide the operators it lists (WSAPI
    /// 1.x metadata predates `in` and `between`); the type decides the rest.
    /// False (and reported) when Rally refuses the operator on this field.
    fn check_operator(&mut self, c: &Condition, ty: Option<FieldType>, allowed: &[String]) -> bool {
        let classic = !c.op.takes_list() && !c.op.takes_range();
        let (ok, list) = if classic && !allowed.is_empty() {
            (
                allowed.iter().any(|o| o == c.op.as_str()),
                allowed.join(", "),
            )
        } else if let Some(ty) = ty {
            (ty.allows(c.op), ty.allowed_list())
        } else {
            (true, String::new())
        };
        if !ok {
            self.operator_refused(c, &list, ty);
        }
        ok
    }

    fn operator_refused(&mut self, c: &Condition, allowed: &str, ty: Option<FieldType>) {
        let hint = match ty {
            Some(FieldType::Date) => format!(
                "dates take {allowed}; for one day write (({f} >= 2024-01-31) AND ({f} < 2024-02-01))",
                f = c.field
            ),
            Some(FieldType::Text) => format!(
                "long text fields only take contains and !contains, e.g. ({} contains \"word\")",
                c.field
            ),
            Some(FieldType::Boolean) => {
                format!("write ({} = true) or ({} = false)", c.field, c.field)
            }
            Some(FieldType::Collection) => format!(
                "collections take contains; to compare names write ({}.Name = \"x\")",
                c.field
            ),
            Some(FieldType::Object) => format!(
                "compare a field of it instead, e.g. ({}.Name contains \"x\")",
                c.field
            ),
            _ => format!("this field takes {allowed}"),
        };
        self.diags.push(
            Diagnostic::error(
                "rally_query.operator_not_allowed",
                format!("Rally does not accept '{}' on {}", c.op.as_str(), c.field),
            )
            .at(self.text, c.span)
            .with_hint(hint),
        );
    }

    /// `Release = "R1"` / `Iteration.Name = "Sprint 5"`: the ObjectID from the
    /// lookups, or a request for it. True when the condition was one of these.
    fn by_name(&mut self, c: &mut Condition) -> bool {
        let kind = match c.field.as_str() {
            "Release" | "Release.Name" => LookupKind::Release,
            "Iteration" | "Iteration.Name" => LookupKind::Iteration,
            _ => return false,
        };
        if !matches!(c.op, Operator::Eq | Operator::Ne) {
            return false;
        }
        let [value] = c.values.as_slice() else {
            return false;
        };
        if value.kind == ValueKind::Null || (!c.field.contains('.') && is_ref(&value.text)) {
            return false;
        }
        let name = value.text.clone();
        let value_span = value.span;
        let before = printed(c);
        let project = self.project.clone();
        match find(&self.options.lookups, kind, project.as_deref(), &name) {
            Found::Id(id) => {
                c.field = format!("{}.ObjectID", kind.field());
                c.values = vec![Value {
                    kind: ValueKind::Bare,
                    text: id.to_string(),
                    span: value_span,
                }];
                let place = project
                    .map(|p| format!(" in project {p}"))
                    .unwrap_or_default();
                self.changes.push(Change::new(
                    ChangeKind::ObjectId,
                    self.text,
                    c.span,
                    before,
                    printed(c),
                    format!(
                        "the {} named \"{name}\"{place} is ObjectID {id}; a name would match in every project",
                        kind.field()
                    ),
                ));
            }
            Found::Ambiguous(ids) => {
                let projects: Vec<String> = ids
                    .iter()
                    .map(|(p, id)| format!("{} ({id})", p.as_deref().unwrap_or("no project")))
                    .collect();
                self.diags.push(
                    Diagnostic::error(
                        "rally_query.ambiguous_lookup",
                        format!("several {}s are named \"{name}\"", kind.field()),
                    )
                    .at(self.text, c.span)
                    .with_hint(format!(
                        "say which project to use (--project, or a (Project.Name = ...) condition): {}",
                        projects.join(", ")
                    )),
                );
                self.name_fallback(c, kind, before);
            }
            Found::Missing => {
                self.needs.push(LookupNeed {
                    kind,
                    project: project.clone(),
                    name: name.clone(),
                });
                self.diags.push(
                    Diagnostic::warning(
                        "rally_query.lookup_needed",
                        format!("the ObjectID of the {} \"{name}\" is not known yet", kind.field()),
                    )
                    .at(self.text, c.span)
                    .with_hint(format!(
                        "fetch /{}?query=(Name = \"{}\")&fetch=Name,ObjectID,Project and pass it as lookups",
                        kind.field().to_ascii_lowercase(),
                        name.replace('"', "\\\"")
                    )),
                );
                self.name_fallback(c, kind, before);
            }
        }
        true
    }

    /// Until the id is known: `Release = "R1"` becomes `Release.Name = "R1"`, which
    /// Rally accepts.
    fn name_fallback(&mut self, c: &mut Condition, kind: LookupKind, before: String) {
        if c.field.contains('.') {
            return;
        }
        c.field = format!("{}.Name", kind.field());
        self.changes.push(Change::new(
            ChangeKind::ObjectId,
            self.text,
            c.span,
            before,
            printed(c),
            format!(
                "Rally compares a {} with a name through {}.Name",
                kind.field(),
                kind.field()
            ),
        ));
    }

    /// The `order` parameter from a custom view's `Sorted by` tail:
    /// `Creation Date Descending, Rank` → `CreationDate desc,Rank`.
    fn order(&mut self, tail: &str, span: super::ast::Span) -> String {
        let mut parts = Vec::new();
        for piece in tail.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut words: Vec<&str> = piece.split_whitespace().collect();
            let direction = match words.last().map(|w| w.to_ascii_lowercase()) {
                Some(w) if w == "desc" || w == "descending" => {
                    words.pop();
                    " desc"
                }
                Some(w) if w == "asc" || w == "ascending" => {
                    words.pop();
                    ""
                }
                _ => "",
            };
            let name = words.join(" ");
            if name.is_empty() {
                continue;
            }
            let r = self.resolver.resolve(&name);
            if r.how.is_none() {
                self.diags.push(
                    Diagnostic::warning(
                        "rally_query.unknown_sort_field",
                        format!("the sort field '{name}' is not in the field list"),
                    )
                    .at(self.text, span),
                );
            }
            parts.push(format!("{}{direction}", r.path));
        }
        parts.join(",")
    }

    /// Rally's full URLs reduced to refs: `https://.../webservice/v2.0/user/123.js` → `/user/123`.
    fn url_to_ref(&mut self, v: &mut Value) {
        let Some(short) = url_ref(&v.text) else {
            return;
        };
        self.changes.push(Change::new(
            ChangeKind::Ref,
            self.text,
            v.span,
            v.text.clone(),
            short.clone(),
            "Rally takes a ref (/type/ObjectID), not a full URL",
        ));
        v.kind = ValueKind::Bare;
        v.text = short;
    }
}

/// A WSAPI ref: `/user/123`, `/portfolioitem/feature/456`.
pub fn is_ref(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('/') else {
        return false;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.split_last() {
        Some((id, types)) => {
            !types.is_empty()
                && types.len() <= 2
                && types
                    .iter()
                    .all(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric()))
                && !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        }
        None => false,
    }
}

/// The ref inside a WSAPI URL (absolute or `/slm/webservice/...`), if it is one.
pub fn url_ref(text: &str) -> Option<String> {
    let at = text.find("/webservice/")?;
    let after = text.get(at + "/webservice/".len()..)?;
    let (_version, path) = after.split_once('/')?;
    let path = path.strip_suffix(".js").unwrap_or(path);
    let candidate = format!("/{path}");
    is_ref(&candidate).then_some(candidate)
}
