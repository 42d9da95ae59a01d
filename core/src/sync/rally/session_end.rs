//! How a Rally session's logic stops and reports, the same for every session:
//! the first failure wins, and the report carries the link's warnings and counts.

use super::link::Link;
use crate::error::Error;
use crate::sync::details::Details;
use crate::sync::report::{Ledger, Report};

/// A create whose answer is lost is looked up, then sent again: at most this
/// many times.
pub(super) const MAX_CREATE_TRIES: u32 = 8;

/// Why a session stops after `MAX_CREATE_TRIES` creates without an answer.
pub(super) fn create_answers_lost() -> Error {
    Error::new("rally.gave_up", "every answer to the create was lost")
}

/// Keeps the first failure only: what fails after it usually follows from it.
pub(super) fn stop_once(
    error: &mut Option<Error>,
    retryable: &mut bool,
    new_error: Error,
    new_retryable: bool,
) {
    if error.is_none() {
        *error = Some(new_error);
        *retryable = new_retryable;
    }
}

/// The session's report: the logic's ledger with the link's warnings added, the
/// failure that stopped it (if any), the link's counts and the session's details.
pub(super) fn report(
    mut ledger: Ledger,
    link: &Link,
    error: Option<Error>,
    retryable: bool,
    details: Details,
) -> Report {
    for w in link.warnings() {
        ledger.warn(w.clone());
    }
    ledger.into_report(error, retryable, link.stats(), details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failure_is_kept() {
        let (mut error, mut retryable) = (None, false);
        stop_once(
            &mut error,
            &mut retryable,
            Error::new("a.first", "first"),
            true,
        );
        stop_once(
            &mut error,
            &mut retryable,
            Error::new("b.second", "second"),
            false,
        );
        assert_eq!(error.map(|e| e.code), Some("a.first".to_string()));
        assert!(retryable);
    }
}
