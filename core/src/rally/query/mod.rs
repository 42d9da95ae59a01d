//! Rally WSAPI v2.0 query language: a lenient parser for what people paste, the
//! canonical printer, the normaliser (system names, UTC dates, refs, ObjectIDs for
//! Releases and Iterations by name) and the checker that explains each refusal.
//!
//! ```
//! use tmbridge_core::rally::query::{normalize, Options};
//! let out = normalize("(Name contains US) AND (Creation Date >= 2013-Dec-31)", &Options::default()).unwrap();
//! assert_eq!(out.query, "((Name contains US) AND (CreationDate >= 2013-12-31T00:00:00Z))");
//! ```
//!
//! Every entry point takes and returns plain serde values, so bindings pass JSON.
//!
//! Diagnostic codes (stable): syntax — `rally_query.empty`, `too_long`, `control_character`
//! (NUL, other control characters and text-direction controls are refused, not dropped),
//! `too_complex`, `unterminated_string`, `unbalanced_parenthesis`, `empty_group`,
//! `unexpected_token`, `unexpected_end`, `missing_field`, `missing_operator`,
//! `unknown_operator`, `missing_value`, `missing_condition`, `not_canonical`
//! (strict parsing only); meaning — `unknown_field`, `operator_not_allowed`,
//! `invalid_date`, `invalid_boolean`, `field_comparison`, `ambiguous_lookup`,
//! `unknown_time_zone`; warnings — `mixed_and_or`, `unverified_field`,
//! `assumed_date_field`, `ambiguous_date`, `date_equality`, `local_time_shifted`,
//! `not_a_number`, `object_needs_ref`, `lookup_needed`, `unknown_sort_field`; inputs —
//! `invalid_fields`, `invalid_lookups`, `invalid_since`. All start with `rally_query.`.

mod ast;
mod dates;
mod diag;
mod fields;
mod lexer;
mod lookups;
mod normalize;
mod parser;
mod poll;
mod printer;
mod values;

#[cfg(test)]
mod tests;

pub use ast::{Condition, Expr, Operator, Span, Value, ValueKind};
pub use dates::format_utc;
pub use diag::{Change, ChangeKind, Diagnostic, Severity};
pub use fields::{FieldDef, FieldList, FieldType};
pub use lookups::{Lookup, LookupKind, LookupNeed, parse_lookups};
pub use parser::{MAX_DEPTH, MAX_QUERY_BYTES, Parsed, SortTail, parse_lenient};
pub use poll::{poll_query, updated_since};
pub use printer::print;

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// What the host knows: the time zone dates are written in, the field list of the
/// queried type, ids of Releases and Iterations, and the project queried.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyQueryOptions")
)]
pub struct Options {
    /// IANA zone for dates written without a zone; `UTC` when `None`.
    pub time_zone: Option<String>,
    /// Attribute metadata of the queried type, in any shape Rally returns it.
    pub fields: Option<FieldList>,
    pub lookups: Vec<Lookup>,
    /// Project that Release and Iteration names belong to, unless the query names one.
    pub project: Option<String>,
}

/// The verdict on a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyQueryCheck")
)]
pub struct CheckOutput {
    /// No errors: the canonical form can be sent to Rally.
    pub valid: bool,
    /// The text is already exactly the canonical form.
    pub unchanged: bool,
    /// The normalised query, when it is valid.
    pub canonical: Option<String>,
    /// The `order` parameter from a custom view's `Sorted by` tail.
    pub order: Option<String>,
    pub changes: Vec<Change>,
    pub diagnostics: Vec<Diagnostic>,
    pub needs: Vec<LookupNeed>,
}

/// A query ready for Rally's `query` parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyQueryNormalized")
)]
pub struct NormalizeOutput {
    pub query: String,
    pub order: Option<String>,
    /// False while `needs` lists Releases or Iterations whose ObjectID is unknown;
    /// the query then compares their names, and can be normalised again with the ids.
    pub complete: bool,
    pub changes: Vec<Change>,
    pub warnings: Vec<Diagnostic>,
    pub needs: Vec<LookupNeed>,
}

/// True when `name` is an IANA time zone tmbridge knows (`UTC`, `Europe/Berlin`).
pub fn is_time_zone(name: &str) -> bool {
    dates::zone(name).is_some()
}

/// Parses leniently (see [`parse_lenient`]) and returns the tree.
pub fn parse(text: &str) -> Result<Expr> {
    parse_lenient(text)
        .map(|p| p.expr)
        .map_err(|d| d.to_error())
}

/// Parses the way Rally does: anything that needs a repair (missing parentheses,
/// three operands to one AND, `==`, a sort tail) is refused with
/// `rally_query.not_canonical`, naming the repair.
pub fn parse_strict(text: &str) -> Result<Expr> {
    let parsed = parse_lenient(text).map_err(|d| d.to_error())?;
    if let Some(change) = parsed.changes.first() {
        let mut err = Error::new(
            "rally_query.not_canonical",
            format!("Rally could not parse this query: {}", change.message),
        )
        .with_hint(format!("write `{}` as `{}`", change.before, change.after));
        if let Some(loc) = change.location {
            err = err.at(loc);
        }
        return Err(err);
    }
    Ok(parsed.expr)
}

/// Checks a query: what Rally would refuse and why, what tmbridge would change, and
/// the canonical form. Never fails; every problem is a diagnostic.
pub fn check(text: &str, options: &Options) -> CheckOutput {
    let a = normalize::analyze(text, options);
    let valid = a.expr.is_some() && !a.diagnostics.iter().any(Diagnostic::is_error);
    let canonical = if valid {
        a.expr.as_ref().map(print)
    } else {
        None
    };
    CheckOutput {
        valid,
        unchanged: canonical.as_deref() == Some(text.trim()),
        canonical,
        order: a.order,
        changes: a.changes,
        diagnostics: a.diagnostics,
        needs: a.needs,
    }
}

/// Normalises a query into the form Rally accepts. Fails with the first error when
/// Rally would refuse the result.
pub fn normalize(text: &str, options: &Options) -> Result<NormalizeOutput> {
    let a = normalize::analyze(text, options);
    if let Some(err) = a.diagnostics.iter().find(|d| d.is_error()) {
        return Err(err.to_error());
    }
    let Some(expr) = a.expr else {
        return Err(Error::new("rally_query.empty", "the query is empty"));
    };
    Ok(NormalizeOutput {
        query: print(&expr),
        order: a.order,
        complete: a.needs.is_empty(),
        changes: a.changes,
        warnings: a.diagnostics,
        needs: a.needs,
    })
}
