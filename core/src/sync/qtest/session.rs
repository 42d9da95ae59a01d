//! The loop every qTest session shares: the link sends, retries and waits; the
//! session's logic decides what to call next and what an answer means.

use super::link::{Call, Link, Outcome, Poll};
use crate::error::{Error, Result};
use crate::sync::kind::StartOptions;
use crate::sync::protocol::{FileRequest, HttpResponse, Session, Step};
use crate::sync::report::Report;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub enum Action {
    Call(Call),
    /// The bytes of a file a report names (an attachment).
    Read(String),
    Finish,
}

/// A session's own decisions. Its state is all it keeps: it serialises.
pub trait Logic: Serialize + DeserializeOwned + std::fmt::Debug + Clone + Send {
    type Input: Serialize + DeserializeOwned + std::fmt::Debug + Clone + Send;
    fn advance(&mut self, input: &Self::Input) -> Action;
    fn on_outcome(&mut self, input: &Self::Input, outcome: Outcome);
    fn on_file(&mut self, _file: std::result::Result<Vec<u8>, String>) {}
    /// Go on after a crash or an abandoned request: what was in flight is unknown.
    fn restart(&mut self);
    fn stop(&mut self, error: Error, retryable: bool);
    fn finish(&mut self, input: &Self::Input, link: &Link) -> Report;
    fn units(&self) -> (u64, u64) {
        (0, 0)
    }
}

/// The serialisable progress of a session: the link and the logic.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "L: Logic")]
pub struct Progress<L> {
    link: Link,
    logic: L,
    #[serde(default)]
    reading: Option<FileRequest>,
    #[serde(default)]
    next_read: u64,
    finished: bool,
}

#[derive(Debug, Clone)]
pub struct QtestSession<L: Logic> {
    input: L::Input,
    progress: Progress<L>,
}

impl<L: Logic> QtestSession<L> {
    pub(crate) fn build(input: L::Input, logic: L, link: Link) -> Self {
        QtestSession {
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

    /// Goes on from saved progress; whatever was in flight is looked up first.
    pub fn resume(input: L::Input, mut progress: Progress<L>, token: Option<String>) -> Self {
        progress.link.set_token(token);
        progress.link.reset();
        progress.reading = None;
        progress.finished = false;
        progress.logic.restart();
        QtestSession { input, progress }
    }

    pub fn input(&self) -> &L::Input {
        &self.input
    }

    pub fn progress(&self) -> &Progress<L> {
        &self.progress
    }

    pub fn units(&self) -> (u64, u64) {
        self.progress.logic.units()
    }

    pub fn is_finished(&self) -> bool {
        self.progress.finished
    }
}

impl<L: Logic> Session for QtestSession<L> {
    fn next(&mut self) -> Step {
        let p = &mut self.progress;
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
                Poll::NoToken => {
                    p.link.reset();
                    p.logic.stop(
                        Error::new("sync.no_credentials", "the session has no qTest token")
                            .with_hint("give the token as the secrets' api_key"),
                        false,
                    );
                }
                Poll::Idle => {}
            }
            match p.logic.advance(&self.input) {
                Action::Call(call) => p.link.start(call),
                Action::Read(path) => {
                    let r = FileRequest {
                        id: p.next_read.max(1),
                        path,
                    };
                    p.next_read = r.id + 1;
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
                p.logic.on_file(file);
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

/// A kind's start input: builds the session.
pub(super) trait QtestStart: DeserializeOwned {
    type Logic: Logic;
    fn build(
        self,
        token: Option<String>,
        options: StartOptions,
    ) -> Result<QtestSession<Self::Logic>>;
}
