//! The TestRail connection of a session: turns one logical call into HTTP requests
//! (basic auth with the user and the API key or password), retries what is safe to
//! retry (429 with `Retry-After`, 5xx, 409 maintenance, lost connections), waits as
//! told, and hands the logic one [`Outcome`] per call.

use crate::error::{Error, Result};
use crate::sync::protocol::{HttpRequest, HttpResponse, Method, ResponseKind, Step};
use crate::sync::report::Stats;
use crate::sync::retry::{Prng, RetryPolicy};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The API path after the instance URL.
pub const API_PATH: &str = "/index.php?/api/v2/";

/// How the session signs in: TestRail takes the API key or the password as the
/// password of basic auth. Never serialised: a host hands it again on resume.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.user)
    }
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    Json {
        text: String,
    },
    /// `multipart/form-data` with this boundary; the bytes in base64.
    Multipart {
        boundary: String,
        base64: String,
    },
}

/// One logical call. The link may send it several times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub method: Method,
    /// The API method, its ids and parameters: `get_cases/1&suite_id=2`.
    pub path: String,
    pub body: Option<Body>,
    /// For messages: "add the results of run R7".
    pub what: String,
}

impl Call {
    pub fn get(path: String, what: impl Into<String>) -> Call {
        Call {
            method: Method::Get,
            path,
            body: None,
            what: what.into(),
        }
    }

    pub fn post(path: String, body: &Value, what: impl Into<String>) -> Call {
        Call {
            method: Method::Post,
            path,
            body: Some(Body::Json {
                text: body.to_string(),
            }),
            what: what.into(),
        }
    }

    fn mutating(&self) -> bool {
        self.method != Method::Get
    }
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Value),
    /// TestRail said no, and asking again will not change that.
    Refused(Error),
    /// A write whose answer was lost: it may or may not have happened. Look before
    /// sending it again.
    Unknown(Error),
    /// Passing failures went on past the retry policy.
    GaveUp(Error),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Pending {
    call: Call,
    attempt: u32,
    sent: Option<u64>,
}

/// What the driver does with `next`.
#[allow(clippy::large_enum_variant)]
pub enum Poll {
    Step(Step),
    /// A request was handed out and never answered: its outcome is unknown.
    Abandoned,
    Idle,
    NoCredentials,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Link {
    /// `https://example.testrail.io/index.php?/api/v2/`
    base: String,
    policy: RetryPolicy,
    rng: Prng,
    next_id: u64,
    pending: Option<Pending>,
    wait_ms: Option<u64>,
    unknown_streak: u32,
    stats: Stats,
    #[serde(skip)]
    credentials: Option<Credentials>,
}

/// The API base from the instance URL the user gave (`https://x.testrail.io/`,
/// with or without `index.php`).
pub fn base_url(url: Option<&str>) -> Result<String> {
    let url = url
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            Error::new("config.missing_value", "`testrail.url` is not set")
                .with_hint("set it to your instance, like https://example.testrail.io")
        })?;
    crate::config::urls::check_url(
        "testrail.url",
        url,
        "put the user and the API key in the environment variables named by testrail.user_env and testrail.api_key_env",
    )?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Error::new(
            "config.invalid_value",
            format!("`testrail.url`: {url:?} is not an http(s) URL"),
        )
        .with_hint("like https://example.testrail.io"));
    }
    let root = match url.find("/index.php") {
        Some(at) => &url[..at],
        None => url,
    };
    Ok(format!("{}{API_PATH}", root.trim_end_matches('/')))
}

impl Link {
    pub fn new(base: String, credentials: Credentials, policy: RetryPolicy, seed: u64) -> Link {
        Link {
            base,
            policy,
            rng: Prng::new(seed),
            next_id: 1,
            pending: None,
            wait_ms: None,
            unknown_streak: 0,
            stats: Stats::default(),
            credentials: Some(credentials),
        }
    }

