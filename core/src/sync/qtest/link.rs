//! The qTest connection of a session: sends one logical call as HTTP requests with
//! the bearer token, tries reads again after passing failures (5xx, 429 with
//! `Retry-After`, lost connections; backoff from `sync::retry`), and reports a create
//! whose answer was lost as unknown, so the logic looks before it sends it again.

use super::api;
use crate::error::Error;
use crate::sync::protocol::{HttpRequest, HttpResponse, Method, ResponseKind, Step};
use crate::sync::report::Stats;
use crate::sync::retry::{Prng, RetryPolicy};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One logical call; the link may send it several times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub method: Method,
    /// Path and query after the site, from `/api/v3`.
    pub path: String,
    pub body: Option<String>,
    /// For messages: "list the modules under 12".
    pub what: String,
    /// The answer is a file (an attachment), not JSON: it comes back as
    /// `{"base64", "content_type"}`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub raw: bool,
}

impl Call {
    pub fn get(path: String, what: impl Into<String>) -> Call {
        Call {
            method: Method::Get,
            path,
            body: None,
            what: what.into(),
            raw: false,
        }
    }

    /// A download: the answer's bytes, whatever their type.
    pub fn download(path: String, what: impl Into<String>) -> Call {
        Call {
            raw: true,
            ..Call::get(path, what)
        }
    }

    pub fn send(method: Method, path: String, body: &Value, what: impl Into<String>) -> Call {
        Call {
            method,
            path,
            body: Some(body.to_string()),
            what: what.into(),
            raw: false,
        }
    }

    fn changes(&self) -> bool {
        self.method != Method::Get
    }
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Value),
    /// qTest said no; asking again will not change that.
    Refused(Error),
    /// A create whose answer was lost: it may have happened. Look first.
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

/// What the session does with `next`.
#[allow(clippy::large_enum_variant)]
pub enum Poll {
    Step(Step),
    /// A request was handed out and never answered.
    Abandoned,
    Idle,
    NoToken,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Link {
    site: String,
    policy: RetryPolicy,
    rng: Prng,
    next_id: u64,
    pending: Option<Pending>,
    wait_ms: Option<u64>,
    unknown_streak: u32,
    stats: Stats,
    #[serde(skip)]
    token: Option<String>,
}

impl Link {
    pub fn new(site: String, token: Option<String>, policy: RetryPolicy, seed: u64) -> Link {
        Link {
            site,
            policy,
            rng: Prng::new(seed),
            next_id: 1,
            pending: None,
            wait_ms: None,
            unknown_streak: 0,
            stats: Stats::default(),
            token,
        }
    }

    pub fn set_token(&mut self, token: Option<String>) {
        self.token = token;
    }

