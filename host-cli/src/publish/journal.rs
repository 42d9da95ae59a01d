//! The outbox's request journal as a transport layer: every request that changes the
//! target is written down (masked) before it goes out, then marked confirmed,
//! refused or lost by its answer.

use super::outbox::Outbox;
use crate::host::Transport;
use crate::host::mask;
use tmbridge_core::sync::{HttpRequest, HttpResponse, Method, ResponseKind};

pub struct Journaled<'a> {
    pub inner: &'a mut dyn Transport,
    pub outbox: &'a Outbox,
    pub run: i64,
    pub attempt: i64,
    /// The first journal write that failed: the run stops rather than go on unrecorded.
    pub failure: Option<anyhow::Error>,
}

impl Transport for Journaled<'_> {
    fn send(&mut self, request: &HttpRequest) -> HttpResponse {
        if request.method == Method::Get {
            return self.inner.send(request);
        }
        let url = mask::masked_url(&request.url);
        let sent = self.outbox.journal_sent(
            self.run,
            self.attempt,
            request.id,
            request.method.as_str(),
            &url,
        );
        if let Err(e) = sent {
            // Not sent: the session sees a refused connection and stops or retries.
            self.failure.get_or_insert(e);
            return HttpResponse::failed(
                ResponseKind::ConnectFailed,
                "the outbox could not record the request; it was not sent",
            );
        }
        let response = self.inner.send(request);
        let state = match (response.kind, response.status) {
            (ResponseKind::Answered, 200..=299) => "confirmed",
            (ResponseKind::Answered, 400..=499) => "refused",
            _ => "lost",
        };
        let answered =
            self.outbox
                .journal_answer(self.run, self.attempt, request.id, state, response.status);
        if let Err(e) = answered {
            self.failure.get_or_insert(e);
        }
        response
    }

    fn wait(&mut self, ms: u64) {
        self.inner.wait(ms);
    }
}
