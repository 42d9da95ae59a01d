//! TestRail ids as people write them: `29` or `S29`, `123` or `C123`, `7` or `R7`.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The kinds of TestRail ids tmbridge reads, each with its letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdKind {
    /// `C123`
    Case,
    /// `S29`
    Suite,
    /// `R7`
    Run,
    /// `P1`
    Project,
    /// Sections have no letter in TestRail's UI.
    Section,
}

impl IdKind {
    fn prefix(self) -> Option<char> {
        match self {
            IdKind::Case => Some('C'),
            IdKind::Suite => Some('S'),
            IdKind::Run => Some('R'),
            IdKind::Project => Some('P'),
            IdKind::Section => None,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            IdKind::Case => "case",
            IdKind::Suite => "suite",
            IdKind::Run => "run",
            IdKind::Project => "project",
            IdKind::Section => "section",
        }
    }
}

/// Reads an id of the given kind, with or without its letter (any case).
pub fn parse_id(kind: IdKind, text: &str) -> Result<u64> {
    let t = text.trim();
    let digits = match kind.prefix() {
        Some(p) => t
            .strip_prefix(p)
            .or_else(|| t.strip_prefix(p.to_ascii_lowercase()))
            .unwrap_or(t),
        None => t,
    };
    let ok = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    match digits.parse::<u64>() {
        Ok(n) if ok && n > 0 && n < (1 << 53) => Ok(n),
        _ => {
            let example = match kind.prefix() {
                Some(p) => format!("write it as 29 or {p}29"),
                None => "write it as a number like 29".to_string(),
            };
            Err(Error::new(
                "testrail.invalid_id",
                format!("{t:?} is not a TestRail {} id", kind.noun()),
            )
            .with_hint(example))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_are_accepted() {
        assert_eq!(parse_id(IdKind::Suite, "29").unwrap(), 29);
        assert_eq!(parse_id(IdKind::Suite, "S29").unwrap(), 29);
        assert_eq!(parse_id(IdKind::Case, "C123").unwrap(), 123);
        assert_eq!(parse_id(IdKind::Case, " c123 ").unwrap(), 123);
        assert_eq!(parse_id(IdKind::Run, "R7").unwrap(), 7);
        assert_eq!(parse_id(IdKind::Section, "5").unwrap(), 5);
    }

    #[test]
    fn garbage_is_refused_with_a_clear_error() {
        for (kind, bad) in [
            (IdKind::Case, "C12x"),
            (IdKind::Case, "S12"),
            (IdKind::Suite, "C29"),
            (IdKind::Suite, ""),
            (IdKind::Run, "R"),
            (IdKind::Run, "-1"),
            (IdKind::Case, "0"),
            (IdKind::Case, "+5"),
            (IdKind::Section, "S5"),
            (IdKind::Case, "9007199254740993"),
        ] {
            let e = parse_id(kind, bad).unwrap_err();
            assert_eq!(e.code, "testrail.invalid_id", "{bad}");
            assert!(e.message.contains(kind.noun()), "{}", e.message);
            assert!(e.hint.is_some());
        }
        let e = parse_id(IdKind::Suite, "abc").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"abc\" is not a TestRail suite id [testrail.invalid_id]; hint: write it as 29 or S29"
        );
    }
}
