//! Checks and rewrites of one value against its field's type: dates to UTC,
//! booleans, numbers, references, and values that name another field (Rally
//! compares with the literal text, never with the other field).

use super::ast::{Operator, Value, ValueKind};
use super::dates;
use super::diag::{Change, ChangeKind, Diagnostic};
use super::fields::FieldType;
use super::normalize::{Ctx, is_ref};

const DATE_FORMS: &str = "write a date such as 2024-01-31, 2024-Jan-31 or 01/31/2024, a time such as 2024-01-31T17:00, or today";

impl Ctx<'_> {
    pub(super) fn value(
        &mut self,
        field: &str,
        op: Operator,
        ty: Option<FieldType>,
        v: &mut Value,
    ) {
        if v.kind == ValueKind::Null {
            return;
        }
        match ty {
            Some(FieldType::Date) => self.date(field, op, v, false),
            Some(FieldType::Boolean) => {
                if !v.text.eq_ignore_ascii_case("true") && !v.text.eq_ignore_ascii_case("false") {
                    self.diags.push(
                        Diagnostic::error(
                            "rally_query.invalid_boolean",
                            format!("{field} is true or false, not '{}'", v.text),
                        )
                        .at(self.text, v.span)
                        .with_hint(format!("write ({field} = true) or ({field} = false)")),
                    );
                }
            }
            Some(t) if t.is_number() => {
                if self.names_field(v, t) {
                    self.field_comparison(field, v);
                } else if !is_number(&v.text) {
                    self.diags.push(
                        Diagnostic::warning(
                            "rally_query.not_a_number",
                            format!("{field} holds numbers, but '{}' is not one", v.text),
                        )
                        .at(self.text, v.span)
                        .with_hint("write a number such as 5 or 2.5"),
                    );
                }
            }
            Some(FieldType::Object) => {
                if !is_ref(&v.text) && !v.text.bytes().all(|b| b.is_ascii_digit()) {
                    let hint = match field {
                        "Owner" | "SubmittedBy" | "Tester" => format!(
                            "compare a field of the user, e.g. ({field}.UserName = \"name@example.com\"), or use a ref such as /user/12345"
                        ),
                        _ => format!(
                            "compare a field of it, e.g. ({field}.Name = \"{}\"), or use a ref such as /{}/12345",
                            v.text,
                            field.to_ascii_lowercase()
                        ),
                    };
                    self.diags.push(
                        Diagnostic::warning(
                            "rally_query.object_needs_ref",
                            format!(
                                "{field} is an object: Rally compares it with a ref, not with '{}'",
                                v.text
                            ),
                        )
                        .at(self.text, v.span)
                        .with_hint(hint),
                    );
                }
            }
            Some(_) => {
                if v.kind == ValueKind::Bare
                    && v.text.contains('.')
                    && self.names_field(v, FieldType::Other)
                {
                    self.field_comparison(field, v);
                }
            }
            None => self.date(field, op, v, true),
        }
    }

    /// A date value to UTC. `assumed`: the field's type is unknown, so only values
    /// that read as dates are touched, with a warning.
    fn date(&mut self, field: &str, op: Operator, v: &mut Value, assumed: bool) {
        if dates::is_relative(&v.text) {
            let lower = v.text.to_ascii_lowercase();
            if !assumed && (lower != v.text || v.kind != ValueKind::Bare) {
                self.changes.push(Change::new(
                    ChangeKind::Spelling,
                    self.text,
                    v.span,
                    v.text.clone(),
                    lower.clone(),
                    "Rally writes today in lower case, without quotes",
                ));
                v.text = lower;
                v.kind = ValueKind::Bare;
            }
            return;
        }
        let converted = self.tz.as_ref().and_then(|tz| dates::to_utc(&v.text, tz));
        let Some(conv) = converted else {
            if assumed || self.tz.is_none() {
                return;
            }
            if self.names_field(v, FieldType::Date) {
                self.field_comparison(field, v);
            } else {
                self.diags.push(
                    Diagnostic::error(
                        "rally_query.invalid_date",
                        format!(
                            "{field} is a date, and '{}' is not a date tmbridge can read",
                            v.text
                        ),
                    )
                    .at(self.text, v.span)
                    .with_hint(DATE_FORMS),
                );
            }
            return;
        };
        if conv.text == v.text && v.kind == ValueKind::Bare {
            return;
        }
        let p = conv.parsed;
        let how = if p.offset.is_some() {
            "converted to UTC".to_string()
        } else if p.date_only {
            format!(
                "a date alone means midnight in {}; converted to UTC",
                self.zone_name
            )
        } else {
            format!("read as local time in {}; converted to UTC", self.zone_name)
        };
        self.changes.push(Change::new(
            ChangeKind::Date,
            self.text,
            v.span,
            v.text.clone(),
            conv.text.clone(),
            how,
        ));
        if assumed {
            self.diags.push(
                Diagnostic::warning(
                    "rally_query.assumed_date_field",
                    format!("'{}' reads as a date, so it was converted, though the type of {field} is not known", v.text),
                )
                .at(self.text, v.span)
                .with_hint("pass the field list (--fields) so tmbridge knows which fields are dates; quote the value to keep it as text if it is not a date field"),
            );
        }
        if p.month_day_ambiguous {
            self.diags.push(
                Diagnostic::warning(
                    "rally_query.ambiguous_date",
                    format!(
                        "'{}' was read as month/day/year ({})",
                        v.text,
                        conv.text.get(..10).unwrap_or(&conv.text)
                    ),
                )
                .at(self.text, v.span)
                .with_hint("write dates as yyyy-mm-dd to avoid the ambiguity"),
            );
        }
        if let Some(note) = conv.local_time_note {
            let what = if note == "gap" {
                "does not exist (the clocks jumped forward); the time after the jump was used"
            } else {
                "happens twice (the clocks went back); the earlier one was used"
            };
            self.diags.push(
                Diagnostic::warning(
                    "rally_query.local_time_shifted",
                    format!("'{}' in {} {what}", v.text, self.zone_name),
                )
                .at(self.text, v.span)
                .with_hint("give the time with a UTC offset, e.g. 2018-11-04T01:00-02:00"),
            );
        }
        if p.date_only && matches!(op, Operator::Eq | Operator::Ne) && !assumed {
            let day = p.civil.date();
            let next = day
                .tomorrow()
                .map(|d| d.to_string())
                .unwrap_or_else(|_| "the next day".into());
            self.diags.push(
                Diagnostic::warning(
                    "rally_query.date_equality",
                    format!(
                        "{field} {} {} compares with one instant (midnight), not with the whole day",
                        op.as_str(),
                        conv.text
                    ),
                )
                .at(self.text, v.span)
                .with_hint(format!(
                    "for the whole day write (({field} >= {day}) AND ({field} < {next}))"
                )),
            );
        }
        v.text = conv.text;
        v.kind = ValueKind::Bare;
    }

    /// The bare value is the name of another field of the same kind (`ClosedDate`),
    /// or a path into a related object (`Release.ReleaseStartDate`).
    fn names_field(&self, v: &Value, like: FieldType) -> bool {
        if v.kind != ValueKind::Bare {
            return false;
        }
        if let Some((head, rest)) = v.text.split_once('.') {
            let object = self.resolver.field_type_of_name(head) == Some(FieldType::Object);
            let looks = rest.split('.').all(|s| {
                s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            return object && looks;
        }
        match self.resolver.field_type_of_name(&v.text) {
            Some(t) if like == FieldType::Date => t == FieldType::Date,
            Some(t) if like.is_number() => t.is_number(),
            _ => false,
        }
    }

    fn field_comparison(&mut self, field: &str, v: &Value) {
        self.diags.push(
            Diagnostic::error(
                "rally_query.field_comparison",
                format!(
                    "Rally cannot compare {field} with another field ({}): the value is taken as literal text",
                    v.text
                ),
            )
            .at(self.text, v.span)
            .with_hint("compare with a literal value, e.g. a date such as 2024-01-31 or today; comparing two fields needs a script that reads both"),
        );
    }
}

fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let frac = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}
