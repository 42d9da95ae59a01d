//! The Rally connection of a session: turns one logical call into HTTP requests
//! (authentication, the security token, cookies), retries what is safe to retry,
//! waits as told, and hands the logic one [`Outcome`] per call.

use super::wsapi::{self, Envelope, short};
use crate::error::{Error, Warning};
use crate::sync::protocol::{HttpRequest, HttpResponse, Method, ResponseKind};
use crate::sync::report::Stats;
use crate::sync::retry::{Prng, RetryPolicy};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How the session signs in. Never serialised: a host hands it again on resume.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A Rally API key, sent as the `ZSESSIONID` header.
    ApiKey(String),
    /// User name and password (on-premises Rally): basic auth on every request, and
    /// the security token from `/security/authorize` on every create or update.
    Basic { username: String, password: String },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::ApiKey(_) => f.write_str("ApiKey(***)"),
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
        }
    }
}

impl Credentials {
    pub fn mode(&self) -> AuthMode {
        match self {
            Credentials::ApiKey(_) => AuthMode::ApiKey,
            Credentials::Basic { .. } => AuthMode::Basic,
        }
    }
}

pub use crate::sync::details::rally::AuthMode;

/// One logical call. The link may send it several times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub method: Method,
    /// Path and query string after the WSAPI base, starting with `/`.
    pub path: String,
    pub body: Option<String>,
    /// Creates or changes something: needs the security token, and a lost answer
    /// leaves its outcome unknown.
    pub mutating: bool,
    /// For messages: "look up TC1, TC2".
    pub what: String,
    /// A WSAPI `/batch` request: its answer's `Errors` belong to its entries, so the
    /// logic reads them (the answer is `Ok` with them inside), and a 404 or 405 means
    /// this Rally does not offer `/batch` (`rally.batch_unsupported`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub batch: bool,
}

impl Call {
    pub fn get(path: String, what: impl Into<String>) -> Call {
        Call {
            method: Method::Get,
            path,
            body: None,
            mutating: false,
            what: what.into(),
            batch: false,
        }
    }

    /// A DELETE of one object (`/attachmentcontent/123`).
    pub fn delete(path: String, what: impl Into<String>) -> Call {
        Call {
            method: Method::Delete,
            path,
            body: None,
            mutating: true,
            what: what.into(),
            batch: false,
        }
    }

    pub fn post(path: String, body: String, what: impl Into<String>) -> Call {
        Call {
            method: Method::Post,
            path,
            body: Some(body),
            mutating: true,
            what: what.into(),
            batch: false,
        }
    }

    /// A `POST /batch` of several creates.
    pub fn batch(body: String, what: impl Into<String>) -> Call {
        Call {
            batch: true,
            ..Call::post(BATCH_PATH.into(), body, what)
        }
    }
}

/// Where WSAPI takes several requests in one.
pub const BATCH_PATH: &str = "/batch";

/// The code of a `/batch` request this Rally does not serve (HTTP 404 or 405).
pub const BATCH_UNSUPPORTED: &str = "rally.batch_unsupported";

/// How a call ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Rally did it: the envelope's inner object (`QueryResult`, `CreateResult`,
    /// `OperationResult`, or the object read).
    Ok(Value),
    /// Rally said no, and asking again will not change that.
    Refused(Error),
    /// A create or update whose answer was lost (5xx, timeout, dropped connection):
    /// it may or may not have happened. Look before trying again.
    Unknown(Error),
    /// Passing failures went on past the retry policy.
    GaveUp(Error),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Pending {
    call: Call,
    /// Tries sent so far.
    attempt: u32,
    /// The outstanding request, when one is.
    sent: Option<u64>,
    /// The outstanding `/security/authorize` request, when one is.
    authorizing: Option<u64>,
    /// The token was refreshed once for this call already.
    reauthorized: bool,
}

/// Not serialised: secrets and what lives only as long as the HTTP session.
#[derive(Debug, Clone, Default)]
struct Secrets {
    credentials: Option<Credentials>,
    token: Option<String>,
    cookies: Vec<(String, String)>,
}

