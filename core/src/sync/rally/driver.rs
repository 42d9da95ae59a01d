//! The loop every Rally session shares: the link sends, retries and waits; the
//! session's logic decides what to call next and what an answer means.

use super::link::{Call, Credentials, Link, Outcome, Poll};
use crate::error::{Error, Result};
use crate::sync::protocol::{FileRequest, HttpResponse, Session, Step};
use crate::sync::report::Report;
use crate::sync::retry::RetryPolicy;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What the logic wants next.
pub enum Action {
    Call(Call),
    /// The bytes of a file the report names.
    Read(String),
    Finish,
}

/// A session's own decisions. Its state is all it keeps: it serialises.
pub trait Logic: Serialize + DeserializeOwned + std::fmt::Debug + Clone + Send {
    type Input: Serialize + DeserializeOwned + std::fmt::Debug + Clone + Send;
    fn advance(&mut self, input: &Self::Input) -> Action;
    fn on_outcome(&mut self, input: &Self::Input, outcome: Outcome);
    fn on_file(&mut self, _input: &Self::Input, _file: std::result::Result<Vec<u8>, String>) {}
    /// Go on after a crash or an abandoned request: whatever was in flight has an
    /// unknown outcome.
    fn restart(&mut self);
    /// Stop with this error (e.g. credentials missing).
    fn stop(&mut self, error: Error, retryable: bool);
    fn finish(&mut self, input: &Self::Input, link: &Link) -> Report;
    /// (done, total) units of work, for progress displays.
    fn progress(&self) -> (u64, u64) {
        (0, 0)
    }
    /// The change now in flight carries an identity this logic looks up before making
    /// it again: progress saved late costs lookups on a resume, never a duplicate.
    fn change_is_looked_up(&self) -> bool {
        false
    }
}

/// Options every session takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionOptions {
    /// Seed of the backoff jitter.
    pub seed: u64,
    pub retry: RetryPolicy,
}

/// The serialisable progress of a session: the link and the logic.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "L: Logic")]
pub struct Progress<L> {
    link: Link,
    logic: L,
    reading: Option<FileRequest>,
    next_read: u64,
    finished: bool,
}

/// A Rally session: its input (kept as given) and its progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "L: Logic")]
pub struct RallySession<L: Logic> {
    input: L::Input,
    progress: Progress<L>,
}

impl<L: Logic> RallySession<L> {
    pub(crate) fn build(input: L::Input, logic: L, link: Link) -> Self {
        RallySession {
            input,
            progress: Progress {
                link,
                logic,
                reading: None,
                next_read: 1,
                finished: false,
            },
        }
    }

    pub fn input(&self) -> &L::Input {
        &self.input
    }

    /// The progress to persist; small next to the input, which a host stores once.
    pub fn progress(&self) -> &Progress<L> {
        &self.progress
    }

    /// Goes on from persisted progress. Whatever was in flight when it was saved is
    /// looked up before anything is created again.
    pub fn resume(input: L::Input, mut progress: Progress<L>, credentials: Credentials) -> Self {
        progress.link.set_credentials(credentials);
        progress.link.reset();
        progress.reading = None;
        // Stopped sessions go on too: the key may be fixed, the target back up.
        progress.finished = false;
        progress.logic.restart();
        RallySession { input, progress }
    }

    /// Credentials are never serialised: give them again after deserialising.
    pub fn set_credentials(&mut self, credentials: Credentials) {
        self.progress.link.set_credentials(credentials);
    }

    /// (done, total) units of work.
    pub fn units(&self) -> (u64, u64) {
        self.progress.logic.progress()
    }

    pub fn is_finished(&self) -> bool {
        self.progress.finished
    }

    /// See [`Logic::change_is_looked_up`].
    pub fn change_is_looked_up(&self) -> bool {
        self.progress.logic.change_is_looked_up()
    }
}

impl<L: Logic> Session for RallySession<L> {
    fn next(&mut self) -> Step {
        let p = &mut self.progress;
        // A logic that never finishes is a bug; stop rather than spin.
        for _ in 0..100_000 {
            if let Some(r) = &p.reading {
                return Step::Read(r.clone());
            }
            match p.link.poll() {
                Poll::Step(step) => return step,
                Poll::Abandoned => {
                    p.link.reset();
                    p.logic.restart();
                    continue;
                }
                Poll::NoCredentials => {
                    p.link.reset();
                    p.logic.stop(
                        Error::new("sync.no_credentials", "the session has no credentials")
                            .with_hint("call set_credentials after restoring a session"),
                        false,
                    );
                }
                Poll::Idle => {}
            }
            match p.logic.advance(&self.input) {
                Action::Call(call) => p.link.start(call),
                Action::Read(path) => {
                    let id = p.next_read;
                    p.next_read += 1;
                    let r = FileRequest { id, path };
                    p.reading = Some(r.clone());
                    return Step::Read(r);
                }
                Action::Finish => {
                    p.finished = true;
                    return Step::Done(p.logic.finish(&self.input, &p.link));
                }
            }
        }
        p.logic.stop(
            Error::new("sync.stuck", "the session made no progress")
                .with_hint("this is a bug in tmbridge; please report it"),
            false,
        );
        p.finished = true;
        Step::Done(p.logic.finish(&self.input, &p.link))
    }

    fn receive(&mut self, id: u64, response: HttpResponse) -> Result<()> {
        let p = &mut self.progress;
        if let Some(outcome) = p.link.receive(id, &response)? {
            p.logic.on_outcome(&self.input, outcome);
        }
        Ok(())
    }

    fn provide_file(&mut self, id: u64, file: std::result::Result<Vec<u8>, String>) -> Result<()> {
        let p = &mut self.progress;
        match &p.reading {
            Some(r) if r.id == id => {
                p.reading = None;
                p.logic.on_file(&self.input, file);
                Ok(())
            }
            _ => Err(Error::new(
                "sync.unexpected_file",
                format!("no file request {id} is waiting"),
            )
            .with_hint("answer the request the last Step::Read named, once")),
        }
    }
}
