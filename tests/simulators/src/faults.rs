//! Fault switches shared by the simulators. Each fault applies to the next N
//! requests that match it (any request by default), in the order the faults were
//! added; a test flips them while the client under test is running.

use crate::server::HttpRequest;
use std::sync::Mutex;
use std::time::Duration;

/// What happens to a request hit by a fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this status (500, 502, 503, 504) and an HTML body, as a proxy in
    /// front of the real service does. The request is not applied.
    ServerError(u16),
    /// 429 Too Many Requests with `Retry-After: <seconds>`. Not applied.
    Throttle { retry_after_secs: u64 },
    /// Wait this long, then answer normally.
    Slow(Duration),
    /// Close the connection without answering. Not applied.
    Drop,
    /// Apply the request (a create really happens), then close the connection
    /// without answering: the client cannot know whether it worked. This is the case
    /// that only look-before-create survives without duplicates.
    DropAfterApply,
    /// Apply the request, then answer 502.
    ErrorAfterApply(u16),
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    /// `GET`, `POST`, ...; any when `None`.
    pub method: Option<String>,
    /// A piece of the path (case-insensitive), e.g. `testcaseresult/create`.
    pub path_contains: Option<String>,
}

impl Match {
    pub fn any() -> Match {
        Match::default()
    }

    pub fn method(method: &str) -> Match {
        Match {
            method: Some(method.to_string()),
            path_contains: None,
        }
    }

    pub fn path(piece: &str) -> Match {
        Match {
            method: None,
            path_contains: Some(piece.to_string()),
        }
    }

    pub fn method_and_path(method: &str, piece: &str) -> Match {
        Match {
            method: Some(method.to_string()),
            path_contains: Some(piece.to_string()),
        }
    }

    fn hits(&self, req: &HttpRequest) -> bool {
        self.method
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(&req.method))
            && self.path_contains.as_ref().is_none_or(|p| {
                req.path
                    .to_ascii_lowercase()
                    .contains(&p.to_ascii_lowercase())
            })
    }
}

/// One armed fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub matches: Match,
    /// Requests it still applies to.
    pub remaining: u32,
}

/// The switch board. Cheap to share: every method takes `&self`.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Mutex<Vec<Fault>>,
    fired: Mutex<Vec<(String, String, FaultKind)>>,
}

impl Faults {
    /// Arms a fault for the next `count` matching requests.
    pub fn add(&self, kind: FaultKind, matches: Match, count: u32) {
        if count > 0 {
            lock(&self.armed).push(Fault {
                kind,
                matches,
                remaining: count,
            });
        }
    }

    /// A burst: the next `count` requests answer `status` (5xx).
    pub fn fail_next(&self, count: u32, status: u16) {
        self.add(FaultKind::ServerError(status), Match::any(), count);
    }

    /// The next `count` requests answer 429 with `Retry-After`.
    pub fn throttle_next(&self, count: u32, retry_after_secs: u64) {
        self.add(
            FaultKind::Throttle { retry_after_secs },
            Match::any(),
            count,
        );
    }

    /// The next `count` requests are answered after `delay`.
    pub fn slow_next(&self, count: u32, delay: Duration) {
        self.add(FaultKind::Slow(delay), Match::any(), count);
    }

    /// The next `count` connections are closed without an answer.
    pub fn drop_next(&self, count: u32) {
        self.add(FaultKind::Drop, Match::any(), count);
    }

    /// Disarms everything.
    pub fn clear(&self) {
        lock(&self.armed).clear();
    }

    /// Faults still armed.
    pub fn armed(&self) -> Vec<Fault> {
        lock(&self.armed).clone()
    }

    /// Every fault that fired: (method, path, kind).
    pub fn fired(&self) -> Vec<(String, String, FaultKind)> {
        lock(&self.fired).clone()
    }

    /// The fault for this request, if one is armed; counts it down.
    pub fn take(&self, req: &HttpRequest) -> Option<FaultKind> {
        let mut armed = lock(&self.armed);
        let i = armed.iter().position(|f| f.matches.hits(req))?;
        let kind = armed[i].kind.clone();
        armed[i].remaining -= 1;
        if armed[i].remaining == 0 {
            armed.remove(i);
        }
        drop(armed);
        lock(&self.fired).push((req.method.clone(), req.path.clone(), kind.clone()));
        Some(kind)
    }
}

/// A poisoned lock only means another handler thread panicked; the data is still
/// what the tests want to look at.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, path: &str) -> HttpRequest {
        HttpRequest {
            method: method.into(),
            path: path.into(),
            target: path.into(),
            query: vec![],
            headers: vec![],
            body: vec![],
        }
    }

    #[test]
    fn faults_count_down_and_match() {
        let f = Faults::default();
        f.add(
            FaultKind::ServerError(503),
            Match::method_and_path("POST", "TestCaseResult/create"),
            2,
        );
        f.throttle_next(1, 3);
        // The GET does not match the first fault but takes the throttle.
        assert_eq!(
            f.take(&req("GET", "/slm/webservice/v2.0/testcase")),
            Some(FaultKind::Throttle {
                retry_after_secs: 3
            })
        );
        assert_eq!(f.take(&req("GET", "/x")), None);
        let post = req("POST", "/slm/webservice/v2.0/testcaseresult/create");
        assert_eq!(f.take(&post), Some(FaultKind::ServerError(503)));
        assert_eq!(f.take(&post), Some(FaultKind::ServerError(503)));
        assert_eq!(f.take(&post), None);
        assert_eq!(f.fired().len(), 3);
        assert!(f.armed().is_empty());
    }
}
