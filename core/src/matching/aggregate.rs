//! Several results on one case (parameterised or repeated tests) → the results sent.

use super::{Aggregate, MatchedCase, Member};
use crate::model::Status;

impl Aggregate {
    /// Applies the rule to the members of one case (in input order, never empty).
    pub fn apply(self, key: String, members: Vec<Member>) -> Vec<MatchedCase> {
        if members.len() == 1 {
            // The common case: the key and the member move in, nothing is copied.
            let Some(first) = members.first() else {
                return Vec::new();
            };
            let (status, message, duration_us) =
                (first.status, first.message.clone(), first.duration_us);
            return vec![MatchedCase {
                key,
                status,
                message,
                duration_us,
                members,
            }];
        }
        if self == Aggregate::Each {
            return members
                .into_iter()
                .map(|m| MatchedCase {
                    key: key.clone(),
                    status: m.status,
                    message: m.message.clone(),
                    duration_us: m.duration_us,
                    members: vec![m],
                })
                .collect();
        }
        let status = match self {
            Aggregate::Last => members.last().map(|m| m.status),
            Aggregate::First => members.first().map(|m| m.status),
            _ => members.iter().map(|m| m.status).max(),
        };
        let Some(status) = status else {
            return Vec::new();
        };
        let durations: Vec<u64> = members.iter().filter_map(|m| m.duration_us).collect();
        let duration_us = (!durations.is_empty())
            .then(|| durations.iter().fold(0u64, |a, d| a.saturating_add(*d)));
        vec![MatchedCase {
            key,
            status,
            message: combined_message(self, status, &members),
            duration_us,
            members,
        }]
    }
}

/// Every member's message, one line each, under a line that says how the status was
/// chosen. `None` when no member has a message.
fn combined_message(rule: Aggregate, status: Status, members: &[Member]) -> Option<String> {
    if members.iter().all(|m| m.message.is_none()) {
        return None;
    }
    let mut out = format!(
        "{} results aggregated ({}: {})",
        members.len(),
        rule.as_str(),
        status.as_str()
    );
    for m in members {
        out.push_str("\n- ");
        out.push_str(&m.test);
        out.push_str(": ");
        out.push_str(m.status.as_str());
        if let Some(msg) = &m.message {
            out.push_str(": ");
            out.push_str(msg);
        }
    }
    Some(out)
}
