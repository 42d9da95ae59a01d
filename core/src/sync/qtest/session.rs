//! The loop every qTest session shares: the link sends, retries and waits; the
//! session's logic decides what to call next and what an answer means.

use super::link::{Call, Link, Outcome, Poll};
use crate::error::{Error, Result};
use crate::sync::protocol::{HttpResponse, Session, Step};
use crate::sync::report::Report;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub enum Action {
    Call(Call),
    Finish,
}

/// A session's own decisions. Its state is all it keeps: it serialises.
pub trait Logic: Serialize + DeserializeOwned + std::fmt::Debug + Clone + Send {
    type Input: Serialize + DeserializeOwned + std::fmt::Debug + Clone + Send;
    fn advance(&mut self, input: &Self::Input) -> Action;
    fn on_outcome(&mut self, input: &Self::Input, outcome: Outcome);
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
                finished: false,
            },
        }
    }

    /// Goes on from saved progress; whatever was in flight is looked up first.
    pub fn resume(input: L::Input, mut progress: Progress<L>, token: Option<String>) -> Self {
        progress.link.set_token(token);
        progress.link.reset();
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

    fn provide_file(&mut self, id: u64, _file: std::result::Result<Vec<u8>, String>) -> Result<()> {
        Err(Error::new(
            "sync.unexpected_file",
            format!("no file request {id} is waiting"),
        )
        .with_hint("qTest sessions read no files"))
    }
}