/// What the driver should do with `next`.
#[allow(clippy::large_enum_variant)]
pub enum Poll {
    Step(crate::sync::protocol::Step),
    /// A request was handed out and never answered: its outcome is unknown.
    Abandoned,
    /// No call is pending: ask the logic.
    Idle,
    /// Credentials were not given (a session restored without them).
    NoCredentials,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Link {
    base: String,
    auth: AuthMode,
    policy: RetryPolicy,
    rng: Prng,
    next_id: u64,
    pending: Option<Pending>,
    wait_ms: Option<u64>,
    /// Creates whose outcome went unknown in a row: drives their backoff.
    unknown_streak: u32,
    stats: Stats,
    warnings: Vec<Warning>,
    #[serde(skip)]
    secrets: Secrets,
}

impl Link {
    pub fn new(base: String, credentials: Credentials, policy: RetryPolicy, seed: u64) -> Link {
        Link {
            base,
            auth: credentials.mode(),
            policy,
            rng: Prng::new(seed),
            next_id: 1,
            pending: None,
            wait_ms: None,
            unknown_streak: 0,
            stats: Stats::default(),
            warnings: Vec::new(),
            secrets: Secrets {
                credentials: Some(credentials),
                ..Secrets::default()
            },
        }
    }

    pub fn set_credentials(&mut self, credentials: Credentials) {
        self.auth = credentials.mode();
        self.secrets = Secrets {
            credentials: Some(credentials),
            ..Secrets::default()
        };
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn auth(&self) -> AuthMode {
        self.auth
    }

    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    pub fn busy(&self) -> bool {
        self.pending.is_some()
    }

    /// Starts a call; the previous one must be over.
    pub fn start(&mut self, call: Call) {
        self.pending = Some(Pending {
            call,
            attempt: 0,
            sent: None,
            authorizing: None,
            reauthorized: false,
        });
    }

    /// Forgets the pending call and any wait: after a crash or an abandoned request.
    pub fn reset(&mut self) {
        self.pending = None;
        self.wait_ms = None;
    }

    /// Asks the host to wait before the next request.
    pub fn wait(&mut self, ms: u64) {
        if ms > 0 {
            self.wait_ms = Some(self.wait_ms.unwrap_or(0).max(ms));
        }
    }

    pub fn poll(&mut self) -> Poll {
        if let Some(ms) = self.wait_ms.take() {
            self.stats.waited_ms = self.stats.waited_ms.saturating_add(ms);
            return Poll::Step(crate::sync::protocol::Step::Wait { ms });
        }
        let Some(p) = &self.pending else {
            return Poll::Idle;
        };
        if p.sent.is_some() || p.authorizing.is_some() {
            return Poll::Abandoned;
        }
        let Some(credentials) = self.secrets.credentials.clone() else {
            return Poll::NoCredentials;
        };
        let needs_token = p.call.mutating
            && matches!(credentials, Credentials::Basic { .. })
            && self.secrets.token.is_none();
        let id = self.next_id;
        self.next_id += 1;
        self.stats.requests += 1;
        let request = if needs_token {
            if let Some(p) = &mut self.pending {
                p.authorizing = Some(id);
            }
            self.request(
                id,
                Method::Get,
                "/security/authorize".to_string(),
                None,
                &credentials,
            )
        } else {
            let Some(p) = &mut self.pending else {
                return Poll::Idle;
            };
            if p.attempt > 0 {
                self.stats.retries += 1;
            }
            p.attempt += 1;
            p.sent = Some(id);
            let mut path = p.call.path.clone();
            if p.call.mutating
                && let Some(token) = &self.secrets.token
            {
                let sep = if path.contains('?') { '&' } else { '?' };
                path = format!("{path}{sep}key={}", wsapi::encode(token));
            }
            let (method, body) = (p.call.method, p.call.body.clone());
            self.request(id, method, path, body, &credentials)
        };
        Poll::Step(crate::sync::protocol::Step::Send(request))
    }

    fn request(
        &self,
        id: u64,
        method: Method,
        path: String,
        body: Option<String>,
        credentials: &Credentials,
    ) -> HttpRequest {
        let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
        match credentials {
            Credentials::ApiKey(key) => headers.push(("ZSESSIONID".into(), key.clone())),
            Credentials::Basic { username, password } => {
                let pair = format!("{username}:{password}");
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                headers.push(("Authorization".into(), format!("Basic {encoded}")));
            }
        }
        if body.is_some() {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        if !self.secrets.cookies.is_empty() {
            let jar: Vec<String> = self
                .secrets
                .cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            headers.push(("Cookie".into(), jar.join("; ")));
        }
        headers.push(("X-RallyIntegrationName".into(), "tmbridge".into()));
        headers.push(("X-RallyIntegrationVendor".into(), "tmbridge".into()));
        headers.push((
            "X-RallyIntegrationVersion".into(),
            env!("CARGO_PKG_VERSION").into(),
        ));
        HttpRequest {
            id,
            method,
            url: format!("{}{path}", self.base),
            headers,
            body,
            body_base64: None,
        }
    }

    /// Takes an answer. `Ok(None)`: the link goes on by itself (a retry, a wait, the
    /// token); `Ok(Some(outcome))`: the call is over.
    pub fn receive(
        &mut self,
        id: u64,
        response: &HttpResponse,
    ) -> crate::error::Result<Option<Outcome>> {
        let Some(p) = &self.pending else {
            return Err(unexpected(id));
        };
        if p.authorizing == Some(id) {
            return Ok(self.on_authorize(response));
        }
        if p.sent != Some(id) {
            return Err(unexpected(id));
        }
        self.keep_cookies(response);
        let Some(p) = self.pending.as_mut() else {
            return Err(unexpected(id));
        };
        p.sent = None;
        let (mutating, attempt, what) = (p.call.mutating, p.attempt, p.call.what.clone());
        let batch = p.call.batch;
        let url = format!("{}{}", self.base, path_only(&p.call.path));
        let passing = match response.kind {
            ResponseKind::ConnectFailed => Some((false, None)),
            ResponseKind::Timeout | ResponseKind::Dropped => Some((mutating, None)),
            ResponseKind::Answered => match response.status {
                429 => Some((false, response.header("Retry-After"))),
                408 => Some((mutating, None)),
                500..=599 => Some((mutating, response.header("Retry-After"))),
                _ => None,
            },
        };
        if let Some((ambiguous, retry_after)) = passing {
            let error = transport_error(response, &what, &url);
            let unreachable = response.kind == ResponseKind::ConnectFailed;
            return Ok(self.on_passing(error, ambiguous, attempt, retry_after, unreachable));
        }
        if batch && matches!(response.status, 404 | 405) {
            self.pending = None;
            return Ok(Some(Outcome::Refused(
                Error::new(
                    BATCH_UNSUPPORTED,
                    format!(
                        "{url} answered HTTP {} when asked to {what}: this Rally does not take batch requests",
                        response.status
                    ),
                )
                .with_hint("set rally.batch_size = 0 to send one request per result"),
            )));
        }
        let outcome = match wsapi::envelope(response, &what, &url, self.auth, batch) {
            Envelope::Ok { inner, warnings } => {
                for w in warnings {
                    let w = Warning::new("rally.warning", w, None);
                    if !self.warnings.contains(&w) {
                        self.warnings.push(w);
                    }
                }
                if mutating {
                    self.unknown_streak = 0;
                }
                Outcome::Ok(inner)
            }
            Envelope::InvalidKey(e) => {
                let can_refresh = mutating
                    && self.auth == AuthMode::Basic
                    && !self.pending.as_ref().is_some_and(|p| p.reauthorized);
                if can_refresh {
                    self.secrets.token = None;
                    if let Some(p) = &mut self.pending {
                        p.reauthorized = true;
                    }
                    return Ok(None);
                }
                Outcome::Refused(e)
            }
            // Another change raced this one: a create or update may or may not have
            // been kept, so it is unknown like a lost answer; a read is asked again.
            Envelope::Refused(e) if e.code == wsapi::CONFLICT => {
                return Ok(self.on_passing(e, mutating, attempt, None, false));
            }
            Envelope::Refused(e) => Outcome::Refused(e),
        };
        self.pending = None;
        Ok(Some(outcome))
    }

    /// A failure that may pass: a call that may have acted ends unknown (look before
    /// sending it again); any other is sent again until the policy gives up.
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
            let e = Error::new(
                if unreachable {
                    "rally.unreachable"
                } else {
                    "rally.gave_up"
                },
                format!("gave up after {attempt} tries: {}", error.message),
            )
            .with_hint(error.hint.unwrap_or_else(|| {
                "Rally or the network is having trouble; run the same command again later: nothing is sent twice".into()
            }));
            return Some(Outcome::GaveUp(e));
        }
        let ms = self
            .policy
            .retry_after(retry_after)
            .unwrap_or_else(|| self.policy.backoff(attempt, &mut self.rng));
        self.wait(ms);
        None
    }