    pub fn set_credentials(&mut self, credentials: Credentials) {
        self.credentials = Some(credentials);
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    pub fn start(&mut self, call: Call) {
        self.pending = Some(Pending {
            call,
            attempt: 0,
            sent: None,
        });
    }

    pub fn reset(&mut self) {
        self.pending = None;
        self.wait_ms = None;
    }

    fn wait(&mut self, ms: u64) {
        if ms > 0 {
            self.wait_ms = Some(self.wait_ms.unwrap_or(0).max(ms));
        }
    }

    pub fn poll(&mut self) -> Poll {
        if let Some(ms) = self.wait_ms.take() {
            self.stats.waited_ms = self.stats.waited_ms.saturating_add(ms);
            return Poll::Step(Step::Wait { ms });
        }
        let Some(p) = &mut self.pending else {
            return Poll::Idle;
        };
        if p.sent.is_some() {
            return Poll::Abandoned;
        }
        let Some(credentials) = self.credentials.clone() else {
            return Poll::NoCredentials;
        };
        let id = self.next_id;
        self.next_id += 1;
        self.stats.requests += 1;
        if p.attempt > 0 {
            self.stats.retries += 1;
        }
        p.attempt += 1;
        p.sent = Some(id);
        let pair = format!("{}:{}", credentials.user, credentials.secret);
        let mut headers = vec![
            ("Accept".to_string(), "application/json".to_string()),
            (
                "Authorization".to_string(),
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ),
            ),
        ];
        let (body, body_base64) = match &p.call.body {
            None => (None, None),
            Some(Body::Json { text }) => {
                headers.push(("Content-Type".into(), "application/json".into()));
                (Some(text.clone()), None)
            }
            Some(Body::Multipart { boundary, base64 }) => {
                headers.push((
                    "Content-Type".into(),
                    format!("multipart/form-data; boundary={boundary}"),
                ));
                (None, Some(base64.clone()))
            }
        };
        Poll::Step(Step::Send(HttpRequest {
            id,
            method: p.call.method,
            url: format!("{}{}", self.base, p.call.path),
            headers,
            body,
            body_base64,
        }))
    }

    /// Takes an answer. `Ok(None)`: the link goes on by itself (a retry, a wait);
    /// `Ok(Some(outcome))`: the call is over.
    pub fn receive(&mut self, id: u64, response: &HttpResponse) -> Result<Option<Outcome>> {
        let Some(p) = self.pending.as_mut() else {
            return Err(unexpected(id));
        };
        if p.sent != Some(id) {
            return Err(unexpected(id));
        }
        p.sent = None;
        let (mutating, attempt) = (p.call.mutating(), p.attempt);
        let what = p.call.what.clone();
        let method = p
            .call
            .path
            .split(['/', '&'])
            .next()
            .unwrap_or("")
            .to_string();
        let passing = match response.kind {
            ResponseKind::ConnectFailed => Some((false, None)),
            ResponseKind::Timeout | ResponseKind::Dropped => Some((mutating, None)),
            ResponseKind::Answered => match response.status {
                429 => Some((false, response.header("Retry-After"))),
                // Daily maintenance of TestRail Cloud: nothing was done.
                409 => Some((false, response.header("Retry-After"))),
                408 => Some((mutating, None)),
                500..=599 => Some((mutating, response.header("Retry-After"))),
                _ => None,
            },
        };
        if let Some((ambiguous, retry_after)) = passing {
            let error = transport_error(response, &what, &method);
            let unreachable = response.kind == ResponseKind::ConnectFailed;
            return Ok(self.on_passing(error, ambiguous, attempt, retry_after, unreachable));
        }
        self.pending = None;
        if mutating {
            self.unknown_streak = 0;
        }
        if (200..300).contains(&response.status) {
            return Ok(Some(
                match response
                    .body_bytes()
                    .and_then(|b| crate::json::from_slice::<Value>(&b).ok())
                {
                    Some(v) => Outcome::Ok(v),
                    None => Outcome::Refused(
                        Error::new(
                            "testrail.not_api",
                            format!("the answer to {what} ({method}) is not JSON"),
                        )
                        .with_hint("is testrail.url the address of a TestRail instance (https://example.testrail.io)?"),
                    ),
                },
            ));
        }
        Ok(Some(Outcome::Refused(refusal(response, &what, &method))))
    }

    fn on_passing(
        &mut self,
        error: Error,
        ambiguous: bool,
        attempt: u32,
        retry_after: Option<&str>,
        unreachable: bool,
    ) -> Option<Outcome> {
        if ambiguous {
            self.unknown_streak += 1;
            let ms = self
                .policy
                .retry_after(retry_after)
                .unwrap_or_else(|| self.policy.backoff(self.unknown_streak, &mut self.rng));
            self.wait(ms);
            self.pending = None;
            return Some(Outcome::Unknown(error));
        }
        if attempt >= self.policy.max_attempts {
            self.pending = None;
            let code = if unreachable {
                error.code.clone()
            } else {
                "testrail.gave_up".to_string()
            };
            return Some(Outcome::GaveUp(
                Error::new(&code, format!("gave up after {attempt} tries: {}", error.message))
                    .with_hint(error.hint.unwrap_or_else(|| {
                        "TestRail or the network is having trouble; run the same command again later: nothing is sent twice".into()
                    })),
            ));
        }
        let ms = self
            .policy
            .retry_after(retry_after)
            .unwrap_or_else(|| self.policy.backoff(attempt, &mut self.rng));
        self.wait(ms);
        None
    }
}

