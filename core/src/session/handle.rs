//! A running session of any kind, with the save points the core decides.

use super::registry::find;
use crate::error::{Error, Result};
use crate::sync::kind::{Driven, SAVED_FORMAT, SAVED_VERSION};
use crate::sync::protocol::{HttpResponse, Method, Step};
use crate::sync::secrets::Secrets;
use serde::Deserialize;

/// Saves per run around changes found again by identity (see `SessionHandle::save_now`).
const SAVES_PER_RUN: u64 = 32;

/// A session a host drives: [`next`](Self::next), then `receive`, `provide_file`,
/// a sleep or [`save`](Self::save), as the step says.
pub struct SessionHandle {
    kind: &'static str,
    session: Box<dyn Driven>,
    /// A step held back until the host has saved.
    held: Option<Step>,
    /// Save once the answer to this request is in.
    save_after: Option<u64>,
    save_due: bool,
    /// Changes sent without a save before them since the last save (see `next`).
    unsaved_changes: u64,
    /// How many such changes may go between saves; fixed at the first one.
    spaced_saves_every: Option<u64>,
}

/// The head of a start request or of saved progress: enough to find the kind.
#[derive(Deserialize)]
struct Head {
    kind: Option<String>,
    format: Option<String>,
    version: Option<u32>,
}

fn head(bytes: &[u8], code: &str, what: &str) -> Result<Head> {
    crate::sync::kind::read_json(bytes, code, what)
}

impl SessionHandle {
    /// Starts a session from `{"kind": ..., "input": ..., "options": ...}`.
    pub fn start(request_json: &[u8], secrets: &Secrets) -> Result<SessionHandle> {
        let head = head(request_json, "session.invalid_start", "the start request")?;
        let name = head.kind.ok_or_else(|| {
            Error::new("session.invalid_start", "the start request has no `kind`")
                .with_hint("start with {\"kind\": \"rally.publish\", \"input\": {...}}")
        })?;
        let kind = find(&name)?;
        Ok(SessionHandle::new(
            kind.name,
            (kind.start)(request_json, secrets)?,
        ))
    }

    /// Goes on from what [`save`](Self::save) gave, in this or any other runtime.
    pub fn resume(saved_json: &[u8], secrets: &Secrets) -> Result<SessionHandle> {
        let head = head(saved_json, "session.invalid_saved", "the saved session")?;
        if head.format.as_deref() != Some(SAVED_FORMAT) {
            return Err(Error::new(
                "session.invalid_saved",
                "this is not a saved tmbridge session",
            )
            .with_hint("pass exactly what save() returned"));
        }
        if head.version != Some(SAVED_VERSION) {
            return Err(Error::new(
                "session.saved_version",
                format!(
                    "the session was saved in format version {:?}; this tmbridge reads version {SAVED_VERSION}",
                    head.version
                ),
            )
            .with_hint("finish it with the tmbridge that saved it, or start it again"));
        }
        let name = head.kind.unwrap_or_default();
        let kind = find(&name)?;
        Ok(SessionHandle::new(
            kind.name,
            (kind.resume)(saved_json, secrets)?,
        ))
    }

    /// Goes on from [`input`](Self::input) and [`save_progress`](Self::save_progress),
    /// stored apart by a host that keeps the input once.
    pub fn resume_parts(
        kind: &str,
        input_json: &[u8],
        progress_json: &[u8],
        secrets: &Secrets,
    ) -> Result<SessionHandle> {
        let kind = find(kind)?;
        Ok(SessionHandle::new(
            kind.name,
            (kind.resume_parts)(kind.name, input_json, progress_json, secrets)?,
        ))
    }

    fn new(kind: &'static str, session: Box<dyn Driven>) -> SessionHandle {
        SessionHandle {
            kind,
            session,
            held: None,
            save_after: None,
            save_due: false,
            unsaved_changes: 0,
            spaced_saves_every: None,
        }
    }

    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// What the host does next. Before a request that changes the target the
    /// session asks for `Step::Save`; the request comes with the next call.
    #[allow(clippy::should_implement_trait)] // `next` as in every session of the core
    pub fn next(&mut self) -> Step {
        if self.save_due {
            self.save_due = false;
            return Step::Save;
        }
        if let Some(step) = self.held.take() {
            return step;
        }
        let step = self.session.next();
        if let Step::Send(req) = &step
            && req.method != Method::Get
        {
            if self.session.change_is_looked_up() && !self.save_now() {
                return step;
            }
            self.save_after = Some(req.id);
            self.held = Some(step);
            return Step::Save;
        }
        step
    }

    /// Whether a change the session finds again by its identity gets its saves. Saving
    /// the whole progress around each of thousands of results costs time that grows
    /// with the square of their number; spaced to about [`SAVES_PER_RUN`] per run, it
    /// grows linearly, and a crash costs at most that share of lookups on the resume.
    fn save_now(&mut self) -> bool {
        let every = *self.spaced_saves_every.get_or_insert_with(|| {
            let (_, total) = self.session.units();
            (total / SAVES_PER_RUN).max(1)
        });
        self.unsaved_changes += 1;
        if self.unsaved_changes < every {
            return false;
        }
        self.unsaved_changes = 0;
        true
    }

    /// The answer to request `id`.
    pub fn receive(&mut self, id: u64, response: HttpResponse) -> Result<()> {
        self.session.receive(id, response)?;
        if self.save_after == Some(id) {
            self.save_after = None;
            self.save_due = true;
        }
        Ok(())
    }

    /// The bytes of the file `Step::Read` `id` asked for, or why they could not be read.
    pub fn provide_file(
        &mut self,
        id: u64,
        file: std::result::Result<Vec<u8>, String>,
    ) -> Result<()> {
        self.session.provide_file(id, file)
    }

    /// Everything needed to go on, secrets excepted, as JSON. Store it when the
    /// session says `Step::Save`; calling it at other times is allowed.
    pub fn save(&self) -> Result<String> {
        self.session.save(self.kind)
    }

    /// The progress alone: what a host that stored [`input`](Self::input) once
    /// stores at each `Step::Save`. Its size does not include the input's.
    pub fn save_progress(&self) -> Result<String> {
        self.session.save_progress(self.kind)
    }

    /// The session's input as it keeps it, to store once beside the progress.
    pub fn input(&self) -> Result<String> {
        self.session.input()
    }

    /// (done, total) units of work.
    pub fn units(&self) -> (u64, u64) {
        self.session.units()
    }

    pub fn is_finished(&self) -> bool {
        self.session.is_finished()
    }
}
