//! Checks a value against the field it goes into: allowed values, references,
//! numbers, dates, booleans, web links.

use super::payload::{looks_like_ref, short_ref};
use super::problem::{Problem, near_match, quoted};
use super::schema::{FieldDef, FieldKind};
use super::text::is_safe_url;

/// A checked value: what the form shows and, for reference fields, the Rally ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checked {
    pub value: String,
    pub reference: Option<String>,
}

fn ok(value: &str) -> Result<Checked, Problem> {
    Ok(Checked {
        value: value.to_string(),
        reference: None,
    })
}

/// Check a value for a field that is not free text. An empty value passes (the
/// required check is separate).
pub(crate) fn check_value(field: &FieldDef, raw: &str) -> Result<Checked, Problem> {
    let value = raw.trim();
    let name = field.name.as_str();
    if value.is_empty() {
        return ok("");
    }
    if field.allowed_values_loaded && !field.allowed_values.is_empty() {
        if let Some(a) = field.allowed(value) {
            return Ok(Checked {
                value: a.value.clone(),
                reference: a.reference.clone(),
            });
        }
        // A ref of one of the allowed objects is as good as its name.
        if looks_like_ref(value) {
            let wanted = short_ref(value);
            if let Some(a) = field
                .allowed_values
                .iter()
                .find(|a| a.reference.as_deref().map(short_ref).as_deref() == Some(wanted.as_str()))
            {
                return Ok(Checked {
                    value: a.value.clone(),
                    reference: a.reference.clone(),
                });
            }
        }
        let values: Vec<&str> = field
            .allowed_values
            .iter()
            .map(|a| a.value.as_str())
            .collect();
        let mut p = Problem::error(
            "autofill.value_not_allowed",
            Some(name),
            format!("{} is not an allowed value of {name}", quoted(value)),
        );
        p = match near_match(value, values.iter().copied()) {
            Some(near) => p.with_hint(format!("Rally writes it {}", quoted(near))),
            None => p.with_hint(format!("allowed: {}", sample(&values))),
        };
        return Err(p);
    }
    match field.kind {
        FieldKind::Object => {
            if looks_like_ref(value) {
                Ok(Checked {
                    value: short_ref(value),
                    reference: Some(short_ref(value)),
                })
            } else if !field.allowed_values_loaded {
                Err(Problem::error(
                    "autofill.ref_unknown",
                    Some(name),
                    format!("{} cannot be turned into a Rally ref: the allowed values of {name} are not loaded", quoted(value)),
                )
                .with_hint(format!("reload the allowed values of {name}, or give a ref such as /user/12345")))
            } else {
                Err(Problem::error(
                    "autofill.not_a_ref",
                    Some(name),
                    format!(
                        "{name} takes a Rally ref (such as /{}/12345), not {}",
                        ref_type(field),
                        quoted(value)
                    ),
                ))
            }
        }
        FieldKind::Boolean => match value.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => ok("true"),
            "false" | "no" | "0" => ok("false"),
            _ => Err(invalid(field, value, "true or false")),
        },
        FieldKind::Integer => match value.parse::<i64>() {
            Ok(n) if n.unsigned_abs() < (1u64 << 53) => ok(&n.to_string()),
            _ => Err(invalid(field, value, "a whole number")),
        },
        FieldKind::Decimal | FieldKind::Quantity => {
            if is_decimal(value) {
                ok(value)
            } else {
                Err(invalid(field, value, "a number such as 2.5"))
            }
        }
        FieldKind::Date => {
            if value.parse::<jiff::Timestamp>().is_ok()
                || value.parse::<jiff::civil::Date>().is_ok()
            {
                ok(value)
            } else {
                Err(invalid(
                    field,
                    value,
                    "a date (2024-05-01) or a timestamp (2024-05-01T10:00:00Z)",
                ))
            }
        }
        FieldKind::WebLink => {
            if is_safe_url(value) {
                ok(value)
            } else {
                Err(invalid(field, value, "a web address (https://...)"))
            }
        }
        FieldKind::Collection | FieldKind::Raw | FieldKind::BinaryData => Err(Problem::error(
            "autofill.not_fillable",
            Some(name),
            format!(
                "{name} is a {} field; the form cannot fill it",
                field.attribute_type
            ),
        )),
        _ => {
            if !field.allowed_values_loaded {
                return Err(Problem::warning(
                    "autofill.allowed_values_not_loaded",
                    Some(name),
                    format!(
                        "{} was not checked: the allowed values of {name} are not loaded",
                        quoted(value)
                    ),
                )
                .with_hint(format!("reload the allowed values of {name}")));
            }
            ok(value)
        }
    }
}

fn invalid(field: &FieldDef, value: &str, wanted: &str) -> Problem {
    Problem::error(
        "autofill.invalid_value",
        Some(&field.name),
        format!("{} takes {wanted}, not {}", field.name, quoted(value)),
    )
}