fn unexpected(id: u64) -> Error {
    Error::new(
        "sync.unexpected_response",
        format!("no request {id} is waiting for an answer"),
    )
    .with_hint("answer the request the last Step::Send named, once")
}

/// TestRail's own words: the `error` of `{"error": "..."}`, or the start of the body.
fn server_text(response: &HttpResponse) -> String {
    let body = response.body.trim();
    let text = crate::json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| body.chars().take(200).collect());
    crate::mask::mask_text(&text)
}

fn transport_error(response: &HttpResponse, what: &str, method: &str) -> Error {
    let text = crate::mask::mask_text(&response.body.chars().take(200).collect::<String>());
    match response.kind {
        ResponseKind::ConnectFailed => {
            let lower = text.to_ascii_lowercase();
            if lower.contains("certificate") || lower.contains("tls") || lower.contains("ssl") {
                Error::new(
                    "testrail.certificate",
                    format!("the TLS connection to TestRail failed (certificate or handshake) to {what}: {text}"),
                )
                .with_hint("check the instance's certificate, or that testrail.url uses the scheme and host the certificate is for")
            } else {
                Error::new(
                    "testrail.unreachable",
                    format!("could not reach TestRail to {what}: {text}"),
                )
                .with_hint("check testrail.url (like https://example.testrail.io), DNS, proxy and firewall")
            }
        }
        ResponseKind::Timeout => Error::new(
            "testrail.timeout",
            format!("no answer in time from TestRail to {what} ({method})"),
        ),
        ResponseKind::Dropped => Error::new(
            "testrail.dropped",
            format!("the connection broke while asking TestRail to {what} ({method})"),
        ),
        ResponseKind::Answered if response.status == 429 => Error::new(
            "testrail.rate_limited",
            format!("TestRail asked to slow down (HTTP 429) while asked to {what}"),
        ),
        ResponseKind::Answered if response.status == 409 => Error::new(
            "testrail.maintenance",
            format!("TestRail is in maintenance (HTTP 409) while asked to {what}"),
        ),
        ResponseKind::Answered => Error::new(
            "testrail.server_error",
            format!(
                "TestRail answered HTTP {} while asked to {what} ({method})",
                response.status
            ),
        ),
    }
}

/// A refusal, with a stable code per status.
fn refusal(response: &HttpResponse, what: &str, method: &str) -> Error {
    let text = server_text(response);
    match response.status {
        401 => Error::new(
            "testrail.unauthorized",
            format!("TestRail refused the credentials (HTTP 401) to {what}: {text}"),
        )
        .with_hint("check the user (testrail.user_env) and the API key (testrail.api_key_env); make sure the API is enabled in TestRail's site settings"),
        403 => Error::new(
            "testrail.forbidden",
            format!("TestRail's user may not {what} (HTTP 403): {text}"),
        )
        .with_hint("give the user access to the project (and the right to add results and cases), or use another user"),
        404 => Error::new(
            "testrail.not_found",
            format!("TestRail does not know the API method {method} (HTTP 404): {text}"),
        )
        .with_hint("is testrail.url the instance's address (https://example.testrail.io), and the instance TestRail 6.7 or newer?"),
        400 => Error::new("testrail.refused", format!("TestRail refused to {what}: {text}")),
        300..=399 => {
            let to = response
                .header("Location")
                .map(crate::mask::mask_url)
                .unwrap_or_else(|| "another address".into());
            Error::new(
                "testrail.redirect",
                format!("the instance answered {what} with a redirect (HTTP {}) to {to}", response.status),
            )
            .with_hint("set testrail.url to the address TestRail is served from (often https:// instead of http://)")
        }
        status => Error::new(
            "testrail.refused",
            format!("TestRail answered HTTP {status} to {what}: {text}"),
        ),
    }
}

/// Whether a refusal means the credentials or the rights are gone (what switches
/// an export off).
pub fn is_access_error(e: &Error) -> bool {
    matches!(
        e.code.as_str(),
        "testrail.unauthorized" | "testrail.forbidden"
    )
}