    fn on_authorize(&mut self, response: &HttpResponse) -> Option<Outcome> {
        self.keep_cookies(response);
        if let Some(p) = &mut self.pending {
            p.authorizing = None;
        }
        let url = format!("{}/security/authorize", self.base);
        let transient = response.kind != ResponseKind::Answered
            || response.status == 429
            || response.status >= 500;
        if transient {
            let attempt = self.pending.as_ref().map_or(1, |p| p.attempt + 1);
            if let Some(p) = &mut self.pending {
                p.attempt += 1;
            }
            if attempt >= self.policy.max_attempts {
                self.pending = None;
                let e = transport_error(response, "get a security token", &url);
                return Some(Outcome::GaveUp(Error::new(
                    "rally.gave_up",
                    format!("gave up after {attempt} tries: {}", e.message),
                )));
            }
            let ms = self
                .policy
                .retry_after(response.header("Retry-After"))
                .unwrap_or_else(|| self.policy.backoff(attempt, &mut self.rng));
            self.wait(ms);
            return None;
        }
        match wsapi::envelope(response, "get a security token", &url, self.auth, false) {
            Envelope::Ok { inner, .. } => {
                match inner.get("SecurityToken").and_then(Value::as_str) {
                    Some(token) if !token.is_empty() => {
                        self.secrets.token = Some(token.to_string());
                        None
                    }
                    _ => {
                        self.pending = None;
                        Some(Outcome::Refused(
                            Error::new(
                                "rally.no_security_token",
                                format!("{url} answered without a SecurityToken"),
                            )
                            .with_hint("is rally.url a Rally WSAPI v2.0 server?"),
                        ))
                    }
                }
            }
            Envelope::Refused(e) | Envelope::InvalidKey(e) => {
                self.pending = None;
                Some(Outcome::Refused(e))
            }
        }
    }

