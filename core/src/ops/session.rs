//! Session ops: the kinds a host can start, and a session replayed against recorded
//! answers (the transcripts every runtime must agree on). Live sessions are driven
//! through each binding's session handle, which wraps `crate::session`.

use super::envelope::{error_envelope, ok_envelope};
use super::input::Nothing;
use super::input::{from_json, no_document};
use super::op::Op;
use crate::error::{Error, Result};
use crate::session::{
    KindInfo, ReplayInput, ReplayOutput, Secrets, SessionHandle, kind_list, replay,
};
use crate::sync::protocol::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

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

pub struct WorkKey;

/// Input of `session.work_key`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WorkKeyInput {
    /// The session kind, e.g. `rally.publish`.
    kind: String,
    /// What identifies the work: the input the session starts from, or the parts
    /// of it that stay the same when the same work comes again.
    work: serde_json::Value,
}

impl Op for WorkKey {
    const NAME: &'static str = "session.work_key";
    const SUMMARY: &'static str = "The key to store a run's progress under: the same work gives the same key in every runtime.";
    const INPUT: &'static str = "{ kind: string, work: unknown }";
    const OUTPUT: &'static str = "string";
    type Input = WorkKeyInput;
    type Output = String;

    fn run(input: WorkKeyInput, document: Option<&[u8]>) -> Result<String> {
        no_document(Self::NAME, document)?;
        Ok(crate::session::work_key(&input.kind, &input.work))
    }
}

pub struct DryRunAnswer;

/// One request of a dry run: what to answer instead of sending it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DryRunInput {
    request: HttpRequest,
    /// The `counter` of the previous answer (0 at the start): numbers made-up records.
    #[serde(default)]
    counter: u64,
}

#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DryRunOutput {
    /// Hand this to `receive` instead of sending the request.
    answer: HttpResponse,
    /// The request as it may be shown: secret headers and URL parts masked.
    shown: HttpRequest,
    /// Pass it with the next request of the same session.
    counter: u64,
}

impl Op for DryRunAnswer {
    const NAME: &'static str = "session.dry_run_answer";
    const SUMMARY: &'static str =
        "Answer a session's request without sending it (a dry run), and show it masked.";
    const INPUT: &'static str = "{ request: HttpRequest, counter?: number }";
    const OUTPUT: &'static str = "{ answer: HttpResponse, shown: HttpRequest, counter: number }";
    type Input = DryRunInput;
    type Output = DryRunOutput;

    fn run(input: DryRunInput, document: Option<&[u8]>) -> Result<DryRunOutput> {
        no_document(Self::NAME, document)?;
        let mut counter = input.counter;
        let answer = crate::sync::dry_run::answer(&input.request, &mut counter);
        Ok(DryRunOutput {
            answer,
            shown: crate::sync::mask::mask_request(&input.request),
            counter,
        })
    }
}

pub struct MaskReport;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MaskReportInput {
    report: serde_json::Value,
}

impl Op for MaskReport {
    const NAME: &'static str = "session.mask_report";
    const SUMMARY: &'static str = "A session's report as it may be shown or stored: URL credentials and secret query parameters masked.";
    const INPUT: &'static str = "{ report: SyncReport }";
    const OUTPUT: &'static str = "SyncReport";
    type Input = MaskReportInput;
    type Output = serde_json::Value;

    fn run(input: MaskReportInput, document: Option<&[u8]>) -> Result<serde_json::Value> {
        no_document(Self::NAME, document)?;
        let text = input.report.to_string();
        let masked = crate::sync::mask::mask_text(&text);
        // Masking only replaces characters inside JSON strings; should it ever break
        // the document, nothing of the original is given back.
        Ok(crate::json::from_str(&masked).unwrap_or(serde_json::Value::Null))
    }
}

/// A live session for the bindings: every call answers with an envelope, so each
/// binding only passes bytes and turns envelopes into values and exceptions.
pub struct SessionEnvelopes {
    session: std::result::Result<SessionHandle, Error>,
}

/// `{"kind": ...}`: what `opened` answers.
#[derive(Serialize)]
struct Opened<'a> {
    kind: &'a str,
}

