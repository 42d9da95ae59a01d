//! A small filter over test results that decides what an export sends, the role
//! AQL plays in Allure TestOps:
//!
//! ```text
//! status in (failed, error) and not name ~ "flaky"
//! suite ~ "checkout" or tag = smoke or property.owner = "team-a"
//! ```
//!
//! Fields: `status`, `suite` (the path joined with ` / `), `name`, `classname`,
//! `full_name`, `file`, `tag` (any of the test's `tag`/`tags` property values,
//! comma-separated), `property.NAME`. Operators: `=`, `!=`, `~` (contains, ignoring
//! case), `!~`, `in (a, b)`; `and`, `or`, `not`, parentheses. Values are bare words
//! or `"quoted"` (with `\"` and `\\`). Errors name the position (column from 1).

use crate::error::{Error, Location, Result};
use crate::model::TestCase;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Status,
    Suite,
    Name,
    Classname,
    FullName,
    File,
    Tag,
    Property(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Contains,
    NotContains,
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Scope {
    Compare { field: Field, op: Op, value: String },
    In { field: Field, values: Vec<String> },
    Not { inner: Box<Scope> },
    And { left: Box<Scope>, right: Box<Scope> },
    Or { left: Box<Scope>, right: Box<Scope> },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Op(Op),
    Open,
    Close,
    Comma,
    End,
}

struct Lexer<'a> {
    text: &'a str,
    toks: Vec<(Tok, usize)>,
}

fn syntax(text: &str, at: usize, message: String) -> Error {
    let loc = Location::in_text(text.as_bytes(), at);
    Error::new(
        "scope.syntax",
        format!("scope expression, column {}: {message}", loc.column),
    )
    .at(loc)
    .with_hint("like: status in (failed, error) and not name ~ \"flaky\"")
}