    fn keep_cookies(&mut self, response: &HttpResponse) {
        for (name, value) in &response.headers {
            if !name.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let first = value.split(';').next().unwrap_or("");
            if let Some((n, v)) = first.split_once('=') {
                let (n, v) = (n.trim().to_string(), v.trim().to_string());
                if n.is_empty() {
                    continue;
                }
                self.secrets.cookies.retain(|(k, _)| *k != n);
                self.secrets.cookies.push((n, v));
            }
        }
    }
}

fn path_only(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

fn unexpected(id: u64) -> Error {
    Error::new(
        "sync.unexpected_response",
        format!("no request {id} is waiting for an answer"),
    )
    .with_hint("answer the request the last Step::Send named, once")
}

fn transport_error(response: &HttpResponse, what: &str, url: &str) -> Error {
    let text = short(&response.body);
    match response.kind {
        ResponseKind::ConnectFailed => Error::new(
            "rally.unreachable",
            format!("could not reach {url} to {what}: {text}"),
        )
        .with_hint("check rally.url (like https://rally1.rallydev.com), DNS, proxy and firewall"),
        ResponseKind::Timeout => Error::new(
            "rally.timeout",
            format!("no answer in time from {url} to {what}"),
        ),
        ResponseKind::Dropped => Error::new(
            "rally.dropped",
            format!("the connection broke while asking {url} to {what}: {text}"),
        ),
        ResponseKind::Answered if response.status == 429 => Error::new(
            "rally.rate_limited",
            format!("Rally asked to slow down (HTTP 429) while asked to {what}"),
        ),
        ResponseKind::Answered => Error::new(
            "rally.server_error",
            format!(
                "Rally answered HTTP {} while asked to {what}{}",
                response.status,
                if text.is_empty() {
                    String::new()
                } else {
                    format!(": {text}")
                }
            ),
        ),
    }
}
