//! Reads a query the way people write it and builds the canonical tree, noting
//! every repair: conditions without parentheses, `A AND B AND C`, AND and OR mixed
//! without parentheses, display names with spaces, values of several words, the
//! `Sorted by ...` tail of a custom view.

use super::ast::{Condition, Expr, Operator, Span, Value, ValueKind};
use super::diag::{Change, ChangeKind, Diagnostic};
use super::lexer::{SymOp, TokKind, Token, tokenize};
use super::printer::{is_sort_words, print, print_condition, value_text};
use serde::{Deserialize, Serialize};

/// Deeper trees than this are refused: Rally's URLs could not carry them anyway,
/// and the limit keeps recursion bounded on any input.
pub const MAX_DEPTH: usize = 100;

/// Longer texts are refused: Rally takes the query in a URL, which servers cap
/// far below this.
pub const MAX_QUERY_BYTES: usize = 32 * 1024;

/// The `Sorted by ...` tail of a pasted custom view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortTail {
    /// What followed `Sorted by`, e.g. `Creation Date Descending`.
    pub text: String,
    /// Where the tail starts and ends, `Sorted by` included.
    pub span: Span,
}

/// A leniently parsed query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parsed {
    pub expr: Expr,
    pub sort_tail: Option<SortTail>,
    /// Repairs made to reach the canonical form.
    pub changes: Vec<Change>,
    pub warnings: Vec<Diagnostic>,
}

/// Parses `text`, repairing what can be repaired; the error is the first problem
/// that cannot be.
pub fn parse_lenient(text: &str) -> Result<Parsed, Box<Diagnostic>> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(Box::new(
            Diagnostic::error(
                "rally_query.too_long",
                format!(
                    "the query is {} bytes long; tmbridge reads at most {MAX_QUERY_BYTES}",
                    text.len()
                ),
            )
            .with_hint("Rally takes the query in the URL; split it into several queries"),
        ));
    }
    if let Some((at, c)) = crate::controls::find_forbidden(text) {
        return Err(Box::new(
            Diagnostic::error(
                "rally_query.control_character",
                format!(
                    "the query holds the invisible character {}",
                    crate::controls::describe(c)
                ),
            )
            .at(text, Span::new(at, at + c.len_utf8()))
            .with_hint(
                "remove it: control and text-direction characters change what the query means without showing",
            ),
        ));
    }
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err(Box::new(
            Diagnostic::error("rally_query.empty", "the query is empty")
                .with_hint("write at least one condition, e.g. (Name contains \"login\")"),
        ));
    }
    let mut p = Parser {
        text,
        toks: tokens,
        pos: 0,
        parens: 0,
        changes: Vec::new(),
        warnings: Vec::new(),
    };
    let top = p.parse_or()?;
    let sort_tail = p.sort_tail();
    if let Some(tok) = p.peek() {
        let diag = if tok.kind == TokKind::RParen {
            Diagnostic::error(
                "rally_query.unbalanced_parenthesis",
                "this ) has no matching (",
            )
            .with_hint("remove it, or add the ( it was meant to close")
        } else {
            Diagnostic::error(
                "rally_query.unexpected_token",
                format!("expected AND or OR before '{}'", p.token_text(tok)),
            )
            .with_hint(
                "join conditions with AND or OR; put a value of several words in double quotes",
            )
        };
        return Err(Box::new(diag.at(text, tok.span)));
    }
    if !top.wrapped {
        let after = print(&top.expr);
        let message = if matches!(*top.expr, Expr::Condition(_)) {
            "put the condition in parentheses"
        } else {
            "put the whole query in parentheses"
        };
        p.changes.insert(
            0,
            Change::new(
                ChangeKind::Parenthesized,
                text,
                top.span,
                p.slice(top.span),
                after,
                message,
            ),
        );
    }
    Ok(Parsed {
        expr: *top.expr,
        sort_tail,
        changes: p.changes,
        warnings: p.warnings,
    })
}