/// The items of a bulk answer, the paged envelope (`{"cases": [...], "_links":
/// {"next": ...}}`) or the bare array of servers before 6.7; and the next page's
/// path, if any.
pub fn page(value: &Value, key: &str) -> (Vec<Value>, Option<String>) {
    if let Value::Array(items) = value {
        return (items.clone(), None);
    }
    let items = value
        .get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let next = value
        .get("_links")
        .and_then(|l| l.get("next"))
        .and_then(Value::as_str)
        .and_then(|n| n.split_once("/api/v2/").map(|(_, rest)| rest.to_string()))
        // Some servers link with limit=0: ask for the largest page instead.
        .map(|n| n.replace("&limit=0", "&limit=250"))
        .filter(|n| !n.is_empty());
    (items, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn link() -> Link {
        Link::new(
            base_url(Some("https://tr.test/")).unwrap(),
            Credentials {
                user: "ci@example.com".into(),
                secret: "key".into(),
            },
            RetryPolicy::default(),
            1,
        )
    }

    fn sent(l: &mut Link) -> HttpRequest {
        match l.poll() {
            Poll::Step(Step::Send(r)) => r,
            _ => panic!("expected a request"),
        }
    }

    #[test]
    fn the_base_keeps_one_api_path() {
        for url in [
            "https://tr.test",
            "https://tr.test/",
            "https://tr.test/index.php?/api/v2/",
            "https://tr.test/index.php",
        ] {
            assert_eq!(
                base_url(Some(url)).unwrap(),
                "https://tr.test/index.php?/api/v2/"
            );
        }
        assert_eq!(base_url(None).unwrap_err().code, "config.missing_value");
        assert_eq!(
            base_url(Some("ftp://x")).unwrap_err().code,
            "config.invalid_value"
        );
    }

    #[test]
    fn throttling_waits_as_told_and_a_lost_write_is_unknown() {
        let mut l = link();
        l.start(Call::get("get_project/1".into(), "read the project"));
        let r = sent(&mut l);
        assert_eq!(r.url, "https://tr.test/index.php?/api/v2/get_project/1");
        assert!(r.header("Authorization").unwrap().starts_with("Basic "));
        let throttled = HttpResponse::answered(429, vec![("Retry-After".into(), "3".into())], "{}");
        assert!(l.receive(r.id, &throttled).unwrap().is_none());
        assert!(matches!(l.poll(), Poll::Step(Step::Wait { ms: 3000 })));
        let again = sent(&mut l);
        let ok = HttpResponse::answered(200, vec![], r#"{"id": 1}"#);
        assert_eq!(
            l.receive(again.id, &ok).unwrap(),
            Some(Outcome::Ok(json!({"id": 1})))
        );

        l.start(Call::post(
            "add_run/1".into(),
            &json!({"name": "x"}),
            "add a run",
        ));
        let w = sent(&mut l);
        assert_eq!(w.header("Content-Type"), Some("application/json"));
        let lost = HttpResponse::failed(ResponseKind::Dropped, "reset");
        assert!(matches!(
            l.receive(w.id, &lost).unwrap(),
            Some(Outcome::Unknown(_))
        ));
    }

    #[test]
    fn refusals_carry_testrails_words_and_access_codes() {
        let mut l = link();
        l.start(Call::get("get_project/1".into(), "read project P1"));
        let r = sent(&mut l);
        let denied = HttpResponse::answered(
            401,
            vec![],
            r#"{"error":"Authentication failed: invalid or missing user/password or session cookie."}"#,
        );
        let Some(Outcome::Refused(e)) = l.receive(r.id, &denied).unwrap() else {
            panic!("a refusal")
        };
        assert_eq!(e.code, "testrail.unauthorized");
        assert!(e.message.contains("Authentication failed"));
        assert!(is_access_error(&e));

        l.start(Call::get("get_project/1".into(), "read project P1"));
        let r = sent(&mut l);
        let moved = HttpResponse::answered(
            301,
            vec![(
                "Location".into(),
                "https://tr.test/index.php?/api/v2/get_project/1".into(),
            )],
            "",
        );
        let Some(Outcome::Refused(e)) = l.receive(r.id, &moved).unwrap() else {
            panic!("a refusal")
        };
        assert_eq!(e.code, "testrail.redirect");
        assert!(e.message.contains("https://tr.test/"), "{}", e.message);
    }

    #[test]
    fn pages_come_as_envelopes_or_bare_arrays() {
        let env = json!({"offset": 0, "limit": 250, "size": 1, "cases": [{"id": 1}],
            "_links": {"next": "/api/v2/get_cases/1&suite_id=2&limit=0&offset=250", "prev": null}});
        let (items, next) = page(&env, "cases");
        assert_eq!(items.len(), 1);
        assert_eq!(
            next.as_deref(),
            Some("get_cases/1&suite_id=2&limit=250&offset=250")
        );
        let (items, next) = page(&json!([{"id": 1}, {"id": 2}]), "cases");
        assert_eq!((items.len(), next), (2, None));
    }
}
