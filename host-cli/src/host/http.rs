//! The one place the CLI's sessions touch the network: sends a session's request
//! with ureq (TLS with the platform's roots) and turns every outcome into an
//! `HttpResponse`, failures included.

use std::io::ErrorKind;
use std::time::Duration;
use tmbridge_core::sync::mask::mask_text;
use tmbridge_core::sync::{HttpRequest, HttpResponse, Method, ResponseKind};

/// Bodies above this are cut off: no WSAPI answer comes near it; GitLab artifacts
/// archives up to this size are read (the session skips larger ones).
const MAX_BODY: u64 = 256 * 1024 * 1024;

pub struct Http {
    agent: ureq::Agent,
}

impl Http {
    /// `timeout`: for a whole request, answer included.
    pub fn new(timeout: Duration) -> Http {
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // The session decides about redirects (they mean a wrong URL).
            .max_redirects(0)
            .timeout_global(Some(timeout))
            .tls_config(tls)
            .user_agent(concat!("tmbridge/", env!("CARGO_PKG_VERSION")))
            .build();
        Http {
            agent: ureq::Agent::new_with_config(config),
        }
    }

    pub fn send(&self, req: &HttpRequest) -> HttpResponse {
        let method = match req.method {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        };
        let mut builder = ureq::http::Request::builder().method(method).uri(&req.url);
        for (name, value) in &req.headers {
            builder = builder.header(name, value);
        }
        // JSON text, or the bytes of a binary body (a multipart upload).
        let body = req.body_bytes().unwrap_or_default();
        let request = match builder.body(body) {
            Ok(r) => r,
            Err(e) => {
                return HttpResponse::failed(
                    ResponseKind::ConnectFailed,
                    mask_text(&format!("bad request: {e}")),
                );
            }
        };
        match self.agent.run(request) {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let headers = resp
                    .headers()
                    .iter()
                    .map(|(n, v)| {
                        (
                            n.as_str().to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                match resp.body_mut().with_config().limit(MAX_BODY).read_to_vec() {
                    // Text as it is; anything else (a zip archive) in base64.
                    Ok(bytes) => HttpResponse::answered_bytes(status, headers, bytes),
                    Err(e) => failure(e, true),
                }
            }
            Err(e) => failure(e, false),
        }
    }
}

/// Whether the request may have reached the server decides between "connect
/// failed" (safe to send again) and "dropped" (the server may have acted). The
/// text may name the URL: it is masked, as it ends up in reports and the outbox.
fn failure(e: ureq::Error, answered: bool) -> HttpResponse {
    let text = mask_text(&e.to_string());
    let kind = match &e {
        ureq::Error::Timeout(_) => ResponseKind::Timeout,
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::BadUri(_)
        | ureq::Error::Tls(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::TlsRequired => ResponseKind::ConnectFailed,
        ureq::Error::Io(io) if !answered => match io.kind() {
            ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable | ErrorKind::NotFound => {
                ResponseKind::ConnectFailed
            }
            ErrorKind::TimedOut | ErrorKind::WouldBlock => ResponseKind::Timeout,
            _ => ResponseKind::Dropped,
        },
        _ => ResponseKind::Dropped,
    };
    HttpResponse::failed(kind, text)
}
