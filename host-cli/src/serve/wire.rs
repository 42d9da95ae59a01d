//! HTTP/1.1 on the wire for the webhook receiver: reading a request head, reading a
//! body against a deadline, and writing an answer. No policy lives here.

use std::io::{self, Read};
use std::net::TcpStream;
use std::time::Instant;

/// The largest request line plus headers accepted; GitLab sends well under 2 KiB.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most header lines accepted.
const MAX_HEADERS: usize = 64;

/// The parts of a request head the receiver uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub path: String,
    pub token: Option<Vec<u8>>,
    pub event: Option<String>,
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub expect_continue: bool,
}

impl RequestHead {
    /// Whether body bytes may follow the `buffered` ones already read.
    pub fn body_may_follow(&self, buffered: usize) -> bool {
        self.chunked || self.content_length.unwrap_or(0) > buffered as u64
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// The head, and how many bytes of the buffer it took.
    Complete(RequestHead, usize),
    /// More bytes are needed.
    Partial,
    /// Longer than [`MAX_HEAD_BYTES`] or with too many header lines.
    TooLarge(String),
    /// Not a request this receiver accepts; the text says why.
    Invalid(String),
}

/// Parses the bytes received so far.
pub fn parse_head(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD_BYTES => {
            return Parsed::TooLarge(format!(
                "the request head is larger than {MAX_HEAD_BYTES} bytes"
            ));
        }
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(httparse::Error::TooManyHeaders) => {
            return Parsed::TooLarge(format!("more than {MAX_HEADERS} header lines"));
        }
        Err(e) => return Parsed::Invalid(format!("malformed request head: {e}")),
    };
    let mut head = RequestHead {
        method: req.method.unwrap_or_default().to_string(),
        path: req.path.unwrap_or_default().to_string(),
        token: None,
        event: None,
        content_length: None,
        chunked: false,
        expect_continue: false,
    };
    for h in req.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("X-Gitlab-Token") {
            head.token = Some(h.value.to_vec());
        } else if name.eq_ignore_ascii_case("X-Gitlab-Event") {
            head.event = Some(String::from_utf8_lossy(h.value).into_owned());
        } else if name.eq_ignore_ascii_case("Content-Length") {
            let value = std::str::from_utf8(h.value).ok().map(str::trim);
            let Some(n) = value.and_then(|v| v.parse::<u64>().ok()) else {
                return Parsed::Invalid("Content-Length is not a number".into());
            };
            if head.content_length.is_some_and(|old| old != n) {
                return Parsed::Invalid("two different Content-Length headers".into());
            }
            head.content_length = Some(n);
        } else if name.eq_ignore_ascii_case("Transfer-Encoding") {
            if !h.value.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                return Parsed::Invalid("only the chunked Transfer-Encoding is accepted".into());
            }
            head.chunked = true;
        } else if name.eq_ignore_ascii_case("Expect") {
            head.expect_continue = h.value.trim_ascii().eq_ignore_ascii_case(b"100-continue");
        }
    }
    if head.chunked && head.content_length.is_some() {
        // Two body lengths is how requests are smuggled past proxies.
        return Parsed::Invalid("both Content-Length and Transfer-Encoding are set".into());
    }
    Parsed::Complete(head, len)
}

/// An answer with a JSON body, closing the connection.
pub fn response(status: u16, body: &str, retry_after_secs: Option<u64>) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    if let Some(secs) = retry_after_secs {
        out.push_str(&format!("Retry-After: {secs}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Reads from a blocking socket until a fixed moment: each read may wait only for what
/// is left, so a client sending one byte at a time cannot stretch the time allowed.
pub struct DeadlineReader<'a> {
    pub stream: &'a TcpStream,
    pub deadline: Instant,
}

impl Read for DeadlineReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out());
        }
        self.stream.set_read_timeout(Some(left))?;
        match (&mut &*self.stream).read(buf) {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Err(timed_out())
            }
            other => other,
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "the body did not arrive in time")
}