/// A parsed operand and how it was written.
struct Part {
    expr: Box<Expr>,
    span: Span,
    depth: usize,
    /// Written inside its own parentheses.
    wrapped: bool,
    /// An AND chain written without parentheses (matters next to OR).
    bare_and_chain: bool,
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<Token>,
    pos: usize,
    parens: usize,
    changes: Vec<Change>,
    warnings: Vec<Diagnostic>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Join {
    And,
    Or,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn peek_at(&self, i: usize) -> Option<&Token> {
        self.toks.get(i)
    }

    fn slice(&self, span: Span) -> String {
        self.text
            .get(span.start()..span.end())
            .unwrap_or_default()
            .to_string()
    }

    fn token_text(&self, tok: &Token) -> String {
        self.slice(tok.span)
    }

    fn end_span(&self) -> Span {
        Span::new(self.text.len(), self.text.len())
    }

    /// `Sorted by` at token `i`, outside any parentheses.
    fn is_sort_tail_at(&self, i: usize) -> bool {
        self.parens == 0
            && match (
                self.peek_at(i).and_then(Token::word),
                self.peek_at(i + 1).and_then(Token::word),
            ) {
                (Some(a), Some(b)) => is_sort_words(a, b),
                _ => false,
            }
    }

    /// Takes the `Sorted by ...` tail: everything after `by`.
    fn sort_tail(&mut self) -> Option<SortTail> {
        if !self.is_sort_tail_at(self.pos) {
            return None;
        }
        let start = self.toks.get(self.pos)?.span;
        let by = self.toks.get(self.pos + 1)?.span;
        self.pos = self.toks.len();
        let rest = self.text.get(by.end()..).unwrap_or_default();
        let tail = rest.trim().to_string();
        let span = Span::new(start.start(), self.text.len());
        self.changes.push(Change::new(
            ChangeKind::SortRemoved,
            self.text,
            span,
            self.slice(span).trim_end().to_string(),
            "",
            "took out the sort order of the custom view; Rally takes it as the separate `order` parameter",
        ));
        Some(SortTail { text: tail, span })
    }

    /// The next token is AND / OR (any case); notes a respelling.
    fn eat_keyword(&mut self, join: Join) -> bool {
        let word = match join {
            Join::And => "AND",
            Join::Or => "OR",
        };
        let Some(tok) = self.peek() else {
            return false;
        };
        if !tok.is_word(word) {
            return false;
        }
        if tok.word() != Some(word) {
            let span = tok.span;
            let before = self.token_text(tok);
            self.changes.push(Change::new(
                ChangeKind::Spelling,
                self.text,
                span,
                before,
                word,
                format!("wrote {word} in capitals"),
            ));
        }
        self.pos += 1;
        true
    }

    // The functions on the recursion path (parse_or, parse_and and parse_group)
    // stay small and hand everything else to helpers, so that each level of
    // parentheses costs little stack.

    /// `and-chain (OR and-chain)*`: AND groups first, as in SQL.
    fn parse_or(&mut self) -> Result<Part, Box<Diagnostic>> {
        let mut parts = vec![self.parse_and()?];
        while self.eat_keyword(Join::Or) {
            self.expect_operand(Join::Or)?;
            parts.push(self.parse_and()?);
        }
        self.combine(parts, Join::Or)
    }

    /// `operand (AND operand)*`, an operand being a group or a condition.
    fn parse_and(&mut self) -> Result<Part, Box<Diagnostic>> {
        let mut parts = Vec::with_capacity(2);
        loop {
            let part = if self.peek().is_some_and(|t| t.kind == TokKind::LParen) {
                self.parse_group()?
            } else {
                self.parse_bare_condition()?
            };
            parts.push(part);
            if !self.eat_keyword(Join::And) {
                break;
            }
            self.expect_operand(Join::And)?;
        }
        self.combine(parts, Join::And)
    }

    fn parse_group(&mut self) -> Result<Part, Box<Diagnostic>> {
        let open = self.open_group()?;
        self.parens += 1;
        let inner = self.parse_or();
        self.parens -= 1;
        self.close_group(open, inner?)
    }

    /// Something must follow AND / OR.
    #[inline(never)]
    fn expect_operand(&self, join: Join) -> Result<(), Box<Diagnostic>> {
        if self.peek().is_none() || self.is_sort_tail_at(self.pos) {
            return Err(Box::new(self.trailing_keyword(join)));
        }
        Ok(())
    }

    #[inline(never)]
    fn trailing_keyword(&self, join: Join) -> Diagnostic {
        let kw = if join == Join::And { "AND" } else { "OR" };
        let at = self
            .toks
            .get(self.pos.saturating_sub(1))
            .map_or(self.end_span(), |t| t.span);
        Diagnostic::error(
            "rally_query.missing_condition",
            format!("{kw} needs a condition after it"),
        )
        .at(self.text, at)
        .with_hint("add the second condition, or remove the trailing keyword")
    }

    /// Folds the operands of one chain, noting the repairs it needed.
    #[inline(never)]
    fn combine(&mut self, mut parts: Vec<Part>, join: Join) -> Result<Part, Box<Diagnostic>> {
        if parts.len() == 1
            && let Some(only) = parts.pop()
        {
            return Ok(only);
        }
        if join == Join::Or && parts.iter().any(|p| p.bare_and_chain) {
            let span = parts
                .iter()
                .map(|p| p.span)
                .reduce(Span::join)
                .unwrap_or_default();
            self.warnings.push(
                Diagnostic::warning(
                    "rally_query.mixed_and_or",
                    "AND and OR are mixed without parentheses; tmbridge groups AND first",
                )
                .at(self.text, span)
                .with_hint("add parentheses to say which conditions belong together"),
            );
        }
        for part in &parts {
            if !part.wrapped {
                self.note_unwrapped(part, join);
            }
        }
        let count = parts.len();
        let mut iter = parts.into_iter();
        let Some(mut acc) = iter.next() else {
            return Err(Box::new(Diagnostic::error(
                "rally_query.unexpected_end",
                "unexpected end of query",
            )));
        };
        for next in iter {
            let depth = 1 + acc.depth.max(next.depth);
            let span = acc.span.join(next.span);
            if depth > MAX_DEPTH {
                return Err(Box::new(too_complex(self.text, span)));
            }
            let expr = match join {
                Join::And => Expr::And {
                    left: acc.expr,
                    right: next.expr,
                },
                Join::Or => Expr::Or {
                    left: acc.expr,
                    right: next.expr,
                },
            };
            acc = Part {
                expr: Box::new(expr),
                span,
                depth,
                wrapped: false,
                bare_and_chain: join == Join::And,
            };
        }
        if count > 2 {
            let kw = if join == Join::And { "AND" } else { "OR" };
            self.changes.push(Change::new(
                ChangeKind::Nested,
                self.text,
                acc.span,
                self.slice(acc.span),
                print(&acc.expr),
                format!(
                    "Rally takes exactly two operands per {kw}: nested {count} operands two by two"
                ),
            ));
        }
        Ok(acc)
    }

    /// A condition inside a chain without its own parentheses; an AND chain inside
    /// an OR chain without parentheses.
    fn note_unwrapped(&mut self, part: &Part, join: Join) {
        match part.expr.as_ref() {
            Expr::Condition(c) => {
                let mut after = String::new();
                print_condition(c, &mut after);
                self.changes.push(Change::new(
                    ChangeKind::Parenthesized,
                    self.text,
                    part.span,
                    self.slice(part.span),
                    after,
                    "put the condition in parentheses",
                ));
            }
            _ if join == Join::Or => {
                self.changes.push(Change::new(
                    ChangeKind::Grouped,
                    self.text,
                    part.span,
                    self.slice(part.span),
                    print(&part.expr),
                    "grouped the AND conditions together before OR",
                ));
            }
            _ => {}
        }
    }

    /// A condition written without parentheses of its own (or an error where a
    /// condition should start).
    #[inline(never)]
    fn parse_bare_condition(&mut self) -> Result<Part, Box<Diagnostic>> {
        let Some(tok) = self.peek().cloned() else {
            return Err(Box::new(
                Diagnostic::error(
                    "rally_query.unexpected_end",
                    "the query ends where a condition should start",
                )
                .at(self.text, self.end_span())
                .with_hint("add a condition such as (Name contains \"x\")"),
            ));
        };
        if tok.kind == TokKind::RParen {
            return Err(Box::new(
                Diagnostic::error(
                    "rally_query.unexpected_token",
                    "expected a condition, found )",
                )
                .at(self.text, tok.span)
                .with_hint("remove the extra ), or add the missing condition before it"),
            ));
        }
        if self.is_sort_tail_at(self.pos) {
            return Err(Box::new(
                Diagnostic::error(
                    "rally_query.missing_condition",
                    "a sort order follows, but no condition comes before it",
                )
                .at(self.text, tok.span)
                .with_hint("write the conditions before `Sorted by`"),
            ));
        }
        if tok.is_keyword() {
            return Err(Box::new(
                Diagnostic::error(
                    "rally_query.missing_condition",
                    format!("{} needs a condition before it", self.token_text(&tok)),
                )
                .at(self.text, tok.span)
                .with_hint("add the first condition, or remove the keyword"),
            ));
        }
        let cond = self.parse_condition()?;
        let span = cond.span;
        Ok(Part {
            expr: Box::new(Expr::Condition(cond)),
            span,
            depth: 1,
            wrapped: false,
            bare_and_chain: false,
        })
    }

    /// Takes the `(` of a group; refuses empty parentheses and too deep nesting.
    #[inline(never)]
    fn open_group(&mut self) -> Result<Span, Box<Diagnostic>> {
        let open = self.peek().map_or(self.end_span(), |t| t.span);
        if self.parens >= MAX_DEPTH {
            return Err(Box::new(too_complex(self.text, open)));
        }
        self.pos += 1;
        if let Some(close) = self.peek().filter(|t| t.kind == TokKind::RParen) {
            return Err(Box::new(
                Diagnostic::error("rally_query.empty_group", "these parentheses hold nothing")
                    .at(self.text, open.join(close.span))
                    .with_hint("put a condition inside, or remove them"),
            ));
        }
        Ok(open)
    }

    /// Takes the `)` of a group.
    #[inline(never)]
    fn close_group(&mut self, open: Span, inner: Part) -> Result<Part, Box<Diagnostic>> {
        match self.peek() {
            Some(t) if t.kind == TokKind::RParen => {
                let close = t.span;
                self.pos += 1;
                Ok(Part {
                    expr: inner.expr,
                    span: open.join(close),
                    depth: inner.depth,
                    wrapped: true,
                    bare_and_chain: false,
                })
            }
            Some(t) => {
                let found = self.token_text(t);
                Err(Box::new(
                    Diagnostic::error(
                        "rally_query.unexpected_token",
                        format!("expected ), AND or OR, found '{found}'"),
                    )
                    .at(self.text, t.span)
                    .with_hint(
                        "put a value of several words, or one with parentheses, in double quotes",
                    ),
                ))
            }
            None => Err(Box::new(
                Diagnostic::error(
                    "rally_query.unbalanced_parenthesis",
                    "this ( is never closed",
                )
                .at(self.text, open)
                .with_hint("add ) at the end of the condition or group it opens"),
            )),
        }
    }

    /// Index one past the last token that can belong to the current condition.
    fn condition_end(&self) -> usize {
        let mut i = self.pos;
        while let Some(tok) = self.peek_at(i) {
            if matches!(tok.kind, TokKind::LParen | TokKind::RParen)
                || tok.is_keyword()
                || self.is_sort_tail_at(i)
            {
                break;
            }
            i += 1;
        }
        i
    }

    /// Finds the operator: a symbolic one or `contains` first; else `in` /
    /// `between` (lower case preferred, so that a display name such as
    /// `Found In Build` keeps its `In`).
    fn find_operator(&self, end: usize) -> Option<usize> {
        let range = (self.pos + 1)..end;
        let first = range.clone().find(|&i| {
            self.peek_at(i).is_some_and(|t| {
                matches!(t.kind, TokKind::Op(..)) || t.is_word("contains") || t.is_word("!contains")
            })
        });
        if first.is_some() {
            return first;
        }
        let is_list_word = |t: &Token, exact: bool| {
            ["in", "!in", "between", "!between"].iter().any(|w| {
                if exact {
                    t.word() == Some(*w)
                } else {
                    t.is_word(w)
                }
            })
        };
        range
            .clone()
            .find(|&i| self.peek_at(i).is_some_and(|t| is_list_word(t, true)))
            .or_else(|| {
                range
                    .clone()
                    .find(|&i| self.peek_at(i).is_some_and(|t| is_list_word(t, false)))
            })
    }

    fn parse_condition(&mut self) -> Result<Condition, Box<Diagnostic>> {
        let start_tok = self.peek().cloned().ok_or_else(|| {
            Diagnostic::error("rally_query.unexpected_end", "unexpected end of query")
        })?;
        if matches!(start_tok.kind, TokKind::Op(..))
            || start_tok.is_word("contains")
            || start_tok.is_word("!contains")
        {
            return Err(Box::new(
                Diagnostic::error(
                    "rally_query.missing_field",
                    format!(
                        "the operator '{}' has no field before it",
                        self.token_text(&start_tok)
                    ),
                )
                .at(self.text, start_tok.span)
                .with_hint("write the field first, e.g. (Name contains \"x\")"),
            ));
        }
        let end = self.condition_end();
        let Some(op_idx) = self.find_operator(end) else {
            return Err(Box::new(self.missing_operator(&start_tok, end)));
        };
        if let Some(not) = op_idx
            .checked_sub(1)
            .filter(|&i| i > self.pos)
            .and_then(|i| self.peek_at(i))
            .filter(|t| t.is_word("not"))
        {
            let op = self
                .peek_at(op_idx)
                .map(|t| self.token_text(t))
                .unwrap_or_default();
            let rally = match op.to_ascii_lowercase().as_str() {
                "=" => "!=".to_string(),
                o if !o.starts_with('!') && o.chars().all(|c| c.is_ascii_alphabetic()) => {
                    format!("!{o}")
                }
                _ => "the opposite operator".to_string(),
            };
            return Err(Box::new(
                Diagnostic::error(
                    "rally_query.unknown_operator",
                    format!(
                        "'{} {op}' is not an operator of Rally's query language",
                        self.token_text(not)
                    ),
                )
                .at(self.text, not.span)
                .with_hint(format!("Rally negates with !: write {rally}")),
            ));
        }
        let (field, field_span) = self.field(self.pos, op_idx)?;
        let op_tok = self.toks.get(op_idx).cloned().ok_or_else(|| {
            Diagnostic::error("rally_query.unexpected_end", "unexpected end of query")
        })?;
        let op = self.operator(&op_tok)?;
        self.pos = op_idx + 1;
        let values = if op.takes_list() {
            self.list_values(&op_tok)?
        } else if op.takes_range() {
            self.range_values(&op_tok)?
        } else {
            vec![self.value(&op_tok, ValueStop::Condition)?]
        };
        let last = values.last().map_or(op_tok.span, |v| v.span);
        Ok(Condition {
            field,
            op,
            values,
            span: field_span.join(last),
            field_span,
        })
    }

    fn missing_operator(&self, start: &Token, end: usize) -> Diagnostic {
        if let Some(d) = self.foreign_operator(end) {
            return d;
        }
        let span = (self.pos..end)
            .filter_map(|i| self.peek_at(i).map(|t| t.span))
            .reduce(Span::join)
            .unwrap_or(start.span);
        let words = self.slice(span);
        let mut hint = String::from(
            "Rally's operators are =, !=, <, <=, >, >=, contains, !contains, in, !in, between and !between",
        );
        let before = self
            .pos
            .checked_sub(1)
            .and_then(|i| self.peek_at(i))
            .filter(|t| t.is_keyword());
        if let Some(keyword) = before {
            hint = format!(
                "if '{} {words}' belongs to the value before it, put that whole value in double quotes; {hint}",
                self.token_text(keyword)
            );
        } else if let Some(next) = self.peek_at(end).filter(|t| t.is_keyword()) {
            hint = format!(
                "if '{}' belongs to this value, put the value in double quotes; {hint}",
                self.token_text(next)
            );
        }
        Diagnostic::error(
            "rally_query.missing_operator",
            format!("'{words}' has no operator"),
        )
        .at(self.text, span)
        .with_hint(hint)
    }

    /// An operator of another query language (SQL, JQL, OData) where Rally's belongs.
    fn foreign_operator(&self, end: usize) -> Option<Diagnostic> {
        (self.pos + 1..end).find_map(|i| {
            let tok = self.peek_at(i)?;
            let word = tok.word()?.to_ascii_lowercase();
            let advice = match word.as_str() {
                "like" | "startswith" | "endswith" | "~" => "Rally matches text with contains, e.g. (Name contains \"login\")",
                "is" => "write (Field = null) or (Field != null)",
                "not" => "Rally negates with != and !contains, e.g. (Name !contains \"x\")",
                "containsall" | "containsany" => {
                    "Rally's contains takes one value; join several: ((Tags.Name contains \"a\") AND (Tags.Name contains \"b\"))"
                }
                "eq" => "write =",
                "ne" | "neq" => "write !=",
                "lt" => "write <",
                "le" | "lte" => "write <=",
                "gt" => "write >",
                "ge" | "gte" => "write >=",
                _ => return None,
            };
            Some(
                Diagnostic::error(
                    "rally_query.unknown_operator",
                    format!("'{}' is not an operator of Rally's query language", self.token_text(tok)),
                )
                .at(self.text, tok.span)
                .with_hint(advice),
            )
        })
    }

    /// The field: words joined by single spaces, or one quoted name.
    fn field(&self, from: usize, to: usize) -> Result<(String, Span), Box<Diagnostic>> {
        let toks: Vec<&Token> = (from..to).filter_map(|i| self.peek_at(i)).collect();
        let span = toks
            .iter()
            .map(|t| t.span)
            .reduce(Span::join)
            .unwrap_or_default();
        if let [tok] = toks.as_slice()
            && let TokKind::Quoted { text, .. } = &tok.kind
        {
            return Ok((text.clone(), span));
        }
        let mut words = Vec::new();
        for tok in &toks {
            match &tok.kind {
                TokKind::Word(w) => words.push(w.as_str()),
                _ => {
                    return Err(Box::new(
                        Diagnostic::error(
                            "rally_query.unexpected_token",
                            format!("'{}' cannot be part of a field name", self.token_text(tok)),
                        )
                        .at(self.text, tok.span)
                        .with_hint("write the field's name, e.g. ScheduleState or Release.Name"),
                    ));
                }
            }
        }
        Ok((words.join(" "), span))
    }

    fn operator(&mut self, tok: &Token) -> Result<Operator, Box<Diagnostic>> {
        let (op, respelled) = match &tok.kind {
            TokKind::Op(sym, respelled) => {
                let op = match sym {
                    SymOp::Eq => Operator::Eq,
                    SymOp::Ne => Operator::Ne,
                    SymOp::Lt => Operator::Lt,
                    SymOp::Le => Operator::Le,
                    SymOp::Gt => Operator::Gt,
                    SymOp::Ge => Operator::Ge,
                };
                (op, respelled.is_some())
            }
            TokKind::Word(w) => {
                let lower = w.to_ascii_lowercase();
                let op = Operator::from_rally(&lower).ok_or_else(|| {
                    Diagnostic::error(
                        "rally_query.unknown_operator",
                        format!("'{w}' is not an operator"),
                    )
                    .at(self.text, tok.span)
                })?;
                (op, lower != *w)
            }
            _ => {
                return Err(Box::new(
                    Diagnostic::error("rally_query.unknown_operator", "expected an operator")
                        .at(self.text, tok.span),
                ));
            }
        };
        if respelled {
            self.changes.push(Change::new(
                ChangeKind::Spelling,
                self.text,
                tok.span,
                self.token_text(tok),
                op.as_str(),
                format!("Rally spells this operator {}", op.as_str()),
            ));
        }
        Ok(op)
    }

    /// `in a,b,"c d"` (also `in (a, b)`, whose parentheses are dropped).
    fn list_values(&mut self, op_tok: &Token) -> Result<Vec<Value>, Box<Diagnostic>> {
        let open = self
            .peek()
            .filter(|t| t.kind == TokKind::LParen)
            .map(|t| t.span);
        if open.is_some() {
            self.pos += 1;
        }
        let stop = ValueStop::List;
        let mut values = vec![self.value(op_tok, stop)?];
        while self.peek().is_some_and(|t| t.kind == TokKind::Comma) {
            let comma = self.toks.get(self.pos).cloned();
            self.pos += 1;
            if let Some(comma) = comma {
                values.push(self.value(&comma, stop)?);
            }
        }
        if let Some(open) = open {
            match self.peek() {
                Some(t) if t.kind == TokKind::RParen => {
                    let close = t.span;
                    self.pos += 1;
                    let span = open.join(close);
                    let after = values.iter().map(value_text).collect::<Vec<_>>().join(",");
                    self.changes.push(Change::new(
                        ChangeKind::Spelling,
                        self.text,
                        span,
                        self.slice(span),
                        after,
                        "Rally writes the list of `in` without parentheses",
                    ));
                }
                _ => {
                    return Err(Box::new(
                        Diagnostic::error(
                            "rally_query.unbalanced_parenthesis",
                            "this ( of the list is never closed",
                        )
                        .at(self.text, open)
                        .with_hint("close the list with )"),
                    ));
                }
            }
        }
        Ok(values)
    }

    /// `between a and b`.
    fn range_values(&mut self, op_tok: &Token) -> Result<Vec<Value>, Box<Diagnostic>> {
        let low = self.value(op_tok, ValueStop::RangeLow)?;
        let and = self.peek().cloned();
        match and {
            Some(t) if t.is_word("and") => {
                if t.word() != Some("and") {
                    self.changes.push(Change::new(
                        ChangeKind::Spelling,
                        self.text,
                        t.span,
                        self.token_text(&t),
                        "and",
                        "Rally writes the `and` of between in lower case",
                    ));
                }
                self.pos += 1;
                let high = self.value(&t, ValueStop::Condition)?;
                Ok(vec![low, high])
            }
            _ => Err(Box::new(
                Diagnostic::error(
                    "rally_query.missing_value",
                    format!(
                        "{} needs two values joined by `and`",
                        op_tok.word().unwrap_or("between")
                    ),
                )
                .at(self.text, op_tok.span.join(low.span))
                .with_hint("write e.g. (CreationDate between 2024-01-01 and 2024-02-01)"),
            )),
        }
    }

    /// One value: a quoted string, `null`, a bare word, or several bare words (which
    /// are put in quotes). `after` is the token before it, for messages.
    fn value(&mut self, after: &Token, stop: ValueStop) -> Result<Value, Box<Diagnostic>> {
        let mut toks: Vec<Token> = Vec::new();
        while let Some(tok) = self.peek() {
            let ends = match &tok.kind {
                TokKind::RParen => true,
                TokKind::Comma => stop.is_list(),
                TokKind::Word(_) if stop == ValueStop::RangeLow && tok.is_word("and") => true,
                TokKind::Word(_) => tok.is_keyword() || self.is_sort_tail_at(self.pos),
                _ => false,
            };
            if ends {
                break;
            }
            match &tok.kind {
                TokKind::LParen => {
                    return Err(Box::new(
                        Diagnostic::error(
                            "rally_query.unexpected_token",
                            "a value cannot contain ( unless it is in double quotes",
                        )
                        .at(self.text, tok.span)
                        .with_hint("put the value in double quotes, e.g. (Name = \"Login (SSO)\")"),
                    ));
                }
                TokKind::Op(..) => {
                    return Err(Box::new(Diagnostic::error(
                        "rally_query.unexpected_token",
                        format!("a second operator '{}' in one condition", self.token_text(tok)),
                    )
                    .at(self.text, tok.span)
                    .with_hint("one condition compares one field with one value; put a value that contains = < > in double quotes")));
                }
                _ => {}
            }
            toks.push(tok.clone());
            self.pos += 1;
        }
        let Some(first) = toks.first() else {
            let at = self.peek().map_or(self.end_span(), |t| t.span);
            return Err(Box::new(
                Diagnostic::error(
                    "rally_query.missing_value",
                    format!("'{}' needs a value after it", self.token_text(after)),
                )
                .at(self.text, after.span.join(at))
                .with_hint("add a value; use null to match an empty field"),
            ));
        };
        let span = toks.iter().map(|t| t.span).fold(first.span, Span::join);
        if let [tok] = toks.as_slice() {
            return Ok(match &tok.kind {
                TokKind::Quoted { text, respelled } => {
                    if let Some(how) = respelled {
                        let after = value_text(&Value::quoted(text));
                        self.changes.push(Change::new(
                            ChangeKind::Quoted,
                            self.text,
                            span,
                            self.slice(span),
                            after,
                            format!("Rally takes straight double quotes, not {how}"),
                        ));
                    }
                    Value {
                        kind: ValueKind::Quoted,
                        text: text.clone(),
                        span,
                    }
                }
                TokKind::Word(w) if w.eq_ignore_ascii_case("null") => Value {
                    kind: ValueKind::Null,
                    text: "null".to_string(),
                    span,
                },
                TokKind::Word(w) => Value {
                    kind: ValueKind::Bare,
                    text: w.clone(),
                    span,
                },
                _ => Value {
                    kind: ValueKind::Quoted,
                    text: self.slice(span),
                    span,
                },
            });
        }
        if let Some(q) = toks
            .iter()
            .find(|t| matches!(t.kind, TokKind::Quoted { .. }))
        {
            return Err(Box::new(
                Diagnostic::error(
                    "rally_query.unexpected_token",
                    "a quoted value is mixed with bare words",
                )
                .at(self.text, q.span)
                .with_hint("put the whole value in one pair of double quotes"),
            ));
        }
        // Several bare words: one value with spaces, which Rally needs in quotes.
        let text = self.slice(span);
        let value = Value {
            kind: ValueKind::Quoted,
            text: text.clone(),
            span,
        };
        self.changes.push(Change::new(
            ChangeKind::Quoted,
            self.text,
            span,
            text,
            value_text(&value),
            "a value of several words must be in double quotes",
        ));
        Ok(value)
    }
}

fn too_complex(text: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "rally_query.too_complex",
        format!("the query nests more than {MAX_DEPTH} levels deep"),
    )
    .at(text, span)
    .with_hint("split it into several queries, or use `in` with a list of values")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ValueStop {
    /// Up to `)`, AND / OR, the end or a sort tail.
    Condition,
    /// Also at a comma.
    List,
    /// The low value of `between`: also at `and`.
    RangeLow,
}

impl ValueStop {
    fn is_list(self) -> bool {
        self == ValueStop::List
    }
}
