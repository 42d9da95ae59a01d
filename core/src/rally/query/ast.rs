//! The syntax tree of a Rally query: conditions joined by AND / OR, always two
//! operands per level, exactly as Rally's WSAPI wants it.

use serde::{Deserialize, Serialize};

/// Byte offsets `[start, end)` into the text the tree was parsed from. Trees built
/// in code carry `Span::default()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyQuerySpan")
)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u64,
            end: end as u64,
        }
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn start(self) -> usize {
        usize::try_from(self.start).unwrap_or(usize::MAX)
    }

    pub fn end(self) -> usize {
        usize::try_from(self.end).unwrap_or(usize::MAX)
    }
}

/// A query: one condition, or two sub-queries joined by AND or OR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyQueryExpr")
)]
pub enum Expr {
    Condition(Condition),
    And { left: Box<Expr>, right: Box<Expr> },
    Or { left: Box<Expr>, right: Box<Expr> },
}

impl Expr {
    pub fn and(left: Expr, right: Expr) -> Expr {
        Expr::And {
            left: Box::new(left),
            right: Box::new(right),
        }
    }

    pub fn or(left: Expr, right: Expr) -> Expr {
        Expr::Or {
            left: Box::new(left),
            right: Box::new(right),
        }
    }

    /// The conditions, left to right.
    pub fn conditions(&self) -> Vec<&Condition> {
        let mut out = Vec::new();
        self.walk(&mut |c| out.push(c));
        out
    }

    fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Condition)) {
        match self {
            Expr::Condition(c) => f(c),
            Expr::And { left, right } | Expr::Or { left, right } => {
                left.walk(f);
                right.walk(f);
            }
        }
    }

    /// Every condition, mutably, left to right.
    pub fn for_each_condition_mut(&mut self, f: &mut impl FnMut(&mut Condition)) {
        match self {
            Expr::Condition(c) => f(c),
            Expr::And { left, right } | Expr::Or { left, right } => {
                left.for_each_condition_mut(f);
                right.for_each_condition_mut(f);
            }
        }
    }

    /// Levels of nesting: 1 for a single condition.
    pub fn depth(&self) -> usize {
        match self {
            Expr::Condition(_) => 1,
            Expr::And { left, right } | Expr::Or { left, right } => {
                1 + left.depth().max(right.depth())
            }
        }
    }

    /// The same tree with every span reset, for comparing trees parsed from
    /// different texts.
    pub fn without_spans(&self) -> Expr {
        let mut copy = self.clone();
        copy.for_each_condition_mut(&mut |c| {
            c.span = Span::default();
            c.field_span = Span::default();
            for v in &mut c.values {
                v.span = Span::default();
            }
        });
        copy
    }
}

/// `(Field OP value)`. `values` holds one value, except for `in` / `!in` (one or
/// more) and `between` / `!between` (exactly two).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Condition {
    /// Attribute path as written or normalised: `Name`, `Release.ObjectID`,
    /// `c_Kanban`, or a display name such as `Creation Date` before normalising.
    pub field: String,
    pub op: Operator,
    pub values: Vec<Value>,
    pub span: Span,
    pub field_span: Span,
}

impl Condition {
    /// A condition built in code (no position).
    pub fn new(field: &str, op: Operator, values: Vec<Value>) -> Condition {
        Condition {
            field: field.to_string(),
            op,
            values,
            span: Span::default(),
            field_span: Span::default(),
        }
    }
}

/// The operators of Rally's WSAPI v2.0 query language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Operator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    NotContains,
    In,
    NotIn,
    Between,
    NotBetween,
}

impl Operator {
    pub const ALL: [Operator; 12] = [
        Operator::Eq,
        Operator::Ne,
        Operator::Lt,
        Operator::Le,
        Operator::Gt,
        Operator::Ge,
        Operator::Contains,
        Operator::NotContains,
        Operator::In,
        Operator::NotIn,
        Operator::Between,
        Operator::NotBetween,
    ];

    /// How Rally spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::Contains => "contains",
            Operator::NotContains => "!contains",
            Operator::In => "in",
            Operator::NotIn => "!in",
            Operator::Between => "between",
            Operator::NotBetween => "!between",
        }
    }

    pub fn from_rally(text: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|op| op.as_str() == text)
    }

    /// `in` / `!in`: the value is a comma-separated list.
    pub fn takes_list(self) -> bool {
        matches!(self, Operator::In | Operator::NotIn)
    }

    /// `between` / `!between`: two values joined by `and`.
    pub fn takes_range(self) -> bool {
        matches!(self, Operator::Between | Operator::NotBetween)
    }

    /// `<`, `<=`, `>`, `>=`: ordering comparisons.
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge
        )
    }
}

/// How a value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ValueKind {
    /// In double quotes: any text, spaces and parentheses included.
    Quoted,
    /// One bare word: numbers, dates, refs, `true`, `today`, `US123`.
    Bare,
    /// The keyword `null`.
    Null,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyQueryValue")
)]
pub struct Value {
    pub kind: ValueKind,
    /// The value without quotes or escapes (`null` for [`ValueKind::Null`]).
    pub text: String,
    pub span: Span,
}

impl Value {
    pub fn quoted(text: &str) -> Value {
        Value {
            kind: ValueKind::Quoted,
            text: text.to_string(),
            span: Span::default(),
        }
    }

    pub fn bare(text: &str) -> Value {
        Value {
            kind: ValueKind::Bare,
            text: text.to_string(),
            span: Span::default(),
        }
    }

    pub fn null() -> Value {
        Value {
            kind: ValueKind::Null,
            text: "null".to_string(),
            span: Span::default(),
        }
    }
}