/// A body, or `None` when it is longer than `max_body`. `already` holds the bytes
/// that arrived with the head.
pub fn read_body(
    head: &RequestHead,
    already: &[u8],
    rest: impl Read,
    max_body: u64,
) -> io::Result<Option<Vec<u8>>> {
    let source = already.chain(rest);
    let mut body = Vec::new();
    if head.chunked {
        // One byte more than allowed tells "exactly the limit" from "over it".
        chunked_transfer::Decoder::new(source)
            .take(max_body + 1)
            .read_to_end(&mut body)?;
        return Ok((body.len() as u64 <= max_body).then_some(body));
    }
    let len = head.content_length.unwrap_or(0);
    if len > max_body {
        return Ok(None);
    }
    source.take(len).read_to_end(&mut body)?;
    if (body.len() as u64) < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "the connection closed after {} of {len} body bytes",
                body.len()
            ),
        ));
    }
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(raw: &[u8]) -> (RequestHead, usize) {
        match parse_head(raw) {
            Parsed::Complete(h, n) => (h, n),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_webhook_head_is_read_with_its_headers() {
        let raw = b"POST /webhook?x=1 HTTP/1.1\r\nHost: a\r\nx-gitlab-token: s3\r\nX-Gitlab-Event: Pipeline Hook\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nbody";
        let (head, len) = complete(raw);
        assert_eq!(head.method, "POST");
        assert_eq!(head.path, "/webhook?x=1");
        assert_eq!(head.token.as_deref(), Some(&b"s3"[..]));
        assert_eq!(head.event.as_deref(), Some("Pipeline Hook"));
        assert_eq!(head.content_length, Some(4));
        assert!(head.expect_continue);
        assert_eq!(&raw[len..], b"body");
        assert!(!head.body_may_follow(4));
        assert!(head.body_may_follow(3));
    }

    #[test]
    fn incomplete_oversized_and_ambiguous_heads() {
        assert_eq!(
            parse_head(b"POST /webhook HTTP/1.1\r\nHost"),
            Parsed::Partial
        );
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.resize(MAX_HEAD_BYTES, b'a');
        assert!(matches!(parse_head(&long), Parsed::TooLarge(m) if m.contains("larger")));
        let many: String = (0..100).map(|i| format!("X-{i}: v\r\n")).collect();
        let raw = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert!(
            matches!(parse_head(raw.as_bytes()), Parsed::TooLarge(m) if m.contains("header lines"))
        );
        for bad in [
            &b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"\x00\x01 garbage\r\n\r\n",
        ] {
            assert!(matches!(parse_head(bad), Parsed::Invalid(_)), "{bad:?}");
        }
    }

    #[test]
    fn bodies_by_length_and_chunks_respect_the_limit() {
        let (head, len) = complete(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel");
        let got = read_body(
            &head,
            &b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel"[len..],
            &b"lo-next"[..],
            10,
        );
        assert_eq!(got.unwrap().unwrap(), b"hello");
        assert_eq!(read_body(&head, b"", &b"hello"[..], 4).unwrap(), None);
        let short = read_body(&head, b"he", &b""[..], 10).unwrap_err();
        assert_eq!(short.kind(), io::ErrorKind::UnexpectedEof);

        let (chunked, _) = complete(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        assert_eq!(
            read_body(&chunked, b"", &body[..], 11).unwrap().unwrap(),
            b"hello world"
        );
        assert_eq!(read_body(&chunked, b"", &body[..], 10).unwrap(), None);
    }

    #[test]
    fn answers_carry_length_and_retry_after() {
        let text = String::from_utf8(response(503, "{}", Some(5))).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{text}"
        );
        assert!(text.contains("Content-Length: 2\r\n"));
        assert!(text.contains("Retry-After: 5\r\n"));
        assert!(text.ends_with("\r\n\r\n{}"));
    }
}
