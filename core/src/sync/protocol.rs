//! What a host and a session say to each other: the session yields [`Step`]s, the
//! host answers `Send` with an [`HttpResponse`] and `Read` with the file's bytes.

use super::report::Report;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// What the host does next.
// `Done` is the big one and comes once per session: boxing it would only add an
// allocation and a harder shape for hosts to match on.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Step {
    /// Send this request, then call `receive` with its id and the answer.
    Send(HttpRequest),
    /// Sleep this long (backoff, `Retry-After`), then call `next` again.
    Wait { ms: u64 },
    /// Read this file (an attachment the report names), then call `provide_file`.
    Read(FileRequest),
    /// Store the session's progress now (`save()`), then call `next` again: the
    /// next request changes the target, or the answer to one just came in.
    Save,
    /// The session is over; nothing more will be asked.
    Done(Report),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "HttpMethod")
)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// One HTTP request, complete: the host adds nothing (no auth, no content type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HttpRequest {
    /// Echo it back to `receive`.
    pub id: u64,
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// JSON text.
    pub body: Option<String>,
    /// A binary body (a multipart upload) in base64; `body` is then unset. Absent
    /// from the JSON when there is none, so hosts that predate it read every other
    /// request as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

impl HttpRequest {
    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body's bytes, whichever way it is given; `None` when there is none or
    /// `body_base64` is not base64.
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        use base64::Engine;
        match (&self.body_base64, &self.body) {
            (Some(encoded), _) => base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok(),
            (None, Some(text)) => Some(text.as_bytes().to_vec()),
            (None, None) => None,
        }
    }
}

/// How the exchange ended, as the host saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ResponseKind {
    /// The server answered (any status).
    Answered,
    /// No connection: DNS, refused, TLS handshake. The request was not delivered.
    ConnectFailed,
    /// No answer in time. The server may have acted on the request.
    Timeout,
    /// The connection broke after the request was sent. The server may have acted.
    Dropped,
}

/// The answer to one request. For anything but `Answered`, `status` is 0 and
/// `body` holds the host's error text. A body that is not UTF-8 text (a zip
/// archive) comes as `body_base64`, with `body` empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HttpResponse {
    pub kind: ResponseKind,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

impl HttpResponse {
    /// An answer from the server.
    pub fn answered(status: u16, headers: Vec<(String, String)>, body: impl Into<String>) -> Self {
        HttpResponse {
            kind: ResponseKind::Answered,
            status,
            headers,
            body: body.into(),
            body_base64: None,
        }
    }

    /// An answer whose body may be binary: text when it is UTF-8, else base64.
    pub fn answered_bytes(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        match String::from_utf8(body) {
            Ok(text) => HttpResponse::answered(status, headers, text),
            Err(e) => {
                use base64::Engine;
                let encoded = base64::engine::general_purpose::STANDARD.encode(e.into_bytes());
                HttpResponse {
                    body_base64: Some(encoded),
                    ..HttpResponse::answered(status, headers, String::new())
                }
            }
        }
    }

    /// The body's bytes, whichever way they came; `None` when `body_base64` is not
    /// base64.
    pub fn body_bytes(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        use base64::Engine;
        match &self.body_base64 {
            None => Some(std::borrow::Cow::Borrowed(self.body.as_bytes())),
            Some(encoded) => base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
                .map(std::borrow::Cow::Owned),
        }
    }

    /// No answer: connection failed, timed out or dropped; `message` says why.
    pub fn failed(kind: ResponseKind, message: impl Into<String>) -> Self {
        HttpResponse {
            kind,
            status: 0,
            headers: Vec::new(),
            body: message.into(),
            body_base64: None,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// A file the session needs (an attachment to upload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FileRequest {
    pub id: u64,
    /// The path exactly as the report names it.
    pub path: String,
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// What every session offers its host.
pub trait Session {
    /// The next thing to do. Calling it again while a request is still unanswered
    /// abandons that request: the session treats its outcome as unknown (as after
    /// a crash) and looks before it creates anything again.
    fn next(&mut self) -> Step;
    /// The answer to the request `id`.
    fn receive(&mut self, id: u64, response: HttpResponse) -> Result<()>;
    /// The bytes of the file asked for by `Step::Read` `id`, or why they could not
    /// be read.
    fn provide_file(&mut self, id: u64, file: std::result::Result<Vec<u8>, String>) -> Result<()>;
}