impl SessionEnvelopes {
    /// Starts a session from a start request and the secrets (`{"api_key": ...}`).
    pub fn start(request_json: &[u8], secrets_json: &[u8]) -> SessionEnvelopes {
        SessionEnvelopes {
            session: Secrets::from_json(secrets_json)
                .and_then(|s| SessionHandle::start(request_json, &s)),
        }
    }

    /// Goes on from saved progress (what `save` gave, in any runtime).
    pub fn resume(saved_json: &[u8], secrets_json: &[u8]) -> SessionEnvelopes {
        SessionEnvelopes {
            session: Secrets::from_json(secrets_json)
                .and_then(|s| SessionHandle::resume(saved_json, &s)),
        }
    }

    /// Goes on from an input and progress stored apart (what `input` and
    /// `save_progress` gave, in any runtime).
    pub fn resume_parts(
        kind: &str,
        input_json: &[u8],
        progress_json: &[u8],
        secrets_json: &[u8],
    ) -> SessionEnvelopes {
        SessionEnvelopes {
            session: Secrets::from_json(secrets_json)
                .and_then(|s| SessionHandle::resume_parts(kind, input_json, progress_json, &s)),
        }
    }

    /// `{"kind": ...}`, or why the session could not start.
    pub fn opened(&self) -> Vec<u8> {
        match &self.session {
            Ok(s) => ok_envelope(&Opened { kind: s.kind() }),
            Err(e) => error_envelope(e),
        }
    }

    /// The next step.
    pub fn next_envelope(&mut self) -> Vec<u8> {
        match &mut self.session {
            Ok(s) => ok_envelope(&s.next()),
            Err(e) => error_envelope(e),
        }
    }

    /// The answer to request `id`, as `HttpResponse` JSON.
    pub fn receive(&mut self, id: u64, response_json: &[u8]) -> Vec<u8> {
        let result = self.live().and_then(|s| {
            let response = from_json::<HttpResponse>(
                "session.receive",
                "{ kind, status, headers, body }",
                response_json,
            )?;
            s.receive(id, response)
        });
        unit_envelope(result)
    }

    /// The file asked for, or why it could not be read.
    pub fn provide_file(&mut self, id: u64, file: std::result::Result<Vec<u8>, String>) -> Vec<u8> {
        let result = self.live().and_then(|s| s.provide_file(id, file));
        unit_envelope(result)
    }

    /// The saved progress, as a JSON string inside the envelope.
    pub fn save(&self) -> Vec<u8> {
        match &self.session {
            Ok(s) => match s.save() {
                Ok(saved) => ok_envelope(&saved),
                Err(e) => error_envelope(&e),
            },
            Err(e) => error_envelope(e),
        }
    }

    /// The progress alone, as a JSON string inside the envelope: for hosts that
    /// stored the input once.
    pub fn save_progress(&self) -> Vec<u8> {
        self.text(SessionHandle::save_progress)
    }

    /// The session's input as it keeps it, as a JSON string inside the envelope.
    pub fn input(&self) -> Vec<u8> {
        self.text(SessionHandle::input)
    }

    fn text(&self, f: impl Fn(&SessionHandle) -> Result<String>) -> Vec<u8> {
        match self.session.as_ref().map_err(Clone::clone).and_then(f) {
            Ok(text) => ok_envelope(&text),
            Err(e) => error_envelope(&e),
        }
    }

    /// `{"done", "total"}` units of work, for progress displays.
    pub fn units(&self) -> Vec<u8> {
        match &self.session {
            Ok(s) => {
                let (done, total) = s.units();
                ok_envelope(&Units { done, total })
            }
            Err(e) => error_envelope(e),
        }
    }

    fn live(&mut self) -> Result<&mut SessionHandle> {
        self.session.as_mut().map_err(|e| e.clone())
    }
}

#[derive(Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "SessionUnits")
)]
pub struct Units {
    done: u64,
    total: u64,
}

fn unit_envelope(result: Result<()>) -> Vec<u8> {
    match result {
        Ok(()) => ok_envelope(&()),
        Err(e) => error_envelope(&e),
    }
}
