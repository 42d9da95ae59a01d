//! Evaluates a Rally query, parsed by the core's own parser, over stored objects:
//! equality, contains, ordering on numbers, dates and text, in / between, AND / OR,
//! and dotted paths through references and collections (`TestCase.FormattedID`,
//! `WorkProduct.Iteration.Name`).

use super::store::{Obj, Store, parse_date, parse_ref};
use super::types::{Kind, TypeDef, type_def};
use jiff::{Timestamp, ToSpan};
use serde_json::Value;
use std::cmp::Ordering;
use tmbridge_core::rally::query::{Condition, Expr, Operator, ValueKind};

/// A value found at the end of a path.
#[derive(Debug, Clone)]
enum Found {
    Null,
    Text(String),
    Number(f64),
    Bool(bool),
    Date(Timestamp),
    Ref(String, u64),
    /// A FormattedID (`TC12`): Rally compares and sorts these by their number.
    FormattedId(String, u64),
}

/// `TC12` → ("TC", 12).
fn split_formatted_id(text: &str) -> Option<(String, u64)> {
    let t = text.trim();
    let digits = t.find(|c: char| c.is_ascii_digit())?;
    let (prefix, number) = t.split_at(digits);
    if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some((prefix.to_ascii_uppercase(), number.parse().ok()?))
}

/// Checks every field path of the query against the type; Rally refuses unknown
/// attributes before running anything.
pub fn check_fields(ty: &'static TypeDef, expr: &Expr) -> Result<(), String> {
    for c in expr.conditions() {
        let mut types: Vec<&'static TypeDef> = vec![ty];
        for segment in c.field.split('.') {
            let mut next = Vec::new();
            let mut found = false;
            for t in &types {
                if let Some((_, kind)) = t.field(segment) {
                    found = true;
                    match kind {
                        Kind::Ref(targets) => {
                            next.extend(targets.iter().filter_map(|k| type_def(k)))
                        }
                        Kind::Collection { member, .. } => next.extend(type_def(member)),
                        _ => {}
                    }
                }
            }
            if !found {
                return Err(format!(
                    "Could not parse: Could not find attribute \"{segment}\" on type {} in the query segment \"{}\"",
                    types.first().map(|t| t.name).unwrap_or("?"),
                    c.field
                ));
            }
            types = next;
        }
    }
    Ok(())
}

pub fn matches(store: &Store, obj: &Obj, expr: &Expr, now: Timestamp) -> bool {
    match expr {
        Expr::Condition(c) => condition(store, obj, c, now),
        Expr::And { left, right } => {
            matches(store, obj, left, now) && matches(store, obj, right, now)
        }
        Expr::Or { left, right } => {
            matches(store, obj, left, now) || matches(store, obj, right, now)
        }
    }
}

fn condition(store: &Store, obj: &Obj, c: &Condition, now: Timestamp) -> bool {
    let segments: Vec<&str> = c.field.split('.').collect();
    let mut found = Vec::new();
    values_at(store, obj, &segments, &mut found);
    if found.is_empty() {
        found.push(Found::Null);
    }
    let positive = |f: &Found| -> bool {
        match c.op {
            Operator::Eq | Operator::Ne => c.values.first().is_some_and(|v| equal(f, v, now)),
            Operator::Contains | Operator::NotContains => c
                .values
                .first()
                .is_some_and(|v| text_of(f).to_lowercase().contains(&v.text.to_lowercase())),
            Operator::In | Operator::NotIn => c.values.iter().any(|v| equal(f, v, now)),
            Operator::Between | Operator::NotBetween => match (c.values.first(), c.values.get(1)) {
                (Some(lo), Some(hi)) => {
                    compare(f, lo, now).is_some_and(|o| o != Ordering::Less)
                        && compare(f, hi, now).is_some_and(|o| o != Ordering::Greater)
                }
                _ => false,
            },
            Operator::Lt => {
                c.values.first().and_then(|v| compare(f, v, now)) == Some(Ordering::Less)
            }
            Operator::Le => c
                .values
                .first()
                .and_then(|v| compare(f, v, now))
                .is_some_and(|o| o != Ordering::Greater),
            Operator::Gt => {
                c.values.first().and_then(|v| compare(f, v, now)) == Some(Ordering::Greater)
            }
            Operator::Ge => c
                .values
                .first()
                .and_then(|v| compare(f, v, now))
                .is_some_and(|o| o != Ordering::Less),
        }
    };
    let any = found.iter().any(positive);
    match c.op {
        Operator::Ne | Operator::NotContains | Operator::NotIn | Operator::NotBetween => !any,
        _ => any,
    }
}

