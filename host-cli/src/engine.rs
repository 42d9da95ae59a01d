//! Which build of the core does the work: the native library (default) or the
//! WebAssembly module run in wasmtime (`--engine wasm`). Both are reached the same
//! way, through the core's two entry points: [`call`] for an op (JSON in, envelope
//! out) and [`start_session`]/[`resume_session`] for a session the host loop drives.
//! Nothing here knows what an op or a session kind does.

use crate::host::Driver;
use crate::host::wasm::{WasmDriver, read};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tmbridge_core::session::{Secrets, SessionHandle, StartOptions};
use tmbridge_core::{Error, Result};
use tmbridge_wasmtime_runner::WasmCore;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// The core compiled into this binary.
    Native,
    /// The core's WebAssembly build (raw ABI), run in wasmtime.
    Wasm,
}

/// Where the WebAssembly module is looked for when `--wasm` is not given.
pub const DEFAULT_WASM: &str = "pkg/raw/tmbridge_raw.wasm";

static WASM: OnceLock<WasmCore> = OnceLock::new();

/// Chooses the engine for this process; call once, before any command runs.
pub fn select(kind: EngineKind, wasm_path: Option<&Path>) -> anyhow::Result<()> {
    if kind == EngineKind::Native {
        return Ok(());
    }
    let path: PathBuf = wasm_path
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("TMBRIDGE_WASM").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_WASM));
    let bytes = std::fs::read(&path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the WebAssembly core {}: {e} (build it with scripts/test-bindings.sh, or pass --wasm PATH)",
            path.display()
        )
    })?;
    let core = WasmCore::new(&bytes)
        .map_err(|e| anyhow::anyhow!("cannot load {}: {e}", path.display()))?;
    let _ = WASM.set(core);
    Ok(())
}

/// True when the WebAssembly core does the work.
pub fn is_wasm() -> bool {
    WASM.get().is_some()
}

fn engine_error(message: String) -> Error {
    Error::new("engine.wasm", message)
}

/// Runs an op of the core (`junit.parse`, `autofill.fill`...) in the selected engine:
/// its input as JSON, with its document beside it when it takes one.
pub fn call<T: DeserializeOwned>(
    op: &str,
    input: &impl Serialize,
    document: Option<&[u8]>,
) -> Result<T> {
    let input = serde_json::to_vec(input).map_err(|e| engine_error(e.to_string()))?;
    let envelope = match (WASM.get(), document) {
        (None, None) => tmbridge_core::ops::call(op, &input),
        (None, Some(doc)) => tmbridge_core::ops::call_with_document(op, &input, doc),
        (Some(core), None) => core
            .call(op, &input)
            .map_err(|e| engine_error(format!("the WebAssembly core failed to run `{op}`: {e}")))?,
        (Some(core), Some(doc)) => core
            .call_with_document(op, &input, doc)
            .map_err(|e| engine_error(format!("the WebAssembly core failed to run `{op}`: {e}")))?,
    };
    read(&envelope)
}

/// The secrets as the WebAssembly core reads them; handed over, never kept.
fn secrets_json(secrets: &Secrets) -> Vec<u8> {
    serde_json::json!({
        "api_key": secrets.api_key,
        "username": secrets.username,
        "password": secrets.password,
    })
    .to_string()
    .into_bytes()
}

/// Starts a session of `kind`; a refused start is the core's typed error (a bad
/// query, a payload without a name...).
pub fn start_session(
    kind: &str,
    input: &serde_json::Value,
    secrets: &Secrets,
    options: StartOptions,
) -> Result<Box<dyn Driver>> {
    let request = serde_json::json!({"kind": kind, "input": input, "options": options});
    let request = request.to_string();
    match WASM.get() {
        None => Ok(Box::new(SessionHandle::start(request.as_bytes(), secrets)?)),
        Some(core) => {
            let secrets = secrets_json(secrets);
            let session = core
                .start_session(request.as_bytes(), &secrets)
                .map_err(|e| engine_error(format!("the WebAssembly core failed: {e}")))?;
            Ok(Box::new(WasmDriver::opened(session)?))
        }
    }
}

/// Goes on from an input and progress stored apart, in either engine (progress
/// saved by one resumes in the other).
pub fn resume_session(
    kind: &str,
    input_json: &str,
    progress_json: &str,
    secrets: &Secrets,
) -> Result<Box<dyn Driver>> {
    match WASM.get() {
        None => Ok(Box::new(SessionHandle::resume_parts(
            kind,
            input_json.as_bytes(),
            progress_json.as_bytes(),
            secrets,
        )?)),
        Some(core) => {
            let secrets = secrets_json(secrets);
            let session = core
                .resume_session_parts(
                    kind,
                    input_json.as_bytes(),
                    progress_json.as_bytes(),
                    &secrets,
                )
                .map_err(|e| engine_error(format!("the WebAssembly core failed: {e}")))?;
            Ok(Box::new(WasmDriver::opened(session)?))
        }
    }
}
