//! What a session kind is: how it starts from JSON and resumes from saved progress.
//! The session API (`crate::session`) keeps the list of kinds; each kind lives in
//! its target's folder (`sync::rally::kinds`, ...).

use super::protocol::Session;
use super::retry::RetryPolicy;
use super::secrets::Secrets;
use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The `format` of saved progress; its `version` changes when old saves cannot be read.
pub const SAVED_FORMAT: &str = "tmbridge.session";
pub const SAVED_VERSION: u32 = 1;

/// Starts or resumes a session of one kind from JSON.
pub type Builder = fn(&[u8], &Secrets) -> Result<Box<dyn Driven>>;

/// Resumes a session from its input and its progress, stored apart.
pub type PartsBuilder = fn(&str, &[u8], &[u8], &Secrets) -> Result<Box<dyn Driven>>;

/// The `format` of progress saved without the input ([`Driven::save_progress`]).
pub const PROGRESS_FORMAT: &str = "tmbridge.session.progress";

/// One kind of session.
pub struct Kind {
    /// `rally.publish`
    pub name: &'static str,
    pub summary: &'static str,
    /// The input's shape, in TypeScript notation.
    pub input: &'static str,
    /// Starts from the whole start request (`{"kind", "input", "options"}`) as JSON.
    pub start: Builder,
    /// Continues from what [`Driven::save`] gave.
    pub resume: Builder,
    /// Continues from [`Driven::input`] and [`Driven::save_progress`], stored apart.
    pub resume_parts: PartsBuilder,
}

/// A running session of any kind, as the session API drives it. `Send`: a host may
/// drive it from another thread than the one that started it (Python threads do).
pub trait Driven: Session + Send {
    /// The kind, its input and its progress as one JSON document: everything needed
    /// to go on in any runtime, secrets excepted.
    fn save(&self, kind: &str) -> Result<String>;
    /// The progress alone, for hosts that store the input once (it does not change)
    /// and the progress at every save point: its size does not include the input's.
    fn save_progress(&self, kind: &str) -> Result<String>;
    /// The input as the session keeps it (normalised at the start), as JSON.
    fn input(&self) -> Result<String>;
    /// (done, total) units of work, for progress displays.
    fn units(&self) -> (u64, u64);
    /// The session has given `Step::Done`.
    fn is_finished(&self) -> bool;
    /// The change about to be sent is found again by its identity before it is ever
    /// made twice, so the save before it may be left out (see `SessionHandle::next`).
    fn change_is_looked_up(&self) -> bool {
        false
    }
}

/// Options every kind takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StartOptions {
    /// Seed of the retry jitter: hosts pass something random, tests a constant.
    pub seed: u64,
    pub retry: RetryPolicy,
}

/// A start request with the kind's own input type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest<I> {
    pub kind: String,
    pub input: I,
    #[serde(default)]
    pub options: StartOptions,
}

/// Saved progress with the kind's own types.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Saved<I, P> {
    pub format: String,
    pub version: u32,
    pub kind: String,
    pub input: I,
    pub progress: P,
}

/// Progress saved apart from the input.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedProgress<P> {
    pub format: String,
    pub version: u32,
    pub kind: String,
    pub progress: P,
}

/// Serialises progress without the input.
pub fn write_progress<P: Serialize>(kind: &str, progress: &P) -> Result<String> {
    let saved = SavedProgress {
        format: PROGRESS_FORMAT.to_string(),
        version: SAVED_VERSION,
        kind: kind.to_string(),
        progress,
    };
    serde_json::to_string(&saved).map_err(|e| {
        Error::new(
            "session.save_failed",
            format!("the progress could not be written: {e}"),
        )
    })
}

/// Reads progress saved by [`write_progress`], checking its format, version and kind.
pub fn read_progress<P: DeserializeOwned>(bytes: &[u8], kind: &str) -> Result<P> {
    let saved: SavedProgress<P> = read_json(bytes, "session.invalid_saved", "the saved progress")?;
    if saved.format != PROGRESS_FORMAT {
        return Err(Error::new(
            "session.invalid_saved",
            "this is not progress saved by save_progress()",
        )
        .with_hint("pass exactly what save_progress() returned"));
    }
    if saved.version != SAVED_VERSION {
        return Err(Error::new(
            "session.saved_version",
            format!(
                "the progress was saved in format version {}; this tmbridge reads version {SAVED_VERSION}",
                saved.version
            ),
        )
        .with_hint("finish it with the tmbridge that saved it, or start it again"));
    }
    if saved.kind != kind {
        return Err(Error::new(
            "session.invalid_saved",
            format!("the progress is of a {} session, not {kind}", saved.kind),
        ));
    }
    Ok(saved.progress)
}

/// Serialises a session's input.
pub fn write_input<I: Serialize>(input: &I) -> Result<String> {
    serde_json::to_string(input).map_err(|e| {
        Error::new(
            "session.save_failed",
            format!("the input could not be written: {e}"),
        )
    })
}

/// Reads JSON, with the error's position, under a stable code.
pub fn read_json<T: DeserializeOwned>(bytes: &[u8], code: &str, what: &str) -> Result<T> {
    crate::json::from_slice(bytes).map_err(|e| {
        let mut error = Error::new(code, format!("{what}: {e}"));
        if e.line() > 0 {
            error = error.at(crate::error::Location::from_line_column(
                bytes,
                e.line(),
                e.column(),
            ));
        }
        error
    })
}

/// Serialises saved progress.
pub fn write_saved<I: Serialize, P: Serialize>(
    kind: &str,
    input: &I,
    progress: &P,
) -> Result<String> {
    let saved = Saved {
        format: SAVED_FORMAT.to_string(),
        version: SAVED_VERSION,
        kind: kind.to_string(),
        input,
        progress,
    };
    serde_json::to_string(&saved).map_err(|e| {
        Error::new(
            "session.save_failed",
            format!("the progress could not be written: {e}"),
        )
    })
}
