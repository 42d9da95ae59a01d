//! Where a session's requests go: the network, or a dry run that answers every
//! request itself and keeps it (masked) for display.

use super::mask;
use std::time::Duration;
use tmbridge_core::sync::{HttpRequest, HttpResponse};

pub trait Transport {
    fn send(&mut self, request: &HttpRequest) -> HttpResponse;
    /// Waits as the session asked (backoff, Retry-After).
    fn wait(&mut self, ms: u64);
}

/// Waits before each request until it may go: a rate limit shared with other
/// processes (`tmbridge worker --rate-limit`).
#[derive(Clone)]
pub struct Gate(pub std::sync::Arc<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gate")
    }
}

/// Real HTTP.
pub struct Network {
    http: super::http::Http,
    gate: Option<Gate>,
}

impl Network {
    pub fn new(timeout: Duration) -> Network {
        Network {
            http: super::http::Http::new(timeout),
            gate: None,
        }
    }

    /// Every request first waits at `gate`, when there is one.
    pub fn gated(mut self, gate: Option<Gate>) -> Network {
        self.gate = gate;
        self
    }
}

impl Transport for Network {
    fn send(&mut self, request: &HttpRequest) -> HttpResponse {
        if let Some(gate) = &self.gate {
            (gate.0)();
        }
        self.http.send(request)
    }

    fn wait(&mut self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// Sends nothing: answers like an empty target and lists every request, masked.
#[derive(Default)]
pub struct DryRun {
    counter: u64,
    requests: Vec<HttpRequest>,
}

impl DryRun {
    pub fn requests(&self) -> &[HttpRequest] {
        &self.requests
    }
}

impl Transport for DryRun {
    fn send(&mut self, request: &HttpRequest) -> HttpResponse {
        self.requests.push(mask::masked(request));
        tmbridge_core::sync::dry_run::answer(request, &mut self.counter)
    }

    fn wait(&mut self, _ms: u64) {}
}