fn is_decimal(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next();
    !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
}

fn ref_type(field: &FieldDef) -> String {
    field
        .schema_type
        .as_deref()
        .filter(|s| !s.starts_with("xsd:") && !s.is_empty())
        .unwrap_or(&field.name)
        .to_ascii_lowercase()
}

/// Up to ten values for a message, then a count.
fn sample(values: &[&str]) -> String {
    let shown: Vec<String> = values
        .iter()
        .filter(|v| !v.is_empty())
        .take(10)
        .map(|v| quoted(v))
        .collect();
    let rest = values
        .iter()
        .filter(|v| !v.is_empty())
        .count()
        .saturating_sub(shown.len());
    if rest > 0 {
        format!("{} and {rest} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autofill::schema::{AllowedValue, FieldOrigin};

    fn field(kind: FieldKind, allowed: Vec<AllowedValue>, loaded: bool) -> FieldDef {
        FieldDef {
            name: "F".into(),
            label: "F".into(),
            kind,
            attribute_type: format!("{kind:?}").to_uppercase(),
            schema_type: Some("User".into()),
            required: false,
            read_only: false,
            hidden: false,
            custom: false,
            max_length: None,
            allowed_values: allowed,
            allowed_values_loaded: loaded,
            allowed_values_ref: None,
            origin: FieldOrigin::Metadata,
        }
    }

    #[test]
    fn dropdown_values_and_refs() {
        let users = vec![AllowedValue {
            value: "Alan".into(),
            reference: Some(
                "https://rally1.rallydev.com/slm/webservice/1.43/user/7714382003.js".into(),
            ),
        }];
        let f = field(FieldKind::Object, users, true);
        let c = check_value(&f, "Alan").unwrap();
        assert_eq!(
            c.reference.as_deref().map(short_ref).as_deref(),
            Some("/user/7714382003")
        );
        assert_eq!(check_value(&f, "/user/7714382003").unwrap().value, "Alan");
        let p = check_value(&f, "alan").unwrap_err();
        assert_eq!(
            (p.code.as_str(), p.hint.as_deref()),
            (
                "autofill.value_not_allowed",
                Some("Rally writes it \"Alan\"")
            )
        );
        let p = check_value(&f, "Bob").unwrap_err();
        assert_eq!(p.hint.as_deref(), Some("allowed: \"Alan\""));
        assert_eq!(check_value(&f, "  ").unwrap().value, "", "empty passes");
    }

    #[test]
    fn references_without_a_list() {
        let f = field(FieldKind::Object, vec![], true);
        assert_eq!(
            check_value(&f, "/testcase/1").unwrap().reference.as_deref(),
            Some("/testcase/1")
        );
        let p = check_value(&f, "TC1").unwrap_err();
        assert_eq!(p.code, "autofill.not_a_ref");
        assert!(p.message.contains("/user/12345"));
        let unloaded = field(FieldKind::Object, vec![], false);
        assert_eq!(
            check_value(&unloaded, "Alan").unwrap_err().code,
            "autofill.ref_unknown"
        );
        let rating = field(FieldKind::Rating, vec![], false);
        assert_eq!(
            check_value(&rating, "High").unwrap_err().severity,
            super::super::problem::Severity::Warning
        );
    }

    #[test]
    fn scalar_kinds() {
        let b = field(FieldKind::Boolean, vec![], true);
        assert_eq!(check_value(&b, "Yes").unwrap().value, "true");
        assert_eq!(
            check_value(&b, "maybe").unwrap_err().code,
            "autofill.invalid_value"
        );
        let i = field(FieldKind::Integer, vec![], true);
        assert_eq!(check_value(&i, "42").unwrap().value, "42");
        assert!(check_value(&i, "9007199254740993").is_err(), "beyond 2^53");
        assert!(check_value(&i, "4.2").is_err());
        let d = field(FieldKind::Quantity, vec![], true);
        assert!(check_value(&d, "-2.5").is_ok());
        for bad in ["2.", ".5", "1e3", "x"] {
            assert!(check_value(&d, bad).is_err(), "{bad}");
        }
        let date = field(FieldKind::Date, vec![], true);
        assert!(check_value(&date, "2024-05-01").is_ok());
        assert!(check_value(&date, "2024-05-01T10:00:00Z").is_ok());
        assert!(check_value(&date, "May 1st").is_err());
        let link = field(FieldKind::WebLink, vec![], true);
        assert!(check_value(&link, "https://ci.example/1").is_ok());
        assert!(check_value(&link, "javascript:x").is_err());
        let tags = field(FieldKind::Collection, vec![], true);
        assert_eq!(
            check_value(&tags, "a").unwrap_err().code,
            "autofill.not_fillable"
        );
    }
}