impl<'a> Lexer<'a> {
    fn run(text: &'a str) -> Result<Vec<(Tok, usize)>> {
        let mut lx = Lexer {
            text,
            toks: Vec::new(),
        };
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'(' => lx.push(Tok::Open, &mut i, 1),
                b')' => lx.push(Tok::Close, &mut i, 1),
                b',' => lx.push(Tok::Comma, &mut i, 1),
                b'=' => lx.push(Tok::Op(Op::Eq), &mut i, 1),
                b'~' => lx.push(Tok::Op(Op::Contains), &mut i, 1),
                b'!' if bytes.get(i + 1) == Some(&b'=') => lx.push(Tok::Op(Op::Ne), &mut i, 2),
                b'!' if bytes.get(i + 1) == Some(&b'~') => {
                    lx.push(Tok::Op(Op::NotContains), &mut i, 2)
                }
                b'"' => {
                    let start = i;
                    i += 1;
                    let mut out = String::new();
                    loop {
                        let Some(ch) = text[i..].chars().next() else {
                            return Err(syntax(
                                text,
                                start,
                                "the quoted value is not closed".into(),
                            ));
                        };
                        i += ch.len_utf8();
                        match ch {
                            '"' => break,
                            '\\' => {
                                let Some(next) = text[i..].chars().next() else {
                                    return Err(syntax(
                                        text,
                                        start,
                                        "the quoted value is not closed".into(),
                                    ));
                                };
                                i += next.len_utf8();
                                out.push(next);
                            }
                            c => out.push(c),
                        }
                    }
                    lx.toks.push((Tok::Quoted(out), start));
                }
                _ => {
                    let start = i;
                    while i < bytes.len() {
                        let b = bytes[i];
                        if b.is_ascii_whitespace() || b"()=,~!\"".contains(&b) {
                            break;
                        }
                        i += text[i..].chars().next().map_or(1, char::len_utf8);
                    }
                    if start == i {
                        return Err(syntax(text, start, format!("unexpected {:?}", c as char)));
                    }
                    lx.toks.push((Tok::Word(text[start..i].to_string()), start));
                }
            }
        }
        lx.toks.push((Tok::End, lx.text.len()));
        Ok(lx.toks)
    }

    fn push(&mut self, t: Tok, i: &mut usize, len: usize) {
        self.toks.push((t, *i));
        *i += len;
    }
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<(Tok, usize)>,
    at: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("{w:?}"),
        Tok::Quoted(q) => format!("\"{q}\""),
        Tok::Op(_) => "an operator".into(),
        Tok::Open => "\"(\"".into(),
        Tok::Close => "\")\"".into(),
        Tok::Comma => "\",\"".into(),
        Tok::End => "the end".into(),
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.at.min(self.toks.len() - 1)].0
    }

    fn pos(&self) -> usize {
        self.toks[self.at.min(self.toks.len() - 1)].1
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        self.at += 1;
        t
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w.eq_ignore_ascii_case(k))
    }

    fn fail<T>(&self, what: &str) -> Result<T> {
        Err(syntax(
            self.text,
            self.pos(),
            format!("expected {what}, found {}", describe(self.peek())),
        ))
    }

    fn or(&mut self) -> Result<Scope> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.bump();
            let right = self.and()?;
            left = Scope::Or {
                left: Box::new(left),
                right: Box::new(right),
            };
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Scope> {
        let mut left = self.not()?;
        while self.keyword("and") {
            self.bump();
            let right = self.not()?;
            left = Scope::And {
                left: Box::new(left),
                right: Box::new(right),
            };
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Scope> {
        if self.keyword("not") {
            self.bump();
            return Ok(Scope::Not {
                inner: Box::new(self.not()?),
            });
        }
        if *self.peek() == Tok::Open {
            self.bump();
            let inner = self.or()?;
            if *self.peek() != Tok::Close {
                return self.fail("\")\"");
            }
            self.bump();
            return Ok(inner);
        }
        self.comparison()
    }

    fn field(&mut self) -> Result<Field> {
        let at = self.pos();
        let Tok::Word(w) = self.peek().clone() else {
            return self.fail(
                "a field (status, suite, name, classname, full_name, file, tag, property.NAME)",
            );
        };
        self.bump();
        Ok(match w.to_ascii_lowercase().as_str() {
            "status" => Field::Status,
            "suite" => Field::Suite,
            "name" => Field::Name,
            "classname" => Field::Classname,
            "full_name" => Field::FullName,
            "file" => Field::File,
            "tag" | "tags" | "label" => Field::Tag,
            other => match other
                .strip_prefix("property.")
                .or_else(|| other.strip_prefix("label."))
            {
                Some(p) if !p.is_empty() => Field::Property(w[w.len() - p.len()..].to_string()),
                _ => {
                    return Err(syntax(
                        self.text,
                        at,
                        format!(
                            "{w:?} is not a field: use status, suite, name, classname, full_name, file, tag or property.NAME"
                        ),
                    ));
                }
            },
        })
    }

    fn value(&mut self) -> Result<String> {
        match self.peek().clone() {
            Tok::Word(w)
                if !["and", "or", "not", "in"].contains(&w.to_ascii_lowercase().as_str()) =>
            {
                self.bump();
                Ok(w)
            }
            Tok::Quoted(q) => {
                self.bump();
                Ok(q)
            }
            _ => self.fail("a value"),
        }
    }

    fn comparison(&mut self) -> Result<Scope> {
        let field = self.field()?;
        if self.keyword("in") {
            self.bump();
            if *self.peek() != Tok::Open {
                return self.fail("\"(\" after in");
            }
            self.bump();
            let mut values = vec![self.value()?];
            while *self.peek() == Tok::Comma {
                self.bump();
                values.push(self.value()?);
            }
            if *self.peek() != Tok::Close {
                return self.fail("\",\" or \")\"");
            }
            self.bump();
            let scope = Scope::In { field, values };
            self.check_status(&scope)?;
            return Ok(scope);
        }
        let Tok::Op(op) = self.peek().clone() else {
            return self.fail("an operator (=, !=, ~, !~, in)");
        };
        self.bump();
        let at = self.pos();
        let value = self.value()?;
        let scope = Scope::Compare { field, op, value };
        self.check_status(&scope).map_err(|e| Error {
            location: Some(Location::in_text(self.text.as_bytes(), at)),
            ..e
        })?;
        Ok(scope)
    }

    fn check_status(&self, scope: &Scope) -> Result<()> {
        let values: Vec<&String> = match scope {
            Scope::Compare {
                field: Field::Status,
                op: Op::Eq | Op::Ne,
                value,
            } => vec![value],
            Scope::In {
                field: Field::Status,
                values,
            } => values.iter().collect(),
            _ => return Ok(()),
        };
        for v in values {
            if !STATUSES.contains(&v.to_ascii_lowercase().as_str()) {
                return Err(Error::new(
                    "scope.unknown_status",
                    format!("scope expression: {v:?} is not a status"),
                )
                .with_hint(format!("statuses: {}", STATUSES.join(", "))));
            }
        }
        Ok(())
    }
}

const STATUSES: &[&str] = &["passed", "failed", "error", "skipped", "flaky"];

/// Parses an expression.
pub fn parse(text: &str) -> Result<Scope> {
    let toks = Lexer::run(text)?;
    let mut p = Parser { text, toks, at: 0 };
    if *p.peek() == Tok::End {
        return Err(syntax(text, 0, "the expression is empty".into()));
    }
    let scope = p.or()?;
    if *p.peek() != Tok::End {
        return p.fail("and, or, or the end");
    }
    Ok(scope)
}

fn tags(case: &TestCase) -> Vec<String> {
    case.properties
        .iter()
        .filter(|p| matches!(p.name.as_str(), "tag" | "tags"))
        .flat_map(|p| {
            p.value
                .split(',')
                .map(|t| t.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

fn values_of(field: &Field, case: &TestCase) -> Vec<String> {
    match field {
        Field::Status => vec![case.status.as_str().to_string()],
        Field::Suite => vec![case.suite.join(" / ")],
        Field::Name => vec![case.name.clone()],
        Field::Classname => case.classname.iter().cloned().collect(),
        Field::FullName => vec![case.full_name()],
        Field::File => case.file.iter().cloned().collect(),
        Field::Tag => tags(case),
        Field::Property(n) => case
            .properties
            .iter()
            .filter(|p| &p.name == n)
            .map(|p| p.value.clone())
            .collect(),
    }
}

impl Scope {
    /// Whether a test is in scope.
    pub fn matches(&self, case: &TestCase) -> bool {
        match self {
            Scope::Compare { field, op, value } => {
                let vals = values_of(field, case);
                let eq = |v: &String| {
                    if *field == Field::Status {
                        v.eq_ignore_ascii_case(value)
                    } else {
                        v == value
                    }
                };
                let has = |v: &String| v.to_lowercase().contains(&value.to_lowercase());
                match op {
                    Op::Eq => vals.iter().any(eq),
                    Op::Ne => !vals.iter().any(eq),
                    Op::Contains => vals.iter().any(has),
                    Op::NotContains => !vals.iter().any(has),
                }
            }
            Scope::In { field, values } => values_of(field, case).iter().any(|v| {
                values.iter().any(|w| {
                    if *field == Field::Status {
                        v.eq_ignore_ascii_case(w)
                    } else {
                        v == w
                    }
                })
            }),
            Scope::Not { inner } => !inner.matches(case),
            Scope::And { left, right } => left.matches(case) && right.matches(case),
            Scope::Or { left, right } => left.matches(case) || right.matches(case),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::testutil::{case, with_prop};
    use crate::model::Status;

    #[test]
    fn filters_by_status_name_suite_tags_and_properties() {
        let s = parse(r#"status in (failed, error) and not name ~ "flaky""#).unwrap();
        assert!(s.matches(&case("a.B", "pays", Status::Failed)));
        assert!(!s.matches(&case("a.B", "Flaky pay", Status::Failed)));
        assert!(!s.matches(&case("a.B", "pays", Status::Passed)));
        let t = parse("tag = smoke or property.owner = \"team a\"").unwrap();
        assert!(t.matches(&with_prop(
            case("a", "b", Status::Passed),
            "tags",
            "ui, smoke"
        )));
        assert!(t.matches(&with_prop(
            case("a", "b", Status::Passed),
            "owner",
            "team a"
        )));
        assert!(!t.matches(&case("a", "b", Status::Passed)));
        let mut c = case("a", "b", Status::Passed);
        c.suite = vec!["shop".into(), "checkout".into()];
        assert!(parse("suite ~ CHECKOUT").unwrap().matches(&c));
        assert!(
            parse("(status = passed or status = flaky) and suite != x")
                .unwrap()
                .matches(&c)
        );
    }

    #[test]
    fn errors_name_the_position() {
        let e = parse("status in (failed, error").unwrap_err();
        assert_eq!(e.code, "scope.syntax");
        assert_eq!(e.location.unwrap().column, 25, "{}", e.message);
        let e = parse("colour = red").unwrap_err();
        assert_eq!(e.location.unwrap().column, 1);
        assert!(
            e.message.contains("\"colour\" is not a field"),
            "{}",
            e.message
        );
        let e = parse("name ~ \"open").unwrap_err();
        assert_eq!(e.location.unwrap().column, 8);
        let e = parse("status = broken").unwrap_err();
        assert_eq!(e.code, "scope.unknown_status");
        assert_eq!(e.location.unwrap().column, 10);
        let e = parse("name = a b").unwrap_err();
        assert_eq!(e.location.unwrap().column, 10);
        assert_eq!(parse("  ").unwrap_err().code, "scope.syntax");
    }
}