/// Everything a path reaches: references are followed, collections fan out.
fn values_at(store: &Store, obj: &Obj, path: &[&str], out: &mut Vec<Found>) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some((name, kind)) = obj.ty.field(first) else {
        return;
    };
    match kind {
        Kind::Collection { .. } => {
            for oid in store.collection(obj, name) {
                if let Some(m) = store.get(oid) {
                    if rest.is_empty() {
                        out.push(Found::Ref(m.ty.key.to_string(), m.oid));
                    } else {
                        values_at(store, m, rest, out);
                    }
                }
            }
        }
        Kind::Ref(_) => {
            let target = obj.fields.get(name).and_then(|v| store.deref(v));
            match (target, rest.is_empty()) {
                (None, _) => out.push(Found::Null),
                (Some(t), true) => out.push(Found::Ref(t.ty.key.to_string(), t.oid)),
                (Some(t), false) => values_at(store, t, rest, out),
            }
        }
        _ if !rest.is_empty() => {}
        Kind::Date => out.push(
            obj.fields
                .get(name)
                .and_then(Value::as_str)
                .and_then(parse_date)
                .map(Found::Date)
                .unwrap_or(Found::Null),
        ),
        _ if name == "FormattedID" => out.push(
            obj.text(name)
                .map(|t| match split_formatted_id(t) {
                    Some((p, n)) => Found::FormattedId(p, n),
                    None => Found::Text(t.to_string()),
                })
                .unwrap_or(Found::Null),
        ),
        _ => out.push(match obj.fields.get(name) {
            None | Some(Value::Null) => Found::Null,
            Some(Value::Bool(b)) => Found::Bool(*b),
            Some(Value::Number(n)) => Found::Number(n.as_f64().unwrap_or(0.0)),
            Some(Value::String(s)) => Found::Text(s.clone()),
            Some(other) => Found::Text(other.to_string()),
        }),
    }
}

fn text_of(f: &Found) -> String {
    match f {
        Found::Null => String::new(),
        Found::Text(s) => s.clone(),
        Found::Number(n) => n.to_string(),
        Found::Bool(b) => b.to_string(),
        Found::Date(t) => t.to_string(),
        Found::Ref(ty, oid) => format!("/{ty}/{oid}"),
        Found::FormattedId(p, n) => format!("{p}{n}"),
    }
}

/// `today`, `today-7`, `today+1`, dates and timestamps.
fn date_value(text: &str, now: Timestamp) -> Option<Timestamp> {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix("today") {
        let today = now
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp();
        if rest.is_empty() {
            return Some(today);
        }
        let days: i64 = rest.trim().parse().ok()?;
        return today.checked_add((days * 24).hours()).ok();
    }
    parse_date(t)
}

fn equal(f: &Found, v: &tmbridge_core::rally::query::Value, now: Timestamp) -> bool {
    if v.kind == ValueKind::Null {
        return matches!(f, Found::Null);
    }
    match f {
        Found::Null => false,
        Found::Ref(ty, oid) => {
            if let Some((vty, void)) = parse_ref(&Value::from(v.text.clone())) {
                return vty == *ty && void == *oid;
            }
            v.text.trim().parse::<u64>().ok() == Some(*oid)
        }
        _ => compare(f, v, now) == Some(Ordering::Equal),
    }
}

fn compare(f: &Found, v: &tmbridge_core::rally::query::Value, now: Timestamp) -> Option<Ordering> {
    match f {
        Found::Null => None,
        Found::Number(n) => v
            .text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(|x| n.partial_cmp(&x)),
        Found::Bool(b) => match v.text.trim().to_ascii_lowercase().as_str() {
            "true" => Some(b.cmp(&true)),
            "false" => Some(b.cmp(&false)),
            _ => None,
        },
        Found::Date(t) => date_value(&v.text, now).map(|x| t.cmp(&x)),
        Found::Text(s) => Some(s.as_str().cmp(v.text.as_str())),
        Found::Ref(_, oid) => v.text.trim().parse::<u64>().ok().map(|x| oid.cmp(&x)),
        // `FormattedID > TC9` compares numbers; a bare number means the same prefix.
        Found::FormattedId(prefix, n) => match split_formatted_id(&v.text) {
            Some((p, x)) if p == *prefix => Some(n.cmp(&x)),
            Some((p, _)) => Some(prefix.cmp(&p)),
            None => v.text.trim().parse::<u64>().ok().map(|x| n.cmp(&x)),
        },
    }
}

/// Sorts by `order` (`Name desc,ObjectID`); ObjectID ascending breaks ties.
pub fn sort(store: &Store, items: &mut [u64], order: Option<&str>) {
    let keys: Vec<(String, bool)> = order
        .unwrap_or("")
        .split(',')
        .filter_map(|part| {
            let mut words = part.split_whitespace();
            let field = words.next()?.to_string();
            let desc = words.next().is_some_and(|w| w.eq_ignore_ascii_case("desc"));
            Some((field, desc))
        })
        .collect();
    items.sort_by(|a, b| {
        let (Some(oa), Some(ob)) = (store.get(*a), store.get(*b)) else {
            return a.cmp(b);
        };
        for (field, desc) in &keys {
            let mut fa = Vec::new();
            let mut fb = Vec::new();
            values_at(store, oa, &field.split('.').collect::<Vec<_>>(), &mut fa);
            values_at(store, ob, &field.split('.').collect::<Vec<_>>(), &mut fb);
            let ord = order_found(fa.first(), fb.first());
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.cmp(b)
    });
}

fn order_found(a: Option<&Found>, b: Option<&Found>) -> Ordering {
    match (a, b) {
        (Some(Found::Number(x)), Some(Found::Number(y))) => {
            x.partial_cmp(y).unwrap_or(Ordering::Equal)
        }
        (Some(Found::Date(x)), Some(Found::Date(y))) => x.cmp(y),
        (Some(Found::FormattedId(px, x)), Some(Found::FormattedId(py, y))) => {
            px.cmp(py).then(x.cmp(y))
        }
        (Some(x), Some(y)) => text_of(x).cmp(&text_of(y)),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}
