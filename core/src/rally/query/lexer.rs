//! Splits query text into tokens. Lenient on purpose: it accepts what people paste
//! (`Name="x"`, `==`, `<>`, single and curly quotes) and remembers what it repaired,
//! so that the parser can report each repair.

use super::ast::Span;
use super::diag::Diagnostic;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokKind {
    LParen,
    RParen,
    Comma,
    /// A symbolic operator, with the spelling it had when that was not Rally's
    /// (`==`, `<>`, `=<`, `=>`).
    Op(SymOp, Option<&'static str>),
    /// A run of characters up to whitespace, a parenthesis, a quote, a comma or an
    /// operator: field names, bare values, `contains`, `AND`.
    Word(String),
    /// A quoted value without its quotes, escapes resolved. `respelled` names the
    /// quotes when they were not plain double quotes.
    Quoted {
        text: String,
        respelled: Option<&'static str>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokKind,
    pub span: Span,
}

impl Token {
    pub fn word(&self) -> Option<&str> {
        match &self.kind {
            TokKind::Word(w) => Some(w),
            _ => None,
        }
    }

    /// True for the word `word`, in any case.
    pub fn is_word(&self, word: &str) -> bool {
        self.word().is_some_and(|w| w.eq_ignore_ascii_case(word))
    }

    pub fn is_keyword(&self) -> bool {
        self.is_word("AND") || self.is_word("OR")
    }
}

const LEFT_CURLY: char = '\u{201C}';
const RIGHT_CURLY: char = '\u{201D}';

fn is_quote_start(c: char) -> bool {
    c == '"' || c == LEFT_CURLY || c == RIGHT_CURLY
}

/// Ends a word: whitespace, parentheses, quotes, commas and operator characters.
/// `!` ends a word only when it starts `!=`.
fn ends_word(c: char, next: Option<char>) -> bool {
    c.is_whitespace()
        || matches!(c, '(' | ')' | ',' | '=' | '<' | '>')
        || is_quote_start(c)
        || (c == '!' && next == Some('='))
}

/// Tokenises `text`. The only failure is a quote that is never closed.
pub fn tokenize(text: &str) -> Result<Vec<Token>, Box<Diagnostic>> {
    let mut tokens = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(text.len(), |&(pos, _)| pos);
    let mut i = 0;
    while let Some(&(start, c)) = chars.get(i) {
        let next = chars.get(i + 1).map(|&(_, c)| c);
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (kind, len) = match c {
            '(' => (TokKind::LParen, 1),
            ')' => (TokKind::RParen, 1),
            ',' => (TokKind::Comma, 1),
            '=' => match next {
                Some('=') => (TokKind::Op(SymOp::Eq, Some("==")), 2),
                Some('<') => (TokKind::Op(SymOp::Le, Some("=<")), 2),
                Some('>') => (TokKind::Op(SymOp::Ge, Some("=>")), 2),
                _ => (TokKind::Op(SymOp::Eq, None), 1),
            },
            '!' if next == Some('=') => (TokKind::Op(SymOp::Ne, None), 2),
            '<' => match next {
                Some('=') => (TokKind::Op(SymOp::Le, None), 2),
                Some('>') => (TokKind::Op(SymOp::Ne, Some("<>")), 2),
                _ => (TokKind::Op(SymOp::Lt, None), 1),
            },
            '>' => match next {
                Some('=') => (TokKind::Op(SymOp::Ge, None), 2),
                _ => (TokKind::Op(SymOp::Gt, None), 1),
            },
            c if is_quote_start(c) || c == '\'' => {
                let (kind, len) = quoted(text, &chars, i)?;
                (kind, len)
            }
            _ => {
                let mut j = i;
                while let Some(&(_, c)) = chars.get(j) {
                    let next = chars.get(j + 1).map(|&(_, c)| c);
                    if ends_word(c, next) {
                        break;
                    }
                    j += 1;
                }
                let word = &text[start..end_of(j)];
                (TokKind::Word(word.to_string()), j - i)
            }
        };
        tokens.push(Token {
            kind,
            span: Span::new(start, end_of(i + len)),
        });
        i += len;
    }
    Ok(tokens)
}

/// A quoted value starting at char index `i`. Inside double quotes `\"` and `\\`
/// are escapes; any other backslash is kept as it is (Windows paths).
fn quoted(
    text: &str,
    chars: &[(usize, char)],
    i: usize,
) -> Result<(TokKind, usize), Box<Diagnostic>> {
    let Some(&(start, open)) = chars.get(i) else {
        return Err(Box::new(Diagnostic::error(
            "rally_query.unexpected_end",
            "unexpected end of query",
        )));
    };
    let closes = |c: char| match open {
        '\'' => c == '\'',
        '"' => c == '"',
        _ => c == RIGHT_CURLY || c == LEFT_CURLY,
    };
    let respelled = match open {
        '\'' => Some("single quotes"),
        '"' => None,
        _ => Some("curly quotes"),
    };
    let mut value = String::new();
    let mut j = i + 1;
    while let Some(&(_, c)) = chars.get(j) {
        if c == '\\' {
            if let Some(&(_, esc)) = chars.get(j + 1)
                && (esc == '\\' || closes(esc) || esc == '"')
            {
                value.push(esc);
                j += 2;
                continue;
            }
            value.push(c);
            j += 1;
            continue;
        }
        if closes(c) {
            return Ok((
                TokKind::Quoted {
                    text: value,
                    respelled,
                },
                j + 1 - i,
            ));
        }
        value.push(c);
        j += 1;
    }
    Err(Box::new(
        Diagnostic::error(
            "rally_query.unterminated_string",
            "this quoted value is never closed",
        )
        .at(text, Span::new(start, text.len()))
        .with_hint("add the closing quote; write \\\" for a quote inside a value"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokKind> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn w(s: &str) -> TokKind {
        TokKind::Word(s.to_string())
    }

    #[test]
    fn operators_without_spaces_split_words() {
        assert_eq!(
            kinds("Name=\"x\""),
            vec![
                w("Name"),
                TokKind::Op(SymOp::Eq, None),
                TokKind::Quoted {
                    text: "x".into(),
                    respelled: None
                }
            ]
        );
        assert_eq!(
            kinds("a!=b<=c>=d<e>f"),
            vec![
                w("a"),
                TokKind::Op(SymOp::Ne, None),
                w("b"),
                TokKind::Op(SymOp::Le, None),
                w("c"),
                TokKind::Op(SymOp::Ge, None),
                w("d"),
                TokKind::Op(SymOp::Lt, None),
                w("e"),
                TokKind::Op(SymOp::Gt, None),
                w("f"),
            ]
        );
    }

    #[test]
    fn foreign_operator_spellings_are_remembered() {
        assert_eq!(
            kinds("a == b <> c"),
            vec![
                w("a"),
                TokKind::Op(SymOp::Eq, Some("==")),
                w("b"),
                TokKind::Op(SymOp::Ne, Some("<>")),
                w("c")
            ]
        );
    }

    #[test]
    fn bang_words_and_inner_bangs_stay_words() {
        assert_eq!(kinds("!contains 2!x"), vec![w("!contains"), w("2!x")]);
    }

    #[test]
    fn quotes_keep_parentheses_and_resolve_escapes() {
        assert_eq!(
            kinds(r#""R1 (hotfix) \"b\" C:\temp \\""#),
            vec![TokKind::Quoted {
                text: r#"R1 (hotfix) "b" C:\temp \"#.into(),
                respelled: None
            }]
        );
    }

    #[test]
    fn single_and_curly_quotes_are_accepted_and_noted() {
        assert_eq!(
            kinds("'a b' \u{201C}c d\u{201D}"),
            vec![
                TokKind::Quoted {
                    text: "a b".into(),
                    respelled: Some("single quotes")
                },
                TokKind::Quoted {
                    text: "c d".into(),
                    respelled: Some("curly quotes")
                }
            ]
        );
        // An apostrophe inside a word is not a quote.
        assert_eq!(kinds("Bob's"), vec![w("Bob's")]);
    }

    #[test]
    fn unterminated_quote_points_at_its_start() {
        let err = tokenize("(Name = \"abc)").unwrap_err();
        assert_eq!(err.code, "rally_query.unterminated_string");
        let loc = err.location.unwrap();
        assert_eq!((loc.offset, loc.column), (8, 9));
    }

    #[test]
    fn spans_are_byte_offsets_of_multibyte_text() {
        let toks = tokenize("Näme = ü").unwrap();
        assert_eq!(toks[0].span, Span::new(0, 5));
        assert_eq!(toks[2].span, Span::new(8, 10));
    }

    #[test]
    fn urls_and_refs_are_single_words() {
        assert_eq!(
            kinds("https://rally1.rallydev.com/slm/webservice/v2.0/user/123 /user/4"),
            vec![
                w("https://rally1.rallydev.com/slm/webservice/v2.0/user/123"),
                w("/user/4")
            ]
        );
    }
}
