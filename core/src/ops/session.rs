//! Session ops: the kinds a host can start, and a session replayed against recorded
//! answers (the transcripts every runtime must agree on). Live sessions are driven
//! through each binding's session handle, which wraps `crate::session`.

use super::input::no_document;
use super::meta::Nothing;
use super::registry::Op;
use crate::error::Result;
use crate::session::{KindInfo, ReplayInput, ReplayOutput, kind_list, replay};

pub struct Kinds;

impl Op for Kinds {
    const NAME: &'static str = "session.kinds";
    const SUMMARY: &'static str = "Every session kind a host can start, with its input shape.";
    const INPUT: &'static str = "{}";
    const OUTPUT: &'static str = "SessionKind[]";
    type Input = Nothing;
    type Output = Vec<KindInfo>;

    fn run(_: Nothing, document: Option<&[u8]>) -> Result<Vec<KindInfo>> {
        no_document(Self::NAME, document)?;
        Ok(kind_list())
    }
}

pub struct Replay;

impl Op for Replay {
    const NAME: &'static str = "session.replay";
    const SUMMARY: &'static str =
        "Run a session against recorded answers and list every step it takes.";
    const INPUT: &'static str =
        "{ start: SessionStart, secrets?: SessionSecrets, feed: SessionFeed[] }";
    const OUTPUT: &'static str = "{ steps: Step[], resumed_after: number[], finished: boolean }";
    type Input = ReplayInput;
    type Output = ReplayOutput;

    fn run(input: ReplayInput, document: Option<&[u8]>) -> Result<ReplayOutput> {
        no_document(Self::NAME, document)?;
        replay(input)
    }
}