    pub fn site(&self) -> &str {
        &self.site
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

    /// Forgets the pending call and any wait: after a crash or an abandoned request.
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
        let Some(token) = self.token.clone() else {
            return Poll::NoToken;
        };
        let id = self.next_id;
        self.next_id += 1;
        self.stats.requests += 1;
        if p.attempt > 0 {
            self.stats.retries += 1;
        }
        p.attempt += 1;
        p.sent = Some(id);
        let accept = if p.call.raw {
            "*/*"
        } else {
            "application/json"
        };
        let mut headers = vec![
            ("Accept".to_string(), accept.to_string()),
            ("Authorization".to_string(), format!("Bearer {token}")),
        ];
        if p.call.body.is_some() {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        Poll::Step(Step::Send(HttpRequest {
            id,
            method: p.call.method,
            url: format!("{}{}", self.site, p.call.path),
            headers,
            body: p.call.body.clone(),
            body_base64: None,
        }))
    }

    /// Takes an answer: `Ok(None)` when the link tries again by itself.
    pub fn receive(
        &mut self,
        id: u64,
        response: &HttpResponse,
    ) -> crate::error::Result<Option<Outcome>> {
        let Some(p) = self.pending.as_mut().filter(|p| p.sent == Some(id)) else {
            return Err(Error::new(
                "sync.unexpected_response",
                format!("no request {id} is waiting for an answer"),
            )
            .with_hint("answer the request the last Step::Send named, once"));
        };
        p.sent = None;
        let (changes, attempt, what) = (p.call.changes(), p.attempt, p.call.what.clone());
        let raw = p.call.raw;
        let url = format!(
            "{}{}",
            self.site,
            p.call.path.split('?').next().unwrap_or("")
        );
        let retry_after = response.header("Retry-After").map(str::to_string);
        // (the request may have acted, it is worth another try)
        let passing = match response.kind {
            ResponseKind::ConnectFailed => Some(false),
            ResponseKind::Timeout | ResponseKind::Dropped => Some(changes),
            ResponseKind::Answered => match response.status {
                429 => Some(false),
                408 | 500..=599 => Some(changes),
                _ => None,
            },
        };
        let Some(ambiguous) = passing else {
            self.pending = None;
            if changes {
                self.unknown_streak = 0;
            }
            if raw && (200..300).contains(&response.status) {
                return Ok(Some(download(response, &what)));
            }
            return Ok(Some(match api::read(response, &what, &url) {
                Ok(v) => Outcome::Ok(v),
                Err(e) => Outcome::Refused(e),
            }));
        };
        let error = transport_error(response, &what, &url);
        let after = self.policy.retry_after(retry_after.as_deref());
        if ambiguous {
            self.unknown_streak += 1;
            let ms =
                after.unwrap_or_else(|| self.policy.backoff(self.unknown_streak, &mut self.rng));
            self.wait(ms);
            self.pending = None;
            return Ok(Some(Outcome::Unknown(error)));
        }
        if attempt >= self.policy.max_attempts {
            self.pending = None;
            let unreachable = response.kind == ResponseKind::ConnectFailed;
            return Ok(Some(Outcome::GaveUp(
                Error::new(
                    if unreachable { "qtest.unreachable" } else { "qtest.gave_up" },
                    format!("gave up after {attempt} tries: {}", error.message),
                )
                .with_hint(error.hint.unwrap_or_else(|| {
                    "qTest or the network is having trouble; run the same command again later: nothing is sent twice".into()
                })),
            )));
        }
        let ms = after.unwrap_or_else(|| self.policy.backoff(attempt, &mut self.rng));
        self.wait(ms);
        Ok(None)
    }
}

/// A downloaded file as the logic reads it: `{"base64", "content_type"}`.
fn download(response: &HttpResponse, what: &str) -> Outcome {
    use base64::Engine;
    match response.body_bytes() {
        Some(bytes) => Outcome::Ok(serde_json::json!({
            "base64": base64::engine::general_purpose::STANDARD.encode(bytes),
            "content_type": response.header("Content-Type"),
        })),
        None => Outcome::Refused(Error::new(
            "qtest.bad_answer",
            format!("the file qTest sent when asked to {what} is not readable (bad base64)"),
        )),
    }
}

fn transport_error(response: &HttpResponse, what: &str, url: &str) -> Error {
    let text = crate::mask::mask_text(&api::short(&response.body));
    match response.kind {
        ResponseKind::ConnectFailed => Error::new(
            "qtest.unreachable",
            format!("could not reach {url} to {what}: {text}"),
        )
        .with_hint("check qtest.url (like https://example.qtestnet.com), DNS, proxy and firewall"),
        ResponseKind::Timeout => Error::new(
            "qtest.timeout",
            format!("no answer in time from {url} to {what}"),
        ),
        ResponseKind::Dropped => Error::new(
            "qtest.dropped",
            format!("the connection broke while asking {url} to {what}: {text}"),
        ),
        ResponseKind::Answered if response.status == 429 => Error::new(
            "qtest.rate_limited",
            format!("qTest asked to slow down (HTTP 429) while asked to {what}"),
        ),
        ResponseKind::Answered => Error::new(
            "qtest.server_error",
            format!(
                "qTest answered HTTP {} while asked to {what}: {text}",
                response.status
            ),
        ),
    }
}
