//! Drives a live [`WasmSession`] through a `session.replay` vector: the start and
//! feed of its input stand in for the host's HTTP and files, and every step's
//! envelope must be byte for byte the vector's expected step.

use serde::Deserialize;
use serde_json::value::RawValue;
use tmbridge_wasmtime_runner::{WasmCore, WasmSession};

#[derive(Deserialize)]
struct Input<'a> {
    #[serde(borrow)]
    start: &'a RawValue,
    #[serde(borrow, default)]
    secrets: Option<&'a RawValue>,
    feed: Vec<Feed>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Feed {
    Answer(Box<RawValue>),
    File(String),
    FileError(String),
    Resume,
}

#[derive(Deserialize)]
struct Expected<'a> {
    #[serde(borrow)]
    ok: Option<Replayed<'a>>,
}

#[derive(Deserialize)]
struct Replayed<'a> {
    #[serde(borrow)]
    steps: Vec<&'a RawValue>,
    resumed_after: Vec<u64>,
}

/// A step as read back from a `next` envelope.
#[derive(Deserialize)]
struct Envelope {
    ok: Option<StepHead>,
}

#[derive(Deserialize)]
struct StepHead {
    step: String,
    id: Option<u64>,
}

/// Drives the transcript; `Ok(None)` when the vector expects an error (nothing to
/// drive), `Ok(Some(steps))` when every step matched, `Err` with the first difference.
pub fn check(core: &WasmCore, input: &str, expected: &str) -> Result<Option<usize>, String> {
    let expected: Expected = serde_json::from_str(expected).map_err(|e| e.to_string())?;
    let Some(replayed) = expected.ok else {
        return Ok(None);
    };
    let input: Input = serde_json::from_str(input).map_err(|e| e.to_string())?;
    let secrets = input.secrets.map_or("{}", RawValue::get).as_bytes();
    let wasm = |e: wasmtime::Error| e.to_string();
    let mut session = core
        .start_session(input.start.get().as_bytes(), secrets)
        .map_err(wasm)?;
    ok_of(&session.opened().map_err(wasm)?)?;
    let mut feed = input.feed.into_iter();
    let mut resumed_after = Vec::new();
    for (index, want) in replayed.steps.iter().enumerate() {
        let envelope = session.next().map_err(wasm)?;
        let wanted = format!("{{\"ok\":{},\"error\":null}}", want.get());
        if envelope != wanted.as_bytes() {
            return Err(format!(
                "step {index}: got {}",
                String::from_utf8_lossy(&envelope)
            ));
        }
        let head: Envelope = serde_json::from_slice(&envelope).map_err(|e| e.to_string())?;
        let Some(StepHead { step, id }) = head.ok else {
            return Err(format!("step {index}: no step"));
        };
        let id = id.unwrap_or_default();
        if step != "send" && step != "read" {
            continue;
        }
        let reply = match feed.next() {
            None => return Err(format!("step {index}: the feed ran out")),
            Some(Feed::Resume) => {
                let saved = ok_of(&session.save().map_err(wasm)?)?;
                let saved: String = serde_json::from_str(&saved).map_err(|e| e.to_string())?;
                session = resume(core, &saved, secrets)?;
                resumed_after.push(index as u64);
                continue;
            }
            Some(Feed::Answer(answer)) => session.receive(id, answer.get().as_bytes()),
            Some(Feed::File(text)) => session.provide_file(id, Ok(text.as_bytes())),
            Some(Feed::FileError(why)) => session.provide_file(id, Err(&why)),
        };
        ok_of(&reply.map_err(wasm)?)?;
    }
    if resumed_after != replayed.resumed_after {
        return Err(format!("resumed after {resumed_after:?}"));
    }
    Ok(Some(replayed.steps.len()))
}

fn resume(core: &WasmCore, saved: &str, secrets: &[u8]) -> Result<WasmSession, String> {
    let mut session = core
        .resume_session(saved.as_bytes(), secrets)
        .map_err(|e| e.to_string())?;
    ok_of(&session.opened().map_err(|e| e.to_string())?)?;
    Ok(session)
}

/// The raw `ok` of an envelope, or its error as text.
fn ok_of(envelope: &[u8]) -> Result<String, String> {
    #[derive(Deserialize)]
    struct Raw<'a> {
        #[serde(borrow)]
        ok: &'a RawValue,
        #[serde(borrow)]
        error: &'a RawValue,
    }
    let raw: Raw = serde_json::from_slice(envelope).map_err(|e| e.to_string())?;
    if raw.error.get() != "null" {
        return Err(raw.error.get().to_string());
    }
    Ok(raw.ok.get().to_string())
}

/// The handle table: a refused start still has a handle that says why; a freed handle
/// answers `session.unknown_handle`, and so does one never given.
pub fn check_handles(core: &WasmCore) -> Result<(), String> {
    let wasm = |e: wasmtime::Error| e.to_string();
    let mut session = core
        .start_session(br#"{"kind": "rally.nope", "input": {}}"#, b"")
        .map_err(wasm)?;
    let code = |envelope: Vec<u8>| -> Result<String, String> {
        let error = ok_of(&envelope).err().ok_or("an error was expected")?;
        #[derive(Deserialize)]
        struct Coded {
            code: String,
        }
        let coded: Coded = serde_json::from_str(&error).map_err(|e| e.to_string())?;
        Ok(coded.code)
    };
    let opened = code(session.opened().map_err(wasm)?)?;
    let before_free = code(session.next().map_err(wasm)?)?;
    session.free().map_err(wasm)?;
    let after_free = code(session.next().map_err(wasm)?)?;
    let save_after_free = code(session.save().map_err(wasm)?)?;
    let got = [opened, before_free, after_free, save_after_free];
    let want = [
        "session.unknown_kind",
        "session.unknown_kind",
        "session.unknown_handle",
        "session.unknown_handle",
    ];
    if got != want {
        return Err(format!("handle table: got {got:?}, want {want:?}"));
    }
    Ok(())
}
