//! A minimal HTTP/1.1 server on 127.0.0.1, one thread per connection and one request
//! per connection (`Connection: close`). Written by hand instead of taken from a
//! crate because the simulators must be able to do what servers normally never do:
//! drop a connection without answering, or apply a request and then lose the answer.

use crate::url::{decode_component, split_query};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Requests larger than this are refused with 413.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// One parsed request.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    /// The path, percent-decoded, without the query string.
    pub path: String,
    /// The raw request target (path and query as sent).
    pub target: String,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter of that name (case-insensitive, as Rally reads them).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, value: &serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// What a handler decides.
pub enum Outcome {
    Reply(Reply),
    /// Close the connection without a byte of answer.
    Drop,
    /// Wait, then answer.
    Delayed(Duration, Reply),
}

type Handler = dyn Fn(HttpRequest) -> Outcome + Send + Sync;

/// A running server; it stops when dropped.
pub struct HttpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Binds 127.0.0.1 on a free port and serves every request with `handler`.
    pub fn start(handler: Arc<Handler>) -> io::Result<HttpServer> {
        HttpServer::bind("127.0.0.1:0", handler)
    }

    /// Binds the given address (`127.0.0.1:8081`, or port 0 for a free one).
    pub fn bind(addr: &str, handler: Arc<Handler>) -> io::Result<HttpServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = stop.clone();
        let accept = std::thread::Builder::new()
            .name(format!("sim-accept-{}", addr.port()))
            .spawn(move || {
                for conn in listener.incoming() {
                    if stop_flag.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = conn else { continue };
                    let handler = handler.clone();
                    let _ = std::thread::Builder::new()
                        .name("sim-conn".into())
                        .spawn(move || serve_connection(stream, &*handler));
                }
            })?;
        Ok(HttpServer {
            addr,
            stop,
            accept: Some(accept),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn serve_connection(stream: TcpStream, handler: &Handler) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut writer = stream;
    let request = match read_request(&mut reader) {
        Ok(Some(r)) => r,
        Ok(None) => return,
        Err(ReadError::TooLarge) => {
            let _ = write_reply(
                &mut writer,
                &Reply::bytes(413, "text/plain", b"too large".to_vec()),
            );
            return;
        }
        Err(ReadError::Bad(msg)) => {
            let _ = write_reply(
                &mut writer,
                &Reply::bytes(400, "text/plain", msg.into_bytes()),
            );
            return;
        }
    };
    match handler(request) {
        Outcome::Reply(reply) => {
            let _ = write_reply(&mut writer, &reply);
        }
        Outcome::Delayed(wait, reply) => {
            std::thread::sleep(wait);
            let _ = write_reply(&mut writer, &reply);
        }
        Outcome::Drop => {}
    }
    let _ = writer.flush();
    let _ = writer.shutdown(Shutdown::Both);
}

pub(crate) enum ReadError {
    TooLarge,
    Bad(String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Bad(e.to_string())
    }
}

fn read_line(r: &mut impl BufRead) -> Result<String, ReadError> {
    let mut buf = Vec::new();
    r.by_ref().take(64 * 1024).read_until(b'\n', &mut buf)?;
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    String::from_utf8(buf).map_err(|_| ReadError::Bad("header is not UTF-8".into()))
}

fn read_request(r: &mut impl BufRead) -> Result<Option<HttpRequest>, ReadError> {
    let line = read_line(r)?;
    if line.is_empty() {
        return Ok(None);
    }
    let mut parts = line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts
        .next()
        .ok_or_else(|| ReadError::Bad("no request target".into()))?
        .to_string();
    let mut headers = Vec::new();
    loop {
        let h = read_line(r)?;
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        if headers.len() > 200 {
            return Err(ReadError::Bad("too many headers".into()));
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let body = if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        read_chunked(r)?
    } else if let Some(len) = get("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| ReadError::Bad("bad Content-Length".into()))?;
        if len > MAX_BODY {
            return Err(ReadError::TooLarge);
        }
        let mut body = vec![0u8; len];
        r.read_exact(&mut body)?;
        body
    } else {
        Vec::new()
    };
    let (raw_path, raw_query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    Ok(Some(HttpRequest {
        method,
        path: decode_component(raw_path, false),
        query: split_query(raw_query),
        target: target.clone(),
        headers,
        body,
    }))
}

/// Decodes a chunked body (chunk extensions and trailers are ignored).
pub(crate) fn read_chunked(r: &mut impl BufRead) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let size_line = read_line(r)?;
        let size_text = size_line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Bad(format!("bad chunk size {size_text:?}")))?;
        if size == 0 {
            // Trailers until an empty line.
            while !read_line(r)?.is_empty() {}
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(ReadError::TooLarge);
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        read_line(r)?;
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn write_reply(w: &mut impl Write, reply: &Reply) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (n, v) in &reply.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    w.write_all(head.as_bytes())?;
    w.write_all(&reply.body)?;
    w.flush()
}
