//! Runs a session against recorded answers: the transcript ops and the cross-runtime
//! vectors use it to show that every runtime takes the same steps.

use super::handle::SessionHandle;
use crate::error::{Error, Result};
use crate::sync::protocol::{HttpResponse, Step};
use crate::sync::secrets::Secrets;
use serde::{Deserialize, Serialize};

/// What the host feeds the session, in order, each time it waits for something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "SessionFeed")
)]
pub enum Feed {
    /// The answer to the request just sent.
    Answer(HttpResponse),
    /// The text of the file just asked for.
    File(String),
    /// The file just asked for could not be read, for this reason.
    FileError(String),
    /// The host "crashes": it saves, starts again from the saved JSON and goes on.
    Resume,
}

/// Input of `session.replay`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReplayInput {
    /// The start request: `{"kind", "input", "options"}`.
    pub start: StartJson,
    #[serde(default)]
    pub secrets: Secrets,
    pub feed: Vec<Feed>,
}

/// The start request kept as JSON text, so the kind reads it with its own types.
#[derive(Debug, Clone)]
pub struct StartJson(pub String);

/// A start request of any kind (`SessionStart`, declared with the kinds' inputs).
#[cfg(feature = "schema")]
impl schemars::JsonSchema for StartJson {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SessionStart".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"$ref": "#/$defs/SessionStart"})
    }
}

impl<'de> Deserialize<'de> for StartJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        serde_json::to_string(&value)
            .map(StartJson)
            .map_err(serde::de::Error::custom)
    }
}

/// The transcript: every step the session took, and where the host resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReplayOutput {
    pub steps: Vec<Step>,
    /// Indexes into `steps` after which the session was saved and resumed.
    pub resumed_after: Vec<u64>,
    /// The session reached `Done`; false when the feed ran out first.
    pub finished: bool,
}

/// Most steps a replay takes: a transcript is a test, not a workload.
const MAX_STEPS: usize = 100_000;

pub fn replay(input: ReplayInput) -> Result<ReplayOutput> {
    let mut session = SessionHandle::start(input.start.0.as_bytes(), &input.secrets)?;
    let mut feed = input.feed.into_iter().peekable();
    let mut out = ReplayOutput {
        steps: Vec::new(),
        resumed_after: Vec::new(),
        finished: false,
    };
    while out.steps.len() < MAX_STEPS {
        let step = session.next();
        out.steps.push(step.clone());
        let waiting_for = match &step {
            Step::Send(req) => Some((req.id, true)),
            Step::Read(file) => Some((file.id, false)),
            Step::Wait { .. } | Step::Save => None,
            Step::Done(_) => {
                out.finished = true;
                return Ok(out);
            }
        };
        let Some((id, is_request)) = waiting_for else {
            continue;
        };
        if feed.peek() == Some(&Feed::Resume) {
            // The request's outcome is unknown to the resumed session: it looks
            // before it creates anything again.
            feed.next();
            let saved = session.save()?;
            session = SessionHandle::resume(saved.as_bytes(), &input.secrets)?;
            out.resumed_after.push(out.steps.len() as u64 - 1);
            continue;
        }
        match (feed.next(), is_request) {
            (None, _) => return Ok(out),
            (Some(Feed::Answer(response)), true) => session.receive(id, response)?,
            (Some(Feed::File(text)), false) => session.provide_file(id, Ok(text.into_bytes()))?,
            (Some(Feed::FileError(why)), false) => session.provide_file(id, Err(why))?,
            (Some(other), _) => {
                return Err(Error::new(
                    "session.feed_mismatch",
                    format!(
                        "step {} waits for {} but the feed gives {}",
                        out.steps.len() - 1,
                        if is_request { "an answer" } else { "a file" },
                        feed_name(&other)
                    ),
                ));
            }
        }
    }
    Err(Error::new(
        "session.too_many_steps",
        format!("the session took more than {MAX_STEPS} steps"),
    ))
}

fn feed_name(feed: &Feed) -> &'static str {
    match feed {
        Feed::Answer(_) => "an answer",
        Feed::File(_) | Feed::FileError(_) => "a file",
        Feed::Resume => "a resume",
    }
}
