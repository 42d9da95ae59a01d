//! What the payload builders say about a matched result: its message and failure
//! details, its attachments and defects, cut to the size a target field takes.

use super::MatchedCase;
use crate::model::{OutcomeKind, TestCase};

/// The tests of a matched result, in input order.
pub fn member_cases<'a>(matched: &MatchedCase, cases: &'a [TestCase]) -> Vec<&'a TestCase> {
    matched
        .members
        .iter()
        .filter_map(|m| usize::try_from(m.index).ok().and_then(|i| cases.get(i)))
        .collect()
}

/// The first test of a matched result.
pub fn first_case<'a>(matched: &MatchedCase, cases: &'a [TestCase]) -> Option<&'a TestCase> {
    member_cases(matched, cases).into_iter().next()
}

/// The message, then the stack trace of the first failing member: the text a person
/// reads first in a result. `None` for a passing result with nothing to say.
pub fn failure_text(matched: &MatchedCase, cases: &[TestCase]) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = &matched.message {
        parts.push(m.clone());
    }
    let trace = member_cases(matched, cases).into_iter().find_map(|c| {
        c.outcomes
            .iter()
            .filter(|o| matches!(o.kind, OutcomeKind::Failure | OutcomeKind::Error))
            .find_map(|o| o.details.as_ref())
            .filter(|d| !d.text.trim().is_empty())
            .map(|d| {
                let mut t = d.text.trim_end().to_string();
                if d.truncated {
                    t.push_str("\n[stack trace cut by the report reader]");
                }
                t
            })
    });
    if let Some(t) = trace {
        // A trace usually repeats its message on its first line: say it once.
        if matched.members.len() == 1 && parts.first().is_some_and(|m| t.contains(m.trim())) {
            parts.clear();
        }
        if !parts.iter().any(|p| p.contains(t.trim())) {
            parts.push(t);
        }
    }
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// Attachment paths of all members, without repeats, in order.
pub fn attachments(matched: &MatchedCase, cases: &[TestCase]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in member_cases(matched, cases) {
        for a in &c.attachments {
            if !out.contains(a) {
                out.push(a.clone());
            }
        }
    }
    out
}

/// Values of a property across members, split on commas, without repeats.
pub fn property_list(matched: &MatchedCase, cases: &[TestCase], name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in member_cases(matched, cases) {
        for p in c.properties.iter().filter(|p| p.name == name) {
            for v in p.value.split(',') {
                let v = v.trim();
                if !v.is_empty() && !out.iter().any(|o| o == v) {
                    out.push(v.to_string());
                }
            }
        }
    }
    out
}

/// Cuts text to at most `max` characters (Unicode scalar values), marking the cut.
pub fn truncate_chars(text: &str, max: usize) -> String {
    const MARK: &str = "\n[truncated]";
    if text.chars().count() <= max {
        return text.to_string();
    }
    let keep = max.saturating_sub(MARK.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(MARK);
    if out.chars().count() > max {
        return text.chars().take(max).collect();
    }
    out
}

/// Escapes text for an HTML field (Rally Notes, qTest descriptions).
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br/>"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn truncation_marks_the_cut_and_respects_the_limit() {
        assert_eq!(truncate_chars("short", 10), "short");
        let cut = truncate_chars(&"é".repeat(50), 20);
        assert_eq!(cut.chars().count(), 20);
        assert!(cut.ends_with("[truncated]"));
        assert_eq!(truncate_chars("abcdef", 3), "abc");
    }

    #[test]
    fn html_escaping() {
        assert_eq!(
            html_escape("a<b> & \"c\"\nd"),
            "a&lt;b&gt; &amp; &quot;c&quot;<br/>d"
        );
    }

    #[test]
    fn failure_text_says_a_repeated_message_once() {
        use crate::config::{RefCache, Target};
        use crate::matching::testutil::{case, failing};
        use crate::matching::{MatchingConfig, match_cases};
        use crate::model::Status;
        let cases = [
            failing(
                case("k", "C1 a", Status::Failed),
                "boom",
                "AssertionError: boom\n\tat A.a",
            ),
            failing(case("k", "C2 b", Status::Failed), "short", "at B.b"),
        ];
        let out = match_cases(
            &cases,
            &MatchingConfig::default(),
            Target::Testrail,
            &RefCache::default(),
        );
        assert_eq!(
            failure_text(&out.matched[0], &cases).as_deref(),
            Some("AssertionError: boom\n\tat A.a")
        );
        assert_eq!(
            failure_text(&out.matched[1], &cases).as_deref(),
            Some("short\n\nat B.b")
        );
    }

    proptest! {
        #[test]
        fn truncation_never_exceeds(text in "\\PC{0,200}", max in 0usize..100) {
            prop_assert!(truncate_chars(&text, max).chars().count() <= max.max(text.chars().count().min(max)));
        }
    }
}
