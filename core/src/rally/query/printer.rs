//! Prints a tree in the one form Rally's WSAPI accepts: every condition in
//! parentheses, every AND / OR with exactly two operands, nested.

use super::ast::{Condition, Expr, Value, ValueKind};

/// The canonical text of `expr`, e.g. `((Name contains US) AND (ObjectID > 5))`.
pub fn print(expr: &Expr) -> String {
    let mut out = String::new();
    print_into(expr, &mut out);
    out
}

fn print_into(expr: &Expr, out: &mut String) {
    match expr {
        Expr::Condition(c) => print_condition(c, out),
        Expr::And { left, right } | Expr::Or { left, right } => {
            let keyword = if matches!(expr, Expr::And { .. }) {
                " AND "
            } else {
                " OR "
            };
            out.push('(');
            print_into(left, out);
            out.push_str(keyword);
            print_into(right, out);
            out.push(')');
        }
    }
}

/// `(Field OP value)`.
pub fn print_condition(c: &Condition, out: &mut String) {
    out.push('(');
    print_field(&c.field, out);
    out.push(' ');
    out.push_str(c.op.as_str());
    out.push(' ');
    if c.op.takes_range() {
        let mut first = true;
        for v in &c.values {
            if !first {
                out.push_str(" and ");
            }
            first = false;
            print_value(v, out);
        }
    } else {
        let mut first = true;
        for v in &c.values {
            if !first {
                out.push(',');
            }
            first = false;
            print_value(v, out);
        }
    }
    out.push(')');
}

pub fn print_value(v: &Value, out: &mut String) {
    match v.kind {
        ValueKind::Null => out.push_str("null"),
        ValueKind::Bare if is_bare_safe(&v.text) => out.push_str(&v.text),
        _ => push_quoted(&v.text, out),
    }
}

/// The printed form of one value.
pub fn value_text(v: &Value) -> String {
    let mut out = String::new();
    print_value(v, &mut out);
    out
}

fn print_field(field: &str, out: &mut String) {
    if is_field_safe(field) {
        out.push_str(field);
    } else {
        push_quoted(field, out);
    }
}

fn push_quoted(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Words that the parser reads as operators or keywords.
const RESERVED: [&str; 8] = [
    "and",
    "or",
    "contains",
    "!contains",
    "in",
    "!in",
    "between",
    "!between",
];

fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

/// Characters that end a bare word in the lexer.
fn is_special(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '(' | ')' | ',' | '=' | '<' | '>' | '"' | '\u{201C}' | '\u{201D}'
        )
}

/// A value the lexer reads back as the same single bare word.
pub fn is_bare_safe(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('\'')
        && !text.contains("!=")
        && !text.chars().any(is_special)
        && !is_reserved(text)
        && !text.eq_ignore_ascii_case("null")
}

/// A field name the parser reads back unchanged without quotes: words of bare-safe
/// characters separated by single spaces, none of them an operator or keyword.
fn is_field_safe(field: &str) -> bool {
    !field.is_empty()
        && field.split(' ').all(|word| {
            !word.is_empty()
                && !word.starts_with('\'')
                && !word.contains("!=")
                && !word.chars().any(is_special)
                && !is_reserved(word)
        })
        && !field
            .split(' ')
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| is_sort_words(w[0], w[1]))
}

/// `Sorted by` / `Order by`: the start of a custom view's sort tail.
pub fn is_sort_words(first: &str, second: &str) -> bool {
    (first.eq_ignore_ascii_case("sorted") || first.eq_ignore_ascii_case("order"))
        && second.eq_ignore_ascii_case("by")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rally::query::ast::Operator;

    fn cond(field: &str, op: Operator, values: Vec<Value>) -> Expr {
        Expr::Condition(Condition::new(field, op, values))
    }

    #[test]
    fn nests_with_two_operands_per_level() {
        let e = Expr::and(
            Expr::and(
                cond("Name", Operator::Contains, vec![Value::bare("US")]),
                cond("Blocked", Operator::Eq, vec![Value::bare("true")]),
            ),
            Expr::or(
                cond("Owner", Operator::Eq, vec![Value::null()]),
                cond("Owner", Operator::Eq, vec![Value::bare("/user/1")]),
            ),
        );
        assert_eq!(
            print(&e),
            "(((Name contains US) AND (Blocked = true)) AND ((Owner = null) OR (Owner = /user/1)))"
        );
    }

    #[test]
    fn quotes_values_that_would_not_read_back() {
        let e = cond("Name", Operator::Eq, vec![Value::bare(r#"a "b" (c) \d"#)]);
        assert_eq!(print(&e), r#"(Name = "a \"b\" (c) \\d")"#);
        assert_eq!(
            print(&cond("Name", Operator::Eq, vec![Value::bare("null")])),
            r#"(Name = "null")"#
        );
        assert_eq!(
            print(&cond("Name", Operator::Eq, vec![Value::bare("AND")])),
            r#"(Name = "AND")"#
        );
    }

    #[test]
    fn lists_and_ranges() {
        let e = cond(
            "ScheduleState",
            Operator::In,
            vec![
                Value::bare("Defined"),
                Value::quoted("In-Progress"),
                Value::quoted("Needs work"),
            ],
        );
        assert_eq!(
            print(&e),
            r#"(ScheduleState in Defined,"In-Progress","Needs work")"#
        );
        let e = cond(
            "CreationDate",
            Operator::Between,
            vec![
                Value::bare("2024-01-01T00:00:00Z"),
                Value::bare("2024-02-01T00:00:00Z"),
            ],
        );
        assert_eq!(
            print(&e),
            "(CreationDate between 2024-01-01T00:00:00Z and 2024-02-01T00:00:00Z)"
        );
    }

    #[test]
    fn field_names_that_contain_operator_words_are_quoted() {
        assert_eq!(
            print(&cond(
                "Found In Build",
                Operator::In,
                vec![Value::bare("1")]
            )),
            r#"("Found In Build" in 1)"#
        );
        assert_eq!(
            print(&cond(
                "Creation Date",
                Operator::Ge,
                vec![Value::bare("today")]
            )),
            "(Creation Date >= today)"
        );
        assert_eq!(
            print(&cond("add at 2! (H)", Operator::Eq, vec![Value::bare("x")])),
            r#"("add at 2! (H)" = x)"#
        );
    }
}
